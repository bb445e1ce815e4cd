"""A second grad: ask of the same output does not repeat the backward steps the first one showed."""
from __future__ import annotations

import mpmath
import sympy

from conftest import answer, solve_text

TWO_ASKS = """kind: graph
given: {x: 2, w: 3, b: 1, t: 5}
equations:
  z: w*x + b
  y: tanh(z)
  L: (y - t)**2
ask:
  - grad: {of: L, wrt: w}
  - grad: {of: L, wrt: b}
"""


def titles(step) -> list[str]:
    return [s.title for s in step.substeps]


def test_second_pass_refers_to_the_first(tmp_path):
    sol = solve_text(tmp_path, TWO_ASKS)
    first, second = [s for s in sol.steps if s.title.startswith("Backward pass")]
    assert "Backward: ∂L/∂y" in titles(first) and "Backward: ∂L/∂z" in titles(first)
    assert titles(second) == ["Backward: ∂L/∂y, ∂L/∂z as in the backward pass above", "Backward: ∂L/∂b"]
    # by hand: ∂L/∂b = 2(tanh 7 − 5)(1 − tanh² 7), and ∂L/∂w is x = 2 times that
    mp = mpmath.mp.clone()
    mp.dps = 40
    want = 2 * (mp.tanh(7) - 5) * (1 - mp.tanh(7) ** 2)
    for name, factor in (("dL/db", 1), ("dL/dw", 2)):
        got = mp.mpf(str(sympy.N(answer(sol, name).value, 35)))
        assert abs(got - factor * want) < mp.mpf(10) ** -30


def test_at_other_values_shows_every_step(tmp_path):
    """At other values (at:) the numbers differ, so the second pass is shown in full."""
    sol = solve_text(tmp_path, TWO_ASKS.replace("wrt: b}", "wrt: b, at: {x: 1}}"))
    second = [s for s in sol.steps if s.title.startswith("Backward pass")][1]
    assert "Backward: ∂L/∂y" in titles(second)
