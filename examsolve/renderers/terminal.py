"""Terminal output with rich: numbered steps, boxed answers, key checks."""
from __future__ import annotations

import io

import sympy

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from examsolve.escape import terminal_text
from examsolve.renderers.lines import chain, heading, key_mark, numbered, related
from examsolve.renderers.printing import decimal_text, text, too_long, value_text
from examsolve.values import printed_once


@printed_once()
def render(solutions, digits: int = 6, color: bool = False, width: int = 100, drawings=None, **_) -> str:
    """All solutions as terminal text (ANSI colour only when color is true)."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False,
                      legacy_windows=False)
    drawings = drawings or [None] * len(solutions)
    for k, (sol, d) in enumerate(zip(solutions, drawings)):
        if k:
            console.print()
        _one(console, sol, digits)
        if d is not None:
            from examsolve.renderers import tree
            console.print(Text("Computational graph", style="bold"))
            console.print(_t(tree.render(d).rstrip("\n")))
    return buf.getvalue()


def _one(console: Console, sol, digits: int) -> None:
    """One solution; every string reaches rich as Text (never as markup) without control characters."""
    names = sol.names

    def show(x):
        return terminal_text(text(x, names))

    def result(v):
        return terminal_text(value_text(v, digits, names))

    lines = []          # Text lines, printed together: one console.print per block, not per line
    lines.append(_t(sol.title, style="bold"))
    if sol.source:
        lines.append(_t(f"Source: {sol.source}", style="dim"))
    if sol.statement:
        lines.append(_t(f"Question: {sol.statement}", style="italic"))
    if sol.given:
        lines.append(_t("Given: " + ", ".join(f"{text(sympy.Symbol(n), names)} = {show(v)}"
                                              for n, v in sol.given)))
    lines.append(Text())
    for num, depth, step in numbered(sol.steps):
        indent = "  " * depth
        if step.target is None and step.value is None:
            lines.append(_t(f"{indent}{num}. {step.title}", style="bold cyan"))
        else:
            parts = chain(step, show, result)
            lhs = show(step.target) if step.target is not None else step.title
            head = heading(step, text(step.target))
            lhs = f"{head}: {lhs}" if head else lhs
            line = _t(f"{indent}{num}. ")
            line.append(terminal_text(lhs + "".join(related(parts, " = ", "≈", " "))
                                      if parts else lhs))
            lines.append(line)
        if step.note:
            lines.append(_t(f"{indent}   note: {step.note}", style="yellow"))
        if step.table is not None:
            _flush(console, lines)
            t = Table(box=None, padding=(0, 2))
            for h in step.table.header:
                t.add_column(_t(h))
            for row in step.table.rows:
                t.add_row(*[_t(str(c) if isinstance(c, int) else "≈ " + decimal_text(c, digits) if too_long(c)
                               else show(c)) for c in row])
            console.print(t)
    _flush(console, lines)
    console.print()
    table = Table(title=None, show_header=True, header_style="bold", box=None, padding=(0, 2))
    table.add_column("answer")
    table.add_column("value")
    has_key = any(a.agrees is not None for a in sol.answers)
    if has_key:
        table.add_column("key")
    for a in sol.answers:
        row = [_t(show(a.label) if a.label is not None else a.name), _t(result(a.value))]
        if has_key:
            mark = key_mark(a)
            if a.agrees is False:
                mark += f" (key: {a.key_text or show(a.key)})"
            row.append(_t(mark, style="green" if a.agrees else "bold red") if mark else "")
        table.add_row(*row)
    console.print(Panel(table, title="Answers", title_align="left", expand=False))
    for note in sol.notes:
        console.print(_t(note, style="dim"))


def _flush(console: Console, lines: list) -> None:
    """Print the lines gathered so far as one Text (the same output as a print each, without rich's cost per
    print) and empty the list."""
    if lines:
        console.print(Text("\n").join(lines))
        lines.clear()


def _t(s: str, style: str = "") -> Text:
    """rich Text (never markup: `[red]` in a name stays as it is) without the spec's control characters."""
    return Text(terminal_text(s), style=style)
