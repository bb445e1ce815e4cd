"""Moodle XML (quiz.xml): a category per problem holding its variants; one number → `numerical`, else `cloze`.

Element names and order follow EXPORT.md (Moodle's own numerical export); tolerances are absolute margins
(model.margin); each known wrong value is an extra answer with its feedback, after the right one, since
Moodle uses the first answer that matches.
"""
from __future__ import annotations

import math
from fractions import Fraction

from lxml import etree

from examsolve.export import html
from examsolve.export.model import Blank, Problem, Question, plain

PENALTY = "0.3333333"
# Moodle's grade list (question_bank::fraction_options_full): an import refuses a fraction not on it
GRADES = ("100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333", "30", "25", "20",
          "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0")
CLOZE_SPECIAL = '\\}#~/"'      # Moodle's Cloze docs: escape these with a backslash inside {…}


def check_target(out: str, inputs) -> None:
    """SpecError (exit 2) when out cannot be written or would replace an input."""
    from examsolve import outputs

    outputs.check_target(out, inputs)


def write(problems: list[Problem], out: str, inputs=()) -> None:
    """Write quiz.xml atomically."""
    from examsolve import outputs

    outputs.write(out, to_bytes(problems), inputs)


def to_bytes(problems: list[Problem]) -> bytes:
    """The Moodle XML document of the problems."""
    quiz = etree.Element("quiz")
    for p in problems:
        cat = etree.SubElement(quiz, "question", type="category")
        _text(etree.SubElement(cat, "category"), f"$course$/examsolve/{p.slug}")
        for q in p.questions:
            numeric_one = len(q.parts) == 1 and len(q.parts[0].blanks) == 1 and q.parts[0].blanks[0].kind == "number"
            quiz.append(_numerical(q) if numeric_one else _cloze(q))
    return etree.tostring(quiz, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(parent, value: str) -> etree._Element:
    el = etree.SubElement(parent, "text")
    el.text = html._clean(value)
    return el


def _head(q: Question, qtype: str, body: list) -> etree._Element:
    """<question> with name, questiontext and generalfeedback (both HTML in CDATA)."""
    el = etree.Element("question", type=qtype)
    _text(etree.SubElement(el, "name"), q.title if len(q.title) < 200 else q.title[:199] + "…")
    qt = etree.SubElement(el, "questiontext", format="html")
    html.text_element(qt, "text", html.serialise(html.statement(q, rich=True) + body))
    gf = etree.SubElement(el, "generalfeedback", format="html")
    html.text_element(gf, "text", html.serialise(html.solution(q, rich=True)))
    return el


def _feedback(parent, text: str) -> None:
    fb = etree.SubElement(parent, "feedback", format="html")
    html.text_element(fb, "text", html.serialise([html._p(text, "span")]), cdata=False)


def _numerical(q: Question) -> etree._Element:
    """A `numerical` question: the right value, the known wrong values, then `*`."""
    part = q.parts[0]
    b = part.blanks[0]
    el = _head(q, "numerical", [html._p(f"{part.name} = ?")])
    etree.SubElement(el, "defaultgrade").text = _num(part.points)
    etree.SubElement(el, "penalty").text = PENALTY
    etree.SubElement(el, "hidden").text = "0"
    answers = [("100", b.value, "Correct.")] + [(percent(w.credit), w.value, w.feedback) for w in b.wrong]
    answers.append(("0", "*", f"Not correct; the answer is {b.exact}. See the worked solution."))
    for fraction, value, fb in answers:
        a = etree.SubElement(el, "answer", fraction=fraction, format="plain_text")
        _text(a, value)
        _feedback(a, fb)
        etree.SubElement(a, "tolerance").text = "0" if value == "*" else plain(b.margin)
    return el


def _cloze(q: Question) -> etree._Element:
    """A `cloze` question: one {w:TYPE:…} field per blank, weights in proportion to points."""
    scale = math.lcm(*[b.points.denominator for p in q.parts for b in p.blanks]) or 1
    rows = []
    for part in q.parts:
        row = html._p("")
        row.text = html._clean(part.name + (" = " if len(part.blanks) == 1 else ": "))
        for i, b in enumerate(part.blanks):
            span = etree.SubElement(row, "span")
            prefix = ("" if i == 0 else "; ") + (f"{b.label} = " if len(part.blanks) > 1 else "")
            span.text = html._clean(prefix + field(b, int(b.points * scale)))
        rows.append(row)
    el = _head(q, "cloze", rows)
    etree.SubElement(el, "penalty").text = PENALTY
    etree.SubElement(el, "hidden").text = "0"
    return el


def cloze_escape(text: str) -> str:
    """Text inside a Cloze field: } # ~ / " \\ escaped with a backslash."""
    return "".join("\\" + c if c in CLOZE_SPECIAL else c for c in html._clean(text))


def field(b: Blank, weight: int) -> str:
    """One Cloze field: {2:NUMERICAL:=-8:0.005#Correct~%0%-4:0.005#feedback}."""
    if b.kind == "number":
        tol = plain(b.margin)
        items = [f"={b.value}:{tol}#Correct"] + [f"%{percent(w.credit)}%{w.value}:{tol}#{cloze_escape(w.feedback)}"
                                                  for w in b.wrong]
        return "{%d:NUMERICAL:%s}" % (weight, "~".join(items))
    if b.kind == "choice":
        items = [("=" if c == b.value else "") + cloze_escape(c) for c in b.choices]
        return "{%d:MULTICHOICE:%s}" % (weight, "~".join(items))
    items = [f"={cloze_escape(b.value)}#Correct"] + [
        f"%{percent(w.credit)}%{cloze_escape(w.value)}#{cloze_escape(w.feedback)}" for w in b.wrong]
    return "{%d:SHORTANSWER:%s}" % (weight, "~".join(items))


def percent(credit: Fraction) -> str:
    """A credit (0 to 1) as the nearest grade on Moodle's list, in percent ("50", "33.33333")."""
    return min(GRADES, key=lambda g: abs(Fraction(g) - credit * 100))


def _num(p: Fraction) -> str:
    return str(p.numerator) if p.denominator == 1 else plain(_decimal(p), 7)


def _decimal(p: Fraction):
    """A Fraction as a Decimal (7 significant digits are plenty for a grade)."""
    from decimal import Decimal

    return Decimal(p.numerator) / Decimal(p.denominator)
