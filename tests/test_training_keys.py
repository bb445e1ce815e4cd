"""The intermediate values of the training examples (Adam, RPROP, perceptron, A2C) against plain-Python loops
written here, and the examples' keys of them agreeing."""
from __future__ import annotations

from decimal import Decimal, getcontext
from fractions import Fraction

import pytest
import sympy

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.quantity import lookup
from examsolve.tensor import Tensor


def solved(name):
    return solve(load_spec(str(ROOT / "problems" / name)))


def q(sol, name):
    return lookup(sol.quantities, name)


def close(value, want: Decimal, digits: int = 20) -> bool:
    """value (sympy) equals want to `digits` significant digits."""
    got = Decimal(str(sympy.N(value, digits + 5)))
    return abs(got - want) <= abs(want) * Decimal(10) ** (1 - digits)


@pytest.mark.parametrize("name", ["adam_two_steps.yaml", "rprop_steps.yaml", "perceptron_and.yaml", "a2c.yaml"])
def test_every_key_of_the_training_examples_agrees(name):
    sol = solved(name)
    keyed = [a for a in sol.answers if a.key is not None]
    assert len(keyed) >= 6, [a.name for a in keyed]
    assert all(a.agrees for a in keyed), [(a.name, a.key_note) for a in keyed if not a.agrees]


def test_adam_two_steps_against_a_plain_loop():
    # Adam with bias correction, α = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8 outside the root, on L = w1² + 3·w2²
    # (∇L = (2·w1, 6·w2)); exact fractions for m and v, 40-digit decimals for the roots.
    getcontext().prec = 40
    b1, b2, lr, eps = Decimal("0.9"), Decimal("0.999"), Decimal("0.1"), Decimal("1e-8")
    w, m, v = [Decimal(1), Decimal(-2)], [Decimal(0)] * 2, [Decimal(0)] * 2
    seen = {}
    for t in (1, 2):
        g = [2 * w[0], 6 * w[1]]
        for i, p in enumerate(("w1", "w2")):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            mh, vh = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            w[i] = w[i] - lr * mh / (vh.sqrt() + eps)
            seen.update({f"grad.{p}[{t}]": g[i], f"m.{p}[{t}]": m[i], f"v.{p}[{t}]": v[i],
                         f"iterates.{p}[{t}]": w[i]})
    # step 1 by hand: g = (2, −12), m = (0.2, −1.2), v = (0.004, 0.144), m̂/√v̂ = (1, −1) up to ε
    assert seen["m.w1[1]"] == Decimal("0.2") and seen["v.w2[1]"] == Decimal("0.144")
    assert abs(seen["iterates.w1[2]"] - Decimal("0.8004122")) < Decimal("1e-7")
    sol = solved("adam_two_steps.yaml")
    for name, want in seen.items():
        assert close(q(sol, name), want), (name, q(sol, name), want)
    # the first step's moments are exact: 1/5, −6/5, 1/250, 18/125
    assert [q(sol, n) for n in ("m.w1[1]", "m.w2[1]", "v.w1[1]", "v.w2[1]")] == [
        sympy.Rational(1, 5), sympy.Rational(-6, 5), sympy.Rational(1, 250), sympy.Rational(18, 125)]


def test_rprop_iterates_and_step_sizes_against_a_plain_loop():
    # iRprop−: Δ₀ = lr = 0.4; Δ ×1.2 on the same sign, ×0.5 and no move (g_prev ← 0) on a flip; L = (w − 0.3)²
    w, step, prev = Fraction(1), Fraction(2, 5), Fraction(0)
    iterates, steps = [], []
    for _ in range(5):
        g = 2 * (w - Fraction(3, 10))
        if g * prev > 0:
            step = min(step * Fraction(6, 5), Fraction(50))
        elif g * prev < 0:
            step, g = max(step / 2, Fraction(1, 10 ** 6)), Fraction(0)
        w -= ((g > 0) - (g < 0)) * step       # sign(g)·Δ; no move when g was set to 0
        prev = g
        iterates.append(w)
        steps.append(step)
    # by hand (problems/rprop_steps.yaml): w = 0.6, 0.12, 0.12, 0.36, 0.36; Δ = 0.4, 0.48, 0.24, 0.24, 0.12
    assert iterates == [Fraction(3, 5), Fraction(3, 25), Fraction(3, 25), Fraction(9, 25), Fraction(9, 25)]
    assert steps == [Fraction(2, 5), Fraction(12, 25), Fraction(6, 25), Fraction(6, 25), Fraction(3, 25)]
    sol = solved("rprop_steps.yaml")
    for t in range(1, 6):
        assert q(sol, f"iterates.w[{t}]") == sympy.Rational(iterates[t - 1])
        assert q(sol, f"Δ.w[{t}]") == sympy.Rational(steps[t - 1])


def test_perceptron_epochs_against_a_plain_loop():
    # ±1 targets, o = sign(w·x + b) with sign(0) = −1; on a mistake w ← w + η·t·x, b ← b + η·t (η = 1)
    X, T = [(-1, -1), (-1, 1), (1, -1), (1, 1)], [-1, -1, -1, 1]
    w, b = [0, 0], 0
    sol = solved("perceptron_and.yaml")
    for epoch in (1, 2, 3):
        outs, updates = [], []
        for x, t in zip(X, T):
            o = 1 if w[0] * x[0] + w[1] * x[1] + b > 0 else -1
            outs.append(o)
            updates.append(int(o != t))
            if o != t:
                w, b = [w[0] + t * x[0], w[1] + t * x[1]], b + t
        at = f"epochs[{epoch}]."
        assert q(sol, at + "outputs") == Tensor((4,), tuple(map(sympy.Integer, outs)))
        assert q(sol, at + "updates") == Tensor((4,), tuple(map(sympy.Integer, updates)))
        assert q(sol, at + "w") == Tensor((2,), tuple(map(sympy.Integer, w))) and q(sol, at + "b") == b
        assert q(sol, at + "mistakes") == sum(updates)
    # by hand: epoch 2 has the two mistakes at (−1, 1) and (1, −1); the last weights are (1, 1), bias −1
    assert q(sol, "epochs[2].updates[1]") == 1 and w == [1, 1] and b == -1


def test_a2c_value_and_advantages():
    # π(1|x) = σ(−1·1 + 1) = σ(0) = 1/2 = π(2|x); V = ½·6 + ½·(−2) = 2; A = (6 − 2, −2 − 2) = (4, −4)
    sol = solved("a2c.yaml")
    assert q(sol, "V") == 2 and q(sol, "A") == Tensor((2,), (sympy.Integer(4), sympy.Integer(-4)))
    assert q(sol, "A[0]") == 4
    # ∂log π(1|x)/∂θ = (1 − σ(0))·x = 1/2, times A(u=1) = 4: the estimate 2
    assert q(sol, "grad_log_pi[0]") == sympy.Rational(1, 2)
