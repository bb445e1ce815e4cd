"""Typed answer values: sets of reals, classifications, critical points and booleans in JSON, LaTeX and key checks."""
from __future__ import annotations

import json

import sympy
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from conftest import ROOT

from examsolve import typed
from examsolve.cli import main
from examsolve.compare import _set
from examsolve.spec import parse_spec


def _json(path: str, *more: str) -> dict:
    r = CliRunner().invoke(main, ["run", path, "--format", "json", *more])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _answers(d: dict) -> dict:
    return {a["name"]: a for a in d["answers"]}


def test_learning_rate_sets_are_intervals_in_json_and_latex():
    # f = 3w² − 1: λ = 6, converges for 0 < α < 2/6 = 1/3, diverges outside [0, 1/3]
    a = _answers(_json(str(ROOT / "problems/sgd_quadratic.yaml")))
    conv = a["converges"]
    assert conv["type"] == "set" and conv["exact"] == "(0, 1/3)"
    assert conv["value"]["open"] == [True, True] and conv["value"]["interval"][0] == 0
    assert abs(conv["value"]["interval"][1] - 1 / 3) < 1e-15
    assert conv["latex"] == r"\left(0, \frac{1}{3}\right)"
    div = a["diverges"]["value"]["union"]
    assert div[0]["interval"][0] == "-oo" and div[1]["interval"][1] == "oo"
    assert a["does not move"]["value"] == {"set": [0]}
    assert a["diverges"]["latex"] == r"\left(-\infty, 0\right) \cup \left(\frac{1}{3}, \infty\right)"


def test_classifications_are_an_enum_with_the_reason():
    # f = x³ − 3x + y²: H = diag(6x, 2); at (1, 0) both > 0 (minimum); at (−1, 0) −6 and 2 (saddle)
    a = _answers(_json(str(ROOT / "problems/critical_points.yaml")))
    assert a["f at (1, 0)"]["value"] == {"classification": "local_minimum", "reason": "all eigenvalues > 0"}
    assert a["f at (-1, 0)"]["value"]["classification"] == "saddle"
    assert a["f at (0, 0)"]["value"]["classification"] == "not_critical"
    points = a["critical points of f"]
    assert points["type"] == "critical_points"
    assert [(p["point"], p["classification"]["classification"]) for p in points["value"]["points"]] == [
        ({"x": -1, "y": 0}, "saddle"), ({"x": 1, "y": 0}, "local_minimum")]


def test_a_key_on_critical_points_is_checked():
    # it used to be dropped; ∇f = (3x² − 3, 2y) = 0 at (±1, 0)
    spec = ("kind: graph\nsymbols: [x, y]\nequations: {f: x**3 - 3*x + y**2}\nask:\n"
            "  - critical_points: {of: f, wrt: [x, y], key: '(1, 0): min; (-1, 0): saddle'}\n")
    from examsolve import solve

    a = {x.name: x for x in solve(parse_spec(spec, "t.yaml")).answers}["critical points of f"]
    assert a.agrees is True
    wrong = spec.replace("(1, 0): min", "(1, 0): max")
    assert {x.name: x for x in solve(parse_spec(wrong, "t.yaml")).answers}["critical points of f"].agrees is False


def test_linear_separability_is_a_boolean():
    a = _answers(_json(str(ROOT / "problems/perceptron_xor.yaml")))["linearly separable"]
    assert a["type"] == "boolean" and a["value"] is False and a["exact"] == "no" and a["agrees"] is True


def _lr_key(key: str) -> bool | None:
    from examsolve import solve

    sol = solve(parse_spec(f"kind: lr\nparams: [w]\nloss: 3*w**2 - 1\nkey:\n  a converging alpha: {key}\n", "t.yaml"))
    return {a.name: a for a in sol.answers}["a converging alpha"].agrees


def test_any_converging_learning_rate_is_a_right_answer():
    # converging set (0, 1/3): 0.1 and 0.3 are in it; 0.4, 1/3 itself and 0 are not
    assert _lr_key("0.1") and _lr_key("0.3") and _lr_key("1/6")
    assert not _lr_key("0.4") and not _lr_key("1/3") and not _lr_key("0")


def _interval(draw):
    a, b = sorted(draw(st.lists(st.fractions(min_value=-50, max_value=50, max_denominator=12),
                                min_size=2, max_size=2, unique=True)))
    return sympy.Interval(sympy.Rational(a.numerator, a.denominator), sympy.Rational(b.numerator, b.denominator),
                          draw(st.booleans()), draw(st.booleans()))


@st.composite
def _sets(draw):
    parts = [_interval(draw) for _ in range(draw(st.integers(1, 3)))]
    points = draw(st.lists(st.integers(-60, 60), max_size=2))
    return sympy.Union(*parts, sympy.FiniteSet(*points))


@settings(max_examples=60, deadline=None)
@given(_sets())
def test_the_text_of_a_set_reads_back_as_the_same_set(s):
    spec = parse_spec("kind: lr\nparams: [w]\nloss: w**2\n", "t.yaml")
    back = _set(typed.text(s), spec, {})
    assert back is not None and back[0] == s
