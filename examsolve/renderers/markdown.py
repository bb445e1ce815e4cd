"""Markdown: headings and $$ maths, for notes and issue trackers."""
from __future__ import annotations

import sympy

from examsolve.renderers.latex import _result
from examsolve.renderers.lines import chain, key_mark, numbered
from examsolve.renderers.printing import latex


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
    out = [f"## {sol.title}", ""]
    if sol.source:
        out += [f"*Source: {sol.source}*", ""]
    if sol.statement:
        out += [f"> {sol.statement}", ""]
    if sol.given:
        out += ["**Given:** " + ", ".join(f"${latex(sympy.Symbol(n), names)} = {latex(v, names)}$"
                                          for n, v in sol.given), ""]
    for num, depth, step in numbered(sol.steps):
        out.append(f"{'  ' * depth}{num}." + ("" if step.target is not None else f" {step.title}"))
        if step.target is not None or step.value is not None:
            parts = chain(step, lambda x: latex(x, names), lambda v: _result(v, digits, names))
            lhs = latex(step.target, names) + " = " if step.target is not None else ""
            if parts:
                out.append(f"{'  ' * depth}   $${lhs}{' = '.join(parts)}$$")
        if step.note:
            out.append(f"{'  ' * depth}   *Note: {step.note}*")
        if step.table is not None:
            out.append("")
            out.append("| " + " | ".join(step.table.header) + " |")
            out.append("|" + "---|" * len(step.table.header))
            for r in step.table.rows:
                out.append("| " + " | ".join(f"${latex(c, names)}$" if not isinstance(c, int) else str(c)
                                             for c in r) + " |")
            out.append("")
    out += ["", "### Answers", ""]
    for a in sol.answers:
        label = latex(a.label, names) if a.label is not None else r"\text{%s}" % a.name
        mark = key_mark(a)
        if a.agrees is False:
            mark += f" (key: ${latex(a.key, names)}$)"
        out.append(f"- $${label} = \\boxed{{{_result(a.value, digits, names)}}}$$" + (f" — {mark}" if mark else ""))
    out += [""] + [f"_{n}_" for n in sol.notes]
    return "\n".join(out) + "\n"
