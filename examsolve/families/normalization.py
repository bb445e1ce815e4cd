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

    return NormSpec


@family("normalization", summary="batch, layer, instance and group norm: which axes each averages over, the "
        "means (and variances) and the shapes of the statistics", examples=("norm_means.yaml",), model=_model)
def _solve(spec):
    """Each statistic is a mean over a set of elements; the sum is shown with the numbers."""
    import sympy

    from examsolve.asks import check_keys, spec_expr
    from examsolve.errors import SpecError
    from examsolve.steps import Answer, Solution, Step
    from examsolve.tensor import Tensor, indices

    m = spec.model
    x = spec_expr(spec, m.x, ("x",), {})
    if not isinstance(x, Tensor) or x.rank < 3:
        raise SpecError("x is N x C x (spatial): nested lists of examples, channels and feature maps", spec.loc("x"))
    N, C = x.shape[0], x.shape[1]
    flat = dict(zip(indices(x.shape), x.items))
    steps, answers = [Step(f"x has shape {x.shape}: N = {N} examples, C = {C} channels, feature maps "
                           f"{x.shape[2:]}")], []

    def stat(keep) -> tuple:
        """Mean (and variance) of the elements whose kept coordinates equal `keep`."""
        members = [v for i, v in flat.items() if keep(i)]
        mean = sympy.Add(*members) / len(members)
        var = sympy.Add(*[(v - mean) ** 2 for v in members]) / len(members)
        shown = "(" + " + ".join(sympy.sstr(v) for v in members) + f")/{len(members)}"
        return mean, var, shown

    for kind in m.norms:
        over, kept = KINDS[kind]
        if kind == "batch":
            keys, shape = [(c,) for c in range(C)], (C,)
            pick = [lambda i, c=c: i[1] == c for (c,) in keys]
        elif kind == "layer":
            keys, shape = [(n,) for n in range(N)], (N,)
            pick = [lambda i, n=n: i[0] == n for (n,) in keys]
        elif kind == "instance":
            keys, shape = [(n, c) for n in range(N) for c in range(C)], (N, C)
            pick = [lambda i, n=n, c=c: i[0] == n and i[1] == c for n, c in keys]
        else:
            G = m.groups
            if C % G:
                raise SpecError(f"group norm: {G} groups do not divide {C} channels", spec.loc("groups"))
            size = C // G
            keys, shape = [(n, g) for n in range(N) for g in range(G)], (N, G)
            pick = [lambda i, n=n, g=g: i[0] == n and i[1] // size == g for n, g in keys]
        means, variances, sub = [], [], []
        for key, p in zip(keys, pick):
            mean, var, shown = stat(p)
            means.append(mean)
            variances.append(var)
            sub.append(Step(f"mean for {kind} index {tuple(k + 1 for k in key)}: {shown}",
                            target=sympy.Symbol("μ"), value=mean))
        steps.append(Step(f"{kind} norm averages over {over}: {kept}", substeps=tuple(sub)))
        answers.append(Answer(f"{kind} norm mean", Tensor(shape, tuple(means))))
        if m.variance:
            answers.append(Answer(f"{kind} norm variance", Tensor(shape, tuple(variances))))
    return Solution(kind=m.kind, title=m.title or "normalization", source=m.source, file=spec.file,
                    steps=tuple(steps), answers=tuple(check_keys(spec, answers, {})))
