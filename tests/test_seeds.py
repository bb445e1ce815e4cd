"""The seed exam questions, with expectations derived by hand in the comments (not from examsolve)."""
from __future__ import annotations

import sympy
from sympy import Rational, pi

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.tensor import Tensor


def answers(name):
    sol = solve(load_spec(str(ROOT / "problems" / name)))
    return {a.name: a for a in sol.answers}, sol


def items(v):
    return v.items if isinstance(v, Tensor) else (v,)


def test_sin_net_seed000_q1():
    # u = wᵀx = (π/2)·2 + π·1 = 2π; y = sin 2π − 0 = 0; L = (0 − 2)² = 4
    # dL/dy = 2(y − l) = −4; dy/du = cos 2π = 1; du/dw = x = (2, 1) => dL/dw = (−8, −4)
    # w ← w − ½·(−8, −4) = (π/2 + 4, π + 2)
    a, _ = answers("sin_net.yaml")
    assert a["u"].value == 2 * pi and a["y"].value == 0 and a["L"].value == 4
    assert items(a["dL/dw"].value) == (-8, -4)
    assert items(a["w after 1 step"].value) == (pi / 2 + 4, pi + 2)


def test_sin_net_shows_the_chain():
    _, sol = answers("sin_net.yaml")
    backward = next(s for s in sol.steps if s.title.startswith("Backward"))
    values = {s.title: s.value for s in backward.substeps}
    assert values["Backward: ∂L/∂y"] == -4 and values["Backward: ∂L/∂u"] == -4


def test_bn_jacobian_seed001_q1():
    # μ = (2 + 4)/2 = 3; σ² = ((2−3)² + (4−3)²)/2 = 1; x̂ = (−1, 1)
    # y_i = γ x̂_i + β: ∂y_i/∂β = 1, ∂y_i/∂γ = x̂_i => J = [[1, −1], [1, 1]] (columns β, γ)
    a, _ = answers("bn_jacobian.yaml")
    assert a["mu"].value == 3 and a["var"].value == 1
    assert items(a["xhat"].value) == (-1, 1)
    assert items(a["J"].value) == (1, -1, 1, 1)
    assert a["J"].agrees is True


def test_bn_l2_grad_seed000_q4():
    # y = 6·(−1, 1) − 1 = (−7, 5); L = Σ y² ; dL/dγ = Σ 2 y_i x̂_i = 2(−7)(−1) + 2(5)(1) = 24
    a, _ = answers("bn_l2_grad.yaml")
    assert a["dL/dgamma"].value == 24


def test_bn_jacobian_gamma_seed000_q5():
    # ∂y_i/∂γ = x̂_i = (−1, 1)
    a, _ = answers("bn_jacobian_gamma.yaml")
    assert items(a["dy/dgamma"].value) == (-1, 1)


def test_bn_jacobian_beta_seed000_q6():
    # ∂y_i/∂β = 1 for every sample, whatever x is
    a, _ = answers("bn_jacobian_beta.yaml")
    assert items(a["dy/dbeta"].value) == (1, 1, 1)


def test_sigmoid_graph_matches_closed_form():
    # df/dz for f = σ(z) is σ(z)(1 − σ(z)); at z = 2 that is e^{-2}/(1 + e^{-2})²
    a, _ = answers("sigmoid_graph.yaml")
    expected = sympy.exp(-2) / (1 + sympy.exp(-2)) ** 2
    assert sympy.simplify(a["df/dz"].value - expected) == 0
    assert sympy.simplify(a["df/dz"].value - a["check"].value) == 0


def test_critical_points():
    # ∇f = (3x² − 3, 2y): at (2, 1) = (9, 2); zero at (±1, 0); H = diag(6x, 2)
    # (1, 0): H = diag(6, 2) → minimum; (−1, 0): diag(−6, 2) → saddle; (0, 0): ∇f = (−3, 0) → not critical
    a, _ = answers("critical_points.yaml")
    assert items(a["grad f"].value) == (9, 2)
    assert a["f at (1, 0)"].value.kind == "local_minimum"
    assert a["f at (-1, 0)"].value.kind == "saddle"
    assert a["f at (0, 0)"].value.kind == "not_critical"
    assert str(a["critical points of f"].value) == "(-1, 0): saddle point; (1, 0): local minimum"
    assert [c.classification.kind for c in a["critical points of f"].value.items] == ["saddle", "local_minimum"]


def test_skip_connection():
    # w = 1/50, x = 3: d relu(wx + x)/dx = (w + 1)·1 = 51/50; d relu(wx)/dx = w = 1/50
    a, _ = answers("skip_connection.yaml")
    assert a["dy_skip/dx"].value == Rational(51, 50) and a["dy_plain/dx"].value == Rational(1, 50)


def test_margin_loss_tie_uses_the_named_convention():
    # ‖a − p‖² = 4 + 0 = 4, ‖a − n‖² = 1 + 4 = 5, L = max(4 − 5 + 1, 0) = max(0, 0): a tie.
    # max_tie = first sends the gradient through the first argument (d_pos − d_neg + α):
    # dL/da = 2(a − p) − 2(a − n) = 2(n − p) = (−2, 4); dL/dp = −2(a − p) = (4, 0); dL/dn = 2(a − n) = (−2, −4)
    a, sol = answers("margin_loss.yaml")
    assert a["L"].value == 0
    assert items(a["dL/da"].value) == (-2, 4)
    assert items(a["dL/dp"].value) == (4, 0)
    assert items(a["dL/dn"].value) == (-2, -4)
    assert "max_tie" in sol.steps[1].substeps[0].note
