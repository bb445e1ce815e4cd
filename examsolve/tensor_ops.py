"""Tensor operations of the expression language: broadcasting, @, .T and softmax."""
from __future__ import annotations

import ast
from typing import Any, Callable

import sympy

from examsolve.ops import Ops, Unpaired, shown_of, value_of
from examsolve.tensor import ShapeError, Tensor, from_nested, indices

MAX_MATMUL = 200_000       # scalar products in one @

Value = Any  # sympy.Expr | Tensor


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


def items(v: Value) -> tuple:
    """The elements of a tensor, or a scalar as the one element."""
    return v.items if isinstance(v, Tensor) else (v,)


def softmax(v: Value, ops: Ops = Ops()) -> Value:
    """exp(v_i) / sum_j exp(v_j), over all elements of v."""
    exps = [ops.call(sympy.exp, x) for x in items(v)]
    total = ops.add(*exps)
    out = tuple(ops.div(x, total) for x in exps)
    return Tensor(v.shape, out) if isinstance(v, Tensor) else out[0]


def index(conv: Any, node: ast.Subscript) -> Value:
    """The element or slice node selects; conv is the expression's Converter (for visiting and errors)."""
    base = conv.visit(node.value)
    if not isinstance(base, Tensor):
        raise conv.fail(node, "only a vector or matrix can be indexed")
    idx_node = node.slice
    parts = idx_node.elts if isinstance(idx_node, ast.Tuple) else [idx_node]
    idx = []
    for p in parts:
        v = conv.visit(p)
        if not (isinstance(value_of(v), sympy.Integer) and isinstance(shown_of(v), sympy.Integer)):
            raise conv.fail(p, "an index is a whole number (0-based, as in Python)")
        if value_of(v) != shown_of(v):
            raise Unpaired()
        idx.append(int(value_of(v)))
    if len(idx) > base.rank:
        raise conv.fail(node, f"{len(idx)} indices for a tensor of shape {base.shape}")
    for k, (i, n) in enumerate(zip(idx, base.shape)):
        if not -n <= i < n:
            raise conv.fail(parts[k], f"index {i} is out of range for size {n} (indices are 0-based)")
        idx[k] = i % n
    rest = base.shape[len(idx):]
    chosen = [j for j in indices(base.shape) if tuple(j[:len(idx)]) == tuple(idx)]
    flat = {j: x for j, x in zip(indices(base.shape), base.items)}
    picked = tuple(flat[j] for j in chosen)
    return picked[0] if not rest else Tensor(rest, picked)
