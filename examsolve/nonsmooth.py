"""Non-smooth and global analysis: minimisers of one-variable functions with |·|, relu, max and min kinks by the
subgradient condition 0 ∈ ∂f (soft-threshold closed form), and directions along which a polynomial is unbounded."""
from __future__ import annotations

import dataclasses
import functools
import re

import itertools
from typing import Any

import sympy

from examsolve import functions as fn
from examsolve.errors import SolveError
from examsolve.names import text_name
from examsolve.steps import Step
from examsolve.typed import Classification, CriticalPoint

KINKS = (sympy.Abs, fn.relu, fn.lrelu, fn.Max, fn.Min)


def _argument(atom) -> Any:
    """The expression whose sign picks the branch of a kink: u of |u|, relu(u), lrelu(u); p − q of max(p, q)."""
    if isinstance(atom, (fn.Max, fn.Min)):
        if len(atom.args) != 2:
            return None
        return atom.args[0] - atom.args[1]
    return atom.args[0]


def _branch(atom, s: int) -> Any:
    """The smooth expression a kink equals where the sign of its argument is s (+1 or −1)."""
    if isinstance(atom, sympy.Abs):
        return s * atom.args[0]
    if isinstance(atom, fn.relu):
        return atom.args[0] if s > 0 else sympy.Integer(0)
    if isinstance(atom, fn.lrelu):
        slope = atom.args[1] if len(atom.args) > 1 else sympy.Rational(1, 100)
        return atom.args[0] if s > 0 else slope * atom.args[0]
    first, second = atom.args
    return first if (s > 0) == isinstance(atom, fn.Max) else second


def _sign(x) -> int | None:
    """-1, 0 or 1 when the sign of x is known: a number's settled by its value, an expression's by the
    symbols' assumptions; None otherwise."""
    if x.is_number:
        return fn.sign_of(x)
    return 1 if x.is_positive else -1 if x.is_negative else 0 if x.is_zero else None


def _by_value(items, key=lambda x: x) -> list:
    """items in increasing order of key(item), a number (by the sign of each difference: two points that agree
    to 30 digits keep their order); an order the numbers do not settle is left as it is."""
    return sorted(items, key=functools.cmp_to_key(lambda a, b: fn.sign_of(key(a) - key(b)) or 0))


def kinks(f, v) -> list:
    """The kinks of f that depend on v, in a fixed order."""
    return sorted((a for a in f.atoms(*KINKS) if a.has(v)), key=sympy.default_sort_key)


def _linear(atoms: list, v, loc) -> list[tuple]:
    """(atom, slope, breakpoint) for each kink; None when an argument is not linear in v (not handled here)."""
    out = []
    for a in atoms:
        u = _argument(a)
        if u is None or any(b.has(v) for b in a.atoms(*KINKS) if b != a):
            return None
        p = sympy.diff(u, v)
        if p.has(v) or p == 0:
            return None
        if _sign(p) is None:
            raise SolveError(f"the kink of {sympy.sstr(a)} flips with the sign of {sympy.sstr(p)}, which is not "
                             "known; give it a number", loc)
        out.append((a, p, sympy.simplify(-u.subs(v, 0) / p)))
    return out


def _breakpoints(lin: list, loc) -> list:
    """The distinct points where f has a kink, in increasing order."""
    pts = list(dict.fromkeys(b for _, _, b in lin))
    if len(pts) > 1 and not all(b.is_number for b in pts):
        raise SolveError("f has kinks at several points given by symbols (" + ", ".join(sympy.sstr(b) for b in pts)
                         + "), whose order is not known; give them as numbers", loc)
    return _by_value(pts) if len(pts) > 1 else pts


def _piece(f, lin: list, pts: list, i: int) -> Any:
    """f on the i-th open interval between the breakpoints: every kink replaced by its branch there."""
    rep = {}
    for atom, p, b in lin:
        right = pts.index(b) < i              # v > b on this interval
        rep[atom] = _branch(atom, (1 if right else -1) * (1 if _sign(p) > 0 else -1))
    return f.xreplace(rep)


def _decide(cond) -> Any:
    """sympy.true, sympy.false or the condition itself when the symbols do not decide it."""
    try:
        return sympy.simplify(cond)
    except (TypeError, ValueError):
        return cond


def _interval_text(v, lo, hi) -> str:
    x = text_name(v.name)
    if lo is not None and hi is not None:
        return f"{sympy.sstr(lo)} < {x} < {sympy.sstr(hi)}"
    return f"{x} > {sympy.sstr(lo)}" if lo is not None else f"{x} < {sympy.sstr(hi)}"


def _roots(g1, v, loc) -> list:
    """The real solutions of g1 = 0 for the smooth branch's derivative g1."""
    try:
        poly = sympy.Poly(g1, v)
    except sympy.PolynomialError:
        poly = None
    if poly is not None and all(c.is_number for c in poly.coeffs()):
        return list(sympy.real_roots(poly))       # every real root, exact
    try:
        sols = sympy.solve(g1, v)
    except (NotImplementedError, TypeError, ValueError):
        sols = None
    if sols is None or (not sols and poly is None):   # an empty answer from solve is no proof for a non-polynomial
        raise SolveError(f"f' = {sympy.sstr(g1)} = 0 has no closed-form solution sympy can find; simplify f", loc)
    return [s for s in sols if s.is_real is not False]


class Analysis:
    """The subgradient analysis of one function of one variable with linear kinks."""

    def __init__(self, f, v, lin: list, loc):
        self.f, self.v, self.loc = f, v, loc
        self.pts = _breakpoints(lin, loc)
        self.pieces = [_piece(f, lin, self.pts, i) for i in range(len(self.pts) + 1)]
        self.steps: list[Step] = []
        self.cases: list[tuple] = []        # (point, condition, kind of point: 'smooth' or 'kink', local class)
        self.convex: list = []              # conditions that make f convex
        self.flat: list = []                # intervals where f is constant

    def run(self) -> None:
        for i, g in enumerate(self.pieces):
            self._smooth(i, g)
        for j, b in enumerate(self.pts):
            self._kink(j, b)

    def _ends(self, i: int) -> tuple:
        return (self.pts[i - 1] if i > 0 else None), (self.pts[i] if i < len(self.pts) else None)

    def _smooth(self, i: int, g) -> None:
        """Stationary points of the smooth branch g on its interval."""
        v, (lo, hi) = self.v, self._ends(i)
        where = _interval_text(v, lo, hi)
        g1, g2 = sympy.expand(sympy.diff(g, v)), sympy.expand(sympy.diff(g, v, 2))
        self.convex.append(_nonnegative(g2, v, lo, hi))
        sub = [Step("f on this branch (each kink replaced by its side)", target=sympy.Symbol(f"f_{i + 1}"), value=g),
               Step("its derivative, which must be 0 (f is differentiable here)", target=sympy.Symbol(f"f'_{i + 1}"),
                    value=g1)]
        if g1 == 0:
            self.flat.append((lo, hi))
            sub.append(Step(f"f is constant for {where}: every point there has f' = 0"))
        for r in ([] if g1 == 0 else _roots(g1, v, self.loc)):
            cond = _decide(sympy.And(*([r > lo] if lo is not None else []), *([r < hi] if hi is not None else [])))
            verdict = "inside" if cond == sympy.true else "outside" if cond == sympy.false else \
                f"inside when {sympy.sstr(cond)}"
            sub.append(Step(f"f' = 0 at {text_name(v.name)} = {sympy.sstr(r)}: {verdict} ({where})",
                            target=sympy.Symbol(f"{v.name}_{i + 1}"), value=r))
            if cond != sympy.false:
                self.cases.append((r, cond, "smooth", _second(g2.subs(v, r))))
        self.steps.append(Step(f"Branch {i + 1}: {where}", substeps=tuple(sub)))

    def _kink(self, j: int, b) -> None:
        """0 ∈ ∂f(b) = [f'(b−), f'(b+)]: the one-sided derivatives from the two branches."""
        v = self.v
        left = sympy.simplify(sympy.diff(self.pieces[j], v).subs(v, b))
        right = sympy.simplify(sympy.diff(self.pieces[j + 1], v).subs(v, b))
        self.convex.append(_decide(left <= right))
        inside = _decide(sympy.And(left <= 0, right >= 0))
        peak = _decide(sympy.And(left > 0, right <= 0) | sympy.And(left >= 0, right < 0))
        interval = sympy.Interval(left, right) if (left <= right) == sympy.true else None
        name = f"∂f({sympy.sstr(b)})"
        self.steps.append(Step(f"At the kink {text_name(v.name)} = {sympy.sstr(b)}: f is not differentiable; "
                               f"∂f = [f'({sympy.sstr(b)}−), f'({sympy.sstr(b)}+)]", substeps=(
            Step("left derivative (branch on the left)", target=sympy.Symbol(f"f'({sympy.sstr(b)}−)"), value=left),
            Step("right derivative (branch on the right)", target=sympy.Symbol(f"f'({sympy.sstr(b)}+)"), value=right),
            *([Step("subdifferential", target=sympy.Symbol(name), value=interval)] if interval is not None else []),
            Step("0 ∈ ∂f: " + ("yes" if inside == sympy.true else "no" if inside == sympy.false
                               else f"when {sympy.sstr(inside)}"))),
            note="0 ∈ ∂f is the condition for a minimum of a convex function where f' is not defined"))
        if inside != sympy.false:
            self.cases.append((b, inside, "kink", self._kink_class(j, b, left, right)))
        elif peak == sympy.true:      # 0 ∈ [f'(b+), f'(b−)]: stationary in Clarke's sense, f' jumps down
            self.cases.append((b, peak, "kink", self._kink_class(j, b, left, right)))

    def _kink_class(self, j: int, b, left, right) -> str:
        """The local class at a kink from the signs of f' just left and right of it (by f'' where f' is 0)."""
        v = self.v
        if left == 0:
            left = -sympy.diff(self.pieces[j], v, 2).subs(v, b)
        if right == 0:
            right = sympy.diff(self.pieces[j + 1], v, 2).subs(v, b)
        return _kink_class(left, right)

    def is_convex(self) -> Any:
        """True, False, or the conditions on the symbols under which f is convex."""
        return _decide(sympy.And(*self.convex))


def _nonnegative(g2, v, lo, hi) -> Any:
    """Whether the second derivative g2 is ≥ 0 on (lo, hi): true/false, or a condition on the symbols."""
    if not g2.has(v):
        return _decide(g2 >= 0)
    span = sympy.Interval(lo if lo is not None else -sympy.oo, hi if hi is not None else sympy.oo, True, True)
    try:
        neg = sympy.solveset(g2 < 0, v, span)
    except (NotImplementedError, TypeError, ValueError):
        return sympy.false
    return sympy.true if neg == sympy.EmptySet else sympy.false


def _kink_class(left, right) -> str:
    """The local class at a kink from the signs of the one-sided derivatives."""
    signs = (_sign(left), _sign(right))
    if signs == (-1, 1):
        return "local_minimum"
    if signs == (1, -1):
        return "local_maximum"
    return "degenerate" if left.is_number and right.is_number else "cannot_classify"


def _second(x) -> str:
    """The local class from f'' at a stationary point."""
    s = _sign(x)
    if s == 1:
        return "local_minimum"
    if s == -1:
        return "local_maximum"
    return "degenerate" if s == 0 else "cannot_classify"


REASONS = {"local_minimum": "f' changes sign from − to +", "local_maximum": "f' changes sign from + to −",
           "degenerate": "f'' = 0 or a one-sided derivative is 0", "cannot_classify": "depends on the symbols"}


def critical_points(f, wrt: list, loc, name: str = "f") -> tuple[list[Step], list[CriticalPoint], str] | None:
    """Subgradient analysis of f(v) with kinks linear in v: (steps, points, note); None when not such an f.

    The steps call the function `name` (g, h ...)."""
    done = _critical_points(f, wrt, loc)
    if done is None or name == "f":
        return done
    steps, points, why = done
    return [_renamed(s, name) for s in steps], points, _F.sub(name, why)


# "f" as the function's name in a text: f, f', f'', ∂f, f(0−), f is ... (not the f of "of" or "f_1")
_F = re.compile(r"(?<![\w])f(?![\w])")


def _renamed(step: Step, name: str) -> Step:
    """The step with the function called `name` instead of f, in titles, notes and targets."""
    target = step.target
    if isinstance(target, sympy.Symbol) and re.match(r"∂?f(?:$|['_(])", target.name):
        target = sympy.Symbol(re.sub(r"^(∂?)f", lambda m: m.group(1) + name, target.name))
    return dataclasses.replace(step, title=_F.sub(name, step.title), note=_F.sub(name, step.note), target=target,
                               substeps=tuple(_renamed(s, name) for s in step.substeps))


def _critical_points(f, wrt: list, loc) -> tuple[list[Step], list[CriticalPoint], str] | None:
    if len(wrt) != 1:
        return None
    v = wrt[0]
    atoms = kinks(f, v)
    lin = _linear(atoms, v, loc) if atoms else None
    if not lin:
        return None
    a = Analysis(f, v, lin, loc)
    a.run()
    convex = a.is_convex()
    steps = [Step(f"f is not differentiable where a kink's argument is 0: {text_name(v.name)} = "
                  + ", ".join(sympy.sstr(b) for b in a.pts) + "; on each side it is smooth",
                  substeps=tuple(a.steps))]
    closed = soft_threshold(f, v)
    if closed is not None:
        steps.append(closed)
    if convex == sympy.false:
        points = _local_points(a)
        why = "f is not convex: the points are local"
    else:
        points, why = _convex_points(a, convex)
    steps.append(Step("convexity: " + ("f is convex (each branch has f'' ≥ 0 and f' jumps up at every kink)"
                                       if convex == sympy.true else "f is not convex" if convex == sympy.false
                                       else f"f is convex when {sympy.sstr(convex)}")))
    return steps, points, why


def _local_points(a: Analysis) -> list[CriticalPoint]:
    """The candidates of a non-convex f, each classified by the sign change of f'."""
    out = []
    for r, cond, where, kind in _by_value(a.cases, key=lambda c: c[0]):
        reason = REASONS[kind] + (" across the kink" if where == "kink" else "")
        out.append(CriticalPoint(((a.v.name, r),), Classification(kind, reason)))
    return out


def _convex_points(a: Analysis, convex) -> tuple[list[CriticalPoint], str]:
    """The minimisers of a convex f: one point, a Piecewise over the symbols' cases, or an interval's ends."""
    cond_text = "" if convex == sympy.true else f" if {sympy.sstr(convex)}"
    kind = Classification("global_minimum", "convex" + cond_text + "; 0 ∈ ∂f")
    sure = [c for c in a.cases if c[1] == sympy.true]
    if a.flat:
        lo, hi = a.flat[0]
        return ([CriticalPoint(((a.v.name, x),), kind) for x in (lo, hi) if x is not None],
                f"f is constant between them: every {a.v.name} in [{sympy.sstr(lo)}, {sympy.sstr(hi)}] is a minimiser")
    if sure or not a.cases:
        pts = _by_value(dict.fromkeys(c[0] for c in sure))
        return [CriticalPoint(((a.v.name, x),), kind) for x in pts], ("" if pts else "f has no minimiser")
    pw = sympy.Piecewise(*[(r, cond) for r, cond, _, _ in a.cases])
    return [CriticalPoint(((a.v.name, pw),), kind)], "by cases on the symbols"


def soft_threshold(f, v) -> Step | None:
    """For f = a(v − c)² + λ|v| + const: the closed form v* = sign(c)·max(|c| − λ/(2a), 0), as a step."""
    atoms = kinks(f, v)
    if len(atoms) != 1 or not isinstance(atoms[0], sympy.Abs):
        return None
    k = sympy.diff(atoms[0].args[0], v)
    if k.has(v) or atoms[0].args[0] != k * v or not k.is_number:
        return None
    d = sympy.Dummy("d")
    g = f.xreplace({atoms[0]: d})
    lam, smooth = sympy.diff(g, d) * abs(k), g.subs(d, 0)
    if lam.has(v) or lam.has(d) or sympy.diff(g, d, 2) != 0:
        return None
    try:
        poly = sympy.Poly(sympy.expand(smooth), v)
    except sympy.PolynomialError:
        return None
    if poly.degree() != 2 or any(c.has(v) for c in poly.all_coeffs()):
        return None
    a2, b1, _ = poly.all_coeffs()
    c = sympy.simplify(-b1 / (2 * a2))
    A, C, L = sympy.symbols("a c λ")
    general = sympy.Mul(sympy.sign(C), fn.Max(sympy.Abs(C) - L / (2 * A), 0), evaluate=False)
    put = sympy.Mul(sympy.sign(c, evaluate=False), fn.Max(sympy.Add(sympy.Abs(c, evaluate=False), sympy.Mul(
        -1, lam, sympy.Pow(sympy.Mul(2, a2, evaluate=False), -1, evaluate=False), evaluate=False), evaluate=False),
        0, evaluate=False), evaluate=False)
    value = sympy.sign(c) * fn.Max(sympy.Abs(c) - lam / (2 * a2), 0)
    return Step(f"soft-threshold: f = a({text_name(v.name)} − c)² + λ|{text_name(v.name)}| + const with a = {sympy.sstr(a2)}, "
                f"c = {sympy.sstr(c)}, λ = {sympy.sstr(lam)}", target=sympy.Symbol(text_name(v.name) + "*"), formula=general,
                substituted=put, value=value,
                note=f"the two branches {text_name(v.name)} > 0 and {text_name(v.name)} < 0 and the kink at 0 combined "
                     "(valid for a > 0, λ ≥ 0)")


# ---- unbounded polynomials --------------------------------------------------------------------------------------

def _directions(f, wrt: list) -> list[tuple]:
    """Candidate directions: the eigenvectors of the quadratic part's Hessian, then small integer vectors."""
    n = len(wrt)
    out: list[tuple] = []
    H = sympy.hessian(f, wrt).subs({v: 0 for v in wrt})
    if all(x.is_number for x in H):
        for _, _, vecs in H.eigenvects():
            for vec in vecs:
                if all(x.is_rational for x in vec):
                    scale = sympy.ilcm(1, 1, *[sympy.fraction(x)[1] for x in vec])
                    out += [tuple(x * scale for x in vec), tuple(-x * scale for x in vec)]
    small = itertools.product((0, 1, -1), repeat=n) if n <= 3 else \
        [tuple(s if j == i else 0 for j in range(n)) for i in range(n) for s in (1, -1)]
    out += [tuple(sympy.Integer(x) for x in d) for d in small if any(d)]
    return sorted(dict.fromkeys(out), key=lambda d: (sum(abs(x) for x in d), [-x for x in d]))


def unbounded(f, wrt: list) -> dict | None:
    """For a polynomial f with numeric coefficients: {'below': (direction, f(t·d)), 'above': ...}, None if not one."""
    try:
        poly = sympy.Poly(sympy.expand(f), *wrt)
    except sympy.PolynomialError:
        return None
    if not all(c.is_number and c.is_real for c in poly.coeffs()) or poly.total_degree() < 1:
        return None
    t = sympy.Symbol("t", positive=True)
    found: dict = {}
    for d in _directions(f, wrt):
        along = sympy.expand(f.xreplace({v: t * x for v, x in zip(wrt, d)}))
        p = sympy.Poly(along, t)
        if p.degree() < 1:
            continue
        side = "below" if p.LC() < 0 else "above"
        found.setdefault(side, (d, along))
        if len(found) == 2:
            break
    return found


def unbounded_steps(of_name: str, wrt: list, found: dict) -> tuple[Step, list[tuple[str, Classification]]]:
    """The step showing f(t·d) for each unbounded side, and the 'global minimum/maximum' answers."""
    subs, answers = [], []
    for side, word, limit in (("below", "minimum", "−∞"), ("above", "maximum", "+∞")):
        if side not in found:
            continue
        d, along = found[side]
        where = "(" + ", ".join(sympy.sstr(x) for x in d) + ")"
        reason = f"{of_name} → {limit} along {where}, so no global {word}"
        subs.append(Step(f"along d = {where}: {of_name}(t·d) → {limit} as t → ∞ (the leading power of t decides)",
                         target=sympy.Symbol(f"{of_name}(t·{where})"), value=along))
        answers.append((f"global {word} of {of_name}", Classification(f"unbounded_{side}", reason)))
    names = ", ".join(v.name for v in wrt)
    step = Step(f"Global extrema: {of_name}({names}) is a polynomial; along a line t·d its leading term decides",
                substeps=tuple(subs))
    return step, answers
