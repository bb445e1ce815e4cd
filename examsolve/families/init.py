"""init: weight initialisation schemes (Xavier/Glorot, He/Kaiming, LeCun) with a gain, fans from a weight shape."""
import functools

from examsolve.registry import family

SCHEMES = {  # name: (variance without the gain, what it is); each variance is multiplied by gain²
    "xavier": ("2/(fan_in + fan_out)", "Glorot & Bengio (fan_avg): Var = gain²·2/(fan_in + fan_out)"),
    "xavier_fan_in": ("1/fan_in", "the fan_in-only variant some courses call Xavier: Var = gain²/fan_in"),
    "he": ("1/fan", "He/Kaiming: Var = gain²/fan (the gain √2 of ReLU gives 2/fan_in)"),
    "lecun": ("1/fan_in", "LeCun: Var = gain²/fan_in"),
    "pytorch_default": ("1/(3·fan_in)", "PyTorch's default for nn.Linear and nn.ConvNd weights, "
                        "kaiming_uniform_(a=√5): gain² = 2/(1 + 5) = 1/3, so Var = 1/(3·fan_in) and "
                        "a = 1/√fan_in"),
}
# torch.nn.init.calculate_gain; leaky_relu's gain uses negative_slope
NONLINEARITIES = ("linear", "conv", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
BIAS = {
    "zeros": "b = 0, as the Xavier and He questions usually say (Keras' default bias_initializer)",
    "pytorch_default": "PyTorch's nn.Linear/nn.ConvNd default: b ~ U(−1/√fan_in, 1/√fan_in)",
}
MAX_DIM = 10**6      # one axis of a weight shape
MAX_AXES = 6


@functools.cache
def _model():
    from typing import Literal, Optional

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw

    from examsolve.spec import CONVENTION

    class InitSpec(BaseSpec):
        """A weight shape (or its fans), the gain, the schemes to compare and what the bias starts at."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        W: Optional[list[int]] = Field(None, description="the weight's shape, read in the framework's order: "
                                       "pytorch (and y = Wx) [out, in] or a conv's [out, in/groups, k...]; keras "
                                       "(and y = xW) [in, out] or a conv kernel's [k..., in, out]; the kernel "
                                       "size k... multiplies both fans")
        framework: Literal["pytorch", "keras"] = Field("pytorch", json_schema_extra=CONVENTION, description="how W's axes are read: pytorch, "
                                                       "nn.Linear.weight is (out, in); keras, a Dense kernel is "
                                                       "(in, out)")
        fan_in: Optional[int] = Field(None, ge=1, le=MAX_DIM**2, description="inputs per unit (instead of W: "
                                      "for W ∈ R^(out×in), in; for a conv, C_in·k·k)")
        fan_out: Optional[int] = Field(None, ge=1, le=MAX_DIM**2, description="outputs per input (instead of W: "
                                       "out; for a conv, C_out·k·k)")
        schemes: list[Literal[tuple(SCHEMES)]] = Field(default_factory=lambda: list(SCHEMES)[:4],
                                                       description="which schemes to compute")
        nonlinearity: Optional[Literal[NONLINEARITIES]] = Field(
            None, description="the activation after the layer, whose gain (torch.nn.init.calculate_gain) scales "
            "every scheme: linear, conv and sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + slope²)), selu 3/4; "
            "empty: PyTorch's defaults, gain 1 for xavier, xavier_fan_in and lecun and √2 (relu) for he")
        negative_slope: float = Field(0.01, ge=0, le=100, description="leaky_relu: the slope for x < 0 (PyTorch's "
                                      "calculate_gain default 0.01)")
        gain: Optional[Raw] = Field(None, description="a gain given as a value (e.g. 'sqrt(2)'), instead of "
                                    "nonlinearity")
        mode: Literal["fan_in", "fan_out"] = Field("fan_in", json_schema_extra=CONVENTION, description="he: the fan it divides by "
                                                   "(kaiming_normal_'s mode)")
        bias: Literal[tuple(BIAS)] = Field("zeros", description="what the bias starts at: zeros, or "
                                           "pytorch_default, U(−1/√fan_in, 1/√fan_in)")

    return InitSpec


@family("init", summary="weight initialisation: Xavier/Glorot (fan_avg, and the fan_in-only variant), He/Kaiming, "
        "LeCun, PyTorch's default, each with the gain of an activation (calculate_gain: tanh 5/3, relu √2, leaky "
        "relu, selu); fan_in and fan_out from a weight shape in PyTorch's or Keras' order (conv kernels too); "
        "variance, standard deviation of the normal, bound of the uniform; the bias",
        examples=("xavier.yaml", "xavier_tanh.yaml"), model=_model, uses=())
def _solve(spec):
    """Fans from the shape, the gain, then Var, σ = √Var for the normal form and a = √(3·Var) for U(−a, a)."""
    import sympy

    from examsolve.finish import finish
    from examsolve.steps import Answer, Step

    m = spec.model
    fi, fo, fan_steps = _fans(spec)
    steps, answers = list(fan_steps), [Answer("fan_in", fi), Answer("fan_out", fo)]
    for name in m.schemes:
        gain, gain_step = _gain(spec, name)
        fan = fo if name == "he" and m.mode == "fan_out" else fi
        base = {"xavier": 2 / (fi + fo), "xavier_fan_in": 1 / fi, "he": 1 / fan, "lecun": 1 / fi,
                "pytorch_default": sympy.Rational(1, 3) / fi}[name]
        var = gain**2 * base if name != "pytorch_default" else base
        sigma, bound = sympy.sqrt(var), sympy.sqrt(3 * var)
        steps.append(Step(SCHEMES[name][1], substeps=(gain_step,) + _scheme_steps(name, m.mode, gain, fi, fo,
                                                                                  (var, sigma, bound))))
        answers += [Answer(f"gain ({name})", gain), Answer(f"variance ({name})", var),
                    Answer(f"sigma ({name})", sigma), Answer(f"uniform bound ({name})", bound)]
    bias_step, bias_answers = _bias(spec, fi)
    return finish(spec, steps + [bias_step], answers + bias_answers,
                  notes=(f"weight layout: {m.framework}; bias: {m.bias}",))


def _fans(spec):
    """fan_in and fan_out, read from W's shape in the framework's order, or as given; with their steps."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.steps import Step

    m = spec.model
    if m.W is None:
        if m.fan_in is None or m.fan_out is None:
            raise SpecError("give the weight's shape W: [out, in] (or fan_in: and fan_out:)", spec.loc("kind"))
        fi, fo = sympy.Integer(m.fan_in), sympy.Integer(m.fan_out)
        return fi, fo, [Step(f"fan_in = {m.fan_in}, fan_out = {m.fan_out} (given)", quantities=(
            ("fan_in", fi), ("fan_out", fo)))]
    if m.fan_in is not None or m.fan_out is not None:
        raise SpecError("give W or fan_in/fan_out, not both; the fans are read from W", spec.loc("W"))
    shape = list(m.W)
    if not 2 <= len(shape) <= MAX_AXES or any(not 1 <= d <= MAX_DIM for d in shape):
        raise SpecError(f"W: a weight shape has 2 to {MAX_AXES} axes of 1 to {MAX_DIM}, got {shape}; give "
                         "[out, in] (pytorch) or [in, out] (keras), a conv kernel's sizes too", spec.loc("W"))
    return _read_shape(shape, m.framework == "pytorch")


def _read_shape(shape: list, torch: bool):
    """PyTorch's and Keras' rule: (out, in, k...) or (k..., in, out); the kernel's size multiplies both fans."""
    import sympy

    from examsolve.steps import Step

    if torch:   # torch.nn.init._calculate_fan_in_and_fan_out
        out, inp, kern, order = shape[0], shape[1], shape[2:], "PyTorch (out, in, k...)"
    else:       # keras.initializers _compute_fans
        out, inp, kern, order = shape[-1], shape[-2], shape[:-2], "Keras (k..., in, out)"
    k = 1
    for d in kern:
        k *= d
    fi, fo = sympy.Integer(inp * k), sympy.Integer(out * k)
    ks = "·".join(str(d) for d in kern)
    more = (f": the kernel's {ks} = {k} positions multiply both fans" if kern else "")
    steps = [Step(f"W has shape {tuple(shape)}, read in the {order} order{more}", quantities=(
        ("in", sympy.Integer(inp)), ("out", sympy.Integer(out)), ("kernel size", sympy.Integer(k)))),
        Step("fan_in: the inputs one unit sums over", target=sympy.Symbol("fan_in"),
             formula=sympy.Symbol("in") * sympy.Symbol("k") if kern else sympy.Symbol("in"), value=fi),
        Step("fan_out: the units one input feeds", target=sympy.Symbol("fan_out"),
             formula=sympy.Symbol("out") * sympy.Symbol("k") if kern else sympy.Symbol("out"), value=fo)]
    return fi, fo, steps


def gain_of(nonlinearity: str, slope=None):
    """torch.nn.init.calculate_gain as an exact value (slope: leaky_relu's negative slope, exact)."""
    import sympy

    if nonlinearity in ("linear", "conv", "sigmoid"):
        return sympy.Integer(1)
    if nonlinearity == "tanh":
        return sympy.Rational(5, 3)
    if nonlinearity == "relu":
        return sympy.sqrt(2)
    if nonlinearity == "leaky_relu":
        s = sympy.Rational(1, 100) if slope is None else slope
        return sympy.sqrt(2 / (1 + s**2))
    if nonlinearity == "selu":
        return sympy.Rational(3, 4)
    raise ValueError(f"no gain for {nonlinearity}")


def _gain(spec, scheme: str):
    """The gain a scheme uses, and the step that says where it comes from."""
    import sympy

    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Step

    m = spec.model
    g = sympy.Symbol(f"gain_{scheme}")
    if scheme == "pytorch_default":
        return sympy.sqrt(sympy.Rational(1, 3)), Step("gain² = 2/(1 + a²) with a = √5: 1/3 (fixed)", target=g,
                                                       value=sympy.sqrt(sympy.Rational(1, 3)))
    if m.gain is not None:
        if m.nonlinearity is not None:
            from examsolve.errors import SpecError
            raise SpecError("give gain: or nonlinearity:, not both", spec.loc("gain"))
        value = spec_expr(spec, m.gain, ("gain",), {})
        return value, Step("gain (given)", target=g, value=value)
    if m.nonlinearity is None:
        value = sympy.sqrt(2) if scheme == "he" else sympy.Integer(1)
        why = ("kaiming's default nonlinearity leaky_relu with a = 0: √(2/(1 + 0²)) = √2" if scheme == "he" else
               "no nonlinearity given: gain 1 (xavier_*_'s default gain=1.0)")
        return value, Step(f"gain: {why}", target=g, value=value)
    slope = sympy.Rational(str(m.negative_slope))
    value = gain_of(m.nonlinearity, slope)
    formula = {"tanh": "5/3", "relu": "√2", "selu": "3/4", "leaky_relu": f"√(2/(1 + {slope}²))"}.get(
        m.nonlinearity, "1")
    return value, Step(f"gain of {m.nonlinearity} (torch.nn.init.calculate_gain)", target=g,
                       formula=None if formula == sympy.sstr(value) else formula, value=value)


def _scheme_steps(name: str, mode: str, gain, fi, fo, values: tuple) -> tuple:
    """Variance, σ and the uniform bound of one scheme: formula, numbers put in, result."""
    import sympy

    from examsolve.steps import Step

    var, sigma, bound = values
    g = f"({sympy.sstr(gain)})²" if gain != 1 else "1²"
    fan, fan_n = ("fan_out", fo) if name == "he" and mode == "fan_out" else ("fan_in", fi)
    formula, numbers = {
        "xavier": ("gain²·2/(fan_in + fan_out)", f"{g}·2/({fi} + {fo})"),
        "xavier_fan_in": ("gain²/fan_in", f"{g}/{fi}"),
        "he": (f"gain²/{fan}", f"{g}/{fan_n}"),
        "lecun": ("gain²/fan_in", f"{g}/{fi}"),
        "pytorch_default": ("1/(3·fan_in)", f"1/(3·{fi})")}[name]
    v = sympy.sstr(var)
    return (Step("variance", target=sympy.Symbol(f"Var_{name}"), formula=formula, substituted=numbers, value=var),
            Step("standard deviation of N(0, σ²)", target=sympy.Symbol(f"σ_{name}"), formula="√Var",
                 substituted=f"√({v})", value=sigma),
            Step("bound of U(−a, a): its variance is a²/3", target=sympy.Symbol(f"a_{name}"), formula="√(3·Var)",
                 substituted=f"√(3·{v})", value=bound))


def _bias(spec, fan_in):
    """What the bias starts at: zeros, or PyTorch's U(−1/√fan_in, 1/√fan_in); the other one named too."""
    import sympy

    from examsolve.steps import Answer, Step

    bound = 1 / sympy.sqrt(fan_in)
    other = {"zeros": f"PyTorch's nn.Linear default would draw U(−1/√fan_in, 1/√fan_in), a = {sympy.sstr(bound)} "
                      "(bias: pytorch_default)",
             "pytorch_default": "the Xavier and He questions usually start it at 0 (bias: zeros)"}[spec.model.bias]
    if spec.model.bias == "zeros":
        return (Step(f"bias: {BIAS['zeros']}", target=sympy.Symbol("b"), value=sympy.Integer(0), note=other,
                     quantities=(("bias", sympy.Integer(0)), ("bias bound (pytorch_default)", bound))),
                [Answer("bias", sympy.Integer(0))])
    var = bound**2 / 3
    step = Step(f"bias: {BIAS['pytorch_default']}", note=other, substeps=(
        Step("bound of the bias's U(−a, a)", target=sympy.Symbol("a_b"), formula=1 / sympy.sqrt(
            sympy.Symbol("fan_in")), value=bound),
        Step("variance of the bias", target=sympy.Symbol("Var_b"), formula=sympy.Symbol("a_b")**2 / 3, value=var)))
    return step, [Answer("bias uniform bound", bound), Answer("bias variance", var)]
