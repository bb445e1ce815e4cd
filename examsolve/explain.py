"""Why an official key disagrees: it is another value of this solution, a known mistake, or another convention.

other_value also serves grading: a wrong student answer that is another quantity's value is told so."""
from __future__ import annotations

import contextvars
import dataclasses
from typing import Any, Callable

import sympy

from examsolve import budget
from examsolve.compare import (KEY_MIN_SIG, MIN_SIG, TOO_FEW, Rule, _leaves, _list_text, as_text, check_key, compare,
                               entry_agrees, rule_for)
from examsolve.errors import ExamsolveError
from examsolve.quantity import kind_of
from examsolve.tensor import Tensor
from examsolve.values import same

_BUSY = contextvars.ContextVar("explaining_keys", default=False)   # re-solving for an explanation never explains
MAX_OTHERS = 2000     # quantities tried as "the key is the value of ..."
MAX_RUN = 6           # of a longer sum, runs of up to this many first or last terms are tried
MAX_LISTED = 3        # disagreeing entries of a vector or matrix named (and explained) one by one
LEARNING_RATES = ("alpha", "eta", "lr")     # the learning rate's symbol in an update step's formula


def explain_keys(spec, sol) -> Any:
    """The solution with each disagreeing key's note saying which wrong path gives the key, when one does;
    a key right only to its 1 figure (0.1 for 0.115) is flagged when another value gives it (0.1 exactly)."""
    todo = [a for a in sol.answers if a.agrees is False or _coarse(a)]
    if not todo or _BUSY.get():
        return sol
    token = _BUSY.set(True)
    paths: list = []    # one grading.WrongPaths for every key: the specs it re-solves are solved once
    try:
        answers = [_explained(spec, sol, a, paths) if a in todo else a for a in sol.answers]
    finally:
        _BUSY.reset(token)
    return dataclasses.replace(sol, answers=tuple(answers))


def _explained(spec, sol, a, paths: list) -> Any:
    raw = key_raw(spec, sol, a.name)
    if raw is None:                          # a key inside an ask: as written (its digits count), else exactly
        from examsolve.values import exact_str

        raw = a.key_text or exact_str(a.key)
    why = _key_why(spec, sol, a, raw, paths)
    return dataclasses.replace(a, agrees=False, key_note=why) if why else a


def _key_why(spec, sol, a, raw: Any, paths: list) -> str:
    """Why the key raw of answer a disagrees (or agrees only to 1 figure), or '': a wrong path, a slipped
    update, part of a sum, another value of the solution; for a vector or matrix, else, the entries that
    disagree, each explained so."""
    # another convention or a known mistake says more than a slip ("half the answer"); another value of the
    # solution more than "needs 2 significant figures"
    why = _wrong_path(spec, sol, a, raw, paths)
    if why or not (_coarse(a) or not a.key_note or "significant" in a.key_note):
        return why
    text, rule = as_text(raw), rule_for(spec, a.name)
    slip = update_slip(spec, sol, a, raw, text, rule, key=True)
    part = "" if slip else sum_part(spec, sol, a, raw, text, rule, key=True)
    other = "" if slip or part else other_value(spec, sol, a, raw, text, rule, key=True)
    if slip or part or other:
        return f"the key is {slip or part}" if slip or part else \
            f"the key is the value of {_zero_based(other, sol)}, not of {a.name}"
    if a.agrees is False and isinstance(a.value, Tensor):
        return entries(spec, sol, a, raw, rule, True, lambda e, leaf: _entry_why(spec, sol, e, leaf, paths))
    return ""


def _zero_based(name: str, sol) -> str:
    """An element's 1-based name (y_3, W_12) with its 0-based index as keys write it, 'y_3 (y[2])', when it is an
    element of a vector or matrix quantity of the solution; else the name as it is."""
    import re

    from examsolve.tensor import element_suffix, indices

    m = re.match(r"^(.+?)_([\d,]+)$", name)
    whole = sol.quantities.get(m.group(1)) if m else None
    if not isinstance(whole, Tensor):
        return name
    at = next((i for i in indices(whole.shape) if element_suffix(i, whole.shape) == m.group(2)), None)
    return name if at is None else f"{name} ({m.group(1)}{''.join(f'[{j}]' for j in at)})"


def _entry_why(spec, sol, e, raw: Any, paths: list) -> str:
    """Why the key raw of one entry e of a vector or matrix answer disagrees: its slip, or _key_why's reasons."""
    names = sol.graph.names() if sol.graph is not None else {}
    try:
        _, agrees, note = check_key(spec, e, raw, names)
    except ExamsolveError as err:
        if isinstance(err, budget.BudgetError) and err.kind in ("time", "memory"):
            raise
        return ""
    return _key_why(spec, sol, dataclasses.replace(e, agrees=agrees, key_note=note), raw, paths) or note


def entries(spec, sol, a, raw: Any, rule: Rule, key: bool, why: Callable[[Any, Any], str]) -> str:
    """'entry [1][0]: key -0.8238, solved ≈ -1.17616 — <why>; the other 3 entries agree' for a vector or
    matrix a written entry by entry (a key, or a student's answer) of which some entries disagree; why(entry,
    entry as written) explains one (an Answer named a.name[1][0]). '' when the entries do not line up, or when
    none agrees and none is explained (then the whole is simply another value)."""
    from examsolve.renderers.printing import value_text
    from examsolve.steps import Answer
    from examsolve.tensor import indices

    names = sol.graph.names() if sol.graph is not None else {}
    try:
        ok = entry_agrees(raw, a.value, rule, spec, names, a.name, KEY_MIN_SIG if key else MIN_SIG, key)
    except (ExamsolveError, TypeError, ValueError, AttributeError) as err:
        if isinstance(err, budget.BudgetError) and err.kind in ("time", "memory"):
            raise
        return ""
    if ok is None or all(ok):
        return ""
    leaves, where = _leaves(_list_text(raw)), indices(a.value.shape)
    wrong = [i for i, right in enumerate(ok) if not right]
    parts, explained = [], False
    for i in wrong[:MAX_LISTED]:
        at = "".join(f"[{j}]" for j in where[i])
        because = why(Answer(a.name + at, a.value.items[i]), leaves[i])
        explained = explained or bool(because)
        parts.append(f"{at}: {'key' if key else 'given'} {as_text(leaves[i])}, {'solved' if key else 'expected'} "
                     f"{value_text(a.value.items[i], 6, sol.names)}" + (f" — {because}" if because else ""))
    right = ok.count(True)
    if not right and not explained:
        return ""
    more = f"; and {len(wrong) - MAX_LISTED} more" if len(wrong) > MAX_LISTED else ""
    rest = ("; no entry agrees" if not right else "; the other entry agrees" if right == 1
            else f"; the other {right} entries agree")
    return ("entry " if len(wrong) == 1 else "entries ") + "; ".join(parts) + more + rest


# ---- a slipped gradient-descent update ----------------------------------------------------------------------

def update_slip(spec, sol, a, raw: Any, text: str, rule: Rule, key: bool = False) -> str:
    """'W1₂₁⁽⁰⁾ + α·∂L/∂W1₂₁ ≈ -0.823841: the step α·∂L/∂W1₂₁ added instead of subtracted (θ ← θ − α·g)' when
    a wrong value (a key, or a student's answer to a) is one of update_slips' values; else ''."""
    names = dict(sol.graph.names()) if sol.graph is not None else {}
    return next((what for value, what in update_slips(sol, a)
                 if not _same(value, a.value) and _agrees(spec, names, raw, text, value, rule, a.name, key)), "")


def update_slips(sol, a) -> list[tuple[Any, str]]:
    """(wrong value, what it is) of the known slips of a gradient-descent update θ − α·g: θ + α·g (the step
    added instead of subtracted) and θ − g (the learning rate left out), for an answer that is the value of an
    update step the solution shows (any family, by the step's formula), or a vector or matrix of them (every
    entry slipped alike); [] for any other answer. Keys, grading and the exports' wrong answers all use it."""
    from examsolve.renderers.printing import value_text

    by_name, by_value = _descents(sol)
    tensor = isinstance(a.value, Tensor)
    items = a.value.items if tensor else (a.value,)
    found = [by_value.get(x) for x in items] if tensor else [by_name.get(a.name) or by_value.get(a.value)]
    if not items or None in found:
        return []
    slips = [_slips(numbers, _texts(formulas, sol.names)) for formulas, numbers in found]
    if not tensor:
        return [(value, f"{shown} {_equals(value_text(value, 6, sol.names))}: {what}")
                for value, shown, what in slips[0]]
    # one feedback for every entry (an export gives it to each entry's blank): in θ, α, g, with the first entry
    return [(Tensor(a.value.shape, tuple(s[j][0] for s in slips)), f"{shown} for every entry (as {first}): {what}")
            for j, ((_, shown, what), (_, first, _)) in enumerate(zip(_slips((0, 0, 0), ("θ", "α", "g")), slips[0]))]


def _texts(formulas: tuple, names: dict) -> tuple[str, str, str]:
    """θ, α and g of an update step's formula as text (g in parentheses when it is a sum)."""
    from examsolve.renderers.printing import text as shown

    th, al, gr = (shown(x, names) for x in formulas)
    return th, al, f"({gr})" if isinstance(formulas[2], sympy.Add) else gr


def _slips(numbers: tuple, texts: tuple) -> list[tuple[Any, str, str]]:
    """(value, formula, what) of θ + α·g and θ − g, from the numbers (θ, α, g) of an update step and their texts."""
    (theta, lr, g), (th, al, gr) = numbers, texts
    rule = "(θ ← θ − α·g)"
    return [(theta + lr * g, f"{th} + {al}·{gr}", f"the step {al}·{gr} added instead of subtracted {rule}"),
            (theta - g, f"{th} − {gr}", f"the learning rate {al} left out {rule}")]


def _descents(sol) -> tuple[dict, dict]:
    """The update steps θ − α·g of a solution, as _descent reads them: by target name and by value (the first
    step of each)."""
    from examsolve.quantity import target_name
    from examsolve.renderers.lines import numbered

    by_name: dict = {}
    by_value: dict = {}
    for _, _, step in numbered(sol.steps):
        found = _descent(step) if step.target is not None else None
        if found is not None:
            by_name.setdefault(target_name(step.target), found)
            by_value.setdefault(step.value, found)
    return by_name, by_value


def _descent(step) -> tuple | None:
    """((θ, α, g) as in the formula, (θ, α, g) as numbers) of a step shown as θ − α·g, its formula and its
    numbers built alike, factor for factor (a gradient-descent update, in any family); None for other steps."""
    f, s = step.formula, step.substituted
    if not (isinstance(f, sympy.Add) and isinstance(s, sympy.Add) and len(f.args) == len(s.args) == 2):
        return None
    ff, sf = _factors(f.args[1]), _factors(s.args[1])
    lr = [i for i, x in enumerate(ff) if isinstance(x, sympy.Symbol) and x.name in LEARNING_RATES]
    if len(ff) < 3 or len(ff) != len(sf) or ff[0] != -1 or sf[0] != -1 or len(lr) != 1:
        return None
    rest = [j for j in range(1, len(ff)) if j != lr[0]]
    formulas = (f.args[0], ff[lr[0]], sympy.Mul(*[ff[j] for j in rest], evaluate=False))
    numbers = tuple(x.doit() for x in (s.args[0], sf[lr[0]], sympy.Mul(*[sf[j] for j in rest])))
    return (formulas, numbers) if all(getattr(x, "is_number", False) for x in numbers) else None


def _factors(e: Any) -> list:
    """The factors of a product in the order it was built (nested products flattened); [e] for anything else."""
    return [f for x in e.args for f in _factors(x)] if isinstance(e, sympy.Mul) else [e]


def _agrees(spec, names: dict, raw: Any, text: str, value: Any, rule: Rule, name: str, key: bool) -> bool:
    """Whether the value written agrees with value: compared as keys are (key), else as grading does."""
    try:
        return compare(raw, text, value, rule, spec, names, name, min_sig=KEY_MIN_SIG if key else MIN_SIG,
                       integers_exact=key).ok
    except (ExamsolveError, TypeError, ValueError, AttributeError) as err:
        if isinstance(err, budget.BudgetError) and err.kind in ("time", "memory"):
            raise
        return False


def key_raw(spec, sol, name: str) -> Any:
    """The top-level key: of an answer as written, also under another name of it (iterates.w1[2]); else None."""
    from examsolve.quantity import same_quantity

    if name in spec.model.key:
        return spec.model.key[name]
    also = next((a.also for a in sol.answers if a.name == name), ())
    return next((raw for k, raw in spec.model.key.items() if k in also or same_quantity(sol.quantities, name, k)),
                None)


def _coarse(a) -> bool:
    """A key that agrees only to the 1 figure it was written with (compare.check_key's TOO_FEW note)."""
    return a.agrees is True and a.key_note.endswith(TOO_FEW)


def other_value(spec, sol, a, raw: Any, text: str, rule: Rule, key: bool = False) -> str:
    """The name of another quantity of the solution that a wrong value (a key, or a student's answer to a)
    agrees with, or ''. key: compared as keys are (2 figures enough, integers exact), else as grading does."""
    names = dict(sol.graph.names()) if sol.graph is not None else {}
    given = _given(raw, spec, names, rule)
    for n, (name, value) in enumerate(sol.quantities.items()):
        if n >= MAX_OTHERS:
            break
        if name == a.name or kind_of(value) != kind_of(a.value) or not _near(given, value) or _same(value, a.value):
            continue
        budget.check("checking keys" if key else "grading")
        if _agrees(spec, names, raw, text, value, rule, name, key):
            return name
    return ""


def sum_part(spec, sol, a, raw: Any, text: str, rule: Rule, key: bool = False) -> str:
    """'only the last term, ∂L/∂h₃·∂h₃/∂w = …, of the sum ∂L/∂w = … (step 3.5); the full sum is …' when a wrong
    value (a key, or a student's answer to a) is one term, or the first or last terms, of a sum that a step
    shows for a's quantity (a shared weight's gradient summed over time steps, over consumers); for a vector or
    matrix, the same term(s) of every entry's sum; else ''."""
    from examsolve.renderers.lines import numbered
    from examsolve.renderers.printing import text as shown, value_text

    names = dict(sol.graph.names()) if sol.graph is not None else {}
    given = _given(raw, spec, names, rule)

    def fits(value) -> bool:
        """The value written agrees with value, which is not a's own."""
        return _near(given, value) and not _same(value, a.value) and _agrees(spec, names, raw, text, value, rule,
                                                                             a.name, key)

    def of(number, step) -> str:
        whole = " + ".join(shown(t, sol.names) for t in _terms(step.formula, step))
        target = shown(step.target, sol.names)
        return f"{target} = {whole} (step {number})" if len(whole) <= 160 else f"{target} (step {number})"

    steps = numbered(sol.steps)
    if isinstance(a.value, Tensor):
        found = _entry_sums(a, steps)
        parts = [_parts(step) for _, step in found]
        for j, (what, _, _) in enumerate(parts[0] if parts else ()):
            budget.check("checking keys" if key else "grading")
            value = Tensor(a.value.shape, tuple(p[j][2] for p in parts))
            if fits(value):
                return (f"only {what} of each entry's sum, {value_text(value, 6, sol.names)}, as in "
                        f"{of(*found[0])}; the full sums are {value_text(a.value, 6, sol.names)}")
        return ""
    if isinstance(a.value, str) or not getattr(a.value, "is_number", False):
        return ""
    for number, step in _sum_steps(sol, a, steps):
        budget.check("checking keys" if key else "grading")
        for what, terms, value in _parts(step):
            if fits(value):
                return (f"only {what}, {' + '.join(shown(t, sol.names) for t in terms)} "
                        f"{_equals(value_text(value, 6, sol.names))}, of the sum {of(number, step)}; "
                        f"the full sum is {value_text(step.value, 6, sol.names)}")
    return ""


def _entry_sums(a, steps: list) -> list:
    """(number, step) of each entry's sum of a vector or matrix answer (dL/dw_1, dL/dw_2 for dL/dw), when every
    entry has one with as many terms (a shared weight over the same time steps); else []."""
    from examsolve.quantity import target_name
    from examsolve.tensor import element_suffixes

    sums = {target_name(s.target): (n, s) for n, _, s in steps if _is_sum(s)}
    found = [sums.get(f"{a.name}_{suffix}") for suffix in element_suffixes(a.value.shape)]
    if None in found or len({len(s.substituted.args) for _, s in found}) != 1:
        return []
    return found


def _is_sum(step) -> bool:
    """A step that shows its value as a sum of several terms, all written out (a float-path step's … stands
    for terms it does not show, so no run of its terms is known)."""
    from examsolve.floatpath import ELIDED

    return step.target is not None and isinstance(step.substituted, sympy.Add) and \
        len(step.substituted.args) > 1 and ELIDED not in step.substituted.args


def _equals(value: str) -> str:
    """'= 32', or '≈ 0.00809207' for a value shown by its decimal alone."""
    return value if value.startswith("≈") else f"= {value}"


def _sum_steps(sol, a, steps: list) -> list:
    """(number, step) of the steps that show a's value as a sum of several terms: the step named after a first,
    then one of a's value whose name starts as a's does (dL/dw_1 for the key dL/dw[0]; not another quantity's sum
    that happens to have that value)."""
    from examsolve.quantity import target_name

    sums = [(n, s) for n, _, s in steps if _is_sum(s)]
    named = [(n, s) for n, s in sums if target_name(s.target) == a.name]
    seen, base = {n for n, _ in named}, a.name.split("[")[0]
    return named + [(n, s) for n, s in sums if n not in seen and _same(s.value, a.value)
                    and target_name(s.target).startswith(base)]


def _terms(e: Any, step) -> tuple:
    """The terms of a step's sum in the order the step built them: its formula's, else its numbers'."""
    n = len(step.substituted.args)
    return e.args if isinstance(e, sympy.Add) and len(e.args) == n else step.substituted.args


def _parts(step) -> list:
    """(what, formula terms, value) of each term, then of each run of the first, then of the last terms, but the
    whole; of a long sum (a fan-out of hundreds) only its first and last term and runs of up to MAX_RUN."""
    values = [t.doit() for t in step.substituted.args]
    terms, n = _terms(step.formula, step), len(values)
    short = n <= 2 * MAX_RUN
    runs = range(2, n if short else MAX_RUN + 1)
    out = [(("the first term" if i == 0 else "the last term" if i == n - 1 else f"term {i + 1} of {n}"),
            (terms[i],), values[i]) for i in (range(n) if short else (0, n - 1))]
    out += [(f"the first {k} terms", terms[:k], sympy.Add(*values[:k])) for k in runs]
    out += [(f"the last {k} terms", terms[n - k:], sympy.Add(*values[n - k:])) for k in runs]
    return out


def _given(raw: Any, spec, names: dict, rule: Rule) -> Any:
    """The value written, read once, for _near's quick test; None when _near must not judge (another rule,
    an expression in symbols, a value that does not read)."""
    from examsolve.compare import read

    if rule.how not in ("written", "exact"):
        return None
    try:
        value = read(raw, spec, names)
    except (ExamsolveError, TypeError, ValueError, AttributeError):
        return None
    items = [_float(x) for x in (value.items if isinstance(value, Tensor) else (value,))]
    return None if None in items else items


def _float(x: Any) -> float | None:
    """A real finite number as a float; None for anything else (a symbol, ∞, 10**1000)."""
    if not (isinstance(x, sympy.Basic) and x.is_number and x.is_finite and x.is_real):
        return None
    try:
        return float(x)
    except (OverflowError, TypeError, ValueError):
        return None


def _near(given: Any, value: Any) -> bool:
    """Whether value may agree with the given entries (as floats): as many entries, each within half its size
    plus 0.5 (a decimal right to its last digit is closer). Ruling a quantity out this way spares compare()
    on each of a ResNet's 950 quantities for every wrong answer."""
    if given is None:
        return True
    items = value.items if isinstance(value, Tensor) else (value,)
    if len(items) != len(given):
        return False
    for g, x in zip(given, map(_float, items)):
        if x is not None and abs(x - g) > 0.5 * abs(g) + 0.5:
            return False
    return True


def _wrong_path(spec, sol, a, raw, paths: list) -> str:
    """The spec's `mistakes:`, the other conventions and the family's slips, as grading finds them for a student's
    answer; paths holds the one WrongPaths of this solution once made."""
    from examsolve.grading import WrongPaths

    try:
        if not paths:
            paths.append(WrongPaths(spec))
        # the slips (sign, factor 2, transpose) were checked with the key already, in a key's words
        return paths[0].explain(a, raw, as_text(raw), rule_for(spec, a.name), sol, slips=False)
    except (ExamsolveError, OSError) as err:
        if isinstance(err, budget.BudgetError) and err.kind in ("time", "memory"):
            raise
        return ""


def _same(x, y) -> bool:
    try:
        return same(x, y)
    except (ExamsolveError, TypeError, ValueError, AttributeError):
        return False
