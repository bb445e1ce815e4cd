"""From a spec's given values, symbols and equations to a Graph; spec_expr reads one YAML value as sympy."""
from __future__ import annotations

import re
from typing import Any

import sympy

from examsolve import engine
from examsolve.errors import ExprError, SpecError
from examsolve.expr import LITERAL, literal_value, parse, parse_both
from examsolve.graph import Graph, building
from examsolve.tensor import ShapeError, Tensor, from_nested


def spec_expr(spec, raw: Any, path: tuple, names: dict, allow_free: bool = False,
              evaluate: bool = True, both: bool = False) -> Any:
    """A YAML value (number, expression text or nested list) as a sympy value or Tensor.

    both: (value, form as written) from one parse, as spec_expr(...) and spec_expr(..., evaluate=False).
    """
    if isinstance(raw, bool) or raw is None:
        raise SpecError(f"expected a number or an expression, got {str(raw).lower()}", spec.loc(*path))
    if isinstance(raw, int):
        v = sympy.Integer(raw)
        return (v, v) if both else v
    if isinstance(raw, float):
        raw = repr(raw)
    if isinstance(raw, list):
        bulk = _number_tensor(raw)          # a matrix of numbers: no parse, no recursion per element
        if bulk is not None:
            return bulk if both else bulk[0] if evaluate else bulk[1]
        items = [spec_expr(spec, r, path + (i,), names, allow_free, evaluate, both) for i, r in enumerate(raw)]
        try:
            if both:
                return _tensor([v for v, _ in items]), _tensor([d for _, d in items])
            return _tensor(items)
        except ShapeError as e:
            raise SpecError(f"{e}; every row needs the same length", spec.loc(*path)) from None
    text = str(raw)
    plain = literal_value(text.strip())       # a number literal: no parse (a given matrix is mostly these)
    if plain is not None:
        return plain if both else plain[0] if evaluate else plain[1]
    try:
        if both:
            value, display = parse_both(text, names, allow_free=allow_free)
        else:
            value = parse(text, names, allow_free=allow_free, evaluate=evaluate)
        if (evaluate or both) and _needs_check(value, text):
            # a number written as a formula: computed as written, so 0/0, log(x, 0) or sqrt(-1) is refused
            # instead of what sympy simplified it to
            if not both:
                display = parse(text, names, allow_free=allow_free, evaluate=False)
            engine.checked_value(display, {}, f"{path[-1]} = {raw}", spec.loc(*path))
        return (value, display) if both else value
    except ExprError as e:
        msg = e.message
        if msg.startswith("unknown name '"):
            name = msg.split("'")[1]
            if name in spec.model.equations:
                msg = f"'{name}' is defined by a later equation; move this equation after it"
        raise SpecError(msg, spec.loc_at(path, e.offset)) from None


def _tensor(items: list) -> Tensor:
    """One tensor from a list of values and tensors (the rows of a nested YAML list)."""
    return from_nested([x.nested() if isinstance(x, Tensor) else x for x in items])


def _number_tensor(raw: list) -> tuple[Tensor, Tensor] | None:
    """(value, form as written) of nested lists of plain numbers (ints, floats, number literals) of one shape,
    as spec_expr gives them element by element; None for anything else (spec_expr then says what is wrong)."""
    shape = []
    level: Any = raw
    while isinstance(level, list):
        if not level:
            return None
        shape.append(len(level))
        level = level[0]
    values: list = []
    shown: list = []
    known: dict = {}
    rows = [raw]
    for n in shape[:-1]:
        nxt = []
        for r in rows:
            if not isinstance(r, list) or len(r) != n:
                return None
            nxt.extend(r)
        rows = nxt
    for r in rows:
        if not isinstance(r, list) or len(r) != shape[-1]:
            return None
        for x in r:
            kind = type(x)
            if kind is int:
                key = x
            elif kind is float:
                key = repr(x)
            elif kind is str:
                key = x.strip()
            else:
                return None          # bool, None, a list too deep, ...
            pair = known.get(key) if kind is not int else known.get((int, key))
            if pair is None:
                if kind is int:
                    v = sympy.Integer(x)
                    pair = known[(int, key)] = (v, v)
                else:
                    pair = literal_value(key)
                    if pair is None:
                        return None
                    known[key] = pair
            values.append(pair[0])
            shown.append(pair[1])
    try:
        return Tensor(tuple(shape), tuple(values)), Tensor(tuple(shape), tuple(shown))
    except ShapeError:
        return None


_LITERAL = re.compile(r"\s*[-+]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?\s*")


def _plain_numbers(raw: Any) -> bool:
    """A number, a number literal or nested lists of them: its value needs no check as written."""
    if isinstance(raw, list):
        return all(_plain_numbers(r) for r in raw)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return True
    return isinstance(raw, str) and LITERAL.fullmatch(raw.strip()) is not None


def _needs_check(value: Any, text: str) -> bool:
    """True for a number (or tensor of numbers) written as a formula, not as a plain number literal."""
    if _LITERAL.fullmatch(text):
        return False
    items = value.items if isinstance(value, Tensor) else (value,)
    return any(isinstance(x, sympy.Basic) and x.is_number for x in items)


def names_list(x: Any) -> list[str]:
    """A name or a list of names as a list."""
    return [x] if isinstance(x, str) else list(x)


def build_graph(spec, graph: Graph | None = None, equations: dict | None = None) -> Graph:
    """Add the spec's given values, symbols and equations to a graph."""
    with building():
        return _build_graph(spec, graph, equations)


def _build_graph(spec, graph: Graph | None, equations: dict | None) -> Graph:
    """build_graph's work, inside its building() block."""
    graph = graph or Graph()
    m = spec.model
    for i, name in enumerate(m.functions):
        graph.add_function(name, spec.loc("functions", i))
    for i, name in enumerate(m.vector_functions):
        graph.add_function(name, spec.loc("vector_functions", i), vector=True)
    for name in m.symbols:
        graph.add_symbol(name, spec.loc("symbols", m.symbols.index(name)))
    given: dict = {}
    for name, raw in m.given.items():
        if given and not _plain_numbers(raw):
            # written with earlier given names (b: 3*a): their numbers put in, the formula computed as written
            # ((a - 2)/(a - 2) at a = 2 is refused, not simplified to 1)
            value, display = spec_expr(spec, raw, ("given", name), graph.names(), both=True)
            at = engine.checked_value(display, given, f"{name} = {raw}", spec.loc("given", name))
            items = value.items if isinstance(value, Tensor) else (value,)
            if any(isinstance(x, sympy.Basic) and x.free_symbols & given.keys() for x in items):
                value = at
        else:
            value = spec_expr(spec, raw, ("given", name), graph.names())
        # kept exactly as written: a given value never turns into a float (it would be shown without ≈)
        group = graph.add_given(name, value, spec.key_loc("given", name))
        given.update(zip(group.symbols, value.items if isinstance(value, Tensor) else (value,)))
    add_equations(spec, graph, m.equations if equations is None else equations)
    return graph


def add_equations(spec, graph: Graph, equations: dict) -> None:
    """Add named equations in order; each may use given names, symbols and earlier equations."""
    with building():
        for name, text in equations.items():
            value, display = spec_expr(spec, text, ("equations", name), graph.names(), both=True)
            graph.add_node(name, value, display, spec.key_loc("equations", name), source=text)
