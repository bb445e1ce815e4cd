"""Exact means exact: integers and fractions within the parser's limits stay exact, a float is always
marked ≈, JSON is strict, names fold as Python's parser folds them, and "no solution" is only said with
a proof (critical points and solve: of polynomial systems by elimination).

Every case runs through the command line; expected values come from plain Python integers, mpmath, or
by hand (in the comments), never from examsolve.
"""
from __future__ import annotations

import json
import sys

import mpmath
import pytest
from click.testing import CliRunner

from examsolve.cli import main


@pytest.fixture(autouse=True)
def long_int_strings():
    """Python refuses str() of an int past 4300 digits (the expected values here have up to 20,000);
    mpmath works at 40 digits. Both restored afterwards."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    with mpmath.workdps(40):
        yield
    sys.set_int_max_str_digits(old)


def run(tmp_path, text: str, fmt: str = "json"):
    spec = tmp_path / "t.yaml"
    spec.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["run", str(spec), "--format", fmt])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def strict(text: str):
    def refuse(x):
        raise ValueError(f"not JSON: {x}")
    return json.loads(text, parse_constant=refuse)


def answers(r) -> dict:
    return {a["name"]: a for a in strict(r.stdout)["answers"]}


def steps(r) -> list:
    out = []

    def walk(ss):
        for s in ss:
            out.append(s)
            walk(s.get("substeps", []))
    walk(strict(r.stdout)["steps"])
    return out


# ---- integers and fractions stay exact --------------------------------------------------------------------

def test_a_40_digit_integer_stays_exact(tmp_path):
    # (10**39 + 1) − 10**39 = 1; as a 30-digit float x was 1e39 and y came out 0
    r = run(tmp_path, "kind: graph\ngiven:\n  x: 1000000000000000000000000000000000000001\n"
                      "equations:\n  y: x - 10**39\nask:\n  - value: [y]\n")
    assert r.exit_code == 0, r.stderr
    y = answers(r)["y"]
    assert (y["exact"], y["value"]) == ("1", 1)
    forward = next(s for s in steps(r) if s["title"] == "Forward: y")
    assert forward["substituted"].startswith(str(10 ** 39 + 1))
    assert "e+39" not in r.stdout and "1e39" not in r.stdout


def test_a_fraction_with_long_numerator_and_denominator_stays_exact(tmp_path):
    # 1/3**40 + 1/2**60: a sum of two fractions with 20- and 19-digit denominators, kept as one fraction
    r = run(tmp_path, "kind: graph\ngiven: {a: 3, b: 2}\nequations:\n  y: 1/a**40 + 1/b**60\n"
                      "ask:\n  - value: [y]\n")
    assert r.exit_code == 0, r.stderr
    from fractions import Fraction
    want = Fraction(1, 3 ** 40) + Fraction(1, 2 ** 60)
    assert answers(r)["y"]["exact"] == f"{want.numerator}/{want.denominator}"


@pytest.mark.parametrize("base, n", [(99999, 1000), (10 ** 20 - 1, 999)])
def test_numbers_of_4301_to_20000_digits_are_exact_not_an_internal_error(tmp_path, base, n):
    # 99999**1000 has 5000 digits and (10**20 − 1)**999 has 19,980; both were ValueError (exit 3) from str()
    r = run(tmp_path, f"kind: graph\ngiven:\n  x: {base}**{n}\nequations:\n  y: x + 1\nask:\n  - value: [y]\n")
    assert r.exit_code == 0, r.stderr
    want = base ** n + 1
    y = answers(r)["y"]
    assert y["exact"] == str(want)
    # a number a float cannot hold goes out as a string with an exponent: mantissa and exponent from mpmath
    mant, exp = y["value"].split("e")
    ref = mpmath.mpf(base) ** n
    ref_exp = int(mpmath.floor(mpmath.log10(ref)))
    assert int(exp) == ref_exp == len(str(want)) - 1
    assert abs(float(mant) - float(ref / mpmath.mpf(10) ** ref_exp)) < 1e-12


def test_a_power_of_a_long_number_is_checked_without_str(tmp_path):
    # (99999**1000)**2: the power check measured the 5000-digit base with str() (exit 3)
    r = run(tmp_path, "kind: graph\ngiven:\n  x: (99999**1000)**2\nequations:\n  y: x - 1\nask:\n  - value: [y]\n")
    assert r.exit_code == 0, r.stderr
    assert answers(r)["y"]["exact"] == str(99999 ** 2000 - 1)
    r = run(tmp_path, "kind: graph\ngiven:\n  x: (99999**1000)**5\nequations:\n  y: x - 1\nask:\n  - value: [y]\n")
    assert r.exit_code == 2 and "5000-digit number" in r.stderr and "20000 digits" in r.stderr


# ---- JSON is strict --------------------------------------------------------------------------------------

def test_json_has_no_infinity_for_a_large_finite_value(tmp_path):
    # 999**999 ≈ 3.68e2996 is finite; float() of it is inf, which json wrote as Infinity
    r = run(tmp_path, "kind: graph\ngiven: {x: 999}\nequations:\n  y: x**x\n  z: 1/y\n  w: y/7\n"
                      "ask:\n  - value: [y, z, w]\n")
    assert r.exit_code == 0, r.stderr
    a = answers(r)                   # strict parsing: NaN, Infinity and -Infinity are refused
    assert a["y"]["exact"] == str(999 ** 999)
    big = mpmath.mpf(999) ** 999
    for name, ref in (("y", big), ("z", 1 / big), ("w", big / 7)):
        mant, exp = a[name]["value"].split("e")
        e = int(mpmath.floor(mpmath.log10(ref)))
        assert int(exp) == e, (name, a[name]["value"])
        assert abs(float(mant) - float(ref / mpmath.mpf(10) ** e)) < 1e-12, name


# ---- floats are marked ------------------------------------------------------------------------------------

def test_a_value_computed_from_a_float_is_a_float(tmp_path):
    # y = tanh(tanh(tanh(1))) ≈ 0.566 becomes a float (functions nested 3 deep); relu(y − 1) is 0 only
    # approximately as far as the float knows: shown ≈ 0, with exact "0.0" in JSON
    text = "kind: graph\ngiven: {x: 1}\nequations:\n  y: tanh(tanh(tanh(x)))\n  z: relu(y - 1)\nask:\n  - value: [y, z]\n"
    r = run(tmp_path, text)
    assert r.exit_code == 0, r.stderr
    z = answers(r)["z"]
    assert z["exact"] == "0.0" and z["value"] == 0.0
    out = run(tmp_path, text, "terminal").stdout
    assert "≈ 0\n" in out or "≈ 0 " in out


def test_given_values_are_kept_as_written(tmp_path):
    # a given value is never turned into an unmarked float: tanh(tanh(tanh(1))) stays as written
    r = run(tmp_path, "kind: graph\ngiven: {x: tanh(tanh(tanh(1)))}\nequations:\n  y: 2*x\nask:\n  - value: [y]\n",
            "terminal")
    assert r.exit_code == 0, r.stderr
    given = next(line for line in r.stdout.splitlines() if line.startswith("Given:"))
    assert given == "Given: x = tanh(tanh(tanh(1)))"


# ---- names fold as Python's parser folds them -------------------------------------------------------------

def test_a_name_that_nfkc_folds_is_found(tmp_path):
    # ϐ (U+03D0) is β (U+03B2) to Python's parser; the spec's key stays ϐ: one name, y = 2² = 4
    r = run(tmp_path, "kind: graph\ngiven: {\u03d0: 2}\nequations:\n  y: \u03d0**2\nask:\n  - value: [y]\n"
                      "  - grad: {of: y, wrt: \u03d0}\n")
    assert r.exit_code == 0, r.stderr
    a = answers(r)
    assert a["y"]["value"] == 4 and a["dy/d\u03d0"]["value"] == 4      # dy/dϐ = 2ϐ = 4


def test_two_names_that_fold_to_one_are_refused(tmp_path):
    r = run(tmp_path, "kind: graph\ngiven: {\u03d0: 2, \u03b2: 3}\nequations:\n  y: \u03b2 + 1\nask:\n  - value: [y]\n")
    assert r.exit_code == 2 and "NFKC" in r.stderr


# ---- no solution only with a proof -------------------------------------------------------------------------

QUARTIC = "x**4 + y**4 - 4*x*y + x"


def quartic_points():
    """∇f = (4x³ − 4y + 1, 4y³ − 4x) = 0: x = y³, so 4y⁹ − 4y + 1 = 0; its real roots by mpmath, and the
    classification from the Hessian [[12x², −4], [−4, 12y²]] (det and trace)."""
    pts = []
    for y in mpmath.polyroots([4, 0, 0, 0, 0, 0, 0, 0, -4, 1], maxsteps=200, extraprec=200):
        if abs(mpmath.im(y)) < mpmath.mpf(10) ** -30:
            y = mpmath.re(y)
            x = y ** 3
            assert abs(4 * x ** 3 - 4 * y + 1) < 1e-30 and abs(4 * y ** 3 - 4 * x) < 1e-30
            det = 144 * x ** 2 * y ** 2 - 16
            kind = "saddle point" if det < 0 else ("local minimum" if 12 * x ** 2 + 12 * y ** 2 > 0 else "local maximum")
            pts.append((x, y, kind))
    return sorted(pts)


def test_critical_points_sympy_misses_are_found_and_classified(tmp_path):
    # sympy's solve returns [] here; examsolve answered "none (∇f = 0 has no real solution)"
    r = run(tmp_path, f"kind: graph\nsymbols: [x, y]\nequations:\n  f: {QUARTIC}\nask:\n"
                      "  - critical_points: {of: f, wrt: [x, y]}\n")
    assert r.exit_code == 0, r.stderr
    text = answers(r)["critical points of f"]["exact"]
    assert "none" not in text
    parts = text.split("; ")
    want = quartic_points()
    assert len(parts) == len(want) == 3
    for part, (x, y, kind) in zip(parts, want):
        coords, got_kind = part.split(": ")
        gx, gy = (float(c) for c in coords.strip("≈ ()").split(", "))
        assert abs(gx - float(x)) < 1e-5 * max(1, abs(float(x))) and abs(gy - float(y)) < 1e-5
        assert got_kind == kind
    assert any("Groebner" in (s["note"] or "") for s in steps(r))


def test_solve_finds_every_real_solution_of_a_polynomial_system(tmp_path):
    # the same system as equations: it exited 1 with "no solution"
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  gx: 4*x**3 - 4*y + 1\n  gy: 4*y**3 - 4*x\n"
                      "ask:\n  - solve: {equations: ['gx = 0', 'gy = 0'], unknowns: [x, y]}\n")
    assert r.exit_code == 0, r.stderr
    got = [a["value"] for a in strict(r.stdout)["answers"]]
    want = [float(c) for x, y, _ in quartic_points() for c in (x, y)]
    assert len(got) == len(want) == 6
    for g, w in zip(got, want):
        assert abs(g - w) < 1e-12 * max(1, abs(w))


def test_no_real_critical_point_is_said_only_with_a_proof(tmp_path):
    # f = x³/3 + x + y²: ∂f/∂x = x² + 1 > 0 has no real root, so there is no critical point
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  f: x**3/3 + x + y**2\nask:\n"
                      "  - critical_points: {of: f, wrt: [x, y]}\n")
    assert r.exit_code == 0, r.stderr
    assert answers(r)["critical points of f"]["exact"].startswith("none")
    # exp(x) + y² has none either: ∂f/∂x = exp(x) is never 0
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  f: exp(x) + y**2\nask:\n"
                      "  - critical_points: {of: f, wrt: [x, y]}\n")
    assert r.exit_code == 0, r.stderr
    assert answers(r)["critical points of f"]["exact"].startswith("none")


def test_critical_points_of_a_rational_function_leave_out_the_poles(tmp_path):
    # f = x + 1/x + y²: ∂f/∂x = 1 − 1/x² = 0 at x = ±1 (x = 0 is a pole, no point); f_xx = 2/x³:
    # −2 at x = −1 with f_yy = 2: a saddle; 2 at x = 1: a minimum
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  f: x + 1/x + y**2\nask:\n"
                      "  - critical_points: {of: f, wrt: [x, y]}\n")
    assert r.exit_code == 0, r.stderr
    assert answers(r)["critical points of f"]["exact"] == "(-1, 0): saddle point; (1, 0): local minimum"


def test_the_nine_critical_points_of_a_double_well(tmp_path):
    # f = x⁴ − 2x² + y⁴ − 2y²: x, y ∈ {−1, 0, 1}; f_xx = 12x² − 4 is 8 at ±1, −4 at 0 (same for y):
    # minima at (±1, ±1), a maximum at (0, 0), saddles where one coordinate is 0
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  f: x**4 - 2*x**2 + y**4 - 2*y**2\nask:\n"
                      "  - critical_points: {of: f, wrt: [x, y]}\n")
    assert r.exit_code == 0, r.stderr
    got = dict(p.split(": ") for p in answers(r)["critical points of f"]["exact"].split("; "))
    want = {}
    for x in (-1, 0, 1):
        for y in (-1, 0, 1):
            want[f"({x}, {y})"] = ("local minimum" if x and y else "local maximum" if not x and not y
                                   else "saddle point")
    assert got == want


def test_critical_points_from_sympys_closed_forms_are_not_claimed_complete(tmp_path):
    # f = sin(x) + y²: ∂f/∂x = cos(x) = 0 at π/2 + kπ for every whole k; sympy's solve gives π/2 and 3π/2 only,
    # which was answered as if they were all
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  f: sin(x) + y**2\nask:\n"
                      "  - critical_points: {of: f, wrt: [x, y]}\n")
    assert r.exit_code == 0, r.stderr
    assert answers(r)["critical points of f"]["exact"].endswith("(found by sympy's solve; there may be others)")


def test_a_system_sympy_cannot_decide_is_not_answered_none(tmp_path):
    # f = relu(x) + y²: every (x, 0) with x < 0 is a critical point; sympy's solve finds none
    r = run(tmp_path, "kind: graph\nsymbols: [x, y]\nequations:\n  f: relu(x) + y**2\nask:\n"
                      "  - critical_points: {of: f, wrt: [x, y]}\n")
    assert r.exit_code == 1 and "could not decide" in r.stderr
