"""Forward values, reverse-mode backward, Hessians and updates over a Graph, as Steps."""
from __future__ import annotations

import contextlib
import functools
import signal
from typing import Any, Iterable

import sympy

from examsolve.errors import SolveError
from examsolve.expr import MAX_EXPONENT, MAX_RESULT_DIGITS
from examsolve.functions import Partial, resolve_kinks
from examsolve.graph import Graph
from examsolve.names import text_name
from examsolve.steps import Step
from examsolve.tensor import Tensor
from examsolve.values import PRECISION, fit

MAX_SHOWN = 12        # elements of a vector node shown one by one before the rest are summarised
MAX_SHOWN_ROWS = 4    # Jacobian rows whose backward pass is shown in full
MAX_EXACT_ENTRIES = 4096  # a larger Jacobian is computed in 30-digit floats (shown with ≈)
SOLVE_SECONDS = 20    # time allowed for sympy.solve on critical points and equations


def _power_ok(base: Any, exp: Any) -> bool:
    if not (getattr(base, "is_Rational", False) and getattr(exp, "is_Rational", False)):
        return True
    if abs(base.p) in (0, 1) and base.q == 1:
        return True
    size = max(len(str(abs(base.p))), len(str(base.q)))
    e = abs(exp.p) / exp.q   # plain Python numbers: this may run while sympy evaluation is off
    return e <= MAX_EXPONENT * 10 and size * e <= MAX_RESULT_DIGITS


def substitute(expr: Any, mapping: dict, evaluate: bool = True) -> Any:
    """expr with symbols replaced; powers of huge numbers fall back to floats instead of hanging."""
    if isinstance(expr, Tensor):
        return expr.map(lambda e: substitute(e, mapping, evaluate))
    if not isinstance(expr, sympy.Basic):
        return expr
    memo: dict = {}

    def rec(e):
        if e in mapping:
            return mapping[e]
        if not e.args or isinstance(e, Partial):
            return e
        if e in memo:
            return memo[e]
        args = [rec(a) for a in e.args]
        if isinstance(e, sympy.Pow) and not _power_ok(args[0], args[1]):
            out = sympy.Float(args[0], PRECISION) ** args[1]
        elif evaluate:
            out = e.func(*args)
        else:
            out = e.func(*args, evaluate=False)
        memo[e] = out
        return out

    # no `with sympy.evaluate(False)`: switching it clears sympy's whole cache, every time
    return rec(expr)


@functools.lru_cache(maxsize=1 << 16)
def free(expr: Any) -> frozenset:
    """expr.free_symbols, remembered: sympy walks the whole tree on every call, and a long sum is asked often."""
    return frozenset(expr.free_symbols)


@functools.lru_cache(maxsize=256)
def term_index(expr: Any) -> dict:
    """For a long sum: each symbol's terms, so a derivative does not scan every term once per symbol."""
    index: dict = {}
    for t in expr.args:
        for s in free(t):
            index.setdefault(s, []).append(t)
    return index


def derivative(expr: Any, p: sympy.Symbol) -> Any:
    """∂expr/∂p by the sum, product, power and chain rules; sympy.diff only for other shapes.

    sympy.diff builds a Derivative first and costs ~2 ms even for tanh(a); this costs ~0.1 ms.
    """
    if expr == p:
        return sympy.S.One
    if p not in free(expr):
        return sympy.S.Zero
    if expr.is_Add:
        parts = term_index(expr).get(p, ()) if len(expr.args) > 8 else [t for t in expr.args if p in free(t)]
        return sympy.Add(*[derivative(t, p) for t in parts])
    if expr.is_Mul:
        args = expr.args
        if p in args and sum(1 for a in args if p in free(a)) == 1:
            return sympy.Mul(*[a for a in args if a != p])     # linear in p: the other factors
        terms = []
        for i, a in enumerate(args):
            if p in free(a):
                terms.append(sympy.Mul(*args[:i], derivative(a, p), *args[i + 1:]))
        return sympy.Add(*terms)
    if expr.is_Pow and p not in free(expr.exp):
        b, e = expr.args
        return e * b ** (e - 1) * derivative(b, p)
    if isinstance(expr, sympy.Function) and not isinstance(expr, sympy.Piecewise):
        terms = []
        for i, a in enumerate(expr.args, 1):
            if p in free(a):
                outer = expr.fdiff(i)
                if outer.has(sympy.Derivative, sympy.Subs):
                    return sympy.diff(expr, p)
                terms.append(outer * derivative(a, p))
        return sympy.Add(*terms)
    return sympy.diff(expr, p)


def _undefined(v: Any) -> bool:
    return isinstance(v, sympy.Basic) and v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _why_undefined(expr: sympy.Expr, values: dict) -> str:
    for sub in sympy.preorder_traversal(expr):
        if isinstance(sub, sympy.Pow) and sub.exp.is_negative:
            base = substitute(sub.base, values)
            if base == 0:
                return f"the denominator {sympy.sstr(sub.base)} is 0"
        if isinstance(sub, sympy.log):
            arg = substitute(sub.args[0], values)
            if arg == 0:
                return f"log({sympy.sstr(sub.args[0])}) = log(0) is -infinity"
    return "the value is infinite or 0/0"


def evaluate(graph: Graph, overrides: dict | None = None) -> dict:
    """Every node's value, exact while small; SolveError where a node is undefined."""
    overrides = overrides or {}
    values: dict = {}
    for s, n in graph.nodes.items():
        if n.kind == "given":
            values[s] = overrides.get(s, n.value)
        elif n.kind == "symbol":
            values[s] = overrides.get(s, s)
        else:
            v = fit(substitute(n.expr, values))
            if _undefined(v):
                why = n.hint or _why_undefined(n.expr, values)
                raise SolveError(f"{n.name} = {sympy.sstr(n.display)} is undefined at the given values: {why}",
                                 n.loc)
            values[s] = v
    return values


def forward_steps(graph: Graph, values: dict, targets: Iterable) -> list[Step]:
    """One step per node the targets depend on: formula, numbers put in, value."""
    needed = graph.ancestors(targets)
    steps: list[Step] = []
    by_group: dict[str, list] = {}
    for s, n in graph.nodes.items():
        if s in needed and n.kind == "node":
            by_group.setdefault(n.group, []).append(s)
    for name, syms in by_group.items():
        shown = syms if len(syms) <= MAX_SHOWN else syms[:3]
        for s in shown:
            n = graph.nodes[s]
            numbers = substitute(n.display, values, evaluate=False) if n.display.free_symbols else None
            steps.append(Step(title=f"Forward: {n.name}", target=s, formula=n.display,
                              substituted=numbers, value=values[s]))
        if len(shown) < len(syms):
            group = graph.groups[name]
            steps.append(Step(title=f"Forward: {name} (all {len(syms)} elements, each as above)",
                              target=sympy.Symbol(name), value=group_value(group, values)))
    return steps


def group_value(group, values: dict) -> Any:
    """The value of a group: a scalar or a Tensor of its elements' values."""
    items = tuple(values[s] for s in group.symbols)
    return items[0] if not group.shape else Tensor(group.shape, items)


class Backprop:
    """Reverse mode over one set of forward values, with local derivatives cached per edge."""

    def __init__(self, graph: Graph, values: dict, conventions: dict):
        self.graph, self.values, self.conventions = graph, values, conventions
        self.consumers = graph.consumers()
        self._local: dict = {}
        self._shown: dict = {}

    def local(self, c, p) -> tuple[Any, Any, tuple[str, ...]]:
        """∂c/∂p: symbolic, at the values, and the conventions it used."""
        key = (c, p)
        if key not in self._local:
            expr = self.graph.nodes[c].expr
            sym = derivative(expr, p)
            if isinstance(expr, sympy.Function):
                # write the node itself where it reappears: tanh' = 1 - a², exp' = q, σ' = f·(1 - f)
                sym = sym.xreplace({expr: c})
            num, notes = resolve_kinks(substitute(sym, self.values), self.conventions)
            num = fit(num)
            if _undefined(num):
                raise SolveError(f"∂{c.name}/∂{p.name} = {sympy.sstr(sym)} is undefined at the given values",
                                 self.graph.nodes[c].loc)
            self._local[key] = (sym, num, notes)
        return self._local[key]

    def shown(self, c, p) -> Any:
        """∂c/∂p as shown in a step: 2*(y - l) reads better than 2*y - 2*l."""
        key = (c, p)
        if key not in self._shown:
            sym = self.local(c, p)[0]
            shown = sym
            if sym.is_Add:
                content, rest = sym.as_content_primitive()
                if content != 1:   # 2*(y - l) reads better than 2*y - 2*l
                    shown = sympy.Mul(content, rest, evaluate=False)
            self._shown[key] = shown
        return self._shown[key]

    def path(self, of, wrt: list) -> tuple[list, set]:
        """Nodes on a path from wrt to of, in backward order (inner nodes, then leaves as asked)."""
        graph = self.graph
        order = sorted(graph.ancestors([of]), key=graph.order.__getitem__)
        downstream = set(wrt)
        for s in order:
            if any(p in downstream for p in graph.nodes[s].parents):
                downstream.add(s)
        on_path = [s for s in order if s in downstream]
        # reverse topological by equation; the elements of one equation never depend on each other,
        # so they can go in their natural order (y_1 before y_2)
        start = {name: graph.order[g.symbols[0]] for name, g in graph.groups.items()}
        inner = sorted((s for s in on_path if graph.nodes[s].kind == "node"),
                       key=lambda s: (-start.get(graph.nodes[s].group, graph.order[s]), graph.order[s]))
        first = {w: i for i, w in enumerate(wrt)}
        leaves = sorted((s for s in on_path if graph.nodes[s].kind != "node"),
                        key=lambda s: first.get(s, len(first) + graph.order[s]))
        return [n for n in inner + leaves if n != of], set(on_path)

    def adjoints(self, of, wrt: Iterable, with_steps: bool = True) -> tuple[dict, list[Step]]:
        """∂of/∂n for every node on a path from wrt to of, with a step per node."""
        wrt = list(wrt)
        order, on_path = self.path(of, wrt)
        adj: dict = {of: sympy.Integer(1)}
        users = {}
        for n in order:
            users[n] = [c for c in self.consumers[n] if c in on_path]
            adj[n] = fit(sympy.Add(*[adj[c] * self.local(c, n)[1] for c in users[n]]))
        for w in wrt:
            adj.setdefault(w, sympy.Integer(0))
        if not with_steps:
            return adj, []
        # a large group (say x_1 .. x_256) gets steps for its first 3 elements, then its values at once
        groups: dict = {}
        for n in order:
            groups.setdefault(self.graph.nodes[n].group, []).append(n)
        steps: list[Step] = []
        for n in order:
            name = self.graph.nodes[n].group
            members = groups[name]
            if len(members) <= MAX_SHOWN or n in members[:3]:
                steps.append(self._step(of, n, users[n], adj))
            elif n == members[3]:
                group = self.graph.groups.get(name)
                value = group_value(group, adj) if group and all(s in adj for s in group.symbols) else None
                steps.append(Step(f"Backward: ∂{of.name}/∂{name}, all {len(members)} elements, each as above",
                                  target=Partial(of, sympy.Symbol(name, real=True)), value=value))
        return adj, steps

    def _step(self, of, n, users: list, adj: dict) -> Step:
        """∂of/∂n = Σ upstream ∂of/∂c × local ∂c/∂n, with each local derivative as a substep."""
        formula, numbers, local_steps, notes = [], [], [], []
        for c in users:
            sym, num, kinks = self.local(c, n)
            notes.extend(k for k in kinks if k not in notes)
            if c == of:     # of uses n directly: the local derivative is the whole term
                formula.append(self.shown(c, n))
                numbers.append(substitute(self.shown(c, n), self.values, evaluate=False))
                continue
            formula.append(sympy.Mul(Partial(of, c), Partial(c, n), evaluate=False))
            numbers.append(sympy.Mul(_boxed(adj[c]), _boxed(num), evaluate=False))
            if len(users) <= MAX_SHOWN or len(local_steps) < 3:   # a long fan-out shows its first 3
                shown = self.shown(c, n)
                at = substitute(shown, self.values, evaluate=False) if shown.free_symbols else None
                local_steps.append(Step(title=f"local derivative ∂{c.name}/∂{n.name}", target=Partial(c, n),
                                        formula=shown, substituted=at, value=num))
        if len(users) > MAX_SHOWN:
            local_steps.append(Step(f"... and {len(users) - 3} more local derivatives of the same form"))
        if len(users) > 1:
            notes.append(f"{text_name(n.name)} feeds {len(users)} nodes ("
                         f"{', '.join(text_name(c.name) for c in users[:6])}{', ...' if len(users) > 6 else ''}"
                         f"): sum over every path to {text_name(of.name)}")
        return Step(title=f"Backward: ∂{of.name}/∂{n.name}", target=Partial(of, n), formula=_sum(formula),
                    substituted=_sum(numbers), value=adj[n], note="; ".join(notes), substeps=tuple(local_steps))

    def rows(self, outs: list, wrt: list, exact: bool = True) -> list[list]:
        """Jacobian rows ∂out/∂wrt without steps, by fast arithmetic on the local derivatives.

        Exact: the local derivatives go into one sympy polynomial ring (radicals, pi, exp(...) as
        generators over QQ), where a multiply-add costs microseconds instead of sympy's ~100 µs.
        Not exact (past the size budget): 30-digit mpmath floats.
        """
        plans = [(y,) + self.path(y, wrt) for y in outs]
        edges: dict = {}
        for y, order, on_path in plans:
            for n in order:
                for c in self.consumers[n]:
                    if c in on_path and (c, n) not in edges:
                        edges[(c, n)] = self.local(c, n)[1]
        arithmetic = _exact_ring(edges) if exact else _floats(edges)
        if arithmetic is None:   # values neither can take: plain sympy arithmetic
            adjs = [self.adjoints(y, wrt, with_steps=False)[0] for y in outs]
            return [[adj[w] for w in wrt] for adj in adjs]
        zero, one, local, back = arithmetic
        out = []
        for y, order, on_path in plans:
            adj = {y: one}
            for n in order:
                total = zero
                for c in self.consumers[n]:
                    if c in on_path:
                        total += adj[c] * local[(c, n)]
                adj[n] = total
            out.append([back(adj[w]) if w in adj else sympy.Integer(0) for w in wrt])
        return out


def _exact_ring(edges: dict):
    """(zero, one, local values, back-conversion) in a polynomial ring over QQ, or None."""
    from sympy.polys.rings import sring

    try:
        ring, elems = sring([sympy.Integer(1)] + list(edges.values()))
    except Exception:  # noqa: BLE001 - sring refuses some values; the caller falls back
        return None
    return ring.zero, elems[0], dict(zip(edges, elems[1:])), lambda e: fit(e.as_expr())


def _floats(edges: dict):
    """(zero, one, local values, back-conversion) as 30-digit mpmath floats, or None."""
    import mpmath

    ctx = mpmath.mp.clone()
    ctx.dps = PRECISION + 5
    local = {}
    for k, v in edges.items():
        f = sympy.N(v, PRECISION + 5)
        if f.is_Float:
            local[k] = ctx.mpf(f._mpf_)
        elif f.is_Rational:
            local[k] = ctx.mpf(f.p) / f.q
        else:
            return None
    return ctx.mpf(0), ctx.mpf(1), local, lambda e: sympy.Float(e, PRECISION)


def _boxed(v: Any) -> Any:
    """A number kept whole in a shown product: (-1)·(-2), not -(-2) or - -2."""
    return sympy.UnevaluatedExpr(v) if getattr(v, "is_number", False) else v


def _sum(terms: list) -> Any:
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)


@contextlib.contextmanager
def time_limit(seconds: int, what: str):
    """Raise SolveError when the block runs longer than `seconds` (main thread on Unix only)."""
    def expire(signum, frame):
        raise SolveError(f"{what} did not finish within {seconds} s; simplify the problem")
    try:
        old = signal.signal(signal.SIGALRM, expire)
    except (ValueError, AttributeError):   # not the main thread, or no SIGALRM
        yield
        return
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def classify(hess: sympy.Matrix, grad: list) -> tuple[str, list]:
    """minimum / maximum / saddle / degenerate / not critical, from the gradient and eigenvalues."""
    eig = []
    for val, mult in hess.eigenvals().items():
        eig.extend([val] * mult)
    eig = sorted(eig, key=lambda v: (sympy.N(sympy.re(v)), sympy.default_sort_key(v)))
    if any(g != 0 for g in grad):
        return "not a critical point (the gradient is not zero)", eig
    signs = [sympy.sign(sympy.N(v, 30)) if v.is_number else None for v in eig]
    if None in signs:
        return "cannot classify (the eigenvalues depend on symbols)", eig
    if all(s > 0 for s in signs):
        return "local minimum (all eigenvalues > 0)", eig
    if all(s < 0 for s in signs):
        return "local maximum (all eigenvalues < 0)", eig
    if any(s > 0 for s in signs) and any(s < 0 for s in signs):
        return "saddle point (eigenvalues of both signs)", eig
    return "degenerate (a zero eigenvalue): the second-order test is inconclusive", eig


_MP_FUNCS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh",
             "sinh": "sinh", "cosh": "cosh", "atan": "atan", "sigmoid": None, "Abs": "fabs"}


def numeric(expr: Any, env: dict) -> Any:
    """expr at mpmath values (env: symbol -> mpf) without building sympy objects; None if unsupported.

    For long numeric runs (1000 optimizer steps) where every value is already a float.
    """
    import mpmath

    def rec(e):
        if e in env:
            return env[e]
        if e.is_Number:
            return mpmath.mpf(e.p) / e.q if e.is_Rational else mpmath.mpf(e._mpf_)
        if e is sympy.pi:
            return +mpmath.pi
        if e is sympy.E:
            return +mpmath.e
        if e.is_Add:
            return mpmath.fsum(rec(a) for a in e.args)
        if e.is_Mul:
            out = mpmath.mpf(1)
            for a in e.args:
                out *= rec(a)
            return out
        if e.is_Pow:
            return rec(e.base) ** rec(e.exp)
        name = type(e).__name__
        if name in _MP_FUNCS and len(e.args) == 1:
            v = rec(e.args[0])
            if name == "sigmoid":
                return 1 / (1 + mpmath.exp(-v))
            return getattr(mpmath, _MP_FUNCS[name])(v)
        raise LookupError(name)

    try:
        return rec(expr)
    except (LookupError, TypeError, ValueError, ZeroDivisionError):
        return None
