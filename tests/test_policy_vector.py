"""The policy family with a vector or matrix θ and with a baseline.

Every expectation is derived by hand (in the comment) or by an independent formula written here with
fractions and mpmath; the log-policy gradients are also checked by mpmath central finite differences at 40 digits.
"""
from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy

from examsolve import solve
from examsolve.errors import SpecError
from examsolve.quantity import lookup
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

DPS = 40
H = mpmath.mpf("1e-15")           # central differences: error ~H² = 1e-30, rounding ~1e-40/H = 1e-25
TOL = mpmath.mpf("1e-20")

# the new-user probe: θ = (0, log 2, 0), action 2 (1-based), return 5 − 3 written into reward:
PROBE = """kind: policy
given:
  theta: [0, log(2), 0]
param: theta
state: s
policy:
  "1": softmax(theta)[0]
  "2": softmax(theta)[1]
  "3": softmax(theta)[2]
estimate: reinforce
trajectory:
  - {state: 0, action: "2"}
"""

# a linear softmax policy π(u|s) = softmax(Θ s)_u with a 2 × 2 matrix Θ, a 2-step episode, a baseline
MATRIX = """kind: policy
given:
  theta: [[log(2), 0], [0, log(3)]]
state: s
policy:
  "1": softmax(theta @ s)[0]
  "2": softmax(theta @ s)[1]
trajectory:
  - {state: [1, 0], action: "1"}
  - {state: [0, 1], action: "2"}
reward: 4
baseline: 1
lr: 1/3
"""


def _solve(text: str):
    return solve(parse_spec(text, "q.yaml"))


def _answers(sol) -> dict:
    return {a.name: a.value for a in sol.answers}


def _mp(value) -> mpmath.mpf:
    """An exact sympy number as a 40-digit mpmath number."""
    return mpmath.mpf(str(sympy.N(value, DPS + 10)))


def _close(value, expected) -> bool:
    with mpmath.workdps(DPS):
        return abs(_mp(value) - mpmath.mpf(expected)) < TOL


def _all_close(tensor, expected: list) -> bool:
    assert isinstance(tensor, Tensor) and len(tensor.items) == len(expected)
    return all(_close(v, e) for v, e in zip(tensor.items, expected))


def _softmax(z: list) -> list:
    e = [mpmath.exp(v) for v in z]
    return [v / sum(e) for v in e]


def _central(f, theta: list) -> list:
    """∂f/∂θ_i for every i by central differences (f(θ + h e_i) − f(θ − h e_i)) / 2h, at DPS digits."""
    out = []
    for i in range(len(theta)):
        up, down = list(theta), list(theta)
        up[i] += H
        down[i] -= H
        out.append((f(up) - f(down)) / (2 * H))
    return out


# -- a vector θ: the probe -------------------------------------------------------------------------------

def _probe_log_pi(u: int):
    """log π(u) = log softmax(θ)_u for a 0-based action u, θ a list of 3 mpmath numbers."""
    return lambda th: mpmath.log(_softmax(th)[u])


def _probe_theta() -> list:
    return [mpmath.mpf(0), mpmath.log(2), mpmath.mpf(0)]


@pytest.mark.parametrize("tail", ["reward: 5 - 3\nlr: 0.5\n", "reward: 5\nbaseline: 3\nlr: 0.5\n"])
def test_probe_vector_theta_solves(tail):
    # e^θ = (1, 2, 1), Σ = 4: π = (1/4, 1/2, 1/4)
    # ∂log softmax_j/∂θ_i = [i = j] − π_i; action 2 (j = 2): (−1/4, 1/2, −1/4)
    # (G − b) = 2: estimate (−1/2, 1, −1/2); θ′ = θ + (1/2)·estimate = (−1/4, log 2 + 1/2, −1/4)
    sol = _solve(PROBE + tail)
    a, q = _answers(sol), sol.quantities
    assert list(q["pi"].items) == [sympy.Rational(1, 4), sympy.Rational(1, 2), sympy.Rational(1, 4)]
    assert list(lookup(q, "grad_log_pi[1]").items) == [-sympy.Rational(1, 4), sympy.Rational(1, 2),
                                                       -sympy.Rational(1, 4)]
    assert list(a["estimate"].items) == [-sympy.Rational(1, 2), 1, -sympy.Rational(1, 2)]
    new = a["theta after the step"]
    assert new.shape == (3,)
    assert new.items[0] == new.items[2] == -sympy.Rational(1, 4)
    assert sympy.simplify(new.items[1] - (sympy.log(2) + sympy.Rational(1, 2))) == 0
    assert lookup(q, "theta_new[2]") == -sympy.Rational(1, 4)


def test_probe_without_lr_takes_alpha_one():
    # α = 1 by default: θ′ = θ + estimate = (−1/2, log 2 + 1, −1/2)
    new = _answers(_solve(PROBE + "reward: 5 - 3\n"))["theta after the step"]
    with mpmath.workdps(DPS):
        assert _all_close(new, [mpmath.mpf(-1) / 2, mpmath.log(2) + 1, mpmath.mpf(-1) / 2])


def test_probe_log_policy_gradients_match_finite_differences():
    # every row of grad_log_pi (one per action) against central differences of log softmax(θ)_u
    q = _solve(PROBE + "reward: 2\n").quantities
    grads = q["grad_log_pi"]
    assert grads.shape == (3, 3)
    with mpmath.workdps(DPS):
        for u in range(3):
            fd = _central(_probe_log_pi(u), _probe_theta())
            assert all(_close(v, e) for v, e in zip(grads.items[3 * u:3 * u + 3], fd)), u


def test_probe_ascent_steps_are_one_per_element_with_numbers():
    sol = _solve(PROBE + "reward: 5\nbaseline: 3\nlr: 1/2\n")
    ascent = next(s for s in sol.steps if s.title.startswith("gradient ascent"))
    assert [s.target.name for s in ascent.substeps] == ["theta_new_1", "theta_new_2", "theta_new_3"]
    # θ₁ + α·estimate₁ with the numbers 0 + (1/2)·(−1/2) put in, unevaluated
    first = ascent.substeps[0]
    assert first.substituted is not None and first.value == -sympy.Rational(1, 4)
    assert sympy.sstr(first.formula) == "alpha*estimate_1 + theta_1"


def test_keys_on_the_whole_vector_and_on_entries_agree():
    keys = ("key:\n  estimate: [-1/2, 1, -1/2]\n  estimate[1]: 1\n  grad_log_pi[1][0]: -1/4\n"
            "  theta after the step: [-0.25, 1.1931472, -0.25]\n  theta_new[1]: log(2) + 1/2\n  weight: 2\n  b: 3\n")
    sol = _solve(PROBE + "reward: 5\nbaseline: 3\nlr: 1/2\n" + keys)
    checked = {a.name: a.agrees for a in sol.answers if a.key is not None}
    assert len(checked) == 7 and all(checked.values()), checked


# -- a baseline ------------------------------------------------------------------------------------------

def test_a_zero_baseline_changes_nothing():
    none = _solve(PROBE + "reward: 5\nlr: 1/2\n")
    zero = _solve(PROBE + "reward: 5\nbaseline: 0\nlr: 1/2\n")
    for name in ("estimate", "theta after the step"):
        assert _answers(none)[name] == _answers(zero)[name], name
    assert none.quantities["grad_log_pi"] == zero.quantities["grad_log_pi"]
    # the default is said in a step note
    assert any("no baseline" in s.note and "b = 0" in s.note for s in none.steps)
    assert any("baseline: b is subtracted" in s.note for s in zero.steps)


def test_state_dependent_baseline_is_read_at_each_state():
    # π(1|x) = σ(θx), θ = 0, so σ = 1/2 in every state
    # step 1: x = 2, action 2: ∂log(1 − σ(θx))/∂θ = −x·σ = −1; b(2) = 2 + 1 = 3, weight 5 − 3 = 2 → −2
    # step 2: x = 1, action 1: ∂log σ(θx)/∂θ = x·(1 − σ) = 1/2; b(1) = 2, weight 5 − 2 = 3 → 3/2
    # estimate −2 + 3/2 = −1/2; θ′ = 0 + 1·(−1/2) = −1/2
    text = ("kind: policy\ngiven: {theta: 0}\nstate: x\npolicy:\n  '1': sigmoid(theta*x)\n  '2': 1 - sigmoid(theta*x)\n"
            "trajectory:\n  - {state: 2, action: '2'}\n  - {state: 1, action: '1'}\nreward: 5\nbaseline: x + 1\n")
    sol = _solve(text)
    q = sol.quantities
    assert (q["transitions.0.b"], q["transitions.1.b"]) == (3, 2)
    assert (q["transitions.0.weight"], q["transitions.1.weight"]) == (2, 3)
    assert _answers(sol)["estimate"] == -sympy.Rational(1, 2)
    assert _answers(sol)["theta after the step"] == -sympy.Rational(1, 2)


def test_a_baseline_written_in_theta_is_a_number_held_fixed():
    # b = 3 + θ₂ = 3 + log 2 at the given θ, not differentiated: weight 5 − 3 − log 2 = 2 − log 2,
    # estimate (2 − log 2)·(−1/4, 1/2, −1/4)
    est = _answers(_solve(PROBE + "reward: 5\nbaseline: 3 + theta[1]\n"))["estimate"]
    with mpmath.workdps(DPS):
        w = 2 - mpmath.log(2)
        assert _all_close(est, [-w / 4, w / 2, -w / 4])


def test_a2c_refuses_a_baseline():
    text = ("kind: policy\ngiven: {theta: -1}\nstate: x\npolicy:\n  '1': sigmoid(theta*x + 1)\n"
            "  '2': 1 - sigmoid(theta*x + 1)\nestimate: a2c\nq: {'1': 6, '2': -2}\n"
            "trajectory:\n  - {state: 1, action: '1'}\nbaseline: 1\n")
    with pytest.raises(SpecError, match="a2c takes no baseline"):
        _solve(text)


def test_a_list_baseline_is_a_spec_error():
    with pytest.raises(SpecError, match="baseline: takes one number"):
        _solve(PROBE + "reward: 5\nbaseline: [1, 2]\n")


# -- a matrix θ, two steps, a baseline ---------------------------------------------------------------------

def _matrix_expected() -> tuple:
    """∇_Θ log softmax(Θs)_u = (e_u − π) sᵀ per step, weighted by r − b, summed; Θ′ = Θ + α·estimate.

    Fractions: Θs = (log 2, 0) at s = (1, 0) gives π = (2/3, 1/3); Θs = (0, log 3) at s = (0, 1) gives (1/4, 3/4).
    """
    steps = [((Fraction(2, 3), Fraction(1, 3)), (1, 0), 0), ((Fraction(1, 4), Fraction(3, 4)), (0, 1), 1)]
    weight = Fraction(4 - 1)
    grads, est = [], [[Fraction(0)] * 2 for _ in range(2)]
    for pi, s, u in steps:
        g = [[((1 if r == u else 0) - pi[r]) * s[c] for c in range(2)] for r in range(2)]
        grads.append(g)
        for r in range(2):
            for c in range(2):
                est[r][c] += weight * g[r][c]
    return grads, est


def test_matrix_theta_two_steps_with_a_baseline():
    # by hand: step 1 (action 1) (e_1 − π)sᵀ = [[1/3, 0], [−1/3, 0]]; step 2 (action 2) [[0, −1/4], [0, 1/4]]
    # weight 4 − 1 = 3 each: estimate [[1, −3/4], [−1, 3/4]]; Θ′ = Θ + (1/3)·estimate
    #   = [[log 2 + 1/3, −1/4], [−1/3, log 3 + 1/4]]
    grads, est = _matrix_expected()
    assert est == [[1, Fraction(-3, 4)], [-1, Fraction(3, 4)]]
    sol = _solve(MATRIX)
    a, q = _answers(sol), sol.quantities
    assert a["estimate"].shape == (2, 2)
    assert [sympy.Rational(v.numerator, v.denominator) for row in est for v in row] == list(a["estimate"].items)
    g0 = lookup(q, "transitions.0.grad_log_pi[0]")
    assert list(g0.items) == [sympy.Rational(v.numerator, v.denominator) for row in grads[0] for v in row]
    assert lookup(q, "transitions.1.grad_log_pi[1][0][1]") == -sympy.Rational(1, 4)
    with mpmath.workdps(DPS):
        assert _all_close(a["theta after the step"], [mpmath.log(2) + mpmath.mpf(1) / 3, mpmath.mpf(-1) / 4,
                                                      mpmath.mpf(-1) / 3, mpmath.log(3) + mpmath.mpf(1) / 4])
    assert lookup(q, "theta_new[1][0]") == -sympy.Rational(1, 3)


def test_matrix_log_policy_gradients_match_finite_differences():
    # every action in every state: log softmax(Θs)_u as a function of the 4 entries of Θ (row-major)
    q = _solve(MATRIX).quantities
    with mpmath.workdps(DPS):
        theta = [mpmath.log(2), mpmath.mpf(0), mpmath.mpf(0), mpmath.log(3)]
        for k, s in enumerate(((1, 0), (0, 1))):
            for u in range(2):
                def log_pi(th, s=s, u=u):
                    z = [th[0] * s[0] + th[1] * s[1], th[2] * s[0] + th[3] * s[1]]
                    return mpmath.log(_softmax(z)[u])
                fd = _central(log_pi, theta)
                assert _all_close(lookup(q, f"transitions.{k}.grad_log_pi[{u}]"), fd), (k, u)


def test_matrix_estimate_is_the_weighted_sum_of_finite_difference_gradients():
    # the estimate Σ_k (r − b)·∇log π(u_k|s_k), each gradient by central differences
    est = _answers(_solve(MATRIX))["estimate"]
    with mpmath.workdps(DPS):
        theta = [mpmath.log(2), mpmath.mpf(0), mpmath.mpf(0), mpmath.log(3)]
        total = [mpmath.mpf(0)] * 4
        for s, u in (((1, 0), 0), ((0, 1), 1)):
            def log_pi(th, s=s, u=u):
                z = [th[0] * s[0] + th[1] * s[1], th[2] * s[0] + th[3] * s[1]]
                return mpmath.log(_softmax(z)[u])
            total = [t + 3 * g for t, g in zip(total, _central(log_pi, theta))]
        assert _all_close(est, total)
