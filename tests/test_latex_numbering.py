"""LaTeX step numbers: arabic at every level (2.27), so a section of 30 substeps compiles (\\alph stops at 26)."""
from __future__ import annotations

import subprocess

import sympy

from conftest import require_tool

from examsolve import render
from examsolve.steps import Solution, Step


def _long() -> Solution:
    subs = tuple(Step(f"layer {i}", target=sympy.Symbol(f"p_{i}"), value=sympy.Integer(i)) for i in range(30))
    return Solution(kind="network", title="thirty layers", steps=(Step("Layers", substeps=(
        Step("inner", substeps=subs),) + subs),))


def test_nested_steps_are_numbered_like_the_terminal():
    tex = render(_long(), "latex")
    assert r"\renewcommand{\labelenumii}{\arabic{enumi}.\arabic{enumii}.}" in tex


def test_thirty_substeps_compile(tmp_path):
    require_tool("pdflatex")
    (tmp_path / "a.tex").write_text(render(_long(), "latex", standalone=True), encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "a.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
