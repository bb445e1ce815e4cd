"""attention's mask:, key_mask: and causal: against hand derivations and an independent mpmath softmax."""
from __future__ import annotations

import subprocess
import sys

import mpmath
import pytest
import sympy

from conftest import ROOT

from examsolve import render, solve
from examsolve.errors import SpecError
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

# the probe's inputs: Q = K = [[1, 0], [0, 1], [1, 1]], d_k = 2, so with a = 1/√2 the scores S = QKᵀ/√2 are,
# by hand, (a, 0, a), (0, a, a), (a, a, 2a)
QKV = "kind: attention\nQ: [[1, 0], [0, 1], [1, 1]]\nK: [[1, 0], [0, 1], [1, 1]]\nV: [[1, 0], [0, 1], [2, 2]]\n"
V = ((1, 0), (0, 1), (2, 2))
a = 1 / sympy.sqrt(2)
ea = sympy.exp(a)


def solved(extra: str, light: bool = False) -> dict:
    return {x.name: x.value for x in solve(parse_spec(QKV + extra, "m.yaml", light=light)).answers}


def rows(t: Tensor) -> list:
    n, k = t.shape
    return [t.items[i * k:(i + 1) * k] for i in range(n)]


def reference(allowed: list) -> tuple:
    """Softmax over the allowed keys and the output, in mpmath from the hand scores (examsolve not involved)."""
    mpmath.mp.dps = 40
    r = 1 / mpmath.sqrt(2)
    S = [[r, 0, r], [0, r, r], [r, r, 2 * r]]
    A = []
    for s, ok in zip(S, allowed):
        es = [mpmath.e ** x if keep else mpmath.mpf(0) for x, keep in zip(s, ok)]
        A.append([e / sum(es) for e in es])
    O = [[sum(w * V[j][c] for j, w in enumerate(row)) for c in range(2)] for row in A]
    return A, O


def assert_close(t: Tensor, expected: list) -> None:
    for got_row, want_row in zip(rows(t), expected):
        for got, want in zip(got_row, want_row):
            assert not got.has(sympy.Float), got      # exact inputs give exact weights
            assert abs(mpmath.mpf(str(sympy.N(got, 40))) - want) < mpmath.mpf(10) ** -35


PAD = [[True, True, False]] * 3


def test_probe_padding_mask_leaves_key_3_out_exactly():
    # by hand: row 1 e^S = (e^a, 1, -) -> (e^a, 1, 0)/(1 + e^a); row 2 (1, e^a, 0)/(1 + e^a);
    # row 3 (e^a, e^a, -) -> (1/2, 1/2, 0); output row 3 = (1/2)(1, 0) + (1/2)(0, 1) = (1/2, 1/2), the probe's key
    got = solved("mask: [[1, 1, 0], [1, 1, 0], [1, 1, 0]]\n")
    A, O = reference(PAD)
    assert_close(got["weights"], A)
    assert_close(got["output"], O)
    W = rows(got["weights"])
    assert all(r[2] == 0 and r[2].is_Integer for r in W)           # exactly 0, not e^-1000
    assert W[2] == (sympy.Rational(1, 2), sympy.Rational(1, 2), 0)
    assert rows(got["output"])[2] == (sympy.Rational(1, 2), sympy.Rational(1, 2))
    assert sympy.simplify(W[0][0] - ea / (1 + ea)) == 0 and sympy.simplify(W[1][1] - ea / (1 + ea)) == 0


def test_key_mask_and_true_false_say_the_same_as_the_0_1_matrix():
    base = solved("mask: [[1, 1, 0], [1, 1, 0], [1, 1, 0]]\n")
    for extra in ("key_mask: [1, 1, 0]\n", "key_mask: [true, true, false]\n",
                  "mask: [[true, true, false], [true, true, false], [true, true, false]]\n"):
        got = solved(extra)
        assert got["weights"].items == base["weights"].items and got["output"].items == base["output"].items


def test_the_light_validator_reads_the_mask_as_pydantic_does():
    text = "mask: [[1, 1, 0], [true, true, false], [1, 1, 0]]\nkey_mask: [1, 1, 1]\n"
    assert solved(text, light=True)["weights"].items == solved(text)["weights"].items


def test_mask_and_causal_combine_a_key_must_pass_both():
    # mask rows allow {1, 2}, {2, 3}, {1, 3}; causal allows {1}, {1, 2}, {1, 2, 3}; together {1}, {2}, {1, 3}:
    # row 1 (1, 0, 0); row 2 (0, 1, 0); row 3 e^S = (e^a, -, e^2a) -> (1, 0, e^a)/(1 + e^a)
    got = solved("causal: true\nmask: [[true, true, false], [false, true, true], [true, false, true]]\n")
    allowed = [[True, False, False], [False, True, False], [True, False, True]]
    A, O = reference(allowed)
    assert_close(got["weights"], A)
    assert_close(got["output"], O)
    W = rows(got["weights"])
    assert W[0] == (1, 0, 0) and W[1] == (0, 1, 0) and W[2][1] == 0
    assert sympy.simplify(W[2][2] - ea / (1 + ea)) == 0


def test_causal_row_3_is_exact_and_shown_exact():
    # the probe: row 3 sees all keys, e^S = (e^a, e^a, e^2a); dividing by e^a, (1, 1, e^a)/(2 + e^a)
    sol = solve(parse_spec(QKV + "causal: true\n", "c.yaml"))
    W = rows({x.name: x.value for x in sol.answers}["weights"])
    for got, want in zip(W[2], (1 / (2 + ea), 1 / (2 + ea), ea / (2 + ea))):
        assert sympy.simplify(got - want) == 0
    A, _ = reference([[True, False, False], [True, True, False], [True, True, True]])
    assert_close({x.name: x.value for x in sol.answers}["weights"], A)
    text = render(sol, "terminal")
    assert "A₃ = (1/(2 + exp(sqrt(2)/2)), 1/(2 + exp(sqrt(2)/2)), exp(sqrt(2)/2)/(2 + " in text.replace("\n", "")


@pytest.mark.parametrize("extra, where, words", [
    # a row of zeros: the softmax of an empty row is 0/0, refused at that row (5:19 is its '[')
    ("mask: [[1, 1, 0], [0, 0, 0], [1, 1, 0]]\n", "5:19", "query 2 may attend to no key (mask)"),
    # causal leaves query 1 only key 1, which the mask takes away
    ("causal: true\nmask: [[0, 1, 1], [1, 1, 1], [1, 1, 1]]\n", "6:8",
     "query 1 may attend to no key (mask and causal)"),
    ("key_mask: [0, 0, 0]\n", "5:11", "may attend to no key (key_mask)"),
    ("mask: [[1, 1, 0], [1, 1, 0]]\n", "5:7", "mask has 2 rows but there are 3 queries"),
    ("mask:\n  - [1, 1, 0]\n  - [1, 1]\n  - [1, 1, 0]\n", "7:5", "mask row 2 has 2 entries but there are 3 keys"),
    ("mask: [1, 1, 0]\n", "5:7", "write key_mask:"),
    ("key_mask: [1, 0]\n", "5:11", "key_mask has 2 entries but there are 3 keys"),
    ("key_mask: [[1, 1, 0]]\n", "5:11", "one per key"),
    ("mask: [[1, 1, 2], [1, 1, 0], [1, 1, 0]]\n", "5:15", "got 2"),
    ("mask: [[0, 0, -inf], [0, 0, -inf], [0, 0, -inf]]\n", "5:15", "an additive mask's 0 and -inf are 1 and 0 here"),
])
def test_bad_masks_are_refused_at_their_place(extra, where, words):
    with pytest.raises(SpecError) as err:
        solved(extra)
    assert str(err.value).startswith(f"m.yaml:{where}: ") and words in err.value.message, str(err.value)


def test_the_cli_exits_2_at_a_fully_masked_row(tmp_path):
    path = tmp_path / "full.yaml"
    path.write_text(QKV + "mask: [[1, 1, 0], [0, 0, 0], [1, 1, 0]]\n", "utf-8")
    out = subprocess.run([sys.executable, "-m", "examsolve", "run", str(path)], capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 2
    assert f"{path}:5:19: query 2 may attend to no key (mask): its softmax would be 0/0" in out.stdout + out.stderr
