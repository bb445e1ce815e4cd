"""The shared shape of a step line: target = formula = numbers = result, without repeats."""
from __future__ import annotations

from typing import Any, Callable


def chain(step, show: Callable[[Any], str], result: Callable[[Any], str]) -> list[str]:
    """The parts of `target = formula = substituted = value`, each shown once."""
    parts: list[str] = []
    for part in (step.formula, step.substituted):
        if part is None:
            continue
        s = show(part)
        if s and (not parts or s != parts[-1]):
            parts.append(s)
    if step.value is not None:
        r = result(step.value)
        if parts and parts[-1] in (r, show(step.value)):
            parts[-1] = r       # the numbers put in are already the result: show it once
        else:
            parts.append(r)
    return parts


def numbered(steps, prefix: str = "") -> list[tuple[str, int, Any]]:
    """Flatten steps depth-first as (number, depth, step): 1, 1.1, 1.2, 2, ..."""
    out = []
    for i, s in enumerate(steps, 1):
        num = f"{prefix}{i}"
        out.append((num, num.count("."), s))
        out.extend(numbered(s.substeps, num + "."))
    return out


def key_mark(answer) -> str:
    """'agrees with the key (rounded to 3 decimals)' / 'DISAGREES with the key: the key is half the answer' / ''."""
    if answer.agrees is None:
        return ""
    why = getattr(answer, "key_note", "")
    if answer.agrees:
        return "agrees with the key" + (f" ({why})" if why else "")
    return "DISAGREES with the key" + (f": {why}" if why else "")
