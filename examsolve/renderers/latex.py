"""LaTeX: an amsmath fragment to paste into answer sheets, or a standalone document."""
from __future__ import annotations

import sympy

from examsolve.renderers.lines import chain, key_mark, numbered
from examsolve.renderers.printing import decimal_latex, latex, latex_text

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\begin{document}
"""


def render(solutions, digits: int = 6, standalone: bool = False, **_) -> str:
    """All solutions as LaTeX; standalone wraps them in a compilable document."""
    body = "\n\\bigskip\n".join(_one(s, digits) for s in solutions)
    if standalone:
        return PREAMBLE + body + "\\end{document}\n"
    return body


def _result(v, digits, names) -> str:
    exact = latex(v, names)
    dec = decimal_latex(v, digits)
    return exact if dec is None or dec == exact else f"{exact} \\approx {dec}"


def _one(sol, digits: int) -> str:
    names = sol.names
    out = [f"% examsolve: {sol.file}" if sol.file else "% examsolve",
           r"\section*{%s}" % latex_text(sol.title)]
    if sol.source:
        out.append(r"\textit{Source: %s}\par" % latex_text(sol.source))
    if sol.given:
        given = ", ".join(f"${latex(sympy.Symbol(n), names)} = {latex(v, names)}$" for n, v in sol.given)
        out.append(r"\textbf{Given:} %s\par" % given)
    out.append(r"\begin{enumerate}")
    depth = 0
    for num, d, step in numbered(sol.steps):
        while depth < d:
            out.append(r"\begin{enumerate}")
            depth += 1
        while depth > d:
            out.append(r"\end{enumerate}")
            depth -= 1
        out.append(r"\item" if step.target is not None else r"\item " + latex_text(step.title))
        if step.target is not None or step.value is not None:
            parts = chain(step, lambda x: latex(x, names), lambda v: _result(v, digits, names))
            if parts and step.target is not None:
                # an aligned block inside the item: compact, left-aligned, and breaks between pages
                out.append(r"$\displaystyle\begin{aligned}[t]")
                out.append(f"{latex(step.target, names)} &= " + " \\\\\n  &= ".join(parts))
                out.append(r"\end{aligned}$")
            elif parts:
                out[-1] += ": $" + " = ".join(parts) + "$"
        if step.note:
            out.append(r"\\ \emph{Note: %s}" % latex_text(step.note))
        if step.table is not None:
            cols = "r" * len(step.table.header)
            rows = [" & ".join(latex_text(h) for h in step.table.header) + r" \\ \hline"]
            rows += [" & ".join(f"${latex(c, names) if not isinstance(c, int) else c}$" for c in r) + r" \\"
                     for r in step.table.rows]
            out.append(r"\[ \begin{array}{%s} %s \end{array} \]" % (cols, "\n".join(rows)))
    while depth > 0:
        out.append(r"\end{enumerate}")
        depth -= 1
    out.append(r"\end{enumerate}")
    out.append(r"\paragraph{Answers}")
    out.append(r"\begin{align*}")
    rows = []
    for a in sol.answers:
        label = latex(a.label, names) if a.label is not None else r"\text{%s}" % latex_text(a.name)
        row = f"{label} &= \\boxed{{{_result(a.value, digits, names)}}}"
        mark = key_mark(a)
        if mark:
            if a.agrees is False:
                mark += f" (key: ${latex(a.key, names)}$)"
            row += r" && \text{%s}" % (latex_text(mark) if a.agrees else mark.replace("DISAGREES", r"\textbf{disagrees}"))
        rows.append(row)
    out.append(" \\\\\n".join(rows))
    out.append(r"\end{align*}")
    for note in sol.notes:
        out.append(r"{\small %s}\par" % latex_text(note))
    return "\n".join(out) + "\n"
