"""A plain-Python float reverse mode (a small Value class) for checking the bench answers to 1e-9."""
from __future__ import annotations

import math
from typing import Callable, Iterable


class Value:
    """One float node with its parents and local derivatives; grad is filled by backward()."""

    __slots__ = ("data", "grad", "parents")

    def __init__(self, data: float, parents: tuple = ()):
        self.data, self.grad, self.parents = data, 0.0, parents   # parents: ((node, local derivative), ...)

    def __add__(self, o: "Value | float") -> "Value":
        o = o if isinstance(o, Value) else Value(o)
        return Value(self.data + o.data, ((self, 1.0), (o, 1.0)))

    __radd__ = __add__

    def __mul__(self, o: "Value | float") -> "Value":
        o = o if isinstance(o, Value) else Value(o)
        return Value(self.data * o.data, ((self, o.data), (o, self.data)))

    __rmul__ = __mul__

    def __sub__(self, o: "Value | float") -> "Value":
        return self + (-1.0) * o

    def __truediv__(self, k: float) -> "Value":
        return self * (1.0 / k)

    def square(self) -> "Value":
        """self²."""
        return Value(self.data ** 2, ((self, 2 * self.data),))

    def tanh(self) -> "Value":
        """tanh, with tanh' = 1 − tanh²."""
        t = math.tanh(self.data)
        return Value(t, ((self, 1 - t * t),))

    def sigmoid(self) -> "Value":
        """σ, with σ' = σ(1 − σ)."""
        s = 1 / (1 + math.exp(-self.data))
        return Value(s, ((self, s * (1 - s)),))


def total(xs: Iterable[Value]) -> Value:
    """A sum of many nodes as one node (a deep chain of + would cost a recursion per term)."""
    xs = list(xs)
    return Value(sum(x.data for x in xs), tuple((x, 1.0) for x in xs))


def backward(out: Value) -> None:
    """Reverse mode from out: every ancestor's grad is ∂out/∂node (iterative topological order)."""
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        stack.append((v, True))
        stack.extend((p, False) for p, _ in v.parents)
    out.grad = 1.0
    for v in reversed(order):
        for p, d in v.parents:
            p.grad += v.grad * d


def tanh_chain(n: int, a0: float = 0.5) -> list[float]:
    """d a_n / d a0 for a_i = tanh(a_{i-1})."""
    x = Value(a0)
    a = x
    for _ in range(n):
        a = a.tanh()
    backward(a)
    return [x.grad]


def scalar_rnn(xs: list[float], V: float = 0.5, W: float = -0.25, h0: float = 0.1) -> list[float]:
    """dL/d(V, W) for h_t = tanh(V h_{t-1} + W x_t), L = h_T²."""
    v, w = Value(V), Value(W)
    h = Value(h0)
    for x in xs:
        h = (v * h + w * x).tanh()
    backward(h.square())
    return [v.grad, w.grad]


def conv_kernel_grad(x: list[list[float]], k: list[list[float]]) -> list[float]:
    """dL/dw for c = conv2d(x, w, padding 1) (cross-correlation), L = Σ c²/2; row-major."""
    n, m = len(x), len(x[0])
    w = [[Value(v) for v in row] for row in k]
    outs = []
    for i in range(n):
        for j in range(m):
            terms = [w[a][b] * x[i + a - 1][j + b - 1] for a in range(3) for b in range(3)
                     if 0 <= i + a - 1 < n and 0 <= j + b - 1 < m]
            outs.append(total(terms).square())
    backward(total(outs) / 2)
    return [v.grad for row in w for v in row]


def dense_jacobian(W: list[list[float]], x: list[float], b: list[float], scale: float) -> list[float]:
    """∂y/∂x for y = tanh(W x / scale + b), row-major; one backward pass per output."""
    rows = []
    for i, wrow in enumerate(W):
        xs = [Value(v) for v in x]
        y = (total(wij * xj for wij, xj in zip(wrow, xs)) / scale + b[i]).tanh()
        backward(y)
        rows.extend(v.grad for v in xs)
    return rows


def mlp_sgd(x: list[float], y: list[float], Ws: list, bs: list, lr: float,
            act: Callable[[Value], Value] = Value.sigmoid) -> list[float]:
    """Weights and biases after one SGD step on the MSE (mean) of a sigmoid MLP, row-major, layer by layer."""
    params = [([[Value(v) for v in row] for row in W], [Value(v) for v in b]) for W, b in zip(Ws, bs)]
    a = [Value(v) for v in x]
    for W, b in params:
        a = [act(total(wij * aj for wij, aj in zip(row, a)) + bi) for row, bi in zip(W, b)]
    loss = total((ai - yi).square() for ai, yi in zip(a, y)) / len(y)
    backward(loss)
    out = []
    for W, b in params:
        out.extend(v.data - lr * v.grad for row in W for v in row)
        out.extend(v.data - lr * v.grad for v in b)
    return out


def agree(got: list[float], want: list[float], rel: float = 1e-9) -> tuple[bool, float]:
    """(every pair within rel of the larger magnitude (or of 1 near 0), worst relative error)."""
    if len(got) != len(want):
        return False, math.inf
    worst = max((abs(g - w) / max(abs(g), abs(w), 1e-300) if g != w else 0.0 for g, w in zip(got, want)),
                default=0.0)
    return worst <= rel, worst
