"""Numbers of exact values are settled at a rising precision: sympy's evalf at one precision can drop a term and
still claim every digit (log(1 + e⁻⁷⁰) is 0 at 15 digits), which showed wrong values, signs and kinks as exact.

Expected values come from mpmath at 50 digits (log1p keeps the small term), never from examsolve.
"""
from __future__ import annotations

import json
import re

import mpmath
import pytest
import sympy
from click.testing import CliRunner

from examsolve import functions as fn
from examsolve.cli import main
from examsolve.values import numeric

PROBE = """kind: graph
title: t
given: {x: 70}
equations:
  lg: log(1 + exp(-x))
  r: relu(lg*10**61 - 1)
  q: max(lg*10**61, 5)
ask: [{value: [lg, r, q]}, {grad: {of: r, wrt: x}}]
"""


@pytest.fixture(autouse=True)
def fifty_digits():
    """mpmath at 50 digits for the expected values, restored afterwards."""
    with mpmath.workdps(50):
        yield


def _lg():
    return mpmath.log1p(mpmath.exp(-70))


def _cli(tmp_path, text: str, *args: str) -> str:
    spec = tmp_path / "t.yaml"
    spec.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, [*args[:1], str(spec), *args[1:]])
    assert r.exit_code == 0, r.output
    return r.stdout


def _answers(tmp_path, text: str) -> dict:
    return {a["name"]: a for a in json.loads(_cli(tmp_path, text, "run", "--format", "json"))["answers"]}


def _close(got, want, rel=1e-12) -> bool:
    return abs(mpmath.mpf(got) - want) <= rel * abs(want)


def _shown(out: str, name: str) -> str:
    """The decimal after ≈ in the answers table's row of `name`."""
    row = next(line for line in out.splitlines() if re.match(rf"\W*{re.escape(name)}\s", line))
    return re.search(r"≈ (\S+)", row).group(1)


def test_a_term_evalf_drops_keeps_its_value_sign_and_gradient(tmp_path):
    a = _answers(tmp_path, PROBE)
    lg = _lg()                                          # 3.9754497359086468e-31
    assert _close(a["lg"]["value"], lg)
    assert _close(a["r"]["value"], lg * 10 ** 61 - 1)   # relu of a positive number: 3.9754497e30, not 0
    assert _close(a["q"]["value"], lg * 10 ** 61)       # larger than 5
    # ∂r/∂x = relu'(·)·10⁶¹·∂lg/∂x = 10⁶¹·(−e⁻⁷⁰/(1 + e⁻⁷⁰))
    grad = next(v for k, v in a.items() if k not in ("lg", "r", "q"))
    assert _close(grad["value"], -mpmath.exp(-70) / (1 + mpmath.exp(-70)) * 10 ** 61)


def test_the_text_shows_the_settled_decimals(tmp_path):
    out = _cli(tmp_path, PROBE, "run")
    for name, want in (("lg", _lg()), ("r", _lg() * 10 ** 61 - 1), ("q", _lg() * 10 ** 61)):
        assert _close(_shown(out, name), want, rel=1e-5), name


def test_a_correct_key_agrees_and_a_zero_is_graded_wrong(tmp_path):
    key = mpmath.nstr(_lg() * 10 ** 61 - 1, 6)          # '3.97545e+30'
    a = _answers(tmp_path, PROBE + f"key: {{r: {key}}}\n")
    assert a["r"]["agrees"] is True
    graded = json.loads(_cli(tmp_path, PROBE, "grade", "--format", "json", "-a", "r=0"))
    assert next(m for m in graded["answers"] if m["name"] == "r")["correct"] is False


@pytest.mark.parametrize("expr, want", [
    ("log(1 + 1/10**40)*10**40", lambda: mpmath.log1p(mpmath.mpf(10) ** -40) * 10 ** 40),   # 1 − 5e-41
    ("softplus(-80)*10**34", lambda: mpmath.log1p(mpmath.exp(-80)) * 10 ** 34),            # 0.1805
])
def test_a_small_term_times_a_large_power_is_not_zero(tmp_path, expr, want):
    text = f"kind: graph\ntitle: t\ngiven: {{a: 1}}\nequations:\n  y: a*({expr})\nask: [{{value: [y]}}]\n"
    assert _close(_answers(tmp_path, text)["y"]["value"], want())
    assert _close(_shown(_cli(tmp_path, text, "run"), "y"), want(), rel=1e-5)


def test_a_subnormal_value_keeps_its_digits_in_json(tmp_path):
    text = "kind: graph\ntitle: t\ngiven: {a: 1}\nequations:\n  y: a*exp(-700)*10**-10\nask: [{value: [y]}]\n"
    y = _answers(tmp_path, text)["y"]
    want = mpmath.exp(-700) * mpmath.mpf(10) ** -10     # 9.85967654375977e-315: a double keeps 9 digits of it
    assert _close(y["value"], want, rel=1e-15)


def test_numeric_settles_digits_a_fixed_precision_loses():
    lg = sympy.log(1 + sympy.exp(-70))
    got = numeric(lg * 10 ** 61 - 1, 40)
    assert _close(got, _lg() * 10 ** 61 - 1, rel=mpmath.mpf(10) ** -39)
    assert _close(numeric(sympy.log(1 + sympy.Rational(1, 10 ** 40)) * 10 ** 40, 45),
                  mpmath.log1p(mpmath.mpf(10) ** -40) * 10 ** 40, rel=mpmath.mpf(10) ** -44)


def test_a_zero_sympy_cannot_prove_is_zero_only_at_high_precision():
    # sin²1 + cos²1 − 1 and log 2 + log 3 − log 6 are 0; sympy leaves both unsimplified
    assert numeric(sympy.sin(1) ** 2 + sympy.cos(1) ** 2 - 1, 15).is_zero
    assert fn.sign_of(sympy.log(2) + sympy.log(3) - sympy.log(6)) == 0


def test_kinks_and_abs_take_the_settled_sign():
    d = sympy.log(1 + sympy.exp(-70)) * 10 ** 61 - 1    # 3.97e30 > 0, though sympy's is_negative says True
    assert fn.sign_of(d) == 1
    assert fn.relu(d) == d and fn.relu_grad(d) == 1
    assert fn.Abs(-d) == d and fn.sign(-d) == -1
    assert fn.Max(d, 5) == d and fn.Min(d, 5) == 5


def test_a_case_is_chosen_by_its_condition_at_enough_digits():
    """The shown numbers of a case expression pick the case whose condition holds: log(1 + e⁻⁷⁰) ≈ 3.98e-31
    (mpmath) is more than 10⁻⁶¹, so the first case, 10⁶¹ (sympy's own 15-digit comparison said False: 0)."""
    import sympy

    from examsolve.engine import substitute

    lg = sympy.Symbol("lg", real=True)
    big = sympy.Integer(10) ** 61
    case = sympy.Piecewise((big, lg > 1 / big), (0, True))
    assert substitute(case, {lg: sympy.log(1 + sympy.exp(-70))}, evaluate=False) == big
    assert substitute(case, {lg: sympy.Integer(0)}, evaluate=False) == 0


def test_a_rounded_key_is_compared_at_enough_digits():
    """log(1 + e⁻¹²⁰)·10⁵² ≈ 0.766764807372200 (mpmath at 120 digits; sympy's 40-digit evaluation gives 0, since
    1 + e⁻¹²⁰ = 1 + 7.7e-53): a key rounded to 4 figures agrees, one 1 % off does not."""
    from examsolve import solve
    from examsolve.spec import parse_spec

    def verdict(key: str):
        text = ("kind: graph\ngiven: {x: 120}\nequations:\n  v: log(1 + exp(-x))*10**52\nask:\n  - value: v\n"
                f"key:\n  v: {key}\n")
        return solve(parse_spec(text, "k.yaml")).answers[0].agrees

    assert verdict("0.7668") is True
    assert verdict("0.774") is False
