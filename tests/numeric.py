"""An independent oracle: 40-digit central finite differences on the composed function."""
from __future__ import annotations

import mpmath
import sympy

mpmath.mp.dps = 60
H = mpmath.mpf("1e-18")


def at(expr: sympy.Expr, point: dict) -> mpmath.mpf:
    """expr evaluated at a point of 60-digit floats (custom functions evaluate on numbers)."""
    v = expr.xreplace({s: sympy.Float(mpmath.nstr(x, 60), 60) for s, x in point.items()})
    v = sympy.N(v, 60)
    return mpmath.mpf(str(v))


def partials(expr: sympy.Expr, point: dict, var) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
    """(central, left, right) difference quotients of expr in var at point."""
    base = dict(point)
    f0 = at(expr, base)
    up, down = dict(base), dict(base)
    up[var] = base[var] + H
    down[var] = base[var] - H
    fu, fd = at(expr, up), at(expr, down)
    return (fu - fd) / (2 * H), (f0 - fd) / H, (fu - f0) / H


def close(a, b, tol: str = "1e-12") -> bool:
    """|a - b| small relative to their size (FD with h = 1e-18 at 60 digits is good to ~1e-30)."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) <= mpmath.mpf(tol) * max(1, abs(a), abs(b))
