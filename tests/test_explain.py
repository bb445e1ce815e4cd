"""A disagreeing key says which wrong path gives it: another convention, a known mistake, another value."""
from __future__ import annotations

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.spec import parse_spec


def _answers(text: str) -> dict:
    return {a.name: a for a in solve(parse_spec(text, "t.yaml")).answers}


RELU = """kind: graph
given: {x: 0, w: 3}
equations: {a: relu(x), L: w*a}
ask:
  - grad: {of: L, wrt: [x]}
key:
  dL/dx: KEY
"""


def test_a_key_from_another_convention_is_named():
    # L = 3·relu(x) at x = 0: relu'(0) = 0 here gives 0; the key 3 is 3·relu'(0) with relu'(0) = 1
    a = _answers(RELU.replace("KEY", "3"))["dL/dx"]
    assert a.agrees is False and "relu_grad_at_zero = 1" in a.key_note


def test_a_key_that_is_another_value_of_the_solution_is_named():
    # Xavier/Glorot σ = √(2/(100 + 50)) = √3/15 ≈ 0.115; the key 0.1 is the fan_in-only σ = 1/√100
    a = {x.name: x for x in solve(load_spec(str(ROOT / "problems/xavier.yaml"))).answers}["sigma (xavier)"]
    assert a.agrees is False and a.key_note == "the key is the value of sigma (xavier_fan_in), not of sigma (xavier)"


def test_a_key_from_a_known_mistake_is_named():
    # sin_net: L = (y − l)² = 4 at y = 0, l = 2; with the ½ convention (the spec's mistakes:) L = 2
    text = (ROOT / "problems/sin_net.yaml").read_text(encoding="utf-8") + "\nkey:\n  L: 2\n"
    a = _answers(text)["L"]
    assert a.agrees is False and a.key_note.startswith("the ½ convention")


def test_a_key_no_path_explains_is_only_flagged():
    # 7 is no convention, mistake, slip or other value of L = 3·relu(x) at 0
    a = _answers(RELU.replace("KEY", "7"))["dL/dx"]
    assert a.agrees is False and a.key_note == ""


OPS = """kind: network
input: [3, 32, 32]
layers:
  - {type: conv, filters: 8, kernel: 3}
key:
  operations (macs): KEY
"""


def test_a_key_under_another_family_convention_is_named():
    # 8 filters · 30·30 positions · 27 weights = 194,400 MACs; the key 388,800 counts 2 FLOPs per MAC
    a = _answers(OPS.replace("KEY", "388800"))["operations (macs)"]
    assert a.agrees is False
    assert a.key_note == "matches the answer under the convention ops = flops_2x; this problem uses macs"


def test_grading_names_the_convention_a_student_used(tmp_path):
    from examsolve.grading import grade_file

    f = tmp_path / "q.yaml"
    f.write_text(OPS.replace("key:\n  operations (macs): KEY\n", ""), encoding="utf-8")
    mark = {m.name: m for m in grade_file(str(f), ["operations (macs)=388800"]).marks}["operations (macs)"]
    assert not mark.correct and "ops = flops_2x" in mark.feedback
