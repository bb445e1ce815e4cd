"""Final symbolic answers in the exam's own names: derivatives written with the quantities the spec defines.

A symbolic gradient comes out of reverse mode in the leaves (z, y, w, x): a page of exponentials for
softmax cross-entropy. Here the same reverse mode runs again with every local derivative written in the
names of the nodes (ŷ = softmax(z): ∂ŷ₁/∂z₁ = ŷ₁(1 − ŷ₁)), each adjoint tidied by cancel; the result is
kept only when it is shorter (count_ops) and equal to the leaf form at random rational points.
"""
from __future__ import annotations

from typing import Any

import sympy

from examsolve import budget
from examsolve.errors import SolveError
from examsolve.functions import kinks_to_cases, resolve_kinks

MAX_OPS = 300        # an adjoint larger than this is left in the leaves: tidying it would cost more than it gives
MAX_PATH = 200       # nodes on the path; a larger graph keeps the leaf form
MAX_SIBLINGS = 16    # elements of a vector node tried as names in a local derivative
POINTS = 6           # random rational points two forms are compared at
TIDY_SECONDS = 5


def _number(v: Any) -> bool:
    return isinstance(v, sympy.Basic) and v.is_number


def _ops(e: Any) -> int:
    return sympy.count_ops(e) if isinstance(e, sympy.Basic) else 0


def _definitions(graph, c) -> list:
    """(expression, name) of c and the other elements of its vector, most composite first."""
    group = graph.groups.get(graph.nodes[c].group)
    syms = group.symbols if group is not None and len(group.symbols) <= MAX_SIBLINGS else (c,)
    defs = [(graph.nodes[s].expr, s) for s in syms if not graph.nodes[s].expr.is_Atom]
    return sorted(defs, key=lambda d: -_ops(d[0]))


def _local(bp, c, n, numbers: dict) -> Any:
    """∂c/∂n in the names of c and its siblings, numbers put in for given names and numeric nodes."""
    sym = bp.local(c, n)[0]
    defs = _definitions(bp.graph, c)
    if defs and not sym.is_Atom:
        sym = sym.subs(defs)             # exp(z₁)/Σexp(z) - exp(2z₁)/(Σexp(z))² is ŷ₁ - ŷ₁²
    sym = sym.xreplace(numbers)
    sym, _ = resolve_kinks(sym, bp.conventions)
    return kinks_to_cases(sym, bp.conventions)


def tidy(e: Any) -> Any:
    """The shortest of e, its cancelled and its factored form (cases folded, each case tidied)."""
    if not isinstance(e, sympy.Basic) or e.is_Atom:
        return e
    if e.has(sympy.Piecewise):
        e = sympy.piecewise_fold(e)
        if isinstance(e, sympy.Piecewise):
            return sympy.Piecewise(*[(tidy(x), c) for x, c in e.args])
        return e
    if _ops(e) > MAX_OPS:
        return e
    forms = [e]
    try:
        with budget.section(TIDY_SECONDS, "writing an answer in the spec's names"):
            c = sympy.cancel(e)
            forms += [c, sympy.factor(c)]
    except SolveError as err:
        if isinstance(err, budget.BudgetError):
            raise
    except (sympy.PolynomialError, TypeError, ValueError):     # cancel refuses some shapes: keep e
        pass
    return min(forms, key=_ops)


def named_adjoints(bp, of, wrt: list) -> dict | None:
    """∂of/∂n for every node on a path from wrt to of, in the nodes' names; None for a large graph."""
    graph = bp.graph
    order, on_path = bp.path(of, wrt)
    if len(order) > MAX_PATH:
        return None
    numbers = {s: v for s, v in bp.values.items() if graph.nodes[s].kind != "symbol" and _number(v)}
    adj: dict = {of: sympy.S.One}
    for n in order:
        budget.check("writing an answer in the spec's names")
        terms = [adj[c] * _local(bp, c, n, numbers) for c in bp.consumers[n] if c in on_path]
        adj[n] = tidy(sympy.Add(*terms))
        if _ops(adj[n]) > MAX_OPS:
            return None
    return adj


def expand(e: Any, graph, values: dict) -> Any:
    """e with every defined node's name replaced by its value in the leaves."""
    if not isinstance(e, sympy.Basic):
        return e
    nodes = {s: values[s] for s in e.free_symbols if s in graph.nodes and graph.nodes[s].kind == "node"}
    return e.xreplace(nodes) if nodes else e


def equal(a: Any, b: Any) -> bool:
    """a = b: the difference cancels, or is 0 (to 40 digits) at every one of POINTS random rational points."""
    d = a - b
    if d == 0:
        return True
    if not d.has(sympy.Piecewise):
        try:
            if sympy.cancel(d) == 0:
                return True
        except (sympy.PolynomialError, TypeError, ValueError):
            pass
    syms = sorted(d.free_symbols, key=str)
    for k in range(POINTS):
        # signs vary from point to point, so both sides of a case's condition are met
        point = {s: sympy.Rational((-1) ** (i + k) * (3 + 2 * i + k), 7 + i + 2 * k) for i, s in enumerate(syms)}
        v = _at(d, point)
        if v is None or abs(v) > sympy.Float("1e-40"):
            return False
    return True


def _at(d: Any, point: dict) -> Any:
    """d at the point as a 50-digit number; functions known only by name get a number per argument."""
    v = d.xreplace(point)
    calls = sorted({f for f in v.atoms(sympy.Function) if hasattr(f, "generic_name")}, key=sympy.default_sort_key)
    if calls:
        v = v.xreplace({f: sympy.Rational(11 + 3 * i, 13 + i) for i, f in enumerate(calls)})
    try:
        v = sympy.N(v, 50)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return v if v.is_Number and v.is_finite else None


def in_names(bp, of, wrt: list, adj: dict) -> dict:
    """For each node or leaf on the path whose ∂of/∂n is symbolic: its shorter equal form in the spec's names."""
    if all(_number(adj.get(w)) for w in wrt):
        return {}
    named = named_adjoints(bp, of, wrt)
    if named is None:
        return {}
    out = {}
    for n, form in named.items():
        leaf = adj.get(n)
        if n == of or leaf is None or _number(leaf) or _ops(form) >= _ops(leaf):
            continue
        if equal(expand(form, bp.graph, bp.values), leaf):
            out[n] = form
    return out


def restate(steps: list, of, forms: dict) -> list:
    """The backward steps with each ∂of/∂n value written in the spec's names where that is shorter."""
    import dataclasses

    names = {f"d{of.name}/d{n.name}": v for n, v in forms.items()}
    out = []
    for s in steps:
        target = getattr(s.target, "name", None)
        if target in names and s.value is not None:
            s = dataclasses.replace(s, value=names[target])
        out.append(s)
    return out
