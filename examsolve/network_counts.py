"""The network family's totals: parameters, memory, operations, field and stamps, counts by layer type, depth,
width and units, the difference to a compared stack, and which of them make sense for the layers present."""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from examsolve.layers import DTYPE_BYTES, RULES, Count, Ctx, Tensor, calc, num, ops, shape_vector
from examsolve.steps import Step, Table

# layers with weights: one each on the path that depth counts (VGG-16: 13 conv + 3 dense)
WEIGHTED = ("conv", "conv_transpose", "depthwise_conv", "dense", "simple_rnn", "lstm", "gru", "self_attention")
# the types whose count is an answer when present (the rest are quantities: pool layers, dropout layers ...)
COUNTED = WEIGHTED + ("batchnorm", "layernorm", "embedding")


@dataclass
class Totals:
    """One stack's totals by answer name (without the stack's suffix), the names worth showing, and the step."""

    values: dict
    shown: list
    plain: tuple          # the names the Summary step carries (the counts step carries the others)
    step: Step


def totals(spec, layers, x0: Tensor, x: Tensor, ctx: Ctx, total: Count, suffix: str) -> Totals:
    """The totals of a stack that turned x0 into x, with the counts step."""
    m = spec.model
    values, shown = _main_values(m, layers, x0, x, total)
    plain = tuple(values)
    counts, count_shown, step = _counts(layers, x0, total, suffix)
    values.update(counts)
    return Totals(values, shown + count_shown, plain, step)


def _main_values(m, layers, x0: Tensor, x: Tensor, total: Count) -> tuple[dict, list]:
    """Parameters, memory, operations, field and stamps; shown: the ones the layers present give meaning to."""
    trainable, size = total.params, DTYPE_BYTES[m.dtype]
    last_bias = bool(layers) and getattr(layers[-1], "bias", False)
    values = {
        "output shape": shape_vector(x.shape(m.framework == "pytorch")),
        "parameters": trainable,
        "parameters without bias": trainable - total.bias,
        "non-trainable parameters": total.frozen,
        "trainable and non-trainable parameters": trainable + total.frozen,
        f"parameter memory ({m.dtype}, bytes)": trainable * size,
        f"parameter memory without bias ({m.dtype}, bytes)": (trainable - total.bias) * size,
        f"operations ({m.ops})": ops(m.ops, total.macs, total.outputs, total.bias != 0),
        **{f"operations ({r})": ops(r, total.macs, total.outputs, total.bias != 0) for r in RULES if r != m.ops},
        "stamps per example": total.stamps,
        f"stamps for the batch of {m.batch}": total.stamps * m.batch,
        f"operations per stamp ({m.ops}, last conv)":
            ops(m.ops, total.stamp_size, 1, last_bias) if total.stamp_size else 0,
    }
    if x.rf:
        values["receptive field"] = x.rf[0]
        values["jump"] = x.jump[0]
    shown = ["output shape", "parameters", "parameters without bias"]
    if total.frozen:
        shown += ["non-trainable parameters", "trainable and non-trainable parameters"]
    shown += [f"parameter memory ({m.dtype}, bytes)", f"parameter memory without bias ({m.dtype}, bytes)"]
    if total.macs:
        shown.append(f"operations ({m.ops})")
    if x0.rf and x.rf:   # an image input: the field of the last layer (its jump only while it has positions)
        shown += ["receptive field"] + (["jump"] if x.spatial and any(d != 1 for d in x.spatial) else [])
    if total.stamps:
        shown += ["stamps per example", f"stamps for the batch of {m.batch}"]
    if total.stamp_size:
        shown.append(f"operations per stamp ({m.ops}, last conv)")
    return values, shown


def depth(layers) -> int:
    """Layers with weights on the longest path: a residual block's shortcut runs beside it, concat's branches too."""
    n = 0
    for layer in layers:
        if layer.type == "residual":
            n += max(depth(layer.layers), depth(layer.projection))
        elif layer.type == "concat":
            n += max((depth(b) for b in layer.branches), default=0)
        else:
            n += layer.type in WEIGHTED
    return n


def _blocks(layers) -> bool:
    return any(layer.type in ("residual", "concat") for layer in layers)


def _counts(layers, x0: Tensor, total: Count, suffix: str) -> tuple[dict, list, Step]:
    """Layers, parameters and non-trainable values per layer type; depth, width and units: values and a step."""
    values: dict = {}
    shown: list = []
    by_type = total.by_type
    weighted = [t for t in by_type if t in COUNTED]
    for t, (n, p, f) in by_type.items():
        values[f"{t} layers"] = n
        values[f"parameters ({t})"] = p
        if f or t == "batchnorm":
            values[f"non-trainable parameters ({t})"] = f
        if t in COUNTED and sum(by_type[u][0] for u in COUNTED if u in by_type) > 1:   # one layer: no count
            shown.append(f"{t} layers")
    if len([t for t in weighted if by_type[t][1]]) > 1:   # what each type adds, when more than one adds some
        shown += [f"parameters ({t})" for t in weighted if by_type[t][1]]
    shown += [f"non-trainable parameters ({t})" for t in weighted if by_type[t][2]]
    table = Table(("type", "layers", "parameters", "non-trainable"),
                  tuple((t, n, p, f) for t, (n, p, f) in by_type.items()))
    quantities = tuple((n + suffix, num(v)) for n, v in values.items())
    more, more_shown, more_steps = _shape_counts(layers, x0, total, suffix)
    values.update(more)
    step = Step("Counts by layer type", table=table, substeps=tuple(_batchnorm_steps(total, suffix) + more_steps),
                quantities=quantities)
    return values, shown + more_shown, step


def _batchnorm_steps(total: Count, suffix: str) -> list:
    """What batch norm adds: γ and β per channel (trained), a running mean and variance (not trained)."""
    if "batchnorm" not in total.by_type:
        return []
    n, p, f = total.by_type["batchnorm"]
    channels = " + ".join(str(c) for c in total.norm_channels) or "0"
    return [calc("batch norm adds γ and β per channel (trained)", "2·(C_1 + C_2 + …)", f"2·({channels})", p,
                 f"parameters (batchnorm){suffix}"),
            calc("and a running mean and variance per channel (not trained)", "2·(C_1 + C_2 + …)",
                 f"2·({channels})", f, f"non-trainable parameters (batchnorm){suffix}",
                 note="Keras counts moving_mean and moving_variance as non-trainable parameters; PyTorch keeps "
                      "them as buffers, with num_batches_tracked (one integer per layer, not counted here)")]


def _shape_counts(layers, x0: Tensor, total: Count, suffix: str) -> tuple[dict, list, list]:
    """Depth (layers with weights on the longest path), width and units of the dense layers."""
    d = depth(layers)
    values: dict = {"depth": d}
    by_type = total.by_type
    terms = [f"{by_type[t][0]}" for t in WEIGHTED if t in by_type]
    steps = [calc("depth: layers with weights on the longest path (conv, dense, recurrent, self-attention; batch "
                  "norm, pooling, activations and dropout are not counted, a shortcut runs beside its block)",
                  "weight layers in sequence", None if _blocks(layers) or len(terms) < 2 else " + ".join(terms), d,
                  "depth" + suffix)]
    shown = ["depth"] if d > 1 else []
    units = total.units
    if units:
        width = units[0]
        for u in units[1:]:
            width = sympy.Max(width, u) if not (isinstance(u, int) and isinstance(width, int)) else max(width, u)
        values.update({"width": width, "units": sum(units[1:], units[0]), "hidden layers": len(units) - 1})
        steps += [calc("width: the most units in one dense layer", "max(n_1, n_2, …)",
                       "max(" + ", ".join(str(u) for u in units) + ")" if len(units) > 1 else None, width,
                       "width" + suffix),
                  calc("units: every dense layer's units (the inputs are not units)", "n_1 + n_2 + …",
                       " + ".join(str(u) for u in units) if len(units) > 1 else None, values["units"],
                       "units" + suffix, more=(("hidden layers" + suffix, len(units) - 1),))]
        if x0.kind == "flat":
            values["units with input"] = values["units"] + x0.channels
            steps.append(calc("units with the input layer counted too", "inputs + units",
                              f"{x0.channels} + {values['units']}", values["units with input"],
                              "units with input" + suffix))
        if all(t == "dense" or t not in WEIGHTED for t in by_type):   # a dense network: its width and units
            shown += ["width", "units"]
    return values, shown, steps


def differences(main: Totals, other: Totals, ops_name: str) -> tuple[dict, list, Step]:
    """What the stack has more than its compared stack: parameters, non-trainable values, operations, layers."""
    names = ["parameters", "parameters without bias", "non-trainable parameters", ops_name, "depth"]
    names += [n for n in list(main.values) + list(other.values) if n.endswith(" layers") and n not in names]
    values = {f"{n} (difference)": main.values.get(n, 0) - other.values.get(n, 0) for n in names}
    shown = ["parameters (difference)"]
    if main.values["non-trainable parameters"] or other.values["non-trainable parameters"]:
        shown.append("non-trainable parameters (difference)")
    if main.values[ops_name] or other.values[ops_name]:
        shown.append(f"{ops_name} (difference)")
    steps = [calc(f"{n}: the stack minus the compared stack", "stack − compared",
                  f"{main.values.get(n, 0)} − {other.values.get(n, 0)}", values[f"{n} (difference)"],
                  f"{n} (difference)") for n in names if values[f"{n} (difference)"] or n in ("parameters", ops_name)]
    return values, shown, Step("Difference to the compared stack", substeps=tuple(steps),
                               quantities=tuple((n, num(v)) for n, v in values.items()))
