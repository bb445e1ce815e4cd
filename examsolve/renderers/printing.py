"""Printing of sympy values for people: one-line Unicode text and LaTeX."""
from __future__ import annotations

import re
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from examsolve import typed
from examsolve.tensor import Tensor
from examsolve.values import decimal, is_approx, is_integer, is_numeric, remembered

from examsolve.escape import GREEK_TEX as _GREEK_TEX, latex_name, latex_text  # noqa: F401 - latex_text re-exported
from examsolve.names import SUP as _SUP, text_name


class TextPrinter(StrPrinter):
    """sympy's str printer with Unicode names, π, · and superscripts, in the order written."""

    primes = True     # a function known only by name prints its derivative σ', not sigma_prime

    def __init__(self, names: dict | None = None):
        super().__init__({"order": "none"})
        self.names = names or {}

    def _print_Symbol(self, expr):
        if hasattr(expr, "of"):
            d = "d" if expr.total else "∂"
            return f"{d}{self._print(expr.of)}/{d}{self._print(expr.wrt)}"
        if hasattr(expr, "k"):
            return f"{self._print(expr.base)}⁽{str(expr.k).translate(_SUP)}⁾"
        return text_name(expr.name, self.names).replace("*", "∗")   # α* stays a name, not a product

    def _print_Pi(self, expr):
        return "π"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "-∞"

    def _print_Mul(self, expr):
        if len(expr.args) == 2 and expr.args[0] == sympy.S.NegativeOne:
            return "-" + self.parenthesize(expr.args[1], 50, strict=True)
        negated = _negated(expr)
        if negated is not None:     # -1·3/(-2) as written by a step: -(3/(-2)) reads -3/(-2)
            inner = self.parenthesize(negated, 40)
            return "-" + (f"({inner})" if inner.startswith("-") else inner)
        num, den = _over_fraction(expr)
        if den:                     # t/ŷ with ŷ = 1/(1 + e⁹): 1/(1/(1 + e⁹)), never 1/1/(1 + e⁹)
            return self.parenthesize(num, 50) + "".join(f"/({self._print(d)})" for d in den)
        return super()._print_Mul(expr)

    def _print_Function(self, expr):
        if hasattr(expr, "generic_name"):
            return f"{text_name(expr.generic_name, self.names)}{chr(39) * expr.generic_order}({self.stringify(expr.args, ', ')})"
        name = type(expr).__name__
        return f"{name.lower() if name in ('Max', 'Min') else name}({self.stringify(expr.args, ', ')})"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Limit(self, expr):
        e, z, z0, side = expr.args
        return f"lim_({self._print(z)}→{self._print(z0)}{'⁺' if str(side) == '+' else '⁻' if str(side) == '-' else ''}) " \
            + self.parenthesize(e, 50)

    def _print_Piecewise(self, expr):
        cases = [f"{self._print(e)} otherwise" if c == sympy.true else f"{self._print(e)} if {self._print(c)}"
                 for e, c in expr.args]
        return "(" + "; ".join(cases) + ")"

    def _print_Relational(self, expr):
        op = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        # an 'or' inside an 'and' in parentheses: a = b and (a = c or a = d), never read as (a = b and a = c) or …
        return " and ".join(f"({self._print(a)})" if isinstance(a, sympy.Or) else self._print(a) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(f"({self._print(a)})" if isinstance(a, sympy.And) else self._print(a) for a in expr.args)

    def _print_Float(self, expr):
        return decimal(expr, 10)


def _negated(expr) -> Any:
    """The rest of an unevaluated product -1·a·b..., or None."""
    args = expr.args
    if len(args) > 2 and args[0] == sympy.S.NegativeOne:
        return sympy.Mul(*args[1:], evaluate=False)
    return None


def _inverse_of_fraction(a) -> bool:
    """1/x where x is itself a fraction (1/(1 + e⁹) or 1/2): printed as a division, it needs brackets."""
    return a.is_Pow and a.exp == -1 and ((a.base.is_Pow and a.base.exp.is_negative)
                                         or (a.base.is_Rational and not a.base.is_Integer))


def _over_fraction(expr) -> tuple:
    """(numerator, [fractions divided by]) of a product, the list empty when nothing is divided by a fraction."""
    den = [a.base for a in expr.args if _inverse_of_fraction(a)]
    if not den:
        return expr, []
    num = [a for a in expr.args if not _inverse_of_fraction(a)]
    return (num[0] if len(num) == 1 else sympy.Mul(*num, evaluate=False)) if num else sympy.S.One, den


MAX_DIM = 10   # rows or columns shown in full; longer ones show the first 6, an ellipsis and the last


def _keep(n: int) -> list:
    return list(range(n)) if n <= MAX_DIM else list(range(6)) + [None] + [n - 1]


def grid(t: Tensor, f, gap: str) -> list:
    """f of the elements people are shown: all of a small tensor, the corners of a large one.

    Returns a list (vectors) or a list of row lists (matrices); skipped runs become `gap`.
    """
    if t.rank == 2:
        r, c = t.shape
        return [None if i is None else [gap if j is None else f(t.items[i * c + j]) for j in _keep(c)]
                for i in _keep(r)]
    return [gap if i is None else f(t.items[i]) for i in _keep(len(t))]


def text(expr: Any, names: dict | None = None) -> str:
    """One-line Unicode text of a sympy value or Tensor."""
    return remembered(_text, expr, names)


def _text(expr: Any, names: dict | None) -> str:
    if isinstance(expr, Tensor):
        return _tensor_text(expr, lambda x: text(x, names))
    if isinstance(expr, str):
        return expr
    if typed.is_typed(expr):
        return typed.text(expr)
    s = TextPrinter(names).doprint(expr)
    s = s.replace("**", "^").replace("*", "·")
    s = re.sub(r"\^(\d+)(?![\d.])", lambda m: m.group(1).translate(_SUP), s)
    return s


def _tensor_text(t: Tensor, f) -> str:
    if t.rank > 2:
        return "[" + ", ".join(f(x) for x in t.items) + "]"
    cells = grid(t, f, "…")
    if t.rank == 1:
        return "(" + ", ".join(cells) + ")"
    return "[" + ", ".join("…" if row is None else "(" + ", ".join(row) + ")" for row in cells) + "]"


def latex(expr: Any, names: dict | None = None) -> str:
    """LaTeX of a sympy value; vectors as row vectors, matrices as bmatrix."""
    return remembered(_latex, expr, names)


def _latex(expr: Any, names: dict | None) -> str:
    symbol_names = {}
    if names:
        for sym in getattr(expr, "free_symbols", ()) if not isinstance(expr, Tensor) else ():
            if sym.name in names:
                symbol_names[sym] = names[sym.name][0]
    if isinstance(expr, Tensor):
        return _tensor_latex(expr, lambda x: latex(x, names))
    if isinstance(expr, str):
        return r"\text{%s}" % latex_text(expr)
    if typed.is_typed(expr):
        return typed.latex(expr, lambda x: _latex_printer(x, {}))
    return _latex_printer(expr, symbol_names)


def _tensor_latex(t: Tensor, f) -> str:
    if t.rank > 2:
        return r"\left[" + ", ".join(f(x) for x in t.items) + r"\right]"
    cells = grid(t, f, r"\cdots")
    if t.rank == 1:
        return r"\begin{bmatrix} " + " & ".join(cells) + r" \end{bmatrix}"
    width = len(next(row for row in cells if row is not None))
    rows = [" & ".join(r"\ddots" if k == 6 and width > 7 else r"\vdots" for k in range(width)) if row is None
            else " & ".join(row) for row in cells]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _latex_printer(expr, symbol_names):
    return _LatexPrinter(symbol_names).doprint(expr)


class _LatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with examsolve's names, decimals and fractions, in the order written."""

    def __init__(self, symbol_names: dict):
        super().__init__({"order": "none", "mul_symbol": "dot"})
        self.symbol_names = symbol_names

    def _print_Symbol(self, e, style="plain"):
        if e in self.symbol_names:
            return self.symbol_names[e]
        if not e.name.isascii():
            return _math_unicode(e.name)
        if not _SYMPY_NAME.fullmatch(e.name):
            # sympy copies a name with braces or backslashes into its LaTeX as it is: never such a name
            return latex_name(e.name)
        name = e.name.replace("eps", "epsilon") if e.name.split("_")[0] == "eps" else e.name
        if name != e.name:
            return super()._print_Symbol(sympy.Symbol(name), style)
        return super()._print_Symbol(e, style)

    def _print_Float(self, e):
        return decimal(e, 10)

    def _print_Mul(self, e):
        negated = _negated(e)
        if negated is not None:
            inner = self.parenthesize(negated, 40)
            return "- " + (r"\left(%s\right)" % inner if inner.startswith("-") else inner)
        num, den = _over_fraction(e)
        if den:
            out = self._print(num)
            for d in den:
                out = r"\frac{%s}{%s}" % (out, self._print(d))
            return out
        return super()._print_Mul(e)

    def _print_Pow(self, e, *args, **kwargs):
        if _inverse_of_fraction(e):
            return r"\frac{1}{%s}" % self._print(e.base)
        if isinstance(e.base, sympy.Function) and type(e.base).__module__ == "examsolve.functions" and not (
                e.exp.is_Rational and e.exp.q != 1) and e.exp != -1:
            # sympy hands a function's power to its _latex as exp=..., which examsolve's functions do not take
            return r"\left(%s\right)^{%s}" % (self._print(e.base), self._print(e.exp))
        return super()._print_Pow(e, *args, **kwargs)


# Names sympy's printer may typeset itself: a letter, then letters, digits, _ and punctuation without a meaning
# in math mode (x_1, alpha, xhat, H(p), alpha*). Anything else, braces and backslashes above all, is typeset as
# \text{...} of its escaped text.
_SYMPY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_ ()\[\]*'+\-/,.;:!?|<>=]*")
_MATH_ASCII = re.compile(r"[A-Za-z0-9 ()\[\]*'+\-/,.;:!?|<>=]")


def _math_unicode(name: str) -> str:
    """A display name with ∇, Greek letters or subscripts, in LaTeX math.

    Only characters with a known math form pass; a name with any other character (a backslash, a brace, a
    dollar, a subscript with nothing to hold) is typeset as \text{...} of its escaped text instead.
    """
    out = []
    for i, ch in enumerate(name):
        nxt = name[i + 1] if i + 1 < len(name) else ""
        if ch == "∇":
            out.append(r"\nabla ")
        elif ch in _GREEK_TEX:
            out.append("\\%s " % _GREEK_TEX[ch])
        elif ch == "_" and i and ((nxt.isascii() and nxt.isalnum()) or nxt in _GREEK_TEX):
            out.append(ch)
        elif ch.isascii():
            if not _MATH_ASCII.fullmatch(ch):
                return latex_name(name)
            out.append(ch)
        else:
            tex = latex_text(ch)
            if tex.startswith("$") and tex.endswith("$"):
                tex = tex[1:-1]
            elif re.search(r"[\\{}$&#%^~_]", tex):      # a text-mode command: no math form
                return latex_name(name)
            if tex[:1] in "_^" and tex and out and out[-1][:1] == tex[0]:
                tex = "{}" + tex                         # x₁₂: x_{1}{}_{2}, not a double subscript
            out.append(tex + " " if tex.startswith("\\") else tex)   # \partial L, not \partialL
    return "".join(out).strip()


LONG_EXACT = 40   # characters of one exact number past which only its decimal is shown (JSON keeps it exact)


def too_long(v: Any) -> bool:
    """An exact number (or tensor) with an entry too long to copy onto a sheet, e.g. Adam's
    60000000/600000001 + 33600000057/(57000000095·(…)) from ε = 1e-8: it is shown by its decimal."""
    if not _plain_number(v) or is_approx(v):
        return False
    items = v.items if isinstance(v, Tensor) else (v,)
    return any(len(text(x)) > LONG_EXACT for x in items)


def value_text(v: Any, digits: int, names: dict | None = None) -> str:
    """A result as text: exact, then ≈ decimal when it is not an integer (the decimal alone when the exact
    form is too long to read)."""
    dec = decimal_text(v, digits)
    if dec is not None and (is_approx(v) or too_long(v)):
        return "≈ " + dec
    exact = text(v, names)
    if dec is None:
        return exact
    return exact if dec == exact else f"{exact} ≈ {dec}"


def _plain_number(v: Any) -> bool:
    """A finite, non-integer number (or tensor of numbers): one that has a decimal form worth showing."""
    if isinstance(v, str) or not is_numeric(v) or is_integer(v):
        return False
    items = v.items if isinstance(v, Tensor) else (v,)
    return not any(getattr(x, "is_infinite", False) or x is sympy.nan for x in items)


def decimal_text(v: Any, digits: int) -> str | None:
    """The decimal form of a numeric, non-integer value (tensors elementwise), else None."""
    if not _plain_number(v):
        return None
    if isinstance(v, Tensor):
        return _tensor_text(v, lambda x: decimal(x, digits))
    return decimal(v, digits)


def decimal_latex(v: Any, digits: int) -> str | None:
    """The decimal form as LaTeX, else None."""
    if not _plain_number(v):
        return None
    if isinstance(v, Tensor):
        return _tensor_latex(v, lambda x: decimal(x, digits))
    return decimal(v, digits)


def short_text(v: Any, limit: int = 16) -> str:
    """A value for a small label: exact when short, else a 4-digit decimal (tensors elementwise)."""
    exact = text(v)
    if len(exact) <= limit:
        return exact
    if isinstance(v, Tensor):
        return _tensor_text(v, lambda x: _short_scalar(x, limit))
    return _short_scalar(v, limit)


def _short_scalar(x: Any, limit: int) -> str:
    exact = text(x)
    if len(exact) <= limit or not is_numeric(x):
        return exact
    return decimal(x, 4)


def short_latex(v: Any, limit: int = 16) -> str:
    """LaTeX for a small label: exact when short, else 4-digit decimals."""
    if len(text(v)) <= limit or not is_numeric(v):
        return latex(v)
    if isinstance(v, Tensor):
        return _tensor_latex(v, lambda x: latex(x) if len(text(x)) <= limit else decimal(x, 4))
    return decimal(v, 4)
