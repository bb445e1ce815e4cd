"""The steps of a backward pass: a step per node (upstream gradient times local derivative, summed over the
node's consumers), with a large group's elements and long runs of steps of one form cut short."""
from __future__ import annotations

from typing import Any

import sympy

from examsolve import floatpath
from examsolve.engine import MAX_SHOWN, Backprop, _more_steps, group_value, substitute
from examsolve.functions import Partial
from examsolve.names import text_name
from examsolve.steps import Step


def backward_steps(bp: Backprop, of: Any, order: list, users: dict, adj: dict, shown: set | None) -> list[Step]:
    """The steps of ∂of/∂n for the nodes in order (one line for those in shown, whose steps an earlier
    backward pass of the same values gave)."""
    # a large group (say x_1 .. x_256) gets steps for its first 3 elements, then its values at once
    groups: dict = {}
    for n in order:
        groups.setdefault(bp.graph.nodes[n].group, []).append(n)
    items: list = []
    again = [n for n in order if shown and n in shown]
    if again:
        names = ", ".join(f"∂{text_name(of.name)}/∂{text_name(n.name)}" for n in again[:6])
        names += ", …" if len(again) > 6 else ""
        items.append(("again", f"Backward: {names} as in the backward pass above"))
    for n in order:
        if n in again:
            continue
        name = bp.graph.nodes[n].group
        members = groups[name]
        if len(members) <= MAX_SHOWN or n in members[:3]:
            items.append(n)
        elif n == members[3]:
            items.append(("group", name, len(members)))
    if bp.fast is not None:       # past FLOAT_NODES: the first and last few of each run of one form
        nodes = bp.graph.nodes
        items = floatpath.runs(items, lambda x: None if isinstance(x, tuple) else (
            floatpath.form(nodes[x].display), len(users[x]), floatpath.form(nodes[users[x][0]].display)))
    steps: list[Step] = []
    for x in items:
        if not isinstance(x, tuple):
            steps.append(_step(bp, of, x, users[x], adj))
        elif x[0] == "more":
            steps.append(_more_steps("Backward", x[1]))
        elif x[0] == "again":
            steps.append(Step(x[1]))
        else:
            group = bp.graph.groups.get(x[1])
            value = group_value(group, adj) if group and all(s in adj for s in group.symbols) else None
            steps.append(Step(f"Backward: ∂{of.name}/∂{x[1]}, all {x[2]} elements, each as above",
                              target=Partial(of, sympy.Symbol(x[1], real=True)), value=value))
    return steps


def _step(bp: Backprop, of: Any, n: Any, users: list, adj: dict) -> Step:
    """∂of/∂n = Σ upstream ∂of/∂c × local ∂c/∂n, with each local derivative as a substep."""
    formula, numbers, local_steps, notes = [], [], [], []
    # the float path writes out the first and last few terms of a long sum
    head, hidden, tail = floatpath.ends(users) if bp.fast is not None else (users, [], [])
    if hidden:
        notes.append(f"… stands for the other {len(hidden)} terms of the same form (the value sums them all)")
    for c in head + tail:
        sym, num, kinks = bp.local(c, n)
        notes.extend(k for k in kinks if k not in notes)
        if c == of:     # of uses n directly: the local derivative is the whole term
            formula.append(bp.shown(c, n))
            numbers.append(substitute(bp.shown(c, n), bp.values, evaluate=False))
            continue
        formula.append(sympy.Mul(Partial(of, c), Partial(c, n), evaluate=False))
        numbers.append(sympy.Mul(_boxed(adj[c]), _boxed(num), evaluate=False))
        if len(users) <= MAX_SHOWN or len(local_steps) < 3:   # a long fan-out shows its first 3
            shown = bp.shown(c, n)
            at = substitute(shown, bp.values, evaluate=False) if shown.free_symbols else None
            local_steps.append(Step(title=f"local derivative ∂{c.name}/∂{n.name}", target=Partial(c, n),
                                    formula=shown, substituted=at, value=num))
    if len(users) > MAX_SHOWN:
        local_steps.append(Step(f"... and {len(users) - 3} more local derivatives of the same form"))
    if hidden:      # … after the terms (the printers may still order a sum's terms their own way)
        formula.append(floatpath.ELIDED)
        numbers.append(floatpath.ELIDED)
    if len(users) > 1:
        notes.append(f"{text_name(n.name)} feeds {len(users)} nodes ("
                     f"{', '.join(text_name(c.name) for c in users[:6])}{', ...' if len(users) > 6 else ''}"
                     f"): sum over every path to {text_name(of.name)}")
    return Step(title=f"Backward: ∂{of.name}/∂{n.name}", target=Partial(of, n), formula=_sum(formula),
                substituted=_sum(numbers), value=adj[n], note="; ".join(notes), substeps=tuple(local_steps))


def _boxed(v: Any) -> Any:
    """A number kept whole in a shown product: (-1)·(-2), not -(-2) or - -2."""
    return sympy.UnevaluatedExpr(v) if getattr(v, "is_number", False) else v


def _sum(terms: list) -> Any:
    """The terms as one unevaluated sum (0 for none, the term itself for one)."""
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)
