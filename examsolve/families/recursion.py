"""recursion: derivations over a general index k (receptive field and jump of a stack, momentum without the
velocity, a product of k Jacobians), derived symbolically with the index shown, then evaluated for given numbers."""
import functools

from examsolve.registry import family

PRESETS = ("receptive_field", "momentum_elimination", "jacobian_product")


@functools.cache
def _model():
    from typing import Literal, Optional

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw

    class RecursionSpec(BaseSpec):
        """A recursion derived for a general index, then evaluated."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        preset: Literal[PRESETS] = Field(description="which derivation: receptive_field, momentum_elimination or "
                                                     "jacobian_product")
        kernels: list[int] = Field(default_factory=list, max_length=1000,
                                   description="receptive_field: the kernel size r_k of each layer, in order")
        strides: list[int] = Field(default_factory=list, max_length=1000,
                                   description="receptive_field: the stride s_k of each layer (1 if left out)")
        lr: Raw = Field("1/10", description="momentum_elimination: the learning rate α")
        momentum: Raw = Field("9/10", description="momentum_elimination: the momentum μ")
        gradient: str = Field("x", description="momentum_elimination: g_t as an expression in x, e.g. 2*x for "
                                               "f = x²")
        x0: Raw = Field(1, description="momentum_elimination: the starting point x_0 (v_0 = 0)")
        steps: int = Field(3, ge=1, le=50, description="momentum_elimination: iterations to simulate")
        weight: Optional[Raw] = Field(None, description="jacobian_product: the square matrix W of h_k = σ(W h_{k−1})")
        gamma: Raw = Field("1/4", description="jacobian_product: a bound on |σ'| (1/4 for the sigmoid, 1 for tanh)")
        depth: int = Field(10, ge=1, le=10000, description="jacobian_product: the number of layers k")

    return RecursionSpec


@family("recursion", summary="derivations over a general k: receptive field and jump of a stack (recursion and "
        "closed form), momentum without the velocity, the norm bound of a product of k Jacobians",
        examples=("receptive_field_recursion.yaml", "momentum_elimination.yaml", "jacobian_product.yaml"),
        model=_model, uses=())
def _solve(spec):
    """Run the preset's derivation."""
    from examsolve.finish import finish
    from examsolve.recursions import PRESET_SOLVERS

    steps, answers = PRESET_SOLVERS[spec.model.preset](spec)
    return finish(spec, steps, answers)
