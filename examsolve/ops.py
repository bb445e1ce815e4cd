"""Arithmetic of the expression language: evaluated trees, trees as written, or both side by side (parse_both)."""
from __future__ import annotations

from typing import Any

import sympy
from sympy.core.parameters import global_parameters

from examsolve import fastsym


class Ops:
    """Arithmetic that builds evaluated or unevaluated (as written) sympy trees.

    The flag is passed to each constructor: toggling sympy's global `evaluate` clears its cache. fastsym
    builds sympy's own objects without its general constructors where it knows the result.
    """

    def __init__(self, evaluate: bool = True):
        """Ops that evaluate, or (evaluate=False) keep the tree as written."""
        self.ev = evaluate

    def add(self, *xs):
        """The sum of xs."""
        return _value_or(fastsym.add, sympy.Add, xs) if self.ev else fastsym.uadd(*xs)

    def mul(self, *xs):
        """The product of xs."""
        return _value_or(fastsym.mul, sympy.Mul, xs) if self.ev else fastsym.umul(*xs)

    def pow(self, a, b):
        """a ** b."""
        return _value_or(fastsym.power, sympy.Pow, (a, b)) if self.ev else fastsym.upow(a, b)

    def dot(self, xs, ys):
        """add(*[mul(x, y) for x, y in zip(xs, ys)])."""
        if not self.ev:
            return fastsym.udot(xs, ys)
        if global_parameters.evaluate:
            return fastsym.dot(xs, ys)
        return self.add(*[self.mul(x, y) for x, y in zip(xs, ys)])

    def neg(self, a):
        """-a, as the product -1 * a."""
        return self.mul(sympy.S.NegativeOne, a)

    def sub(self, a, b):
        """a - b, as a + (-1 * b)."""
        return self.add(a, self.neg(b))

    def div(self, a, b):
        """a / b, as a * b**-1."""
        return self.mul(a, self.pow(b, sympy.S.NegativeOne))

    def call(self, f, *args):
        """f(*args)."""
        if not self.ev:
            return fastsym.ucall(f, *args)
        return _call(f, args)


def _value_or(fast, make, args):
    """fast(*args), which is make(*args) under sympy's evaluation; make(*args, evaluate=True) when evaluation
    is switched off around (the flag passed explicitly, as before)."""
    if global_parameters.evaluate:
        return fast(*args)
    return make(*args, evaluate=True)


def _call(f, args):
    """f(*args, evaluate=True), as Ops has always called it (without eval where fastsym knows it does nothing)."""
    out = fastsym.plain_call(f, args)
    return f(*args, evaluate=True) if out is None else out


class Pair:
    """An operation's value and its form as written, built side by side (parse_both)."""

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        """A pair of value v and form as written d."""
        self.v, self.d = v, d


def value_of(x):
    """The value of an operand (a Pair's, or a name's or number's own)."""
    return x.v if type(x) is Pair else x


def shown_of(x):
    """The form as written of an operand, as built (a name's or number's own)."""
    return x.d if type(x) is Pair else x


_Mul_from_args = sympy.Mul._from_args


def flat_of(x):
    """The form as written of an operand, flattened: a Pair's is built so; a name's value is flattened here."""
    return x.d if type(x) is Pair else flatten(x)


def _spliced(kind: type, parts: list) -> list:
    """flatten's rule at one node: the arguments of a child of the same kind (Add in Add, Mul in Mul) in its place."""
    out = []
    for p in parts:
        if type(p) is kind:
            out.extend(p.args)
        else:
            out.append(p)
    return out


class DualOps(Ops):
    """Ops building each result twice, evaluated and as written (a Pair; names and numbers are both).

    The form as written is built flat (as flatten() would leave it: its operands are flat already, so a
    node needs only its own splice), so the tree is not walked again after parsing.
    """

    ev = None

    def __init__(self):
        """No flag: both forms are built."""
        pass

    def add(self, *xs):
        """The sum of xs, both ways."""
        return Pair(_value_or(fastsym.add, sympy.Add, [value_of(x) for x in xs]),
                    fastsym.uadd(*_spliced(sympy.Add, [flat_of(x) for x in xs])))

    def mul(self, *xs):
        """The product of xs, both ways."""
        return Pair(_value_or(fastsym.mul, sympy.Mul, [value_of(x) for x in xs]),
                    fastsym.umul(*_spliced(sympy.Mul, [flat_of(x) for x in xs])))

    def pow(self, a, b):
        """a ** b, both ways."""
        return Pair(_value_or(fastsym.power, sympy.Pow, (value_of(a), value_of(b))), fastsym.upow(flat_of(a), flat_of(b)))

    def call(self, f, *args):
        """f(*args), both ways."""
        return Pair(_call(f, [value_of(x) for x in args]), fastsym.ucall(f, *[flat_of(x) for x in args]))

    def dot(self, xs, ys):
        """The dot product of xs and ys, both ways."""
        if not global_parameters.evaluate:
            return self.add(*[self.mul(x, y) for x, y in zip(xs, ys)])
        shown = [_Mul_from_args((x, y), True) if type(x) is type(y) is sympy.Symbol and x.is_commutative
                 and y.is_commutative else fastsym.umul(*_spliced(sympy.Mul, [flat_of(x), flat_of(y)]))
                 for x, y in zip(xs, ys)]          # two names: Mul(x, y, evaluate=False), nothing to flatten
        return Pair(fastsym.dot([value_of(x) for x in xs], [value_of(y) for y in ys]),
                    fastsym.uadd(*_spliced(sympy.Add, shown)))


class Unpaired(Exception):
    """DualOps cannot build this expression side by side (parse_both parses it twice)."""


def flatten(e: Any) -> Any:
    """Splice nested unevaluated sums and products: ((a + b) + c) -> a + b + c.

    A subtree with nothing to splice is kept as it is (rebuilding it would give an equal object).
    """
    if not isinstance(e, sympy.Basic) or not e.args:
        return e
    args = [flatten(a) for a in e.args]
    if isinstance(e, (sympy.Add, sympy.Mul)):
        flat = []
        for a in args:
            flat.extend(a.args if type(a) is type(e) else (a,))
        if len(flat) == len(e.args) and all(a is b for a, b in zip(flat, e.args)):
            return e
        if type(e) is sympy.Add:
            return fastsym.uadd(*flat)
        if type(e) is sympy.Mul:
            return fastsym.umul(*flat)
        return e.func(*flat, evaluate=False)
    if all(a is b for a, b in zip(args, e.args)):
        return e
    return e.func(*args, evaluate=False)
