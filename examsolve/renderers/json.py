"""JSON: the stable machine-readable contract of SPEC.md."""
from __future__ import annotations

import math
from json.encoder import encode_basestring

import sympy

from examsolve.quantity import kind_of
from examsolve.renderers.printing import latex
from examsolve.tensor import Tensor
from examsolve.values import (exact_str, float_note, forget_printed, is_approx, printed_once, remembered,
                              remembered_map, to_plain)


@printed_once()
def render(solutions, digits: int = 6, drawings=None, **_) -> str:
    """One JSON object for one solution, a list for several; drawings as nodes and edges."""
    drawings = drawings or [None] * len(solutions)
    objs = []
    for s, d in zip(solutions, drawings):
        obj = as_dict(s, lazy=True)
        if d is not None:
            obj["graph"] = graph_dict(d)
        objs.append(obj)
    # strict JSON: to_plain writes numbers a float cannot hold as strings, so NaN and Infinity never appear.
    # The steps are made one at a time as the encoder reaches them, so the whole tree of a long solution is
    # never in memory at once.
    pieces = _pieces(objs.pop() if len(objs) == 1 else objs)
    del objs
    # every value is written: what the memo holds (a 256 x 256 Jacobian's strings and floats, tens of MiB)
    # goes before the pieces are joined, so the two never add up to the peak
    forget_printed()
    pieces.append("\n")
    return "".join(pieces)


def dumps(obj) -> str:
    """json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False), the same text, with a list of floats (a
    25,000-weight tensor's row) written in one join: json's own indenting encoder is pure Python, a call
    per number."""
    return "".join(_pieces(obj))


def _pieces(obj) -> list[str]:
    """dumps(obj) in pieces, to be joined."""
    out: list[str] = []
    _write(obj, out, "\n")
    return out


def _write(o, out: list, indent: str) -> None:
    """Append o's JSON text to out, at the indent (a newline and the spaces) of the line o starts on."""
    if type(o) is str:
        out.append(encode_basestring(o))
    elif isinstance(o, dict):
        _write_dict(o, out, indent)
    elif isinstance(o, (list, tuple)):
        _write_list(o, out, indent)
    else:
        out.append(_scalar(o))


def _write_dict(d: dict, out: list, indent: str) -> None:
    """Append a dict, one key a line, as json indents it."""
    if not d:
        out.append("{}")
        return
    inner = indent + "  "
    sep = "{" + inner
    for k, v in d.items():
        out.append(sep + (encode_basestring(k) if type(k) is str else _key(k)) + ": ")
        _write(v, out, inner)
        sep = "," + inner
    out.append(indent + "}")


def _write_list(items: list | tuple, out: list, indent: str) -> None:
    """Append a list, one item a line, as json indents it; a list of floats in one join."""
    if not items:
        out.append("[]")
        return
    inner = indent + "  "
    if type(items) is list and set(map(type, items)) == {float}:
        out.append("[" + inner + ("," + inner).join(_floats(items)) + indent + "]")
        return
    sep = "[" + inner
    for v in items:
        out.append(sep)
        _write(v, out, inner)
        sep = "," + inner
    out.append(indent + "]")


def _floats(xs: list) -> map:
    """Finite floats as json writes them; ValueError as json's for NaN and infinities (strict JSON)."""
    if not all(map(math.isfinite, xs)):
        bad = next(x for x in xs if not math.isfinite(x))
        raise ValueError(f"Out of range float values are not JSON compliant: {bad!r}")
    return map(float.__repr__, xs)


def _scalar(o) -> str:
    """A string, number, boolean or null as json writes it."""
    if isinstance(o, str):
        return encode_basestring(o)
    if o is None:
        return "null"
    if isinstance(o, bool):
        return "true" if o else "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return next(_floats([o]))
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _key(k) -> str:
    """A dict key as json writes it (numbers, booleans and null as their text, quoted)."""
    if isinstance(k, str):
        return encode_basestring(k)
    if k is None or isinstance(k, (bool, int, float)):
        return encode_basestring(_scalar(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


class _Lazy(list):
    """A JSON array whose items are made while the encoder writes them (the encoder only iterates it)."""

    def __init__(self, items, make):
        super().__init__()
        self.items, self.make = items, make

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return (self.make(x) for x in self.items)


def _plain(v):
    """to_plain(v), each element printed once per render (an answer, its quantity and its step hold the same
    values, and a 64 x 64 Jacobian of exact entries costs seconds to convert each time)."""
    if isinstance(v, Tensor):
        return remembered(_nested_plain, v)
    return remembered(to_plain, v)


def _kind(v) -> str:
    """kind_of(v), a sympy number at once (kind_of compares it with true and false first, and an MLP has
    25,000 scalar quantities)."""
    return "number" if isinstance(v, sympy.Number) else kind_of(v)


def _nested_plain(t: Tensor) -> list:
    """A tensor's elements to_plain, as nested lists."""
    return remembered_map(to_plain, t).nested()


def as_dict(sol, lazy: bool = False) -> dict:
    """A Solution as plain JSON data (lazy: the steps made as they are iterated, for the encoder)."""
    quantities = sol.quantities.items()
    return {
        "kind": sol.kind,
        "title": sol.title,
        "source": sol.source,
        "answers": [{
            "name": a.name,
            "type": _kind(a.value),
            "exact": exact_str(a.value),
            "latex": latex(a.value, sol.names),
            "value": _plain(a.value),
            "approx": is_approx(a.value),
            "key": None if a.key is None else _plain(a.key),
            "agrees": a.agrees,
            "key_note": a.key_note,
        } for a in sol.answers],
        # lazy, as the steps: an MLP's 25,000 scalar quantities are never all in memory as dicts at once
        "quantities": _Lazy(quantities, _quantity) if lazy else list(map(_quantity, quantities)),
        "steps": _Lazy(sol.steps, _step) if lazy else [_step(s) for s in sol.steps],
        "notes": list(sol.notes) + [APPROX_NOTE] * any(is_approx(a.value) for a in sol.answers),
    }


APPROX_NOTE = ('"approx": true marks a value that is (or has elements that are) a float: its "exact" holds that '
               'float (30 digits where an exact form grew too long, see the step notes), not an exact form')


def _quantity(item: tuple) -> dict:
    """One (name, value) of a solution's quantities as JSON data."""
    name, v = item
    return {"name": name, "type": _kind(v), "exact": exact_str(v), "value": _plain(v), "approx": is_approx(v)}


def _step(s) -> dict:
    out = {
        "title": s.title,
        "target": None if s.target is None else exact_str(s.target),
        "formula": None if s.formula is None else exact_str(s.formula),
        "substituted": None if s.substituted is None else exact_str(s.substituted),
        "exact": None if s.value is None else exact_str(s.value),
        "value": None if s.value is None else _plain(s.value),
        "approx": s.value is not None and is_approx(s.value),
        "note": s.note,
    }
    if s.substeps:
        out["substeps"] = [_step(x) for x in s.substeps]
    if s.table is not None:
        out["table"] = {"header": list(s.table.header), "rows": [[_plain(c) for c in r] for r in s.table.rows]}
    return out


def graph_dict(d) -> dict:
    """A Drawing as plain JSON data."""
    def plain(v):
        return None if v is None else to_plain(v)
    return {
        "of": d.of,
        "nodes": [{"id": n.id, "label": n.label, "kind": n.kind, "arity": n.arity, "name": n.name,
                   "value": plain(n.value), "grad": plain(n.grad)} for n in d.nodes],
        "edges": [{"from": e.src, "to": e.dst, "value": plain(e.value), "grad": plain(e.grad)} for e in d.edges],
    }
