"""lr: which learning rates make gradient descent converge, oscillate or diverge on a quadratic."""
import functools

from examsolve.registry import family


@functools.cache
def _model():
    from typing import ClassVar

    from pydantic import Field

    from examsolve.spec import BaseSpec

    class LrSpec(BaseSpec):
        """Gradient descent w ← w − α·∇f(w) on a loss f of the parameters."""

        name_fields: ClassVar = (("params", "*"), ("lr",))   # symbol names: checked by spec.check_names
        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        loss: str = Field(description="the loss in the parameters, e.g. 3*w**2 - 1")
        params: list[str] = Field(description="the parameters, e.g. [w] or [w1, w2]")
        lr: str = Field("alpha", description="the name of the learning rate in ρ(…) and the answers (eta gives "
                        "eta*, rate at eta*; alpha* still works as a key name)")

    return LrSpec


@family("lr", summary="learning-rate analysis of gradient descent on a quadratic: factors ρᵢ(α) = 1 − αλᵢ named by "
        "parameter (by eigenvector when H is not diagonal), the sets of α that converge, oscillate and diverge, the "
        "boundary ρ_max = ±1 and the sign-alternating range, the best α* and its rate",
        examples=("sgd_convergence_2d.yaml", "sgd_quadratic.yaml", "abs_loss.yaml"), model=_model,
        uses=("given", "symbols"))
def _solve(spec):
    """Hessian eigenvalues give one factor per direction; the sets follow from |ρᵢ(α)| against 1."""
    import sympy

    from examsolve import engine
    from examsolve.finish import finish
    from examsolve.values import PRECISION, numeric

    from examsolve.errors import SolveError
    from examsolve.expr import symbol
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor

    m = spec.model
    given = {}
    for name, raw in m.given.items():
        given[name] = spec_expr(spec, raw, ("given", name), dict(given))
    params = [symbol(p) for p in m.params]
    names = dict(given)
    names.update({p.name: p for p in params})
    for s in m.symbols:
        names[s] = symbol(s)
    f = spec_expr(spec, m.loss, ("loss",), names)
    if not isinstance(f, sympy.Basic):
        raise SolveError("the loss must be a scalar", spec.loc("loss"))
    alpha = symbol(m.lr)
    steps, answers = [Step("Loss", target=sympy.Symbol("f"), value=f)], []
    if f.has(sympy.Abs) or any(type(a).__name__ in ("relu", "Max", "Min", "sign") for a in sympy.preorder_traversal(f)):
        grad = [sympy.diff(f, p) for p in params]
        text = ("f is not differentiable everywhere (a kink at the minimum), so there is no Hessian and no "
                "factor ρ(α): ∂f/∂w = sign(w) has magnitude 1 however close w is to 0, so every fixed step "
                "α overshoots the minimum by up to α and gradient descent keeps oscillating around it; it "
                "lands on it only when w⁰ is a whole multiple of α. Remedy: a diminishing step α_k → 0 with "
                "Σ α_k = ∞ (e.g. α_k = α₀/k, as for subgradient methods), or a smooth surrogate such as the Huber loss")
        steps.append(Step("Gradient", target=sympy.Symbol("∇f"), value=_vec(grad)))
        steps.append(Step(text))
        answers.append(Answer("convergence sets", "none: the loss has a kink (no constant Hessian)", None,
                              note=text))
        return finish(spec, steps, answers)
    grad = [sympy.diff(f, p) for p in params]
    H = sympy.Matrix([[sympy.diff(g, q) for q in params] for g in grad])
    if H.free_symbols & set(params):
        raise SolveError("the loss is not quadratic (its Hessian depends on the parameters); the analysis "
                         "needs a constant Hessian", spec.loc("loss"))
    if not all(h.is_number for h in H):
        raise SolveError("the Hessian depends on symbols (" + ", ".join(sorted(str(x) for x in H.free_symbols))
                         + "); the sets of learning rates need numbers: give them under given:", spec.loc("loss"))
    steps.append(Step("Gradient", target=sympy.Symbol("∇f"), value=_vec(grad)))
    steps.append(Step("Hessian H (constant: the loss is quadratic)", target=sympy.Symbol("H"), value=_mat(H)))
    dirs, lam, note = _directions(H, params, steps)
    eig = sorted(lam, key=lambda v: numeric(v, PRECISION))
    steps.append(Step("eigenvalues of H, increasing", target=sympy.Symbol("λ"), value=_vec(eig),
                      quantities=(("eigenvalues", Tensor((len(eig),), tuple(eig))),), note=note))
    # the signs from det(λI − H) exactly: a hidden 0 (sqrt(3 + 2√2) − 1 − √2) or a tiny negative is no positive λ
    _, negative, zeros = engine.inertia(H)
    if negative or zeros:
        raise SolveError(_no_minimum(H, grad, params, eig, negative, zeros), spec.loc("loss"))
    answers += _factors(alpha, dirs, lam, eig, steps)
    answers += _sets(alpha, eig, steps)
    answers += _best(alpha, dirs, lam, eig, steps)
    return finish(spec, steps, answers)


def _directions(H, params: list, steps: list) -> tuple[list[str], list, str]:
    """The directions GD moves independently in, by name, and the curvature λ along each.

    A diagonal H: the parameters themselves (ρ of w1 belongs to w1). Otherwise the eigenvectors v1, v2, …
    of H in increasing order of their eigenvalues, each shown (with a step saying so).
    """
    import sympy

    from examsolve import engine
    from examsolve.steps import Step
    from examsolve.tensor import Tensor

    if H.is_diagonal():
        lam = engine.canonical([H[i, i] for i in range(H.rows)])
        names = [p.name for p in params]
        steps.append(Step("H is diagonal: GD moves each parameter independently, with curvature λ = H[i][i]; "
                          "direction i is parameter " + ", ".join(names), target=sympy.Symbol("λ"), value=_vec(lam),
                          quantities=tuple((f"lambda.{n}", v) for n, v in zip(names, lam))))
        return names, lam, ""
    eig, note = engine.eigenvalues(H)
    vecs = None if note or any(v.has(sympy.CRootOf) for v in eig) else _exact_vectors(H, eig)
    how = ""
    if vecs is None:        # no exact eigenvalues, or vectors in CRootOf that nobody reads: 30-digit unit vectors
        vecs = engine.numeric_eigenvectors(H)
        how = f"the eigenvectors are numeric unit vectors ({engine.PRECISION} digits)"
    pairs = list(zip(eig, vecs))
    names = [f"v{k}" for k in range(1, len(pairs) + 1)]
    sub = tuple(Step(f"eigenvector {n} (λ = {sympy.sstr(val)})", target=sympy.Symbol(n),
                     value=Tensor((len(vec),), tuple(vec)),
                     quantities=((f"eigenvectors.{n}", Tensor((len(vec),), tuple(vec))), (f"lambda.{n}", val)))
                for n, (val, vec) in zip(names, pairs))
    steps.append(Step("H is not diagonal: GD moves independently along the eigenvectors v_i of H, not along "
                      "the parameters; ρ_i is named by eigenvector (v1, v2, … in increasing order of λ)",
                      substeps=sub, note=how))
    return names, [val for val, _ in pairs], note


def _exact_vectors(H, eig: list) -> list | None:
    """Exact eigenvectors, one per eigenvalue in eig's order (a basis of each eigenspace, once), by the null
    space of H − λI with exact zero tests; None when an eigenspace's dimension is not the multiplicity."""
    import sympy

    from examsolve.values import exact_sign

    def zero(e):
        """An exact 0 test (a hidden 0 such as sqrt(3 + 2√2) − 1 − √2 too)."""
        return bool(e == 0) or (e.is_number and exact_sign(e) == 0)

    out = []
    for val in dict.fromkeys(eig):      # eig is canonical: equal values have one form
        basis = (H - val * sympy.eye(H.rows)).nullspace(iszerofunc=zero)
        if len(basis) != eig.count(val):
            return None
        out += [_oriented(list(v)) for v in basis]
    return out


def _no_minimum(H, grad: list, params: list, eig: list, negative: int, zeros: int) -> str:
    """Why there is no minimum to converge to (an eigenvalue < 0), or no single one (an eigenvalue 0)."""
    import sympy

    from examsolve.values import exact_sign

    shown = "[" + ", ".join(sympy.sstr(v) for v in eig) + "]"
    if negative:
        return (f"the Hessian has eigenvalues {shown}, {negative} of them < 0: f is unbounded below along "
                "that direction, so it has no minimum for gradient descent to converge to")
    # ∇f(w) = H·w + b: a minimum exists exactly when H·w = −b has a solution (rank H = rank [H | b])
    b = sympy.Matrix([g.xreplace({p: 0 for p in params}) for g in grad])

    def zero(e):
        """An exact 0 test."""
        return bool(e == 0) or (e.is_number and exact_sign(e) == 0)

    rank = H.rank(iszerofunc=zero)
    what = {1: "a whole line", 2: "a whole plane"}.get(zeros, f"a {zeros}-dimensional set")
    where = (f"f has {what} of minima, not a single one" if H.row_join(b).rank(iszerofunc=zero) == rank else
             "f decreases linearly along it and has no minimum")
    return (f"the Hessian has eigenvalues {shown}, {zeros} of them 0: f is flat (zero curvature) along that "
            f"direction, {where}; there ρ = 1 − α·0 = 1 for every α, so no α makes every direction converge "
            "(the sets of α need every eigenvalue > 0)")


def _oriented(v) -> list:
    """An eigenvector with its first non-zero entry positive (a fixed sign, so the output is stable)."""
    items = list(v)
    first = next((x for x in items if x != 0), 1)
    return [-x for x in items] if first.is_negative else items


def _factors(alpha, dirs: list, lam: list, eig: list, steps: list) -> list:
    """ρ_i(α) = 1 − α·λ_i per direction, named rho.<direction>; the vector rho in direction order."""
    import sympy

    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor

    a = _txt(alpha)
    rhos = [1 - alpha * l for l in lam]
    named = tuple((f"rho.{d}", r) for d, r in zip(dirs, rhos))
    steps.append(Step(f"GD in direction i: w_i^k = ρ_i({a})^k · w_i^0 with ρ_i({a}) = 1 − {a}·λ_i "
                      f"(directions: {', '.join(dirs)})", target=sympy.Symbol("ρ"), value=_vec(rhos),
                      quantities=(("rho", _vec(rhos)),) + named
                      + (("alpha_limits", Tensor((len(lam),), tuple(2 / l for l in lam))),)))
    if len(dirs) == 1:
        return [Answer("rho", rhos[0])]
    return [Answer(n, r) for n, r in named]     # shown by name: the name a key uses


def _sets(alpha, eig: list, steps: list) -> list:
    """The sets of α: converging, at the boundary |ρ_max| = 1, diverging, and converging with alternating sign."""
    import sympy

    from examsolve.steps import Answer, Step

    a = _txt(alpha)
    # with every λ_i > 0: |1 − αλ_i| < 1 ⇔ 0 < α < 2/λ_i, so the largest λ decides (closed form, no solver)
    top = 2 / eig[-1]
    conv = sympy.Interval.open(0, top)
    edge = sympy.FiniteSet(top)
    boundary = sympy.FiniteSet(0, top)
    still = sympy.FiniteSet(0)
    div = sympy.Union(sympy.Interval.open(-sympy.oo, 0), sympy.Interval.open(top, sympy.oo))
    # ρ_max = 1 − αλ_max < 0 ⇔ α > 1/λ_max: inside the converging set that direction flips sign every step
    alternating = sympy.Interval.open(1 / eig[-1], top)
    A = sympy.Symbol(a)
    steps.append(Step(f"|1 − {a}·λ_i| < 1 ⇔ 0 < {a} < 2/λ_i for λ_i > 0; all directions: 0 < {a} < 2/λ_max = "
                      f"{sympy.sstr(top)}"))
    steps.append(Step("converges: |ρ_i| < 1 in every direction", target=A, value=conv))
    steps.append(Step("oscillates: the largest |ρ_i| is exactly 1 (without 0, where w does not move)",
                      target=A, value=edge))
    steps.append(Step(f"boundary: |ρ_max| = |1 − {a}·λ_max| = 1, i.e. {a} = 0 (ρ = 1: w stays) or {a} = 2/λ_max "
                      "(ρ_max = −1: w flips between ±w⁰ along that direction)", target=A, value=boundary))
    steps.append(Step("diverges: some |ρ_i| > 1", target=A, value=div))
    steps.append(Step(f"converges while alternating sign (some exams: oscillating convergence): ρ_max = "
                      f"1 − {a}·λ_max < 0 and |ρ_max| < 1, i.e. 1/λ_max < {a} < 2/λ_max", target=A, value=alternating,
                      quantities=(("oscillating convergence", alternating),)))
    return [Answer("converges", conv), Answer("oscillates", edge), Answer("boundary", boundary),
            Answer("alternating", alternating, note="converges while alternating sign",
                   also=("oscillating convergence",)),
            Answer("does not move", still), Answer("diverges", div)]


def _best(alpha, dirs: list, lam: list, eig: list, steps: list) -> list:
    """α* = 2/(λ_min + λ_max), its rate, the factors at α*, and how to reach the minimum exactly."""
    import sympy

    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor

    a, name = _txt(alpha), alpha.name
    lo, hi = eig[0], eig[-1]
    best = 2 / (lo + hi)
    rate = (hi - lo) / (hi + lo)
    at_best = [1 - best * l for l in lam]
    # the answers are named after the spec's lr (eta*); alpha* stays a name keys may use
    alias = () if name == "alpha" else (("alpha*", best), ("rate at alpha*", rate),
                                        ("rho_at_alpha*", Tensor((len(lam),), tuple(at_best))))
    steps.append(Step(f"{a}* minimises max_i |1 − {a}λ_i|: the extreme factors balance, 1 − {a}·λ_min = "
                      f"−(1 − {a}·λ_max)", target=sympy.Symbol(f"{a}*"),
                      formula=2 / (sympy.Symbol("λ_min") + sympy.Symbol("λ_max")), value=best))
    steps.append(Step(f"rate at {a}*: max |ρ_i| = (λ_max − λ_min)/(λ_max + λ_min)", target=sympy.Symbol("ρ*"),
                      value=rate, quantities=((f"rho_at_{name}*", Tensor((len(lam),), tuple(at_best))),)
                      + tuple((f"rho_at_{name}*.{d}", r) for d, r in zip(dirs, at_best)) + alias))
    distinct = list(dict.fromkeys(eig))        # eig is increasing and canonical: equal values have one form
    exact = (f"one step, with {a} = 1/λ = " + sympy.sstr(1 / distinct[0]) if len(distinct) == 1 else
             f"never with one constant {a} (the factors 1 − {a}λ_i cannot all be 0); {len(distinct)} steps with "
             f"{a}_t = 1/λ_t, one for each distinct eigenvalue: {', '.join(sympy.sstr(1 / l) for l in distinct)}")
    steps.append(Step("reaching the minimum exactly: " + exact))
    conv = sympy.Interval.open(0, 2 / hi)
    return [Answer(f"{name}*", best), Answer(f"rate at {name}*", rate),
            Answer(f"a converging {name}", best, note=f"any {a} in the converging set; {a}* shown",
                   valid=functools.partial(_in_set, conv))]


def wrong_paths(spec, sol, resolve=None) -> list:
    """Known wrong paths for keys and grading: the sets of α bounded by 2/λ_min instead of 2/λ_max."""
    import sympy

    from examsolve.expr import symbol
    from examsolve.tensor import Tensor

    eig = sol.quantities.get("eigenvalues")
    if not isinstance(eig, Tensor) or len(set(eig.items)) < 2:
        return []
    lo, hi = eig.items[0], eig.items[-1]
    # the family's own formulas with λ_min where λ_max belongs
    values = {a.name: a.value for a in _sets(symbol(spec.model.lr), [hi, lo], [])}
    values["oscillating convergence"] = values["alternating"]
    a = _txt(symbol(spec.model.lr))
    return [(f"the bound 2/λ_min = {sympy.sstr(2 / lo)} was used instead of 2/λ_max = {sympy.sstr(2 / hi)}: "
             f"{a} must make every direction converge, |1 − {a}·λ_i| < 1 for all i, so the largest eigenvalue "
             "decides", values)]


def _txt(alpha) -> str:
    """The learning rate's name as shown: alpha -> α, eta -> η."""
    from examsolve.names import text_name

    return text_name(alpha.name)


def _vec(items):
    from examsolve.tensor import Tensor

    items = tuple(items)
    return items[0] if len(items) == 1 else Tensor((len(items),), items)


def _mat(M):
    from examsolve.tensor import Tensor

    return Tensor(M.shape, tuple(M))



def _in_set(conv, value) -> tuple[bool, str]:
    """Another right answer to 'give a learning rate that converges': any α in the converging set."""
    import sympy

    from examsolve import typed

    if not isinstance(value, sympy.Expr) or not value.is_number or not value.is_real:
        return False, "a learning rate is one real number"
    if conv.contains(value) == sympy.true:
        return True, f"α = {sympy.sstr(value)} lies in the converging set {typed.text(conv)}"
    return False, f"α = {sympy.sstr(value)} lies outside the converging set {typed.text(conv)}"
