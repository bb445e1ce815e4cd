"""LaTeX: an amsmath fragment to paste into answer sheets, or a standalone document."""
from __future__ import annotations

import sympy

from examsolve.escape import latex_comment, latex_text
from examsolve.renderers.lines import APPROX, boxed, chain, heading, key_mark, numbered, related
from examsolve.renderers.printing import decimal_latex, latex, text, too_long
from examsolve.values import printed_once

def preamble(graphs: bool = False) -> str:
    """The document start: amsmath and geometry; graphicx and TikZ when drawings are included."""
    extra = "\\usepackage{graphicx,tikz}\n\\usetikzlibrary{shapes.geometric}\n" if graphs else ""
    return ("\\documentclass[11pt]{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{amsmath,amssymb}\n"
            "\\usepackage[margin=2cm]{geometry}\n" + extra + "\\allowdisplaybreaks\n"
            "\\setlength{\\parindent}{0pt}\n\\begin{document}\n")


@printed_once()
def render(solutions, digits: int = 6, standalone: bool = False, drawings=None, **_) -> str:
    """All solutions as LaTeX; standalone wraps them in a compilable document; drawings as TikZ."""
    drawings = drawings or [None] * len(solutions)
    body = "\n\\bigskip\n".join(_one(s, digits, drawing=d) for s, d in zip(solutions, drawings))
    if standalone:
        return preamble(any(drawings)) + body + "\\end{document}\n"
    return body


def _fit(math: str, sheet: bool) -> str:
    """In a sheet, math wider than the line is scaled down to it (graphicx)."""
    if not sheet:
        return math
    return "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{" + math + "}"


def _cell(c, digits, names) -> str:
    """A table cell: an int as written, a too-long exact number by its decimal, else its LaTeX."""
    if isinstance(c, int):
        return str(c)
    return r"\approx " + decimal_latex(c, digits) if too_long(c) else latex(c, names)


def _result(v, digits, names) -> str:
    dec = decimal_latex(v, digits)
    if dec is not None and too_long(v):      # an exact form nobody can copy: its decimal (JSON keeps it)
        return r"\approx " + dec
    exact = latex(v, names)
    return exact if dec is None or dec == exact else f"{exact} \\approx {dec}"


def _one(sol, digits: int, sheet: bool = False, drawing=None) -> str:
    names = sol.names
    out = [f"% examsolve: {latex_comment(sol.file)}" if sol.file else "% examsolve",
           (r"\section{%s}" if sheet else r"\section*{%s}") % latex_text(sol.title)]
    if sol.source:
        out.append(r"\textit{Source: %s}\par" % latex_text(sol.source))
    if sol.statement:
        out.append(r"\textbf{Question.} %s\par" % latex_text(sol.statement))
    if sol.given and sheet:
        out.append(given_table(sol))
    elif sol.given:
        given = ", ".join(f"${latex(sympy.Symbol(n), names)} = {latex(v, names)}$" for n, v in sol.given)
        out.append(r"\textbf{Given:} %s\par" % given)
    # step numbers as in the terminal (2.13), in arabic at every level: \alph stops at 26 substeps
    out.append(r"\begin{enumerate}" + _ARABIC)
    depth = 0
    for num, d, step in numbered(sol.steps):
        while depth < d:
            out.append(r"\begin{enumerate}")
            depth += 1
        while depth > d:
            out.append(r"\end{enumerate}")
            depth -= 1
        title = step.title if step.target is None else heading(step, text(step.target))
        out.append(r"\item " + _item_text(title) + (":" if step.target is not None else "") if title else r"\item")
        if step.target is not None or step.value is not None:
            parts = chain(step, lambda x: latex(x, names), lambda v: _result(v, digits, names))
            if parts and step.target is not None:
                # an aligned block inside the item: compact, left-aligned, and breaks between pages
                block = (r"$\displaystyle\begin{aligned}[t]" + "\n" + f"{latex(step.target, names)} &"
                         + " \\\\\n  &".join(related(parts, "= ", APPROX)) + "\n" + r"\end{aligned}$")
                out.append(_fit(block, sheet))
            elif parts:
                out[-1] += ": $" + parts[0] + "".join(related(parts[1:], " = ", APPROX, " ")) + "$"
        if step.note:
            out.append(r"\\ \emph{Note: %s}" % latex_text(step.note))
        if step.table is not None:
            cols = "r" * len(step.table.header)
            rows = [" & ".join(latex_text(h) for h in step.table.header) + r" \\ \hline"]
            rows += [" & ".join(f"${_cell(c, digits, names)}$" for c in r) + r" \\"
                     for r in step.table.rows]
            table = r"\begin{tabular}{%s} %s \end{tabular}" % (cols, "\n".join(rows))
            out.append(r"\par\smallskip" + _fit(table, sheet) + r"\par\smallskip")
    while depth > 0:
        out.append(r"\end{enumerate}")
        depth -= 1
    out.append(r"\end{enumerate}")
    out.append(r"\paragraph{Answers}")
    if sheet:
        out.append(_answers_sheet(sol, digits))
    else:
        out.append(_answers(sol, digits))
    if drawing is not None:
        from examsolve.renderers import tikz
        # heading and picture in one box, so a page break cannot separate them
        out.append(r"\par\medskip\noindent\begin{minipage}{\linewidth}\textbf{Computational graph}\par"
                   r"\smallskip\centering")
        out.append(tikz.fit_width(tikz.render(drawing)) + r"\end{minipage}\par\medskip")
    for note in sol.notes:
        out.append(r"{\small %s}\par" % latex_text(note))
    return "\n".join(out) + "\n"


_ARABIC = (r"\renewcommand{\labelenumii}{\arabic{enumi}.\arabic{enumii}.}"
           r"\renewcommand{\labelenumiii}{\arabic{enumi}.\arabic{enumii}.\arabic{enumiii}.}"
           r"\renewcommand{\labelenumiv}{\arabic{enumi}.\arabic{enumii}.\arabic{enumiii}.\arabic{enumiv}.}")


def _item_text(title: str) -> str:
    """A step title after \\item: escaped, and a leading [ kept from being read as \\item's label."""
    t = latex_text(title)
    return "{}" + t if t.lstrip().startswith("[") else t


def given_table(sol) -> str:
    """The given values as a two-column table for a sheet."""
    names = sol.names
    rows = [r"\medskip\begin{tabular}{@{}ll@{}}\textbf{Given} & \\"]
    rows += [f"${latex(sympy.Symbol(n), names)}$ & {_fit('$' + latex(v, names) + '$', True)} \\\\"
             for n, v in sol.given]
    return "\n".join(rows + [r"\end{tabular}\par\medskip"])


def answer_label(a, names) -> str:
    """How an answer's name is typeset."""
    return latex(a.label, names) if a.label is not None else r"\text{%s}" % latex_text(a.name)


def _mark(a, names) -> str:
    mark = key_mark(a)
    if mark and a.agrees is False:
        key = latex_text(a.key_text) if a.key_text else "$%s$" % latex(a.key, names)
        return r"\textbf{%s} (key: %s)" % (latex_text(mark), key)
    return latex_text(mark)


def _answers_sheet(sol, digits: int) -> str:
    """One boxed answer a line, scaled to the line when wide, with the key check beside it."""
    names = sol.names
    lines = []
    for a in sol.answers:
        label = answer_label(a, names)
        math = f"$\\displaystyle {label} {boxed(_result(a.value, digits, names))}$"
        mark = _mark(a, names)
        lines.append(_fit(math, True) + (r"\quad " + mark if mark else "") + r"\par\smallskip")
    return "\n".join(lines)


def _answers(sol, digits: int) -> str:
    names = sol.names
    if not sol.answers:         # an empty align* does not compile
        return r"(none)\par"
    out = [r"\begin{align*}"]
    rows = []
    for a in sol.answers:
        label = answer_label(a, names)
        row = f"{label} &{boxed(_result(a.value, digits, names))}"
        if a.agrees is not None:
            row += r" && \text{%s}" % _mark(a, names)
        rows.append(row)
    out.append(" \\\\\n".join(rows))
    out.append(r"\end{align*}")
    return "\n".join(out)
