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
        lr: str = Field("alpha", description="the name of the learning rate in the answers")

    return LrSpec


@family("lr", summary="learning-rate analysis of gradient descent on a quadratic: factors ρᵢ(α) = 1 − αλᵢ, the "
        "sets of α that converge, oscillate and diverge, the best α* and its rate",
        examples=("sgd_convergence_2d.yaml", "sgd_quadratic.yaml", "abs_loss.yaml"), model=_model)
def _solve(spec):
    """Hessian eigenvalues give one factor per direction; the sets follow from |ρᵢ(α)| against 1."""
    import sympy

    from examsolve.asks import finish, spec_expr
    from examsolve.errors import SolveError
    from examsolve.expr import symbol
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
    eig = []
    for val, mult in H.eigenvals().items():
        eig.extend([val] * mult)
    eig = sorted(eig, key=lambda v: sympy.N(v))
    steps.append(Step("Gradient", target=sympy.Symbol("∇f"), value=_vec(grad)))
    steps.append(Step("Hessian H (constant: the loss is quadratic)", target=sympy.Symbol("H"), value=_mat(H)))
    steps.append(Step("eigenvalues of H, one per direction", target=sympy.Symbol("λ"), value=_vec(eig),
                      quantities=(("eigenvalues", Tensor((len(eig),), tuple(eig))),)))
    if any(sympy.N(l) <= 0 for l in eig):
        raise SolveError(f"the Hessian has eigenvalues {eig} that are not positive: f has no minimum for "
                         "gradient descent to converge to", spec.loc("loss"))
    rhos = [1 - alpha * l for l in eig]
    steps.append(Step("GD in direction i: w_i^k = ρ_i(α)^k · w_i^0 with ρ_i(α) = 1 − α·λ_i",
                      target=sympy.Symbol("ρ"), value=_vec(rhos),
                      quantities=(("rho", _vec(rhos)),
                                  ("alpha_limits", Tensor((len(eig),), tuple(2 / l for l in eig))))))
    # with every λ_i > 0: |1 − αλ_i| < 1 ⇔ 0 < α < 2/λ_i, so the largest λ decides (closed form, no solver)
    top = 2 / eig[-1]
    conv = sympy.Interval.open(0, top)
    edge = sympy.FiniteSet(top)
    still = sympy.FiniteSet(0)
    div = sympy.Union(sympy.Interval.open(-sympy.oo, 0), sympy.Interval.open(top, sympy.oo))
    steps.append(Step(f"|1 − α·λ_i| < 1 ⇔ 0 < α < 2/λ_i for λ_i > 0; all directions: 0 < α < 2/λ_max = "
                      f"{sympy.sstr(top)}"))
    steps.append(Step("converges: |ρ_i(α)| < 1 in every direction", target=sympy.Symbol("α"), value=conv))
    steps.append(Step("oscillates: the largest |ρ_i(α)| is exactly 1 (without α = 0, where w does not move)",
                      target=sympy.Symbol("α"), value=edge))
    steps.append(Step("diverges: some |ρ_i(α)| > 1", target=sympy.Symbol("α"), value=div))
    lo, hi = eig[0], eig[-1]
    best = 2 / (lo + hi)
    rate = (hi - lo) / (hi + lo)
    steps.append(Step("α* minimises max_i |1 − αλ_i|: the extreme factors balance, 1 − α·λ_min = −(1 − α·λ_max)",
                      target=sympy.Symbol("α*"), formula=2 / (sympy.Symbol("λ_min") + sympy.Symbol("λ_max")),
                      value=best))
    steps.append(Step("rate at α*: max |ρ_i| = (λ_max − λ_min)/(λ_max + λ_min)", target=sympy.Symbol("ρ*"),
                      value=rate, quantities=(("rho_at_alpha*", Tensor((len(eig),),
                                                                        tuple(1 - best * l for l in eig))),)))
    distinct = sorted(set(eig), key=lambda v: sympy.N(v))
    exact = ("one step, with α = 1/λ = " + sympy.sstr(1 / distinct[0]) if len(distinct) == 1 else
             f"never with one constant α (the factors 1 − αλ_i cannot all be 0); {len(distinct)} steps with "
             f"α_t = 1/λ_t, one for each distinct eigenvalue: {', '.join(sympy.sstr(1 / l) for l in distinct)}")
    steps.append(Step("reaching the minimum exactly: " + exact))
    answers += [Answer("rho", _vec(rhos)), Answer("converges", conv), Answer("oscillates", edge),
                Answer("does not move", still), Answer("diverges", div),
                Answer("alpha*", best), Answer("rate at alpha*", rate),
                Answer("a converging alpha", best, note="any α in the converging set; α* shown",
                       valid=functools.partial(_in_set, conv))]
    return finish(spec, steps, answers)


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
