"""Trust in key checks and grading, part 2: a key cut rather than rounded, the expected value as the renderers
show it, the terms of a sum shown by a step, the learning-rate bound from λ_min, names of iterates, and one row
for a keyed answer."""
from __future__ import annotations

from click.testing import CliRunner
from conftest import ROOT, answer, solve_text

from examsolve.cli import main

ONE = """kind: graph
given: {a: A}
equations: {y: a}
ask: [{value: [y]}]
key: {y: KEY}
"""


def _grade_text(path, *args: str) -> str:
    r = CliRunner().invoke(main, ["grade", str(path), *args])
    assert r.exit_code == 0, r.output
    return r.stdout


# ---- 2. a key cut rather than rounded ---------------------------------------------------------------------

def test_a_truncated_key_is_flagged_and_says_so(tmp_path):
    # 0.683772 cut after 3 decimals is 0.683; rounded it is 0.684 (the 4th decimal, 7, rounds up)
    a = answer(solve_text(tmp_path, ONE.replace("A", "0.683772").replace("KEY", "0.683")), "y")
    assert a.agrees is False
    assert a.key_note == "the key is the answer truncated to 3 decimals, not rounded (rounded: 0.684)"


def test_a_negative_key_cut_toward_zero(tmp_path):
    # −2.4567 cut toward 0 after 2 decimals is −2.45; rounded −2.46
    a = answer(solve_text(tmp_path, ONE.replace("A", "-2.4567").replace("KEY", "-2.45")), "y")
    assert a.agrees is False
    assert a.key_note == "the key is the answer truncated to 2 decimals, not rounded (rounded: -2.46)"


def test_a_rounded_key_is_not_called_truncated(tmp_path):
    # 0.683272: cut and rounded to 3 decimals are both 0.683, so the key agrees; 0.682 is neither
    assert answer(solve_text(tmp_path, ONE.replace("A", "0.683272").replace("KEY", "0.683")), "y").agrees is True
    a = answer(solve_text(tmp_path, ONE.replace("A", "0.683272").replace("KEY", "0.682")), "y")
    assert a.agrees is False and "truncated" not in a.key_note


def test_a_vector_key_with_one_entry_cut(tmp_path):
    text = ONE.replace("A", "[0.6838, 1.41]").replace("KEY", "[0.683, 1.41]")
    a = answer(solve_text(tmp_path, text), "y")
    assert a.agrees is False
    assert a.key_note == "the key is the answer truncated to 3 decimals, not rounded (rounded: [0.684, 1.41])"


def test_grading_tells_a_truncated_answer(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(ONE.replace("A", "0.683772").replace("key: {y: KEY}\n", ""))
    out = _grade_text(path, "-a", "y=0.683")
    assert "that is the answer truncated to 3 decimals, not rounded (rounded: 0.684)" in out


# ---- 4. the expected value as the renderers show it -----------------------------------------------------------

def test_grade_shows_a_float_expected_value_to_6_figures():
    # adam_two_steps.yaml's second step is computed in 30-digit floats; by hand (the spec's comments)
    # w1 = 0.9000000005 − 0.1·1.8947368/1.9025799 = 0.8004122, to 6 significant figures 0.800412
    out = _grade_text(ROOT / "problems" / "adam_two_steps.yaml", "-a", "w1 after 2 steps=5")
    assert "expected ≈ 0.800412\n" in out and "0.80041220" not in out


def test_grade_shows_a_short_exact_value_with_its_decimal(tmp_path):
    # √2/2 = 0.7071067…: the exact form, then 6 significant figures
    path = tmp_path / "e.yaml"
    path.write_text("kind: graph\ngiven: {a: 2}\nequations: {y: sqrt(a)/2}\nask: [{value: [y]}]\n")
    out = _grade_text(path, "-a", "y=5", "--format", "text")
    assert "expected sqrt(2)/2 ≈ 0.707107" in out
