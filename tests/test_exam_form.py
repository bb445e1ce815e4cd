"""Symbolic answers in the exam's names, keys in those names, kinks by cases, clean printing, parseable exact."""
from __future__ import annotations

import json
from pathlib import Path

import mpmath
import pytest
import sympy
from sympy.parsing.sympy_parser import parse_expr

from conftest import answer, solve_text

from examsolve import load_spec, render, solve
from examsolve.engine import substitute
from examsolve.functions import Abs, Max, Min, kinks_to_cases, lrelu, relu
from examsolve.renderers.printing import latex, text
from examsolve.tensor import Tensor

from tests import numeric

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"


run = solve_text


S = {n: sympy.Symbol(n, real=True) for n in ("a", "y", "x", "w", "b", "s", "z", "u", "v")}


# ---- 1. final answers in the spec's names -------------------------------------------------------------

def test_logistic_regression_in_the_exam_names():
    sol = solve(load_spec(str(PROBLEMS / "logreg_symbolic.yaml")))
    a, y, x = S["a"], S["y"], S["x"]
    # by hand: dL/da = -y/a + (1 - y)/(1 - a); da/dz = a(1 - a); their product is -y(1 - a) + (1 - y)a = a - y
    assert sympy.expand(answer(sol, "dL/db").value - (a - y)) == 0         # dz/db = 1
    assert sympy.expand(answer(sol, "dL/dw").value - (a - y) * x) == 0      # dz/dw = x
    assert all(k.agrees for k in sol.answers if k.key is not None)


def test_softmax_cross_entropy_is_yhat_minus_y():
    sol = solve(load_spec(str(PROBLEMS / "softmax_ce_symbolic.yaml")))
    g = answer(sol, "dL/dz")
    yh = [sympy.Symbol(f"yhat_{i}", real=True) for i in (1, 2, 3)]
    # by hand with y = (0, 1, 0): L = -log ŷ₂, dL/dz_k = ŷ_k - y_k
    assert [sympy.expand(v) for v in g.value.items] == [yh[0], yh[1] - 1, yh[2]]
    assert g.agrees is True


def test_the_named_form_equals_the_leaf_form_at_a_point():
    """ŷ₁ at z = (1, 2, 3) is e/(e + e² + e³), from the definition of softmax, not from examsolve."""
    sol = solve(load_spec(str(PROBLEMS / "softmax_ce_symbolic.yaml")))
    g = answer(sol, "dL/dz").value.items[1]
    z = [sympy.Symbol(f"z_{i}", real=True) for i in (1, 2, 3)]
    leaf = sol.graph.in_leaves(g).xreplace(dict(zip(z, (1, 2, 3))))
    e = sympy.E
    assert abs(sympy.N(leaf - (e ** 2 / (e + e ** 2 + e ** 3) - 1), 40)) < 1e-35


def test_a_node_given_as_numbers_stays_numeric(tmp_path):
    sol = run(tmp_path, "kind: graph\ngiven: {x: 2}\nequations:\n  z: 3*x\n  L: z**2\nask:\n  - grad: {of: L, wrt: x}\n")
    assert answer(sol, "dL/dx").value == 36            # 2·z·3 = 2·6·3


def test_sigmoid_derivative_in_the_defined_name(tmp_path):
    sol = run(tmp_path, "kind: graph\nsymbols: [z]\nequations:\n  a: sigmoid(z)\nask:\n"
                        "  - grad: {of: a, wrt: z, key: 'a*(1 - a)'}\n")
    assert sympy.expand(answer(sol, "da/dz").value - S["a"] * (1 - S["a"])) == 0
    assert answer(sol, "da/dz").agrees is True


# ---- 2. keys in the spec's names ---------------------------------------------------------------------

SIGMOID_SPEC = """kind: graph
symbols: [Z, Y]
equations:
  A: sigmoid(Z)
  L: -(Y*log(A) + (1 - Y)*log(1 - A))
ask:
  - grad: {of: L, wrt: Z, key: %s}
"""


@pytest.mark.parametrize("key,agrees", [("A - Y", True), ("sigmoid(Z) - Y", True), ("1/(1 + exp(-Z)) - Y", True),
                                        ("Y - A", False), ("A*(1 - A)", False)])
def test_key_in_defined_names(tmp_path, key, agrees):
    sol = run(tmp_path, SIGMOID_SPEC % repr(key))
    assert answer(sol, "dL/dZ").agrees is agrees


def test_wrong_softmax_key_disagrees(tmp_path):
    body = (PROBLEMS / "softmax_ce_symbolic.yaml").read_text(encoding="utf-8").replace('"yhat - y"', '"y - yhat"')
    assert answer(run(tmp_path, body), "dL/dz").agrees is False


# ---- 3. printing -----------------------------------------------------------------------------------

def test_division_by_a_fraction_is_bracketed():
    t, yh = sympy.symbols("t yh", real=True)
    e = substitute(-t / yh, {t: sympy.Integer(1), yh: 1 / (1 + sympy.exp(-sympy.Rational(29, 40)))}, evaluate=False)
    assert text(e) == "-1/(1/(1 + exp(-29/40)))"
    assert latex(e) == r"- \frac{1}{\frac{1}{1 + e^{- \frac{29}{40}}}}"
    e = substitute(t / yh, {t: sympy.Integer(3), yh: sympy.Rational(1, 2)}, evaluate=False)
    assert text(e) == "3/(1/2)" and latex(e) == r"\frac{3}{\frac{1}{2}}"


def test_minus_one_times_a_product_is_a_minus_sign():
    t, yh = sympy.symbols("t yh", real=True)
    e = substitute(-t / yh, {t: sympy.Integer(3), yh: sympy.Integer(-2)}, evaluate=False)
    assert text(e) == "-3/(-2)" and latex(e) == r"- \frac{3}{-2}"


def test_conv2d_bce_has_no_stray_one_over_one():
    sol = solve(load_spec(str(PROBLEMS / "conv2d_bce.yaml")))
    for fmt in ("terminal", "latex", "markdown"):
        out = render(sol, fmt)
        assert "1/1/" not in out and "1·1/" not in out


def test_a_minus_sign_is_not_a_factor_but_a_number_put_in_is():
    """−t (a minus sign) with t = 1 prints −1, not (−1)·1; w·x with w = −1 and x = 1 is a product of two numbers
    put in and prints (−1)·1, so the factor is not lost in a minus sign (2·1 − 1 read as 2·1 + (−1)·1);
    (1 − p)·a with a = 1/2 keeps its factor whole: (1/2)·(1 − 1/4), not (1 − 1/4)/2."""
    t, w, x, p, a = sympy.symbols("t w x p a", real=True)
    assert text(substitute(-t, {t: sympy.Integer(1)}, evaluate=False)) == "-1"
    assert text(substitute(w * x, {w: sympy.Integer(-1), x: sympy.Integer(1)}, evaluate=False)) == "(-1)·1"
    e = substitute((1 - p) * a, {p: sympy.Rational(1, 4), a: sympy.Rational(1, 2)}, evaluate=False)
    assert text(e) == "(1/2)·(1 - 1/4)"


def test_cases_print_as_cases():
    x, y = S["x"], S["y"]
    p = kinks_to_cases(Max(0, 1 - y * x).diff(x), {})
    assert text(p) == "(-y if x·y < 1; 0 otherwise)"
    assert r"\begin{cases}" in latex(p)


# ---- 4. kinks at a symbolic argument: cases, checked against finite differences ---------------------

def _fd_check(f, var, point: dict, got):
    """got (a Piecewise) equals the left and right difference quotients of f at the point."""
    _, left, right = numeric.partials(f, point, var)
    value = numeric.at(got, point)
    assert numeric.close(value, left) and numeric.close(value, right), (point, value, left, right)


@pytest.mark.parametrize("f,var,points", [
    # relu'(x) = 1 for x > 0, 0 for x < 0
    (relu(S["x"]), S["x"], [{S["x"]: mpmath.mpf("0.3")}, {S["x"]: mpmath.mpf("-0.3")}]),
    # |x|' = sign(x)
    (Abs(S["x"]), S["x"], [{S["x"]: mpmath.mpf("0.7")}, {S["x"]: mpmath.mpf("-0.7")}]),
    # lrelu'(x) = 1 or the slope 1/100
    (lrelu(S["x"]), S["x"], [{S["x"]: mpmath.mpf("2")}, {S["x"]: mpmath.mpf("-2")}]),
    # hinge: d/dw max(0, 1 - y·w·x) = -x·y when y·w·x < 1, else 0
    (Max(0, 1 - S["y"] * S["w"] * S["x"]), S["w"],
     [{S["w"]: mpmath.mpf("0.2"), S["x"]: 2, S["y"]: 1}, {S["w"]: mpmath.mpf("0.8"), S["x"]: 2, S["y"]: 1}]),
    # min(u, v) in u
    (Min(S["u"], S["v"]), S["u"], [{S["u"]: 1, S["v"]: 2}, {S["u"]: 3, S["v"]: 2}]),
])
def test_cases_against_finite_differences(f, var, points):
    from examsolve.engine import derivative

    d = kinks_to_cases(derivative(f, var), {"relu_grad_at_zero": 0, "max_tie": "first", "abs_grad_at_zero": 0})
    assert isinstance(d, sympy.Piecewise) and not d.has(sympy.Derivative)
    for point in points:
        _fd_check(f, var, point, d)


@pytest.mark.parametrize("conv,at_kink", [(0, 0), (1, 1)])
def test_relu_cases_put_the_kink_on_the_convention_side(conv, at_kink):
    d = kinks_to_cases(relu(S["x"]).diff(S["x"]), {"relu_grad_at_zero": conv})
    assert d.subs(S["x"], 0) == at_kink


def test_max_tie_conventions_in_cases():
    u, v = S["u"], S["v"]
    first = kinks_to_cases(Max(u, v).diff(u), {"max_tie": "first"})
    last = kinks_to_cases(Max(u, v).diff(u), {"max_tie": "last"})
    split = kinks_to_cases(Max(u, v).diff(u), {"max_tie": "split"})
    assert (first.subs(v, u), last.subs(v, u), split.subs(v, u)) == (1, 0, sympy.Rational(1, 2))


def test_hinge_example_gives_cases_in_the_exam_names():
    sol = solve(load_spec(str(PROBLEMS / "hinge_symbolic.yaml")))
    g = answer(sol, "dL/dw").value
    assert isinstance(g, sympy.Piecewise) and "dmax" not in sympy.sstr(g)
    # by hand: L = max(0, 1 - y·s), s = w·x + b: ∂L/∂w = -y·x where y·s < 1, else 0 (the tie goes to 0)
    s, x, y, w, b = S["s"], S["x"], S["y"], S["w"], S["b"]
    at = {s: sympy.Rational(1, 4), x: 3, y: 2}
    assert g.xreplace(at) == -6
    assert g.xreplace({s: 1, x: 3, y: 1}) == 0          # the kink: max_tie first gives the gradient to 0
    f = sympy.Max(0, 1 - y * (w * x + b))
    for wv in ("0.1", "0.9"):                          # y·s = 2·(wv·3 + 0) below and above 1 (w = 0.1, 0.9 → 0.6, 5.4)
        point = {w: mpmath.mpf(wv), x: 3, y: 2, b: 0}
        _, left, right = numeric.partials(f, point, w)
        leaf = sol.graph.in_leaves(g)
        assert numeric.close(numeric.at(leaf, point), left) and numeric.close(left, right)


def test_numeric_kink_keeps_its_convention_note():
    sol = solve(load_spec(str(PROBLEMS / "margin_loss.yaml")))
    def notes(steps):
        for st in steps:
            yield st.note
            yield from notes(st.substeps)
    assert any("convention max_tie = first" in n for n in notes(sol.steps))
    assert "dmax" not in render(sol, "terminal") and "dmax" not in render(sol, "json")


# ---- 5. JSON exact strings parse back to the value --------------------------------------------------

def _local_dict(value) -> dict:
    """Names in the exact string mapped to the value's own symbols and function classes."""
    items = value.items if isinstance(value, Tensor) else (value,)
    out = {}
    for v in items:
        if not isinstance(v, sympy.Basic):
            continue
        out.update({s.name: s for s in v.free_symbols if hasattr(s, "name")})
        out.update({str(i.base): i.base for i in v.atoms(sympy.Indexed)})   # x[t] of a recursion
        for f in v.atoms(sympy.Function):
            name = sympy.sstr(f).split("(")[0]
            out[name] = type(f)
    return out


def _expression_answers():
    for path in sorted(PROBLEMS.glob("*.yaml")):
        yield path.name


@pytest.mark.parametrize("name", list(_expression_answers()))
def test_exact_strings_parse_back(name):
    sol = solve(load_spec(str(PROBLEMS / name)))
    data = json.loads(render(sol, "json"))
    for a, ans in zip(data["answers"], sol.answers):
        value = ans.value
        items = value.items if isinstance(value, Tensor) else (value,)
        if not all(isinstance(v, sympy.Expr) and not v.is_number for v in items[:1]) or isinstance(value, str):
            continue       # numbers, sets, classifications, text: not expressions
        parsed = parse_expr(a["exact"], local_dict=_local_dict(value))
        parsed_items = sympy.flatten(parsed) if isinstance(value, Tensor) else [parsed]
        assert len(parsed_items) == len(items)
        for p, v in zip(parsed_items, items):
            assert sympy.simplify(p - v) == 0, (name, a["exact"])
