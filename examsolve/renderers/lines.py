"""The shared shape of a step line: target = formula = numbers = result, without repeats."""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable


def chain(step, show: Callable[[Any], str], result: Callable[[Any], str]) -> list[str]:
    """The parts of `target = formula = substituted = value`, each shown once."""
    parts: list[str] = []
    for part in (step.formula, brief(step.substituted)):
        if part is None:
            continue
        s = show(part)
        if s and (not parts or s != parts[-1]):
            parts.append(s)
    if step.value is not None:
        r = result(step.value)
        # the numbers put in are already the result: show it once, unless the result is only the decimal of
        # a formula too long to print as a result, which would drop the numbers from the line
        same = parts and parts[-1] == show(step.value)
        if parts and (parts[-1] == r or (same and (parts[-1] in r or getattr(step.value, "is_Atom", False)))):
            parts[-1] = r
        else:
            parts.append(r)
    return parts


LONG_FRACTION = 24      # digits of numerator and denominator together past which a fraction put in is a decimal


def brief(e: Any) -> Any:
    """The numbers put in, with each fraction too long to copy (Adam's 425259009679546882211105600970299/64000…)
    as its 10-digit decimal: the result after them stays exact. Only sums, products and powers are rebuilt
    (unevaluated), so the line keeps its shape."""
    import sympy

    if not isinstance(e, sympy.Basic):
        return e
    if e.is_Rational and not e.is_Integer and len(str(abs(e.p))) + len(str(e.q)) > LONG_FRACTION:
        return sympy.Float(e, 12)
    if isinstance(e, (sympy.Add, sympy.Mul, sympy.Pow)):
        args = [brief(a) for a in e.args]
        if any(a is not b for a, b in zip(args, e.args)):
            return e.func(*args, evaluate=False)
    return e


def related(parts: list[str], eq: str, approx: str, approx_sep: str = "") -> list[str]:
    """Each part after its relation: eq, or approx_sep where the part opens with its own approx sign (a
    decimal shown alone), so a line never reads '= ≈ 6.64'."""
    return [(approx_sep if p.startswith(approx) else eq) + p for p in parts]


APPROX = r"\approx"


def boxed(result: str) -> str:
    """'= \\boxed{result}' in LaTeX, or '\\approx \\boxed{decimal}' for a result that is only its decimal."""
    if result.startswith(APPROX + " "):
        return APPROX + " \\boxed{" + result[len(APPROX) + 1:] + "}"
    return "= \\boxed{" + result + "}"


def heading(step, target_text: str) -> str:
    """The title to show before `target = ...`: when it says what the line does not (the rule used, as in
    'm ← β₁m + (1 − β₁)g'), else '' ('Forward: u' only repeats the target; a formula already shows the rule)."""
    if step.target is None or step.formula is not None or not step.title:
        return ""
    return "" if _plain(step.title).endswith(_plain(target_text)) else step.title


def _plain(text: str) -> str:
    return re.sub(r"[\s_^(){}·*]", "", unicodedata.normalize("NFKC", text)).lower()


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
