"""The optimizer family past its exact budget: a sign or a 0 is never taken from rounding, and a step that
divides by 0 is an error with its reason, never a nan. Expected values come from mpmath at 50 digits here."""
from __future__ import annotations

import mpmath
import pytest
import sympy
from click.testing import CliRunner

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.cli import main

RPROP = ("kind: optimizer\ngiven:\n  c: {c}\nparams: {{w: {c} + 3/5}}\nloss: {loss}\n"
         "optimizer: {{type: rprop, variant: rprop+, step_init: {d0}, eta_plus: 1.2, eta_minus: 0.5, "
         "step_min: 1e-6, step_max: 50}}\nsteps: 2\n")
NESTED = "exp(exp(exp(1/10)))"             # nesting 3: past values.fit's budget, inside the exact shadow's
DEEP = "sin(sin(sin(sin(sin(1/10)))))"     # nesting 5: past the shadow's budget too


def cli(tmp_path, text: str, *args: str):
    """`examsolve run --strict` on a spec: (exit code, output)."""
    f = tmp_path / "spec.yaml"
    f.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["run", "--strict", *args, str(f)], catch_exceptions=False)
    return r.exit_code, r.output


def quantities(tmp_path, text: str) -> dict:
    f = tmp_path / "spec.yaml"
    f.write_text(text, encoding="utf-8")
    sol = solve(load_spec(f))
    return {name: q for s in sol.steps for name, q in s.quantities}


def _mp(x) -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.mpf(sympy.N(x, 50)._mpf_) if isinstance(x, sympy.Basic) else mpmath.mpf(x)


def _c() -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.exp(mpmath.exp(mpmath.exp(mpmath.mpf(1) / 10)))


def test_rprop_zero_gradient_in_float_mode_is_exactly_zero(tmp_path):
    # by hand: g₁ = 2·(3/5) > 0, g·g_prev = 0 (g_prev = 0): Δ = 3/5, w₁ = c + 3/5 − 3/5 = c exactly; then
    # g₂ = 2(w₁ − c) = 0, so g·g_prev = 0, Δw = −sign(0)·Δ = 0 and w₂ = c = 20.4859759685...
    c = _c()
    text = RPROP.format(c=NESTED, loss="(w - c)**2", d0=0.6) + "key:\n  w after 2 steps: 20.486\n"
    code, out = cli(tmp_path, text)
    assert code == 0, out
    assert "agrees with the key" in out and "DISAGREES" not in out
    q = quantities(tmp_path, text)
    assert q["grad.w[2]"] == 0 and q["gg_prev.w[2]"] == 0 and q["Δw.w[2]"] == 0
    with mpmath.workdps(50):
        assert abs(_mp(q["iterates.w[2]"]) - c) < mpmath.mpf(10) ** -28
    assert mpmath.nstr(c, 12) == "20.4859759685"


def test_rprop_exact_control(tmp_path):
    # c = √2 stays exact: w₁ = √2, g₂ = 0, w₂ = √2
    text = RPROP.format(c="sqrt(2)", loss="(w - c)**2", d0=0.6) + "key:\n  w after 2 steps: sqrt(2)\n"
    code, out = cli(tmp_path, text)
    assert code == 0, out
    assert quantities(tmp_path, text)["iterates.w[2]"] == sympy.sqrt(2)


def test_rprop_float_mode_decides_a_clear_sign(tmp_path):
    # Δ₀ = 1/2: w₁ = c + 1/10, g₂ = 1/5 > 0, g·g_prev > 0 → Δ = 1.2·0.5 = 0.6, w₂ = c + 1/10 − 3/5 = c − 1/2
    q = quantities(tmp_path, RPROP.format(c=NESTED, loss="(w - c)**2", d0=0.5))
    with mpmath.workdps(50):
        assert abs(_mp(q["iterates.w[2]"]) - (_c() - mpmath.mpf(1) / 2)) < mpmath.mpf(10) ** -28
        assert abs(_mp(q["Δ.w[2]"]) - mpmath.mpf("0.6")) < mpmath.mpf(10) ** -28


def test_rprop_sign_rounding_cannot_settle_is_exit_1(tmp_path):
    # c nested five deep keeps no exact form: w₁ = (c + 3/5) − 3/5 in floats, g₂ = 2(w₁ − c) is 0 or rounding;
    # its sign cannot be decided, so the run stops with the reason rather than move by 0.72 on noise
    code, out = cli(tmp_path, RPROP.format(c=DEEP, loss="(w - c)**2", d0=0.6))
    assert code == 1, out
    assert "rounding cannot settle" in out and "g·g_prev of w" in out


def test_kink_in_float_mode(tmp_path):
    # |w − c|: g₁ = |x|'(3/5) = 1, w₁ = c; g₂ = |x|'(0) = 0 by the convention (abs_grad_at_zero), w₂ = c
    q = quantities(tmp_path, RPROP.format(c=NESTED, loss="abs(w - c)", d0=0.6))
    assert q["grad.w[2]"] == 0
    with mpmath.workdps(50):
        assert abs(_mp(q["iterates.w[2]"]) - _c()) < mpmath.mpf(10) ** -28
    # without an exact form the kink's side is rounding: exit 1 with the reason
    code, out = cli(tmp_path, RPROP.format(c=DEEP, loss="abs(w - c)", d0=0.6))
    assert code == 1, out
    assert "rounding cannot settle" in out


ZERO_GRAD = ("kind: optimizer\nparams: {{w1: 0, w2: 1}}\nloss: w1**2 + w2**2\n"
             "optimizer: {{type: {t}, lr: 0.1{extra}}}\nsteps: 2\n")


@pytest.mark.parametrize("kind, what, default", [
    ("adam", "its second moment v", "1e-8 for Adam"),
    ("adamw", "its second moment v", "1e-8 for AdamW"),
    ("rmsprop", "its running average of squares s", "1e-8 for RMSprop"),
    ("adagrad", "its sum of squares G", "1e-10 for Adagrad"),
])
def test_zero_over_zero_is_exit_1(tmp_path, kind, what, default):
    # g(w1) = 2·0 = 0 at step 1, so the squares are 0 and with eps = 0 the step is 0/(√0 + 0)
    code, out = cli(tmp_path, ZERO_GRAD.format(t=kind, extra=", eps: 0"))
    assert code == 1, out
    want = f"the step is 0/0: the gradient of w1 and {what} are 0 at step 1 and eps is 0"
    assert want in out
    assert f"give eps > 0 (PyTorch's default {default})" in out
    assert "spec.yaml:4:" in out              # located at the optimizer's eps
    assert "nan" not in out and "zoo" not in out


@pytest.mark.parametrize("kind", ["adam", "rmsprop", "adagrad"])
def test_zero_gradient_with_eps_stays_zero(tmp_path, kind):
    # with the default eps the step of w1 is 0/(0 + ε) = 0 every step: w1 stays exactly 0
    code, out = cli(tmp_path, ZERO_GRAD.format(t=kind, extra=""))
    assert code == 0, out
    assert "nan" not in out
    assert quantities(tmp_path, ZERO_GRAD.format(t=kind, extra=""))["iterates.w1[2]"] == 0


def test_eps_inside_zero_is_exit_1(tmp_path):
    code, out = cli(tmp_path, ZERO_GRAD.format(t="rmsprop", extra=", eps: 0, eps_inside: true"))
    assert code == 1 and "0/0" in out, out


@pytest.mark.parametrize("extra, name", [(", beta1: 1", "β₁"), (", beta2: 1", "β₂")])
def test_adam_bias_correction_by_zero_is_exit_1(tmp_path, extra, name):
    # β = 1: 1 − βᵗ = 0, the bias correction divides by 0
    code, out = cli(tmp_path, ZERO_GRAD.format(t="adam", extra=extra))
    assert code == 1, out
    assert f"(1 − {name}ᵗ) divides by 0 at step 1" in out and "nan" not in out


def test_ema_momentum_bias_correction_by_zero_is_exit_1(tmp_path):
    code, out = cli(tmp_path, ZERO_GRAD.format(t="momentum", extra=", form: ema, momentum: 1"))
    assert code == 1, out
    assert "(1 − βᵗ) divides by 0" in out


@pytest.mark.parametrize("name", ["adam_two_steps", "rmsprop_steps", "adagrad_steps", "nesterov_steps",
                                  "rprop_steps", "rprop_plus", "momentum_symbolic", "momentum_elimination"])
def test_examples_agree_with_their_keys(name):
    # momentum_symbolic's key for x1 writes 0.9⁴ where the question asks for the t-th step: flagged on purpose
    flagged = {"momentum_symbolic": ["answer 'x1 after 1 step' disagrees with the key"]}.get(name, [])
    r = CliRunner().invoke(main, ["run", "--strict", str(ROOT / "problems" / f"{name}.yaml")],
                           catch_exceptions=False)
    assert r.exit_code == (1 if flagged else 0), r.output
    assert [line.split(": ", 1)[1] for line in r.output.splitlines() if "disagrees with the key" in line] == flagged
    assert "nan" not in r.output and "zoo" not in r.output


def _adam_reference(steps: int, eps: str, lr: str = "0.01") -> mpmath.mpf:
    """Adam on L = (w − 1/3)², w₀ = 0, at 60 digits (PyTorch's update with bias correction)."""
    with mpmath.workdps(60):
        w, m, v = mpmath.mpf(0), mpmath.mpf(0), mpmath.mpf(0)
        b1, b2, a, e = mpmath.mpf("0.9"), mpmath.mpf("0.999"), mpmath.mpf(lr), mpmath.mpf(eps)
        for t in range(1, steps + 1):
            g = 2 * (w - mpmath.mpf(1) / 3)
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g ** 2
            w -= a * (m / (1 - b1 ** t)) / (mpmath.sqrt(v / (1 - b2 ** t)) + e)
        return w


@pytest.mark.parametrize("eps", ["1e-8", "0"])
def test_long_adam_in_float_mode_matches_a_60_digit_reference(tmp_path, eps):
    # past the exact budget every divisor is > 0 by its structure: v > 0 when the run turns to floats, and
    # β₂·v + (1 − β₂)·g² with an exact β₂ > 0 keeps it so (with eps 0 too); 1 − βᵗ > 0 for an exact β < 1
    text = (f"kind: optimizer\nparams: {{w: 0}}\nloss: (w - 1/3)**2\noptimizer: {{type: adam, lr: 0.01, eps: {eps}}}\n"
            "steps: 60\n")
    q = quantities(tmp_path, text)
    with mpmath.workdps(50):
        assert abs(_mp(q["iterates.w[60]"]) - _adam_reference(60, eps)) < mpmath.mpf(10) ** -27


def test_a_sign_the_structure_cannot_settle_is_decided_by_two_precisions(tmp_path):
    # eps < 0 inside the root: v + ε is no sum of positives, so its sign needs the second precision (the run is
    # made again with it) and is > 0 here; the iterate matches RMSProp at 60 digits
    text = ("kind: optimizer\nparams: {w: 0}\nloss: (w - 1/3)**2\n"
            "optimizer: {type: rmsprop, lr: 0.01, eps: -1e-12, eps_inside: true}\nsteps: 40\n")
    with mpmath.workdps(60):
        w, s, r, e = mpmath.mpf(0), mpmath.mpf(0), mpmath.mpf("0.9"), mpmath.mpf("-1e-12")
        for _ in range(40):
            g = 2 * (w - mpmath.mpf(1) / 3)
            s = r * s + (1 - r) * g ** 2
            w -= mpmath.mpf("0.01") * g / mpmath.sqrt(s + e)
    q = quantities(tmp_path, text)
    with mpmath.workdps(50):
        assert abs(_mp(q["iterates.w[40]"]) - w) < mpmath.mpf(10) ** -27
