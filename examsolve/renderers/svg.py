"""Graphviz's SVG made fit to inline in HTML: only drawing elements and attributes kept, no links, no scripts."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
ELEMENTS = frozenset("svg g polygon polyline ellipse path text tspan circle rect line".split())
ATTRIBUTES = frozenset("width height viewBox transform class id fill stroke stroke-width stroke-dasharray "
                       "points d cx cy rx ry x y x1 y1 x2 y2 r text-anchor font-family font-size font-weight "
                       "font-style opacity fill-opacity stroke-opacity".split())


def clean(svg: str, label: str, described_by: str = "") -> str:
    """The <svg> element of graphviz output: prolog, comments, tooltips, links and unknown attributes dropped.

    Labels come from spec names; graphviz escapes them, and re-serializing escapes them again as ElementTree
    reads and writes text, so nothing in a label can become markup.
    """
    body = re.sub(r"^.*?(?=<svg\b)", "", svg, flags=re.S)   # the XML prolog and DOCTYPE (with its URL)
    root = ET.fromstring(body)
    _prune(root)
    root.set("role", "img")
    root.set("aria-label", label)
    if described_by:
        root.set("aria-describedby", described_by)
    ET.register_namespace("", SVG_NS)
    return ET.tostring(root, encoding="unicode")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _prune(el: ET.Element) -> None:
    for key in list(el.attrib):
        if _local(key) not in ATTRIBUTES:
            del el.attrib[key]
    for child in list(el):
        if not isinstance(child.tag, str) or _local(child.tag) not in ELEMENTS:
            # a link keeps its drawing (graphviz wraps nodes in <a> only when asked for URLs)
            if isinstance(child.tag, str) and _local(child.tag) == "a":
                index = list(el).index(child)
                for k, grand in enumerate(list(child)):
                    el.insert(index + k, grand)
            el.remove(child)
    for child in el:
        _prune(child)
