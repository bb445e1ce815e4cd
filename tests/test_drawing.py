"""Drawings over every example: DOT parses, TikZ compiles, edges carry the right gradients; sheets compile."""
from __future__ import annotations

import subprocess

import pytest
import sympy
from click.testing import CliRunner

from conftest import PROBLEMS, ROOT, require_tool

from examsolve import drawing, load_spec, solve
from examsolve.cli import main
from examsolve.renderers import dot, tikz, tree
from examsolve.tensor import Tensor

IDS = [p.name for p in PROBLEMS]


def draw(path, of=None):
    spec = load_spec(str(path))
    sol = solve(spec)
    if sol.graph is None:
        pytest.skip("this family has no computational graph")
    return drawing.build(sol.graph, spec.model.conventions.model_dump(), of or drawing.default_of(spec),
                         title=sol.title, names=sol.names), sol


def items(v):
    return v.items if isinstance(v, Tensor) else (v,)


def test_sin_net_graph_has_every_operator_and_leaf():
    d, _ = draw(ROOT / "problems/sin_net.yaml")
    # y = sin(wᵀx) − b, L = (y − l)²: operators ᵀ, @, sin, −, −, **2 and leaves x, w, b, l → 10 nodes
    ops = sorted(n.label for n in d.nodes if n.kind == "op")
    assert ops == sorted([".T", "@", "sin", "−", "−", "**2"])
    assert sorted(n.label for n in d.nodes if n.kind == "leaf") == ["b", "l", "w", "x"]
    assert len(d.nodes) == 10


def test_sin_net_edges_carry_values_and_gradients():
    d, _ = draw(ROOT / "problems/sin_net.yaml")
    by = {(d.node(e.src).label, d.node(e.dst).name or d.node(e.dst).label): e for e in d.edges}
    # into y (the − node): sin's output 0 with ∂L/∂ = −4 (by hand: 2(y − l)·1 = −4)
    assert by[("sin", "y")].value == 0 and by[("sin", "y")].grad == -4
    # w's edge: ∂L/∂w = ∂L/∂u · x = −4·(2, 1) = (−8, −4)
    assert items(by[("w", ".T")].grad) == (-8, -4)
    # b enters y = sin(u) − b with sign −1: ∂L/∂b = −(−4) = 4
    assert by[("b", "y")].grad == 4


@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_edge_gradients_add_up_to_each_leaf_gradient(path):
    """The per-edge gradients out of a leaf sum to its gradient, which test_examples checks by FD."""
    d, _ = draw(path)
    if not d.of:
        pytest.skip("no scalar to differentiate")
    for n in d.nodes:
        if n.kind != "leaf":
            continue
        out = [e.grad for e in d.edges if e.src == n.id]
        if not out:
            continue
        totals = [sympy.Add(*xs) for xs in zip(*(items(g) for g in out))]
        for t, want in zip(totals, items(n.grad)):
            diff = sympy.sympify(t - want)
            # symbolic (a kink by cases on one side, sign(θ) on the other): equal at points on every side
            points = [{s: sympy.Rational(k * (i + 2), 3 + i) for i, s in enumerate(sorted(diff.free_symbols, key=str))}
                      for k in (-2, -1, 0, 1, 3)] if diff.free_symbols else [{}]
            for at in points:
                assert abs(sympy.N(diff.xreplace(at), 30)) < 1e-20, (n.label, t, want, at)


@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_dot_parses(path):
    require_tool("dot")
    d, _ = draw(path)
    r = subprocess.run(["dot", "-Tsvg"], input=dot.render(d), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "<svg" in r.stdout


@pytest.mark.parametrize("path", PROBLEMS, ids=IDS)
def test_tikz_compiles(path, tmp_path):
    require_tool("pdflatex")
    d, _ = draw(path)
    (tmp_path / "g.tex").write_text(tikz.standalone(d), encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "g.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_text_tree_and_determinism():
    a = tree.render(draw(ROOT / "problems/sin_net.yaml")[0])
    b = tree.render(draw(ROOT / "problems/sin_net.yaml")[0])
    assert a == b and "u = @ (2)" in a and "∂L: (-8, -4)" in a


def test_graph_command_formats(tmp_path):
    run = CliRunner().invoke
    f = str(ROOT / "problems/sin_net.yaml")
    assert "digraph" in run(main, ["graph", f, "--format", "dot"]).output
    assert r"\begin{tikzpicture}" in run(main, ["graph", f, "--format", "tikz"]).output
    out = run(main, ["graph", f, "--format", "dot", "--no-grads", "--no-values"]).output
    assert "label=\"2·π" not in out and "∂L" not in out
    bad = run(main, ["graph", f, "--of", "u_nope"])
    assert bad.exit_code == 2 and "unknown" in bad.output


def test_svg_without_graphviz_says_how_to_install(monkeypatch):
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: None)
    r = CliRunner().invoke(main, ["graph", str(ROOT / "problems/sin_net.yaml"), "--format", "svg"])
    assert r.exit_code == 1 and "apt-get install graphviz" in r.output


def test_run_with_graph_in_every_format():
    f = str(ROOT / "problems/sin_net.yaml")
    for fmt, marker in (("latex", "tikzpicture"), ("markdown", "```dot"), ("terminal", "Computational graph"),
                        ("json", '"edges"')):
        r = CliRunner().invoke(main, ["run", f, "--with-graph", "--format", fmt])
        assert r.exit_code == 0 and marker in r.output, fmt


def test_sheet_of_all_examples_compiles(tmp_path):
    require_tool("latexmk")
    out = tmp_path / "answers.pdf"
    r = CliRunner().invoke(main, ["sheet", str(ROOT / "problems"), "--output", str(out), "--with-graph",
                                  "--title", "All examples"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"%PDF")


def test_sheet_tex_and_missing_latexmk(tmp_path, monkeypatch):
    tex = tmp_path / "a.tex"
    r = CliRunner().invoke(main, ["sheet", str(ROOT / "problems/sin_net.yaml"), "-o", str(tex)])
    assert r.exit_code == 0 and r"\section{" in tex.read_text()
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: None)
    r = CliRunner().invoke(main, ["sheet", str(ROOT / "problems/sin_net.yaml"), "-o", str(tmp_path / "a.pdf")])
    assert r.exit_code == 1 and "texlive-latex-base" in r.output
