"""Presentation MathML of sympy values, tensors and typed answers, every name escaped, for the HTML page."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import sympy
from sympy.printing.mathml import MathMLPresentationPrinter

from examsolve import typed
from examsolve.escape import html_text
from examsolve.names import text_name
from examsolve.renderers.printing import decimal_text, grid, text
from examsolve.tensor import Tensor
from examsolve.values import decimal, is_approx, sort_key

# names sympy may split into base, subscripts and superscripts itself: only ASCII letters, digits and _
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_FROM_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


class Printer(MathMLPresentationPrinter):
    """sympy's presentation printer with examsolve's names, ∂ fractions, iterates and decimals.

    sympy writes its text nodes raw (so its entities survive): every string from a spec is escaped here.
    """

    def __init__(self, names: dict | None = None):
        super().__init__({"order": "none", "mul_symbol": "dot"})
        self.names = names or {}

    def _el(self, tag: str, text_: str | None = None, *children):
        el = self.dom.createElement(tag)
        if text_ is not None:
            el.appendChild(self.dom.createTextNode(html_text(text_)))
        for c in children:
            el.appendChild(c)
        return el

    def _print_Symbol(self, sym, style="plain"):
        if hasattr(sym, "of"):          # ∂L/∂u as a fraction
            d = "d" if sym.total else "∂"
            return self._el("mfrac", None, self._el("mrow", None, self._el("mi", d), self._print(sym.of)),
                            self._el("mrow", None, self._el("mi", d), self._print(sym.wrt)))
        if hasattr(sym, "k"):           # w⁽¹⁾: the parameter after k steps
            k = self._el("mrow", None, self._el("mo", "("), self._el("mn", str(sym.k)), self._el("mo", ")"))
            return self._el("msup", None, self._print(sym.base), k)
        return self._name(sym.name)

    def _name(self, name: str):
        """A name as the text formats show it (γ, x̂, θ₁), its subscript as a MathML subscript."""
        if name in self.names or not _PLAIN_NAME.fullmatch(name):
            return self._el("mi", text_name(name, self.names))
        shown = text_name(name)
        base, _, sub = shown.partition("_")
        digits = re.fullmatch(r"(.*?)([₀-₉,]+)", base) if not sub else None
        if digits and digits.group(1):      # x₁, r₁,₂: a subscript of digits
            base, sub = digits.group(1), digits.group(2).translate(_FROM_SUB)
        if not sub:
            return self._el("mi", base)
        low = self._el("mn", sub) if re.fullmatch(r"[0-9,]+", sub) else self._el("mi", text_name(sub))
        return self._el("msub", None, self._el("mi", base), low)

    def _print_Function(self, e):
        if hasattr(e, "generic_name"):
            name = text_name(e.generic_name, self.names) + "'" * e.generic_order
        else:
            name = type(e).__name__
            name = name.lower() if name in ("Max", "Min") else name
        return self._el("mrow", None, self._el("mi", name), self._paren_comma_separated(*e.args))

    def _print_Float(self, e):
        return number(self, decimal(e, 10))

    def _print_UnevaluatedExpr(self, e):
        return self._print(e.args[0])

    def _print_Integer(self, e):
        return number(self, str(e.p))

    def _print_Exp1(self, e):
        return self._el("mi", "e")

    def _print_Relational(self, e):
        op = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}.get(e.rel_op, e.rel_op)
        return self._el("mrow", None, self._print(e.lhs), self._el("mo", op), self._print(e.rhs))

    def _print_Piecewise(self, e):
        rows = []
        for expr, cond in e.args:
            when = self._el("mtext", "otherwise") if cond == sympy.true else \
                self._el("mrow", None, self._el("mtext", "if\u00a0"), self._print(cond))
            rows.append(self._el("mtr", None, self._el("mtd", None, self._print(expr)), self._el("mtd", None, when)))
        table = self._el("mtable", None, *rows)
        table.setAttribute("columnalign", "left")
        return self._el("mrow", None, self._el("mo", "{"), table)

    def _print_And(self, e):
        return self._joined(e.args, "and")

    def _print_Or(self, e):
        return self._joined(e.args, "or")

    def _joined(self, args, word: str):
        out = self._el("mrow")
        for i, a in enumerate(args):
            if i:
                out.appendChild(self._el("mtext", f"\u00a0{word}\u00a0"))
            out.appendChild(self._print(a))
        return out


def number(p: Printer, s: str):
    """A decimal as <mn>, a leading minus as its own operator (so it is not read as part of the digits)."""
    if s.startswith("-"):
        return p._el("mrow", None, p._el("mo", "−"), p._el("mn", s[1:]))
    return p._el("mn", s)


def scalar(expr: Any, names: dict | None = None) -> str:
    """MathML (no <math> wrapper) of one sympy value; escaped text when the markup is not plain MathML."""
    try:
        out = Printer(names).doprint(expr).replace("&ExponentialE;", "e").replace("&ImaginaryI;", "i")
    except Exception:  # noqa: BLE001 - a value sympy cannot print as MathML is shown as text
        return mtext(text(expr, names))
    return out if is_clean(out) else mtext(text(expr, names))


def mtext(s: str) -> str:
    """Text inside maths, escaped."""
    return f"<mtext>{html_text(s)}</mtext>"


def mo(s: str) -> str:
    """An operator, escaped."""
    return f"<mo>{html_text(s)}</mo>"


def _mn(s: str) -> str:
    if s.startswith("-"):
        return f"<mrow><mo>−</mo><mn>{html_text(s[1:])}</mn></mrow>"
    return f"<mn>{html_text(s)}</mn>"


def value(v: Any, names: dict | None = None) -> str:
    """MathML of any value a step or answer holds: sympy value, Tensor, typed value or text."""
    if isinstance(v, Tensor):
        return tensor(v, lambda x: value(x, names))
    if isinstance(v, str):
        return mtext(v)
    if typed.is_typed(v):
        return typed_value(v, lambda x: value(x, names))
    if isinstance(v, int):
        return _mn(str(v))
    return scalar(v, names)


def tensor(t: Tensor, f) -> str:
    """A vector as a bracketed row, a matrix as a bracketed table; large ones show their corners."""
    if t.rank > 2:
        return "<mrow>" + mo("[") + mo(",").join(f(x) for x in t.items) + mo("]") + "</mrow>"
    cells = grid(t, f, "<mo>⋯</mo>")
    if t.rank == 1:
        rows = ["<mtr>" + "".join(f"<mtd>{c}</mtd>" for c in cells) + "</mtr>"]
    else:
        width = len(next(row for row in cells if row is not None))
        rows = ["<mtr>" + "".join("<mtd><mo>⋮</mo></mtd>" for _ in range(width)) + "</mtr>" if row is None
                else "<mtr>" + "".join(f"<mtd>{c}</mtd>" for c in row) + "</mtr>" for row in cells]
    return "<mrow><mo>[</mo><mtable>" + "".join(rows) + "</mtable><mo>]</mo></mrow>"


def _endpoint(x: Any, f) -> str:
    if x == sympy.oo:
        return "<mi>∞</mi>"
    if x == -sympy.oo:
        return "<mrow><mo>−</mo><mi>∞</mi></mrow>"
    return f(x)


def typed_value(v: Any, f) -> str:
    """MathML of a set, classification, critical points or yes/no; f shows one number."""
    if isinstance(v, bool) or isinstance(v, typed.Classification):
        return mtext(typed.text(v))
    if isinstance(v, sympy.Set):
        return _set(v, f)
    if not v.items:
        return mtext(typed.text(v))
    rows = []
    for cp in v.items:
        coords = mo(",").join(_endpoint(x, f) for _, x in cp.point)
        rows.append("<mtr><mtd><mrow>" + (mo("≈") if cp.approx else "") + mo("(") + coords + mo(")") + mo(":")
                    + mtext(cp.classification.words) + "</mrow></mtd></mtr>")
    table = '<mtable columnalign="left">' + "".join(rows) + "</mtable>"
    return "<mrow>" + table + (mtext(f"\u00a0({v.note})") if v.note else "") + "</mrow>"


def _set(s: sympy.Set, f) -> str:
    if s == sympy.EmptySet:
        return "<mi>∅</mi>"
    out = []
    for p in (list(s.args) if isinstance(s, sympy.Union) else [s]):
        if isinstance(p, sympy.Interval):
            left = "(" if p.left_open or p.start == -sympy.oo else "["
            right = ")" if p.right_open or p.end == sympy.oo else "]"
            out.append(mo(left) + _endpoint(p.start, f) + mo(",") + _endpoint(p.end, f) + mo(right))
        elif isinstance(p, sympy.FiniteSet):
            items = sorted(p, key=sort_key)
            out.append(mo("{") + mo(",").join(_endpoint(x, f) for x in items) + mo("}"))
        else:
            out.append(mtext(sympy.sstr(p)))
    return "<mrow>" + mo("∪").join(out) + "</mrow>"


def result(v: Any, digits: int, names: dict | None = None) -> str:
    """A result: exact, then ≈ decimal when it is not an integer (as the terminal shows it)."""
    exact = value(v, names)
    dec = decimal_text(v, digits)
    if dec is None or dec == text(v, names):
        return exact
    approx = tensor(v, lambda x: _mn(decimal(x, digits))) if isinstance(v, Tensor) else _mn(decimal(v, digits))
    if is_approx(v):
        return "<mrow>" + mo("≈") + approx + "</mrow>"
    return "<mrow>" + exact + mo("≈") + approx + "</mrow>"


def math(inner: str, cls: str = "") -> str:
    """A <math> element (display style, so fractions are full size) around MathML content."""
    c = f' class="{html_text(cls)}"' if cls else ""
    return f'<math{c} displaystyle="true"><mrow>{inner}</mrow></math>'


# ---- the check every printed value passes: only MathML elements and attributes, balanced -------------------
ELEMENTS = frozenset("math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mtable mtr mtd "
                     "mover munder munderover mpadded mphantom mstyle semantics annotation merror".split())
ATTRIBUTES = frozenset("class displaystyle columnalign stretchy fence separator lspace rspace linethickness "
                       "mathvariant form accent accentunder scriptlevel width height depth".split())


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag, attrs):
        if tag not in ELEMENTS or any(a not in ATTRIBUTES or (v and re.search(r"[<>&\"]", v)) for a, v in attrs):
            self.ok = False
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.ok = False

    def handle_data(self, data):
        if "<" in data:
            self.ok = False

    def _bad(self, *_):
        self.ok = False

    handle_comment = handle_decl = handle_pi = unknown_decl = _bad


def is_clean(markup: str) -> bool:
    """True when markup holds only MathML elements and attributes, properly nested, and no raw `<` in text."""
    c = _Checker()
    c.feed(markup)
    c.close()
    return c.ok and not c.stack and not c.rawdata
