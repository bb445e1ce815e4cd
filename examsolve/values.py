"""Exact-first numbers: exact while small, else a 30-digit float; and how they are shown."""
from __future__ import annotations

import math
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator

import mpmath
import sympy

from examsolve import budget, typed
from examsolve.errors import SolveError
from examsolve.tensor import Tensor

PRECISION = 30          # digits kept once a value turns into a float
MAX_NODES = 40          # tree size of an exact value before it turns into a float
MAX_INT_DIGITS = 20_000  # digits of a numerator or denominator before it turns into a float (= the parser's
                         # expr.MAX_RESULT_DIGITS: every integer and fraction the parser accepts stays exact)
MAX_NESTING = 2         # functions inside functions (tanh(tanh(tanh(x)))) before it turns into a float
MAX_DIGITS = 1000       # working precision (digits) past which numeric() gives up settling a value
SIGN_DIGITS = 2         # digits numeric() settles to decide a sign
MAX_STR_DIGITS = 100_000  # Python refuses str() of an int past 4300 digits; exact values go up to 20,000 digits
                          # (and a product of two of them, before it turns into a float, up to 40,000)

if 0 < sys.get_int_max_str_digits() < MAX_STR_DIGITS:
    sys.set_int_max_str_digits(MAX_STR_DIGITS)

_LOG10_2 = math.log10(2)


def int_digits(n: int) -> int:
    """Decimal digits of |n| (1 for 0), without str() (Python refuses str() of an int past 4300 digits)."""
    n = abs(int(n))
    if n < 10 ** 15:
        return len(str(n))
    d = int((n.bit_length() - 1) * _LOG10_2)     # 10**d <= n: n has d + 1 or d + 2 digits
    return d + 2 if n >= 10 ** (d + 1) else d + 1


def _too_big(v: sympy.Expr) -> bool:
    """More than MAX_NODES nodes, a number with too many digits, or functions nested too deep."""
    count = 0
    stack = [(v, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_NESTING:
            return True
        if node.is_Rational:
            if max(int_digits(node.p), int_digits(node.q)) > MAX_INT_DIGITS:
                return True
        elif node.args:
            inner = depth + (1 if isinstance(node, sympy.Function) else 0)
            stack.extend((a, inner) for a in node.args)
    return False


def numeric(x: Any, digits: int) -> Any:
    """x rounded to `digits` significant digits: a Float (a real and an imaginary Float for a complex number),
    x as evalf leaves it when it is no number (an unresolved kink, ∞), a SolveError when MAX_DIGITS of working
    precision do not settle it."""
    x = _basic(x)
    if x.is_Float or x.is_Rational:
        return sympy.Float(x, digits)
    # evalf at one precision can drop a term and still claim every digit (log(1 + e⁻⁷⁰) is 0 at 15 digits):
    # a value counts once two precisions agree, a 0 once x is provably 0 or stays 0 at MAX_DIGITS
    prec, last = digits + 10, None
    while True:
        f = x.evalf(prec)
        parts = _parts(f)
        if parts is None:
            return f
        if all(_nil(p) for p in parts):
            if prec >= MAX_DIGITS or x.is_zero:
                return sympy.Float(0, digits)
        elif last is not None and _agree(last, parts, digits):
            return _rounded(parts, digits)
        if prec >= MAX_DIGITS:
            raise SolveError(f"{_short(x)} cannot be evaluated to {digits} digits (its value changes up to "
                             f"{MAX_DIGITS} digits of working precision); simplify it")
        last, prec = parts, min(2 * prec, MAX_DIGITS)


def sort_key(x: Any) -> Any:
    """A key that orders real numbers by value, decided as sign(a − b) at rising precision (two values equal to
    40 digits keep their order), then by form; ±∞ at the ends."""
    return _ByValue(x)


class _ByValue:
    """A number wrapped for sorted(): compared by value (see sort_key)."""

    __slots__ = ("x",)

    def __init__(self, x: Any):
        self.x = x

    def __lt__(self, other: "_ByValue") -> bool:
        """a < b by the sign of a − b at rising precision; equal values (and undecidable ones) by form."""
        a, b = self.x, other.x
        if a == b:
            return False
        try:
            s = sign(a - b) if not (a.is_infinite or b.is_infinite) else (-1 if a < b else 1)
        except (SolveError, TypeError):
            s = None
        if s:
            return s < 0
        return sympy.default_sort_key(a) < sympy.default_sort_key(b)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByValue) and self.x == other.x


def _parts(f: sympy.Expr) -> tuple | None:
    """The real and imaginary Floats of an evaluated number (one for a real), None for anything else."""
    if f.is_Float:
        return (f,)
    if not f.is_number or f.has(sympy.Function) or f.is_infinite or f is sympy.nan:
        return None
    re, im = f.as_real_imag()
    parts = tuple(sympy.Float(p) if p.is_zero else p for p in (re, im))
    return parts if all(p.is_Float for p in parts) else None


def _nil(f: sympy.Float) -> bool:
    """0, or evalf's "0.e-124": no significant digit."""
    return not f._mpf_[1] or f._prec <= 1


def _agree(a: tuple, b: tuple, digits: int) -> bool:
    """Two evaluations of the same number agree to `digits` significant digits (a part without a significant
    digit only with such a part)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if _nil(x) or _nil(y):
            if not (_nil(x) and _nil(y)):
                return False
            continue
        mx, my = mpmath.mpf(x._mpf_), mpmath.mpf(y._mpf_)
        if abs(mx - my) > abs(my) * mpmath.mpf(10) ** -digits:
            return False
    return True


def _rounded(parts: tuple, digits: int) -> sympy.Expr:
    """The settled value at `digits` digits; an imaginary part with no significant digit is dropped."""
    re = sympy.Float(0, digits) if _nil(parts[0]) else sympy.Float(parts[0], digits)
    if len(parts) == 1 or _nil(parts[1]):
        return re
    return re + sympy.Float(parts[1], digits) * sympy.I


def sign(x: Any) -> int | None:
    """-1, 0 or 1 for a real number (0 only when it is 0, see numeric), None for a non-real number."""
    v = numeric(x, SIGN_DIGITS)
    if not v.is_Float:
        return None
    return 0 if _nil(v) else (1 if v > 0 else -1)


def _short(v: Any, width: int = 60) -> str:
    text = sympy.sstr(v)
    return text if len(text) <= width else text[:width - 1] + "…"


def fit(v: Any) -> Any:
    """Keep a number exact while it is small; past the budget, a 30-digit float."""
    if isinstance(v, Tensor):
        return v.map(fit)
    budget.check_number(v)
    # a number that mixes a float with exact parts is a float: 0.38·tanh(19/10) helps nobody
    if isinstance(v, sympy.Basic) and v.is_number and not v.is_Float and (v.has(sympy.Float) or _too_big(v)):
        shorter = None if v.has(sympy.Float) else _cancelled(v)
        if shorter is not None:
            return shorter
        try:
            f = numeric(v, PRECISION)
        except (MemoryError, OverflowError, RecursionError):   # tanh(exp(exp(30))): mpmath shifts by 10**13 bits
            raise SolveError(f"{_short(v)} is too large to evaluate; use smaller values") from None
        if f.is_real or f.is_Number:
            return f
    return v


def _cancelled(v: sympy.Expr) -> sympy.Expr | None:
    """v over one common denominator, cancelled, when that is within the budget (ŷ − y summed over a softmax's
    outputs is 44 nodes as written and 2/(1 + e^a·e^b) cancelled); None for a value too large to try."""
    if not _shared_denominator(v):
        return None     # nothing for cancel to join (and trying costs milliseconds per node of a large graph)
    count, stack = 0, [v]
    while stack:
        count += 1
        if count > 4 * MAX_NODES:
            return None
        stack.extend(stack.pop().args)
    # cancel takes log 2, log 3 and log 6 as unrelated: a denominator that is a hidden 0 would cancel away
    try:
        if any(p.is_Pow and p.exp.is_negative and exact_sign(p.base) in (0, None)
               for p in sympy.preorder_traversal(v)):
            return None
        w = sympy.cancel(v)
    except (SolveError, sympy.PolynomialError, ValueError, TypeError):
        return None
    return None if _too_big(w) else w


def _shared_denominator(v: sympy.Expr) -> bool:
    """A sum two of whose terms divide by the same expression (a/(1 + e) + b/(1 + e))."""
    if not v.is_Add:
        return False
    seen: set = set()
    for term in v.args:
        factors = term.args if term.is_Mul else (term,)
        bases = {f.base for f in factors if f.is_Pow and f.exp.is_negative and not f.base.is_Number}
        if bases & seen:
            return True
        seen |= bases
    return False


def is_approx(v: Any) -> bool:
    """True when the value holds a float (it is shown with ≈)."""
    items = v.items if isinstance(v, Tensor) else (v,)
    # a Float at once: has() walks it as a tree (25,000 scalar quantities of the float path)
    return any(isinstance(x, sympy.Float) or (isinstance(x, sympy.Basic) and x.has(sympy.Float)) for x in items)


# the limits that trigger it (MAX_NODES, MAX_NESTING, MAX_INT_DIGITS) are listed in the README
FLOAT_NOTE = f"the exact form is too long to keep: a {PRECISION}-digit float from here on"


def float_note(value: Any, numbers: Any) -> str:
    """FLOAT_NOTE where exactness ended: a value holding a 30-digit float computed from exact numbers, else ''."""
    if numbers is None or not is_approx(value) or is_approx(numbers):
        return ""
    items = value.items if isinstance(value, Tensor) else (value,)
    floats = (f for x in items if isinstance(x, sympy.Basic) for f in x.atoms(sympy.Float))
    # a double (53 bits) comes from the float path, whose own note says so
    return FLOAT_NOTE if any(f._prec > 53 for f in floats) else ""


def is_integer(v: Any) -> bool:
    """True for an integer or a tensor of integers (no decimal form needed)."""
    items = v.items if isinstance(v, Tensor) else (v,)
    return all(isinstance(x, (int, sympy.Integer)) or getattr(x, "is_Integer", False) for x in items)


def is_numeric(v: Any) -> bool:
    """True when every element is a number (no free symbols)."""
    items = v.items if isinstance(v, Tensor) else (v,)
    return all(isinstance(x, (int, float)) or (isinstance(x, sympy.Basic) and x.is_number
                                               and not isinstance(x, sympy.Set)) for x in items)


# ---- printing each value once per render ----------------------------------------------------------------

class _Memo:
    """What printed_once remembers: each function's results by the ids of its arguments, and the objects behind
    those ids, held so that no id is reused by another object while the memo lives (so an id found is the
    same object; no (object, result) pair is made per entry, which a 25,000-weight tensor would make 25,000
    times for the collector to walk)."""

    __slots__ = ("held", "tables")

    def __init__(self) -> None:
        self.held: dict[int, Any] = {}
        self.tables: dict[Callable[..., Any], dict] = {}

    def table(self, f: Callable[..., Any]) -> dict:
        """The results of f, by the ids of its arguments."""
        table = self.tables.get(f)
        if table is None:
            table = self.tables[f] = {}
        return table


_MEMO: ContextVar[_Memo | None] = ContextVar("examsolve_printed", default=None)
_MISSING = object()


@contextmanager
def printed_once() -> Iterator[None]:
    """Within it, remembered() prints each object once (a render shows the same value as a step's result, in
    the next step's numbers, in a quantity and an answer); nested uses share the outer memo."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set(_Memo())
    try:
        yield
    finally:
        _MEMO.reset(token)


def forget_printed() -> None:
    """Drop what printed_once remembered so far (a renderer that has printed every value frees them before it
    joins its text); later calls compute again."""
    memo = _MEMO.get()
    if memo is not None:
        memo.held.clear()
        memo.tables.clear()


def remembered(f: Callable[..., Any], x: Any, *args: Any) -> Any:
    """f(x, *args), computed once per object (by identity) inside printed_once, else as it is."""
    memo = _MEMO.get()
    if memo is None:
        return f(x, *args)
    table = memo.table(f)
    key = (id(x), *map(id, args)) if args else id(x)
    out = table.get(key, _MISSING)
    if out is _MISSING:
        out = table[key] = f(x, *args)
        for a in (x, *args):
            memo.held[id(a)] = a
    return out


def remembered_map(f: Callable[[Any], Any], t: Tensor) -> Tensor:
    """t.map(lambda x: remembered(f, x)), the memo looked up once for all elements (a tensor of 25,000 weights)."""
    memo = _MEMO.get()
    if memo is None:
        return t.map(f)
    table, held = memo.table(f), memo.held
    get, out = table.get, []
    for x in t.items:
        k = id(x)
        y = get(k, _MISSING)
        if y is _MISSING:
            y = table[k] = f(x)
            held[k] = x
        out.append(y)
    return Tensor(t.shape, tuple(out))


def decimal(x: sympy.Expr, digits: int = 6) -> str:
    """x as a decimal with `digits` significant digits, trailing zeros dropped."""
    return remembered(_decimal, x, digits)


def _decimal(x: sympy.Expr, digits: int) -> str:
    budget.check_number(x)
    f = x if getattr(x, "is_Float", False) else numeric(x, max(digits, 1) + 5)
    if not f.is_Float and (not f.is_number or f.has(sympy.Function)):  # e.g. an unresolved kink
        return sympy.sstr(x)
    if not f.is_Float:
        if f.is_zero:
            return "0"
        if f in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            return {sympy.oo: "∞", -sympy.oo: "-∞", sympy.zoo: "∞", sympy.nan: "undefined"}[f]
        re, im = f.as_real_imag()
        return f"{decimal(re, digits)} + {decimal(im, digits)}i"
    m = mpmath.mpf(f._mpf_)
    if not m:
        return "0"
    near = float(m)     # exact: m has a double's 53 bits; ±inf or 0 out of a double's range, so nstr below
    if 1e-300 < abs(near) < 1e300:
        s = format(near, f".{digits}g")
    else:
        s = mpmath.nstr(m, digits)
    if "e" in s:
        mant, ex = s.split("e")
        mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
        return f"{mant}e{int(ex)}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def double_of(x: Any) -> float | None:
    """The Python float a sympy Float holds exactly when it has at most a double's 53 bits and a normal double's
    range (the float path's values, 15-digit numbers as written), else None: such a Float needs no sympy to
    convert or print."""
    if type(x) is not sympy.Float:
        return None
    sign, man, exp, bc = x._mpf_
    if not man:             # zero (mpmath has no -0), or infinity or nan
        return 0.0 if x._mpf_ == _MPF_ZERO else None
    # exp + bc outside (-1021, 1024] is a subnormal or no double at all
    if bc > 53 or not -1021 <= exp + bc <= 1024:
        return None
    return math.ldexp(-man if sign else man, exp)


_MPF_ZERO = (0, 0, 0, 0)


def to_plain(v: Any) -> Any:
    """JSON value: int for integers, float for numbers, str for symbolic, nested lists for tensors."""
    d = double_of(v)
    if d is not None:      # what N(v, 17) and float() below give, without them
        return d
    if isinstance(v, Tensor):
        return v.map(to_plain).nested()
    if typed.is_typed(v):
        return typed.plain(v, to_plain)
    if isinstance(v, (list, tuple)):
        return [to_plain(x) for x in v]
    if isinstance(v, str):
        return v
    if isinstance(v, sympy.Basic):
        if v.is_Integer:
            # beyond a double's range (999**999) a reader's float would be Infinity: the string "3.68e2996";
            # `exact` keeps every digit
            return int(v) if int_digits(v.p) <= 308 else decimal(v, 17)
        if v.is_infinite:              # JSON has no infinity: the string form
            return sympy.sstr(v)
        if v.is_number:
            f = numeric(v, 17)
            if f.is_Float:
                return _json_float(f)
            return str(f)
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("∞" if v > 0 else "-∞")
    return v


def _json_float(f: sympy.Expr) -> Any:
    """A real number as a JSON float, or as a string with an exponent ("3.68e2996") when a float cannot
    hold it (beyond ±1.8e308, or so small that it would lose digits or round to 0): JSON has no Infinity."""
    x = float(f)
    # a subnormal double keeps fewer digits (9.85967654e-315 for 9.85967654375977e-315): the string too
    if (x == 0 and f.is_zero) or (math.isfinite(x) and abs(x) >= sys.float_info.min):
        return x
    return decimal(f, 17)


def exact_str(v: Any) -> str:
    """sympy's string form of an exact value (tensors as nested lists)."""
    from examsolve.renderers.sympy_str import sstr

    if isinstance(v, Tensor):
        return remembered(_tensor_str, v)
    if typed.is_typed(v):
        return typed.text(v)
    return remembered(sstr, v)


def _tensor_str(t: Tensor) -> str:
    """exact_str of a tensor: its elements' strings as nested lists."""
    from examsolve.renderers.sympy_str import sstr

    return str(remembered_map(sstr, t).nested()).replace("'", "")


def _basic(x: Any) -> sympy.Expr:
    return sympy.Integer(x) if isinstance(x, int) and not isinstance(x, bool) else x


def same(a: Any, b: Any) -> bool:
    """Exact equality of two values, with a 1e-9 relative tolerance once either is a float."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            ia = a.items if isinstance(a, Tensor) else (a,)
            ib = b.items if isinstance(b, Tensor) else (b,)
            return len(ia) == len(ib) == 1 and same(ia[0], ib[0])
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a.items, b.items))
    a, b = _basic(a), _basic(b)
    if not isinstance(a, sympy.Expr) or not isinstance(b, sympy.Expr):   # sets, classifications: by value
        return a == b
    budget.check_number(a), budget.check_number(b)
    if a == b or a.is_infinite or b.is_infinite:      # ∞ − ∞ is nan, so infinities compare structurally
        return a == b
    if a.is_number and b.is_number:
        if a.has(sympy.Float) or b.has(sympy.Float):
            fa, fb = numeric(a, PRECISION), numeric(b, PRECISION)
            return bool(abs(fa - fb) <= sympy.Float("1e-9") * max(abs(fa), abs(fb), 1))
        # two exact numbers: equal when their difference is 0 (simplify would cost far more)
        return (a - b) == 0 or sign(a - b) == 0
    d = a - b
    if sympy.cancel(d) == 0:
        return True
    # symbolic: a difference at arbitrary points proves them unequal without simplify's cost
    point = {s: sympy.Rational(3 + 2 * k, 7 + k) for k, s in enumerate(sorted(d.free_symbols, key=str))}
    if _nonzero(d.xreplace(point)):
        return False
    return bool(sympy.simplify(d) == 0)


def _nonzero(x: Any) -> bool:
    """True when the number x is settled as not 0 (a complex one too); False when it is 0, no number or
    not settled."""
    try:
        v = numeric(x, SIGN_DIGITS)
    except SolveError:
        return False
    parts = _parts(v)
    return parts is not None and not all(_nil(p) for p in parts)


# ---- exact signs: a hidden 0 proved, not guessed ---------------------------------------------------------

MAX_PROOF_NODES = 200   # tree size past which proved_zero does not try minimal_polynomial (its cost grows fast)


def _algebraic(x: sympy.Expr) -> bool:
    """x is built from rationals by +, ·, and rational powers only (an algebraic number sympy can reduce)."""
    for node in sympy.preorder_traversal(x):
        if node.is_Rational or node.is_Add or node.is_Mul:
            continue
        if node.is_Pow and node.exp.is_Rational:
            continue
        return False
    return True


def proved_zero(x: Any) -> bool:
    """True when x is proved to be exactly 0 (its minimal polynomial is t, or a rewrite gives 0); False when
    that is not proved (x may still be 0)."""
    x = _basic(x)
    if not isinstance(x, sympy.Expr) or not x.is_number:
        return False
    if x == 0 or x.is_zero:
        return True
    if sympy.count_ops(x, visual=False) > MAX_PROOF_NODES:
        return False
    try:
        if _algebraic(x):
            t = sympy.Dummy("t")
            # an algebraic number is 0 exactly when its minimal polynomial is t itself
            return sympy.minimal_polynomial(x, t) == t
        # log(2) + log(3) − log(6), sqrt(3 + 2√2) − 1 − √2 inside a larger value: rewrites that expose the 0
        for rewrite in (_log_primes, sympy.sqrtdenest, sympy.radsimp):
            if sympy.expand(rewrite(x)) == 0:
                return True
    except (NotImplementedError, ValueError, TypeError, ArithmeticError, sympy.PolynomialError):
        return False
    return False


def _log_primes(x: sympy.Expr) -> sympy.Expr:
    """x with the log of each small positive rational written as a sum of logs of primes (log 6 = log 2 + log 3)."""
    def small(e):
        return (isinstance(e, sympy.log) and e.args[0].is_Rational and e.args[0] > 0
                and max(int_digits(e.args[0].p), int_digits(e.args[0].q)) <= 30)

    def split(e):
        r = e.args[0]
        return (sympy.Add(*[m * sympy.log(p) for p, m in sympy.factorint(r.p).items()])
                - sympy.Add(*[m * sympy.log(p) for p, m in sympy.factorint(r.q).items()]))

    return sympy.expand_log(x.replace(small, split), force=True)


def exact_sign(x: Any) -> int | None:
    """sign(x), with a value that shows no digit at 15 digits first tried for an exact 0 (proved_zero);
    otherwise sign's rising precision decides (a 0 there means 0 up to MAX_DIGITS)."""
    x = _basic(x)
    if not isinstance(x, sympy.Expr):
        return None
    if x.is_Rational:
        return int(sympy.sign(x))
    parts = _parts(x.evalf(15))
    if parts is not None and all(_nil(p) for p in parts) and proved_zero(x):
        return 0
    return sign(x)


def exactly_equal(a: Any, b: Any) -> bool:
    """a = b exactly for two numbers (their difference has exact sign 0), whatever their forms."""
    a, b = _basic(a), _basic(b)
    return bool(a == b) or exact_sign(a - b) == 0
