"""A degenerate critical point decided by a bound on f: a global minimum (maximum) where f − f(p) ≥ 0 (≤ 0)
everywhere by its form, which the second-order test leaves open."""
from __future__ import annotations

import pytest
from conftest import answer, solve_text

SADDLE_LINE = """kind: graph
symbols: [w1, w2]
equations: {L: (1 - w1*w2)**2}
ask:
  - hessian: {of: L, wrt: [w1, w2], points: [{w1: 1, w2: 1}]}
  - critical_points: {of: L, wrt: [w1, w2]}
key: KEY
"""


@pytest.mark.parametrize("key, agrees", [("local minimum", True), ("global minimum", True), ("degenerate", True),
                                         ("saddle", False), ("local maximum", False)])
def test_a_zero_eigenvalue_on_a_line_of_zeros_is_a_global_minimum(tmp_path, key, agrees):
    # L = (1 − w1·w2)² ≥ 0 and L(1, 1) = 0; H(1, 1) = [[2, 2], [2, 2]] has eigenvalues 0 and 4 (inconclusive)
    sol = solve_text(tmp_path, SADDLE_LINE.replace("KEY", f'{{"L at (1, 1)": "{key}"}}'))
    a = answer(sol, "L at (1, 1)")
    assert a.value.kind == "global_minimum"
    assert a.agrees is agrees


def test_the_line_of_critical_points_is_classified_by_the_bound(tmp_path):
    # ∇L = 0 at (0, 0) (a saddle: H = [[0, −2], [−2, 0]]) and on w1·w2 = 1, where L = 0 = min L
    sol = solve_text(tmp_path, SADDLE_LINE.replace("KEY", "{}"))
    kinds = {p.point: p.classification.kind for p in answer(sol, "critical points of L").value.items}
    assert set(kinds.values()) == {"saddle", "global_minimum"}


@pytest.mark.parametrize("f, kind", [
    ("w**3", "degenerate"),            # takes both signs near 0: no bound decides it
    ("-w**4", "global_maximum"),       # −w⁴ ≤ 0 = f(0)
    ("w**4 + 3", "global_minimum"),    # w⁴ + 3 ≥ 3 = f(0)
])
def test_other_degenerate_points(tmp_path, f, kind):
    sol = solve_text(tmp_path, f"kind: graph\nsymbols: [w]\nequations: {{f: {f}}}\n"
                               "ask:\n  - hessian: {of: f, wrt: [w], points: [{w: 0}]}\n")
    assert answer(sol, "f at (0)").value.kind == kind


def test_a_strict_minimum_key_is_wrong_on_a_line_of_minima(tmp_path):
    # (1, 1) lies on the line w1·w2 = 1 of minima: every neighbourhood holds other points with L = 0, so not strict
    sol = solve_text(tmp_path, SADDLE_LINE.replace("KEY", '{"L at (1, 1)": "strict local minimum"}'))
    assert answer(sol, "L at (1, 1)").agrees is False


@pytest.mark.parametrize("f, point, key", [
    ("x**2 + y**2", "{x: 0, y: 0}", "global minimum"),          # H = 2I > 0 and f ≥ 0 = f(0, 0)
    ("x**2 + y**2", "{x: 0, y: 0}", "strict local minimum"),    # definite H: strict
    ("x**2 + 2*x*y + y**2", "{x: 1, y: -1}", "global minimum"),  # (x + y)² ≥ 0 = f(1, −1), found once factored
])
def test_global_minimum_keys_agree(tmp_path, f, point, key):
    sol = solve_text(tmp_path, f"kind: graph\nsymbols: [x, y]\nequations: {{f: {f}}}\n"
                               f"ask:\n  - hessian: {{of: f, wrt: [x, y], points: [{point}]}}\n"
                               f"key: {{\"f at ({point[4:-1].replace(', y: ', ', ')})\": {key}}}\n")
    a = next(a for a in sol.answers if a.name.startswith("f at ("))
    assert a.value.kind == "global_minimum" and a.agrees is True
