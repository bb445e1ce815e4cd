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
from typing import Any, Callable

import sympy
from mpmath.libmp import dps_to_prec, from_float

FLOAT_NODES = 2000      # more computed nodes than this: the float path (small problems stay exact)
FLOAT_EDGES = 20_000    # or more uses of values by computed nodes (a 784-input layer has few, wide nodes)
DIGITS = 15             # significant digits a float64 value is shown with
_BITS = dps_to_prec(DIGITS)
KINK = 1e-12            # |argument| this close to a kink (relu at 0) is left to the exact path's conventions
PRECISION_NOTE = "float64 (about 15 significant digits)"


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
    """Node values as sympy Floats (given values as written), with the float64 values and each node's
    partial derivatives with respect to its parents."""

    def __init__(self, values: dict, floats: dict, partials: dict):
        super().__init__(values)
        self.floats, self.partials = floats, partials


def as_sympy(v: float) -> sympy.Float:
    """A float64 value as the sympy number steps and answers show (sympy.Float(v, 15), twice as fast)."""
    return sympy.Float._new(from_float(v, _BITS), _BITS)


class Adjoints(dict):
    """∂of/∂n as sympy Floats, each made from its float64 value when first read (a 25,000-parameter
    gradient is mostly never shown)."""

    def __init__(self, floats: dict):
        super().__init__()
        self.floats = floats

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
    if not math.isfinite(v):
        raise NeedsExact
    return v


def evaluate(graph: Any, overrides: dict | None = None) -> FloatValues | None:
    """Every node's value and local partials in float64, or None when the graph needs the exact path."""
    from examsolve import budget
    from examsolve.engine import _risky

    overrides = overrides or {}
    values: dict = {}
    floats: dict = {}
    partials: dict = {}
    try:
        for i, (s, n) in enumerate(graph.nodes.items()):
            if i % 1000 == 0:
                budget.check("the forward pass", n.loc)
            if n.kind == "given":
                v = overrides.get(s, n.value)
                values[s], floats[s] = v, constant(v)
            elif n.kind == "symbol":
                if s not in overrides:
                    return None        # a symbolic answer: only the exact path has one
                values[s], floats[s] = overrides[s], constant(overrides[s])
            else:
                if n.display is not None and n.display is not n.expr and _risky(n.display):
                    value_of(n.display, floats)   # as written: a 0/0 that sympy cancelled goes to the exact path
                v, partials[s] = value_and_partials(n.expr, floats)
                floats[s] = v
                values[s] = as_sympy(v)
    except (NeedsExact, RecursionError):
        return None
    return FloatValues(values, floats, partials)


def value_of(expr: Any, env: dict) -> float:
    """expr at the float values env (symbol -> float)."""
    return _forward(expr, env, {})


def value_and_partials(expr: Any, env: dict) -> tuple[float, dict]:
    """expr's value and its partial derivative with respect to each symbol in it, at env."""
    vals: dict = {}
    v = _forward(expr, env, vals)
    grads: dict = {}
    _backward(expr, 1.0, vals, grads)
    return v, grads


def _forward(e: Any, env: dict, vals: dict) -> float:
    k = id(e)
    if k in vals:
        return vals[k]
    if e.is_Symbol:
        try:
            v = env[e]
        except KeyError:
            raise NeedsExact from None
    elif not e.args:
        v = constant(e)
    elif e.is_Add:
        v = 0.0
        for a in e.args:
            v += _forward(a, env, vals)
    elif e.is_Mul:
        v = 1.0
        for a in e.args:
            v *= _forward(a, env, vals)
    elif e.is_Pow:
        v = _power(_forward(e.args[0], env, vals), _forward(e.args[1], env, vals))
    else:
        rule = FUNCTIONS.get(type(e).__name__)
        if rule is None:
            raise NeedsExact
        v = rule[0](*[_forward(a, env, vals) for a in e.args])
    if not math.isfinite(v):
        raise NeedsExact
    vals[k] = v
    return v


def _power(b: float, x: float) -> float:
    if b == 0 and x < 0:
        raise NeedsExact            # a division by zero: the exact path names it
    if b < 0 and not x.is_integer():
        raise NeedsExact            # not real
    try:
        return b ** x
    except (OverflowError, ZeroDivisionError):
        raise NeedsExact from None


def _backward(e: Any, g: float, vals: dict, grads: dict) -> None:
    """Add g times ∂e/∂(each symbol) into grads (reverse mode over one expression tree)."""
    if e.is_Symbol:
        grads[e] = grads.get(e, 0.0) + g
        return
    args = e.args
    if not args or g == 0.0:
        return
    if e.is_Add:
        for a in args:
            _backward(a, g, vals, grads)
    elif e.is_Mul:
        vs = [vals[id(a)] for a in args]
        before = [1.0] * len(vs)         # products of the factors before and after each one
        for i in range(1, len(vs)):
            before[i] = before[i - 1] * vs[i - 1]
        after = 1.0
        for i in range(len(vs) - 1, -1, -1):
            if args[i].args or args[i].is_Symbol:
                _backward(args[i], g * before[i] * after, vals, grads)
            after *= vs[i]
    elif e.is_Pow:
        b, x = args
        vb, vx = vals[id(b)], vals[id(x)]
        if b.args or b.is_Symbol:
            _backward(b, g * vx * _power(vb, vx - 1), vals, grads)
        if x.args or x.is_Symbol:
            if vb <= 0:
                raise NeedsExact
            _backward(x, g * vals[id(e)] * math.log(vb), vals, grads)
    else:
        at = [vals[id(a)] for a in args]
        for a, d in zip(args, FUNCTIONS[type(e).__name__][1](at, vals[id(e)])):
            if d:
                _backward(a, g * d, vals, grads)


def _sigmoid(a: float) -> float:
    if a >= 0:
        return 1 / (1 + math.exp(-a))
    z = math.exp(a)
    return z / (1 + z)


def _checked(f: Callable[..., float]) -> Callable[..., float]:
    """f with math's domain and range errors turned into NeedsExact."""
    def call(*a: float) -> float:
        try:
            return f(*a)
        except (ValueError, OverflowError, ZeroDivisionError):
            raise NeedsExact from None
    return call


def _away_from_kink(a: float) -> float:
    if abs(a) <= KINK:
        raise NeedsExact            # at (or within rounding of) a kink: the conventions decide, exactly
    return a


def _log(a: float) -> float:
    if a <= 0:
        raise NeedsExact
    return math.log(a)


def _lrelu(a: float, slope: float = 0.01) -> float:
    return a if _away_from_kink(a) > 0 else slope * a


def _extreme(pick: Callable) -> tuple:
    def value(*a: float) -> float:
        best = pick(a)
        if sum(1 for x in a if abs(x - best) <= KINK) > 1:
            raise NeedsExact            # a tie: the conventions decide which argument gets the gradient
        return best

    def grads(a: list, v: float) -> list:
        return [1.0 if x == v else 0.0 for x in a]
    return value, grads


# function name -> (value of the arguments, partials given the arguments and the value)
FUNCTIONS: dict[str, tuple] = {
    "exp": (_checked(math.exp), lambda a, v: [v]),
    "log": (_log, lambda a, v: [1 / a[0]]),
    "sin": (math.sin, lambda a, v: [math.cos(a[0])]),
    "cos": (math.cos, lambda a, v: [-math.sin(a[0])]),
    "tan": (_checked(math.tan), lambda a, v: [1 + v * v]),
    "sinh": (_checked(math.sinh), lambda a, v: [math.cosh(a[0])]),
    "cosh": (_checked(math.cosh), lambda a, v: [math.sinh(a[0])]),
    "tanh": (math.tanh, lambda a, v: [1 - v * v]),
    "atan": (math.atan, lambda a, v: [1 / (1 + a[0] * a[0])]),
    "sigmoid": (_sigmoid, lambda a, v: [v * (1 - v)]),
    "softplus": (lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a))), lambda a, v: [_sigmoid(a[0])]),
    "relu": (lambda a: max(_away_from_kink(a), 0.0), lambda a, v: [1.0 if a[0] > 0 else 0.0]),
    "lrelu": (_lrelu, lambda a, v: [1.0, 0.0][:len(a)] if a[0] > 0
              else [a[1] if len(a) > 1 else 0.01, a[0]][:len(a)]),
    "Abs": (lambda a: abs(_away_from_kink(a)), lambda a, v: [1.0 if a[0] > 0 else -1.0]),
    "sign": (lambda a: 1.0 if _away_from_kink(a) > 0 else -1.0, lambda a, v: [0.0]),
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
    args = [elide(a) for a in e.args] if len(e.args) <= 64 or not e.is_Add else list(e.args)
    if e.is_Add and len(args) > FIRST + LAST + 1:
        args = args[:FIRST] + [ELIDED] + args[-LAST:]
        return sympy.Add(*[elide(a) for a in args], evaluate=False)
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


def runs(items: list, key: Callable[[Any], Any]) -> list:
    """items with each run of more than FIRST + LAST + 1 consecutive items of one key cut to its first
    FIRST and last LAST, the cut ones replaced by one tuple ("more", [cut items])."""
    out: list = []
    i = 0
    keys = [key(x) for x in items]
    while i < len(items):
        j = i
        while j + 1 < len(items) and keys[j + 1] is not None and keys[j + 1] == keys[i]:
            j += 1
        run = items[i:j + 1]
        if keys[i] is not None and len(run) > FIRST + LAST + 1:
            out.extend(run[:FIRST])
            out.append(("more", run[FIRST:len(run) - LAST]))
            out.extend(run[len(run) - LAST:])
        else:
            out.extend(run)
        i = j + 1
    return out
