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


# ---- 3. '<param> after <k> steps' names the k-th iterate; 5. one row for a keyed answer -------------------------

MOMENTUM = """kind: optimizer
params: {w1: 1, w2: -2}
loss: w1**2 + 3*w2**2
optimizer: {type: momentum, lr: 0.1, momentum: 0.9}
steps: 2
key:
KEYS
"""
# by hand, v ← 0.9·v + g, w ← w − 0.1·v, g = 2·w1 for w1:
# step 1: g = 2, v = 2, w1 = 1 − 0.2 = 0.8;  step 2: g = 1.6, v = 1.8 + 1.6 = 3.4, w1 = 0.8 − 0.34 = 0.46


def _momentum(tmp_path, keys: str):
    return solve_text(tmp_path, MOMENTUM.replace("KEYS", keys))


def test_after_k_steps_names_the_kth_iterate_in_the_optimizer_family(tmp_path):
    sol = _momentum(tmp_path, "  w1 after 1 step: 0.8\n  v_w1 after 1 step: 2")
    assert answer(sol, "w1 after 1 step").agrees is True
    assert answer(sol, "v_w1 after 1 step").agrees is True


def test_after_k_steps_past_the_last_step_hints_the_iterate(tmp_path):
    import pytest

    from examsolve.errors import SpecError

    with pytest.raises(SpecError) as err:
        _momentum(tmp_path, "  w1 after 3 steps: 0.8")
    assert "did you mean 'iterates.w1[2]'?" in str(err.value)


def test_after_k_steps_names_a_vector_iterate_in_the_graph_family(tmp_path):
    # sin_net with 2 steps: after the first, w = (π/2 + 4, π + 2) ≈ (5.5708, 5.1416) (README's worked output)
    text = ("kind: graph\ngiven: {x: [2, 1], w: [pi/2, pi], b: 0, l: 2}\n"
            "equations: {u: w.T @ x, y: sin(u) - b, L: (y - l)**2}\n"
            "ask: [{update: {of: L, params: [w], lr: 0.5, steps: 2}}]\n"
            "key: {w after 1 step: [5.571, 5.142]}\n")
    a = answer(solve_text(tmp_path, text), "w after 1 step")
    assert a.agrees is True and a.key_note == "rounded to 3 decimals"


def test_a_key_on_another_name_of_an_answer_adds_no_row(tmp_path):
    plain = _momentum(tmp_path, "  {}")
    sol = _momentum(tmp_path, "  iterates.w1[2]: 0.46")
    assert [a.name for a in sol.answers] == [a.name for a in plain.answers]
    a = answer(sol, "w1 after 2 steps")
    assert a.agrees is True and a.key_text == "0.46"


def test_a_key_on_a_quantity_that_is_no_answer_still_adds_its_row(tmp_path):
    sol = _momentum(tmp_path, "  iterates.w1[1]: 0.8")
    assert [a.name for a in sol.answers][-1] == "iterates.w1[1]" and sol.answers[-1].agrees is True


def test_a_hint_names_the_whole_vector_not_one_element():
    from examsolve.quantity import hint

    # 'gradd_2' is closest to the element grad_2; the whole vector grad exists, so it is named
    assert hint("gradd_2", ["grad", "grad_1", "grad_2"]) == "; did you mean 'grad'?"


# ---- 1a. one term, or the first or last terms, of a sum a step shows -------------------------------------------

LINEAR_RNN = """kind: rnn
given: {theta: 2}
sequences: {x: [1, 1]}
state: z
initial: 1
cell: theta*z + x
loss: {each: z**2, steps: last}
ask:
  - grad: {of: L, wrt: theta, key: KEY}
"""
# by hand: z1 = 2·1 + 1 = 3, z2 = 2·3 + 1 = 7, L = 49; ∂L/∂z2 = 2·7 = 14, ∂L/∂z1 = 14·θ = 28;
# BPTT: ∂L/∂θ = ∂L/∂z1·∂z1/∂θ + ∂L/∂z2·∂z2/∂θ = 28·z0 + 14·z1 = 28 + 42 = 70
# (check: z2 = θ² + θ + 1, dz2/dθ = 2θ + 1 = 5, ∂L/∂θ = 2·7·5 = 70)


def test_a_key_that_is_the_last_time_steps_term_says_so(tmp_path):
    a = answer(solve_text(tmp_path, LINEAR_RNN.replace("KEY", "42")), "dL/dtheta")
    assert a.agrees is False
    assert a.key_note.startswith("the key is only the last term, ∂L/∂z₂·∂z₂/∂θ = 42, of the sum ∂L/∂θ = ")
    assert a.key_note.endswith("; the full sum is 70")


def test_a_key_that_is_the_first_term_says_so(tmp_path):
    a = answer(solve_text(tmp_path, LINEAR_RNN.replace("KEY", "28")), "dL/dtheta")
    assert a.agrees is False and a.key_note.startswith("the key is only the first term, ∂L/∂z₁·∂z₁/∂θ = 28,")


def test_grading_tells_a_partial_sum_and_the_full_one_agrees(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(LINEAR_RNN.replace(", key: KEY", ""))
    assert "that is only the last term, ∂L/∂z₂·∂z₂/∂θ = 42," in _grade_text(path, "-a", "dL/dtheta=42")
    assert "right" in _grade_text(path, "-a", "dL/dtheta=70")


def test_a_partial_sum_of_three_terms(tmp_path):
    # three steps, θ = 1, z0 = 1, x = 0: z_t = 1, L = z3² = 1, ∂L/∂z3 = 2, ∂L/∂z2 = 2, ∂L/∂z1 = 2; each local
    # ∂z_t/∂θ = z_(t−1) = 1, so the terms are 2, 2, 2 and the sum 6; the last two make 4
    text = LINEAR_RNN.replace("theta: 2", "theta: 1").replace("[1, 1]", "[0, 0, 0]").replace("KEY", "4")
    a = answer(solve_text(tmp_path, text), "dL/dtheta")
    assert a.agrees is False and a.key_note.startswith("the key is only the first 2 terms,")


# ---- 1b. the learning-rate bound from λ_min ------------------------------------------------------------------

LR = """kind: lr
params: [w1, w2]
loss: (3*w1**2 + w2**2)/2
key: {converges: "KEY"}
"""
# H = diag(3, 1): λ_min = 1, λ_max = 3; converges for 0 < α < 2/λ_max = 2/3; the slip 2/λ_min gives (0, 2)


def test_a_learning_rate_key_from_lambda_min_says_so(tmp_path):
    a = answer(solve_text(tmp_path, LR.replace("KEY", "(0, 2)")), "converges")
    assert a.agrees is False
    assert a.key_note.startswith("the bound 2/λ_min = 2 was used instead of 2/λ_max = 2/3")
    assert answer(solve_text(tmp_path, LR.replace("KEY", "(0, 2/3)")), "converges").agrees is True


def test_grading_tells_the_lambda_min_bound(tmp_path):
    path = tmp_path / "lr.yaml"
    path.write_text(LR.replace('key: {converges: "KEY"}\n', ""))
    # diverging beyond 2/λ_min = 2 instead of 2/3
    assert "the bound 2/λ_min = 2 was used" in _grade_text(path, "-a", "diverges=(-oo, 0) U (2, oo)")


# ---- 1c. batch norm's ∂L/∂x with μ and σ² taken as constants ---------------------------------------------------

BN = """kind: batchnorm
given: {x: [2, 4], gamma: 6, beta: -1}
equations: {L: sum(y**2)}
ask:
  - grad: {of: L, wrt: x, key: KEY}
"""
# by hand: μ = 3, σ² = 1, x̂ = (−1, 1), y = (−7, 5), ∂L/∂y = 2y = (−14, 10).
# Right: ∂L/∂x = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = (−14, 10): mean(g) = −2, mean(g·x̂) = (14 + 10)/2 = 12,
# so (γ/σ)·(−14 + 2 − 12·(−1), 10 + 2 − 12·1) = 6·(0, 0) = (0, 0) (two samples always normalize to ±1).
# With μ and σ² constants: ∂L/∂x = (γ/σ)·g = 6·(−14, 10) = (−84, 60).


def test_a_batchnorm_key_with_constant_statistics_says_so(tmp_path):
    a = answer(solve_text(tmp_path, BN.replace("KEY", "[-84, 60]")), "dL/dx")
    assert a.agrees is False and a.key_note.startswith("μ and σ² were treated as constants")
    assert answer(solve_text(tmp_path, BN.replace("KEY", "[0, 0]")), "dL/dx").agrees is True


def test_grading_tells_constant_batchnorm_statistics(tmp_path):
    path = tmp_path / "bn.yaml"
    path.write_text(BN.replace(", key: KEY", ""))
    assert "μ and σ² were treated as constants" in _grade_text(path, "-a", "dL/dx=[-84, 60]")


def test_a_long_sum_tries_only_its_ends(tmp_path):
    from examsolve.explain import MAX_RUN, _parts
    from examsolve.steps import Step

    import sympy

    # 20 terms 1, 2, …, 20: the single first and last terms, and runs of 2..MAX_RUN from either end
    terms = [sympy.Integer(k) for k in range(1, 21)]
    step = Step("s", target=sympy.Symbol("s"), substituted=sympy.Add(*terms, evaluate=False), value=210)
    got = {what: value for what, _, value in _parts(step)}
    assert got["the first term"] == 1 and got["the last term"] == 20
    assert got[f"the first {MAX_RUN} terms"] == sum(range(1, MAX_RUN + 1))
    assert got["the last 2 terms"] == 39 and len(got) == 2 + 2 * (MAX_RUN - 1)


def test_a_keyed_element_of_a_gradient_finds_its_sum(tmp_path):
    # w feeds u1 = w·a and u2 = w·b (a = 2, b = 3, w = 1); L = u1 + u2²: ∂L/∂w = 1·a + 2·u2·b = 2 + 18 = 20;
    # the key 18 for dL/dw[0] is the last term
    text = ("kind: graph\ngiven: {w: [1, 5], a: 2, b: 3}\nequations:\n  u1: w[0]*a\n  u2: w[0]*b\n"
            "  L: u1 + u2**2 + w[1]\nask: [{grad: {of: L, wrt: w}}]\nkey:\n  dL/dw[0]: 18\n")
    a = answer(solve_text(tmp_path, text), "dL/dw[0]")
    assert a.agrees is False and a.key_note.startswith("the key is only the last term,")
    assert a.key_note.endswith("the full sum is 20")


def test_a_value_of_another_quantity_is_not_called_a_term(tmp_path):
    # y = 7 (a value); ∂L/∂w = 3 + 4 = 7 elsewhere: the key 3 for y is no term of y's own step
    text = ("kind: graph\ngiven: {w: 1}\nequations: {y: 7*w**0, u1: 3*w, u2: 4*w, L: u1 + u2}\n"
            "ask: [{value: [y]}, {grad: {of: L, wrt: w}}]\nkey: {y: 3}\n")
    a = answer(solve_text(tmp_path, text), "y")
    assert a.agrees is False and "term" not in a.key_note


def test_a_vector_key_of_the_same_term_of_each_entry(tmp_path):
    # each w_i feeds u1_i = 2·w_i and u2_i = 3·w_i; L = Σ u1 + Σ u2²: ∂L/∂w_i = 2 + 2·u2_i·3 = 2 + 18·w_i,
    # so (20, 38) for w = (1, 2); the last terms alone are 18·w = (18, 36)
    text = ("kind: graph\ngiven: {w: [1, 2]}\nequations:\n  u1: 2*w\n  u2: 3*w\n  L: sum(u1) + sum(u2**2)\n"
            "ask: [{grad: {of: L, wrt: w, key: [18, 36]}}]\n")
    a = answer(solve_text(tmp_path, text), "dL/dw")
    assert a.agrees is False
    assert a.key_note.startswith("the key is only the last term of each entry's sum, (18, 36), as in ∂L/∂w₁ = ")
    assert a.key_note.endswith("; the full sums are (20, 38)")


def test_a_key_under_another_name_of_an_answer_is_checked_on_its_row():
    """'oscillating convergence' is the lr family's other name of 'alternating': H = [[4, 2], [2, 4]] has
    λ = 2, 6, so α alternates and converges for 1/6 < α < 1/3 (1/λmax < α < 2/λmax). The key is checked on
    the alternating row (no second row), and a wrong one is flagged there."""
    from examsolve import solve
    from examsolve.spec import parse_spec

    def answers(key: str):
        text = ("kind: lr\nloss: 2*w1**2 + 2*w1*w2 + 2*w2**2 - 4*w1\nparams: [w1, w2]\n"
                f"key:\n  oscillating convergence: \"{key}\"\n")
        return solve(parse_spec(text, "lr.yaml")).answers

    right = answers("(1/6, 1/3)")
    assert [a.name for a in right].count("alternating") == 1
    assert "oscillating convergence" not in [a.name for a in right]
    assert next(a for a in right if a.name == "alternating").agrees is True
    assert next(a for a in answers("(0, 1/3)") if a.name == "alternating").agrees is False
