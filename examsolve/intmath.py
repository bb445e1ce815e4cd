"""Integer arithmetic of the expression language: floor, ceil, // and %, exact, as people write them.

x // y is ⌊x/y⌋ and x % y is x − y·⌊x/y⌋ (the sign of y), as in Python, for integers and fractions alike.
Their derivatives are the ones that hold away from the jumps: 0 for floor and ceil, 1 and −⌊x/y⌋ for x % y.
"""
from __future__ import annotations

import sympy
from sympy import S


class floor(sympy.floor):
    """⌊x⌋: the largest integer ≤ x."""

    def fdiff(self, argindex=1):
        return S.Zero

    def _sympystr(self, printer):
        inner = printer._print(self.args[0])
        return f"⌊{inner}⌋" if getattr(printer, "primes", False) else f"floor({inner})"

    def _latex(self, printer, exp=None):
        out = r"\left\lfloor %s \right\rfloor" % printer._print(self.args[0])
        return out if exp is None else r"%s^{%s}" % (out, exp)


class ceil(sympy.ceiling):
    """⌈x⌉: the smallest integer ≥ x."""

    def fdiff(self, argindex=1):
        return S.Zero

    def _sympystr(self, printer):
        inner = printer._print(self.args[0])
        return f"⌈{inner}⌉" if getattr(printer, "primes", False) else f"ceiling({inner})"

    def _latex(self, printer, exp=None):
        out = r"\left\lceil %s \right\rceil" % printer._print(self.args[0])
        return out if exp is None else r"%s^{%s}" % (out, exp)


class Mod(sympy.Mod):
    """x mod y with the sign of y, as Python's %."""

    def fdiff(self, argindex=1):
        x, y = self.args
        return S.One if argindex == 1 else -floor(x / y)

    def _sympystr(self, printer):
        x, y = self.args
        if not getattr(printer, "primes", False):
            return f"Mod({printer._print(x)}, {printer._print(y)})"
        level = sympy.printing.precedence.PRECEDENCE["Mul"]
        return f"{printer.parenthesize(x, level)} mod {printer.parenthesize(y, level)}"


def floordiv(ops, a, b):
    """a // b as ⌊a/b⌋, built by ops (evaluated, or as written for a step)."""
    return ops.call(floor, ops.div(a, b))


def mod(ops, a, b):
    """a % b."""
    return ops.call(Mod, a, b)
