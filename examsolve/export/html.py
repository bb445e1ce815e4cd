"""HTML fragments (statement, given values, worked solution) built with lxml, serialised for CDATA or mattext.

For LMSs that show HTML (Moodle, Canvas) the given values and the worked solution carry their maths as
presentation MathML (examsolve's HTML renderer, renderers/html.py and renderers/mathml.py, every name escaped
there), each <math> with the MathML namespace declared; Moodle also gets the graph as inline SVG (graphviz).
"""
from __future__ import annotations

from lxml import etree, html as lhtml

from examsolve.escape import terminal_text

MAX_HTML = 1_000_000     # characters of one fragment: an LMS editor chokes long before this
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
DIGITS = 6               # decimals beside exact values, as `examsolve run` prints them
NO_DOT = "(no graph: graphviz's dot is not installed; apt-get install graphviz and export again)"


def _p(text: str, tag: str = "p") -> etree._Element:
    el = lhtml.Element(tag)
    el.text = _clean(text)
    return el


def _clean(text: str) -> str:
    """Text without control characters (XML 1.0 cannot hold them)."""
    return terminal_text(text).replace("\x1b", "?")


def statement(q, rich: bool = False, graph: bool = True) -> list:
    """The statement and the given values as <p> elements; rich: the values in MathML and (graph) the bare graph."""
    out = [_p(q.statement)]
    if rich and q.given_html:
        out += parse(q.given_html)
    elif q.given:
        out.append(_p("Given: " + ", ".join(f"{n} = {v}" for n, v in q.given)))
    if rich and graph and q.graph_svg:
        out.append(figure(q.graph_svg))
    return out


def solution(q, rich: bool = False, graph: bool = True) -> list:
    """The worked solution: rich, its steps in MathML and the graph with values and gradients, then the text
    version as one <pre> block (its lines are aligned by spaces)."""
    text = q.solution.rstrip()
    if len(text) > MAX_HTML:          # cut the text, never the markup
        text = text[:MAX_HTML] + "\n…"
    out = [_p("Worked solution:")]
    if rich and q.solution_html:
        out += parse(q.solution_html)
        if graph:
            out.append(figure(q.solved_svg) if q.solved_svg else _p(q.graph_note) if q.graph_note else None)
        out.append(_p("Text version:"))
    return [e for e in out if e is not None] + [_p(text, "pre")]


def parse(markup: str) -> list:
    """HTML from examsolve's renderer as lxml elements, every <math> declaring the MathML namespace."""
    div = lhtml.fragment_fromstring(markup, create_parent="div")
    for m in div.iter("math"):
        m.set("xmlns", MATHML_NS)
    return [div]


def figure(svg: str) -> etree._Element:
    """A cleaned SVG drawing (renderers/svg.clean) inside a <div>, read as XML so viewBox keeps its case."""
    div = lhtml.Element("div")
    div.append(etree.fromstring(svg))
    return div


def rich_parts(spec, sol, pid: str) -> dict[str, str]:
    """The MathML and SVG pieces of one solved spec: given_html, solution_html, graph_svg (bare, for the question),
    solved_svg (values and gradients, for the feedback), graph_note (why there is no graph)."""
    from examsolve.renderers import html as page

    out = {"given_html": page.given(sol) if sol.given else "",
           "solution_html": page.steps(sol, DIGITS, pid) + page.answers(sol, DIGITS, 3)}
    if len(out["solution_html"]) > MAX_HTML:     # an LMS editor would choke: the text version only
        out["solution_html"] = ""
    return {**out, **graphs(spec, sol)}


def graphs(spec, sol) -> dict[str, str]:
    """The graph as cleaned SVG, bare and with values and gradients; a note instead when dot is missing or the
    drawing fails (an export never fails for its picture)."""
    import shutil

    from examsolve.errors import ExamsolveError

    if sol.graph is None:
        return {"graph_svg": "", "solved_svg": "", "graph_note": ""}
    if shutil.which("dot") is None:
        return {"graph_svg": "", "solved_svg": "", "graph_note": NO_DOT}
    from examsolve import budget, drawing
    from examsolve.renderers import dot
    from examsolve.renderers.svg import clean

    try:
        d = drawing.build(sol.graph, spec.model.conventions.model_dump(), drawing.default_of(spec), title=sol.title,
                          names=sol.names, backprop=sol.backprop)
        label = f"Computational graph of {sol.title}" if sol.title else "Computational graph"
        bare = clean(dot.to_svg(dot.render(d, False, False)), label=label)
        solved = clean(dot.to_svg(dot.render(d, True, True)), label=label + " with values and gradients")
    except (ExamsolveError, OSError, ValueError, SyntaxError) as err:      # ElementTree's ParseError is one
        if isinstance(err, budget.BudgetError) and err.kind in ("time", "memory"):
            raise
        return {"graph_svg": "", "solved_svg": "", "graph_note": f"(no graph: {err})"}
    return {"graph_svg": bare, "solved_svg": solved, "graph_note": ""}


def serialise(elements) -> str:
    """HTML text of the elements (text escaped by lxml)."""
    return "".join(lhtml.tostring(e, encoding="unicode", method="html") for e in elements)


def text_element(parent, tag: str, html_text: str, cdata: bool = True) -> etree._Element:
    """<tag> holding html_text, as CDATA when it can be (never when the text holds ']]>')."""
    el = etree.SubElement(parent, tag)
    el.text = etree.CDATA(html_text) if cdata and "]]>" not in html_text else html_text
    return el
