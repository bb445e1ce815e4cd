"""network: layer arithmetic for a stack of layers (shapes, parameters, memory, operations, receptive field)."""
import functools

from examsolve.registry import family

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "fp64": 8}
OPS = {
    "macs": "MACs: one multiply-accumulate per weight use (an n-term inner product costs n)",
    "inner_product_n": "an n-dimensional inner product costs n operations (= MACs)",
    "flops_2x": "FLOPs = 2 × MACs (a multiply and an add per weight use)",
    "mults_adds": "n multiplications and n − 1 additions per inner product, plus 1 for the bias",
    "exam_each_op": "each multiplication and each addition is one operation, the sum starting from 0 "
                    "(αx + βy + c: 2 multiplications and 3 additions)",
}




@functools.cache
def _model():
    from typing import Literal, Optional, Union

    from pydantic import Field

    from examsolve.spec import BaseSpec, _Model

    Size = Union[int, list[int]]

    class Layer(_Model):
        """One layer: its type and sizes; a missing size takes the usual default."""

        type: Literal["conv", "depthwise_conv", "pool", "global_avg_pool", "flatten", "dense", "dropout",
                      "batchnorm"] = Field(description="the kind of layer")
        name: str = Field("", description="shown in the table")
        filters: Optional[int] = Field(None, ge=1, description="conv: output channels")
        units: Optional[int] = Field(None, ge=1, description="dense: output size")
        kernel: Optional[Size] = Field(None, description="kernel size, one number or one per spatial axis")
        stride: Optional[Size] = Field(None, description="stride (default 1; a pool's default is its kernel)")
        padding: Union[int, list[int], Literal["same", "valid"]] = Field(0, description="zeros added on each side")
        dilation: Size = Field(1, description="dilation")
        groups: int = Field(1, ge=1, description="conv: groups")
        bias: bool = Field(True, description="a bias per output channel")
        mode: Literal["max", "avg"] = Field("max", description="pool: max or avg")
        multiplier: int = Field(1, ge=1, description="depthwise_conv: outputs per input channel")

    class NetworkSpec(BaseSpec):
        """A stack of layers from an input shape."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        input: list[int] = Field(description="input shape without the batch: channels first (C, H, W) for "
                                             "pytorch, channels last (H, W, C) for keras")
        batch: int = Field(1, ge=1, description="batch size (stamps and activations)")
        framework: Literal["pytorch", "keras"] = Field("pytorch", description="channel order")
        ops: Literal[tuple(OPS)] = Field("macs", description="how operations are counted")
        dtype: Literal[tuple(DTYPE_BYTES)] = Field("fp32", description="bytes per parameter")
        layers: list[Layer] = Field(description="the layers in order")
        compare: list[Layer] = Field(default_factory=list,
                                     description="a second stack on the same input (e.g. depthwise separable)")

    return NetworkSpec


@family("network", summary="layer arithmetic: output shapes, parameters (with and without bias), memory per "
        "dtype, operations under a named counting convention, stamps, receptive fields",
        examples=("conv_shape.yaml", "conv_flops_depthwise.yaml", "conv3d_stamps.yaml", "mlp_params.yaml",
                  "receptive_field.yaml"), model=_model)
def _solve(spec):
    """Walks the layers from the input shape; every number is an exact integer with its formula."""
    from examsolve.asks import check_keys
    from examsolve.errors import SolveError
    from examsolve.steps import Solution, Step

    m = spec.model
    if any(d < 1 for d in m.input):
        raise SolveError(f"input shape {m.input} has a size below 1", spec.loc("input"))
    steps, answers = _walk(spec, m.layers, "layers", "")
    if m.compare:
        more_steps, more = _walk(spec, m.compare, "compare", " (compare)")
        steps = steps + [Step("The compared stack, on the same input", substeps=tuple(more_steps))]
        answers += more
    return Solution(kind=m.kind, title=m.title or "network", source=m.source, file=spec.file,
                    steps=tuple(steps), answers=tuple(check_keys(spec, answers, {})),
                    notes=(f"framework {m.framework} ({'channels first' if m.framework == 'pytorch' else 'channels last'}); "
                           f"operations: {OPS[m.ops]}",))


def _walk(spec, layers, key: str, suffix: str):
    """Steps and answers for one stack of layers."""
    import sympy

    from examsolve.errors import SolveError
    from examsolve.steps import Answer, Step, Table

    m = spec.model
    first = m.framework == "pytorch"
    shape = list(m.input)
    channels, spatial = (shape[0], shape[1:]) if first else (shape[-1], shape[:-1])
    rf, jump, start = 1, 1, sympy.Rational(1, 2)
    steps, rows, answers = [], [], []
    count = OPS[m.ops]
    total_params, total_ops, total_bias, stamps, stamp_size = 0, 0, 0, 0, 0
    count = OPS[m.ops]

    def fmt(ch, sp):
        return tuple([ch] + sp) if first else tuple(sp + [ch])

    for k, layer in enumerate(layers):
        loc = spec.loc(key, k)
        label = layer.name or f"{layer.type} {k + 1}"
        sub = []
        nd = len(spatial)

        def per_axis(v, what):
            vals = [v] * nd if isinstance(v, int) else list(v)
            if len(vals) != nd:
                raise SolveError(f"{label}: {what} has {len(vals)} values for {nd} spatial axes", loc)
            return vals

        params = bias_params = ops = 0
        if layer.type in ("conv", "depthwise_conv", "pool"):
            kern = per_axis(layer.kernel if layer.kernel is not None else 2 if layer.type == "pool" else 3,
                            "kernel")
            stride = per_axis(layer.stride if layer.stride is not None else
                              (layer.kernel or 2) if layer.type == "pool" else 1, "stride")
            dil = per_axis(layer.dilation, "dilation")
            if layer.padding == "valid":
                pad = [0] * nd
            elif layer.padding == "same":
                pad = []
                for kk, d in zip(kern, dil):
                    total = d * (kk - 1)
                    if total % 2:
                        raise SolveError(f"{label}: 'same' padding needs an even total d·(k − 1) = {total}; "
                                         "use an odd kernel or give padding per side", loc)
                    pad.append(total // 2)
                sub.append(Step(f"'same' padding per side: d·(k − 1)/2 = {', '.join(map(str, pad))}"))
            else:
                pad = per_axis(layer.padding, "padding")
            out = []
            for axis, (n, kk, s, p, d) in enumerate(zip(spatial, kern, stride, pad, dil), 1):
                span = d * (kk - 1) + 1
                if span > n + 2 * p:
                    raise SolveError(f"{label}: the kernel spans {span} but the padded input is {n + 2 * p}", loc)
                num = n + 2 * p - d * (kk - 1) - 1
                o = num // s + 1
                if num % s:
                    note = f" (not exact: floor({num}/{s}) = {num // s}; the last {num % s} rows are not covered)"
                else:
                    note = ""
                sub.append(Step(f"output size, spatial axis {axis}: floor((n + 2p − d(k − 1) − 1)/s) + 1 = floor(({n} + 2·{p} − "
                                f"{d}·({kk} − 1) − 1)/{s}) + 1 = {o}{note}"))
                out.append(o)
            window = 1
            for kk in kern:
                window *= kk
            outputs = 1
            for o in out:
                outputs *= o
            if layer.type == "pool":
                new_ch = channels
            elif layer.type == "depthwise_conv":
                new_ch = channels * layer.multiplier
                weights = new_ch * window
                bias_params = new_ch if layer.bias else 0
                params = weights + bias_params
                ops = new_ch * outputs * window
                sub.append(Step(f"weights: one {'×'.join(map(str, kern))} kernel per input channel "
                                f"(× {layer.multiplier}) = {new_ch}·{window} = {weights}; biases {bias_params}"))
            else:
                if layer.filters is None:
                    raise SolveError(f"{label}: give filters: (the number of output channels)", loc)
                if channels % layer.groups or layer.filters % layer.groups:
                    raise SolveError(f"{label}: groups = {layer.groups} must divide the input channels "
                                     f"{channels} and the filters {layer.filters}", loc)
                per_filter = channels // layer.groups * window
                new_ch = layer.filters
                weights = new_ch * per_filter
                bias_params = new_ch if layer.bias else 0
                params = weights + bias_params
                ops = new_ch * outputs * per_filter
                shape_pt = (new_ch, channels // layer.groups, *kern)
                shape_k = (*kern, channels // layer.groups, new_ch)
                sub.append(Step(f"weights: filters × (C_in/groups) × kernel = {new_ch}·{channels // layer.groups}·"
                                f"{window} = {weights}; biases {bias_params}; weight tensor (out, in, k...) "
                                f"{shape_pt} in PyTorch, (k..., in, out) {shape_k} in Keras"))
                each = ", ".join(f"{rule} {_ops(rule, per_filter, 1, layer.bias)}" for rule in OPS)
                sub.append(Step(f"one stamp (one output value): an inner product of {per_filter} terms"
                                f"{' plus a bias' if layer.bias else ''}; operations per stamp by convention: "
                                f"{each}; stamps per example: {new_ch}·{outputs} = {new_ch * outputs} "
                                f"({outputs} positions × {new_ch} filters)"))
            # receptive field: r_k = r_(k-1) + (f_k − 1)·j_(k-1), j_k = j_(k-1)·s_k (first axis)
            f_eff = dil[0] * (kern[0] - 1) + 1
            rf = rf + (f_eff - 1) * jump
            start = start + ((f_eff - 1) / sympy.Integer(2) - pad[0]) * jump
            jump = jump * stride[0]
            sub.append(Step(f"receptive field r = r_prev + (k_eff − 1)·j_prev = {rf}; jump j = {jump}"))
            spatial = out
            channels = new_ch
        elif layer.type == "global_avg_pool":
            spatial = [1] * len(spatial)
        elif layer.type == "flatten":
            size = channels
            for n in spatial:
                size *= n
            channels, spatial = size, []
        elif layer.type == "dense":
            if layer.units is None:
                raise SolveError(f"{label}: give units:", loc)
            if spatial and any(n != 1 for n in spatial):
                raise SolveError(f"{label}: dense needs a flat input; add a flatten layer first", loc)
            weights = channels * layer.units
            bias_params = layer.units if layer.bias else 0
            params = weights + bias_params
            ops = weights
            sub.append(Step(f"parameters: in × out + bias = {channels}·{layer.units} + {bias_params} = {params}"))
            channels, spatial = layer.units, []
        elif layer.type == "batchnorm":
            params = 2 * channels
            sub.append(Step(f"γ and β per channel: 2·{channels} = {params} trainable; the running mean and "
                            f"variance ({2 * channels}) are not trained"))
        shape_now = fmt(channels, spatial)
        if ops:
            sub.append(Step(f"operations ({count}): " + _ops_text(m.ops, ops, layer, new_outputs(shape_now))))
        total_params += params
        total_bias += bias_params
        total_ops += _ops(m.ops, ops, _units(shape_now), bool(bias_params)) if ops else 0
        if layer.type in ("conv", "depthwise_conv"):
            stamps += _units(shape_now)
            stamp_size = ops // _units(shape_now)
        rows.append((label, str(shape_now), params))
        steps.append(Step(f"{label}: output {shape_now}, parameters {params}", substeps=tuple(sub)))

    nbytes = total_params * DTYPE_BYTES[m.dtype]
    steps.append(Step("Summary", table=Table(("layer", "output shape", "parameters"), tuple(rows))))
    for name, value in (("output shape", str(fmt(channels, spatial))), ("parameters", total_params),
                        ("parameters without bias", total_params - total_bias),
                        (f"parameter memory ({m.dtype}, bytes)", nbytes),
                        (f"parameter memory without bias ({m.dtype}, bytes)",
                         (total_params - total_bias) * DTYPE_BYTES[m.dtype]),
                        (f"operations ({m.ops})", total_ops), ("receptive field", rf), ("jump", jump),
                        ("stamps per example", stamps), (f"stamps for the batch of {m.batch}", stamps * m.batch),
                        (f"operations per stamp ({m.ops}, last conv)",
                         _ops(m.ops, stamp_size, 1, bool(layers and layers[-1].bias)) if stamp_size else 0)):
        answers.append(Answer(name + suffix, sympy.Integer(value) if isinstance(value, int) else value))
    return steps, answers


def _units(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def new_outputs(shape) -> int:
    """Number of output values of a layer."""
    return _units(shape)


def _ops(rule: str, macs: int, outputs: int, bias: bool) -> int:
    """Operations of a layer with `macs` weight uses and `outputs` output values, under a rule."""
    if rule in ("macs", "inner_product_n"):
        return macs
    if rule == "flops_2x":
        return 2 * macs
    if rule == "mults_adds":   # n mults, n − 1 adds, + 1 for a bias
        return 2 * macs - outputs + (outputs if bias else 0)
    return 2 * macs + (outputs if bias else 0)   # exam: the sum starts from 0, so n adds (+1 for a bias)


def _ops_text(rule: str, macs: int, layer, outputs: int) -> str:
    total = _ops(rule, macs, outputs, layer.bias and layer.type != "pool")
    return f"{macs} weight uses (MACs) over {outputs} outputs → {total}"
