"""Two-lane arithmetic for the optimizer family's float mode (past the exact budget): every value is carried at 35
and 75 digits, with an exact shadow while it is small, and a sign, a zero or a divisor is decided only where the
lanes agree, by structure (β₂·v + (1 − β₂)·g² ≥ 0) or by the exact shadow, never from rounding noise. A run
starts with the 35-digit lane alone; a decision that needs the second lane restarts it with both (NeedLanes).
"""
from __future__ import annotations

import contextvars
import functools
import operator

class NeedLanes(Exception):
    """A sign the one-lane run cannot settle: the run is made again with two lanes."""


# two lanes (35 and 75 digits) for new values, else the 35-digit one alone; per context, so solves in threads
# (class grading, a notebook) do not switch each other's lanes
LANES = contextvars.ContextVar("examsolve_optimizer_lanes", default=True)


# float mode's two lanes (digits): a value's sign counts only where both agree, values.sign's rule of two
# precisions; 35 digits keep the 30 shown
LO, HI = 35, 75
# the exact shadow a float-mode value keeps while it is this small (values.fit's budget floats far earlier)
# (its sympy arithmetic and evalf cost grow fast with size: a shadow lives a few steps, long enough for a
# value that is exactly 0 to be found 0)
SHADOW_NODES, SHADOW_NESTING, SHADOW_DIGITS = 60, 4, 100


def _small(e, nodes: int = SHADOW_NODES, nesting: int = SHADOW_NESTING, digits: int = SHADOW_DIGITS) -> bool:
    """An exact number within a size budget (by default the shadow's): no float, few nodes, shallow, short
    integers."""
    import sympy

    bits = digits * 10 // 3 + 1      # a bound on the digits by bit_length: no str() of a long integer
    count, stack = 0, [(e, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > nodes or depth > nesting or node.is_Float:
            return False
        if node.is_Rational:
            if max(abs(node.p).bit_length(), node.q.bit_length()) > bits:
                return False
        elif node.args:
            inner = depth + (1 if isinstance(node, sympy.Function) else 0)
            stack.extend((a, inner) for a in node.args)
    return True


def _at_digits(f, digits: int, *args):
    """f(*args) with mpmath at `digits` digits (both lanes are computed in one context)."""
    import mpmath

    mp = mpmath.mp
    old = mp.prec
    mp.dps = digits
    try:
        return f(*args)
    finally:
        mp.prec = old


def _lanes(op: str, a: "Num", b: "Num") -> tuple:
    """op on the LO lanes at LO digits and on the HI lanes at HI digits: mpmath's libmp at an explicit precision
    (the hot path of a long run; no context switch)."""
    hot = _HOT or _hot()
    f, make = hot[op], hot["make"]
    if op == "**" and b.ex is not None and b.ex.is_Integer:     # g²: a product, not exp(2·log g)
        n = int(b.ex)
        lo = make(hot["libmp"].mpf_pow_int(a.lo._mpf_, n, _BITS[LO], "n"))
        hi = None if a.hi is None or not LANES.get() else make(hot["libmp"].mpf_pow_int(a.hi._mpf_, n, _BITS[HI], "n"))
        return lo, hi
    lo = make(f(a.lo._mpf_, b.lo._mpf_, _BITS[LO], "n"))
    if a.hi is None or b.hi is None or not LANES.get():
        return lo, None
    return lo, make(f(a.hi._mpf_, b.hi._mpf_, _BITS[HI], "n"))


_HOT: dict = {}      # libmp's functions, looked up once (an import per operation costs as much as the operation)


def _hot() -> dict:
    """_HOT, filled on first use (mpmath is not imported before a run needs it)."""
    if not _HOT:
        import mpmath
        from mpmath import libmp

        _HOT.update({k: getattr(libmp, v) for k, v in _LIBMP.items()}, make=mpmath.mp.make_mpf, libmp=libmp)
    return _HOT


_BITS = {LO: 120, HI: 252}     # mpmath.libmp.dps_to_prec of the lanes' digits
_BITS30 = 103                  # mpmath.libmp.dps_to_prec(30): the digits shown
_LIBMP = {"+": "mpf_add", "-": "mpf_sub", "*": "mpf_mul", "/": "mpf_div", "**": "mpf_pow"}
_SYMPY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow}


def _lane(v, digits: int):
    """An exact sympy number as an mpf at `digits` digits (rising precision: values.numeric)."""
    import mpmath

    from examsolve.errors import SolveError
    from examsolve.values import numeric

    if v.is_Rational:
        return _at_digits(lambda: mpmath.mpf(v.p) / v.q, digits)
    f = v if v.is_Float else numeric(v, digits)
    if not f.is_Float:
        raise SolveError(f"{_text(v)} is no real number; the optimizer needs real values")
    return _at_digits(mpmath.mpf, digits, f._mpf_)    # at its digits: mpf() rounds to the context's (35)


def _text(v, width: int = 60) -> str:
    import sympy

    s = sympy.sstr(v)
    return s if len(s) <= width else s[:width - 1] + "…"


class Num:
    """A real number past the exact budget: its value at LO and at HI digits (HI None in a one-lane run), while it
    stays small its exact form (the shadow), and what its structure proves of its sign (pos: 2 > 0, 1 ≥ 0, 0
    nothing: a sum of squares is ≥ 0 whatever its rounding), so that a sign or a 0 is never taken from rounding."""

    __slots__ = ("lo", "hi", "ex", "pos")

    def __init__(self, lo, hi, ex=None, pos: int = 0):
        self.lo, self.hi, self.ex = lo, hi, ex
        # a rational shadow's sign is known at once (1 − β₂ = 1/1000 > 0)
        self.pos = pos if ex is None or not ex.is_Rational else (2 if ex > 0 else 1 if ex == 0 else 0)

    @classmethod
    def of(cls, v) -> "Num":
        """An exact sympy number as a Num (a sympy Float keeps no shadow: it is already rounded)."""
        if v.is_Rational:
            return _rational(v)
        n = cls(_lane(v, LO), _lane(v, HI), None if v.is_Float or not _small(v) else v)
        if not v.is_Float and n.sign() == 1:
            n.pos = 2       # the sign of the exact value, kept past its shadow (a sum of squares stays > 0)
        if not LANES.get():
            n.hi = None
        return n

    def sign(self) -> int | None:
        """−1 or 1 where the structure proves it or both lanes agree to 2 digits, else by the shadow (values.sign:
        0 only when provably 0); None when rounding cannot settle it (NeedLanes in a one-lane run)."""
        libmp = _hot()["libmp"]
        lo, hi = self.lo._mpf_, None if self.hi is None else self.hi._mpf_
        if self.pos == 2 and lo[1] and not lo[0]:     # proved > 0, and the float is a positive number
            return 1
        # both finite and not 0 (a 0 mantissa is 0, ±inf or nan), one sign, |lo − hi| ≤ |hi|/128
        if hi is not None and lo[1] and hi[1] and lo[0] == hi[0] and libmp.mpf_cmp(
                libmp.mpf_abs(libmp.mpf_sub(lo, hi, 53)), libmp.mpf_shift(libmp.mpf_abs(hi), -7)) <= 0:
            return -1 if hi[0] else 1
        if self.ex is None:
            if hi is None:
                raise NeedLanes
            return None
        from examsolve.values import sign

        return sign(self.ex)

    def _op(self, other, op: str, swap: bool = False):
        """op (+ − * / **) on both lanes and on the shadows; an exact 0 as a result stays the exact 0."""
        o = other if type(other) is Num else _lift(other)
        if o is None:     # a symbol (symbolic lr with a float value): the float as sympy, as before
            import sympy

            a = sympy.Float(self.lo, 30)
            return _SYMPY[op](other, a) if swap else _SYMPY[op](a, other)
        a, b = (o, self) if swap else (self, o)
        if a.ex is None or b.ex is None:     # the common case of a long run: no shadow, no sympy
            n = Num.__new__(Num)
            n.lo, n.hi = _lanes(op, a, b)
            n.ex, n.pos = None, _POS[op](a, b)
            return n
        return self._shadowed(op, a, b)

    @staticmethod
    def _shadowed(op: str, a: "Num", b: "Num"):
        """_op of two values with exact forms: the result keeps its exact form while small."""
        import sympy

        if a.ex.is_Rational and b.ex.is_Rational and op != "**":   # 1 − β: the same few each step, cached
            return _rational_op(op, a.ex, b.ex)
        if op == "**" and a.ex.is_Rational and b.ex.is_Integer and \
                max(a.ex.p.bit_length(), a.ex.q.bit_length()) * abs(int(b.ex)) > SHADOW_DIGITS * 10 // 3:
            ex = None      # βᵗ past the shadow's digits: not computed to be dropped
        else:
            ex = _SYMPY[op](a.ex, b.ex)
            if ex == 0:
                return sympy.S.Zero
            ex = ex if _small(ex) else None
        return Num(*_lanes(op, a, b), ex, _POS[op](a, b))

    # type(other) is Num first: the common case of a long run, without _zero's sympy tests
    def __add__(self, other):
        return self._op(other, "+") if type(other) is Num or not _zero(other) else self

    __radd__ = __add__

    def __sub__(self, other):
        return self._op(other, "-") if type(other) is Num or not _zero(other) else self

    def __rsub__(self, other):
        return -self if _zero(other) else self._op(other, "-", swap=True)

    def __mul__(self, other):
        import sympy

        return self._op(other, "*") if type(other) is Num or not _zero(other) else sympy.S.Zero

    __rmul__ = __mul__

    def __truediv__(self, other):
        _divisor(other)
        return self._op(other, "/")

    def __rtruediv__(self, other):
        import sympy

        _divisor(self)
        return sympy.S.Zero if _zero(other) else self._op(other, "/", swap=True)

    def __pow__(self, other):
        return self._op(other, "**")

    def __rpow__(self, other):
        return self._op(other, "**", swap=True)

    def __neg__(self):
        return Num(-self.lo, None if self.hi is None else -self.hi, None if self.ex is None else -self.ex)

    def sqrt(self):
        """√ of a value that is not negative (a negative or unsettled one is a SolveError)."""
        import mpmath
        import sympy

        from examsolve.errors import SolveError

        s = 1 if self.pos and not self.lo._mpf_[0] else self.sign()   # ≥ 0 proved: √ of its float
        if s is None or s < 0:
            sign = "is negative" if s else "rounding cannot settle"
            raise SolveError(f"√ of {mpmath.nstr(self.lo, 6)}, whose sign {sign}"
                             " in float mode; the optimizer's running sums of squares must not be negative")
        if s == 0:
            return sympy.S.Zero
        hot = _HOT or _hot()
        hi = None if self.hi is None else hot["make"](hot["libmp"].mpf_sqrt(self.hi._mpf_, _BITS[HI], "n"))
        return Num(hot["make"](hot["libmp"].mpf_sqrt(self.lo._mpf_, _BITS[LO], "n")), hi,
                    None if self.ex is None else sympy.sqrt(self.ex), self.pos)


@functools.lru_cache(maxsize=256)
def _rational(v) -> Num:
    """A rational as a Num, once (1 − β, a hyperparameter: every step uses the same few)."""
    # both lanes: the cache serves both kinds of run
    return Num(_lane(v, LO), _lane(v, HI), v if _small(v) else None, 2 if v > 0 else 1 if v == 0 else 0)


@functools.lru_cache(maxsize=256)
def _rational_op(op: str, a, b):
    """op on two rationals as a Num (or the exact 0), once."""
    import sympy

    ex = _SYMPY[op](a, b)
    return sympy.S.Zero if ex == 0 else _rational(ex)


def _pos_sum(a: "Num", b: "Num") -> int:
    """What the structure proves of a + b: 2 (> 0) when one is > 0 and both ≥ 0, 1 (≥ 0) when both are, else 0."""
    return (2 if max(a.pos, b.pos) == 2 else 1) if a.pos and b.pos else 0


def _pos_product(a: "Num", b: "Num") -> int:
    """What the structure proves of a·b (or a/b): the weaker of the two."""
    return min(a.pos, b.pos)


def _pos_power(a: "Num", b: "Num") -> int:
    """≥ 0 for a base ≥ 0 or an even integer exponent (g²); > 0 for a base > 0."""
    if a.pos:
        return a.pos
    return 1 if b.ex is not None and b.ex.is_Integer and b.ex % 2 == 0 else 0


# what the structure of a result proves of its sign, by operation (a difference proves nothing)
_POS = {"+": _pos_sum, "-": lambda a, b: 0, "*": _pos_product, "/": _pos_product, "**": _pos_power}


@functools.lru_cache(maxsize=64)
def _integer(n: int) -> Num:
    """A Python int as a Num, once (the 1 of 1 − β, the 2 of g**2)."""
    import sympy

    return _rational(sympy.Integer(n))


def _zero(x) -> bool:
    """An exact 0 (never a float: a float 0 may be rounding)."""
    import sympy

    return (isinstance(x, int) and x == 0) or (isinstance(x, sympy.Basic) and x.is_Number and not x.is_Float
                                               and x == 0)


def _lift(x) -> Num | None:
    """x as a Num; None for a value that is no number (a symbol)."""
    import sympy

    if isinstance(x, Num):
        return x
    if isinstance(x, int):
        return _integer(x)
    return Num.of(x) if isinstance(x, sympy.Basic) and x.is_number else None


def _divisor(d) -> None:
    """A float-mode divisor must be settled as not 0 (SolveError: the quotient would be rounding or ∞)."""
    import mpmath

    from examsolve.errors import SolveError

    n = _lift(d)
    if n is not None and not n.sign():
        raise SolveError(f"division by {mpmath.nstr(n.lo, 6)}, which is 0 or which rounding cannot tell from 0 "
                         "in float mode")


class Arithmetic:
    """Exact sympy arithmetic while values are small, then Num: floats at two precisions with an exact shadow,
    so that every sign (Rprop's g·g_prev, a kink, a 0 divisor) is decided, never read off rounding."""

    def __init__(self, fit, conventions: dict):
        import sympy

        self.floats, self._fit = False, fit
        self.sympy = sympy
        self.conventions = conventions
        self.notes: list = []        # conventions used (relu'(0) ...), in order, once each
        self.compiled: dict = {}     # expression -> its libmp evaluation (_compile), or False
        self.smooth: set = set()     # expressions without a kink: no branch to check
        self.cache: dict = {}        # per step values every parameter shares (1 − βᵗ)
        self.step_notes: list = []   # those used since the last clear

    def to_floats(self) -> None:
        self.floats = True

    def num(self, v):
        """A number as a Num (float mode); a symbol stays as it is."""
        return _lift(v) or v

    def fit(self, v):
        """Exact while small; past values.fit's budget a Num (its exact form kept as the shadow)."""
        if self.floats or isinstance(v, Num):
            return v
        f = self._fit(v)
        return Num.of(v) if f is not v and getattr(f, "is_Float", False) else f

    def sqrt(self, v):
        """√v, of a two-lane value or an exact one."""
        return v.sqrt() if isinstance(v, Num) else self.sympy.sqrt(v)

    def nonneg(self, v) -> bool:
        """v ≥ 0 is proved: by its structure (a sum of squares) or by its exact sign, else False."""
        if isinstance(v, Num) and v.pos:
            return True
        return self.sign(v) in (0, 1)

    def positive(self, v):
        """v, marked as proved > 0 (the caller has proved it: 1 − βᵗ with an exact 0 ≤ β < 1)."""
        if isinstance(v, Num):
            return Num(v.lo, v.hi, v.ex, 2)
        return v

    def sign(self, v) -> int | None:
        """−1, 0 or 1 when decided (0 only when provably 0), None when symbolic or not settled by rounding."""
        from examsolve.values import sign

        if isinstance(v, Num):
            return v.sign()
        return sign(v) if getattr(v, "is_number", False) else None

    def decide(self, v, what: str, loc) -> int:
        """The sign of v, which a branch depends on; SolveError when it is symbolic or rounding cannot settle it."""
        from examsolve.errors import SolveError

        s = self.sign(v)
        if s is not None:
            return s
        if isinstance(v, Num):
            import mpmath

            raise SolveError(f"the optimizer branches on the sign of {what}, which is {mpmath.nstr(v.lo, 6)} at "
                             f"{LO} digits and {mpmath.nstr(v.hi, 6)} at {HI}: past the exact budget the run goes on "
                             "in floats, and rounding cannot settle this sign (it may be 0); give simpler start "
                             "values so that the numbers stay exact", loc)
        raise SolveError(f"the optimizer branches on the sign of {what}, and {_text(v)} has no known sign; give "
                         "the parameters number start values", loc)

    def min(self, a, b):
        """The smaller, decided as every sign is (never on rounding noise)."""
        return self._pick(a, b, -1)

    def max(self, a, b):
        """The larger, decided as every sign is."""
        return self._pick(a, b, 1)

    def _pick(self, a, b, want: int):
        """min (want −1) or max (want 1); a tie rounding cannot settle is either value, its shadow dropped."""
        if not isinstance(a, Num) and not isinstance(b, Num):
            return (self.sympy.Min if want < 0 else self.sympy.Max)(a, b)
        a, b = _lift(a), _lift(b)
        s = self.sign(a - b)
        if s is None:      # equal to rounding: the value is either one, its exact form unknown
            return Num(a.lo, a.hi)
        return a if s * want >= 0 else b

    def at(self, expr, values: dict):
        """expr at the parameter values; a derivative at its kink (relu'(0)) takes the spec's convention."""
        from examsolve.functions import Kink

        shadows = {k: (v.ex if isinstance(v, Num) else v) for k, v in values.items()}
        if all(s is not None for s in shadows.values()):
            e = self._kinks(expr.xreplace(shadows))
            if e == 0 or not e.is_number:
                return e
            if not self.floats:
                return self.fit(e)
            if expr.has(Kink):    # the lanes' kinks could take another branch than the exact value's
                return Num.of(e)
            return Num(self._lane_at(expr, values, LO, "lo"), self._hi_at(expr, values), e if _small(e) else None)
        if expr not in self.smooth:
            self._check_kinks(expr, values)
        return Num(self._lane_at(expr, values, LO, "lo"), self._hi_at(expr, values))

    def _hi_at(self, expr, values: dict):
        """The HI lane of expr at the values; None in a one-lane run."""
        return self._lane_at(expr, values, HI, "hi") if LANES.get() else None

    def _lane_at(self, expr, values: dict, digits: int, lane: str):
        """expr at one lane of the values: mpmath first, else sympy at that lane's digits."""
        import mpmath

        from examsolve.engine import numeric

        env = {k: getattr(_lift(v), lane) for k, v in values.items()}
        f = self.compiled.get(expr)
        if f is None:
            f = self.compiled[expr] = _compile(expr, tuple(env)) or False
        if f and tuple(env) == f.order:
            try:
                return _hot()["make"](f(tuple(x._mpf_ for x in env.values()), _BITS[digits]))
            except (ArithmeticError, ValueError):   # 1/0, a domain error: engine.numeric and sympy say what
                pass
        with mpmath.workdps(digits):
            v = numeric(expr, env)
            if v is not None:
                return v
            e = self._kinks(expr.xreplace({k: self.sympy.Float(x, digits) for k, x in env.items()}))
            return _lane(self.sympy.N(e, digits), digits)

    def _check_kinks(self, expr, values: dict) -> None:
        """Each kink's branch (relu', |x|', max's tie ...) depends on a sign: it must be settled in float mode."""
        import sympy

        from examsolve.errors import SolveError
        from examsolve.functions import Kink, extreme_grad

        if not expr.has(Kink, extreme_grad, sympy.sign, sympy.Heaviside):
            self.smooth.add(expr)
            return
        for k in sympy.preorder_traversal(expr):
            if isinstance(k, extreme_grad):
                args = k.args[2:]
                deciders = [a - args[int(k.args[1])] for a in args]
            elif isinstance(k, (Kink, sympy.sign, sympy.Heaviside)):
                deciders = [k.args[0]]
            else:
                continue
            for d in deciders:
                if d != 0 and self.sign(self.at(d, values)) in (None, 0):
                    raise SolveError(f"{_text(k)} branches on the sign of {_text(d)}, and past the exact budget "
                                     "rounding cannot settle it here (it may be 0: the kink); give simpler start "
                                     "values so that the numbers stay exact")

    def _kinks(self, expr):
        """Kinks at a number by the conventions (noted); at a symbol by cases, the kink on the convention's side."""
        from examsolve.functions import kinks_to_cases, resolve_kinks

        expr, used = resolve_kinks(expr, self.conventions)
        for note in used:
            self.notes += [note] if note not in self.notes else []
            self.step_notes += [note] if note not in self.step_notes else []
        return kinks_to_cases(expr, self.conventions)

    def sym(self, v):
        """A value for display: sympy; a float-mode value exact while its shadow fits values.fit, else 30 digits."""
        from examsolve.values import MAX_INT_DIGITS, MAX_NESTING, MAX_NODES

        if isinstance(v, Num):
            if v.ex is not None and _small(v.ex, MAX_NODES, MAX_NESTING, MAX_INT_DIGITS):
                return v.ex
            # sympy.Float(v.lo, 30) without its parsing: the float rounded to 30 digits' bits
            return self.sympy.Float._new(_hot()["libmp"].mpf_pos(v.lo._mpf_, _BITS30, "n"), _BITS30)
        return v


def _compile(expr, order: tuple):
    """expr as a function of the symbols' raw mpf values (in `order`) at a precision, made of libmp calls once,
    or None for a node it does not know (engine.numeric evaluates those): a long run evaluates the same gradient
    thousands of times, and walking its sympy tree each time costs more than the arithmetic."""
    libmp = _hot()["libmp"]
    where = {s: i for i, s in enumerate(order)}

    def build(e):
        if e in where:
            i = where[e]
            return lambda xs, prec: xs[i]
        if e.is_Rational:
            p, q = libmp.from_int(int(e.p)), libmp.from_int(int(e.q))
            return lambda xs, prec: libmp.mpf_div(p, q, prec, "n")
        if e.is_Float:
            c = e._mpf_
            return lambda xs, prec: c
        parts = [build(a) for a in e.args]
        if e.is_Add:   # one rounding of the exact sum, as mpmath.fsum
            return lambda xs, prec: libmp.mpf_sum([f(xs, prec) for f in parts], prec, "n")
        if e.is_Mul:
            def mul(xs, prec):
                out = parts[0](xs, prec)
                for f in parts[1:]:
                    out = libmp.mpf_mul(out, f(xs, prec), prec, "n")
                return out
            return mul
        if e.is_Pow and e.exp.is_Integer:
            base, n = parts[0], int(e.exp)
            return lambda xs, prec: libmp.mpf_pow_int(base(xs, prec), n, prec, "n")
        f1 = {"exp": libmp.mpf_exp, "sin": libmp.mpf_sin, "cos": libmp.mpf_cos, "tanh": libmp.mpf_tanh}.get(
            type(e).__name__)
        if f1 is not None and len(parts) == 1:
            return lambda xs, prec: f1(parts[0](xs, prec), prec, "n")
        raise LookupError(type(e).__name__)

    try:
        f = build(expr)
    except LookupError:
        return None

    def run(xs, prec):
        return f(xs, prec + 10)     # guard bits, then one rounding to the lane's precision below

    def lane(xs, prec):
        return libmp.mpf_pos(run(xs, prec), prec, "n")

    lane.order = order
    return lane
