"""examsolve grade: tolerances, points, feedback on known wrong paths; run's own answers always get full marks."""
from __future__ import annotations

import json

import pytest
import sympy
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from conftest import PROBLEMS, ROOT

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.grading import grade
from examsolve.values import exact_str

SIN = str(ROOT / "problems" / "sin_net.yaml")


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def marks(*args):
    r = cli("grade", *args, "--format", "json")
    assert r.exit_code == 0, r.output
    return {m["name"]: m for m in json.loads(r.output)["answers"]}


def test_sin_net_done_when():
    # by hand: L = (sin(π + π) − 0 − 2)² = 4, dL/dw = 2(y − l)·cos(u)·x = 2·(−2)·1·(2, 1) = (−8, −4)
    m = marks(SIN, "--answer", "dL/dw=[-8,-4]")["dL/dw"]
    assert m["correct"] and m["points"] == m["max_points"] == 2
    m = marks(SIN, "--answer", "dL/dw=[-4,-2]")["dL/dw"]
    assert not m["correct"] and m["points"] == 0 and "½ convention" in m["feedback"]
    assert "first wrong step" in m["feedback"]
    assert marks(SIN, "--answer", "dL/dw=[-8.001, -4]", "--rel", "1e-3")["dL/dw"]["correct"]
    assert not marks(SIN, "--answer", "dL/dw=[-8.001, -4]", "--exact")["dL/dw"]["correct"]


def test_written_digits_rule():
    # w after the step = (π/2 + 4, π + 2) = (5.5707963…, 5.1415926…)
    assert marks(SIN, "-a", "w after 1 step=[5.571, 5.142]")["w after 1 step"]["correct"]
    assert not marks(SIN, "-a", "w after 1 step=[5.570, 5.142]")["w after 1 step"]["correct"]
    m = marks(SIN, "-a", "w after 1 step=[5.6, 5.1]")["w after 1 step"]
    assert not m["correct"] and "significant figures" in m["feedback"]
    assert marks(SIN, "-a", "w after 1 step=[5.6, 5.1]", "--sig", "2")["w after 1 step"]["correct"]
    assert marks(SIN, "-a", "w after 1 step=[5.6, 5.1]", "--abs", "0.05")["w after 1 step"]["correct"]
    assert marks(SIN, "-a", "w after 1 step=[pi/2 + 4, pi + 2]", "--exact")["w after 1 step"]["correct"]


def test_generic_slips_and_conventions(tmp_path):
    m = marks(SIN, "-a", "dL/dw=[8, 4]")["dL/dw"]
    assert "sign is flipped" in m["feedback"]
    # lrelu.yaml uses relu_grad_at_zero = 1: dy/dx = diag(0.1, 1, 1); with 0 the middle entry is 0.1
    lrelu = str(ROOT / "problems" / "lrelu.yaml")
    m = marks(lrelu, "-a", "dy/dx=[[0.1, 0, 0], [0, 0.1, 0], [0, 0, 1]]")["dy/dx"]
    assert not m["correct"] and "relu_grad_at_zero = 0" in m["feedback"]


def test_points_partial_credit_and_text_report(tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("u: 2*pi\nL: 4\ndL/dw: [-4, -2]\n")
    r = cli("grade", SIN, "--answers", str(answers))
    assert r.exit_code == 0
    assert "score: 2/4 on the 3 answers given; the problem has 6 points" in r.output   # u 1 + L 1 of 1 + 1 + 2
    data = json.loads(cli("grade", SIN, "--answers", str(answers), "--format", "json").output)
    assert data["points"] == 2 and data["max_points"] == 6 and data["max_points_answered"] == 4


def test_bad_input_is_exit_2():
    r = cli("grade", SIN, "--answer", "dL/dv=[1, 2]")
    assert r.exit_code == 2 and "did you mean 'dL/dw'" in r.output
    assert cli("grade", SIN, "--answer", "no equals sign").exit_code == 2
    assert cli("grade", SIN).exit_code == 2                        # nothing to grade
    assert cli("grade", SIN, "-a", "L=4", "--rel", "-1").exit_code == 2
    m = marks(SIN, "-a", "L=4 +* 2")["L"]
    assert not m["correct"] and m["feedback"].startswith("could not read the answer")


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_run_answers_get_full_marks(path):
    spec = load_spec(str(path))
    sol = solve(spec)
    # answers by cases (Piecewise) and recursions in x[t] cannot be written in the spec language yet
    answers = {a.name: (exact_str(a.value) if isinstance(a.value, str) else _as_typed(a.value), exact_str(a.value))
               for a in sol.answers
               if not (isinstance(a.value, sympy.Basic) and a.value.has(sympy.Piecewise, sympy.Indexed))}
    report = grade(spec, sol, answers)
    bad = [(m.name, m.given, m.feedback) for m in report.marks if not m.correct and m.name in answers]
    assert not bad


def _as_typed(v):
    """What a student would type: the exact form, lists for tensors."""
    from examsolve.tensor import Tensor
    if isinstance(v, Tensor):
        return [_as_typed(x) for x in v.nested()] if len(v.shape) > 1 else [exact_str(x) for x in v.items]
    if isinstance(v, list):
        return [_as_typed(x) if isinstance(x, list) else exact_str(x) for x in v]
    return exact_str(v)


@settings(max_examples=30, deadline=None)
@given(digits=st.integers(3, 12))
def test_a_correctly_rounded_decimal_always_passes(digits):
    spec = load_spec(SIN)
    sol = solve(spec)
    from decimal import Decimal, localcontext

    def rounded(x, n):          # the exact value to n significant figures, rounded by Python's decimal
        with localcontext() as ctx:
            ctx.prec = n
            return str(+Decimal(str(sympy.N(x, 60))))

    typed = [rounded(sympy.pi / 2 + 4, digits), rounded(sympy.pi + 2, digits)]
    r = grade(spec, sol, {"w after 1 step": (typed, str(typed))})
    assert r.marks[-1].correct, typed
    # one unit off in the last digit is wrong
    last = Decimal(typed[0]) + Decimal(1).scaleb(Decimal(typed[0]).as_tuple().exponent)
    r = grade(spec, sol, {"w after 1 step": ([str(last), typed[1]], "")})
    assert not r.marks[-1].correct


def test_readme_shows_the_real_grade_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    out = cli("grade", "problems/sin_net.yaml", "--answer", "dL/dw=[-4,-2]").output
    assert out in (ROOT / "README.md").read_text(encoding="utf-8")


@settings(max_examples=60, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.sampled_from(["[1, [2]]", "{a: 1}", "1e999999", "[]", "- 1",
                                                            "x" * 40, "2**10**10", "[[1, 2], [3]]", "null"])))
def test_hostile_answers_never_crash(text):
    from examsolve.grading import _read
    spec = load_spec(SIN)
    sol = solve(spec)
    for name in ("L", "dL/dw"):
        report = grade(spec, sol, {name: (_read(text, "--answer"), text)})
        assert len(report.marks) == len(sol.answers)


def test_mistakes_may_set_a_convention_and_check_finds_bad_paths(tmp_path):
    # y = relu(x − 1) at x = 1: dy/dx = relu'(0) = 0 by default; 1 under the other convention
    spec = tmp_path / "m.yaml"
    body = ("kind: graph\ngiven: {x: 1}\nequations: {y: relu(x - 1)}\nask:\n  - grad: {of: y, wrt: x}\n"
            "mistakes:\n  - feedback: \"relu'(0) = 1 was used\"\n    set: {conventions.relu_grad_at_zero: 1}\n")
    spec.write_text(body)
    assert cli("check", str(spec)).exit_code == 0
    m = marks(str(spec), "-a", "dy/dx=1")["dy/dx"]
    assert not m["correct"] and m["feedback"].startswith("relu'(0) = 1 was used")
    spec.write_text(body.replace("relu_grad_at_zero: 1", "relu_grad_at_zeroo: 1"))
    r = cli("check", str(spec))
    assert r.exit_code == 2 and "m.yaml:8:" in r.output and "did you mean 'relu_grad_at_zero'" in r.output
    spec.write_text(body + "vary:\n  z: {int: [1, 2]}\n")
    r = cli("check", str(spec))
    assert r.exit_code == 2 and "'z' names no value" in r.output


def test_missing_sum_over_time_is_named():
    # rnn_product_cell: z2 = θ²·x1·x2·z0 = −4, ∂L/∂θ = 2·z2·2θ·x1·x2·z0 = 32; dropping the path through z1
    # leaves ∂z2/∂θ = x2·z1 = −2 and ∂L/∂θ = 16
    m = marks(str(ROOT / "problems" / "rnn_product_cell.yaml"), "-a", "dL/dtheta=16")["dL/dtheta"]
    assert not m["correct"] and "backpropagation through" in m["feedback"]


def test_transposed_matrix_is_named(tmp_path):
    # y = W @ x with W = [[1, 2], [3, 4]]: ∂y/∂x = W (row i is output i); Wᵀ = [[1, 3], [2, 4]]
    spec = tmp_path / "t.yaml"
    spec.write_text("kind: graph\ngiven: {W: [[1, 2], [3, 4]], x: [1, 1]}\nequations: {y: W @ x}\n"
                    "ask:\n  - jacobian: {of: y, wrt: x, name: J}\n")
    m = marks(str(spec), "-a", "J=[[1, 3], [2, 4]]")["J"]
    assert not m["correct"] and "transpose" in m["feedback"]
    assert marks(str(spec), "-a", "J=[[1, 2], [3, 4]]")["J"]["correct"]


def test_points_and_tolerance_names_are_checked(tmp_path):
    spec = tmp_path / "p.yaml"
    base = "kind: graph\ngiven: {x: 2}\nequations: {y: x**2}\nask:\n  - value: [y]\n"
    spec.write_text(base + "points: {yy: 2}\n")
    r = cli("grade", str(spec), "-a", "y=4")
    assert r.exit_code == 2 and "p.yaml:6:10" in r.output and "did you mean 'y'" in r.output
    spec.write_text(base + "points: {y: -1}\n")
    assert cli("grade", str(spec), "-a", "y=4").exit_code == 2
    spec.write_text(base + "points: {y: 1/2}\ntolerance: {default: {abs: 0.5}}\n")
    data = json.loads(cli("grade", str(spec), "-a", "y=4.4", "--format", "json").output)
    assert data["points"] == 0.5 and data["answers"][0]["correct"]       # |4.4 − 4| ≤ 0.5


@pytest.mark.parametrize("example,name,given", [
    ("critical_points.yaml", "f at (1, 0)", "min"),
    ("critical_points.yaml", "f at (-1, 0)", "saddle"),
    ("sgd_convergence_2d.yaml", "converges", "0 < alpha < 2/3"),
    ("sgd_convergence_2d.yaml", "converges", "]0, 0.6667["),
    ("sgd_convergence_2d.yaml", "oscillates", "2/3"),
    ("conv_shape.yaml", "output shape", "8x30x30"),
])
def test_text_answers_in_other_notations_are_right(example, name, given):
    """Grading shares compare.py with key checks: a classification word, an interval, a set or a shape in
    another notation is the same answer."""
    spec = load_spec(str(ROOT / "problems" / example))
    sol = solve(spec)
    mark = next(m for m in grade(spec, sol, {name: (given, given)}).marks if m.name == name)
    assert mark.correct, mark.feedback
    wrong = next(m for m in grade(spec, sol, {name: ("local maximum", "local maximum")}).marks if m.name == name)
    assert not wrong.correct


def test_grade_addresses_any_quantity_and_one_element():
    from click.testing import CliRunner

    from examsolve.cli import main

    # sin_net by hand: ∂L/∂y = 2(y − l) = −4, ∂L/∂u = −4·cos(2π) = −4, ∂L/∂w = (−4·2, −4·1) = (−8, −4)
    r = CliRunner().invoke(main, ["grade", str(ROOT / "problems" / "sin_net.yaml"), "-a", "dL/du=-4",
                                  "-a", "dL/dw[0]=-8", "-a", "dL/dw[1]=4", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    marks = {m["name"]: m for m in json.loads(r.stdout)["answers"]}
    assert marks["dL/du"]["correct"] and marks["dL/dw[0]"]["correct"] and not marks["dL/dw[1]"]["correct"]
    assert "sign" in marks["dL/dw[1]"]["feedback"]
