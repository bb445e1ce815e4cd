"""Naming quantities in keys: two updates of one parameter, rows of a matrix, given values, a momentum update's
velocities, and keys that are the answer reordered."""
from __future__ import annotations

import pytest
from conftest import answer, solve_text

from examsolve.errors import SpecError

import sympy

TWO_UPDATES = """kind: graph
given: {w: 1}
equations: {L: w**2}
ask:
  - update: {of: L, params: [w], lr: 0.1}
  - update: {of: L, params: [w], lr: 0.25, momentum: 0.5}
key: KEY
"""


def _two(tmp_path, key: str):
    return solve_text(tmp_path, TWO_UPDATES.replace("KEY", key))


# ---- 1. two updates of one parameter ------------------------------------------------------------------------

def test_a_second_update_has_its_own_iterates_and_velocities(tmp_path):
    # first update: w¹ = 1 − 0.1·2w = 1 − 0.2 = 0.8; second (momentum 0.5, lr 0.25): v¹ = 0.5·0 + 2 = 2,
    # w¹ = 1 − 0.25·2 = 0.5
    sol = _two(tmp_path, '{"w after 1 step": 0.8, "w after 1 step (2)": 0.5}')
    assert sol.quantities["iterates.w[1]"] == sympy.Rational(4, 5)
    assert sol.quantities["iterates.w[1] (2)"] == sympy.Rational(1, 2)
    assert sol.quantities["v.w[1] (2)"] == 2
    assert answer(sol, "w after 1 step").agrees is True
    assert answer(sol, "w after 1 step (2)").agrees is True
    # the second update's iterate keyed by its iterate name is checked on the row 'w after 1 step (2)'
    sol = _two(tmp_path, '{"iterates.w[1] (2)": 0.8}')
    assert answer(sol, "w after 1 step (2)").agrees is False
    assert [a.name for a in sol.answers] == ["w after 1 step", "w after 1 step (2)"]


def test_two_keys_naming_one_answer_are_an_error_naming_both(tmp_path):
    # 'iterates.w[1]' is the first update's w¹ (0.8), the row of 'w after 1 step': keyed twice
    with pytest.raises(SpecError) as err:
        _two(tmp_path, '{"w after 1 step": 0.8, "iterates.w[1]": 0.5}')
    msg = str(err.value)
    assert "'w after 1 step' and 'iterates.w[1]' both name the answer 'w after 1 step'" in msg
    assert "'iterates.w[1] (2)'" in msg
    assert err.value.loc is not None and err.value.loc.line == 7


# ---- 3. a row of a matrix -------------------------------------------------------------------------------------

ROWS = """kind: graph
given: {W: [[1, 2], [3, 4]]}
equations: {Y: 2*W}
ask: [{value: Y}]
key: KEY
"""


def test_a_key_with_fewer_indexes_than_the_rank_is_a_row(tmp_path):
    # Y = 2W = [[2, 4], [6, 8]]: row 1 is [6, 8]
    sol = solve_text(tmp_path, ROWS.replace("KEY", '{"Y[1]": [6, 8]}'))
    assert answer(sol, "Y[1]").agrees is True
    # row 0 is [2, 4]: the key [2, 5] is wrong in its entry [1] only, compared entry by entry
    a = answer(solve_text(tmp_path, ROWS.replace("KEY", '{"Y[0]": [2, 5]}')), "Y[0]")
    assert a.agrees is False and a.key_note.startswith("entry [1]: key 5, solved 4")


def test_too_many_indexes_is_still_an_error(tmp_path):
    with pytest.raises(SpecError, match="3 indexes for a value of rank 2"):
        solve_text(tmp_path, ROWS.replace("KEY", '{"Y[0][0][0]": 2}'))


# ---- 4. a given value -----------------------------------------------------------------------------------------

GIVEN = """kind: graph
given: {s: -1, x: [1, 2]}
equations: {L: s**2}
ask: [{value: L}]
key: KEY
"""


def test_a_key_may_name_a_given_value(tmp_path):
    # s is given as −1: the key −1 is right, 1 is not; x[1] is the given x's second entry, 2
    sol = solve_text(tmp_path, GIVEN.replace("KEY", '{s: -1, "x[1]": 2}'))
    assert answer(sol, "s").agrees is True and answer(sol, "x[1]").agrees is True
    assert answer(solve_text(tmp_path, GIVEN.replace("KEY", "{s: 1}")), "s").agrees is False
    # L = s² = 1 is still the first answer, unchanged
    assert answer(sol, "L").value == 1 and sol.answers[0].name == "L"


# ---- 2. the velocity of a momentum update ---------------------------------------------------------------------

MOMENTUM = """kind: graph
given: {w: [1, 2]}
equations: {L: w @ w}
ask:
  - update: {of: L, params: [w], lr: 0.1, steps: 2, momentum: 0.5}
key: KEY
"""
# ∂L/∂w = 2w. Step 1: v¹ = 0.5·0 + (2, 4) = (2, 4), w¹ = (1, 2) − 0.1·(2, 4) = (0.8, 1.6).
# Step 2: ∂L/∂w = (1.6, 3.2), v² = 0.5·(2, 4) + (1.6, 3.2) = (2.6, 5.2), w² = (0.8, 1.6) − 0.1·(2.6, 5.2) = (0.54, 1.08)


@pytest.mark.parametrize("name, key", [
    ("v.w[2]", "[2.6, 5.2]"), ("v_w after 2 steps", "[2.6, 5.2]"), ("v_w after 1 step", "[2, 4]"),
    ("v.w[2][1]", "5.2"), ("v.w_1[1]", "2"), ("iterates.w[1]", "[0.8, 1.6]"), ("iterates.w[2][0]", "0.54")])
def test_a_momentum_velocity_is_keyed_as_the_readme_names_it(tmp_path, name, key):
    sol = solve_text(tmp_path, MOMENTUM.replace("KEY", f'{{"{name}": {key}}}'))
    assert answer(sol, name).agrees is True


def test_the_velocity_key_of_the_probe_is_checked_and_disagrees(tmp_path):
    # the key (1, 2) is w⁰, not v² = (2.6, 5.2)
    a = answer(solve_text(tmp_path, MOMENTUM.replace("KEY", '{"v.w[2]": [1, 2]}')), "v.w[2]")
    assert a.agrees is False


@pytest.mark.parametrize("name, meant", [
    ("v_w after 3 steps", "'v_w after 2 steps'"), ("v.w[5]", "'v.w[2]'"), ("v.w_2[3]", "'v.w_2[2]'")])
def test_a_velocity_past_the_last_step_hints_the_last_velocity(tmp_path, name, meant):
    with pytest.raises(SpecError) as err:
        solve_text(tmp_path, MOMENTUM.replace("KEY", f'{{"{name}": 1}}'))
    assert f"did you mean {meant}?" in str(err.value)


# ---- 5. a key that is the answer reordered --------------------------------------------------------------------

ORDER = """kind: graph
given: {x: X}
equations: {y: x}
ask: [{value: y}]
key: {y: KEY}
"""


def _y(tmp_path, x: str, key: str):
    return answer(solve_text(tmp_path, ORDER.replace("X", x).replace("KEY", key)), "y")


@pytest.mark.parametrize("x, key, note", [
    # y = x = (1, 2, 3): the key (3, 2, 1) is it backwards
    ("[1, 2, 3]", "[3, 2, 1]", "the key lists the entries in reverse order"),
    # y = [[1, 2], [3, 4]] turned by 180° is [[4, 3], [2, 1]] (a flipped 2×2 kernel)
    ("[[1, 2], [3, 4]]", "[[4, 3], [2, 1]]",
     "the key lists the entries in reverse order (the matrix turned by 180°, as a flipped kernel)"),
    ("[[1, 2], [3, 4]]", "[[1, 3], [2, 4]]", "the key is the transpose of the answer"),
    # (2, 3, 1) holds 1, 2, 3 once each, neither reversed nor transposed
    ("[1, 2, 3]", "[2, 3, 1]", "the key has the answer's entries in another order")])
def test_a_reordered_key_is_said_of_the_whole_answer(tmp_path, x, key, note):
    a = _y(tmp_path, x, key)
    assert a.agrees is False and a.key_note == note


def test_an_entry_that_is_another_entry_is_named_with_its_0_based_index(tmp_path):
    # y = (1, 2, 3), key (3, 2, 7): entry [0] is 3, the value of y_3, the key's y[2]; entry [2] is just wrong
    a = _y(tmp_path, "[1, 2, 3]", "[3, 2, 7]")
    assert a.agrees is False
    assert "[0]: key 3, solved 1 — the key is the value of y_3 (y[2]), not of y[0]" in a.key_note


# ---- two keys for one answer ----------------------------------------------------------------------------------

ONE_UPDATE = """kind: graph
given: {w: 1}
equations: {L: w**3}
ask:
  - update: {of: L, params: [w], lr: 0.1}
key: KEY
"""


def test_two_right_keys_for_one_answer_rounded_differently_both_agree(tmp_path):
    # w¹ = 1 − 0.1·3·1² = 0.7 exactly; 0.7000 and 7/10 are the same answer written twice
    sol = solve_text(tmp_path, ONE_UPDATE.replace("KEY", '{"iterates.w[1]": 0.7000, "w after 1 step": 7/10}'))
    a = answer(sol, "w after 1 step")
    assert a.agrees is True
    assert [x.name for x in sol.answers].count("w after 1 step") == 1


def test_a_wrong_second_key_for_one_answer_is_flagged_not_hidden(tmp_path):
    # w¹ = 0.7: the first key is right, the second (0.3, the step 0.1·3 itself) is wrong; the row shows the wrong one
    sol = solve_text(tmp_path, ONE_UPDATE.replace("KEY", '{"w after 1 step": 0.7, "iterates.w[1]": 0.3}'))
    a = answer(sol, "w after 1 step")
    assert a.agrees is False
    assert "the key 'w after 1 step' agrees" in a.key_note
    # the other order: still flagged
    sol = solve_text(tmp_path, ONE_UPDATE.replace("KEY", '{"iterates.w[1]": 0.3, "w after 1 step": 0.7}'))
    assert answer(sol, "w after 1 step").agrees is False


# ---- hints for names spelled another way --------------------------------------------------------------------

def test_a_name_spelled_in_plain_text_is_pointed_to_the_quantity():
    from examsolve.quantity import hint

    names = ["states.h[1]", "states.h[2]", "h", "m̂.w[2]", "m.w[2]", "iterates.w[1]"]
    assert hint("h_1", names) == "; did you mean 'states.h[1]'?"      # index written as _1, group prefix left out
    assert hint("mhat.w[2]", names) == "; did you mean 'm̂.w[2]'?"      # the hat typed as 'hat', not m.w[2]
    assert hint("w[1]", names) == "; did you mean 'iterates.w[1]'?"


def test_param_after_1_step_names_a_one_step_familys_update(tmp_path):
    # π = softmax(0, 0) = (1/2, 1/2); action 0 with return 2: ∇log π = e₀ − π = (1/2, −1/2), θ′ = θ + 1·2·(1/2, −1/2)
    sol = solve_text(tmp_path, """kind: policy
given: {theta: [0, 0]}
policy: {"a": "softmax(theta)[0]", "b": "softmax(theta)[1]"}
trajectory: [{state: 0, action: "a"}]
reward: 2
lr: 1
key: {theta after 1 step: [1, -1]}
""")
    assert answer(sol, "theta after the step").agrees is True
