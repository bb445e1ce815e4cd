"""fastsym builds exactly sympy's objects: every fast path against sympy's own constructor."""
from __future__ import annotations

import itertools
import random

import pytest
import sympy
from sympy import I, Rational, S, pi, sqrt

from examsolve import fastsym
from examsolve import functions as fn
from examsolve.expr import symbol
from examsolve.functions import Partial

x, y, z, w = (symbol(n) for n in "xyzw")
plain = sympy.Symbol("p")                       # no assumptions
zero = sympy.Symbol("o", zero=True)
dxy = Partial(x, y)
dummy = sympy.Dummy("d", real=True)
NUMBERS = [S.Zero, S.One, S.NegativeOne, Rational(1, 64), Rational(-3, 7), sympy.Integer(5), sympy.Float("0.5"),
           pi, sqrt(2), I, 2 * I, sympy.oo, sympy.zoo, sympy.nan, sympy.E]
SYMBOLS = [x, y, z, w, plain, zero, dxy, dummy]


def pool() -> list:
    """Atoms and the evaluated sums, products, powers and calls sympy builds from them."""
    out = NUMBERS + SYMBOLS
    out += [x * y, y * x * 3, -x, -x * y, 2 * x, Rational(1, 64) * x * y, x ** 2, x * x * y, x + y, x - y, y - x,
            -x - y, x + 1, 2 * x + 3 * y, x * y + z, x + I, x * I, I * pi + x, x + pi, x * sqrt(2), 2 * (x + y),
            sympy.tanh(x), sympy.tanh(x + y), sympy.exp(x), fn.sigmoid(x), fn.relu(x - y), sympy.asinh(x),
            sympy.atanh(x), sympy.Abs(x), x ** -1, (x + y) ** 2, x + 0.5, x * 0.5, zero * x, zero + x, dxy * x,
            sympy.Symbol("n", commutative=False), sympy.sin(x) ** 2 + sympy.cos(x) ** 2 - 1, x * y - x * y * 2,
            sympy.Max(x, y), sympy.floor(x), x + y + z + w, 3 * x * y * z, x ** 2 * y, 2 * x ** 2]
    return out


def tree(e):
    """The structure of e: classes, argument order, atoms, commutativity (srepr refuses nan*nan unevaluated)."""
    if not isinstance(e, sympy.Basic):
        return repr(e)
    if not e.args:
        return type(e).__name__, e._hashable_content()
    return type(e).__name__, e.is_commutative, tuple(tree(a) for a in e.args)


def same(a, b) -> bool:
    return type(a) is type(b) and a == b and tree(a) == tree(b)


def agree(fast, ref, *args) -> None:
    """fast(*args) is ref(*args), or both raise the same exception."""
    try:
        want = ref(*args)
    except Exception as e:  # noqa: BLE001 - sympy refuses some of the pool (nan < 0)
        with pytest.raises(type(e)):
            fast(*args)
        return
    got = fast(*args)
    assert same(got, want), (args, got, want)
    assert getattr(got, "__dict__", None) == getattr(want, "__dict__", None)


ITEMS = pool()


@pytest.mark.parametrize("a,b", list(itertools.product(ITEMS, repeat=2)))
def test_mul_and_add_of_two(a, b):
    agree(fastsym.mul, sympy.Mul, a, b)
    agree(fastsym.add, sympy.Add, a, b)
    agree(fastsym.umul, lambda *xs: sympy.Mul(*xs, evaluate=False), a, b)
    agree(fastsym.uadd, lambda *xs: sympy.Add(*xs, evaluate=False), a, b)
    agree(fastsym.upow, lambda *xs: sympy.Pow(*xs, evaluate=False), a, b)


@pytest.mark.parametrize("e", [sympy.Integer(n) for n in (-3, -1, 0, 1, 2, 3)] + [Rational(1, 2), x, sympy.Float(2)])
@pytest.mark.parametrize("b", ITEMS)
def test_power(b, e):
    agree(fastsym.power, sympy.Pow, b, e)


FUNCS = [sympy.tanh, fn.sigmoid, fn.softplus, fn.relu, sympy.exp, sympy.sin, sympy.cos, sympy.tan, sympy.sinh,
         sympy.cosh, sympy.atan, fn.Abs, fn.sign, fn.lrelu]


@pytest.mark.parametrize("f", FUNCS, ids=lambda f: f.__name__)
def test_calls(f):
    for a in ITEMS:
        if isinstance(a, sympy.Symbol) and not a.is_commutative:
            continue
        agree(lambda v: fastsym.call(f, v), f, a)
        agree(lambda v: fastsym.ucall(f, v), lambda v: f(v, evaluate=False), a)


def test_calls_of_several_arguments():
    for args in ((x, y), (x, y, z), (x, Rational(1, 2))):
        for f in (fn.Max, fn.Min):
            agree(lambda *v: fastsym.ucall(f, *v), lambda *v: f(*v, evaluate=False), *args)
    agree(lambda *v: fastsym.ucall(fn.lrelu, *v), lambda *v: fn.lrelu(*v, evaluate=False), x, Rational(1, 10))


def test_random_sums_and_products():
    rng = random.Random(16)
    syms = [symbol(f"s{i}") for i in range(12)]
    coeffs = [S.One, S.NegativeOne, Rational(1, 64), Rational(-5, 3), sympy.Integer(7)]
    for _ in range(400):
        terms = []
        for _ in range(rng.randint(1, 9)):
            k = rng.random()
            s = rng.sample(syms, 2)
            if k < 0.3:
                t = sympy.Mul(*s)
            elif k < 0.5:
                t = sympy.Mul(rng.choice(coeffs), *s)
            elif k < 0.7:
                t = rng.choice(syms)
            elif k < 0.8:
                t = sympy.Pow(rng.choice(syms), 2)
            elif k < 0.9:
                t = rng.choice(coeffs)
            else:
                t = sympy.tanh(sympy.Add(*s))
            terms.append(t)
        assert same(fastsym.add(*terms), sympy.Add(*terms)), terms
        c = rng.choice(coeffs)
        total = sympy.Add(*terms)
        assert same(fastsym.mul(total, c), sympy.Mul(total, c)), (total, c)
        assert same(fastsym.mul(c, terms[0]), sympy.Mul(c, terms[0])), (c, terms[0])
        assert same(fastsym.call(sympy.tanh, total), sympy.tanh(total)), total


def test_sums_of_one_shape_in_sympys_order():
    """Terms of one shape are ordered by their symbols' names: the same order as Basic.compare."""
    rng = random.Random(3)
    names = [f"W_{i},{j}" for i in (1, 2, 10) for j in (1, 2, 10, 11)]
    names += ["x", "X", "x_1", "x_10", "x_2", "β", "h\u2063step", "a0", "a00", "a_0"]
    syms = [symbol(n) for n in names]
    half = Rational(1, 2)
    for _ in range(300):
        k = rng.randint(2, 12)
        pick = rng.sample(syms, k)
        other = rng.sample(syms, k)
        shapes = [
            [fastsym.mul(a, b) for a, b in zip(pick, other) if a != b],
            [fastsym.power(a, sympy.Integer(2)) for a in pick],
            [fastsym.mul(half, fastsym.power(a, sympy.Integer(2))) for a in pick],
            [fastsym.mul(Rational(1, 64), fastsym.mul(a, b)) for a, b in zip(pick, other) if a != b],
            list(pick),
            [fastsym.mul(a, b) for a, b in zip(pick, other) if a != b] + list(pick),
        ]
        for terms in shapes:
            assert same(fastsym.add(*terms), sympy.Add(*terms)), terms
            if terms:
                total, built = sympy.Add(*terms), fastsym.add(*terms)     # built: a sum fastsym knows
                for c in (Rational(-1, 3), Rational(1, 2), S.NegativeOne, sympy.Integer(2)):
                    assert same(fastsym.mul(c, total), sympy.Mul(c, total))
                    assert same(fastsym.mul(c, built), sympy.Mul(c, total))
                    assert same(fastsym.mul(Rational(1, 2), fastsym.mul(c, built)),
                                sympy.Mul(Rational(1, 2), sympy.Mul(c, total)))
                assert same(fastsym.call(sympy.tanh, total), sympy.tanh(total))
    for a in syms:
        for b in syms:
            if a != b:
                assert same(fastsym.mul(a, b), sympy.Mul(a, b))


def test_keys_order_as_basic_compare():
    extra = [symbol(n) for n in ("W_1,10", "W_1,2", "x_10", "x_2", "β", "B", "b")]
    items = ITEMS + extra + [a * b for a in extra for b in extra if a != b] + [a ** 2 for a in extra] + \
        [Rational(1, 2) * a ** 2 for a in extra] + [sympy.tanh(a) for a in extra] + [fn.sigmoid(a + 1) for a in extra]
    keyed = []
    for e in items:
        try:
            keyed.append((e, fastsym._key(e)))
        except fastsym._NoKey:
            pass
    assert len(keyed) > 100
    for a, ka in keyed:
        for b, kb in keyed:
            assert ((ka > kb) - (ka < kb)) == a.compare(b), (a, b)


def test_chains_of_sums_built_here():
    """Sums built by fastsym are scaled and extended by shortcuts (_scaled, _extended): against sympy at every
    step, both built side by side."""
    rng = random.Random(7)
    syms = [symbol(f"u_{i}") for i in range(30)] + [symbol(n) for n in ("b", "B", "β", "z_10")]
    coeffs = [Rational(1, 64), Rational(-1, 2), S.NegativeOne, sympy.Integer(2), Rational(1, 2), Rational(3, 1)]
    for _ in range(300):
        k = rng.randint(2, 10)
        kind = rng.random()
        pairs = [rng.sample(syms, 2) for _ in range(k)]
        if kind < 0.4:
            terms = [sympy.Mul(a, b) for a, b in pairs]
        elif kind < 0.6:
            c = rng.choice(coeffs)
            terms = [sympy.Mul(c, a, b) for a, b in pairs]
        elif kind < 0.8:
            c = rng.choice(coeffs)
            terms = [sympy.Mul(c, a) for a, _ in pairs]
        else:
            terms = [rng.choice([sympy.Mul(a, b), a, a ** 2, sympy.Mul(2, a)]) for a, b in pairs]
        if rng.random() < 0.3:
            terms.append(rng.choice(coeffs))
        fast, ref = fastsym.add(*terms), sympy.Add(*terms)
        assert same(fast, ref), terms
        for _ in range(4):
            step = rng.random()
            if step < 0.5:
                c = rng.choice(coeffs + [1 / rng.choice(coeffs)])
                fast, ref = fastsym.mul(c, fast), sympy.Mul(c, ref)
            else:
                extra = [rng.choice(syms + [rng.choice(coeffs), rng.choice(syms) * rng.choice(syms)])
                         for _ in range(rng.randint(1, 3))]
                fast, ref = fastsym.add(fast, *extra), sympy.Add(ref, *extra)
            assert same(fast, ref), (fast, ref)
            if not fast.is_Add:
                break


def test_dot_products():
    rng = random.Random(5)
    syms = [symbol(f"W_{i},{j}") for i in (1, 2, 10) for j in (1, 2, 3)] + [symbol(f"x_{i}") for i in range(1, 12)]
    other = [sympy.Symbol("q", real=True), sympy.Symbol("p"), Rational(1, 2), x * y, sympy.tanh(x)]
    for _ in range(400):
        n = rng.randint(1, 9)
        xs = [rng.choice(syms) for _ in range(n)]
        ys = [rng.choice(syms + (other if rng.random() < 0.2 else [])) for _ in range(n)]
        want = sympy.Add(*[sympy.Mul(a, b) for a, b in zip(xs, ys)])
        assert same(fastsym.dot(xs, ys), want), (xs, ys)
        assert same(fastsym.udot(xs, ys), sympy.Add(*[sympy.Mul(a, b, evaluate=False) for a, b in zip(xs, ys)],
                                                    evaluate=False))
        total = fastsym.dot(xs, ys)
        if total.is_Add:
            assert same(fastsym.mul(Rational(1, 64), total), sympy.Mul(Rational(1, 64), want))
            assert same(fastsym.add(fastsym.mul(Rational(1, 64), total), syms[0]),
                        sympy.Add(sympy.Mul(Rational(1, 64), want), syms[0]))


def test_graph_parents_are_the_free_symbols_that_are_nodes():
    from examsolve.graph import _symbols_in

    nodes = {s: None for s in (x, y, z, dxy)}
    exprs = ITEMS + [fastsym.dot([x, y, w], [z, x, y]), fastsym.mul(Rational(1, 3), fastsym.dot([x, w], [y, z])),
                     sympy.tanh(fastsym.add(fastsym.dot([x, w], [y, z]), z)), sympy.Piecewise((x, y > 0), (z, True)),
                     sympy.Derivative(sympy.Function("f")(x), x), sympy.Lambda(x, x + y), sympy.Tuple(x, y)]
    for e in exprs:
        got = _symbols_in(e, nodes)
        if got is not None:
            assert set(got) == {p for p in e.free_symbols if p in nodes} and len(got) == len(set(got)), e


@pytest.mark.filterwarnings("ignore")
def test_arguments_that_are_no_expressions_go_to_sympy():
    for odd in (sympy.true, sympy.Eq(x, y), sympy.Tuple(x, y)):
        for a, b in ((x, odd), (odd, x)):
            agree(fastsym.uadd, lambda *v: sympy.Add(*v, evaluate=False), a, b)
            agree(fastsym.umul, lambda *v: sympy.Mul(*v, evaluate=False), a, b)
            agree(fastsym.add, sympy.Add, a, b)
            agree(fastsym.mul, sympy.Mul, a, b)


def test_rebuild_is_func_of_args():
    """fastsym.rebuild(e, args) is e.func(*args) (evaluated or as written), for new arguments in place of old."""
    rng = random.Random(11)
    swap = {x: y, y: z, z: x, w: -x}
    for e in ITEMS + [x * y + z, sympy.tanh(x * y + w), fn.sigmoid(2 * x), x ** 3, Rational(1, 2) * x * y]:
        if not isinstance(e, sympy.Basic) or not e.args or not e.is_commutative:
            continue
        for _ in range(3):
            args = [a.xreplace(swap) if rng.random() < 0.7 else a for a in e.args]
            agree(lambda *v: fastsym.rebuild(e, v), lambda *v: e.func(*v), *args)
            agree(lambda *v: fastsym.rebuild(e, v, evaluate=False), lambda *v: e.func(*v, evaluate=False), *args)
