"""grade --follow-through: credit carried forward on sin_net, marks derived by hand; partial credit on mistakes."""
from __future__ import annotations

import math
import os
from fractions import Fraction

from click.testing import CliRunner

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.export import classgrade
from examsolve.grading import grade, grade_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIN_NET = os.path.join(ROOT, "problems", "sin_net.yaml")

# sin_net: x = (2, 1), w = (π/2, π), b = 0, l = 2; u = wᵀx, y = sin(u) − b, L = (y − l)²,
# dL/dw = 2(y − l)·cos(u)·x, w after 1 step = w − ½·dL/dw. Right: u = 2π, y = 0, L = 4, dL/dw = (−8, −4).
# Points: u 1, y 1, L 1, dL/dw 2, w after 1 step 1.
NAMES = ("u", "y", "L", "dL/dw", "w after 1 step")

# A student who took u = π/3 (wrong: 0) and then worked every later step correctly from it:
#   y = sin(π/3) − 0 = √3/2
#   L = (√3/2 − 2)²
#   dL/dw = 2(√3/2 − 2)·cos(π/3)·(2, 1) = (√3/2 − 2)·(2, 1) = (√3 − 4, √3/2 − 2)
#   w after 1 step = (π/2, π) − ½·(√3 − 4, √3/2 − 2) = (π/2 + 2 − √3/2, π + 1 − √3/4)
EXACT = {"u": "pi/3", "y": "sqrt(3)/2", "L": "(sqrt(3)/2 - 2)**2", "dL/dw": "[sqrt(3) - 4, sqrt(3)/2 - 2]",
         "w after 1 step": "[pi/2 + 2 - sqrt(3)/2, pi + 1 - sqrt(3)/4]"}
# with follow-through: u 0, then 1 + 1 + 2 + 1 = 5 of 6; without it every answer is wrong: 0
EXACT_MARKS = [0, 1, 1, 2, 1]


def _grade(answers: dict, follow: bool):
    return grade_file(SIN_NET, [f"{k}={v}" for k, v in answers.items()], follow_through=follow)


def _points(report) -> list:
    marks = {m.name: m.points for m in report.marks}
    return [marks[n] for n in NAMES]


def test_u_wrong_every_later_step_consistent_gets_the_later_marks():
    r = _grade(EXACT, True)
    assert _points(r) == EXACT_MARKS
    fb = {m.name: m.feedback for m in r.marks}
    assert fb["y"].startswith("consistent with your u = pi/3")
    assert "consistent with your u = pi/3, y = sqrt(3)/2" in fb["dL/dw"]
    assert not any(m.correct for m in r.marks)       # carried, not right


def test_without_follow_through_the_same_answers_get_nothing():
    assert _points(_grade(EXACT, False)) == [0, 0, 0, 0, 0]


def test_decimals_worked_from_the_students_own_rounded_values():
    # u = 1 (wrong); y = sin(1) = 0.84147… written 0.841; L from the written y: (0.841 − 2)² = 1.343281, written
    # 1.34; dL/dw from u = 1 and the written y: 2(0.841 − 2)·cos(1)·(2, 1); w − ½·that.
    g = 2 * (0.841 - 2) * math.cos(1)
    dw = (2 * g, g)                                  # (−2.50484…, −1.25242…)
    w1 = (math.pi / 2 - dw[0] / 2, math.pi - dw[1] / 2)
    answers = {"u": "1", "y": "0.841", "L": "1.34", "dL/dw": f"[{dw[0]:.3f}, {dw[1]:.3f}]",
               "w after 1 step": f"[{w1[0]:.3f}, {w1[1]:.3f}]"}
    assert answers["dL/dw"] == "[-2.505, -1.252]" and answers["w after 1 step"] == "[2.823, 3.768]"
    assert _points(_grade(answers, True)) == [0, 1, 1, 2, 1]


def test_an_inconsistent_step_gets_nothing_and_later_steps_follow_it():
    # u = π/3 (wrong), y = 1/2 (wrong, and not sin(π/3): 0); L from y = 1/2: (1/2 − 2)² = 9/4 (carried: 1);
    # dL/dw from u = π/3, y = 1/2: 2(1/2 − 2)·(1/2)·(2, 1) = (−3, −3/2) (carried: 2);
    # w after 1 step = (7, 7) fits nothing (wrong: 0)
    answers = {"u": "pi/3", "y": "1/2", "L": "9/4", "dL/dw": "[-3, -1.5]", "w after 1 step": "[7, 7]"}
    r = _grade(answers, True)
    assert _points(r) == [0, 0, 1, 2, 0]
    assert "consistent with your u = pi/3, y = 1/2" in {m.name: m.feedback for m in r.marks}["dL/dw"]


def test_right_answers_stay_right_and_a_random_value_is_not_carried():
    # u wrong (3), y = 0 is the right y (1 point as it is), L = 7 fits neither 4 nor (0 − 2)² = 4: 0
    r = _grade({"u": "3", "y": "0", "L": "7"}, True)
    marks = {m.name: m for m in r.marks}
    assert marks["y"].correct and marks["y"].points == 1
    assert marks["L"].points == 0


def test_class_with_follow_through(tmp_path):
    csv_text = "id,u,y,L,dL/dw,w after 1 step\n" + "ann," + ",".join(f'"{EXACT[n]}"' for n in NAMES) + "\n"
    p = tmp_path / "class.csv"
    p.write_text(csv_text, encoding="utf-8")
    with_ft = classgrade.grade_class(SIN_NET, str(p), follow_through=True)
    without = classgrade.grade_class(SIN_NET, str(p))
    assert [sum(m.points for m in rep.marks) for _, rep in with_ft.rows] == [5]
    assert [sum(m.points for m in rep.marks) for _, rep in without.rows] == [0]
    # carried answers are not counted as known mistakes in the summary
    assert not any(x["feedback"].startswith("consistent") for x in classgrade.summary(with_ft)["mistakes"])


def test_cli_follow_through():
    args = ["grade", SIN_NET, "--follow-through"] + [a for n in NAMES for a in ("--answer", f"{n}={EXACT[n]}")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "carried" in res.output and "score: 5/6" in res.output


# ---- partial credit on a mistake ---------------------------------------------------------------------------

def credit_spec(tmp_path, credit: str = "0.5") -> str:
    """sin_net with the ½-convention mistake worth `credit` of the points."""
    text = open(SIN_NET, encoding="utf-8").read()
    line = "    set: {equations.L: (y - l)**2/2}\n"
    assert line in text
    p = tmp_path / "sin_net_credit.yaml"
    p.write_text(text.replace(line, line + f"    credit: {credit}\n"), encoding="utf-8")
    return str(p)


def test_mistake_credit_gives_that_share_of_the_points(tmp_path):
    # the ½ convention: L = ½(0 − 2)² = 2 (L is worth 1: ½ point), dL/dw = (−4, −2) (worth 2: 1 point)
    r = grade_file(credit_spec(tmp_path), ["L=2", "dL/dw=[-4,-2]"])
    marks = {m.name: m for m in r.marks}
    assert marks["L"].points == Fraction(1, 2) and marks["dL/dw"].points == 1
    assert "partial credit: 50 % of the points" in marks["L"].feedback
    assert not marks["L"].correct


def test_mistake_credit_defaults_to_zero_and_is_bounded(tmp_path):
    marks = {m.name: m for m in grade_file(SIN_NET, ["L=2"]).marks}
    assert marks["L"].points == 0 and "½ convention" in marks["L"].feedback
    res = CliRunner().invoke(main, ["check", credit_spec(tmp_path, "1.5")])
    assert res.exit_code != 0


def test_credit_with_a_slip_gets_nothing(tmp_path):
    # −4 for L is a sign slip, not the mistake with credit: 0
    spec = load_spec(credit_spec(tmp_path))
    marks = {m.name: m for m in grade(spec, solve(spec), {"L": (-4, "-4")}).marks}
    assert marks["L"].points == 0 and "sign" in marks["L"].feedback
