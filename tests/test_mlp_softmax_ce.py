"""mlp: softmax + cross-entropy and sigmoid + BCE backward as taught (∂L/∂z = ŷ − y), exact, checked by hand
arithmetic and by 40-digit central differences."""
from __future__ import annotations

import math

import mpmath
import sympy

from conftest import RELU_SOFTMAX_NET
from examsolve import solve
from examsolve.functions import Partial
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor
from examsolve.values import is_approx

X, Y = [1, 2], [1, 0]
W1, B1 = [[1, 0.5], [-1, 1]], [0, 0.5]
W2, B2 = [[1, -1], [0.5, 1]], [0, 0]
NET = RELU_SOFTMAX_NET     # conftest


def flat(steps):
    return [x for s in steps for x in (s, *flat(s.substeps))]


def plain_loss(w1, ctx=math):
    """The 2-2-2 ReLU net's cross-entropy in plain arithmetic (ctx: math or mpmath)."""
    z1 = [sum(w1[i][j] * X[j] for j in range(2)) + B1[i] for i in range(2)]
    a1 = [max(0, v) for v in z1]
    z2 = [sum(W2[i][j] * a1[j] for j in range(2)) + B2[i] for i in range(2)]
    ex = [ctx.exp(v) for v in z2]
    return -sum(y * ctx.log(e / sum(ex)) for y, e in zip(Y, ex))


def test_logit_gradient_is_yhat_minus_y_exact():
    # z2 = (1/2, 5/2): ŷ = (e^0.5, e^2.5)/(e^0.5 + e^2.5); ∂L/∂z2 = ŷ − y
    sol = solve(parse_spec(NET, "t.yaml"))
    ex = [math.exp(0.5), math.exp(2.5)]
    want = [e / sum(ex) - y for e, y in zip(ex, Y)]
    dz = [s for s in flat(sol.steps) if isinstance(s.target, Partial) and s.target.name in ("dL/dz2_1", "dL/dz2_2")]
    assert len(dz) == 2
    for s, w in zip(dz, want):
        assert not is_approx(s.value) and abs(float(s.value) - w) < 1e-12
        assert any(x.name.startswith("yhat") for x in s.formula.free_symbols)     # ŷ_k − y_k, not exp(z)/Σ
        assert "∂L/∂z" in s.note and "cross-entropy" in s.note


def test_w1_gradient_exact_and_equal_to_central_differences():
    a = {x.name: x.value for x in solve(parse_spec(NET, "t.yaml")).answers}
    g = a["dL/dW1"]
    assert isinstance(g, Tensor) and not is_approx(g)
    assert all(sympy.count_ops(v) <= 12 for v in g.items)      # short forms, not a page of exponentials
    with mpmath.workdps(40):
        h = mpmath.mpf(10) ** -12
        for k, v in enumerate(g.items):
            i, j = divmod(k, 2)
            up = [[mpmath.mpf(w) for w in row] for row in W1]
            down = [row[:] for row in up]
            up[i][j] += h
            down[i][j] -= h
            fd = (plain_loss(up, mpmath) - plain_loss(down, mpmath)) / (2 * h)
            assert abs(sympy.N(v, 40) - sympy.Float(str(fd), 40)) < 1e-15
    # one SGD step, lr 0.1, against the same gradient by hand (p − y pushed back through W2 and relu)
    p = [math.exp(0.5) / (math.exp(0.5) + math.exp(2.5)), math.exp(2.5) / (math.exp(0.5) + math.exp(2.5))]
    dz1 = [sum(W2[i][j] * (p[i] - Y[i]) for i in range(2)) for j in range(2)]
    want = [W1[i][j] - 0.1 * dz1[i] * X[j] for i in range(2) for j in range(2)]
    assert all(abs(float(v) - w) < 1e-12 for v, w in zip(a["W1 after 1 step"].items, want))


def test_forward_pass_still_shows_yhat():
    sol = solve(parse_spec(NET, "t.yaml"))
    fwd = next(s for s in sol.steps if s.title == "Forward pass")
    assert {"yhat_1", "yhat_2"} <= {getattr(s.target, "name", "") for s in fwd.substeps}


def test_soft_target_not_summing_to_one_keeps_the_log_form():
    # y = (1, 1) sums to 2: L = −(log ŷ₁ + log ŷ₂) = −(1/2 − s) − (5/2 − s) with s = log(e^0.5 + e^2.5)
    sol = solve(parse_spec(NET.replace("y: [1, 0]", "y: [1, 1]") + "  - value: [L]\n", "t.yaml"))
    a = {x.name: x.value for x in sol.answers}
    s = math.log(math.exp(0.5) + math.exp(2.5))
    assert abs(float(a["L"]) - (2 * s - 3)) < 1e-12
    assert "log(yhat)" in sol.steps[0].title


def test_sigmoid_bce_gradient_is_yhat_minus_t_over_n():
    # one sigmoid layer, BCE mean over 3 outputs: ∂L/∂b_k = (σ(z_k) − t_k)/3
    text = ("kind: mlp\ngiven: {x: [1, -1], t: [0, 1, 1], W: [[0.5, -1], [1, 0.25], [-0.5, 0.5]], "
            "b: [0.5, 0, -0.25]}\ntarget: t\nlayers: [{weights: W, bias: b, activation: sigmoid}]\nloss: bce\n"
            "ask: [{grad: {of: L, wrt: b}}]\n")
    sol = solve(parse_spec(text, "t.yaml"))
    z = [0.5 + 1 + 0.5, 1 - 0.25, -0.5 - 0.5 - 0.25]
    want = [(1 / (1 + math.exp(-v)) - t) / 3 for v, t in zip(z, [0, 1, 1])]
    got = {x.name: x.value for x in sol.answers}["dL/db"]
    assert not is_approx(got)
    assert all(abs(float(v) - w) < 1e-12 for v, w in zip(got.items, want))
    notes = [s.note for s in flat(sol.steps) if isinstance(s.target, Partial) and s.target.name.startswith("dL/dz1")]
    assert len(notes) == 3 and all("sigmoid + BCE" in n for n in notes)
