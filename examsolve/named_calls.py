"""Calls of functions known only by name: f(x), f(x, w), vector-valued layers, and their partials by name.

f(x) of one scalar keeps the σ, σ', σ'' chain. With several arguments, or when f (or its argument) is
vector-valued, the call remembers the names of its arguments, so its derivatives print as ∂f/∂w, or as the
Jacobian J_w^f kept in its place in a chain-rule product. J_w__f(x, w) and df_dw(x, w) write those partials
in an expression (a key).
"""
from __future__ import annotations

import ast
import re
from typing import Any, Mapping

import sympy

from examsolve import functions as fn
from examsolve.tensor import ShapeError, Tensor

_JACOBIAN = re.compile(r"J_(?P<p>[A-Za-z0-9]\w*?)__(?P<f>[A-Za-z]\w*)")
_PARTIAL = re.compile(r"d(?P<f>[A-Za-z]\w*?)_d(?P<p>[A-Za-z0-9]\w*)")


def is_named(value: Any) -> bool:
    """A class made by `functions:` (a function known only by name)."""
    return isinstance(value, type) and issubclass(value, sympy.Function) and hasattr(value, "generic_name")


def param_name(v: Any) -> str | None:
    """The name an argument's partial is called by: a symbol's name, a named function's name, else None."""
    if isinstance(v, sympy.Symbol):
        return v.name
    if hasattr(v, "generic_name") and not hasattr(v, "generic_wrt"):
        return v.generic_name
    return None


def function_params(names: Mapping, base: str, params: tuple) -> tuple:
    """The argument names of a function, fixed by its first call under these names: after f(x, w), the call
    f(w, x) has ∂f/∂x(w, x) as its first partial, never a second ∂f/∂w. A name twice counts by position."""
    params = tuple(p if p not in params[:i] else None for i, p in enumerate(params))
    known = getattr(names, "function_params", None)
    if known is None:
        try:
            names.function_params = known = {}
        except AttributeError:       # a plain mapping (no graph): each call names its own arguments
            return params
    return known.setdefault((base, len(params)), params)


def _vector_arg(v: Any, names: Mapping) -> bool:
    """The argument is the value of a vector-valued function: a call of one, or a node defined as one."""
    if getattr(v, "generic_vector", False):
        return True
    graph = getattr(names, "graph", None)
    node = graph.nodes.get(v) if graph is not None and isinstance(v, sympy.Symbol) else None
    return node is not None and node.expr is not None and getattr(node.expr, "generic_vector", False)


def elementwise(make, args: list) -> Any:
    """make(*scalars), over the elements of the tensors among args (all of one shape), scalars repeated."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not tensors:
        return make(*args)
    shape = tensors[0].shape
    if any(t.shape != shape for t in tensors):
        raise ShapeError(f"arguments of shapes {', '.join(str(t.shape) for t in tensors)} do not match")
    cols = [a.items if isinstance(a, Tensor) else (a,) * len(tensors[0]) for a in args]
    return Tensor(shape, tuple(make(*row) for row in zip(*cols)))


def call(conv, node: ast.Call, name: str, declared: type) -> Any:
    """declared(*args) for a call in an expression; conv is the expr Converter (for visiting and errors)."""
    if node.keywords or not node.args:
        raise conv.fail(node, f"{name}() takes its arguments by position, e.g. {name}(x) or {name}(x, w)")
    args = [conv.visit(a) for a in node.args]
    ops = conv.ops
    vector = getattr(declared, "generic_vector", False)
    if getattr(declared, "generic_order", 0):       # sigma_prime(x): σ' of one scalar
        if len(args) != 1:
            raise conv.fail(node, f"{name}() takes one argument (σ' is the derivative of a function of one "
                                  "scalar; a function of several has partials df_dx(x, w))")
        return elementwise(lambda a: ops.call(declared, a), args)
    base = declared.generic_name

    def make(*xs):
        if len(xs) == 1 and not vector and not _vector_arg(xs[0], conv.names):
            return ops.call(fn.generic(base), *xs)
        params = function_params(conv.names, base, tuple(param_name(x) for x in xs))
        return ops.call(fn.generic(base, 0, params, vector), *xs)
    return elementwise(make, args)


def partial_call(conv, node: ast.Call, name: str) -> Any | None:
    """J_w__f(x, w) or df_dw(x, w): the partial of a function known by name, or None when name is neither."""
    for pattern in (_JACOBIAN, _PARTIAL):
        m = pattern.fullmatch(name)
        if m is None:
            continue
        declared = conv.names.get(m.group("f"))
        if not is_named(declared) or getattr(declared, "generic_order", 0):
            continue
        args = [conv.visit(a) for a in node.args]
        if not args or node.keywords or any(isinstance(a, Tensor) for a in args):
            raise conv.fail(node, f"{name}() takes the arguments of {m.group('f')}, e.g. {name}(x, w)")
        params = tuple(param_name(a) for a in args)
        p = m.group("p")
        slots = [i for i, q in enumerate(params) if q == p] or \
            ([int(p) - 1] if p.isdigit() and 0 < int(p) <= len(args) else [])
        if len(slots) != 1:
            raise conv.fail(node, f"{name}(): '{p}' is not one of the arguments of {m.group('f')} "
                                  f"({', '.join(q or str(i + 1) for i, q in enumerate(params))})")
        vector = getattr(declared, "generic_vector", False)
        if pattern is _JACOBIAN and not vector:
            raise conv.fail(node, f"{m.group('f')} is not vector-valued: write its partial as "
                                  f"d{m.group('f')}_d{p}(...)")
        return conv.ops.call(fn.partial(m.group("f"), params, (slots[0],), vector), *args)
    return None
