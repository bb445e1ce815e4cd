"""Values that were only in step titles or table cells are quantities, family by family.

Every expectation below is derived by hand (in the comment) or by a plain-Python loop written here.
"""
from __future__ import annotations

import math

import sympy

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.quantity import lookup
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor


def _q(name: str):
    return solve(load_spec(str(ROOT / "problems" / name))).quantities


def _close(value, expected: float, tol: float = 1e-9) -> bool:
    return abs(float(sympy.N(value, 30)) - expected) < tol


# -- policy -------------------------------------------------------------------------------------------

def test_a2c_value_advantages_policy_and_log_gradients():
    # θ = −1, x = 1: θx + 1 = 0, σ(0) = 1/2, so π = (1/2, 1/2)
    # V = (1/2)·6 + (1/2)·(−2) = 2; A = (6 − 2, −2 − 2) = (4, −4)
    # ∂log σ(θx+1)/∂θ = x·(1 − σ) = 1/2; ∂log(1 − σ(θx+1))/∂θ = −x·σ = −1/2
    q = _q("a2c.yaml")
    assert q["V"] == 2
    assert isinstance(q["A"], Tensor) and list(q["A"].items) == [4, -4]
    assert lookup(q, "A[1]") == -4
    assert list(q["pi"].items) == [sympy.Rational(1, 2)] * 2
    assert list(q["grad_log_pi"].items) == [sympy.Rational(1, 2), -sympy.Rational(1, 2)]


def test_a2c_keys_on_v_and_one_advantage_agree():
    sol = solve(load_spec(str(ROOT / "problems" / "a2c.yaml")))
    marks = {a.name: a.agrees for a in sol.answers}
    assert marks["V"] is True and marks["A[1]"] is True


def test_reinforce_policy_and_log_gradients():
    # θ = 2, x = 3: σ(6) = 1/(1 + e^−6); π = (σ(6), 1 − σ(6))
    # ∂log π(1|x)/∂θ = x·(1 − σ(6)) = 3·(1 − σ(6)); ∂log π(2|x)/∂θ = −x·σ(6) = −3·σ(6)
    q = _q("reinforce.yaml")
    s = 1 / (1 + math.exp(-6))
    assert _close(q["pi"].items[0], s) and _close(q["pi"].items[1], 1 - s)
    assert _close(q["grad_log_pi"].items[0], 3 * (1 - s)) and _close(q["grad_log_pi"].items[1], -3 * s)


def test_policy_with_several_transitions_names_each():
    text = (ROOT / "problems" / "a2c.yaml").read_text(encoding="utf-8").split("\nkey:")[0]
    text = text.replace('  - {state: 1, action: "1"}', '  - {state: 1, action: "1"}\n  - {state: 0, action: "2"}')
    q = solve(parse_spec(text, "q.yaml")).quantities
    # second state x = 0: σ(−1·0 + 1) = σ(1); V = 6σ(1) − 2(1 − σ(1)) = 8σ(1) − 2; ∂log π/∂θ = 0 (x = 0)
    s1 = 1 / (1 + math.exp(-1))
    assert q["transitions.0.V"] == 2 and list(q["transitions.0.A"].items) == [4, -4]
    assert _close(q["transitions.1.V"], 8 * s1 - 2)
    assert _close(lookup(q, "transitions.1.A[1]"), -2 - (8 * s1 - 2))
    assert list(q["transitions.1.grad_log_pi"].items) == [0, 0]


# -- perceptron ---------------------------------------------------------------------------------------

def _perceptron_pm(X, T, w, b, eta, epochs):
    """The ±1 rule (sign(0) = −1), written out plainly: per epoch nets, outputs, update flags, w, b."""
    out = []
    for _ in range(epochs):
        nets, outs, flags = [], [], []
        for x, t in zip(X, T):
            net = sum(wi * xi for wi, xi in zip(w, x)) + b
            o = 1 if net > 0 else -1
            nets.append(net)
            outs.append(o)
            flags.append(int(o != t))
            if o != t:
                w = [wi + eta * t * xi for wi, xi in zip(w, x)]
                b = b + eta * t
        out.append((nets, outs, flags, list(w), b))
    return out


def test_perceptron_epochs_are_quantities():
    q = _q("perceptron_and.yaml")
    expected = _perceptron_pm([[-1, -1], [-1, 1], [1, -1], [1, 1]], [-1, -1, -1, 1], [0, 0], 0, 1, 3)
    for e, (nets, outs, flags, w, b) in enumerate(expected, 1):
        assert list(q[f"epochs[{e}].net"].items) == nets
        assert list(q[f"epochs[{e}].outputs"].items) == outs
        assert list(q[f"epochs[{e}].updates"].items) == flags
        assert list(q[f"epochs[{e}].w"].items) == w and q[f"epochs[{e}].b"] == b
        assert q[f"epochs[{e}].mistakes"] == sum(flags)
    # by hand (see the yaml's key comment): epoch 1 updates only on (1, 1); epoch 2 on the middle two
    assert list(q["epochs[1].updates"].items) == [0, 0, 0, 1]
    assert lookup(q, "epochs[2].outputs[2]") == 1


def test_perceptron_keys_agree():
    sol = solve(load_spec(str(ROOT / "problems" / "perceptron_and.yaml")))
    assert all(a.agrees for a in sol.answers if a.name.startswith("epochs["))


def test_threshold_network_unit_outputs():
    # XOR from OR and NAND into AND: x1 OR x2 = (0, 1, 1, 1), NAND = (1, 1, 1, 0), AND of them = (0, 1, 1, 0)
    text = """
kind: perceptron
title: xor
inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]
network:
  - {name: h1, inputs: [x1, x2], weights: [1, 1], bias: -0.5}
  - {name: h2, inputs: [x1, x2], weights: [-1, -1], bias: 1.5}
  - {name: y, inputs: [h1, h2], weights: [1, 1], bias: -1.5}
"""
    q = solve(parse_spec(text, "q.yaml")).quantities
    assert list(q["units.h1.outputs"].items) == [0, 1, 1, 1]
    assert list(q["units.h2.outputs"].items) == [1, 1, 1, 0]
    assert list(q["units.y.outputs"].items) == [0, 1, 1, 0]


# -- loss ---------------------------------------------------------------------------------------------

def test_js_mixture_and_its_two_kls():
    # p = (1/2, 1/4, 1/4, 0), q = (1/4,)*4, bits: M = (3/8, 1/4, 1/4, 1/8)
    # KL(P‖M) = ½·log2(4/3) (only outcome 0 differs); KL(Q‖M) = ¼·log2(2/3) + ¼·log2(2) = ¼·log2(4/3)
    # H(p) terms −x·log2 x = (½, ½, ½, 0); H(q) terms (½, ½, ½, ½)
    q = _q("js_bits.yaml")
    assert list(q["M"].items) == [sympy.Rational(3, 8), sympy.Rational(1, 4), sympy.Rational(1, 4),
                                  sympy.Rational(1, 8)]
    assert _close(q["KL(P||M)"], 0.5 * math.log2(4 / 3)) and _close(q["KL(Q||M)"], 0.25 * math.log2(4 / 3))
    assert [sympy.nsimplify(v) for v in q["H(p).terms"].items] == [sympy.Rational(1, 2)] * 3 + [0]
    assert _close(sum(q["H(q).terms"].items), 2.0)
    # and the JS answer is their mean: ⅜·log2(4/3)
    assert _close(q["JS"], 3 / 8 * math.log2(4 / 3))


def test_js_keys_agree():
    sol = solve(load_spec(str(ROOT / "problems" / "js_bits.yaml")))
    marks = {a.name: a.agrees for a in sol.answers}
    assert marks["M[0]"] is True and marks["KL(Q||M)"] is True


def test_softmax_exponentials_and_gaussian_kl_terms():
    # z = (log 2, 0, log 5): e^z = (2, 1, 5), Σ = 8
    q = _q("softmax_ce.yaml")
    assert list(q["exp_z"].items) == [2, 1, 5] and q["sum_exp_z"] == 8
    # N(0, 1) vs N(1, 2): log(σ2/σ1) = log 2; (σ1² + (μ1 − μ2)²)/(2σ2²) = (1 + 1)/8 = 1/4
    q = _q("kl_gaussians.yaml")
    assert q["KL.log_term"] == sympy.log(2) and q["KL.ratio_term"] == sympy.Rational(1, 4)


# -- lr -----------------------------------------------------------------------------------------------

def test_lr_eigenvalues_and_factors():
    # f = ½(3·w1² + w2²) (x = (√3, 1)): H = diag(3, 1), eigenvalues increasing (1, 3); H is diagonal, so the
    # factors are per parameter (w1, w2): ρ_i = 1 − α·H_ii = (1 − 3α, 1 − α); bounds 2/H_ii = (2/3, 2);
    # α* = 2/(1 + 3) = 1/2 → ρ(α*) = (−1/2, 1/2)
    q = _q("sgd_convergence_2d.yaml")
    a = sympy.Symbol("alpha")
    assert list(q["eigenvalues"].items) == [1, 3]
    rho = [r.subs({s: a for s in r.free_symbols}) for r in q["rho"].items]
    assert sympy.expand(rho[0] - (1 - 3 * a)) == 0 and sympy.expand(rho[1] - (1 - a)) == 0
    assert list(q["alpha_limits"].items) == [sympy.Rational(2, 3), 2]
    assert list(q["rho_at_alpha*"].items) == [-sympy.Rational(1, 2), sympy.Rational(1, 2)]
    # f = 3w² − 1: H = 6, one eigenvalue; α* = 2/(6 + 6) = 1/6 makes the factor 1 − 6/6 = 0
    q = _q("sgd_quadratic.yaml")
    assert list(q["eigenvalues"].items) == [6] and list(q["rho_at_alpha*"].items) == [0]
    assert list(q["alpha_limits"].items) == [sympy.Rational(1, 3)]


# -- rnn ----------------------------------------------------------------------------------------------

def _sig(v):
    return 1 / (1 + math.exp(-v))


def test_lstm_gates_and_states_per_step():
    # lstm_forward.yaml written out plainly (scalars): f = σ(W_f x + U_f h + b_f) ..., c = f c + i g, h = o tanh(c)
    P = dict(W_f=0.5, U_f=0.1, b_f=0, W_i=1, U_i=-0.5, b_i=0.25, W_o=-0.5, U_o=1, b_o=0, W_c=2, U_c=0.5, b_c=-0.1)
    h, c, expected = 0.0, 0.0, {}
    for t, x in enumerate([1, -1], 1):
        f = _sig(P["W_f"] * x + P["U_f"] * h + P["b_f"])
        i = _sig(P["W_i"] * x + P["U_i"] * h + P["b_i"])
        o = _sig(P["W_o"] * x + P["U_o"] * h + P["b_o"])
        g = math.tanh(P["W_c"] * x + P["U_c"] * h + P["b_c"])
        c = f * c + i * g
        h = o * math.tanh(c)
        expected.update({f"gates.f[{t}]": f, f"gates.i[{t}]": i, f"gates.o[{t}]": o, f"gates.g[{t}]": g,
                         f"states.c[{t}]": c, f"states.h[{t}]": h, f"outputs.y[{t}]": h})
    q = _q("lstm_forward.yaml")
    for name, v in expected.items():
        assert _close(q[name], v), name
    assert q["states.h[0]"] == 0 and q["states.c[0]"] == 0
    # by hand, step 1 (h0 = c0 = 0, x1 = 1): f1 = σ(0.5), g1 = tanh(2 − 0.1) = tanh(1.9)
    assert _close(q["gates.f[1]"], 1 / (1 + math.exp(-0.5))) and _close(q["gates.g[1]"], math.tanh(1.9))


def test_gru_gates_are_vectors_per_step():
    # gru_forward.yaml, step 1: x1 = (1, 0), h0 = 0: z1 = σ(W_z x1) = σ((1, 0)) = (σ(1), 1/2);
    # r1 = σ((0.5, 0)) = (σ(0.5), 1/2); n1 = tanh(W_n x1 + r1·0) = tanh((1, 0)) = (tanh 1, 0);
    # h1 = (1 − z1)·n1 + z1·0 = ((1 − σ(1))·tanh 1, 0)
    q = _q("gru_forward.yaml")
    z1, r1, n1, h1 = (q[k].items for k in ("gates.z[1]", "gates.r[1]", "gates.n[1]", "states.h[1]"))
    assert _close(z1[0], _sig(1)) and z1[1] == sympy.Rational(1, 2)
    assert _close(r1[0], _sig(0.5)) and r1[1] == sympy.Rational(1, 2)
    assert _close(n1[0], math.tanh(1)) and n1[1] == 0
    assert _close(h1[0], (1 - _sig(1)) * math.tanh(1)) and h1[1] == 0


def test_plain_rnn_states_per_step():
    # rnn_vector_tanh.yaml, h_0 = 0, x_1 = (1, 0): h_1 = tanh(W_hh·0 + W_xh·x_1 + b) = tanh((1, 0) + (0, 0.1))
    q = _q("rnn_vector_tanh.yaml")
    assert list(q["states.h[0]"].items) == [0, 0]
    assert _close(q["states.h[1]"].items[0], math.tanh(1)) and _close(q["states.h[1]"].items[1], math.tanh(0.1))
