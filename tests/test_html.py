"""The HTML page: escaping, structure, typed values, every example, and a real browser (headless chromium)."""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

import examsolve
from examsolve.cli import main
from examsolve.renderers import html as H
from examsolve.renderers import mathml as M
from examsolve.steps import Answer, Solution, Step, Table
from examsolve.tensor import Tensor
from examsolve import typed

from conftest import PROBLEMS, ROOT, require_tool

SHOTS = ROOT / "tests" / "screenshots"
HOSTILE = "<script>alert(1)</script> & </math> <b>x</b>"


class Page(HTMLParser):
    """Every tag with its attributes, and the text a reader sees, as a browser's tokenizer splits them."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.ends: list[str] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self.ends.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def names(self) -> list[str]:
        return [t for t, _ in self.tags]


def _page(sol, **kw) -> str:
    return H.render([sol], **kw)


def test_hostile_text_shows_as_text():
    """A title, source, statement, note, table header, answer name or symbol name with markup stays text."""
    weird = sympy.Symbol("a</math><script>x</script>&")
    sol = Solution(kind="graph", title=HOSTILE, source=HOSTILE, statement=HOSTILE, file="x.yaml",
                   given=((weird.name, sympy.Integer(2)),),
                   steps=(Step(title=HOSTILE, note=HOSTILE, table=Table((HOSTILE,), ((sympy.Integer(1),),)),
                               substeps=(Step(title="t", target=weird, formula=weird + 1, value=sympy.Integer(3)),
                                         Step(title="s", target=sympy.Symbol("z"), value=HOSTILE))),),
                   answers=(Answer(HOSTILE, sympy.Integer(3)), Answer("b", HOSTILE, key=sympy.Integer(1), agrees=False,
                                                                          key_note=HOSTILE)),
                   notes=(HOSTILE,))
    page = _page(sol)
    p = Page(page)
    assert "script" not in p.names() and "b" not in p.names()
    # every </math> the page holds closes a <math> it opened
    assert p.names().count("math") == p.ends.count("math")
    text = "".join(p.text)
    assert text.count("<script>alert(1)</script> & </math> <b>x</b>") >= 8
    assert "a</math><script>x</script>&" in text
    for m in re.findall(r"<math\b.*?</math>", page, flags=re.S):
        assert M.is_clean(m), m


def test_hostile_spec_through_the_command_line(tmp_path):
    spec = tmp_path / "h.yaml"
    spec.write_text("kind: graph\ntitle: " + json.dumps(HOSTILE) + "\nstatement: " + json.dumps(HOSTILE)
                    + "\ngiven: {x: 2}\nequations: {y: x**2}\nask: [{value: y}]\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["run", str(spec), "--format", "html"])
    assert r.exit_code == 0, r.output
    p = Page(r.output)
    assert "script" not in p.names() and "b" not in p.names()
    assert "".join(p.text).count(HOSTILE) >= 3          # <title>, heading and question


def _sin_net() -> str:
    sol = examsolve.solve_file(ROOT / "problems" / "sin_net.yaml")
    return H.render([sol], drawings=[sol.drawing()])


def test_structure_of_a_page():
    page = _sin_net()
    p = Page(page)
    assert page.startswith("<!DOCTYPE html>")
    assert ("html", {"lang": "en"}) in p.tags
    csp = [a["content"] for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0] and "script" not in csp[0]
    # sin_net asks for u, y, L, dL/dw and w after one step: five boxed answers
    assert [a["data-name"] for t, a in p.tags if t == "li" and "answer" in a.get("class", "").split()] == \
        ["u", "y", "L", "dL/dw", "w after 1 step"]
    assert len([1 for t, a in p.tags if t == "math" and a.get("class") == "answer"]) == 5
    # three sections (forward, backward, descent); the steps with substeps fold away
    assert p.names().count("details") >= 3 and p.names().count("summary") == p.names().count("details")
    assert "@media print" in page and "prefers-color-scheme:dark" in page
    assert "svg" in p.names() and "pre" in p.names()          # the drawing and its text version
    svg = next(a for t, a in p.tags if t == "svg")
    assert svg["role"] == "img" and svg["aria-describedby"].endswith("-text")


def test_nothing_is_loaded_from_elsewhere():
    page = _sin_net()
    p = Page(page)
    for tag, attrs in p.tags:
        for key in ("src", "href", "xlink:href", "action", "data", "poster"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(key) or ""), (tag, key, attrs[key])
    assert not {"script", "link", "iframe", "object", "embed", "img", "foreignobject", "a"} & set(p.names())
    assert "<!DOCTYPE svg" not in page and "<?xml" not in page and "<!--" not in page


def _tokens(markup: str) -> list[str]:
    """The text of the leaves of some MathML, in order."""
    return [t for t in Page(markup).text if t.strip()]


def test_typed_values():
    # (0, 1/3) ∪ {2}: open interval, then a finite set, joined by ∪
    s = sympy.Union(sympy.Interval.open(0, sympy.Rational(1, 3)), sympy.FiniteSet(2))
    assert _tokens(M.value(s)) == ["(", "0", ",", "1", "3", ")", "∪", "{", "2", "}"]
    assert _tokens(M.value(sympy.Interval(-sympy.oo, 0))) == ["(", "−", "∞", ",", "0", "]"]
    assert _tokens(M.value(sympy.EmptySet)) == ["∅"]
    assert _tokens(M.value(True)) == ["yes"] and _tokens(M.value(False)) == ["no"]
    c = typed.Classification("saddle", "eigenvalues of both signs")
    assert _tokens(M.value(c)) == ["saddle point (eigenvalues of both signs)"]
    cps = typed.CriticalPoints((typed.CriticalPoint((("x", sympy.Integer(1)), ("y", sympy.Integer(0))),
                                                    typed.Classification("local_minimum")),))
    assert _tokens(M.value(cps)) == ["(", "1", ",", "0", ")", ":", "local minimum"]
    assert "mtable" in M.value(cps)
    # a matrix: a bracketed table, one row per row
    t = Tensor((2, 2), tuple(sympy.Integer(k) for k in (1, -2, 3, 4)))
    out = M.value(t)
    assert out.count("<mtr>") == 2 and _tokens(out) == ["[", "1", "−", "2", "3", "4", "]"]


def test_a_result_shows_exact_and_decimal():
    # π/2 + 4 = 5.5707963...; to 6 significant digits 5.5708 (trailing zero dropped as the terminal does)
    out = M.result(sympy.pi / 2 + 4, 6)
    toks = _tokens(out)
    assert "≈" in toks and toks[-1] == "5.5708" and "π" in toks
    assert _tokens(M.result(sympy.Integer(7), 6)) == ["7"]


def test_critical_points_page_names_each_kind():
    sol = examsolve.solve_file(ROOT / "problems" / "critical_points.yaml")
    text = "".join(Page(_page(sol)).text)
    for a in sol.answers:
        if isinstance(a.value, typed.Classification):
            assert a.value.words in text


def test_without_dot_the_drawing_is_text(monkeypatch):
    sol = examsolve.solve_file(ROOT / "problems" / "sin_net.yaml")
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot" else real(name, *a, **k))
    page = H.render([sol], drawings=[sol.drawing()])
    p = Page(page)
    assert "svg" not in p.names() and "pre" in p.names()
    assert "dot is not installed" in " ".join("".join(p.text).split())


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_every_example_renders(path):
    sol = examsolve.solve_file(path)
    page = _page(sol)
    p = Page(page)
    assert p.names().count("math") == p.ends.count("math")
    assert len([1 for t, a in p.tags if t == "math" and a.get("class") == "answer"]) == len(sol.answers)
    for m in re.findall(r"<math\b.*?</math>", page, flags=re.S):
        assert M.is_clean(m), m[:300]


def test_sheet_and_run_write_html(tmp_path):
    out = tmp_path / "answers.html"
    files = [str(ROOT / "problems" / n) for n in ("sin_net.yaml", "bn_jacobian.yaml")]
    r = CliRunner().invoke(main, ["sheet", *files, "-o", str(out), "--with-graph", "--title", "Exam & key"])
    assert r.exit_code == 0, r.output
    p = Page(out.read_text(encoding="utf-8"))
    assert p.names().count("article") == 2 and "svg" in p.names()
    assert "Exam & key" in "".join(p.text)
    r = CliRunner().invoke(main, ["sheet", *files, "-o", str(out), "--key"])
    assert r.exit_code == 0 and "Solution" not in "".join(Page(out.read_text(encoding="utf-8")).text)
    r = CliRunner().invoke(main, ["run", files[0], "--format", "html", "--with-graph"])
    assert r.exit_code == 0 and "<svg" in r.output


# ---- a real browser --------------------------------------------------------------------------------------------
WIDTH = 390
# The page goes, unchanged (its CSP too), into an iframe 390 px wide; the wrapper measures inside it and writes
# the numbers into <pre id="results">, which --dump-dom prints.
PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0}</style></head>
<body><iframe id="f" width="%d" height="844" srcdoc="%s"></iframe><pre id="results"></pre><script>
window.onerror = function (m) { document.getElementById('results').textContent = 'ERROR ' + m; };
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, w = this.contentWindow;
  var answers = Array.prototype.map.call(d.querySelectorAll('math.answer'), function (m) {
    var b = m.getBoundingClientRect();
    return {w: b.width, h: b.height, display: w.getComputedStyle(m).display};
  });
  document.getElementById('results').textContent = JSON.stringify({
    answers: answers, scrollWidth: d.documentElement.scrollWidth, clientWidth: d.documentElement.clientWidth,
    bodyScrollWidth: d.body.scrollWidth});
});
</script></body></html>
"""


def _chromium() -> str:
    require_tool("chromium")
    return shutil.which("chromium")


def _browse(exe: str, path: Path) -> tuple[dict, str, Path]:
    sol = examsolve.solve_file(path)
    page = H.render([sol], drawings=[sol.drawing()] if sol.graph is not None else None)
    SHOTS.mkdir(exist_ok=True)
    probe = SHOTS / f"{path.stem}.probe.html"
    probe.write_text(PROBE % (WIDTH, page.replace("&", "&amp;").replace('"', "&quot;")), encoding="utf-8")
    shot = SHOTS / f"{path.stem}.png"
    r = subprocess.run([exe, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run",
                        "--hide-scrollbars", f"--window-size={WIDTH + 110},900", "--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=3000", f"--screenshot={shot}", "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=120)
    probe.unlink()
    m = re.search(r'<pre id="results">(.*?)</pre>', r.stdout, flags=re.S)
    assert m and m.group(1).startswith("{"), (r.stdout[-500:], r.stderr[-2000:])
    import html as _html
    return json.loads(_html.unescape(m.group(1))), r.stderr, shot


@pytest.fixture(scope="module")
def browsed():
    """Every example through chromium once (two at a time), as {stem: (results, log, screenshot)}."""
    exe = _chromium()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((p.stem for p in PROBLEMS), pool.map(lambda p: _browse(exe, p), PROBLEMS)))


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_in_a_browser(browsed, path):
    results, log, shot = browsed[path.stem]
    # the page has no script, so any console message (a CSP refusal, an error) means something is wrong
    bad = [ln for ln in log.splitlines() if "CONSOLE" in ln or "Uncaught" in ln or "Refused to" in ln]
    assert not bad, bad
    assert results["answers"], "no answers measured"
    for a in results["answers"]:
        assert a["w"] > 0 and a["h"] > 0, a
        assert "math" in a["display"], a          # laid out as MathML, not as unknown inline elements
    assert results["clientWidth"] <= WIDTH
    assert results["scrollWidth"] <= results["clientWidth"], results
    assert shot.stat().st_size > 1000


def test_a_console_error_is_seen():
    """The log check above can fail: a page that loads a remote image is refused by its own CSP, and says so."""
    exe = _chromium()
    page = _sin_net().replace("</main>", '<img src="https://example.invalid/x.png" alt=""></main>')
    SHOTS.mkdir(exist_ok=True)
    f = SHOTS / "csp_probe.html"
    f.write_text(page, encoding="utf-8")
    r = subprocess.run([exe, "--headless=new", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=2000", "--dump-dom", f.as_uri()],
                       capture_output=True, text=True, timeout=120)
    f.unlink()
    assert "Refused to" in r.stderr or "CONSOLE" in r.stderr, r.stderr[-1500:]
