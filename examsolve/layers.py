"""Layer arithmetic for the network family: one function per layer type, each giving steps and counts."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import sympy

from examsolve.errors import SolveError
from examsolve.steps import Answer, Step, Table

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "fp64": 8}
OPS = {
    "macs": "MACs: one multiply-accumulate per weight use (an n-term inner product costs n)",
    "inner_product_n": "an n-dimensional inner product costs n operations (= MACs)",
    "flops_2x": "FLOPs = 2 × MACs (a multiply and an add per weight use)",
    "mults_adds": "n multiplications and n − 1 additions per inner product, plus 1 for the bias",
    "exam_each_op": "each multiplication and each addition is one operation, the sum starting from 0 "
                    "(αx + βy + c: 2 multiplications and 3 additions)",
}


@dataclass(frozen=True)
class Tensor:
    """What flows between layers: channels and spatial sizes, or a sequence, or a flat vector."""

    channels: Any                 # features (an int, or a sympy expression for an unknown size)
    spatial: tuple = ()           # H, W (and D) for images; (T,) for sequences
    kind: str = "image"           # image | sequence | tokens | flat
    rf: int = 1                   # receptive field on the first spatial axis
    jump: int = 1                 # distance in input pixels between neighbouring outputs
    start: Any = sympy.Rational(1, 2)   # centre of the first output's field, in input pixels

    def shape(self, channels_first: bool) -> tuple:
        if self.kind == "tokens":
            return tuple(self.spatial)
        if self.kind == "sequence":
            return tuple(self.spatial) + (self.channels,)
        if not self.spatial:
            return (self.channels,)
        return (self.channels,) + tuple(self.spatial) if channels_first else tuple(self.spatial) + (self.channels,)

    @property
    def size(self) -> Any:
        n = self.channels if self.kind != "tokens" else 1
        for d in self.spatial:
            n *= d
        return n


@dataclass
class Count:
    """What one layer (or block) adds up to."""

    params: Any = 0
    bias: Any = 0
    frozen: Any = 0               # non-trainable (batch norm's running mean and variance)
    macs: Any = 0                 # weight uses
    outputs: Any = 0              # values computed by inner products (for the operation rules)
    stamps: Any = 0
    stamp_size: Any = 0
    steps: list = field(default_factory=list)

    def add(self, other: "Count") -> None:
        for k in ("params", "bias", "frozen", "macs", "outputs", "stamps"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        if other.stamp_size:
            self.stamp_size = other.stamp_size


class Ctx:
    """The spec, the unknown sizes and where errors point."""

    def __init__(self, spec, subs: dict):
        self.spec, self.subs = spec, subs
        self.first = spec.model.framework == "pytorch"
        self.keras = spec.model.framework == "keras"

    def count(self, v, label: str, what: str, loc) -> Any:
        if v is None:
            raise SolveError(f"{label}: give {what}:", loc)
        if isinstance(v, str):
            if v not in self.subs:
                raise SolveError(f"{label}: {what} '{v}' is not a number; name it under unknown: to solve for it",
                                 loc)
            return self.subs[v]
        return v


def ops(rule: str, macs: Any, outputs: Any, bias: bool) -> Any:
    """Operations for `macs` weight uses producing `outputs` values, under a named rule."""
    if rule in ("macs", "inner_product_n"):
        return macs
    if rule == "flops_2x":
        return 2 * macs
    if rule == "mults_adds":   # n mults, n − 1 adds, + 1 for a bias
        return 2 * macs - outputs + (outputs if bias else 0)
    return 2 * macs + (outputs if bias else 0)   # exam: the sum starts from 0, so n adds (+1 for a bias)


def _axes(v, nd: int, what: str, label: str, loc) -> list:
    vals = [v] * nd if isinstance(v, int) else list(v)
    if len(vals) != nd:
        raise SolveError(f"{label}: {what} has {len(vals)} values for {nd} spatial axes", loc)
    if any(x < 0 for x in vals):
        raise SolveError(f"{label}: {what} {vals} is negative", loc)
    return vals


def _window(layer, x: Tensor, ctx: Ctx, label: str, loc, default_kernel: int):
    """Kernel, stride, padding and dilation per axis, and the output sizes with their steps."""
    nd = len(x.spatial)
    if x.kind != "image" or nd == 0:
        raise SolveError(f"{label}: needs an image-like input (channels and spatial axes), got {x.kind}", loc)
    kern = _axes(layer.kernel if layer.kernel is not None else default_kernel, nd, "kernel", label, loc)
    stride = _axes(layer.stride if layer.stride is not None else kern if layer.type == "pool" else 1,
                   nd, "stride", label, loc)
    dil = _axes(layer.dilation, nd, "dilation", label, loc)
    steps = []
    if layer.padding == "valid":
        pad = [0] * nd
    elif layer.padding == "same":
        pad = []
        for k, d in zip(kern, dil):
            if (d * (k - 1)) % 2:
                raise SolveError(f"{label}: 'same' padding needs an even d·(k − 1) = {d * (k - 1)}; use an odd "
                                 "kernel or give the padding per side", loc)
            pad.append(d * (k - 1) // 2)
        steps.append(Step(f"'same' padding per side: d·(k − 1)/2 = {', '.join(map(str, pad))}"))
    else:
        pad = _axes(layer.padding, nd, "padding", label, loc)
    out = []
    for axis, (n, k, s, p, d) in enumerate(zip(x.spatial, kern, stride, pad, dil), 1):
        if layer.type == "conv_transpose":
            o = (n - 1) * s - 2 * p + d * (k - 1) + layer.output_padding + 1
            steps.append(Step(f"axis {axis}: (n − 1)·s − 2p + d(k − 1) + output_padding + 1 = ({n} − 1)·{s} − "
                              f"2·{p} + {d}·({k} − 1) + {layer.output_padding} + 1 = {o}"))
            if o < 1:
                raise SolveError(f"{label}: output size {o} on axis {axis}", loc)
            out.append(o)
            continue
        span = d * (k - 1) + 1
        if span > n + 2 * p:
            raise SolveError(f"{label}: the kernel spans {span} but the padded input is {n + 2 * p} on axis "
                             f"{axis}; pad more or use a smaller kernel", loc)
        num = n + 2 * p - span
        o = (-(-num // s) if layer.ceil_mode else num // s) + 1
        if layer.ceil_mode and (o - 1) * s >= n + p:
            o -= 1     # PyTorch: the last window may not start in the right padding
        rule = "ceil" if layer.ceil_mode else "floor"
        note = ""
        if num % s:
            if ctx.spec.model.exact_sizes:
                raise SolveError(f"{label}: (n + 2p − d(k − 1) − 1)/s = {num}/{s} is not a whole number on axis "
                                 f"{axis}; change the padding or the stride", loc)
            note = f" ({num}/{s} is not whole: {rule} gives {o - 1})"
        steps.append(Step(f"axis {axis}: {rule}((n + 2p − d(k − 1) − 1)/s) + 1 = {rule}(({n} + 2·{p} − "
                          f"{d}·({k} − 1) − 1)/{s}) + 1 = {o}{note}"))
        out.append(o)
    k0 = dil[0] * (kern[0] - 1) + 1
    rf, jump = x.rf + (k0 - 1) * x.jump, x.jump * stride[0]
    begin = x.start + (sympy.Rational(k0 - 1, 2) - pad[0]) * x.jump
    steps.append(Step(f"receptive field r = r_prev + (k_eff − 1)·j_prev = {x.rf} + ({k0} − 1)·{x.jump} = {rf}; "
                      f"jump j = j_prev·s = {jump}; start = start_prev + ((k_eff − 1)/2 − p)·j_prev = {begin}"))
    return kern, out, rf, jump, begin, steps


def _prod(xs) -> Any:
    n = 1
    for v in xs:
        n *= v
    return n


def conv(layer, x, ctx, label, loc):
    kern, out, rf, jump, begin, steps = _window(layer, x, ctx, label, loc, 3)
    window, positions = _prod(kern), _prod(out)
    if layer.type == "depthwise_conv":
        c_out, per = x.channels * layer.multiplier, window
        weights = c_out * window
        steps.append(Step(f"weights: one {'×'.join(map(str, kern))} kernel per input channel "
                          f"(× {layer.multiplier}) = {c_out}·{window} = {weights}"))
    else:
        c_out = ctx.count(layer.filters, label, "filters", loc)
        g = layer.groups
        if (isinstance(x.channels, int) and x.channels % g) or (isinstance(c_out, int) and c_out % g):
            raise SolveError(f"{label}: groups = {g} must divide the input channels {x.channels} and the "
                             f"filters {c_out}", loc)
        per = x.channels // g * window if isinstance(x.channels, int) else x.channels / g * window
        weights = c_out * per
        c_in = x.channels // g if isinstance(x.channels, int) else x.channels / g
        torch_shape = ", ".join(map(str, (c_out, c_in, *kern)))
        keras_shape = ", ".join(map(str, (*kern, c_in, c_out)))
        steps.append(Step(f"weights: filters × (C_in/groups) × kernel = {c_out}·{x.channels}/{g}·{window} = "
                          f"{weights}; weight tensor (out, in/groups, k...) = ({torch_shape}) in PyTorch, "
                          f"(k..., in/groups, out) = ({keras_shape}) in Keras"))
    bias = c_out if layer.bias else 0
    if layer.type == "conv_transpose":
        inputs = _prod(x.spatial)
        macs = inputs * per * c_out
        steps.append(Step(f"each of the {inputs} input positions scatters through {per} weights into {c_out} "
                          f"channels: {macs} weight uses"))
        c = Count(weights + bias, bias, 0, macs, c_out * positions, 0, 0, steps)
    else:
        macs = c_out * positions * per
        each = ", ".join(f"{r} {ops(r, per, 1, layer.bias)}" for r in
                         ("macs", "flops_2x", "mults_adds", "exam_each_op"))
        steps.append(Step(f"one stamp (one output value): an inner product of {per} terms"
                          f"{' plus a bias' if layer.bias else ''}; operations per stamp: {each}; stamps: "
                          f"{c_out}·{positions} = {c_out * positions} ({positions} positions × {c_out} filters)"))
        c = Count(weights + bias, bias, 0, macs, c_out * positions, c_out * positions, per, steps)
    return replace(x, channels=c_out, spatial=tuple(out), rf=rf, jump=jump, start=begin), c


def pool(layer, x, ctx, label, loc):
    kern, out, rf, jump, begin, steps = _window(layer, x, ctx, label, loc, 2)
    steps.append(Step(f"{layer.mode} pooling has no parameters"))
    return replace(x, spatial=tuple(out), rf=rf, jump=jump, start=begin), Count(steps=steps)


def global_avg_pool(layer, x, ctx, label, loc):
    if x.kind != "image":
        raise SolveError(f"{label}: needs an image-like input", loc)
    return replace(x, spatial=(1,) * len(x.spatial) if ctx.first else ()), \
        Count(steps=[Step("the mean over each channel's spatial positions; no parameters")])


def flatten(layer, x, ctx, label, loc):
    return Tensor(x.size, (), "flat", x.rf, x.jump), Count(steps=[Step(f"{x.size} values in one vector")])


def dense(layer, x, ctx, label, loc):
    n = ctx.count(layer.units, label, "units", loc)
    if x.kind == "image" and x.spatial and any(d != 1 for d in x.spatial):
        raise SolveError(f"{label}: dense needs a flat input; add a flatten layer first", loc)
    d = x.channels
    steps_ = 1 if x.kind != "sequence" else _prod(x.spatial)   # Keras applies Dense at every step
    bias = n if layer.bias else 0
    steps = [Step(f"parameters: in × out + bias = {d}·{n} + {bias} = {d * n + bias}")]
    kind = "sequence" if x.kind == "sequence" else "flat"
    return Tensor(n, x.spatial if kind == "sequence" else (), kind, x.rf, x.jump), \
        Count(d * n + bias, bias, 0, d * n * steps_, n * steps_, 0, 0, steps)


def passthrough(layer, x, ctx, label, loc):
    return x, Count(steps=[Step(f"{layer.type}: no parameters; the shape is unchanged")])


def batchnorm(layer, x, ctx, label, loc):
    c = x.channels
    return x, Count(2 * c, 0, 2 * c, 0, 0, 0, 0, [Step(
        f"γ and β per channel: 2·{c} = {2 * c} trainable; the running mean and variance, 2·{c} = {2 * c}, "
        "are not trained")])


def layernorm(layer, x, ctx, label, loc):
    c = x.channels
    return x, Count(2 * c, 0, 0, 0, 0, 0, 0, [Step(
        f"γ and β over the last axis ({c} features): 2·{c} = {2 * c}")])


def embedding(layer, x, ctx, label, loc):
    if layer.vocab is None or layer.dim is None:
        raise SolveError(f"{label}: give vocab: and dim:", loc)
    if x.kind != "tokens":
        raise SolveError(f"{label}: the input of an embedding is a sequence of token ids, input: [T]", loc)
    p = layer.vocab * layer.dim
    return Tensor(layer.dim, x.spatial, "sequence"), Count(p, 0, 0, 0, 0, 0, 0, [Step(
        f"a table of vocab × dim = {layer.vocab}·{layer.dim} = {p} weights")])


def recurrent(layer, x, ctx, label, loc):
    if x.kind != "sequence":
        raise SolveError(f"{label}: needs a sequence input, input: [T, features]", loc)
    n = ctx.count(layer.units, label, "units", loc)
    d = x.channels
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[layer.type]
    weights = gates * n * (d + n)
    if ctx.keras and layer.type != "gru":
        biases, rule = gates * n, "Keras: one bias per gate"
    elif ctx.keras:
        biases, rule = gates * 2 * n, "Keras GRU (reset_after=True, the TF2 default): two biases per gate"
    else:
        biases, rule = gates * 2 * n, "PyTorch: b_ih and b_hh, two biases per gate"
    if not layer.bias:
        biases, rule = 0, "no bias"
    T = _prod(x.spatial)
    steps = [Step(f"{gates} gate{'s' if gates > 1 else ''} × n·(d + n) weights = {gates}·{n}·({d} + {n}) = "
                  f"{weights}; {rule}: {biases}; total {weights + biases}")]
    out = Tensor(n, x.spatial, "sequence") if layer.return_sequences else Tensor(n, (), "flat")
    return out, Count(weights + biases, biases, 0, weights * T, gates * n * T, 0, 0, steps)


def residual(layer, x, ctx, label, loc):
    main, cm = run_path(layer.layers, x, ctx, loc)
    short, cs = run_path(layer.projection, x, ctx, loc) if layer.projection else (x, Count())
    if main.shape(ctx.first) != short.shape(ctx.first):
        raise SolveError(f"{label}: the main path gives {main.shape(ctx.first)} but the shortcut gives "
                         f"{short.shape(ctx.first)}; add a projection with the right stride and filters", loc)
    c = Count()
    c.add(cm)
    c.add(cs)
    c.steps = [Step("main path", substeps=tuple(cm.steps)),
               Step("shortcut: " + ("projection" if layer.projection else "identity (no parameters)"),
                    substeps=tuple(cs.steps)),
               Step(f"the two paths are added elementwise: {main.shape(ctx.first)}")]
    return main, c


def concat(layer, x, ctx, label, loc):
    outs, c = [], Count()
    for b, branch in enumerate(layer.branches):
        y, cb = run_path(branch, x, ctx, loc)
        outs.append(y)
        c.add(cb)
        c.steps.append(Step(f"branch {b + 1}: {y.shape(ctx.first)}", substeps=tuple(cb.steps)))
    if not outs or len({o.spatial for o in outs}) != 1:
        raise SolveError(f"{label}: the branches must keep one spatial size to be concatenated", loc)
    total = sum(o.channels for o in outs)
    c.steps.append(Step(f"channels are concatenated: {' + '.join(str(o.channels) for o in outs)} = {total}"))
    return replace(outs[0], channels=total, rf=max(o.rf for o in outs)), c


HANDLERS = {"conv": conv, "conv_transpose": conv, "depthwise_conv": conv, "pool": pool,
            "global_avg_pool": global_avg_pool, "flatten": flatten, "dense": dense, "dropout": passthrough,
            "activation": passthrough, "batchnorm": batchnorm, "layernorm": layernorm, "embedding": embedding,
            "simple_rnn": recurrent, "lstm": recurrent, "gru": recurrent, "residual": residual, "concat": concat}


def run_path(layers, x: Tensor, ctx: Ctx, loc) -> tuple[Tensor, Count]:
    """A path of layers inside a block: its output and its counts."""
    total = Count()
    for k, layer in enumerate(layers):
        label = layer.name or f"{layer.type} {k + 1}"
        x, c = HANDLERS[layer.type](layer, x, ctx, label, loc)
        total.add(c)
        total.steps.append(Step(f"{label}: output {x.shape(ctx.first)}, parameters {c.params}",
                                substeps=tuple(c.steps)))
    return x, total


def start(spec) -> Tensor:
    """The input as a Tensor, read in the framework's channel order."""
    m = spec.model
    shape = list(m.input)
    first = m.framework == "pytorch"
    kinds = {layer.type for layer in m.layers[:1]}
    if kinds & {"embedding"}:
        return Tensor(1, tuple(shape), "tokens")
    if kinds & {"simple_rnn", "lstm", "gru"}:
        return Tensor(shape[-1], tuple(shape[:-1]), "sequence")
    if len(shape) == 1:
        return Tensor(shape[0], (), "flat")
    return Tensor(shape[0], tuple(shape[1:])) if first else Tensor(shape[-1], tuple(shape[:-1]))


def walk(spec, layers, key: str, suffix: str, subs: dict) -> tuple[list, list]:
    """Steps and answers for one stack of layers (numbered as in the spec)."""
    m = spec.model
    ctx = Ctx(spec, subs)
    x = start(spec)
    steps, rows, total = [], [], Count()
    for k, layer in enumerate(layers):
        label = layer.name or f"{layer.type} {k + 1}"
        x, c = HANDLERS[layer.type](layer, x, ctx, label, spec.loc(key, k))
        total.add(c)
        if c.macs:
            c.steps.append(Step(f"operations ({OPS_NAMES[m.ops]}): {c.macs} weight uses over {c.outputs} outputs "
                                f"→ {ops(m.ops, c.macs, c.outputs, c.bias != 0)}"))
        rows.append((label, str(x.shape(ctx.first)), c.params))
        steps.append(Step(f"{label}: output {x.shape(ctx.first)}, parameters {c.params}",
                          substeps=tuple(c.steps), quantities=_layer_quantities(key, k, layer, x, c, ctx)))
    steps.append(Step("Summary", table=Table(("layer", "output shape", "parameters"), tuple(rows))))
    trainable = total.params
    size = DTYPE_BYTES[m.dtype]
    last_bias = bool(layers) and getattr(layers[-1], "bias", False)
    values = (
        ("output shape", shape_vector(x.shape(ctx.first))),
        ("parameters", trainable),
        ("parameters without bias", trainable - total.bias),
        ("non-trainable parameters", total.frozen),
        (f"parameter memory ({m.dtype}, bytes)", trainable * size),
        (f"parameter memory without bias ({m.dtype}, bytes)", (trainable - total.bias) * size),
        (f"operations ({m.ops})", ops(m.ops, total.macs, total.outputs, total.bias != 0)),
        ("receptive field", x.rf), ("jump", x.jump),
        ("stamps per example", total.stamps), (f"stamps for the batch of {m.batch}", total.stamps * m.batch),
        (f"operations per stamp ({m.ops}, last conv)",
         ops(m.ops, total.stamp_size, 1, last_bias) if total.stamp_size else 0),
    )
    answers = [Answer(name + suffix, sympy.Integer(v) if isinstance(v, int) else v) for name, v in values]
    return steps, answers


def _layer_quantities(key: str, k: int, layer, x: Tensor, c: Count, ctx: Ctx) -> tuple:
    """One layer's values by dotted name: layers.0.parameters (and layers.NAME.parameters for a named layer)."""
    m = ctx.spec.model
    shape = x.shape(ctx.first)
    values = (("output_shape", shape_vector(shape)), ("parameters", c.params), ("parameters_without_bias", c.params - c.bias),
              ("bias", c.bias), ("non_trainable", c.frozen),
              ("operations", ops(m.ops, c.macs, c.outputs, c.bias != 0) if c.macs else 0),
              ("stamps", c.stamps), ("receptive_field", x.rf), ("jump", x.jump))
    prefixes = [f"{key}.{k}"] + ([f"{key}.{layer.name}"] if getattr(layer, "name", None) else [])
    return tuple((f"{p}.{n}", sympy.Integer(v) if isinstance(v, int) else v) for p in prefixes for n, v in values)


def shape_vector(shape: tuple):
    """A shape as a vector of integers (its JSON form is an integer array)."""
    from examsolve.tensor import Tensor as Values

    return Values((len(shape),), tuple(sympy.Integer(d) if isinstance(d, int) else d for d in shape))


OPS_NAMES = {"macs": "MACs", "inner_product_n": "n per n-term inner product", "flops_2x": "2 × MACs",
             "mults_adds": "n mults + (n − 1) adds + bias", "exam_each_op": "each + and × counted"}
