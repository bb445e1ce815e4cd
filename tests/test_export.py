"""examsolve export: every example in Moodle XML, Canvas QTI 1.2 and PrairieLearn, read back independently."""
from __future__ import annotations

import io
import json
import os
import re
import runpy
import zipfile
from decimal import Decimal
from fractions import Fraction

import pytest
import sympy
from click.testing import CliRunner
from lxml import etree, html as lhtml

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.export import load_problems, moodle, prairielearn, qti
from examsolve.export.model import margin
from examsolve.compare import Rule
from examsolve.tensor import Tensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBLEMS = os.path.join(ROOT, "problems")
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
# the QTI 1.2 ASI element names Canvas's importer reads (its exporter's and text2qti's vocabulary)
QTI_ELEMENTS = {"questestinterop", "assessment", "qtimetadata", "qtimetadatafield", "fieldlabel", "fieldentry",
                "section", "selection_ordering", "selection", "selection_number", "selection_extension",
                "points_per_item", "item", "itemmetadata", "presentation", "material", "mattext", "response_str",
                "response_lid", "render_fib", "render_choice", "response_label", "resprocessing", "outcomes",
                "decvar", "respcondition", "conditionvar", "or", "and", "other", "varequal", "vargte", "varlte",
                "setvar", "displayfeedback", "itemfeedback", "flow_mat"}
MOODLE_NUMERICAL = ["name", "questiontext", "generalfeedback", "defaultgrade", "penalty", "hidden"]
MOODLE_CLOZE = ["name", "questiontext", "generalfeedback", "penalty", "hidden"]
FIELD = re.compile(r"\{(\d+):(NUMERICAL|MULTICHOICE|SHORTANSWER):((?:\\.|[^}\\])*)\}")


@pytest.fixture(scope="module")
def problems():
    return load_problems([PROBLEMS])


@pytest.fixture(scope="module")
def expected():
    """examsolve's answers per example file: the flat list of numeric elements (None where not a number)."""
    out = {}
    for name in sorted(os.listdir(PROBLEMS)):
        if name.endswith(".yaml"):
            sol = solve(load_spec(os.path.join(PROBLEMS, name)))
            out[name[:-5]] = [_num(x) for a in sol.answers
                              for x in (a.value.items if isinstance(a.value, Tensor) else (a.value,))]
    return out


def _num(x):
    try:
        if isinstance(x, sympy.Expr) and x.is_number and x.is_finite and sympy.N(x, 20).is_real:
            return sympy.N(x, 30)
    except (TypeError, ValueError):
        pass
    return None


def _close(text: str, want) -> bool:
    got = sympy.Float(text, 30)
    return abs(got - want) <= sympy.Float("1e-13") * max(1, abs(want))


def _split_unescaped(s: str, sep: str) -> list[str]:
    return [p for p in re.split(r"(?<!\\)" + re.escape(sep), s)]


# ---- Moodle ---------------------------------------------------------------------------------------------

def _moodle_numbers(question) -> list[tuple[str, str, list]]:
    """(right value, tolerance, [(wrong value, feedback)]) of each number field, read from the XML itself."""
    qtype = question.get("type")
    if qtype == "numerical":
        answers = question.findall("answer")
        right = answers[0]
        wrong = [(a.findtext("text"), a.find("feedback").findtext("text")) for a in answers[1:-1]]
        return [(right.findtext("text"), right.findtext("tolerance"), wrong)]
    out = []
    for weight, kind, body in FIELD.findall(question.find("questiontext").findtext("text")):
        if kind != "NUMERICAL":
            continue
        items = _split_unescaped(body, "~")
        value, tol = items[0].lstrip("=").split("#")[0].split(":")
        wrong = []
        for item in items[1:]:
            m = re.match(r"%(\d+(?:\.\d+)?)%([^:]*):([^#]*)#(.*)", item)
            wrong.append((m.group(2), m.group(4)))
        out.append((value, tol, wrong))
    return out


def test_every_example_exports_to_moodle(problems, expected):
    root = etree.fromstring(moodle.to_bytes(problems))
    assert root.tag == "quiz"
    by_slug = {}
    current = None
    for q in root:
        if q.get("type") == "category":
            current = q.find("category").findtext("text").rsplit("/", 1)[-1]
            continue
        tags = [c.tag for c in q]
        # the element order of Moodle's own export (EXPORT.md)
        if q.get("type") == "numerical":
            assert tags[:6] == MOODLE_NUMERICAL and set(tags[6:]) == {"answer"}
            assert q.findall("answer")[-1].findtext("text") == "*"
        else:
            assert q.get("type") == "cloze" and tags == MOODLE_CLOZE
        by_slug.setdefault(current, []).extend(_moodle_numbers(q))
    assert len(by_slug) == len(expected)
    for slug, want in expected.items():
        nums = [w for w in want if w is not None]
        got = by_slug[slug]
        assert len(got) == len(nums), slug
        for (value, tol, wrong), w in zip(got, nums):
            assert _close(value, w), (slug, value, w)
            for wv, fb in wrong:
                assert fb.strip(), (slug, wv)               # every mistake answer carries its feedback
                assert abs(Decimal(wv) - Decimal(value)) > Decimal(tol)   # and never shadows the right one


def test_cloze_tolerance_accepts_rounded_and_rejects_one_unit_off(problems):
    """Default rule (digits written, ≥ 3 s.f.): the value rounded to 3 s.f. passes, one unit in the 3rd digit off fails."""
    root = etree.fromstring(moodle.to_bytes(problems))
    checked = 0
    for q in root.iter("question"):
        if q.get("type") == "category":
            continue
        for value, tol, _ in _moodle_numbers(q):
            x, t = Decimal(value), Decimal(tol)
            if x == 0 or t == 0:
                continue
            unit = Decimal(1).scaleb(x.adjusted() - 2)       # a unit in the 3rd significant digit
            if t != unit / 2:
                continue                                    # a spec's own tolerance: (checked below)
            rounded = x.quantize(unit)
            assert abs(rounded - x) <= t
            off = rounded + unit if rounded >= x else rounded - unit
            assert abs(off - x) > t
            checked += 1
    assert checked > 100


def test_tolerance_mapping_by_hand():
    two_pi = 2 * sympy.pi
    # 2π = 6.2832; 3 s.f. is 6.28, whose last digit is 0.01: half a unit is 0.005
    assert margin(two_pi, Rule()) == Decimal("0.005")
    assert margin(two_pi, Rule("sig", 2)) == Decimal("0.05")          # 6.3: half of 0.1
    assert margin(sympy.Integer(4), Rule("abs", 0.01)) == Decimal("0.01")
    assert margin(sympy.Integer(-4), Rule("rel", 1e-3)) == Decimal("0.004")   # 1e-3 · |−4|
    assert margin(sympy.Rational(1, 8), Rule("exact")) == 0            # 0.125 can be typed exactly
    assert margin(sympy.Rational(1, 3), Rule("exact")) > 0             # 0.333… cannot


def test_spec_tolerance_reaches_every_format(tmp_path):
    spec = tmp_path / "tol.yaml"
    spec.write_text(_spec("Tolerance", "y = x²") + "tolerance: {y: {abs: 0.25}}\n", encoding="utf-8")
    ps = load_problems([str(spec)])
    q = etree.fromstring(moodle.to_bytes(ps)).findall("question")[1]
    assert q.get("type") == "numerical"
    assert q.find("answer").findtext("tolerance") == "0.25"
    item = etree.fromstring(_qti_xml(ps)).find(f".//{QTI}item")
    assert [e.text for e in item.find(f".//{QTI}and")] == ["8.75", "9.25"]       # 9 ± 0.25
    el = lhtml.fromstring(prairielearn.question_html(ps[0].questions[0])).find(".//pl-number-input")
    assert (el.get("comparison"), el.get("atol"), el.get("rtol")) == ("relabs", "0.25", "0")


def _spec(title: str, statement: str) -> str:
    return (f"kind: graph\ntitle: {json.dumps(title)}\nstatement: {json.dumps(statement)}\n"
            "given: {x: 3}\nequations: {y: x**2}\nask:\n  - value: [y]\n")


# ---- Canvas QTI 1.2 ---------------------------------------------------------------------------------------

def _qti_xml(ps) -> bytes:
    z = zipfile.ZipFile(io.BytesIO(qti.to_zip(ps)))
    man = etree.fromstring(z.read("imsmanifest.xml"))
    href = man.find(".//{*}resource/{*}file").get("href")
    assert man.find(".//{*}resource").get("type") == "imsqti_xmlv1p2"
    return z.read(href)


def test_every_example_exports_to_canvas(problems, expected):
    root = etree.fromstring(_qti_xml(problems))
    assert {e.tag.replace(QTI, "") for e in root.iter(etree.Element)} <= QTI_ELEMENTS
    groups = root.find(f"{QTI}assessment/{QTI}section").findall(f"{QTI}section")
    got: dict = {}
    for g in groups:
        assert g.findtext(f".//{QTI}selection_number") == "1"
        for item in g.findall(f"{QTI}item"):
            meta = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                    for f in item.iter(f"{QTI}qtimetadatafield")}
            assert float(meta["points_possible"]) >= 0
            if meta["question_type"] != "numerical_question":
                continue
            slug = g.get("ident")[3:].rsplit("_g", 1)[0]
            either = item.find(f".//{QTI}or")
            value = either.findtext(f"{QTI}varequal")
            lo, hi = (Decimal(e.text) for e in either.find(f"{QTI}and"))
            assert lo <= Decimal(value) <= hi and hi - Decimal(value) == Decimal(value) - lo
            got.setdefault(slug, []).append(value)
    for slug, want in expected.items():
        nums = [w for w in want if w is not None]
        assert len(got.get(slug, [])) == len(nums), slug
        for value, w in zip(got.get(slug, []), nums):
            assert _close(value, w), (slug, value, w)


# ---- PrairieLearn -----------------------------------------------------------------------------------------

INFO_REQUIRED = {"uuid": str, "type": str, "title": str, "topic": str}
INFO_OPTIONAL = {"tags": list, "singleVariant": bool, "partialCredit": bool}


def test_every_example_exports_to_prairielearn(problems, expected, tmp_path):
    prairielearn.write(problems, str(tmp_path / "pl"))
    uuids = set()
    for p in problems:
        folder = tmp_path / "pl" / p.slug
        info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
        assert set(info) <= set(INFO_REQUIRED) | set(INFO_OPTIONAL)
        for k, t in {**INFO_REQUIRED, **INFO_OPTIONAL}.items():
            assert isinstance(info.get(k, t()), t), k
        assert info["type"] == "v3" and re.fullmatch(r"[0-9a-f-]{36}", info["uuid"])
        uuids.add(info["uuid"])
        lhtml.fragments_fromstring((folder / "question.html").read_text(encoding="utf-8"))
        server = runpy.run_path(str(folder / "server.py"))       # plain Python, no PrairieLearn, no examsolve
        data = {"variant_seed": 7, "params": {}, "correct_answers": {}}
        server["generate"](data)
        flat = []
        for v in data["correct_answers"].values():
            if isinstance(v, dict) and v.get("_type") == "ndarray":
                flat += [x for row in v["_value"] for x in row]
            elif isinstance(v, float):
                flat.append(v)
        nums = [w for w in expected[p.slug] if w is not None]
        assert len(flat) == len(nums), p.slug
        for got, w in zip(flat, nums):
            assert abs(got - float(w)) <= 1e-9 * max(1, abs(float(w))), p.slug
    assert len(uuids) == len(problems)


def test_prairielearn_grade_gives_mistake_feedback(tmp_path):
    ps = load_problems([os.path.join(PROBLEMS, "sin_net.yaml")])
    prairielearn.write(ps, str(tmp_path))
    server = runpy.run_path(str(tmp_path / "sin_net" / "server.py"))
    data = {"variant_seed": 1, "params": {}, "correct_answers": {}}
    server["generate"](data)
    data.update(submitted_answers={"L": 2.0}, feedback={})
    server["grade"](data)
    assert "½" in data["feedback"]["L"]        # L = (0 − 2)²/2 = 2: the spec's mistakes: line


# ---- escaping ---------------------------------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script> & {{params.x}} ]]> ~#/"


def test_hostile_title_and_statement_stay_text(tmp_path):
    spec = tmp_path / "evil.yaml"
    spec.write_text(_spec(HOSTILE_TITLE, HOSTILE_TITLE + " Compute y."), encoding="utf-8")
    ps = load_problems([str(spec)])
    mroot = etree.fromstring(moodle.to_bytes(ps))
    q = mroot.findall("question")[1]
    assert q.find("name").findtext("text") == HOSTILE_TITLE
    page = lhtml.fragment_fromstring(q.find("questiontext").findtext("text"), create_parent="div")
    assert not page.findall(".//script") and HOSTILE_TITLE in page.text_content()
    item = etree.fromstring(_qti_xml(ps)).find(f".//{QTI}item")
    assert item.get("title").startswith(HOSTILE_TITLE)
    for mattext in item.iter(f"{QTI}mattext"):
        frag = lhtml.fragment_fromstring(mattext.text, create_parent="div")
        assert not frag.findall(".//script")
    files = prairielearn.files(ps[0])
    assert json.loads(files["info.json"])["title"] == HOSTILE_TITLE
    server = {}
    exec(compile(files["server.py"], "server.py", "exec"), server)   # the generated file, as PL would run it
    stmt = server["VARIANTS"][0]["params"]["statement_html"]
    frag = lhtml.fragment_fromstring(stmt, create_parent="div")
    assert not frag.findall(".//script") and HOSTILE_TITLE in frag.text_content()


def test_cloze_escapes_special_characters():
    assert moodle.cloze_escape('a}b#c~d/e"f\\g') == 'a\\}b\\#c\\~d\\/e\\"f\\\\g'


# ---- variants ---------------------------------------------------------------------------------------------

def test_variants_folder_is_one_problem(tmp_path):
    r = CliRunner().invoke(main, ["variants", os.path.join(PROBLEMS, "sin_net.yaml"), "-n", "3", "--seed", "2",
                                  "-o", str(tmp_path / "v")])
    assert r.exit_code == 0, r.output
    ps = load_problems([str(tmp_path / "v")])
    assert len(ps) == 1 and len(ps[0].questions) == 3
    root = etree.fromstring(moodle.to_bytes(ps))
    assert [q.get("type") for q in root] == ["category", "cloze", "cloze", "cloze"]
    group = etree.fromstring(_qti_xml(ps)).find(f".//{QTI}section/{QTI}section")
    assert len(group.findall(f"{QTI}item")) == 3
    server = {}
    exec(compile(prairielearn.server(ps[0]), "server.py", "exec"), server)
    assert len(server["VARIANTS"]) == 3
    for seed in range(5):
        data = {"variant_seed": seed}
        server["generate"](data)
        k = data["params"]["variant"]
        sol = solve(load_spec(str(tmp_path / "v" / f"sin_net.v{k + 1}.yaml")))
        assert data["correct_answers"]["L"] == float(dict((a.name, a.value) for a in sol.answers)["L"])


# ---- command line -----------------------------------------------------------------------------------------

def test_cli_writes_each_format(tmp_path):
    src = os.path.join(PROBLEMS, "sin_net.yaml")
    runner = CliRunner()
    for to, out in (("moodle", "quiz.xml"), ("canvas", "quiz.zip"), ("prairielearn", "pl")):
        r = runner.invoke(main, ["export", src, "--to", to, "-o", str(tmp_path / out)])
        assert r.exit_code == 0, r.output
    assert etree.parse(str(tmp_path / "quiz.xml")).getroot().tag == "quiz"
    assert zipfile.ZipFile(tmp_path / "quiz.zip").testzip() is None
    assert (tmp_path / "pl" / "sin_net" / "server.py").exists()


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["export", str(tmp_path / "missing.yaml"), "--to", "moodle", "-o", str(tmp_path / "q.xml")])
    assert r.exit_code == 2
    assert re.fullmatch(r".*missing\.yaml:1:1: [^\n]*; [^\n]*\n", r.output)
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: graph\ngiven: {x: 1}\nequations: {y: x +* 2}\nask: [{value: [y]}]\n", encoding="utf-8")
    r = runner.invoke(main, ["export", str(bad), "--to", "canvas", "-o", str(tmp_path / "q.zip")])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "bad.yaml:" in r.output
    r = runner.invoke(main, ["export", str(bad), "--to", "blackboard", "-o", str(tmp_path / "q.zip")])
    assert r.exit_code == 2
    src = os.path.join(PROBLEMS, "sin_net.yaml")
    r = runner.invoke(main, ["export", src, "--to", "moodle", "-o", src])
    assert r.exit_code == 2 and not (tmp_path / "q.zip").exists()


# ---- partial credit on a mistake (credit:) ----------------------------------------------------------------

def _credit_problems(tmp_path, credit: str):
    text = open(os.path.join(PROBLEMS, "sin_net.yaml"), encoding="utf-8").read()
    line = "    set: {equations.L: (y - l)**2/2}\n"
    spec = tmp_path / "sin_net.yaml"
    spec.write_text(text.replace(line, line + f"    credit: {credit}\n"), encoding="utf-8")
    return load_problems([str(spec)])


def test_moodle_mistake_answer_carries_the_credit(tmp_path):
    ps = _credit_problems(tmp_path, "0.5")
    q = etree.fromstring(moodle.to_bytes(ps)).findall("question")[1]
    fields = FIELD.findall(q.find("questiontext").findtext("text"))
    # sin_net's fields: u, y, L, dL/dw[0], dL/dw[1], w after 1 step[0], [1]; the ½ mistake gives L = 2 and
    # dL/dw = (−4, −2), each at 50 %; the slips (sign, ½, 2×) stay at 0 %
    L = _split_unescaped(fields[2][2], "~")
    assert any(item.startswith("%50%2:") and "½" in item for item in L), L
    assert all(item.startswith(("=", "%0%", "%50%")) for item in L)
    dw0 = _split_unescaped(fields[3][2], "~")
    assert any(item.startswith("%50%-4:") for item in dw0), dw0


def test_moodle_credit_snaps_to_moodles_grade_list(tmp_path):
    # Moodle refuses an imported fraction off its list: 0.3 → 30, 0.34 → 33.33333, 0.07 → 5
    assert [moodle.percent(x) for x in (Fraction(3, 10), Fraction(34, 100), Fraction(7, 100), Fraction(1))] == \
        ["30", "33.33333", "5", "100"]
    spec = tmp_path / "one.yaml"
    mistake = "mistakes:\n  - {feedback: 'x² read as 2x', answers: {y: 6}, credit: 0.25}\n"
    spec.write_text(_spec("One", "y = x²") + mistake, encoding="utf-8")
    q = etree.fromstring(moodle.to_bytes(load_problems([str(spec)]))).findall("question")[1]
    assert q.get("type") == "numerical"
    by_value = {a.findtext("text"): a.get("fraction") for a in q.findall("answer")}
    assert by_value["9"] == "100" and by_value["6"] == "25" and by_value["*"] == "0"


def test_prairielearn_grade_gives_the_mistakes_credit(tmp_path):
    ps = _credit_problems(tmp_path, "0.5")
    prairielearn.write(ps, str(tmp_path / "pl"))
    server = runpy.run_path(str(tmp_path / "pl" / "sin_net" / "server.py"))
    data = {"variant_seed": 1, "params": {}, "correct_answers": {}}
    server["generate"](data)
    # as PrairieLearn hands it to grade(): u right (weight 1), L wrong (weight 1) before the question's grade()
    data.update(submitted_answers={"u": 6.283, "L": 2.0}, feedback={},
                partial_scores={"u": {"score": 1, "weight": 1}, "L": {"score": 0, "weight": 1}})
    server["grade"](data)
    assert data["partial_scores"]["L"]["score"] == 0.5 and "½" in data["feedback"]["L"]
    assert data["score"] == (1 + 0.5) / 2


# ---- MathML and the graph -----------------------------------------------------------------------------------

MATHML = "http://www.w3.org/1998/Math/MathML"


def _fragment(text: str):
    return lhtml.fragment_fromstring(text, create_parent="div")


def test_moodle_and_canvas_carry_mathml(tmp_path):
    ps = load_problems([os.path.join(PROBLEMS, "sin_net.yaml")])
    q = etree.fromstring(moodle.to_bytes(ps)).findall("question")[1]
    for where in ("questiontext", "generalfeedback"):
        page = _fragment(q.find(where).findtext("text"))
        maths = page.findall(".//math")
        assert maths and all(m.get("xmlns") == MATHML for m in maths), where
    # the given w = (π/2, π): a fraction π over 2 in MathML
    given = _fragment(q.find("questiontext").findtext("text"))
    assert any(f.findtext("mi") == "π" and f.findtext("mn") == "2" for f in given.iter("mfrac"))
    # the steps: u = 2·π among the worked solution's maths; the text version stays
    fb = q.find("generalfeedback").findtext("text")
    assert "<pre>" in fb and "1.1. u = w₁·x₁ + w₂·x₂" in _fragment(fb).findtext(".//pre")
    item = etree.fromstring(_qti_xml(ps)).find(f".//{QTI}item")
    texts = [_fragment(m.text) for m in item.iter(f"{QTI}mattext") if m.get("texttype") == "text/html"]
    assert any(t.findall(".//math") for t in texts)
    assert all(m.get("xmlns") == MATHML for t in texts for m in t.iter("math"))


def test_moodle_graph_inline_svg_bare_in_question_full_in_feedback(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed")
    ps = load_problems([os.path.join(PROBLEMS, "sin_net.yaml")])
    q = etree.fromstring(moodle.to_bytes(ps)).findall("question")[1]
    svg_ns = "{http://www.w3.org/2000/svg}"

    def svg_of(where):
        # the CDATA is HTML; the svg inside it is XML (viewBox keeps its case), read back by its own tags
        text = q.find(where).findtext("text")
        start, end = text.index("<svg"), text.index("</svg>") + len("</svg>")
        return etree.fromstring(text[start:end])

    bare, full = svg_of("questiontext"), svg_of("generalfeedback")
    assert bare.tag == f"{svg_ns}svg" and bare.get("viewBox")
    words = lambda s: " ".join(t.text or "" for t in s.iter(f"{svg_ns}text"))   # noqa: E731
    # the question's graph shows no numbers to give the answers away: L = 4 and ∂L/∂y = −4 only in the feedback
    assert "sin" in words(bare) and "4" not in words(bare)
    assert "4" in words(full)
    assert not [e for e in bare.iter() if isinstance(e.tag, str) and e.tag.endswith(("script", "a"))]


def test_prairielearn_graph_file(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed")
    ps = load_problems([os.path.join(PROBLEMS, "sin_net.yaml")])
    prairielearn.write(ps, str(tmp_path))
    svg = etree.parse(str(tmp_path / "sin_net" / "clientFilesQuestion" / "graph.svg")).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    page = lhtml.fragment_fromstring((tmp_path / "sin_net" / "question.html").read_text(encoding="utf-8"),
                                     create_parent="div")
    assert page.find(".//pl-figure").get("file-name") == "graph.svg"


def test_no_dot_means_no_graph_and_a_note(tmp_path, monkeypatch):
    import shutil

    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot" else real(name, *a, **k))
    ps = load_problems([os.path.join(PROBLEMS, "sin_net.yaml")])
    q = etree.fromstring(moodle.to_bytes(ps)).findall("question")[1]
    assert "<svg" not in q.find("questiontext").findtext("text")
    assert "dot is not installed" in q.find("generalfeedback").findtext("text")
    files = prairielearn.files(ps[0])
    assert prairielearn.GRAPH not in files and "pl-figure" not in files["question.html"]


# ---- the QTI checked against text2qti (PyPI, test extra): the same numerical question, the same structure ---

def _shape(el) -> tuple:
    """An element's tag, attributes and children's shapes (text left out: values are compared as numbers)."""
    return (etree.QName(el).localname, tuple(sorted(el.attrib.items())), tuple(_shape(c) for c in el))


def test_numerical_item_has_text2qti_structure(tmp_path):
    t2q = pytest.importorskip("text2qti.quiz")
    from text2qti.config import Config      # Config() without load(): nothing is read or written in $HOME
    from text2qti.qti import QTI as T2Q

    # y = −4·x at x = 2 is −8, accepted within ± 0.005: ours from a spec, text2qti's from its own quiz text
    spec = tmp_path / "num.yaml"
    spec.write_text("kind: graph\ngiven: {x: 2}\nequations: {y: -4*x}\nask:\n  - value: [y]\n"
                    "tolerance: {y: {abs: 0.005}}\n", encoding="utf-8")
    ours = etree.fromstring(_qti_xml(load_problems([str(spec)]))).find(f".//{QTI}item")
    quiz = t2q.Quiz("Quiz title: t\n\n1.  y = ?\n... solution\n+   right\n-   wrong\n=   -8 +- 0.005\n",
                    config=Config())
    z = zipfile.ZipFile(io.BytesIO(T2Q(quiz).zip_bytes()))
    name = next(n for n in z.namelist() if n.endswith(".xml") and "/" in n and not n.endswith("meta.xml"))
    theirs = etree.fromstring(z.read(name)).find(f".//{QTI}item")

    def meta(item):
        return {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                for f in item.iter(f"{QTI}qtimetadatafield")}
    assert meta(ours)["question_type"] == meta(theirs)["question_type"] == "numerical_question"
    for path in (f"{QTI}presentation/{QTI}response_str", f"{QTI}resprocessing"):
        assert _shape(ours.find(path)) == _shape(theirs.find(path)), path
    assert [f.get("ident") for f in ours.findall(f"{QTI}itemfeedback")] == \
        [f.get("ident") for f in theirs.findall(f"{QTI}itemfeedback")]
    assert [etree.QName(c).localname for c in ours] == [etree.QName(c).localname for c in theirs]
    # the condition's numbers: the same exact value and bounds (text2qti writes −8.0000, −8.0050, −7.9950)
    for tag in ("varequal", "vargte", "varlte"):
        a, b = ours.find(f".//{QTI}{tag}"), theirs.find(f".//{QTI}{tag}")
        assert Decimal(a.text) == Decimal(b.text), tag
