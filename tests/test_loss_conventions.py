"""Loss and pooling conventions (issue 15): 0·log 0, BCE reductions, log bases, max pooling's padding value;
every expectation from plain Python, mpmath or hand arithmetic written here."""
from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import mpmath
import pytest
import sympy
from click.testing import CliRunner

from examsolve import solve
from examsolve.cli import main
from examsolve.errors import SolveError, SpecError
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor


def run(text: str):
    sol = solve(parse_spec(text, "t.yaml"))
    return {a.name: a.value for a in sol.answers}, sol


def floats(v) -> list:
    return [float(sympy.N(e, 30)) for e in (v.items if isinstance(v, Tensor) else (v,))]


def grade(tmp_path, text: str, *answers: str) -> dict:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    args = ["grade", str(path), "--format", "json"] + [x for a in answers for x in ("--answer", a)]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return {m["name"]: m for m in json.loads(r.output)["answers"]}


# ---- 0·log 0 --------------------------------------------------------------------------------------------

def test_the_limit_shown_is_the_hand_limit():
    # by hand: with p = e^(−n), p·log p = −n·e^(−n), which goes to 0 (e^n outgrows n); mpmath at p = e^(−n)
    # agrees, and the values shrink towards 0
    vals = [abs(mpmath.e ** -n * mpmath.log(mpmath.e ** -n)) for n in (10, 50, 200, 1000)]
    assert all(abs(v - n * mpmath.e ** -n) < mpmath.mpf("1e-12") * v for v, n in zip(vals, (10, 50, 200, 1000)))
    assert vals == sorted(vals, reverse=True) and vals[-1] < mpmath.mpf("1e-400")
    _, sol = run("kind: loss\nbinary_output: [0, 0.8]\nbinary_target: [0, 1]\n")
    step = next(s for s in sol.steps if isinstance(s.target, sympy.Limit))
    assert step.value == 0 and "0·log 0 = 0" in step.title and "limit" in step.note


def test_bce_with_a_0_label_on_a_0_output():
    # by hand: −(0·log 0 + 1·log 1) = 0; −(1·log(4/5) + 0·log(1/5)) = log(5/4); mean log(5/4)/2
    a, _ = run("kind: loss\nbinary_output: [0, 0.8]\nbinary_target: [0, 1]\n")
    assert sympy.simplify(a["bce"] - sympy.log(sympy.Rational(5, 4)) / 2) == 0
    # ∂/∂ŷ of the mean: ((1 − 0)/(1 − 0))/2 = 1/2 (t = 0 makes t·log ŷ constant) and (−1/(4/5))/2 = −5/8
    assert a["dbce/dyhat"].items == (sympy.Rational(1, 2), sympy.Rational(-5, 8))


def test_a_label_on_log_0_is_infinite_or_clamped():
    # limit: −1·log 0 = +∞; clamp (PyTorch): −1·max(log 0, −100) = 100, and 0·log 0 stays 0
    a, _ = run("kind: loss\nbinary_output: [0, 1]\nbinary_target: [1, 1]\nreduction: sum\n")
    assert a["bce"] == sympy.oo
    a, _ = run("kind: loss\nbinary_output: [0, 1]\nbinary_target: [1, 1]\nreduction: sum\nlog_zero: clamp\n")
    assert a["bce"] == 100


def test_mlp_bce_with_a_0_target_on_a_0_output():
    # relu(1·1 + 1·(−1)) = 0 with target 0, relu(2·1 + 1·(−1)) = 1 with target 1:
    # L = −(0·log 0 + 1·log(1 − 0) + 1·log 1 + 0·log 0)/2 = 0; ∂L/∂ŷ₁ = 1/(2(1 − ŷ₁)) = 1/2, ∂L/∂ŷ₂ = −1/(2ŷ₂) = −1/2
    text = ("kind: mlp\ngiven: {x: [1, -1], t: [0, 1], W1: [[1, 1], [2, 1]]}\ntarget: t\n"
            "layers: [{weights: W1, activation: relu}]\nloss: bce\n"
            "ask: [{value: [yhat, L]}, {grad: {of: L, wrt: yhat}}]\n")
    a, sol = run(text)
    assert a["L"] == 0
    assert a["dL/dyhat"].items == (sympy.Rational(1, 2), sympy.Rational(-1, 2))
    assert any(isinstance(s.target, sympy.Limit) and s.value == 0 for s in sol.steps)


def test_mlp_bce_with_a_1_target_on_a_0_output_is_refused():
    # 1·log 0 has no value: a SolveError naming log(0), not a traceback
    text = ("kind: mlp\ngiven: {x: [1, -1], t: [1], W1: [[1, 1]]}\ntarget: t\n"
            "layers: [{weights: W1, activation: relu}]\nloss: bce\nask: [{value: [L]}]\n")
    with pytest.raises(SolveError, match="log"):
        run(text)


def test_binary_output_outside_0_1_is_a_spec_error():
    with pytest.raises(SpecError, match="between 0 and 1"):
        run("kind: loss\nbinary_output: [0.5, 1.5]\nbinary_target: [0, 1]\n")


# ---- BCE (and MSE) summed or averaged -----------------------------------------------------------------------

def plain_bce(ps, ts):
    """BCE per example in plain floats, 0·log 0 = 0 by skipping a term whose weight is 0."""
    out = []
    for p, t in zip(ps, ts):
        term = (t * math.log(p) if t else 0.0) + ((1 - t) * math.log(1 - p) if t != 1 else 0.0)
        out.append(-term)
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_family_bce_reduction(reduction):
    ps, ts = [Fraction(1, 5), Fraction(9, 10), Fraction(1, 2), Fraction(3, 4)], [0, 1, 1, Fraction(1, 4)]
    terms = plain_bce([float(p) for p in ps], [float(t) for t in ts])
    want = sum(terms) / (len(terms) if reduction == "mean" else 1)
    text = (f"kind: loss\nbinary_output: [{', '.join(map(str, ps))}]\nbinary_target: [{', '.join(map(str, ts))}]\n"
            f"reduction: {reduction}\n")
    a, _ = run(text)
    assert floats(a["bce"])[0] == pytest.approx(want, rel=1e-12)


def test_loss_family_bce_from_logits_matches_plain_python():
    zs, ts = [0.0, math.log(3), -2.0], [0, 1, 1]
    ps = [1 / (1 + math.exp(-z)) for z in zs]
    a, _ = run("kind: loss\nbinary_logit: [0, log(3), -2]\nbinary_target: [0, 1, 1]\nreduction: sum\n")
    assert floats(a["bce"])[0] == pytest.approx(sum(plain_bce(ps, ts)), rel=1e-12)
    assert floats(a["dbce/dz"]) == pytest.approx([p - t for p, t in zip(ps, ts)], rel=1e-12)


MLP = """kind: mlp
given:
  x: [1, 2]
  t: [0, 1, 1]
  W: [[0.5, -1], [1, 0.25], [-0.5, 0.5]]
  b: [0.5, 0, -0.25]
input: x
target: t
layers: [{weights: W, bias: b, activation: sigmoid}]
loss: LOSS
reduction: RED
ask: [{value: [L]}, {grad: {of: L, wrt: b}}]
"""


def plain_mlp(loss, reduction):
    """The same one-layer sigmoid network, its loss and ∂L/∂b, in plain floats."""
    W, b, x, t = [[0.5, -1], [1, 0.25], [-0.5, 0.5]], [0.5, 0, -0.25], [1, 2], [0, 1, 1]
    y = [1 / (1 + math.exp(-(sum(w * v for w, v in zip(row, x)) + c))) for row, c in zip(W, b)]
    n = len(y) if reduction == "mean" else 1
    if loss == "bce":
        L = sum(plain_bce(y, t)) / n
        dy = [(-ti / yi + (1 - ti) / (1 - yi)) / n for yi, ti in zip(y, t)]
    else:
        L = sum((yi - ti) ** 2 for yi, ti in zip(y, t)) / n
        dy = [2 * (yi - ti) / n for yi, ti in zip(y, t)]
    return L, [d * yi * (1 - yi) for d, yi in zip(dy, y)]      # σ' = σ(1 − σ)


@pytest.mark.parametrize("loss,reduction", list(itertools.product(["bce", "mse"], ["mean", "sum"])))
def test_mlp_reduction_against_plain_python(loss, reduction):
    a, _ = run(MLP.replace("LOSS", loss).replace("RED", reduction))
    L, db = plain_mlp(loss, reduction)
    assert floats(a["L"])[0] == pytest.approx(L, rel=1e-12)
    assert floats(a["dL/db"]) == pytest.approx(db, rel=1e-12)


def test_mlp_default_reduction_is_the_mean_as_before():
    # the default is what mlp did before the option: the mean over the outputs
    a, _ = run(MLP.replace("LOSS", "mse").replace("reduction: RED\n", ""))
    assert floats(a["L"])[0] == pytest.approx(plain_mlp("mse", "mean")[0], rel=1e-12)


# ---- cross-entropy in a base ----------------------------------------------------------------------------

def test_ce_in_base_2_is_the_nats_over_ln_2():
    mpmath.mp.dps = 30
    z = [mpmath.mpf(2), mpmath.mpf(1), mpmath.mpf("0.1")]
    soft = [mpmath.e ** v / sum(mpmath.e ** u for u in z) for v in z]
    nats = -mpmath.log(soft[0])
    a, _ = run("kind: loss\nlogits: [2, 1, 0.1]\ntarget: 1\nbases: [e, 2, 10]\n")
    assert mpmath.mpf(str(sympy.N(a["cross-entropy (nats)"], 30))) == pytest.approx(nats, rel=1e-25)
    assert mpmath.mpf(str(sympy.N(a["cross-entropy (bits)"], 30))) == pytest.approx(nats / mpmath.log(2), rel=1e-25)
    assert mpmath.mpf(str(sympy.N(a["cross-entropy (dits)"], 30))) == pytest.approx(nats / mpmath.log(10), rel=1e-25)
    # ∂L/∂z in bits = (ŷ − y)/ln 2
    grad = [(s - y) / mpmath.log(2) for s, y in zip(soft, [1, 0, 0])]
    assert floats(a["dL/dz (bits)"]) == pytest.approx([float(g) for g in grad], rel=1e-12)


def test_base_applies_to_ce_and_a_number_is_read_as_the_base():
    # logits (0, ln 3): softmax (1/4, 3/4); class 1: −log2(1/4) = 2 bits exactly
    a, _ = run("kind: loss\nlogits: [0, log(3)]\ntarget: 1\nbase: 2\n")
    assert a["cross-entropy (bits)"] == 2


# ---- max pooling's padding ----------------------------------------------------------------------------

def plain_pool(grid, k, s, p, pad):
    """Max pooling by a loop: every window over the padded map, a padded cell worth `pad`."""
    h, w = len(grid), len(grid[0])
    out_h, out_w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            cells = []
            for di in range(k):
                for dj in range(k):
                    r, c = i * s + di - p, j * s + dj - p
                    cells.append(grid[r][c] if 0 <= r < h and 0 <= c < w else pad)
            row.append(max(cells))
        out.append(row)
    return out


GRID = [[-1, -4, 2, -3, -2], [-5, -2, -7, 1, -1], [3, -6, -2, -8, -4], [-1, -3, 0, -2, -9]]


@pytest.mark.parametrize("k,s,p", [(2, 2, 1), (3, 1, 1), (3, 2, 1), (2, 1, 1), (3, 3, 0)])
@pytest.mark.parametrize("mode", ["zero", "neg_inf"])
def test_max_pooling_padding_against_a_loop(k, s, p, mode):
    text = (f"kind: conv\ngiven: {{x: {GRID}, w: [[1]]}}\nconv: {{input: x, kernel: w, name: c}}\n"
            f"pool: {{type: max, size: {k}, stride: {s}, padding: {p}, max_padding: {mode}, name: q}}\n"
            "ask: [{value: [q]}]\n")
    a, _ = run(text)
    want = plain_pool(GRID, k, s, p, 0 if mode == "zero" else -math.inf)
    assert [int(v) for v in a["q"].items] == [v for row in want for v in row]


def test_zero_padding_changes_the_example_and_is_named():
    # the example's border windows hold only negatives: −∞ padding gives −2 and −1, zero padding 0 and 0
    _, sol = run(open("problems/maxpool_zero_padding.yaml", encoding="utf-8").read())
    assert any("convention max_padding = zero" in s.title for s in sol.steps)
    want = plain_pool([[-2, 1, -2], [-1, -3, 0], [-3, 1, 3]], 2, 2, 1, 0)
    assert [int(v) for v in next(a.value for a in sol.answers if a.name == "p").items] == [0, 1, 0, 3] == \
        [v for row in want for v in row]


# ---- grading names the convention a student used -----------------------------------------------------------

def test_grading_names_the_pooling_padding(tmp_path):
    # with PyTorch's −∞ padding the example gives p = [[−2, 1], [−1, 3]] and f = −2 + 1 − 1 + 3 = 1
    text = open("problems/maxpool_zero_padding.yaml", encoding="utf-8").read()
    m = grade(tmp_path, text, "p=[[-2, 1], [-1, 3]]", "f=1", "f=4")
    assert not m["p"]["correct"] and "max_padding = neg_inf" in m["p"]["feedback"]
    m = grade(tmp_path, text, "f=1")
    assert "max_padding = neg_inf" in m["f"]["feedback"]


def test_grading_names_the_log_zero_clamp(tmp_path):
    # label 1 on output 0 and label 0 on output 0: ∞ here; PyTorch's clamp gives (100 + 0)/2 = 50
    text = "kind: loss\nbinary_output: [0, 0]\nbinary_target: [1, 0]\n"
    m = grade(tmp_path, text, "bce=50")
    assert not m["bce"]["correct"] and "log_zero = clamp" in m["bce"]["feedback"]


def test_grading_names_the_mlp_reduction(tmp_path):
    text = MLP.replace("LOSS", "mse").replace("RED", "mean")
    L_sum = plain_mlp("mse", "sum")[0]
    m = grade(tmp_path, text, f"L={L_sum:.12f}")
    assert not m["L"]["correct"] and "reduction = sum" in m["L"]["feedback"]
