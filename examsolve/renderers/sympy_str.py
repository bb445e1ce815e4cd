"""sympy's str form (sympy.sstr), byte for byte, with the terms of a sum put in its order cheaply.

sstr sorts the terms of every sum by Expr.as_ordered_terms, which converts each numeric factor to a Python
complex. A number wrapped in UnevaluatedExpr (how a step shows a product of values, (-0.11)·0.012) cannot
be converted: sympy finds that out by evaluating it and building re(·) and im(·) with their assumptions,
about a millisecond a factor, so a 3000-term gradient sum of an RNN cost seconds to print. Here the same
order is computed with the same key, only that known failure is skipped, and the key is made of things that
compare fast (a sparse monomial, places of wrapped exact numbers); the resulting text is identical
(tests/test_sympy_str.py checks it against sympy.sstr itself).
"""
from __future__ import annotations

import decimal
from typing import Any

from sympy import Add, Float, Mul, S, UnevaluatedExpr
from sympy.core.exprtools import decompose_power
from sympy.core.numbers import Number, NumberSymbol
from sympy.core.sorting import default_sort_key
from sympy.printing.str import StrPrinter

from examsolve.values import double_of


class _Printer(StrPrinter):
    """StrPrinter with sympy's default term order, computed by ordered_terms."""

    def _as_ordered_terms(self, expr, order=None):
        if (order or self.order) is None and expr.is_Add:
            return ordered_terms(expr)
        return super()._as_ordered_terms(expr, order=order)


def sstr(expr: Any) -> str:
    """sympy.sstr(expr), the same text."""
    text = float_str(expr) if type(expr) is Float else None
    return _Printer().doprint(expr) if text is None else text


_BITS, _DIGITS = 53, 15     # a 15-digit Float (sympy's and the float path's); its text has 15 digits
# mpmath prints a Float's digits rounded half up (0.5 of the last digit rounds away from zero); exact here
# because Decimal(float) is the double's exact value
_HALF_UP = decimal.Context(prec=_DIGITS, rounding=decimal.ROUND_HALF_UP)


def float_str(x: Float) -> str | None:
    """sympy.sstr of a 15-digit Float that holds a double (values.double_of), from the double: 15 significant
    digits, trailing zeros kept, fixed point while the leading digit's exponent is in -4..14; None for other
    Floats. A tensor of 25,000 float-path values prints in a tenth of the time sympy takes."""
    d = double_of(x)
    if d is None or x._prec != _BITS:
        return None
    if d == 0:
        return "0.0"
    mantissa, exponent = format(_HALF_UP.plus(decimal.Decimal(d)), f".{_DIGITS - 1}e").split("e")
    sign, digits = ("-", mantissa[1:]) if mantissa[0] == "-" else ("", mantissa)
    return sign + _layout(digits.replace(".", ""), int(exponent))


def _layout(digits: str, exponent: int) -> str:
    """mpmath.libmp.to_str's placing of significant digits d1 d2 ... (value d1.d2... × 10**exponent) for
    sympy's 15 digits, zeros not stripped: 0.000ddd, ddd.ddd, or d.dd...e±n."""
    if -5 < exponent < _DIGITS:       # to_str's min_fixed = min(-(dps // 3), -5) and max_fixed = dps
        if exponent < 0:
            return "0." + "0" * (-exponent - 1) + digits
        return digits[:exponent + 1] + "." + digits[exponent + 1:]
    return f"{digits[0]}.{digits[1:]}e{'+' if exponent >= 0 else ''}{exponent}"


def ordered_terms(expr: Any) -> list:
    """expr.as_ordered_terms() of a sum: the same terms in the same order."""
    first = _number_then_negative(expr)
    if first is not None:
        return first
    terms = _as_terms(expr)
    if any(term.is_Order for term, _ in terms):      # sympy orders O(x) terms apart: leave those to it
        return expr.as_ordered_terms()
    place = _places([f for _, (_, _, ncpart) in terms for f in ncpart])
    return [term for term, _ in sorted(terms, key=lambda t: _key(*t[1], place))]


def _places(factors: list) -> dict | None:
    """Each distinct factor's place in the order of their sort keys (equal keys, equal places), when every number
    in them is exact; else None. Exact numbers are equal or one is smaller, so places compare as the keys do,
    without sympy comparing Rationals thousands of times in a sort (a Float and an equal Rational, or two
    Floats of one value and different precisions, are neither, so places could not stand for them)."""
    if not all(n.is_Rational for f in set(factors) for n in f.atoms(Number)):
        return None
    keyed = sorted(((f.sort_key(order=None), f) for f in set(factors)), key=lambda kf: kf[0])
    place, previous, k = {}, None, -1
    for key, f in keyed:
        if previous is None or key != previous:
            k += 1
        place[f], previous = k, key
    return place


def _key(coeff: tuple, monom: tuple, ncpart: tuple, place: dict | None) -> tuple:
    """Expr._parse_order(None)'s key of one term, (-monomial, non-commutative part, coefficient), with the
    monomial kept sparse: sympy's is a tuple as long as the sum has generators, so a 3000-term sum of products
    of distinct symbols compared 6000-long tuples. Two keys compare as sympy's do, so sorted() keeps the same
    order: the sparse form compares as the dense tuple of -exponents by the rule of _entry."""
    re, im = coeff
    nc = tuple(place[e] for e in ncpart) if place is not None else tuple(e.sort_key(order=None) for e in ncpart)
    return (tuple(_entry(i, -e) for i, e in monom) + (_END,), nc, ((bool(im), im), (re, im)))


# Dense tuples first differ at the smaller index of two differing sparse entries, where the other tuple holds 0:
# there a negative value is the smaller whatever comes later, a positive one the larger. So negative entries
# come first by index, then the end, then positive entries by descending index; at one index, by value.
_END = (1, float("-inf"))


def _entry(i: int, v: int) -> tuple:
    """One nonzero entry (index i, value v) of a dense tuple, as it compares."""
    return (0, i, v) if v < 0 else (1, -i, v)


def _number_then_negative(expr: Any) -> list | None:
    """as_ordered_terms' special case: a positive number plus a negative number times something, kept as
    written (1 - x), else None."""
    def not_number(x):
        return not isinstance(x, (Number, NumberSymbol))
    add_args = sorted(Add.make_args(expr), key=not_number)
    if len(add_args) == 2 and isinstance(add_args[0], (Number, NumberSymbol)) and isinstance(add_args[1], Mul):
        mul_args = sorted(Mul.make_args(add_args[1]), key=not_number)
        if (len(mul_args) == 2 and isinstance(mul_args[0], Number) and add_args[0].is_positive
                and mul_args[0].is_negative):
            return add_args
    return None


def _complex(factor: Any, seen: dict) -> complex:
    """complex(factor) as sympy's as_terms takes it, each number converted once per sum (seen); TypeError
    for an UnevaluatedExpr at once (sympy's evalf keeps it wrapped, so converting it always fails, slowly)."""
    if type(factor) is UnevaluatedExpr:
        raise TypeError("an unevaluated expression has no complex value")
    if not isinstance(factor, Number):
        return complex(factor)
    key = (type(factor), factor)
    if key not in seen:
        seen[key] = complex(factor)
    return seen[key]


def _as_terms(expr: Any) -> list:
    """Expr.as_terms()[0] with each monomial sparse: (term, (coefficient, ((generator index, exponent), ...),
    non-commutative part)) per term."""
    gens, terms, seen = set(), [], {}
    for term in Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        coeff = _complex(coeff, seen)
        cpart, ncpart = {}, []
        if rest is not S.One:
            for factor in Mul.make_args(rest):
                if factor.is_number:
                    try:
                        coeff *= _complex(factor, seen)
                    except (TypeError, ValueError):
                        pass
                    else:
                        continue
                if factor.is_commutative:
                    base, exp = decompose_power(factor)
                    cpart[base] = exp
                    gens.add(base)
                else:
                    ncpart.append(factor)
        terms.append((term, ((coeff.real, coeff.imag), cpart, tuple(ncpart))))
    index = {g: i for i, g in enumerate(sorted(gens, key=default_sort_key))}
    out = []
    for term, (coeff, cpart, ncpart) in terms:
        monom = tuple(sorted((index[base], exp) for base, exp in cpart.items() if exp != 0))
        out.append((term, (coeff, monom, ncpart)))
    return out
