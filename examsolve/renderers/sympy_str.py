"""sympy's str form (sympy.sstr), byte for byte, with the terms of a sum put in its order cheaply.

sstr sorts the terms of every sum by Expr.as_ordered_terms, which converts each numeric factor to a Python
complex. A number wrapped in UnevaluatedExpr (how a step shows a product of values, (-0.11)·0.012) cannot
be converted: sympy finds that out by evaluating it and building re(·) and im(·) with their assumptions,
about a millisecond a factor, so a 3000-term gradient sum of an RNN cost seconds to print. Here the same
order is computed with the same key, only that known failure is skipped; the resulting text is identical.
"""
from __future__ import annotations

from typing import Any

from sympy import Add, Mul, S, UnevaluatedExpr
from sympy.core.exprtools import decompose_power
from sympy.core.numbers import Number, NumberSymbol
from sympy.core.sorting import default_sort_key
from sympy.printing.str import StrPrinter


class _Printer(StrPrinter):
    """StrPrinter with sympy's default term order, computed by ordered_terms."""

    def _as_ordered_terms(self, expr, order=None):
        if (order or self.order) is None and expr.is_Add:
            return ordered_terms(expr)
        return super()._as_ordered_terms(expr, order=order)


def sstr(expr: Any) -> str:
    """sympy.sstr(expr), the same text."""
    return _Printer().doprint(expr)


def ordered_terms(expr: Any) -> list:
    """expr.as_ordered_terms() of a sum: the same terms in the same order."""
    first = _number_then_negative(expr)
    if first is not None:
        return first
    terms = _as_terms(expr)
    if any(term.is_Order for term, _ in terms):      # sympy orders O(x) terms apart: leave those to it
        return expr.as_ordered_terms()
    return [term for term, _ in sorted(terms, key=lambda t: _Key(*t[1]))]


class _Key:
    """The sort key of Expr._parse_order(None) for one term, (-monomial, non-commutative part, coefficient),
    with the monomial kept sparse: sympy's is a tuple as long as the sum has generators (a 3000-term sum of
    products of distinct symbols compares 6000-long tuples, quadratic). `<` answers as sympy's tuples would,
    so sorted() makes the same comparisons and returns the same order."""

    __slots__ = ("monom", "rest")

    def __init__(self, coeff, monom, ncpart):
        re, im = coeff
        self.monom = monom          # ((generator index, -exponent), ...) by index, zeros left out
        self.rest = (tuple(e.sort_key(order=None) for e in ncpart), ((bool(im), im), (re, im)))

    def __lt__(self, other: "_Key") -> bool:
        if self.monom != other.monom:
            return _dense_lt(self.monom, other.monom)
        return self.rest < other.rest


def _dense_lt(a: tuple, b: tuple) -> bool:
    """The dense tuples' a < b, from their sparse forms: decided at the first index where they differ."""
    i = j = 0
    while i < len(a) and j < len(b):
        (ia, va), (ib, vb) = a[i], b[j]
        if ia == ib:
            if va != vb:
                return va < vb
            i, j = i + 1, j + 1
        elif ia < ib:               # at index ia, a holds va and b holds 0
            return va < 0
        else:
            return 0 < vb
    if i < len(a):
        return a[i][1] < 0
    if j < len(b):
        return 0 < b[j][1]
    return False


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
    """Expr.as_terms()[0] with each monomial sparse: (term, (coefficient, ((generator index, -exponent), ...),
    non-commutative part)) per term."""
    gens, terms, seen = set(), [], {}
    for term in Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        coeff = complex(coeff)
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
        monom = tuple(sorted((index[base], -exp) for base, exp in cpart.items() if exp != 0))
        out.append((term, (coeff, monom, ncpart)))
    return out
