"""Float64 values and local derivatives for large graphs (issue 16's fast path).

Past FLOAT_NODES computed nodes nobody reads every step, and exact (or 30-digit) arithmetic on sympy
objects costs milliseconds a node. There, every node's value and its partial derivatives with respect to
its parents are computed in float64 by walking the node's expression tree once forwards and once
backwards (reverse mode inside the node), without building a sympy object. Anything this path cannot
vouch for (a kink met exactly, a value outside a function's domain, a function it does not know, a free
symbol) raises NeedsExact, and the caller solves the whole graph on the exact path instead, which gives
the answer (or the error message) it always gave.
"""
from __future__ import annotations

import functools
import math
import sys
from typing import Any, Callable, Iterable, Sequence

import sympy
from mpmath.libmp import dps_to_prec, from_float, mpf_shift

from examsolve.functions import risky

FLOAT_NODES = 2000      # more computed nodes than this: the float path (small problems stay exact)
FLOAT_EDGES = 20_000    # or more uses of values by computed nodes (a 784-input layer has few, wide nodes)
DIGITS = 15             # significant digits a float64 value is shown with
_BITS = dps_to_prec(DIGITS)
ULP = 2.0 ** -53        # float64's unit roundoff: the error bounds below are in multiples of it
SAFETY = 8              # an argument closer to a kink than this many error bounds goes to the exact path
MIN_RELATIVE = 1e-9     # a value whose error bound is a larger part of it goes to the exact path (9 digits at least)
TINY = sys.float_info.min   # below this a float64 is subnormal (fewer digits) or an underflow
PARTIAL_ROUNDING = 8 * ULP  # a known function's derivative is a few correctly rounded operations
PRECISION_NOTE = "float64 (about 15 significant digits; every value to at least 9)"


def size(graph: Any) -> tuple[int, int]:
    """(computed nodes, edges into them) of a graph."""
    nodes = [n for n in graph.nodes.values() if n.kind == "node"]
    return len(nodes), sum(len(n.parents) for n in nodes)


def wanted(graph: Any) -> bool:
    """True when the graph is past the size where the float path takes over."""
    if graph.computed > FLOAT_NODES:
        return True
    return size(graph)[1] > FLOAT_EDGES


def path_note(graph: Any) -> str:
    """The solution's note on a graph solved on the float path."""
    nodes, edges = size(graph)
    return (f"float path: the graph has {nodes} computed nodes and {edges} edges (more than {FLOAT_NODES} "
            f"nodes or {FLOAT_EDGES} edges), so values and gradients are computed in {PRECISION_NOTE}, and "
            f"of each run of steps of one form the first {FIRST} and last {LAST} are shown")


class NeedsExact(Exception):
    """The float path cannot take this graph; solve it exactly."""


class FloatValues(dict):
    """Node values as sympy Floats (given values as written), with the float64 values, their error bounds,
    and each node's partial derivatives with respect to its parents with theirs."""

    def __init__(self, values: dict, floats: dict, partials: dict, errors: dict | None = None,
                 partial_errors: dict | None = None):
        super().__init__(values)
        self.floats, self.partials = floats, partials
        self.errors = errors or {}
        # node -> {parent: bound on the error of ∂node/∂parent}; none known: every partial is taken as exact
        self.partial_errors = partial_errors if partial_errors is not None else {c: {} for c in partials}


def as_sympy(v: float) -> sympy.Float:
    """A float64 value (or a Wide) as the sympy number steps and answers show (sympy.Float(v, 15), twice as
    fast; a 0.0 stays a Float, so it reads ≈ 0 and not as an exact 0)."""
    if isinstance(v, Wide):
        return sympy.Float._new(mpf_shift(from_float(v[0], _BITS), v[1]), _BITS, zero=False)
    return sympy.Float._new(from_float(v, _BITS), _BITS, zero=False)


class Adjoints(dict):
    """∂of/∂n as sympy Floats, each made from its float64 value when first read (a 25,000-parameter
    gradient is mostly never shown), with the bounds on their errors."""

    def __init__(self, floats: dict, errors: dict | None = None):
        super().__init__()
        self.floats = floats
        self.errors = errors or {}

    def __missing__(self, k: Any) -> sympy.Float:
        v = self[k] = as_sympy(self.floats[k])
        return v

    def __contains__(self, k: Any) -> bool:
        return k in self.floats or dict.__contains__(self, k)


def constant(e: Any) -> float:
    """A sympy number (Integer, Rational, Float, pi, E) as a finite float."""
    try:
        v = e.p / e.q if e.is_Rational else float(e)     # int / int is correctly rounded, and 20x faster
    except (TypeError, ValueError, OverflowError):
        raise NeedsExact from None
    if not math.isfinite(v) or (v == 0.0 and not e.is_zero):
        raise NeedsExact            # too large, or too small for a float64 (1/10**400 is not 0)
    return v


def float_and_error(e: Any) -> tuple[float, float]:
    """A sympy number as a float64 and a bound on that float's rounding error (NeedsExact if none fits)."""
    v = constant(e)
    return v, _rounding(e, v)


def _rounding(e: Any, v: float) -> float:
    """A bound on the error of a constant's float: none for a number a float holds exactly."""
    exact = e.is_Rational and e.q & (e.q - 1) == 0 and abs(e.p) < 2 ** 53     # n / 2^k: a float holds it
    return 0.0 if exact else ULP * abs(v)


def evaluate(graph: Any, overrides: dict | None = None, override_errors: dict | None = None) -> FloatValues | None:
    """Every node's value and local partials in float64, or None when the graph needs the exact path
    (override_errors: bounds on the errors of overrides that are themselves float results, an update's)."""
    from examsolve import budget

    overrides = overrides or {}
    override_errors = override_errors or {}
    values: dict = {}
    floats: dict = {}
    errors: dict = {}
    partials: dict = {}
    partial_errors: dict = {}
    try:
        for i, (s, n) in enumerate(graph.nodes.items()):
            if i % 1000 == 0:
                budget.check("the forward pass", n.loc)
            if n.kind == "node":
                if n.display is not None and n.display is not n.expr and risky(n.display):
                    value_of(n.display, floats, errors)   # as written: a 0/0 that sympy cancelled goes exact
                bounds = partial_errors[s] = {}
                v, partials[s], errors[s] = value_and_partials(n.expr, floats, errors, bounds)
                if errors[s] > abs(v) * MIN_RELATIVE:
                    # fewer digits than promised: cancellation (sin(2π) is not −2.4e-16), a pole (tan(π/2)),
                    # a huge argument (sin(10**22)); the exact path gives the value or the reason there is none
                    raise NeedsExact
                floats[s] = v
                values[s] = as_sympy(v)
            elif n.kind == "given" or s in overrides:
                v = overrides.get(s, n.value)
                values[s], floats[s] = v, constant(v)
                errors[s] = _rounding(v, floats[s]) + override_errors.get(s, 0.0)
            else:
                return None        # a symbolic answer: only the exact path has one
    except (NeedsExact, RecursionError):
        return None
    return FloatValues(values, floats, partials, errors, partial_errors)


def value_of(expr: Any, env: dict, errors: dict | None = None) -> float:
    """expr at the float values env (symbol -> float), whose rounding errors are bounded by errors."""
    return _Walk(env, errors or {}).forward(expr)[0]


def value_and_partials(expr: Any, env: dict, errors: dict | None = None,
                       bounds: dict | None = None) -> tuple[float, dict, float]:
    """expr's value at env, its partial derivative with respect to each symbol in it, and a bound on the
    value's rounding error (given bounds on env's in errors); bounds, when given, gets a bound on each
    partial's error (rounding, and the errors of env's values it is computed from)."""
    walk = _Walk(env, errors or {})
    v, err = walk.forward(expr)
    grads: dict = {}
    walk.backward(expr, 1.0, 0.0, grads, {} if bounds is None else bounds)
    return v, grads, err


SMALL, BIG = 2.0 ** -960, 2.0 ** 960    # an adjoint product outside these is redone with its exponent apart


class Wide(tuple):
    """m·2^e for an adjoint outside float64's range (∂a_2001/∂a_0 of a σ chain is about 4e-1298)."""

    def __new__(cls, m: float, e: int) -> "Wide":
        return tuple.__new__(cls, (m, e))

    def __float__(self) -> float:
        try:
            return math.ldexp(*self)
        except OverflowError:
            return math.copysign(math.inf, self[0])


class _Rescale(Exception):
    """An adjoint product left float64's comfortable range: the pass is redone with exponents kept apart."""


def adjoints(of: Any, order: list, edges: Callable[[Any], Iterable]) -> tuple[dict, dict]:
    """(∂of/∂n, a bound on its error) for of and the nodes in order (reverse topological), pushed along
    edges(c) = (parent, local partial, bound on its error) triples; NeedsExact for an adjoint it cannot
    vouch for to MIN_RELATIVE (a sum that cancels). A value past float64's range is a Wide."""
    try:
        return _adjoints(of, order, edges)
    except _Rescale:            # an underflow (a long product of small partials) or an overflow
        return _wide_adjoints(of, order, edges)


def _adjoints(of: Any, order: list, edges: Callable[[Any], Iterable]) -> tuple[dict, dict]:
    """adjoints in plain float64; _Rescale when a product leaves [SMALL, BIG]."""
    from examsolve import budget

    adj = dict.fromkeys(order, 0.0)
    err = dict.fromkeys(order, 0.0)
    adj[of], err[of] = 1.0, 0.0
    for i, c in enumerate([of] + order):
        if i % 1000 == 0:
            budget.check("the backward pass")
        a, ea = adj[c], err[c]
        size = abs(a)
        if not (ea <= MIN_RELATIVE * size and SMALL <= size <= BIG):      # (a NaN fails too)
            # every consumer has pushed into c: its adjoint is final, and is shown only with its digits
            if a == 0.0 and ea == 0.0:
                continue        # an exact 0 (relu off, a path of exact zeros): nothing to push
            if ea > MIN_RELATIVE * size and SMALL <= size <= BIG:
                raise NeedsExact
            raise _Rescale
        for p, d, ed in edges(c):
            ad = a * d
            if -SMALL < ad < SMALL and d:
                raise _Rescale  # an underflow on the way (an overflow shows at p's own check)
            s = adj[p] = adj[p] + ad
            # first order: |a|·err(d) + |d|·err(a), the product's and the sum's rounding
            err[p] += size * ed + abs(d) * ea + ULP * (abs(ad) + abs(s))
    return adj, err


def _wide_adjoints(of: Any, order: list, edges: Callable[[Any], Iterable]) -> tuple[dict, dict]:
    """adjoints with each node's as m·2^e (m and its error bound floats, e an int): no underflow, no overflow."""
    from examsolve import budget

    man, exp, err = {of: 1.0}, {of: 0}, {of: 0.0}
    ldexp = math.ldexp
    for i, c in enumerate([of] + order):
        if i % 1000 == 0:
            budget.check("the backward pass")
        m = man.get(c)
        if m is None:
            continue            # nothing pushed into c: an exact 0
        em, ec = err[c], exp[c]
        if not em <= MIN_RELATIVE * abs(m):     # (an infinite partial makes a NaN here)
            raise NeedsExact
        if m == 0.0:
            continue
        f, k = math.frexp(m)    # 1 ≤ |m| < 2 from here, so m·d stays normal for a normal partial d
        m, ec, em = 2 * f, ec + k - 1, ldexp(em, 1 - k)
        man[c], exp[c], err[c] = m, ec, em
        size = abs(m)
        for p, d, ed in edges(c):
            t = m * d
            et = size * ed + abs(d) * em + ULP * abs(t)
            ep = exp.get(p)
            if ep is None:
                man[p], exp[p], err[p] = t, ec, et
                continue
            if ep > ec:         # the smaller scale's term shifted down (flushed bits: at most TINY there)
                t, et = ldexp(t, ec - ep), ldexp(et, ec - ep) + TINY
            elif ep < ec:
                man[p], err[p], exp[p] = ldexp(man[p], ep - ec), ldexp(err[p], ep - ec) + TINY, ec
            s = man[p] = man[p] + t
            err[p] += et + ULP * abs(s)
    adj, bounds = dict.fromkeys(order, 0.0), dict.fromkeys(order, 0.0)
    for c, m in man.items():
        e = exp[c]
        v = ldexp(m, e) if -900 < e < 900 else 0.0
        adj[c] = v if m == 0.0 or SMALL < abs(v) < BIG else Wide(m, e)
        try:
            bounds[c] = ldexp(err[c], e) + (TINY if e < 0 else 0.0)
        except OverflowError:
            bounds[c] = math.inf
    return adj, bounds


_CONSTANTS: dict = {}       # sympy number -> (float, rounding bound): a given matrix repeats its numbers


def _constant(e: Any) -> tuple[float, float]:
    """A sympy number's float and the bound on its rounding, remembered."""
    c = _CONSTANTS.get(e)
    if c is None:
        if len(_CONSTANTS) > 1 << 16:
            _CONSTANTS.clear()
        v = constant(e)
        c = _CONSTANTS[e] = (v, _rounding(e, v))
    return c


class _Walk:
    """One expression tree walked forwards (values with first-order bounds on their rounding errors: a kink
    is only trusted when the argument is farther from it than that bound) and backwards (partials)."""

    def __init__(self, env: dict, env_errors: dict):
        self.env, self.env_errors = env, env_errors
        self.done: dict = {}        # id(subexpression) -> (value, error bound, argument values, their bounds)

    def leaf(self, e: Any) -> tuple[float, float]:
        if e.is_Symbol:
            try:
                return self.env[e], self.env_errors.get(e, 0.0)
            except KeyError:
                raise NeedsExact from None
        return _constant(e)

    def forward(self, e: Any) -> tuple[float, float]:
        """(value, error bound) of e."""
        if not e.args:
            return self.leaf(e)
        k = id(e)
        if k in self.done:
            return self.done[k][:2]
        at, errs = [], []
        env, env_errors = self.env, self.env_errors
        for a in e.args:            # leaves inline: a given matrix makes most arguments leaves
            if a.args:
                x, ea = self.forward(a)
            elif a.is_Symbol:
                x, ea = self.leaf(a)
            else:
                x, ea = _CONSTANTS.get(a) or _constant(a)
            at.append(x)
            errs.append(ea)
        if e.is_Add:
            v = math.fsum(at) if len(at) > 2 else sum(at)
            err = sum(errs) + ULP * abs(v)      # fsum (and one addition) rounds once
        elif e.is_Mul:
            v = math.prod(at)
            if v == 0.0 and 0.0 not in at:
                raise NeedsExact        # underflow: a product of nonzero numbers is not 0
            err = len(at) * ULP * abs(v)
            if v != 0.0:        # |∂(Π a)/∂a_i| = |v / a_i|
                err += abs(v) * sum(ea / abs(x) for x, ea in zip(at, errs) if ea)
            elif any(errs):
                err += sum(d * x for d, x in zip(_mul_partials(at), errs))
        elif e.is_Pow:
            v = _power(*at)
            if v == 0.0 and at[0] != 0.0:
                raise NeedsExact        # underflow
            err = 4 * ULP * abs(v)
            if any(errs):
                err += sum(abs(d) * x for d, x in zip(_pow_partials(*at, v), errs))
        else:
            v, err = _function(e, at, errs)
        if not math.isfinite(v) or 0.0 < abs(v) < sys.float_info.min:
            raise NeedsExact            # overflow, or a subnormal number with fewer digits than a float's
        self.done[k] = (v, err, at, errs)
        return v, err

    def backward(self, e: Any, g: float, eg: float, grads: dict, bounds: dict) -> None:
        """Add g times ∂e/∂(each symbol) into grads, and a bound on its error into bounds (eg bounds g's:
        first order, each partial's error from its arguments' error bounds and its own rounding)."""
        if e.is_Symbol:
            s = grads[e] = grads.get(e, 0.0) + g
            bounds[e] = bounds.get(e, 0.0) + eg + ULP * abs(s)
            return
        args = e.args
        if not args or (g == 0.0 and eg == 0.0):
            return
        v, _, at, errs = self.done[id(e)]
        if e.is_Add:
            for a in args:
                if a.is_Symbol:     # inline: a layer's sums are most of the work
                    s = grads[a] = grads.get(a, 0.0) + g
                    bounds[a] = bounds.get(a, 0.0) + eg + ULP * abs(s)
                elif a.args:
                    self.backward(a, g, eg, grads, bounds)
            return
        if e.is_Mul:
            if len(at) == 2:        # w·x: each partial is the other factor, exactly, with its error bound
                parts = ((args[0], at[1], errs[1]), (args[1], at[0], errs[0]))
            elif len(at) == 3:      # W·x/64: each partial the product of the other two, rounded once
                (x0, x1, x2), (e0, e1, e2) = at, errs
                d0, d1, d2 = x1 * x2, x0 * x2, x0 * x1
                parts = ((args[0], d0, ULP * abs(d0) + e1 * abs(x2) + e2 * abs(x1)),
                         (args[1], d1, ULP * abs(d1) + e0 * abs(x2) + e2 * abs(x0)),
                         (args[2], d2, ULP * abs(d2) + e0 * abs(x1) + e1 * abs(x0)))
            else:
                r = len(at) * ULP
                ds = _mul_partials(at, signed=True)
                if any(errs):
                    parts = [(a, d, r * abs(d) + _mul_partial_error(at, errs, i, d))
                             for i, (a, d) in enumerate(zip(args, ds))]
                else:           # exact factors (W/64 · x with given W, x): only the product's rounding
                    parts = [(a, d, r * abs(d)) for a, d in zip(args, ds)]
        elif e.is_Pow:
            parts = self._pow_parts(args, at, errs, v)
        else:
            rule = FUNCTIONS[type(e).__name__]
            ds = rule[1](at, v)
            if rule[2] is None and abs(ds[0]) < TINY and not (ds[0] == 0.0 and at[0] == 0.0):
                raise NeedsExact        # a smooth function's derivative underflowed (sech²(400)); cos'(0) is 0
            bends = rule[3](at, v, ds, errs) if any(errs) else None
            parts = [(a, d, PARTIAL_ROUNDING * abs(d) + (bends[i] if bends else 0.0))
                     for i, (a, d) in enumerate(zip(args, ds))]
        ag = abs(g)
        for a, d, ed in parts:
            gd = g * d
            if -TINY < gd < TINY and g and d:
                raise NeedsExact        # underflow: nonzero factors whose product is 0 or subnormal
            if a.is_Symbol:         # inline: most arguments are symbols
                s = grads[a] = grads.get(a, 0.0) + gd
                bounds[a] = bounds.get(a, 0.0) + ag * ed + abs(d) * eg + ULP * (abs(gd) + abs(s))
            elif a.args and (d or ed):
                self.backward(a, gd, ag * ed + abs(d) * eg + ULP * abs(gd), grads, bounds)

    @staticmethod
    def _pow_parts(args: tuple, at: list, errs: list, v: float) -> tuple:
        """(argument, partial, bound on its error) of b^x for its base and exponent."""
        b, x = args
        (bv, xv), (eb, ex) = at, errs
        if ex and bv <= 0:
            raise NeedsExact        # an exponent with an error on a base ≤ 0: not real nearby
        parts = []
        if b.args or b.is_Symbol:
            d = xv * _power(bv, xv - 1) if xv != 0 else 0.0
            ed = PARTIAL_ROUNDING * abs(d)
            if eb and xv not in (0.0, 1.0):
                ed += abs(xv * (xv - 1) * _power(bv, xv - 2)) * eb
            if ex:
                ed += abs(_power(bv, xv - 1) * (1 + xv * math.log(bv))) * ex
            parts.append((b, d, ed))
        if x.args or x.is_Symbol:
            if bv <= 0:
                raise NeedsExact
            lb = math.log(bv)
            d = v * lb
            ed = PARTIAL_ROUNDING * abs(d)
            if eb:
                ed += abs(_power(bv, xv - 1) * (xv * lb + 1)) * eb
            if ex:
                ed += abs(d * lb) * ex
            parts.append((x, d, ed))
        return parts


def _mul_partial_error(at: list, errs: list, i: int, d: float) -> float:
    """A bound on the error of ∂(Π at)/∂at_i = Π_{j≠i} at_j from the other factors' error bounds."""
    if d != 0.0:
        return abs(d) * sum(ea / abs(x) for j, (x, ea) in enumerate(zip(at, errs)) if ea and j != i)
    total = 0.0     # a zero factor: |Π_{k≠i,j} at_k| for each j with an error, without dividing by 0
    for j, ea in enumerate(errs):
        if ea and j != i:
            total += ea * math.prod(abs(x) for k, x in enumerate(at) if k != i and k != j)
    return total


def _function(e: Any, at: list, errs: list) -> tuple[float, float]:
    """(value, error bound) of a known function at its arguments' values; NeedsExact for an unknown
    function or an argument within rounding of a kink."""
    rule = FUNCTIONS.get(type(e).__name__)
    if rule is None:
        raise NeedsExact
    value, partials, kink, _ = rule
    v = value(*at)
    err = 4 * ULP * abs(v)
    if any(errs):
        if kink is not None and kink(at) <= SAFETY * sum(errs):
            raise NeedsExact            # within rounding of a kink: the conventions decide, exactly
        err += sum(abs(d) * x for d, x in zip(partials(at, v), errs))
    elif kink is not None and kink(at) == 0.0:
        raise NeedsExact                # at a kink exactly
    return v, err


def _mul_partials(vs: list, signed: bool = False) -> list:
    """∂(Π vs)/∂v_i for each factor (its magnitude unless signed): the product of the others, without a
    division, so a 0 factor is fine."""
    if not signed:
        vs = [abs(x) for x in vs]
    before = [1.0] * len(vs)
    for i in range(1, len(vs)):
        before[i] = before[i - 1] * vs[i - 1]
    out = [0.0] * len(vs)
    after = 1.0
    for i in range(len(vs) - 1, -1, -1):
        out[i] = before[i] * after
        after *= vs[i]
    return out


def _pow_partials(b: float, x: float, v: float) -> tuple[float, float]:
    """(∂b^x/∂b, ∂b^x/∂x) at b, x with value v (∂x only where b > 0: elsewhere x is a constant)."""
    db = x * _power(b, x - 1) if x != 0 else 0.0
    return db, (v * math.log(b) if b > 0 else 0.0)


def _power(b: float, x: float) -> float:
    if b == 0 and x < 0:
        raise NeedsExact            # a division by zero: the exact path names it
    if b < 0 and not x.is_integer():
        raise NeedsExact            # not real
    try:
        return b ** x
    except (OverflowError, ZeroDivisionError):
        raise NeedsExact from None


def _sigmoid(a: float) -> float:
    if a >= 0:
        return 1 / (1 + math.exp(-a))
    z = math.exp(a)
    return z / (1 + z)


def _sech2(a: float) -> float:
    """tanh'(a) = sech²(a) = 4t/(1 + t)² with t = e^(−2|a|): 1 − tanh² loses every digit once tanh rounds to ±1."""
    t = math.exp(-2 * abs(a))
    return 4 * t / (1 + t) ** 2


def _checked(f: Callable[..., float]) -> Callable[..., float]:
    """f with math's domain and range errors turned into NeedsExact."""
    def call(*a: float) -> float:
        try:
            return f(*a)
        except (ValueError, OverflowError, ZeroDivisionError):
            raise NeedsExact from None
    return call


def _never_zero(f: Callable[..., float]) -> Callable[..., float]:
    """f for a function that is never 0 (exp, σ, softplus): a 0.0 is an underflow, left to the exact path."""
    def call(*a: float) -> float:
        v = f(*a)
        if v == 0.0:
            raise NeedsExact
        return v
    return call


def _log(a: float) -> float:
    if a <= 0:
        raise NeedsExact
    return math.log(a)


def _gap(a: list) -> float:
    """How far the largest of a is from the next: a tie is a kink of max (and of min, negated)."""
    if len(a) < 2:
        return math.inf
    top = sorted(a)
    return min(top[-1] - top[-2], top[1] - top[0])


def _extreme(pick: Callable) -> tuple:
    def grads(a: list, v: float) -> list:
        return [1.0 if x == v else 0.0 for x in a]
    return lambda *a: pick(a), grads, _gap, _flat


def _at_zero(a: list) -> float:
    """Distance of the first argument from the kink at 0 (relu, |x|, sign, leaky relu)."""
    return abs(a[0])


def _bend(second: Callable[[list, float, list], float]) -> Callable[[list, float, list, list], list]:
    """The error bound of a one-argument function's derivative from its argument's: |f''|·err (first order)."""
    return lambda a, v, d, e: [abs(second(a, v, d)) * e[0]]


def _flat(a: list, v: float, d: list, e: list) -> list:
    """Piecewise constant partials (relu, |x|, sign, max, min away from their kinks) have no such error."""
    return [0.0] * len(a)


def _lrelu_bends(a: list, v: float, d: list, e: list) -> list:
    """lrelu(a, slope) below 0 has partials (slope, a): each one's error is the other argument's."""
    if a[0] > 0 or len(a) < 2:
        return [0.0] * len(a)
    return [e[1], e[0]]


# function name -> (value of the arguments, partials given the arguments and the value, distance to a
# kink given the arguments or None for a smooth function, the partials' error bounds from the arguments')
FUNCTIONS: dict[str, tuple] = {
    "exp": (_never_zero(_checked(math.exp)), lambda a, v: [v], None, _bend(lambda a, v, d: v)),
    "log": (_log, lambda a, v: [1 / a[0]], None, _bend(lambda a, v, d: d[0] * d[0])),
    "sin": (math.sin, lambda a, v: [math.cos(a[0])], None, _bend(lambda a, v, d: v)),
    "cos": (math.cos, lambda a, v: [-math.sin(a[0])], None, _bend(lambda a, v, d: v)),
    "tan": (_checked(math.tan), lambda a, v: [1 + v * v], None, _bend(lambda a, v, d: 2 * v * d[0])),
    "sinh": (_checked(math.sinh), lambda a, v: [math.cosh(a[0])], None, _bend(lambda a, v, d: v)),
    "cosh": (_checked(math.cosh), lambda a, v: [math.sinh(a[0])], None, _bend(lambda a, v, d: v)),
    "tanh": (math.tanh, lambda a, v: [_sech2(a[0])], None, _bend(lambda a, v, d: 2 * v * d[0])),
    "atan": (math.atan, lambda a, v: [1 / (1 + a[0] * a[0])], None, _bend(lambda a, v, d: 2 * a[0] * d[0] * d[0])),
    "sigmoid": (_never_zero(_sigmoid), lambda a, v: [_sigmoid(a[0]) * _sigmoid(-a[0])], None,
                _bend(lambda a, v, d: d[0] * (1 - 2 * v))),
    "softplus": (_never_zero(lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a)))),
                 lambda a, v: [_sigmoid(a[0])], None, _bend(lambda a, v, d: _sigmoid(a[0]) * _sigmoid(-a[0]))),
    "relu": (lambda a: max(a, 0.0), lambda a, v: [1.0 if a[0] > 0 else 0.0], _at_zero, _flat),
    "lrelu": (lambda a, slope=0.01: a if a > 0 else slope * a,
              lambda a, v: [1.0, 0.0][:len(a)] if a[0] > 0 else [a[1] if len(a) > 1 else 0.01, a[0]][:len(a)],
              _at_zero, _lrelu_bends),
    "Abs": (abs, lambda a, v: [1.0 if a[0] > 0 else -1.0], _at_zero, _flat),
    "sign": (lambda a: 1.0 if a > 0 else -1.0, lambda a, v: [0.0], _at_zero, _flat),
    "Max": _extreme(max),
    "Min": _extreme(min),
}


class Elided(sympy.Symbol):
    """The terms of a long sum that a step on the float path does not write out."""

    def _latex(self, printer: Any) -> str:
        return r"\cdots"


ELIDED = Elided("…")


def elide(e: Any) -> Any:
    """A formula with each long sum cut to its first FIRST and last LAST terms around … (for showing)."""
    if not isinstance(e, sympy.Basic) or not e.args:
        return e
    if e.is_Add:
        head, hidden, tail = ends(list(e.args))
        if hidden:
            return sympy.Add(*[elide(a) for a in head], ELIDED, *[elide(a) for a in tail], evaluate=False)
    args = [elide(a) for a in e.args]
    return e.func(*args, evaluate=False) if args != list(e.args) else e


# ---- which steps a large graph shows ---------------------------------------------------------------

FIRST, LAST = 3, 2      # of a run of steps of the same form, these are shown


@functools.lru_cache(maxsize=1 << 14)
def form(e: Any) -> Any:
    """The shape of a formula with names and numbers left out: tanh(a1) and tanh(a2) have one form."""
    if e is None:
        return None
    if e.is_Symbol:
        return "s"
    if not e.args:
        return "n"
    args = e.args if len(e.args) <= 16 else e.args[:2] + (len(e.args),)
    return (type(e).__name__,) + tuple(form(a) if isinstance(a, sympy.Basic) else a for a in args)


def ends(items: Sequence) -> tuple[Sequence, Sequence, Sequence]:
    """(first FIRST, the ones between, last LAST) of items, or (items, [], []) when only one would be cut."""
    if len(items) <= FIRST + LAST + 1:
        return items, items[:0], items[:0]
    return items[:FIRST], items[FIRST:len(items) - LAST], items[len(items) - LAST:]


def runs(items: list, key: Callable[[Any], Any]) -> list:
    """items with each run of consecutive items of one key cut by ends, the cut ones replaced by one tuple
    ("more", [cut items])."""
    out: list = []
    i = 0
    keys = [key(x) for x in items]
    while i < len(items):
        j = i
        while j + 1 < len(items) and keys[j + 1] is not None and keys[j + 1] == keys[i]:
            j += 1
        head, hidden, tail = ends(items[i:j + 1]) if keys[i] is not None else (items[i:j + 1], [], [])
        out.extend(head)
        if hidden:
            out.append(("more", hidden))
        out.extend(tail)
        i = j + 1
    return out
