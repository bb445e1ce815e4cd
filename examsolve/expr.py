"""The expression language: text -> sympy through an AST whitelist. Nothing is ever executed.

Numbers are exact (0.2 is 1/5); `pi` and `e` are the constants unless a spec defines them;
every other name is a plain real symbol (gamma, beta, E, I, N, S, lambda ...).
"""
from __future__ import annotations

import ast
import itertools
import re
import unicodedata
import warnings
from fractions import Fraction
from typing import Any, Callable, Mapping

import sympy
from sympy.core.parameters import global_parameters

from examsolve import fastsym, functions as fn, intmath, named_calls
from examsolve.errors import ExprError, nearest
from examsolve.tensor import ShapeError, Tensor, from_nested, indices

MAX_LENGTH = 4000          # characters in one expression
MAX_NESTING = 64           # brackets inside brackets
MAX_DEPTH = 200            # depth of the syntax tree (long sums are deep)
MAX_DIGITS = 60            # digits in one number literal
MAX_LITERAL_EXP = 100      # |n| in 1e<n>
MAX_EXPONENT = 1000        # |b| in a**b when b is a number
MAX_RESULT_DIGITS = 20_000  # digits of an exact power of numbers
MAX_MATMUL = 200_000       # scalar products in one @

_KEYWORD_NAMES = {"lambda": "_lmbda"}   # same length, so columns stay right
_BACK = {v: k for k, v in _KEYWORD_NAMES.items()}

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

ELEMENTWISE: dict[str, Callable] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp,
    "sqrt": sympy.sqrt, "abs": fn.Abs, "sign": fn.sign, "tanh": sympy.tanh,
    "sigmoid": fn.sigmoid, "relu": fn.relu, "softplus": fn.softplus,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "atan": sympy.atan, "floor": intmath.floor, "ceil": intmath.ceil,
}
FUNCTION_NAMES = tuple(sorted(set(ELEMENTWISE) | {
    "log", "lrelu", "max", "min", "clip", "sum", "mean", "dot", "norm", "softmax"}))
_FUNCTIONS = frozenset(FUNCTION_NAMES)


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
        except (_Unpaired, ExprError):   # the two parses give the value, the tree or the error (its offset)
            pass
    return parse(text, names, allow_free=allow_free), parse(text, names, allow_free=allow_free, evaluate=False)


def _parse_dual(text: str, names: Mapping[str, Value], allow_free: bool) -> tuple[Value, Value]:
    _, body = _one_line(text)
    out = Converter(body, names, allow_free, DualOps()).visit(_syntax(body).body)
    if isinstance(out, Tensor):
        return out.map(_value), out.map(_flat)
    return _value(out), _flat(out)


class Ops:
    """Arithmetic that builds evaluated or unevaluated (as written) sympy trees.

    The flag is passed to each constructor: toggling sympy's global `evaluate` clears its cache. fastsym
    builds sympy's own objects without its general constructors where it knows the result.
    """

    def __init__(self, evaluate: bool = True):
        self.ev = evaluate

    def add(self, *xs):
        return _value_or(fastsym.add, sympy.Add, xs) if self.ev else fastsym.uadd(*xs)

    def mul(self, *xs):
        return _value_or(fastsym.mul, sympy.Mul, xs) if self.ev else fastsym.umul(*xs)

    def pow(self, a, b):
        return _value_or(fastsym.power, sympy.Pow, (a, b)) if self.ev else fastsym.upow(a, b)

    def dot(self, xs, ys):
        """add(*[mul(x, y) for x, y in zip(xs, ys)])."""
        if not self.ev:
            return fastsym.udot(xs, ys)
        if global_parameters.evaluate:
            return fastsym.dot(xs, ys)
        return self.add(*[self.mul(x, y) for x, y in zip(xs, ys)])

    def neg(self, a):
        return self.mul(sympy.S.NegativeOne, a)

    def sub(self, a, b):
        return self.add(a, self.neg(b))

    def div(self, a, b):
        return self.mul(a, self.pow(b, sympy.S.NegativeOne))

    def call(self, f, *args):
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
        self.v, self.d = v, d


def _value(x):
    return x.v if type(x) is Pair else x


def _shown(x):
    return x.d if type(x) is Pair else x


_Mul_from_args = sympy.Mul._from_args


def _flat(x):
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
        pass

    def add(self, *xs):
        return Pair(_value_or(fastsym.add, sympy.Add, [_value(x) for x in xs]),
                    fastsym.uadd(*_spliced(sympy.Add, [_flat(x) for x in xs])))

    def mul(self, *xs):
        return Pair(_value_or(fastsym.mul, sympy.Mul, [_value(x) for x in xs]),
                    fastsym.umul(*_spliced(sympy.Mul, [_flat(x) for x in xs])))

    def pow(self, a, b):
        return Pair(_value_or(fastsym.power, sympy.Pow, (_value(a), _value(b))), fastsym.upow(_flat(a), _flat(b)))

    def call(self, f, *args):
        return Pair(_call(f, [_value(x) for x in args]), fastsym.ucall(f, *[_flat(x) for x in args]))

    def dot(self, xs, ys):
        if not global_parameters.evaluate:
            return self.add(*[self.mul(x, y) for x, y in zip(xs, ys)])
        shown = [_Mul_from_args((x, y), True) if type(x) is type(y) is sympy.Symbol and x.is_commutative
                 and y.is_commutative else fastsym.umul(*_spliced(sympy.Mul, [_flat(x), _flat(y)]))
                 for x, y in zip(xs, ys)]          # two names: Mul(x, y, evaluate=False), nothing to flatten
        return Pair(fastsym.dot([_value(x) for x in xs], [_value(y) for y in ys]),
                    fastsym.uadd(*_spliced(sympy.Add, shown)))


class _Unpaired(Exception):
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
    src = _keywords_renamed(text)
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


def _keywords_renamed(text: str) -> str:
    return re.sub(r"\blambda\b", _KEYWORD_NAMES["lambda"], text) if "lambda" in text else text


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


def broadcast(f: Callable, a: Value, b: Value) -> Value:
    """f elementwise over a and b: scalar with tensor, or two tensors of one shape."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ta and not tb:
        return f(a, b)
    if ta and tb:
        if a.shape != b.shape:
            raise ShapeError(f"shapes {a.shape} and {b.shape} do not match")
        return Tensor(a.shape, tuple(f(x, y) for x, y in zip(a.items, b.items)))
    if ta:
        return a.map(lambda x: f(x, b))
    return b.map(lambda y: f(a, y))


def matmul(a: Value, b: Value, ops: Ops = Ops()) -> Value:
    """a @ b with numpy's rules for vectors (v @ v is the dot product)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise ShapeError("@ needs a vector or matrix on both sides; use * for scalars")
    if a.rank > 2 or b.rank > 2:
        raise ShapeError("@ works on vectors and matrices only")
    A = [list(a.items)] if a.rank == 1 else [list(a.items[i * a.shape[1]:(i + 1) * a.shape[1]]) for i in range(a.shape[0])]
    B = [[x] for x in b.items] if b.rank == 1 else [list(b.items[i * b.shape[1]:(i + 1) * b.shape[1]]) for i in range(b.shape[0])]
    if len(A[0]) != len(B):
        raise ShapeError(f"shapes {a.shape} @ {b.shape}: inner sizes {len(A[0])} and {len(B)} differ")
    if len(A) * len(B) * len(B[0]) > MAX_MATMUL:
        raise ShapeError(f"{a.shape} @ {b.shape} needs more than {MAX_MATMUL} products; use smaller matrices")
    cols = [[B[k][j] for k in range(len(B))] for j in range(len(B[0]))]
    rows = [[ops.dot(A[i], cols[j]) for j in range(len(B[0]))] for i in range(len(A))]
    if a.rank == 1 and b.rank == 1:
        return rows[0][0]
    if a.rank == 1:
        return Tensor((len(rows[0]),), tuple(rows[0]))
    if b.rank == 1:
        return Tensor((len(rows),), tuple(r[0] for r in rows))
    return from_nested(rows)


def transpose(a: Value) -> Value:
    """Transpose a matrix; a vector or scalar is its own transpose (as in numpy)."""
    if not isinstance(a, Tensor) or a.rank == 1:
        return a
    if a.rank != 2:
        raise ShapeError(".T works on vectors and matrices only")
    r, c = a.shape
    return Tensor((c, r), tuple(a.items[i * c + j] for j in range(c) for i in range(r)))


def _items(v: Value) -> tuple:
    return v.items if isinstance(v, Tensor) else (v,)


def softmax(v: Value, ops: Ops = Ops()) -> Value:
    """exp(v_i) / sum_j exp(v_j), over all elements of v."""
    exps = [ops.call(sympy.exp, x) for x in _items(v)]
    total = ops.add(*exps)
    out = tuple(ops.div(x, total) for x in exps)
    return Tensor(v.shape, out) if isinstance(v, Tensor) else out[0]


_FOLDS: list = []   # [(names mapping, its size when scanned, {folded: [spellings]})], the last few mappings


def _folded(names: Mapping[str, Value]) -> dict:
    """The names whose NFKC form differs from their spelling, by folded form (usually empty).

    Remembered per mapping (graph.names() grows one equation at a time): only the names added since the
    last call are scanned, and only the non-ASCII ones are folded.
    """
    for i, (known, size, folds) in enumerate(_FOLDS):
        if known is names:
            break
    else:
        known, size, folds = names, 0, {}
        _FOLDS.insert(0, (names, 0, folds))
        del _FOLDS[4:]
        i = 0
    n = len(names)
    if n != size:
        new = list(names) if n < size or not isinstance(names, dict) else \
            list(itertools.islice(reversed(names), n - size))
        if n < size:
            folds.clear()
        for k in new:
            if isinstance(k, str) and not k.isascii():
                f = unicodedata.normalize("NFKC", k)
                if f != k and k not in folds.setdefault(f, []):
                    folds[f].append(k)
        _FOLDS[i] = (names, n, folds)
    return folds


class Converter:
    """Walks a whitelisted syntax tree and builds sympy values."""

    def __init__(self, text: str, names: Mapping[str, Value], allow_free: bool = False, ops: Ops | None = None,
                 overrides: dict | None = None):
        self.text, self.names, self.allow_free = text, names, allow_free
        self.ops = ops or Ops()
        self.overrides = overrides or {}   # id(syntax node) -> value used instead of the subtree

    def fail(self, node: ast.AST, message: str) -> ExprError:
        return ExprError(message, getattr(node, "col_offset", 0))

    def visit(self, node: ast.AST) -> Value:
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
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise self.fail(node, f"{node.value!r} is not a number or a name")
        seg = ast.get_source_segment(self._src(), node) or str(node.value)
        return number(seg)

    def _src(self) -> str:
        return _keywords_renamed(self.text)

    def lookup(self, node: ast.AST, name: str) -> str:
        """The spec's spelling of a name as Python's parser gives it.

        The parser folds identifiers to NFKC (ϐ becomes β, ﬁ becomes fi); a spec's keys are not folded,
        so a name is found under any spelling with the same folded form. Two spec names that fold to one
        are ambiguous in an expression: an ExprError says so.
        """
        spellings = _folded(self.names).get(name, ())
        found = ([name] if name in self.names else []) + [k for k in spellings if k != name]
        if len(found) > 1:
            raise self.fail(node, f"the names {', '.join(repr(k) for k in found)} read as one name in an "
                                  "expression (Unicode NFKC folding); rename one of them")
        return found[0] if found else name

    def visit_Name(self, node: ast.Name) -> Value:
        name = self.lookup(node, _BACK.get(node.id, node.id))
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
        v = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return v.map(self.ops.neg) if isinstance(v, Tensor) else self.ops.neg(v)
        if isinstance(node.op, ast.UAdd):
            return v
        raise self.fail(node, "only + and - may stand before a value")

    def visit_BinOp(self, node: ast.BinOp) -> Value:
        a, b = self.visit(node.left), self.visit(node.right)
        op = node.op
        ops = self.ops
        if isinstance(op, ast.MatMult):
            return matmul(a, b, ops)
        if isinstance(op, ast.Pow):
            def power(x, y):
                try:
                    check_power(_value(x), _value(y))
                    if type(x) is Pair or type(y) is Pair:      # parse_both: the form as written too
                        check_power(_shown(x), _shown(y))
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
        if node.attr != "T":
            raise self.fail(node, f"'.{node.attr}' is not allowed; only .T (transpose) is")
        return transpose(self.visit(node.value))

    def visit_List(self, node: ast.List) -> Value:
        if not node.elts:
            raise self.fail(node, "an empty list has no value")

        def nested(v):
            return v.nested() if isinstance(v, Tensor) else v
        return from_nested([nested(self.visit(e)) for e in node.elts])

    def visit_Tuple(self, node: ast.Tuple) -> Value:
        raise self.fail(node, "write vectors in brackets, e.g. [1, 2]")

    def visit_Subscript(self, node: ast.Subscript) -> Value:
        base = self.visit(node.value)
        if not isinstance(base, Tensor):
            raise self.fail(node, "only a vector or matrix can be indexed")
        idx_node = node.slice
        parts = idx_node.elts if isinstance(idx_node, ast.Tuple) else [idx_node]
        idx = []
        for p in parts:
            v = self.visit(p)
            if not (isinstance(_value(v), sympy.Integer) and isinstance(_shown(v), sympy.Integer)):
                raise self.fail(p, "an index is a whole number (0-based, as in Python)")
            if _value(v) != _shown(v):
                raise _Unpaired()
            idx.append(int(_value(v)))
        if len(idx) > base.rank:
            raise self.fail(node, f"{len(idx)} indices for a tensor of shape {base.shape}")
        for k, (i, n) in enumerate(zip(idx, base.shape)):
            if not -n <= i < n:
                raise self.fail(parts[k], f"index {i} is out of range for size {n} (indices are 0-based)")
            idx[k] = i % n
        rest = base.shape[len(idx):]
        chosen = [j for j in indices(base.shape) if tuple(j[:len(idx)]) == tuple(idx)]
        flat = {j: x for j, x in zip(indices(base.shape), base.items)}
        items = tuple(flat[j] for j in chosen)
        return items[0] if not rest else Tensor(rest, items)

    def visit_Call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the listed functions can be called, e.g. sin(x)")
        name = self.lookup(node.func, _BACK.get(node.func.id, node.func.id))
        declared = self.names.get(name)
        base = self.names.get(name[:-len("_prime")]) if name.endswith("_prime") else None
        if isinstance(base, type) and hasattr(base, "generic_name") and not getattr(base, "generic_vector", False):
            declared = fn.generic(base.generic_name, base.generic_order + 1)           # sigma_prime is σ'
        if type(self.ops) is DualOps and (name not in _FUNCTIONS or isinstance(declared, type)):
            raise _Unpaired()        # named_calls reads the arguments' names: parse_both parses twice
        if isinstance(declared, type) and issubclass(declared, sympy.Function):   # from `functions:`
            return named_calls.call(self, node, name, declared)
        if name not in _FUNCTIONS:
            found = named_calls.partial_call(self, node, name)      # J_w__f(x, w), df_dw(x, w)
            if found is not None:
                return found
            raise self.fail(node, f"unknown function '{name}'{nearest(name, FUNCTION_NAMES)}; "
                                  f"the functions are: {', '.join(FUNCTION_NAMES)}")
        if node.keywords:
            raise self.fail(node, f"{name}() takes no keyword arguments")
        args = [self.visit(a) for a in node.args]
        return self._call(node, name, args)

    def _call(self, node: ast.AST, name: str, args: list) -> Value:
        if len(args) == 1 and name in ELEMENTWISE:       # the common case, as arity(1) and each() below
            f, a, call = ELEMENTWISE[name], args[0], self.ops.call
            return a.map(lambda x: call(f, x)) if isinstance(a, Tensor) else call(f, a)

        def arity(*allowed: int) -> None:
            if len(args) not in allowed:
                want = " or ".join(str(n) for n in allowed)
                raise self.fail(node, f"{name}() takes {want} argument{'s' if allowed != (1,) else ''}, got {len(args)}")

        ops = self.ops

        def each(f, *extra):
            """f over a scalar or every element of a tensor, with extra arguments broadcast."""
            if not extra:
                return args[0].map(lambda x: ops.call(f, x)) if isinstance(args[0], Tensor) else ops.call(f, args[0])
            return broadcast(lambda x, y: ops.call(f, x, y), args[0], extra[0])

        if name in ELEMENTWISE:
            arity(1)
            return each(ELEMENTWISE[name])
        if name in ("log", "lrelu"):
            arity(1, 2)
            return each(sympy.log if name == "log" else fn.lrelu, *args[1:])
        if name == "clip":      # clip(x, lo, hi) = min(max(x, lo), hi): its kinks come from max and min
            arity(3)
            low = broadcast(lambda x, y: ops.call(fn.Max, x, y), args[0], args[1]) \
                if any(isinstance(a, Tensor) for a in args[:2]) else ops.call(fn.Max, args[0], args[1])
            if isinstance(low, Tensor) or isinstance(args[2], Tensor):
                return broadcast(lambda x, y: ops.call(fn.Min, x, y), low, args[2])
            return ops.call(fn.Min, low, args[2])
        if name in ("max", "min"):
            cls = fn.Max if name == "max" else fn.Min
            if not args:
                arity(1, 2)
            if len(args) == 1:
                return ops.call(cls, *_items(args[0]))
            out = args[0]
            if any(isinstance(a, Tensor) for a in args):
                for a in args[1:]:
                    out = broadcast(lambda x, y: ops.call(cls, x, y), out, a)
                return out
            return ops.call(cls, *args)
        if name in ("sum", "mean", "norm", "softmax"):
            arity(1)
            items = _items(args[0])
            if name == "sum":
                return ops.add(*items)
            if name == "mean":        # the mean of one value is that value, not x/1
                return items[0] if len(items) == 1 else ops.div(ops.add(*items), sympy.Integer(len(items)))
            if name == "norm":
                return ops.call(sympy.sqrt, ops.add(*[ops.pow(x, sympy.Integer(2)) for x in items]))
            return softmax(args[0], ops)
        if name == "dot":
            arity(2)
            if not all(isinstance(a, Tensor) for a in args) or args[0].shape != args[1].shape:
                raise self.fail(node, "dot() takes two vectors of the same length")
            return ops.dot(args[0].items, args[1].items)
        raise self.fail(node, f"unknown function '{name}'")  # pragma: no cover


def _snippet(text: str, node: ast.AST) -> str:
    try:
        seg = ast.get_source_segment(text, node)
    except Exception:  # noqa: BLE001 - a missing snippet only shortens the message
        seg = None
    seg = seg or type(node).__name__
    return seg if len(seg) <= 40 else seg[:37] + "..."
