"""From a spec's given/equations/ask to a Graph and then to Steps and Answers (graph-based families)."""
from __future__ import annotations

import re
from typing import Any

import sympy

from examsolve import assume, budget, engine, exam_form, floatpath, quantity
from examsolve.errors import ExprError, SpecError, SolveError, nearest
from examsolve.expr import LITERAL, literal_value, parse, parse_both, parse_equation
from examsolve.functions import Iterate, Partial, resolve_kinks
from examsolve.graph import Graph, Group, building
from examsolve.names import text_name
from examsolve.steps import Answer, Solution, Step, Table
from examsolve.tensor import ShapeError, Tensor, from_nested
from examsolve.typed import Classification, CriticalPoint, CriticalPoints
from examsolve.values import PRECISION, decimal, fit, same


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


SYMBOLIC_ASKS = ("hessian", "critical_points", "solve")


class Solver:
    """Runs the asks of one spec over its graph, collecting steps and answers."""

    def __init__(self, spec, graph: Graph):
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

    # ---- helpers -------------------------------------------------------------------------
    def group(self, name: str, path: tuple) -> Group:
        return self.graph.group(name, self.spec.loc(*path))

    def symbols_of(self, names: list[str], path: tuple) -> list:
        out = []
        for i, n in enumerate(names):
            out.extend(self.group(n, path + (i,) if len(names) > 1 else path).symbols)
        return out

    def scalar(self, name: str, path: tuple):
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

    def answer(self, name: str, value: Any, label: Any = None, key: Any = None, path: tuple = (),
               note: str = "") -> None:
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

    def values_at(self, at: dict | None, path: tuple) -> tuple[dict, engine.Backprop, dict]:
        over = self.point(at, path + ("at",))
        if not over:
            return self.values, self.backprop, over
        values = engine.evaluate(self.graph, over)
        return values, engine.Backprop(self.graph, values, self.conventions), over

    # ---- asks ----------------------------------------------------------------------------
    def run(self, asks: list) -> None:
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
            if a.kind in SYMBOLIC_ASKS:
                # sympy's solve and eigenvalues have no size bound of their own
                with budget.section(engine.SOLVE_SECONDS, f"the {a.kind} ask ({i + 1})"):
                    getattr(self, "ask_" + a.kind)(a.body, ("ask", i, a.kind))
            else:
                getattr(self, "ask_" + a.kind)(a.body, ("ask", i, a.kind))

    def ask_value(self, body, path) -> None:
        for i, name in enumerate(names_list(body)):
            g = self.group(name, path + ((i,) if not isinstance(body, str) else ()))
            self.answer(name, engine.group_value(g, self.values), sympy.Symbol(name))

    def ask_grad(self, body, path) -> None:
        of = self.scalar(body.of, path + ("of",)) if isinstance(body.of, str) else None
        if of is None:
            raise SpecError("grad: takes one scalar in of:; use jacobian: for several outputs",
                            self.spec.loc(*path, "of"))
        wrt_names = names_list(body.wrt)
        wrt = self.symbols_of(wrt_names, path + ("wrt",))
        values, bp, over = self.values_at(body.at, path)
        done = self.shown_nodes.setdefault(of, set()) if not over else set()
        adj, steps = self._in_names(bp, of, wrt, *bp.adjoints(of, wrt, shown=set(done)))
        if not over:
            done.update(bp.path(of, wrt)[0])
        at = _at_text(over)
        groups = [self.group(n, path + ("wrt",)) for n in wrt_names]
        # with several names, each part of the gradient keeps its own name too (key: dL/dw, dL/db)
        parts = tuple((f"d{of.name}/d{g.name}", engine.group_value(g, adj)) for g in groups) if len(groups) > 1 else ()
        self.steps.append(Step(f"Backward pass: gradient of {text_name(of.name)}{at}", substeps=tuple(steps),
                               note="reverse mode: each gradient is the upstream gradient times the local "
                                    "derivative, summed over all consumers", quantities=parts if not at else ()))
        self.shown_grads.add((of, tuple(wrt)))
        needed = self.graph.ancestors([of])     # once: per element it made a 20,000-element gradient quadratic
        for w in wrt:
            if w not in needed:
                self.steps.append(Step(f"{of.name} does not depend on {w.name}", target=Partial(of, w),
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
            value, label, name = self._upstream(body, path, of, groups, value, name)
        self.answer(name, value, label, body.key, path)

    @staticmethod
    def _in_names(bp, of, wrt: list, adj: dict, steps: list) -> tuple[dict, list]:
        """Symbolic gradients (answers and steps) written in the names the spec defines, where shorter."""
        forms = exam_form.in_names(bp, of, wrt, adj) if bp.fast is None else None   # floats: no names to use
        if not forms:
            return adj, steps
        return {**adj, **forms}, exam_form.restate(steps, of, forms)

    def _upstream(self, body, path, of, groups, value, name):
        """With a given ∂L/∂of = a: ∂L/∂w = a · ∂of/∂w (the chain rule one step further)."""
        up = spec_expr(self.spec, body.upstream, path + ("upstream",), self.graph.names())
        loss = sympy.Symbol("L", real=True)
        wrt = sympy.Symbol(groups[0].name, real=True) if len(groups) == 1 else sympy.Symbol("w")
        total = value.map(lambda v: fit(up * v)) if isinstance(value, Tensor) else fit(up * value)
        self.steps.append(Step(f"Chain rule with the given upstream gradient ∂L/∂{of.name} = {sympy.sstr(up)}",
                               target=Partial(loss, wrt),
                               formula=sympy.Mul(Partial(loss, of), Partial(of, wrt), evaluate=False),
                               substituted=sympy.Mul(up, value, evaluate=False) if not isinstance(value, Tensor)
                               else None, value=total))
        label = Partial(loss, wrt)
        return total, label, body.name or f"dL/d{groups[0].name if len(groups) == 1 else 'w'}"

    def ask_jacobian(self, body, path) -> None:
        outs = self.symbols_of(names_list(body.of), path + ("of",))
        wrt = self.symbols_of(names_list(body.wrt), path + ("wrt",))
        values, bp, over = self.values_at(body.at, path)
        rows, sections = [], []
        shown = outs[:engine.MAX_SHOWN_ROWS]
        for r, y in enumerate(shown):
            adj, steps = self._in_names(bp, y, wrt, *bp.adjoints(y, wrt))
            rows.append([adj[w] for w in wrt])
            sections.append(Step(f"Row {r + 1}: gradient of {text_name(y.name)}", substeps=tuple(steps)))
        exact = len(outs) * len(wrt) <= engine.MAX_EXACT_ENTRIES
        rows += bp.rows(outs[len(shown):], wrt, exact)
        if bp.fast is not None:
            pass        # float64 already, said in the answer's note
        elif not exact:
            rows[:len(shown)] = [[fit(sympy.N(x, PRECISION)) for x in row] for row in rows[:len(shown)]]
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
        self.steps.append(Step(f"Jacobian of ({of_txt}) with respect to ({wrt_txt}){_at_text(over)}",
                               substeps=tuple(sections)))
        self.answer(name, J, sympy.Symbol("J"), body.key, path)

    def _composed(self, of_name: str, wrt_names: list, path: tuple):
        of = self.scalar(of_name, path + ("of",))
        wrt = self.symbols_of(wrt_names, path + ("wrt",))
        f = self.graph.compose(of)
        budget.check_size(f, f"{of.name} written out in the given names", hint="ask for grad: or jacobian: "
                          "instead (they go node by node)")
        keep = set(wrt)
        leaves = {s: v for s, v in self.values.items() if self.graph.nodes[s].kind == "given" and s not in keep}
        return of, wrt, engine.substitute(f, leaves)

    def ask_hessian(self, body, path) -> None:
        of, wrt, f = self._composed(body.of, names_list(body.wrt), path)
        grad = [sympy.diff(f, v) for v in wrt]
        H = sympy.Matrix([[sympy.diff(g, v) for v in wrt] for g in grad])
        sub = [Step("Composed function", target=of, value=f)]
        sub += [Step(f"∂{of.name}/∂{v.name}", target=Partial(of, v), value=g) for v, g in zip(wrt, grad)]
        Ht = Tensor(H.shape, tuple(H))
        sub.append(Step("Hessian H[i][j] = ∂²f/∂(input i)∂(input j)", target=sympy.Symbol("H"), value=Ht))
        self.steps.append(Step(f"Hessian of {of.name}", substeps=tuple(sub)))
        points = list(body.points or [])
        if body.at is not None:
            points = [body.at] + points
        if not points and not any(self.graph.nodes[v].kind == "symbol" for v in wrt):
            points = [None]
        name = body.name or f"H({of.name})"
        if body.at is not None:
            self._hessian_at(of, wrt, f, H, name, body, path, points[1:])
            return
        if points == [None] or not points:
            at_values = {v: self.values[v] for v in wrt if self.graph.nodes[v].kind == "given"}
            Hn = Tensor(H.shape, tuple(engine.substitute(h, at_values) for h in H))
            self.answer(name, Hn if at_values else Ht, sympy.Symbol("H"), body.key, path)
            if at_values:
                self._classify(of, wrt, f, H, at_values, path)
            return
        self.answer(name, Ht, sympy.Symbol("H"), body.key, path)
        for k, pt in enumerate(points):
            over = self.point(pt, path + ("points", k))
            missing = [v.name for v in wrt if v not in over]
            if missing:
                raise SpecError(f"the point does not give {', '.join(missing)}", self.spec.loc(*path, "points", k))
            self._classify(of, wrt, f, H, over, path)

    def _hessian_at(self, of, wrt, f, H, name: str, body, path: tuple, points: list) -> None:
        """hessian: {at: …}: H at that point as the answer (kinks by the conventions), classified there."""
        over = self._full_point(body.at, path + ("at",), wrt)
        Hp = Tensor(H.shape, tuple(resolve_kinks(engine.substitute(h, over), self.conventions)[0] for h in H))
        self.answer(name, Hp, sympy.Symbol("H"), body.key, path)
        self._classify(of, wrt, f, H, over, path + ("at",))
        for k, pt in enumerate(points):
            self._classify(of, wrt, f, H, self._full_point(pt, path + ("points", k), wrt), path)

    def _full_point(self, raw: dict, path: tuple, wrt: list) -> dict:
        """A point that gives every variable of wrt."""
        over = self.point(raw, path)
        missing = [v.name for v in wrt if v not in over]
        if missing:
            raise SpecError(f"the point does not give {', '.join(missing)}; add {missing[0]}: VALUE",
                            self.spec.loc(*path))
        return over

    def _classify(self, of, wrt, f, H, point: dict, path, answer: bool = True) -> Classification:
        notes: list = []

        def at_point(e):
            value, used = resolve_kinks(engine.substitute(e, point), self.conventions)
            notes.extend(used)
            return value
        where = "(" + ", ".join(sympy.sstr(point[v]) for v in wrt) + ")"
        loc = self.spec.loc(*path)
        # f itself must have a real value there (1/x at x = 0 or log(y) at y = -1 has no Hessian to classify)
        engine.checked_value(f, point, f"{of.name} at ({', '.join(v.name for v in wrt)}) = {where}", loc)
        Hp = H.applyfunc(at_point)
        grad = [at_point(sympy.diff(f, v)) for v in wrt]
        bad = [e for e in list(grad) + list(Hp) if engine._undefined(e) or engine._nonreal(e)]
        if bad:
            raise SolveError(f"the derivatives of {of.name} have no real value at {where} (e.g. {sympy.sstr(bad[0])}); "
                             "classify points where f is twice differentiable", loc)
        kind, eig = engine.classify(Hp, grad)
        at = f"{of.name} at {where}"      # stable names per point: 'f at (1, 0).eigenvalues'
        g_at, H_at, eig_at = (Tensor((len(grad),), tuple(grad)), Tensor(Hp.shape, tuple(Hp)),
                              Tensor((len(eig),), tuple(eig)))
        self.steps.append(Step(f"At ({', '.join(v.name for v in wrt)}) = {where}", substeps=(
            Step("gradient", target=sympy.Symbol(f"∇{of.name}"), value=g_at, quantities=((at + ".gradient", g_at),)),
            Step("Hessian", target=sympy.Symbol("H"), value=H_at, quantities=((at + ".H", H_at),)),
            Step("eigenvalues of H", target=sympy.Symbol("λ"), value=eig_at, quantities=((at + ".eigenvalues", eig_at),)),
            Step("classification", value=kind, quantities=((at, kind),))),
            note="; ".join(dict.fromkeys(notes))))
        if answer:
            self.answer(f"{of.name} at {where}", kind)
        return kind

    def ask_critical_points(self, body, path) -> None:
        of, wrt, f = self._composed(body.of, names_list(body.wrt), path)
        if self._nonsmooth(of, wrt, f, body, path):
            return
        grad = [sympy.diff(f, v) for v in wrt]
        sols, proof, how = _solve(grad, wrt, f"∇{of.name} = 0", self.spec.loc(*path))
        real = [s for s in sols if all(s.get(v, v).is_real is not False for v in wrt)]
        if proof is None:
            real.sort(key=lambda s: [sympy.default_sort_key(s.get(v, v)) for v in wrt])
        self.steps.append(Step(f"Critical points of {of.name}: solve ∇{of.name} = 0", substeps=tuple(
            Step(f"∂{of.name}/∂{v.name} = 0", target=Partial(of, v), value=g) for v, g in zip(wrt, grad)),
            note=how))
        H = sympy.Matrix([[sympy.diff(g, v) for v in wrt] for g in grad])
        found = []
        for k, s in enumerate(real):
            point = {v: s.get(v, v) for v in wrt}
            approx = proof is not None and any(x.has(sympy.CRootOf) for x in point.values())
            if approx:
                kind, coords = self._classify_algebraic(of, wrt, H, proof, k)
                point = dict(zip(wrt, coords))
            elif all(x.is_number for x in point.values()):
                kind = self._classify(of, wrt, f, H, point, path, answer=False)
            else:
                kind = Classification("cannot_classify", "the point depends on symbols")
            found.append(CriticalPoint(tuple((v.name, point[v]) for v in wrt), kind, approx))
        note = "" if found else f"∇{of.name} = 0 has no real solution"
        if how == UNPROVED and found:
            note = "found by sympy's solve; there may be others"
        self.answer(body.name or f"critical points of {of.name}", CriticalPoints(tuple(found), note), key=body.key,
                    path=path)
        self._unbounded(of, wrt, f)

    def _nonsmooth(self, of, wrt, f, body, path) -> bool:
        """A function of one variable with |·|, relu or max kinks: its minimisers by 0 ∈ ∂f (examsolve.nonsmooth)."""
        from examsolve import nonsmooth

        done = nonsmooth.critical_points(f, wrt, self.spec.loc(*path), of.name)
        if done is None:
            return False
        steps, found, note = done
        self.steps.append(Step(f"Critical points of {of.name}: 0 ∈ ∂{of.name} (the subgradient condition)",
                               substeps=tuple(steps)))
        self.answer(body.name or f"critical points of {of.name}", CriticalPoints(tuple(found), note), key=body.key,
                    path=path)
        return True

    def _unbounded(self, of, wrt, f) -> None:
        """For a polynomial: the directions along which it goes to −∞ or +∞, as global minimum/maximum answers."""
        from examsolve import nonsmooth

        found = nonsmooth.unbounded(f, wrt)
        if found:
            step, answers = nonsmooth.unbounded_steps(of.name, wrt, found)
            self.steps.append(step)
            for name, kind in answers:
                self.answer(name, kind)

    def _classify_algebraic(self, of, wrt, H, proof, k: int) -> tuple[Classification, list]:
        """A step for a critical point whose coordinates are roots of a polynomial (sympy's CRootOf): exact
        signs decide the classification, the coordinates and eigenvalues are shown as 30-digit floats."""
        point = proof.points[k]
        kind, eig = engine.classify_exact(proof, k, H)
        approx = [sympy.Float(sympy.N(point[v], PRECISION), PRECISION) for v in wrt]
        where = "≈ (" + ", ".join(decimal(x) for x in approx) + ")"
        Hp = Tensor(H.shape, tuple(sympy.Float(sympy.N(e.xreplace(point), PRECISION), PRECISION) for e in H))
        exact = ", ".join(f"{v.name} = {sympy.sstr(point[v])}" for v in wrt)
        self.steps.append(Step(f"At ({', '.join(v.name for v in wrt)}) {where}", substeps=(
            Step("the point", target=sympy.Symbol("(" + ", ".join(v.name for v in wrt) + ")"),
                 value=Tensor((len(wrt),), tuple(approx)), note=f"exactly {exact}"),
            Step("gradient (0 exactly: the point solves ∇f = 0)", target=sympy.Symbol(f"∇{of.name}"),
                 value=Tensor((len(wrt),), tuple(sympy.Integer(0) for _ in wrt))),
            Step("Hessian", target=sympy.Symbol("H"), value=Hp),
            Step("eigenvalues of H", target=sympy.Symbol("λ"), value=Tensor((len(eig),), tuple(eig))),
            Step("classification", value=kind,
                 note="from the exact signs of the coefficients of det(λI − H) (Descartes' rule of signs, "
                      "exact for a symmetric matrix)"))))
        return kind, approx

    def ask_update(self, body, path) -> None:
        of = self.scalar(body.of, path + ("of",))
        params = names_list(body.params)
        groups = [self.group(p, path + ("params",)) for p in params]
        syms = [s for g in groups for s in g.symbols]
        for s in syms:
            if self.graph.nodes[s].kind == "node":
                raise SpecError(f"'{s.name}' is computed by an equation; update given parameters only",
                                self.spec.loc(*path, "params"))
        lr = spec_expr(self.spec, body.lr, path + ("lr",), self.graph.names())
        mu = None if body.momentum is None else spec_expr(self.spec, body.momentum, path + ("momentum",),
                                                          self.graph.names())
        current = {s: self.values[s] for s in syms}
        velocity = {s: sympy.Integer(0) for s in syms}
        table, named = [], []      # named: every iterate and loss, also those past the shown iterations
        sections = []
        for k in range(1, body.steps + 1):
            if k == 1:      # the parameters as given: the values and backward pass already made
                values, bp = self.values, self.backprop
            else:
                values = engine.evaluate(self.graph, current)
                bp = engine.Backprop(self.graph, values, self.conventions)
            show_chain = k == 1 and (of, tuple(syms)) not in self.shown_grads
            done = self.shown_nodes.setdefault(of, set())
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
                    step_size = sympy.Mul(lr, move, evaluate=False)
                    grad = Iterate(sympy.Symbol("v_" + s.name), k) if mu is not None else Partial(of, s)
                    sub.append(Step(f"update {s.name}: {s.name} ← {s.name} − α·" +
                                    ("v" if mu is not None else f"∂{of.name}/∂{s.name}"),
                                    target=Iterate(s, k),
                                    formula=sympy.Add(Iterate(s, k - 1), sympy.Mul(-1, sympy.Mul(
                                        sympy.Symbol("alpha"), grad, evaluate=False), evaluate=False),
                                        evaluate=False),
                                    substituted=sympy.Add(current[s], sympy.Mul(-1, step_size, evaluate=False),
                                                          evaluate=False),
                                    value=new[s]))
                elif shown and s in cut:
                    sub.append(Step(f"update {s.name} … {cut[s].name}: each as above "
                                    "(not shown: on the float path)"))
            table.append((k, values[of]) + tuple(new[s] for s in syms))
            named += [(f"{of.name}[{k - 1}]", values[of])] + [(f"iterates.{s.name}[{k}]", new[s]) for s in syms]
            if shown:
                sections.append(Step(f"Iteration {k}", substeps=tuple(sub)))
            current = new
        tab = Table(("step", f"{of.name} before") + tuple(f"{s.name} after" for s in syms), tuple(table))
        how = "Gradient descent" if mu is None else f"SGD with momentum μ = {sympy.sstr(mu)} (v starts at 0)"
        self.steps.append(Step(f"{how} on {of.name}: {body.steps} step{'s' if body.steps > 1 else ''}, "
                               f"learning rate α = {sympy.sstr(lr)}",
                               substeps=tuple(sections), table=tab if body.steps > 1 else None,
                               quantities=tuple(named)))
        for g in groups:
            v = engine.group_value(g, current)
            self.answer(body.name if body.name and len(groups) == 1 else f"{g.name} after {body.steps} step"
                        + ("s" if body.steps > 1 else ""), v, Iterate(sympy.Symbol(g.name), body.steps),
                        body.key if len(groups) == 1 else None, path)

    def ask_solve(self, body, path) -> None:
        unknowns = self.symbols_of(names_list(body.unknowns), path + ("unknowns",))
        keep = set(unknowns)
        leaves = {s: v for s, v in self.values.items() if self.graph.nodes[s].kind == "given" and s not in keep}
        eqs, shown = [], []
        for i, text in enumerate(names_list(body.equations)):
            p = path + ("equations",) + ((i,) if not isinstance(body.equations, str) else ())
            try:
                e = parse_equation(text, self.graph.names())
            except ExprError as err:
                raise SpecError(err.message, self.spec.loc_at(p, err.offset)) from None
            composed = e.xreplace({s: self.graph.compose(s) for s in e.free_symbols if s in self.graph.nodes
                                   and self.graph.nodes[s].kind == "node"})
            eq = engine.substitute(composed, leaves)
            eqs.append(eq)
            shown.append(Step(f"equation {i + 1}: {text}", target=sympy.Integer(0), value=eq))
        sols, proof, how = _solve(eqs, unknowns, "the equations", self.spec.loc(*path))
        if not sols:
            raise SolveError("the equations have no real solution for " + ", ".join(u.name for u in unknowns)
                             + (f" ({how})" if how else ""), self.spec.loc(*path))
        if how:
            shown.append(Step(f"{'solutions' if how == UNPROVED else 'all real solutions'}: {how}"))
        self.steps.append(Step("Solve for " + ", ".join(u.name for u in unknowns), substeps=tuple(shown),
                               note="" if len(sols) == 1 else f"{len(sols)} solutions"))
        for k, s in enumerate(sols):
            for u in unknowns:
                suffix = f" (solution {k + 1})" if len(sols) > 1 else ""
                # name: is the answer's name; with several unknowns it prefixes each (name.w, name.b)
                base = u.name if not body.name else body.name if len(unknowns) == 1 else f"{body.name}.{u.name}"
                self.answer(base + suffix, s.get(u, u), u, body.key if len(unknowns) == 1 and k == 0 else None, path)

    # ---- result --------------------------------------------------------------------------
    def solution(self, names: dict | None = None) -> Solution:
        """The steps and answers so far, keys checked, with the given values, conventions and graph."""
        m = self.spec.model
        given = tuple((name, engine.group_value(self.graph.groups[name], self.values)) for name in m.given
                      if name in self.graph.groups)
        notes = ("conventions: " + ", ".join(f"{k} = {v}" for k, v in self.conventions.items()),)
        notes += (floatpath.path_note(self.graph),) if self.float_path else ()
        steps = self.assumed.apply_steps(self.steps) if self.assumed else self.steps
        notes += (self.assumed.note(),) if self.assumed else ()
        return finish(self.spec, steps, self.answers, self.graph.names(), given=given,
                      notes=notes, names=names or {}, graph=self.graph,
                      backprop=self.backprop)


def finish(spec, steps: list, answers: list, key_names: dict | None = None, **extra: Any) -> Solution:
    """A family's Solution: the spec's title and source, the answers with the keys checked (key_names are the
    names a key may use), and any other Solution fields."""
    m = spec.model
    table = quantity.collect(steps, answers)
    checked = _distinct_labels(check_keys(spec, answers, key_names or {}, table))
    return Solution(kind=m.kind, title=m.title or m.kind, source=m.source, file=spec.file, steps=tuple(steps),
                    answers=tuple(checked), quantities=table, **extra)


def _distinct_labels(answers: list) -> list:
    """Answers whose typeset labels would look alike (two ∂y/∂x, two J) are shown by their names instead."""
    import dataclasses

    shown = [None if a.label is None else sympy.sstr(a.label) for a in answers]
    return [dataclasses.replace(a, label=None) if s is not None and shown.count(s) > 1 else a
            for a, s in zip(answers, shown)]


def check_keys(spec, answers: list, names: dict, table: dict | None = None) -> list:
    """The answers with the spec's top-level key: checked against each one it names; a key naming a quantity
    that is not an answer (a step's value, one element `h[1]`) adds that quantity to the answers, and one that
    names an answer another way (iterates.w1[2] for 'w1 after 2 steps') is checked on that answer."""
    import dataclasses

    out = list(answers)
    known = [a.name for a in out]
    for keyed, raw in spec.model.key.items():
        same = next((a.name for a in out if keyed not in known and table
                     and quantity.same_quantity(table, a.name, keyed)), None)
        name = keyed if same is None else same
        if name not in known:
            try:
                out.append(Answer(name, quantity.lookup(table or {}, name, getattr(names, "graph", None))))
            except KeyError as err:
                raise SpecError(f"key: {err.args[0]}; answers are: " + ", ".join(known)
                                + " (`examsolve run FILE --answers all` lists every quantity)",
                                spec.key_loc("key", name)) from None
            known.append(name)
        i = known.index(name)
        a = out[i]
        from examsolve.compare import as_text, check_key

        k, agrees, why = check_key(spec, a, raw, names, ("key", keyed))   # grading's rule: digits written, tolerance:
        out[i] = dataclasses.replace(a, key=k, agrees=agrees, key_note=why, key_text=as_text(raw))
    return out


def _solve(eqs: list, unknowns: list, what: str, loc) -> tuple[list[dict], Any, str]:
    """The real solutions of eqs = 0: (solutions, proof, how).

    Equations that are polynomial over Q (after clearing denominators) with finitely many solutions are
    solved by elimination (engine.real_solutions): every real solution, with the proof in `how`, and `proof`
    the RealSolutions whose points are returned. Otherwise sympy.solve's closed forms (proof None); an empty
    list from sympy is no proof that there is no solution, so then a SolveError says it cannot decide.
    """
    from sympy.polys.polyerrors import PolynomialError

    eqs = [e for e in eqs if e != 0]
    try:
        proof = engine.real_solutions(eqs, unknowns)
    except (NotImplementedError, PolynomialError, TypeError, ValueError):
        proof = None
    if proof is not None:
        # sorted by value; a root of degree ≤ 2 is in radicals, a higher one a CRootOf (exact either way)
        order = sorted(range(len(proof.points)), key=lambda k: [sympy.N(proof.points[k][v], 30) for v in unknowns])
        proof.points = [proof.points[k] for k in order]
        proof.roots = [proof.roots[k] for k in order]
        return proof.points, proof, proof.how
    try:
        sols = sympy.solve(eqs, unknowns, dict=True)
    except (NotImplementedError, TypeError, ValueError):   # sympy's ways of saying it cannot
        sols = None
    if sols is None:
        raise SolveError(f"{what} has no closed-form solution that sympy can find (e.g. a mix of "
                         "polynomial and trigonometric terms); solve it numerically or simplify it", loc)
    if not sols:
        never = next((e for e in eqs if e.is_positive or e.is_negative), None)
        if never is not None:
            return [], None, f"{sympy.sstr(never)} is never 0"
        raise SolveError(f"could not decide whether {what} has a real solution: sympy's solve finds none, which "
                         "is no proof that there is none (the equations are not polynomial with rational "
                         "coefficients, or have infinitely many solutions); simplify the problem", loc)
    try:
        polynomial = engine.as_polys(eqs, unknowns) is not None
    except (NotImplementedError, PolynomialError, TypeError, ValueError):
        polynomial = False
    if polynomial:
        return sols, None, ("the equations have infinitely many solutions (their Groebner basis is not "
                            "zero-dimensional), as sympy's solve writes them")
    return sols, None, UNPROVED


UNPROVED = ("the solutions sympy's solve finds in closed form; the equations are not polynomial with rational "
            "coefficients, so there may be others (sin and cos repeat every 2π)")


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


def _has_float(v: Any) -> bool:
    """True for a value (or tensor) holding a float."""
    items = v.items if isinstance(v, Tensor) else (v,)
    return any(isinstance(x, sympy.Basic) and x.has(sympy.Float) for x in items)


def _at_text(over: dict) -> str:
    if not over:
        return ""
    return " at " + ", ".join(f"{s.name} = {sympy.sstr(v)}" for s, v in over.items())
