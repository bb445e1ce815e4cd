"""Graphviz DOT (and SVG through `dot`) of a Drawing: left to right, leaves boxed, the loss doubled."""
from __future__ import annotations

import shutil
import subprocess

from examsolve.errors import SolveError
from examsolve.names import text_name
from examsolve.renderers.printing import short_text

STYLE = {
    "leaf": 'shape=box, style="rounded,filled", fillcolor="#e8f0fe"',
    "const": 'shape=box, style="dashed"',
    "op": 'shape=ellipse',
    "node": 'shape=box, style="filled", fillcolor="#fff4d6"',
}


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(d, values: bool = True, grads: bool = True) -> str:
    """DOT text of a drawing; edge labels carry values and gradients as asked."""
    out = ["digraph examsolve {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=12];',
           '  edge [fontname="Helvetica", fontsize=10];']
    if d.title:
        out.append(f"  label={_quote(d.title)}; labelloc=t;")
    for n in d.nodes:
        label = text_name(n.label, d.names) if n.kind in ("leaf", "node") else n.label
        if n.kind == "op":
            label = f"{n.label}  ({n.arity})" + (f"\\n{text_name(n.name, d.names)}" if n.name else "")
        style = STYLE[n.kind] + (", peripheries=2" if n.name and n.name == d.of else "")
        out.append(f"  {n.id} [label={_quote(label).replace(chr(92) * 2 + 'n', chr(92) + 'n')}, {style}];")
    for e in d.edges:
        parts = []
        if values and e.value is not None:
            parts.append(short_text(e.value))
        if grads and e.grad is not None:
            parts.append(f"∂{d.of}: " + short_text(e.grad))
        label = f" [label={_quote(chr(10).join(parts)).replace(chr(10), chr(92) + 'n')}]" if parts else ""
        out.append(f"  {e.src} -> {e.dst}{label};")
    out.append("}")
    return "\n".join(out) + "\n"


MAX_SVG_BYTES = 256 * 1024    # DOT text handed to graphviz; a larger drawing is refused before dot runs
MAX_SVG_LINES = 3000          # nodes and edges in it (dot's layout grows much faster than linearly)
SVG_SECONDS = 60              # at most this long for dot, and never past the run's time budget


def to_svg(dot_text: str) -> str:
    """SVG made by graphviz's `dot`; SolveError saying how to install it when it is missing.

    Bounded: the DOT text by size and line count, dot's run by the run's time budget (at most 60 s);
    past either, a BudgetError (exit 1) suggesting --format dot or text.
    """
    from examsolve import budget

    exe = shutil.which("dot")
    if exe is None:
        raise SolveError("drawing SVG needs graphviz's `dot`; install it (Debian/Ubuntu: apt-get install "
                         "graphviz; macOS: brew install graphviz) or use --format dot")
    lines = dot_text.count("\n")
    if len(dot_text) > MAX_SVG_BYTES or lines > MAX_SVG_LINES:
        raise budget.BudgetError(f"the drawing is too large for svg ({lines} lines, {len(dot_text)} bytes of DOT; "
                                 f"at most {MAX_SVG_LINES} lines and {MAX_SVG_BYTES} bytes); use --format dot "
                                 "or --format text", kind="size")
    budget.check("drawing SVG")
    left = budget.remaining()
    seconds = SVG_SECONDS if left is None else max(0.1, min(SVG_SECONDS, left))
    try:
        r = subprocess.run([exe, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise budget.BudgetError(f"graphviz's dot took longer than {seconds:.3g} s to lay out the drawing "
                                 f"({lines} lines of DOT; --time-limit); use --format dot or --format text",
                                 kind="time") from None
    if r.returncode != 0:
        raise SolveError(f"graphviz failed: {r.stderr.strip()[:200]}")
    return r.stdout
