"""Forward values, reverse-mode backward, Hessians and updates over a Graph, as Steps."""
from __future__ import annotations

import contextlib
import functools
import signal
from typing import Any, Callable, Iterable

import mpmath
import sympy

from examsolve import budget, floatpath
from examsolve.errors import SolveError
from examsolve.expr import MAX_EXPONENT, MAX_RESULT_DIGITS
from examsolve.functions import Partial, kinks_to_cases, resolve_kinks, risky
from examsolve.graph import Graph
from examsolve.names import text_name
from examsolve.steps import Step
from examsolve.tensor import Tensor
from examsolve.typed import Classification
from examsolve.values import PRECISION, fit, int_digits
from examsolve.values import numeric as rising

MAX_SHOWN = 12        # elements of a vector node shown one by one before the rest are summarised
MAX_SHOWN_ROWS = 4    # Jacobian rows whose backward pass is shown in full
MAX_EXACT_ENTRIES = 4096  # a larger Jacobian is computed in 30-digit floats (shown with ≈)
LEFT_FLOAT = ("float path: ∂{of}/∂… computed exactly: in float64 its rounding-error bound is not below "
              f"{floatpath.MIN_RELATIVE:g} of it (a sum that cancels)")
SOLVE_SECONDS = 20    # time allowed for sympy.solve on critical points and equations


def _power_ok(base: Any, exp: Any) -> bool:
    if not (getattr(base, "is_Rational", False) and getattr(exp, "is_Rational", False)):
        return True
    if abs(base.p) in (0, 1) and base.q == 1:
        return True
    size = max(int_digits(base.p), int_digits(base.q))    # no str(): it refuses ints past 4300 digits
    e = abs(exp.p) / exp.q   # plain Python numbers: this may run while sympy evaluation is off
    return e <= MAX_EXPONENT * 10 and size * e <= MAX_RESULT_DIGITS


def substitute(expr: Any, mapping: dict, evaluate: bool = True, check=None) -> Any:
    """expr with symbols replaced; powers of huge numbers fall back to floats instead of hanging.

    check(node, args, out), when given, sees every operation as it is computed (checked_value uses it).
    """
    if isinstance(expr, Tensor):
        return expr.map(lambda e: substitute(e, mapping, evaluate, check))
    if not isinstance(expr, sympy.Basic):
        return expr
    # no `with sympy.evaluate(False)`: switching it clears sympy's whole cache, every time
    return _substituted(expr, mapping, {}, evaluate, check)


def _substituted(e: Any, mapping: dict, memo: dict, evaluate: bool, check) -> Any:
    """substitute's walk; a module function, not a closure calling itself (a cycle that kept each memo alive)."""
    if e in mapping:
        return mapping[e]
    if not e.args or isinstance(e, Partial):
        return e
    if e in memo:
        return memo[e]
    if not evaluate and isinstance(e, sympy.Piecewise):    # the case that applies (its conditions are numbers)
        for piece, cond in e.args:
            holds = _holds(_substituted(cond, mapping, {}, False, None))
            if holds is None:
                break           # a condition numbers cannot settle: sympy's own evaluation, as before
            if holds:
                return _substituted(piece, mapping, memo, True, check)
        return substitute(e, mapping, True, check)
    args = [_substituted(a, mapping, memo, evaluate, check) for a in e.args]
    budget.check_call(e, args)
    if isinstance(e, sympy.Pow) and not _power_ok(args[0], args[1]):
        out = sympy.Float(args[0], PRECISION) ** args[1]
    elif evaluate:
        out = e.func(*args)
    else:
        # a number put in for a factor stays whole: (-1)·(-2), (1/2)·3; not in a subtraction, 1 - p is 1 - 1/4
        if isinstance(e, sympy.Mul) and not (len(e.args) == 2 and e.args[0] is sympy.S.NegativeOne):
            args = [_kept_whole(x) if a in mapping else x for a, x in zip(e.args, args)]
        out = e.func(*args, evaluate=False)
    if check is not None:
        check(e, args, out)
    memo[e] = out
    return out


def _holds(cond: Any) -> bool | None:
    """Whether a condition on numbers holds, decided by the sign of lhs − rhs at enough digits (sympy's own
    comparison evaluates at 15 digits: log(1 + e⁻⁷⁰) > 10⁻⁶¹ came out False); None when it cannot say."""
    from examsolve.values import sign

    if cond in (sympy.true, sympy.false):
        return bool(cond)
    if isinstance(cond, sympy.core.relational.Relational):
        d = sign(cond.lhs - cond.rhs)
        ops = {"<": d is not None and d < 0, "<=": d is not None and d <= 0, ">": d is not None and d > 0,
               ">=": d is not None and d >= 0, "==": d == 0, "!=": d is not None and d != 0}
        return None if d is None or cond.rel_op not in ops else ops[cond.rel_op]
    if isinstance(cond, (sympy.And, sympy.Or)):
        parts = [_holds(a) for a in cond.args]
        return None if None in parts else (all(parts) if isinstance(cond, sympy.And) else any(parts))
    if isinstance(cond, sympy.Not):
        inner = _holds(cond.args[0])
        return None if inner is None else not inner
    return None


def _kept_whole(x: Any) -> Any:
    """A negative or fractional number as a factor in parentheses of its own (-1·-2 printed -(-2), ½·(1 − p)
    printed (1 − p)/2)."""
    if isinstance(x, sympy.Number) and (x.is_negative or not (x.is_Integer or x.is_Float)):
        return sympy.UnevaluatedExpr(x)
    return x


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


def derivative(expr: Any, p: sympy.Symbol, own: Any = None) -> Any:
    """∂expr/∂p by the sum, product, power and chain rules; sympy.diff only for other shapes.

    sympy.diff builds a Derivative first and costs ~2 ms even for tanh(a); this costs ~0.1 ms.
    own: a symbol standing for expr itself, written where expr's own derivative reappears (tanh' = 1 - own²).
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
                outer = _outer(expr, i, own)
                if outer.has(sympy.Derivative, sympy.Subs):
                    return sympy.diff(expr, p)
                terms.append(outer * derivative(a, p))
        return sympy.Add(*terms)
    return sympy.diff(expr, p)


_F = sympy.Dummy("F")


@functools.lru_cache(maxsize=64)
def _outer_in_value(func: type) -> Any:
    """f'(x) written in f(x) alone (tanh' = 1 - F**2, σ' = F·(1 - F)), or None when it needs x itself."""
    x = sympy.Dummy("x", real=True)
    out = func(x).fdiff(1).xreplace({func(x): _F})
    return None if x in out.free_symbols else out


def _outer(expr: Any, i: int, own: Any = None) -> Any:
    """expr.fdiff(i); for a one-argument function whose derivative is a formula in its own value, that
    formula with expr (or own, the symbol standing for it) put in, so tanh(argument) is not built (and its
    argument's assumptions asked) again."""
    if len(expr.args) == 1 and type(expr).__name__ in _OWN_VALUE_DERIVATIVE:
        tmpl = _outer_in_value(type(expr))
        if tmpl is not None:
            return tmpl.xreplace({_F: expr if own is None else own})
    return expr.fdiff(i)


_OWN_VALUE_DERIVATIVE = ("tanh", "exp", "sigmoid")


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


REAL_ONLY = ("examsolve computes with real numbers only (there is no option for complex values); "
             "change the values or the formula")

def _nonreal(v: Any) -> bool:
    """True for a number that is not real (sqrt(-1), log(-2), (-8)**(1/3) as sympy's principal root)."""
    if not isinstance(v, sympy.Basic) or not v.is_number or _undefined(v):
        return False
    real = v.is_extended_real
    if real is not None:
        return not real
    im = sympy.im(sympy.N(v, 30))
    if not im.is_Number:
        return False             # e.g. σ(2) of a function known only by name: nothing to say
    return bool(abs(im) > sympy.Float("1e-25"))


def shown(e: Any) -> str:
    """A formula as written, for a message: signs and fractions of numbers folded (x - 2, not x - 1*2)."""
    def fold(x):
        if not isinstance(x, sympy.Basic) or not x.args or isinstance(x, Partial):
            return x
        args = [fold(a) for a in x.args]
        if isinstance(x, sympy.Mul) and all(a.is_Rational for a in args):
            return x.func(*args)              # -1*2 is -2 and 1*3**(-1) is 1/3; 2 - 2 stays as written
        if isinstance(x, sympy.Pow) and all(a.is_Rational for a in args) and args[1] == -1 and args[0] != 0:
            return x.func(*args)
        return x.func(*args, evaluate=False)
    try:
        return sympy.sstr(fold(e))
    except Exception:  # noqa: BLE001 - a message falls back to sympy's own form
        return sympy.sstr(e)


def domain_reason(e: sympy.Expr, args: list, out: Any) -> str | None:
    """Why the operation e, applied to args (giving out), has no real value; None when it has one (or when
    that depends on symbols still free)."""
    from examsolve.functions import sign_of

    if any(_undefined(a) for a in args):
        return None                  # reported where it arose
    text = shown

    def put(expr, value):        # "x - 3 = -1", or "-4" when the formula is the number
        a, b = text(expr), text(value)
        return a if a == b else f"{a} = {b}"
    if isinstance(e, sympy.Pow) and len(args) == 2:
        b, x = args
        sb, sx = sign_of(b), sign_of(x)
        if sb == 0 and sx == -1:
            if x == -1:
                return f"division by zero: the denominator {text(e.base)} is 0"
            return f"{text(e)}: {text(e.base)} is 0, raised to the negative power {text(x)} (a division by zero)"
        if sb == -1 and x.is_number and not x.is_integer:
            what = "square root" if x == sympy.S.Half else f"power {text(x)}"
            return f"{text(e)}: the {what} of the negative number {put(e.base, b)} is not real"
    elif isinstance(e, sympy.log) and args:
        sa = sign_of(args[0])
        if sa == 0:
            return f"{text(e)} = log(0) is undefined (−∞): {text(e.args[0])} is 0"
        if sa == -1:
            return f"{text(e)}: the log of the negative number {put(e.args[0], args[0])} is not real"
        if len(args) > 1:
            base = args[1]
            sbase = sign_of(base)
            if sbase == 0 or base == 1:
                return f"{text(e)}: a logarithm to the base {text(base)} is undefined (bases are positive and not 1)"
            if sbase == -1:
                return f"{text(e)}: a logarithm to the negative base {text(base)} is not real"
    if _undefined(out):
        if isinstance(e, sympy.Mul) and any(getattr(a, "is_zero", False) for a in args):
            return f"{text(e)} is 0/0 (or 0·∞) here"
        return f"{text(e)} has no finite value here (a division by zero or a pole)"
    if _nonreal(out):
        return f"{put(e, out)} is not a real number"
    return None


def checked_value(expr: Any, values: dict, name, loc=None, hint: str = "") -> Any:
    """expr at the values, computed operation by operation on the tree as written (so (x − 2)/(x − 2) at
    x = 2 is 0/0, not 1); SolveError naming the operation and the reason when one has no real value.

    name: what the message calls expr, e.g. "y = (x - 2)/(x - 2)", or a function giving it (made only
    when there is an error: printing a 20,000-term sum for every node costs more than computing it).
    """
    def check(e, args, out):
        why = domain_reason(e, args, out)
        if why is not None:
            real = "not real" in why
            label = name() if callable(name) else name
            raise SolveError(f"{label} is {'not real' if real else 'undefined'} at the given values: "
                             f"{hint or why}" + (f"; {REAL_ONLY}" if real else ""), loc)
    out = substitute(expr, values, check=check)
    if _nonreal(out) or _undefined(out):     # an atom: a given value such as sqrt(-1) put in directly
        check(expr, [], out)
    return out


def evaluate(graph: Graph, overrides: dict | None = None, fast: bool = True) -> dict:
    """Every node's value, exact while small (or with fast=False); SolveError where a node is undefined or not real.

    The value comes from the evaluated expression (its exact form), but first the formula as written is
    computed operation by operation, so a 0/0, log(0) or sqrt(−1) that sympy simplified away is refused.
    A value computed from a float (≈) is a float too, even when sympy made it an exact 0.
    """
    if fast and floatpath.wanted(graph):
        floats = floatpath.evaluate(graph, overrides)
        if floats is not None:
            return floats
    overrides = overrides or {}
    values: dict = {}
    for s, n in graph.nodes.items():
        budget.check("the forward pass", n.loc)
        if n.kind == "given":
            values[s] = overrides.get(s, n.value)
        elif n.kind == "symbol":
            values[s] = overrides.get(s, s)
        else:
            display = n.display if n.display is not None else n.expr

            def label(n=n, display=display):
                text = shown(display)
                return f"{n.name} = {text if len(text) <= 120 else text[:119] + '…'}"
            if risky(display):
                checked_value(display, values, label, n.loc, n.hint)
            v = fit(substitute(n.expr, values))
            if _undefined(v):
                why = n.hint or _why_undefined(n.expr, values)
                raise SolveError(f"{label()} is undefined at the given values: {why}", n.loc)
            if _nonreal(v):
                raise SolveError(f"{label()} is not real at the given values: it is {sympy.sstr(v)}; {REAL_ONLY}",
                                 n.loc)
            if (getattr(v, "is_number", False) and not v.has(sympy.Float)
                    and any(getattr(values.get(p), "has", None) and values[p].has(sympy.Float) for p in n.parents)):
                v = sympy.Float(v, PRECISION)     # x ≈ 1e39 minus 10**39 is ≈ 0, not an exact 0
            if isinstance(v, sympy.Float) and v != 0:
                _check_cancellation(n.expr, values, label, n.loc)
            values[s] = v
    return values


CANCEL_DIGITS = PRECISION - 12     # a sum of 30-digit floats this much smaller than its terms keeps < 9 digits


def _check_cancellation(expr: Any, values: dict, label: Callable[[], str], loc: Any) -> None:
    """SolveError where a sum of 30-digit floats cancels so far that fewer than 9 of its digits are right
    (a tanh chain's 0.67… minus its fixed point given to 25 digits is ~1e-27: 30-digit floats hold 3 digits of
    it); a float path's quiet wrong answer becomes a reason. At most 20 sums of a node are looked at."""
    sums = [e for _, e in zip(range(20), (a for a in sympy.preorder_traversal(expr) if a.is_Add))]
    for e in sums:
        terms = [substitute(t, values) for t in e.args]
        if not any(isinstance(t, sympy.Basic) and t.has(sympy.Float) for t in terms):
            continue
        try:
            total = abs(rising(sympy.Add(*terms), 15))     # values.numeric: engine.numeric is another
            big = max(abs(rising(t, 15)) for t in terms)
        except (SolveError, TypeError):
            continue
        if total.is_Float and big.is_Float and total != 0 and big > total * sympy.Float(10) ** CANCEL_DIGITS:
            raise SolveError(f"{label()}: a sum cancels to {sympy.sstr(sympy.Float(total, 3))} from terms near "
                             f"{sympy.sstr(sympy.Float(big, 3))}, past what the {PRECISION}-digit floats it is "
                             "computed from can hold (fewer than 9 digits of it would be right); give the values "
                             "it subtracts exactly, or rescale so the difference is not that small", loc)


def forward_steps(graph: Graph, values: dict, targets: Iterable) -> list[Step]:
    """One step per node the targets depend on: formula, numbers put in, value (on the float path, the
    first and last few of each run of steps of the same form)."""
    needed = graph.ancestors(targets)
    by_group: dict[str, list] = {}
    for s, n in graph.nodes.items():
        if s in needed and n.kind == "node":
            by_group.setdefault(n.group, []).append(s)
    items: list = []
    for name, syms in by_group.items():
        items.extend(syms if len(syms) <= MAX_SHOWN else syms[:3])
        if len(syms) > MAX_SHOWN:
            items.append(("group", name, len(syms)))
    if isinstance(values, floatpath.FloatValues):
        items = floatpath.runs(items, lambda x: None if isinstance(x, tuple) else floatpath.form(graph.nodes[x].display))
    steps: list[Step] = []
    for x in items:
        if isinstance(x, tuple) and x[0] == "group":
            steps.append(Step(title=f"Forward: {x[1]} (all {x[2]} elements, each as above)",
                              target=sympy.Symbol(x[1]), value=group_value(graph.groups[x[1]], values)))
        elif isinstance(x, tuple):
            steps.append(_more_steps("Forward", x[1]))
        else:
            n = graph.nodes[x]
            display = floatpath.elide(n.display) if isinstance(values, floatpath.FloatValues) else n.display
            numbers = substitute(display, values, evaluate=False) if display.free_symbols else None
            steps.append(Step(title=f"Forward: {n.name}", target=x, formula=display,
                              substituted=numbers, value=values[x]))
    return steps


def _more_steps(what: str, cut: list) -> Step:
    """The step standing for a run of steps of the same form that the float path does not show."""
    return Step(f"{what}: {len(cut)} more steps of the same form, {text_name(cut[0].name)} … "
                f"{text_name(cut[-1].name)} (not shown: on the float path, the first "
                f"{floatpath.FIRST} and last {floatpath.LAST} steps of each run are)")


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
        # the float path: each node's partials with respect to its parents, already computed, with error bounds
        self.fast = values.partials if isinstance(values, floatpath.FloatValues) else None
        self.fast_errors = values.partial_errors if self.fast is not None else None

    def _leave_float_path(self) -> None:
        """Solve the backward pass exactly from here on: the values again exactly, the local derivatives too."""
        graph = self.graph
        given = {s: v for s, v in self.values.items() if graph.nodes[s].kind == "given"}
        self.values = evaluate(graph, given, fast=False)
        self.fast = self.fast_errors = None
        self._local.clear()
        self._shown.clear()

    def local(self, c, p) -> tuple[Any, Any, tuple[str, ...]]:
        """∂c/∂p: symbolic, at the values, and the conventions it used."""
        key = (c, p)
        if key not in self._local:
            expr = self.graph.nodes[c].expr
            if isinstance(expr, sympy.Function):
                # write the node itself where it reappears: tanh' = 1 - a², exp' = q, σ' = f·(1 - f)
                sym = derivative(expr, p, own=c).xreplace({expr: c})
            else:
                sym = derivative(expr, p)
            if self.fast is not None:      # the float path has its value already (no kink: it checked)
                self._local[key] = (sym, floatpath.as_sympy(self.fast[c].get(p, 0.0)), ())
                return self._local[key]
            num, notes = resolve_kinks(substitute(sym, self.values), self.conventions)
            num = fit(kinks_to_cases(num, self.conventions))     # a kink at a symbolic argument: by cases
            if _undefined(num):
                raise SolveError(f"∂{c.name}/∂{p.name} = {sympy.sstr(sym)} is undefined at the given values",
                                 self.graph.nodes[c].loc)
            if _nonreal(num):
                raise SolveError(f"∂{c.name}/∂{p.name} = {sympy.sstr(sym)} is not real at the given values "
                                 f"({sympy.sstr(num)}); {REAL_ONLY}", self.graph.nodes[c].loc)
            self._local[key] = (sym, num, notes)
        return self._local[key]

    def shown(self, c, p) -> Any:
        """∂c/∂p as shown in a step: 2*(y - l) reads better than 2*y - 2*l."""
        key = (c, p)
        if key not in self._shown:
            sym = kinks_to_cases(self.local(c, p)[0], self.conventions)
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

    def adjoints(self, of, wrt: Iterable, with_steps: bool = True, shown: set | None = None) -> tuple[dict, list[Step]]:
        """∂of/∂n for every node on a path from wrt to of, with a step per node (but one line for the
        nodes in `shown`, whose steps an earlier backward pass of the same values already gave)."""
        wrt = list(wrt)
        order, on_path = self.path(of, wrt)
        users = {n: [c for c in self.consumers[n] if c in on_path] for n in order}
        if self.fast is not None:
            try:
                adj = floatpath.Adjoints(*self._float_adjoints(of, order, on_path))
            except floatpath.NeedsExact:
                # a gradient that cancels has fewer digits than the float path shows: the exact path answers
                self._leave_float_path()
                adj, steps = self.adjoints(of, wrt, with_steps, shown)
                return adj, [Step(LEFT_FLOAT.format(of=text_name(of.name)))] + steps if with_steps else []
        else:
            adj = {of: sympy.Integer(1)}
            for n in order:
                budget.check("the backward pass")
                adj[n] = fit(sympy.Add(*[adj[c] * self.local(c, n)[1] for c in users[n]]))
        for w in wrt:
            if w not in adj:
                adj[w] = sympy.Integer(0)
        if not with_steps:
            return adj, []
        from examsolve.backward_steps import backward_steps     # steps are drawn from these numbers

        return adj, backward_steps(self, of, order, users, adj, shown)

    def _float_adjoints(self, of, order: list, on_path: set) -> tuple[dict, dict]:
        """(∂of/∂n, error bound) in float64 from the float path's local partials; NeedsExact for a gradient
        it cannot vouch for."""
        fast, bounds = self.fast, self.fast_errors

        def edges(c):
            # a node's partials and their bounds were filled together, so their keys are in one order
            ds, eds = fast.get(c, {}), bounds.get(c, {})
            return ((p, d, ed) for (p, d), ed in zip(ds.items(), eds.values()) if p in on_path)
        return floatpath.adjoints(of, order, edges)

    def rows(self, outs: list, wrt: list, exact: bool = True) -> list[list]:
        """Jacobian rows ∂out/∂wrt without steps, by fast arithmetic on the local derivatives.

        Exact: the local derivatives go into one sympy polynomial ring (radicals, pi, exp(...) as
        generators over QQ), where a multiply-add costs microseconds instead of sympy's ~100 µs.
        Not exact (past the size budget): 30-digit mpmath floats.
        """
        plans = [(y,) + self.path(y, wrt) for y in outs]
        if self.fast is not None:
            try:
                return [[floatpath.as_sympy(adj[w]) if w in adj else sympy.Integer(0) for w in wrt]
                        for adj, _ in (self._float_adjoints(y, order, on_path) for y, order, on_path in plans)]
            except floatpath.NeedsExact:
                self._leave_float_path()
        nodes = self.graph.nodes
        edges: dict = {}
        for y, order, on_path in plans:
            for c in [y] + order:
                for p in nodes[c].parents:
                    if p in on_path and (c, p) not in edges:
                        edges[(c, p)] = self.local(c, p)[1]
        arithmetic = _exact_ring(edges) if exact else _floats(edges)
        if arithmetic is None:   # values neither can take: plain sympy arithmetic
            adjs = [self.adjoints(y, wrt, with_steps=False)[0] for y in outs]
            return [[adj[w] for w in wrt] for adj in adjs]
        zero, one, local, back = arithmetic
        out = []
        doubtful = []       # (row, column) of float entries smaller than their error bound: decided exactly
        for r, (y, order, on_path) in enumerate(plans):
            budget.check("the Jacobian")
            adj = _pushed(y, order, lambda c: ((p, local[(c, p)]) for p in nodes[c].parents if p in on_path),
                          zero, one)
            if not exact:
                size = _pushed(y, order, lambda c: ((p, abs(local[(c, p)])) for p in nodes[c].parents
                                                    if p in on_path), zero, one)
                # first order: each path's product and each sum round at most a few units of the working
                # precision, on the magnitudes summed (sum of |products|): a smaller entry has cancelled
                tol = _FLOAT_ULP * 8 * (len(order) + 2) * 10 ** PRECISION
                # (all of an entry's products exactly 0: the exact 0 it is, no local derivative is a float 0)
                doubtful += [(r, j) for j, w in enumerate(wrt) if w in adj and size[w] and abs(adj[w]) <= tol * size[w]]
            out.append([back(adj[w]) if w in adj else sympy.Integer(0) for w in wrt])
        if doubtful:
            self._exact_entries(out, doubtful, plans, wrt, edges)
        return out

    def _exact_entries(self, out: list, doubtful: list, plans: list, wrt: list, edges: dict) -> None:
        """Put the exact value (0, or its PRECISION digits by values.numeric) in each doubtful entry of out."""
        from examsolve.values import numeric

        rows = sorted({r for r, _ in doubtful})
        nodes = self.graph.nodes
        ring = _exact_ring({k: v for k, v in edges.items()
                            if any(k[0] == plans[r][0] or k[0] in plans[r][2] for r in rows)})
        exact_rows = {}
        for r in rows:
            y, order, on_path = plans[r]
            budget.check("the Jacobian")
            if ring is None:       # values the ring refuses: plain sympy arithmetic on this row
                adj = self.adjoints(y, wrt, with_steps=False)[0]
                exact_rows[r] = {w: adj.get(w, sympy.Integer(0)) for w in wrt}
                continue
            zero, one, local, back = ring
            adj = _pushed(y, order, lambda c: ((p, local[(c, p)]) for p in nodes[c].parents if p in on_path),
                          zero, one)
            exact_rows[r] = {w: back(adj[w]) if w in adj else sympy.Integer(0) for w in wrt}
        for r, j in doubtful:
            v = exact_rows[r][wrt[j]]
            out[r][j] = sympy.Integer(0) if v == 0 else numeric(v, PRECISION)


def _pushed(of, order: list, edges: Callable[[Any], Iterable], zero: Any, one: Any) -> dict:
    """∂of/∂n for of and the nodes in order (reverse topological), each node's adjoint pushed to its
    parents on the path along edges(c) = (parent, local derivative) pairs: every edge is met once, where
    pulling from each node's consumers meets the consumers off the path too (a dense layer's inputs feed
    every output)."""
    adj = dict.fromkeys(order, zero)
    adj[of] = one
    for i, c in enumerate([of] + order):
        if i % 1000 == 0:
            budget.check("the backward pass")
        a = adj[c]
        if a == zero:
            continue
        for p, d in edges(c):
            adj[p] += a * d
    return adj


def _exact_ring(edges: dict):
    """(zero, one, local values, back-conversion) in a polynomial ring over QQ, or None."""
    from sympy.polys.rings import sring

    try:
        ring, elems = sring([sympy.Integer(1)] + list(edges.values()))
    except Exception:  # noqa: BLE001 - sring refuses some values; the caller falls back
        return None
    return ring.zero, elems[0], dict(zip(edges, elems[1:])), lambda e: fit(e.as_expr())


_FLOAT_DIGITS = PRECISION + 15     # working digits of _floats: an entry with less cancellation than 10^12 keeps 30
_FLOAT_ULP = 10.0 ** -_FLOAT_DIGITS


def _floats(edges: dict):
    """(zero, one, local values, back-conversion) as mpmath floats shown with 30 digits, or None."""
    import mpmath

    ctx = mpmath.mp.clone()
    ctx.dps = _FLOAT_DIGITS
    local = {}
    for k, v in edges.items():
        f = sympy.N(v, _FLOAT_DIGITS)
        if f.is_Float:
            local[k] = ctx.mpf(f._mpf_)
        elif f.is_Rational:
            local[k] = ctx.mpf(f.p) / f.q
        else:
            return None
    return ctx.mpf(0), ctx.mpf(1), local, lambda e: sympy.Float(e, PRECISION)


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


_INCONCLUSIVE = "a zero eigenvalue: the second-order test is inconclusive"


def classify(hess: sympy.Matrix, grad: list) -> tuple[Classification, list]:
    """minimum / maximum / saddle / degenerate / not critical, from the gradient and eigenvalues."""
    from examsolve.values import exact_sign

    numeric = all(h.is_number for h in hess)
    if numeric:
        eig, _ = eigenvalues(hess)
    else:
        try:
            eig = [v for v, m in hess.eigenvals().items() for _ in range(m)]
        except (NotImplementedError, sympy.PolynomialError):
            eig = []
        eig = sorted(eig, key=sympy.default_sort_key)
    # a gradient entry log(2) + log(3) − log(6) is 0: decided by its exact sign, not by its form
    if any((exact_sign(g) != 0) if g.is_number else g != 0 for g in map(sympy.sympify, grad)):
        return Classification("not_critical", "the gradient is not zero"), eig
    if not numeric:
        return Classification("cannot_classify", "the eigenvalues depend on symbols"), eig
    positive, negative, zeros = inertia(hess)
    n = hess.shape[0]
    if positive == n:
        return Classification("local_minimum", "all eigenvalues > 0"), eig
    if negative == n:
        return Classification("local_maximum", "all eigenvalues < 0"), eig
    if positive and negative:
        return Classification("saddle", "eigenvalues of both signs"), eig
    return Classification("degenerate", _INCONCLUSIVE), eig


def char_poly(hess: sympy.Matrix) -> sympy.Poly:
    """det(λI − H) as a polynomial in λ (its coefficients polynomials in H's entries)."""
    lam = sympy.Dummy("lambda")
    return sympy.Poly((lam * sympy.eye(hess.shape[0]) - hess).det(method="berkowitz"), lam)


def inertia(hess: sympy.Matrix) -> tuple[int, int, int]:
    """(positive, negative, zero) eigenvalue counts of a numeric symmetric matrix, exactly: the exact signs of
    det(λI − H)'s coefficients; trailing zeros count the zero eigenvalues, and Descartes' rule of signs counts
    the positive ones exactly because every root is real."""
    from examsolve.values import exact_sign

    n = hess.shape[0]
    if not _symmetric(hess):
        raise SolveError("the Hessian is not symmetric there (f is not twice continuously differentiable at "
                         "the point); the second-derivative test needs a symmetric Hessian")
    signs = []
    for c in char_poly(hess).all_coeffs():
        s = exact_sign(c)
        if s is None:
            raise SolveError(f"a coefficient of det(λI − H), {sympy.sstr(c)}, is not a real number")
        signs.append(s)
    signs = [0] * (n + 1 - len(signs)) + signs        # all_coeffs drops nothing but a 0 polynomial's terms
    zeros = 0
    while zeros < n and signs[-1 - zeros] == 0:
        zeros += 1
    seq = [s for s in signs[:len(signs) - zeros] if s != 0]
    positive = sum(1 for a, b in zip(seq, seq[1:]) if a != b)
    return positive, n - zeros - positive, zeros


def _symmetric(hess: sympy.Matrix) -> bool:
    """H[i][j] = H[j][i] exactly (by form, else by the exact sign of the difference)."""
    from examsolve.values import exactly_equal

    n = hess.shape[0]
    return all(exactly_equal(hess[i, j], hess[j, i]) for i in range(n) for j in range(i + 1, n))


EIG_DIGITS = 50     # working digits of the numeric eigenvalues (shown to PRECISION digits)
NUMERIC_EIG = (f"numeric ({PRECISION} digits, mpmath eigsy at {EIG_DIGITS}): sympy cannot write these "
               "eigenvalues exactly; their signs and zeros are exact (from det(λI − H))")


def eigenvalues(hess: sympy.Matrix) -> tuple[list, str]:
    """The eigenvalues of a numeric symmetric matrix with multiplicity, increasing, and a note ('' when exact).

    Exact where sympy can write them real: the diagonal, the real roots of a rational characteristic polynomial
    (radicals up to degree 2, CRootOf beyond: real by construction, never Cardano's form with an I), the roots of
    a quadratic; else 30-digit floats (the note says so). A value proved 0 is written 0, values proved equal
    are written alike (the simpler form), so callers may compare them by form.
    """
    from examsolve.values import numeric

    n = hess.shape[0]
    eig = None
    if hess.is_diagonal():
        eig = [hess[i, i] for i in range(n)]
    else:
        p = char_poly(hess)
        try:
            if p.domain.is_ZZ or p.domain.is_QQ:
                eig = sympy.real_roots(p)
            elif n <= 2:
                eig = [v for v, m in sympy.roots(p).items() for _ in range(m)]
        except (NotImplementedError, sympy.PolynomialError):
            eig = None
        if eig is not None and (len(eig) != n or any(v.has(sympy.I) for v in eig)):
            eig = None
    if eig is None:
        return _numeric_eigenvalues(hess), NUMERIC_EIG
    eig = canonical(eig)
    return sorted(eig, key=lambda v: (numeric(v, PRECISION), sympy.default_sort_key(v))), ""


def canonical(values: list) -> list:
    """Exact numbers with one form per value: one proved 0 is 0, ones proved equal (sqrt(3 + 2√2) and 1 + √2)
    take the simpler form, so that comparing by form is comparing by value."""
    from examsolve.values import exact_sign, exactly_equal

    out = [sympy.Integer(0) if not v.is_Rational and exact_sign(v) == 0 else v for v in values]
    groups: list[list[int]] = []
    for i, v in enumerate(out):
        group = next((g for g in groups if exactly_equal(out[g[0]], v)), None)
        if group is None:
            groups.append([i])
        else:
            group.append(i)
    for g in groups:
        simplest = min((out[i] for i in g), key=sympy.count_ops)
        for i in g:
            out[i] = simplest
    return out


def _numeric_eigenvalues(hess: sympy.Matrix) -> list:
    """Eigenvalues of a numeric symmetric matrix as PRECISION-digit Floats, increasing; the zeros the
    characteristic polynomial proves are exactly 0."""
    from examsolve.values import numeric

    n = hess.shape[0]
    ctx = mpmath.mp.clone()
    ctx.dps = EIG_DIGITS
    at = ctx.matrix([[ctx.mpf(numeric(hess[i, j], EIG_DIGITS)._mpf_) for j in range(n)] for i in range(n)])
    vals = sorted(ctx.eigsy(at, eigvals_only=True))
    zeros = inertia(hess)[2]
    small = set(sorted(range(n), key=lambda k: abs(vals[k]))[:zeros])
    return [sympy.Integer(0) if k in small else sympy.Float(vals[k], PRECISION) for k in range(n)]


def numeric_eigenvectors(hess: sympy.Matrix) -> list:
    """Unit eigenvectors of a numeric symmetric matrix as PRECISION-digit Floats, in increasing eigenvalue order."""
    from examsolve.values import numeric

    n = hess.shape[0]
    ctx = mpmath.mp.clone()
    ctx.dps = EIG_DIGITS
    at = ctx.matrix([[ctx.mpf(numeric(hess[i, j], EIG_DIGITS)._mpf_) for j in range(n)] for i in range(n)])
    vals, vecs = ctx.eigsy(at)
    order = sorted(range(n), key=lambda k: vals[k])
    return [[sympy.Float(vecs[i, k], PRECISION) for i in range(n)] for k in order]


# ---- real solutions of polynomial systems, with a proof -----------------------------------------------

class RealSolutions:
    """Every real solution of a polynomial system, found by elimination (a proof, not a search).

    A lex Groebner basis in shape position, [v₁ − g₁(t), ..., vₙ − gₙ(t), h(t)], puts the solutions in
    one-to-one correspondence with the roots of h; a solution is real exactly when its root t is real
    (the gᵢ have rational coefficients), and sympy's real_roots isolates the real roots of h exactly.
    """

    def __init__(self, points: list, how: str, t=None, h=None, roots=(), coords=None):
        self.points = points            # one dict unknown -> exact value per real solution
        self.how = how                  # one line for a step
        self.t, self.h, self.roots, self.coords = t, h, list(roots), coords or {}

    def sign_at(self, k: int, expr: Any) -> int:
        """The exact sign (-1, 0, 1) of a rational function of the unknowns at the k-th solution (where its
        denominator is not 0: the solutions exclude those points)."""
        expr = expr if isinstance(expr, sympy.Basic) else sympy.Integer(expr)   # an int from the caller
        num, den = sympy.fraction(sympy.together(expr))
        if den.free_symbols:
            return self._poly_sign(k, num) * self._poly_sign(k, den)
        return self._poly_sign(k, num) * (1 if den > 0 else -1)

    def _poly_sign(self, k: int, expr: Any) -> int:
        t, h, r = self.t, self.h, self.roots[k]
        p = sympy.Poly(sympy.expand(expr.xreplace({v: c.as_expr() for v, c in self.coords.items()})), t)
        p = p.rem(h)
        if p.is_zero:
            return 0
        g = p.gcd(h)
        if g.degree() > 0 and any(_same_root(r, q) for q in sympy.real_roots(g)):
            return 0
        at = p.as_expr().xreplace({t: r})
        for digits in (30, 60, 120, 240, 480):
            v = sympy.N(at, digits)
            if v.is_number and v.is_real and abs(v) > sympy.Float(10) ** (-(digits // 2)):
                return 1 if v > 0 else -1
        raise SolveError("could not decide the sign of a value at a critical point (it is not 0, but smaller "
                         "than 1e-240); simplify the problem")


def _same_root(a: Any, b: Any) -> bool:
    """Two real roots from sympy's real_roots are the same number (CRootOf: same polynomial and index)."""
    if isinstance(a, sympy.CRootOf) and isinstance(b, sympy.CRootOf):
        return a.poly == b.poly and a.index == b.index
    if isinstance(a, sympy.CRootOf) or isinstance(b, sympy.CRootOf):
        return False      # real_roots writes a root of degree ≤ 2 in radicals, others as CRootOf
    return bool(a == b) or sympy.expand(a - b) == 0


def as_polys(eqs: list, unknowns: list):
    """Numerators and non-constant denominators as polynomials over Q in the unknowns, or None."""
    from sympy.polys.polyerrors import PolynomialError

    nums, dens = [], []
    for e in eqs:
        num, den = sympy.fraction(sympy.together(e))
        try:
            pn, pd = sympy.Poly(num, *unknowns), sympy.Poly(den, *unknowns)
        except (PolynomialError, sympy.GeneratorsNeeded, ValueError):
            return None
        if not (pn.domain.is_ZZ or pn.domain.is_QQ) or not (pd.domain.is_ZZ or pd.domain.is_QQ):
            return None
        if not pn.is_zero:
            nums.append(pn.as_expr())
        if not pd.is_ground:
            dens.append(pd.as_expr())
    return nums, dens


def _shape(G, order: list):
    """(h, {v: g_v}) when the lex basis G is [v − g_v(t) ..., h(t)] with t = order[-1], else None."""
    t = order[-1]
    exprs = list(G.exprs)
    if len(exprs) != len(order):
        return None
    uni = [e for e in exprs if e.free_symbols <= {t}]
    if len(uni) != 1:
        return None
    coords = {t: sympy.Poly(t, t)}
    for e in exprs:
        if e is uni[0]:
            continue
        lead = [v for v in order[:-1] if v in e.free_symbols]
        if len(lead) != 1 or not e.free_symbols <= {lead[0], t} or lead[0] in coords:
            return None
        p = sympy.Poly(e, lead[0])
        if p.degree() != 1 or p.all_coeffs()[0].free_symbols:
            return None
        a, b = p.all_coeffs()
        coords[lead[0]] = sympy.Poly(sympy.expand(-b / a), t)
    return sympy.Poly(uni[0], t), coords


def real_solutions(eqs: list, unknowns: list) -> RealSolutions | None:
    """Every real solution of eqs = 0 when they are rational functions over Q with finitely many
    solutions, with the proof in `how`; None when this method cannot decide (not polynomial over Q,
    infinitely many solutions, or no shape position found)."""
    got = as_polys(eqs, unknowns)
    if got is None:
        return None
    polys, dens = got
    if not polys:
        return None
    extra = []
    if dens:            # a zero denominator is no solution: z·(denominators) = 1 keeps those points out
        z = sympy.Dummy("z")
        polys = polys + [z * sympy.Mul(*dens) - 1]
        extra = [z]
    names = ", ".join(v.name for v in unknowns)
    G = sympy.groebner(polys, *(extra + list(unknowns)), order="lex")
    if list(G.exprs) == [1]:
        return RealSolutions([], f"a Groebner basis of the equations in {names} is {{1}}: they have no "
                                 "solution, not even a complex one")
    if not G.is_zero_dimensional:
        return None
    eliminants = []
    found = None
    for t in reversed(unknowns):
        order = extra + [v for v in unknowns if v != t] + [t]
        G = G if order == extra + list(unknowns) else sympy.groebner(polys, *order, order="lex")
        found = _shape(G, order)
        if found:
            break
        eliminants += [sympy.Poly(e, t).sqf_part().as_expr() for e in G.exprs if e.free_symbols <= {t}]
    sep = ""
    if not found:
        # the radical ideal (square-free eliminants added) in a generic linear form is in shape position
        s = sympy.Dummy("s")
        for c in ((1, 2, 3, 5, 7, 11), (1, -3, 7, -13, 29, 53), (3, 1, -2, 9, -5, 17)):
            form = sympy.Add(*[k * v for k, v in zip(c, unknowns)])
            order = extra + list(unknowns) + [s]
            G = sympy.groebner(polys + eliminants + [s - form], *order, order="lex")
            found = _shape(G, order)
            if found:
                sep = f" with s = {sympy.sstr(form)}"
                break
        if not found:
            return None
    h, coords = found
    h = h.sqf_part()
    t = h.gens[0]
    tname = "s" if sep else t.name
    roots = sympy.real_roots(h)     # CRootOf(p(x), k), sympy's k-th root of p, is written in a variable x of its own
    points = []
    for r in roots:
        point = {}
        for v in unknowns:
            c = coords[v].as_expr().xreplace({t: r})
            point[v] = sympy.expand(c) if not c.has(sympy.CRootOf) else c
        points.append(point)
    rest = "".join(f", {v.name} = {sympy.sstr(coords[v].as_expr().xreplace({t: sympy.Symbol(tname)}))}"
                   for v in unknowns if v != t)
    how = (f"a Groebner basis (lex order) reduces the equations to {sympy.sstr(h.as_expr().xreplace({t: sympy.Symbol(tname)}))}"
           f" = 0 in {tname}{sep}{rest}; each real root gives one real solution and no other exists; "
           f"{len(roots)} real root{'s' if len(roots) != 1 else ''}, isolated exactly (sympy real_roots)")
    return RealSolutions(points, how, t, h, roots, coords)


def classify_exact(sols: RealSolutions, k: int, hess: sympy.Matrix) -> tuple[Classification, list]:
    """The classification at the k-th solution from exact signs: for the symmetric Hessian, the signs of
    the coefficients of det(λI − H) count its positive, negative and zero eigenvalues (Descartes' rule is
    exact for a polynomial whose roots are all real); the eigenvalues themselves as 30-digit floats."""
    import mpmath

    lam = sympy.Dummy("lambda")
    n = hess.shape[0]
    coeffs = sympy.Poly((lam * sympy.eye(n) - hess).det(method="berkowitz"), lam).all_coeffs()
    signs = [sols.sign_at(k, c) for c in coeffs]
    zeros = 0
    while zeros < n and signs[-1 - zeros] == 0:
        zeros += 1
    seq = [s for s in signs[:len(signs) - zeros] if s != 0]
    positive = sum(1 for a, b in zip(seq, seq[1:]) if a != b)
    negative = n - zeros - positive
    point = sols.points[k]
    ctx = mpmath.mp.clone()
    ctx.dps = PRECISION + 10
    at = [[ctx.mpf(sympy.N(e.xreplace(point), PRECISION + 10)) for e in hess.row(i)] for i in range(n)]
    eig = sorted(ctx.eigsy(ctx.matrix(at), eigvals_only=True))
    eig = [sympy.Float(0) if zeros and abs(v) < ctx.mpf(10) ** -PRECISION else sympy.Float(v, PRECISION)
           for v in eig]
    if positive == n:
        kind = Classification("local_minimum", "all eigenvalues > 0")
    elif negative == n:
        kind = Classification("local_maximum", "all eigenvalues < 0")
    elif positive and negative:
        kind = Classification("saddle", "eigenvalues of both signs")
    else:
        kind = Classification("degenerate", _INCONCLUSIVE)
    return kind, eig


_MP_FUNCS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh",
             "sinh": "sinh", "cosh": "cosh", "atan": "atan", "sigmoid": None, "Abs": "fabs"}


def numeric(expr: Any, env: dict) -> Any:
    """expr at mpmath values (env: symbol -> mpf) without building sympy objects; None if unsupported.

    For long numeric runs (1000 optimizer steps) where every value is already a float.
    """
    try:
        return _numeric(expr, env)
    except (LookupError, TypeError, ValueError, ZeroDivisionError):
        return None


def _numeric(e: Any, env: dict) -> Any:
    """numeric's walk (a module function, not a closure: a closure calling itself is a reference cycle that
    keeps env alive until a full garbage collection)."""
    if e in env:
        return env[e]
    if e.is_Number:
        return mpmath.mpf(e.p) / e.q if e.is_Rational else mpmath.mpf(e._mpf_)
    if e is sympy.pi:
        return +mpmath.pi
    if e is sympy.E:
        return +mpmath.e
    if e.is_Add:
        return mpmath.fsum(_numeric(a, env) for a in e.args)
    if e.is_Mul:
        out = mpmath.mpf(1)
        for a in e.args:
            out *= _numeric(a, env)
        return out
    if e.is_Pow:
        return _numeric(e.base, env) ** _numeric(e.exp, env)
    name = type(e).__name__
    if name in _MP_FUNCS and len(e.args) == 1:
        v = _numeric(e.args[0], env)
        if name == "sigmoid":
            return 1 / (1 + mpmath.exp(-v))
        return getattr(mpmath, _MP_FUNCS[name])(v)
    raise LookupError(name)
