"""Hidden exact zeros and equal eigenvalues (a 0 in another form), and eigenvalues sympy writes only as roots of
a cubic or higher: classified and analysed from exact signs, never a crash. Expected values are derived here
independently (by hand, or mpmath at 50 digits on the matrix written out by hand), never from examsolve."""
from __future__ import annotations

import mpmath
import pytest
import sympy
from click.testing import CliRunner

from conftest import answer, solve_text

from examsolve.cli import main
from examsolve.values import exact_sign, exactly_equal, proved_zero

HESS = """kind: graph
title: hidden zero
given:
  a: {a}
symbols: [x, y]
equations:
  f: a*x**2 + y**2
ask:
  - hessian: {{of: f, wrt: [x, y], points: [{{x: 0, y: 0}}]}}
"""


SQRT2_2 = "sqrt2/2"      # √2/2 in a matrix below, made at 50 digits by _mp_eig


def _mp_eig(rows: list) -> list:
    """Eigenvalues of a symmetric matrix by mpmath at 50 digits, increasing."""
    with mpmath.workdps(50):
        m = mpmath.matrix([[mpmath.sqrt(2) / 2 if x == SQRT2_2 else mpmath.mpf(x) for x in row] for row in rows])
        return sorted(mpmath.eigsy(m, eigvals_only=True))


def _close(x, y, digits: int = 25) -> bool:
    """x (a sympy number) agrees with the mpf y to `digits` digits."""
    with mpmath.workdps(50):
        return abs(mpmath.mpf(str(sympy.N(x, 45))) - y) <= mpmath.mpf(10) ** -digits * max(1, abs(y))


def _run(tmp_path, text: str):
    f = tmp_path / "spec.yaml"
    f.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["run", str(f)])


# by hand: log 2 + log 3 = log 6; tan(atan ½ + atan ⅓) = (½ + ⅓)/(1 − ⅙) = 1, so atan ½ + atan ⅓ = π/4;
# (1 + √2)² = 3 + 2√2, so sqrt(3 + 2√2) = 1 + √2
@pytest.mark.parametrize("a", ["log(2) + log(3) - log(6)", "atan(1/2) + atan(1/3) - pi/4",
                               "sqrt(3 + 2*sqrt(2)) - 1 - sqrt(2)"])
def test_hidden_zero_eigenvalue_is_degenerate(tmp_path, a):
    sol = solve_text(tmp_path, HESS.format(a=a))
    # a = 0 exactly, so f = y²: the second-order test is inconclusive (degenerate), and where the form of f shows
    # f ≥ 0 = f(0, 0) (sympy sees sqrt(3 + 2√2) − 1 − √2 ≥ 0) it is a global minimum; never a strict local one
    assert answer(sol, "f at (0, 0)").value.kind in ("degenerate", "global_minimum")
    assert list(sol.quantities["f at (0, 0).eigenvalues"].items) == [0, 2]


def test_tiny_positive_is_not_zero(tmp_path):
    # 10⁻⁶⁰ added to that 0: H = diag(2·10⁻⁶⁰, 2), both > 0
    sol = solve_text(tmp_path, HESS.format(a="sqrt(3 + 2*sqrt(2)) - 1 - sqrt(2) + 10**-60"))
    # a > 0, so f = a·x² + y² ≥ 0 = f(0, 0) with both eigenvalues > 0: a strict minimum, global by the bound on f
    kind = answer(sol, "f at (0, 0)").value
    assert kind.kind in ("local_minimum", "global_minimum") and "degenerate" not in str(kind)


def test_exact_sign_helpers():
    r2 = sympy.sqrt(2)
    assert proved_zero(sympy.sqrt(3 + 2 * r2) - 1 - r2)
    assert proved_zero(sympy.log(2) + sympy.log(3) - sympy.log(6))
    assert exact_sign(sympy.sqrt(3 + 2 * r2) - 1 - r2 - sympy.Rational(1, 10 ** 40)) == -1
    assert exactly_equal(1 + r2, sympy.sqrt(3 + 2 * r2))
    assert not exactly_equal(1 + r2, sympy.sqrt(3 + 2 * r2) + sympy.Rational(1, 10 ** 25))


LR = """kind: lr
title: lr
params: [{params}]
loss: {loss}
"""


def test_lr_hidden_zero_curvature_is_refused(tmp_path):
    # curvatures sqrt(3 + 2√2) − 1 − √2 = 0 and 1: ρ = 1 − α·0 = 1 along w1 for every α; f = w2²/2 has the
    # whole line w2 = 0 of minima
    r = _run(tmp_path, LR.format(params="w1, w2", loss="((sqrt(3 + 2*sqrt(2)) - 1 - sqrt(2))*w1**2 + w2**2)/2"))
    assert r.exit_code == 1, r.output
    assert "[0, 1]" in r.output and "line of minima" in r.output


def test_lr_singular_has_a_line_of_minima(tmp_path):
    # (w1 + w2)²/2 is 0 on the whole line w1 = −w2: minima, not "no minimum"
    r = _run(tmp_path, LR.format(params="w1, w2", loss="(w1 + w2)**2/2"))
    assert r.exit_code == 1, r.output
    assert "line of minima" in r.output and "has no minimum" not in r.output


def test_lr_flat_with_linear_term_has_no_minimum(tmp_path):
    # w1²/2 + w2: ∂f/∂w2 = 1 is never 0
    r = _run(tmp_path, LR.format(params="w1, w2", loss="w1**2/2 + w2"))
    assert r.exit_code == 1, r.output
    assert "no minimum" in r.output


def test_lr_equal_eigenvalues_in_two_forms(tmp_path):
    # 1 + √2 = sqrt(3 + 2√2): one eigenvalue λ; α* = 2/(2λ) = 1/λ, rate (λ − λ)/(2λ) = 0, one step 1/λ
    sol = solve_text(tmp_path, LR.format(params="w1, w2",
                                         loss="((1 + sqrt(2))*w1**2 + sqrt(3 + 2*sqrt(2))*w2**2)/2"))
    lam = 1 + sympy.sqrt(2)
    assert sympy.simplify(answer(sol, "alpha*").value - 1 / lam) == 0
    assert answer(sol, "rate at alpha*").value == 0
    text = " ".join(s.title for s in sol.steps)
    assert "one step" in text and "never with one constant" not in text


def test_lr_cubic_eigenvalues(tmp_path):
    # H = [[2, 1, ½], [1, 3, 1], [½, 1, 4]] by hand from the loss
    sol = solve_text(tmp_path, LR.format(params="w1, w2, w3",
                                         loss="(2*w1**2 + 3*w2**2 + 4*w3**2 + 2*w1*w2 + 2*w2*w3 + w1*w3)/2"))
    want = _mp_eig([[2, 1, "0.5"], [1, 3, 1], ["0.5", 1, 4]])
    got = sol.quantities["eigenvalues"].items
    assert all(_close(g, w) for g, w in zip(got, want))
    with mpmath.workdps(50):    # α* = 2/(λ_min + λ_max)
        best = 2 / (want[0] + want[-1])
    assert _close(answer(sol, "alpha*").value, best)


def test_lr_5x5_with_sqrt2(tmp_path):
    # H by hand: the a·c coefficient √2 gives H[a][c] = √2/2, a·e gives ½
    loss = ("(3*a**2 + 4*b**2 + 5*c**2 + 6*d**2 + 7*e**2 + 2*a*b + 2*b*c + 2*c*d + 2*d*e + a*e "
            "+ sqrt(2)*a*c)/2")
    r = _run(tmp_path, LR.format(params="a, b, c, d, e", loss=loss))
    assert r.exit_code == 0, r.output
    sol = solve_text(tmp_path, LR.format(params="a, b, c, d, e", loss=loss))
    h = SQRT2_2
    want = _mp_eig([[3, 1, h, 0, "0.5"], [1, 4, 1, 0, 0], [h, 1, 5, 1, 0], [0, 0, 1, 6, 1], ["0.5", 0, 0, 1, 7]])
    got = sol.quantities["eigenvalues"].items
    assert all(_close(g, w) for g, w in zip(got, want))
    with mpmath.workdps(50):    # α* = 2/(λ_min + λ_max)
        best = 2 / (want[0] + want[-1])
    assert _close(answer(sol, "alpha*").value, best)


CUBIC = """kind: graph
title: cubic eigenvalues
symbols: [{names}]
equations:
  f: {f}
ask:
  - hessian: {{of: f, wrt: [{names}], points: [{{{zero}}}]}}
"""


@pytest.mark.parametrize("names, f, rows", [
    ("w1, w2, w3", "(2*w1**2 + 3*w2**2 + 4*w3**2 + 2*w1*w2 + 2*w2*w3 + w1*w3)/2",
     [[2, 1, "0.5"], [1, 3, 1], ["0.5", 1, 4]]),
    ("a, b, c, d", "(3*a**2 + 4*b**2 + 5*c**2 + 7*d**2 + 2*a*b + 2*b*c + 2*c*d + a*d + a*c)/2",
     [[3, 1, "0.5", "0.5"], [1, 4, 1, 0], ["0.5", 1, 5, 1], ["0.5", 0, 1, 7]]),
    ("a, b, c", "(3*a**2 + 4*b**2 + 5*c**2 + 2*a*b + 2*b*c + sqrt(2)*a*c)/2",
     [[3, 1, SQRT2_2], [1, 4, 1], [SQRT2_2, 1, 5]]),
])
def test_hessian_irreducible_eigenvalues(tmp_path, names, f, rows):
    vs = [v.strip() for v in names.split(",")]
    text = CUBIC.format(names=names, f=f, zero=", ".join(f"{v}: 0" for v in vs))
    assert _run(tmp_path, text).exit_code == 0
    sol = solve_text(tmp_path, text)
    want = _mp_eig(rows)
    at = "f at (" + ", ".join("0" for _ in vs) + ")"
    got = sol.quantities[at + ".eigenvalues"].items
    assert all(_close(g, w) for g, w in zip(got, want))
    assert all(w > 0 for w in want) and answer(sol, at).value.kind == "local_minimum"


def test_set_key_of_repeated_eigenvalues(tmp_path):
    # x² + y² + 3z²: H = diag(2, 2, 6); the set {6, 2} is its eigenvalues, {6, 3} is not
    body = """kind: graph
title: multiplicity
symbols: [x, y, z]
equations:
  f: x**2 + y**2 + 3*z**2
ask:
  - hessian: {{of: f, wrt: [x, y, z], points: [{{x: 0, y: 0, z: 0}}]}}
key:
  f at (0, 0, 0).eigenvalues: "{key}"
"""
    good = solve_text(tmp_path, body.format(key="{6, 2}"))
    bad = solve_text(tmp_path, body.format(key="{6, 3}"))
    name = "f at (0, 0, 0).eigenvalues"
    assert answer(good, name).agrees is True
    assert answer(bad, name).agrees is False
