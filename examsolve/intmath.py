"""Integer arithmetic of the expression language: floor, ceil, // and %, exact, as people write them.

x // y is ⌊x/y⌋ and x % y is x − y·⌊x/y⌋ (the sign of y), as in Python, for integers and fractions alike.
Their derivatives are the ones that hold away from the jumps: 0 for floor and ceil, 1 and −⌊x/y⌋ for x % y.
"""
from __future__ import annotations

import sympy
from sympy import S


class _Rounding:
    """floor and ceil: derivative 0 away from the jumps, printed with their brackets (_marks)."""

    _marks: tuple = ()       # (text open, text close, LaTeX open, LaTeX close, sympy's name)

    def fdiff(self, argindex=1):
        return S.Zero

    def _sympystr(self, printer):
        left, right, _, _, name = self._marks
        inner = printer._print(self.args[0])
        return f"{left}{inner}{right}" if getattr(printer, "primes", False) else f"{name}({inner})"

    def _latex(self, printer, exp=None):
        _, _, left, right, _ = self._marks
        out = r"\left%s %s \right%s" % (left, printer._print(self.args[0]), right)
        return out if exp is None else r"%s^{%s}" % (out, exp)


class floor(_Rounding, sympy.floor):
    """⌊x⌋: the largest integer ≤ x."""

    _marks = ("⌊", "⌋", r"\lfloor", r"\rfloor", "floor")


class ceil(_Rounding, sympy.ceiling):
    """⌈x⌉: the smallest integer ≥ x."""

    _marks = ("⌈", "⌉", r"\lceil", r"\rceil", "ceiling")


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
