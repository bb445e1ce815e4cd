"""normalization: the means and variances batch, layer, instance and group norm compute on N x C x ... input."""
import functools

from examsolve.registry import family

KINDS = {  # name: (axes averaged over, what is kept)
    "batch": ("the batch and spatial axes (N, H, W)", "one value per channel: shape (C,)"),
    "layer": ("the channel and spatial axes (C, H, W)", "one value per example: shape (N,)"),
    "instance": ("the spatial axes (H, W)", "one value per example and channel: shape (N, C)"),
    "group": ("the channels of a group and the spatial axes", "one value per example and group: shape (N, G)"),
}


@functools.cache
def _model():
    from typing import Literal

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw

    class NormSpec(BaseSpec):
        """A batch N x C x (spatial) and the normalizations whose statistics are asked."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        x: Raw = Field(description="the batch as nested lists: examples, then channels, then the feature map")
        norms: list[Literal[tuple(KINDS)]] = Field(default_factory=lambda: ["batch", "layer", "instance"],
                                                   description="which normalizations")
        groups: int = Field(2, ge=1, description="group norm: number of groups G")
        variance: bool = Field(False, description="also the (biased, 1/m) variances")
        normalized: bool = Field(False, description="also the normalized tensor x̂ = (x − μ)/√(σ² + ε)")
        eps: Raw = Field(0, description="ε in x̂ (PyTorch's default is 1e-5)")

    return NormSpec


@family("normalization", summary="batch, layer, instance and group norm: which axes each averages over, the "
        "means (and variances, normalized tensors) and the shapes of the statistics",
        examples=("norm_means.yaml", "group_norm.yaml"), model=_model, uses=())
def _solve(spec):
    """Each statistic is a mean over a set of elements; the sum is shown with the numbers."""
    import sympy

    from examsolve.finish import finish

    from examsolve.errors import SolveError, SpecError
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor, indices
    from examsolve.values import fit

    m = spec.model
    x = spec_expr(spec, m.x, ("x",), {})
    if not isinstance(x, Tensor) or x.rank < 3:
        raise SpecError("x is N x C x (spatial): nested lists of examples, channels and feature maps", spec.loc("x"))
    N, C = x.shape[0], x.shape[1]
    flat = dict(zip(indices(x.shape), x.items))
    steps, answers = [Step(f"x has shape {x.shape}: N = {N} examples, C = {C} channels, feature maps "
                           f"{x.shape[2:]}")], []

    eps = spec_expr(spec, m.eps, ("eps",), {})
    for kind in m.norms:
        over, kept = KINDS[kind]
        if kind == "group" and C % m.groups:
            raise SpecError(f"group norm: {m.groups} groups do not divide {C} channels", spec.loc("groups"))
        size = C // m.groups
        key_of = {"batch": lambda i: (i[1],), "layer": lambda i: (i[0],), "instance": lambda i: (i[0], i[1]),
                  "group": lambda i: (i[0], i[1] // size)}[kind]
        shape = {"batch": (C,), "layer": (N,), "instance": (N, C), "group": (N, m.groups)}[kind]
        members: dict = {}
        for i, v in flat.items():
            members.setdefault(key_of(i), []).append(v)
        stats, sub = {}, []
        for key in sorted(members):
            vals = members[key]
            mean = sympy.Add(*vals) / len(vals)
            stats[key] = (mean, sympy.Add(*[(v - mean) ** 2 for v in vals]) / len(vals))
            shown = "(" + " + ".join(sympy.sstr(v) for v in vals) + f")/{len(vals)}"
            sub.append(Step(f"mean for {kind} index {tuple(k + 1 for k in key)}: {shown}",
                            target=sympy.Symbol("μ"), value=mean))
        steps.append(Step(f"{kind} norm averages over {over}: {kept}", substeps=tuple(sub)))
        answers.append(Answer(f"{kind} norm mean", Tensor(shape, tuple(stats[k][0] for k in sorted(stats)))))
        if m.variance:
            answers.append(Answer(f"{kind} norm variance", Tensor(shape, tuple(stats[k][1] for k in sorted(stats)))))
        if m.normalized:
            for key, (mean, var) in stats.items():
                if var + eps == 0:
                    raise SolveError(f"{kind} norm: the values of index {tuple(k + 1 for k in key)} are all equal "
                                     "(σ² = 0), so x̂ = 0/0 with ε = 0; set eps > 0", spec.loc("x"))
            xhat = [(v - stats[key_of(i)][0]) / sympy.sqrt(stats[key_of(i)][1] + eps) for i, v in flat.items()]
            steps.append(Step(f"{kind} norm: x̂ = (x − μ)/√(σ² + ε) with ε = {sympy.sstr(eps)}, each element with "
                              "the statistics of its own index"))
            answers.append(Answer(f"{kind} norm x̂", Tensor(x.shape, tuple(fit(v) for v in xhat))))
    return finish(spec, steps, answers)
