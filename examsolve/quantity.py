"""Quantities: every value a solution computes, under a stable name that keys, points and grading can address.

Names: an answer's name (`dL/dw`); a step's target as sympy prints it (`u`, `dL/du`, `w_1^(1)`); or a
dotted name a family gives (`layers.conv1.parameters`). One element of a vector or matrix is addressed
with 0-based indexes after the name: `h[1]`, `W[0][1]`; a row with fewer indexes: `W[0]`.
"""
from __future__ import annotations

import re
from math import prod
from typing import Any

from examsolve.errors import nearest
from examsolve.tensor import Tensor

_INDEXED = re.compile(r"^(.*?)((?:\[\s*\d+\s*\])+)$")


def collect(steps, answers) -> dict[str, Any]:
    """Every named value of a solution, in order: the answers, then each step's quantities and target."""
    table: dict[str, Any] = {}
    for a in answers:
        table.setdefault(a.name, a.value)
    _walk(steps, table)
    return table


def _walk(steps, table: dict) -> None:
    for s in steps:
        for name, value in s.quantities:
            _put(table, name, value)
        # a step that names its value does not add its target too ('f at (1, 0).H', not also 'H (2)')
        if s.target is not None and s.value is not None and not isinstance(s.value, str) \
                and not any(_same(v, s.value) for _, v in s.quantities):
            _put(table, target_name(s.target), s.value)
        _walk(s.substeps, table)


def target_name(target: Any) -> str:
    """The quantity name of a step's target: sympy's one-line form (u, dL/du, w_1^(1))."""
    from examsolve.values import exact_str

    return exact_str(target)


def _put(table: dict, name: str, value: Any) -> None:
    """Add name -> value; a different value under a name already taken gets 'name (2)', 'name (3)' ..."""
    if name not in table:
        table[name] = value
        return
    if _same(table[name], value):
        return
    n = 2
    while f"{name} ({n})" in table:
        if _same(table[f"{name} ({n})"], value):
            return
        n += 1
    table[f"{name} ({n})"] = value


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - sympy relationals and odd values: treat as different
        return False


def lookup(table: dict, name: str, graph: Any = None) -> Any:
    """The value of a quantity, or of one element of it (`W[0][1]`), or with the graph the gradient of a whole
    vector or matrix (group_gradient); KeyError with a hint when unknown."""
    if name in table:
        return table[name]
    same = iterate_value(table, name)
    if same is None:
        same = group_gradient(table, name, graph)
    if same is not None:
        return same
    # the longest name that exists, then the indexes after it: gates.z[1][0] is element 0 of gates.z[1]
    m = _INDEXED.match(name)
    if m:
        groups = re.findall(r"\[\s*\d+\s*\]", m.group(2))
        for cut in range(len(groups) - 1, -1, -1):
            base = m.group(1) + "".join(groups[:cut])
            whole = table[base] if base in table else iterate_value(table, base)    # v.w[2][0]: of v.w[2]
            if whole is not None:
                index = tuple(int(g.strip("[] ")) for g in groups[cut:])
                return element(whole, index, name)
    raise KeyError(f"'{name}' names no quantity{hint(name, list(table))}")


_GRADIENT = re.compile(r"^d(.+?)/d(.+)$")      # 'dL/dz2': of L with respect to z2


def group_gradient(table: dict, name: str, graph: Any) -> Any:
    """dL/dX of a vector or matrix X of the graph as the Tensor of its elements' gradients dL/dX_i that the
    steps computed (a backward pass shows them without a `grad:` ask for X); None when one is missing."""
    m = _GRADIENT.match(name)
    group = getattr(graph, "groups", {}).get(m.group(2)) if m else None
    if group is None or not group.shape:
        return None
    items = tuple(table.get(f"d{m.group(1)}/d{s.name}") for s in group.symbols)
    return None if None in items else Tensor(group.shape, items)


# 'w1 after 2 steps', 'm_w1 after 1 step', 'w after 1 step (2)' (of a second update of w)
_AFTER = re.compile(r"^(.+?) after (\d+) steps?((?: \(\d+\))?)$")
_POWER = re.compile(r"^(.+?)\^\((\d+)\)$")               # 'w1^(2)', a step's target
_PER_STEP = re.compile(r"^(.+)\[(\d+)\]((?: \(\d+\))?)$")  # 'v.w[2]', 'iterates.w[1] (2)'


def _step_names(name: str) -> list[str]:
    """The per-step names '<param> after <k> steps' or '<param>^(k)' may mean: iterates.w1[2]; for
    '<state>_<param> after <k> steps' also m.w1[2] (v.w[2] for v_w); a second update's with ' (2)'."""
    m = _AFTER.match(name) or _POWER.match(name)
    if not m:
        return []
    head, k, again = m.group(1), int(m.group(2)), (m.groups() + ("",))[2]
    state, _, param = head.partition("_")
    single = [f"{head} after the step{again}"] if k == 1 else []     # a family of one step (policy) names it so
    return [f"iterates.{head}[{k}]{again}"] + ([f"{state}.{param}[{k}]{again}"] if param else []) + single


def iterate_name(table: dict, name: str) -> str | None:
    """The table's per-step name of '<param> after <k> steps' or '<param>^(k)' (_step_names); None when name is
    not of that form or the table lacks it."""
    return next((c for c in _step_names(name) if c in table), None)


def iterate_value(table: dict, name: str) -> Any:
    """The value '<param> after <k> steps' names (iterate_name), or the vector a per-step name of a vector
    parameter names (v.w[2], w after 2 steps: a graph's update keeps them by element, v.w_1[2], v.w_2[2]);
    None when there is none."""
    found = iterate_name(table, name)
    if found is not None:
        return table[found]
    return next((v for v in map(lambda c: _by_element(table, c), _step_names(name) or [name]) if v is not None),
                None)


def _by_element(table: dict, name: str) -> Any:
    """The vector of <base>_1[k], <base>_2[k] ... for the per-step name <base>[k]; None when there are none."""
    m = _PER_STEP.match(name)
    if not m:
        return None
    items, i = [], 1
    while f"{m.group(1)}_{i}[{m.group(2)}]{m.group(3)}" in table:
        items.append(table[f"{m.group(1)}_{i}[{m.group(2)}]{m.group(3)}"])
        i += 1
    return Tensor((len(items),), tuple(items)) if items else None


def same_quantity(table: dict, a: str, b: str) -> bool:
    """Whether two names address one quantity ('w1 after 2 steps' and iterates.w1[2]) of the same value."""
    if a == b:
        return True
    ca, cb = iterate_name(table, a) or a, iterate_name(table, b) or b
    if ca != cb or ca not in table:
        return False
    return all(_same(table[n], table[ca]) for n in (a, b) if n in table)


_MEMBER = re.compile(r"^(.*?)\[(\d+)\](\..+)$")     # 'epochs[0].w_after': a numbered group, then a member


def hint(name: str, names: list[str], prefer: tuple | list = ()) -> str:
    """A '; did you mean ...?' hint for a name that names no quantity. A member of a numbered group
    (epochs[0].w_after) is looked for in the group of that number, else of the next (epochs count from 1),
    as the longest member the name starts with (w) or the closest; the hint lists the group's members.
    Any other name: the closest of prefer (the answers), else of names."""
    m = _MEMBER.match(name)
    if m:
        head, i, rest = m.group(1), int(m.group(2)), m.group(3)
        found = (re.match(re.escape(head) + r"\[(\d+)\]\.", n) for n in names)
        numbers = sorted({int(x.group(1)) for x in found if x})
        if numbers:
            j = i if i in numbers else i + 1 if i + 1 in numbers else min(numbers, key=lambda k: (abs(k - i), k))
            group = f"{head}[{j}]"
            members = [n[len(group):] for n in names if n.startswith(group + ".")]
            best = _member(rest, members)
            if best:
                numbered = "" if j == i else f"; {head} are numbered from {numbers[0]}, as the steps number them"
                listed = ", ".join(x.lstrip(".") for x in members)
                return f"; did you mean '{group}{best}'? ({group} has {listed}{numbered})"
    after = _AFTER.match(name)
    per_step = _PER_STEP.match(name)
    steps = (_step_hint(after.group(1), int(after.group(2)), names) if after else
             _step_hint(per_step.group(1), int(per_step.group(2)), names, per_step=True) if per_step else "")
    return steps or _spelled(name, list(prefer), names) or _whole(nearest(name, list(prefer)) or nearest(name, names),
                                                             names)


_MARKS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot"}     # m̂ is typed mhat
_PREFIXES = ("states.", "iterates.")


def _spelling(name: str) -> str:
    """A name as users spell it in plain text: m̂ as mhat, h_1 as h[1], without the group prefix states.h[1] has."""
    import unicodedata

    out = "".join(_MARKS.get(c, c) for c in unicodedata.normalize("NFD", name)).replace(" ", "")
    out = re.sub(r"_(\d+)(?=$|[.\[])", r"[\1]", out)
    for p in _PREFIXES:
        if out.startswith(p):
            out = out[len(p):]
    return out


def _spelled(name: str, prefer: list[str], names: list[str]) -> str:
    """A hint to the one quantity spelled as name once marks, indexes and prefixes are written alike
    ('h_1' -> 'states.h[1]', 'mhat.w[2]' -> 'm̂.w[2]'); '' when none or several are."""
    want = _spelling(name)
    for pool in (prefer, names):
        found = [n for n in pool if n != name and _spelling(n) == want]
        if len(found) == 1:
            return f"; did you mean '{found[0]}'?"
    return ""


def _step_hint(head: str, k: int, names: list[str], per_step: bool = False) -> str:
    """For '<head> after <k> steps' (or, per_step, '<head>[k]') that is no quantity: the name of the nearest step
    there is of that parameter or state (iterates.w, v.w for v_w, by element v.w_1 for a vector)."""
    state, _, param = head.partition("_")
    bases = [head] if per_step else [f"iterates.{head}"] + ([f"{state}.{param}"] if param else [])
    for base in bases:
        pattern = re.compile("^" + re.escape(base) + r"(_\d+)?\[(\d+)\]$")
        found = [(m.group(1), int(m.group(2))) for m in map(pattern.match, names) if m]
        if found:
            break
    else:
        return ""
    last = max(j for _, j in found)
    j = min({j for _, j in found}, key=lambda j: (abs(j - k), j))
    if (None, j) in found:
        start = f"{base}[0] is the start, " if base.startswith("iterates.") and f"{base}[0]" in names else ""
        return f"; did you mean '{base}[{j}]'? ({start}{base}[{last}] after the last step)"
    if per_step:
        return f"; did you mean '{base}[{j}]'? (the last step is {last})"
    return f"; did you mean '{head} after {j} step{'s' if j != 1 else ''}'? (the last step is {last})"


def _whole(hint_text: str, names: list[str]) -> str:
    """A hint naming one element (dL/dw_2, h[1]) names the whole vector instead when that is a quantity."""
    m = re.match(r"^; did you mean '(.+?)(?:_\d+|\[\d+\])+'\?$", hint_text)
    return f"; did you mean '{m.group(1)}'?" if m and m.group(1) in names else hint_text


def _member(rest: str, members: list[str]) -> str:
    """The member meant by rest: itself, the same but for case, the longest one rest starts with before a
    '_' (w for w_after), else the closest by spelling; '' when none is close."""
    for x in members:
        if x == rest or x.lower() == rest.lower():
            return x
    starts = [x for x in members if rest.startswith(x + "_")]
    if starts:
        return max(starts, key=len)
    import difflib

    close = difflib.get_close_matches(rest, members, n=1, cutoff=0.6)    # as errors.nearest
    return close[0] if close else ""


def element(value: Any, index: tuple[int, ...], name: str) -> Any:
    """value[i][j]... of a Tensor (0-based, row-major): one entry, or with fewer indexes than its rank the
    sub-tensor they select (W[0], a row); KeyError when out of range or with too many indexes."""
    if not isinstance(value, Tensor) or len(index) > value.rank:
        rank = value.rank if isinstance(value, Tensor) else 0
        raise KeyError(f"'{name}': {len(index)} index{'es' if len(index) != 1 else ''} for a value of rank {rank}")
    flat = 0
    for i, n in zip(index, value.shape):
        if i >= n:
            raise KeyError(f"'{name}': index {i} is out of range (size {n}; indexes start at 0)")
        flat = flat * n + i
    rest = value.shape[len(index):]
    if not rest:
        return value.items[flat]
    size = len(value.items) // prod(value.shape[:len(index)])     # entries of one sub-tensor
    return Tensor(rest, value.items[flat * size:(flat + 1) * size])


def with_all(sol) -> Any:
    """The solution with every quantity in its answers (`run --answers all`): the asked ones first."""
    import dataclasses

    from examsolve.steps import Answer

    asked = {a.name for a in sol.answers}
    more = tuple(Answer(name, value) for name, value in sol.quantities.items() if name not in asked)
    return dataclasses.replace(sol, answers=tuple(sol.answers) + more)


TYPES = ("number", "tensor", "expression", "set", "classification", "critical_points", "boolean", "text")


# values without an order (a matrix's eigenvalues, a polynomial's roots): keys and answers match them in any order
_UNORDERED = re.compile(r"^(?:.*\.)?(?:eigenvalues|roots)(?: \(\d+\))?$|^λ(?:\(.*\))?(?: \(\d+\))?$")


def unordered(name: str) -> bool:
    """Whether the quantity of that name is a multiset of values (eigenvalues, roots), not a vector."""
    return bool(_UNORDERED.match(name))


def kind_of(value: Any) -> str:
    """The JSON type of a quantity's value: one of TYPES."""
    import sympy

    from examsolve import typed

    if typed.is_typed(value):
        return typed.kind(value)
    if isinstance(value, Tensor):
        return "tensor"
    if isinstance(value, bool) or value in (sympy.true, sympy.false):
        return "boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)) or (isinstance(value, sympy.Basic) and value.is_number):
        return "number"
    return "expression"
