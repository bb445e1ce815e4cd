"""lr, policy and optimizer families against hand derivations and plain-Python loops written here."""
from __future__ import annotations

import math

import sympy

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.spec import parse_spec


def answers(name):
    return {a.name: a for a in solve(load_spec(str(ROOT / "problems" / name))).answers}


def run(text):
    return {a.name: a.value for a in solve(parse_spec(text, "t.yaml")).answers}


def test_seed000_q9_two_dimensions():
    # f = ½(3w1² + w2²): λ = (3, 1), ρ = (1 − 3α, 1 − α); |ρ| < 1 ⇔ 0 < α < 2/3; α* = 2/(1 + 3) = 1/2, rate 1/2
    a = answers("sgd_convergence_2d.yaml")
    assert a["converges"].value == sympy.Interval.open(0, sympy.Rational(2, 3)) and a["alpha*"].value == sympy.Rational(1, 2)
    assert a["rate at alpha*"].value == sympy.Rational(1, 2) and a["diverges"].value == sympy.Union(sympy.Interval.open(-sympy.oo, 0), sympy.Interval.open(sympy.Rational(2, 3), sympy.oo))


def test_seed001_q4_quadratic_and_the_flagged_key():
    # f = 3w² − 1: ρ = 1 − 6α; converges on (0, 1/3), |ρ| = 1 at α = 1/3 (and α = 0, where w stays put)
    a = answers("sgd_quadratic.yaml")
    assert a["converges"].value == sympy.Interval.open(0, sympy.Rational(1, 3)) and a["oscillates"].value == sympy.FiniteSet(sympy.Rational(1, 3))
    assert a["does not move"].value == sympy.FiniteSet(0) and a["alpha*"].value == sympy.Rational(1, 6)
    assert a["oscillates"].agrees is False       # the key's {0, 1/3} counts the resting point
    # |ρ| = |1 − 6α| = 1 ⇔ α = 0 or α = 1/3: that set is the answer `boundary`, and the flag says so
    assert a["boundary"].value == sympy.FiniteSet(0, sympy.Rational(1, 3)) and "boundary" in a["oscillates"].key_note
    # ρ = 1 − 6α < 0 ⇔ α > 1/6, |ρ| < 1 ⇔ 0 < α < 1/3: converges alternating sign on (1/6, 1/3)
    assert a["alternating"].value == sympy.Interval.open(sympy.Rational(1, 6), sympy.Rational(1, 3))


def test_abs_loss_is_explained():
    a = answers("abs_loss.yaml")
    assert "diminishing step" in a["convergence sets"].note


def test_seed000_q7_reinforce():
    # ∂log σ(θx)/∂θ = x(1 − σ(θx)) = 3/(1 + e⁶) at θ = 2, x = 3; times r = (3 − 1)² + 0 = 4
    a = answers("reinforce.yaml")
    want = 12 / (1 + sympy.exp(6))
    assert sympy.simplify(a["estimate"].value - want) == 0
    assert sympy.simplify(a["theta after the step"].value - (2 + want)) == 0
    assert abs(float(a["estimate"].value) - 0.029672) < 1e-6


def test_seed001_q3_a2c():
    # σ(−1·1 + 1) = 1/2: V = ½·6 + ½·(−2) = 2, A = (4, −4); ∂log π(1)/∂θ = x(1 − σ) = 1/2; estimate 2
    sol = solve(load_spec(str(ROOT / "problems/a2c.yaml")))
    values = {s.target.name: s.value for s in sol.steps if s.target is not None}
    assert values["V"] == 2 and values["A_1"] == 4 and values["A_2"] == -4
    assert {a.name: a.value for a in sol.answers}["estimate"] == 2


def test_seed004_q1_momentum_symbolic():
    # v ← 0.9v + 0.1∇L with ∇L = (2 + 3x2, 3x1): (0.9v1 + 0.2 + 0.3x2, 0.9v2 + 0.3x1)
    a = answers("momentum_symbolic.yaml")
    x1, x2, v1, v2, gamma, t = sympy.symbols("x1 x2 v1 v2 gamma t", real=True)
    vx1 = sympy.Rational(9, 10) * v1 + sympy.Rational(1, 5) + sympy.Rational(3, 10) * x2
    assert sympy.simplify(a["v_x1 after 1 step"].value - vx1) == 0
    assert sympy.simplify(a["v_x2 after 1 step"].value - (sympy.Rational(9, 10) * v2 + sympy.Rational(3, 10) * x1)) == 0
    # bias correction at step t divides by 1 − 0.9^t; the key's 0.9⁴ is flagged
    want = x1 - gamma * vx1 / (1 - sympy.Rational(9, 10) ** t)
    assert sympy.simplify(a["x1 after 1 step"].value - want) == 0
    assert a["x1 after 1 step"].agrees is False


def _loop(update, x, grad, n):
    """The textbook update in plain floats, n steps."""
    state = {}
    for t in range(1, n + 1):
        x = update(x, [g(x) for g in grad], state, t)
    return x


def _close(got, want, tol=1e-12):
    return all(abs(float(g) - w) <= tol * max(1, abs(w)) for g, w in zip(got, want))


def test_adam_against_a_plain_loop():
    def adam(x, g, s, t, lr=0.1, b1=0.9, b2=0.999, eps=1e-8):
        m = s.setdefault("m", [0.0] * len(x))
        v = s.setdefault("v", [0.0] * len(x))
        out = []
        for i, (xi, gi) in enumerate(zip(x, g)):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            mh, vh = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            out.append(xi - lr * mh / (math.sqrt(vh) + eps))
        return out
    want = _loop(adam, [1.0, -2.0], [lambda x: 2 * x[0], lambda x: 6 * x[1]], 2)
    a = answers("adam_two_steps.yaml")
    assert _close([a["w1 after 2 steps"].value, a["w2 after 2 steps"].value], want)


def test_rmsprop_adagrad_nesterov_rprop_against_plain_loops():
    def rmsprop(x, g, s, t, lr=0.1, rho=0.9, eps=1e-8):
        sq = s.setdefault("s", [0.0] * len(x))
        out = []
        for i, (xi, gi) in enumerate(zip(x, g)):
            sq[i] = rho * sq[i] + (1 - rho) * gi * gi
            out.append(xi - lr * gi / (math.sqrt(sq[i]) + eps))
        return out
    assert _close([answers("rmsprop_steps.yaml")["w after 3 steps"].value],
                  _loop(rmsprop, [2.0], [lambda x: 2 * (x[0] - 1)], 3))

    def adagrad(x, g, s, t, lr=0.5, eps=1e-8):
        G = s.setdefault("G", [0.0] * len(x))
        out = []
        for i, (xi, gi) in enumerate(zip(x, g)):
            G[i] += gi * gi
            out.append(xi - lr * gi / (math.sqrt(G[i]) + eps))
        return out
    a = answers("adagrad_steps.yaml")
    assert _close([a["a after 3 steps"].value, a["b after 3 steps"].value],
                  _loop(adagrad, [1.0, 1.0], [lambda x: 2 * x[0], lambda x: 20 * x[1]], 3))

    def nesterov(x, g_unused, s, t, lr=0.5, mu=0.5):
        v = s.setdefault("v", [0.0])
        ahead = x[0] + mu * v[0]
        v[0] = mu * v[0] - lr * ahead          # ∇(w²/2) at the look-ahead point
        return [x[0] + v[0]]
    assert _close([answers("nesterov_steps.yaml")["w after 3 steps"].value], _loop(nesterov, [4.0], [lambda x: 0], 3))

    def rprop(x, g, s, t, step0=0.4, up=1.2, down=0.5):
        prev = s.setdefault("prev", [0.0])
        d = s.setdefault("d", [step0])
        gi = g[0]
        if gi * prev[0] > 0:
            d[0] = min(d[0] * up, 50)
        elif gi * prev[0] < 0:
            d[0] = max(d[0] * down, 1e-6)
            gi = 0.0
        prev[0] = gi
        return [x[0] - (gi > 0) * d[0] + (gi < 0) * d[0]]
    # by hand: w = 1 → 0.6 → 0.12 (Δ 0.48) → 0.12 (sign flip: Δ 0.24, no move) → 0.36 → 0.36
    assert _close([answers("rprop_steps.yaml")["w after 5 steps"].value],
                  _loop(rprop, [1.0], [lambda x: 2 * (x[0] - 0.3)], 5))


def test_momentum_forms_and_the_heavy_ball_form():
    # classic: v ← μv + g, w ← w − αv on L = w² (g = 2w), μ = 1/2, α = 1/10, w0 = 1:
    # v1 = 2, w1 = 4/5; v2 = 1 + 8/5 = 13/5, w2 = 4/5 − 13/50 = 27/50
    a = run("kind: optimizer\nparams: {w: 1}\nloss: w**2\n"
            "optimizer: {type: momentum, form: classic, momentum: 0.5, lr: 0.1}\nsteps: 2\n")
    assert a["w after 2 steps"] == sympy.Rational(27, 50)
    # heavy-ball check: w2 = w1 + μ(w1 − w0) − α·g(w1) = 4/5 + (1/2)(−1/5) − (1/10)(8/5) = 27/50
    assert sympy.Rational(4, 5) + sympy.Rational(1, 2) * (sympy.Rational(4, 5) - 1) - sympy.Rational(8, 50) == \
        sympy.Rational(27, 50)
    # negative form: v ← μv − αg, w ← w + v gives the same iterates
    b = run("kind: optimizer\nparams: {w: 1}\nloss: w**2\n"
            "optimizer: {type: momentum, form: negative, momentum: 0.5, lr: 0.1}\nsteps: 2\n")
    assert b["w after 2 steps"] == sympy.Rational(27, 50)
