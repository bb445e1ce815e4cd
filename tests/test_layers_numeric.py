"""init, normalization and attention against hand arithmetic; lrelu by cases."""
from __future__ import annotations

import sympy

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor


def answers(name):
    return {a.name: a for a in solve(load_spec(str(ROOT / "problems" / name))).answers}


def items(v):
    return v.items if isinstance(v, Tensor) else (v,)


def test_seed004_q3_xavier():
    # Glorot: Var = 2/(100 + 50) = 1/75, σ = √(1/75) = √3/15 ≈ 0.11547, bound √(3/75) = 1/5; fan_in-only σ = 1/10
    a = answers("xavier.yaml")
    assert a["sigma (xavier)"].value == sympy.sqrt(3) / 15 and a["uniform bound (xavier)"].value == sympy.Rational(1, 5)
    assert a["sigma (xavier_fan_in)"].value == sympy.Rational(1, 10)
    assert a["sigma (xavier)"].agrees is False and a["sigma (xavier_fan_in)"].agrees is True


def test_he_and_lecun():
    a = {x.name: x.value for x in solve(parse_spec("kind: init\nfan_in: 8\nfan_out: 4\nschemes: [he, lecun]\n",
                                                   "i.yaml")).answers}
    assert a["variance (he)"] == sympy.Rational(1, 4) and a["sigma (lecun)"] == sympy.sqrt(2) / 4


def test_seed004_q4_norm_means():
    # batch: channel 0 (1+2+3+4+1−1+0+2)/8 = 3/2, channel 1 (5+6+7+8−1+0+2+1)/8 = 7/2
    # layer: example 1 36/8 = 9/2, example 2 4/8 = 1/2; instance: (10/4, 26/4), (2/4, 2/4)
    a = answers("norm_means.yaml")
    assert items(a["batch norm mean"].value) == (sympy.Rational(3, 2), sympy.Rational(7, 2))
    assert items(a["layer norm mean"].value) == (sympy.Rational(9, 2), sympy.Rational(1, 2))
    assert items(a["instance norm mean"].value) == (sympy.Rational(5, 2), sympy.Rational(13, 2),
                                                    sympy.Rational(1, 2), sympy.Rational(1, 2))


def test_seed004_q7_attention_exact():
    # QKᵀ/√2 = [[0, log 2], [log 2, log 3]]: rows e^s = (1, 2), (2, 3) → weights (1/3, 2/3), (2/5, 3/5)
    # output = weights·[[0, 1], [1, 0]] swaps columns: (2/3, 1/3), (3/5, 2/5)
    a = answers("attention.yaml")
    R = sympy.Rational
    assert items(a["weights"].value) == (R(1, 3), R(2, 3), R(2, 5), R(3, 5))
    assert items(a["output"].value) == (R(2, 3), R(1, 3), R(3, 5), R(2, 5))
    assert a["multi-head parameters"].value == 4 * (512 ** 2 + 512)


def test_causal_mask():
    text = ("kind: attention\nQ: [[0, 0], [0, 0]]\nK: [[0, 0], [0, 0]]\nV: [[1, 2], [3, 4]]\ncausal: true\n")
    a = {x.name: x.value for x in solve(parse_spec(text, "c.yaml")).answers}
    # row 1 sees only position 1; row 2 averages both (all scores 0)
    assert items(a["output"]) == (1, 2, 2, 3)


def test_lrelu_by_cases():
    # lrelu(x, 0.1) at (−2, 0, 3) = (−0.2, 0, 3); derivative 0.1, 1 (the convention's right side), 1
    a = answers("lrelu.yaml")
    assert items(a["y"].value) == (sympy.Rational(-1, 5), 0, 3)
    J = a["dy/dx"].value
    assert (J.items[0], J.items[4], J.items[8]) == (sympy.Rational(1, 10), 1, 1)


def test_seed000_q8_conv_maxpool():
    # conv: c1 = 2·1 + 1·0 = 2, c2 = 1·1 + 2·0 = 1; max-pool f = c1 = 2; ∂f/∂w = ∂c1/∂w = (x1, x2) = (2, 1)
    a = answers("conv_maxpool_grad.yaml")
    assert items(a["c"].value) == (2, 1) and a["f"].value == 2 and items(a["df/dw"].value) == (2, 1)


def test_conv2d_against_plain_python():
    # an independent forward and backward of the conv2d_bce example in plain floats
    import math
    x = [[[1, 0, 2], [0, 1, 1], [2, 1, 0]], [[0, 1, 0], [1, 0, 1], [0, 2, 1]]]
    w = [[[0.5, -0.5], [0, 1]], [[1, 0], [-1, 0.5]]]
    b, t = 0.1, 1

    def px(ch, i, j):       # zero padding 1
        return x[ch][i - 1][j - 1] if 1 <= i <= 3 and 1 <= j <= 3 else 0
    c = [[b + sum(w[ch][ki][kj] * px(ch, 2 * oi + ki, 2 * oj + kj) for ch in range(2) for ki in range(2)
                  for kj in range(2)) for oj in range(2)] for oi in range(2)]
    p = sum(sum(r) for r in c) / 4
    yhat = 1 / (1 + math.exp(-p))
    L = -(t * math.log(yhat) + (1 - t) * math.log(1 - yhat))
    dp = yhat - t                      # dL/dp for BCE after a sigmoid
    dw = [[[sum(dp / 4 * px(ch, 2 * oi + ki, 2 * oj + kj) for oi in range(2) for oj in range(2))
            for kj in range(2)] for ki in range(2)] for ch in range(2)]
    a = answers("conv2d_bce.yaml")
    assert abs(float(a["L"].value) - L) < 1e-12
    got = [float(v) for v in items(a["grad L"].value)]
    want = [v for ch in dw for row in ch for v in row] + [dp]
    assert all(abs(g - h) < 1e-12 for g, h in zip(got, want))


def test_mlp_against_plain_python():
    import math

    def sig(v):
        return 1 / (1 + math.exp(-v))
    x, y = [1, 0.5], 1
    W1, b1, W2, b2 = [[0.1, -0.2], [0.4, 0.3]], [0, 0.1], [0.5, -0.5], 0.2
    z1 = [sum(W1[i][j] * x[j] for j in range(2)) + b1[i] for i in range(2)]
    a1 = [sig(v) for v in z1]
    yhat = sig(sum(W2[i] * a1[i] for i in range(2)) + b2)
    L = (yhat - y) ** 2
    d2 = 2 * (yhat - y) * yhat * (1 - yhat)              # dL/dz2
    dW2 = [d2 * a for a in a1]
    d1 = [d2 * W2[i] * a1[i] * (1 - a1[i]) for i in range(2)]
    dW1 = [d1[i] * x[j] for i in range(2) for j in range(2)]
    sol = solve(load_spec(str(ROOT / "problems/mlp_2_2_1.yaml")))
    got = [a for a in sol.answers if a.name.startswith("grad L")]
    assert abs(float({a.name: a.value for a in sol.answers}["L"]) - L) < 1e-12
    assert all(abs(float(g) - w) < 1e-12 for g, w in zip(items(got[0].value), dW2 + [d2]))
    assert all(abs(float(g) - w) < 1e-12 for g, w in zip(items(got[1].value), dW1 + d1))


def test_softmax_cross_entropy():
    # e^z = (2, 1, 5), sum 8: ŷ = (1/4, 1/8, 5/8); target class 3: L = −log(5/8); ŷ − y = (1/4, 1/8, −3/8)
    a = answers("softmax_ce.yaml")
    R = sympy.Rational
    assert items(a["softmax"].value) == (R(1, 4), R(1, 8), R(5, 8))
    assert items(a["dL/dz"].value) == (R(1, 4), R(1, 8), R(-3, 8))


def test_divergences_in_bits():
    # H(p) = ½·1 + ¼·2 + ¼·2 = 3/2; KL(p‖q) = ½·log2(2) + 0 + 0 = 1/2; KL(q‖p) = ∞ (q puts 1/4 where p has 0)
    # JS with m = (3/8, 1/4, 1/4, 1/8): 3/4 − (3/8)·log2(3)
    a = answers("js_bits.yaml")
    assert a["H(p) (bits)"].value == sympy.Rational(3, 2) and a["KL(p‖q) (bits)"].value == sympy.Rational(1, 2)
    assert a["KL(q‖p) (bits)"].value == sympy.oo and "positive probability" in a["KL(q‖p) (bits)"].note
    js = sympy.Rational(3, 4) - sympy.Rational(3, 8) * sympy.log(3, 2)
    assert abs(sympy.N(a["JS (bits)"].value - js, 30)) < 1e-25


def test_kl_of_gaussians_by_integration():
    # the closed form checked against the integral itself, computed here
    x = sympy.Symbol("x", real=True)
    n1 = sympy.exp(-x ** 2 / 2) / sympy.sqrt(2 * sympy.pi)
    n2 = sympy.exp(-(x - 1) ** 2 / 8) / (2 * sympy.sqrt(2 * sympy.pi))
    integral = sympy.integrate(n1 * sympy.expand_log(sympy.log(n1 / n2), force=True), (x, -sympy.oo, sympy.oo))
    a = answers("kl_gaussians.yaml")
    assert abs(sympy.N(a["KL (nats)"].value - integral, 30)) < 1e-25


def test_perceptron_on_and_against_a_plain_loop():
    X, T = [(-1, -1), (-1, 1), (1, -1), (1, 1)], [-1, -1, -1, 1]
    w, b = [0, 0], 0
    for _ in range(3):        # Rosenblatt with ±1: update on a mistake by t·x (sign(0) = −1)
        for x, t in zip(X, T):
            o = 1 if w[0] * x[0] + w[1] * x[1] + b > 0 else -1
            if o != t:
                w, b = [w[0] + t * x[0], w[1] + t * x[1]], b + t
    a = answers("perceptron_and.yaml")
    assert items(a["weights"].value) == tuple(w) and a["bias"].value == b
    assert a["first epoch without mistakes"].value == 3


def test_xor_threshold_network():
    # OR(0.5) and AND(1.5) hidden units, y = OR − 2·AND > 0.5: XOR; depth 2, width 2
    a = answers("xor_network.yaml")
    assert items(a["output y"].value) == (0, 1, 1, 0)
    assert a["depth"].value == 2 and a["width"].value == 2


def _separable_by_brute_force(X, T):
    """Independent check: a grid of half-integer weights in [-3, 3] (enough for 2- and 3-input tables)."""
    import itertools
    grid = [k / 2 for k in range(-6, 7)]
    return any(all((sum(w * x for w, x in zip(c, r)) + c[-1] > 0) == (t == 1) for r, t in zip(X, T))
               for c in itertools.product(grid, repeat=len(X[0]) + 1))


def _find(X, T):
    text = "kind: perceptron\nfind_weights: true\ninputs: %s\ntargets: %s\n" % (X, T)
    return {a.name: a for a in solve(parse_spec(text, "t.yaml")).answers}


def test_truth_table_weights_for_every_two_input_function():
    # 14 of the 16 two-input Boolean functions are linearly separable: all but XOR and XNOR
    import itertools
    X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    separable = 0
    for T in itertools.product([0, 1], repeat=4):
        a = _find(X, list(T))
        verdict = a["linearly separable"].value is True
        assert verdict == _separable_by_brute_force(X, T)
        separable += verdict
        if verdict:      # the weights found really realise the table
            w, b = items(a["weights"].value), a["bias"].value
            assert all((w[0] * x[0] + w[1] * x[1] + b > 0) == (t == 1) for x, t in zip(X, T))
    assert separable == 14


def test_three_input_functions_sampled():
    # 104 of 256 three-input functions are separable; check a deterministic sample against brute force
    import itertools
    X = [list(r) for r in itertools.product([0, 1], repeat=3)]
    for n in range(0, 256, 7):
        T = [(n >> k) & 1 for k in range(8)]
        a = _find(X, T)
        assert a["linearly separable"].value is _separable_by_brute_force(X, T)


def test_xor_proof_and_and_not():
    a = answers("perceptron_xor.yaml")
    assert a["linearly separable"].value is False and a["linearly separable"].agrees
    a = answers("perceptron_weights.yaml")
    assert items(a["weights"].value) == (1, -1) and a["bias"].value == 0


def test_exact_simplex_finds_non_integer_solutions():
    from fractions import Fraction as F

    from examsolve.separable import feasible
    # x + y = 1, x − y = 1/2 with x, y ≥ 0: x = 3/4, y = 1/4 (by hand)
    assert feasible([[F(1), F(1)], [F(1), F(-1)]], [F(1), F(1, 2)]) == [F(3, 4), F(1, 4)]
    assert feasible([[F(1), F(1)]], [F(-1)]) is None      # x + y = −1 has no solution with x, y ≥ 0


def test_weights_by_linear_programming_when_small_integers_fail():
    # x = 0.1 → 0, x = 0.2 → 1: needs b ∈ (−0.2w, −0.1w], no integer pair with |w|, |b| ≤ 4 (by hand)
    a = _find([[0.1], [0.2]], [0, 1])
    w, b = items(a["weights"].value)[0], a["bias"].value
    assert w * sympy.Rational(1, 10) + b <= 0 < w * sympy.Rational(2, 10) + b


def test_mlp_rule_with_momentum_against_plain_python():
    from fractions import Fraction as F
    x, y, lr, mu = [F(1), F(2)], F(1), F(1, 10), F(9, 10)
    W1 = [[F(1, 5)] * 2 for _ in range(2)]
    b1 = [F(0)] * 2
    W2 = [F(1, 5)] * 2
    v = {"W1": [[F(0)] * 2 for _ in range(2)], "b1": [F(0)] * 2, "W2": [F(0)] * 2}
    for _ in range(2):        # relu hidden layer, linear output, L = ½(ŷ − y)², PyTorch momentum
        z = [W1[i][0] * x[0] + W1[i][1] * x[1] + b1[i] for i in range(2)]
        a = [max(zi, F(0)) for zi in z]
        yhat = W2[0] * a[0] + W2[1] * a[1]
        d = yhat - y
        gW2 = [d * ai for ai in a]
        dz = [d * W2[i] * (1 if z[i] > 0 else 0) for i in range(2)]
        gW1 = [[dz[i] * x[j] for j in range(2)] for i in range(2)]
        v["W2"] = [mu * vi + g for vi, g in zip(v["W2"], gW2)]
        v["b1"] = [mu * vi + g for vi, g in zip(v["b1"], dz)]
        v["W1"] = [[mu * v["W1"][i][j] + gW1[i][j] for j in range(2)] for i in range(2)]
        W2 = [w - lr * vi for w, vi in zip(W2, v["W2"])]
        b1 = [w - lr * vi for w, vi in zip(b1, v["b1"])]
        W1 = [[W1[i][j] - lr * v["W1"][i][j] for j in range(2)] for i in range(2)]
    a = answers("mlp_rule_momentum.yaml")
    exact = lambda f: sympy.Rational(f.numerator, f.denominator)   # noqa: E731
    assert items(a["W2 after 2 steps"].value) == tuple(map(exact, W2))
    assert items(a["b1 after 2 steps"].value) == tuple(map(exact, b1))
    assert items(a["W1 after 2 steps"].value) == tuple(exact(w) for row in W1 for w in row)


def _pool_by_hand(x, k, s, p, how, include_pad=True):
    """Plain-Python pooling on a zero/−∞ padded grid, as PyTorch defines it."""
    n = len(x)
    out = []
    for i in range((n + 2 * p - k) // s + 1):
        row = []
        for j in range((n + 2 * p - k) // s + 1):
            cells = [(i * s + a - p, j * s + b - p) for a in range(k) for b in range(k)]
            real = [x[r][c] for r, c in cells if 0 <= r < n and 0 <= c < n]
            if how == "max":
                row.append(max(real))
            else:
                row.append(sympy.Rational(sum(real), len(cells) if include_pad else len(real)))
        out.append(row)
    return out


def test_pooling_with_padding_against_plain_python():
    x = [[1, -2, 3], [4, 5, -6], [-7, 8, 9]]
    for how, include in (("max", True), ("avg", True), ("avg", False)):
        for k, s, p in ((2, 1, 1), (3, 2, 1), (2, 2, 1)):
            text = (f"kind: conv\ngiven:\n  x: {x}\n  w: [[1]]\nconv: {{input: x, kernel: w}}\n"
                    f"pool: {{type: {how}, size: {k}, stride: {s}, padding: {p}, count_include_pad: "
                    f"{'true' if include else 'false'}}}\nask:\n  - value: [p]\n")
            got = {a.name: a.value for a in solve(parse_spec(text, "t.yaml")).answers}["p"]
            want = _pool_by_hand(x, k, s, p, how, include)
            assert items(got) == tuple(v for row in want for v in row), (how, k, s, p)
    bad = "kind: conv\ngiven: {x: [[1, 2], [3, 4]], w: [[1]]}\npool: {size: 2, padding: 2}\nask:\n  - value: [p]\n"
    import pytest
    from examsolve.errors import SpecError
    with pytest.raises(SpecError, match="more than half the window"):
        solve(parse_spec(bad, "t.yaml"))


def test_normalized_tensors_against_plain_python():
    import math
    x = [[[[1, 3]], [[5, 7]], [[2, 2]], [[0, 4]]], [[[2, -1]], [[0, 0]], [[3, 1]], [[1, 1]]]]
    flat = [(n, c, j, x[n][c][0][j]) for n in range(2) for c in range(4) for j in range(2)]
    eps = 0.5
    for kind, key in (("batch", lambda n, c: c), ("layer", lambda n, c: n), ("instance", lambda n, c: (n, c)),
                      ("group", lambda n, c: (n, c // 2))):
        groups: dict = {}
        for n, c, j, v in flat:
            groups.setdefault(key(n, c), []).append(v)
        stats = {k: (sum(v) / len(v), sum((u - sum(v) / len(v)) ** 2 for u in v) / len(v)) for k, v in groups.items()}
        want = [(v - stats[key(n, c)][0]) / math.sqrt(stats[key(n, c)][1] + eps) for n, c, j, v in flat]
        text = f"kind: normalization\nx: {x}\nnorms: [{kind}]\ngroups: 2\nnormalized: true\neps: 0.5\n"
        got = {a.name: a.value for a in solve(parse_spec(text, "t.yaml")).answers}[f"{kind} norm x̂"]
        assert all(abs(float(g) - w) < 1e-12 for g, w in zip(items(got), want)), kind


def test_normalizing_equal_values_needs_eps():
    import pytest
    from examsolve.errors import SolveError
    text = "kind: normalization\nx: [[[[2, 2]]]]\nnorms: [instance]\nnormalized: true\n"
    with pytest.raises(SolveError, match="set eps > 0"):
        solve(parse_spec(text, "t.yaml"))
