"""Questions with many right answers: another weight vector and bias, or another kernel, agrees when it does what
the question asks (key checks and grading); otherwise the message names the first row or output it gets wrong."""
from __future__ import annotations

import json

import sympy
from click.testing import CliRunner

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.families.perceptron import realises
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

AND_NOT = str(ROOT / "problems" / "perceptron_weights.yaml")
KERNEL = str(ROOT / "problems" / "conv_unknown_kernel.yaml")
TABLE = [[0, 0], [0, 1], [1, 0], [1, 1]]
X = [[sympy.Integer(v) for v in row] for row in TABLE]

# x1 AND NOT x2 as one threshold unit (fires when w·x + b > 0); examsolve finds w = (1, −1), b = 0.
WEIGHTS_SPEC = """kind: perceptron
title: x1 AND NOT x2
find_weights: true
inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]
targets: [0, 0, 1, 0]
key:
"""

# a 3-entry kernel from 2 outputs: c0 = w1 + 2·w2 + 3·w3 = 6, c1 = 2·w1 + 3·w2 + 4·w3 = 9; subtracting,
# w1 + w2 + w3 = 3, so w1 = w3 = s, w2 = 3 − 2s: a line of kernels, (1, 1, 1) and (−1, 5, −1) among them.
KERNEL_SPEC = """kind: conv
title: a kernel of 3 from 2 outputs
given:
  x: [1, 2, 3, 4]
  w: [0, 0, 0]
conv: {input: x, kernel: w, name: c}
ask:
  - solve: {equations: ["c[0] = 6", "c[1] = 9"], unknowns: w}
"""


def vec(*xs):
    return Tensor((len(xs),), tuple(sympy.Symbol(x) if x == "a" else sympy.Rational(x) for x in xs))


def keyed(text):
    return {a.name: a for a in solve(parse_spec(text, "t.yaml")).answers}


def marks(path, *answers):
    args = ["grade", path, "--format", "json"]
    for a in answers:
        args += ["--answer", a]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return {m["name"]: m for m in json.loads(r.output)["answers"]}


def test_realises_accepts_another_solution_and_names_the_first_wrong_row():
    T = [0, 0, 1, 0]
    # (2, −2), b = −1: nets −1, −3, 1, −1 → outputs 0, 0, 1, 0 = the table
    ok, why = realises(X, T, False, vec(2, -2), sympy.Integer(-1))
    assert ok and "realises the truth table" in why
    # (2, −1), b = 0: nets 0, −1, 2, 1 → the last row fires, the table says 0
    ok, why = realises(X, T, False, vec(2, -1), sympy.Integer(0))
    assert not ok and why == "gives 1 for input (1, 1), the table says 0"
    # (1, 1), b = 0: (0, 0) gives net 0 → 0 (right), (0, 1) gives net 1 → 1, the table says 0
    assert realises(X, T, False, vec(1, 1), sympy.Integer(0)) == (
        False, "gives 1 for input (0, 1), the table says 0")
    # decimals are exact rationals: (0.5, −0.5), b = −0.25 gives −0.25, −0.75, 0.25, −0.25 → 0, 0, 1, 0
    assert realises(X, T, False, vec("1/2", "-1/2"), sympy.Rational(-1, 4))[0]
    assert not realises(X, T, False, vec(1, -1, 0), sympy.Integer(0))[0]          # three weights for two inputs
    assert not realises(X, T, False, vec(1, "a"), sympy.Integer(0))[0]            # not a number


def test_realises_with_sign_outputs():
    # ±1 targets, sign(0) = −1, AND of ±1 inputs, w = (1, 1): b = −1 gives nets −3, −1, −1, 1 → −1, −1, −1, 1;
    # b = 0 gives −2, 0, 0, 2 → −1, −1, −1, 1 (sign(0) = −1); b = 2 gives 0, 2, ... → 1 at (−1, 1), the table −1
    Xpm = [[sympy.Integer(v) for v in r] for r in ([-1, -1], [-1, 1], [1, -1], [1, 1])]
    T = [-1, -1, -1, 1]
    assert realises(Xpm, T, True, vec(1, 1), sympy.Integer(-1))[0]
    assert realises(Xpm, T, True, vec(1, 1), sympy.Integer(0))[0]
    assert realises(Xpm, T, True, vec(1, 1), sympy.Integer(2)) == (
        False, "gives 1 for input (-1, 1), the table says -1")


def test_a_key_with_another_valid_pair_agrees():
    a = keyed(WEIGHTS_SPEC + "  weights: [3, -3]\n  bias: -2\n")
    # (3, −3), b = −2: nets −2, −5, 1, −2 → 0, 0, 1, 0; neither half equals examsolve's (1, −1), 0
    assert a["weights"].agrees and a["bias"].agrees
    assert "realises the truth table" in a["bias"].key_note


def test_a_key_with_an_invalid_pair_disagrees_with_the_row():
    a = keyed(WEIGHTS_SPEC + "  weights: [2, -1]\n  bias: 0\n")
    # bias 0 equals examsolve's; the weights (2, −1) with it fire on (1, 1) (net 1) where the table says 0
    assert a["bias"].agrees
    assert a["weights"].agrees is False and "gives 1 for input (1, 1), the table says 0" in a["weights"].key_note


def test_grade_accepts_another_valid_pair_and_pairs_the_student_answers():
    m = marks(AND_NOT, "weights=[3, -3]", "bias=-2")
    assert m["weights"]["correct"] and m["bias"]["correct"]
    assert "realises the truth table" in m["bias"]["feedback"]
    # bias −2 alone, with examsolve's (1, −1): nets −2, −3, −1, −2 never fire, so (1, 0) is wrong; the student's
    # own weights (1, −1) + bias −2 are graded as a pair
    m = marks(AND_NOT, "weights=[1, -1]", "bias=-2")
    assert m["weights"]["correct"] and not m["bias"]["correct"]
    assert "gives 0 for input (1, 0), the table says 1" in m["bias"]["feedback"]


def test_grade_refuses_weights_that_break_a_row():
    m = marks(AND_NOT, "weights=[2, -1]", "bias=0")
    assert not m["weights"]["correct"] and m["weights"]["points"] == 0
    assert "gives 1 for input (1, 1), the table says 0" in m["weights"]["feedback"]


def test_the_unique_kernel_and_a_wrong_one():
    # problems/conv_unknown_kernel.yaml: x = (1, 2, 3), c = (5, 8) → w = (1, 2) only
    sol = solve(load_spec(KERNEL))
    a = {x.name: x for x in sol.answers}
    assert a["w"].value == vec(1, 2) and a["w"].agrees
    # (2, 1): c0 = 1·2 + 2·1 = 4, not 5
    m = marks(KERNEL, "w=[2, 1]")["w"]
    assert not m["correct"] and "gives c[0] = 4, the question says 5" in m["feedback"]


def test_another_kernel_that_reproduces_the_outputs_agrees():
    # (−1, 5, −1): c0 = −1 + 10 − 3 = 6, c1 = −2 + 15 − 4 = 9
    a = keyed(KERNEL_SPEC + "key:\n  w: [-1, 5, -1]\n")
    assert a["w"].agrees and "reproduces the given outputs" in a["w"].key_note
    # (1, 2, 1): c0 = 1 + 4 + 3 = 8, not 6
    a = keyed(KERNEL_SPEC + "key:\n  w: [1, 2, 1]\n")
    assert a["w"].agrees is False and "gives c[0] = 8, the question says 6" in a["w"].key_note
    # entry by entry, checked with the key's other entries: (2, −1, 2) gives 2 − 2 + 6 = 6, 4 − 3 + 8 = 9
    a = keyed(KERNEL_SPEC + "key:\n  w_1: 2\n  w_2: -1\n  w_3: 2\n")
    assert a["w_1"].agrees and a["w_2"].agrees and a["w_3"].agrees


def test_grade_accepts_another_kernel(tmp_path):
    path = tmp_path / "kernel3.yaml"
    path.write_text(KERNEL_SPEC, encoding="utf-8")
    m = marks(str(path), "w=[0, 3, 0]", "w_1=-1", "w_2=5", "w_3=-1")
    # (0, 3, 0): c = (6, 9); the entries (−1, 5, −1) together: c = (6, 9) as above
    assert all(m[n]["correct"] for n in ("w", "w_1", "w_2", "w_3"))
    # (2, 2, 0): c0 = 2 + 4 = 6, c1 = 4 + 6 = 10, not 9
    m = marks(str(path), "w=[2, 2, 0]")["w"]
    assert not m["correct"] and "gives c[1] = 10, the question says 9" in m["feedback"]
