"""loss: softmax and cross-entropy, BCE, their gradients; entropy, KL and JS divergences; KL of two densities."""
import functools

from examsolve.registry import family

UNITS = {"e": "nats", "2": "bits", "10": "dits"}
CLAMP = -100      # PyTorch's BCELoss clamps each natural log at −100, so a loss is never infinite


@functools.cache
def _model():
    from typing import Literal, Optional

    from pydantic import Field, field_validator

    from examsolve.spec import CONVENTION, BaseSpec, Raw

    Base = Literal["e", "2", "10"]

    class LossSpec(BaseSpec):
        """Any of: logits with a target, binary logits or outputs with targets, two distributions, two densities."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        logits: Optional[Raw] = Field(None, description="class scores z; softmax, cross-entropy, ∂/∂z")
        target: Optional[Raw] = Field(None, description="one-hot vector, or the class number (1-based)")
        label_smoothing: Optional[Raw] = Field(None, description="ε in [0, 1]: the target becomes "
                                               "(1 − ε)·y + ε/K over K classes, as PyTorch's CrossEntropyLoss")
        binary_logit: Optional[Raw] = Field(None, description="a score z (or a list, one per example) for σ(z) "
                                            "and BCE")
        binary_output: Optional[Raw] = Field(None, description="instead of binary_logit: the predicted "
                                             "probability ŷ itself (or a list), 0 ≤ ŷ ≤ 1; BCE and ∂/∂ŷ")
        binary_target: Optional[Raw] = Field(None, description="0 or 1 (or a probability), or a list, one per "
                                             "example (default 1)")
        reduction: Literal["mean", "sum"] = Field("mean", json_schema_extra=CONVENTION, description="BCE over "
                                                  "several examples: their mean (PyTorch's default) or sum")
        log_zero: Literal["limit", "clamp"] = Field(
            "limit", json_schema_extra=CONVENTION, description="BCE at an output of 0 or 1: limit takes 0·log 0 = 0 "
            "(lim_{p→0} p·log p = 0) and a label on log 0 gives an infinite loss; clamp cuts every natural log at "
            "−100 as PyTorch's BCELoss (0·log 0 is 0 there too)")
        p: Optional[Raw] = Field(None, description="a discrete distribution")
        q: Optional[Raw] = Field(None, description="another distribution on the same outcomes")
        base: Base = Field("e", json_schema_extra=CONVENTION, description="log base of cross-entropy, BCE, "
                           "entropy, KL and JS: e (nats), 2 (bits), 10 (dits)")
        bases: list[Base] = Field(default_factory=list, max_length=3, description="several log bases, each "
                                  "answered (e.g. [e, 2]); instead of base")

        @field_validator("base", "bases", mode="before")
        @classmethod
        def _as_text(cls, v):
            """base: 2 as written in YAML is the number 2: read it as the base "2"."""
            return [str(x) for x in v] if isinstance(v, list) else str(v) if isinstance(v, int) else v
        density: Optional[Literal["gaussian", "exponential"]] = Field(None, description="KL of two densities")
        params1: list[Raw] = Field(default_factory=list, description="gaussian: [μ1, σ1]; exponential: [λ1]")
        params2: list[Raw] = Field(default_factory=list, description="gaussian: [μ2, σ2]; exponential: [λ2]")

    return LossSpec


@family("loss", summary="softmax, cross-entropy (with label smoothing) and BCE with their gradients (ŷ − y) in any log base (several "
        "at once), BCE on given outputs with 0·log 0 = 0 (or PyTorch's clamp) summed or averaged, entropy, KL "
        "and JS divergences (infinite KL explained), KL of two Gaussians or exponentials",
        examples=("softmax_ce.yaml", "js_bits.yaml", "kl_gaussians.yaml", "bce_zero_label.yaml", "ce_bits.yaml",
                  "ce_label_smoothing.yaml"),
        model=_model, uses=("given", "symbols"))
def _solve(spec):
    """Each quantity with its formula, once per log base; gradients by differentiation, compared with ŷ − y."""
    from examsolve.errors import SpecError
    from examsolve.expr import symbol
    from examsolve.finish import finish
    from examsolve.spec_graph import spec_expr

    m = spec.model
    names: dict = {s: symbol(s) for s in m.symbols}   # names left symbolic, usable in every field
    for name, raw in m.given.items():
        names[name] = spec_expr(spec, raw, ("given", name), names)
    bases = list(dict.fromkeys(m.bases or [m.base]))
    steps, answers = [], []
    if m.logits is not None:
        _softmax_ce(spec, names, bases, steps, answers)
    if m.label_smoothing is not None and m.logits is None:
        raise SpecError("label_smoothing applies to the softmax cross-entropy of logits: with target:; remove it "
                        "(BCE and divergences take their targets as given)", spec.loc("label_smoothing"))
    if m.binary_logit is not None or m.binary_output is not None:
        _binary(spec, names, bases, steps, answers)
    if m.p is not None:
        for b in bases:
            _divergences(spec, names, b, steps, answers)
    if m.density is not None:
        _density(spec, names, steps, answers)
    if not answers:
        raise SpecError("give logits:, binary_logit: (or binary_output:), p: (and q:), or density:", spec.loc())
    return finish(spec, steps, answers, names)


def _vec(spec, names: dict, key: str) -> list:
    """A field as a list of values (a scalar is a list of one)."""
    from examsolve.spec_graph import spec_expr
    from examsolve.tensor import Tensor

    v = spec_expr(spec, getattr(spec.model, key), (key,), names)
    return list(v.items) if isinstance(v, Tensor) else [v]


def _log(b: str):
    """log in base b (e, 2 or 10)."""
    import sympy

    return sympy.log if b == "e" else (lambda v: sympy.log(v, int(b)))


def _named(name: str, b: str, bases: list) -> str:
    """An answer's name: as before in nats alone, with the unit when another base or several are asked."""
    return name if bases == ["e"] else f"{name} ({UNITS[b]})"


def _softmax_ce(spec, names: dict, bases: list, steps: list, answers: list) -> None:
    """Softmax, cross-entropy in each base, and ∂L/∂z by differentiation and by the shortcut (ŷ − y)/ln b."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor

    m = spec.model
    z = _vec(spec, names, "logits")
    if m.target is None:
        raise SpecError("logits need target: (one-hot, or the class number)", spec.loc("logits"))
    t = spec_expr(spec, m.target, ("target",), names)
    if isinstance(t, Tensor):
        y = list(t.items)
        if len(y) != len(z):
            raise SpecError(f"target has {len(y)} entries for {len(z)} logits; give one per class",
                            spec.loc("target"))
    else:
        if not (t.is_Integer and 1 <= int(t) <= len(z)):
            raise SpecError(f"target class {t} is not in 1..{len(z)}", spec.loc("target"))
        y = [sympy.Integer(1 if k == int(t) - 1 else 0) for k in range(len(z))]
    n = len(z)
    from examsolve.values import exact_sign

    if exact_sign(sympy.Add(*y) - 1) != 0:
        raise SpecError(f"target sums to {sympy.sstr(sympy.Add(*y))}, not 1: a cross-entropy target is a "
                        "distribution over the classes (one-hot, or soft probabilities that sum to 1)",
                        spec.loc("target"))
    if m.label_smoothing is not None:
        y = _smoothed(spec, names, y, steps)
    zs = sympy.symbols(f"z1:{n + 1}", real=True)
    soft = [sympy.exp(v) / sympy.Add(*[sympy.exp(u) for u in zs]) for v in zs]
    ce = -sympy.Add(*[yk * sympy.log(s) for yk, s in zip(y, soft)])
    at = dict(zip(zs, z))
    yhat = [sympy.simplify(s.xreplace(at)) if n <= 4 else s.xreplace(at) for s in soft]
    ez = [sympy.exp(v) for v in z]
    steps.append(Step("softmax ŷ_k = e^(z_k) / Σ_j e^(z_j)", target=sympy.Symbol("ŷ"), value=Tensor((n,), tuple(yhat)),
                      quantities=(("exp_z", Tensor((n,), tuple(ez))), ("sum_exp_z", sympy.Add(*ez)))))
    answers.append(Answer("softmax", Tensor((n,), tuple(yhat))))
    for b in bases:
        lnb = sympy.log(int(b)) if b != "e" else sympy.Integer(1)
        loss = ce.xreplace(at) / lnb
        loss = sympy.simplify(loss) if n <= 4 else loss     # −log(1/4)/log(2) is 2 bits
        grad = [sympy.simplify(sympy.diff(ce / lnb, v).xreplace(at)) for v in zs]
        shortcut = [(a - c) / lnb for a, c in zip(yhat, y)]
        log_text = "ln" if b == "e" else f"log{b}"
        per = "" if b == "e" else f" = L_nats / ln {b}"
        steps += [Step(f"cross-entropy L = −Σ_k y_k·{log_text} ŷ_k ({UNITS[b]}{per})", target=sympy.Symbol("L"),
                       value=loss),
                  Step(f"∂L/∂z by differentiation ({UNITS[b]})", target=sympy.Symbol("∂L/∂z"),
                       value=Tensor((n,), tuple(grad))),
                  Step("the shortcut ∂L/∂z = ŷ − y (softmax with cross-entropy)" + (
                      "" if b == "e" else f", divided by ln {b} for {UNITS[b]}"), target=sympy.Symbol("ŷ − y"),
                      value=Tensor((n,), tuple(shortcut)))]
        answers += [Answer(_named("cross-entropy", b, bases), loss),
                    Answer(_named("dL/dz", b, bases), Tensor((n,), tuple(shortcut)))]


def _smoothed(spec, names: dict, y: list, steps: list) -> list:
    """The label-smoothed target (1 − ε)·y + ε/K, with its step; ε must be a number in [0, 1]."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Step
    from examsolve.tensor import Tensor
    from examsolve.values import numeric

    eps = spec_expr(spec, spec.model.label_smoothing, ("label_smoothing",), names)
    v = numeric(eps, 15) if getattr(eps, "is_number", False) else None
    if v is None or not v.is_Float or not 0 <= v <= 1:
        raise SpecError(f"label_smoothing {eps} is not a number in [0, 1]; give ε such as 0.1",
                        spec.loc("label_smoothing"))
    k = len(y)
    q = [(1 - eps) * t + eps / k for t in y]
    e, K, Y = sympy.Symbol("ε"), sympy.Symbol("K"), sympy.Symbol("y")
    U = {"evaluate": False}
    put = sympy.Add(sympy.Mul(sympy.Add(1, sympy.Mul(-1, eps, **U), **U), Y, **U),
                    sympy.Mul(eps, sympy.Pow(sympy.Integer(k), -1, **U), **U), **U)
    steps.append(Step("label smoothing", target=sympy.Symbol("q"), formula=sympy.Add(sympy.Mul(1 - e, Y, **U),
                      e / K, **U), substituted=put, value=Tensor((k,), tuple(q)),
                      note=f"y = ({', '.join(map(sympy.sstr, y))}) is the target, ε = {sympy.sstr(eps)}, K = {k} "
                      "classes; the cross-entropy below uses q as its target y",
                      quantities=(("q", Tensor((k,), tuple(q))),)))
    return q


def _binary(spec, names: dict, bases: list, steps: list, answers: list) -> None:
    """σ(z) (from logits), BCE per example and reduced in each base, and its gradient, 0·log 0 by the convention."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.steps import Answer, Step

    m = spec.model
    if m.binary_logit is not None and m.binary_output is not None:
        raise SpecError("give binary_logit: (scores) or binary_output: (probabilities), not both",
                        spec.loc("binary_output"))
    key = "binary_logit" if m.binary_logit is not None else "binary_output"
    xs = _vec(spec, names, key)
    ts = _vec(spec, names, "binary_target") if m.binary_target is not None else [sympy.Integer(1)]
    ts = ts * len(xs) if len(ts) == 1 else ts
    if len(ts) != len(xs):
        raise SpecError(f"binary_target has {len(ts)} entries for {len(xs)} examples; give one each (or one for "
                        "all)", spec.loc("binary_target"))
    for field, values in (("binary_target", ts),) + ((("binary_output", xs),) if key == "binary_output" else ()):
        if any(v.is_number and not (v.is_extended_real and 0 <= v <= 1) for v in values):
            raise SpecError(f"{field}: every entry is a probability between 0 and 1", spec.loc(field))
    vector = isinstance(getattr(m, key), list) or len(xs) > 1
    yh = [1 / (1 + sympy.exp(-z)) for z in xs] if key == "binary_logit" else xs
    if key == "binary_logit":
        steps.append(Step("σ(z) = 1/(1 + e^(−z))", target=sympy.Symbol("ŷ"), value=_pack(yh, vector)))
        answers.append(Answer("sigmoid", _pack(yh, vector)))
    if any((t == 0 and p == 0) or (t == 1 and p == 1) for t, p in zip(ts, yh)):
        steps.append(_zero_log_zero_step(m.log_zero))
    for b in bases:
        terms, notes, subs = [], [], []
        for i, (t, p) in enumerate(zip(ts, yh), 1):
            (a, why_a), (c, why_c) = _xlog(t, p, b, m.log_zero), _xlog(1 - t, 1 - p, b, m.log_zero)
            terms.append(-(a + c))
            why = "; ".join(w for w in (why_a, why_c) if w)
            subs.append(Step(f"example {i}: l = −({t}·log ŷ + {1 - t}·log(1 − ŷ)) at ŷ = {p}",
                             target=sympy.Symbol(f"l_{i}"), value=terms[-1], note=why))
            notes += [f"example {i}: {why}"] if why and len(xs) > 1 else [why] if why else []
        n = len(xs)
        loss = sympy.Add(*terms) / (n if m.reduction == "mean" else 1)
        log_text = "ln" if b == "e" else f"log{b}"
        steps.append(Step(f"BCE l = −(t·{log_text} ŷ + (1 − t)·{log_text}(1 − ŷ)) ({UNITS[b]})"
                          + (f", the {m.reduction} over the {n} examples (convention reduction = {m.reduction})"
                             if n > 1 else ""), target=sympy.Symbol("L"), value=loss, note="; ".join(notes),
                          substeps=tuple(subs), quantities=((_named("bce", b, bases) + ".terms",
                                                             _pack(terms, True)),) if n > 1 else ()))
        answers.append(Answer(_named("bce", b, bases), loss))
        _binary_grad(spec, key, ts, yh, b, bases, vector, steps, answers)


def _binary_grad(spec, key: str, ts: list, yh: list, b: str, bases: list, vector: bool, steps: list,
                 answers: list) -> None:
    """∂L/∂z = (ŷ − t)/ln b from logits; ∂L/∂ŷ = −t/ŷ + (1 − t)/(1 − ŷ) from outputs, a 0-weight term dropped."""
    import sympy

    from examsolve.steps import Answer, Step

    m = spec.model
    lnb = sympy.log(int(b)) if b != "e" else sympy.Integer(1)
    scale = lnb * (len(ts) if m.reduction == "mean" else 1)
    if key == "binary_logit":
        g = [sympy.simplify(p - t) / scale for t, p in zip(ts, yh)]
        steps.append(Step("∂L/∂z = ŷ − t" + ("" if b == "e" else f", divided by ln {b}") + (
            f", divided by n = {len(ts)} (the mean)" if len(ts) > 1 and m.reduction == "mean" else ""),
            target=sympy.Symbol("∂L/∂z"), value=_pack(g, vector)))
        answers.append(Answer(_named("dbce/dz", b, bases), _pack(g, vector)))
        return
    g = []
    for t, p in zip(ts, yh):
        parts = [_ratio(-t, p, m.log_zero), _ratio(1 - t, 1 - p, m.log_zero)]
        if None in parts:
            steps.append(Step("∂L/∂ŷ is not given: the clamped log is constant there (PyTorch's backward "
                              "differs at ŷ = 0 or 1)", note="convention log_zero = clamp"))
            return
        g.append(sympy.Add(*parts) / scale)
    steps.append(Step("∂L/∂ŷ = −t/ŷ + (1 − t)/(1 − ŷ)" + ("" if b == "e" else f", divided by ln {b}") + (
        f", divided by n = {len(ts)} (the mean)" if len(ts) > 1 and m.reduction == "mean" else ""),
        target=sympy.Symbol("∂L/∂ŷ"), value=_pack(g, vector),
        note="a term whose weight t or 1 − t is 0 is 0 for every ŷ, so its derivative is 0"
        if any(t in (0, 1) for t in ts) else ""))
    answers.append(Answer(_named("dbce/dyhat", b, bases), _pack(g, vector)))


def _ratio(w, p, log_zero: str):
    """w/p, the derivative of w·log p: 0 when w is 0 (the term is constant), ±∞ at p = 0 (None when clamped)."""
    import sympy

    if w == 0:
        return sympy.Integer(0)
    if p == 0:
        return None if log_zero == "clamp" else sympy.oo * sympy.sign(w)
    return w / p


def _xlog(w, p, b: str, log_zero: str) -> tuple:
    """w·log_b(p) under the convention, and what the convention did ('' when nothing)."""
    import sympy

    lnb = sympy.log(int(b)) if b != "e" else sympy.Integer(1)
    if w == 0:
        return sympy.Integer(0), ("0·log 0 = 0 (convention log_zero = " + log_zero + ")") if p == 0 else ""
    if log_zero == "clamp" and p.is_number and (p == 0 or bool(p < sympy.exp(CLAMP))):
        return w * CLAMP / lnb, f"log {p} is clamped to {CLAMP} (convention log_zero = clamp, as PyTorch)"
    if p == 0:
        return -sympy.oo, (f"{w}·log 0 = −∞: the loss is infinite (convention log_zero = limit; PyTorch clamps "
                           f"the log at {CLAMP}: log_zero = clamp)")
    return w * _log(b)(p), ""


def _zero_log_zero_step(log_zero):
    """The step that justifies 0·log 0 = 0: the limit p·log p → 0 as p → 0⁺ (log_zero None: no option named)."""
    import sympy

    from examsolve.steps import Step

    p = sympy.Symbol("p", positive=True)
    limit = sympy.Limit(p * sympy.log(p), p, 0, "+")
    note = ("a term t·log ŷ with t = 0 is 0 whatever ŷ, also at ŷ = 0"
            + ("" if log_zero is None else " (convention log_zero = limit)")
            if log_zero != "clamp" else f"convention log_zero = clamp: 0·log 0 = 0·({CLAMP}) = 0 as well")
    return Step("0·log 0 = 0, by the limit", target=limit, value=limit.doit(), note=note)


def _pack(values: list, vector: bool):
    """A list as a vector, or its one value."""
    from examsolve.tensor import Tensor

    return Tensor((len(values),), tuple(values)) if vector else values[0]


def _divergences(spec, names: dict, b: str, steps: list, answers: list) -> None:
    """Entropy of p (and q), both KLs (infinite explained) and JS, in base b."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor
    from examsolve.values import exact_sign

    m = spec.model
    log, unit = _log(b), UNITS[b]
    p = _vec(spec, names, "p")
    q = _vec(spec, names, "q") if m.q is not None else None
    for name, dist in (("p", p), ("q", q)):
        if dist is None:
            continue
        total = sympy.Add(*dist)
        # is_negative, not v < 0: a symbolic probability has no truth value for < 0
        if sympy.expand(total - 1) != 0 or any(v.is_negative for v in dist):
            raise SpecError(f"{name} is not a distribution (sum {total})", spec.loc(name))

    def nil(v) -> bool:
        """v is 0, decided exactly (log 6 − log 2 − log 3 is 0 though not written 0)."""
        return v == 0 or (v.is_number and exact_sign(v) == 0)

    def H(d):
        return sympy.Add(*[-v * log(v) for v in d if not nil(v)])

    def KL(a, c):
        if any(not nil(x) and nil(y) for x, y in zip(a, c)):
            return sympy.oo
        return sympy.Add(*[x * log(x / y) for x, y in zip(a, c) if not nil(x)])

    def parts(d):   # −x·log x per outcome (0 for x = 0)
        return Tensor((len(d),), tuple(-v * log(v) if not nil(v) else sympy.Integer(0) for v in d))

    steps.append(Step(f"entropy H(p) = −Σ p·log p ({unit}; 0·log 0 = 0)", target=sympy.Symbol("H(p)"),
                      value=H(p), quantities=(("H(p).terms", parts(p)),)))
    answers.append(Answer(f"H(p) ({unit})", H(p)))
    if q is None:
        return
    if len(q) != len(p):
        raise SpecError("p and q need the same outcomes", spec.loc("q"))
    steps.append(Step(f"entropy H(q) = −Σ q·log q ({unit}; 0·log 0 = 0)", target=sympy.Symbol("H(q)"),
                      value=H(q), quantities=(("H(q).terms", parts(q)),)))
    for a, c, label, rev in ((p, q, "H(p, q)", "H(p) + KL(p‖q)"), (q, p, "H(q, p)", "H(q) + KL(q‖p)")):
        v = sympy.oo if any(not nil(x) and nil(y) for x, y in zip(a, c)) else \
            sympy.Add(*[-x * log(y) for x, y in zip(a, c) if not nil(x)])
        first, second = label[2], label[5]
        note = (f"infinite: an outcome has {first} > 0 and {second} = 0, so −log 0 = ∞" if v == sympy.oo else
                f"= {rev}: the entropy plus the divergence")
        steps.append(Step(f"cross-entropy {label} = −Σ {first}·log {second} ({unit})", target=sympy.Symbol(label),
                          value=v, note=note))
        answers.append(Answer(f"{label} ({unit})", v))
    mix = [(a + c) / 2 for a, c in zip(p, q)]
    for a, c, label in ((p, q, "KL(p‖q)"), (q, p, "KL(q‖p)")):
        v = KL(a, c)
        note = ("infinite: an outcome has positive probability under the first distribution and "
                "probability 0 under the second, so log(x/0) = ∞") if v == sympy.oo else ""
        steps.append(Step(f"{label} = Σ x·log(x/y) ({unit})", target=sympy.Symbol(label), value=v, note=note))
        answers.append(Answer(f"{label} ({unit})", v, note=note))
    kpm, kqm = KL(p, mix), KL(q, mix)
    js = (kpm + kqm) / 2
    steps.append(Step("JS(p, q) = ½KL(p‖m) + ½KL(q‖m) with m = (p + q)/2 (always finite; ≤ 1 bit)",
                      target=sympy.Symbol("JS"), value=js,
                      quantities=(("M", Tensor((len(mix),), tuple(mix))), ("KL(P||M)", kpm),
                                  ("KL(Q||M)", kqm))))
    answers += [Answer(f"H(q) ({unit})", H(q)), Answer(f"JS ({unit})", js)]


def _density(spec, names: dict, steps: list, answers: list) -> None:
    """KL of two Gaussians or two exponentials in closed form (natural log)."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Answer, Step

    m = spec.model
    a = [spec_expr(spec, r, ("params1", i), names) for i, r in enumerate(m.params1)]
    c = [spec_expr(spec, r, ("params2", i), names) for i, r in enumerate(m.params2)]
    if m.density == "gaussian":
        if len(a) != 2 or len(c) != 2:
            raise SpecError("gaussian: params1: [μ1, σ1] and params2: [μ2, σ2]", spec.loc("params1"))
        (m1, s1), (m2, s2) = a, c
        terms = (("KL.log_term", sympy.log(s2 / s1)),
                 ("KL.ratio_term", (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2)))
        kl = sympy.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - sympy.Rational(1, 2)
        formula = "∫ N1·log(N1/N2) dx = log(σ2/σ1) + (σ1² + (μ1 − μ2)²)/(2σ2²) − 1/2"
    else:
        if len(a) != 1 or len(c) != 1:
            raise SpecError("exponential: params1: [λ1] and params2: [λ2]", spec.loc("params1"))
        (l1,), (l2,) = a, c
        terms = (("KL.log_term", sympy.log(l1 / l2)), ("KL.ratio_term", l2 / l1))
        kl = sympy.log(l1 / l2) + l2 / l1 - 1
        formula = "∫ λ1e^(−λ1x)·log(λ1e^(−λ1x)/(λ2e^(−λ2x))) dx = log(λ1/λ2) + λ2/λ1 − 1"
    steps.append(Step(f"KL of two {m.density} densities (natural log): {formula}", target=sympy.Symbol("KL"),
                      value=kl, quantities=terms))
    answers.append(Answer("KL (nats)", kl))
