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

    def __post_init__(self) -> None:
        # where exact numbers gave a 30-digit float (an exact form too long to keep), the step says so, in
        # every format: the note is part of the step
        if self.value is not None and self.substituted is not None:
            from examsolve.values import float_note

            extra = float_note(self.value, self.substituted)
            if extra and extra not in self.note:
                object.__setattr__(self, "note", "; ".join(filter(None, (self.note, extra))))


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
    key_text: str = ""        # the key as written in the spec ("-0.0498", not -249/5000)
    key_note: str = ""        # how the key agrees ("rounded to 3 decimals") or differs ("the key is half the answer")
    also: tuple[str, ...] = ()    # other names a key may give this answer ("oscillating convergence")
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

    # ---- the Python API: renderings and Jupyter display. Renderers load on first use, so this module stays
    # ---- data only and cheap to import.
    def answer(self, name: str) -> Answer:
        """The answer with this name (KeyError naming the answers there are)."""
        for a in self.answers:
            if a.name == name:
                return a
        raise KeyError(f"no answer {name!r}; the answers are: {', '.join(a.name for a in self.answers)}")

    @property
    def values(self) -> dict:
        """Answer name -> exact value (a sympy number or expression, a Tensor, or a typed value of examsolve.typed)."""
        return {a.name: a.value for a in self.answers}

    def floats(self) -> dict:
        """Answer name -> the value as plain Python data: floats (ints for integers), nested lists for tensors,
        the JSON form for sets and classifications, a string for a symbolic expression."""
        from examsolve.values import to_plain

        return {a.name: to_plain(a.value) for a in self.answers}

    def to_latex(self, digits: int = 6, standalone: bool = False) -> str:
        """LaTeX (amsmath), as `run --format latex`."""
        from examsolve.renderers import render

        return render(self, "latex", digits=digits, standalone=standalone)

    def to_markdown(self, digits: int = 6) -> str:
        """Markdown with $$ maths, as `run --format markdown`."""
        from examsolve.renderers import render

        return render(self, "markdown", digits=digits)

    def to_html(self, digits: int = 6, with_graph: bool = False, fragment: bool = False) -> str:
        """A self-contained HTML page (MathML, no script), as `run --format html`; fragment: a <div> to embed."""
        from examsolve.renderers import html

        drawing = self.drawing() if with_graph and self.graph is not None else None
        return html.render([self], digits, [drawing], fragment=fragment)

    def to_json(self, digits: int = 6) -> str:
        """The JSON of `run --format json`."""
        from examsolve.renderers import render

        return render(self, "json", digits=digits)

    def drawing(self, of: str | None = None):
        """The computational graph as an examsolve.drawing.Drawing (None for families without a graph);
        gradients of `of`, by default the scalar the first gradient step differentiates."""
        if self.graph is None:
            return None
        from examsolve import drawing

        conventions = getattr(self.backprop, "conventions", None) or {}
        return drawing.build(self.graph, conventions, of or _first_of(self.steps) or "", title=self.title,
                             names=self.names, backprop=self.backprop)

    def _repr_html_(self) -> str:
        return self.to_html(fragment=True)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        """The boxed answers as one display formula (Jupyter's LaTeX is maths only, without \\section)."""
        from examsolve.renderers.latex import _result, answer_label

        rows = [f"{answer_label(a, self.names)} &= \\boxed{{{_result(a.value, 6, self.names)}}}" for a in self.answers]
        return "$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$" if rows else "$$\\text{(no answers)}$$"


def _first_of(steps) -> str:
    """The name of the scalar the first ∂·/∂· target differentiates, searched depth first."""
    for s in steps:
        if hasattr(s.target, "of"):
            return s.target.of.name
        found = _first_of(s.substeps)
        if found:
            return found
    return ""
