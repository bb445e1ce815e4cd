"""policy: policy-gradient estimates (REINFORCE, A2C) for discrete policies, exactly."""
import functools
from dataclasses import replace

from examsolve.registry import family


@functools.cache
def _model():
    from typing import Literal, Optional

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw, _Model

    class Transition(_Model):
        """One state and the action taken in it."""

        state: Raw = Field(description="the state x")
        action: str = Field(description="the action taken, one of the policy's keys")

    class PolicySpec(BaseSpec):
        """A discrete policy π(u | x) in θ; an estimate of ∇θ J from a trajectory; an ascent step."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        param: str = Field("theta", description="the policy's parameter (given)")
        state: str = Field("x", description="the name of the state in the policy")
        policy: dict[str, str] = Field(description="action → probability in θ and the state, "
                                                   "e.g. {'1': 'sigmoid(theta*x)', '2': '1 - sigmoid(theta*x)'}")
        estimate: Literal["reinforce", "a2c"] = Field("reinforce", description="which estimate")
        trajectory: list[Transition] = Field(description="the transitions the estimate uses")
        reward: Optional[Raw] = Field(None, description="reinforce: the return r(τ) (a number or expression)")
        q: dict[str, Raw] = Field(default_factory=dict, description="a2c: the action values Q(u, x) in the state")
        lr: Raw = Field(1, description="learning rate of the ascent step θ ← θ + α·estimate")

    return PolicySpec


class _Ask:
    """A grad ask built here, shaped like a spec's `- grad: {of, wrt, name}`."""

    kind = "grad"

    def __init__(self, of, wrt, name):
        self.body = self
        self.of, self.wrt, self.name = of, wrt, name
        self.at = self.key = self.upstream = None


@family("policy", summary="policy gradients for discrete policies: log-policy gradients, REINFORCE and A2C "
        "(A = Q − V with V the policy-weighted value) estimates, the ascent step",
        examples=("reinforce.yaml", "a2c.yaml"), model=_model,
        uses=("given", "symbols", "functions", "vector_functions", "conventions", "assume"))
def _solve(spec):
    """Builds log π(u|x) per transition as graph nodes, so the chain rule is shown step by step."""
    import sympy

    from examsolve.asks import Solver

    from examsolve.errors import SpecError
    from examsolve.expr import Ops
    from examsolve.spec_graph import add_equations, build_graph, spec_expr
    from examsolve.steps import Step
    from examsolve.values import fit

    m = spec.model
    graph = build_graph(spec, equations={})
    if m.param not in graph.groups:
        raise SpecError(f"give the policy's parameter under given:, e.g. {m.param}: 2", spec.loc("given"))
    for k, tr in enumerate(m.trajectory):
        if tr.action not in m.policy:
            raise SpecError(f"action '{tr.action}' is not one of the policy's actions {list(m.policy)}",
                            spec.loc("trajectory", k, "action"))
    steps, terms, qs = [], [], []
    several = len(m.trajectory) > 1
    # the estimate's weight: the return (REINFORCE) or the advantage of the action taken (A2C)
    for k, tr in enumerate(m.trajectory, 1):
        x = spec_expr(spec, tr.state, ("trajectory", k - 1, "state"), graph.names())
        names = dict(graph.names())
        names[m.state] = x
        text = m.policy[tr.action]
        value = spec_expr(spec, text, ("policy", tr.action), names)
        shown = spec_expr(spec, text, ("policy", tr.action), names, evaluate=False)
        graph.add_node(f"pi_{k}", value, shown, spec.loc("policy", tr.action))
        pi = graph.groups[f"pi_{k}"].as_value()
        graph.add_node(f"logpi_{k}", sympy.log(pi), Ops(False).call(sympy.log, pi))
        if m.estimate == "reinforce":
            if m.reward is None:
                raise SpecError("reinforce needs reward: r(τ)", spec.loc())
            weight = spec_expr(spec, m.reward, ("reward",), graph.names())
            steps.append(Step("return of the trajectory r(τ)", target=sympy.Symbol("r"), value=weight))
        else:
            weight = _advantage(spec, m, graph, x, tr.action, steps)
        prefix = f"transitions.{k - 1}." if several else ""
        qs.extend(_state_quantities(spec, m, graph, x, prefix))
        graph.add_given(f"w_{k}", fit(weight))
        terms.append(f"logpi_{k}*w_{k}")
    add_equations(spec, graph, {"J": " + ".join(terms)})
    graph.sources.pop("J", None)
    solver = Solver(spec, graph)
    what = "r(τ)" if m.estimate == "reinforce" else "A(u, x)"
    solver.steps.extend(steps)
    solver.steps.append(Step(f"{'REINFORCE' if m.estimate == 'reinforce' else 'A2C'} estimate: "
                             f"Σ over the transitions of ∂log π(u|x)/∂θ · {what}, written as the gradient of "
                             f"J = Σ log π(u_k|x_k)·w_k with the weights w_k held fixed", quantities=tuple(qs)))
    solver.run([_Ask("J", m.param, "estimate")])
    est = _simpler(solver.answers[-1].value)
    solver.answers[-1] = replace(solver.answers[-1], value=est)
    theta = solver.values[graph.groups[m.param].symbols[0]]
    lr = spec_expr(spec, m.lr, ("lr",), graph.names())
    new = fit(theta + lr * est)
    solver.steps.append(Step("gradient ascent: θ ← θ + α·estimate", target=sympy.Symbol(m.param + "_new"),
                             formula=sympy.Add(sympy.Symbol(m.param), sympy.Mul(sympy.Symbol("alpha"),
                                               sympy.Symbol("estimate"), evaluate=False), evaluate=False),
                             substituted=sympy.Add(theta, sympy.Mul(lr, est, evaluate=False), evaluate=False),
                             value=new))
    solver.answer(f"{m.param} after the step", _simpler(new))
    from examsolve.names import SUB
    names = {}
    for k in range(1, len(m.trajectory) + 1):
        sub = str(k).translate(SUB)
        names[f"pi_{k}"] = (r"\pi_{%d}" % k, f"π{sub}")
        names[f"logpi_{k}"] = (r"\log\pi_{%d}" % k, f"log π{sub}")
    return solver.solution(names)


def _simpler(v):
    """The shorter of v and its cancelled form (12/(1 + e⁶) rather than a product of fractions).

    cancel, not simplify: simplify's first call imports sympy.physics (~0.3 s).
    """
    import sympy

    if not isinstance(v, sympy.Basic) or sympy.count_ops(v) > 60:
        return v
    s = sympy.cancel(v)
    return s if sympy.count_ops(s) < sympy.count_ops(v) else v


def _state_quantities(spec, m, graph, x, prefix: str) -> list:
    """pi and grad_log_pi: π(u|x) and ∂log π(u|x)/∂θ for every action u of the policy (its order), at x.

    With several transitions each gets its own names (`transitions.0.pi` ...); with one, plain `pi`.
    """
    import sympy

    from examsolve.engine import evaluate, substitute
    from examsolve.functions import resolve_kinks
    from examsolve.spec_graph import spec_expr
    from examsolve.tensor import Tensor
    from examsolve.values import fit

    values = evaluate(graph)
    names = dict(graph.names())
    names[m.state] = x
    theta = graph.groups[m.param].symbols[0]
    probs, grads = [], []
    for u, text in m.policy.items():
        p = spec_expr(spec, text, ("policy", u), names)
        probs.append(_simpler(fit(substitute(p, values))))
        # a kink (relu'(0)) takes the spec's convention, as in the estimate's backward pass
        g, _ = resolve_kinks(substitute(sympy.diff(sympy.log(p), theta), values), m.conventions.model_dump())
        grads.append(_simpler(fit(g)))
    n = len(probs)
    return [(prefix + "pi", Tensor((n,), tuple(probs))), (prefix + "grad_log_pi", Tensor((n,), tuple(grads)))]


def _advantage(spec, m, graph, x, action, steps):
    """A(u, x) = Q(u, x) − V(x) with V(x) = Σ_u π(u|x)·Q(u, x)."""
    import sympy

    from examsolve.engine import evaluate, substitute
    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Step
    from examsolve.tensor import Tensor

    if set(m.q) != set(m.policy):
        raise SpecError("a2c needs q: with a value for every action of the policy", spec.loc("q"))
    values = evaluate(graph)
    names = dict(graph.names())
    names[m.state] = x
    probs = {u: substitute(spec_expr(spec, t, ("policy", u), names), values) for u, t in m.policy.items()}
    q = {u: spec_expr(spec, raw, ("q", u), graph.names()) for u, raw in m.q.items()}
    V = sympy.Add(*[probs[u] * q[u] for u in m.policy])
    A = Tensor((len(m.policy),), tuple(q[u] - V for u in m.policy))
    prefix = f"transitions.{len([s for s in steps if s.target == sympy.Symbol('V')])}." \
        if len(m.trajectory) > 1 else ""
    steps.append(Step("V(x) = Σ_u π(u|x)·Q(u, x)", target=sympy.Symbol("V"),
                      formula=sympy.Add(*[sympy.Mul(probs[u], q[u], evaluate=False) for u in m.policy],
                                        evaluate=False), value=V,
                      quantities=((prefix + "V", V), (prefix + "A", A))))
    for u in m.policy:
        steps.append(Step(f"A(u = {u}) = Q − V", target=sympy.Symbol(f"A_{u}"),
                          formula=sympy.Add(q[u], -V, evaluate=False), value=q[u] - V))
    return q[action] - V
