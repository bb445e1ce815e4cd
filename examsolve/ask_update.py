"""The update: ask: gradient descent (with momentum when given) for a number of steps, on the exact or the
float path."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy

from examsolve import engine, floatpath
from examsolve.errors import SpecError
from examsolve.functions import Iterate, Partial
from examsolve.spec_graph import names_list, spec_expr
from examsolve.steps import Step, Table
from examsolve.values import fit

if TYPE_CHECKING:       # only for the hints: asks imports this module
    from examsolve.asks import Solver


def ask_update(solver: Solver, body: Any, path: tuple) -> None:
    """update: body.steps steps of gradient descent (momentum when given) on the given parameters."""
    of = solver.scalar(body.of, path + ("of",))
    params = names_list(body.params)
    groups = [solver.group(p, path + ("params",)) for p in params]
    syms = [s for g in groups for s in g.symbols]
    for s in syms:
        if solver.graph.nodes[s].kind == "node":
            raise SpecError(f"'{s.name}' is computed by an equation; update given parameters only",
                            solver.spec.loc(*path, "params"))
    lr = spec_expr(solver.spec, body.lr, path + ("lr",), solver.graph.names())
    mu = None if body.momentum is None else spec_expr(solver.spec, body.momentum, path + ("momentum",),
                                                      solver.graph.names())
    again = _repeat(solver, syms)
    current = {s: solver.values[s] for s in syms}
    velocity = {s: sympy.Integer(0) for s in syms}
    table, named = [], []      # named: every iterate and loss, also those past the shown iterations
    sections = []
    for k in range(1, body.steps + 1):
        if k == 1:      # the parameters as given: the values and backward pass already made
            values, bp = solver.values, solver.backprop
        else:
            values = engine.evaluate(solver.graph, current)
            bp = engine.Backprop(solver.graph, values, solver.conventions)
        show_chain = k == 1 and (of, tuple(syms)) not in solver.shown_grads
        done = solver.shown_nodes.setdefault(of, set())
        adj, bsteps = bp.adjoints(of, syms, with_steps=show_chain, shown=set(done) if k == 1 else None)
        if show_chain:
            done.update(bp.path(of, syms)[0])
        sub = list(bsteps)
        new = {}
        shown = k <= 3 or k == body.steps
        # the float path shows the first and last few parameters of a large group (W1: 25,088 entries)
        listed = set(syms) if bp.fast is None else {s for g in groups for s in _ends(g.symbols)}
        cut = {} if bp.fast is None else _cuts(groups)
        for s in syms:
            move = adj[s]
            if mu is not None:
                before = velocity[s]
                velocity[s] = move = fit(mu * before + adj[s])
                if shown and s in listed:
                    sub.append(_velocity_step(of, s, k, mu, before, adj[s], move))
            new[s] = fit(current[s] - lr * move) if bp.fast is None else floatpath.as_sympy(
                float(current[s]) - float(lr) * float(move))
            if shown and s in listed:
                sub.append(_update_step(of, s, k, lr, mu is not None, current[s], move, new[s]))
            elif shown and s in cut:
                sub.append(Step(f"update {s.name} … {cut[s].name}: each as above "
                                "(not shown: on the float path)"))
        table.append((k, values[of]) + tuple(new[s] for s in syms))
        named += [(f"{of.name}[{k - 1}]{again}", values[of])] + [(f"iterates.{s.name}[{k}]{again}", new[s])
                                                                 for s in syms]
        if mu is not None:      # v.w[k]: the velocity used in step k, named as the optimizer family names it
            named += [(f"v.{s.name}[{k}]{again}", velocity[s]) for s in syms]
        if shown:
            sections.append(Step(f"Iteration {k}", substeps=tuple(sub)))
        current = new
    tab = Table(("step", f"{of.name} before") + tuple(f"{s.name} after" for s in syms), tuple(table))
    how = "Gradient descent" if mu is None else f"SGD with momentum μ = {sympy.sstr(mu)} (v starts at 0)"
    solver.steps.append(Step(f"{how} on {of.name}: {body.steps} step{'s' if body.steps > 1 else ''}, "
                             f"learning rate α = {sympy.sstr(lr)}",
                             substeps=tuple(sections), table=tab if body.steps > 1 else None,
                             quantities=tuple(named)))
    for g in groups:
        v = engine.group_value(g, current)
        solver.answer(body.name if body.name and len(groups) == 1 else f"{g.name} after {body.steps} step"
                      + ("s" if body.steps > 1 else ""), v, Iterate(sympy.Symbol(g.name), body.steps),
                      body.key if len(groups) == 1 else None, path)


def _repeat(solver: Solver, syms: list) -> str:
    """'' for the first update of these parameters; ' (2)', ' (3)' ... for a later one, so that its iterates
    (iterates.w[1] (2)) are named as its answer is ('w after 1 step (2)') and a key can tell the two apart."""
    taken = {name for step in solver.steps for name, _ in step.quantities}
    n = 1
    while any(f"iterates.{s.name}[1]{_nth(n)}" in taken for s in syms):
        n += 1
    return _nth(n)


def _nth(n: int) -> str:
    """The suffix of the n-th quantity of one name: '' for the first, ' (n)' after."""
    return "" if n == 1 else f" ({n})"


def _update_step(of, s, k: int, lr, momentum: bool, before, move, after) -> Step:
    """s ← s − α·∂of/∂s (or − α·v with momentum) for step k, with the numbers."""
    step_size = sympy.Mul(lr, move, evaluate=False)
    grad = Iterate(sympy.Symbol("v_" + s.name), k) if momentum else Partial(of, s)
    return Step(f"update {s.name}: {s.name} ← {s.name} − α·" + ("v" if momentum else f"∂{of.name}/∂{s.name}"),
                target=Iterate(s, k),
                formula=sympy.Add(Iterate(s, k - 1), sympy.Mul(-1, sympy.Mul(
                    sympy.Symbol("alpha"), grad, evaluate=False), evaluate=False), evaluate=False),
                substituted=sympy.Add(before, sympy.Mul(-1, step_size, evaluate=False), evaluate=False),
                value=after)


def _velocity_step(of, s, k: int, mu, before, grad, after) -> Step:
    """v_s ← μ·v_s + ∂of/∂s for step k, with the numbers."""
    v = sympy.Symbol("v_" + s.name)
    return Step(f"velocity of {s.name}: v ← μ·v + ∂{of.name}/∂{s.name}", target=Iterate(v, k),
                formula=sympy.Add(sympy.Mul(sympy.Symbol("mu"), Iterate(v, k - 1), evaluate=False), Partial(of, s),
                                  evaluate=False),
                substituted=sympy.Add(sympy.Mul(mu, before, evaluate=False), grad, evaluate=False), value=after)


def _ends(items: tuple) -> tuple:
    """The first and last few of a group's elements (all of a small group)."""
    head, _, tail = floatpath.ends(items)
    return head + tail


def _cuts(groups: list) -> dict:
    """{first element not shown: last element not shown} of each group that _ends cuts."""
    return {hidden[0]: hidden[-1] for hidden in (floatpath.ends(g.symbols)[1] for g in groups) if hidden}
