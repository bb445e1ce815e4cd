"""assume: sign, range and regime assumptions of a spec: cases they decide collapse, and the answers say so.

An assumption is a fact `g ∈ I` about an expression g written in the leaves (numbers put in for given names):
`0 < alpha < 1` is alpha ∈ (0, 1), `relu(z1) active` is (z1 in the leaves) ∈ (0, ∞), `margin violated` is
(the non-zero argument of every max(0, ·)) ∈ (0, ∞). A condition d ⋚ 0 of a case is decided when d is c·g + k
for a fact about g, or when sympy decides it with the assumed signs of single symbols (y > 0: positive=True).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy import S, oo

from examsolve import functions as fn
from examsolve.errors import ExprError, SolveError, SpecError
from examsolve.expr import parse
from examsolve.tensor import Tensor

MAX_ASSUMPTIONS = 32    # assume: entries; each is one line of the spec
MAX_FACTS = 2000        # facts from regimes over a large graph (one per relu): past this the regime is refused
MAX_OPS = 400           # a case condition larger than this is left undecided (expanding it would cost more)

_COMPARE = re.compile(r"<=|>=|==|≤|≥|<|>|=")
_RELU = re.compile(r"^\s*(relu|lrelu)\s*(?:\((.*)\))?\s+active\s*$")
_HINGE = re.compile(r"^\s*(hinge\s+active|margin\s+violated)\s*$")
_CHOICE = re.compile(r"^\s*((max|min)\s*\(.*\))\s*=(?!=)(.*)$")
_OP = {"≤": "<=", "≥": ">=", "==": "="}
_DECIDED = (fn.relu, fn.lrelu, sympy.Abs, sympy.sign, fn._Extreme, fn.Kink, sympy.Piecewise)
HINT = ("write e.g. 'y > 0', '0 < alpha < 1', 'relu active', 'relu(z1) active', 'margin violated' or "
        "'max(a, b) = a'")


@dataclass(frozen=True)
class Range:
    """An interval of the real line: lo..hi, each end open or closed (±oo ends are open)."""

    lo: Any = -oo
    hi: Any = oo
    lo_open: bool = True
    hi_open: bool = True

    def meet(self, other: "Range") -> "Range":
        """The intersection."""
        lo, lo_open = max((self.lo, self.lo_open), (other.lo, other.lo_open), key=lambda e: (e[0], e[1]))
        hi, hi_open = min((self.hi, not self.hi_open), (other.hi, not other.hi_open), key=lambda e: (e[0], e[1]))
        return Range(lo, hi, lo_open, not hi_open)

    def empty(self) -> bool:
        """No real number lies in it."""
        return self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open))

    def affine(self, c: Any, k: Any) -> "Range":
        """{c·x + k : x in the range} for a number c ≠ 0."""
        a, b = c * self.lo + k, c * self.hi + k
        return Range(a, b, self.lo_open, self.hi_open) if c > 0 else Range(b, a, self.hi_open, self.lo_open)

    def holds(self, op: str) -> bool | None:
        """Whether every x in the range has x op 0 (True), none has (False), or it depends (None)."""
        if op in ("<", "<="):
            return Range(-self.hi, -self.lo, self.hi_open, self.lo_open).holds(">" if op == "<" else ">=")
        if op == ">":
            return True if self.lo > 0 or (self.lo == 0 and self.lo_open) else (False if self.hi <= 0 else None)
        if op == ">=":
            return True if self.lo >= 0 else (False if self.hi < 0 or (self.hi == 0 and self.hi_open) else None)
        inside = not self.meet(Range(S.Zero, S.Zero, False, False)).empty()
        exact = self.lo == self.hi == 0 and inside
        if op == "=":
            return True if exact else (False if not inside else None)
        return False if exact else (True if not inside else None)      # !=


def range_of(op: str) -> Range:
    """The values x with x op 0."""
    return {">": Range(S.Zero, oo, True, True), ">=": Range(S.Zero, oo, False, True),
            "<": Range(-oo, S.Zero, True, True), "<=": Range(-oo, S.Zero, True, False),
            "=": Range(S.Zero, S.Zero, False, False)}[op]


def normal(f: sympy.Expr) -> tuple[Any, Any, Any] | None:
    """f = c·g + k with g free of constants and with a positive leading sign: (g, c, k); None for a number."""
    k, rest = f.as_coeff_Add()
    if rest == 0 or rest.is_number:
        return None
    c, g = rest.as_content_primitive()
    if g.could_extract_minus_sign():
        c, g = -c, -g
    return g, c, k


@dataclass
class Assumptions:
    """The facts of a spec's assume:, and how they decide cases and simplify values."""

    graph: Any
    conventions: dict
    labels: list = field(default_factory=list)       # the assumptions as shown ("relu active (relu' = 1)")
    facts: dict = field(default_factory=dict)        # g -> (Range, labels)
    signs: dict = field(default_factory=dict)        # Symbol -> the same name with its assumed sign
    used: list = field(default_factory=list)         # labels that decided something in the last apply

    def __bool__(self) -> bool:
        return bool(self.labels)

    # ---- facts ---------------------------------------------------------------------------
    def leaves(self, e: Any) -> Any:
        """e in the leaves with the given numbers put in, expanded (the form facts are kept in); the relus, maxes
        and |·| in it that the facts decide are replaced by their branch (a = x + relu(w·x) is x + w·x)."""
        out = sympy.expand(type(self.graph).in_leaves(self.graph, e))
        if self.facts and out.has(*_DECIDED):
            out = sympy.expand(self.apply(out, signs=False))
        return out

    def add(self, f: Any, op: str, label: str, loc, shown: str) -> None:
        """The fact f op 0; a number that breaks it, or a fact that contradicts an earlier one, is a SolveError."""
        lf = self.leaves(f)
        if op in ("<", "<="):
            lf, op = -lf, (">" if op == "<" else ">=")
        if lf.is_number:
            s = fn.sign_of(lf)
            if s is None:
                raise SolveError(f"assume: '{label}': {shown} is {sympy.sstr(lf)}, not a real number", loc)
            if Range(S(s), S(s), False, False).holds(op) is not True:      # the settled sign, not sympy's compare
                raise SolveError(f"assume: '{label}' contradicts the given numbers ({shown} is "
                                 f"{sympy.sstr(self.leaves(f))} there); remove the assumption or change the "
                                 "numbers", loc)
            return
        g, c, k = normal(lf)
        r = range_of(op).affine(1 / c, -k / c)       # c·g + k op 0  ⇔  g ∈ (range - k)/c
        old, names = self.facts.get(g, (Range(), []))
        new = old.meet(r)
        if new.empty():
            raise SolveError(f"assume: '{label}' contradicts {', '.join(repr(n) for n in names)} "
                             f"({sympy.sstr(g)} cannot be in both); remove one of them", loc)
        self.facts[g] = (new, names + [label] if label not in names else names)
        if len(self.facts) > MAX_FACTS:
            raise SpecError(f"assume: more than {MAX_FACTS} facts; name the units (relu(z1) active)", loc)
        if isinstance(g, sympy.Symbol):
            self._sign(g, new)

    def _sign(self, s: sympy.Symbol, r: Range) -> None:
        """s carries its sign as a sympy assumption, so sqrt(s**2) is s and |s| is s for s > 0."""
        hints = {}
        if r.lo > 0 or (r.lo == 0 and r.lo_open):
            hints = {"positive": True}
        elif r.lo >= 0:
            hints = {"nonnegative": True}
        elif r.hi < 0 or (r.hi == 0 and r.hi_open):
            hints = {"negative": True}
        elif r.hi <= 0:
            hints = {"nonpositive": True}
        if hints:
            self.signs[s] = sympy.Symbol(s.name, real=True, **hints)

    # ---- deciding ------------------------------------------------------------------------
    def decide(self, cond: Any) -> bool | None:
        """Whether a case's condition holds under the assumptions (None: it depends)."""
        if cond is S.true or cond is True:
            return True
        if cond is S.false or cond is False:
            return False
        if isinstance(cond, (sympy.And, sympy.Or)):
            got = [self.decide(a) for a in cond.args]
            want = isinstance(cond, sympy.And)
            if any(g is (not want) for g in got):
                return not want
            return want if all(g is want for g in got) else None
        if isinstance(cond, sympy.Not):
            got = self.decide(cond.args[0])
            return None if got is None else not got
        if not isinstance(cond, sympy.core.relational.Relational) or sympy.count_ops(cond) > MAX_OPS:
            return None
        op = {"==": "=", "!=": "!="}.get(cond.rel_op, cond.rel_op)
        return self._sign_of(cond.lhs - cond.rhs, op)

    def _sign_of(self, d: Any, op: str) -> bool | None:
        """Whether d op 0 under the facts."""
        ld = self.leaves(d)
        if ld.is_number:
            s = fn.sign_of(ld)
            return None if s is None else Range(S(s), S(s), False, False).holds(op)
        n = normal(ld)
        if n is not None and n[0] in self.facts:
            g, c, k = n
            r, names = self.facts[g]
            got = r.affine(c, k).holds(op)
            if got is not None:
                self._use(names)
                return got
        return self._by_signs(ld, op)

    def _by_signs(self, ld: Any, op: str) -> bool | None:
        """d op 0 decided by sympy from the assumed signs of single symbols (x·y > 0 for x, y > 0)."""
        mine = [s for s in ld.free_symbols if s in self.signs]
        if not mine:
            return None
        rel = {">": sympy.Gt, ">=": sympy.Ge, "<": sympy.Lt, "<=": sympy.Le, "=": sympy.Eq, "!=": sympy.Ne}[op]
        got = rel(ld.xreplace(self.signs), 0)
        if got in (S.true, S.false):
            for s in mine:
                self._use(self.facts[s][1])
            return bool(got)
        return None

    def _use(self, names: list) -> None:
        for n in names:
            if n not in self.used:
                self.used.append(n)

    # ---- applying ------------------------------------------------------------------------
    def apply(self, e: Any, signs: bool = True) -> Any:
        """e with every case, kink, relu, max and |·| the assumptions decide replaced by its branch."""
        if isinstance(e, Tensor):
            return e.map(lambda x: self.apply(x, signs))
        if not isinstance(e, sympy.Basic) or e.is_Atom or not self.facts:
            return e
        out = e.replace(lambda x: isinstance(x, sympy.Function), self._function)
        if signs and self.signs and out.free_symbols & self.signs.keys():
            back = {v: k for k, v in self.signs.items()}
            simpler = out.xreplace(self.signs).xreplace(back)
            if simpler != out:
                self._use([n for s in out.free_symbols & self.signs.keys() for n in self.facts[s][1]])
                out = simpler
        return out

    def _function(self, f: Any) -> Any:
        """One function call with its branch decided, or f itself."""
        if isinstance(f, sympy.Piecewise):
            return self._piecewise(f)
        if isinstance(f, fn.Kink):
            cases = f.cases(self.conventions)
            done = self._piecewise(cases) if isinstance(cases, sympy.Piecewise) else cases
            return f if isinstance(done, sympy.Piecewise) else done
        if isinstance(f, (fn.relu, fn.lrelu, sympy.Abs)):
            x = f.args[0]
            low = S.Zero if isinstance(f, fn.relu) else (-x if isinstance(f, sympy.Abs) else f._slope() * x)
            if self._sign_of(x, ">=") is True:
                return x
            if self._sign_of(x, "<=") is True:
                return low
            return f
        if isinstance(f, sympy.sign):
            for op, v in ((">", S.One), ("<", -S.One), ("=", S.Zero)):
                if self._sign_of(f.args[0], op) is True:
                    return v
            return f
        if isinstance(f, fn._Extreme):
            for a in f.args:
                rel = ">=" if f.which == 1 else "<="
                if all(self._sign_of(a - b, rel) is True for b in f.args if b is not a):
                    return a
        return f

    def _piecewise(self, p: sympy.Piecewise) -> Any:
        """The cases the assumptions leave; their one branch when they decide which."""
        kept = []
        for expr, cond in p.args:
            got = self.decide(cond)
            if got is False:
                continue
            kept.append((expr, S.true if got else cond))
            if got:
                break
        if not kept:
            return p
        if kept[0][1] is S.true:
            return kept[0][0]
        return sympy.Piecewise(*kept)

    def apply_steps(self, steps: list) -> list:
        """The steps with their values decided, each changed step noting the assumptions it used."""
        out = []
        for s in steps:
            self.used = []
            sub = tuple(self.apply_steps(list(s.substeps))) if s.substeps else s.substeps
            self.used = []
            # the formula stays as written (the cases, max(0, ·)); the numbers put in and the value take the branch
            new = dataclasses.replace(s, substituted=self.apply(s.substituted, False), value=self.apply(s.value),
                                      quantities=tuple((n, self.apply(v)) for n, v in s.quantities), substeps=sub)
            if self.used and new != s:
                note = "assumed: " + "; ".join(self.used)
                new = dataclasses.replace(new, note="; ".join(x for x in (s.note, note) if x))
            out.append(new)
        self.used = []
        return out

    def in_leaves(self, e: Any) -> Any:
        """The graph's in_leaves with the assumed branches taken: what key checks and grading compare."""
        out = type(self.graph).in_leaves(self.graph, e)
        return self.apply(out) if self.facts and isinstance(out, sympy.Basic) else out

    def attach(self) -> "Assumptions":
        """Key checks and grading compare in the graph's leaves (compare.compare calls graph.in_leaves): with
        assumptions those leaves take the assumed branches, so h = x + relu(w·x) is x + w·x there too."""
        if self.facts:
            self.graph.in_leaves = self.in_leaves
        return self

    def note(self) -> str:
        """The line every solution with assume: shows."""
        return "assumed: " + "; ".join(self.labels)


# ---- reading assume: ---------------------------------------------------------------------
def from_spec(spec, graph, conventions: dict) -> Assumptions:
    """The spec's assume: as facts; SpecError for text it cannot read, SolveError for a contradiction."""
    out = Assumptions(graph, conventions)
    items = list(getattr(spec.model, "assume", None) or [])
    if len(items) > MAX_ASSUMPTIONS:
        raise SpecError(f"assume: has {len(items)} entries; at most {MAX_ASSUMPTIONS}", spec.loc("assume"))
    for i, text in enumerate(items):
        label = " ".join(str(text).split())
        path = ("assume", i)
        try:
            _read(out, spec, graph, str(text), label, path)
        except ExprError as e:
            raise SpecError(f"{e.message} (in assume: '{label}')", spec.loc_at(path, e.offset)) from None
    return out


def _read(out: Assumptions, spec, graph, text: str, label: str, path: tuple) -> None:
    """One assumption: a regime, a branch of max/min, or a chain of comparisons."""
    loc = spec.loc(*path)
    if m := _RELU.match(text):
        _relu(out, spec, graph, m, label, path)
    elif _HINGE.match(text):
        _hinge(out, graph, label, loc)
    elif m := _CHOICE.match(text):
        _choice(out, spec, graph, m, label, path)
    else:
        _compare(out, spec, graph, text, label, path)


def _parts(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each operand and operator of a chain like '0 < alpha <= 1'."""
    out, at = [], 0
    for m in _COMPARE.finditer(text):
        out += [(at, text[at:m.start()]), (m.start(), _OP.get(m.group(), m.group()))]
        at = m.end()
    return out + [(at, text[at:])]


def _compare(out: Assumptions, spec, graph, text: str, label: str, path: tuple) -> None:
    """A chain of comparisons: each neighbouring pair is a fact."""
    parts = _parts(text)
    if len(parts) < 3:
        raise SpecError(f"assume: cannot read '{label}'; {HINT}", spec.loc(*path))
    sides = []
    for k in range(0, len(parts), 2):
        at, side = parts[k]
        if not side.strip():
            raise SpecError(f"assume: '{label}' has a comparison with nothing on one side; {HINT}",
                            spec.loc_at(path, at))
        value = _scalar(parse(side, graph.names()), spec, path, at, label)
        sides.append((value, side.strip()))
    for k in range(1, len(parts), 2):
        (a, ta), (b, tb), op = sides[k // 2], sides[k // 2 + 1], parts[k][1]
        out.add(a - b, op, label, spec.loc(*path), f"{ta} − {tb}" if tb != "0" else ta)
    out.labels.append(label)


def _scalar(v: Any, spec, path: tuple, at: int, label: str) -> Any:
    if isinstance(v, Tensor):
        raise SpecError(f"assume: '{label}' compares a vector; compare its elements (x[0] > 0)", spec.loc_at(path, at))
    return v


def _units(graph, kinds: tuple) -> list:
    """Every call of these functions in the equations, in order, once each."""
    seen: dict = {}
    for node in graph.nodes.values():
        if node.kind == "node" and isinstance(node.expr, sympy.Basic):
            for f in sorted(node.expr.atoms(*kinds), key=sympy.default_sort_key):
                seen.setdefault(f, node)
    return list(seen)


def _relu(out: Assumptions, spec, graph, m, label: str, path: tuple) -> None:
    """relu active / relu(z1) active: the argument of every (or that) relu is > 0, so relu' = 1."""
    kind = fn.relu if m.group(1) == "relu" else fn.lrelu
    units = _units(graph, (kind,))
    if m.group(2) is not None:
        at = m.start(2)
        given = parse(m.group(2), graph.names())
        args = list(given.items) if isinstance(given, Tensor) else [given]
        known = {out.leaves(u.args[0]) for u in units}
        for a in args:
            if out.leaves(a) not in known:
                raise SpecError(f"assume: {m.group(1)}({sympy.sstr(a)}) does not occur in the equations; name the "
                                f"argument of a {m.group(1)} they use", spec.loc_at(path, at))
        shown = f"{m.group(1)}'({m.group(2).strip()}) = 1"
    else:
        if not units:
            raise SpecError(f"assume: '{label}' but the equations use no {m.group(1)}; remove it", spec.loc(*path))
        args = [u.args[0] for u in units]
        shown = f"{m.group(1)}' = 1"
    text = f"{label} ({shown})"
    for a in args:
        out.add(a, ">", text, spec.loc(*path), f"the {m.group(1)} argument {sympy.sstr(a)}")
    out.labels.append(text)


def _hinge(out: Assumptions, graph, label: str, loc) -> None:
    """hinge active / margin violated: every max(0, e) takes e, so e > 0."""
    hinges = [h for h in _units(graph, (fn.Max,)) if len(h.args) == 2 and S.Zero in h.args]
    if not hinges:
        raise SpecError(f"assume: '{label}' but the equations have no hinge max(0, …); write the loss with max",
                        loc)
    text = f"{label} (max(0, …) takes its non-zero branch)"
    for h in hinges:
        e = h.args[1] if h.args[0] == 0 else h.args[0]
        out.add(e, ">", text, loc, f"the hinge argument {sympy.sstr(e)}")
    out.labels.append(text)


def _choice(out: Assumptions, spec, graph, m, label: str, path: tuple) -> None:
    """max(a, b) = a: a beats every other argument (strictly, so no tie rule is needed)."""
    call = parse(m.group(1), graph.names(), evaluate=False)
    chosen = _scalar(parse(m.group(3), graph.names()), spec, path, m.start(3), label)
    args = list(call.args) if isinstance(call, fn._Extreme) else []
    if not any(out.leaves(a - chosen) == 0 for a in args):
        raise SpecError(f"assume: in '{label}' the right side is not one of the arguments of {m.group(2)}; "
                        f"write {m.group(2)}(a, b) = a", spec.loc_at(path, m.start(3)))
    for a in args:
        if out.leaves(a - chosen) != 0:
            f = chosen - a if m.group(2) == "max" else a - chosen
            out.add(f, ">", label, spec.loc(*path), f"{sympy.sstr(chosen)} − {sympy.sstr(a)}")
    out.labels.append(label)
