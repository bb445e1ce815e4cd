"""The first-derivative asks: grad: (one backward pass, optionally with a given upstream gradient) and jacobian:."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy

from examsolve import engine, exam_form
from examsolve.errors import SpecError
from examsolve.functions import Partial
from examsolve.names import text_name
from examsolve.spec_graph import names_list, spec_expr
from examsolve.steps import Step
from examsolve.tensor import Tensor
from examsolve.values import PRECISION, fit, numeric

if TYPE_CHECKING:       # only for the hints: asks imports this module
    from examsolve.asks import Solver


def ask_grad(solver: Solver, body: Any, path: tuple) -> None:
    """grad: the gradient of one scalar by one backward pass, as steps and an answer."""
    of = solver.scalar(body.of, path + ("of",)) if isinstance(body.of, str) else None
    if of is None:
        raise SpecError("grad: takes one scalar in of:; use jacobian: for several outputs",
                        solver.spec.loc(*path, "of"))
    wrt_names = names_list(body.wrt)
    wrt = solver.symbols_of(wrt_names, path + ("wrt",))
    values, bp, over = solver.values_at(body.at, path)
    done = solver.shown_nodes.setdefault(of, set()) if not over else set()
    adj, steps = _in_names(bp, of, wrt, *bp.adjoints(of, wrt, shown=set(done)))
    if not over:
        done.update(bp.path(of, wrt)[0])
    at = _at_text(over)
    groups = [solver.group(n, path + ("wrt",)) for n in wrt_names]
    # with several names, each part of the gradient keeps its own name too (key: dL/dw, dL/db)
    parts = tuple((f"d{of.name}/d{g.name}", engine.group_value(g, adj)) for g in groups) if len(groups) > 1 else ()
    wrt_text = ", ".join(text_name(n) for n in wrt_names)
    solver.steps.append(Step(f"Backward pass: gradient of {text_name(of.name)} with respect to {wrt_text}{at}",
                             substeps=tuple(steps),
                             note="reverse mode: each gradient is the upstream gradient times the local "
                                  "derivative, summed over all consumers", quantities=parts if not at else ()))
    solver.shown_grads.add((of, tuple(wrt)))
    needed = solver.graph.ancestors([of])     # once: per element it made a 20,000-element gradient quadratic
    for w in wrt:
        if w not in needed:
            solver.steps.append(Step(f"{of.name} does not depend on {w.name}", target=Partial(of, w),
                                     value=sympy.Integer(0)))
    if len(groups) == 1:
        value = engine.group_value(groups[0], adj)
        label = Partial(of, sympy.Symbol(groups[0].name, real=True))
        name = body.name or f"d{of.name}/d{groups[0].name}"
    else:
        value = Tensor((len(wrt),), tuple(adj[w] for w in wrt))
        label = sympy.Symbol(f"∇{of.name}")
        name = body.name or f"grad {of.name}"
    if body.upstream is not None:
        value, label, name = _upstream(solver, body, path, of, groups, value, name)
    solver.answer(name, value, label, body.key, path)


def _in_names(bp, of, wrt: list, adj: dict, steps: list) -> tuple[dict, list]:
    """Symbolic gradients (answers and steps) written in the names the spec defines, where shorter."""
    forms = exam_form.in_names(bp, of, wrt, adj) if bp.fast is None else None   # floats: no names to use
    if not forms:
        return adj, steps
    return {**adj, **forms}, exam_form.restate(steps, of, forms)


def _upstream(solver: Solver, body, path, of, groups, value, name):
    """With a given ∂L/∂of = a: ∂L/∂w = a · ∂of/∂w (the chain rule one step further)."""
    up = spec_expr(solver.spec, body.upstream, path + ("upstream",), solver.graph.names())
    loss = sympy.Symbol("L", real=True)
    wrt = sympy.Symbol(groups[0].name, real=True) if len(groups) == 1 else sympy.Symbol("w")
    total = value.map(lambda v: fit(up * v)) if isinstance(value, Tensor) else fit(up * value)
    solver.steps.append(Step(f"Chain rule with the given upstream gradient ∂L/∂{of.name} = {sympy.sstr(up)}",
                             target=Partial(loss, wrt),
                             formula=sympy.Mul(Partial(loss, of), Partial(of, wrt), evaluate=False),
                             substituted=sympy.Mul(up, value, evaluate=False) if not isinstance(value, Tensor)
                             else None, value=total))
    label = Partial(loss, wrt)
    return total, label, body.name or f"dL/d{groups[0].name if len(groups) == 1 else 'w'}"


def ask_jacobian(solver: Solver, body: Any, path: tuple) -> None:
    """jacobian: ∂(each output)/∂(each input), one backward pass per output row."""
    outs = solver.symbols_of(names_list(body.of), path + ("of",))
    wrt = solver.symbols_of(names_list(body.wrt), path + ("wrt",))
    values, bp, over = solver.values_at(body.at, path)
    rows, sections = [], []
    shown = outs[:engine.MAX_SHOWN_ROWS]
    for r, y in enumerate(shown):
        adj, steps = _in_names(bp, y, wrt, *bp.adjoints(y, wrt))
        rows.append([adj[w] for w in wrt])
        sections.append(Step(f"Row {r + 1}: gradient of {text_name(y.name)}", substeps=tuple(steps)))
    exact = len(outs) * len(wrt) <= engine.MAX_EXACT_ENTRIES
    rows += bp.rows(outs[len(shown):], wrt, exact)
    if bp.fast is not None:
        pass        # float64 already, said in the answer's note
    elif not exact:
        # a float64 entry (rows made before the backward pass left the float path) keeps its ≈ 15 digits
        rows[:len(shown)] = [[x if isinstance(x, sympy.Float) else sympy.Integer(0) if x.is_zero
                              else fit(numeric(x, PRECISION)) for x in row] for row in rows[:len(shown)]]
        sections.append(Step(f"J has {len(outs) * len(wrt)} entries, more than the {engine.MAX_EXACT_ENTRIES} "
                             f"computed exactly: its entries are {PRECISION}-digit floats (≈)"))
    if len(outs) > len(shown):
        sections.append(Step(f"Rows {engine.MAX_SHOWN_ROWS + 1}..{len(outs)}: the same chain rule, "
                             "one backward pass per output"))
    J = Tensor((len(outs), len(wrt)), tuple(x for row in rows for x in row))
    of_txt = ", ".join(text_name(s.name) for s in outs)
    wrt_txt = ", ".join(text_name(s.name) for s in wrt)
    name = body.name or f"d({', '.join(names_list(body.of))})/d({', '.join(names_list(body.wrt))})"
    sections.append(Step(f"Jacobian J[i][j] = ∂(output i)/∂(input j); rows {of_txt}; columns {wrt_txt}",
                         target=sympy.Symbol("J"), value=J))
    solver.steps.append(Step(f"Jacobian of ({of_txt}) with respect to ({wrt_txt}){_at_text(over)}",
                             substeps=tuple(sections)))
    solver.answer(name, J, sympy.Symbol("J"), body.key, path)


def _at_text(over: dict) -> str:
    """' at x = 1, y = 2' for a step's title at an at: point; '' at the given values."""
    if not over:
        return ""
    return " at " + ", ".join(f"{s.name} = {sympy.sstr(v)}" for s, v in over.items())
