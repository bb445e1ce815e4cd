"""Nesterov's two forms (Sutskever's look-ahead, PyTorch's nesterov=True), the look-ahead point shown as its own
step, and optimizer fields a type does not read refused. Expected values by hand, with fractions."""
from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from click.testing import CliRunner

from examsolve import load_spec, render, solve
from examsolve.cli import main

SPEC = ("kind: optimizer\nparams: {{w: 1}}\nloss: w**2\n"
        "optimizer: {{type: nesterov, lr: 0.1, momentum: 0.9{extra}}}\nsteps: 3\n{key}")


def _write(tmp_path, text: str):
    f = tmp_path / "spec.yaml"
    f.write_text(text, encoding="utf-8")
    return f


def _quantities(tmp_path, text: str) -> dict:
    sol = solve(load_spec(_write(tmp_path, text)))
    return {name: q for s in sol.steps for name, q in _walk(s)}


def _walk(step):
    yield from step.quantities
    for s in step.substeps:
        yield from _walk(s)


def _by_hand(form: str) -> tuple[list, list, list]:
    """(iterates, gradients, look-ahead points) of f(w) = w², w₀ = 1, v₀ = 0, α = 1/10, μ = 9/10, three steps."""
    a, mu, w, v = Fraction(1, 10), Fraction(9, 10), Fraction(1), Fraction(0)
    ws, gs, ahead = [], [], []
    for _ in range(3):
        if form == "sutskever":      # v ← μv − α∇f(w + μv); w ← w + v
            p = w + mu * v
            g = 2 * p
            v = mu * v - a * g
            w = w + v
            ahead.append(p)
        else:                        # PyTorch: g = ∇f(w); v ← μv + g; w ← w − α(g + μv)
            g = 2 * w
            v = mu * v + g
            w = w - a * (g + mu * v)
        ws.append(w)
        gs.append(g)
    return ws, gs, ahead


def _q(x: Fraction):
    return sympy.Rational(x.numerator, x.denominator)


def test_hand_values():
    # the numbers of the probe: Sutskever 0.8, 0.496, 0.17792; PyTorch 0.62, 0.2224, −0.108352
    assert _by_hand("sutskever")[0] == [Fraction("0.8"), Fraction("0.496"), Fraction("0.17792")]
    assert _by_hand("pytorch")[0] == [Fraction("0.62"), Fraction("0.2224"), Fraction("-0.108352")]


@pytest.mark.parametrize("form, extra", [("sutskever", ""), ("sutskever", ", nesterov_form: sutskever"),
                                         ("pytorch", ", nesterov_form: pytorch")])
def test_iterates_and_gradients(tmp_path, form, extra):
    q = _quantities(tmp_path, SPEC.format(extra=extra, key=""))
    ws, gs, ahead = _by_hand(form)
    for t in range(1, 4):
        assert q[f"iterates.w[{t}]"] == _q(ws[t - 1])
        assert q[f"grad.w[{t}]"] == _q(gs[t - 1])
        if form == "sutskever":
            assert q[f"lookahead.w[{t}]"] == _q(ahead[t - 1])
        else:
            assert f"lookahead.w[{t}]" not in q      # PyTorch's form has no look-ahead point


def test_lookahead_is_its_own_step_in_every_format(tmp_path):
    # step 2: w = 4/5, v = −1/5, so w̃ = 4/5 + (9/10)(−1/5) = 31/50 and g = 2·31/50 = 31/25
    sol = solve(load_spec(_write(tmp_path, SPEC.format(extra="", key=""))))
    term = render(sol, "terminal")
    assert "w_ahead = w + μ·v_w = 4/5 + (9/10)·(-1/5) = 31/50" in term
    assert "g_w = 2·w_ahead = 2·(31/50) = 31/25" in term
    assert "g_w = 2·w = 31/25" not in term            # the gradient is not at w = 4/5
    md = render(sol, "markdown")
    assert r"g_{w} = 2 \cdot w_{ahead} = 2 \cdot \frac{31}{50} = \frac{31}{25}" in md
    tex = render(sol, "latex")
    assert r"w_{ahead} &= w + \mu \cdot v_{w}" in tex and r"g_{w} &= 2 \cdot w_{ahead}" in tex


def test_convention_is_stated(tmp_path):
    for extra, name in (("", "Sutskever's form"), (", nesterov_form: pytorch", "PyTorch's form")):
        out = render(solve(load_spec(_write(tmp_path, SPEC.format(extra=extra, key="")))), "terminal")
        assert f"convention: Nesterov, {name}" in out


def test_a_pytorch_key_is_named(tmp_path):
    # w₃ = −0.108352 is PyTorch's form (by hand above); the default Sutskever form gives 0.17792
    key = "key:\n  w after 3 steps: -0.108352\n"
    r = CliRunner().invoke(main, ["run", str(_write(tmp_path, SPEC.format(extra="", key=key)))])
    assert "nesterov_form = pytorch" in r.output and "this problem uses sutskever" in r.output
    r = CliRunner().invoke(main, ["run", str(_write(tmp_path, SPEC.format(extra=", nesterov_form: pytorch",
                                                                          key=key)))])
    assert r.exit_code == 0 and "agrees with the key" in r.output and "DISAGREES" not in r.output


@pytest.mark.parametrize("opt, field, hint", [
    ("{type: nesterov, form: negative}", "form", "nesterov_form: pytorch"),
    ("{type: gd, momentum: 0.5}", "momentum", "remove it"),
    ("{type: adam, rho: 0.5}", "rho", "only by rmsprop"),
    ("{type: momentum, nesterov_form: pytorch}", "nesterov_form", "only by nesterov"),
    ("{type: momentum, bias_correction: false}", "bias_correction", "form: ema"),
    ("{type: rmsprop, variant: rprop+}", "variant", "only by rprop"),
])
@pytest.mark.parametrize("command", ["run", "check"])
def test_a_field_the_type_does_not_read_is_refused(tmp_path, opt, field, hint, command):
    text = f"kind: optimizer\nparams: {{w: 1}}\nloss: w**2\noptimizer: {opt}\nsteps: 2\n"
    r = CliRunner().invoke(main, [command, str(_write(tmp_path, text))])
    assert r.exit_code == 2, r.output
    col = 4 + len("optimizer: ") + opt.index(field) - 3    # 1-based column of the key
    assert f"spec.yaml:4:{col}: optimizer.{field} is not used by" in r.output and hint in r.output


def test_fields_a_type_reads_are_accepted(tmp_path):
    text = ("kind: optimizer\nparams: {w: 1}\nloss: w**2\noptimizer: {type: momentum, form: ema, momentum: 0.5, "
            "bias_correction: false}\nsteps: 2\n")
    r = CliRunner().invoke(main, ["run", str(_write(tmp_path, text))])
    assert r.exit_code == 0, r.output
