"""HTML: one self-contained page (MathML maths, inline SVG drawings, no script, no network)."""
from __future__ import annotations

import sympy

from examsolve.escape import html_text as esc
from examsolve.renderers import mathml as M
from examsolve.renderers.lines import chain, heading, key_mark, numbered, related
from examsolve.renderers.printing import text

# No script and nothing from elsewhere may load, whatever a spec holds: the browser enforces it too.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
.examsolve{--fg:#1b1d23;--bg:#ffffff;--muted:#5a6070;--rule:#d5dae3;--panel:#f3f5f9;--accent:#1d5fb8;
--ok:#17692d;--bad:#b3261e;color:var(--fg);background:var(--bg);font:16px/1.55 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif;max-width:52rem;margin:0 auto;padding:1rem;box-sizing:border-box}
@media (prefers-color-scheme:dark){.examsolve{--fg:#e4e6eb;--bg:#15171c;--muted:#a4aab6;--rule:#343944;
--panel:#1f232b;--accent:#7fb0ff;--ok:#6fd28a;--bad:#ff8a80}}
.examsolve *{box-sizing:border-box}
.examsolve h1{font-size:1.5rem;line-height:1.25;margin:.2rem 0 .6rem}
.examsolve h2{font-size:1.3rem;line-height:1.3;margin:2rem 0 .5rem;border-bottom:1px solid var(--rule)}
.examsolve h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
.examsolve p,.examsolve li,.examsolve summary,.examsolve td,.examsolve th{overflow-wrap:anywhere}
.examsolve .source,.examsolve .notes{color:var(--muted);font-size:.92rem}
.examsolve .statement{background:var(--panel);border-left:3px solid var(--accent);padding:.5rem .8rem;
white-space:pre-line}
.examsolve math{font-family:"STIX Two Math","Latin Modern Math","Cambria Math",math;font-size:1.05em}
.examsolve .m{overflow-x:auto;overflow-y:hidden;max-width:100%;padding:.15rem 0}
.examsolve ol.steps{list-style:none;padding-left:0;margin:.3rem 0}
.examsolve ol.steps ol.steps{padding-left:1.1rem;border-left:1px solid var(--rule)}
.examsolve li.step{margin:.35rem 0}
.examsolve .num{color:var(--muted);font-variant-numeric:tabular-nums;margin-right:.35em}
.examsolve summary{cursor:pointer}
.examsolve details.sub>summary{color:var(--muted);font-size:.9rem}
.examsolve .note{color:var(--muted);font-style:italic;margin:.1rem 0 .3rem}
.examsolve ul.given,.examsolve ul.answers{list-style:none;padding-left:0}
.examsolve ul.given li{margin:.15rem 0}
.examsolve ul.answers li{margin:.5rem 0}
.examsolve .box{display:inline-block;border:1.5px solid var(--accent);border-radius:3px;padding:.1rem .4rem;
max-width:100%;overflow-x:auto;vertical-align:middle}
.examsolve .label{display:inline-block;max-width:100%;overflow-x:auto;vertical-align:middle}
.examsolve .ok{color:var(--ok)}
.examsolve .bad{color:var(--bad);font-weight:600}
.examsolve table{border-collapse:collapse;margin:.3rem 0}
.examsolve th,.examsolve td{padding:.15rem .6rem;border-bottom:1px solid var(--rule);text-align:right}
.examsolve figure{margin:1rem 0}
.examsolve figure svg{max-width:100%;height:auto;background:#fff;border-radius:4px}
.examsolve pre{overflow-x:auto;background:var(--panel);padding:.5rem;font-size:.85rem}
.examsolve .missing{color:var(--bad)}
@media print{.examsolve{--fg:#000;--bg:#fff;--muted:#333;--accent:#000;max-width:none;padding:0;
font-size:11pt}.examsolve .m,.examsolve .box,.examsolve pre{overflow:visible}
.examsolve details>summary{list-style:none}.examsolve details>summary::-webkit-details-marker{display:none}
.examsolve article{break-before:auto}.examsolve ul.answers li,.examsolve figure{break-inside:avoid}}
@media print{.examsolve details::details-content{content-visibility:visible;display:contents}}
"""

MODES = ("solutions", "questions", "key")


def render(solutions, digits: int = 6, drawings=None, title: str | None = None, mode: str = "solutions",
           fragment: bool = False, **_) -> str:
    """Solutions as one HTML page (or, with fragment, a <div> to embed, as Jupyter does)."""
    solutions = list(solutions)
    drawings = list(drawings or [None] * len(solutions))
    page_title = title or (solutions[0].title if len(solutions) == 1 else "Answers")
    sheet = title is not None or len(solutions) != 1
    body = []
    if sheet:
        body.append(f"<h1>{esc(page_title)}</h1>")
        what = {"solutions": "solved by examsolve", "questions": "questions", "key": "answer key by examsolve"}[mode]
        n = len(solutions)
        body.append(f'<p class="source">{n} problem{"" if n == 1 else "s"}, {esc(what)}</p>')
    for i, (s, d) in enumerate(zip(solutions, drawings), 1):
        body.append(problem(s, digits, d, f"p{i}", 2 if sheet else 1, mode))
    div = '<div class="examsolve">\n' + "\n".join(body) + "\n</div>"
    if fragment:
        return f"<style>{CSS}</style>\n{div}\n"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="color-scheme" content="light dark">\n'
            f"<title>{esc(page_title)}</title>\n<style>{CSS}body{{margin:0;background:#fff}}"
            "@media (prefers-color-scheme:dark){body{background:#15171c}}@media print{body{background:#fff}}"
            f"</style>\n</head>\n<body>\n<main>\n{div}\n</main>\n</body>\n</html>\n")


def problem(sol, digits: int, drawing, pid: str, level: int, mode: str = "solutions") -> str:
    """One problem as an <article>: heading, question, given values, steps, answers, drawing, notes."""
    out = [f'<article id="{pid}">', f"<h{level}>{esc(sol.title)}</h{level}>"]
    if sol.source:
        out.append(f'<p class="source">Source: {esc(sol.source)}</p>')
    if sol.statement and mode != "key":
        out.append(f'<p class="statement"><strong>Question.</strong> {esc(sol.statement)}</p>')
    if sol.given and mode != "key":
        out.append(given(sol))
    if mode == "questions":
        if drawing is not None:
            out.append(figure(drawing, f"{pid}-graph", values=False, grads=False))
        out.append(find(sol))
        return "\n".join(out + ["</article>"])
    if mode == "solutions":
        out += [f"<h{level + 1}>Solution</h{level + 1}>", steps(sol, digits, pid)]
    out.append(answers(sol, digits, level + 1))
    if drawing is not None and mode == "solutions":
        out.append(figure(drawing, f"{pid}-graph"))
    if sol.notes:
        out.append('<div class="notes">' + "".join(f"<p>{esc(n)}</p>" for n in sol.notes) + "</div>")
    return "\n".join(out + ["</article>"])


def given(sol) -> str:
    """The given values, one per line."""
    names = sol.names
    items = [f'<li><div class="m">{M.math(M.value(sympy.Symbol(n), names) + M.mo("=") + M.value(v, names))}</div></li>'
             for n, v in sol.given]
    return '<p><strong>Given</strong></p>\n<ul class="given">' + "".join(items) + "</ul>"


def find(sol) -> str:
    """What a question sheet asks for, with points."""
    items = []
    for a in sol.answers:
        p = sol.points.get(a.name, 1)
        items.append(f'<li><span class="label">{_label(a, sol.names)}</span> '
                     f'[{esc(str(p))} point{"" if str(p) == "1" else "s"}]</li>')
    return '<p><strong>Find</strong></p>\n<ol class="find">' + "".join(items) + "</ol>"


def _label(a, names) -> str:
    """The answer's name: typeset when the family gave it a symbol, else its words (which wrap on a phone)."""
    if a.label is None:
        return esc(a.name)
    return M.math(M.value(a.label, names), "label")


def steps(sol, digits: int, pid: str) -> str:
    """The numbered steps as nested lists; each step's substeps collapse (details/summary)."""
    numbers = {id(s): n for n, _, s in numbered(sol.steps)}
    return _step_list(sol.steps, sol, digits, numbers, pid)


def _step_list(items, sol, digits, numbers, pid) -> str:
    return '<ol class="steps">' + "".join(_step(s, sol, digits, numbers, pid) for s in items) + "</ol>"


def _step(step, sol, digits, numbers, pid) -> str:
    names = sol.names
    num = numbers[id(step)]
    numtag = f'<span class="num">{esc(num)}.</span>'
    body = []
    line = _line(step, names, digits)
    if step.note:
        body.append(f'<p class="note">Note: {esc(step.note)}</p>')
    if step.table is not None:
        body.append(_table(step.table, names))
    anchor = f' id="{esc(pid)}-s{esc(num)}"'
    if step.target is None and step.value is None:
        # a section: its title is the summary, everything under it folds away
        inner = "".join(body) + (_step_list(step.substeps, sol, digits, numbers, pid) if step.substeps else "")
        return (f'<li class="step section"{anchor}><details open><summary>{numtag}<strong>{esc(step.title)}'
                f"</strong></summary>{inner}</details></li>")
    title = step.title if step.target is None else heading(step, text(step.target, names))
    head = f'<div class="head">{numtag}{esc(title)}{":" if title and line else ""}</div>' if title else ""
    sub = ""
    if step.substeps:
        n = len(step.substeps)
        sub = (f'<details class="sub" open><summary>{n} substep{"" if n == 1 else "s"}</summary>'
               + _step_list(step.substeps, sol, digits, numbers, pid) + "</details>")
    if not title:       # the number goes in front of the maths
        line = _line(step, names, digits, numtag) or f'<div class="head">{numtag}</div>'
    return f'<li class="step"{anchor}>{head}{line}{"".join(body)}{sub}</li>'


def _line(step, names, digits, prefix: str = "") -> str:
    """target = formula = numbers = result, as one <math> in a box that scrolls when wider than the page."""
    if step.target is None and step.value is None:
        return ""
    parts = chain(step, lambda x: M.value(x, names), lambda v: M.result(v, digits, names))
    if not parts:
        return ""
    first, parts = (M.value(step.target, names), parts) if step.target is not None else (parts[0], parts[1:])
    inner = first + "".join(related(parts, M.mo("="), "<mrow>" + M.mo("≈")))
    return f'<div class="m">{prefix}{M.math(inner)}</div>'


def _table(table, names) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in table.header)
    rows = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" if isinstance(c, int) and not isinstance(c, bool)
                                    else f"<td>{M.math(M.value(c, names))}</td>" for c in r) + "</tr>"
                   for r in table.rows)
    return f'<div class="m"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def answers(sol, digits: int, level: int) -> str:
    """The boxed answers, each with its key check."""
    names = sol.names
    items = []
    for a in sol.answers:
        mark = key_mark(a)
        if a.agrees is False:
            key = esc(a.key_text) if a.key_text else M.math(M.value(a.key, names))
            mark_html = f' <span class="bad">{esc(mark)}</span> (key: {key})'
        elif mark:
            mark_html = f' <span class="ok">{esc(mark)}</span>'
        else:
            mark_html = ""
        items.append(f'<li class="answer" data-name="{esc(a.name)}"><span class="label">{_label(a, names)} =</span> '
                     f'<span class="box">{M.math(M.result(a.value, digits, names), "answer")}</span>{mark_html}</li>')
    if not items:
        items.append("<li>(none)</li>")
    return f'<h{level}>Answers</h{level}>\n<ul class="answers">' + "".join(items) + "</ul>"


def figure(drawing, fid: str, values: bool = True, grads: bool = True) -> str:
    """The drawing as inline SVG (graphviz's dot) with its text tree as the text alternative."""
    from examsolve.renderers import tree

    alt = tree.render(drawing, values, grads)
    picture = _svg(drawing, values, grads, fid)
    tree_html = f'<pre id="{esc(fid)}-text">{esc(alt)}</pre>'
    if picture is None:
        return (f'<figure class="graph"><figcaption><strong>Computational graph</strong> '
                f'<span class="missing">(no picture: graphviz\'s <code>dot</code> is not installed; '
                f"apt-get install graphviz)</span></figcaption>{tree_html}</figure>")
    return (f'<figure class="graph"><figcaption><strong>Computational graph</strong></figcaption>'
            f'<div class="m">{picture}</div><details><summary>Text version</summary>{tree_html}</details></figure>')


def _svg(drawing, values: bool, grads: bool, fid: str) -> str | None:
    """Graphviz's SVG, cleaned (see svg.py); None when dot is not installed."""
    import shutil

    from examsolve.renderers import dot
    from examsolve.renderers.svg import clean

    if shutil.which("dot") is None:
        return None
    raw = dot.to_svg(dot.render(drawing, values, grads))
    return clean(raw, label=f"Computational graph of {drawing.title}" if drawing.title else "Computational graph",
                 described_by=f"{fid}-text")
