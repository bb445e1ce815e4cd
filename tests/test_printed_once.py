"""values.printed_once / remembered: each object printed once per render; decimal at a double's range edges."""
from __future__ import annotations

from fractions import Fraction

import sympy

from examsolve.values import decimal, printed_once, remembered


def test_an_object_is_printed_once_inside_and_every_time_outside():
    calls = []

    def show(x, digits):
        calls.append((x, digits))
        return f"{x}:{digits}"

    v, w = Fraction(1, 3), Fraction(1, 3)      # equal, but two objects (sympy may hand out one cached object)
    with printed_once():
        assert [remembered(show, v, 6), remembered(show, v, 6), remembered(show, w, 6)] == ["1/3:6"] * 3
        remembered(show, v, 3)
        with printed_once():                                # a nested render shares the outer memo
            remembered(show, v, 6)
    assert len(calls) == 3          # v at 6 digits, w at 6 digits, v at 3 digits
    remembered(show, v, 6)
    assert len(calls) == 4          # no memo outside


def test_decimals_inside_and_beyond_a_doubles_range():
    # by hand: 6 significant digits, trailing zeros dropped, exponents without padding
    assert decimal(sympy.Rational(1, 3)) == "0.333333"
    assert decimal(sympy.Float("123.456", 30)) == "123.456"
    assert decimal(sympy.Float("-2.5e-301", 30)) == "-2.5e-301"     # below 1e-300: mpmath's nstr
    assert decimal(sympy.Float("1.5e300", 30)) == "1.5e300"
    assert decimal(sympy.Float("1e400", 30)) == "1e400"              # past a double: no inf
    assert decimal(sympy.Float("4.2e299", 30), 3) == "4.2e299"
    with printed_once():
        x = sympy.Float("0.1234567", 30)
        assert decimal(x, 3) == "0.123" and decimal(x, 5) == "0.12346"   # digits are part of the memo key
