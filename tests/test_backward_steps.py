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


def test_each_part_of_a_joint_gradient_keeps_its_name(tmp_path):
    """grad wrt [w, b] answers ∇L; a key may still name dL/dw and dL/db. By hand: z = 1/2 − 1 + 1/2 = 0,
    a = σ(0) = 1/2, ∂L/∂z = (a − t)·a(1 − a) = −1/8, so ∂L/∂w = −1/8·x = (−1/8, −1/4), ∂L/∂b = −1/8."""
    sol = solve_text(tmp_path, """kind: graph
given: {x: [1, 2], w: [0.5, -0.5], b: 0.5, t: 1}
equations:
  z: w @ x + b
  a: sigmoid(z)
  L: (a - t)**2 / 2
ask:
  - grad: {of: L, wrt: [w, b]}
key:
  dL/dw: [-0.125, -0.25]
  dL/db: 0.125
""")
    assert answer(sol, "dL/dw").agrees is True
    assert answer(sol, "dL/db").agrees is False        # the sign slip is flagged
