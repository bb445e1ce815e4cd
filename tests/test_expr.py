"""The expression language: exact numbers, plain symbols, vector sugar, and refusals."""
from __future__ import annotations

import time

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from examsolve.errors import ExprError
from examsolve.expr import number, parse, symbol
from examsolve.tensor import Tensor


def p(text, **names):
    return parse(text, names, allow_free=True)


def test_decimals_are_exact():
    assert p("0.2") == sympy.Rational(1, 5)
    assert p("1e-3") == sympy.Rational(1, 1000)
    assert p("0.1 + 0.2") == sympy.Rational(3, 10)   # not 0.30000000000000004


def test_constants_and_plain_names():
    assert p("pi") == sympy.pi and p("e") == sympy.E
    for name in ("gamma", "beta", "E", "I", "N", "S", "Q", "lambda", "sigma"):
        v = p(name)
        assert isinstance(v, sympy.Symbol) and v.name == name
    # a spec may redefine a constant
    assert parse("pi", {"pi": symbol("pi")}) == symbol("pi")


def test_lambda_keeps_columns():
    with pytest.raises(ExprError) as e:
        parse("lambda + foo", {"lambda": symbol("lambda")})
    assert e.value.offset == len("lambda + ")


def test_vector_sugar():
    x = Tensor((2,), (sympy.Integer(2), sympy.Integer(1)))
    w = Tensor((2,), (symbol("w_1"), symbol("w_2")))
    assert parse("w.T @ x", {"w": w, "x": x}) == 2 * symbol("w_1") + symbol("w_2")
    assert parse("dot(w, x)", {"w": w, "x": x}) == 2 * symbol("w_1") + symbol("w_2")
    assert parse("sum(x**2)", {"x": x}) == 5
    assert parse("mean(x)", {"x": x}) == sympy.Rational(3, 2)
    assert parse("x[0]", {"x": x}) == 2 and parse("x[-1]", {"x": x}) == 1
    M = p("[[1, 2], [3, 4]]")
    assert M.shape == (2, 2) and parse("M @ [1, 1]", {"M": M}).items == (3, 7)
    assert parse("M.T", {"M": M}).items == (1, 3, 2, 4)
    assert parse("M[1, 0]", {"M": M}) == 3


def test_softmax_is_exact():
    # softmax([0, log 2]) = (1/(1+2), 2/(1+2)) by hand
    assert p("softmax([0, log(2)])").items == (sympy.Rational(1, 3), sympy.Rational(2, 3))


def test_activations():
    assert p("relu(-3)") == 0 and p("relu(2)") == 2
    assert p("sigmoid(0)") == sympy.Rational(1, 2)
    assert p("lrelu(-10, 0.1)") == -1 and p("lrelu(-100)") == -1
    assert p("max(1, 3, 2)") == 3 and p("min([4, -1])") == -1
    assert p("abs(-2)") == 2 and p("log(8, 2)") == 3


@pytest.mark.parametrize("text,fragment", [
    ("__import__('os').system('true')", "only the listed functions"),
    ("open('x')", "unknown function 'open'"),
    ("x.__class__", "only .T"),
    ("10**10**10", "too large"),
    ("2**100000", "too large"),
    ("(" * 500 + "1" + ")" * 500, "nested"),
    ("1" * 100, "digits"),
    ("1e999999999", "exponent"),
    ("lambda x: x", "cannot read"),
    ("[1, 2] + [1, 2, 3]", "do not match"),
    ("x if y else z", "not allowed"),
    ("'text'", "not a number"),
    ("f(x)", "unknown function"),
    ("sin(x, y)", "takes 1 argument"),
    ("[]", "empty"),
    ("", "empty"),
    ("x == y", "not allowed"),
    ("1 +" * 3000, "characters long"),
])
def test_refusals(text, fragment):
    start = time.perf_counter()
    with pytest.raises(ExprError) as e:
        p(text)
    assert fragment in e.value.message
    assert time.perf_counter() - start < 1.0


def test_error_offsets_point_at_the_token():
    with pytest.raises(ExprError) as e:
        parse("2*x + foo(3)", {"x": symbol("x")})
    assert e.value.offset == 6


def test_number_literal_bounds():
    assert number("12") == 12
    with pytest.raises(ExprError):
        number("1e101")


ATOMS = st.sampled_from(["x", "y", "0", "1", "0.5", "2", "pi", "e", "-1", "[1, 2]", "[[1, 2], [3, 4]]",
                         "gamma", "lambda", "10", "1e50"])
OPS = st.sampled_from(["+", "-", "*", "/", "**", "@"])
FUNCS = st.sampled_from(["sin", "exp", "log", "relu", "sigmoid", "sum", "max", "softmax", "norm", "tanh",
                         "sqrt", "abs", "mean", "__import__", "eval", "getattr"])


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(ATOMS)
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return f"({draw(expressions(depth + 1))} {draw(OPS)} {draw(expressions(depth + 1))})"
    if kind == 1:
        return f"{draw(FUNCS)}({draw(expressions(depth + 1))})"
    return f"-{draw(expressions(depth + 1))}"


def parses_or_refuses(text: str) -> None:
    """Any text gives a value or an ExprError, never another exception."""
    try:
        parse(text, {}, allow_free=True)
    except ExprError:
        pass


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_random_expressions_never_crash(text):
    parses_or_refuses(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_gives_value_or_expr_error(text):
    parses_or_refuses(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="()[]{}+-*/@.,:;=<>!~^&|%#'\"\\ \nabcxyz0123456789_", max_size=80))
def test_hostile_punctuation_gives_expr_error(text):
    parses_or_refuses(text)


def test_blank_space_and_line_breaks():
    assert p("  2 +\n x") == 2 + symbol("x")
    with pytest.raises(ExprError) as e:
        p("   foo(1)")
    assert e.value.offset == 3
