"""batchnorm: batch normalization of a 1-D batch or a b x n matrix (per feature), with a loss on top."""
from examsolve.registry import family

ZERO_VARIANCE = ("σ² + ε = 0: all samples of the batch are equal (or there is only one), so "
                 "x̂ = (x - μ)/sqrt(σ² + ε) = 0/0; set eps > 0 or use a batch with two different values")


@family("batchnorm", summary="batch norm: mean, biased variance, normalized x̂, y = γ·x̂ + β, "
        "Jacobians w.r.t. γ, β, x and gradients of a loss on y",
        examples=("bn_jacobian.yaml", "bn_l2_grad.yaml", "bn_jacobian_gamma.yaml", "bn_jacobian_beta.yaml"))
class BatchNorm:
    """Template nodes mu, var, xhat, y built from given x, gamma, beta (eps default 0)."""

    @staticmethod
    def model():
        from examsolve.spec import BaseSpec
        return BaseSpec

    @staticmethod
    def solve(spec):
        return _solve(spec)


CONSTANT_STATS = ("μ and σ² were treated as constants: they depend on every xᵢ, so the gradient with respect to x "
                  "has terms through them too (∂x̂ᵢ/∂xⱼ = (δᵢⱼ − 1/m − x̂ᵢ·x̂ⱼ/m)/√(σ² + ε), not δᵢⱼ/√(σ² + ε))")


def wrong_paths(spec, sol, resolve=None) -> list:
    """Known wrong paths for keys and grading: the spec solved with μ and σ² as given numbers (their
    dependence on x forgotten), by the family's own formulas."""
    if not any(s.name.startswith("x_") or s.name == "x" for s in _wrt(sol.steps)):
        return []
    other = _solve(spec, constant_stats=True)
    return [(CONSTANT_STATS, dict(other.quantities))]


def _wrt(steps) -> set:
    """The symbols the steps differentiate with respect to (∂·/∂x₁ ...)."""
    out = set()
    for s in steps:
        wrt = getattr(s.target, "wrt", None)
        out |= {wrt} if wrt is not None else set()
        out |= _wrt(s.substeps)
    return out


def _solve(spec, constant_stats: bool = False):
    """The template graph and the asks; constant_stats: μ and σ² as numbers (a known wrong path)."""
    import sympy

    from examsolve.asks import Solver

    from examsolve.errors import SpecError
    from examsolve.expr import Ops
    from examsolve.names import SUB
    from examsolve.spec_graph import add_equations, build_graph
    from examsolve.tensor import Tensor

    m = spec.model
    for need in ("x", "gamma", "beta"):
        # γ and β may stay symbolic (symbols: [gamma, beta]); the batch x needs numbers
        if need not in m.given and (need == "x" or need not in m.symbols):
            raise SpecError(f"batchnorm needs given: {need} (x: the batch; gamma, beta: the learnable "
                            "parameters, under given: or symbols:)", spec.loc("given"))
    graph = build_graph(spec, equations={})
    if "eps" not in graph.groups:
        graph.add_given("eps", sympy.Integer(0))
    x = graph.groups["x"].as_value()
    if not isinstance(x, Tensor) or x.rank > 2:
        raise SpecError("x is the batch: a list of samples, or a b x n matrix (one row per sample)",
                        spec.loc("given", "x"))
    b = x.shape[0]
    n = 1 if x.rank == 1 else x.shape[1]
    cols = [[x.items[i] for i in range(b)]] if x.rank == 1 else \
        [[x.items[i * n + j] for i in range(b)] for j in range(n)]
    eps = graph.groups["eps"].as_value()
    gamma, beta = graph.groups["gamma"].as_value(), graph.groups["beta"].as_value()

    def per_feature(v, j):
        if isinstance(v, Tensor):
            if len(v) != n:
                raise SpecError(f"gamma and beta hold one value per feature ({n}), or one scalar",
                                spec.loc("given"))
            return v.items[j]
        return v

    def add(name, formula, shape, hint=""):
        """A template node: formula(ops) lists its elements, evaluated and as written."""
        vals, disp = formula(Ops(True)), formula(Ops(False))
        if constant_stats and name in ("mu", "var"):      # a number, as if it did not depend on x
            leaves = {s: node.value for s, node in graph.nodes.items() if node.kind == "given"}
            vals = [v.xreplace(leaves) for v in vals]
            graph.add_given(name, vals[0] if shape == () else Tensor(shape, tuple(vals)))
            return graph.groups[name].symbols
        if shape == ():
            graph.add_node(name, vals[0], disp[0], hint=hint)
        else:
            graph.add_node(name, Tensor(shape, tuple(vals)), Tensor(shape, tuple(disp)), hint=hint)
        return graph.groups[name].symbols

    m_, two = sympy.Integer(b), sympy.Integer(2)
    feature = () if x.rank == 1 else (n,)
    mus = add("mu", lambda o: [o.div(o.add(*c), m_) for c in cols], feature)
    vars_ = add("var", lambda o: [o.div(o.add(*[o.pow(o.sub(xi, mus[j]), two) for xi in c]), m_)
                                  for j, c in enumerate(cols)], feature)
    xh = add("xhat", lambda o: [o.div(o.sub(cols[j][i], mus[j]), o.call(sympy.sqrt, o.add(vars_[j], eps)))
                                for i in range(b) for j in range(n)], x.shape, ZERO_VARIANCE)
    add("y", lambda o: [o.add(o.mul(per_feature(gamma, j), xh[i * n + j]), per_feature(beta, j))
                        for i in range(b) for j in range(n)], x.shape)
    add_equations(spec, graph, m.equations)
    names = {"mu": (r"\mu", "μ"), "var": (r"\sigma^{2}", "σ²"), "eps": (r"\varepsilon", "ε")}
    for k, s in enumerate(graph.groups["mu"].symbols if n > 1 else ()):
        names[s.name] = (r"\mu_{%d}" % (k + 1), "μ" + str(k + 1).translate(SUB))
    for k, s in enumerate(graph.groups["var"].symbols if n > 1 else ()):
        names[s.name] = (r"\sigma^{2}_{%d}" % (k + 1), "σ²" + str(k + 1).translate(SUB))
    solver = Solver(spec, graph)
    solver.steps.append(_conventions_step())
    solver.run(m.ask)
    return solver.solution(names)


def _conventions_step():
    from examsolve.steps import Step

    return Step("Batch norm (Ioffe & Szegedy): μ = (1/m)·Σ xᵢ, σ² = (1/m)·Σ (xᵢ - μ)² (biased, 1/m), "
                "x̂ᵢ = (xᵢ - μ)/√(σ² + ε), yᵢ = γ·x̂ᵢ + β; per feature for a b x n batch")
