"""The engine's speed paths give what the plain paths give: parse-once RNN steps, derivative templates,
given tensors outside the node limit, streamed JSON (no timings here; bench/run.py times them)."""
from __future__ import annotations

import json

import mpmath
import pytest
import sympy

from conftest import ROOT

import numeric
from examsolve import engine, graph as graph_module, render, solve
from examsolve.errors import SpecError
from examsolve.expr import symbol
from examsolve.families import rnn
from examsolve.functions import sigmoid
from examsolve.renderers import json as json_renderer
from examsolve.spec import parse_spec

RNN_EXAMPLES = sorted(p.name for p in (ROOT / "problems").glob("*.yaml")
                      if "kind: rnn" in p.read_text(encoding="utf-8"))

CELLS = ["tanh(V*h + W*x)", "tanh(x - h)", "tanh(h - x)", "cos(h - x)", "sigmoid(-h + x)", "tanh(-V*h + W*x)",
         "sinh(V*h - W*x) / 4", "tanh(V*h + W*x + h_0)", "relu(V*h - x)", "atan(h*x - x)"]


def scalar_rnn(cell: str, T: int = 4) -> str:
    return (f"kind: rnn\ngiven: {{V: 1/2, W: -1/4}}\nsequences: {{x: {[1, -1, 2, 0, 3][:T]}}}\ninitial: 1/10\n"
            f"cell: {cell}\noutputs: {{y: h - x}}\nloss: {{each: y**2, steps: all}}\n"
            "ask:\n  - grad: {of: L, wrt: [V, W]}\n")


def per_step(monkeypatch) -> None:
    """Parse every step's formula again, as before the templates."""
    monkeypatch.setattr(rnn.StepTemplates, "build", lambda self, text, path, varying: self._parse(text, path, varying))


def solved(text: str):
    return solve(parse_spec(text, "r.yaml"))


def same_graph(a, b) -> None:
    assert list(a.graph.nodes) == list(b.graph.nodes)
    for s, n in a.graph.nodes.items():
        m = b.graph.nodes[s]
        assert (n.expr, n.display, n.value, n.parents) == (m.expr, m.display, m.value, m.parents), s


@pytest.mark.parametrize("name", RNN_EXAMPLES)
def test_parse_once_equals_per_step_on_examples(name, monkeypatch):
    text = (ROOT / "problems" / name).read_text(encoding="utf-8")
    fast = solved(text)
    per_step(monkeypatch)
    slow = solved(text)
    same_graph(fast, slow)
    assert render(fast, "terminal") == render(slow, "terminal")
    assert render(fast, "json") == render(slow, "json")


@pytest.mark.parametrize("cell", CELLS)
def test_parse_once_equals_per_step_on_cells(cell, monkeypatch):
    fast = solved(scalar_rnn(cell))
    per_step(monkeypatch)
    slow = solved(scalar_rnn(cell))
    same_graph(fast, slow)
    assert render(fast, "terminal") == render(slow, "terminal")


def test_a_cell_naming_a_step_element_is_parsed_per_step():
    calls = []
    orig = rnn.StepTemplates._template

    def spy(self, *args):
        calls.append(orig(self, *args))
        return calls[-1]
    try:
        rnn.StepTemplates._template = spy
        solved(scalar_rnn("tanh(V*h + W*x + h_0)"))
    finally:
        rnn.StepTemplates._template = orig
    assert calls[0] is False       # h_0 is the state at step 1: the template would not hold there


@pytest.mark.parametrize("f", [sympy.tanh, sympy.exp, sigmoid, sympy.sin])
def test_derivative_template_equals_fdiff(f):
    a, b = symbol("a"), symbol("b")
    for arg in (a, a + b, a * b - 2, b - a):
        e = f(arg)
        if isinstance(e, sympy.Function):
            assert engine._outer(e, 1) == e.fdiff(1)


def test_given_tensors_do_not_count_towards_the_limit(monkeypatch):
    monkeypatch.setattr(graph_module, "MAX_NODES", 20)
    given = [[i + j for j in range(10)] for i in range(10)]           # 100 given numbers: data
    ok = f"kind: graph\ngiven:\n  D: {given}\n  w: 2\nequations:\n  y: w*D[0, 1]\nask:\n  - grad: {{of: y, wrt: w}}\n"
    assert solved(ok).answers[0].value == 1
    many = ok.replace("  y: w*D[0, 1]\n", "  z: w*D\n  y: z[0, 0]\n")      # 100 computed nodes: refused
    with pytest.raises(SpecError, match="more than 20 computed scalar nodes"):
        solved(many)


def test_a_given_matrix_past_the_old_node_limit_solves_with_correct_gradients():
    n = 230                                                       # 52,900 given numbers > 50,000
    W = [[(i * 7 + j * 3) % 11 - 5 for j in range(n)] for i in range(n)]     # integers: the spec stays < 256 KiB
    text = (f"kind: graph\ngiven:\n  W: {W}\n  x: [1/2, -1/3]\n  w: 3/4\n  b: -1/5\nequations:\n"
            "  s: tanh(w*W[0, 0] + W[1, 2]*x[0] + b*x[1])\n  L: s**2 + W[229, 229]*w\n"
            "ask:\n  - grad: {of: L, wrt: [w, b, x]}\n")
    sol = solved(text)
    got = [float(v) for a in sol.answers for v in (a.value.items if hasattr(a.value, "items") else (a.value,))]
    w, b, x1, x2 = (sympy.Symbol(k) for k in ("w", "b", "x1", "x2"))
    L = sympy.tanh(w * W[0][0] + W[1][2] * x1 + b * x2) ** 2 + W[-1][-1] * w
    point = {w: mpmath.mpf(3) / 4, b: -mpmath.mpf(1) / 5, x1: mpmath.mpf(1) / 2, x2: -mpmath.mpf(1) / 3}
    for value, var in zip(got, (w, b, x1, x2)):
        assert numeric.close(value, numeric.partials(L, point, var)[0], "1e-12")


def test_streamed_json_is_json_dumps_of_the_tree():
    for name in ("sin_net.yaml", "rnn_vector_tanh.yaml", "mlp_2_2_1.yaml", "bn_jacobian.yaml"):
        sol = solve(parse_spec((ROOT / "problems" / name).read_text(encoding="utf-8"), name))
        tree = json.dumps(json_renderer.as_dict(sol), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        assert json_renderer.render([sol]) == tree
    two = [solve(parse_spec((ROOT / "problems" / n).read_text(encoding="utf-8"), n))
           for n in ("sin_net.yaml", "rnn_step_back.yaml")]
    both = json.dumps([json_renderer.as_dict(s) for s in two], indent=2, ensure_ascii=False, allow_nan=False)
    assert json_renderer.render(two) == both + "\n"
