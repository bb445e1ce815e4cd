"""Non-smooth minimisers by 0 ∈ ∂f and unbounded polynomials: checked against brute force in plain Python."""
from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

from examsolve import solve
from examsolve.spec import parse_spec


def _points(equation: str, symbols: str = "[theta]", wrt: str = "theta"):
    spec = parse_spec(f"kind: graph\nsymbols: {symbols}\nequations:\n  f: {equation}\n"
                      f"ask:\n  - critical_points: {{of: f, wrt: {wrt}}}\n", "t.yaml")
    sol = solve(spec)
    return {a.name: a.value for a in sol.answers}, sol


def _grid_argmin(f, lo: int = -12, hi: int = 12, n: int = 120) -> list[Fraction]:
    """Every grid point k/n in [lo, hi] where f is smallest (exact rationals)."""
    xs = [Fraction(k, n) for k in range(lo * n, hi * n + 1)]
    vals = [f(x) for x in xs]
    best = min(vals)
    return [x for x, v in zip(xs, vals) if v == best]


# (a, c, λ): denominators of c ± λ/(2a) divide 120, so the true minimiser lies on the grid
CASES = [(2, 3, 8), (1, -1, 3), (Fraction(1, 2), 2, 1), (3, Fraction(-5, 2), 6), (1, 4, 0), (5, 1, 10), (2, -3, 4)]


@pytest.mark.parametrize("a,c,lam", CASES)
def test_soft_threshold_minimiser_is_the_grid_argmin(a, c, lam):
    answers, _ = _points(f"{a}*(theta - ({c}))**2 + {lam}*abs(theta)")
    (cp,) = answers["critical points of f"].items
    got = cp.point[0][1]
    want = _grid_argmin(lambda t: a * (t - c) ** 2 + lam * abs(t))
    assert want == [Fraction(int(sympy.fraction(got)[0]), int(sympy.fraction(got)[1]))]
    # with λ = 0 there is no kink: the smooth analysis (f'' = 2a > 0) says a strict minimum, and as
    # f − f(c) = a·(θ − c)² ≥ 0 by its form, a global one
    assert cp.classification.kind == "global_minimum"
    if not lam:
        assert "also strict" in cp.classification.reason


def test_regression_l1_minimiser_at_the_kink_is_found():
    # before: "could not decide whether ∇f = 0 has a real solution" (or "none"); 2(θ−3)² + 16|θ|:
    # ∂f(0) = −12 + [−16, 16] ∋ 0, so θ* = 0 (soft-threshold: max(3 − 16/4, 0) = 0)
    answers, sol = _points("2*(theta - 3)**2 + 16*abs(theta)")
    assert str(answers["critical points of f"]) == "(0): global minimum"
    titles = [s.title for s in sol.steps]
    assert any("0 ∈ ∂f" in t for t in titles)


def test_soft_threshold_closed_form_step():
    # 2(θ − 3)² + 8|θ|: a = 2, c = 3, λ = 8 → sign(3)·max(3 − 8/4, 0) = 1
    _, sol = _points("2*(theta - 3)**2 + 8*abs(theta)")
    assert sol.quantities["θ*"] == 1


def test_relu_and_max_kinks_against_brute_force():
    # (x − 2)² + 3·relu(x): x > 0 gives 2(x − 2) + 3 = 0, x = 1/2
    answers, _ = _points("(theta - 2)**2 + 3*relu(theta)")
    assert [cp.point[0][1] for cp in answers["critical points of f"].items] == [sympy.Rational(1, 2)]
    assert _grid_argmin(lambda t: (t - 2) ** 2 + 3 * max(t, 0)) == [Fraction(1, 2)]
    # max(θ, −θ/2) + θ²/4: ∂f(0) = [−1/2, 1] ∋ 0
    answers, _ = _points("max(theta, -theta/2) + theta**2/4")
    assert [cp.point[0][1] for cp in answers["critical points of f"].items] == [0]
    assert _grid_argmin(lambda t: max(t, -t / 2) + t * t / 4) == [0]


def test_non_convex_kink_is_a_local_maximum():
    # θ²/2 − |θ|: θ < 0: θ + 1 = 0 → −1; θ > 0: θ − 1 = 0 → 1; at 0: f'(0−) = 1 > 0 > −1 = f'(0+)
    answers, _ = _points("theta**2/2 - abs(theta)")
    cps = answers["critical points of f"]
    assert [(cp.point[0][1], cp.classification.kind) for cp in cps.items] == [
        (-1, "local_minimum"), (0, "local_maximum"), (1, "local_minimum")]


def test_symbolic_soft_threshold_by_cases():
    answers, _ = _points("a*(theta - c)**2 + lam*abs(theta)", "[theta, a, c, lam]")
    (cp,) = answers["critical points of f"].items
    pw = cp.point[0][1]
    # every case against the soft-threshold at numbers where exactly one condition holds
    for av, cv, lv, want in ((2, 3, 8, 1), (1, -1, 3, 0), (1, -4, 2, -3)):
        got = pw.xreplace({s: v for s in pw.free_symbols for n, v in (("a", av), ("c", cv), ("lam", lv))
                           if s.name == n})
        assert got == want


POLYS = {   # the spec text and the same polynomial in plain Python
    "x**3 - 3*x + y**2": lambda x, y: x ** 3 - 3 * x + y ** 2,
    "x**2 + y": lambda x, y: x ** 2 + y,
    "x**2 + y**2": lambda x, y: x ** 2 + y ** 2,
    "x*y - x**2 - y**2": lambda x, y: x * y - x ** 2 - y ** 2,
    "x**2 + 4*x*y + y**2": lambda x, y: x ** 2 + 4 * x * y + y ** 2,
    "x**4 + y**4 - x*y": lambda x, y: x ** 4 + y ** 4 - x * y,
    "x**2*y": lambda x, y: x ** 2 * y,
}


@pytest.mark.parametrize("poly,below,above", [
    ("x**3 - 3*x + y**2", True, True),        # x³ odd
    ("x**2 + y", True, True),                 # linear in y where x² vanishes
    ("x**2 + y**2", False, True),             # positive definite
    ("x*y - x**2 - y**2", True, False),       # H = [[−2, 1], [1, −2]] negative definite
    ("x**2 + 4*x*y + y**2", True, True),      # eigenvalues 3 and −1 (eigenvector (1, −1))
    ("x**4 + y**4 - x*y", False, True),       # quartic part positive definite
    ("x**2*y", True, True),                   # odd degree
])
def test_unbounded_polynomials_along_a_checked_direction(poly, below, above):
    answers, sol = _points(poly, "[x, y]", "[x, y]")
    f = POLYS[poly]
    for side, expected, sign in (("minimum", below, -1), ("maximum", above, 1)):
        name = f"global {side} of f"
        assert (name in answers) == expected
        if expected:
            kind = answers[name]
            assert kind.kind == ("unbounded_below" if sign < 0 else "unbounded_above")
            d = [int(s) for s in kind.reason.split("along (")[1].split(")")[0].split(",")]
            vals = [f(t * d[0], t * d[1]) for t in (10.0, 100.0, 1000.0)]
            assert all(sign * b > sign * a for a, b in zip(vals, vals[1:])) and sign * vals[-1] > 500
