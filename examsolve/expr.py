"""The expression language: text -> sympy through an AST whitelist. Nothing is ever executed.

Numbers are exact (0.2 is 1/5); `pi` and `e` are the constants unless a spec defines them;
every other name is a plain real symbol (gamma, beta, E, I, N, S, lambda ...).
"""
from __future__ import annotations

import ast
import re
import warnings
from fractions import Fraction
from typing import Any, Mapping

import sympy

from examsolve import calls, fastsym, intmath
from examsolve.calls import ELEMENTWISE, FUNCTION_NAMES  # noqa: F401 - expr.ELEMENTWISE, as before the split
from examsolve.errors import ExprError, nearest
from examsolve.ops import DualOps, Ops, Pair, Unpaired, flat_of, flatten, shown_of, value_of
from examsolve.spelling import BACK, folded, keywords_renamed
from examsolve.tensor import ShapeError, Tensor, from_nested
from examsolve.tensor_ops import MAX_MATMUL, broadcast, index, matmul, softmax, transpose  # noqa: F401 - used from expr

MAX_LENGTH = 4000          # characters in one expression
MAX_NESTING = 64           # brackets inside brackets
MAX_DEPTH = 200            # depth of the syntax tree (long sums are deep)
MAX_DIGITS = 60            # digits in one number literal
MAX_LITERAL_EXP = 100      # |n| in 1e<n>
MAX_EXPONENT = 1000        # |b| in a**b when b is a number
MAX_RESULT_DIGITS = 20_000  # digits of an exact power of numbers

Value = Any  # sympy.Expr | Tensor


_SYMBOLS: dict = {}
MAX_SYMBOLS_KEPT = 1 << 20


def symbol(name: str) -> sympy.Symbol:
    """The one real symbol for a spec name (kept here: sympy's own cache holds 1000 objects)."""
    s = _SYMBOLS.get(name)
    if s is None:
        if len(_SYMBOLS) >= MAX_SYMBOLS_KEPT:
            _SYMBOLS.clear()
        s = _SYMBOLS[name] = _real_symbol(name)
    return s


def _real_symbol(name: str) -> sympy.Symbol:
    """sympy.Symbol(name, real=True), built as Symbol.__xnew__ builds it, with the assumption tables every real
    symbol shares (sympy caches them too) looked up once instead of per symbol."""
    if not isinstance(name, str):
        return sympy.Symbol(name, real=True)       # its TypeError
    obj = sympy.Expr.__new__(sympy.Symbol)
    obj.name = name
    obj._assumptions, obj._assumptions_orig, obj._assumptions0 = fastsym.REAL_ASSUMPTIONS
    return obj


CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "e": sympy.E}


def parse(text: str, names: Mapping[str, Value], *, allow_free: bool = False,
          evaluate: bool = True) -> Value:
    """Parse one expression; names map to sympy values or Tensors.

    Unknown names are an ExprError unless allow_free, when they become symbols.
    """
    if not isinstance(text, str):
        raise ExprError(f"expected an expression, got {type(text).__name__}")
    lead, body = _one_line(text)
    try:
        out = Converter(body, names, allow_free, Ops(evaluate)).visit(_syntax(body).body)
    except ExprError as e:
        raise ExprError(e.message, e.offset + lead) from None
    if evaluate:
        return out
    return out.map(flatten) if isinstance(out, Tensor) else flatten(out)


def parse_both(text: str, names: Mapping[str, Value], *, allow_free: bool = False) -> tuple[Value, Value]:
    """(parse(text, names), parse(text, names, evaluate=False)) from one reading of the text.

    The value and the tree as written are built side by side, each operation once in each form. An
    expression this cannot take (a call of a function known by name) or that fails is parsed the two ways
    one after the other, so its results and errors are parse's own.
    """
    if isinstance(text, str):
        try:
            return _parse_dual(text, names, allow_free)
        except (Unpaired, ExprError):   # the two parses give the value, the tree or the error (its offset)
            pass
    return parse(text, names, allow_free=allow_free), parse(text, names, allow_free=allow_free, evaluate=False)


def _parse_dual(text: str, names: Mapping[str, Value], allow_free: bool) -> tuple[Value, Value]:
    _, body = _one_line(text)
    out = Converter(body, names, allow_free, DualOps()).visit(_syntax(body).body)
    if isinstance(out, Tensor):
        return out.map(value_of), out.map(flat_of)
    return value_of(out), flat_of(out)


def _one_line(text: str) -> tuple[int, str]:
    """One line without leading blanks (ast would see an indent), and how many blanks were cut."""
    flat = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    lead = len(flat) - len(flat.lstrip())
    return lead, flat[lead:]


def syntax_tree(text: str) -> tuple[ast.AST, str]:
    """The checked syntax tree of an expression and the text its positions refer to (for drawings)."""
    _, body = _one_line(text)
    return _syntax(body).body, body


def parse_equation(text: str, names: Mapping[str, Value], *, allow_free: bool = False) -> sympy.Expr:
    """Parse `lhs = rhs` into lhs - rhs (a bare expression means expr = 0)."""
    parts = re.split(r"(?<![=<>!])=(?!=)", text)
    if len(parts) > 2:
        raise ExprError("an equation has one '='", len(parts[0]) + len(parts[1]) + 1)
    if len(parts) == 1:
        return _scalar(parse(text, names, allow_free=allow_free), 0)
    lhs = _scalar(parse(parts[0], names, allow_free=allow_free), 0)
    try:
        rhs = _scalar(parse(parts[1], names, allow_free=allow_free), 0)
    except ExprError as e:
        raise ExprError(e.message, e.offset + len(parts[0]) + 1) from None
    return lhs - rhs


def _syntax(text: str) -> ast.Expression:
    """Check the bounds and parse to a Python syntax tree (never compiled or run)."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise ExprError("empty expression; write a number, a name or a formula")
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ExprError(f"brackets nested more than {MAX_NESTING} deep; simplify the expression", i)
        elif ch in ")]}":
            depth -= 1
    src = keywords_renamed(text)
    try:
        if _MAY_WARN.search(src):
            with warnings.catch_warnings():     # e.g. "invalid escape sequence" for text that is no formula
                warnings.simplefilter("ignore")
                tree = ast.parse(src, mode="eval")
        else:
            tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        offset = max((e.offset or 1) - 1, 0)
        msg = (e.msg or "invalid syntax").replace("invalid syntax. Perhaps you forgot a comma?", "invalid syntax")
        raise ExprError(f"cannot read the expression ({msg}); write it as in Python, e.g. 2*x + sin(w)", offset) from None
    except (ValueError, MemoryError, RecursionError):
        raise ExprError("cannot read the expression; it is not a formula") from None
    if 2 * len(text) + 10 > MAX_DEPTH:
        # each level of the tree stands on at least one character of its own (an operator, a bracket, a
        # name): a shorter text cannot nest deeper
        _check_depth(tree)
    return tree


# what Python's tokenizer warns about while reading (ast.parse runs no compiler checks): escape sequences in
# string literals, and a number run into a letter ("1if"); a text with neither reads without warnings
_MAY_WARN = re.compile(r"[\"'\\]|\d[A-Za-z_]")


def _check_depth(tree: ast.AST) -> None:
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if d > MAX_DEPTH:
            raise ExprError(f"expression nested more than {MAX_DEPTH} deep; split it into named equations",
                            getattr(node, "col_offset", 0))
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(node))


_NUMBER = re.compile(r"^(?P<mant>(\d[\d_]*)?\.?\d*[\d_]*)(?:[eE](?P<exp>[+-]?\d+))?$")


_NUMBERS: dict = {}


def number(literal: str) -> sympy.Rational:
    """An exact rational from a decimal literal like 0.2, 1e-3 or 12; ExprError when too large."""
    known = _NUMBERS.get(literal)
    if known is not None:
        return known
    value = _number(literal)
    if len(_NUMBERS) >= 4096:
        _NUMBERS.clear()
    _NUMBERS[literal] = value
    return value


# a number as Python writes it, without underscores or blanks: a given value in a spec is mostly one
LITERAL = re.compile(r"-?(?:(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|0+|[1-9]\d*)")


def literal_value(text: str) -> tuple[sympy.Rational, sympy.Expr] | None:
    """(value, form as written) of a plain number literal such as 0.5 or -1e-3, as parse gives them; None for
    any other text (and for a literal number() refuses: parse then gives the error)."""
    if not LITERAL.fullmatch(text):
        return None
    try:
        v = number(text.lstrip("-"))
    except ExprError:
        return None
    if text.startswith("-"):
        return -v, fastsym.umul(sympy.S.NegativeOne, v)
    return v, v


def _number(literal: str) -> sympy.Rational:
    """number() without its memory."""
    text = literal.replace("_", "").strip()
    m = _NUMBER.match(text)
    if not m or not any(c.isdigit() for c in m.group("mant")):
        raise ExprError(f"'{literal}' is not a number")
    digits = sum(c.isdigit() for c in m.group("mant"))
    if digits > MAX_DIGITS:
        raise ExprError(f"number with {digits} digits; the limit is {MAX_DIGITS}")
    if m.group("exp") and abs(int(m.group("exp"))) > MAX_LITERAL_EXP:
        raise ExprError(f"exponent in '{literal}' is beyond ±{MAX_LITERAL_EXP}")
    f = Fraction(text)
    return sympy.Rational(f.numerator, f.denominator)


def _digits(n: int) -> int:
    """Decimal digits of |n| without str() (Python refuses str() of an int past 4300 digits)."""
    n = abs(int(n))
    if n < 10 ** 15:
        return len(str(n))
    d = int((n.bit_length() - 1) * 0.30102999566398120)     # 10**d <= n: n has d + 1 or d + 2 digits
    return d + 2 if n >= 10 ** (d + 1) else d + 1


def check_power(base: sympy.Expr, exp: sympy.Expr) -> None:
    """Refuse a power of numbers that would take too long to compute exactly."""
    if not getattr(exp, "is_Rational", False):
        return
    e = abs(exp.p) / exp.q   # plain Python numbers: this also runs while sympy evaluation is off
    trivial = getattr(base, "is_Rational", False) and base.q == 1 and abs(base.p) in (0, 1)
    if e > MAX_EXPONENT and not trivial:
        raise ExprError(f"exponent {exp} is too large (the limit is {MAX_EXPONENT})")
    if getattr(base, "is_Rational", False) and not trivial:
        size = max(_digits(base.p), _digits(base.q))
        if size * e > MAX_RESULT_DIGITS:
            shown = base if size <= 40 else f"(a {size}-digit number)"
            raise ExprError(f"{shown}**{exp} has more than {MAX_RESULT_DIGITS} digits")


def _scalar(v: Value, offset: int) -> sympy.Expr:
    if isinstance(v, Tensor):
        if len(v) == 1:
            return v.items[0]
        raise ExprError(f"expected a scalar, got a tensor of shape {v.shape}", offset)
    return v


class Converter:
    """Walks a whitelisted syntax tree and builds sympy values."""

    def __init__(self, text: str, names: Mapping[str, Value], allow_free: bool = False, ops: Ops | None = None,
                 overrides: dict | None = None):
        """A converter for text (positions refer to it) whose names map to values; ops builds the results."""
        self.text, self.names, self.allow_free = text, names, allow_free
        self.ops = ops or Ops()
        self.overrides = overrides or {}   # id(syntax node) -> value used instead of the subtree

    def fail(self, node: ast.AST, message: str) -> ExprError:
        """An ExprError at node's column."""
        return ExprError(message, getattr(node, "col_offset", 0))

    def visit(self, node: ast.AST) -> Value:
        """The value of a syntax node; a node without a visit_ method is not allowed."""
        if id(node) in self.overrides:
            return self.overrides[id(node)]
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"'{_snippet(self.text, node)}' is not allowed in an expression "
                                  "(use numbers, names, + - * / ** @, .T, indexing and the listed functions)")
        try:
            return method(node)
        except ShapeError as e:
            raise self.fail(node, str(e)) from None
        except (ZeroDivisionError, OverflowError, RecursionError, MemoryError):
            raise self.fail(node, f"cannot evaluate '{_snippet(self.text, node)}'") from None

    def visit_Constant(self, node: ast.Constant) -> Value:
        """A number literal, exact as written (0.2 is 1/5)."""
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise self.fail(node, f"{node.value!r} is not a number or a name")
        seg = ast.get_source_segment(self._src(), node) or str(node.value)
        return number(seg)

    def _src(self) -> str:
        """The text as Python's parser read it (its positions are the tree's)."""
        return keywords_renamed(self.text)

    def lookup(self, node: ast.AST, name: str) -> str:
        """The spec's spelling of a name as Python's parser gives it.

        The parser folds identifiers to NFKC (ϐ becomes β, ﬁ becomes fi); a spec's keys are not folded,
        so a name is found under any spelling with the same folded form. Two spec names that fold to one
        are ambiguous in an expression: an ExprError says so.
        """
        spellings = folded(self.names).get(name, ())
        found = ([name] if name in self.names else []) + [k for k in spellings if k != name]
        if len(found) > 1:
            raise self.fail(node, f"the names {', '.join(repr(k) for k in found)} read as one name in an "
                                  "expression (Unicode NFKC folding); rename one of them")
        return found[0] if found else name

    def visit_Name(self, node: ast.Name) -> Value:
        """A spec name's value, a constant, or (allow_free) a new symbol."""
        name = self.lookup(node, BACK.get(node.id, node.id))
        if name.startswith("__"):
            raise self.fail(node, f"'{name}' is not a valid name")
        if name in self.names:
            return self.names[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTION_NAMES:
            raise self.fail(node, f"'{name}' is a function; call it, e.g. {name}(x)")
        if self.allow_free:
            return symbol(name)
        known = [n for n in self.names if not n.startswith("_")]
        raise self.fail(node, f"unknown name '{name}'{nearest(name, known)}"
                              " (define it under given:, equations: or symbols:)")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Value:
        """-x or +x."""
        v = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return v.map(self.ops.neg) if isinstance(v, Tensor) else self.ops.neg(v)
        if isinstance(node.op, ast.UAdd):
            return v
        raise self.fail(node, "only + and - may stand before a value")

    def visit_BinOp(self, node: ast.BinOp) -> Value:
        """a + b, a - b, a * b, a / b, a // b, a % b, a ** b or a @ b, broadcast over tensors."""
        a, b = self.visit(node.left), self.visit(node.right)
        op = node.op
        ops = self.ops
        if isinstance(op, ast.MatMult):
            return matmul(a, b, ops)
        if isinstance(op, ast.Pow):
            def power(x, y):
                """x ** y, once check_power allows it."""
                try:
                    check_power(value_of(x), value_of(y))
                    if type(x) is Pair or type(y) is Pair:      # parse_both: the form as written too
                        check_power(shown_of(x), shown_of(y))
                except ExprError as e:
                    raise self.fail(node, e.message) from None
                return ops.pow(x, y)
            return broadcast(power, a, b)
        f = {ast.Add: ops.add, ast.Sub: ops.sub, ast.Mult: ops.mul, ast.Div: ops.div,
             ast.FloorDiv: lambda x, y: intmath.floordiv(ops, x, y), ast.Mod: lambda x, y: intmath.mod(ops, x, y),
             }.get(type(op))
        if f is None:
            raise self.fail(node, f"operator '{_snippet(self.text, node)}' is not allowed; use + - * / // % ** @")
        return broadcast(f, a, b)

    def visit_Attribute(self, node: ast.Attribute) -> Value:
        """x.T, the transpose (the only attribute)."""
        if node.attr != "T":
            raise self.fail(node, f"'.{node.attr}' is not allowed; only .T (transpose) is")
        return transpose(self.visit(node.value))

    def visit_List(self, node: ast.List) -> Value:
        """[a, b, ...]: a vector, or a matrix from lists of rows."""
        if not node.elts:
            raise self.fail(node, "an empty list has no value")

        def nested(v):
            """A tensor as nested lists, a scalar as itself."""
            return v.nested() if isinstance(v, Tensor) else v
        return from_nested([nested(self.visit(e)) for e in node.elts])

    def visit_Tuple(self, node: ast.Tuple) -> Value:
        """Refused: vectors are written in brackets."""
        raise self.fail(node, "write vectors in brackets, e.g. [1, 2]")

    def visit_Subscript(self, node: ast.Subscript) -> Value:
        """x[i] or m[i, j]: an element or a slice of a tensor (tensor_ops.index)."""
        return index(self, node)

    def visit_Call(self, node: ast.Call) -> Value:
        """A call of a listed function, or of one the spec declares (calls.call)."""
        return calls.call(self, node)


def _snippet(text: str, node: ast.AST) -> str:
    """The text of a syntax node for a message, cut to 40 characters."""
    try:
        seg = ast.get_source_segment(text, node)
    except Exception:  # noqa: BLE001 - a missing snippet only shortens the message
        seg = None
    seg = seg or type(node).__name__
    return seg if len(seg) <= 40 else seg[:37] + "..."
