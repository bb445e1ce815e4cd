"""examsolve.renderers.sympy_str.sstr prints exactly what sympy.sstr prints (sympy itself is the oracle)."""
from __future__ import annotations

import random

import pytest
import sympy
from sympy import Add, Float, Mul, Pow, Rational, UnevaluatedExpr

from examsolve.renderers.sympy_str import sstr

X = sympy.symbols("a b c x_1 x_2 x_10 h_3 w")


def _atom(rng: random.Random):
    """A random factor: symbols, powers, exact and float numbers, wrapped numbers, functions of them."""
    k = rng.randrange(10)
    if k == 0:
        return rng.choice(X)
    if k == 1:
        return Pow(rng.choice(X), rng.choice([2, 3, -1, -2, Rational(1, 2)]), evaluate=False)
    if k == 2:
        return sympy.Integer(rng.randint(-9, 9))
    if k == 3:
        return Rational(rng.randint(-20, 20), rng.randint(1, 12))
    if k == 4:
        return Float(rng.uniform(-2, 2), 30)
    if k == 5:
        return UnevaluatedExpr(rng.choice([Float(rng.uniform(-1, 1), 30), Rational(rng.randint(-5, 5), 7)]))
    if k == 6:
        return sympy.tanh(rng.choice([Rational(rng.randint(-5, 5), 4), rng.choice(X)]))
    if k == 7:
        return rng.choice([sympy.pi, sympy.sqrt(2), sympy.E, sympy.I])
    if k == 8:
        return sympy.exp(rng.choice(X))
    return rng.choice(X) * rng.randint(-3, 3)


def _term(rng: random.Random):
    factors = [_atom(rng) for _ in range(rng.randint(1, 3))]
    return Mul(*factors, evaluate=rng.random() < 0.5)


def _sum(rng: random.Random, n: int):
    return Add(*[_term(rng) for _ in range(n)], evaluate=rng.random() < 0.5)


@pytest.mark.parametrize("seed", range(60))
def test_random_sums_print_as_sympy_prints_them(seed):
    rng = random.Random(seed)
    for n in (2, 3, 5, 12, 40):
        e = _sum(rng, n)
        inner = sympy.tanh(_sum(rng, 3), evaluate=False) * _sum(rng, 4)   # sums inside products and functions
        for expr in (e, inner, Add(e, inner, evaluate=False)):
            assert sstr(expr) == sympy.sstr(expr)


def test_sums_of_products_of_many_distinct_symbols():
    """A gradient sum as a convolution writes it: products of distinct symbols, 200 terms."""
    d = [sympy.Symbol(f"dL/dc_{i}") for i in range(200)]
    g = [sympy.Symbol(f"dc_{i}/dw") for i in range(200)]
    order = list(range(200))
    random.Random(1).shuffle(order)
    e = Add(*[d[i] * g[i] for i in order], evaluate=False)
    assert sstr(e) == sympy.sstr(e)


def test_wrapped_numbers_and_the_special_case():
    """Products of wrapped floats (an RNN's substituted gradient sum) and 1 - x (kept as written)."""
    f = [UnevaluatedExpr(Float(v, 30)) for v in (-0.11, 0.012, 0.5, -0.25, 0.012)]
    e = Add(*[Mul(f[i], f[(i + 1) % 5], evaluate=False) for i in range(5)], evaluate=False)
    assert sstr(e) == sympy.sstr(e)
    x = X[3]
    for expr in (1 - x, 1 - 2 * x, Rational(1, 2) - x ** 2, 3 + Mul(-1, x, evaluate=False), x - 1):
        assert sstr(expr) == sympy.sstr(expr)


def test_products_of_wrapped_exact_numbers_and_mixed_floats():
    """A convolution's substituted sum (wrapped fractions, many equal) and wrapped floats equal to fractions."""
    rng = random.Random(7)
    fr = [UnevaluatedExpr(Rational(rng.randint(-9, 9), rng.choice([1, 2, 5, 10, 20, 100]))) for _ in range(300)]
    e = Add(*[Mul(fr[i], fr[-i - 1], evaluate=False) for i in range(300)], evaluate=False)
    assert sstr(e) == sympy.sstr(e)
    mixed = [UnevaluatedExpr(Float(0.5, 30)), UnevaluatedExpr(Rational(1, 2)), UnevaluatedExpr(Float(0.25, 30)),
             UnevaluatedExpr(Rational(1, 4)), UnevaluatedExpr(sympy.Integer(1))]
    m = Add(*[Mul(mixed[i % 5], mixed[(i * 3) % 5], evaluate=False) for i in range(25)], evaluate=False)
    assert sstr(m) == sympy.sstr(m)


def _double(v: float) -> Float:
    """A 15-digit Float holding the double v exactly, as the float path makes them."""
    return Float(v, 15)


def test_floats_holding_a_double_print_as_by_hand():
    """15 significant digits rounded half up from the double's exact value, zeros kept (by hand, with Decimal)."""
    from examsolve.renderers.sympy_str import float_str

    assert float_str(_double(0.05)) == "0.0500000000000000"
    assert float_str(_double(-1.25)) == "-1.25000000000000"
    assert float_str(_double(1e-5)) == "1.00000000000000e-5"            # exponent -5: no longer fixed point
    assert float_str(_double(0.0001)) == "0.000100000000000000"
    assert float_str(_double(123456789012345.0)) == "123456789012345."   # the 15th digit just before the point
    assert float_str(_double(1e15)) == "1.00000000000000e+15"
    assert float_str(_double(0.0)) == "0.0"
    # exact ties at the 16th digit round up: 2**-22 = 2.384185791015625e-7, 10**15 + 5
    assert float_str(_double(2.0 ** -22)) == "2.38418579101563e-7"
    assert float_str(_double(1000000000000005.0)) == "1.00000000000001e+15"
    assert float_str(Float("0.1", 30)) is None                          # 30 digits: sympy prints it


def test_floats_holding_a_double_print_as_sympy_prints_them():
    rng = random.Random(3)
    for _ in range(3000):
        x = _double(rng.uniform(-1, 1) * 10.0 ** rng.randint(-40, 40))
        assert sstr(x) == sympy.sstr(x)


def test_an_or_inside_an_and_keeps_its_parentheses():
    import sympy

    from examsolve.renderers.printing import text

    a, b, c, d = sympy.symbols("a b c d")
    # (a = b) and ((a = c) or (a = d)): without parentheses it would read as ((a = b) and (a = c)) or (a = d)
    e = sympy.And(sympy.Eq(a, b), sympy.Or(sympy.Eq(a, c), sympy.Eq(a, d)), evaluate=False)
    assert text(e) == "a = b and (a = c or a = d)"


def test_a_power_of_max_or_sigmoid_typesets():
    import sympy

    from examsolve import functions
    from examsolve.renderers.printing import latex

    x = sympy.Symbol("x")
    assert latex(functions.Max(0, 2 - x) ** 2) == r"\left(\max\left(0, 2 - x\right)\right)^{2}"
