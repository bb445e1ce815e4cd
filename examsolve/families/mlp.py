"""mlp: a small fully connected network with given weights, written out as named equations."""
import functools

from examsolve.registry import family

ACTIVATIONS = {"linear": "{z}", "relu": "relu({z})", "lrelu": "lrelu({z})", "tanh": "tanh({z})",
               "sigmoid": "sigmoid({z})", "softmax": "softmax({z})", "step": "(sign({z}) + 1)/2"}
LOSSES = {
    "mse": "mean(({yhat} - {y})**2)",
    "mse_half": "mean(({yhat} - {y})**2)/2",
    "sse": "sum(({yhat} - {y})**2)",
    "bce": "-mean({y}*log({yhat}) + (1 - {y})*log(1 - {yhat}))",
    "ce": "-sum({y}*log({yhat}))",
}


@functools.cache
def _model():
    from typing import Literal, Optional

    from pydantic import Field

    from examsolve.spec import CONVENTION, BaseSpec, Raw, _Model

    class Layer(_Model):
        """One dense layer z = W·a + b, then an activation."""

        weights: Optional[str] = Field(None, description="given name of the weight matrix (out × in)")
        bias: Optional[str] = Field(None, description="given name of the bias vector")
        units: Optional[int] = Field(None, ge=1, le=64, description="with fill: the layer's size")
        fill: Optional[Raw] = Field(None, description="a rule instead of weights: every weight this value, e.g. 0.2")
        bias_fill: Optional[Raw] = Field(None, description="with fill: every bias this value (default: no bias)")
        activation: Literal[tuple(ACTIVATIONS)] = "linear"
        dropout: Optional[str] = Field(None, description="given name of a 0/1 mask on the layer's output")

    class MlpSpec(BaseSpec):
        """Layers from an input to a prediction, a loss against a target, and the graph family's asks."""

        input: str = Field("x", description="given name of the input vector")
        target: Optional[str] = Field(None, description="given name of the target")
        layers: list[Layer]
        loss: Optional[Literal[tuple(LOSSES)]] = Field(None, description="mse, mse_half (with ½), sse, bce (0·log 0 "
                                                       "= 0 at a 0 or 1 target), ce")
        reduction: Literal["mean", "sum"] = Field("mean", json_schema_extra=CONVENTION, description="mse, mse_half "
                                                  "and bce over the output elements: their mean (PyTorch's "
                                                  "default) or their sum (sse is always the sum, ce sums over "
                                                  "classes)")
        l2: Optional[str] = Field(None, description="λ of a penalty λ·Σ W² over every weight matrix")

    return MlpSpec


@family("mlp", summary="a small MLP with given weights: per-neuron forward values, a loss (MSE with or without "
        "½, SSE, BCE, cross-entropy, an L2 penalty), backward per weight, SGD updates",
        examples=("mlp_2_2_1.yaml", "mlp_rule_momentum.yaml"), model=_model)
def _solve(spec):
    """Writes z_k = W_k·a_(k−1) + b_k and a_k = act(z_k) as equations, then runs the asks on the graph."""
    from examsolve.asks import Solver
    from examsolve.errors import SpecError
    from examsolve.spec_graph import add_equations, build_graph
    from examsolve.steps import Step

    m = spec.model
    graph = build_graph(spec, equations={})
    a = m.input
    eqs: dict = {}
    rules, params = _fill_rules(spec, graph)
    for k, (layer, (weights, bias)) in enumerate(zip(m.layers, params), 1):
        for name in (weights, bias, layer.dropout):
            if name and name not in graph.groups:
                raise SpecError(f"layer {k}: '{name}' is not under given:", spec.loc("layers", k - 1))
        eqs[f"z{k}"] = f"{weights} @ {a}" + (f" + {bias}" if bias else "")
        eqs[f"a{k}"] = ACTIVATIONS[layer.activation].format(z=f"z{k}")
        if layer.dropout:
            eqs[f"a{k}"] = f"({eqs[f'a{k}']})*{layer.dropout}"
        a = f"a{k}"
    eqs["yhat"] = a
    if m.loss:
        if not m.target:
            raise SpecError("a loss needs target:", spec.loc("loss"))
        eqs["L"] = _loss_text(m, graph)
        if m.l2:
            eqs["L"] += " + " + m.l2 + "*(" + " + ".join(f"sum({w}**2)" for w, _ in params) + ")"
    eqs.update(m.equations)
    add_equations(spec, graph, eqs)
    solver = Solver(spec, graph)
    solver.steps += rules
    solver.steps.append(Step("the network as equations: " + "; ".join(f"{k} = {v}" for k, v in eqs.items()),
                             note=_loss_note(m, graph)))
    solver.steps += _zero_log_zero(m, graph, solver.values)
    solver.steps.append(_neuron_table(graph, solver.values, len(m.layers), m.layers))
    solver.run(m.ask)
    return solver.solution()


def _hard_targets(m, graph) -> list:
    """The target's entries when it is a given of numbers (0/1 labels drop a BCE term), else []."""
    import sympy

    if m.loss != "bce" or m.target not in graph.groups:
        return []
    nodes = [graph.nodes[s] for s in graph.groups[m.target].symbols]
    items = [n.value for n in nodes]
    ok = all(n.kind == "given" and isinstance(v, sympy.Basic) and v.is_number for n, v in zip(nodes, items))
    return items if ok else []


def _loss_text(m, graph) -> str:
    """The loss as an equation; BCE at 0/1 targets without the terms of weight 0 (0·log ŷ = 0 for every ŷ)."""
    text = LOSSES[m.loss].format(yhat="yhat", y=m.target)
    if m.reduction == "sum" and m.loss in ("mse", "mse_half", "bce"):
        text = text.replace("mean(", "sum(", 1)
    hard = _hard_targets(m, graph)
    if not any(t in (0, 1) for t in hard):
        return text
    vector = bool(graph.groups[m.target].shape)
    terms = []
    for k, t in enumerate(hard):
        y, yhat = (f"{m.target}[{k}]" if vector else m.target), f"yhat[{k}]"
        terms.append(f"log(1 - {yhat})" if t == 0 else f"log({yhat})" if t == 1
                     else f"{y}*log({yhat}) + (1 - {y})*log(1 - {yhat})")
    n = len(hard)
    return f"-({' + '.join(terms)})" + (f"/{n}" if m.reduction == "mean" and n > 1 else "")


def _loss_note(m, graph) -> str:
    """What the loss equation assumed: the reduction, and BCE terms dropped at 0/1 targets."""
    if not m.loss:
        return ""
    notes = [f"convention reduction = {m.reduction}: the loss is the {m.reduction} over the output elements"] \
        if m.loss in ("mse", "mse_half", "bce") else []
    if any(t in (0, 1) for t in _hard_targets(m, graph)):
        notes.append("BCE at a target of 0 (or 1) drops the term t·log ŷ (or (1 − t)·log(1 − ŷ)): its weight "
                     "is 0, so it is 0 for every ŷ, also at ŷ = 0 by the convention 0·log 0 = 0")
    return "; ".join(notes)


def _zero_log_zero(m, graph, values: dict) -> list:
    """The limit step lim_{p→0⁺} p·log p = 0 when a dropped BCE term met 0·log 0 (a 0 target on a 0 output)."""
    from examsolve.families.loss import _zero_log_zero_step

    hard = _hard_targets(m, graph)
    if not hard or "yhat" not in graph.groups:
        return []
    outs = [values.get(s) for s in graph.groups["yhat"].symbols]
    met = any((t == 0 and p == 0) or (t == 1 and p == 1) for t, p in zip(hard, outs))
    return [_zero_log_zero_step(None)] if met else []


def _fill_rules(spec, graph) -> tuple[list, list]:
    """Steps, and each layer's (weights, bias) names: given weights W_k (and biases b_k) for layers written as a rule ("all weights 0.2"), with a step each."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Step
    from examsolve.tensor import Tensor

    m = spec.model
    if m.input not in graph.groups or len(graph.groups[m.input].shape) != 1:
        raise SpecError(f"input: '{m.input}' must be a vector under given:", spec.loc("input"))
    size, steps, params = graph.groups[m.input].shape[0], [], []
    for k, layer in enumerate(m.layers, 1):
        where = ("layers", k - 1)
        params.append((layer.weights, layer.bias))
        if layer.weights is None:
            if layer.fill is None or layer.units is None:
                raise SpecError(f"layer {k}: give weights: (a given matrix) or units: and fill: (a rule)",
                                spec.loc(*where))
            params[-1] = (f"W{k}", f"b{k}" if layer.bias_fill is not None else None)
            fill = spec_expr(spec, layer.fill, where + ("fill",), {})
            shown = [(f"W{k}", Tensor((layer.units, size), (fill,) * (layer.units * size)))]
            if layer.bias_fill is not None:
                bias = spec_expr(spec, layer.bias_fill, where + ("bias_fill",), {})
                shown.append((f"b{k}", Tensor((layer.units,), (bias,) * layer.units)))
            for name, value in shown:
                if name in graph.groups:
                    raise SpecError(f"layer {k}: the rule's name '{name}' is already under given:; rename it",
                                    spec.loc(*where))
                graph.add_given(name, value)
                steps.append(Step(f"layer {k} by the rule: {name} has every entry {value.items[0]}",
                                  target=sympy.Symbol(name), value=value))
            size = layer.units
        elif layer.weights in graph.groups:
            size = _check_shapes(spec, graph, k, layer, size)
    _check_target(spec, graph, size)
    return steps, params


def _shape(graph, name: str) -> tuple:
    """The shape of a given (() for a scalar)."""
    return tuple(graph.groups[name].shape)


def _check_shapes(spec, graph, k: int, layer, size: int) -> int:
    """The layer's output size; a SpecError at the given matrix or vector whose shape does not fit (W2 with
    3 columns after a layer of 2 units), not at the generated equation z2 = W2 @ a1 (which has no place)."""
    from math import prod

    from examsolve.errors import SpecError

    w, inputs = layer.weights, "the input" if k == 1 else f"layer {k - 1}"
    shape = _shape(graph, w)
    if len(shape) not in (1, 2):     # a vector is one output's row of weights
        raise SpecError(f"layer {k}: {w} must be a matrix (outputs × inputs), not of shape {shape}; write it as "
                        "a list of rows", spec.loc("given", w))
    rows, cols = (1, shape[0]) if len(shape) == 1 else shape
    if cols != size:
        flip = f"; its transpose fits, so write {w} as outputs × inputs" if len(shape) == 2 and rows == size else ""
        raise SpecError(f"layer {k}: {w} has shape {shape}, so {cols} input{'s' if cols != 1 else ''}, but "
                        f"{inputs} gives {size}: {w} needs {size} column{'s' if size != 1 else ''} (rows are "
                        f"outputs, columns inputs){flip}", spec.loc("given", w))
    for name, what in ((layer.bias, "bias"), (layer.dropout, "dropout mask")):
        if name and name in graph.groups and prod(_shape(graph, name)) != rows:
            raise SpecError(f"layer {k}: the {what} {name} has shape {_shape(graph, name)}, but {w} has {rows} "
                            f"row{'s' if rows != 1 else ''}: one entry per output, shape ({rows},)",
                            spec.loc("given", name))
    return rows


def _check_target(spec, graph, size: int) -> None:
    """A SpecError at the given target when its size is not the network's output size."""
    from math import prod

    from examsolve.errors import SpecError

    t = spec.model.target
    if not spec.model.loss or not t or t not in graph.groups:
        return
    shape = _shape(graph, t)
    if prod(shape) != size:
        raise SpecError(f"target: {t} has shape {shape}, but the network's output has {size} entr"
                        f"{'ies' if size != 1 else 'y'}: give one target per output, shape ({size},)",
                        spec.loc("given", t))


def _neuron_table(graph, values: dict, depth: int, layers):
    """Every neuron's pre-activation z and output a, one row each (decimals where not rational)."""
    from examsolve.steps import Step, Table
    from examsolve.values import decimal

    def cell(v):
        return v if v.is_Rational else "≈ " + decimal(v)

    rows, named = [], []
    for k in range(1, depth + 1):
        zs, as_ = graph.groups[f"z{k}"].symbols, graph.groups[f"a{k}"].symbols
        for i, (z, a) in enumerate(zip(zs, as_), 1):
            rows.append((k, i, cell(values[z]), cell(values[a])))
            named += [(z.name, values[z]), (a.name, values[a])]
    return Step("forward pass per neuron (layer, neuron, z = w·a + b, a = activation(z))", quantities=tuple(named),
                table=Table(
        ("layer", "neuron", "z", "a"), tuple(rows)), note=", ".join(f"layer {k}: {layer.activation}" for k, layer
                                                                   in enumerate(layers, 1)))
