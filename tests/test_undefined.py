"""Undefined and non-real values are refused with a reason (exit 1), never simplified away or answered in
complex numbers; sizes of 0 in conv and network specs are spec errors at their position (exit 2).

Each case runs through the command line (`examsolve run FILE --format json`), as a user would.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from examsolve.cli import main


def run(tmp_path, text: str, *extra: str):
    spec = tmp_path / "t.yaml"
    spec.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["run", str(spec), "--format", "json", *extra])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def graph(given: str, equations: str, ask: str = "  - value: [y]\n", symbols: str = "") -> str:
    return (f"kind: graph\n{symbols}given: {given}\nequations:\n" + "".join(f"  {line}\n" for line in
            equations.splitlines()) + "ask:\n" + ask)


def answers(r) -> dict:
    def refuse(x):
        raise ValueError(f"not JSON: {x}")
    data = json.loads(r.stdout, parse_constant=refuse)
    return {a["name"]: a for a in data["answers"]}


# ---- forward values: the formula as written, operation by operation ------------------------------------

@pytest.mark.parametrize("given, equation, words", [
    # (2 − 2)/(2 − 2) = 0/0; sympy cancels (x − 2)/(x − 2) to 1 before x is put in
    ("{x: 2}", "y: (x - 2)/(x - 2)", ("y = (x - 2)/(x - 2)", "division by zero", "x - 2 is 0")),
    # log_0(x) = ln x / ln 0 has no value; sympy makes it ln x / (−∞) = 0
    ("{x: 3}", "y: log(x, 0)", ("log(x, 0)", "base 0")),
    # log_1(x) = ln x / 0
    ("{x: 3}", "y: log(x, 1)", ("base 1",)),
    # ln(2 − 2) = ln 0 = −∞
    ("{x: 2}", "y: log(x - 2)", ("log(0)",)),
    # x·(1/x) at 0: sympy makes it 1
    ("{x: 0}", "y: x*(1/x)", ("division by zero", "x is 0")),
    # tan(π/2) is a pole
    ("{x: pi/2}", "y: tan(x)", ("tan(x)",)),
    # 0**(-1) is 1/0
    ("{x: 0}", "y: x**(-1) - x**(-1)", ("division by zero",)),
])
def test_undefined_values_are_refused_with_the_operation_and_the_reason(tmp_path, given, equation, words):
    r = run(tmp_path, graph(given, equation))
    assert r.exit_code == 1, r.stdout
    assert "undefined" in r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert r.stderr.startswith(str(tmp_path / "t.yaml") + ":4:")      # the equation's line


@pytest.mark.parametrize("given, equation, words", [
    # sqrt(2 − 3) = sqrt(−1) = i: no real value (it was answered as I, with ∂y/∂x = −I/2)
    ("{x: 2}", "y: sqrt(x - 3)", ("sqrt(x - 3)", "x - 3 = -1", "square root")),
    # ln(−1) = iπ
    ("{x: 2}", "y: log(x - 3)", ("log of the negative number",)),
    # sympy's (−8)^(1/3) is the principal (complex) cube root 1 + i√3, not −2
    ("{x: -8}", "y: x**(1/3)", ("power 1/3",)),
])
def test_non_real_values_are_refused(tmp_path, given, equation, words):
    r = run(tmp_path, graph(given, equation, "  - value: [y]\n  - grad: {of: y, wrt: x}\n"))
    assert r.exit_code == 1, r.stdout
    assert "not real" in r.stderr and "real numbers only" in r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert "I" not in r.stdout


def test_a_defined_value_near_the_trouble_is_still_computed(tmp_path):
    # (x − 2)/(x − 2) at x = 3 is 1/1 = 1; sqrt(x − 3) at x = 7 is 2; log(x, 2) at 8 is 3
    r = run(tmp_path, graph("{x: 3, u: 7, v: 8}", "y: (x - 2)/(x - 2)\nz: sqrt(u - 3)\nw: log(v, 2)",
                            "  - value: [y, z, w]\n"))
    assert r.exit_code == 0, r.stderr
    a = answers(r)
    assert (a["y"]["value"], a["z"]["value"], a["w"]["value"]) == (1, 2, 3)


def test_a_derivative_that_does_not_exist_is_refused(tmp_path):
    # sqrt(x) at 0 is 0, but d sqrt(x)/dx = 1/(2 sqrt(x)) is 1/0 there
    r = run(tmp_path, graph("{x: 0}", "y: sqrt(x)", "  - grad: {of: y, wrt: x}\n"))
    assert r.exit_code == 1 and "undefined" in r.stderr


def test_a_point_given_with_at_is_checked_too(tmp_path):
    # sqrt(x) at x = −4 (an `at:` point) is 2i
    r = run(tmp_path, "kind: graph\nsymbols: [x]\nequations:\n  f: sqrt(x)\nask:\n"
                      "  - grad: {of: f, wrt: x, at: {x: -4}}\n")
    assert r.exit_code == 1 and "not real" in r.stderr


@pytest.mark.parametrize("point, word", [("{x: 0, y: 1}", "division by zero"), ("{x: 1, y: -1}", "not real")])
def test_hessian_points_where_f_has_no_value_are_refused(tmp_path, point, word):
    # f = 1/x + log(y): no value at x = 0, no real value at y = −1 (it was classified "not a critical point")
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  f: 1/x + log(y)\nask:\n"
                      f"  - hessian: {{of: f, wrt: [x, y], points: [{point}]}}\n")
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert word in r.stderr


# ---- given values ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, word", [
    ('{x: "sqrt(-4)"}', "not real"),          # 2i
    ('{x: "log(3, 1)"}', "base 1"),           # ln 3 / 0
    ('{x: "log(3, 0)"}', "base 0"),           # sympy: ln 3/(−∞) = 0
    ('{x: "(2 - 2)/(2 - 2)"}', "division by zero"),   # nan
    ('{a: 2, x: "(a - 2)/(a - 2)"}', "division by zero"),   # sympy: 1
])
def test_given_values_are_checked_as_written(tmp_path, given, word):
    r = run(tmp_path, graph(given, "y: x + 1"))
    assert r.exit_code == 1, r.stdout
    assert word in r.stderr, r.stderr


def test_a_given_value_written_with_an_earlier_given_name_uses_its_number(tmp_path):
    # b = 3a with a = 2 is 6, so y = b + a = 8 (it was the formula 2 + 3·a)
    r = run(tmp_path, graph("{a: 2, b: 3*a}", "y: b + a"))
    assert r.exit_code == 0, r.stderr
    assert answers(r)["y"]["value"] == 8


# ---- sizes in conv and network specs --------------------------------------------------------------------

CONV = ("kind: conv\ngiven:\n  x: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n  w: [[1, 0], [0, 1]]\n"
        "conv: {input: x, kernel: w%s}\n%sask:\n  - value: [c]\n")


@pytest.mark.parametrize("conv, pool, where", [
    (", dilation: 0", "", ":5:"),          # computed a wrong convolution
    (", stride: 0", "", ":5:"),            # ZeroDivisionError (exit 3)
    (", stride: [1]", "", ":5:"),          # one stride for two axes: KeyError (exit 3)
    (", padding: -1", "", ":5:"),
    ("", "pool: {size: 0}\n", ":6:"),      # ZeroDivisionError (exit 3)
    ("", "pool: {size: 2, stride: [0, 1]}\n", ":6:"),
])
def test_conv_sizes_below_one_are_spec_errors_at_their_position(tmp_path, conv, pool, where):
    r = run(tmp_path, CONV % (conv, pool))
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert where in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_conv_with_valid_sizes_still_works(tmp_path):
    # stride 1, dilation 1: c[i][j] = x[i][j] + x[i+1][j+1] -> [[1+5, 2+6], [4+8, 5+9]]
    r = run(tmp_path, CONV % (", stride: 1, dilation: [1, 1]", ""))
    assert r.exit_code == 0, r.stderr
    assert answers(r)["c"]["value"] == [[6, 8], [12, 14]]


@pytest.mark.parametrize("layer, key", [
    ("{type: conv, filters: 1, kernel: 3, dilation: 0}", "dilation"),   # answered with wrong shapes
    ("{type: conv, filters: 1, kernel: 3, stride: 0}", "stride"),       # ZeroDivisionError (exit 3)
    ("{type: pool, kernel: 0}", "kernel"),                              # ZeroDivisionError (exit 3)
    ("{type: conv, filters: 1, kernel: [3, 0]}", "kernel"),
    ("{type: conv, filters: 0, kernel: 3}", "filters"),                  # a layer of no filters
    ("{type: conv, filters: 1, kernel: 3, padding: -1}", "padding"),
])
def test_network_sizes_below_one_are_spec_errors_at_their_position(tmp_path, layer, key):
    r = run(tmp_path, f"kind: network\ninput: [1, 8, 8]\nlayers:\n  - {layer}\n")
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert f":4:" in r.stderr and f"layers[0].{key}" in r.stderr


# ---- values too large to compute -----------------------------------------------------------------------

def test_an_overflowing_value_is_a_solve_error_not_a_crash(tmp_path):
    # exp(exp(30)) has about 4.6e12 digits: tanh of it was a MemoryError (exit 3)
    r = run(tmp_path, graph("{x: 30}", "y: tanh(exp(exp(x)))", "  - value: [y]\n  - grad: {of: y, wrt: x}\n"))
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert "internal error" not in r.stderr


def test_which_written_operations_need_a_domain_check():
    """A power of a positive number is defined and real for every real exponent (x/64 is x·64⁻¹); a power of
    a symbol, of 0 or of a negative number with a non-whole exponent is not (x⁻¹ at 0, (−8)^(1/3))."""
    from sympy import Integer, Pow, Rational, Symbol, tanh

    from examsolve.functions import risky

    x, y = Symbol("x"), Symbol("y")
    assert not risky(tanh(x * Pow(Integer(64), Integer(-1), evaluate=False) + y ** 2))
    assert not risky(Pow(Integer(2), x, evaluate=False))
    assert risky(x * Pow(y, Integer(-1), evaluate=False))
    assert risky(Pow(Integer(0), Integer(-1), evaluate=False))
    assert risky(Pow(Integer(-8), Rational(1, 3), evaluate=False))
    assert risky(Pow(Integer(2), Pow(y, Integer(-1), evaluate=False), evaluate=False))
