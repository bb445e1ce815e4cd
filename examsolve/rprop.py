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


def step(variant: str, h: Callable, st: dict, i: int, g, x, ar, p: str, t: int, worse: bool | None,
         show: bool, loc) -> tuple[list, Any, tuple, int]:
    """One parameter's Rprop step: lines (title, quantity, target, value, formula, substituted; only quantity and
    value for a step not shown), the new value, the update's (formula, substituted), and the sign of g·g_prev."""
    prev, delta0, moved = st["g_prev"][i], st["Δ"][i], st["Δw"][i]
    product = ar.fit(g * prev)
    sign = ar.decide(product, f"g·g_prev of {p}", loc)
    if sign > 0:
        delta = ar.fit(ar.min(delta0 * h("eta_plus"), h("step_max")))
    elif sign < 0:
        delta = ar.fit(ar.max(delta0 * h("eta_minus"), h("step_min")))
    else:
        delta = delta0
    backtrack = sign < 0 and (variant == "rprop+" or (variant == "irprop+" and bool(worse)))
    if sign < 0 and variant != "rprop-":
        move = ar.fit(-moved) if backtrack else 0 * g
        stored = 0 * g                 # stored as 0: the next step takes the = 0 branch
    else:
        move, stored = ar.fit(-_sign_of_g(ar, g, p, loc) * delta), g
    st["g_prev"][i], st["Δ"][i], st["Δw"][i] = stored, delta, move
    xn = ar.fit(x + move)
    n = ar.sym
    if not show:      # sympy display trees cost more than the arithmetic: only for shown steps
        return [(None, k, None, n(v), None, None) for k, v in (("gg_prev", product), ("Δ", delta), ("Δw", move))], \
            xn, (None, None), sign
    what = {"g": g, "prev": prev, "product": product, "delta0": delta0, "delta": delta, "moved": moved,
            "move": move, "x": x}
    lines, update = _shown(variant, h, ar, p, t, sign, backtrack, {k: n(v) for k, v in what.items()})
    return lines, xn, update, sign


def _sign_of_g(ar, g, p: str, loc):
    """sign(g) for the move: decided for a number (never from rounding), sign(g) as written for a symbol."""
    import sympy

    if isinstance(g, sympy.Basic) and not g.is_number:
        return sympy.sign(g)
    return ar.decide(g, f"the gradient of {p}", loc)


def _shown(variant: str, h: Callable, ar, p: str, t: int, sign: int, backtrack: bool, v: dict) -> tuple:
    """The shown lines of one parameter's Rprop step and its update's (formula, substituted)."""
    import sympy

    S, U, n = sympy.Symbol, {"evaluate": False}, ar.sym
    gs, dsym = _iterate(f"g_{p}", t), S(f"Delta_{p}")
    lines = [(f"sign comparison g·g_prev {relation(sign)}", "gg_prev", sympy.Mul(gs, _iterate(f"g_{p}", t - 1), **U),
              v["product"], None, sympy.Mul(v["g"], v["prev"], **U))]
    if sign != 0:
        eta, bound, f = ("eta_plus", "step_max", sympy.Min) if sign > 0 else ("eta_minus", "step_min", sympy.Max)
        formula = f(sympy.Mul(S("eta_+" if sign > 0 else "eta_-"), dsym, **U),
                    S("Delta_max" if sign > 0 else "Delta_min"), **U)
        lines.append(("same sign: Δ grows" if sign > 0 else "sign change: Δ shrinks", "Δ", dsym, v["delta"],
                      formula, f(sympy.Mul(n(h(eta)), v["delta0"], **U), n(h(bound)), **U)))
    else:
        lines.append(("g·g_prev = 0 (first step, or after a sign change): Δ kept", "Δ", dsym, v["delta"], None,
                      None))
    if backtrack:
        # no formula: the title (shown only without one) names the backtracking
        title = ("weight backtracking" if variant == "rprop+" else "the loss increased: weight backtracking") + \
            ": undo the previous move, Δw = −Δw_prev"
        formula, sub = None, sympy.Mul(-1, v["moved"], **U)
    elif sign < 0 and variant != "rprop-":
        title = ("no move after a sign change" if variant == "irprop-" else
                 "the loss did not increase: no move, no backtracking")
        formula, sub = None, None
    else:
        title = "move Δw = −sign(g)·Δ"
        formula = sympy.Mul(-1, sympy.sign(gs), dsym, **U)
        sub = sympy.Mul(-1, sympy.Mul(sympy.sign(v["g"], **U), v["delta"], **U), **U)
    dw = _iterate(f"Δw_{p}", t)
    lines.append((title, "Δw", dw, v["move"], formula, sub))
    return lines, (sympy.Add(_iterate(p, t - 1), dw, **U), sympy.Add(v["x"], v["move"], **U))


def _iterate(name: str, t: int):
    from examsolve.functions import Iterate
    import sympy

    return Iterate(sympy.Symbol(name), t)
