"""assume: (issue 14, item 2): sign, range and regime assumptions decide cases; expectations derived by hand."""
from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import answer, solve_text

from examsolve import load_spec, render, solve
from examsolve.errors import SolveError, SpecError
from examsolve.tensor import Tensor

ROOT = Path(__file__).resolve().parents[1]
S = {n: sympy.Symbol(n, real=True) for n in ("a", "b", "n", "p", "w", "x", "y", "h", "w1", "w2", "alpha")}


run = solve_text


def cli(*args):
    return subprocess.run([sys.executable, "-m", "examsolve", *args], capture_output=True, text=True, cwd=ROOT)


HINGE = """kind: graph
symbols: [w, x, b, y]
equations:
  s: w*x + b
  L: max(0, 1 - y*s)
ask:
  - grad: {of: L, wrt: w, key: -y*x}
  - grad: {of: L, wrt: b, key: -y}
"""


# ---- keys written for the assumed case --------------------------------------------------------------

def test_hinge_key_agrees_under_margin_violated(tmp_path):
    # by hand: with 1 − y(wx + b) > 0, L = 1 − y(wx + b), so ∂L/∂w = −yx and ∂L/∂b = −y
    sol = run(tmp_path, HINGE + "assume: [margin violated]\n")
    w, b = answer(sol, "dL/dw"), answer(sol, "dL/db")
    assert sympy.expand(w.value - (-S["y"] * S["x"])) == 0 and w.agrees is True
    assert sympy.expand(b.value - (-S["y"])) == 0 and b.agrees is True
    assert any(n.startswith("assumed: margin violated") for n in sol.notes)


def test_hinge_without_assumption_stays_by_cases_and_the_key_is_flagged(tmp_path):
    sol = run(tmp_path, HINGE)
    w = answer(sol, "dL/dw")
    assert isinstance(w.value, sympy.Piecewise) and w.agrees is False
    assert not any(n.startswith("assumed") for n in sol.notes)


def test_an_assumption_that_decides_nothing_keeps_the_cases(tmp_path):
    # w > 0 says nothing about the sign of 1 − y(wx + b): both cases stay
    sol = run(tmp_path, HINGE + "assume: [w > 0]\n")
    assert isinstance(answer(sol, "dL/dw").value, sympy.Piecewise)


def test_regression_relu_key_without_relu_prime_agrees_when_relu_is_assumed_active(tmp_path):
    # Issue 14: a correct key with the relu'(…) factors assumed away was flagged wrong (no way to say
    # "assume every ReLU is active"). By hand: h = relu(w x), L = (h − t)²/2, active: ∂L/∂w = (w x − t)·x.
    body = """kind: graph
symbols: [w, x]
given: {t: 1}
equations:
  h: relu(w*x)
  L: (h - t)**2/2
ask:
  - grad: {of: L, wrt: w, key: (w*x - 1)*x}
"""
    assert answer(run(tmp_path, body), "dL/dw").agrees is False      # relu'(wx) = 0 is a case the key leaves out
    for how in ("relu active", "relu(w*x) active"):
        got = answer(run(tmp_path, body + f"assume: [{how}]\n"), "dL/dw")
        assert got.agrees is True, how
        # written in the spec's names, x·(h − 1), with h = relu(wx) = wx when active
        assert sympy.expand(got.value.subs(S["h"], S["w"] * S["x"]) - (S["w"] * S["x"] - 1) * S["x"]) == 0


def test_skip_connection_example_every_key_agrees():
    # hand-derived keys in problems/skip_relu_active.yaml: (1 + w1)(1 + w2), (1 + w2)x, (1 + w1)x
    sol = solve(load_spec(str(ROOT / "problems" / "skip_relu_active.yaml")))
    w1, w2, x = S["w1"], S["w2"], S["x"]
    want = {"dy/dx": (1 + w1) * (1 + w2), "dy/dw1": (1 + w2) * x}
    for name, v in want.items():
        a = answer(sol, name)
        assert a.agrees is True and sympy.expand(a.value - v) == 0, name
    assert answer(sol, "dy/dw2").agrees is True
    # y = (1 + w2)(1 + w1)x when both ReLUs pass their input
    assert sympy.expand(answer(sol, "y").value - (1 + w2) * (1 + w1) * x) == 0


def test_triplet_examples_cases_and_active():
    a, p, n, alpha = S["a"], S["p"], S["n"], S["alpha"]
    cases = solve(load_spec(str(ROOT / "problems" / "triplet_loss_cases.yaml")))
    active = solve(load_spec(str(ROOT / "problems" / "triplet_loss_active.yaml")))
    m = (a - p) ** 2 - (a - n) ** 2 + alpha
    want = {"dL/da": 2 * (n - p), "dL/dp": 2 * (p - a), "dL/dn": 2 * (a - n)}     # by hand, see the example
    for name, v in want.items():
        got = answer(active, name)
        assert got.agrees is True and sympy.expand(got.value - v) == 0
        pw = answer(cases, name).value
        assert isinstance(pw, sympy.Piecewise)
        # the cases at a point with m = 4 − 1 + 1 > 0 (a = 0, p = 2, n = 1, α = 1) and one with m < 0
        for point, on in (({a: 0, p: 2, n: 1, alpha: 1}, True), ({a: 1, p: 2, n: 3, alpha: 1}, False)):
            assert (m.subs(point) > 0) == on
            at = pw.subs({S["a"]: point[a], S["p"]: point[p], S["n"]: point[n], S["alpha"]: point[alpha],
                          sympy.Symbol("m", real=True): m.subs(point)})
            assert at == (v.subs(point) if on else 0)


# ---- signs, ranges and branches ---------------------------------------------------------------------

def test_positive_symbol_simplifies_sqrt_of_square(tmp_path):
    # sqrt(y²) = |y| = y for y > 0, so ∂(w·sqrt(y²))/∂w = y (without the assumption: |y|)
    body = """kind: graph
symbols: [w, y]
equations:
  L: w*sqrt(y**2)
ask:
  - grad: {of: L, wrt: w}
"""
    assert answer(run(tmp_path, body), "dL/dw").value == sympy.Abs(S["y"])
    assert answer(run(tmp_path, body + "assume: [y > 0]\n"), "dL/dw").value == S["y"]
    assert answer(run(tmp_path, body + "assume: [y < 0]\n"), "dL/dw").value == -S["y"]


def test_range_decides_a_max(tmp_path):
    # 0 < alpha < 1: max(alpha, 1) = 1, so L = w and ∂L/∂w = 1, ∂L/∂alpha = 0
    body = """kind: graph
symbols: [w, alpha]
equations:
  L: w*max(alpha, 1)
assume: ["0 < alpha < 1"]
ask:
  - grad: {of: L, wrt: [w, alpha]}
"""
    v = answer(run(tmp_path, body), "grad L").value
    assert tuple(v.items) == (1, 0)


def test_branch_choice_max_equals_a(tmp_path):
    # max(a, b) = a: L = max(a, b)² = a², ∂L/∂a = 2a, ∂L/∂b = 0
    body = """kind: graph
symbols: [a, b]
equations:
  L: max(a, b)**2
assume: ["max(a, b) = a"]
ask:
  - grad: {of: L, wrt: [a, b]}
"""
    v = answer(run(tmp_path, body), "grad L").value
    assert tuple(v.items) == (2 * S["a"], 0)


def test_abs_and_lrelu_by_sign(tmp_path):
    # x < 0: |x|' = −1 and lrelu'(x) = 1/10, so ∂(|x| + lrelu(x, 0.1))/∂x = −1 + 1/10 = −9/10
    body = """kind: graph
symbols: [x]
equations:
  L: abs(x) + lrelu(x, 0.1)
assume: ["x < 0"]
ask:
  - grad: {of: L, wrt: x}
"""
    assert answer(run(tmp_path, body), "dL/dx").value == sympy.Rational(-9, 10)


def test_the_note_is_in_every_format(tmp_path):
    sol = run(tmp_path, HINGE + "assume: [margin violated, y > 0]\n")
    for fmt in ("terminal", "latex", "markdown"):
        out = render(sol, fmt)
        assert "margin violated" in out and "y > 0" in out, fmt
    data = json.loads(render(sol, "json"))
    assert "margin violated" in json.dumps(data)


# ---- errors -----------------------------------------------------------------------------------------

def test_contradicting_the_given_numbers_is_exit_1_with_one_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("kind: graph\ngiven: {x: -1}\nsymbols: [w]\nequations:\n  L: relu(w*x)\nassume: [x > 0]\n"
                 "ask:\n  - grad: {of: L, wrt: w}\n", encoding="utf-8")
    r = cli("run", str(p))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "x > 0" in lines[0] and "-1" in lines[0] and "Traceback" not in r.stderr
    assert lines[0].startswith(f"{p}:6:")


def test_relu_active_contradicting_the_numbers(tmp_path):
    # w·x = 2·(−1) = −2 < 0: that relu is not active
    with pytest.raises(SolveError, match="relu active"):
        run(tmp_path, "kind: graph\ngiven: {x: -1, w: 2}\nequations:\n  L: relu(w*x)\nassume: [relu active]\n"
                      "ask:\n  - grad: {of: L, wrt: w}\n")


def test_two_assumptions_that_contradict_each_other(tmp_path):
    with pytest.raises(SolveError, match="contradicts"):
        run(tmp_path, "kind: graph\nsymbols: [w]\nequations:\n  L: relu(w)\nassume: [w < 0, w > 1]\n"
                      "ask:\n  - grad: {of: L, wrt: w}\n")


@pytest.mark.parametrize("text, what", [
    ("foo", "cannot read"),
    ("w >> 0", "nothing on one side"),
    ("relu(z9) active", "unknown name 'z9'"),
    ("relu(h) active", "does not occur"),
    ("margin violated", "no hinge"),
    ("max(w, 3) = 4", "not one of the arguments"),
])
def test_unreadable_assumptions_are_spec_errors(tmp_path, text, what):
    body = (f"kind: graph\nsymbols: [w]\nequations:\n  h: relu(w)\n  L: h**2\nassume: [\"{text}\"]\n"
            "ask:\n  - grad: {of: L, wrt: w}\n")
    with pytest.raises(SpecError, match=what) as e:
        run(tmp_path, body)
    assert ":6:" in str(e.value)


def test_assume_in_a_family_that_does_not_read_it_is_refused(tmp_path):
    p = tmp_path / "lr.yaml"
    src = (ROOT / "problems" / "sgd_quadratic.yaml").read_text(encoding="utf-8")
    p.write_text(src + "\nassume: [x > 0]\n", encoding="utf-8")
    r = cli("check", str(p))
    assert r.returncode == 2 and "assume" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# ---- Hypothesis: the assumed result is the case that holds ------------------------------------------

KINDS = ("relu", "hinge", "abs", "lrelu")
small = st.integers(-3, 3)


@st.composite
def terms(draw):
    """1 to 3 terms scale·g(a·x + b·y + c)·(x or 1), g a kink function."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        a, b = draw(small), draw(small)
        assume((a, b) != (0, 0))
        out.append((draw(st.sampled_from(KINDS)), (a, b, draw(small)), draw(st.integers(-2, 2).filter(bool)),
                    draw(st.booleans())))
    return out


def _text(term) -> str:
    kind, (a, b, c), k, times_x = term
    u = f"{a}*x + {b}*y + {c}"
    g = {"relu": f"relu({u})", "hinge": f"max(0, {u})", "abs": f"abs({u})", "lrelu": f"lrelu({u}, 0.1)"}[kind]
    return f"{k}*{g}" + ("*x" if times_x else "")


def _f(ts, x: Fraction, y: Fraction) -> Fraction:
    """The same function in plain Python."""
    total = Fraction(0)
    for kind, (a, b, c), k, times_x in ts:
        u = a * x + b * y + c
        g = {"relu": max(u, 0), "hinge": max(0, u), "abs": abs(u), "lrelu": u if u >= 0 else u / 10}[kind]
        total += k * g * (x if times_x else 1)
    return total


def _holds(ts, how: str, x: Fraction, y: Fraction) -> bool:
    """Whether the point satisfies the assumption, computed directly."""
    if how == "x > 0":
        return x > 0
    if how == "y < 0":
        return y < 0
    kind = {"relu active": "relu", "lrelu active": "lrelu", "margin violated": "hinge"}[how]
    return all(a * x + b * y + c > 0 for k, (a, b, c), _, _ in ts if k == kind)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(ts=terms(), how=st.sampled_from(("x > 0", "y < 0", "relu active", "lrelu active", "margin violated")),
       px=st.fractions(-5, 5, max_denominator=7), py=st.fractions(-5, 5, max_denominator=7))
def test_assumed_result_is_the_case_that_holds(tmp_path_factory, ts, how, px, py):
    kind = {"relu active": "relu", "lrelu active": "lrelu", "margin violated": "hinge"}.get(how)
    assume(kind is None or any(t[0] == kind for t in ts))
    assume(_holds(ts, how, px, py))
    h = Fraction(1, 10 ** 6)
    # away from every kink: each argument keeps its sign on [p − h, p + h] in both directions
    for _, (a, b, c), _, _ in ts:
        for dx, dy in ((h, 0), (-h, 0), (0, h), (0, -h), (0, 0)):
            assume(a * (px + dx) + b * (py + dy) + c != 0)
            assume((a * (px + dx) + b * (py + dy) + c > 0) == (a * px + b * py + c > 0))
    body = ("kind: graph\nsymbols: [x, y]\nequations:\n  L: " + " + ".join(_text(t) for t in ts)
            + "\nask:\n  - grad: {of: L, wrt: [x, y]}\n")
    tmp = tmp_path_factory.mktemp("h")
    cases = answer(run(tmp, body), "grad L").value
    try:
        assumed = answer(run(tmp, body + f"assume: [{how}]\n"), "grad L").value
    except SolveError:
        # an assumption no point satisfies (relu(−x) active with x > 0 …) cannot hold here either
        pytest.fail("the assumption was refused although the point satisfies it")
    point = {S["x"]: sympy.Rational(px.numerator, px.denominator),
             sympy.Symbol("y", real=True): sympy.Rational(py.numerator, py.denominator)}
    # independent: central differences of the plain-Python function, exact for a piecewise quadratic
    fd = ((_f(ts, px + h, py) - _f(ts, px - h, py)) / (2 * h), (_f(ts, px, py + h) - _f(ts, px, py - h)) / (2 * h))
    items = cases.items if isinstance(cases, Tensor) else (cases,)
    got = assumed.items if isinstance(assumed, Tensor) else (assumed,)
    for pw, av, want in zip(items, got, fd):
        exact = sympy.Rational(want.numerator, want.denominator)
        assert pw.xreplace(point) == exact
        assert av.xreplace(point) == exact
