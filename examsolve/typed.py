"""Answer values that are not numbers or tensors: sets of reals (sympy Sets), classifications, critical points.

Each has one text form (what `exact` holds, and what compare reads back), one LaTeX form and one JSON form:
  set             (0, 1/3) ∪ {2}        {"union": [{"interval": [0, "1/3"], "open": [true, true]}, {"set": [2]}]}
  classification  local minimum (...)   {"classification": "local_minimum", "reason": "all eigenvalues > 0"}
  critical points (1, 0): saddle point  {"points": [{"point": {"x": 1, "y": 0}, "classification": {...}}], ...}
  boolean         yes / no              true / false
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy

CLASSES = {
    "local_minimum": "local minimum",
    "local_maximum": "local maximum",
    "saddle": "saddle point",
    "degenerate": "degenerate",
    "not_critical": "not a critical point",
    "cannot_classify": "cannot classify",
    "global_minimum": "global minimum",
    "global_maximum": "global maximum",
    "unbounded_below": "unbounded below",
    "unbounded_above": "unbounded above",
}


@dataclass(frozen=True)
class Classification:
    """What a point is (an enum of CLASSES) and why."""

    kind: str
    reason: str = ""

    def __str__(self) -> str:
        return CLASSES[self.kind] + (f" ({self.reason})" if self.reason else "")

    @property
    def words(self) -> str:
        """The classification without its reason: 'local minimum'."""
        return CLASSES[self.kind]


@dataclass(frozen=True)
class CriticalPoint:
    """One solution of ∇f = 0: its coordinates by name, and what it is."""

    point: tuple[tuple[str, Any], ...]
    classification: Classification
    approx: bool = False      # coordinates are 30-digit floats of roots given exactly in the steps


@dataclass(frozen=True)
class CriticalPoints:
    """Every real critical point of a function, in order; `note` says why the list may be empty or partial."""

    items: tuple[CriticalPoint, ...]
    note: str = ""

    def __str__(self) -> str:
        return text(self)


def is_typed(v: Any) -> bool:
    """True for the values this module shows (sets, classifications, critical points, yes/no)."""
    return isinstance(v, (bool, sympy.Set, Classification, CriticalPoints))


def _number_text(x: Any) -> str:
    from examsolve.values import decimal

    if x == sympy.oo:
        return "∞"
    if x == -sympy.oo:
        return "-∞"
    return decimal(x, 15) if isinstance(x, sympy.Float) else sympy.sstr(x)


def _sorted(items) -> list:
    from examsolve.values import sort_key

    return sorted(items, key=sort_key)


def _pieces(s: sympy.Set) -> list:
    return list(s.args) if isinstance(s, sympy.Union) else [s]


def set_text(s: sympy.Set, num: Callable[[Any], str] = _number_text) -> str:
    """A set of reals in exam notation: (0, 1/3), [0, 1), {1/3}, (-∞, 0) ∪ (1/3, ∞), ∅."""
    if s == sympy.EmptySet:
        return "∅"
    out = []
    for p in _pieces(s):
        if isinstance(p, sympy.Interval):
            out.append(("(" if p.left_open or p.start == -sympy.oo else "[") + f"{num(p.start)}, {num(p.end)}"
                       + (")" if p.right_open or p.end == sympy.oo else "]"))
        elif isinstance(p, sympy.FiniteSet):
            out.append("{" + ", ".join(num(x) for x in _sorted(p)) + "}")
        else:
            out.append(sympy.sstr(p))
    return " ∪ ".join(out)


def _point_text(cp: CriticalPoint, num: Callable[[Any], str]) -> str:
    coords = "(" + ", ".join(num(v) for _, v in cp.point) + ")"
    return ("≈ " if cp.approx else "") + coords + ": " + cp.classification.words


def text(v: Any) -> str:
    """The one-line text form of a typed value."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, sympy.Set):
        return set_text(v)
    if isinstance(v, Classification):
        return str(v)
    if isinstance(v, CriticalPoints):
        from examsolve.values import decimal

        body = "; ".join(_point_text(cp, (lambda x: decimal(x, 6)) if cp.approx else sympy.sstr) for cp in v.items)
        return (body + (f" ({v.note})" if v.note else "")) if body else f"none ({v.note})"
    raise TypeError(f"not a typed value: {type(v).__name__}")


def latex(v: Any, number_latex: Callable[[Any], str]) -> str:
    """LaTeX of a typed value; number_latex typesets one endpoint or coordinate."""
    from examsolve.escape import latex_text

    def num(x):
        if x == sympy.oo:
            return r"\infty"
        if x == -sympy.oo:
            return r"-\infty"
        return number_latex(x)

    if isinstance(v, bool):
        return r"\text{%s}" % text(v)
    if isinstance(v, sympy.Set):
        if v == sympy.EmptySet:
            return r"\emptyset"
        out = []
        for p in _pieces(v):
            if isinstance(p, sympy.Interval):
                left = "(" if p.left_open or p.start == -sympy.oo else "["
                right = ")" if p.right_open or p.end == sympy.oo else "]"
                out.append(rf"\left{left}{num(p.start)}, {num(p.end)}\right{right}")
            elif isinstance(p, sympy.FiniteSet):
                out.append(r"\left\{" + ", ".join(num(x) for x in _sorted(p)) + r"\right\}")
            else:
                out.append(number_latex(p))
        return r" \cup ".join(out)
    if isinstance(v, Classification):
        return r"\text{%s}" % latex_text(str(v))
    if isinstance(v, CriticalPoints):
        if not v.items:
            return r"\text{none (%s)}" % latex_text(v.note)
        rows = [(r"\approx " if cp.approx else "") + r"\left(" + ", ".join(num(x) for _, x in cp.point)
                + r"\right)\colon \text{%s}" % latex_text(cp.classification.words) for cp in v.items]
        tail = r"\quad\text{(%s)}" % latex_text(v.note) if v.note else ""
        return r"\begin{array}{l} " + r" \\ ".join(rows) + r" \end{array}" + tail
    raise TypeError(f"not a typed value: {type(v).__name__}")


def plain(v: Any, number: Callable[[Any], Any]) -> Any:
    """The JSON form of a typed value; number turns one endpoint or coordinate into JSON."""
    if isinstance(v, bool):
        return v
    if isinstance(v, sympy.Set):
        if v == sympy.EmptySet:
            return {"set": []}
        parts = []
        for p in _pieces(v):
            if isinstance(p, sympy.Interval):
                parts.append({"interval": [number(p.start), number(p.end)],
                              "open": [bool(p.left_open or p.start == -sympy.oo),
                                       bool(p.right_open or p.end == sympy.oo)]})
            elif isinstance(p, sympy.FiniteSet):
                parts.append({"set": [number(x) for x in _sorted(p)]})
            else:
                parts.append({"text": sympy.sstr(p)})
        return parts[0] if len(parts) == 1 else {"union": parts}
    if isinstance(v, Classification):
        return {"classification": v.kind, "reason": v.reason}
    if isinstance(v, CriticalPoints):
        return {"points": [{"point": {n: number(x) for n, x in cp.point}, "approx": cp.approx,
                            "classification": plain(cp.classification, number)} for cp in v.items],
                "note": v.note}
    raise TypeError(f"not a typed value: {type(v).__name__}")


def kind(v: Any) -> str:
    """The JSON type name of a typed value."""
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, sympy.Set):
        return "set"
    if isinstance(v, Classification):
        return "classification"
    return "critical_points"
