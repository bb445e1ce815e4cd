"""Issue 13, "keys are checked the way a grader checks": properties of key checks over every example spec.

1. Every numeric answer of every example (scalars and each element of vectors and matrices): its correctly
   rounded decimal at 2..6 significant digits agrees as a `key:` (with the note saying how), and the same
   decimal one unit off in its last digit disagrees.
2. Sets, intervals, classifications, shapes and expressions agree as keys in other notations; wrong ones don't.
3. `examsolve grade` gives full marks to exactly the keys the key check accepts (same rule), except where
   the README says they differ: a key may be rounded to 2 significant figures, an answer needs 3.

Everything goes through the path a user has: a copy of the example with a top-level `key:` written into it,
solved by examsolve.solve(load_spec(path)), then the answer's `agrees` and `key_note`; grading through the CLI.
Expected values are computed here, independently of examsolve: rounding with Python's decimal module from a
40-digit sympy evaluation, notations written by hand.
"""
from __future__ import annotations

import json
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from conftest import PROBLEMS, ROOT

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.compare import KEY_MIN_SIG, MIN_SIG, Rule, rule_for
from examsolve.tensor import Tensor

SIGS = range(KEY_MIN_SIG, 7)        # 2, 3, 4, 5, 6 significant digits
assert KEY_MIN_SIG == 2 and MIN_SIG == 3, "the README's rules: keys to 2 significant figures, answers to 3"


# ---- solving, once per example, and keyed copies ---------------------------------------------------------

@pytest.fixture(scope="module")
def solved():
    """The examples solved once each (module-level cache): path -> (spec, {answer name: Answer})."""
    cache: dict = {}

    def get(path: Path):
        if path not in cache:
            spec = load_spec(str(path))
            cache[path] = (spec, {a.name: a for a in solve(spec).answers})
        return cache[path]
    return get


_TOP_KEY = re.compile(r"^key:.*(?:\n(?:[ \t#].*|))*", re.M)   # the top-level key: block (indented or comments)


def keyed(tmp_path: Path, example: Path, keys: dict[str, str]) -> dict:
    """Solve a copy of the example whose only top-level key: is `keys` (name -> YAML text as written);
    the answers by name. A key: inside an ask stays, but the top-level key of the same answer replaces it."""
    text = _TOP_KEY.sub("", example.read_text(encoding="utf-8"))
    assert not re.search(r"^key:", text, re.M)
    text += "\nkey:\n" + "".join(f"  {json.dumps(n, ensure_ascii=False)}: {v}\n" for n, v in keys.items())
    p = tmp_path / example.name
    p.write_text(text, encoding="utf-8")
    return {a.name: a for a in solve(load_spec(str(p))).answers}


def grade_marks(example: Path, answers: dict[str, str]) -> dict:
    """`examsolve grade EXAMPLE --answer NAME=VALUE ... --format json`: the marks by answer name."""
    args = ["grade", str(example), "--format", "json"]
    for n, v in answers.items():
        args += ["--answer", f"{n}={v}"]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return {m["name"]: m for m in json.loads(r.output)["answers"]}


def full_marks(m: dict) -> bool:
    return bool(m["correct"]) and m["points"] == m["max_points"]


# ---- rounding, independently of examsolve --------------------------------------------------------------------

def _decimal(x: sympy.Basic) -> Decimal:
    return Decimal(str(sympy.N(x, 40)))


def rounding(x: sympy.Basic, n: int, mode=ROUND_HALF_EVEN, off: int = 0) -> tuple[str, bool, bool]:
    """x rounded to n significant digits (then moved `off` units in the last digit) as decimal text, whether
    that text is exactly x, and whether x is (within 40 digits of) a tie at that digit.

    A number whose last digit is at 10^0 or above is written 5.31E+2, not 531: an integer key is exact."""
    with localcontext() as ctx:
        ctx.prec = 100
        d = _decimal(x)
        q = Decimal(1).scaleb(d.adjusted() - n + 1)
        r = d.quantize(q, rounding=mode) + off * q
        if r.adjusted() > d.adjusted() and off == 0:    # 9.996 -> 10.00 at 4 digits: one digit too many
            q = q.scaleb(1)
            r = d.quantize(q, rounding=mode)
        # a tie: x is halfway between two n-digit decimals (both are correctly rounded); 40 digits cannot
        # tell a tie from a number within 1e-35 of one, so those count as ties too
        tie = abs(abs(d - d.quantize(q, rounding=ROUND_FLOOR)) * 2 - q) <= q * Decimal("1e-30")
        text = format(r, "f" if q.as_tuple().exponent < 0 else "E")
        exact = bool(x.is_Rational) and sympy.Rational(text) == x
        return text, exact, bool(tie)


def note_for(text: str) -> str:
    """The README's note for a decimal key that is not exactly the answer ("rounded to 3 decimals")."""
    mant, _, exp = text.lower().lstrip("+-").partition("e")
    frac = mant.partition(".")[2]
    if exp:
        digits = len((mant.replace(".", "")).lstrip("0"))
        return f"to {digits} significant figure{'s' if digits != 1 else ''}"
    return f"rounded to {len(frac)} decimal{'s' if len(frac) != 1 else ''}"


def expected_note(notes: list[str]) -> str:
    notes = [x for x in notes if x]
    return "" if not notes else notes[0] if len(set(notes)) == 1 else "to the digits written"


def numeric_items(spec, a) -> tuple | None:
    """The elements of a numeric answer checked by 'right to the digits written', or None."""
    if isinstance(a.value, str) or rule_for(spec, a.name) != Rule():
        return None      # a text answer, or a spec tolerance: (another rule, tested in test_compare)
    items = a.value.items if isinstance(a.value, Tensor) else (a.value,)
    if not items or not all(isinstance(x, sympy.Expr) and x.is_number and x.is_real and x.is_finite
                            for x in items):
        return None      # symbolic, complex, infinite: no decimal key
    if all(x.is_Integer for x in items):
        return None      # exact integers: an integer key is exact, there is no rounding to check
    return items


def write_key(a, texts: list[str], quoted: bool) -> str:
    """The key's YAML text: a scalar or a (nested) flow list of the element texts, optionally quoted whole."""
    if isinstance(a.value, Tensor):
        def nest(x):
            return "[" + ", ".join(nest(y) for y in x) + "]" if isinstance(x, list) else x
        out = nest(Tensor(a.value.shape, tuple(texts)).nested())
    else:
        out = texts[0]
    return json.dumps(out) if quoted else out


def numeric_answers(spec, answers: dict) -> dict:
    return {n: items for n, a in answers.items() if (items := numeric_items(spec, a)) is not None}


# ---- 1. rounded keys agree, one unit off disagrees ----------------------------------------------------------

def _key_cases(spec, answers: dict, n: int):
    """For n significant digits: (keys that must agree with their notes, keys one unit off that must not).

    Integer elements are written as integers (exact). A tie (x halfway between two n-digit decimals, e.g.
    1/8 = 0.125 at 2 digits) has two correct roundings, 0.12 and 0.13, and one unit off one of them is the
    other: ties are rounded down in the first key and up in the second, and both must agree (the off-by-one
    of a tie is skipped). Answers with many right answers (answer.valid: any separating weights) are skipped
    for the off-by-one: another value may be right too. Quoting: scalars are quoted ("0.1235") for odd n,
    lists quoted whole ("[0.6667, 1.333]") for n = 5, both as a YAML user may write them."""
    agree, notes, off, off_agrees = {}, {}, {}, {}
    for name, items in numeric_answers(spec, answers).items():
        a = answers[name]
        quoted = n % 2 == 1 if not isinstance(a.value, Tensor) else n == 5
        texts, hows, ties = [], [], []
        for i, x in enumerate(items):
            if x.is_Integer:
                texts.append(str(int(x)))
                continue
            text, exact, tie = rounding(x, n, ROUND_FLOOR if rounding(x, n)[2] else ROUND_HALF_EVEN)
            texts.append(text)
            hows.append("" if exact else note_for(text))
            if tie:
                ties.append(i)
        agree[name] = write_key(a, texts, quoted)
        notes[name] = expected_note(hows)
        # one unit off in one element (rotating over the elements with n), ties rounded the other way
        cands = [i for i, x in enumerate(items) if not x.is_Integer and i not in ties]
        other = list(texts)
        for i in ties:
            other[i] = rounding(items[i], n, ROUND_CEILING)[0]
        if cands and a.valid is None:
            i = cands[(n + len(name)) % len(cands)]
            other[i] = rounding(items[i], n, ROUND_HALF_EVEN, off=1 if (n + i) % 2 == 0 else -1)[0]
            off[name] = write_key(a, other, quoted)
        elif ties:
            off_agrees[name] = write_key(a, other, quoted)
    return agree, notes, off, off_agrees


@pytest.mark.parametrize("example", PROBLEMS, ids=lambda p: p.stem)
def test_rounded_keys_agree_and_one_unit_off_disagrees(example, solved, tmp_path):
    spec, answers = solved(example)
    if not numeric_answers(spec, answers):
        pytest.skip("no non-integer numeric answer")
    failures = []
    for n in SIGS:
        agree, notes, off, off_agrees = _key_cases(spec, answers, n)
        got = keyed(tmp_path, example, agree)
        for name, key in agree.items():
            a = got[name]
            if a.agrees is not True or a.key_note != notes[name]:
                failures.append(f"{n} digits: key {name}: {key} -> agrees={a.agrees} note={a.key_note!r} "
                                f"(expected agrees, note {notes[name]!r}; answer {answers[name].value})")
        if off or off_agrees:
            got = keyed(tmp_path, example, {**off, **off_agrees})
            for name, key in off.items():
                if got[name].agrees is not False:
                    failures.append(f"{n} digits, one unit off: key {name}: {key} -> agrees={got[name].agrees} "
                                    f"(answer {answers[name].value})")
            for name, key in off_agrees.items():
                if got[name].agrees is not True:
                    failures.append(f"{n} digits, a tie rounded up: key {name}: {key} -> agrees="
                                    f"{got[name].agrees} (answer {answers[name].value})")
    assert not failures, "\n".join(failures)


def test_the_rounding_helper_by_hand():
    # the independent oracle itself, on numbers worked out by hand
    assert rounding(sympy.log(2), 3)[0] == "0.693" and rounding(sympy.log(2), 3, off=1)[0] == "0.694"
    assert rounding(sympy.pi / 2 + 4, 4)[0] == "5.571"
    assert rounding(sympy.Rational(2657, 5), 3)[0] == "5.31E+2"           # 531.4: not the integer 531
    assert rounding(sympy.Rational(1, 8), 2) == ("0.12", False, True)      # a tie: 0.12 and 0.13 are both right
    assert rounding(sympy.Rational(1, 8), 2, ROUND_CEILING)[0] == "0.13"
    assert rounding(sympy.Rational(1, 8), 3) == ("0.125", True, False)
    assert rounding(sympy.Rational(-1, 3), 2) == ("-0.33", False, False)
    assert rounding(sympy.Rational(9996, 1000), 3)[0] == "10.0"
    assert note_for("0.693") == "rounded to 3 decimals" and note_for("5.31E+2") == "to 3 significant figures"


@pytest.mark.parametrize("key,ok,note", [
    # 1/8 = 0.125 exactly: a tie at 2 digits, so 0.12 (half to even) and 0.13 (half up) are both correctly
    # rounded (|key − 1/8| = 0.005, half a unit of the last digit); 0.11 and 0.14 are not; -1/8 likewise
    ("0.12", True, "rounded to 2 decimals"), ("0.13", True, "rounded to 2 decimals"), ("0.11", False, ""),
    ("0.14", False, ""), ("0.125", True, ""), ("0.1250", True, ""),
])
def test_a_tie_has_two_correct_roundings(key, ok, note, tmp_path):
    p = tmp_path / "tie.yaml"
    three = {"0.12": "0.37", "0.13": "0.38", "0.11": "0.36", "0.14": "0.39", "0.125": "0.375", "0.1250": "0.3750"}
    p.write_text("kind: graph\ngiven: {x: 1/8}\nequations: {A: x, B: -x, C: 3*x}\nask: [{value: [A, B, C]}]\n"
                 f"key: {{A: {key}, B: -{key}, C: {three[key]}}}\n")
    a = {x.name: x for x in solve(load_spec(str(p))).answers}
    assert a["A"].agrees is ok and a["A"].key_note == note
    assert a["B"].agrees is ok and a["B"].key_note == note
    # 3/8 = 0.375: a tie at 2 digits as well (0.37 and 0.38; 0.36, 0.39 are not)
    assert a["C"].agrees is ok


def test_a_quoted_list_key_is_read_like_an_unquoted_one(tmp_path):
    # v = (2/3, 4/3): [0.6667, 1.333] agrees written as a YAML list or as a quoted string; 1.334 is off.
    # (It used to disagree quoted: the string's digits were lost, so no element was "right to its digits".)
    p = tmp_path / "v.yaml"
    body = ("kind: graph\ngiven: {v: [1/3, 2/3]}\nequations: {A: 2*v, B: 2*v, C: 2*v, D: 2*v}\n"
            "ask: [{value: [A, B, C, D]}]\n")
    p.write_text(body + 'key: {A: [0.6667, 1.333], B: "[0.6667, 1.333]", C: "[0.6667, 1.334]", D: "[0.6667, 1.3]"}\n')
    a = {x.name: x for x in solve(load_spec(str(p))).answers}
    assert a["A"].agrees is True and a["A"].key_note == "to the digits written"
    assert a["B"].agrees is True and a["B"].key_note == "to the digits written"
    assert a["C"].agrees is False
    assert a["D"].agrees is True and a["D"].key_note == "to the digits written"   # 1.3: a key may have 2 figures


def test_an_integer_key_is_exact_and_e_notation_is_rounded(tmp_path):
    # 2657/5 = 531.4: 531 is an integer (exact), so it disagrees; 5.31E+2 and 531. are rounded, so they agree
    p = tmp_path / "i.yaml"
    p.write_text("kind: graph\ngiven: {x: 2657/5}\nequations: {A: x, B: x, C: x, D: x, E: x}\n"
                 "ask: [{value: [A, B, C, D, E]}]\nkey: {A: 531, B: 5.31E+2, C: 531., D: \"531\", E: 5.32E+2}\n")
    a = {x.name: x for x in solve(load_spec(str(p))).answers}
    assert a["A"].agrees is False and a["D"].agrees is False and a["E"].agrees is False
    assert a["B"].agrees is True and a["B"].key_note == "to 3 significant figures"
    assert a["C"].agrees is True and a["C"].key_note == "to 3 significant figures"


# ---- 2. keys in other notations ----------------------------------------------------------------------------
# By hand. sgd_quadratic: f = 3w² − 1, f'' = 6, ρ(α) = 1 − 6α; |ρ| < 1 ⇔ 0 < α < 1/3, ρ = −1 at α = 1/3,
# |ρ| > 1 for α < 0 or α > 1/3, α = 0 does not move. sgd_convergence_2d: H = diag(3, 1), the same with
# 2/λmax = 2/3. critical_points: f = x³ − 3x + y², ∇f = (3x² − 3, 2y), H = diag(6x, 2): (1, 0) a minimum
# (6, 2 > 0), (−1, 0) a saddle (−6 < 0 < 2), (0, 0) not critical (∇f = (−3, 0)). conv_shape: 8 filters,
# (32 − 3)/1 + 1 = 30. kl_gaussians: KL(N(0, 1) ‖ N(1, 4)) = log 2 + (1 + 1)/8 − 1/2 = log 2 − 1/4.
# momentum_symbolic (ema, β = 0.9): v_x1 = 0.9·v1 + 0.1·∂L/∂x1 = 0.9·v1 + 0.1·(2 + 3·x2).

def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _interval_keys(top: str, top_dec: str, off_dec: str) -> dict:
    """Keys (YAML text -> agrees?) for the lr family's sets with the edge α = top (a fraction as text)."""
    return {
        "converges": [(_q(f"(0, {top})"), True), (_q(f"]0, {top}["), True), (_q(f"0 < alpha < {top}"), True),
                      (_q(f"alpha in (0, {top})"), True), (_q(f"α ∈ (0, {top})"), True),
                      (_q(f"{top} > alpha > 0"), True), (_q(f"(0, {top_dec})"), True),
                      (_q(f"[0, {top})"), False), (_q(f"(0, {top}]"), False), (_q(f"0 <= alpha < {top}"), False),
                      (_q(f"(0, {off_dec})"), False), (_q(f"({top}, 1)"), False)],
        "oscillates": [(_q(f"{{{top}}}"), True), (_q(top), True), (_q(f"alpha = {top}"), True),
                       (_q(f"[{top}, {top}]"), True), (_q(f"{{{top_dec}}}"), True),
                       (_q(f"{{0, {top}}}"), False), (_q(f"(0, {top})"), False), (_q("∅"), False),
                       (_q(f"{{{off_dec}}}"), False)],
        "does not move": [(_q("{0}"), True), (_q("0"), True), (_q("alpha = 0"), True),
                          (_q("∅"), False), (_q(f"{{{top}}}"), False)],
        "diverges": [(_q(f"(-∞, 0) ∪ ({top}, ∞)"), True), (_q(f"(-oo, 0) U ({top}, oo)"), True),
                     (_q(f"alpha < 0 or alpha > {top}"), True), (_q(f"]-inf, 0[ ∪ ]{top}, +inf["), True),
                     (_q(f"(-∞, 0) ∪ ({top_dec}, ∞)"), True),
                     (_q(f"(-∞, 0] ∪ ({top}, ∞)"), False), (_q(f"({top}, ∞)"), False),
                     (_q(f"(-∞, 0) ∪ [{top}, ∞)"), False), (_q(f"alpha < 0 or alpha >= {top}"), False)],
    }


NOTATIONS = {
    "sgd_quadratic.yaml": {
        **_interval_keys("1/3", "0.3333", "0.3334"),
        # an expression answer: ρ(α) = 1 − 6α expanded, factored, reordered; not 1 − 3α or 6α − 1
        "rho": [("1 - 6*alpha", True), ("-6*alpha + 1", True), ("-(6*alpha - 1)", True), ("6*(1/6 - alpha)", True),
                ("(1 - 3*alpha)*2 - 1", True), ("1 - 3*alpha", False), ("6*alpha - 1", False)],
        "alpha*": [("1/6", True), ("0.1667", True), ("2/12", True), ("0.1666", False), ("1/3", False)],
    },
    "sgd_convergence_2d.yaml": {
        **_interval_keys("2/3", "0.6667", "0.6666"),
        # H = diag(3, 1): the factors in parameter order (w1, w2), not sorted by eigenvalue
        "rho": [("[1 - 3*alpha, 1 - alpha]", True), ("[-3*(alpha - 1/3), -(alpha - 1)]", True),
                ("[1 - alpha, 1 - 3*alpha]", False), ("[1 - 3*alpha, 1 - 2*alpha]", False)],
    },
    "critical_points.yaml": {
        "f at (1, 0)": [(_q(k), True) for k in ("min", "minimum", "local min", "local minimum", "Local Minimum",
                                                "strict local minimum", "minimum point")]
                       + [(_q(k), False) for k in ("max", "local maximum", "saddle", "not critical")],
        "f at (-1, 0)": [(_q("saddle"), True), (_q("saddle point"), True), (_q("Saddle Point"), True),
                         (_q("min"), False), (_q("local maximum"), False)],
        "f at (0, 0)": [(_q("not critical"), True), (_q("not a critical point"), True),
                        (_q("saddle"), False), (_q("minimum"), False)],
        "critical points of f": [(_q("(1, 0): min; (-1, 0): saddle"), True),
                                 (_q("(-1, 0): saddle point; (1, 0): local minimum"), True),
                                 (_q("(1, 0): saddle; (-1, 0): min"), False), (_q("(1, 0): min"), False)],
    },
    "conv_shape.yaml": {
        "output shape": [(_q("8x30x30"), True), (_q("[8, 30, 30]"), True), (_q("(8,30,30)"), True),
                         (_q("(8, 30, 30)"), True), (_q("8 × 30 × 30"), True), ("[8, 30, 30]", True),
                         (_q("(8, 30, 31)"), False), (_q("30x30x8"), False), (_q("(8, 30)"), False),
                         (_q("8x32x32"), False), ("[8, 30, 31]", False)],
        "parameters": [("224", True), ("8*(3*3*3 + 1)", True), ("216", False)],  # 8·(27 + 1) = 224
    },
    "kl_gaussians.yaml": {
        "KL (nats)": [("log(2) - 1/4", True), ("-1/4 + log(2)", True), ("(4*log(2) - 1)/4", True),
                      ("log(4)/2 - 1/4", True), ("0.4431", True), ("0.44", True),   # log 2 − 1/4 = 0.443147…
                      ("log(2) + 1/4", False), ("log(2) - 1/2", False), ("0.4432", False)],
    },
    "momentum_symbolic.yaml": {
        "v_x1 after 1 step": [("0.9*v1 + 0.1*(2 + 3*x2)", True), ("(9*v1 + 3*x2 + 2)/10", True),
                              ("9*v1/10 + 3*x2/10 + 1/5", True), ("0.9*v1 + 0.1*(2 + 3*x1)", False),
                              ("(9*v1 + 3*x2 + 2)/100", False)],
    },
}

HESSIAN_SPEC = """kind: graph
symbols: [x, y]
equations:
  g: x*y - x**2 - y**2
  s: x*y
ask:
  - hessian: {of: g, wrt: [x, y], points: [{x: 0, y: 0}, {x: 1, y: 0}]}
  - hessian: {of: s, wrt: [x, y], points: [{x: 0, y: 0}]}
"""
# by hand: ∇g = (y − 2x, x − 2y), zero at (0, 0); H(g) = [[−2, 1], [1, −2]], eigenvalues −1 and −3: a maximum;
# at (1, 0) ∇g = (−2, 1) ≠ 0: not critical. ∇s = (y, x), H(s) = [[0, 1], [1, 0]], eigenvalues ±1: a saddle.
HESSIAN_KEYS = {
    "g at (0, 0)": [(_q("max"), True), (_q("local maximum"), True), (_q("maximum"), True), (_q("local max"), True),
                    (_q("min"), False), (_q("saddle"), False)],
    "g at (1, 0)": [(_q("not critical"), True), (_q("not a critical point"), True), (_q("max"), False)],
    "s at (0, 0)": [(_q("saddle"), True), (_q("saddle point"), True), (_q("max"), False), (_q("min"), False)],
    "H(s)": [("[[0, 1], [1, 0]]", True), ("[[0, 1], [1, 1]]", False)],
}


def _notation_failures(tmp_path: Path, example: Path, table: dict) -> list[str]:
    """Solve copies of the example with the i-th notation of every answer as its key: what is not as expected."""
    failures = []
    for i in range(max(len(v) for v in table.values())):
        keys = {name: v[i] for name, v in table.items() if i < len(v)}
        got = keyed(tmp_path, example, {name: k for name, (k, _) in keys.items()})
        for name, (k, ok) in keys.items():
            if got[name].agrees is not ok:
                failures.append(f"{example.name}: key {name}: {k} -> agrees={got[name].agrees} (expected {ok}; "
                                f"answer {got[name].value})")
    return failures


@pytest.mark.parametrize("example", sorted(NOTATIONS))
def test_keys_in_other_notations(example, tmp_path):
    failures = _notation_failures(tmp_path, ROOT / "problems" / example, NOTATIONS[example])
    assert not failures, "\n".join(failures)


def test_hessian_classification_keys_in_other_words(tmp_path):
    p = tmp_path / "hessian.yaml"
    p.write_text(HESSIAN_SPEC, encoding="utf-8")
    (tmp_path / "k").mkdir()
    failures = _notation_failures(tmp_path / "k", p, HESSIAN_KEYS)
    assert not failures, "\n".join(failures)


# ---- 3. grade parity: full marks for exactly the keys that agree ---------------------------------------------

PARITY = ["adagrad_steps.yaml", "attention.yaml", "conv2d_bce.yaml", "kl_gaussians.yaml", "lstm_forward.yaml",
          "nesterov_steps.yaml", "sin_net.yaml", "softmax_ce.yaml", "xavier.yaml"]   # floats, ties, irrationals


def _parity_candidates(spec, answers: dict):
    """Candidate keys for up to 3 numeric answers of an example (the first, the middle and the last), each
    candidate as {answer: YAML text}: rounded to 3, 4 and 6 figures (agree), one unit off at 3 and 5 figures
    (disagree). Ties rounded both ways, as in test 1."""
    numeric = list(numeric_answers(spec, answers))
    names = sorted({numeric[0], numeric[len(numeric) // 2], numeric[-1]}, key=numeric.index) if numeric else []
    sets = []
    for n, off in ((3, False), (4, False), (6, False), (3, True), (5, True)):
        agree, _, offs, off_agrees = _key_cases(spec, {k: answers[k] for k in names}, n)
        sets.append({**agree, **offs, **off_agrees} if off else agree)
    return names, sets


@pytest.mark.parametrize("example", PARITY)
def test_grade_gives_full_marks_to_exactly_the_keys_that_agree(example, solved, tmp_path):
    path = ROOT / "problems" / example
    spec, answers = solved(path)
    names, sets = _parity_candidates(spec, answers)
    assert names, f"{example} has no numeric answer to grade"
    failures = []
    for keys in sets:
        texts = {n: json.loads(k) if k.startswith('"') else k for n, k in keys.items()}   # as typed in a shell
        got = keyed(tmp_path, path, keys)
        marks = grade_marks(path, texts)
        for n in keys:
            if full_marks(marks[n]) is not got[n].agrees:
                failures.append(f"{n} = {texts[n]}: grade {marks[n]['points']}/{marks[n]['max_points']} "
                                f"({marks[n]['feedback']!r}), key agrees={got[n].agrees} {got[n].key_note!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("example", ["sin_net.yaml", "softmax_ce.yaml", "kl_gaussians.yaml"])
def test_two_figures_are_enough_for_a_key_not_for_an_answer(example, solved, tmp_path):
    # the one documented difference (README): a key may be rounded to 2 significant figures (KEY_MIN_SIG),
    # an answer needs 3 (MIN_SIG); grade says so in its feedback
    path = ROOT / "problems" / example
    spec, answers = solved(path)
    agree = _key_cases(spec, answers, 2)[0]
    texts = {n: json.loads(k) if k.startswith('"') else k for n, k in agree.items()}
    got = keyed(tmp_path, path, agree)
    marks = grade_marks(path, texts)
    for n in agree:
        assert got[n].agrees is True, (n, agree[n])
        exact = all(x.is_Integer or sympy.Rational(t) == x for x, t in zip(
            numeric_answers(spec, answers)[n], re.findall(r"-?[\d.]+(?:E[+-]\d+)?", texts[n])))
        if not exact:
            assert not full_marks(marks[n]) and "significant figures" in marks[n]["feedback"], (n, marks[n])


KEY_ONLY = {"0.44"}    # 2 significant figures: enough for a key, not for an answer (the test above)


@pytest.mark.parametrize("example", sorted(NOTATIONS))
def test_grade_agrees_with_the_key_check_on_other_notations(example, tmp_path):
    # the same notations as test 2, graded: full marks exactly when the key agrees (and as expected)
    path = ROOT / "problems" / example
    table = NOTATIONS[example]
    failures = []
    for i in range(max(len(v) for v in table.values())):
        keys = {name: v[i] for name, v in table.items() if i < len(v) and v[i][0] not in KEY_ONLY}
        if not keys:
            continue
        marks = grade_marks(path, {n: json.loads(k) if k.startswith('"') else k for n, (k, _) in keys.items()})
        for n, (k, ok) in keys.items():
            if full_marks(marks[n]) is not ok:
                failures.append(f"{example}: grade {n} = {k}: {marks[n]['points']}/{marks[n]['max_points']} "
                                f"({marks[n]['feedback']!r}), expected full marks {ok}")
    assert not failures, "\n".join(failures)
