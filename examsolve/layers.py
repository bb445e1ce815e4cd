"""Layer arithmetic for the network family: one function per layer type, each giving steps and counts.

Every step that computes a number carries it as a quantity under a name relative to its layer
(`padding[0]`, `weight_shape`); walk() and run_path() put the layer's prefixes in front (`layers.0.`,
`layers.conv1.`, `layers.3.layers.0.` inside a residual block).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import sympy

from examsolve.errors import SolveError
from examsolve.steps import Step, Table

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "fp64": 8}
OPS = {
    "macs": "MACs: one multiply-accumulate per weight use (an n-term inner product costs n)",
    "inner_product_n": "an n-dimensional inner product costs n operations (= MACs)",
    "flops_2x": "FLOPs = 2 × MACs (a multiply and an add per weight use)",
    "mults_adds": "n multiplications and n − 1 additions per inner product, plus 1 for the bias",
    "exam_each_op": "each multiplication and each addition is one operation, the sum starting from 0 "
                    "(αx + βy + c: 2 multiplications and 3 additions)",
}
RULES = ("macs", "flops_2x", "mults_adds", "exam_each_op")   # the per-stamp counts shown side by side


@dataclass(frozen=True)
class Tensor:
    """What flows between layers: channels and spatial sizes, or a sequence, or a flat vector."""

    channels: Any                 # features (an int, or a sympy expression for an unknown size)
    spatial: tuple = ()           # H, W (and D) for images; (T,) for sequences
    kind: str = "image"           # image | sequence | tokens | flat
    # per axis of an image input (empty for flat, sequence and token inputs, which have no field):
    rf: tuple = ()                # receptive field: input pixels one output sees
    jump: tuple = ()              # distance in input pixels between neighbouring outputs
    start: tuple = ()             # centre of the first output's field, in input pixels
    grid: tuple = ()              # sizes of the map whose positions the field describes (kept by flatten)
    patch: tuple = ()             # after a dense unit: the field one position had (dense_receptive_field: carried)
    # after a transposed convolution, outputs see different numbers of pixels: per axis, position -> the input
    # pixels (first, last) it depends on, counted position by position (empty while every field is alike)
    reach: tuple = ()

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
    extra: tuple = ()             # the layer's own quantities besides the counts: padding, output_size
    by_type: dict = field(default_factory=dict)   # layer type -> [layers, parameters, non-trainable]
    units: list = field(default_factory=list)     # the units of every dense layer, in order
    norm_channels: list = field(default_factory=list)   # the channels of every batch norm layer, in order

    def add(self, other: "Count") -> None:
        for k in ("params", "bias", "frozen", "macs", "outputs", "stamps"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        if other.stamp_size:
            self.stamp_size = other.stamp_size
        for t, (n, p, f) in other.by_type.items():
            mine = self.by_type.setdefault(t, [0, 0, 0])
            mine[0], mine[1], mine[2] = mine[0] + n, mine[1] + p, mine[2] + f
        self.units += other.units
        self.norm_channels += other.norm_channels

    def tally(self, kind: str) -> "Count":
        """The layer itself counted under its type (a block's inner layers are already counted by theirs)."""
        own = (1, 0, 0) if kind in ("residual", "concat") else (1, self.params, self.frozen)
        mine = self.by_type.setdefault(kind, [0, 0, 0])
        mine[0], mine[1], mine[2] = mine[0] + own[0], mine[1] + own[1], mine[2] + own[2]
        return self


class Ctx:
    """The spec, the unknown sizes and where errors point."""

    def __init__(self, spec, subs: dict):
        self.spec, self.subs = spec, subs
        self.first = spec.model.framework == "pytorch"
        self.keras = spec.model.framework == "keras"
        self.input_grid = start(spec).grid      # the input's spatial sizes: the whole field of a dense unit

    def count(self, v, label: str, what: str, loc) -> Any:
        if v is None:
            raise SolveError(f"{label}: give {what}:", loc)
        if isinstance(v, str):
            if v not in self.subs:
                raise SolveError(f"{label}: {what} '{v}' is not a number; name it under unknown: to solve for it",
                                 loc)
            return self.subs[v]
        return v


def num(v: Any) -> Any:
    """An int as a sympy Integer (a quantity's value); sympy values unchanged."""
    return sympy.Integer(v) if isinstance(v, int) else v


def vector(items) -> Any:
    """Integers as a vector quantity (its JSON form is an integer array)."""
    from examsolve.tensor import Tensor as Values

    items = tuple(num(d) for d in items)
    return Values((len(items),), items)


def calc(title: str, formula: str | None, substituted: str | None, value: Any, name: str, note: str = "",
         more: tuple = ()) -> Step:
    """A step computing one value: title, general formula, numbers put in, result, addressable as `name`."""
    value = num(value)
    if substituted == str(value):   # the numbers put in are the result: shown once
        substituted = None
    return Step(title, formula=formula, substituted=substituted, value=value, note=note,
                quantities=((name, value),) + tuple((n, num(v)) for n, v in more))


def dots(xs) -> str:
    """Sizes written as a product: 3·3·3."""
    return "·".join(str(v) for v in xs)


def ops(rule: str, macs: Any, outputs: Any, bias: bool) -> Any:
    """Operations for `macs` weight uses producing `outputs` values, under a named rule."""
    if rule in ("macs", "inner_product_n"):
        return macs
    if rule == "flops_2x":
        return 2 * macs
    if rule == "mults_adds":   # n mults, n − 1 adds, + 1 for a bias
        return 2 * macs - outputs + (outputs if bias else 0)
    return 2 * macs + (outputs if bias else 0)   # exam: the sum starts from 0, so n adds (+1 for a bias)


def ops_formula(rule: str, bias: bool) -> str:
    """The operation count of `ops` in symbols: MACs weight uses over `outputs` inner products."""
    if rule in ("macs", "inner_product_n"):
        return "MACs"
    if rule == "flops_2x" or (rule == "mults_adds" and bias):
        return "2·MACs"
    if rule == "mults_adds":
        return "2·MACs − outputs"
    return "2·MACs + outputs" if bias else "2·MACs"


def ops_numbers(rule: str, bias: bool, macs: Any, outputs: Any) -> str:
    """ops_formula with the numbers put in."""
    return ops_formula(rule, bias).replace("MACs", str(macs)).replace("outputs", str(outputs))


def _axes(v, nd: int, what: str, label: str, loc) -> list:
    vals = [v] * nd if isinstance(v, int) else list(v)
    if len(vals) != nd:
        raise SolveError(f"{label}: {what} has {len(vals)} values for {nd} spatial axes", loc)
    if any(x < 0 for x in vals):
        raise SolveError(f"{label}: {what} {vals} is negative", loc)
    return vals


@dataclass
class Window:
    """A sliding window's sizes per spatial axis, its output sizes, and the steps that computed them."""

    kern: list
    stride: list
    dil: list
    pad: list
    out: list = field(default_factory=list)
    steps: list = field(default_factory=list)


def _padding(layer, kern: list, dil: list, nd: int, label: str, loc) -> tuple[list, list]:
    """Zeros added on each side, per axis; 'same' is worked out (one step per axis)."""
    if layer.padding == "valid":
        return [0] * nd, []
    if layer.padding != "same":
        return _axes(layer.padding, nd, "padding", label, loc), []
    pad, steps = [], []
    for axis, (k, d) in enumerate(zip(kern, dil)):
        if (d * (k - 1)) % 2:
            raise SolveError(f"{label}: 'same' padding needs an even d·(k − 1) = {d * (k - 1)}; use an odd "
                             "kernel or give the padding per side", loc)
        pad.append(d * (k - 1) // 2)
        steps.append(calc(f"axis {axis + 1}: 'same' padding per side", "d·(k − 1)/2", f"{d}·({k} − 1)/2",
                          pad[-1], f"padding[{axis}]"))
    return pad, steps


def _window(layer, x: Tensor, ctx: Ctx, label: str, loc, default_kernel: int) -> Window:
    """Kernel, stride, padding and dilation per axis, and the output sizes with their steps."""
    nd = len(x.spatial)
    if x.kind != "image" or nd == 0:
        raise SolveError(f"{label}: needs an image-like input (channels and spatial axes), got {x.kind}", loc)
    kern = _axes(layer.kernel if layer.kernel is not None else default_kernel, nd, "kernel", label, loc)
    stride = _axes(layer.stride if layer.stride is not None else kern if layer.type == "pool" else 1,
                   nd, "stride", label, loc)
    dil = _axes(layer.dilation, nd, "dilation", label, loc)
    pad, steps = _padding(layer, kern, dil, nd, label, loc)
    w = Window(kern, stride, dil, pad, steps=steps)
    for axis, n in enumerate(x.spatial):
        size = _transposed_size if layer.type == "conv_transpose" else _sliding_size
        w.out.append(size(layer, w, axis, n, ctx, label, loc))
    return w


def _transposed_size(layer, w: Window, axis: int, n: int, ctx: Ctx, label: str, loc) -> int:
    """One axis of a transposed convolution's output, with its step."""
    k, s, p, d, op = w.kern[axis], w.stride[axis], w.pad[axis], w.dil[axis], layer.output_padding
    o = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if o < 1:
        raise SolveError(f"{label}: output size {o} on axis {axis + 1}", loc)
    w.steps.append(calc(f"axis {axis + 1}: output size", "(n − 1)·s − 2p + d·(k − 1) + output_padding + 1",
                        f"({n} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1", o, f"output_size[{axis}]"))
    return o


def _sliding_size(layer, w: Window, axis: int, n: int, ctx: Ctx, label: str, loc) -> int:
    """One axis of a convolution's or pool's output, floor (or ceil_mode) rule, with its step."""
    k, s, p, d = w.kern[axis], w.stride[axis], w.pad[axis], w.dil[axis]
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        raise SolveError(f"{label}: the kernel spans {span} but the padded input is {n + 2 * p} on axis "
                         f"{axis + 1}; pad more or use a smaller kernel", loc)
    num_ = n + 2 * p - span
    o = (-(-num_ // s) if layer.ceil_mode else num_ // s) + 1
    note = ""
    if layer.ceil_mode and (o - 1) * s >= n + p:
        o -= 1     # PyTorch: the last window may not start in the right padding
        note = "ceil_mode: one window less, as the last one would start in the right padding (PyTorch)"
    rule = "ceil" if layer.ceil_mode else "floor"
    if num_ % s:
        if ctx.spec.model.exact_sizes:
            raise SolveError(f"{label}: (n + 2p − d(k − 1) − 1)/s = {num_}/{s} is not a whole number on axis "
                             f"{axis + 1}; change the padding or the stride", loc)
        note = note or f"the division is not whole: {rule} rounds it {'up' if layer.ceil_mode else 'down'}"
    w.steps.append(calc(f"axis {axis + 1}: output size", f"{rule}((n + 2p − d·(k − 1) − 1)/s) + 1",
                        f"{rule}(({n} + 2·{p} − {d}·({k} − 1) − 1)/{s}) + 1", o, f"output_size[{axis}]", note))
    return o


def _field(x: Tensor, w: Window, transposed: bool = False) -> tuple[dict, list]:
    """Receptive field, jump and start on every spatial axis (Tensor fields), the steps for axis 1."""
    if transposed or x.reach:
        return _counted_field(x, w, transposed)
    rfs, jumps, starts = [], [], []
    for a in range(len(w.kern)):
        k, s, p, d = w.kern[a], w.stride[a], w.pad[a], w.dil[a]
        rfs.append(x.rf[a] + d * (k - 1) * x.jump[a])
        jumps.append(x.jump[a] * s)
        starts.append(x.start[a] + (sympy.Rational(d * (k - 1), 2) - p) * x.jump[a])
    k, s, p, d = w.kern[0], w.stride[0], w.pad[0], w.dil[0]
    steps = [calc("receptive field on axis 1 (input pixels one output sees)", "r_prev + d·(k − 1)·j_prev",
                  f"{x.rf[0]} + {d}·({k} − 1)·{x.jump[0]}", rfs[0], "receptive_field",
                  more=(("receptive_field_per_axis", vector(rfs)),)),
             calc("jump on axis 1 (input pixels between neighbouring outputs)", "j_prev·s", f"{x.jump[0]}·{s}",
                  jumps[0], "jump"),
             calc("start on axis 1 (centre of the first output's field, in input pixels)",
                  "start_prev + (d·(k − 1)/2 − p)·j_prev",
                  f"{x.start[0]} + ({d}·({k} − 1)/2 − {p})·{x.jump[0]}",
                  starts[0], "start", note="input pixel i spans [i, i + 1), so the first one's centre is 1/2")]
    return dict(rf=tuple(rfs), jump=tuple(jumps), start=tuple(starts), grid=tuple(w.out)), steps


def _uniform_reach(x: Tensor, a: int) -> Callable[[int], tuple]:
    """Position -> (first, last) input pixel of a map whose fields are all alike (r wide, centres start + i·jump)."""
    first = x.start[a] - sympy.Rational(x.rf[a], 2)
    return lambda i: (first + i * x.jump[a], first + i * x.jump[a] + x.rf[a] - 1)


def _counted_field(x: Tensor, w: Window, transposed: bool) -> tuple[dict, list]:
    """The field counted output by output: what each output depends on is the union of what its inputs see.

    A transposed convolution's output o is fed by the inputs i with o = i·s − p + j·d for a kernel tap j,
    so by ⌈k/s⌉ or ⌊k/s⌋ of them: its outputs see different numbers of pixels and no r + d·(k − 1)·j
    recursion holds. The field is the most pixels one output sees (on the unbounded grid, as the recursion's).
    """
    rfs, jumps, starts, reaches, unfed = [], [], [], [], []
    for a in range(len(w.kern)):
        k, s, p, d = w.kern[a], w.stride[a], w.pad[a], w.dil[a]
        prev = x.reach[a] if x.reach else _uniform_reach(x, a)
        if transposed:
            feeds = lambda o, k=k, s=s, p=p, d=d: [(o + p - j * d) // s for j in range(k) if (o + p - j * d) % s == 0]
        else:
            feeds = lambda o, k=k, s=s, p=p, d=d: [o * s - p + j * d for j in range(k)]
        reach = _union_reach(prev, feeds)
        every = [reach(o) for o in range(w.out[a])]
        spans = [r for r in every if r is not None]     # None: an output fed by no input (k < s), its bias alone
        unfed.append(len(every) - len(spans))
        rfs.append(max((hi - lo + 1 for lo, hi in spans), default=0))
        jumps.append(sympy.Rational(x.jump[a]) / s if transposed else x.jump[a] * s)
        first = every[0] or (spans[0] if spans else (0, -1))
        starts.append(sympy.Rational(first[0] + first[1] + 1, 2))
        reaches.append(reach)
    k, s = w.kern[0], w.stride[0]
    how = ("a transposed convolution's outputs are fed by ⌈k/s⌉ or ⌊k/s⌋ inputs each" if transposed else
           "the fields of the layer before differ from position to position (a transposed convolution)")
    none = (f"; {unfed[0]} of the {w.out[0]} outputs on axis 1 are fed by no input (each is its bias alone)"
            if unfed[0] else "")
    steps = [calc("receptive field on axis 1: the most input pixels one output depends on, counted output by output",
                  None, None, rfs[0], "receptive_field", more=(("receptive_field_per_axis", vector(rfs)),),
                  note=f"{how}, so the outputs see different numbers of pixels and r_prev + d·(k − 1)·j_prev "
                  "does not hold" + none),
             calc("jump on axis 1 (input pixels between neighbouring outputs, on average)",
                  "j_prev/s" if transposed else "j_prev·s", f"{_factor(x.jump[0])}/{s}" if transposed else
                  f"{_factor(x.jump[0])}·{s}",
                  jumps[0], "jump"),
             calc("start on axis 1 (centre of the first output's field, in input pixels)", None, None, starts[0],
                  "start", note="input pixel i spans [i, i + 1), so the first one's centre is 1/2")]
    return dict(rf=tuple(rfs), jump=tuple(jumps), start=tuple(starts), grid=tuple(w.out),
                reach=tuple(reaches)), steps


def _factor(v: Any) -> str:
    """A number as a factor: a fraction in parentheses (1/2 reads (1/2)/2, not 1/2/2)."""
    return str(v) if float(v).is_integer() else f"({v})"


def _union_reach(prev: Callable[[int], tuple], feeds: Callable[[int], list]) -> Callable[[int], tuple]:
    """Position -> (first, last) input pixel over the positions that feed it, remembered."""
    memo: dict = {}

    def reach(o: int) -> tuple | None:
        if o not in memo:
            spans = [r for r in map(prev, feeds(o)) if r is not None]
            memo[o] = (min(lo for lo, _ in spans), max(hi for _, hi in spans)) if spans else None
        return memo[o]
    return reach


def _extent(x: Tensor, axis: int, n: int) -> tuple[Any, Any]:
    """Where the union of the fields of every position of x's map begins and ends on one input axis of size n.

    The fields are r wide around centres start + i·jump (i = 0 … grid − 1); clipped to the input [0, n), as
    padding is no input position.
    """
    if x.reach:     # fields counted output by output: their union over the map, as counted
        spans = [r for r in map(x.reach[axis], range(x.grid[axis])) if r is not None]
        if not spans:
            return sympy.Integer(0), sympy.Integer(0)
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans) + 1
        return max(sympy.Integer(lo), sympy.Integer(0)), min(sympy.Integer(hi), sympy.Integer(n))
    half = sympy.Rational(x.rf[axis], 2)
    lo = x.start[axis] - half
    hi = x.start[axis] + (x.grid[axis] - 1) * x.jump[axis] + half
    return max(lo, sympy.Integer(0)), min(hi, sympy.Integer(n))


def sees_all(x: Tensor, ctx: "Ctx", what: str) -> tuple[dict, list]:
    """The field of a unit that reads every value of x (dense, global pooling): the whole input, per axis.

    Under dense_receptive_field: carried the patch of one position is carried through unchanged instead.
    """
    if not x.rf:
        return {}, []
    patch = (x.patch or x.rf)[0]
    ends = [_extent(x, a, n) for a, n in enumerate(ctx.input_grid)]
    rfs = tuple(hi - lo for lo, hi in ends)
    if ctx.spec.model.dense_receptive_field == "carried":
        return {}, [calc(f"receptive field on axis 1: carried through the {what} unchanged", "r_prev", None, patch,
                         "receptive_field", note="convention dense_receptive_field = carried: the field of one "
                         "position of the last map, as some courses read it; a unit that reads every value sees "
                         f"every input position (dense_receptive_field: whole_input): {rfs[0]}",
                         more=(("receptive_field_per_axis", vector(x.rf)),
                               ("receptive_field_if_whole_input", rfs[0])))]
    whole = rfs == tuple(ctx.input_grid)
    (lo, hi), centre = ends[0], (ends[0][0] + ends[0][1]) / 2
    title = (f"receptive field on axis 1: a {what} unit sees every input position, the whole input" if whole else
             f"receptive field on axis 1: a {what} unit sees every position the last map covers")
    note = ("convention dense_receptive_field = whole_input: a unit that reads every value of the map sees the "
            "union of their fields, clipped to the input (padding is no input position); a course that carries "
            f"the patch of one position through (dense_receptive_field: carried) would say {patch}")
    if not whole:
        note += "; the map's positions leave the rest of the input unseen (the output sizes were rounded down)"
    steps = [calc(title, "min(N, end of the last field) − max(0, start of the first field)" if not whole else "N",
                  f"{hi} − {lo}" if not whole else None, rfs[0], "receptive_field", note=note,
                  more=(("receptive_field_per_axis", vector(rfs)), ("receptive_field_if_carried", patch))),
             calc("jump: every unit sees the same field, so neighbouring units are no pixels apart", None, None, 0,
                  "jump"),
             calc("start on axis 1: the centre of that field, in input pixels", "(field start + field end)/2",
                  f"({lo} + {hi})/2", centre, "start")]
    fields = dict(rf=rfs, jump=(0,) * len(rfs), start=tuple((a + b) / 2 for a, b in ends), grid=(1,) * len(rfs))
    return {**fields, "patch": x.patch or x.rf}, steps


def _prod(xs) -> Any:
    n = 1
    for v in xs:
        n *= v
    return n


def _div(a: Any, g: int) -> Any:
    """a/g for a whole count (exact division was checked), or a sympy quotient for an unknown size."""
    return a // g if isinstance(a, int) else a / g


def _weight_layout(layer, c_in: Any, c_out: Any, kern: list, first: bool) -> tuple[str, str, tuple]:
    """The weight tensor's axes in the framework's order: (what the axes are, numbers put in, the shape)."""
    g, nk = layer.groups, len(kern)
    ks = ", ".join(str(k) for k in kern)
    kname = "k" if nk == 1 else ", ".join(f"k{i + 1}" for i in range(nk))
    if layer.type == "depthwise_conv":     # PyTorch: Conv(groups=C_in); Keras: DepthwiseConv depthwise_kernel
        m = layer.multiplier
        if first:
            return f"(C_in·multiplier, 1, {kname})", f"({c_in}·{m}, 1, {ks})", (c_in * m, 1, *kern)
        return f"({kname}, C_in, multiplier)", f"({ks}, {c_in}, {m})", (*kern, c_in, m)
    if layer.type == "conv_transpose":     # PyTorch ConvTranspose: (in, out/groups, k...); Keras: (k..., out, in)
        if first:
            return (f"(C_in, C_out/groups, {kname})", f"({c_in}, {c_out}/{g}, {ks})",
                    (c_in, _div(c_out, g), *kern))
        return f"({kname}, C_out/groups, C_in)", f"({ks}, {c_out}/{g}, {c_in})", (*kern, _div(c_out, g), c_in)
    if first:
        return f"(C_out, C_in/groups, {kname})", f"({c_out}, {c_in}/{g}, {ks})", (c_out, _div(c_in, g), *kern)
    return f"({kname}, C_in/groups, C_out)", f"({ks}, {c_in}/{g}, {c_out})", (*kern, _div(c_in, g), c_out)


def _param_steps(weights: Step, layout, bias: Any, has_bias: bool, ctx: Ctx, units: str = "C_out") -> list:
    """The weight count, the weight tensor's shape, the bias and their sum, one step each.

    layout(first) gives the weight tensor's axes in PyTorch (first) or Keras order.
    """
    formula, numbers, shape = layout(ctx.first)
    order, other = ("PyTorch", "Keras") if ctx.first else ("Keras", "PyTorch")
    w = weights.value
    steps = [weights,
             calc(f"weight tensor shape in {order} order", formula, numbers, vector(shape), "weight_shape",
                  note=f"framework {ctx.spec.model.framework}: the axes in the order {order} stores them; "
                       f"{other} stores {layout(not ctx.first)[0]}")]
    if has_bias:
        steps.append(calc(f"bias: one per output unit, shape ({bias},)", units, None, bias, "bias",
                          more=(("bias_shape", vector((bias,))),)))
    else:
        steps.append(Step("no bias (bias: false)", quantities=(("bias", num(0)), ("bias_shape", vector((0,))))))
    steps.append(calc("parameters: weights and biases", "weights + bias", f"{w} + {bias}", w + bias, "parameters"))
    return steps


def _conv_weights(layer, x: Tensor, w: Window, ctx: Ctx, label: str, loc) -> tuple[Any, Any, Step]:
    """Output channels, terms per output value and the weight-count step of a conv or depthwise conv."""
    window = _prod(w.kern)
    if layer.type == "depthwise_conv":
        c_out = x.channels * layer.multiplier
        return c_out, window, calc("weights: one kernel per input channel and multiplier",
                                   "C_in·multiplier·" + _kprod(w.kern), f"{x.channels}·{layer.multiplier}·"
                                   + dots(w.kern), c_out * window, "parameters_without_bias")
    c_out = ctx.count(layer.filters, label, "filters", loc)
    g = layer.groups
    if (isinstance(x.channels, int) and x.channels % g) or (isinstance(c_out, int) and c_out % g):
        raise SolveError(f"{label}: groups = {g} must divide the input channels {x.channels} and the "
                         f"filters {c_out}", loc)
    per = _div(x.channels, g) * window
    return c_out, per, calc("weights: each filter spans C_in/groups channels and the kernel",
                            "C_out·(C_in/groups)·" + _kprod(w.kern), f"{c_out}·({x.channels}/{g})·" + dots(w.kern),
                            c_out * per, "parameters_without_bias")


def _kprod(kern: list) -> str:
    """The kernel's sizes in symbols: k1·k2 (k for one axis)."""
    return "k" if len(kern) == 1 else "·".join(f"k{i + 1}" for i in range(len(kern)))


def conv(layer, x, ctx, label, loc):
    w = _window(layer, x, ctx, label, loc, 3)
    fields, field_steps = _field(x, w, transposed=layer.type == "conv_transpose")
    c_out, per, weights = _conv_weights(layer, x, w, ctx, label, loc)
    bias = c_out if layer.bias else 0
    layout = functools.partial(_weight_layout, layer, x.channels, c_out, w.kern)
    steps = w.steps + field_steps + _param_steps(weights, layout, bias, layer.bias, ctx)
    positions = _prod(w.out)
    extra = (("padding", vector(w.pad)), ("output_size", vector(w.out)))
    if layer.type == "conv_transpose":
        inputs = _prod(x.spatial)
        macs = inputs * per * c_out
        steps.append(calc("weight uses (MACs): each input position scatters through the kernel into every "
                          "output channel", "input positions·(C_in/groups)·k·C_out",
                          f"{dots(x.spatial)}·{per}·{c_out}", macs, "macs"))
        c = Count(weights.value + bias, bias, 0, macs, c_out * positions, 0, 0, steps, extra)
    else:
        terms = (_kprod(w.kern), dots(w.kern)) if layer.type == "depthwise_conv" else \
            ("(C_in/groups)·" + _kprod(w.kern), f"({x.channels}/{layer.groups})·" + dots(w.kern))
        steps += _stamp_steps(ctx, w.out, c_out, per, layer.bias, terms)
        c = Count(weights.value + bias, bias, 0, c_out * positions * per, c_out * positions,
                  c_out * positions, per, steps, extra)
    return replace(x, channels=c_out, spatial=tuple(w.out), **fields), c


def _stamp_steps(ctx: Ctx, out: list, c_out: Any, per: Any, bias: bool, terms: tuple) -> list:
    """Stamps (one per output value), the inner product of one stamp, its operations, and the MACs."""
    rule = ctx.spec.model.ops
    stamps = c_out * _prod(out)
    each = tuple((r, ops(r, per, 1, bias)) for r in RULES)
    plus = " plus a bias" if bias else ""
    return [
        calc("stamps: one per output value (positions × output channels)", "o1·o2·…·C_out",
             f"{dots(out)}·{c_out}", stamps, "stamps"),
        calc(f"terms per stamp: an inner product over the kernel{plus}", terms[0], terms[1], per,
             "terms_per_stamp"),
        calc(f"operations per stamp ({rule}), from its n terms",
             ops_formula(rule, bias).replace("MACs", "n").replace("outputs", "1"),
             ops_numbers(rule, bias, per, 1), ops(rule, per, 1, bias), "operations_per_stamp"),
        Step("operations per stamp under each counting rule: " + ", ".join(f"{r} {v}" for r, v in each),
             quantities=tuple((f"operations_per_stamp.{r}", num(v)) for r, v in each)),
        calc("weight uses (MACs): every stamp uses its n terms' weights once", "stamps·n", f"{stamps}·{per}",
             stamps * per, "macs"),
    ]




def pool(layer, x, ctx, label, loc):
    w = _window(layer, x, ctx, label, loc, 2)
    fields, field_steps = _field(x, w)
    steps = w.steps + field_steps + [Step(f"{layer.mode} pooling has no parameters")]
    extra = (("padding", vector(w.pad)), ("output_size", vector(w.out)))
    return replace(x, spatial=tuple(w.out), **fields), Count(steps=steps, extra=extra)


def global_avg_pool(layer, x, ctx, label, loc):
    if x.kind != "image":
        raise SolveError(f"{label}: needs an image-like input", loc)
    fields, field_steps = sees_all(x, ctx, "global pooling")
    y = replace(x, spatial=(1,) * len(x.spatial) if ctx.first else (), **fields)
    return y, Count(steps=[Step("the mean over each channel's spatial positions; no parameters")] + field_steps)


def flatten(layer, x, ctx, label, loc):
    dims = x.shape(ctx.first)
    steps = [calc("flattened length: every value in one vector", "product of the sizes", dots(dims), x.size,
                  "output_size[0]")]
    if x.rf:   # a reshape: value i is still the value of one position, with that position's field
        steps.append(calc("receptive field on axis 1: flatten only reorders values, so each keeps the field of "
                          "its position", "r_prev", None, x.rf[0], "receptive_field",
                          more=(("receptive_field_per_axis", vector(x.rf)),)))
    y = Tensor(x.size, (), "flat", x.rf, x.jump, x.start, x.spatial or x.grid, x.patch)
    return y, Count(steps=steps, extra=(("output_size", vector((x.size,))),))


def dense(layer, x, ctx, label, loc):
    n = ctx.count(layer.units, label, "units", loc)
    if x.kind == "image" and x.spatial and any(d != 1 for d in x.spatial):
        raise SolveError(f"{label}: dense needs a flat input; add a flatten layer first", loc)
    d = x.channels
    steps_ = 1 if x.kind != "sequence" else _prod(x.spatial)   # Keras applies Dense at every step
    bias = n if layer.bias else 0
    def layout(first):   # nn.Linear.weight is (out, in); a Keras Dense kernel is (in, out)
        return ("(out, in)", f"({n}, {d})", (n, d)) if first else ("(in, out)", f"({d}, {n})", (d, n))
    weights = calc("weights: one per input and output pair", "in·out", f"{d}·{n}", d * n, "parameters_without_bias")
    steps = _param_steps(weights, layout, bias, layer.bias, ctx, "out")
    macs = d * n * steps_
    if x.kind == "sequence":
        steps.append(calc("weight uses (MACs): the same weights at every step", "in·out·T",
                          f"{d}·{n}·{steps_}", macs, "macs"))
        return Tensor(n, x.spatial, "sequence"), Count(d * n + bias, bias, 0, macs, n * steps_, 0, 0, steps)
    steps.append(calc("weight uses (MACs): one per weight", "in·out", f"{d}·{n}", macs, "macs"))
    fields, field_steps = sees_all(x, ctx, "dense")
    y = Tensor(n, (), "flat", x.rf, x.jump, x.start, x.spatial or x.grid, x.patch)
    return replace(y, **fields), Count(d * n + bias, bias, 0, macs, n, 0, 0, field_steps + steps, units=[n])


def dropout(layer, x, ctx, label, loc):
    if layer.rate is None:
        return x, Count(steps=[Step("dropout: no parameters; the shape is unchanged (give rate: to show the "
                                    "probability)")])
    p = sympy.Rational(str(layer.rate))
    return x, Count(steps=[
        calc(f"dropout rate p = {p}: each value is zeroed with probability p in training; no parameters, the "
             "shape is unchanged", None, None, p, "rate"),
        calc("scale of the kept values in training (inverted dropout, as PyTorch and Keras do; none at test time)",
             "1/(1 − p)", f"1/(1 − {p})", 1 / (1 - p), "keep_scale")])


def passthrough(layer, x, ctx, label, loc):
    return x, Count(steps=[Step(f"{layer.type}: no parameters; the shape is unchanged")])


def batchnorm(layer, x, ctx, label, loc):
    c = x.channels
    return x, Count(2 * c, 0, 2 * c, 0, 0, 0, 0, [
        calc("γ and β, one pair per channel (trained)", "2·C", f"2·{c}", 2 * c, "parameters"),
        calc("running mean and variance, one pair per channel (not trained)", "2·C", f"2·{c}", 2 * c,
             "non_trainable")], norm_channels=[c])


def layernorm(layer, x, ctx, label, loc):
    c = x.channels
    return x, Count(2 * c, 0, 0, 0, 0, 0, 0, [
        calc("γ and β over the last axis, one pair per feature", "2·C", f"2·{c}", 2 * c, "parameters")])


def self_attention(layer, x, ctx, label, loc):
    """Multi-head self-attention over a sequence [T, d_model]: W_q, W_k, W_v, W_o, each d×d (+ a bias each)."""
    if x.kind != "sequence":
        raise SolveError(f"{label}: self_attention needs a sequence input, input: [T, d_model] (or an embedding "
                         "first)", loc)
    d, h, T = x.channels, layer.heads, _prod(x.spatial)
    if isinstance(d, int) and d % h:
        raise SolveError(f"{label}: d_model = {d} is not divisible by heads = {h}", loc)
    bias = 4 * d if layer.bias else 0
    weights = calc("weights: W_q, W_k, W_v and W_o, each d_model × d_model (the heads split them, adding none)",
                   "4·d²", f"4·{d}²", 4 * d * d, "parameters_without_bias")
    steps = [calc(f"head size: d_model/heads", "d/h", f"{d}/{h}", _div(d, h), "head_size"), weights]
    steps += ([calc("biases: one per output of each projection (q, k, v, o)", "4·d", f"4·{d}", bias, "bias")]
              if layer.bias else [])
    steps.append(calc("parameters", "4·d² + 4·d" if layer.bias else "4·d²",
                      f"{4 * d * d} + {bias}" if layer.bias else None, 4 * d * d + bias, "parameters"))
    proj, scores = 4 * T * d * d, 2 * T * T * d
    macs = proj + scores
    steps += [calc("MACs of the projections: W_q, W_k, W_v, W_o applied at every position", "4·T·d²", f"4·{T}·{d}²", proj,
                   "projection_macs"),
              calc("MACs of the scores QKᵀ and of A·V: T² dot products of size d/h per head, h heads", "2·T²·d",
                   f"2·{T}²·{d}", scores, "attention_macs"),
              calc("weight uses (MACs)", "4·T·d² + 2·T²·d", f"{proj} + {scores}", macs, "macs")]
    return x, Count(4 * d * d + bias, bias, 0, macs, T * d, 0, 0, steps)


def embedding(layer, x, ctx, label, loc):
    if layer.vocab is None or layer.dim is None:
        raise SolveError(f"{label}: give vocab: and dim:", loc)
    if x.kind != "tokens":
        raise SolveError(f"{label}: the input of an embedding is a sequence of token ids, input: [T]", loc)
    p = layer.vocab * layer.dim
    return Tensor(layer.dim, x.spatial, "sequence"), Count(p, 0, 0, 0, 0, 0, 0, [
        calc("weight table shape: one row per token", "(vocab, dim)", f"({layer.vocab}, {layer.dim})",
             vector((layer.vocab, layer.dim)), "weight_shape"),
        calc("parameters: the table's entries", "vocab·dim", f"{layer.vocab}·{layer.dim}", p, "parameters")])


def recurrent(layer, x, ctx, label, loc):
    if x.kind != "sequence":
        raise SolveError(f"{label}: needs a sequence input, input: [T, features]", loc)
    n = ctx.count(layer.units, label, "units", loc)
    d = x.channels
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[layer.type]
    weights = gates * n * (d + n)
    if not layer.bias:
        per, rule = 0, "no bias"
    elif ctx.keras and layer.type != "gru":
        per, rule = 1, "Keras: one bias per gate"
    else:
        per, rule = 2, ("Keras GRU (reset_after=True, the TF2 default): two biases per gate" if ctx.keras
                        else "PyTorch: b_ih and b_hh, two biases per gate")
    biases = gates * per * n
    T = _prod(x.spatial)
    steps = [calc(f"weights: {gates} gate{'s' if gates > 1 else ''}, each n·(d + n) (input and recurrent)",
                  "gates·n·(d + n)", f"{gates}·{n}·({d} + {n})", weights, "parameters_without_bias",
                  more=(("gates", gates),)),
             calc(f"bias ({rule})", "gates·biases per gate·n", f"{gates}·{per}·{n}", biases, "bias"),
             calc("parameters: weights and biases", "weights + bias", f"{weights} + {biases}", weights + biases,
                  "parameters"),
             calc("weight uses (MACs): every weight once per time step", "weights·T", f"{weights}·{T}",
                  weights * T, "macs")]
    out = Tensor(n, x.spatial, "sequence") if layer.return_sequences else Tensor(n, (), "flat")
    return out, Count(weights + biases, biases, 0, weights * T, gates * n * T, 0, 0, steps)


def residual(layer, x, ctx, label, loc):
    main, cm = run_path(layer.layers, x, ctx, loc, "layers")
    short, cs = run_path(layer.projection, x, ctx, loc, "projection") if layer.projection else (x, Count())
    if main.shape(ctx.first) != short.shape(ctx.first):
        raise SolveError(f"{label}: the main path gives {main.shape(ctx.first)} but the shortcut gives "
                         f"{short.shape(ctx.first)}; add a projection with the right stride and filters", loc)
    c = Count()
    c.add(cm)
    c.add(cs)
    shape = main.shape(ctx.first)
    c.steps = [Step("main path", substeps=tuple(cm.steps)),
               Step("shortcut: " + ("projection" if layer.projection else "identity (no parameters)"),
                    substeps=tuple(cs.steps)),
               calc("the two paths are added elementwise: the output shape", None, None, shape_vector(shape),
                    "output_shape")]
    return main, c


def concat(layer, x, ctx, label, loc):
    outs, c = [], Count()
    for b, branch in enumerate(layer.branches):
        y, cb = run_path(branch, x, ctx, loc, f"branches.{b}")
        outs.append(y)
        c.add(cb)
        shape = y.shape(ctx.first)
        c.steps.append(Step(f"branch {b + 1}: {shape}", substeps=tuple(cb.steps),
                            quantities=((f"branches.{b}.output_shape", shape_vector(shape)),)))
    if not outs or len({o.spatial for o in outs}) != 1:
        raise SolveError(f"{label}: the branches must keep one spatial size to be concatenated", loc)
    total = sum(o.channels for o in outs)
    c.steps.append(calc("channels are concatenated", "C_1 + C_2 + …", " + ".join(str(o.channels) for o in outs),
                        total, "channels"))
    rf = tuple(max(o.rf[a] for o in outs) for a in range(len(outs[0].rf)))
    return replace(outs[0], channels=total, rf=rf), c


HANDLERS = {"conv": conv, "conv_transpose": conv, "depthwise_conv": conv, "pool": pool,
            "global_avg_pool": global_avg_pool, "flatten": flatten, "dense": dense, "dropout": dropout,
            "activation": passthrough, "batchnorm": batchnorm, "layernorm": layernorm, "embedding": embedding,
            "simple_rnn": recurrent, "lstm": recurrent, "gru": recurrent, "residual": residual, "concat": concat,
            "self_attention": self_attention}


def run_path(layers, x: Tensor, ctx: Ctx, loc, key: str) -> tuple[Tensor, Count]:
    """A path of layers inside a block: its output and its counts; quantities under key.<j>. of the block."""
    total = Count()
    for k, layer in enumerate(layers):
        label = layer.name or f"{layer.type} {k + 1}"
        x, c = HANDLERS[layer.type](layer, x, ctx, label, loc)
        total.add(c.tally(layer.type))
        total.steps.append(_layer_step(key, k, layer, label, x, c, ctx))
    return x, total


def start(spec) -> Tensor:
    """The input as a Tensor, read in the framework's channel order."""
    m = spec.model
    shape = list(m.input)
    first = m.framework == "pytorch"
    kinds = {layer.type for layer in m.layers[:1]}
    if kinds & {"embedding"}:
        return Tensor(1, tuple(shape), "tokens")
    if kinds & {"simple_rnn", "lstm", "gru", "self_attention"}:
        return Tensor(shape[-1], tuple(shape[:-1]), "sequence")
    if len(shape) == 1:
        return Tensor(shape[0], (), "flat")
    c, grid = (shape[0], tuple(shape[1:])) if first else (shape[-1], tuple(shape[:-1]))
    nd = len(grid)   # each input pixel sees itself; pixel i spans [i, i + 1), centred at i + 1/2
    return Tensor(c, grid, "image", (1,) * nd, (1,) * nd, (sympy.Rational(1, 2),) * nd, grid)


def walk(spec, layers, key: str, suffix: str, subs: dict) -> tuple[list, Any]:
    """Steps and totals (examsolve.network_counts.Totals) for one stack of layers (numbered as in the spec)."""
    from examsolve.network_counts import totals

    m = spec.model
    ctx = Ctx(spec, subs)
    x = start(spec)
    steps, rows, total = [], [], Count()
    for k, layer in enumerate(layers):
        label = layer.name or f"{layer.type} {k + 1}"
        x, c = HANDLERS[layer.type](layer, x, ctx, label, spec.loc(key, k))
        total.add(c.tally(layer.type))
        if c.macs:
            c.steps += _ops_steps(m.ops, c)
        rows.append((label, str(x.shape(ctx.first)), c.params))
        steps.append(_layer_step(key, k, layer, label, x, c, ctx))
    result = totals(spec, layers, start(spec), x, ctx, total, suffix)
    steps.append(Step("Summary", table=Table(("layer", "output shape", "parameters"), tuple(rows)),
                      quantities=tuple(q for k, layer in enumerate(layers) for q in (
                          (f"{key}.{k}.output_shape", shape_vector(_shape_of(steps[k], key, k))),
                          (f"{key}.{k}.parameters", num(rows[k][2]))))
                      + tuple((name + suffix, num(v)) for name, v in result.values.items()
                              if name in result.plain)))
    steps.append(result.step)
    return steps, result


def _shape_of(step: Step, key: str, k: int) -> tuple:
    """A layer step's output shape, read back from its quantities."""
    return tuple(dict(step.quantities)[f"{key}.{k}.output_shape"].items)


def _ops_steps(rule: str, c: Count) -> list:
    """A layer's operations under the spec's counting rule, from its weight uses and outputs, then under each
    other rule (an exam may ask for MACs and FLOPs of one layer: layers.0.macs, layers.0.flops_2x)."""
    bias = c.bias != 0
    more = (("macs", c.macs),) + ((("inner_products", c.outputs),) if "outputs" in ops_formula(rule, bias) else ())
    each = tuple((r, ops(r, c.macs, c.outputs, bias)) for r in RULES if r != "macs")
    return [calc(f"operations ({OPS_NAMES[rule]})",
                 ops_formula(rule, bias), ops_numbers(rule, bias, c.macs, c.outputs), ops(rule, c.macs, c.outputs, bias),
                 "operations", more=more),
            Step("the layer's operations under each counting rule: " + ", ".join(
                f"{r} {v}" for r, v in (("macs", c.macs),) + each), quantities=tuple((r, num(v)) for r, v in (("macs", c.macs),) + each))]


def _layer_step(key: str, k: int, layer, label: str, x: Tensor, c: Count, ctx: Ctx) -> Step:
    """One layer's heading step: its output and parameters, its substeps, every quantity under its prefixes."""
    shape = x.shape(ctx.first)
    step = Step(f"{label}: output {shape}, parameters {c.params}", substeps=tuple(c.steps),
                quantities=_layer_quantities(x, c, ctx))
    prefixes = [f"{key}.{k}"] + ([f"{key}.{layer.name}"] if getattr(layer, "name", None) else [])
    return prefixed(step, prefixes)


def prefixed(step: Step, prefixes: list) -> Step:
    """The step with each quantity name under every prefix (layers.0.bias, layers.conv1.bias), substeps too."""
    return replace(step, quantities=tuple((f"{p}.{n}", v) for p in prefixes for n, v in step.quantities),
                   substeps=tuple(prefixed(s, prefixes) for s in step.substeps))


def _layer_quantities(x: Tensor, c: Count, ctx: Ctx) -> tuple:
    """One layer's values by name relative to the layer: parameters, output_shape, padding ..."""
    m = ctx.spec.model
    values = (("output_shape", shape_vector(x.shape(ctx.first))), ("parameters", c.params),
              ("parameters_without_bias", c.params - c.bias), ("bias", c.bias), ("non_trainable", c.frozen),
              ("operations", ops(m.ops, c.macs, c.outputs, c.bias != 0) if c.macs else 0),
              ("stamps", c.stamps)) + c.extra
    if x.rf:   # a field only where the input has positions (not for an MLP or a recurrent network)
        values += (("receptive_field", x.rf[0]), ("jump", x.jump[0]))
    return tuple((n, num(v)) for n, v in values)


def shape_vector(shape: tuple):
    """A shape as a vector of integers (its JSON form is an integer array)."""
    return vector(shape)


OPS_NAMES = {"macs": "MACs", "inner_product_n": "n per n-term inner product", "flops_2x": "2 × MACs",
             "mults_adds": "n mults + (n − 1) adds + bias", "exam_each_op": "each + and × counted"}
