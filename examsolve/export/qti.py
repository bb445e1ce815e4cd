"""Canvas-flavoured QTI 1.2 (quiz.zip): imsmanifest.xml and one assessment; a question group per answer field
(selection_number 1) holding that field of every variant, so each student gets one variant.

Numbers use Canvas's "exact answer with margin" condition; yes/no and classifications are multiple choice;
sets, intervals and expressions are short answers (exact text). Canvas cannot attach feedback to a wrong
value (EXPORT.md), so the known mistakes are listed in the general incorrect feedback.
"""
from __future__ import annotations

import hashlib
import io
import zipfile

from lxml import etree

from examsolve.export import html
from examsolve.export.model import Blank, Problem, Question, plain

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
SCHEMA = QTI_NS + " http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd"
_STAMP = (2020, 1, 1, 0, 0, 0)      # fixed zip times: the same input gives the same bytes


def check_target(out: str, inputs) -> None:
    """SpecError (exit 2) when out cannot be written or would replace an input."""
    from examsolve import outputs

    outputs.check_target(out, inputs)


def write(problems: list[Problem], out: str, inputs=()) -> None:
    """Write quiz.zip atomically."""
    from examsolve import outputs

    outputs.write(out, to_zip(problems), inputs)


def ident(problems: list[Problem]) -> str:
    """The assessment's identifier, from the problems' names (stable across runs)."""
    return "es_" + hashlib.sha256("\n".join(p.slug for p in problems).encode()).hexdigest()[:16]


def to_zip(problems: list[Problem]) -> bytes:
    """The zip package: manifest plus assessment XML."""
    aid = ident(problems)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("imsmanifest.xml", manifest(aid)), (f"{aid}/{aid}.xml", assessment(problems, aid))):
            info = zipfile.ZipInfo(name, _STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def manifest(aid: str) -> bytes:
    """imsmanifest.xml listing the assessment as an imsqti_xmlv1p2 resource."""
    m = etree.Element(f"{{{CP_NS}}}manifest", nsmap={None: CP_NS}, identifier=f"{aid}_manifest")
    meta = etree.SubElement(m, f"{{{CP_NS}}}metadata")
    etree.SubElement(meta, f"{{{CP_NS}}}schema").text = "IMS Content"
    etree.SubElement(meta, f"{{{CP_NS}}}schemaversion").text = "1.1.3"
    etree.SubElement(m, f"{{{CP_NS}}}organizations")
    res = etree.SubElement(etree.SubElement(m, f"{{{CP_NS}}}resources"), f"{{{CP_NS}}}resource",
                           identifier=aid, type="imsqti_xmlv1p2")
    etree.SubElement(res, f"{{{CP_NS}}}file", href=f"{aid}/{aid}.xml")
    return etree.tostring(m, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _q(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, f"{{{QTI_NS}}}{tag}", **attrs)
    if text is not None:
        el.text = html._clean(text)
    return el


def assessment(problems: list[Problem], aid: str) -> bytes:
    """The QTI 1.2 assessment: a group per (problem, answer field), an item per variant."""
    root = etree.Element(f"{{{QTI_NS}}}questestinterop", nsmap={None: QTI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA)
    title = problems[0].title if len(problems) == 1 else f"examsolve: {len(problems)} problems"
    a = _q(root, "assessment", ident=aid, title=html._clean(title)[:250])
    _metadata(_q(a, "qtimetadata"), [("cc_maxattempts", "1")])
    top = _q(a, "section", ident="root_section")
    for p in problems:
        first = p.questions[0]
        for pi, part in enumerate(first.parts):
            for bi, b in enumerate(part.blanks):
                _group(top, p, pi, bi, b)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _metadata(parent, fields) -> None:
    for label, entry in fields:
        f = _q(parent, "qtimetadatafield")
        _q(f, "fieldlabel", label)
        _q(f, "fieldentry", entry)


def _group(top, p: Problem, pi: int, bi: int, b: Blank) -> None:
    """One question group: the same field of every variant, one drawn per student."""
    sec = _q(top, "section", ident=f"es_{p.slug}_g{pi}_{bi}", title=html._clean(f"{p.slug}: {b.label}")[:250])
    sel = _q(_q(sec, "selection_ordering"), "selection")
    _q(sel, "selection_number", "1")
    _q(_q(sel, "selection_extension"), "points_per_item", _points(b))
    for vi, q in enumerate(p.questions, 1):
        if pi < len(q.parts) and bi < len(q.parts[pi].blanks):
            _item(sec, q, q.parts[pi].blanks[bi], f"es_{p.slug}_v{vi}_{pi}_{bi}")


def _points(b: Blank) -> str:
    from decimal import Decimal

    return plain(Decimal(b.points.numerator) / Decimal(b.points.denominator), 7)


QTYPE = {"number": "numerical_question", "choice": "multiple_choice_question", "text": "short_answer_question"}


def _item(sec, q: Question, b: Blank, iid: str) -> None:
    """One item: metadata, presentation, response processing, feedback."""
    item = _q(sec, "item", ident=iid, title=html._clean(f"{q.title}: {b.label}")[:250])
    _metadata(_q(_q(item, "itemmetadata"), "qtimetadata"),
              [("question_type", QTYPE[b.kind]), ("points_possible", _points(b)),
               ("original_answer_ids", f"{iid}_a1")])
    pres = _q(item, "presentation")
    body = html.statement(q, rich=True, graph=False) + [html._p(f"{b.label} = ?")]
    _q(_q(pres, "material"), "mattext", html.serialise(body), texttype="text/html")
    if b.kind == "choice":
        lid = _q(pres, "response_lid", ident="response1", rcardinality="Single")
        rc = _q(lid, "render_choice")
        for i, c in enumerate(b.choices, 1):
            lab = _q(rc, "response_label", ident=f"{iid}_c{i}")
            _q(_q(lab, "material"), "mattext", c, texttype="text/plain")
    else:
        rs = _q(pres, "response_str", ident="response1", rcardinality="Single")
        _q(_q(rs, "render_fib", fibtype="Decimal") if b.kind == "number" else _q(rs, "render_fib"),
           "response_label", ident="answer1")
    _resprocessing(item, b, iid)
    _feedbacks(item, q, b)


def _resprocessing(item, b: Blank, iid: str) -> None:
    """Show the worked solution, then SCORE 100 on the right answer, else the incorrect feedback."""
    rp = _q(item, "resprocessing")
    _q(_q(rp, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    first = _q(rp, "respcondition", **{"continue": "Yes"})
    _q(_q(first, "conditionvar"), "other")
    _q(first, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    right = _q(rp, "respcondition", **{"continue": "No"})
    cond = _q(right, "conditionvar")
    if b.kind == "number":
        either = _q(cond, "or")
        _q(either, "varequal", b.value, respident="response1")
        both = _q(either, "and")
        x = _decimal(b.value)
        _q(both, "vargte", plain(x - b.margin, 20), respident="response1")
        _q(both, "varlte", plain(x + b.margin, 20), respident="response1")
    elif b.kind == "choice":
        _q(cond, "varequal", f"{iid}_c{b.choices.index(b.value) + 1}", respident="response1")
    else:
        _q(cond, "varequal", b.value, respident="response1")
    _q(right, "setvar", "100", action="Set", varname="SCORE")
    _q(right, "displayfeedback", feedbacktype="Response", linkrefid="correct_fb")
    wrong = _q(rp, "respcondition", **{"continue": "Yes"})
    _q(_q(wrong, "conditionvar"), "other")
    _q(wrong, "displayfeedback", feedbacktype="Response", linkrefid="general_incorrect_fb")


def _decimal(s: str):
    from decimal import Decimal

    return Decimal(s)


def _feedbacks(item, q: Question, b: Blank) -> None:
    """general_fb (the worked solution), correct_fb, general_incorrect_fb (the known mistakes, by value)."""
    wrong = [html._p(f"{w.value}: {w.feedback}", "li") for w in b.wrong]
    incorrect = [html._p(f"Not correct; the answer is {b.exact}.")]
    if wrong:
        incorrect.append(html._p("Known mistakes and the values they give:"))
        ul = html._p("", "ul")
        ul.text = None
        ul.extend(wrong)
        incorrect.append(ul)
    for fid, body in (("general_fb", html.solution(q, rich=True, graph=False)), ("correct_fb", [html._p("Correct.")]),
                      ("general_incorrect_fb", incorrect)):
        fb = _q(item, "itemfeedback", ident=fid)
        _q(_q(_q(fb, "flow_mat"), "material"), "mattext", html.serialise(body), texttype="text/html")
