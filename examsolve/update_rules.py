"""The update rules of the optimizer family (all but Rprop's, in examsolve/rprop.py): the new value of one
parameter, its state, and the shown lines with formula and substituted numbers."""
from __future__ import annotations

import functools
from typing import Any, Callable

RULES = {
    "gd": "p ← p − α·g",
    "momentum/classic": "v ← μ·v + g;  p ← p − α·v",
    "momentum/negative": "v ← μ·v − α·g;  p ← p + v",
    "momentum/ema": "v ← β·v + (1 − β)·g;  p ← p − α·v̂ with v̂ = v/(1 − βᵗ) when bias-corrected",
    "nesterov": "v ← μ·v − α·∇f(p + μ·v);  p ← p + v  (the gradient at the look-ahead point)",
    "nesterov/pytorch": "v ← μ·v + g;  p ← p − α·(g + μ·v)  (g = ∇f(p): no look-ahead point)",
    "adagrad": "G ← G + g²;  p ← p − α·g/(√G + ε)",
    "rmsprop": "s ← ρ·s + (1 − ρ)·g²;  p ← p − α·g/(√s + ε)",
    "adam": "m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ);  "
            "p ← p − α·m̂/(√v̂ + ε)",
    "adamw": "as adam, then p ← p − α·λ·p (decoupled weight decay)",
}
def rule_text(o, rule: str) -> str:
    """The rule the run uses: without bias correction no m̂, with eps_inside √(v + ε); Rprop's variant named."""
    if rule == "rprop":
        from examsolve.rprop import rule as rprop_rule

        return rprop_rule(o.variant)
    text = RULES[rule]
    if not o.bias_correction and rule in ("adam", "adamw"):
        text = ("m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  p ← p − α·m/(√v + ε)  (no bias correction)"
                + (";  then p ← p − α·λ·p (decoupled weight decay)" if rule == "adamw" else ""))
    if not o.bias_correction and rule == "momentum/ema":
        text = "v ← β·v + (1 − β)·g;  p ← p − α·v  (no bias correction)"
    if o.eps_inside:
        text = text.replace("(√v̂ + ε)", "√(v̂ + ε)").replace("(√v + ε)", "√(v + ε)").replace(
            "(√G + ε)", "√(G + ε)").replace("(√s + ε)", "√(s + ε)")
    return text


def update(o, h, rule, st, i, g, x, lr, t, ar, p: str, show: bool, k: int = 0,
           where: Callable[[str], Any] = lambda key: None) -> tuple:
    """One parameter's update: the shown lines (title, quantity, target, value, formula, substituted), the new
    value, and the update's (formula, substituted); substituted forms are built only for shown steps. k is the
    step number and where(key) the spec location of a hyperparameter, for the error of a step that divides by 0."""
    import sympy

    S, U, n = _symbol, {"evaluate": False}, ar.sym
    fit, lines = ar.fit, []
    add = functools.partial(sympy.Add, **U)
    mul = functools.partial(sympy.Mul, **U)

    def div(a, b):
        return mul(a, sympy.Pow(b, -1, **U))

    def line(title, key, value, formula, substituted):   # formula, substituted: called only for a shown step
        if not show:     # sympy display trees cost more than the arithmetic
            lines.append((title, key, None, n(value), None, None))
            return
        lines.append((title, key, S(f"{_DISPLAY.get(key, key)}_{p}"), n(value), formula(), substituted()))

    def root(v, vs, num, what):   # the denominator, its formula from the state's symbol vs (called when shown)
        eps = h("eps")
        _check_root(o, ar, v, eps, num, what, p, k, where("eps"))
        if o.eps_inside:
            return (ar.sqrt(v + eps), lambda: sympy.sqrt(vs + S("epsilon")),
                    lambda: sympy.Pow(add(n(v), n(eps)), sympy.S.Half, **U))
        return (ar.sqrt(v) + eps, lambda: sympy.sqrt(vs) + S("epsilon"),
                lambda: add(sympy.Pow(n(v), sympy.S.Half, **U), n(eps)))

    P, gs = S(p), S(f"g_{p}")
    if rule == "gd":
        return lines, fit(x - lr * g), _shown(show, lambda: add(P, mul(-1, S("alpha"), gs)),
                                              lambda: add(n(x), mul(-1, n(lr), n(g))))
    if rule.startswith(("momentum", "nesterov")):
        return _momentum(o, h, rule, st, i, g, x, lr, t, ar, p, show, lines, line, k, where)
    if rule in ("adagrad", "rmsprop"):
        key = "G" if rule == "adagrad" else "s"
        before, acc = st[key][i], S(f"{key}_{p}")
        if rule == "adagrad":
            new = fit(before + g ** 2)
            line("sum of squared gradients", key, new, lambda: add(acc, gs ** 2),
                 lambda: add(n(before), sympy.Pow(n(g), 2, **U)))
        else:
            r = h("rho")
            new = fit(r * before + (1 - r) * g ** 2)
            line("running mean of g²", key, new, lambda: add(mul(S("rho"), acc), mul(add(1, -S("rho")), gs ** 2)),
                 lambda: add(mul(n(r), n(before)), mul(n(fit(1 - r)), sympy.Pow(n(g), 2, **U))))
        st[key][i] = new
        den, dform, dsub = root(new, acc, g, "its sum of squares G" if rule == "adagrad" else
                                "its running average of squares s")
        return lines, fit(x - lr * g / den), _shown(show, lambda: add(P, mul(-1, S("alpha"), div(gs, dform()))),
                                                    lambda: add(n(x), mul(-1, div(mul(n(lr), n(g)), dsub()))))
    return _adam(o, h, rule, st, i, g, x, lr, t, ar, p, show, lines, line, root, k, where)


def _momentum(o, h, rule, st, i, g, x, lr, t, ar, p, show, lines, line, k, where):
    """Momentum's three forms and Nesterov's update (see update)."""
    import sympy

    S, U, n, fit = _symbol, {"evaluate": False}, ar.sym, ar.fit
    add = functools.partial(sympy.Add, **U)
    mul = functools.partial(sympy.Mul, **U)

    def div(a, b):
        return mul(a, sympy.Pow(b, -1, **U))

    P, gs = S(p), S(f"g_{p}")
    mu, before, vs = h("momentum"), st["v"][i], S(f"v_{p}")
    if rule == "momentum/classic":
        v = fit(mu * before + g)
        line("velocity", "v", v, lambda: add(mul(S("mu"), vs), gs), lambda: add(mul(n(mu), n(before)), n(g)))
        xn, upd = fit(x - lr * v), (lambda: add(P, mul(-1, S("alpha"), vs)),
                                    lambda: add(n(x), mul(-1, n(lr), n(v))))
    elif rule == "nesterov/pytorch":
        v = fit(mu * before + g)
        line("velocity (g at p)", "v", v, lambda: add(mul(S("mu"), vs), gs), lambda: add(mul(n(mu), n(before)), n(g)))
        xn = fit(x - lr * (g + mu * v))
        upd = (lambda: add(P, mul(-1, S("alpha"), add(gs, mul(S("mu"), vs)))),
               lambda: add(n(x), mul(-1, n(lr), add(n(g), mul(n(mu), n(v))))))
    elif rule in ("momentum/negative", "nesterov"):
        v = fit(mu * before - lr * g)
        line("velocity" + (" (g at the look-ahead point)" if rule == "nesterov" else ""), "v", v,
             lambda: add(mul(S("mu"), vs), mul(-1, S("alpha"), gs)),
             lambda: add(mul(n(mu), n(before)), mul(-1, n(lr), n(g))))
        xn, upd = fit(x + v), (lambda: add(P, vs), lambda: add(n(x), n(v)))
    else:
        v = fit(mu * before + (1 - mu) * g)
        line("velocity", "v", v, lambda: add(mul(S("beta"), vs), mul(add(1, -S("beta")), gs)),
             lambda: add(mul(n(mu), n(before)), mul(n(fit(1 - mu)), n(g))))
        vhat = fit(v / _correction(ar, mu, t, "β", "v̂ = v", k, where("momentum"))) if o.bias_correction else v
        if o.bias_correction:
            line("bias correction v̂ = v/(1 − βᵗ)", "v̂", vhat, lambda: div(vs, add(1, -S("beta") ** S("t"))),
                 lambda: div(n(v), add(1, mul(-1, sympy.Pow(n(mu), n(t), **U)))))
        vv = S(f"vhat_{p}") if o.bias_correction else vs
        xn, upd = fit(x - lr * vhat), (lambda: add(P, mul(-1, S("alpha"), vv)),
                                       lambda: add(n(x), mul(-1, n(lr), n(vhat))))
    st["v"][i] = v
    return lines, xn, _shown(show, *upd)


def _adam(o, h, rule, st, i, g, x, lr, t, ar, p, show, lines, line, root, k, where):
    """Adam and AdamW's update (see update)."""
    import sympy

    S, U, n, fit = _symbol, {"evaluate": False}, ar.sym, ar.fit
    add = functools.partial(sympy.Add, **U)
    mul = functools.partial(sympy.Mul, **U)
    b1, b2, m0, v0 = h("beta1"), h("beta2"), st["m"][i], st["v"][i]
    ms, vs, gs, P = S(f"m_{p}"), S(f"v_{p}"), S(f"g_{p}"), S(p)
    m_ = fit(b1 * m0 + (1 - b1) * g)
    v = fit(b2 * v0 + (1 - b2) * g ** 2)
    st["m"][i], st["v"][i] = m_, v
    line("first moment", "m", m_, lambda: add(mul(S("beta_1"), ms), mul(add(1, -S("beta_1")), gs)),
         lambda: add(mul(n(b1), n(m0)), mul(n(fit(1 - b1)), n(g))))
    line("second moment", "v", v, lambda: add(mul(S("beta_2"), vs), mul(add(1, -S("beta_2")), gs ** 2)),
         lambda: add(mul(n(b2), n(v0)), mul(n(fit(1 - b2)), sympy.Pow(n(g), 2, **U))))
    mh, vh, mform, vform = m_, v, ms, vs
    if o.bias_correction:
        mh = fit(m_ / _correction(ar, b1, t, "β₁", "m̂ = m", k, where("beta1")))
        vh = fit(v / _correction(ar, b2, t, "β₂", "v̂ = v", k, where("beta2")))
        mform, vform = S(f"mhat_{p}"), S(f"vhat_{p}")
        for title, key, val, raw, sym, beta, bname in (("m̂ = m/(1 − β₁ᵗ)", "m̂", mh, m_, ms, b1, "beta_1"),
                                                         ("v̂ = v/(1 − β₂ᵗ)", "v̂", vh, v, vs, b2, "beta_2")):
            line(title, key, val, lambda: mul(sym, sympy.Pow(add(1, -S(bname) ** S("t")), -1, **U)),
                 lambda raw=raw, beta=beta: mul(n(raw), sympy.Pow(add(1, mul(-1, sympy.Pow(n(beta), n(t), **U))),
                                                                   -1, **U)))
    den, dform, dsub = root(vh, vform, mh, "its second moment v")
    xn = x - lr * mh / den
    formula = (lambda: add(P, mul(-1, S("alpha"), mform, sympy.Pow(dform(), -1, **U))))
    sub = (lambda: add(n(x), mul(-1, n(lr), n(mh), sympy.Pow(dsub(), -1, **U))))
    if rule == "adamw":
        wd = h("weight_decay")
        xn = xn - lr * wd * x
        formula = (lambda f0=formula: add(f0(), mul(-1, S("alpha"), S("lambda"), P)))
        sub = (lambda s0=sub: add(s0(), mul(-1, n(lr), n(wd), n(x))))
    return lines, fit(xn), _shown(show, formula, sub)


# the eps PyTorch uses when none is given, named in the error of a step that divides by 0
_TORCH_EPS = {"adagrad": "1e-10 for Adagrad", "rmsprop": "1e-8 for RMSprop", "adam": "1e-8 for Adam",
              "adamw": "1e-8 for AdamW"}


def _check_root(o, ar, v, eps, num, what: str, p: str, k: int, loc) -> None:
    """The update divides by √v + ε (or √(v + ε)): a negative radicand or a 0 divisor is a SolveError with the
    reason, never a nan or zoo printed as an answer."""
    from examsolve.errors import SolveError

    radicand = v + eps if o.eps_inside else v
    if not ar.nonneg(radicand) and ar.sign(radicand) == -1:
        raise SolveError(f"step {k} takes √ of a negative number for {p} ({'v + ε' if o.eps_inside else what}); "
                         "the running squares must start at 0 or more, and eps must not be negative", loc)
    den = ar.sqrt(radicand) if o.eps_inside else ar.sqrt(v) + eps
    s = ar.sign(den)
    if s is None and not _is_float(den):
        return           # symbolic: the step is written as a formula
    if s == 0 or s is None:
        fix = f"give eps > 0 (PyTorch's default {_TORCH_EPS.get(o.type, '1e-8')})"
        if ar.sign(num) == 0 and ar.sign(eps) == 0:
            raise SolveError(f"the step is 0/0: the gradient of {p} and {what} are 0 at step {k} and eps is 0; {fix}",
                             loc)
        raise SolveError(f"step {k} of {p} divides by {'√(v + ε)' if o.eps_inside else '√v + ε'}, which is 0"
                         f"{'' if s == 0 else ' to rounding (it cannot be told from 0)'}; {fix}", loc)


def _correction(ar, beta, t, name: str, what: str, k: int, loc):
    """1 − βᵗ, which a bias correction divides by: 0 when β = 1 is a SolveError with the reason, never a nan."""
    from examsolve.errors import SolveError

    key = (id(beta), t)      # the same for every parameter of a step: computed once per step
    if key in ar.cache:
        return ar.cache[key]
    if len(ar.cache) > 8:
        ar.cache.clear()
    den = 1 - beta ** t
    b = getattr(beta, "ex", beta)
    if b is not None and b.is_Rational and 0 <= b < 1 and getattr(t, "is_Integer", False) and t >= 1:
        den = ar.positive(den)      # βᵗ < 1 exactly: the float of 1 − βᵗ may have lost its exact form
    s = ar.sign(den)
    if s == 0 or (s is None and _is_float(den)):
        zero = "0" if s == 0 else "a number rounding cannot tell from 0"
        raise SolveError(f"the bias correction {what}/(1 − {name}ᵗ) divides by {zero} at step {k} "
                         f"({name} = {ar.sym(beta)}); give {name} < 1, or bias_correction: false", loc)
    ar.cache[key] = den
    return den


def _is_float(v) -> bool:
    """A float-mode number (not a sympy value, which may be symbolic)."""
    import sympy

    return not isinstance(v, sympy.Basic)


def _shown(show: bool, formula, substituted) -> tuple:
    """The update's (formula, substituted), built only for a shown step."""
    return (formula(), substituted()) if show else (None, None)


_DISPLAY = {"m̂": "mhat", "v̂": "vhat"}   # quantity names (keys use them) to symbol names that print as m̂


@functools.lru_cache(maxsize=512)
def _symbol(name: str):
    """sympy.Symbol(name), made once: a long run names the same few symbols every step."""
    import sympy

    return sympy.Symbol(name)
