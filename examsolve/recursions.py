"""The derivations of the recursion family: each shows the general index k, then the numbers of one instance."""
from __future__ import annotations

from typing import Any

import sympy

from examsolve.errors import ExprError, SpecError, SolveError
from examsolve.expr import parse
from examsolve.steps import Answer, Step, Table
from examsolve.tensor import Tensor

k, t, i, j = sympy.symbols("k t i j", integer=True)


def _ix(name: str, at) -> sympy.Indexed:
    return sympy.IndexedBase(name)[at]


def _number(spec, raw: Any, field: str):
    """A number field of the spec, exact."""
    from examsolve.spec_graph import spec_expr

    value = spec_expr(spec, raw, (field,), {})
    if isinstance(value, Tensor) or not value.is_number:
        raise SpecError(f"{field} must be a number", spec.loc(field))
    return value


# ---- receptive field -------------------------------------------------------------------------------------------

def receptive_field(spec) -> tuple[list, list]:
    """R_k = R_{k−1} + (r_k − 1)·S_{k−1}, S_k = S_{k−1}·s_k, and R_k = 1 + Σ_i (r_i − 1)·Π_{j<i} s_j."""
    m = spec.model
    r = m.kernels
    s = m.strides or [1] * len(r)
    if not r or len(s) != len(r) or min(r + s) < 1:
        raise SpecError("give kernels: and strides: of the same length, every one ≥ 1", spec.loc("kernels"))
    R, S, rr, ss = (sympy.IndexedBase(n) for n in ("R", "S", "r", "s"))
    closed = 1 + sympy.Sum((rr[i] - 1) * sympy.Product(ss[j], (j, 1, i - 1)), (i, 1, k))
    general = [
        Step("start: one input position, jump 1", target=sympy.Symbol("R_0 = S_0"), value=sympy.Integer(1)),
        Step("layer k sees r_k positions of layer k−1, which lie S_{k−1} input positions apart",
             target=R[k], formula=R[k - 1] + (rr[k] - 1) * S[k - 1]),
        Step("the jump (input positions between neighbouring outputs) multiplies by the stride",
             target=S[k], formula=S[k - 1] * ss[k]),
        Step("unrolled: S_{i−1} = Π_{j<i} s_j, and R_k − R_0 is the sum of the increments (induction on k)",
             target=R[k], formula=closed)]
    rows, layer_steps, Rk, Sk = [], [], sympy.Integer(1), sympy.Integer(1)
    for n, (rk, sk) in enumerate(zip(r, s), 1):
        newR, newS = Rk + (rk - 1) * Sk, Sk * sk
        layer_steps.append(Step(f"layer {n}: r = {rk}, s = {sk}", substeps=(
            Step("", target=_ix("R", n), formula=R[k - 1] + (rr[k] - 1) * S[k - 1],
                 substituted=sympy.Add(Rk, sympy.Mul(rk - 1, Sk, evaluate=False), evaluate=False), value=newR,
                 quantities=((f"R[{n}]", newR),)),
            Step("", target=_ix("S", n), substituted=sympy.Mul(Sk, sk, evaluate=False), value=newS,
                 quantities=((f"S[{n}]", newS),)))))
        rows.append((n, rk, sk, newR, newS))
        Rk, Sk = newR, newS
    terms, prod = [], 1
    for rk, sk in zip(r, s):
        terms.append(sympy.Mul(rk - 1, prod, evaluate=False))
        prod *= sk
    total = 1 + sum((rk - 1) * p for rk, p in zip(r, _prefix_products(s)))
    if total != Rk:      # the closed form and the recursion must agree: a bug, not the user's error
        raise SolveError(f"internal: closed form {total} ≠ recursion {Rk}", spec.loc("kernels"))
    n = len(r)
    steps = [Step("The recursion over a general layer k", substeps=tuple(general)),
             Step(f"The recursion for the {n} layers", substeps=tuple(layer_steps),
                  table=Table(("k", "r_k", "s_k", "R_k", "S_k"), tuple(rows))),
             Step("The closed form with the numbers", target=_ix("R", n), formula=closed.subs(k, n),
                  substituted=sympy.Add(1, *terms, evaluate=False), value=total,
                  note="the same value as the recursion")]
    return steps, [Answer("receptive field", Rk, _ix("R", n)), Answer("jump", Sk, _ix("S", n))]


def _prefix_products(s: list) -> list:
    out, p = [], 1
    for x in s:
        out.append(p)
        p *= x
    return out


# ---- momentum elimination --------------------------------------------------------------------------------------

def momentum_elimination(spec) -> tuple[list, list]:
    """v_{t+1} = μ v_t − α g_t, x_{t+1} = x_t + v_{t+1}  ⇒  x_{t+1} = x_t − α g_t + μ(x_t − x_{t−1})."""
    m = spec.model
    alpha, mu = sympy.symbols("alpha mu")
    x, v, g = (sympy.IndexedBase(n) for n in ("x", "v", "g"))
    eliminated = x[t] - alpha * g[t] + mu * (x[t] - x[t - 1])
    derivation = [
        Step("velocity update", target=v[t + 1], formula=mu * v[t] - alpha * g[t]),
        Step("position update", target=x[t + 1], formula=x[t] + v[t + 1]),
        Step("the position update one step earlier, solved for the velocity", target=v[t],
             formula=x[t] - x[t - 1]),
        Step("put v_{t+1} into the position update, then v_t = x_t − x_{t−1}", target=x[t + 1],
             formula=x[t] + mu * v[t] - alpha * g[t], substituted=x[t] + mu * (x[t] - x[t - 1]) - alpha * g[t],
             value=eliminated, note="v_0 = 0 means x_{−1} = x_0 in the eliminated form"),
        Step("PyTorch's form v ← μv + g, x ← x − αv gives the same: α·v_t = x_{t−1} − x_t",
             target=x[t + 1], value=eliminated)]
    a, u, x0 = _number(spec, m.lr, "lr"), _number(spec, m.momentum, "momentum"), _number(spec, m.x0, "x0")
    X = sympy.Symbol("x")
    try:
        grad = parse(m.gradient, {"x": X})
    except ExprError as e:
        raise SpecError(f"{e.message}; write g_t as an expression in x", spec.loc_at(("gradient",), e.offset)) from None
    if isinstance(grad, Tensor):
        raise SpecError("gradient: is a scalar expression in x", spec.loc("gradient"))
    rows, xs, vel, prev, cur = [], [], sympy.Integer(0), x0, x0
    two = x0
    for n in range(m.steps):
        gx = grad.subs(X, two)
        vel = u * vel - a * gx
        two = two + vel                                        # the two-variable form
        g1 = grad.subs(X, cur)
        cur, prev = cur - a * g1 + u * (cur - prev), cur       # the eliminated form
        if sympy.simplify(two - cur) != 0:
            raise SolveError(f"internal: the two forms differ at t = {n + 1}", spec.loc("preset"))
        rows.append((n + 1, two, cur))
        xs.append((f"x[{n + 1}]", cur))
    check = Step(f"Check with α = {sympy.sstr(a)}, μ = {sympy.sstr(u)}, g = {m.gradient}, "
                 f"x_0 = {sympy.sstr(x0)}: both forms give the same iterates",
                 table=Table(("t", "x_t (with v)", "x_t (eliminated)"), tuple(rows)), quantities=tuple(xs))
    steps = [Step("Eliminate the velocity (general t)", substeps=tuple(derivation)), check]
    return steps, [Answer("x[t+1]", eliminated, x[t + 1]), Answer(f"x after {m.steps} steps", cur,
                                                                 _ix("x", m.steps))]


# ---- product of Jacobians --------------------------------------------------------------------------------------

def jacobian_product(spec) -> tuple[list, list]:
    """∂h_k/∂h_0 = Π diag(σ'(a_i)) W, and ‖∂h_k/∂h_0‖₂ ≤ (γ‖W‖₂)^k."""
    from examsolve.spec_graph import spec_expr

    m = spec.model
    if m.weight is None:
        raise SpecError("jacobian_product needs weight: (the matrix W)", spec.loc("preset"))
    W = spec_expr(spec, m.weight, ("weight",), {})
    if not isinstance(W, Tensor) or W.rank != 2 or W.shape[0] != W.shape[1] or not all(x.is_number for x in W.items):
        raise SpecError("weight: is a square matrix of numbers, e.g. [[1, 2], [0, 1]]", spec.loc("weight"))
    gamma = _number(spec, m.gamma, "gamma")
    M = sympy.Matrix(*W.shape, list(W.items))
    eig = list((M.T * M).eigenvals())
    top = max(eig, key=lambda e: sympy.N(e, 30))
    norm = sympy.sqrtdenest(sympy.sqrt(top))
    rate = gamma * norm
    K = m.depth
    bound = rate ** K
    Wn, gam = sympy.symbols("‖W‖ γ")
    general = [
        Step("one layer: h_k = σ(a_k), a_k = W·h_{k−1}, so ∂h_k/∂h_{k−1} = diag(σ'(a_k))·W"),
        Step("chain rule over k layers: ∂h_k/∂h_0 = diag(σ'(a_k))W ⋯ diag(σ'(a_1))W; backward, the gradient is "
             "∂L/∂h_0 = Wᵀdiag(σ'(a_1)) ⋯ Wᵀdiag(σ'(a_k))·∂L/∂h_k"),
        Step("‖AB‖ ≤ ‖A‖‖B‖ and ‖diag(σ'(a_i))‖ = max|σ'| ≤ γ", target=sympy.Symbol("bound on ‖∂h_k/∂h_0‖"),
             formula=(gam * Wn) ** k)]
    numbers = [
        Step("eigenvalues of WᵀW", target=sympy.Symbol("λ(WᵀW)"),
             value=Tensor((len(eig),), tuple(sorted(eig, key=lambda e: sympy.N(e, 30))))),
        Step("spectral norm ‖W‖₂ = √λmax(WᵀW)", target=Wn, value=norm),
        Step("per-layer factor γ‖W‖₂", target=sympy.Symbol("γ‖W‖"), substituted=sympy.Mul(gamma, norm, evaluate=False),
             value=rate),
        Step(f"bound after k = {K} layers", target=sympy.Symbol(f"(γ‖W‖)^{K}"), value=bound)]
    verdict = ("vanishing: γ‖W‖ < 1, the bound → 0 geometrically in k" if rate < 1 else
               "no vanishing guaranteed: γ‖W‖ ≥ 1, the bound grows with k, so gradients may explode (a bound, "
               "not a proof that they do)" if rate > 1 else "γ‖W‖ = 1: the bound stays 1")
    steps = [Step("The product of k Jacobians (general k)", substeps=tuple(general)),
             Step(f"With the numbers: γ = {gamma}, k = {K}", substeps=tuple(numbers), note=verdict)]
    return steps, [Answer("norm of W", norm, Wn), Answer("bound", bound, sympy.Symbol("‖∂h_k/∂h_0‖ ≤")),
                   Answer("vanishing", bool(rate < 1))]


PRESET_SOLVERS = {"receptive_field": receptive_field, "momentum_elimination": momentum_elimination,
                  "jacobian_product": jacobian_product}
