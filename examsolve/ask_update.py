"""The update: ask: gradient descent (with momentum when given) for a number of steps, on the exact or the
float path."""
from __future__ import annotations

import math
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
    clip = None if body.clip_norm is None else _clip_norm(solver, body, path)
    again = _repeat(solver, syms)
    done = solver.shown_nodes.setdefault(of, set())
    before = set(done)
    try:
        if clip is not None:
            raise floatpath.NeedsExact      # the norm and the clip decision are computed exactly
        sections, table, named, current = _descend(solver, body, of, groups, syms, lr, mu, again, exact=False)
    except floatpath.NeedsExact:
        # an iterate or gradient the float path cannot vouch for to 9 digits (an update that cancels, say
        # 0.3 − 3·0.1): every iteration again, exactly, so a kink met later goes the way it should
        solver.shown_nodes[of] = before
        sections, table, named, current = _descend(solver, body, of, groups, syms, lr, mu, again, exact=True,
                                                   clip=clip)
        if clip is None:
            sections.insert(0, Step(f"float path: an update or gradient of {', '.join(s.name for s in syms[:4])}"
                                f"{', …' if len(syms) > 4 else ''} is not vouched for to "
                                f"{floatpath.MIN_RELATIVE:g} in float64 (it cancels or underflows), so the "
                                "iterations are computed exactly"))
    tab = Table(("step", f"{of.name} before") + tuple(f"{s.name} after" for s in syms), tuple(table))
    how = "Gradient descent" if mu is None else f"SGD with momentum μ = {sympy.sstr(mu)} (v starts at 0)"
    how += "" if clip is None else f", the gradient clipped to norm c = {sympy.sstr(clip)}"
    solver.steps.append(Step(f"{how} on {of.name}: {body.steps} step{'s' if body.steps > 1 else ''}, "
                             f"learning rate α = {sympy.sstr(lr)}",
                             substeps=tuple(sections), table=tab if body.steps > 1 else None,
                             quantities=tuple(named)))
    for g in groups:
        v = engine.group_value(g, current)
        solver.answer(body.name if body.name and len(groups) == 1 else f"{g.name} after {body.steps} step"
                      + ("s" if body.steps > 1 else ""), v, Iterate(sympy.Symbol(g.name), body.steps),
                      body.key if len(groups) == 1 else None, path)


def _clip_norm(solver: Solver, body: Any, path: tuple) -> Any:
    """The update's clip_norm: c, a number > 0 (SpecError at its key otherwise)."""
    from examsolve.values import sign

    c = spec_expr(solver.spec, body.clip_norm, path + ("clip_norm",), solver.graph.names())
    if not getattr(c, "is_number", False) or sign(c) != 1:
        raise SpecError(f"clip_norm {sympy.sstr(c)} is not a number > 0; give the largest gradient norm, e.g. 1",
                        solver.spec.loc(*path, "clip_norm"))
    return c


def _clipped(of: Any, syms: list, adj: dict, c: Any, k: int, again: str) -> tuple[dict, list, list]:
    """The gradient scaled by min(1, c/‖g‖₂), with its steps (the norm, the factor) and named quantities."""
    from examsolve.values import sign

    g = [adj[s] for s in syms]
    norm = fit(sympy.sqrt(sympy.Add(*[x ** 2 for x in g])))
    U = {"evaluate": False}
    steps = [Step(f"gradient norm ‖g‖₂ over {', '.join(s.name for s in syms)}", target=sympy.Symbol("‖g‖"),
                  formula=sympy.sqrt(sympy.Add(*[sympy.Pow(Partial(of, s), 2, **U) for s in syms], **U)),
                  substituted=sympy.sqrt(sympy.Add(*[sympy.Pow(x, 2, **U) for x in g], **U), **U), value=norm)]
    over = sign(norm - c) == 1
    factor = fit(c / norm) if over else sympy.Integer(1)
    steps.append(Step(f"clip factor min(1, c/‖g‖) with c = {sympy.sstr(c)}: "
                      + ("the norm is over c, so the gradient is scaled down" if over else
                         "the norm is at most c, so the gradient is kept"),
                      target=sympy.Symbol("s"), formula=sympy.Min(1, sympy.Symbol("c") / sympy.Symbol("‖g‖"), **U),
                      substituted=sympy.Min(1, sympy.Mul(c, sympy.Pow(norm, -1, **U), **U), **U), value=factor))
    out = {s: fit(factor * adj[s]) for s in syms}
    if over:
        steps += [Step("clipped gradient", target=clipped_symbol(s),
                       formula=sympy.Mul(sympy.Symbol("s"), Partial(of, s), **U),
                       substituted=sympy.Mul(factor, adj[s], **U), value=out[s]) for s in syms]
    named = [(f"grad_norm[{k}]{again}", norm), (f"clip_factor[{k}]{again}", factor)]
    named += [(f"clipped.{s.name}[{k}]{again}", out[s]) for s in syms]
    return out, steps, named


def clipped_symbol(s: Any) -> sympy.Symbol:
    """g̃ of a parameter: its clipped gradient, as the steps name it."""
    return sympy.Symbol(f"gtilde_{s.name}")


def _descend(solver: Solver, body: Any, of: Any, groups: list, syms: list, lr: Any, mu: Any, again: str,
             exact: bool, clip: Any = None) -> tuple[list, list, list, dict]:
    """(shown sections, table rows, named quantities, last iterates) of the update's iterations; on the float
    path (not exact) with an error bound on every iterate, NeedsExact for one it cannot vouch for."""
    fast = not exact and solver.backprop.fast is not None
    current = {s: solver.values[s] for s in syms}
    velocity = {s: sympy.Integer(0) for s in syms}
    # the float iterates and bounds on their (and the velocities') errors: the given values' rounding to start
    floats = {s: solver.values.floats[s] for s in syms} if fast else {}
    errors = {s: solver.values.errors.get(s, 0.0) for s in syms} if fast else {}
    fvelocity, verrors = dict.fromkeys(syms, 0.0), dict.fromkeys(syms, 0.0)
    flr, elr = floatpath.float_and_error(lr) if fast else (0.0, 0.0)
    fmu, emu = floatpath.float_and_error(mu) if fast and mu is not None else (0.0, 0.0)
    table, named = [], []      # named: every iterate and loss, also those past the shown iterations
    sections = []
    for k in range(1, body.steps + 1):
        if k == 1 and (fast or solver.backprop.fast is None):   # the values and backward pass already made
            bp = solver.backprop
            values = solver.values if fast else bp.values
        elif k == 1:
            values = engine.evaluate(solver.graph, fast=False)
            bp = engine.Backprop(solver.graph, values, solver.conventions)
        else:
            # off the float path once, off it for every iteration: an iterate's float error is carried only here
            values = floatpath.evaluate(solver.graph, current, errors) if fast else \
                engine.evaluate(solver.graph, current, fast=False)
            if values is None:
                raise floatpath.NeedsExact
            bp = engine.Backprop(solver.graph, values, solver.conventions)
        show_chain = k == 1 and (of, tuple(syms)) not in solver.shown_grads
        done = solver.shown_nodes.setdefault(of, set())
        adj, bsteps = bp.adjoints(of, syms, with_steps=show_chain, shown=set(done) if k == 1 else None)
        if fast and bp.fast is None:
            raise floatpath.NeedsExact      # a gradient the float path could not vouch for: all of it exactly
        if show_chain:
            done.update(bp.path(of, syms)[0])
        sub = list(bsteps)
        if clip is not None:
            adj, clip_steps, clip_named = _clipped(of, syms, adj, clip, k, again)
            sub += clip_steps
            named += clip_named
        new = {}
        shown = k <= 3 or k == body.steps
        # the float path shows the first and last few parameters of a large group (W1: 25,088 entries)
        listed = set(syms) if bp.fast is None else {s for g in groups for s in _ends(g.symbols)}
        cut = {} if bp.fast is None else _cuts(groups)
        adj_floats, adj_errors = getattr(adj, "floats", {}), getattr(adj, "errors", {})
        for s in syms:
            if fast:        # the float gradient as it is (a 25,000-parameter one is mostly never shown)
                fm = adj_floats.get(s)
                fm, em = float(adj[s]) if fm is None else float(fm), adj_errors.get(s, 0.0)
                move = adj[s] if shown and s in listed else None
            else:
                move = adj[s]
            if mu is not None:
                before = velocity[s]
                if fast:
                    fb = fvelocity[s]
                    v = fvelocity[s] = fmu * fb + fm
                    em = verrors[s] = (abs(fmu) * verrors[s] + emu * abs(fb) + em
                                       + floatpath.ULP * (abs(fmu * fb) + abs(v)))
                    _vouch(v, em)
                    velocity[s] = move = floatpath.as_sympy(v)
                    fm = v
                else:
                    velocity[s] = move = fit(mu * before + adj[s])
                if shown and s in listed:
                    sub.append(_velocity_step(of, s, k, mu, before, adj[s], move, clip is not None))
            if fast:
                fc = floats[s]
                v = floats[s] = fc - flr * fm
                # |current| and |α·move| against the result: an update that cancels has lost their digits
                errors[s] += abs(flr) * em + elr * abs(fm) + floatpath.ULP * (abs(flr * fm) + abs(v))
                _vouch(v, errors[s])
                new[s] = floatpath.as_sympy(v)
            else:
                new[s] = fit(current[s] - lr * move)
            if shown and s in listed:
                sub.append(_update_step(of, s, k, lr, mu is not None, current[s], move, new[s], clip is not None))
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
    return sections, table, named, current


def _vouch(v: float, err: float) -> None:
    """NeedsExact unless the float v is right to floatpath.MIN_RELATIVE (an exact 0 is), and not subnormal."""
    if not (math.isfinite(v) and err <= floatpath.MIN_RELATIVE * abs(v)) or 0.0 < abs(v) < floatpath.TINY:
        raise floatpath.NeedsExact


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


def _update_step(of, s, k: int, lr, momentum: bool, before, move, after, clipped: bool = False) -> Step:
    """s ← s − α·∂of/∂s (or − α·v with momentum, − α·g̃ with the gradient clipped) for step k, with the numbers."""
    step_size = sympy.Mul(lr, move, evaluate=False)
    grad = Iterate(sympy.Symbol("v_" + s.name), k) if momentum else clipped_symbol(s) if clipped else Partial(of, s)
    return Step(f"update {s.name}: {s.name} ← {s.name} − α·" + ("v" if momentum else "g̃" if clipped else
                                                                  f"∂{of.name}/∂{s.name}"),
                target=Iterate(s, k),
                formula=sympy.Add(Iterate(s, k - 1), sympy.Mul(-1, sympy.Mul(
                    sympy.Symbol("alpha"), grad, evaluate=False), evaluate=False), evaluate=False),
                substituted=sympy.Add(before, sympy.Mul(-1, step_size, evaluate=False), evaluate=False),
                value=after)


def _velocity_step(of, s, k: int, mu, before, grad, after, clipped: bool = False) -> Step:
    """v_s ← μ·v_s + ∂of/∂s (the clipped g̃ when clipping) for step k, with the numbers."""
    v = sympy.Symbol("v_" + s.name)
    return Step(f"velocity of {s.name}: v ← μ·v + " + ("g̃" if clipped else f"∂{of.name}/∂{s.name}"),
                target=Iterate(v, k),
                formula=sympy.Add(sympy.Mul(sympy.Symbol("mu"), Iterate(v, k - 1), evaluate=False),
                                  clipped_symbol(s) if clipped else Partial(of, s), evaluate=False),
                substituted=sympy.Add(sympy.Mul(mu, before, evaluate=False), grad, evaluate=False), value=after)


def _ends(items: tuple) -> tuple:
    """The first and last few of a group's elements (all of a small group)."""
    head, _, tail = floatpath.ends(items)
    return head + tail


def _cuts(groups: list) -> dict:
    """{first element not shown: last element not shown} of each group that _ends cuts."""
    return {hidden[0]: hidden[-1] for hidden in (floatpath.ends(g.symbols)[1] for g in groups) if hidden}
