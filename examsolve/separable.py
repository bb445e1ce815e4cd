"""Weights of one threshold unit for a truth table, or the proof (a Farkas certificate) that none exist."""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import sympy

from examsolve.steps import Answer, Step, Table
from examsolve.tensor import Tensor

SEARCH_LIMIT = 200_000   # integer candidates tried before falling back to linear programming


def find_weights(X: list, T: list, pm: bool, strict: bool = True) -> tuple[list, list]:
    """Steps and answers: the inequalities, then a solution or the contradiction that rules one out."""
    on, off = (" > 0", " ≤ 0") if strict else (" ≥ 0", " < 0")
    d = len(X[0])
    w = sympy.symbols(f"w1:{d + 1}")
    b = sympy.Symbol("b")
    fires = [t == 1 for t in T]
    nets = [sympy.Add(*[wi * xi for wi, xi in zip(w, x)]) + b for x in X]
    out = "sign(w·x + b) = 1" if pm else "step(w·x + b) = 1"
    steps = [Step(f"the unit outputs 1 when w·x + b{on} ({out}); each row of the table gives one inequality",
                  table=Table(("x", "t", "inequality"),
                              tuple(("(" + ", ".join(map(sympy.sstr, x)) + ")", t,
                                     _text(n, w + (b,)) + (on if f else off)) for x, t, n, f in
                                    zip(X, T, nets, fires))))]
    how = "one solution (the smallest integer weights that satisfy every inequality, searched in order of size)"
    found = _small_integers(X, fires, strict)
    if found is None:
        how = ("one solution, by exact linear programming on w·x + b ≥ 1 (output 1) and ≤ 0 (output 0)"
               + ("" if strict else " shifted by −1 (≥ 0 and ≤ −1)") + ", "
               "which has a solution exactly when the strict system has, scaled to integers")
        found = _linear_program(X, fires, strict)
    if found is not None:
        ws, bias = found[:-1], found[-1]
        rows = tuple(("(" + ", ".join(map(sympy.sstr, x)) + ")", t, n.xreplace(dict(zip(w + (b,), found))),
                      (1 if f else (-1 if pm else 0))) for x, t, n, f in zip(X, T, nets, fires))
        n = len(X)
        steps.append(Step(how, note="any positive multiple works too",
                          table=Table(("x", "t", "w·x + b", "output"), rows),
                          quantities=(("net", Tensor((n,), tuple(r[2] for r in rows))),
                                      ("outputs", Tensor((n,), tuple(sympy.Integer(r[3]) for r in rows))))))
        return steps, [Answer("linearly separable", True), Answer("weights", Tensor((d,), tuple(ws))),
                       Answer("bias", bias)]
    lam = _certificate(X, fires)
    pos = [(c, x, n) for c, x, n, f in zip(lam, X, nets, fires) if f and c]
    neg = [(c, x, n) for c, x, n, f in zip(lam, X, nets, fires) if not f and c]
    left = sympy.expand(sum(c * n for c, _, n in pos))
    right = sympy.expand(sum(c * n for c, _, n in neg))
    point = [sum(c * x[j] for c, x, _ in pos) / sum(c for c, _, _ in pos) for j in range(d)]
    steps.append(Step("no solution: add up inequalities with positive multipliers",
                      substeps=(
                          Step(_combo(pos) + f": {_text(left, w + (b,))}{on} (a sum of terms{on})"),
                          Step(_combo(neg) + f": {_text(right, w + (b,))}{off} (a sum of terms{off})"),
                          Step(f"the same expression cannot be both{on} and{off}, so no weights exist"),
                          Step("geometrically: the inputs with output 1 and those with output 0 share the point ("
                               + ", ".join(map(sympy.sstr, point)) + ") of their convex hulls, so no line (hyperplane)"
                               " separates them"))))
    return steps, [Answer("linearly separable", False,
                          note="a single threshold unit cannot compute this table; it needs a hidden layer")]


def _text(e, unknowns: tuple) -> str:
    """A linear form as an answer sheet writes it, unknowns in order: w1 + w2 + 2·b."""
    out = ""
    for v in unknowns:
        c = e.coeff(v)
        if c == 0:
            continue
        mag = "" if abs(c) == 1 else sympy.sstr(abs(c)) + "·"
        out += (" − " if c < 0 else " + ") + mag + v.name if out else ("−" if c < 0 else "") + mag + v.name
    return out or "0"


def _combo(rows: list) -> str:
    parts = [(sympy.sstr(c) + "·" if c != 1 else "") + "[x = (" + ", ".join(map(sympy.sstr, x)) + ")]"
             for c, x, _ in rows]
    return " + ".join(parts)


def _small_integers(X: list, fires: list, strict: bool = True, max_k: int = 4) -> tuple | None:
    """The first integer (w, b) with max |entry| = 1, 2, 3, ... (up to max_k) that realises the table."""
    d = len(X[0])
    for K in range(1, max_k + 1):
        if (2 * K + 1) ** (d + 1) > SEARCH_LIMIT:
            return None
        # smallest total size first, then the order of itertools.product: deterministic
        cands = sorted((c for c in itertools.product(range(-K, K + 1), repeat=d + 1)
                        if max(map(abs, c)) == K), key=lambda c: (sum(map(abs, c)), [-v for v in c]))
        for c in cands:
            if all(_on(sum(wi * xi for wi, xi in zip(c, x)) + c[-1], strict) == f for x, f in zip(X, fires)):
                return tuple(sympy.Integer(v) for v in c)
    return None


def _linear_program(X: list, fires: list, strict: bool = True) -> tuple | None:
    """A rational solution of w·x + b ≥ 1 (output 1), ≤ 0 (output 0): the strict system up to scaling."""
    d, n = len(X[0]), len(X)
    # unknowns: w⁺, w⁻ (d + 1 each, bias last), then one slack per row
    rows, rhs = [], []
    for i, (x, f) in enumerate(zip(X, fires)):
        xt = [_frac(v) for v in x] + [Fraction(1)]
        slack = [Fraction(0)] * n
        slack[i] = Fraction(-1 if f else 1)
        rows.append(xt + [-v for v in xt] + slack)
        rhs.append(Fraction((1 if f else 0) - (0 if strict else 1)))
    y = feasible(rows, rhs)
    if y is None:
        return None
    vals = [y[k] - y[d + 1 + k] for k in range(d + 1)]
    scale = math.lcm(*[v.denominator for v in vals])
    return tuple(sympy.Integer(int(v * scale)) for v in vals)


def _certificate(X: list, fires: list) -> list:
    """Multipliers λ ≥ 0 with Σλ(x, 1) over output-1 rows = Σλ(x, 1) over output-0 rows, Σ = 1 on each side."""
    rows = [[Fraction(1 if f else 0) for f in fires], [Fraction(0 if f else 1) for f in fires]]
    rows += [[_frac(x[j]) if f else -_frac(x[j]) for x, f in zip(X, fires)] for j in range(len(X[0]))]
    lam = feasible(rows, [Fraction(1), Fraction(1)] + [Fraction(0)] * len(X[0]))
    assert lam is not None, "Farkas: the weights system is infeasible, so this one is feasible"
    scale = math.lcm(*[v.denominator for v in lam])
    return [sympy.Integer(int(v * scale)) for v in lam]


def _frac(v) -> Fraction:
    """An exact rational input as a Fraction (inputs were checked to be rational)."""
    p, q = sympy.fraction(sympy.Rational(v))
    return Fraction(int(p), int(q))


def feasible(A: list, c: list) -> list | None:
    """A y ≥ 0 with A·y = c, by phase one of the simplex method in exact fractions (Bland's rule), or None."""
    m, n = len(A), len(A[0])
    # flip rows so c ≥ 0, then add one artificial variable per row
    T = [[(-a if ci < 0 else a) for a in row] + [Fraction(int(i == k)) for k in range(m)] + [abs(ci)]
         for i, (row, ci) in enumerate(zip(A, c))]
    basis = list(range(n, n + m))
    cost = [Fraction(0)] * n + [Fraction(1)] * m + [Fraction(0)]
    while True:
        # reduced costs of the phase-one objective Σ artificials
        red = [cost[j] - sum(cost[basis[i]] * T[i][j] for i in range(m)) for j in range(n + m)]
        enter = next((j for j in range(n + m) if red[j] < 0), None)
        if enter is None:
            break
        ratios = [(T[i][-1] / T[i][enter], basis[i], i) for i in range(m) if T[i][enter] > 0]
        _, _, r = min(ratios)
        piv = T[r][enter]
        T[r] = [v / piv for v in T[r]]
        for i in range(m):
            if i != r and T[i][enter] != 0:
                f = T[i][enter]
                T[i] = [a - f * b for a, b in zip(T[i], T[r])]
        basis[r] = enter
    y = [Fraction(0)] * (n + m)
    for i, j in enumerate(basis):
        y[j] = T[i][-1]
    if any(y[n:]):
        return None
    return y[:n]


VALUES_LIMIT = 1_000_000   # combinations of given weight values tried at most


def _on(net, strict: bool) -> bool:
    """Whether a unit fires: net > 0, or net ≥ 0."""
    return net > 0 if strict else net >= 0


def search_values(X: list, T: list, pm: bool, wv: list, bv: list, strict: bool, loc=None) -> tuple[list, list]:
    """Steps and answers: every (w, b) with weights in wv and bias in bv tried on every row, in the order given."""
    from examsolve.errors import SpecError

    wv, bv = list(dict.fromkeys(wv)), list(dict.fromkeys(bv))     # repeated values would count twice
    d = len(X[0])
    total = len(wv) ** d * len(bv)
    if total > VALUES_LIMIT:
        raise SpecError(f"weight_values: {len(wv)}^{d}·{len(bv)} = {total} combinations, more than "
                        f"{VALUES_LIMIT}; give fewer values (or fewer inputs)", loc)
    if not all(v.is_Rational for v in wv + bv):
        raise SpecError("weight_values, bias_values: exact rationals only, e.g. [-1, 0, 1/2]", loc)
    # integers throughout: net·Lw·Lx keeps its sign, and int arithmetic keeps a million tries fast
    lw = math.lcm(*[_frac(v).denominator for v in wv + bv])
    lx = math.lcm(*[_frac(v).denominator for r in X for v in r])
    wi = [int(_frac(v) * lw) for v in wv]
    bi = [int(_frac(v) * lw * lx) for v in bv]
    xi = [[int(_frac(v) * lx) for v in r] for r in X]
    fires = [t == 1 for t in T]
    found = []
    for ws in itertools.product(range(len(wv)), repeat=d):
        for bk in range(len(bv)):
            if all(_on(sum(wi[k] * x for k, x in zip(ws, r)) + bi[bk], strict) == f for r, f in zip(xi, fires)):
                found.append((ws, bk))
    shown = tuple(("(" + ", ".join(sympy.sstr(wv[k]) for k in ws) + ")", bv[bk]) for ws, bk in found[:10])
    rel = ">" if strict else "≥"
    steps = [Step(f"every combination of weights in {{{', '.join(map(sympy.sstr, wv))}}} and bias in "
                  f"{{{', '.join(map(sympy.sstr, bv))}}}: {total} tried on every row (the unit fires when "
                  f"w·x + b {rel} 0); {len(found)} realise{'s' if len(found) == 1 else ''} the table"
                  + (" (the first 10 shown)" if len(found) > 10 else ""),
                  table=Table(("w", "b"), shown) if shown else None)]
    answers = [Answer("solutions", sympy.Integer(len(found)))]
    if found:
        ws, bk = found[0]
        answers += [Answer("weights", Tensor((d,), tuple(wv[k] for k in ws)), note="the first in the order given"),
                    Answer("bias", bv[bk])]
    else:
        answers.append(Answer("weights", "none: no combination of the given values realises the table"))
    return steps, answers
