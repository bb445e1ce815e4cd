"""values.fit keeps a value exact when cancelling it over one denominator brings it within the budget."""
from __future__ import annotations

import sympy

from examsolve.values import fit


def test_a_sum_that_cancels_stays_exact():
    # ŷ₂ − ŷ₁ + 1 of a two-class softmax with E = e^(t1 + t2), F = e^(−t1): 1 − E/(F + E) + F/(F + E) = 2F/(F + E),
    # 44 nodes as written (past the 40-node budget), 2/(1 + e^(t2)·e^(2·t1)) once cancelled
    t1, t2 = sympy.tanh(1), sympy.tanh(sympy.Rational(1, 2))
    E, F = sympy.exp(t2 + t1), sympy.exp(-t1)
    v = -E / (F + E) + F / (F + E) + 1
    got = fit(v)
    assert not got.has(sympy.Float)
    assert abs(sympy.N(got - 2 * F / (F + E), 50)) < sympy.Float(10) ** -45


def test_a_value_that_does_not_cancel_still_becomes_a_float():
    # 45 distinct square roots summed: no common denominator shortens it
    v = sympy.Add(*[sympy.sqrt(p) for p in sympy.primerange(2, 200)])
    assert fit(v).is_Float


def test_sorting_by_value_sees_past_30_digits():
    from examsolve.values import sort_key

    # 1 + e⁻¹⁰⁰ ≈ 1 + 3.7·10⁻⁴⁴ is above 1 though both read 1.000… to 40 digits; e^(π√163) ≈ 640320³ + 744 − 7.5·10⁻¹³
    one, above = sympy.Integer(1), 1 + sympy.exp(-100)
    assert sorted([above, one], key=sort_key) == [one, above]
    heegner, near = sympy.exp(sympy.pi * sympy.sqrt(163)), sympy.Integer(640320) ** 3 + 744
    assert sorted([near, heegner, sympy.oo, -sympy.oo], key=sort_key) == [-sympy.oo, heegner, near, sympy.oo]


def test_a_hidden_zero_denominator_is_not_cancelled_away():
    # z = log 6 − log 2 − log 3 is 0 exactly: (a/z − b/z) is 0/0-like and must not become (a − b)/z cancelled
    # into a finite number; fit leaves it alone (or makes it a float that evaluation then refuses)
    z = sympy.log(6) - sympy.log(2) - sympy.log(3)
    t = sympy.exp(sympy.tanh(sympy.Rational(1, 3)))
    terms = [(k * t + k) / z for k in range(1, 8)]
    v = sympy.Add(*terms) - sympy.Add(*[(k * t) / z for k in range(1, 8)])
    from examsolve.values import _cancelled

    assert _cancelled(v) is None
