"""A disagreeing vector or matrix key names its wrong entries; a slipped update (θ + α·g, θ − g) is named;
dL/dX of a whole vector is a quantity a key may name. Keys, grading and exports say the same."""
from __future__ import annotations

from conftest import RELU_SOFTMAX_NET
from examsolve import solve
from examsolve.export.model import question
from examsolve.grading import grade
from examsolve.spec import parse_spec

# x = (1, 2), class 1 of 2.  z1 = W1 x + b1 = (1 + 1 + 0, -1 + 2 + 0.5) = (2, 1.5), h = relu(z1) = (2, 1.5);
# z2 = W2 h = (2 - 1.5, 1 + 1.5) = (0.5, 2.5); softmax p1 = 1/(1 + e²) = 0.1192029, p2 = 0.8807971;
# dL/dz2 = p - y = (-0.8807971, 0.8807971); dL/dz1 = W2ᵀ dL/dz2 = (-0.8808 + 0.4404, 0.8808 + 0.8808)
# = (-0.4403985, 1.7615942) (both relu active); dL/dW1 = dL/dz1 xᵀ = [[-0.4403985, -0.8807971],
# [1.7615942, 3.5231883]]. One step, lr 0.1: W1 - 0.1·g = [[1.0440399, 0.5880797], [-1.1761594, 0.6476812]].
# The slips at W1[1][0] (w = -1, g = 1.7615942): w + 0.1·g = -0.8238406; w - g = -2.7615942.
MLP = RELU_SOFTMAX_NET     # conftest: its values by hand above
STEP = "W1 after 1 step"


def _keyed(key: str):
    """The solution of MLP with that key: block, and its answers by name."""
    sol = solve(parse_spec(MLP + "key:\n" + key, "t.yaml"))
    return {a.name: a for a in sol.answers}


def test_one_wrong_entry_is_named_with_its_slip():
    a = _keyed(f"  {STEP}: [[1.0440, 0.5881], [-0.8238, 0.6477]]\n")[STEP]
    assert a.agrees is False
    assert a.key_note.startswith("entry [1][0]: key -0.8238, solved (-5 - 6·exp(2))/(5 + 5·exp(2)) ≈ -1.17616 — the key is ")
    assert "+ α·∂L/∂W1₂₁ = -1 + exp(2)/(5·(1 + exp(2))) ≈ -0.823841: the step α·∂L/∂W1₂₁ added instead of subtracted" in a.key_note
    assert a.key_note.endswith("; the other 3 entries agree")


def test_a_scalar_key_that_added_the_gradient_is_named():
    a = _keyed("  W1_21^(1): -0.8238\n")["W1_21^(1)"]
    assert a.agrees is False and a.key_note.startswith("the key is W1₂₁⁽⁰⁾ + α·∂L/∂W1₂₁ = -1 + exp(2)/(5·(1 + exp(2))) ≈ -0.823841: ")


def test_a_key_without_the_learning_rate_is_named():
    a = _keyed("  W1_21^(1): -2.7616\n")["W1_21^(1)"]
    assert a.agrees is False and "W1₂₁⁽⁰⁾ − ∂L/∂W1₂₁ = -1 - 2·exp(2)/(1 + exp(2)) ≈ -2.76159: the learning rate α left out" in a.key_note


def test_every_entry_slipped_alike_is_one_explanation():
    # w + 0.1·g entry by entry: 1 - 0.0440399 = 0.9559601, 0.5 - 0.0880797 = 0.4119203, -0.8238406,
    # 1 + 0.3523188 = 1.3523188
    a = _keyed(f"  {STEP}: [[0.9560, 0.4119], [-0.8238, 1.3523]]\n")[STEP]
    assert a.agrees is False
    assert a.key_note.startswith("the key is θ + α·g for every entry (as W1₁₁⁽⁰⁾ + α·∂L/∂W1₁₁): the step α·g added")


def test_other_entry_explanations_and_plain_differences():
    # dL/dW1[0][0] with its sign flipped: 0.4404 for -0.4404
    a = _keyed("  dL/dW1: [[0.4404, -0.8808], [1.7616, 3.5232]]\n")["dL/dW1"]
    assert a.key_note == ("entry [0][0]: key 0.4404, solved -exp(2)/(2 + 2·exp(2)) ≈ -0.440399 — the key is −1 times the answer; "
                          "the other 3 entries agree")
    # two wrong entries, nothing explains them: still named, where they are
    a = _keyed("  dL/dW1: [[-0.4404, 7], [1.7616, 9]]\n")["dL/dW1"]
    assert a.key_note == ("entries [0][1]: key 7, solved -exp(2)/(1 + exp(2)) ≈ -0.880797; [1][1]: key 9, solved 4·exp(2)/(1 + exp(2)) ≈ 3.52319; "
                          "the other 2 entries agree")
    # every entry wrong and none explained: the key is simply another value, no list
    assert _keyed("  dL/dW1: [[5, 6], [7, 8]]\n")["dL/dW1"].key_note == ""


def test_grading_gives_the_same_explanation_without_partial_credit():
    spec = parse_spec(MLP, "t.yaml")
    sol = solve(spec)
    given = {STEP: ([["1.0440", "0.5881"], ["-0.8238", "0.6477"]], "[[1.0440, 0.5881], [-0.8238, 0.6477]]"),
             "W1_21^(1)": ("-2.7616", "-2.7616")}
    marks = {m.name: m for m in grade(spec, sol, given).marks}
    m = marks[STEP]
    assert m.points == 0 and m.feedback.startswith("entry [1][0]: given -0.8238, expected (-5 - 6·exp(2))/(5 + 5·exp(2)) ≈ -1.17616 — that is ")
    assert "added instead of subtracted" in m.feedback and m.feedback.endswith("the other 3 entries agree")
    assert marks["W1_21^(1)"].feedback.startswith("that is W1₂₁⁽⁰⁾ − ∂L/∂W1₂₁ = -1 - 2·exp(2)/(1 + exp(2)) ≈ -2.76159: the learning rate α left")


def test_exports_offer_the_slipped_update_as_a_wrong_answer():
    spec = parse_spec(MLP, "t.yaml")
    part = next(p for p in question(spec, solve(spec), "q").parts if p.name == STEP)
    blank = part.blanks[2]     # W1[1][0], row-major
    wrong = {round(float(w.value), 4): w.feedback for w in blank.wrong}
    assert "added instead of subtracted" in wrong[-0.8238] and "learning rate α left out" in wrong[-2.7616]


def test_a_key_may_name_the_gradient_of_a_whole_vector():
    # no grad: ask for z2; its elements dL/dz2_1, dL/dz2_2 are in the backward pass: (-0.8807971, 0.8807971)
    a = _keyed("  dL/dz2: [-0.8808, 0.8808]\n")["dL/dz2"]
    assert a.agrees is True
    a = _keyed("  dL/dz2: [-0.8808, -0.8808]\n")["dL/dz2"]
    assert a.agrees is False and a.key_note.startswith("entry [1]: key -0.8808")
    spec = parse_spec(MLP, "t.yaml")
    marks = {m.name: m for m in grade(spec, solve(spec), {"dL/dz2": (["-0.8808", "0.8808"], "[-0.8808, 0.8808]")}).marks}
    assert marks["dL/dz2"].correct
