"""network: layer arithmetic for a stack of layers (shapes, parameters, memory, operations, receptive field)."""
import functools

from examsolve.registry import family

LAYER_TYPES = ("conv", "conv_transpose", "depthwise_conv", "pool", "global_avg_pool", "flatten", "dense",
               "dropout", "activation", "batchnorm", "layernorm", "embedding", "simple_rnn", "lstm", "gru",
               "residual", "concat", "self_attention")


@functools.cache
def _model():
    from typing import Literal, Optional, Union

    from pydantic import Field, field_validator

    from examsolve.layers import DTYPE_BYTES, OPS
    from examsolve.spec import BaseSpec, _Model, at_least
    from examsolve.spec import CONVENTION

    Size = Union[int, list[int]]
    Count = Union[int, str]

    class Layer(_Model):
        """One layer: its type and sizes; a missing size takes the usual default."""

        type: Literal[LAYER_TYPES] = Field(description="the kind of layer")
        name: str = Field("", description="shown in the table")
        filters: Optional[Count] = Field(None, description="conv: output channels (a name for an unknown)")
        units: Optional[Count] = Field(None, description="dense, simple_rnn, lstm, gru: output size")
        kernel: Optional[Size] = Field(None, description="kernel size, one number or one per spatial axis")
        stride: Optional[Size] = Field(None, description="stride (default 1; a pool's default is its kernel)")
        padding: Union[int, list[int], Literal["same", "valid"]] = Field(0, description="zeros added on each side")
        output_padding: int = Field(0, ge=0, description="conv_transpose: extra size on one side")
        dilation: Size = Field(1, description="dilation")
        groups: int = Field(1, ge=1, description="conv: groups")
        bias: bool = Field(True, description="a bias per output channel")
        mode: Literal["max", "avg"] = Field("max", description="pool: max or avg")
        ceil_mode: bool = Field(False, description="pool: round the output size up (PyTorch ceil_mode)")
        multiplier: int = Field(1, ge=1, description="depthwise_conv: outputs per input channel")
        vocab: Optional[int] = Field(None, ge=1, description="embedding: number of tokens")
        dim: Optional[int] = Field(None, ge=1, description="embedding: vector size")
        heads: int = Field(1, ge=1, description="self_attention: heads (each of size d_model/heads)")
        return_sequences: bool = Field(False, description="recurrent: output every step, not only the last")
        rate: Optional[float] = Field(None, ge=0, lt=1, description="dropout: the probability of zeroing a value "
                                      "in training (shown with the 1/(1 − rate) scale of the kept values; no "
                                      "parameters)")
        layers: list["Layer"] = Field(default_factory=list, description="residual: the main path")
        projection: list["Layer"] = Field(default_factory=list,
                                          description="residual: the shortcut path (empty: identity)")
        branches: list[list["Layer"]] = Field(default_factory=list, description="concat: parallel paths")

        # a kernel, stride or dilation of 0 has no meaning (and divided by zero), nor 0 filters or units;
        # padding may be 0; a name (filters: n) is an unknown size
        _sizes = field_validator("kernel", "stride", "dilation", "filters", "units")(at_least(1))
        _padding = field_validator("padding")(at_least(0))

    class Unknown(_Model):
        """A size to solve for from a given total."""

        name: str = Field(description="the name used in a layer's units or filters, e.g. n")
        parameters: int = Field(ge=0, description="the given total of learnable parameters")

    class NetworkSpec(BaseSpec):
        """A stack of layers from an input shape."""

        ask: list[str] = Field(default_factory=list, description="the answers to show, by name (an answer such "
                               "as `parameters` or `conv layers`, or any quantity such as `layers.3.receptive_field`"
                               "); empty: the answers that make sense for the layers present (no receptive field, "
                               "jump or stamps without positions; width and units for a dense network)")
        input: list[int] = Field(description="input shape without the batch: channels first (C, H, W) for "
                                             "pytorch, channels last (H, W, C) for keras; (T, features) "
                                             "for recurrent layers; (T,) of token ids for embedding")
        batch: int = Field(1, ge=1, description="batch size (stamps)")
        framework: Literal["pytorch", "keras"] = Field("pytorch", json_schema_extra=CONVENTION, description="channel order and "
                                                       "recurrent bias layout")
        ops: Literal[tuple(OPS)] = Field("macs", json_schema_extra=CONVENTION, description="how operations are counted")
        dtype: Literal[tuple(DTYPE_BYTES)] = Field("fp32", description="bytes per parameter")
        exact_sizes: bool = Field(False, description="refuse a size formula that does not divide evenly "
                                                     "(as the (N + 2P − F)/S + 1 exam formula requires)")
        layers: list[Layer] = Field(description="the layers in order")
        compare: list[Layer] = Field(default_factory=list,
                                     description="a second stack on the same input (e.g. depthwise separable)")
        unknown: Optional[Unknown] = Field(None, description="solve a size from a given parameter total")
        dense_receptive_field: Literal["whole_input", "carried"] = Field(
            "whole_input", json_schema_extra=CONVENTION, description="the receptive field of a dense or global pooling unit: whole_input, the "
            "union of the fields of every position it reads, clipped to the input (a dense unit sees every input "
            "position); carried, the patch of one position of the last map carried through unchanged (as some "
            "courses read it). Flatten only reorders values: each keeps its position's field under both")

    return NetworkSpec


@family("network", summary="layer arithmetic: output shapes, parameters (with and without bias), memory per "
        "dtype, operations under a named counting convention, stamps, receptive fields (a dense unit sees the whole "
        "input), layers and parameters per layer type (batch norm's trainable and non-trainable), depth, width and "
        "units, the difference to a compared stack, unknown sizes",
        examples=("conv_shape.yaml", "conv_flops_depthwise.yaml", "conv3d_stamps.yaml", "mlp_params.yaml",
                  "receptive_field.yaml", "lstm_hidden_size.yaml", "vgg16.yaml", "resnet18.yaml", "lenet5.yaml",
                  "vgg16_bn.yaml", "transformer_encoder.yaml"), model=_model, uses=("ask",))
def _solve(spec):
    """Walks the layers from the input shape; every number is an exact integer with its formula."""
    from examsolve.errors import SolveError
    from examsolve.finish import finish
    from examsolve.layers import OPS, walk
    from examsolve.network_counts import differences
    from examsolve.steps import Step

    m = spec.model
    if any(d < 1 for d in m.input):
        raise SolveError(f"input shape {m.input} has a size below 1", spec.loc("input"))
    pre, subs = [], {}
    if m.unknown is not None:
        value, step = _solve_unknown(spec)
        pre.append(step)
        subs = {m.unknown.name: value}
    steps, main = walk(spec, m.layers, "layers", "", subs)
    values = dict(main.values)
    shown = list(main.shown)
    if m.compare:
        more_steps, other = walk(spec, m.compare, "compare", " (compare)", subs)
        diff, diff_shown, diff_step = differences(main, other, f"operations ({m.ops})")
        steps = steps + [Step("The compared stack, on the same input", substeps=tuple(more_steps)), diff_step]
        values.update({f"{n} (compare)": v for n, v in other.values.items()})
        values.update(diff)
        shown += [f"{n} (compare)" for n in other.shown] + diff_shown
    if m.unknown is not None:
        import sympy

        values = {m.unknown.name: sympy.Integer(subs[m.unknown.name]), **values}
        shown.insert(0, m.unknown.name)
    first = m.framework == "pytorch"
    notes = (f"framework {m.framework} ({'channels first' if first else 'channels last'}); "
             f"operations: {OPS[m.ops]}",)
    if _reads_every_position(m):
        notes += (f"receptive field of a dense or global pooling unit: {m.dense_receptive_field}",)
    return finish(spec, pre + steps, _box(spec, pre + steps, values, shown), notes=notes)


SEQUENCE_FIRST = ("simple_rnn", "lstm", "gru", "embedding", "self_attention")    # a first layer that reads a sequence


def _reads_every_position(m) -> bool:
    """Whether an image input meets a dense or global pooling layer (where the field convention matters)."""
    types = set(_types(m.layers) + _types(m.compare))
    return len(m.input) > 1 and bool(m.layers) and m.layers[0].type not in SEQUENCE_FIRST \
        and bool(types & {"dense", "global_avg_pool"})


def _types(layers) -> list:
    """Every layer type of a stack, blocks' inner layers too."""
    out = []
    for layer in layers:
        out.append(layer.type)
        out += _types(layer.layers) + _types(layer.projection)
        for branch in layer.branches:
            out += _types(branch)
    return out


def _box(spec, steps, values: dict, shown: list) -> list:
    """The answers shown: the ones asked (any answer or quantity, by name), else the ones that make sense."""
    from examsolve import quantity
    from examsolve.errors import SpecError, nearest
    from examsolve.layers import num
    from examsolve.steps import Answer

    answers = [Answer(n, num(v)) for n, v in values.items()]
    if not spec.model.ask:
        return [a for a in answers if a.name in shown]
    table = quantity.collect(steps, answers)
    box = []
    for i, name in enumerate(spec.model.ask):
        try:
            box.append(Answer(name, quantity.lookup(table, name)))
        except KeyError:
            raise SpecError(f"ask: '{name}' names no answer or quantity{nearest(name, list(table))}; "
                            "`examsolve run FILE --answers all` lists them", spec.loc("ask", i)) from None
    return box


def _solve_unknown(spec):
    """The positive whole size that gives the stated parameter total, with the equation shown."""
    import sympy

    from examsolve.errors import SolveError
    from examsolve.layers import walk
    from examsolve.steps import Step
    from examsolve.tensor import Tensor

    m = spec.model
    n = sympy.Symbol(m.unknown.name, positive=True)
    _, result = walk(spec, m.layers, "layers", "", {m.unknown.name: n})
    total = result.values["parameters"]
    eq = sympy.Eq(sympy.expand(total), m.unknown.parameters)
    roots = sympy.solve(sympy.expand(total) - m.unknown.parameters, n)
    good = [r for r in roots if r.is_integer and r > 0]
    shown = ", ".join(sympy.sstr(r) for r in roots) or "none"
    if len(good) != 1:
        raise SolveError(f"{sympy.sstr(eq.lhs)} = {m.unknown.parameters} has no positive whole solution for "
                         f"{m.unknown.name} (roots: {shown}); check the total or the layer", spec.loc("unknown"))
    # the parameter total as a function of the unknown, its roots and the size are each a quantity
    name, total = m.unknown.name, m.unknown.parameters
    return int(good[0]), Step(f"Solve for {name}", substeps=(
        Step(f"the parameter total as a function of {name}", value=eq.lhs,
             quantities=(("unknown.parameters", eq.lhs),)),
        Step(f"positive roots of parameters({name}) − {total}", value=Tensor((len(roots),), tuple(roots)),
             quantities=(("unknown.roots", Tensor((len(roots),), tuple(roots))),
                         ("unknown.total", sympy.Integer(total)))),
        Step(f"the positive whole root is {name}", value=sympy.Integer(good[0]),
             quantities=((name, sympy.Integer(good[0])),))))


# a layer field that exams often forget, and what the count is then: each is re-solved without it
_FORGOTTEN = (("groups", "groups ignored: counted as a full convolution (groups = 1), though each of a grouped "
               "conv's filters sees only C_in/groups input channels"),
              ("dilation", "dilation ignored: counted with a dense kernel (dilation = 1), though a dilated kernel "
               "spans d·(k − 1) + 1 positions"))


def wrong_paths(spec, sol, resolve) -> list:
    """Known wrong paths for keys and grading: the network counted as if a layer's groups or dilation were 1
    (resolve(changes) solves the spec with values replaced at paths, None when that cannot be solved)."""
    layers = [layer for layer in spec.model.layers]
    out = []
    for field, feedback in _FORGOTTEN:
        found = [i for i, layer in enumerate(layers) if getattr(layer, field, None) not in (None, 1)]
        if not found:
            continue
        other = resolve({("layers", i, field): 1 for i in found})
        if other is not None:
            out.append((feedback, dict(other.quantities)))
    return out
