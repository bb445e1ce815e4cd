"""Integer arithmetic in expressions: floor, ceil, //, %, min, max, exact and shown in the steps."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from examsolve import engine, load_spec, render, solve
from examsolve.expr import parse
from examsolve.renderers.printing import latex, text


def test_training_bookkeeping_by_hand():
    sol = solve(load_spec("problems/training_bookkeeping.yaml"))
    got = {a.name: a.value for a in sol.answers}
    # 50000/128 = 390.625: 391 iterations, the last one 50000 - 390·128 = 80 samples
    assert got["iterations"] == 391
    assert got["last_batch"] == 80
    assert got["full_batches"] == 390
    assert got["dropped"] == 80
    assert got["updates"] == 3910
    assert all(a.agrees for a in sol.answers)


def test_steps_show_the_operations():
    sol = solve(load_spec("problems/training_bookkeeping.yaml"))
    out = render(sol, "terminal")
    assert "⌈n/b⌉ = ⌈50000/128⌉ = 391" in out
    assert "⌊n/b⌋ = ⌊50000/128⌋ = 390" in out
    assert "n mod b = 50000 mod 128 = 80" in out
    tex = render(sol, "latex")
    assert r"\left\lceil \frac{n}{b} \right\rceil" in tex
    assert r"n \bmod b" in tex
    for fmt in ("markdown", "json"):
        assert render(sol, fmt)


@pytest.mark.parametrize("src,want", [
    ("7 // 2", 3), ("-7 // 2", -4), ("7 % 3", 1), ("-7 % 3", 2), ("7 % -3", -2),   # Python's rules, by hand
    ("floor(-0.5)", -1), ("ceil(-0.5)", 0), ("ceil(5/2)", 3), ("floor(5/2)", 2),
    ("min(3, 1, 2)", 1), ("max(3, 1, 2)", 3), ("2.5 // 1", 2), ("7.5 % 2", Fraction(3, 2)),
])
def test_values_by_hand(src, want):
    assert parse(src, {}) == sympy.Rational(want.numerator, want.denominator) if isinstance(want, Fraction) \
        else parse(src, {}) == want


def test_text_forms():
    n, b = sympy.Symbol("n", real=True), sympy.Symbol("b", real=True)
    names = {"n": n, "b": b}
    assert text(parse("ceil(n/b)", names, evaluate=False)) == "⌈n/b⌉"
    assert text(parse("2*(n % b)", names, evaluate=False)) == "2·(n mod b)"
    assert latex(parse("floor(n/b)", names)) == r"\left\lfloor \frac{n}{b} \right\rfloor"
    # the JSON form reads back with sympy's own names
    assert sympy.sstr(parse("ceil(n/b) + n % b", names)) in ("ceiling(n/b) + Mod(n, b)", "Mod(n, b) + ceiling(n/b)")


def test_modulo_by_zero_is_an_error():
    from examsolve.errors import ExprError
    with pytest.raises(ExprError):
        parse("5 % 0", {})


# ---- Hypothesis: the same value as Python's integer arithmetic ---------------------------------------------------

ints = st.integers(-10**6, 10**6)
nonzero = ints.filter(lambda k: k != 0)


@st.composite
def int_exprs(draw, depth=0):
    """(source text, Python's value) of a random expression of floor, ceil, //, %, +, -, *."""
    if depth >= 3 or draw(st.booleans()):
        k = draw(ints)
        return f"({k})", k
    op = draw(st.sampled_from(["//", "%", "floor", "ceil", "+", "-", "*"]))
    a_src, a = draw(int_exprs(depth=depth + 1))
    if op in ("floor", "ceil"):
        d = draw(nonzero)
        fn = math.floor if op == "floor" else math.ceil
        return f"{op}({a_src}/({d}))", fn(Fraction(a, d))
    if op in ("//", "%"):
        d = draw(nonzero)
        return f"({a_src} {op} ({d}))", (a // d if op == "//" else a % d)
    b_src, b = draw(int_exprs(depth=depth + 1))
    return f"({a_src} {op} {b_src})", {"+": a + b, "-": a - b, "*": a * b}[op]


@settings(max_examples=200, deadline=None)
@given(int_exprs())
def test_integer_expressions_match_python(case):
    src, want = case
    assert parse(src, {}) == want
    shown = parse(src, {}, evaluate=False)      # the step form, as written, evaluates to the same number
    assert engine.substitute(shown, {}) == want
