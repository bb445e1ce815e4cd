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

    from examsolve.spec import BaseSpec, _Model

    class Layer(_Model):
        """One dense layer z = W·a + b, then an activation."""

        weights: str = Field(description="given name of the weight matrix (out × in)")
        bias: Optional[str] = Field(None, description="given name of the bias vector")
        activation: Literal[tuple(ACTIVATIONS)] = "linear"
        dropout: Optional[str] = Field(None, description="given name of a 0/1 mask on the layer's output")

    class MlpSpec(BaseSpec):
        """Layers from an input to a prediction, a loss against a target, and the graph family's asks."""

        input: str = Field("x", description="given name of the input vector")
        target: Optional[str] = Field(None, description="given name of the target")
        layers: list[Layer]
        loss: Optional[Literal[tuple(LOSSES)]] = Field(None, description="mse, mse_half (with ½), sse, bce, ce")
        l2: Optional[str] = Field(None, description="λ of a penalty λ·Σ W² over every weight matrix")

    return MlpSpec


@family("mlp", summary="a small MLP with given weights: per-neuron forward values, a loss (MSE with or without "
        "½, SSE, BCE, cross-entropy, an L2 penalty), backward per weight, SGD updates",
        examples=("mlp_2_2_1.yaml",), model=_model)
def _solve(spec):
    """Writes z_k = W_k·a_(k−1) + b_k and a_k = act(z_k) as equations, then runs the asks on the graph."""
    from examsolve.asks import Solver, add_equations, build_graph
    from examsolve.errors import SpecError
    from examsolve.steps import Step

    m = spec.model
    graph = build_graph(spec, equations={})
    a = m.input
    eqs: dict = {}
    for k, layer in enumerate(m.layers, 1):
        for name in (layer.weights, layer.bias, layer.dropout):
            if name and name not in graph.groups:
                raise SpecError(f"layer {k}: '{name}' is not under given:", spec.loc("layers", k - 1))
        eqs[f"z{k}"] = f"{layer.weights} @ {a}" + (f" + {layer.bias}" if layer.bias else "")
        eqs[f"a{k}"] = ACTIVATIONS[layer.activation].format(z=f"z{k}")
        if layer.dropout:
            eqs[f"a{k}"] = f"({eqs[f'a{k}']})*{layer.dropout}"
        a = f"a{k}"
    eqs["yhat"] = a
    if m.loss:
        if not m.target:
            raise SpecError("a loss needs target:", spec.loc("loss"))
        eqs["L"] = LOSSES[m.loss].format(yhat="yhat", y=m.target)
        if m.l2:
            eqs["L"] += " + " + m.l2 + "*(" + " + ".join(f"sum({layer.weights}**2)" for layer in m.layers) + ")"
    eqs.update(m.equations)
    add_equations(spec, graph, eqs)
    solver = Solver(spec, graph)
    solver.steps.append(Step("the network as equations: " + "; ".join(f"{k} = {v}" for k, v in eqs.items())))
    solver.run(m.ask)
    return solver.solution()
