"""JSON: the stable machine-readable contract of SPEC.md."""
from __future__ import annotations

import io
import json

from examsolve.quantity import kind_of
from examsolve.renderers.printing import latex
from examsolve.tensor import Tensor
from examsolve.values import exact_str, float_note, is_approx, printed_once, remembered, to_plain


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
    # The same encoder as json.dumps(indent=2) writes piece by piece; the steps are made one at a time as it
    # reaches them, so the whole tree of a long solution is never in memory at once.
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False)
    out = io.StringIO()
    for chunk in encoder.iterencode(objs[0] if len(objs) == 1 else objs):
        out.write(chunk)
    out.write("\n")
    return out.getvalue()


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
        return v.map(lambda x: remembered(to_plain, x)).nested()
    return remembered(to_plain, v)


def as_dict(sol, lazy: bool = False) -> dict:
    """A Solution as plain JSON data (lazy: the steps made as they are iterated, for the encoder)."""
    return {
        "kind": sol.kind,
        "title": sol.title,
        "source": sol.source,
        "answers": [{
            "name": a.name,
            "type": kind_of(a.value),
            "exact": exact_str(a.value),
            "latex": latex(a.value, sol.names),
            "value": _plain(a.value),
            "approx": is_approx(a.value),
            "key": None if a.key is None else _plain(a.key),
            "agrees": a.agrees,
            "key_note": a.key_note,
        } for a in sol.answers],
        "quantities": [{"name": name, "type": kind_of(v), "exact": exact_str(v), "value": _plain(v),
                        "approx": is_approx(v)}
                       for name, v in sol.quantities.items()],
        "steps": _Lazy(sol.steps, _step) if lazy else [_step(s) for s in sol.steps],
        "notes": list(sol.notes) + [APPROX_NOTE] * any(is_approx(a.value) for a in sol.answers),
    }


APPROX_NOTE = ('"approx": true marks a value that is (or has elements that are) a float: its "exact" holds that '
               'float (30 digits where an exact form grew too long, see the step notes), not an exact form')


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
