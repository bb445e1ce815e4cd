"""loss: softmax and cross-entropy, BCE, their gradients; entropy, KL and JS divergences; KL of two densities."""
import functools

from examsolve.registry import family


@functools.cache
def _model():
    from typing import Literal, Optional

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw

    from examsolve.spec import CONVENTION

    class LossSpec(BaseSpec):
        """Any of: logits with a target, a binary logit with a target, two distributions, two densities."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        logits: Optional[Raw] = Field(None, description="class scores z; softmax, cross-entropy, ∂/∂z")
        target: Optional[Raw] = Field(None, description="one-hot vector, or the class number (1-based)")
        binary_logit: Optional[Raw] = Field(None, description="one score z for σ(z) and BCE")
        binary_target: Optional[Raw] = Field(None, description="0 or 1 (or a probability)")
        p: Optional[Raw] = Field(None, description="a discrete distribution")
        q: Optional[Raw] = Field(None, description="another distribution on the same outcomes")
        base: Literal["e", "2", "10"] = Field("e", json_schema_extra=CONVENTION, description="log base: e (nats), 2 (bits), 10")
        density: Optional[Literal["gaussian", "exponential"]] = Field(None, description="KL of two densities")
        params1: list[Raw] = Field(default_factory=list, description="gaussian: [μ1, σ1]; exponential: [λ1]")
        params2: list[Raw] = Field(default_factory=list, description="gaussian: [μ2, σ2]; exponential: [λ2]")

    return LossSpec


@family("loss", summary="softmax, cross-entropy and BCE with their gradients (ŷ − y), entropy, KL and JS "
        "divergences with a named log base (infinite KL explained), KL of two Gaussians or exponentials",
        examples=("softmax_ce.yaml", "js_bits.yaml", "kl_gaussians.yaml"), model=_model)
def _solve(spec):
    """Each quantity with its formula; gradients by differentiation, compared with the ŷ − y shortcut."""
    import sympy

    from examsolve.asks import finish, spec_expr
    from examsolve.errors import SpecError
    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor

    from examsolve.expr import symbol

    m = spec.model
    names: dict = {s: symbol(s) for s in m.symbols}   # names left symbolic, usable in every field
    for name, raw in m.given.items():
        names[name] = spec_expr(spec, raw, ("given", name), names)

    def vec(key):
        v = spec_expr(spec, getattr(m, key), (key,), names)
        return list(v.items) if isinstance(v, Tensor) else [v]

    steps, answers = [], []
    log = {"e": sympy.log, "2": lambda v: sympy.log(v, 2), "10": lambda v: sympy.log(v, 10)}[m.base]
    unit = {"e": "nats", "2": "bits", "10": "dits"}[m.base]
    if m.logits is not None:
        z = vec("logits")
        if m.target is None:
            raise SpecError("logits need target: (one-hot, or the class number)", spec.loc("logits"))
        t = spec_expr(spec, m.target, ("target",), names)
        if isinstance(t, Tensor):
            y = list(t.items)
        else:
            if not (t.is_Integer and 1 <= int(t) <= len(z)):
                raise SpecError(f"target class {t} is not in 1..{len(z)}", spec.loc("target"))
            y = [sympy.Integer(1 if k == int(t) - 1 else 0) for k in range(len(z))]
        zs = sympy.symbols(f"z1:{len(z) + 1}", real=True)
        soft = [sympy.exp(v) / sympy.Add(*[sympy.exp(u) for u in zs]) for v in zs]
        ce = -sympy.Add(*[yk * sympy.log(s) for yk, s in zip(y, soft)])
        at = dict(zip(zs, z))
        yhat = [sympy.simplify(s.xreplace(at)) if len(z) <= 4 else s.xreplace(at) for s in soft]
        loss = ce.xreplace(at)
        grad = [sympy.diff(ce, v).xreplace(at) for v in zs]
        shortcut = [a - b for a, b in zip(yhat, y)]
        ez = [sympy.exp(v) for v in z]
        steps += [Step("softmax ŷ_k = e^(z_k) / Σ_j e^(z_j)", target=sympy.Symbol("ŷ"), value=Tensor((len(z),),
                                                                                                      tuple(yhat)),
                       quantities=(("exp_z", Tensor((len(z),), tuple(ez))), ("sum_exp_z", sympy.Add(*ez)))),
                  Step("cross-entropy L = −Σ_k y_k·log ŷ_k (natural log)", target=sympy.Symbol("L"), value=loss),
                  Step("∂L/∂z by differentiation", target=sympy.Symbol("∂L/∂z"),
                       value=Tensor((len(z),), tuple(sympy.simplify(g) for g in grad))),
                  Step("the shortcut ∂L/∂z = ŷ − y (softmax with cross-entropy)", target=sympy.Symbol("ŷ − y"),
                       value=Tensor((len(z),), tuple(shortcut)))]
        answers += [Answer("softmax", Tensor((len(z),), tuple(yhat))), Answer("cross-entropy", loss),
                    Answer("dL/dz", Tensor((len(z),), tuple(shortcut)))]
    if m.binary_logit is not None:
        zb = spec_expr(spec, m.binary_logit, ("binary_logit",), names)
        tb = spec_expr(spec, m.binary_target if m.binary_target is not None else 1, ("binary_target",), names)
        s = 1 / (1 + sympy.exp(-zb))
        bce = -(tb * sympy.log(s) + (1 - tb) * sympy.log(1 - s))
        steps += [Step("σ(z)", target=sympy.Symbol("ŷ"), value=s),
                  Step("BCE = −(t·log ŷ + (1 − t)·log(1 − ŷ))", target=sympy.Symbol("L"), value=bce),
                  Step("∂L/∂z = ŷ − t", target=sympy.Symbol("∂L/∂z"), value=sympy.simplify(s - tb))]
        answers += [Answer("sigmoid", s), Answer("bce", bce), Answer("dbce/dz", sympy.simplify(s - tb))]
    if m.p is not None:
        p = vec("p")
        q = vec("q") if m.q is not None else None
        for name, dist in (("p", p), ("q", q)):
            if dist is None:
                continue
            total = sympy.Add(*dist)
            # is_negative, not v < 0: a symbolic probability has no truth value for < 0
            if sympy.expand(total - 1) != 0 or any(v.is_negative for v in dist):
                raise SpecError(f"{name} is not a distribution (sum {total})", spec.loc(name))

        def H(d):
            return sympy.Add(*[-v * log(v) for v in d if v != 0])

        def KL(a, b):
            if any(x != 0 and y == 0 for x, y in zip(a, b)):
                return sympy.oo
            return sympy.Add(*[x * log(x / y) for x, y in zip(a, b) if x != 0])

        def parts(d):   # −x·log x per outcome (0 for x = 0)
            return Tensor((len(d),), tuple(-v * log(v) if v != 0 else sympy.Integer(0) for v in d))

        steps.append(Step(f"entropy H(p) = −Σ p·log p ({unit}; 0·log 0 = 0)", target=sympy.Symbol("H(p)"),
                          value=H(p), quantities=(("H(p).terms", parts(p)),)))
        answers.append(Answer(f"H(p) ({unit})", H(p)))
        if q is not None:
            if len(q) != len(p):
                raise SpecError("p and q need the same outcomes", spec.loc("q"))
            mix = [(a + b) / 2 for a, b in zip(p, q)]
            for a, b, label in ((p, q, "KL(p‖q)"), (q, p, "KL(q‖p)")):
                v = KL(a, b)
                note = ("infinite: an outcome has positive probability under the first distribution and "
                        "probability 0 under the second, so log(x/0) = ∞") if v == sympy.oo else ""
                steps.append(Step(f"{label} = Σ x·log(x/y) ({unit})", target=sympy.Symbol(label), value=v, note=note))
                answers.append(Answer(f"{label} ({unit})", v, note=note))
            kpm, kqm = KL(p, mix), KL(q, mix)
            js = (kpm + kqm) / 2
            steps.append(Step("JS(p, q) = ½KL(p‖m) + ½KL(q‖m) with m = (p + q)/2 (always finite; ≤ 1 bit)",
                              target=sympy.Symbol("JS"), value=js,
                              quantities=(("M", Tensor((len(mix),), tuple(mix))), ("KL(P||M)", kpm),
                                          ("KL(Q||M)", kqm), ("H(q)", H(q)), ("H(q).terms", parts(q)))))
            answers += [Answer(f"H(q) ({unit})", H(q)), Answer(f"JS ({unit})", js)]
    if m.density is not None:
        a = [spec_expr(spec, r, ("params1", i), names) for i, r in enumerate(m.params1)]
        b = [spec_expr(spec, r, ("params2", i), names) for i, r in enumerate(m.params2)]
        if m.density == "gaussian":
            if len(a) != 2 or len(b) != 2:
                raise SpecError("gaussian: params1: [μ1, σ1] and params2: [μ2, σ2]", spec.loc("params1"))
            (m1, s1), (m2, s2) = a, b
            terms = (("KL.log_term", sympy.log(s2 / s1)),
                     ("KL.ratio_term", (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2)))
            kl = sympy.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - sympy.Rational(1, 2)
            formula = "∫ N1·log(N1/N2) dx = log(σ2/σ1) + (σ1² + (μ1 − μ2)²)/(2σ2²) − 1/2"
        else:
            if len(a) != 1 or len(b) != 1:
                raise SpecError("exponential: params1: [λ1] and params2: [λ2]", spec.loc("params1"))
            (l1,), (l2,) = a, b
            terms = (("KL.log_term", sympy.log(l1 / l2)), ("KL.ratio_term", l2 / l1))
            kl = sympy.log(l1 / l2) + l2 / l1 - 1
            formula = "∫ λ1e^(−λ1x)·log(λ1e^(−λ1x)/(λ2e^(−λ2x))) dx = log(λ1/λ2) + λ2/λ1 − 1"
        steps.append(Step(f"KL of two {m.density} densities (natural log): {formula}", target=sympy.Symbol("KL"),
                          value=kl, quantities=terms))
        answers.append(Answer("KL (nats)", kl))
    if not answers:
        raise SpecError("give logits:, binary_logit:, p: (and q:), or density:", spec.loc())
    return finish(spec, steps, answers, names)
