"""Cross-entropy with label smoothing (loss family, label_smoothing: ε)."""
from __future__ import annotations

import mpmath
import pytest
import sympy
from conftest import answer, solve_text

from examsolve.errors import SpecError

SPEC = """kind: loss
logits: [log(4), log(2), log(2)]
target: 1
label_smoothing: EPS
"""


def _ce(z: list, q: list) -> mpmath.mpf:
    """−Σ q_k log softmax(z)_k, independently in mpmath."""
    s = mpmath.fsum(mpmath.exp(v) for v in z)
    return -mpmath.fsum(t * (v - mpmath.log(s)) for t, v in zip(q, z))


def test_smoothed_target_loss_and_gradient(tmp_path):
    # q = 0.7·(1, 0, 0) + 0.1 = (0.8, 0.1, 0.1); ŷ = (4, 2, 2)/8 = (1/2, 1/4, 1/4)
    # L = −(0.8·ln ½ + 0.2·ln ¼) = 0.8 ln 2 + 0.4 ln 2 = 6/5·ln 2; ∂L/∂z = ŷ − q = (−3/10, 3/20, 3/20)
    sol = solve_text(tmp_path, SPEC.replace("EPS", "0.3"))
    assert sol.quantities["q"].items == (sympy.Rational(4, 5), sympy.Rational(1, 10), sympy.Rational(1, 10))
    assert sympy.simplify(answer(sol, "cross-entropy").value - sympy.Rational(6, 5) * sympy.log(2)) == 0
    grad = answer(sol, "dL/dz").value.items
    assert grad == (sympy.Rational(-3, 10), sympy.Rational(3, 20), sympy.Rational(3, 20))
    # the gradient by 40-digit central differences of the independent loss
    mpmath.mp.dps = 40
    z, q, h = [mpmath.log(4), mpmath.log(2), mpmath.log(2)], [mpmath.mpf("0.8"), mpmath.mpf("0.1"), mpmath.mpf("0.1")], \
        mpmath.mpf(10) ** -12
    for k in range(3):
        up, down = list(z), list(z)
        up[k] += h
        down[k] -= h
        fd = (_ce(up, q) - _ce(down, q)) / (2 * h)
        assert abs(fd - mpmath.mpf(sympy.Rational(grad[k]).p) / grad[k].q) < mpmath.mpf(10) ** -20


def test_no_smoothing_is_the_one_hot_target(tmp_path):
    # ε = 0: q = (1, 0, 0), L = −ln ½ = ln 2, ∂L/∂z = (−1/2, 1/4, 1/4)
    sol = solve_text(tmp_path, SPEC.replace("EPS", "0"))
    assert sympy.simplify(answer(sol, "cross-entropy").value - sympy.log(2)) == 0
    assert answer(sol, "dL/dz").value.items == (sympy.Rational(-1, 2), sympy.Rational(1, 4), sympy.Rational(1, 4))


@pytest.mark.parametrize("eps", ["1.5", "-0.1", "a"])
def test_a_smoothing_outside_0_1_is_refused_at_its_key(tmp_path, eps):
    with pytest.raises(SpecError) as err:
        solve_text(tmp_path, SPEC.replace("EPS", eps))
    assert err.value.loc is not None and err.value.loc.line == 4


def test_a_target_that_is_no_distribution_is_refused(tmp_path):
    # (0.5, 0.6) sums to 11/10: ŷ − y would not be ∂L/∂z (that needs Σy = 1), so no silent shortcut
    with pytest.raises(SpecError, match="sums to 11/10, not 1"):
        solve_text(tmp_path, "kind: loss\nlogits: [1, 2]\ntarget: [0.5, 0.6]\n")


def test_label_smoothing_without_logits_is_refused(tmp_path):
    with pytest.raises(SpecError, match="label_smoothing applies to the softmax cross-entropy"):
        solve_text(tmp_path, "kind: loss\nbinary_output: [0.9]\nbinary_target: [1]\nlabel_smoothing: 0.1\n")
