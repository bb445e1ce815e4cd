"""Step, Answer, Solution: what a solver produces. Data only; renderers turn them into text."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    """One line of a worked solution: target = formula = substituted = value.

    A step without a target is a section heading for its substeps.
    """

    title: str
    target: Any = None        # what is computed, e.g. Symbol u or Partial(L, u)
    formula: Any = None       # the general form, in symbols
    substituted: Any = None   # the numbers put in, unevaluated
    value: Any = None         # the result: sympy value, Tensor, or str for sets and tables
    note: str = ""            # convention used, warning, reason
    substeps: tuple["Step", ...] = ()
    table: Any = None         # optional Table shown with the step
    quantities: tuple = ()    # (dotted name, value) pairs this step computes besides its target, e.g. table cells


@dataclass(frozen=True)
class Table:
    """A small table: header and rows of sympy values or strings."""

    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Answer:
    """A final answer, with the official key and whether it agrees."""

    name: str                 # "dL/dw"
    value: Any                # sympy value or Tensor
    label: Any = None         # how the name is typeset (sympy), default the name
    key: Any = None           # the key's value, parsed
    agrees: bool | None = None
    note: str = ""
    key_note: str = ""        # how the key agrees ("rounded to 3 decimals") or differs ("the key is half the answer")
    valid: Any = None         # questions with many right answers: the family's check of another answer,
                              # a function (value) -> (ok, reason), e.g. "the weights realise the truth table";
                              # one with an `others` parameter also gets the other answers given with it (name ->
                              # YAML value: the student's in grading; without it, the check reads the spec's key:)


@dataclass(frozen=True)
class Solution:
    """Everything a renderer needs to print one solved problem."""

    kind: str
    title: str
    source: str = ""
    file: str = ""
    given: tuple[tuple[str, Any], ...] = ()
    steps: tuple[Step, ...] = ()
    answers: tuple[Answer, ...] = ()
    notes: tuple[str, ...] = ()
    names: dict = field(default_factory=dict)   # symbol name -> (latex, text) display names
    graph: Any = None
    backprop: Any = None      # the engine's forward values and local derivatives, reused by drawings
    statement: str = ""       # the question as printed, given values filled in
    points: dict = field(default_factory=dict)  # answer name -> points, for question sheets and grading
    quantities: dict = field(default_factory=dict)  # every named value computed (examsolve.quantity), by name
