"""An answer sheet: one LaTeX document (or PDF through latexmk) for several problems."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from examsolve.errors import SolveError
from examsolve.renderers import latex
from examsolve.escape import latex_text
from examsolve.values import printed_once

TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures latexmk"


MODES = ("solutions", "questions", "key")


@printed_once()
def render(solutions, digits: int = 6, title: str = "Answers", drawings=None, mode: str = "solutions",
           **_) -> str:
    """The sheet as a LaTeX document: title block, a numbered section per problem.

    mode: solutions (every step), questions (statement, given values and what is asked, no answers)
    or key (the boxed answers only).
    """
    drawings = drawings or [None] * len(solutions)
    what = {"solutions": "solved by examsolve", "questions": "questions", "key": "answer key by examsolve"}[mode]
    head = latex.preamble(graphs=True) + (
        "\\begin{center}{\\LARGE %s}\\\\[4pt]{\\small %d problem%s, %s}\\end{center}\n"
        % (latex_text(title), len(solutions), "" if len(solutions) == 1 else "s", what))
    if mode == "questions":
        body = "\n".join(_question(s, d) for s, d in zip(solutions, drawings))
    elif mode == "key":
        body = "\n".join(_key(s, digits) for s in solutions)
    else:
        body = "\n".join(latex._one(s, digits, sheet=True, drawing=d) for s, d in zip(solutions, drawings))
    return head + body + "\\end{document}\n"


def _points(sol, name: str) -> str:
    p = sol.points.get(name, 1)
    return f"{p} point" + ("" if str(p) == "1" else "s")


def _question(sol, drawing=None) -> str:
    """A problem without its solution: statement (or given values), the bare graph, the answers asked for."""
    out = [r"\section{%s}" % latex_text(sol.title)]
    if sol.statement:
        out.append(latex_text(sol.statement) + r"\par")
    if sol.given:
        out.append(latex.given_table(sol))
    if drawing is not None:
        from examsolve.renderers import tikz
        # the graph without values or gradients, which would give the answers away
        out.append(r"\par\medskip\noindent\begin{minipage}{\linewidth}\centering"
                   + tikz.fit_width(tikz.render(drawing, values=False, grads=False)) + r"\end{minipage}\par\medskip")
    out.append(r"\textbf{Find}\begin{enumerate}")
    out += [r"\item $%s$ \hfill [%s]" % (latex.answer_label(a, sol.names), latex_text(_points(sol, a.name)))
            for a in sol.answers]
    out.append(r"\end{enumerate}\vspace{2cm}")
    return "\n".join(out) + "\n"


def _key(sol, digits: int) -> str:
    """A problem's boxed answers with their points."""
    return (r"\section{%s}" % latex_text(sol.title) + "\n" + (r"{\small %s}\par" % latex_text(sol.file) if sol.file
            else "") + "\n" + latex._answers_sheet(sol, digits) + "\n")


LATEX_SECONDS = 60
# pdfTeX: no /ID in the trailer, so the same sheet gives the same bytes (other engines skip the line)
_REPRODUCIBLE = "\\ifdefined\\pdftrailerid\\pdftrailerid{}\\fi\n"


def latex_env() -> dict:
    """The environment of a LaTeX run: no shell escape, files read and written only in the build folder
    (paranoid), fixed dates, so the same input gives byte-identical PDFs."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f", SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")
    return env


def to_pdf(tex: str) -> bytes:
    """Compile a document with latexmk (pdflatex); SolveError naming the packages when missing.

    pdflatex runs without shell escape, may open files only in its temporary folder, and stops after
    LATEX_SECONDS; the folder is removed on every way out (errors, timeouts, Ctrl-C, SIGTERM).
    """
    from examsolve.cleanup import run_tool, terminate_unwinds

    for tool in ("latexmk", "pdflatex"):
        if shutil.which(tool) is None:
            raise SolveError(f"a PDF needs `{tool}`; install TeX (Debian/Ubuntu: apt-get install {TEX_PACKAGES}) "
                             "or write a .tex file")
    with terminate_unwinds(), tempfile.TemporaryDirectory(prefix="examsolve-") as tmp:
        path = os.path.join(tmp, "sheet.tex")
        with open(path, "w", encoding="utf-8") as f:
            f.write(_REPRODUCIBLE + tex)
        cmd = ["latexmk", "-norc", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
               "sheet.tex"]
        try:
            r = run_tool(cmd, tmp, latex_env(), LATEX_SECONDS)
        except subprocess.TimeoutExpired:
            raise SolveError(f"LaTeX did not finish in {LATEX_SECONDS} s") from None
        if r.returncode != 0:
            lines = [ln for ln in r.stdout.splitlines() if ln.startswith("!")]
            raise SolveError("LaTeX failed: " + (lines[0] if lines else " ".join(r.stdout.split())[-300:]))
        with open(os.path.join(tmp, "sheet.pdf"), "rb") as f:
            return f.read()
