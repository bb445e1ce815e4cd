"""Grading a student's answers against a spec's exact solution: tolerances, points, known wrong paths."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from examsolve import budget, quantity
from examsolve.steps import Answer
from examsolve.errors import ExamsolveError, Loc, SpecError
from examsolve.compare import (FEW_FIGURES, INFINITY, check_valid, MIN_SIG, Rule, _infinity, _norm, _primes, _round, _sig,  # noqa: F401
                               agrees, as_text, rule_for, truncated)
from examsolve.tensor import Tensor
from examsolve.values import exact_str, same


@dataclass(frozen=True)
class Mark:
    """One answer's grade."""

    name: str
    given: str
    expected: str
    correct: bool
    points: Fraction
    max_points: Fraction
    feedback: str = ""
    rule: str = ""
    shown: str = ""      # the expected value as the report prints it (expected stays exact, for JSON)


@dataclass(frozen=True)
class Report:
    """Every answer's mark for one spec."""

    file: str
    title: str
    marks: tuple[Mark, ...]

    @property
    def answered(self) -> tuple[Mark, ...]:
        return tuple(m for m in self.marks if m.given != "")


def grade_file(path: str, pairs=(), answers_file: str | None = None, exact: bool = False, rel: float | None = None,
               abs_: float | None = None, sig: int | None = None, follow_through: bool = False) -> Report:
    """Load, solve and grade: answers from NAME=VALUE pairs and/or a YAML file."""
    from examsolve import load_spec, solve
    from examsolve.spec import read_yaml

    for option, amount in (("--rel", rel), ("--abs", abs_)):
        if amount is not None and not (isinstance(amount, (int, float)) and math.isfinite(amount) and amount >= 0):
            raise SpecError(f"{option} {amount} is not a tolerance; give a number ≥ 0, e.g. {option} 1e-3")
    spec = load_spec(path)
    sol = solve(spec)
    given: dict[str, tuple[Any, str]] = {}
    for pair in pairs:
        name, eq, text = pair.partition("=")
        if not eq:
            raise SpecError(f"--answer '{pair}' needs the form NAME=VALUE, e.g. 'dL/dw=[-8,-4]'")
        given[name.strip()] = (_read(text.strip(), f"--answer {name.strip()}"), text.strip())
    if answers_file:
        data, _, _ = read_yaml(_read_text(answers_file, "the answers file"), answers_file)
        if not isinstance(data, dict):
            raise SpecError("an answers file is a YAML mapping 'answer name: value'", Loc(answers_file))
        given.update({str(k): (v, v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()})
    override = (Rule("exact") if exact else Rule("rel", rel) if rel is not None else Rule("abs", abs_)
                if abs_ is not None else Rule("sig", sig) if sig is not None else None)
    return grade(spec, sol, given, override, follow_through=follow_through)


def _read_text(path: str, what: str) -> str:
    """A UTF-8 file of at most spec.MAX_BYTES bytes (never more is read: /dev/zero has no end); SpecError else."""
    from examsolve.spec import MAX_BYTES

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise SpecError(f"cannot read {what} ({e.strerror or e}); check the path", Loc(path)) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(f"{what} is larger than {MAX_BYTES} bytes", Loc(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"{what} is not UTF-8 text (byte {e.start}); save it as UTF-8", Loc(path)) from None


def _read(text: str, where: str) -> Any:
    """A value typed on the command line, read as YAML (floats keep their text); plain text if it is not YAML."""
    from examsolve.spec import read_yaml

    try:
        return read_yaml(text, where)[0]
    except ExamsolveError:
        return text


def grade(spec, sol, given: dict, override: Rule | None = None, wrong_paths: "WrongPaths | None" = None,
          follow_through: bool = False) -> Report:
    """Marks for every answer of the solution; `given` maps answer names to (value, text as written);
    wrong_paths: one shared across the students of a class (its re-solved specs are cached);
    follow_through: a wrong answer right for the student's own earlier values gets its points."""
    names = [a.name for a in sol.answers]
    for name in given:
        if name not in names and not _is_quantity(sol, name):
            raise SpecError(f"'{name}' names no answer or quantity{_hint(sol, names, name)}; "
                            "answers are: "
                            + ", ".join(names) + " (`examsolve run FILE --answers all` lists every quantity)")
    _check_names(spec, names, sol)
    wrong_paths = wrong_paths or WrongPaths(spec)
    marks = []
    for a in _graded(spec, sol, given):
        budget.check("grading")
        worth = _points(spec, a.name)
        if a.name not in given:
            marks.append(Mark(a.name, "", exact_str(a.value), False, Fraction(0), worth, "not answered"))
            continue
        raw, text = given[a.name]
        rule = override or _rule(spec, a.name)
        try:
            ok, why = agrees(raw, text, a.value, rule, spec, sol, a.name)
            if not ok and a.valid is not None:
                names = dict(sol.graph.names()) if sol.graph is not None else {}
                ok, why = check_valid(spec, _paired(a, given), raw, names)
        except ExamsolveError as err:
            _reraise_run_budget(err)
            ok, why = False, f"could not read the answer: {err.message}"
        points, feedback = worth if ok else Fraction(0), why
        # a wrong path says more than "give at least 3 significant figures" when it gives the value written
        if not ok and (not why or why == FEW_FIGURES.format(MIN_SIG)):
            found = wrong_paths.match(a, raw, text, rule, sol)
            if found[0]:
                points, feedback = _known(found, worth)
        marks.append(Mark(a.name, text, exact_str(a.value), ok, points, worth, feedback, str(rule),
                          expected_text(a.value)))
    if follow_through:
        from examsolve.follow_through import carry

        marks = carry(spec, sol, given, marks, wrong_paths, lambda name: override or _rule(spec, name))
    return Report(sol.file, sol.title, tuple(marks))


def _known(found: tuple[str, Fraction], worth: Fraction) -> tuple[Fraction, str]:
    """Points and feedback of a wrong answer on a known path: the mistake's credit: share of the points."""
    feedback, credit = found
    if not credit:
        return Fraction(0), feedback
    return worth * credit, f"{feedback} (partial credit: {_num(credit * 100)} % of the points)"


def _paired(a: Answer, given: dict) -> Answer:
    """a, whose validity check also sees the student's other answers if it takes `others` (weights with a bias)."""
    import dataclasses
    import functools
    import inspect

    if "others" not in inspect.signature(a.valid).parameters:
        return a
    others = {name: raw for name, (raw, _) in given.items()}
    return dataclasses.replace(a, valid=functools.partial(a.valid, others=others))


def _is_quantity(sol, name: str) -> bool:
    try:
        quantity.lookup(sol.quantities, name, sol.graph)
        return True
    except KeyError:
        return False


def _graded(spec, sol, given: dict) -> list:
    """The answers, then every quantity that is not an answer but is answered, or has points: or tolerance:."""
    out = list(sol.answers)
    seen = {a.name for a in out}
    m = spec.model
    for name in list(given) + list(m.points) + [n for n in m.tolerance if n != "default"]:
        if name not in seen and _is_quantity(sol, name):
            out.append(Answer(name, quantity.lookup(sol.quantities, name, sol.graph)))
            seen.add(name)
    return out


def _check_names(spec, names: list, sol) -> None:
    """SpecError where points:, tolerance: or mistakes: name neither an answer nor a quantity of the solution."""
    m = spec.model
    places = [(("points", n), n) for n in m.points] + [(("tolerance", n), n) for n in m.tolerance if n != "default"]
    places += [(("mistakes", i, "answers", n), n) for i, x in enumerate(m.mistakes) for n in x.answers]
    for path, name in places:
        if name not in names and not _is_quantity(sol, name):
            raise SpecError(f"{path[0]}: '{name}' names no answer{_hint(sol, names, name)}; answers are: "
                            + ", ".join(names), spec.key_loc(*path))


def _hint(sol, answers: list, name: str) -> str:
    """'; did you mean ...?' for a name of no answer or quantity: an answer's name first."""
    return quantity.hint(name, list(dict.fromkeys(list(sol.quantities) + answers)), answers)


def _points(spec, name: str) -> Fraction:
    """The points of one answer (1 unless points: says otherwise)."""
    from examsolve.variants import as_fraction

    raw = spec.model.points.get(name, 1)
    p = as_fraction(raw)
    if p is None or p < 0:
        raise SpecError(f"points: '{raw}' is not a number ≥ 0, e.g. 2 or 1/2", spec.key_loc("points", name))
    return p


_rule = rule_for


def _reraise_run_budget(err: Exception) -> None:
    """A BudgetError for the whole run (time, memory) goes on; a too-large value is only a bad answer."""
    if isinstance(err, budget.BudgetError) and err.kind in ("time", "memory"):
        raise err


# what solving a changed spec never reads: dropped, so 600 mistakes are not parsed again 600 times
_NOT_SOLVED = ("mistakes", "points", "tolerance", "statement")


class WrongPaths:
    """Known wrong answers: the spec's `mistakes:`, other conventions, sign / factor-2 / transpose slips, and
    the value of another quantity of the solution."""

    def __init__(self, spec):
        from examsolve.spec import read_yaml

        self.spec = spec
        self._solved: dict = {}
        self._family: list | None = None
        self.data = read_yaml(spec.text or _read_text(spec.file, "the spec"), spec.file)[0]

    def _solve(self, changes: dict):
        """The spec solved with values replaced at paths (None when that cannot be solved)."""
        from examsolve import solve
        from examsolve.variants import modified

        key = tuple(sorted((str(k), str(v)) for k, v in changes.items()))
        if key not in self._solved:      # each distinct set of changes is solved once per run
            budget.check("grading: solving the spec with a known mistake")
            try:
                self._solved[key] = solve(modified(self.data, changes, self.spec.file, drop=_NOT_SOLVED)[1])
            except ExamsolveError as err:
                _reraise_run_budget(err)
                self._solved[key] = None
        return self._solved[key]

    def _family_paths(self, sol) -> list:
        """The family's own known wrong paths, [(feedback, {quantity name: value})], from the function
        wrong_paths(spec, sol, resolve) of its module (families/lr.py: the bound 2/λ_min; network.py: groups
        forgotten, re-solved through resolve(changes)); computed once."""
        import importlib

        if self._family is None:
            try:
                module = importlib.import_module(f"examsolve.families.{self.spec.model.kind}")
            except ImportError:
                module = None
            paths = getattr(module, "wrong_paths", None)
            try:
                self._family = list(paths(self.spec, sol, self._solve)) if paths else []
            except ExamsolveError as err:
                _reraise_run_budget(err)
                self._family = []
        return self._family

    def explain(self, answer, raw, text, rule: Rule, sol, slips: bool = True) -> str:
        """Feedback naming the wrong path the student's answer matches, or ''."""
        return self.match(answer, raw, text, rule, sol, slips)[0]

    def match(self, answer, raw, text, rule: Rule, sol, slips: bool = True) -> tuple[str, Fraction]:
        """(feedback, credit) of the wrong path the student's answer matches; ('', 0) when none does."""
        from examsolve.spec_graph import spec_expr
        from examsolve.variants import resolve_path

        def matches(value) -> bool:
            try:
                return value is not None and not same(value, answer.value) and agrees(
                    raw, text, value, rule, self.spec, sol, answer.name)[0]
            except (ExamsolveError, TypeError, ValueError) as err:
                _reraise_run_budget(err)
                return False

        for i, mistake in enumerate(self.spec.model.mistakes):
            budget.check("grading: known mistakes")
            if answer.name in mistake.answers:
                try:
                    value = spec_expr(self.spec, mistake.answers[answer.name], ("mistakes", i, "answers",
                                                                                answer.name), {})
                except ExamsolveError as err:
                    _reraise_run_budget(err)
                    value = None
                if matches(value):
                    return mistake.feedback, credit_of(mistake)
            if not mistake.set:
                continue
            changes = {resolve_path(self.data, key, self.spec.key_loc("mistakes", i, "set", key), create=True): v
                       for key, v in mistake.set.items()}
            other = self._solve(changes)
            if other is not None and matches(_answer(other, answer.name)):
                return mistake.feedback + _first_difference(sol, other), credit_of(mistake)
        for feedback, values in self._family_paths(sol):
            try:
                value = quantity.lookup(values, answer.name)
            except KeyError:
                continue
            if matches(value):
                return feedback, Fraction(0)
        for path, now, alt in _other_conventions(self.spec.model, _notes(sol.steps)):
            other = self._solve({path: alt})
            # an answer named after the convention ("operations (macs)") is found under the other's name
            renamed = answer.name.replace(str(now), str(alt)) if str(now) in answer.name else answer.name
            if other is not None and (matches(_answer(other, answer.name)) or matches(_answer(other, renamed))):
                return (f"matches the answer under the convention {path[-1]} = {alt}; this problem uses {now}",
                        Fraction(0))
        if not slips:
            return "", Fraction(0)
        v = answer.value
        cut = truncated(raw, v) if rule.how == "written" else ""
        if cut:
            return f"that is the answer {cut}", Fraction(0)
        slips = [(lambda x: -x, "the sign is flipped: check the sign of a derivative or of the update "
                  "(θ ← θ − α·g)"),
                 (lambda x: x / 2, "half the correct value: a factor 2 was lost (the ½ convention in the loss, "
                  "L = ½(y − t)², or the 2 from differentiating a square)"),
                 (lambda x: 2 * x, "twice the correct value: a ½ in the loss was left out, or a term was "
                  "counted twice")]
        for f, why in slips:
            if matches(_map(f, v)):
                return why, Fraction(0)
        if isinstance(v, Tensor) and len(v.shape) == 2 and 1 not in v.shape:
            from examsolve.expr import transpose

            if matches(transpose(v)):
                return "the transpose of the correct matrix: check the layout (row i belongs to output i)", Fraction(0)
        from examsolve.explain import entries, other_value, sum_part, update_slip   # as a disagreeing key is explained

        part = update_slip(self.spec, sol, answer, raw, text, rule) or sum_part(self.spec, sol, answer, raw, text, rule)
        if part:
            return f"that is {part}", Fraction(0)
        other = other_value(self.spec, sol, answer, raw, text, rule)
        if other or not isinstance(v, Tensor):
            return (f"that is the value of {other}, not of {answer.name}" if other else ""), Fraction(0)
        # which entries are wrong, each explained as a scalar answer would be (no partial credit per entry)
        return entries(self.spec, sol, answer, raw, rule, False,
                       lambda e, leaf: self.explain(e, leaf, as_text(leaf), rule, sol)), Fraction(0)


def credit_of(mistake) -> Fraction:
    """A mistake's credit: as a fraction (0.5 is 1/2; 0.333… is 1/3, not a 53-bit binary fraction)."""
    return Fraction(str(mistake.credit)).limit_denominator(10_000)


def _other_conventions(model, used: str):
    """(path, current value, another value) for each convention the answer may depend on: the kink
    conventions a step used, and every family option marked as a convention (counting rule, update rule ...)."""
    from examsolve.spec import Conventions

    current = model.conventions
    for field, info in Conventions.model_fields.items():
        if f"convention {field}" in used:      # no kink met it: another value cannot change the answer
            for alt in getattr(info.annotation, "__args__", ()):
                if alt != getattr(current, field):
                    yield ("conventions", field), getattr(current, field), alt
    yield from _marked_conventions(model, ())


def _marked_conventions(model, prefix: tuple):
    """(path, current, another value) of every option marked as a convention, also in a nested block (pool:)."""
    from pydantic import BaseModel

    for field, info in type(model).model_fields.items():
        now = getattr(model, field)
        if (info.json_schema_extra or {}).get("convention"):
            for alt in _literal_values(info.annotation):
                if alt != now and alt is not None:
                    yield prefix + (field,), now, alt
        elif isinstance(now, BaseModel) and field != "conventions":
            yield from _marked_conventions(now, prefix + (field,))


def _literal_values(annotation) -> list:
    """The values of a Literal, also inside Optional[...]."""
    import typing

    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [v for a in typing.get_args(annotation) for v in _literal_values(a)]


def _notes(steps) -> str:
    """Every step note, joined: which conventions the solution applied."""
    return "\n".join(s.note + "\n" + _notes(s.substeps) for s in steps)


def _answer(sol, name: str) -> Any:
    """The value of an answer or quantity of a (re-solved) solution, None when it has none by that name."""
    value = next((a.value for a in sol.answers if a.name == name), None)
    if value is None and _is_quantity(sol, name):
        value = quantity.lookup(sol.quantities, name, sol.graph)
    return value


def _map(f, v):
    if isinstance(v, Tensor):
        return Tensor(v.shape, tuple(f(x) for x in v.items))
    return f(v) if isinstance(v, sympy.Expr) else None     # a set or classification has no sign slip


def _first_difference(right, wrong) -> str:
    """' (first wrong step: 2.3 L = ...)' where the wrong path's steps first part from the right ones."""
    from examsolve.renderers.lines import numbered
    from examsolve.renderers.printing import text

    for (num, _, a), (_, _, b) in zip(numbered(right.steps), numbered(wrong.steps)):
        if a.target is not None and (exact_str(a.value) != exact_str(b.value) or a.formula != b.formula):
            return f" (first wrong step: {num}, {text(a.target, right.names)})"
    return ""


def expected_text(v: Any) -> str:
    """The expected value for the report, as the renderers show it: exact when short (with ≈ and 6 significant
    figures beside a non-integer), the decimal alone for a float or a long exact form (-1.07365871208… is
    ≈ -1.07366)."""
    from examsolve.renderers.printing import decimal_text, too_long
    from examsolve.values import decimal, is_approx

    if decimal_text(v, 6) is None:          # an integer, a set, a classification, an expression: exact
        return exact_str(v)
    dec = str(v.map(lambda x: decimal(x, 6)).nested()).replace("'", "") if isinstance(v, Tensor) \
        else decimal(v, 6)
    if is_approx(v) or too_long(v):
        return "≈ " + dec
    exact = exact_str(v)
    return exact if exact == dec else f"{exact} ≈ {dec}"


def report_text(r: Report) -> str:
    """The marks as a plain table with feedback lines and a total."""
    lines = [f"{r.file}: {r.title}"]
    width = max([len(m.name) for m in r.marks] + [6])
    for m in r.marks:
        if not m.given:
            continue
        verdict = "right" if m.correct else "wrong" if not m.points else "carried" if m.points == m.max_points \
            else "part"
        lines.append(f"  {m.name:<{width}}  {verdict:<5}  {_num(m.points)}/{_num(m.max_points)}  given {m.given}"
                     + ("" if m.correct else f", expected {m.shown or m.expected}"))
        if m.feedback:
            lines.append(f"  {'':<{width}}  {m.feedback}")
    got = sum(m.points for m in r.marks)
    answered = r.answered
    most = sum(m.max_points for m in answered)
    total = sum(m.max_points for m in r.marks)
    missing = [m.name for m in r.marks if not m.given]
    lines.append(f"score: {_num(got)}/{_num(most)} on the {len(answered)} answer{'s' if len(answered) != 1 else ''}"
                 f" given; the problem has {_num(total)} point{'s' if total != 1 else ''}"
                 + (f" (not answered: {', '.join(missing)})" if missing else ""))
    return "\n".join(lines) + "\n"


def report_json(r: Report) -> str:
    """The marks as JSON for LMS import scripts."""
    return json.dumps({
        "file": r.file, "title": r.title,
        "points": _num(sum(m.points for m in r.marks)),
        "max_points_answered": _num(sum(m.max_points for m in r.answered)),
        "max_points": _num(sum(m.max_points for m in r.marks)),
        "answers": [{"name": m.name, "given": m.given or None, "expected": m.expected, "correct": m.correct,
                     "points": _num(m.points), "max_points": _num(m.max_points), "feedback": m.feedback,
                     "rule": m.rule or None} for m in r.marks],
    }, indent=2, ensure_ascii=False) + "\n"


def _num(p: Fraction) -> Any:
    return int(p) if p.denominator == 1 else float(p)
