"""A family's Solution from its steps and answers: the spec's key: checked against the answers it names."""
from __future__ import annotations

from typing import Any

import sympy

from examsolve import quantity
from examsolve.errors import SpecError
from examsolve.steps import Answer, Solution


def finish(spec, steps: list, answers: list, key_names: dict | None = None, **extra: Any) -> Solution:
    """A family's Solution: the spec's title and source, the answers with the keys checked (key_names are the
    names a key may use), and any other Solution fields."""
    m = spec.model
    table = quantity.collect(steps, answers)
    # a given value is a quantity a key may name too (s: -1 for a given s), after every computed one
    keyable = {**table, **{n: v for n, v in extra.get("given", ()) if n not in table}}
    checked = _distinct_labels(check_keys(spec, answers, key_names or {}, keyable))
    return Solution(kind=m.kind, title=m.title or m.kind, source=m.source, file=spec.file, steps=tuple(steps),
                    answers=tuple(checked), quantities=table, **extra)


def _distinct_labels(answers: list) -> list:
    """Answers whose typeset labels would look alike (two ∂y/∂x, two J) are shown by their names instead."""
    import dataclasses

    shown = [None if a.label is None else sympy.sstr(a.label) for a in answers]
    return [dataclasses.replace(a, label=None) if s is not None and shown.count(s) > 1 else a
            for a, s in zip(answers, shown)]


def check_keys(spec, answers: list, names: dict, table: dict | None = None) -> list:
    """The answers with the spec's top-level key: checked against each one it names; a key naming a quantity
    that is not an answer (a step's value, one element `h[1]`) adds that quantity to the answers, and one that
    names an answer another way (iterates.w1[2] for 'w1 after 2 steps') is checked on that answer."""
    import dataclasses

    out = list(answers)
    known = [a.name for a in out]
    keyed_by: dict[str, str] = {}       # answer -> the first key that checked it
    for keyed, raw in spec.model.key.items():
        same = next((a.name for a in out if keyed not in known and (keyed in a.also or table
                     and quantity.same_quantity(table, a.name, keyed))), None)
        name = keyed if same is None else same
        first = keyed_by.setdefault(name, keyed)
        if name not in known:
            try:
                out.append(Answer(name, quantity.lookup(table or {}, name, getattr(names, "graph", None))))
            except KeyError as err:
                raise SpecError(f"key: {err.args[0]}; answers are: " + ", ".join(known)
                                + " (`examsolve run FILE --answers all` lists every quantity)",
                                spec.key_loc("key", name)) from None
            known.append(name)
        i = known.index(name)
        a = out[i]
        from examsolve.compare import as_text, check_key

        k, agrees, why = check_key(spec, a, raw, names, ("key", keyed))   # grading's rule: digits written, tolerance:
        if first != keyed:
            # two keys for one answer (iterates.w[2] and 'w after 2 steps', rounded differently): each is
            # checked; the row shows the first unless a later one disagrees, so no wrong key hides behind a right one
            _second_key_rounded(spec, first, keyed, name, table or {}, agrees)
            if not (a.agrees is not False and agrees is False):
                continue
            if a.agrees is True:
                why = f"{why}; the key '{first}' agrees" if why else f"the key '{first}' agrees"
        out[i] = dataclasses.replace(a, key=k, agrees=agrees, key_note=why, key_text=as_text(raw))
    return out


def _second_key_rounded(spec, first: str, keyed: str, name: str, table: dict, agrees: bool) -> None:
    """A SpecError at the second of two keys for one answer when it is no answer of its own but the next
    quantity of that name exists ('w after 2 steps (2)' of a second update): the key was likely meant for it."""
    from examsolve.compare import as_text

    key = spec.model.key
    if agrees or as_text(key[first]) == as_text(key[keyed]):
        return
    later = next((f"{n} (2)" for n in (keyed, first) if f"{n} (2)" in table), "")
    if later:
        raise SpecError(f"key: '{first}' and '{keyed}' both name the answer '{name}' and disagree; the next "
                        f"quantity of that name is '{later}'", spec.key_loc("key", keyed))
