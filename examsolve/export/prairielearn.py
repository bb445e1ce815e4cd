"""PrairieLearn question folders: one per problem (info.json, question.html, server.py).

server.py holds the solved variants as a Python literal and only picks one with the variant seed, so
PrairieLearn needs no examsolve install; grade() turns a known wrong number into its feedback.
Copy the folders into a course's questions/ directory.
"""
from __future__ import annotations

import json
import os
import uuid
from decimal import Decimal

from lxml import etree, html as lhtml

from examsolve.export import html
from examsolve.export.model import Blank, Part, Problem, Question, pl_comparison

NAMESPACE = uuid.UUID("6f1d3c52-7a35-5d0e-9a57-0b1f3e0c2d11")   # examsolve's: uuids are uuid5(NAMESPACE, slug)

SERVER = '''"""Written by examsolve export: the solved variants; generate() picks one with PrairieLearn's variant seed."""
import random

VARIANTS = {variants}


def generate(data):
    """Pick a variant with the seeded RNG; set its parameters and correct answers."""
    k = random.Random(data.get("variant_seed", 0)).randrange(len(VARIANTS))
    v = VARIANTS[k]
    data.setdefault("params", {{}}).update(v["params"], variant=k)
    data.setdefault("correct_answers", {{}}).update(v["correct_answers"])


def grade(data):
    """Feedback for a number that matches a known mistake of the variant, and the mistake's partial credit."""
    v = VARIANTS[data["params"]["variant"]]
    scores = data.setdefault("partial_scores", {{}})
    for name, wrongs in v["mistakes"].items():
        got = data.get("submitted_answers", {{}}).get(name)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            continue
        for value, margin, feedback, credit in wrongs:
            if abs(got - value) <= margin:
                data.setdefault("feedback", {{}})[name] = feedback
                entry = scores.setdefault(name, {{"score": 0, "weight": 1}})
                entry["score"] = max(entry.get("score") or 0, credit)
                break
    total = sum(s.get("weight", 1) for s in scores.values())
    if total:        # the question's score is the weighted mean of its parts (as pl.set_weighted_score_data)
        data["score"] = sum((s.get("score") or 0) * s.get("weight", 1) for s in scores.values()) / total
'''


def check_target(out: str, inputs) -> None:
    """SpecError (exit 2) when out is a file or its parent folder is missing."""
    from examsolve.errors import SpecError

    if os.path.exists(out) and not os.path.isdir(out):
        raise SpecError(f"{out}: is a file; --to prairielearn writes a folder, give a folder name (e.g. pl/)")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise SpecError(f"{out}: the folder {parent} does not exist; create it first or choose another output")


def write(problems: list[Problem], out: str, inputs=()) -> None:
    """Write one question folder per problem under out (each file atomically)."""
    from examsolve import outputs

    for p in problems:
        folder = os.path.join(out, p.slug)
        os.makedirs(folder, exist_ok=True)
        for name, text in files(p).items():
            os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
            outputs.write(os.path.join(folder, name), text, inputs)


GRAPH = "clientFilesQuestion/graph.svg"


def files(p: Problem) -> dict[str, str]:
    """The files of one question folder, by name (the graph, without values, where the spec draws one)."""
    out = {"info.json": info(p), "question.html": question_html(p.questions[0]), "server.py": server(p)}
    if p.questions[0].graph_svg:      # the bare graph is the same for every variant: only values differ
        out[GRAPH] = p.questions[0].graph_svg + "\n"
    return out


def info(p: Problem) -> str:
    """info.json: uuid derived from the problem's name, v3, title, topic, tags."""
    data = {"uuid": str(uuid.uuid5(NAMESPACE, p.slug)), "type": "v3", "title": html._clean(p.title)[:250],
            "topic": "examsolve", "tags": ["examsolve"], "singleVariant": len(p.questions) == 1,
            "partialCredit": True}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _no_mustache(text: str) -> str:
    """Static text in question.html goes through Mustache: '{{' must not start a tag."""
    return html._clean(text).replace("{{", "{ {").replace("}}", "} }")


def question_html(q: Question) -> str:
    """question.html: the statement (a parameter, as each variant has its own) and one element per answer."""
    panel = etree.Element("pl-question-panel")
    stmt = etree.SubElement(panel, "div")
    stmt.text = "{{{params.statement_html}}}"
    if q.graph_svg:
        etree.SubElement(panel, "pl-figure", {"file-name": GRAPH.rsplit("/", 1)[1]})
    out = [panel]
    for part in q.parts:
        out.append(_element(part))
    return "\n".join(lhtml.tostring(e, encoding="unicode", method="html") for e in out) + "\n"


def _tensor_numeric(part: Part) -> bool:
    return len(part.shape) in (1, 2) and all(b.kind == "number" for b in part.blanks)


def _element(part: Part) -> etree._Element:
    """pl-number-input, pl-matrix-component-input, pl-multiple-choice or pl-string-input for one answer."""
    b = part.blanks[0]
    label = _no_mustache(part.name + " =")
    if part.shape and _tensor_numeric(part):
        return etree.Element("pl-matrix-component-input", {"answers-name": part.key, "label": label,
                                                            "allow-partial-credit": "true", **pl_comparison(part.rule)})
    if part.shape:          # rank 3 or symbolic elements: one field per element
        div = etree.Element("div")
        for i, blank in enumerate(part.blanks):
            attrs = {"answers-name": f"{part.key}_{i}", "label": _no_mustache(blank.label + " =")}
            if blank.kind == "number":
                etree.SubElement(div, "pl-number-input", {**attrs, **pl_comparison(part.rule)})
            else:
                etree.SubElement(div, "pl-string-input", attrs)
        return div
    if b.kind == "number":
        return etree.Element("pl-number-input", {"answers-name": part.key, "label": label, **pl_comparison(part.rule)})
    if b.kind == "choice":
        mc = etree.Element("pl-multiple-choice", {"answers-name": part.key})
        for i, c in enumerate(b.choices):
            a = etree.SubElement(mc, "pl-answer", correct="{{params.%s_c%d}}" % (part.key, i))
            a.text = _no_mustache(c)
        return mc
    return etree.Element("pl-string-input", {"answers-name": part.key, "label": label})


def _number(b: Blank) -> float:
    return float(Decimal(b.value))


def variant_data(q: Question) -> dict:
    """One variant's params, correct answers and known wrong numbers (JSON-like, for the server.py literal)."""
    params = {"statement_html": html.serialise(html.statement(q)), "title": q.title}
    correct, mistakes = {}, {}
    for part in q.parts:
        if part.shape and _tensor_numeric(part):
            rows = [_number(b) for b in part.blanks]
            shape = part.shape if len(part.shape) == 2 else (1, part.shape[0])
            nested = [rows[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
            correct[part.key] = {"_type": "ndarray", "_value": nested, "_dtype": "float64"}
            continue
        if part.shape:
            for i, b in enumerate(part.blanks):
                correct[f"{part.key}_{i}"] = _number(b) if b.kind == "number" else b.value
            continue
        b = part.blanks[0]
        if b.kind == "number":
            correct[part.key] = _number(b)
            if b.wrong:
                mistakes[part.key] = [(float(Decimal(w.value)), float(b.margin), w.feedback, float(w.credit))
                                      for w in b.wrong]
        elif b.kind == "choice":
            correct[part.key] = b.value
            for i, c in enumerate(b.choices):
                params[f"{part.key}_c{i}"] = "true" if c == b.value else "false"
        else:
            correct[part.key] = b.value
    return {"params": params, "correct_answers": correct, "mistakes": mistakes}


def server(p: Problem) -> str:
    """server.py with the variants as a literal (repr of plain data: str, float, bool, list, dict)."""
    data = [variant_data(q) for q in p.questions]
    return SERVER.format(variants=repr(data))



