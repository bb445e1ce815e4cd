"""An answer sheet: one LaTeX document (or PDF through latexmk) for several problems."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from examsolve.errors import SolveError
from examsolve.renderers import latex
from examsolve.renderers.printing import latex_text

TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures latexmk"


def render(solutions, digits: int = 6, title: str = "Answers", drawings=None, **_) -> str:
    """The sheet as a LaTeX document: title block, a numbered section per problem."""
    drawings = drawings or [None] * len(solutions)
    head = latex.preamble(graphs=True) + (
        "\\begin{center}{\\LARGE %s}\\\\[4pt]{\\small %d problem%s, solved by examsolve}\\end{center}\n"
        % (latex_text(title), len(solutions), "" if len(solutions) == 1 else "s"))
    body = "\n".join(latex._one(s, digits, sheet=True, drawing=d) for s, d in zip(solutions, drawings))
    return head + body + "\\end{document}\n"


def to_pdf(tex: str) -> bytes:
    """Compile a document with latexmk (pdflatex); SolveError naming the packages when missing."""
    for tool in ("latexmk", "pdflatex"):
        if shutil.which(tool) is None:
            raise SolveError(f"a PDF needs `{tool}`; install TeX (Debian/Ubuntu: apt-get install {TEX_PACKAGES}) "
                             "or write a .tex file")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sheet.tex")
        with open(path, "w", encoding="utf-8") as f:
            f.write(tex)
        r = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"],
                           cwd=tmp, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            lines = [ln for ln in r.stdout.splitlines() if ln.startswith("!")]
            raise SolveError("LaTeX failed: " + (lines[0] if lines else r.stdout.strip()[-300:]))
        with open(os.path.join(tmp, "sheet.pdf"), "rb") as f:
            return f.read()
