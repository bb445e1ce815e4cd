"""init: weight initialisation schemes (Xavier/Glorot, He/Kaiming, LeCun): variance, σ and uniform bound."""
import functools

from examsolve.registry import family

SCHEMES = {  # name: (variance as a function of fan_in, fan_out, what it is)
    "xavier": ("2/(fan_in + fan_out)", "Glorot & Bengio (fan_avg): Var = 2/(fan_in + fan_out)"),
    "xavier_fan_in": ("1/fan_in", "the fan_in-only variant some courses call Xavier: Var = 1/fan_in"),
    "he": ("2/fan_in", "He/Kaiming for ReLU: Var = 2/fan_in"),
    "lecun": ("1/fan_in", "LeCun: Var = 1/fan_in"),
}


@functools.cache
def _model():
    from typing import Literal

    from pydantic import Field

    from examsolve.spec import BaseSpec

    class InitSpec(BaseSpec):
        """A layer's fans and the schemes to compare."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        fan_in: int = Field(ge=1, description="inputs per unit (for W ∈ R^(out×in), in; for a conv, C_in·k·k)")
        fan_out: int = Field(ge=1, description="outputs per input (out; for a conv, C_out·k·k)")
        schemes: list[Literal[tuple(SCHEMES)]] = Field(default_factory=lambda: list(SCHEMES),
                                                       description="which schemes to compute")

    return InitSpec


@family("init", summary="weight initialisation: Xavier/Glorot (fan_avg, and the fan_in-only variant), He/Kaiming, "
        "LeCun: variance, standard deviation of the normal, bound of the uniform", examples=("xavier.yaml",),
        model=_model)
def _solve(spec):
    """Variance from the fans, σ = √Var for the normal form, a = √(3·Var) for the uniform U(−a, a)."""
    import sympy

    from examsolve.asks import finish
    from examsolve.steps import Answer, Step

    m = spec.model
    fi, fo = sympy.Integer(m.fan_in), sympy.Integer(m.fan_out)
    steps, answers = [Step(f"fan_in = {m.fan_in}, fan_out = {m.fan_out}; a uniform U(−a, a) has variance a²/3, "
                           "so a = √(3·Var)")], []
    for name in m.schemes:
        text, what = SCHEMES[name]
        var = {"xavier": 2 / (fi + fo), "xavier_fan_in": 1 / fi, "he": 2 / fi, "lecun": 1 / fi}[name]
        sigma, bound = sympy.sqrt(var), sympy.sqrt(3 * var)
        steps.append(Step(what, substeps=(
            Step("variance", target=sympy.Symbol(f"Var_{name}"), value=var),
            Step("standard deviation of N(0, σ²)", target=sympy.Symbol(f"σ_{name}"), value=sigma),
            Step("bound of U(−a, a)", target=sympy.Symbol(f"a_{name}"), value=bound))))
        answers += [Answer(f"variance ({name})", var), Answer(f"sigma ({name})", sigma),
                    Answer(f"uniform bound ({name})", bound)]
    return finish(spec, steps, answers)
