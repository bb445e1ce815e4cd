"""mlp: a small fully connected network with given weights, written out as named equations."""
import dataclasses
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
# the loss written from the last layer's pre-activations z, so reverse mode gives ∂L/∂z_k = ŷ_k − y_k at once
# instead of going through ∂L/∂ŷ = −y/ŷ and the softmax Jacobian: log Σ e^(z_j) − Σ y_k z_k is −Σ y_k log ŷ_k
# when Σ y = 1, and softplus(z) − y·z is −(y log σ(z) + (1 − y) log(1 − σ(z)))
FROM_LOGITS = {("softmax", "ce"): "log(sum(exp({z}))) - sum({y}*{z})",
               ("sigmoid", "bce"): "mean(softplus({z}) - {y}*{z})"}
YHAT = "y\u0302"     # y and a combining hat: LaTeX sets it as \hat{y}, where the one character ŷ loses its hat
IDENTITY = {"ce": f"softmax + cross-entropy: ∂L/∂z = {YHAT} − y (L = −Σ y_k log {YHAT}_k written as log Σ_j e^(z_j) "
                  "− Σ_k y_k z_k, as Σ_k y_k = 1)",
            "bce": f"sigmoid + BCE: ∂L/∂z = {YHAT} − y (L = −(y log {YHAT} + (1 − y) log(1 − {YHAT})) written as "
                   "softplus(z) − y·z)"}


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
    if _from_logits(m, graph):
        _as_taught(solver, m)
    return solver.solution()


def _as_taught(solver, m) -> None:
    """A loss written from the logits, shown as courses teach it: ∂L/∂z_k = ŷ_k − y_k with the identity named,
    ŷ still in the forward pass, every gradient entry and update in its shortest exact form."""
    graph, depth = solver.graph, len(m.layers)
    outs = graph.groups["yhat"].symbols
    forms = {graph.nodes[a].expr: y for a, y in zip(graph.groups[f"a{depth}"].symbols, outs)}
    logits = set(graph.groups[f"z{depth}"].symbols)
    note = IDENTITY[m.loss].split(" (", 1)[0]
    steps = [_with_outputs(s, graph, solver.values, outs) for s in solver.steps]
    short = _shorter_forms(steps)
    steps = _walk(steps, lambda s: _swapped(s, short)) if short else steps
    # after the swap: ŷ_k − y_k puts in ŷ_k as the forward pass shows it
    solver.steps[:] = _walk(steps, lambda s: _in_outputs(s, forms, logits, solver.values, note))
    values = {getattr(s.target, "name", None) for s in _flat(steps) if not _derived(s)}   # forward values
    solver.answers[:] = [a if getattr(a.label, "name", None) in values or _swap(a.value, short) is a.value else
                         dataclasses.replace(a, value=_swap(a.value, short)) for a in solver.answers]


def _derived(step) -> bool:
    """True for a gradient or update step, or a heading (whose quantities and table may hold them)."""
    from examsolve.functions import Iterate, Partial

    return step.target is None or isinstance(step.target, (Partial, Iterate))


def _flat(steps) -> list:
    """Every step and substep."""
    return [x for s in steps for x in (s, *_flat(s.substeps))]


def _walk(steps, change) -> list:
    """The steps with change applied to every step and substep (a substep first)."""
    out = []
    for s in steps:
        subs = tuple(_walk(s.substeps, change))
        if any(a is not b for a, b in zip(subs, s.substeps)):
            s = dataclasses.replace(s, substeps=subs)
        out.append(change(s))
    return out


def _with_outputs(step, graph, values: dict, outs) -> "Step":
    """The forward pass through ŷ too: the loss written from the logits no longer passes through it."""
    from examsolve.engine import forward_steps

    if step.title != "Forward pass":
        return step
    shown = [s.target for s in step.substeps if s.target in graph.nodes]
    if all(y in shown for y in outs):
        return step
    return dataclasses.replace(step, substeps=tuple(forward_steps(graph, values, shown + list(outs))))


def _in_outputs(step, forms: dict, logits: set, values: dict, note: str) -> "Step":
    """∂L/∂z_k written ŷ_k − y_k (the softmax or sigmoid of z_k named ŷ_k), with the identity as its note."""
    from examsolve.engine import substitute
    from examsolve.functions import Partial

    if not (isinstance(step.target, Partial) and step.target.wrt in logits and step.formula is not None):
        return step
    formula = substitute(step.formula, forms, evaluate=False)
    if formula == step.formula:
        return step
    return dataclasses.replace(step, formula=formula, substituted=substitute(formula, values, evaluate=False),
                               note="; ".join(filter(None, (step.note, note))))


def _shorter_forms(steps) -> dict:
    """Each exact gradient entry or update (a sum of fractions of exponentials) mapped to its shorter form."""
    from examsolve.exam_form import tidy
    from examsolve.tensor import Tensor

    out: dict = {}
    for s in _flat(steps):
        if s.target is None or not _derived(s):
            continue
        for v in s.value.items if isinstance(s.value, Tensor) else (s.value,):
            if _inexact_form(v) and v not in out:
                t = tidy(v)
                if t != v:
                    out[v] = t
    return out


def _inexact_form(v) -> bool:
    """True for an exact number that is not rational (tidying a float or a fraction gains nothing)."""
    import sympy

    return isinstance(v, sympy.Basic) and v.is_number and not v.is_Rational and not v.has(sympy.Float)


def _swap(v, short: dict):
    """v with each entry put in its shorter form (v itself when none changes)."""
    from examsolve.tensor import Tensor

    if isinstance(v, Tensor):
        return v.map(lambda x: short.get(x, x)) if any(x in short for x in v.items) else v
    return short.get(v, v) if _inexact_form(v) else v


def _replaced(e, short: dict):
    """e with the subexpressions in short replaced, left unevaluated as shown (a boxed number stays boxed)."""
    import sympy

    if e in short:
        return short[e]
    if not isinstance(e, sympy.Basic) or not e.args:
        return e
    args = [_replaced(a, short) for a in e.args]
    if e.is_Mul:    # a product as built, factor for factor: a short form that is itself a product stays one factor
        args = [sympy.UnevaluatedExpr(b) if a in short and b.is_Mul else b for a, b in zip(e.args, args)]
    if all(a is b for a, b in zip(args, e.args)):
        return e
    return sympy.UnevaluatedExpr(*args) if isinstance(e, sympy.UnevaluatedExpr) else e.func(*args, evaluate=False)


def _swapped(step, short: dict) -> "Step":
    """The step with its value, the numbers it puts in, its quantities and table in the shorter forms."""
    from examsolve.steps import Table

    if not _derived(step):      # a forward value keeps its form (ŷ₂ is not a gradient, though equal to one)
        return step
    changes = {}
    if _swap(step.value, short) is not step.value:
        changes["value"] = _swap(step.value, short)
    if step.substituted is not None:
        sub = _replaced(step.substituted, short)
        if sub is not step.substituted:
            changes["substituted"] = sub
    if any(_swap(v, short) is not v for _, v in step.quantities):
        changes["quantities"] = tuple((k, _swap(v, short)) for k, v in step.quantities)
    if step.table is not None and any(_swap(c, short) is not c for row in step.table.rows for c in row):
        changes["table"] = Table(step.table.header, tuple(tuple(_swap(c, short) for c in row)
                                                         for row in step.table.rows))
    return dataclasses.replace(step, **changes) if changes else step


def _given_numbers(graph, name) -> list:
    """The entries of a given of numbers, else []."""
    import sympy

    if name not in graph.groups:
        return []
    nodes = [graph.nodes[s] for s in graph.groups[name].symbols]
    items = [n.value for n in nodes]
    ok = all(n.kind == "given" and isinstance(v, sympy.Basic) and v.is_number for n, v in zip(nodes, items))
    return items if ok else []


def _hard_targets(m, graph) -> list:
    """The target's entries when it is a given of numbers (0/1 labels drop a BCE term), else []."""
    if m.loss != "bce" or _from_logits(m, graph):
        return []
    return _given_numbers(graph, m.target)


def _from_logits(m, graph) -> bool:
    """True when the loss is written from the last layer's z: softmax + CE (targets summing to 1), sigmoid + BCE."""
    import sympy

    last = m.layers[-1]
    if (last.activation, m.loss) not in FROM_LOGITS or last.dropout or not m.target:
        return False
    if {"L", "yhat", f"a{len(m.layers)}", f"z{len(m.layers)}"} & set(m.equations):
        return False     # the spec redefines a node the identity rests on
    if m.loss == "bce":
        return True
    ys = _given_numbers(graph, m.target)
    return bool(ys) and sympy.Add(*ys) == 1


def _loss_text(m, graph) -> str:
    """The loss as an equation; BCE at 0/1 targets without the terms of weight 0 (0·log ŷ = 0 for every ŷ)."""
    if _from_logits(m, graph):
        text = FROM_LOGITS[(m.layers[-1].activation, m.loss)].format(z=f"z{len(m.layers)}", y=m.target)
    else:
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
    if _from_logits(m, graph):
        notes.append(_identity(m, graph))
    return "; ".join(notes)


def _identity(m, graph) -> str:
    """The note naming ∂L/∂z = ŷ − y (over n for a BCE averaged over n outputs)."""
    from math import prod

    n = prod(_shape(graph, m.target)) if m.target in graph.groups else 1
    mean = m.loss == "bce" and m.reduction == "mean" and n > 1
    return IDENTITY[m.loss].replace(f"{YHAT} − y", f"({YHAT} − y)/{n}", 1) if mean else IDENTITY[m.loss]


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
