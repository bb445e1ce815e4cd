"""The recursion family: receptive field against a brute-force 1-D conv stack, momentum elimination against a
plain-Python simulation of both forms, the Jacobian-product bound against its definition."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest

from examsolve import solve
from examsolve.spec import parse_spec


def _answers(text: str) -> dict:
    sol = solve(parse_spec("kind: recursion\n" + text, "t.yaml"))
    return {a.name: a.value for a in sol.answers}


def _inputs_seen(kernels: list[int], strides: list[int], out: int) -> set[int]:
    """The input positions output `out` of the last layer depends on: a 1-D conv stack without padding,
    output p of a layer reading inputs p·s .. p·s + r − 1 of the layer before."""
    seen = {out}
    for r, s in reversed(list(zip(kernels, strides))):
        seen = {p * s + o for p in seen for o in range(r)}
    return seen


@pytest.mark.parametrize("kernels,strides", [
    ([3, 3, 5, 3], [1, 2, 2, 1]), ([7, 3, 3], [2, 2, 1]), ([2], [3]), ([5, 5, 5, 5, 5], [2, 2, 2, 2, 2]),
    ([1, 3, 1, 4], [3, 1, 2, 2]),
])
def test_receptive_field_and_jump_against_a_brute_force_stack(kernels, strides):
    a = _answers(f"preset: receptive_field\nkernels: {kernels}\nstrides: {strides}\n")
    first, second = _inputs_seen(kernels, strides, 0), _inputs_seen(kernels, strides, 1)
    assert a["receptive field"] == max(first) - min(first) + 1     # the span of the inputs seen
    if all(r >= s for r, s in zip(kernels, strides)):                # no holes: every position in the span
        assert len(first) == a["receptive field"]
    assert a["jump"] == min(second) - min(first)


def _heavy_ball(alpha: Fraction, mu: Fraction, x0: Fraction, grad, n: int) -> list[Fraction]:
    x, v, out = x0, Fraction(0), []
    for _ in range(n):
        v = mu * v - alpha * grad(x)
        x = x + v
        out.append(x)
    return out


def _pytorch(alpha: Fraction, mu: Fraction, x0: Fraction, grad, n: int) -> list[Fraction]:
    x, v, out = x0, Fraction(0), []
    for _ in range(n):
        v = mu * v + grad(x)
        x = x - alpha * v
        out.append(x)
    return out


@pytest.mark.parametrize("lr,mom,x0,n", [("1/10", "1/2", 4, 3), ("1/4", "9/10", -3, 6), ("1/3", "0", 2, 4)])
def test_momentum_elimination_against_both_simulated_forms(lr, mom, x0, n):
    a = _answers(f"preset: momentum_elimination\nlr: {lr}\nmomentum: {mom}\ngradient: 3*x - 1\nx0: {x0}\n"
                 f"steps: {n}\n")
    grad = lambda x: 3 * x - 1     # noqa: E731  (f = 3x²/2 − x)
    want = _heavy_ball(Fraction(lr), Fraction(mom), Fraction(x0), grad, n)
    assert want == _pytorch(Fraction(lr), Fraction(mom), Fraction(x0), grad, n)
    got = a[f"x after {n} steps"]
    assert Fraction(int(got.p), int(got.q)) == want[-1]


def test_momentum_elimination_formula_has_the_index():
    a = _answers("preset: momentum_elimination\n")
    assert str(a["x[t+1]"]).replace(" ", "") in ("mu*(x[t]-x[t-1])-alpha*g[t]+x[t]",
                                                 "-alpha*g[t]+mu*(-x[t-1]+x[t])+x[t]",
                                                 "mu*(-x[t-1]+x[t])-alpha*g[t]+x[t]")


def test_jacobian_product_bound():
    # W = [[3, 0], [4, 0]]: WᵀW = [[25, 0], [0, 0]], ‖W‖₂ = 5; γ = 1/4: γ‖W‖ = 5/4 > 1, bound (5/4)^6
    a = _answers("preset: jacobian_product\nweight: [[3, 0], [4, 0]]\ngamma: 1/4\ndepth: 6\n")
    assert a["norm of W"] == 5 and a["bound"] == Fraction(5, 4) ** 6 and a["vanishing"] is False
    # W = [[1, 1], [0, 1]]: ‖W‖₂ = golden ratio (plain floats: largest singular value by the 2×2 formula)
    a = _answers("preset: jacobian_product\nweight: [[1, 1], [0, 1]]\ngamma: 1/4\ndepth: 10\n")
    tr, det = 1 + 1 + 1, 1.0        # WᵀW = [[1, 1], [1, 2]]: trace 3, det 1
    sigma = math.sqrt((tr + math.sqrt(tr * tr - 4 * det)) / 2)
    assert abs(float(a["norm of W"]) - sigma) < 1e-12
    assert abs(float(a["bound"]) - (sigma / 4) ** 10) < 1e-15 and a["vanishing"] is True
