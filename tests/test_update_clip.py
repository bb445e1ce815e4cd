"""Gradient clipping by norm in the graph family's update ask (clip_norm: c)."""
from __future__ import annotations

import pytest
import sympy
from conftest import answer, solve_text

from examsolve.errors import SpecError

SPEC = """kind: graph
given: {w: [1, 2], x: [1, 1]}
equations:
  r: w @ x
  L: r**2
ask:
  - update: {of: L, params: [w], lr: 1/10, CLIP}
"""


def test_a_gradient_over_the_norm_is_scaled_down(tmp_path):
    # r = 3, g = 2r·x = (6, 6), ‖g‖ = 6√2 > 1: s = 1/(6√2) = √2/12, g̃ = (√2/2, √2/2), w¹ = w − g̃/10
    sol = solve_text(tmp_path, SPEC.replace("CLIP", "clip_norm: 1"))
    w1 = answer(sol, "w after 1 step").value.items
    half = sympy.sqrt(2) / 2
    assert [sympy.simplify(a - b) for a, b in zip(w1, (1 - half / 10, 2 - half / 10))] == [0, 0]
    assert sympy.simplify(sol.quantities["grad_norm[1]"] - 6 * sympy.sqrt(2)) == 0
    assert sympy.simplify(sol.quantities["clip_factor[1]"] - sympy.sqrt(2) / 12) == 0


def test_a_gradient_within_the_norm_is_kept(tmp_path):
    # ‖g‖ = 6√2 ≈ 8.49 ≤ 100: factor 1, the plain step w − g/10 = (1 − 0.6, 2 − 0.6)
    sol = solve_text(tmp_path, SPEC.replace("CLIP", "clip_norm: 100"))
    assert answer(sol, "w after 1 step").value.items == (sympy.Rational(2, 5), sympy.Rational(7, 5))
    assert sol.quantities["clip_factor[1]"] == 1


def test_clipping_with_momentum_and_two_steps(tmp_path):
    # step 1: g = (6, 6), g̃ = g·(3/(6√2)) = (3/√2)(1, 1), v = g̃, w¹ = w − v/10
    # step 2: r¹ = 3 − 2·(3/√2)/10 = 3 − 3√2/10, g = 2r¹(1, 1), ‖g‖ = 2√2·r¹ ≈ 7.28 > 3: g̃ = (3/√2)(1, 1) again,
    # v² = μv¹ + g̃ = (1/2 + 1)(3/√2)(1, 1), w² = w¹ − v²/10
    sol = solve_text(tmp_path, SPEC.replace("CLIP", "clip_norm: 3, momentum: 1/2, steps: 2"))
    g = 3 / sympy.sqrt(2)
    w2 = answer(sol, "w after 2 steps").value.items
    want = (1 - g / 10 - sympy.Rational(3, 2) * g / 10, 2 - g / 10 - sympy.Rational(3, 2) * g / 10)
    assert [sympy.simplify(a - b) for a, b in zip(w2, want)] == [0, 0]


@pytest.mark.parametrize("c", ["0", "-1", "a"])
def test_a_clip_norm_that_is_no_positive_number_is_refused_at_its_key(tmp_path, c):
    with pytest.raises(SpecError) as err:
        solve_text(tmp_path, SPEC.replace("CLIP", f"clip_norm: {c}"))
    assert "clip_norm" in str(err.value) and err.value.loc is not None and err.value.loc.line == 7
