"""The Python API: solve_file / solve (Spec, dict, YAML text), typed answers, renderings, Jupyter display."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import sympy
import yaml
from click.testing import CliRunner

import examsolve
from examsolve.cli import main
from examsolve.errors import SolveError, SpecError

from conftest import PROBLEMS, ROOT

SPEC = "kind: graph\ngiven: {x: 3, w: 2}\nequations: {y: w*x, L: (y - 5)**2}\nask: [{grad: {of: L, wrt: w}}]\n"


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_solve_file_agrees_with_run_json(path):
    sol = examsolve.solve_file(path)
    r = CliRunner().invoke(main, ["run", str(path), "--format", "json"])
    assert r.exit_code == 0, r.output
    expected = json.loads(r.output)["answers"]
    assert [a.name for a in sol.answers] == [a["name"] for a in expected]
    plain = sol.floats()
    for a, e in zip(sol.answers, expected):
        assert plain[a.name] == e["value"], a.name
        assert a.agrees == e["agrees"], a.name
        assert sol.values[a.name] is a.value


def test_answers_are_values_a_program_can_use():
    # L = (w·x − 5)², ∂L/∂w = 2·(w·x − 5)·x = 2·(6 − 5)·3 = 6 at x = 3, w = 2
    sol = examsolve.solve(SPEC)
    (a,) = sol.answers
    assert sol.answer(a.name).value == 6 and isinstance(a.value, sympy.Basic)
    assert sol.floats()[a.name] == 6
    with pytest.raises(KeyError):
        sol.answer("nope")


def test_solve_takes_a_spec_a_dict_or_text():
    path = ROOT / "problems" / "sin_net.yaml"
    text = path.read_text(encoding="utf-8")
    want = examsolve.solve_file(path).values
    assert examsolve.solve(examsolve.load_spec(str(path))).values == want
    assert examsolve.solve(yaml.safe_load(text)).values == want
    assert examsolve.solve(text).values == want


def test_errors_keep_their_positions():
    with pytest.raises(SpecError) as e:
        examsolve.solve(SPEC.replace("w*x", "w*/x"))
    assert re.match(r"<string>:3:\d+: ", str(e.value))
    with pytest.raises(SpecError) as e:
        examsolve.solve({"kind": "graph", "given": {"x": 1}, "equations": {"y": "x"}, "ask": [{"valeu": "y"}]})
    assert str(e.value).startswith("<dict>:")
    with pytest.raises(SolveError) as e:
        examsolve.solve("kind: graph\ngiven: {x: 0}\nequations: {y: log(x)}\nask: [{value: y}]\n")
    assert str(e.value).startswith("<string>:3:")
    with pytest.raises(SpecError) as e:
        examsolve.solve("problems/sin_net.yaml")
    assert "solve_file" in str(e.value)
    with pytest.raises(SpecError):
        examsolve.solve_file(ROOT / "problems" / "missing.yaml")
    assert examsolve.SpecError is SpecError and examsolve.SolveError is SolveError


@pytest.mark.parametrize("name", ["sin_net", "critical_points", "vgg16", "bn_jacobian"])
def test_renderings_and_jupyter_display(name):
    sol = examsolve.solve_file(ROOT / "problems" / f"{name}.yaml")
    for method in ("to_latex", "to_markdown", "to_html", "to_json", "_repr_html_", "_repr_latex_", "_repr_markdown_"):
        out = getattr(sol, method)()
        assert isinstance(out, str) and out.strip(), method
    assert json.loads(sol.to_json())["title"] == sol.title
    assert sol._repr_latex_().startswith("$$") and sol._repr_latex_().endswith("$$")
    assert "<!DOCTYPE" not in sol._repr_html_() and 'class="examsolve"' in sol._repr_html_()
    assert "\\documentclass" in sol.to_latex(standalone=True)


def test_a_drawing_displays_as_svg():
    sol = examsolve.solve_file(ROOT / "problems" / "sin_net.yaml")
    d = sol.drawing()
    assert d.of == "L"                     # the loss the gradient steps differentiate, as `graph` draws it
    svg = d._repr_svg_()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<script" not in svg
    assert "<svg" in sol.to_html(with_graph=True)
    assert examsolve.solve_file(ROOT / "problems" / "vgg16.yaml").drawing() is None


def test_import_examsolve_imports_no_sympy():
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", "import examsolve; examsolve.solve; "
                        "examsolve.solve_file"], capture_output=True, text=True, check=True)
    modules = [line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")]
    assert "examsolve" in modules
    heavy = [m for m in modules if m.split(".")[0] in ("sympy", "mpmath", "pydantic", "rich")]
    assert not heavy, heavy
