"""Calls in an expression: the listed functions (sin, log, max, softmax ...), and through named_calls the
functions a spec declares and their partial derivatives."""
from __future__ import annotations

import ast
from typing import Any, Callable

import sympy

from examsolve import functions as fn, intmath, named_calls
from examsolve.errors import nearest
from examsolve.ops import DualOps, Unpaired
from examsolve.spelling import BACK
from examsolve.tensor import Tensor
from examsolve.tensor_ops import broadcast, items, softmax

Value = Any  # sympy.Expr | Tensor

ELEMENTWISE: dict[str, Callable] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp,
    "sqrt": sympy.sqrt, "abs": fn.Abs, "sign": fn.sign, "tanh": sympy.tanh,
    "sigmoid": fn.sigmoid, "relu": fn.relu, "softplus": fn.softplus,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "atan": sympy.atan, "floor": intmath.floor, "ceil": intmath.ceil,
}
FUNCTION_NAMES = tuple(sorted(set(ELEMENTWISE) | {
    "log", "lrelu", "max", "min", "clip", "sum", "mean", "dot", "norm", "softmax"}))
_FUNCTIONS = frozenset(FUNCTION_NAMES)


def call(conv: Any, node: ast.Call) -> Value:
    """The value of a call; conv is the expression's Converter (for names, visiting and errors)."""
    if not isinstance(node.func, ast.Name):
        raise conv.fail(node, "only the listed functions can be called, e.g. sin(x)")
    name = conv.lookup(node.func, BACK.get(node.func.id, node.func.id))
    declared = conv.names.get(name)
    base = conv.names.get(name[:-len("_prime")]) if name.endswith("_prime") else None
    if isinstance(base, type) and hasattr(base, "generic_name") and not getattr(base, "generic_vector", False):
        declared = fn.generic(base.generic_name, base.generic_order + 1)           # sigma_prime is σ'
    if type(conv.ops) is DualOps and (name not in _FUNCTIONS or isinstance(declared, type)):
        raise Unpaired()        # named_calls reads the arguments' names: parse_both parses twice
    if isinstance(declared, type) and issubclass(declared, sympy.Function):   # from `functions:`
        return named_calls.call(conv, node, name, declared)
    if name not in _FUNCTIONS:
        found = named_calls.partial_call(conv, node, name)      # J_w__f(x, w), df_dw(x, w)
        if found is not None:
            return found
        raise conv.fail(node, f"unknown function '{name}'{nearest(name, FUNCTION_NAMES)}; "
                              f"the functions are: {', '.join(FUNCTION_NAMES)}")
    if node.keywords:
        raise conv.fail(node, f"{name}() takes no keyword arguments")
    args = [conv.visit(a) for a in node.args]
    return listed(conv, node, name, args)


def listed(conv: Any, node: ast.AST, name: str, args: list) -> Value:
    """One of the listed functions, FUNCTION_NAMES, applied to the visited arguments."""
    if len(args) == 1 and name in ELEMENTWISE:       # the common case, as arity(1) and each() below
        f, a, call = ELEMENTWISE[name], args[0], conv.ops.call
        return a.map(lambda x: call(f, x)) if isinstance(a, Tensor) else call(f, a)

    def arity(*allowed: int) -> None:
        """An ExprError unless the call has one of the allowed numbers of arguments."""
        if len(args) not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise conv.fail(node, f"{name}() takes {want} argument{'s' if allowed != (1,) else ''}, got {len(args)}")

    ops = conv.ops

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
            return ops.call(cls, *items(args[0]))
        out = args[0]
        if any(isinstance(a, Tensor) for a in args):
            for a in args[1:]:
                out = broadcast(lambda x, y: ops.call(cls, x, y), out, a)
            return out
        return ops.call(cls, *args)
    if name in ("sum", "mean", "norm", "softmax"):
        arity(1)
        elems = items(args[0])
        if name == "sum":
            return ops.add(*elems)
        if name == "mean":        # the mean of one value is that value, not x/1
            return elems[0] if len(elems) == 1 else ops.div(ops.add(*elems), sympy.Integer(len(elems)))
        if name == "norm":
            return ops.call(sympy.sqrt, ops.add(*[ops.pow(x, sympy.Integer(2)) for x in elems]))
        return softmax(args[0], ops)
    if name == "dot":
        arity(2)
        if not all(isinstance(a, Tensor) for a in args) or args[0].shape != args[1].shape:
            raise conv.fail(node, "dot() takes two vectors of the same length")
        return ops.dot(args[0].items, args[1].items)
    raise conv.fail(node, f"unknown function '{name}'")  # pragma: no cover
