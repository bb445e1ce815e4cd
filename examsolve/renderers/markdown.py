"""Markdown: headings and $$ maths, for notes and issue trackers."""
from __future__ import annotations

import sympy

from examsolve.escape import markdown_latex_text, markdown_math, markdown_text
from examsolve.renderers.latex import _result
from examsolve.renderers.lines import APPROX, boxed, chain, heading, key_mark, numbered, related
from examsolve.renderers.printing import latex, text
from examsolve.values import printed_once


@printed_once()
def render(solutions, digits: int = 6, drawings=None, **_) -> str:
    """All solutions as Markdown; drawings as fenced DOT blocks."""
    from examsolve.renderers import dot

    drawings = drawings or [None] * len(solutions)
    parts = []
    for s, d in zip(solutions, drawings):
        text = _one(s, digits)
        if d is not None:
            text += "\n### Computational graph\n\n```dot\n" + dot.render(d) + "```\n"
        parts.append(text)
    return "\n\n".join(parts)


def _one(sol, digits: int) -> str:
    names = sol.names
    math = markdown_math     # every $ and $$ block: no HTML tag can start inside
    out = [f"## {markdown_text(sol.title)}", ""]
    if sol.source:
        out += [f"*Source: {markdown_text(sol.source)}*", ""]
    if sol.statement:
        out += [f"> {markdown_text(sol.statement)}", ""]
    if sol.given:
        out += ["**Given:** " + ", ".join(math(f"${latex(sympy.Symbol(n), names)} = {latex(v, names)}$")
                                          for n, v in sol.given), ""]
    for num, depth, step in numbered(sol.steps):
        title = step.title if step.target is None else heading(step, text(step.target))
        out.append(f"{'  ' * depth}{num}." + (f" {markdown_text(title)}" if title else ""))
        if step.target is not None or step.value is not None:
            parts = chain(step, lambda x: latex(x, names), lambda v: _result(v, digits, names))
            if parts:
                first, parts = (latex(step.target, names), parts) if step.target is not None else (parts[0], parts[1:])
                out.append(f"{'  ' * depth}   " + math(f"$${first}{''.join(related(parts, ' = ', APPROX, ' '))}$$"))
        if step.note:
            out.append(f"{'  ' * depth}   *Note: {markdown_text(step.note)}*")
        if step.table is not None:
            out.append("")
            out.append("| " + " | ".join(markdown_text(h, cell=True) for h in step.table.header) + " |")
            out.append("|" + "---|" * len(step.table.header))
            for r in step.table.rows:
                out.append("| " + " | ".join(str(c) if isinstance(c, int) else markdown_text(c, cell=True)
                                             if isinstance(c, str) else math(f"${latex(c, names)}$").replace("|", r"\|")
                                             for c in r) + " |")
            out.append("")
    out += ["", "### Answers", ""]
    for a in sol.answers:
        label = latex(a.label, names) if a.label is not None else r"\text{%s}" % markdown_latex_text(a.name)
        mark = markdown_text(key_mark(a))      # a key note may quote a mistake's feedback, written by the user
        if a.agrees is False:
            mark += " (key: " + (markdown_text(a.key_text) if a.key_text else math(f"${latex(a.key, names)}$")) + ")"
        out.append("- " + math(f"$${label} {boxed(_result(a.value, digits, names))}$$")
                   + (f" — {mark}" if mark else ""))
    out += [""] + [f"_{markdown_text(n)}_" for n in sol.notes]
    return "\n".join(out) + "\n"
