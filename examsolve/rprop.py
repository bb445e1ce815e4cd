"""Rprop's four variants after Igel & Hüsken (2000), one parameter's step: Rprop+, Rprop−, iRprop+, iRprop−."""
from __future__ import annotations

from typing import Any, Callable

# the names the output uses: "convention: Rprop+ with weight backtracking"
NAMES = {
    "rprop+": "Rprop+ with weight backtracking",
    "rprop-": "Rprop− without weight backtracking",
    "irprop+": "iRprop+ (weight backtracking only when the loss increased)",
    "irprop-": "iRprop− (no move after a sign change)",
}

# what a sign change (g·g_prev < 0) does besides shrinking Δ
_ON_FLIP = {
    "rprop+": "undo the previous move (p ← p − Δw_prev) and set g ← 0",
    "rprop-": "still move p ← p − sign(g)·Δ with the new sign",
    "irprop+": "undo the previous move if the loss increased (L_t > L_(t−1)), else stay; g ← 0",
    "irprop-": "no move and g ← 0",
}


def rule(variant: str) -> str:
    """The update rule of one variant, in words and symbols."""
    return (f"{NAMES[variant]}: Δ ← min(η⁺·Δ, Δmax) if g·g_prev > 0, Δ ← max(η⁻·Δ, Δmin) if < 0, Δ kept if = 0; "
            f"p ← p − sign(g)·Δ, except on a sign change (< 0): {_ON_FLIP[variant]}")


def relation(sign: int) -> str:
    """'>0', '<0' or '=0': the sign comparison g·g_prev as the table shows it."""
    return ">0" if sign > 0 else "<0" if sign < 0 else "=0"


def known_sign(value, what: str, loc) -> int:
    """The sign of a number, −1, 0 or 1; SolveError when it is symbolic (Rprop branches on it)."""
    import sympy

    from examsolve.errors import SolveError

    s = sympy.sign(value) if isinstance(value, sympy.Basic) else (value > 0) - (value < 0)
    if s not in (-1, 0, 1):
        raise SolveError(f"Rprop branches on the sign of {what}, and {sympy.sstr(value)} has no known sign; "
                         "give the parameters number start values", loc)
    return int(s)


def step(variant: str, h: Callable, st: dict, i: int, g, x, ar, p: str, t: int, worse: bool | None,
         show: bool, loc) -> tuple[list, Any, tuple, int]:
    """One parameter's Rprop step: shown lines (title, quantity, target, value, formula, substituted), the new
    value, the update's (formula, substituted), and the sign of g·g_prev."""
    import sympy

    S, U = sympy.Symbol, {"evaluate": False}
    n = ar.sym
    prev, delta, moved = st["g_prev"][i], st["Δ"][i], st["Δw"][i]
    gs, gp = _iterate(f"g_{p}", t), _iterate(f"g_{p}", t - 1)
    product = ar.fit(g * prev)
    sign = known_sign(ar.sym(product), f"g·g_prev of {p}", loc)
    lines = [(f"sign comparison g·g_prev {relation(sign)}", "gg_prev", sympy.Mul(gs, gp, **U), n(product), None,
              sympy.Mul(n(g), n(prev), **U) if show else None)]
    dsym = S(f"Delta_{p}")
    if sign > 0:
        delta = ar.fit(ar.min(delta * h("eta_plus"), h("step_max")))
        lines.append(("same sign: Δ grows", "Δ", dsym, n(delta), sympy.Min(S("eta_+") * dsym, S("Delta_max")),
                      sympy.Min(sympy.Mul(n(h("eta_plus")), n(st["Δ"][i]), **U), n(h("step_max")), **U)
                      if show else None))
    elif sign < 0:
        delta = ar.fit(ar.max(delta * h("eta_minus"), h("step_min")))
        lines.append(("sign change: Δ shrinks", "Δ", dsym, n(delta), sympy.Max(S("eta_-") * dsym, S("Delta_min")),
                      sympy.Max(sympy.Mul(n(h("eta_minus")), n(st["Δ"][i]), **U), n(h("step_min")), **U)
                      if show else None))
    else:
        lines.append(("g·g_prev = 0 (first step, or after a sign change): Δ kept", "Δ", dsym, n(delta), None, None))
    backtrack = sign < 0 and (variant == "rprop+" or (variant == "irprop+" and bool(worse)))
    if sign < 0 and variant != "rprop-":
        move = ar.fit(-moved) if backtrack else 0 * g
        g = 0 * g                     # stored as 0: the next step takes the = 0 branch
    else:
        move = ar.fit(-ar.sign(g) * delta)
    st["g_prev"][i], st["Δ"][i], st["Δw"][i] = g, delta, move
    dw = _iterate(f"Δw_{p}", t)
    if backtrack:
        title = ("weight backtracking" if variant == "rprop+" else "the loss increased: weight backtracking") + \
            ": undo the previous move, Δw = −Δw_prev"
        # no formula: the title (shown only without one) names the backtracking
        formula, sub = None, sympy.Mul(-1, n(moved), **U) if show else None
    elif sign < 0 and variant != "rprop-":
        title = ("no move after a sign change" if variant == "irprop-" else
                 "the loss did not increase: no move, no backtracking")
        formula, sub = None, None
    else:
        title = "move Δw = −sign(g)·Δ"
        formula = sympy.Mul(-1, sympy.sign(gs), dsym, **U)
        sub = sympy.Mul(-1, sympy.Mul(sympy.sign(n(g), **U), n(delta), **U), **U) if show else None
    lines.append((title, "Δw", dw, n(move), formula, sub))
    xn = ar.fit(x + move)
    update = (sympy.Add(_iterate(p, t - 1), dw, **U), sympy.Add(n(x), n(move), **U) if show else None)
    return lines, xn, update, sign


def _iterate(name: str, t: int):
    from examsolve.functions import Iterate
    import sympy

    return Iterate(sympy.Symbol(name), t)
