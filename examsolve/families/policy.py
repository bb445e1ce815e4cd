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
        baseline: Optional[Raw] = Field(None, description="reinforce: a baseline b subtracted from the return at "
                                        "every time step, weight r(τ) − b (a number or an expression, which may "
                                        "use the state: b(x)); default none, b = 0")
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


@family("policy", summary="policy gradients for discrete policies in a scalar, vector or matrix θ: log-policy "
        "gradients, REINFORCE (optionally with a baseline) and A2C (A = Q − V with V the policy-weighted value) "
        "estimates, the ascent step",
        examples=("reinforce.yaml", "a2c.yaml", "reinforce_baseline.yaml"), model=_model,
        uses=("given", "symbols", "functions", "vector_functions", "conventions", "assume"))
def _solve(spec):
    """Builds log π(u|x) per transition as graph nodes, so the chain rule is shown step by step."""
    import sympy

    from examsolve.asks import Solver
    from examsolve.engine import evaluate

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
    reward = None
    # the given values: a return, baseline or α written in θ is a number at θ (held fixed, not differentiated)
    given = evaluate(graph)
    if m.estimate == "reinforce":
        if m.reward is None:
            raise SpecError("reinforce needs reward: r(τ)", spec.loc())
        reward = _scalar(spec, m.reward, ("reward",), graph.names(), given)
        # the return is one number for the whole trajectory: shown once, whatever the number of transitions
        steps.append(Step("return of the trajectory r(τ)", target=sympy.Symbol("r"), value=reward,
                          note="" if m.baseline is not None else
                          "no baseline: every transition is weighted by the return itself (b = 0)"))
    elif m.baseline is not None:
        raise SpecError("a2c takes no baseline: its advantage A = Q − V already subtracts V(x); "
                        "remove baseline: or use estimate: reinforce", spec.loc("baseline"))
    # the estimate's weight: the return less the baseline (REINFORCE) or the advantage of the action taken (A2C)
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
        prefix = f"transitions.{k - 1}." if several else ""
        if m.estimate == "reinforce":
            weight = reward if m.baseline is None else _baselined(spec, m, reward, (names, given), k, prefix, steps)
        else:
            weight = _advantage(spec, m, graph, x, tr.action, steps)
        qs.extend(_state_quantities(spec, m, graph, x, prefix))
        graph.add_given(f"w_{k}", fit(weight))
        terms.append(f"logpi_{k}*w_{k}")
    add_equations(spec, graph, {"J": " + ".join(terms)})
    graph.sources.pop("J", None)
    solver = Solver(spec, graph)
    what = ("A(u, x)" if m.estimate == "a2c" else "r(τ)" if m.baseline is None else "(r(τ) − b)")
    solver.steps.extend(steps)
    solver.steps.append(Step(f"{'REINFORCE' if m.estimate == 'reinforce' else 'A2C'} estimate: "
                             f"Σ over the transitions of ∂log π(u|x)/∂θ · {what}, written as the gradient of "
                             f"J = Σ log π(u_k|x_k)·w_k with the weights w_k held fixed", quantities=tuple(qs)))
    solver.run([_Ask("J", m.param, "estimate")])
    est = _simpler(solver.answers[-1].value)
    solver.answers[-1] = replace(solver.answers[-1], value=est)
    lr = _scalar(spec, m.lr, ("lr",), graph.names(), given)
    new, shown_names = _ascent(solver, graph.groups[m.param], lr, est)
    solver.answer(f"{m.param} after the step", new)
    from examsolve.names import SUB
    names = dict(shown_names)
    for k in range(1, len(m.trajectory) + 1):
        sub = str(k).translate(SUB)
        names[f"pi_{k}"] = (r"\pi_{%d}" % k, f"π{sub}")
        names[f"logpi_{k}"] = (r"\log\pi_{%d}" % k, f"log π{sub}")
    return solver.solution(names)


def _simpler(v):
    """The shorter of v and its cancelled form (12/(1 + e⁶) rather than a product of fractions), per element.

    cancel, not simplify: simplify's first call imports sympy.physics (~0.3 s).
    """
    import sympy

    from examsolve.tensor import Tensor

    if isinstance(v, Tensor):
        return v.map(_simpler)
    if not isinstance(v, sympy.Basic) or sympy.count_ops(v) > 60:
        return v
    s = sympy.cancel(v)
    return s if sympy.count_ops(s) < sympy.count_ops(v) else v


def _scalar(spec, raw, path: tuple, names: dict, values: dict):
    """One number or expression of the spec (reward:, baseline:, lr:) at the given values; a list is an error."""
    from examsolve.engine import substitute
    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr
    from examsolve.tensor import Tensor

    v = spec_expr(spec, raw, path, names)
    if isinstance(v, Tensor):
        raise SpecError(f"{path[0]}: takes one number or expression, not a list of {len(v)}", spec.loc(*path))
    return substitute(v, values)


# the one rule a baseline follows here, said under the first weight step
_BASELINE_NOTE = ("baseline: b is subtracted from the return r(τ) at every time step (this family weighs each "
                  "transition by the whole return, not a reward-to-go): the weight of transition k is r(τ) − b, "
                  "with b evaluated at its state x_k, so the estimate is Σ_k ∂log π(u_k|x_k)/∂θ · (r(τ) − b); a b "
                  "that does not depend on the action leaves the estimate unbiased")


def _baselined(spec, m, reward, scope: tuple, k: int, prefix: str, steps: list):
    """The weight r(τ) − b(x_k) of transition k, as a step (the convention noted on the first); b may use the state."""
    import sympy

    from examsolve.steps import Step
    from examsolve.values import fit

    b = _scalar(spec, m.baseline, ("baseline",), *scope)
    w = fit(reward - b)
    steps.append(Step(f"weight of transition {k}: the return less the baseline, r(τ) − b",
                      target=sympy.Symbol(f"w_{k}"),
                      formula=sympy.Add(sympy.Symbol("r"), sympy.Mul(-1, sympy.Symbol("b"), evaluate=False),
                                        evaluate=False),
                      substituted=sympy.Add(reward, sympy.Mul(-1, b, evaluate=False), evaluate=False),
                      value=w, note=_BASELINE_NOTE if k == 1 else "",
                      quantities=((prefix + "b", b), (prefix + "weight", w))))
    return w


def _ascent(solver, group, lr, est) -> tuple:
    """θ ← θ + α·estimate as steps (one per element of a vector or matrix θ); (θ after, display names)."""
    import sympy

    from examsolve.names import SUB, text_name
    from examsolve.steps import Step
    from examsolve.tensor import Tensor, element_suffixes
    from examsolve.values import fit

    alpha = sympy.Symbol("alpha")
    if not group.shape:
        theta = solver.values[group.symbols[0]]
        new = fit(theta + lr * est)
        solver.steps.append(Step("gradient ascent: θ ← θ + α·estimate", target=sympy.Symbol(group.name + "_new"),
                                 formula=sympy.Add(sympy.Symbol(group.name), sympy.Mul(alpha, sympy.Symbol(
                                     "estimate"), evaluate=False), evaluate=False),
                                 substituted=sympy.Add(theta, sympy.Mul(lr, est, evaluate=False), evaluate=False),
                                 value=new))
        return _simpler(new), {}
    # a vector or matrix θ: the same step for each element, as an exam key writes it
    subs, items, shown = [], [], {}
    base = sympy.latex(sympy.Symbol(group.name))
    for s, suffix, e in zip(group.symbols, element_suffixes(group.shape), est.items):
        before = solver.values[s]
        after = _simpler(fit(before + lr * e))
        target, grad = sympy.Symbol(f"{group.name}_new_{suffix}"), sympy.Symbol(f"estimate_{suffix}")
        shown[target.name] = (r"%s_{%s}^{new}" % (base, suffix), f"{text_name(s.name)}_new")
        subs.append(Step(f"update {text_name(s.name)}: {text_name(s.name)} ← {text_name(s.name)} + "
                         f"α·estimate{suffix.translate(SUB)}", target=target,
                         formula=sympy.Add(s, sympy.Mul(alpha, grad, evaluate=False), evaluate=False),
                         substituted=sympy.Add(before, sympy.Mul(lr, e, evaluate=False), evaluate=False),
                         value=after))
        items.append(after)
    new = Tensor(group.shape, tuple(items))
    solver.steps.append(Step(f"gradient ascent: θ ← θ + α·estimate, element by element (α = {sympy.sstr(lr)})",
                             substeps=tuple(subs), quantities=((group.name + "_new", new),)))
    return new, shown


def _state_quantities(spec, m, graph, x, prefix: str) -> list:
    """pi and grad_log_pi: π(u|x) and ∂log π(u|x)/∂θ for every action u of the policy (its order), at x.

    With a vector or matrix θ, grad_log_pi[i] is the gradient for action i (0-based), shaped as θ. With several
    transitions each gets its own names (`transitions.0.pi` ...); with one, plain `pi`.
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
    group = graph.groups[m.param]
    probs, grads = [], []
    for u, text in m.policy.items():
        p = spec_expr(spec, text, ("policy", u), names)
        log_p = sympy.log(p)
        for theta in group.symbols:
            # a kink (relu'(0)) takes the spec's convention, as in the estimate's backward pass
            g, _ = resolve_kinks(substitute(sympy.diff(log_p, theta), values), m.conventions.model_dump())
            grads.append(_simpler(fit(g)))
        probs.append(_simpler(fit(substitute(p, values))))
    n = len(probs)
    out = [(prefix + "pi", Tensor((n,), tuple(probs)))]
    if len(group.shape) < 2:
        return out + [(prefix + "grad_log_pi", Tensor((n,) + tuple(group.shape), tuple(grads)))]
    # a matrix θ: one matrix per action (the renderers print a rank-3 tensor flat), still keyed grad_log_pi[i][r][c]
    size = len(group.symbols)
    return out + [(f"{prefix}grad_log_pi[{i}]", Tensor(group.shape, tuple(grads[i * size:(i + 1) * size])))
                  for i in range(n)]


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
