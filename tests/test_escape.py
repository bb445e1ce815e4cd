"""Hostile names and text: no TeX injection, no raw HTML, no terminal markup, one escaping path (issue 12).

Every field that becomes a symbol name is refused with exit 2 and one located line, or its name reaches
LaTeX, Markdown and the terminal as text only; sheets compile without reading files, in bounded time, to
the same bytes every time, and leave no temporary folder behind.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, require_tool

from examsolve.cli import main

FORBIDDEN_TEX = ("\\input", "\\write", "\\def", "\\catcode", "\\openin", "\\read", "\\immediate", "\\csname")
HOSTILE = [
    r"\input{/etc/passwd}",
    r"\def\a{\a}\a",
    r"\catcode95=12 \catcode35=12",
    r"\write18{touch /tmp/pwned}",
    r"\text{\input{/etc/hostname}}",
    "{", "}", "$", "%", "#", "a&b", "~^", "_x",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[bold red]x[/]",
    "a\nb",
    "\x1b[2J",
    "＼input｛/etc/passwd｝",       # fullwidth: decomposes to \input{/etc/passwd}
]

# one spec per name-bearing field; NAME is replaced by the hostile name (a YAML double-quoted string)
FIELDS = {
    "lr.lr": "kind: lr\nparams: [w]\nloss: 3*w**2 - 1\nlr: NAME\n",
    "lr.params": "kind: lr\nparams: [w, NAME]\nloss: 3*w**2 - 1\n",
    "lr.symbols": "kind: lr\nparams: [w]\nsymbols: [NAME]\nloss: 3*w**2 - 1\n",
    "optimizer.params": "kind: optimizer\nparams: {x1: 1, NAME: 1}\nloss: 2*x1**2\noptimizer: {type: gd}\n",
    "optimizer.given": "kind: optimizer\nparams: {x1: 1}\ngiven: {NAME: 1}\nloss: 2*x1**2\noptimizer: {type: gd}\n",
    "loss.given": "kind: loss\ngiven: {NAME: 1}\nlogits: [0, 1]\ntarget: 1\n",
    "graph.given": "kind: graph\ngiven: {NAME: 2, x: 1}\nequations: {y: x**2}\nask:\n  - value: [y]\n",
    "graph.symbols": "kind: graph\nsymbols: [x, NAME]\nequations: {y: x**2}\nask:\n  - value: [y]\n",
    "graph.functions": "kind: graph\nsymbols: [x]\nfunctions: [NAME]\nequations: {y: x**2}\nask:\n  - value: [y]\n",
    "graph.equations": "kind: graph\nsymbols: [x]\nequations: {NAME: x**2, y: x}\nask:\n  - value: [y]\n",
    "graph.ask_name": "kind: graph\ngiven: {x: 3}\nequations: {f: x**2}\nask:\n  - grad: {of: f, wrt: x, name: NAME}\n",
    "graph.text": "kind: graph\ntitle: NAME\nsource: NAME\nstatement: NAME\ngiven: {x: 3}\nequations: {f: x**2}\n"
                  "ask:\n  - value: [f]\n",
    "conv.name": "kind: conv\ngiven: {x: [2, 1, 2], w: [1, 0]}\nconv: {input: x, kernel: w, name: NAME}\n"
                 "equations: {f: x[0]}\nask:\n  - value: [f]\n",
    "rnn.state": "kind: rnn\ngiven: {w: 2}\nsequences: {x: [1, 2]}\nstate: NAME\ninitial: 0\ncell: w*x\n"
                 "ask:\n  - value: [w]\n",
    "policy.action": "kind: policy\ngiven: {theta: 2}\nestimate: a2c\npolicy:\n  NAME: sigmoid(theta*x)\n"
                     "  '2': 1 - sigmoid(theta*x)\nq: {NAME: 6, '2': -2}\ntrajectory:\n  - {state: 1, action: NAME}\n",
    "network.layer_name": "kind: network\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 2, kernel: 3, name: NAME}\n",
    "perceptron.unit": "kind: perceptron\ninputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\nnetwork:\n"
                       "  - {name: NAME, inputs: [x1, x2], weights: [1, 1], bias: -0.5}\n"
                       "  - {name: y, inputs: [NAME], weights: [1], bias: -0.5}\n",
}
# fields that hold a symbol name: every hostile name is refused there
NAME_FIELDS = ("lr.lr", "lr.params", "lr.symbols", "optimizer.params", "optimizer.given", "loss.given",
               "graph.given", "graph.symbols", "graph.functions", "graph.equations", "conv.name", "rnn.state",
               "perceptron.unit")
LOCATED = re.compile(r"^.+:\d+:\d+: \S")


def _spec(field: str, name: str) -> str:
    return FIELDS[field].replace("NAME", json.dumps(name))


def _braces(tex: str) -> int:
    depth = 0
    for m in re.finditer(r"\\.|[{}]", tex, re.S):
        depth += {"{": 1, "}": -1}.get(m.group(), 0)
        if depth < 0:
            return depth
    return depth


def assert_safe_latex(tex: str, what: str = "") -> None:
    code = re.sub(r"(?m)^%.*$", "", tex)        # comments never run
    for bad in FORBIDDEN_TEX:
        assert bad not in code, (what, bad)
    assert _braces(code) == 0, (what, "unbalanced braces")
    assert "\x1b" not in tex and "\r" not in tex, what


def assert_safe_markdown(md: str, what: str = "") -> None:
    for tag in ("<script", "<img", "<b>", "</"):
        assert tag not in md, (what, tag)
    assert "](" not in md.replace("\\](", ""), what


def _invoke(args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every field with every hostile name through `run --format latex`: (field, name) -> (result, spec path)."""
    tmp = tmp_path_factory.mktemp("names")
    out = {}
    for i, field in enumerate(FIELDS):
        for j, name in enumerate(HOSTILE):
            path = tmp / f"{field}.{j}.yaml"
            path.write_text(_spec(field, name), encoding="utf-8")
            out[field, name] = (_invoke(["run", path, "--format", "latex", "--standalone"]), path)
    return out


def test_hostile_names_are_refused_in_one_located_line_or_shown_as_text(outcomes):
    bad = []
    for (field, name), (r, path) in outcomes.items():
        if r.exit_code == 2:
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            if len(lines) != 1 or not LOCATED.match(lines[0]) or not lines[0].startswith(str(path)):
                bad.append((field, name, "not one located line", r.stderr))
        elif r.exit_code == 0:
            try:
                assert_safe_latex(r.stdout, (field, name))
            except AssertionError as e:
                bad.append((field, name, str(e)))
        else:
            bad.append((field, name, r.exit_code, r.stderr or repr(r.exception)))
    assert not bad, bad[:5]


def test_every_symbol_field_refuses_every_hostile_name(outcomes):
    accepted = [(f, n) for (f, n), (r, _) in outcomes.items() if f in NAME_FIELDS and r.exit_code != 2]
    assert not accepted, accepted


def test_the_name_check_points_at_the_field(tmp_path):
    spec = tmp_path / "lr.yaml"
    spec.write_text("kind: lr\nparams: [w]\nloss: 3*w**2 - 1\nlr: '\\def\\a{\\a}\\a'\n", encoding="utf-8")
    r = _invoke(["run", spec])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"{spec}:4:6: lr: ") and "not a valid name" in r.stderr
    spec.write_text("kind: optimizer\nparams:\n  x1: 1\n  '\\input{x}': 2\nloss: x1**2\noptimizer: {type: gd}\n",
                    encoding="utf-8")
    r = _invoke(["check", spec])
    assert r.exit_code == 2 and r.stderr.startswith(f"{spec}:4:4: params: ")


def test_accepted_hostile_text_in_markdown_terminal_and_sheets(outcomes, tmp_path):
    from examsolve import load_spec, solve
    from examsolve.renderers import render

    accepted = [(f, n, p) for (f, n), (r, p) in outcomes.items() if r.exit_code == 0]
    assert {f for f, _, _ in accepted} >= {"graph.ask_name", "graph.text", "policy.action", "network.layer_name"}
    for field, name, path in accepted:
        sol = solve(load_spec(str(path)))
        assert_safe_markdown(render(sol, "markdown"), (field, name))
        term = render(sol, "terminal")
        assert "\x1b" not in term
        if name == "[bold red]x[/]" and field == "graph.text":
            assert "[bold red]x[/]" in term, "rich markup in a title is shown as it is"
    for mode in ([], ["--questions-only"], ["--key"]):
        tex = tmp_path / f"sheet{len(mode)}{''.join(mode)}.tex"
        r = _invoke(["sheet", *[p for _, _, p in accepted], "-o", tex, *mode])
        assert r.exit_code == 0, r.stderr
        assert_safe_latex(tex.read_text(encoding="utf-8"), mode)


def test_accepted_hostile_text_compiles(outcomes, tmp_path):
    require_tool("latexmk")
    accepted = [p for (f, n), (r, p) in outcomes.items() if r.exit_code == 0]
    pdf = tmp_path / "sheet.pdf"
    r = _invoke(["sheet", *accepted, "-o", pdf])
    assert r.exit_code == 0, r.stderr
    assert pdf.read_bytes().startswith(b"%PDF")


def _secret_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return [ln for ln in f.read().splitlines() if len(ln) > 4]


def _pdf_text(pdf: Path) -> str:
    require_tool("pdftotext")
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


PROBE = "kind: lr\nparams: [w]\nloss: 3*w**2 - 1\nlr: '\\text{\\catcode95=12 \\catcode35=12 \\input{/etc/passwd}}'\n"


def test_the_probe_spec_is_refused(tmp_path):
    spec = tmp_path / "probe.yaml"
    spec.write_text(PROBE, encoding="utf-8")
    r = _invoke(["sheet", spec, "-o", tmp_path / "x.pdf"])
    assert r.exit_code == 2 and LOCATED.match(r.stderr) and not (tmp_path / "x.pdf").exists()


def _probe_solution(name: str):
    """The probe's solution with the hostile name put past the name check, straight into the symbols."""
    import dataclasses

    from examsolve import load_spec, solve
    from examsolve.steps import Answer, Step

    sol = solve(load_spec(str(ROOT / "problems" / "sgd_quadratic.yaml")))
    evil = sympy.Symbol(name, real=True)
    step = Step("rate", target=evil, formula=1 - evil * sympy.Symbol("lambda"), value=sympy.Rational(1, 2))
    return dataclasses.replace(sol, steps=sol.steps + (step,),
                               answers=sol.answers + (Answer(name, evil + 1, evil),),
                               given=((name, sympy.Integer(1)),))


def test_a_name_past_the_check_is_still_typeset_as_text(tmp_path):
    """Defence in depth: the symbol printer never copies a command out of a name."""
    from examsolve.renderers import render, sheet

    for name in HOSTILE:
        sol = _probe_solution(name)
        assert_safe_latex(render(sol, "latex", standalone=True), name)
        assert_safe_latex(sheet.render([sol]), name)
        assert_safe_markdown(render(sol, "markdown"), name)


def test_a_sheet_never_reads_passwd_even_past_the_name_check(tmp_path):
    require_tool("latexmk")
    from examsolve.renderers import sheet

    name = r"\text{\catcode95=12 \catcode35=12 \input{/etc/passwd}}"
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(sheet.to_pdf(sheet.render([_probe_solution(name)])))
    text = _pdf_text(pdf)
    assert not any(ln in text for ln in _secret_lines("/etc/passwd"))
    assert "catcode95" in text.replace(" ", "")          # the name is there, as text


def _tmp_dirs(base: Path) -> list:
    return sorted(p.name for p in base.iterdir()) if base.exists() else []


def test_latex_that_loops_stops_in_time_and_leaves_no_folder(tmp_path, monkeypatch):
    require_tool("latexmk")
    import tempfile

    from examsolve.errors import SolveError
    from examsolve.renderers import sheet

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(sheet, "LATEX_SECONDS", 2)
    start = time.monotonic()
    with pytest.raises(SolveError, match="did not finish in 2 s"):
        sheet.to_pdf("\\documentclass{article}\\begin{document}\\def\\a{\\a}\\a\\end{document}\n")
    assert time.monotonic() - start < 30
    assert _tmp_dirs(tmp_path) == []


def test_latex_cannot_read_files_outside_its_folder(tmp_path):
    require_tool("latexmk")
    from examsolve.errors import SolveError
    from examsolve.renderers import sheet

    secret = tmp_path / "secret.tex"
    secret.write_text("SECRETWORD\n", encoding="utf-8")
    tex = "\\documentclass{article}\\begin{document}x\\input{%s}\\end{document}\n" % secret
    with pytest.raises(SolveError):                 # paranoid: no absolute paths outside the build folder
        sheet.to_pdf(tex)
    tex = "\\documentclass{article}\\begin{document}\\immediate\\write18{touch %s/pwned}x\\end{document}\n" % tmp_path
    sheet.to_pdf(tex)
    assert not (tmp_path / "pwned").exists()


def test_the_same_sheet_gives_the_same_pdf_bytes(tmp_path):
    require_tool("latexmk")
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    spec = ROOT / "problems" / "sin_net.yaml"
    assert _invoke(["sheet", spec, "-o", a]).exit_code == 0
    time.sleep(1.1)                                       # another second: the PDF's dates must not change
    assert _invoke(["sheet", spec, "-o", b]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_sigterm_during_latex_removes_the_folder(tmp_path):
    require_tool("latexmk")
    code = ("import tempfile, sys; tempfile.tempdir = sys.argv[1]\n"
            "from examsolve.renderers import sheet\n"
            "print('go', flush=True)\n"
            "sheet.to_pdf('\\\\documentclass{article}\\\\begin{document}\\\\def\\\\a{\\\\a}\\\\a\\\\end{document}')\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.stdout.readline().strip() == "go"
    deadline = time.monotonic() + 20
    while not _tmp_dirs(tmp_path) and time.monotonic() < deadline:     # the build folder exists
        time.sleep(0.05)
    time.sleep(1.0)                                                      # latexmk is running
    assert _tmp_dirs(tmp_path)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 128 + signal.SIGTERM
    p.stdout.close()
    assert _tmp_dirs(tmp_path) == []


def test_markdown_shows_html_as_text(tmp_path):
    spec = tmp_path / "a.yaml"
    spec.write_text(
        "kind: graph\ntitle: '<script>alert(1)</script> [x](javascript:alert(1))'\n"
        "statement: '<img src=x onerror=alert(1)> &lt;b&gt;'\nsource: '<b>bold</b>'\ngiven: {x: 3}\n"
        "equations: {f: x**2}\nask:\n  - grad: {of: f, wrt: x, name: '<script>alert(2)</script>'}\n",
        encoding="utf-8")
    r = _invoke(["run", spec, "--format", "markdown"])
    assert r.exit_code == 0, r.stderr
    md = r.stdout
    assert_safe_markdown(md)
    assert "## &lt;script>alert(1)&lt;/script> [x\\](javascript:alert(1))" in md
    assert "> &lt;img src=x onerror=alert(1)> &amp;lt;b&amp;gt;" in md
    latex = _invoke(["run", spec, "--format", "latex"]).stdout
    assert_safe_latex(latex)
    assert "<script>alert(1)</script>" in latex          # in LaTeX, < and > are plain text


def test_mistake_feedback_in_a_markdown_key_note_is_text(tmp_path):
    # f = x² = 9 at x = 3; the key 5 matches the mistake, whose feedback the key note quotes
    spec = tmp_path / "a.yaml"
    spec.write_text(
        "kind: graph\ngiven: {x: 3}\nequations: {f: x**2}\nask: [{value: f}]\nkey: {f: 5}\n"
        "mistakes:\n  - feedback: '<script>alert(5)</script> \\\\input{z}'\n    answers: {f: 5}\n",
        encoding="utf-8")
    r = _invoke(["run", spec, "--format", "markdown"])
    assert r.exit_code == 0, r.stderr
    assert_safe_markdown(r.stdout)
    assert "DISAGREES with the key" in r.stdout and "&lt;script>alert(5)&lt;/script>" in r.stdout


def test_answer_names_in_markdown_math_are_text():
    from examsolve.renderers import render
    from examsolve.steps import Answer

    sol = _probe_solution("x")
    import dataclasses
    sol = dataclasses.replace(sol, answers=(Answer("<script>alert(2)</script> $$ \\href{javascript:x}{y} }", 1),))
    md = render(sol, "markdown")
    assert_safe_markdown(md)
    assert ("$$\\text{&lt;script&gt;alert(2)&lt;/script&gt; \\$\\$ \\textbackslash{}href\\{javascript:x\\}\\{y\\} \\}} = "
            in md)


def test_a_file_path_with_a_newline_stays_on_its_comment_line(tmp_path):
    odd = tmp_path / "a\n\\input{secret}\r\\def\\b{}.yaml"
    odd.write_text((ROOT / "problems" / "sin_net.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    r = _invoke(["run", odd, "--format", "latex"])
    assert r.exit_code == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("% examsolve: ") and first.endswith("a?\\input{secret}?\\def\\b{}.yaml")
    assert_safe_latex(r.stdout)
    for mode in ([], ["--key"]):
        tex = tmp_path / "s.tex"
        assert _invoke(["sheet", odd, "-o", tex, *mode]).exit_code == 0
        assert_safe_latex(tex.read_text(encoding="utf-8"), mode)


def test_rich_markup_and_escape_sequences_stay_out_of_the_terminal(tmp_path):
    import dataclasses

    from examsolve.renderers import render
    from examsolve.steps import Answer, Step, Table

    spec = tmp_path / "a.yaml"
    spec.write_text('kind: graph\ntitle: "t\\e[2J\\e]0;pwn\\a [red]x"\ngiven: {x: 3}\nequations: {f: x**2}\nask:\n'
                    "  - value: [f]\n", encoding="utf-8")
    r = _invoke(["run", spec])
    assert r.exit_code == 0, (r.stderr, r.exception)
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "[red]x" in r.stdout
    sol = _probe_solution("x")
    table = Step("table", table=Table(("[/]", "[bold]h"), ((1, sympy.Integer(2)),)))
    sol = dataclasses.replace(sol, steps=sol.steps + (table,),
                              answers=(Answer("[/]", 1), Answer("[red]r[/red]\x1b[1m", 2)))
    out = render(sol, "terminal")                 # rich would raise MarkupError on "[/]" as markup
    assert "[/]" in out and "[bold]h" in out and "[red]r[/red]?[1m" in out and "\x1b" not in out


# ---- the escaping functions themselves -------------------------------------------------------------------

TEXT_COMMANDS = {"textbackslash", "textasciitilde", "ldots", "times", "cdot", "approx", "mathsf", "partial",
                 "nabla", "infty", "cup", "emptyset", "in", "Leftrightarrow", "neq", "leftarrow", "sqrt", "to",
                 "le", "ge", "sum", "Sigma", "varepsilon", "hat", "tilde", "text"} | {
    k for k in ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau phi "
                "chi psi omega Gamma Delta Theta Lambda Phi Omega").split()}


def _commands(tex: str) -> set:
    return set(re.findall(r"\\([A-Za-z]+)", tex))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_latex_text_is_ascii_balanced_and_holds_only_its_own_commands(s):
    from examsolve.escape import latex_text

    t = latex_text(s)
    assert t.isascii()
    assert _braces(t) == 0
    assert _commands(t) <= TEXT_COMMANDS, t
    assert not re.search(r"(?<!\\)[%#&~]", t.replace("\\textasciitilde{}", "")), t
    assert len(re.findall(r"(?<!\\)\$", t)) % 2 == 0


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1))
def test_the_symbol_printer_never_copies_a_command_from_a_name(name):
    from examsolve.renderers.printing import latex

    tex = latex(sympy.Symbol(name))
    assert _braces(tex) == 0, tex
    assert _commands(tex) <= TEXT_COMMANDS | {"mathrm", "operatorname", "hat", "bar", "dot", "ddot", "check",
                                              "breve", "acute", "grave", "vec", "mathring", "prime", "boldsymbol",
                                              "mathcal", "mathscr", "mathfrak", "left", "right", "overline",
                                              "langle", "rangle", "Xi", "Pi", "Psi", "Upsilon", "upsilon",
                                              "varphi", "vartheta", "varpi", "varrho", "varsigma", "varkappa",
                                              "digamma", "mathbf", "mathbb", "lvert", "rvert", "lVert", "rVert",
                                              "dddot", "ddddot", "textbackslash", "textasciitilde"}, (name, tex)
    assert not re.search(r"(?<!\\)[%#&$~]", re.sub(r"\\text\{.*\}", "", tex)), (name, tex)


def test_plain_names_print_as_before():
    from examsolve.renderers.printing import latex

    expected = {"x_1": "x_{1}", "alpha": r"\alpha", "xhat": r"\hat{x}", "eps": r"\epsilon", "W_hh": "W_{hh}",
                "λ_max": r"\lambda _max", "α*": r"\alpha *", "∇f": r"\nabla f", "H(p)": "H(p)",
                "KL(p‖q)": r"KL(p\| q)"}
    assert {n: latex(sympy.Symbol(n)) for n in expected} == expected


def test_other_escapes():
    from examsolve.escape import html_text, latex_comment, latex_text, markdown_math, markdown_text, terminal_text

    assert latex_comment("a\nb\r\x00c\u2028d") == "a?b??c?d"
    assert markdown_text("a <b> & &amp; [x](y) | \\* 0 < 1 > 0") == "a &lt;b> & &amp;amp; [x\\](y) | \\\\* 0 < 1 > 0"
    assert markdown_text("a|b", cell=True) == "a\\|b"
    assert markdown_math("$x < 0, \\text{<script>}$") == "$x < 0, \\text{&lt;script>}$"
    assert html_text("<a href='x'>&\"</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;&lt;/a&gt;"
    assert terminal_text("a\x1b[2Jb\tc\nd\re") == "a?[2Jb\tc\nd?e"
    from examsolve.renderers import printing
    assert printing.latex_text is latex_text        # one escaping path, re-exported where it used to live


def test_a_precomposed_hat_keeps_its_hat():
    """ŷ (U+0177, one character) is y with a circumflex: \\hat{y}, as y followed by U+0302 is; é is not an
    accent this module draws (it stays e)."""
    from examsolve.escape import latex_text

    assert latex_text("\u0177 \u2212 y") == latex_text("y\u0302 \u2212 y")
    assert r"$\hat{y}$" in latex_text("\u0177")
    assert latex_text("é") == "e"


def test_markdown_text_keeps_every_backslash_literal():
    """\\input{...} and \\write18 in a title would be raw TeX to pandoc (raw_tex): every backslash is escaped."""
    from examsolve.escape import markdown_text

    assert markdown_text(r"\input{/etc/passwd} \write18{x}") == r"\\input{/etc/passwd} \\write18{x}"


@pytest.mark.parametrize("fmt", ["terminal", "html", "latex", "markdown"])
def test_bidi_overrides_never_reach_a_reader(tmp_path, fmt):
    # U+202E (right-to-left override) and U+2066 (isolate) reorder the text shown after them ("Trojan source")
    spec = tmp_path / "a.yaml"
    spec.write_text('kind: graph\ntitle: "key \\u202e 01 \\u2066 x"\ngiven: {x: 3}\nequations: {f: x**2}\n'
                    "ask: [{value: f}]\n", encoding="utf-8")
    r = _invoke(["run", spec, "--format", fmt])
    assert r.exit_code == 0, r.stderr
    assert "\u202e" not in r.stdout and "\u2066" not in r.stdout
