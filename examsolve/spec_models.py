"""The pydantic models of specs: the JSON Schema (`examsolve schema`), the error messages, and the models
`examsolve.load_spec` gives. Imported only when a spec needs them: `examsolve run` validates with the light
validator (examsolve/lightspec.py), which follows these models through examsolve/lightspec_table.py.

After changing a model here or in a family's model function, regenerate that table:
    python -c 'from examsolve.lightspec import write_table; write_table()'
"""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, model_validator
from typing_extensions import TypeAliasType

from examsolve.spec import AskMethods, assume_here, at_least_check, one_ask, one_vary, some_mistake

Raw = TypeAliasType("Raw", Union[StrictInt, StrictFloat, str, list["Raw"]])
Names = Union[str, list[str]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


def checked(check):
    """A model validator (after the fields) that runs check(model), a function of examsolve.spec that the
    light validator runs on its objects too."""
    def validate(self):
        check(self)
        return self
    validate.light_check = (check.__name__,)
    return model_validator(mode="after")(validate)


def at_least(low: int):
    """A field validator: every whole number in the value (an int or a list of ints) is ≥ low; names and
    words (an unknown size, 'same') pass. Use: `_k = field_validator("stride")(at_least(1))`."""
    def check(cls, v, info):
        at_least_check(v, low, info.field_name)
        return v
    check.light_check = ("at_least_check", low)
    return classmethod(check)


class Conventions(_Model):
    """Settings that change answers; each step that relies on one says so."""

    relu_grad_at_zero: Literal[0, 1] = Field(0, description="relu'(0); also picks lrelu's side at 0")
    max_tie: Literal["first", "last", "split"] = Field("first", description="who gets the gradient of a tied max/min")
    abs_grad_at_zero: Literal[-1, 0, 1] = Field(0, description="d|x|/dx at x = 0")


class Of(_Model):
    """Common fields of a derivative ask."""

    of: Names = Field(description="the node(s) differentiated, e.g. L")
    wrt: Names = Field(description="the given name(s) or nodes it is differentiated by, e.g. w")
    at: Optional[dict[str, Raw]] = Field(None, description="values to use instead of the given ones")
    upstream: Optional[Raw] = Field(None, description="grad: the given ∂L/∂of, e.g. a, when of is not the loss")
    name: Optional[str] = Field(None, description="the answer's name (for key:)")
    key: Optional[Raw] = Field(None, description="the official answer, checked and flagged")


class HessianAsk(Of):
    """Hessian of a scalar; eigenvalues and min/max/saddle at each point."""

    points: Optional[list[dict[str, Raw]]] = Field(None, description="points to classify")


class CriticalAsk(_Model):
    """Solve ∇f = 0 and classify every real critical point."""

    of: str = Field(description="the scalar function")
    wrt: Names = Field(description="its variables (names under symbols: or given:)")
    name: Optional[str] = Field(None, description="the answer's name")
    key: Optional[Raw] = Field(None, description="the official answer")


class UpdateAsk(_Model):
    """Gradient descent: p ← p − lr·∂L/∂p, repeated `steps` times."""

    of: str = Field(description="the loss")
    params: Names = Field(description="parameters to update")
    lr: Raw = Field(description="learning rate, e.g. 1/2")
    steps: int = Field(1, ge=1, le=1000, description="number of updates (1 to 1000)")
    momentum: Optional[Raw] = Field(None, description="μ for SGD with momentum as in PyTorch: v ← μ·v + ∂L/∂p, "
                                    "p ← p − lr·v, v starting at 0 (the optimizer family has the other forms)")
    clip_norm: Optional[Raw] = Field(None, description="c > 0: before each step the gradient of all the params "
                                     "together is scaled by min(1, c/‖g‖₂), as torch.nn.utils.clip_grad_norm_ "
                                     "(which adds 1e-6 to ‖g‖; here exactly)")
    name: Optional[str] = Field(None, description="the answer's name")
    key: Optional[Raw] = Field(None, description="the official answer (one parameter)")


class SolveAsk(_Model):
    """Unknowns from equations over nodes and given names."""

    equations: Names = Field(description="equations like 'y_1 = 3' over nodes and given names")
    unknowns: Names = Field(description="names to solve for; their given values are ignored")
    name: Optional[str] = Field(None, description="the answer's name")
    key: Optional[Raw] = Field(None, description="the official answer (one unknown)")


class Ask(AskMethods, _Model):
    """One thing to compute; exactly one of the keys."""

    value: Optional[Names] = Field(None, description="nodes whose forward values are asked")
    grad: Optional[Of] = Field(None, description="gradient of a scalar, by reverse mode")
    jacobian: Optional[Of] = Field(None, description="matrix of ∂(output i)/∂(input j)")
    hessian: Optional[HessianAsk] = Field(None, description="second derivatives, eigenvalues, classification")
    critical_points: Optional[CriticalAsk] = Field(None, description="where the gradient is zero")
    update: Optional[UpdateAsk] = Field(None, description="gradient-descent steps")
    solve: Optional[SolveAsk] = Field(None, description="unknowns from equations")

    _one = checked(one_ask)


class Vary(_Model):
    """examsolve variants: how to draw one value; numbers inside a list are drawn one by one."""

    choices: Optional[list[Raw]] = Field(None, alias="from", min_length=1,
                                         description="pick one of these, e.g. [1, 2, 3]")
    integers: Optional[list[int]] = Field(None, alias="int", min_length=2, max_length=2,
                                          description="an integer in [low, high], e.g. [-3, 3]")
    fraction: Optional[list[Raw]] = Field(None, min_length=2, max_length=2,
                                          description="a fraction p/q in [low, high] with q from denominators")
    denominators: list[int] = Field([2, 4], description="fraction: the allowed denominators")
    decimal: Optional[list[Raw]] = Field(None, min_length=2, max_length=2,
                                         description="a decimal in [low, high] with `places` digits after the point")
    places: int = Field(1, ge=0, le=6, description="decimal: digits after the point")
    exclude: list[Raw] = Field(default_factory=list, alias="not", description="values never drawn, e.g. [0]")

    _one = checked(one_vary)


class Require(_Model):
    """examsolve variants: a condition every entry of one answer must meet, e.g. a non-zero variance."""

    answer: str = Field(description="the answer's name, as `examsolve run` prints it")
    nonzero: bool = Field(False, description="no entry is 0")
    integer: bool = Field(False, description="every entry is a whole number")
    positive: bool = Field(False, description="every entry is > 0")
    negative: bool = Field(False, description="every entry is < 0")
    between: Optional[list[Raw]] = Field(None, min_length=2, max_length=2, description="every entry in [low, high]")
    max_denominator: Optional[int] = Field(None, ge=1, description="every entry a fraction with at most this "
                                           "denominator (a 'nice' answer)")


class Tolerance(_Model):
    """examsolve grade: how close a number must be; by default decimals must be right to the digits written."""

    exact: bool = Field(False, description="only the exact value (a decimal must equal it)")
    rel: Optional[Raw] = Field(None, description="relative tolerance, e.g. 1e-3")
    abs: Optional[Raw] = Field(None, description="absolute tolerance, e.g. 0.01")
    sig: Optional[int] = Field(None, ge=1, le=30, description="agree when both are rounded to this many "
                               "significant figures")


class Mistake(_Model):
    """examsolve grade: a known wrong path; an answer equal to the spec solved with `set`, or to one of
    `answers`, gets the feedback."""

    feedback: str = Field(description="what went wrong, e.g. 'the ½ convention in the loss was used'")
    set: dict[str, Raw] = Field(default_factory=dict, description="paths and the values that give the wrong "
                                "answer, e.g. {equations.L: (y - l)**2/2}")
    answers: dict[str, Raw] = Field(default_factory=dict, description="or the wrong answers themselves, by answer "
                                    "name, e.g. {dL/dtheta: 16}")
    credit: float = Field(0, ge=0, le=1, description="the fraction of the answer's points this mistake still earns "
                          "(0 to 1), e.g. 0.5 for a slip that keeps the method right")

    _some = checked(some_mistake)


class BaseSpec(_Model):
    """Keys every spec shares."""

    kind: str = Field(description="a family from `examsolve list`")
    title: str = Field("", description="printed as the heading")
    source: str = Field("", description="where the question comes from")
    statement: str = Field("", description="the question as printed")
    given: dict[str, Raw] = Field(default_factory=dict, description="exact values: numbers, 'pi/2', lists")
    symbols: list[str] = Field(default_factory=list, description="names left symbolic")
    functions: list[str] = Field(default_factory=list,
                                 description="differentiable functions known only by name, e.g. [sigma]; "
                                 "with several arguments, f(x, w), their partials print as ∂f/∂w")
    vector_functions: list[str] = Field(default_factory=list,
                                        description="functions known only by name whose values are vectors "
                                        "(layers f(x, w)): their derivatives are the Jacobians J_w^f, kept in "
                                        "chain-rule order")
    equations: dict[str, str] = Field(default_factory=dict, description="named nodes, in order")
    ask: list[Ask] = Field(description="what to compute, in order")
    key: dict[str, Raw] = Field(default_factory=dict, description="official answers by answer name")
    conventions: Conventions = Field(Conventions(), description="settings that change answers")
    vary: dict[str, Vary] = Field(default_factory=dict, description="examsolve variants: what to draw, by path: "
                                  "x (a given name), or given.x, optimizer.lr, layers.0.filters")
    require: list[Require] = Field(default_factory=list, description="examsolve variants: conditions every variant's "
                                   "answers meet")
    points: dict[str, Raw] = Field(default_factory=dict, description="examsolve grade: points per answer name "
                                   "(default 1 each)")
    tolerance: dict[str, Tolerance] = Field(default_factory=dict, description="examsolve grade: per answer name, "
                                            "or `default`")
    mistakes: list[Mistake] = Field(default_factory=list, description="examsolve grade: known wrong paths")
    assume: list[str] = Field(default_factory=list, max_length=32, description="assumptions that decide cases: "
                              "signs and ranges ('y > 0', '0 < alpha < 1'), regimes ('relu active', 'relu(z1) "
                              "active', 'margin violated' or 'hinge active'), branches ('max(a, b) = a'); "
                              "families graph, mlp, conv, rnn, batchnorm, policy")

    _assume_here = checked(assume_here)
