"""Credit carried forward (`grade --follow-through`): a wrong answer that is right for the student's own earlier
values gets its points.

Earlier answers are the graph's equation nodes the student got wrong, taken in topological order (every one of
them for a gradient or an update, which come after the forward pass). The spec is solved once per set of such
nodes with each equation written `(its formula) + ft_<node>`, ft_<node> a free symbol: the offset keeps the
node's local derivatives (replacing the formula by the student's number would cut the backward pass off at
it), and one symbolic solve serves every student of a class. The offsets are then fixed node by node so each
node takes the student's value, and the later answers are compared with the solution at those offsets.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import sympy

from examsolve import budget
from examsolve.errors import ExamsolveError
from examsolve.tensor import Tensor

MAX_SHOWN = 3        # earlier values named in the feedback


def carry(spec, sol, given: dict, marks: list, wrong_paths, rule_of: Callable) -> list:
    """The marks with every wrong answer that is consistent with the student's earlier wrong values credited."""
    graph = sol.graph
    if graph is None:
        return marks
    nodes = _node_answers(graph, marks)
    out = list(marks)
    for i, m in enumerate(marks):
        if not m.given or m.correct or m.points == m.max_points:
            continue
        earlier = _earlier(graph, nodes, m.name)
        if not earlier:
            continue
        got = _consistent(spec, sol, given, earlier, m.name, wrong_paths, rule_of(m.name))
        if got is not None:
            out[i] = dataclasses.replace(m, points=m.max_points, feedback=got)
    return out


def _node_answers(graph, marks: list) -> list[str]:
    """Wrongly answered names that are equation nodes of the graph, in topological order."""
    wrong = [m.name for m in marks if m.given and not m.correct and _is_node(graph, m.name)]
    return sorted(wrong, key=lambda n: graph.order[graph.groups[n].symbols[0]])


def _is_node(graph, name: str) -> bool:
    group = graph.groups.get(name)
    return group is not None and all(graph.nodes[s].kind == "node" for s in group.symbols)


def _earlier(graph, nodes: list[str], name: str) -> list[str]:
    """The wrong node answers before `name`: by topological order for a node, all of them for anything else."""
    if not _is_node(graph, name):
        return nodes
    here = graph.order[graph.groups[name].symbols[0]]
    return [n for n in nodes if graph.order[graph.groups[n].symbols[0]] < here]


def _consistent(spec, sol, given: dict, earlier: list[str], name: str, wrong_paths, rule) -> str | None:
    """Feedback 'consistent with your u = 3 …' when the answer is right for the earlier values; None else."""
    from examsolve.compare import agrees
    from examsolve.grading import _answer, _reraise_run_budget

    try:
        shifted = _shifted(wrong_paths, sol, earlier)
        if shifted is None:
            return None
        other, offsets = shifted
        subs = _offsets(spec, sol, given, earlier, other, offsets)
        if subs is None:
            return None
        symbolic = _at(_answer(other, name), {}, other.graph)
        expected = _at(symbolic, subs, other.graph)
        raw, text = given[name]
        if expected is None or _free(expected) or not agrees(raw, text, expected, rule, spec, sol, name)[0]:
            return None
    except (ExamsolveError, TypeError, ValueError, ZeroDivisionError) as err:
        _reraise_run_budget(err)
        return None
    # name only the earlier values this answer depends on (a gradient of L does not use L's value)
    used = [n for n in earlier if _free(symbolic) & set(_offset_symbols(other, offsets[n]))] or earlier
    shown = ", ".join(f"{n} = {given[n][1]}" for n in used[:MAX_SHOWN]) + (" …" if len(used) > MAX_SHOWN else "")
    return f"consistent with your {shown}: right for your earlier values (credit carried forward)"


def _shifted(wrong_paths, sol, earlier: list[str]):
    """(the spec solved with an offset symbol added to each earlier node's equation, offset symbols by node)."""
    data = wrong_paths.data
    equations = data.get("equations")
    if not isinstance(equations, dict):
        return None
    taken = set(map(str, data.get("given") or {})) | set(map(str, equations)) | set(map(str, data.get("symbols") or []))
    changes: dict = {}
    offsets: dict = {}
    for n in earlier:
        formula = equations.get(n)
        if isinstance(formula, bool) or not isinstance(formula, (str, int, float)):
            return None
        sym = "ft_" + n
        shape = sol.graph.groups[n].shape
        while taken & {sym, *_element_names(sym, shape)}:
            sym = "ft_" + sym
        names = _element_names(sym, shape)
        taken.update(names)
        changes[("equations", n)] = f"({formula}) + {_offset_text(names, shape)}"
        offsets[n] = names
    changes[("symbols",)] = list(data.get("symbols") or []) + [s for names in offsets.values() for s in names]
    other = wrong_paths._solve(changes)
    return None if other is None else (other, offsets)


def _element_names(sym: str, shape: tuple) -> list[str]:
    """One offset symbol per element (row-major); the symbol itself for a scalar."""
    if not shape:
        return [sym]
    if len(shape) == 1:
        return [f"{sym}_{i}" for i in range(shape[0])]
    if len(shape) == 2:
        return [f"{sym}_{r}_{c}" for r in range(shape[0]) for c in range(shape[1])]
    raise ValueError("no offsets for a tensor of rank 3")


def _offset_text(names: list[str], shape: tuple) -> str:
    """The offset as the spec language writes it: a symbol, or a (nested) list of one symbol per element."""
    if not shape:
        return names[0]
    if len(shape) == 1:
        return "[" + ", ".join(names) + "]"
    rows = [names[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
    return "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"


def _offset_symbols(other, names: list[str]) -> list:
    """The free symbols of one node's offset in the solved spec, in element order."""
    known = other.graph.names() if other.graph is not None else {}
    return [known.get(s, sympy.Symbol(s)) for s in names]


def _offsets(spec, sol, given: dict, earlier: list[str], other, offsets: dict) -> dict | None:
    """Values of the offset symbols that give each earlier node the student's value, fixed in topological order."""
    from examsolve.grading import _answer

    subs: dict = {}
    for n in earlier:
        budget.check("grading: credit carried forward")
        symbols = _offset_symbols(other, offsets[n])
        student = _student_value(spec, sol, given[n][0])
        here = _at(_answer(other, n), {**subs, **{s: 0 for s in symbols}}, other.graph)
        if student is None or here is None:
            return None
        mine = student.items if isinstance(student, Tensor) else (student,)
        ours = here.items if isinstance(here, Tensor) else (here,)
        if len(mine) != len(ours) or len(ours) != len(symbols):
            return None
        subs.update({s: a - b for s, a, b in zip(symbols, mine, ours)})
    return subs


def _student_value(spec, sol, raw: Any):
    """The student's value read by the spec's expression language (exact; never eval), or None."""
    from examsolve.compare import _primes
    from examsolve.spec_graph import spec_expr

    if isinstance(raw, bool):
        return None
    names = sol.graph.names() if sol.graph is not None else {}
    value = spec_expr(spec, _primes(raw), ("answer",), dict(names))
    budget.check_number(value)
    items = value.items if isinstance(value, Tensor) else (value,)
    if not all(isinstance(x, sympy.Expr) and x.is_number and x.is_finite for x in items):
        return None
    return value


def _at(value: Any, subs: dict, graph) -> Any:
    """value in the leaves (a symbolic solve writes a gradient in its nodes, cos(u)) with the offsets put in."""
    def one(x):
        return graph.in_leaves(x).xreplace(subs) if isinstance(x, sympy.Basic) else x

    if value is None:
        return None
    return Tensor(value.shape, tuple(one(x) for x in value.items)) if isinstance(value, Tensor) else one(value)


def _free(value: Any) -> set:
    """The free symbols of a value (empty when it is a number)."""
    items = value.items if isinstance(value, Tensor) else (value,)
    return set().union(*[x.free_symbols for x in items if isinstance(x, sympy.Basic)])

