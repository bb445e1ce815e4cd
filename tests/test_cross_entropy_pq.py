"""Cross-entropies H(p, q) and H(q, p) of two given distributions (loss family)."""
from __future__ import annotations

import sympy
from conftest import answer, solve_text


def test_cross_entropies_of_two_bernoullis_in_bits(tmp_path):
    # p = (1/2, 1/2), q = (1/4, 3/4): H(p, q) = −½·log2 ¼ − ½·log2 ¾ = 1 + 1 − ½·log2 3 = 2 − ½·log2 3 ≈ 1.207519;
    # H(q, p) = −(¼ + ¾)·log2 ½ = 1; H(p, q) = H(p) + KL(p‖q) = 1 + (1 − ½·log2 3)
    sol = solve_text(tmp_path, 'kind: loss\np: [1/2, 1/2]\nq: [1/4, 3/4]\nbase: "2"\n'
                               'key: {"H(p, q) (bits)": 1.207519, "H(q, p) (bits)": 1}\n')
    hpq = answer(sol, "H(p, q) (bits)")
    assert sympy.simplify(hpq.value - (2 - sympy.log(3, 2) / 2)) == 0
    assert hpq.agrees is True and answer(sol, "H(q, p) (bits)").agrees is True
    kl = answer(sol, "KL(p‖q) (bits)").value
    assert sympy.simplify(hpq.value - (answer(sol, "H(p) (bits)").value + kl)) == 0


def test_a_zero_where_the_first_is_positive_makes_it_infinite(tmp_path):
    # p = (1, 0), q = (0, 1): −1·log 0 = ∞ both ways
    sol = solve_text(tmp_path, "kind: loss\np: [1, 0]\nq: [0, 1]\n")
    assert answer(sol, "H(p, q) (nats)").value == sympy.oo and answer(sol, "H(q, p) (nats)").value == sympy.oo


def test_a_hidden_zero_probability_is_zero(tmp_path):
    # q = (z, 1 − z) with z = log 6 − log 2 − log 3 = 0 exactly: p = (1/2, 1/2) has mass where q is 0, so H(p, q)
    # and KL(p‖q) are infinite; H(q) = −1·log 1 = 0
    sol = solve_text(tmp_path, "kind: loss\np: [1/2, 1/2]\nq: [log(6) - log(2) - log(3), 1 - log(6) + log(2) + log(3)]\n")
    assert answer(sol, "H(p, q) (nats)").value == sympy.oo
    assert answer(sol, "KL(p‖q) (nats)").value == sympy.oo
