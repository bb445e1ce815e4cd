"""HTML fragments (statement, given values, worked solution) built with lxml, serialised for CDATA or mattext."""
from __future__ import annotations

from lxml import etree, html as lhtml

from examsolve.escape import terminal_text

MAX_HTML = 1_000_000     # characters of one fragment: an LMS editor chokes long before this


def _p(text: str, tag: str = "p") -> etree._Element:
    el = lhtml.Element(tag)
    el.text = _clean(text)
    return el


def _clean(text: str) -> str:
    """Text without control characters (XML 1.0 cannot hold them)."""
    return terminal_text(text).replace("\x1b", "?")


def statement(q) -> list:
    """The statement and the given values as <p> elements."""
    out = [_p(q.statement)]
    if q.given:
        out.append(_p("Given: " + ", ".join(f"{n} = {v}" for n, v in q.given)))
    return out


def solution(q) -> list:
    """The worked solution as one <pre> block (its lines are aligned by spaces)."""
    text = q.solution.rstrip()
    if len(text) > MAX_HTML:          # cut the text, never the markup
        text = text[:MAX_HTML] + "\n…"
    return [_p("Worked solution:"), _p(text, "pre")]


def serialise(elements) -> str:
    """HTML text of the elements (text escaped by lxml)."""
    return "".join(lhtml.tostring(e, encoding="unicode", method="html") for e in elements)


def text_element(parent, tag: str, html_text: str, cdata: bool = True) -> etree._Element:
    """<tag> holding html_text, as CDATA when it can be (never when the text holds ']]>')."""
    el = etree.SubElement(parent, tag)
    el.text = etree.CDATA(html_text) if cdata and "]]>" not in html_text else html_text
    return el
