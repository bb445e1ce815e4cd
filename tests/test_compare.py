"""compare.py: one comparison for key checks and grading. Expected values are computed here independently:
rounded decimals with Python's decimal module from a 40-digit evaluation, notations written by hand."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
import sympy

from conftest import PROBLEMS, ROOT

from examsolve import load_spec, solve
from examsolve.compare import Rule, check_key, compare_text, rule_for
from examsolve.renderers.lines import key_mark
from examsolve.steps import Answer
from examsolve.tensor import Tensor

_SOLVED: dict = {}


def _solved(path):
    if path not in _SOLVED:
        spec = load_spec(str(path))
        _SOLVED[path] = (spec, solve(spec))
    return _SOLVED[path]


def _rounded(x: sympy.Basic, n: int) -> tuple[str, str, bool] | None:
    """(x rounded to n significant digits, the same one unit higher in the last digit, a tie?) as decimal text."""
    with localcontext() as ctx:
        ctx.prec = 80
        d = Decimal(str(sympy.N(x, 40)))
        if d == 0:
            return None
        q = Decimal(1).scaleb(d.adjusted() - n + 1)
        r = d.quantize(q, rounding=ROUND_HALF_EVEN)
        tie = abs(d - r) * 2 == q
        up = r + q
        fmt = "f" if q.as_tuple().exponent < 0 else "E"   # "531" would be an exact integer: 5.31E+2
        return format(r, fmt), format(up, fmt), tie


def _numeric(v) -> bool:
    items = v.items if isinstance(v, Tensor) else (v,)
    return all(isinstance(x, sympy.Basic) and x.is_number and x.is_real and x.is_finite for x in items) and \
        any(not x.is_Integer for x in items)


CASES = []
for _p in PROBLEMS:
    CASES.append(_p)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_rounded_keys_agree_and_one_unit_off_disagrees(path):
    """Every numeric answer of every example: its correctly rounded decimal at 2-6 significant digits agrees
    as a key (under the written rule); one unit more in the last digit disagrees."""
    spec, sol = _solved(path)
    for a in sol.answers:
        if isinstance(a.value, str) or not _numeric(a.value) or rule_for(spec, a.name) != Rule() \
                or a.valid is not None:      # many right answers: one unit off may be another right one
            continue
        items = a.value.items if isinstance(a.value, Tensor) else (a.value,)
        first = next(i for i, x in enumerate(items) if not x.is_Integer)
        for n in range(2, 7):
            texts, off, skip = [], [], False
            for i, x in enumerate(items):
                if x.is_Integer:
                    texts.append(int(x))
                    off.append(int(x))
                    continue
                r = _rounded(x, n)
                if r is None or r[2]:
                    skip = True
                    break
                texts.append(r[0])
                off.append(r[1] if i == first else r[0])
            if skip:
                continue

            def raw(flat):
                if not isinstance(a.value, Tensor):
                    return flat[0]
                return Tensor(a.value.shape, tuple(flat)).nested()

            k, ok, why = check_key(spec, a, raw(texts), {})
            assert ok, (a.name, n, texts)
            if not all(x.is_Rational for x in items) or not ok or why:   # an exact decimal needs no note
                assert why.startswith(("rounded to", "to ")), why
            k, bad, _ = check_key(spec, a, raw(off), {})
            assert not bad, (a.name, n, off)


def _spec(tmp_path, text: str):
    p = tmp_path / "k.yaml"
    p.write_text(text)
    return solve(load_spec(str(p)))


def test_rounded_key_of_log2_agrees_with_a_reason(tmp_path):
    # log 2 = 0.693147...: 0.693 is right to 3 decimals, 0.6931 to 4; 0.694 is off by 0.00085 > 0.0005;
    # -0.693 is the answer with its sign flipped; 0.69 (2 significant figures) is still a rounded key
    sol = _spec(tmp_path, "kind: graph\ngiven: {x: 2}\nequations: {L: log(x), M: log(x), N: log(x), P: log(x), "
                          "Q: log(x)}\nask: [{value: [L, M, N, P, Q]}]\n"
                          "key: {L: 0.693, M: 0.6931, N: 0.694, P: -0.693, Q: 0.69}\n")
    a = {x.name: x for x in sol.answers}
    assert a["L"].agrees and a["L"].key_note == "rounded to 3 decimals"
    assert key_mark(a["L"]) == "agrees with the key (rounded to 3 decimals)"
    assert a["M"].agrees and a["M"].key_note == "rounded to 4 decimals"
    assert a["N"].agrees is False
    assert a["P"].agrees is False and a["P"].key_note == "the key is −1 times the answer"
    assert key_mark(a["P"]) == "DISAGREES with the key: the key is −1 times the answer"
    assert a["Q"].agrees and a["Q"].key_note == "rounded to 2 decimals"


def test_key_follows_the_spec_tolerance(tmp_path):
    # |0.7 - log 2| = 0.0069 < 0.01 (abs), but 0.7 is not log 2 to the digits written (±0.05 allows it...),
    # so use 0.68: |0.68 - 0.693147| = 0.013 > 0.01 and > 0.005 -> disagrees either way; 0.70 under abs 0.01 agrees
    sol = _spec(tmp_path, "kind: graph\ngiven: {x: 2}\nequations: {L: log(x), M: log(x)}\n"
                          "ask: [{value: [L, M]}]\nkey: {L: 0.700, M: 0.68}\ntolerance: {default: {abs: 0.01}}\n")
    a = {x.name: x for x in sol.answers}
    assert a["L"].agrees and a["L"].key_note == "within 0.01"
    assert a["M"].agrees is False


def test_integer_key_is_exact(tmp_path):
    # 1 is not 0.7 rounded to 0 decimals: an integer key is exact
    sol = _spec(tmp_path, "kind: graph\ngiven: {x: 7/10}\nequations: {L: x}\nask: [{value: [L]}]\nkey: {L: 1}\n")
    assert sol.answers[0].agrees is False


def _answer(example: str, name: str):
    spec, sol = _solved(ROOT / "problems" / example)
    return spec, next(a for a in sol.answers if a.name == name)


@pytest.mark.parametrize("key,ok", [
    ("(0, 2/3)", True), ("]0, 2/3[", True), ("0 < alpha < 2/3", True), ("alpha in (0, 2/3)", True),
    ("(0, 0.6667)", True), ("(0.0, 0.667)", True), ("2/3 > alpha > 0", True),
    ("[0, 2/3)", False), ("(0, 0.66)", False), ("(0, 0.6668)", False), ("0 < alpha <= 2/3", False), ("(0, 1)", False),
])
def test_interval_keys_in_other_notations(key, ok):
    spec, a = _answer("sgd_convergence_2d.yaml", "converges")
    assert a.value == sympy.Interval.open(0, sympy.Rational(2, 3))
    assert check_key(spec, a, key, {})[1] is ok


@pytest.mark.parametrize("key,ok", [
    ("(-∞, 0) ∪ (2/3, ∞)", True), ("(-oo, 0) U (2/3, oo)", True), ("alpha < 0 or alpha > 2/3", True),
    ("]-inf, 0[ ∪ ]2/3, +inf[", True), ("(-∞, 0] ∪ (2/3, ∞)", False), ("(2/3, ∞)", False),
])
def test_union_keys(key, ok):
    spec, a = _answer("sgd_convergence_2d.yaml", "diverges")
    assert check_key(spec, a, key, {})[1] is ok


@pytest.mark.parametrize("key,ok", [("{2/3}", True), ("2/3", True), ("alpha = 2/3", True), ("[2/3, 2/3]", True),
                                    ("{0.6667}", True), ("{0, 2/3}", False), ("1/3", False), ("∅", False)])
def test_set_keys(key, ok):
    spec, a = _answer("sgd_convergence_2d.yaml", "oscillates")
    assert a.value == sympy.FiniteSet(sympy.Rational(2, 3))
    assert check_key(spec, a, key, {})[1] is ok


@pytest.mark.parametrize("name,key,ok", [
    ("f at (1, 0)", "local minimum", True), ("f at (1, 0)", "min", True), ("f at (1, 0)", "minimum", True),
    ("f at (1, 0)", "Local Minimum (eigenvalues 6 and 2)", True), ("f at (1, 0)", "local maximum", False),
    ("f at (1, 0)", "saddle", False),
    ("f at (-1, 0)", "saddle", True), ("f at (-1, 0)", "saddle point", True), ("f at (-1, 0)", "max", False),
    ("f at (0, 0)", "not critical", True), ("f at (0, 0)", "not a critical point", True),
    ("f at (0, 0)", "minimum", False),
    ("critical points of f", "(1, 0): min; (-1, 0): saddle", True),
    ("critical points of f", "(1, 0): saddle; (-1, 0): min", False),
])
def test_classification_keys(name, key, ok):
    spec, a = _answer("critical_points.yaml", name)
    assert check_key(spec, a, key, {})[1] is ok


@pytest.mark.parametrize("key,ok", [("(8, 30, 30)", True), ([8, 30, 30], True), ("8x30x30", True),
                                    ("8 × 30 × 30", True), ("[8, 30, 30]", True), ("(8, 30, 31)", False),
                                    ("(30, 30, 8)", False), ("(8, 30)", False)])
def test_shape_keys(key, ok):
    spec, a = _answer("conv_shape.yaml", "output shape")
    assert list(a.value.items) == [8, 30, 30]     # (32 − 3)/1 + 1 = 30, 8 filters: a shape, whole numbers
    assert check_key(spec, a, key, {})[1] is ok


def test_one_element_shape_and_two_element_interval():
    # '(4,)' is a shape: 4 and [4] name it; a two-number interval (0, 2) is not the closed [0, 2]
    assert compare_text("[4]", "(4,)", Rule(), None, {}, "output shape").ok
    assert compare_text("4", "(4,)", Rule(), None, {}, "output shape").ok
    spec, _ = _answer("sgd_convergence_2d.yaml", "converges")
    assert not compare_text("[0, 2]", "(0, 2)", Rule(), spec, {}, "converges").ok
    assert compare_text("[3, 4]", "(3, 4)", Rule(), spec, {}, "weight shape").ok


def test_rendered_key_check_in_every_format(tmp_path):
    from examsolve.renderers import render

    sol = _spec(tmp_path, "kind: graph\ngiven: {x: 2}\nequations: {L: log(x)}\nask: [{value: [L]}]\n"
                          "key: {L: 0.693}\n")
    for fmt in ("terminal", "latex", "markdown"):
        assert "rounded to 3 decimals" in " ".join(render(sol, fmt).split()), fmt


def test_answer_without_key_note_still_marks():
    assert key_mark(Answer("x", sympy.Integer(1), key=sympy.Integer(1), agrees=True)) == "agrees with the key"


def test_a_key_inside_an_ask_uses_the_same_rule():
    from examsolve import solve
    from examsolve.spec import parse_spec

    # d sin(x)/dx at x = 1 is cos(1) = 0.5403023058...: 0.5403 is right to its digits, 0.5404 is not
    text = "kind: graph\ngiven: {x: 1}\nequations:\n  y: sin(x)\nask:\n  - grad: {of: y, wrt: x, key: %s}\n"
    good = solve(parse_spec(text % "0.5403", "k.yaml")).answers[0]
    bad = solve(parse_spec(text % "0.5404", "k.yaml")).answers[0]
    assert good.agrees is True and "rounded" in good.key_note
    assert bad.agrees is False
