"""Printing of sympy values for people: one-line Unicode text and LaTeX."""
from __future__ import annotations

import re
from typing import Any

import sympy
from sympy.printing.str import StrPrinter

from examsolve.tensor import Tensor
from examsolve.values import decimal, is_approx, is_integer, is_numeric

from examsolve.names import GREEK, SUB as _SUB, SUP as _SUP, text_name  # noqa: F401


class TextPrinter(StrPrinter):
    """sympy's str printer with Unicode names, π, · and superscripts, in the order written."""

    def __init__(self, names: dict | None = None):
        super().__init__({"order": "none"})
        self.names = names or {}

    def _print_Symbol(self, expr):
        if hasattr(expr, "of"):
            d = "d" if expr.total else "∂"
            return f"{d}{self._print(expr.of)}/{d}{self._print(expr.wrt)}"
        if hasattr(expr, "k"):
            return f"{self._print(expr.base)}⁽{str(expr.k).translate(_SUP)}⁾"
        return text_name(expr.name, self.names)

    def _print_Pi(self, expr):
        return "π"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Mul(self, expr):
        if len(expr.args) == 2 and expr.args[0] == sympy.S.NegativeOne:
            return "-" + self.parenthesize(expr.args[1], 50, strict=True)
        return super()._print_Mul(expr)

    def _print_Function(self, expr):
        name = type(expr).__name__
        return f"{name.lower() if name in ('Max', 'Min') else name}({self.stringify(expr.args, ', ')})"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Float(self, expr):
        return decimal(expr, 10)


def text(expr: Any, names: dict | None = None) -> str:
    """One-line Unicode text of a sympy value or Tensor."""
    if isinstance(expr, Tensor):
        inner = [text(x, names) for x in expr.items]
        return _nest_text(inner, expr.shape)
    if isinstance(expr, str):
        return expr
    s = TextPrinter(names).doprint(expr)
    s = s.replace("**", "^").replace("*", "·")
    s = re.sub(r"\^(\d+)(?![\d.])", lambda m: m.group(1).translate(_SUP), s)
    return s


def _nest_text(items: list, shape: tuple) -> str:
    if len(shape) == 1:
        return "(" + ", ".join(items) + ")"
    step = len(items) // shape[0]
    return "[" + ", ".join(_nest_text(items[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])) + "]"


def latex(expr: Any, names: dict | None = None) -> str:
    """LaTeX of a sympy value; vectors as row vectors, matrices as bmatrix."""
    symbol_names = {}
    if names:
        for sym in getattr(expr, "free_symbols", ()) if not isinstance(expr, Tensor) else ():
            if sym.name in names:
                symbol_names[sym] = names[sym.name][0]
    if isinstance(expr, Tensor):
        cells = [latex(x, names) for x in expr.items]
        if expr.rank == 1:
            return r"\begin{bmatrix} " + " & ".join(cells) + r" \end{bmatrix}"
        if expr.rank == 2:
            c = expr.shape[1]
            rows = [" & ".join(cells[i * c:(i + 1) * c]) for i in range(expr.shape[0])]
            return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"
        return r"\left[" + ", ".join(cells) + r"\right]"
    if isinstance(expr, str):
        return r"\text{%s}" % latex_text(expr)
    return _latex_printer(expr, symbol_names)


def _latex_printer(expr, symbol_names):
    from sympy.printing.latex import LatexPrinter

    class _P(LatexPrinter):
        def _print_Symbol(self, e, style="plain"):
            if e in symbol_names:
                return symbol_names[e]
            if not e.name.isascii():
                return _math_unicode(e.name)
            name = e.name.replace("eps", "epsilon") if e.name.split("_")[0] == "eps" else e.name
            if name != e.name:
                return super()._print_Symbol(sympy.Symbol(name), style)
            return super()._print_Symbol(e, style)

        def _print_Float(self, e):
            return decimal(e, 10)

    return _P({"order": "none", "mul_symbol": "dot"}).doprint(expr)


def _math_unicode(name: str) -> str:
    """A display name with ∇, Greek letters or subscripts, in LaTeX math."""
    out = []
    for ch in name:
        if ch == "∇":
            out.append(r"\nabla ")
        elif ch in _GREEK_TEX:
            out.append("\\%s " % _GREEK_TEX[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            out.append(latex_text(ch).strip("$"))
    return "".join(out).strip()


_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_UNICODE_TEXT = {"−": "-", "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''",
                 "…": r"\ldots{}", "×": r"$\times$", "·": r"$\cdot$", "≈": r"$\approx$",
                 "ᵀ": r"$^{\mathsf{T}}$", "²": r"$^2$", "³": r"$^3$", "∂": r"$\partial$",
                 "‖": r"$\|$", "√": r"$\sqrt{}$", "→": r"$\to$", "≤": r"$\le$", "≥": r"$\ge$",
                 "∑": r"$\sum$", "Σ": r"$\Sigma$", "̂": "", "ε": r"$\varepsilon$"}
_GREEK_TEX = {v: k for k, v in GREEK.items() if k != "eps"}


def latex_text(s: str) -> str:
    """Plain text made safe for LaTeX (special characters escaped, Unicode mapped or dropped)."""
    import unicodedata

    s = re.sub(r"(\w)\u0302", lambda m: "\x00" + m.group(1), s)
    out = []
    hat = False
    for ch in s:
        if ch == "\x00":
            hat = True
            continue
        if hat:
            out.append("$\\hat{%s}$" % ch)
            hat = False
        elif ch in "ᵢⱼ":
            out.append("$_%s$" % ("i" if ch == "ᵢ" else "j"))
        elif ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif ch in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[ch])
        elif ch in _GREEK_TEX:
            out.append("$\\%s$" % _GREEK_TEX[ch])
        elif ch in "₀₁₂₃₄₅₆₇₈₉":
            out.append("$_{%d}$" % "₀₁₂₃₄₅₆₇₈₉".index(ch))
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


def value_text(v: Any, digits: int, names: dict | None = None) -> str:
    """A result as text: exact, then ≈ decimal when it is not an integer."""
    exact = text(v, names)
    dec = decimal_text(v, digits)
    if dec is None or dec == exact:
        return exact
    if is_approx(v):
        return "≈ " + dec if not exact.startswith("≈") else exact
    return f"{exact} ≈ {dec}"


def decimal_text(v: Any, digits: int) -> str | None:
    """The decimal form of a numeric, non-integer value (tensors elementwise), else None."""
    if isinstance(v, str) or not is_numeric(v) or is_integer(v):
        return None
    if isinstance(v, Tensor):
        return _nest_text([decimal(x, digits) for x in v.items], v.shape)
    return decimal(v, digits)


def decimal_latex(v: Any, digits: int) -> str | None:
    """The decimal form as LaTeX, else None."""
    if isinstance(v, str) or not is_numeric(v) or is_integer(v):
        return None
    if isinstance(v, Tensor):
        return latex(v.map(lambda x: sympy.Symbol(decimal(x, digits))))
    return decimal(v, digits)
