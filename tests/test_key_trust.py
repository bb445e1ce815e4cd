"""Trust in key checks and grading: a key rounded to few figures, unordered eigenvalues, 'that is the value of X'
feedback, the hint for a misnumbered quantity name, and shape errors placed at the given matrix."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import ROOT, answer, solve_text

from examsolve.cli import main
from examsolve.compare import TOO_FEW, Rule, compare
from examsolve.errors import SpecError
from examsolve.tensor import Tensor

import sympy

ONE = """kind: graph
given: {a: A}
equations: {y: a}
ask: [{value: [y]}]
key: {y: KEY}
"""


def _one(tmp_path, a: str, key: str):
    return answer(solve_text(tmp_path, ONE.replace("A", a).replace("KEY", key)), "y")


def _grade(path, *args: str) -> dict:
    r = CliRunner().invoke(main, ["grade", str(path), "--format", "json", *args])
    assert r.exit_code == 0, r.output
    return {m["name"]: m for m in json.loads(r.stdout)["answers"]}


# ---- 1. a key of few figures ----------------------------------------------------------------------------------

def test_a_key_rounded_to_one_figure_that_dropped_its_zeros_agrees(tmp_path):
    # |0.0999999998 − 0.1| = 2e-10: within half a unit of the 1st decimal (0.05) and of the 2nd (0.005, the
    # key read as 0.10), so 0.1 is this answer rounded, not a different number
    a = _one(tmp_path, "0.0999999998", "0.1")
    assert a.agrees is True and a.key_note == "rounded to 1 decimal"


def test_a_one_figure_key_that_cannot_be_checked_says_so(tmp_path):
    # 0.115 rounds to 0.1 at 1 significant figure but to 0.12 at 2 (|0.115 − 0.10| = 0.015 > 0.005):
    # the figure written is right, and too few to tell
    a = _one(tmp_path, "0.115", "0.1")
    assert a.agrees is True
    assert a.key_note == f"to the 1 significant figure written; {TOO_FEW}"
    # 0.2 is off by 0.085 > 0.05, half a unit of the one figure written: wrong
    assert _one(tmp_path, "0.115", "0.2").agrees is False


def test_a_one_figure_key_that_a_slip_explains_is_flagged(tmp_path):
    # 0.05 rounds to 0.1 at 1 figure (a tie, |0.1 − 0.05| = 0.05), and 2·0.05 = 0.1 exactly
    a = _one(tmp_path, "0.05", "0.1")
    assert a.agrees is False and a.key_note == "the key is twice the answer"


def test_a_vector_key_is_not_excused_by_one_coarse_entry(tmp_path):
    # 0.115 ≈ 0.1 to 1 figure (cannot be checked), but 0.9 for 0.5 is off by 0.4 > 0.05: wrong
    text = ("kind: graph\ngiven: {a: [0.115, 0.5]}\nequations: {y: 1*a}\nask: [{value: [y]}]\n"
            "key: {y: [0.1, 0.9]}\n")
    assert answer(solve_text(tmp_path, text), "y").agrees is False


def test_xavier_key_is_still_the_fan_in_value():
    # Glorot: σ = √(2/(fan_in + fan_out)) = √(2/150) = √3/15 ≈ 0.11547; the key 0.1 = 1/√100 is the
    # fan_in variant's σ exactly, which says more than "0.11547 is 0.1 to one figure"
    from examsolve import load_spec, solve

    sol = solve(load_spec(str(ROOT / "problems" / "xavier.yaml")))
    a = answer(sol, "sigma (xavier)")
    assert a.value == sympy.sqrt(3) / 15
    assert a.agrees is False and a.key_note == "the key is the value of sigma (xavier_fan_in), not of sigma (xavier)"
    assert answer(sol, "sigma (xavier_fan_in)").agrees is True


def test_a_student_still_needs_three_figures(tmp_path):
    # grading's rule is unchanged: an answer shows at least 3 significant figures (README)
    p = tmp_path / "s.yaml"
    p.write_text(ONE.replace("A", "0.0999999998").replace("key: {y: KEY}\n", ""), encoding="utf-8")
    m = _grade(p, "-a", "y=0.1")["y"]
    assert not m["correct"] and "significant figures" in m["feedback"]
    assert _grade(p, "-a", "y=0.100")["y"]["correct"]


# ---- 2. values without an order -------------------------------------------------------------------------------

def test_eigenvalues_keyed_in_another_order_agree(tmp_path):
    # f = x³ − 3x + y²: H = [[6x, 0], [0, 2]]; at (1, 0) the eigenvalues are {6, 2}, at (−1, 0) {−6, 2},
    # at (0, 0) {0, 2}; ∇f at (2, 1) = (3·2² − 3, 2·1) = (9, 2)
    text = (ROOT / "problems" / "critical_points.yaml").read_text(encoding="utf-8").replace(
        "key: [9, 2]", "key: [2, 9]")
    text += ("key:\n  f at (1, 0).eigenvalues: [6, 2]\n  f at (-1, 0).eigenvalues: [2, -6]\n"
             "  f at (0, 0).eigenvalues: [2, 2]\n  f at (0, 0).gradient: [0, -3]\n")
    sol = solve_text(tmp_path, text)
    a = answer(sol, "f at (1, 0).eigenvalues")
    assert a.agrees is True and a.key_note == "in another order"
    assert answer(sol, "f at (-1, 0).eigenvalues").agrees is True
    assert answer(sol, "f at (0, 0).eigenvalues").agrees is False      # a multiset: {2, 2} is not {0, 2}
    # a gradient is a vector: its order is part of the answer
    assert answer(sol, "grad f").agrees is False
    assert answer(sol, "f at (0, 0).gradient").agrees is False


def test_a_student_may_list_eigenvalues_in_any_order():
    # eigenvalues {2, 6} at (1, 0), {−6, 2} at (−1, 0), {0, 2} at (0, 0); ∇f at (2, 1) = (9, 2)
    m = _grade(ROOT / "problems" / "critical_points.yaml", "-a", "f at (1, 0).eigenvalues=[6, 2]",
               "-a", "grad f=[2, 9]", "-a", "f at (0, 0).eigenvalues={2, 0}", "-a", "f at (-1, 0).eigenvalues={2, 2}")
    assert m["f at (1, 0).eigenvalues"]["correct"] and not m["grad f"]["correct"]
    assert m["f at (0, 0).eigenvalues"]["correct"]         # set notation (YAML reads it as a mapping)
    assert not m["f at (-1, 0).eigenvalues"]["correct"]


def test_an_eigenvalue_key_may_be_written_as_a_set(tmp_path):
    text = (ROOT / "problems" / "critical_points.yaml").read_text(encoding="utf-8")
    text += 'key:\n  f at (1, 0).eigenvalues: "{6, 2}"\n  f at (-1, 0).eigenvalues: "{6, 2}"\n'
    sol = solve_text(tmp_path, text)
    assert answer(sol, "f at (1, 0).eigenvalues").agrees is True
    assert answer(sol, "f at (-1, 0).eigenvalues").agrees is False    # {−6, 2}


@pytest.mark.parametrize("name, free", [
    ("f at (1, 0).eigenvalues", True), ("eigenvalues", True), ("λ", True), ("λ (2)", True), ("λ(WᵀW)", True),
    ("unknown.roots", True), ("dL/dw", False), ("f at (1, 0).gradient", False), ("eigenvalues[0]", False),
    ("iterates.w[1]", False)])
def test_only_eigenvalues_and_roots_are_unordered(name, free):
    # the names the families give eigenvalues (asks: '<f> at (..).eigenvalues' and the step 'λ'; lr:
    # 'eigenvalues'; recursion: 'λ(WᵀW)') and roots (network: 'unknown.roots'); one element keeps its index
    from examsolve.quantity import unordered

    assert unordered(name) is free


def test_a_sign_slip_in_eigenvalues_is_found_in_any_order(tmp_path):
    # at (1, 0) the eigenvalues are {2, 6}; [-6, -2] is {−2, −6}: each one's sign flipped
    text = (ROOT / "problems" / "critical_points.yaml").read_text(encoding="utf-8")
    text += "key:\n  f at (1, 0).eigenvalues: [-6, -2]\n"
    a = answer(solve_text(tmp_path, text), "f at (1, 0).eigenvalues")
    assert a.agrees is False and a.key_note == "the key is −1 times the answer"


def test_unordered_matching_tries_every_pairing(tmp_path):
    # given 1.0 (±0.05) and 1.04 (±0.005) for {1.04, 1.01}: pairing 1.0 with 1.04 first leaves 1.04 for 1.01
    # (off by 0.03); the one-to-one matching pairs 1.04 = 1.04 and 1.0 ≈ 1.01 (off by 0.01 < 0.05)
    from examsolve import load_spec

    p = tmp_path / "s.yaml"
    p.write_text(ONE.replace("A", "1").replace("key: {y: KEY}\n", ""), encoding="utf-8")
    spec = load_spec(str(p))
    want = Tensor((2,), (sympy.Rational(104, 100), sympy.Rational(101, 100)))
    ok = compare(["1.0", "1.04"], "[1.0, 1.04]", want, Rule(), spec, {}, name="eigenvalues", min_sig=2,
                 integers_exact=True)
    assert ok.ok and ok.how.endswith("in another order")
    assert not compare(["1.0", "1.04"], "[1.0, 1.04]", want, Rule(), spec, {}, name="w", min_sig=2,
                       integers_exact=True).ok


# ---- 3. a wrong answer that is another value ------------------------------------------------------------------

def test_grading_names_the_quantity_a_wrong_answer_is_the_value_of():
    # sin_net: y = sin(π·2/2 + π·1) − 0 = sin(2π) = 0 and L = (0 − 2)² = 4: y = 4 is L's value
    m = _grade(ROOT / "problems" / "sin_net.yaml", "-a", "y=4")["y"]
    assert not m["correct"] and m["feedback"] == "that is the value of L, not of y"


def test_grading_and_the_key_check_name_the_same_other_value():
    # xavier: 0.1 is σ of the fan_in variant exactly (1/√100); a student's 0.1 hears what the key check says
    m = _grade(ROOT / "problems" / "xavier.yaml", "-a", "sigma (xavier)=0.1")["sigma (xavier)"]
    assert not m["correct"] and m["feedback"] == "that is the value of sigma (xavier_fan_in), not of sigma (xavier)"


# ---- 4. perceptron names --------------------------------------------------------------------------------------

def test_a_zero_based_epoch_name_suggests_the_weights_after_epoch_one(tmp_path):
    text = (ROOT / "problems" / "perceptron_and.yaml").read_text(encoding="utf-8").replace(
        "key:\n", "key:\n  epochs[0].w_after: [1, 1]\n", 1)
    with pytest.raises(SpecError) as err:
        solve_text(tmp_path, text)
    msg = str(err.value)
    assert "did you mean 'epochs[1].w'?" in msg and "numbered from 1" in msg
    r = CliRunner().invoke(main, ["grade", str(ROOT / "problems" / "perceptron_and.yaml"), "-a", "epochs[0].w=[1,1]"])
    assert r.exit_code == 2 and "did you mean 'epochs[1].w'?" in r.output


def test_weights_after_each_example_have_their_own_name(tmp_path):
    # AND with ±1 targets, w = 0, b = 0, η = 1 (the file's comments): in epoch 1 only the 4th example (1, 1)
    # is a mistake, so w after each example is (0, 0), (0, 0), (0, 0), (1, 1) and b is 0, 0, 0, 1
    text = (ROOT / "problems" / "perceptron_and.yaml").read_text(encoding="utf-8").replace(
        "key:\n", "key:\n  epochs[1].w_by_example: [[0, 0], [0, 0], [0, 0], [1, 1]]\n"
                  "  epochs[1].b_by_example: [0, 0, 0, 1]\n", 1)
    sol = solve_text(tmp_path, text)
    assert answer(sol, "epochs[1].w_by_example").agrees is True
    assert answer(sol, "epochs[1].b_by_example").agrees is True


# ---- 5. errors about a given's shape point at it --------------------------------------------------------------

MLP = (ROOT / "problems" / "mlp_2_2_1.yaml").read_text(encoding="utf-8")


def _where(text: str, key: str) -> tuple[int, int]:
    """(line, column) of the value of `  key:` under given:, counted by hand from the text."""
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith(f"  {key}:"):
            return n, len(f"  {key}: ") + 1
    raise AssertionError(key)


@pytest.mark.parametrize("old, new, name, words", [
    ("W2: [[0.5, -0.5]]", "W2: [[0.5, -0.5, 1]]", "W2", "needs 2 columns"),
    ("W2: [[0.5, -0.5]]", "W2: [[0.5], [-0.5]]", "W2", "its transpose fits"),
    ("b2: [0.2]", "b2: [0.2, 1]", "b2", "one entry per output"),
    ("  y: [1]", "  y: [1, 0]", "y", "one target per output"),
])
def test_a_shape_error_points_at_the_given(tmp_path, old, new, name, words):
    text = MLP.replace(old, new)
    assert text != MLP
    with pytest.raises(SpecError) as err:
        solve_text(tmp_path, text)
    line, col = _where(text, name)
    assert f":{line}:{col}:" in str(err.value) and words in str(err.value), str(err.value)
