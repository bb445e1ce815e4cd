"""The question model every LMS format reads: statement, given values, answers as blanks with tolerances and
points, and the known wrong values (`mistakes:`, other conventions, slips) with their feedback."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from typing import Any

import sympy

from examsolve.compare import MIN_SIG, Rule, rule_for
from examsolve.tensor import Tensor

MAX_WRONG = 12          # known wrong values kept per blank: an LMS shows them all to the grader
EXACT_SIG = 12          # an exact irrational answer cannot be typed exactly: half a unit in this digit
_CTX = Context(prec=40)


@dataclass(frozen=True)
class Wrong:
    """A known wrong value of one blank, with the feedback a student who gives it gets."""

    value: str
    feedback: str
    credit: Fraction = Fraction(0)      # share of the blank's points (a mistake's credit:), 0 to 1


@dataclass(frozen=True)
class Blank:
    """One field a student fills in: a number with a margin, a text, or a choice among options."""

    label: str                   # "dL/dw[0]": what the field asks for
    kind: str                    # "number", "text" or "choice"
    value: str                   # number: a plain decimal; text: the exact form; choice: the right option
    exact: str                   # the exact form (sympy's), shown in feedback
    margin: Decimal | None       # number: accepted when |given − value| ≤ margin
    points: Fraction
    choices: tuple[str, ...] = ()
    wrong: tuple[Wrong, ...] = ()


@dataclass(frozen=True)
class Part:
    """One answer of a problem: one blank, or one per element of a vector or matrix."""

    name: str
    key: str                     # an identifier for field names (PrairieLearn answers-name)
    shape: tuple[int, ...]       # () for a scalar
    blanks: tuple[Blank, ...]
    points: Fraction
    rule: Rule


@dataclass(frozen=True)
class Question:
    """One variant of a problem, ready for any LMS."""

    slug: str
    title: str
    statement: str
    given: tuple[tuple[str, str], ...]
    parts: tuple[Part, ...]
    solution: str                # the worked solution, plain text with line breaks
    file: str
    given_html: str = ""         # the given values with MathML (export/html.rich_parts)
    solution_html: str = ""      # the worked solution's steps and answers with MathML
    graph_svg: str = ""          # the graph without values (for the question text), cleaned SVG
    solved_svg: str = ""         # the graph with values and gradients (for the feedback)
    graph_note: str = ""         # why a graph spec has no picture (dot missing)

    @property
    def points(self) -> Fraction:
        return sum((p.points for p in self.parts), Fraction(0))


@dataclass(frozen=True)
class Problem:
    """A problem and its variants (one question each); an LMS draws one per student."""

    slug: str
    title: str
    questions: tuple[Question, ...]


def slug(text: str) -> str:
    """An identifier made of letters, digits and _ (never empty, never starting with a digit)."""
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60] or "q"
    return s if not s[0].isdigit() else "q" + s


# ---- numbers ----------------------------------------------------------------------------------------------

def to_decimal(x: Any) -> Decimal:
    """A real sympy number as a Decimal: exact for a terminating fraction, else to 30 digits."""
    if isinstance(x, (int, float)):      # a Python number (never text): sympy's own number of it
        x = sympy.Integer(x) if isinstance(x, int) else sympy.Float(x)
    if x.is_Rational:
        with localcontext(_CTX):
            q = Decimal(int(x.q))
            d = Decimal(int(x.p)) / q
        if _terminates(int(x.q)) and d * q == int(x.p):
            return d
    return Decimal(str(sympy.N(x, 30)))


def _terminates(q: int) -> bool:
    for f in (2, 5):
        while q % f == 0:
            q //= f
    return q == 1


def plain(d: Decimal, sig: int = 15) -> str:
    """A decimal as a plain string an LMS reads: at most `sig` significant digits, no exponent unless huge/tiny."""
    if d == 0:
        return "0"
    with localcontext(Context(prec=sig)):
        d = +d
    d = d.normalize()
    if -12 <= d.adjusted() <= 20:
        s = format(d, "f")
        return s.rstrip("0").rstrip(".") if "." in s else s
    return format(d, "E")


def is_exact_decimal(x: Any) -> bool:
    """True when x is a fraction whose decimal form ends (8, 0.125), so a margin of 0 accepts it."""
    return getattr(x, "is_Rational", False) and _terminates(int(x.q))


def margin(x: Any, rule: Rule) -> Decimal:
    """The absolute margin that stands for the grading rule at the value x (EXPORT.md's tolerance table)."""
    d = abs(to_decimal(x))
    if rule.how == "abs":
        return Decimal(str(rule.amount))
    if rule.how == "rel":
        with localcontext(_CTX):
            return Decimal(str(rule.amount)) * d
    if rule.how == "exact":
        return Decimal(0) if is_exact_decimal(x) else _half_unit(d, EXACT_SIG)
    n = int(rule.amount) if rule.how == "sig" else MIN_SIG
    # "digits written, ≥ 3 s.f." is loosest at 3 s.f.: a correctly rounded 3-figure decimal must pass
    return _half_unit(d, n) if not (rule.how == "written" and is_exact_decimal(x) and d == 0) else Decimal(0)


def _half_unit(d: Decimal, n: int) -> Decimal:
    """Half a unit in the n-th significant digit of d (0 for d = 0)."""
    if d == 0:
        return Decimal(0)
    return Decimal(5).scaleb(d.adjusted() - n)


def pl_comparison(rule: Rule) -> dict[str, str]:
    """PrairieLearn number-input attributes for a rule (EXPORT.md's tolerance table)."""
    if rule.how == "abs":
        return {"comparison": "relabs", "atol": str(rule.amount), "rtol": "0"}
    if rule.how == "rel":
        return {"comparison": "relabs", "rtol": str(rule.amount), "atol": "0"}
    if rule.how == "exact":
        return {"comparison": "relabs", "rtol": f"1e-{EXACT_SIG}", "atol": "0"}
    return {"comparison": "sigfig", "digits": str(int(rule.amount) if rule.how == "sig" else MIN_SIG)}


# ---- from a solution --------------------------------------------------------------------------------------

def is_real_number(x: Any) -> bool:
    """A finite real number (no free symbols): what a numeric field can hold."""
    return isinstance(x, sympy.Expr) and not isinstance(x, bool) and x.is_number and bool(x.is_finite) \
        and bool(sympy.N(x, 20).is_real)


def question(spec, sol, slug_: str) -> Question:
    """The question of one solved spec (one variant)."""
    from examsolve import grading
    from examsolve.renderers import terminal
    from examsolve.renderers.printing import text

    wrong = grading.WrongPaths(spec)
    parts, keys = [], set()
    for a in sol.answers:
        rule = rule_for(spec, a.name)
        points = grading._points(spec, a.name)
        key = slug(a.name)
        while key in keys:
            key += "_"
        keys.add(key)
        parts.append(_part(a, key, rule, points, _wrong_values(wrong, a, rule, sol)))
    given = tuple((name, text(v, sol.names)) for name, v in sol.given)
    solution = terminal.render([sol], color=False, width=100)
    from examsolve.export.html import rich_parts

    return Question(slug_, sol.title, sol.statement or sol.title, given, tuple(parts), solution, sol.file,
                    **rich_parts(spec, sol, slug_))


def _part(a, key: str, rule: Rule, points: Fraction, wrongs: list) -> Part:
    """One answer as blanks: a scalar one, a tensor one per element (row-major)."""
    v = a.value
    if isinstance(v, Tensor) and v.items:
        n = len(v.items)
        blanks = []
        for i, x in enumerate(v.items):
            label = a.name + "".join(f"[{j}]" for j in _index(i, v.shape))
            ws = [(w.items[i], fb, c) for w, fb, c in wrongs if isinstance(w, Tensor) and w.shape == v.shape]
            blanks.append(_blank(label, x, rule, points / n, ws))
        return Part(a.name, key, v.shape, tuple(blanks), points, rule)
    return Part(a.name, key, (), (_blank(a.name, v, rule, points, wrongs),), points, rule)


def _index(i: int, shape: tuple) -> tuple:
    out = []
    for n in reversed(shape):
        out.append(i % n)
        i //= n
    return tuple(reversed(out))


def _blank(label: str, x: Any, rule: Rule, points: Fraction, wrongs: list) -> Blank:
    """A number, a choice (yes/no, a classification) or a text field."""
    from examsolve import typed
    from examsolve.values import exact_str

    if is_real_number(x):
        m = margin(x, rule)
        right = to_decimal(x)
        out, seen = [], set()
        for w, fb, credit in wrongs:
            if not is_real_number(w) or len(out) >= MAX_WRONG:
                continue
            wd = to_decimal(w)
            # a wrong value the margin would accept, or one already listed, would shadow the right one
            if abs(wd - right) <= m or plain(wd) in seen:
                continue
            seen.add(plain(wd))
            out.append(Wrong(plain(wd), fb, credit))
        return Blank(label, "number", plain(right), exact_str(x), m, points, (), tuple(out))
    if isinstance(x, bool) or x in (sympy.true, sympy.false):
        right = "yes" if bool(x) else "no"
        return Blank(label, "choice", right, right, None, points, ("yes", "no"))
    if isinstance(x, typed.Classification):
        choices = tuple(dict.fromkeys(typed.CLASSES.values()))
        return Blank(label, "choice", x.words, str(x), None, points, choices)
    text = exact_str(x)
    out = [Wrong(exact_str(w), fb, c) for w, fb, c in wrongs[:MAX_WRONG] if exact_str(w) != text]
    return Blank(label, "text", text, text, None, points, (), tuple(dict.fromkeys(out)))


def _wrong_values(wrong, answer, rule: Rule, sol) -> list[tuple[Any, str, Fraction]]:
    """Known wrong values of an answer with their feedback and credit, in the order grading tries them."""
    from examsolve import grading
    from examsolve.errors import ExamsolveError

    out: list = []
    spec = wrong.spec
    for i, mistake in enumerate(spec.model.mistakes):
        value = None
        try:
            if answer.name in mistake.answers:
                from examsolve.spec_graph import spec_expr
                value = spec_expr(spec, mistake.answers[answer.name], ("mistakes", i, "answers", answer.name), {})
            elif mistake.set:
                from examsolve.variants import resolve_path
                changes = {resolve_path(wrong.data, k, spec.key_loc("mistakes", i, "set", k), create=True): v
                           for k, v in mistake.set.items()}
                other = wrong._solve(changes)
                value = grading._answer(other, answer.name) if other is not None else None
        except ExamsolveError as err:
            grading._reraise_run_budget(err)
        if value is not None:
            out.append((value, mistake.feedback, grading.credit_of(mistake)))
    from examsolve.explain import update_slips     # a slipped update, as keys and grading name it

    out += [(v, fb, Fraction(0)) for v, fb in _convention_values(wrong, answer, sol) + _slips(answer.value)
            + update_slips(sol, answer)]
    return out


def _convention_values(wrong, answer, sol) -> list:
    """The answer under each other value of a convention the solution used."""
    from examsolve import grading

    out = []
    for path, now, alt in grading._other_conventions(wrong.spec.model, grading._notes(sol.steps)):
        other = wrong._solve({path: alt})
        value = grading._answer(other, answer.name) if other is not None else None
        if value is not None:
            out.append((value, f"matches the answer under the convention {path[-1]} = {alt}; this problem uses {now}"))
    return out


def _slips(v: Any) -> list:
    """Sign flipped, half, twice, transposed: grading's slips, as values."""
    from examsolve import grading

    if isinstance(v, Tensor) and not all(is_real_number(x) for x in v.items):
        return []
    if not isinstance(v, Tensor) and not is_real_number(v):
        return []
    out = [(grading._map(lambda x: -x, v), "the sign is flipped: check the sign of a derivative or of the update"),
           (grading._map(lambda x: x / 2, v), "half the correct value: a factor 2 was lost"),
           (grading._map(lambda x: 2 * x, v), "twice the correct value: a ½ in the loss was left out, or a term "
            "was counted twice")]
    if isinstance(v, Tensor) and len(v.shape) == 2 and 1 not in v.shape:
        from examsolve.expr import transpose
        out.append((transpose(v), "the transpose of the correct matrix: check the layout"))
    return out
