"""Quantities: every value a solution computes is addressable by name, by keys and by `run --answers all`."""
from __future__ import annotations

import json

import pytest
import sympy
from click.testing import CliRunner

from conftest import PROBLEMS, ROOT

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.errors import SpecError
from examsolve.quantity import lookup
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor


def _steps(steps):
    for s in steps:
        yield s
        yield from _steps(s.substeps)


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_every_computed_step_value_is_a_quantity(path):
    sol = solve(load_spec(str(path)))
    values = list(sol.quantities.values())
    for a in sol.answers:
        # an answer added by a key on a row or an entry (grad_log_pi[1]) is looked up anew: equal, not the same object
        found = lookup(sol.quantities, a.name)
        assert found is a.value or a.name in sol.quantities or found == a.value
    elements = {x for v in values if isinstance(v, Tensor) for x in v.items}
    for s in _steps(sol.steps):
        if s.value is not None and not isinstance(s.value, str):
            # a computed value has a name: its target's, or one of the step's own quantity names
            assert any(v is s.value or v == s.value for v in values), (path.name, s.title)
            assert s.target is not None or s.quantities, (path.name, s.title)
        for name, _ in s.quantities:
            assert name in sol.quantities
        if s.table is not None:
            # every number a table shows that is not a plain label (an int: epoch, layer, input) is a quantity
            for row in s.table.rows:
                for cell in row:
                    if isinstance(cell, sympy.Basic) and cell.is_number and not isinstance(cell, sympy.Integer):
                        assert cell in elements or any(cell == v for v in values), (path.name, s.title, cell)


def _spec(text: str, file: str = "q.yaml"):
    return parse_spec(text, file)


SIN_NET = (ROOT / "problems" / "sin_net.yaml").read_text(encoding="utf-8")


def test_a_key_may_name_a_step_value_and_one_element():
    # from README's sin_net derivation: ∂L/∂u = −4 (a step, not an answer), ∂L/∂w = (−8, −4)
    text = SIN_NET.split("\nkey:")[0] + "\nkey:\n  dL/du: -4\n  dL/dw[0]: -8\n  dL/dw[1]: -5\n"
    sol = solve(_spec(text))
    marks = {a.name: a.agrees for a in sol.answers}
    assert marks["dL/du"] is True and marks["dL/dw[0]"] is True and marks["dL/dw[1]"] is False


def test_a_key_naming_nothing_is_a_located_error():
    text = SIN_NET.split("\nkey:")[0] + "\nkey:\n  dL/dq: 1\n"
    with pytest.raises(SpecError) as e:
        solve(_spec(text))
    assert "names no quantity" in str(e.value) and "--answers all" in str(e.value)


def test_network_layers_are_quantities():
    # conv 3→8 channels, 3×3 kernel, 32×32 input, no padding: 8·3·3·3 = 216 weights + 8 biases = 224;
    # output 8 × 30 × 30 since 32 − 3 + 1 = 30; one output value sees a 3 × 3 patch
    sol = solve(load_spec(str(ROOT / "problems" / "conv_shape.yaml")))
    q = sol.quantities
    assert q["layers.0.parameters"] == 224 and q["layers.0.bias"] == 8
    assert isinstance(q["layers.0.output_shape"], Tensor) and list(q["layers.0.output_shape"].items) == [8, 30, 30]
    assert q["layers.0.receptive_field"] == 3


def test_run_answers_all_and_json_quantities():
    r = CliRunner().invoke(main, ["run", str(ROOT / "problems" / "conv_shape.yaml"), "--format", "json",
                                  "--answers", "all"])
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    names = [a["name"] for a in d["answers"]]
    assert "layers.0.parameters" in names
    shape = next(q for q in d["quantities"] if q["name"] == "layers.0.output_shape")
    assert shape["value"] == [8, 30, 30]


def test_optimizer_iterates_gradients_and_states_are_quantities():
    # Adam on L = w1² + 3·w2² from (1, −2), lr 0.1, β = (0.9, 0.999), ε = 1e-8, by hand:
    # step 1: g = (2·1, 6·(−2)) = (2, −12); m = 0.1·g = (1/5, −6/5); m̂ = g, v̂ = g²,
    # w1 = 1 − 0.1·2/(2 + 1e-8) = 1.80000001/2.00000001 = 180000001/200000001
    import sympy

    sol = solve(load_spec(str(ROOT / "problems" / "adam_two_steps.yaml")))
    q = sol.quantities
    assert q["iterates.w1[0]"] == 1 and q["iterates.w2[0]"] == -2
    assert q["grad.w1[1]"] == 2 and q["grad.w2[1]"] == -12
    assert q["m.w2[1]"] == sympy.Rational(-6, 5)
    assert q["iterates.w1[1]"] == sympy.Rational(180000001, 200000001)
    assert "iterates.w2[2]" in q and "loss[2]" in q


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_json_of_every_example_meets_the_published_output_schema(path):
    import jsonschema

    from examsolve.output_schema import schema

    r = CliRunner().invoke(main, ["run", str(path), "--format", "json", "--answers", "all"])
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    jsonschema.validate(d, schema())
    # the per-layer shapes of network examples are integer arrays, not text
    for q in d["quantities"]:
        if q["name"].endswith(".output_shape"):
            assert q["type"] == "tensor" and all(isinstance(x, int) for x in q["value"])


def test_schema_output_command_prints_the_schema():
    r = CliRunner().invoke(main, ["schema", "--output"])
    assert r.exit_code == 0 and json.loads(r.stdout)["title"] == "examsolve run --format json"


def test_answers_that_would_look_alike_are_shown_by_their_names():
    # y = x³: dy/dx = 3x², 12 at x = 2 and 3 at x = 1; both labels would read ∂y/∂x
    text = ("kind: graph\ngiven: {x: 2}\nequations:\n  y: x**3\nask:\n"
            "  - grad: {of: y, wrt: x, name: slope at 2}\n  - grad: {of: y, wrt: x, at: {x: 1}, name: slope at 1}\n")
    sol = solve(_spec(text))
    assert [(a.name, a.label, a.value) for a in sol.answers] == [("slope at 2", None, 12), ("slope at 1", None, 3)]


def test_an_element_of_a_per_step_vector():
    from examsolve.quantity import lookup

    v = Tensor((2,), (5, 7))
    table = {"gates.z[1]": v, "W": Tensor((2, 2), (1, 2, 3, 4))}
    assert lookup(table, "gates.z[1][0]") == 5 and lookup(table, "gates.z[1]") is v
    assert lookup(table, "W[1][0]") == 3
    with pytest.raises(KeyError):
        lookup(table, "W[2][0]")
