"""Engine pieces checked against independent computations (sympy.diff, finite differences)."""
from __future__ import annotations

import pytest
import sympy

from examsolve import engine, solve
from examsolve.expr import parse, symbol
from examsolve.renderers.printing import text
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

X, Y = symbol("x"), symbol("y")


@pytest.mark.parametrize("source", [
    "x**3*y + sin(x*y)", "exp(-x)/(1 + exp(-x))", "sqrt(x**2 + y**2)", "log(x*y + 3)",
    "tanh(tanh(x))*y", "x**y", "sigmoid(x*y)", "softplus(x - y)", "(x - y)**2/7 + x/3",
])
def test_derivative_agrees_with_sympy_diff(source):
    e = parse(source, {"x": X, "y": Y})
    for v in (X, Y):
        point = {X: sympy.Rational(3, 2), Y: sympy.Rational(-2, 3)}
        mine = engine.derivative(e, v).xreplace(point)
        theirs = sympy.diff(e, v).xreplace(point)
        assert abs(sympy.N(mine - theirs, 40)) < 1e-30


def _bn_jacobian(m: int):
    xs = ", ".join(str(i * i % 7 + i) for i in range(m))
    spec = parse_spec(f"kind: batchnorm\ngiven: {{x: [{xs}], gamma: 3, beta: 1}}\n"
                      "ask:\n  - jacobian: {of: y, wrt: x}\n", "bn.yaml")
    return solve(spec).answers[0].value


def _bn_closed_form(m: int, i: int, j: int):
    """Batch norm with ε = 0 and γ = 3: ∂y_i/∂x_j = γ/σ · (δ_ij − 1/m − x̂_i x̂_j / m) (textbook formula)."""
    xs = [sympy.Integer(k * k % 7 + k) for k in range(m)]
    mu = sum(xs) / m
    sigma = sympy.sqrt(sum((x - mu) ** 2 for x in xs) / m)
    xhat = [(x - mu) / sigma for x in xs]
    return 3 / sigma * ((1 if i == j else 0) - sympy.Rational(1, m) - xhat[i] * xhat[j] / m)


def test_fast_jacobian_rows_match_the_closed_form():
    m = 7
    J = _bn_jacobian(m)
    for i in range(m):          # rows 1-4 come from the stepped passes, 5-7 from the fast path
        for j in range(m):
            assert sympy.simplify(J.items[i * m + j] - _bn_closed_form(m, i, j)) == 0


def test_large_tensors_are_shown_by_their_corners():
    t = Tensor((20,), tuple(sympy.Integer(i) for i in range(20)))
    assert text(t) == "(0, 1, 2, 3, 4, 5, …, 19)"
    M = Tensor((12, 12), tuple(sympy.Integer(i) for i in range(144)))
    assert text(M).count("…") == 8   # 7 rows with a column gap, plus the row gap and "\\vdots" in latex(M) and "\\ddots" in latex(M)


def test_large_groups_of_backward_steps_are_abridged():
    xs = ", ".join(str(i) for i in range(20))
    spec = parse_spec(f"kind: graph\ngiven: {{x: [{xs}]}}\nequations: {{L: sum(x**2)}}\n"
                      "ask:\n  - grad: {of: L, wrt: x}\n", "g.yaml")
    sol = solve(spec)
    backward = next(s for s in sol.steps if s.title.startswith("Backward"))
    assert len(backward.substeps) == 4 and "all 20 elements" in backward.substeps[3].title
    # dL/dx_i = 2 x_i
    assert backward.substeps[3].value.items == tuple(2 * i for i in range(20))


def _solve(text: str):
    sol = solve(parse_spec(text, "t.yaml"))
    return {a.name: a.value for a in sol.answers}, sol


def test_several_update_steps():
    # L = w², dL/dw = 2w, so w ← w − α·2w = (1 − 2α)w; with α = 1/4 and w0 = 8: 4, 2, 1
    a, sol = _solve("kind: graph\ngiven: {w: 8}\nequations: {L: w**2}\n"
                    "ask:\n  - update: {of: L, params: w, lr: 0.25, steps: 3}\n")
    assert a["w after 3 steps"] == 1
    table = sol.steps[-1].table
    assert [row[-1] for row in table.rows] == [4, 2, 1] and [row[1] for row in table.rows] == [64, 16, 4]


def test_solve_ask():
    # y = a·x + b with x = 2: y = 7 and a = 3 give b = 1
    a, _ = _solve("kind: graph\ngiven: {x: 2, a: 3}\nsymbols: [b]\nequations: {y: a*x + b}\n"
                  "ask:\n  - solve: {equations: ['y = 7'], unknowns: b}\n")
    assert a["b"] == 1


def test_batchnorm_matrix_batch_per_feature():
    # columns (1, 3) and (2, 6): μ = (2, 4), σ² = (1, 4), x̂ = [[-1, -1], [1, 1]]
    # y = γ ⊙ x̂ with γ = (1, 2): [[-1, -2], [1, 2]]; L = Σ y² = m·Σγ² does not depend on x, so ∂L/∂x = 0
    a, _ = _solve("kind: batchnorm\ngiven: {x: [[1, 2], [3, 6]], gamma: [1, 2], beta: 0}\n"
                  "equations: {L: sum(y**2)}\nask:\n  - value: [mu, var, xhat, y, L]\n  - grad: {of: L, wrt: x}\n")
    assert a["mu"].items == (2, 4) and a["var"].items == (1, 4)
    assert a["xhat"].items == (-1, -1, 1, 1) and a["y"].items == (-1, -2, 1, 2)
    assert a["L"] == 10 and a["dL/dx"].items == (0, 0, 0, 0)


def test_relu_convention_changes_the_answer_and_is_named():
    spec = "kind: graph\ngiven: {x: 0}\nequations: {y: relu(x)}\nask:\n  - grad: {of: y, wrt: x}\n"
    a0, sol0 = _solve(spec)
    a1, _ = _solve(spec + "conventions: {relu_grad_at_zero: 1}\n")
    assert a0["dy/dx"] == 0 and a1["dy/dx"] == 1
    assert "relu_grad_at_zero" in sol0.steps[1].substeps[0].note


def test_values_past_the_budget_become_floats():
    a, _ = _solve("kind: graph\ngiven: {x: 0.5}\nequations: {y: tanh(tanh(tanh(tanh(tanh(x)))))}\n"
                  "ask:\n  - value: [y]\n")
    assert a["y"].is_Float
    # independent: math.tanh five times
    import math
    v = 0.5
    for _ in range(5):
        v = math.tanh(v)
    assert abs(float(a["y"]) - v) < 1e-15


def test_transcendental_critical_points_are_a_solve_error():
    from examsolve.errors import SolveError
    with pytest.raises(SolveError) as e:
        _solve("kind: graph\nsymbols: [x]\nequations: {f: cos(x) + x**2/10}\n"
               "ask:\n  - critical_points: {of: f, wrt: x}\n")
    assert "closed-form" in str(e.value) and str(e.value).startswith("t.yaml:")


def test_symbolic_asks_have_a_time_limit(monkeypatch):
    import time as _time
    from examsolve import ask_critical
    from examsolve.errors import SolveError
    monkeypatch.setattr(engine, "SOLVE_SECONDS", 1)
    monkeypatch.setattr(ask_critical, "solve_equations", lambda *a: _time.sleep(5))
    start = _time.perf_counter()
    with pytest.raises(SolveError) as e:
        _solve("kind: graph\nsymbols: [x]\nequations: {f: x**2}\nask:\n  - critical_points: {of: f, wrt: x}\n")
    assert "did not finish within 1 s" in str(e.value) and _time.perf_counter() - start < 3


def test_hessian_at_a_kink_uses_the_convention():
    # a = 5·relu(x − 1) at x = 1: relu'(0) = 0 by convention, so ∇a = 0 and H = 0 → degenerate
    a, sol = _solve("kind: graph\ngiven: {x: 2}\nequations: {a: 5*relu(x - 1)}\n"
                    "ask:\n  - hessian: {of: a, wrt: [x], points: [{x: 1}]}\n")
    assert a["a at (1)"].kind == "degenerate"
    assert "relu_grad_at_zero" in sol.steps[-1].note


def test_jacobians_past_the_exact_budget_are_30_digit_floats():
    # 70 x 70 = 4900 entries > 4096: floats; checked against the closed form of test above
    m = 70
    J = _bn_jacobian(m)
    for i, j in [(0, 0), (0, 5), (3, 3), (10, 2), (69, 69), (40, 7)]:
        got = J.items[i * m + j]
        assert got.is_Float and abs(got - sympy.N(_bn_closed_form(m, i, j), 40)) < 1e-25
