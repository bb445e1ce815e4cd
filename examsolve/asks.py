"""Runs the asks of a graph-based family over its graph: Solver holds what they share (the values, the
backward pass, the steps and answers so far) and hands each ask to the module that answers it."""
from __future__ import annotations

from typing import Any

import sympy

from examsolve import assume, budget, engine, floatpath
from examsolve.ask_critical import ask_critical_points
from examsolve.ask_gradients import ask_grad, ask_jacobian
from examsolve.ask_hessian import ask_hessian
from examsolve.ask_solve import ask_solve
from examsolve.ask_update import ask_update
from examsolve.errors import SpecError
from examsolve.finish import finish
from examsolve.graph import Graph, Group
from examsolve.spec_graph import names_list, spec_expr
from examsolve.steps import Answer, Solution, Step
from examsolve.tensor import Tensor


SYMBOLIC_ASKS = ("hessian", "critical_points", "solve")


class Solver:
    """Runs the asks of one spec over its graph, collecting steps and answers."""

    def __init__(self, spec: Any, graph: Graph):
        """Evaluate the graph at the given values and make its backward pass, once for every ask."""
        self.spec, self.graph = spec, graph
        spec.exam_graph = graph      # key checks expand the names this graph defines (compare.compare)
        self.conventions = spec.model.conventions.model_dump()
        self.values = engine.evaluate(graph)
        self.float_path = isinstance(self.values, floatpath.FloatValues)
        self.backprop = engine.Backprop(graph, self.values, self.conventions)
        self.assumed = assume.from_spec(spec, graph, self.conventions).attach()   # assume: decides cases
        self.steps: list[Step] = []
        self.answers: list[Answer] = []
        self.shown_grads: set = set()
        self.shown_nodes: dict = {}       # of -> nodes whose ∂of/∂n has a step (at the given values)

    # ---- looking up the graph's names ----------------------------------------------------
    def group(self, name: str, path: tuple) -> Group:
        """The group a name in the spec stands for; an unknown name is an error at path."""
        return self.graph.group(name, self.spec.loc(*path))

    def symbols_of(self, names: list[str], path: tuple) -> list:
        """The scalar symbols of several names, in order."""
        out = []
        for i, n in enumerate(names):
            out.extend(self.group(n, path + (i,) if len(names) > 1 else path).symbols)
        return out

    def scalar(self, name: str, path: tuple) -> sympy.Symbol:
        """The one symbol of a scalar name; a vector or matrix is an error at path."""
        g = self.group(name, path)
        if g.shape:
            raise SpecError(f"'{name}' has shape {g.shape}; ask about a scalar such as {g.symbols[0].name} "
                            "or use jacobian:", self.spec.loc(*path))
        return g.symbols[0]

    def point(self, at: dict | None, path: tuple) -> dict:
        """Overrides for the leaves from an `at:` mapping."""
        out: dict = {}
        for name, raw in (at or {}).items():
            g = self.group(name, path + (name,))
            v = spec_expr(self.spec, raw, path + (name,), self.graph.names())
            items = v.items if isinstance(v, Tensor) else (v,)
            if len(items) != len(g.symbols):
                raise SpecError(f"'{name}' has {len(g.symbols)} elements; {len(items)} given",
                                self.spec.loc(*path, name))
            out.update(zip(g.symbols, items))
        return out

    def values_at(self, at: dict | None, path: tuple) -> tuple[dict, engine.Backprop, dict]:
        """(values, backward pass, overrides) at an ask's at: point, or the shared ones without one."""
        over = self.point(at, path + ("at",))
        if not over:
            return self.values, self.backprop, over
        values = engine.evaluate(self.graph, over)
        return values, engine.Backprop(self.graph, values, self.conventions), over

    # ---- recording answers ---------------------------------------------------------------
    def answer(self, name: str, value: Any, label: Any = None, key: Any = None, path: tuple = (),
               note: str = "") -> None:
        """Record an answer under a unique name, checked against its ask's key: when it has one."""
        k, agrees, why = None, None, ""
        value = self.assumed.apply(value)
        if not note and self.float_path and _has_float(value):
            note = floatpath.PRECISION_NOTE
        if key is not None:       # the same comparison as the top-level key: and grading
            from examsolve.compare import check_key

            k, agrees, why = check_key(self.spec, Answer(name, value, label), key, self.graph.names(), path + ("key",))
        taken = {a.name for a in self.answers}
        if name in taken:        # key: and grading find answers by name, so each name is unique
            name = next(f"{name} ({n})" for n in range(2, len(taken) + 3) if f"{name} ({n})" not in taken)
        from examsolve.compare import as_text

        self.answers.append(Answer(name, value, label, k, agrees, note, key_note=why,
                                   key_text=as_text(key) if key is not None else ""))

    # ---- asks ----------------------------------------------------------------------------
    def run(self, asks: list) -> None:
        """The forward pass to every quantity the asks name, then each ask in order (ASKS answers it)."""
        targets = []
        for i, a in enumerate(asks):
            b = a.body
            names = names_list(b) if a.kind == "value" else names_list(getattr(b, "of", []) or [])
            for n in names:
                targets.extend(self.group(n, ("ask", i, a.kind)).symbols)
        fwd = engine.forward_steps(self.graph, self.values, targets)
        if fwd:
            self.steps.append(Step("Forward pass", substeps=tuple(fwd)))
        for i, a in enumerate(asks):
            ask = ASKS[a.kind]
            if a.kind in SYMBOLIC_ASKS:
                # sympy's solve and eigenvalues have no size bound of their own
                with budget.section(engine.SOLVE_SECONDS, f"the {a.kind} ask ({i + 1})"):
                    ask(self, a.body, ("ask", i, a.kind))
            else:
                ask(self, a.body, ("ask", i, a.kind))

    # ---- result --------------------------------------------------------------------------
    def solution(self, names: dict | None = None) -> Solution:
        """The steps and answers so far, keys checked, with the given values, conventions and graph."""
        m = self.spec.model
        given = tuple((name, engine.group_value(self.graph.groups[name], self.values)) for name in m.given
                      if name in self.graph.groups)
        notes = ("conventions: " + ", ".join(f"{k} = {v}" for k, v in self.conventions.items()),)
        if self.float_path:
            left = self.backprop is not None and self.backprop.fast is None     # _leave_float_path was taken
            notes += (floatpath.path_note(self.graph) + ("; the backward pass was then computed exactly, since a "
                      "float gradient could not be vouched for to 9 digits" if left else ""),)
        steps = self.assumed.apply_steps(self.steps) if self.assumed else self.steps
        notes += (self.assumed.note(),) if self.assumed else ()
        return finish(self.spec, steps, self.answers, self.graph.names(), given=given,
                      notes=notes, names=names or {}, graph=self.graph,
                      backprop=self.backprop)


def ask_value(solver: Solver, body: Any, path: tuple) -> None:
    """value: the value of each named quantity at the given values."""
    for i, name in enumerate(names_list(body)):
        g = solver.group(name, path + ((i,) if not isinstance(body, str) else ()))
        solver.answer(name, engine.group_value(g, solver.values), sympy.Symbol(name))


# each ask kind of the spec (spec.ASK_KINDS) and the function that answers it
ASKS = {"value": ask_value, "grad": ask_grad, "jacobian": ask_jacobian, "hessian": ask_hessian,
        "critical_points": ask_critical_points, "update": ask_update, "solve": ask_solve}


def _has_float(v: Any) -> bool:
    """True for a value (or tensor) holding a float."""
    items = v.items if isinstance(v, Tensor) else (v,)
    return any(isinstance(x, sympy.Basic) and x.has(sympy.Float) for x in items)

