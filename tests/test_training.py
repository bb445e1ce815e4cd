"""lr, policy and optimizer families against hand derivations and plain-Python loops written here."""
from __future__ import annotations

import math

import pytest
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
    assert a["converges"].value == "(0, 2/3)" and a["alpha*"].value == sympy.Rational(1, 2)
    assert a["rate at alpha*"].value == sympy.Rational(1, 2) and a["diverges"].value == "(-∞, 0) ∪ (2/3, ∞)"


def test_seed001_q4_quadratic_and_the_flagged_key():
    # f = 3w² − 1: ρ = 1 − 6α; converges on (0, 1/3), |ρ| = 1 at α = 1/3 (and α = 0, where w stays put)
    a = answers("sgd_quadratic.yaml")
    assert a["converges"].value == "(0, 1/3)" and a["oscillates"].value == "{1/3}"
    assert a["does not move"].value == "{0}" and a["alpha*"].value == sympy.Rational(1, 6)
    assert a["oscillates"].agrees is False       # the key's {0, 1/3} counts the resting point


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
