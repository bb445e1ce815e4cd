"""TikZ of a Drawing (packages from texlive-pictures only): layered left to right, labels on edges."""
from __future__ import annotations

import re

from examsolve.escape import latex_text
from examsolve.renderers.printing import latex, short_latex

OPS = {"+": "+", "−": "-", "×": r"\times", "/": "/", "@": "@", ".T": r"(\cdot)^{\mathsf{T}}", "=": "="}

STYLES = r"""leaf/.style={draw, rounded corners, fill=blue!8, minimum height=6mm},
  const/.style={draw, dashed, minimum height=6mm},
  op/.style={draw, ellipse, minimum height=7mm, align=center},
  node/.style={draw, fill=orange!10, minimum height=6mm},
  loss/.style={double},
  lbl/.style={font=\scriptsize, align=center, fill=white, inner sep=1pt}"""


def _label(n, names: dict) -> str:
    if n.kind in ("leaf", "node"):
        return "$" + latex(_sym(n.label), names) + "$"
    if n.kind == "const":
        return "$" + _math_text(n.label) + "$"
    op = n.label
    if op in OPS:
        tex = OPS[op]
    elif op.startswith("**"):
        tex = r"(\cdot)^{%s}" % latex_text(op[2:])
    elif op.startswith("["):
        tex = r"(\cdot)" + latex_text(op).replace(r"\_", "_")
    else:
        tex = r"\text{%s}" % latex_text(op)     # not \mathrm: a Greek name is $\lambda$ in text mode
    name = r"\\ {\scriptsize $%s$}" % latex(_sym(n.name), names) if n.name else ""
    return f"${tex}$ {{\\scriptsize ({n.arity})}}{name}"


def _math_text(s: str) -> str:
    r"""A constant's text in math mode: as it is when plain (2, 0.5, x\_1), else in \text{...}."""
    t = latex_text(s)
    return t if re.fullmatch(r"(?:[A-Za-z0-9.,+\-*/()'= ]|\\_)*", t) else r"\text{%s}" % t


def _sym(name: str):
    import sympy
    return sympy.Symbol(name)


def layers(d) -> dict:
    """Column of every node: 0 for nodes without inputs, else one more than its deepest input."""
    inputs: dict = {n.id: [] for n in d.nodes}
    users: dict = {n.id: [] for n in d.nodes}
    for e in d.edges:
        inputs[e.dst].append(e.src)
        users[e.src].append(e.dst)
    waiting = {k: len(v) for k, v in inputs.items()}
    ready = [n.id for n in d.nodes if not inputs[n.id]]
    col = {k: 0 for k in ready}
    while ready:                      # Kahn's order: a node is placed once all its inputs are
        k = ready.pop()
        for u in users[k]:
            col[u] = max(col.get(u, 0), col[k] + 1)
            waiting[u] -= 1
            if waiting[u] == 0:
                ready.append(u)
    for n in d.nodes:                 # a leaf stands just before its first user
        if not inputs[n.id] and users[n.id]:
            col[n.id] = max(min(col[u] for u in users[n.id]) - 1, 0)
    return col


def positions(d) -> dict:
    """(column, row) of every node: rows ordered by the mean row of the neighbours, twice over."""
    col = layers(d)
    inputs: dict = {n.id: [] for n in d.nodes}
    users: dict = {n.id: [] for n in d.nodes}
    for e in d.edges:
        inputs[e.dst].append(e.src)
        users[e.src].append(e.dst)
    columns: dict = {}
    for n in d.nodes:
        columns.setdefault(col[n.id], []).append(n.id)
    row = {k: i for c in columns.values() for i, k in enumerate(c)}
    for _ in range(2):
        for c in sorted(columns):
            def key(k):
                near = inputs[k] or users[k]
                return (sum(row[j] for j in near) / len(near) if near else row[k], int(k[1:]))
            columns[c].sort(key=key)
            row.update({k: i for i, k in enumerate(columns[c])})
    return {k: (col[k], row[k]) for k in col}


def render(d, values: bool = True, grads: bool = True) -> str:
    """A tikzpicture; edge labels carry values and gradients as asked."""
    pos = positions(d)
    out = [r"\begin{tikzpicture}[>=stealth, " + STYLES + "]"]
    for n in d.nodes:
        c, r = pos[n.id]
        style = n.kind + (", loss" if n.name and n.name == d.of else "")
        out.append(rf"\node[{style}] ({n.id}) at ({c * 4.0:.1f}cm, {-r * 1.8:.1f}cm) {{{_label(n, d.names)}}};")
    for e in d.edges:
        parts = []
        if values and e.value is not None:
            parts.append("$" + short_latex(e.value) + "$")
        if grads and e.grad is not None:
            parts.append(r"$\partial %s{:}\ %s$" % (latex(_sym(d.of), d.names), short_latex(e.grad)))
        joined = r" \\ ".join(parts)
        span = pos[e.dst][0] - pos[e.src][0]
        # an edge over several columns bends, so it does not run through the nodes between
        path, where = ("to[bend right=22]", "pos=0.3") if span > 1 else ("--", "midway")
        label = rf" node[lbl, {where}] {{{joined}}}" if parts else ""
        out.append(rf"\draw[->] ({e.src}) {path}{label} ({e.dst});")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out) + "\n"


def fit_width(picture: str) -> str:
    """The picture scaled down to the line width when it is wider (graphicx only)."""
    return ("\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
            + picture + "}\n")


def standalone(d, values: bool = True, grads: bool = True) -> str:
    """A landscape page holding just the picture (compiles with pdflatex)."""
    return ("\\documentclass{article}\n\\usepackage[landscape,margin=1cm]{geometry}\n"
            "\\usepackage{amsmath,amssymb,graphicx,tikz}\n\\usetikzlibrary{shapes.geometric}\n"
            "\\pagestyle{empty}\n\\begin{document}\n\\centering\n"
            + fit_width(render(d, values, grads)) + "\\end{document}\n")
