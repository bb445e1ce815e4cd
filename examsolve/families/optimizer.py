"""optimizer: steps of gradient descent, momentum (three forms), Nesterov, AdaGrad, RMSProp, Adam(W), Rprop (four variants)."""
import dataclasses
import functools

from examsolve.registry import family
from examsolve.twolane import LANES, Arithmetic, NeedLanes, Num

MAX_ALL = 500      # steps that table: all shows in full


@functools.cache
def _model():
    from typing import ClassVar, Literal, Optional

    from pydantic import Field

    from examsolve.spec import KEYS, BaseSpec, Raw, _Model

    from examsolve.spec import CONVENTION

    class Optimizer(_Model):
        """The optimizer and its hyperparameters (PyTorch's defaults); a field its type does not read is refused."""

        type: Literal["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "rprop"]
        lr: Raw = Field("0.1", description="learning rate α (a number or a name under symbols:)")
        form: Literal["classic", "negative", "ema"] = Field("classic", json_schema_extra=CONVENTION, description="momentum: v ← μv + g, "
                                                            "v ← μv − αg, or v ← βv + (1 − β)g")
        nesterov_form: Literal["sutskever", "pytorch"] = Field(
            "sutskever", json_schema_extra=CONVENTION, description="nesterov: sutskever: v ← μv − α∇L(p + μv), "
            "p ← p + v (the gradient at the look-ahead point; Sutskever et al. 2013, CS231n); pytorch: v ← μv + g, "
            "p ← p − α(g + μv) with g = ∇L(p) (torch.optim.SGD with nesterov=True)")
        momentum: Raw = Field("0.9", description="μ (or β for the ema form)")
        bias_correction: bool = Field(True, description="adam, and momentum's ema form: divide by 1 − βᵗ")
        beta1: Raw = Field("0.9", description="adam: β₁")
        beta2: Raw = Field("0.999", description="adam: β₂")
        rho: Raw = Field("0.9", description="rmsprop: ρ")
        eps: Raw = Field("1e-8", description="ε added to the root")
        eps_inside: bool = Field(False, description="ε inside the root: √(v + ε)")
        weight_decay: Raw = Field(0, description="adamw: λ")
        eta_plus: Raw = Field("1.2", description="rprop: η⁺")
        eta_minus: Raw = Field("0.5", description="rprop: η⁻")
        step_min: Raw = Field("1e-6", description="rprop: Δmin")
        step_max: Raw = Field(50, description="rprop: Δmax")
        step_init: Optional[Raw] = Field(None, description="rprop: Δ₀, the first step size (default: lr, as "
                                         "PyTorch's Rprop uses lr; PyTorch's default lr is 0.01, examsolve's 0.1)")
        variant: Literal["rprop+", "rprop-", "irprop+", "irprop-"] = Field(
            "irprop-", json_schema_extra=CONVENTION, description="rprop (Igel & Hüsken 2000): rprop+ undoes the "
            "previous move on a sign change (weight backtracking), rprop- still moves with the new sign, irprop+ "
            "backtracks only when the loss increased, irprop- does not move (PyTorch's torch.optim.Rprop)")
        t: Optional[Raw] = Field(None, description="the step number in bias corrections, e.g. t (symbolic)")

    class OptimizerSpec(BaseSpec):
        """Optimizer steps on a loss of the parameters."""

        name_fields: ClassVar = (("params", KEYS),)   # symbol names: checked by spec.check_names
        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        params: dict[str, Raw] = Field(description="parameters and their start values (numbers or names)")
        loss: str = Field(description="the loss in the parameters, e.g. 2*x1 + 3*x1*x2")
        optimizer: Optimizer
        steps: int = Field(1, ge=1, le=100_000, description="number of updates")
        table: Literal["summary", "all"] = Field("summary", description="summary: steps 1-3 and the last in full, "
                                                 "at most about 50 table rows; all: every step in full and every "
                                                 f"iterate a row (at most {MAX_ALL} steps)")
        state: dict[str, list[Raw]] = Field(default_factory=dict, description="start values of the optimizer "
                                            "state per parameter, e.g. v: [v1, v2] (default 0)")

    return OptimizerSpec


@family("optimizer", summary="optimizer steps: gradient descent, momentum (three forms), Nesterov, AdaGrad, "
        "RMSProp, Adam/AdamW (bias correction named), Rprop (Rprop+, Rprop−, iRprop+, iRprop− named); numeric or "
        "symbolic, each update with its numbers substituted, a table of iterates",
        examples=("momentum_symbolic.yaml", "adam_two_steps.yaml", "rmsprop_steps.yaml", "adagrad_steps.yaml",
                  "nesterov_steps.yaml", "rprop_steps.yaml", "rprop_plus.yaml"), model=_model,
        uses=("given", "symbols", "conventions"), refuse=lambda spec: _refuse_unused(spec))
def _solve(spec):
    """Runs the update rule step by step; every state variable and update is a shown step."""
    import mpmath

    from examsolve.finish import finish

    # one float lane first: a run whose every decision is settled by structure or an exact shadow (Adam's
    # √v̂ + ε > 0) needs no second; else the run is made again with both lanes (restarting is simpler than
    # recomputing a history). Rprop and kinks decide signs of differences every step: two lanes at once
    lanes = None
    while True:
        run = _Run(spec)
        lanes = _needs_lanes(run) if lanes is None else lanes
        token = LANES.set(lanes)
        try:
            with mpmath.workdps(35):   # float mode keeps 35 digits (30 shown); restored afterwards
                for t in range(1, spec.model.steps + 1):
                    run.step(t)
            break
        except NeedLanes:
            lanes = True
        finally:
            LANES.reset(token)
    return finish(spec, run.steps_out(), run.answers(), run.names)


def _needs_lanes(run) -> bool:
    """Whether a run decides signs the structure cannot (Rprop's g·g_prev, a kink's side): two lanes from step 1."""
    import sympy

    from examsolve.functions import Kink, extreme_grad

    return run.o.type == "rprop" or run.loss.has(Kink, extreme_grad, sympy.sign, sympy.Heaviside, sympy.Abs,
                                                 sympy.Min, sympy.Max, sympy.Piecewise)


class _Run:
    """One optimizer run: the parsed spec, the state, and the steps, rows and quantities so far."""

    def __init__(self, spec):
        import sympy

        from examsolve.errors import SpecError
        from examsolve.expr import symbol
        from examsolve.spec_graph import spec_expr
        from examsolve.steps import Step
        from examsolve.values import fit

        self.spec, m, o = spec, spec.model, spec.model.optimizer
        self.m, self.o = m, o
        self.names = {s: symbol(s) for s in m.symbols}
        for name, raw in m.given.items():
            self.names[name] = spec_expr(spec, raw, ("given", name), self.names)
        self.params = [symbol(p) for p in m.params]
        self.x = [spec_expr(spec, raw, ("params", p), self.names) for p, raw in m.params.items()]
        self.loss = spec_expr(spec, m.loss, ("loss",), {**self.names, **{p.name: p for p in self.params}})
        self.grads = [sympy.diff(self.loss, p) for p in self.params]
        if m.table == "all" and m.steps > MAX_ALL:
            raise SpecError(f"table: all shows at most {MAX_ALL} steps, and steps is {m.steps}; use table: summary "
                            "or fewer steps", spec.loc("table"))
        self.hyper: dict = {}
        self.rule = o.type + ("/" + o.form if o.type == "momentum" else
                              "/pytorch" if o.type == "nesterov" and o.nesterov_form == "pytorch" else "")
        self.ar = Arithmetic(fit, m.conventions.model_dump())
        self.states = {"momentum": ["v"], "nesterov": ["v"], "adagrad": ["G"], "rmsprop": ["s"], "adam": ["m", "v"],
                       "adamw": ["m", "v"], "rprop": ["g_prev", "Δ", "Δw"]}.get(o.type, [])
        self.lr = self.h("lr")
        self.st = self._start_state()
        from examsolve.update_rules import rule_text

        form = o.form if o.type == "momentum" else o.nesterov_form if o.type == "nesterov" else ""
        head = f"{o.type}{' (' + form + ' form)' if form else ''}: {rule_text(o, self.rule)}"
        self.steps = [Step(head)]
        self.rows: list = []
        self.qs = [(f"iterates.{p.name}[0]", self.ar.sym(v)) for p, v in zip(self.params, self.x)]
        # iRprop+ compares the loss at the current and the previous iterate
        self.losses = [self.ar.at(self.loss, dict(zip(self.params, self.x)))] \
            if o.type == "rprop" and o.variant == "irprop+" else []

    def h(self, key):
        """A hyperparameter, read once (as a float once the run is in float mode)."""
        from examsolve.spec_graph import spec_expr

        if key not in self.hyper:
            self.hyper[key] = spec_expr(self.spec, getattr(self.o, key), ("optimizer", key), self.names)
            if self.ar.floats:
                self.hyper[key] = self.ar.num(self.hyper[key])
        return self.hyper[key]

    def _start_state(self) -> dict:
        import sympy

        from examsolve.errors import SpecError
        from examsolve.spec_graph import spec_expr

        spec, m = self.spec, self.m
        for k in m.state:
            if k not in self.states:
                raise SpecError(f"state '{k}' is not one of {self.o.type}'s: {', '.join(self.states) or 'none'}",
                                spec.loc("state", k))
        delta0 = self.h("step_init") if self.o.step_init is not None else self.lr
        st: dict = {}
        for k in self.states:
            raw = m.state.get(k)
            if raw is not None:
                if len(raw) != len(self.params):
                    raise SpecError(f"state {k} needs one value per parameter ({len(self.params)})",
                                    spec.loc("state", k))
                st[k] = [spec_expr(spec, r, ("state", k, i), self.names) for i, r in enumerate(raw)]
            else:
                st[k] = [delta0 if k == "Δ" else sympy.Integer(0)] * len(self.params)
        return st

    def _to_floats(self) -> None:
        """Exact values have run out of budget: continue in 30-digit mpmath floats, much faster."""
        ar = self.ar
        ar.to_floats()
        self.x = [ar.num(v) for v in self.x]
        self.st = {k: [ar.num(v) for v in vals] for k, vals in self.st.items()}
        self.lr = ar.num(self.lr)
        self.hyper.clear()

    def step(self, t: int) -> None:
        """Update t: the gradients, every parameter's update, the table row and (when shown) the steps."""
        import sympy

        from examsolve.spec_graph import spec_expr
        from examsolve.steps import Step

        m, o, ar, params = self.m, self.o, self.ar, self.params
        if not ar.floats and _all_floats(self.x, self.st):
            self._to_floats()
        tt = spec_expr(self.spec, o.t, ("optimizer", "t"), self.names) if o.t is not None else sympy.Integer(t)
        show = t <= 3 or t == m.steps or m.table == "all"
        g, sub = self._gradients(t, show)
        worse = None if len(self.losses) < 2 else ar.decide(
            self.losses[-1] - self.losses[-2], "the loss change L_t − L_(t−1)", self.spec.loc("loss")) > 0
        new, signs = [], []
        for i, p in enumerate(params):
            xn, shown, sign = self._update_one(i, p, g[i], tt, t, show, worse)
            new.append(xn)
            sub.extend(shown)
            signs += [] if sign is None else [sign]
        self.x = new
        loss_raw = ar.at(self.loss, dict(zip(params, new)))
        loss_t = ar.sym(loss_raw)
        self.qs.append((f"loss[{t}]", loss_t))
        if self.losses:
            self.losses.append(loss_raw)   # unrounded: iRprop+ decides the sign of the change
        if show or m.steps <= 50 or t % (m.steps // 50) == 0:
            from examsolve.rprop import relation

            self.rows.append((t,) + tuple(ar.sym(v) for v in new) + (loss_t,) + tuple(map(relation, signs)))
        if show:
            self.steps.append(Step(f"Step {t}", substeps=tuple(sub)))
        elif t == 4:
            span = "Step 4" if m.steps == 5 else f"Steps 4..{m.steps - 1}"
            self.steps.append(Step(f"{span}: the same updates (see the table, or table: all to show every step)"))

    def _gradients(self, t: int, show: bool) -> tuple[list, list]:
        """The gradient of every parameter at step t (Nesterov: at the look-ahead point) and the shown steps."""
        ar, params, sub, ahead = self.ar, self.params, [], None
        if self.rule == "nesterov":
            ahead = {p: ar.fit(xi + self.h("momentum") * vi) for p, xi, vi in zip(params, self.x, self.st["v"])}
            g = [ar.at(gi, ahead) for gi in self.grads]
            self.qs += [(f"lookahead.{p.name}[{t}]", ar.sym(ahead[p])) for p in params]
            if show:
                sub += _lookahead_steps(ar, params, self.x, self.st["v"], self.h("momentum"), ahead, t)
        else:
            g = [ar.at(gi, dict(zip(params, self.x))) for gi in self.grads]
        if show:
            sub += _gradient_steps(ar, params, self.grads, g, ahead)
        ar.step_notes.clear()
        self.qs += [(f"grad.{p.name}[{t}]", ar.sym(gv)) for p, gv in zip(params, g)]
        return g, sub

    def _update_one(self, i: int, p, g, tt, t: int, show: bool, worse) -> tuple:
        """Parameter i's update: its new value, the shown steps, and Rprop's sign of g·g_prev (else None)."""
        from examsolve.functions import Iterate
        from examsolve.steps import Step

        ar, sign = self.ar, None
        if self.rule == "rprop":
            from examsolve import rprop

            lines, xn, upd, sign = rprop.step(self.o.variant, self.h, self.st, i, g, self.x[i], ar, p.name, t,
                                              worse, show, self.spec.loc("params", p.name))
        else:
            from examsolve.update_rules import update

            lines, xn, upd = update(self.o, self.h, self.rule, self.st, i, g, self.x[i], self.lr, tt, ar, p.name,
                                     show, t, lambda key: self.spec.loc("optimizer", key))
        self.qs += [(f"{key}.{p.name}[{t}]", value) for _, key, _, value, _, _ in lines]
        self.qs.append((f"iterates.{p.name}[{t}]", ar.sym(xn)))
        shown = []
        if show:
            shown = [Step(title, target=target, formula=formula, substituted=substituted, value=value)
                     for title, _, target, value, formula, substituted in lines]
            shown.append(Step(f"update {p.name}", target=Iterate(p, t), formula=upd[0], substituted=upd[1],
                              value=ar.sym(xn)))
        return xn, shown, sign

    def steps_out(self) -> list:
        """The steps, with the velocity eliminated (momentum), the table and every quantity."""
        from examsolve.steps import Step, Table

        m, o, steps = self.m, self.o, list(self.steps)
        if o.type == "momentum" and not (o.form == "ema" and o.bias_correction):
            # v_t is (x_(t-1) − x_t)/α (classic, ema) or x_t − x_(t-1) (negative): substitute it away
            grad_coeff = "α·(1 − β)" if o.form == "ema" else "α"
            mu_name = "β" if o.form == "ema" else "μ"
            steps.append(Step(f"eliminating the velocity (heavy-ball form): x_(t+1) = x_t + {mu_name}·(x_t − x_(t−1)) "
                              f"− {grad_coeff}·∇L(x_t)"))
        if m.steps > 1:
            signs = tuple(f"g·g_prev ({p.name})" for p in self.params) if o.type == "rprop" else ()
            steps.append(Step("Iterates", table=Table(("step",) + tuple(p.name for p in self.params) + ("loss",)
                                                      + signs, tuple(self.rows))))
        # iterates.w[t], grad.w[t] (the gradient used in step t), m.w[t] ..., loss[t]: addressable by key: and grade
        steps[-1] = dataclasses.replace(steps[-1], quantities=steps[-1].quantities + tuple(self.qs))
        named = {"rprop": (_rprop_name(o.variant), "variant", o.variant),
                 "nesterov": (_NESTEROV[o.nesterov_form], "nesterov_form", o.nesterov_form)}.get(o.type)
        notes = ([f"convention: {named[0]} (optimizer.{named[1]} = {named[2]})"] if named else []) \
            + self.ar.notes   # every convention a step used, also unshown
        if notes:
            steps[0] = dataclasses.replace(steps[0], note="; ".join(notes))
        return steps

    def answers(self) -> list:
        """The parameters after the last step, and the moment/velocity state."""
        from examsolve.functions import Iterate
        from examsolve.steps import Answer

        n = self.m.steps
        after = f"after {n} step{'s' if n > 1 else ''}"
        out = [Answer(f"{p.name} {after}", self.ar.sym(xi), Iterate(p, n)) for p, xi in zip(self.params, self.x)]
        for k in self.states:
            if k in ("v", "m", "s", "G"):
                out += [Answer(f"{k}_{p.name} {after}", self.ar.sym(val)) for p, val in zip(self.params, self.st[k])]
        return out


_NESTEROV = {"sutskever": "Nesterov, Sutskever's form: the gradient at the look-ahead point p + μ·v, v holds −α·g "
                          "(nesterov_form: pytorch is PyTorch's: g at p, p ← p − α·(g + μ·v))",
             "pytorch": "Nesterov, PyTorch's form (SGD nesterov=True): the gradient at p, p ← p − α·(g + μ·v), v holds "
                        "g (nesterov_form: sutskever takes the gradient at the look-ahead point p + μ·v)"}

# the optimizer fields each type reads (type and lr: every one); any other given is refused, never ignored
_USES = {"gd": (), "momentum": ("form", "momentum", "bias_correction", "t"),
         "nesterov": ("nesterov_form", "momentum"), "adagrad": ("eps", "eps_inside"),
         "rmsprop": ("rho", "eps", "eps_inside"),
         "adam": ("beta1", "beta2", "eps", "eps_inside", "bias_correction", "t"),
         "adamw": ("beta1", "beta2", "eps", "eps_inside", "bias_correction", "t", "weight_decay"),
         "rprop": ("eta_plus", "eta_minus", "step_min", "step_max", "step_init", "variant")}


def _refuse_unused(spec) -> None:
    """SpecError at the key of an optimizer field this type does not read (form: negative on nesterov would be
    ignored without a word, a silent wrong answer)."""
    from examsolve.errors import SpecError

    o = spec.model.optimizer
    uses = _USES[o.type]
    if o.type == "momentum" and o.form != "ema":
        uses = ("form", "momentum")         # bias correction (and its t) is the ema form's
    for field in _FIELDS:
        if ("optimizer", field) in spec.key_marks and field not in uses:
            users = [k for k, v in _USES.items() if field in v]
            hint = ("; for PyTorch's Nesterov (nesterov=True) write nesterov_form: pytorch" if o.type == "nesterov"
                    and field == "form" else "; momentum's bias correction needs form: ema"
                    if o.type == "momentum" and field in ("bias_correction", "t") else "")
            raise SpecError(f"optimizer.{field} is not used by {o.type} (only by {', '.join(users)}); remove it{hint}",
                            spec.key_loc("optimizer", field))


_FIELDS = ("form", "nesterov_form", "momentum", "bias_correction", "beta1", "beta2", "rho", "eps", "eps_inside",
           "weight_decay", "eta_plus", "eta_minus", "step_min", "step_max", "step_init", "variant", "t")


def _rprop_name(variant: str) -> str:
    from examsolve.rprop import NAMES

    return NAMES[variant]


def _gradient_steps(ar, params, grads, g, ahead: dict | None) -> list:
    """The shown gradient steps; Nesterov's (ahead given) are written at the look-ahead point, its value put in."""
    import sympy

    from examsolve.steps import Step

    at = {p: _ahead_symbol(p) for p in params} if ahead else {}
    return [Step(f"∂L/∂{p.name}" + (" at the look-ahead point" if at else ""), target=sympy.Symbol(f"g_{p.name}"),
                 formula=gi.xreplace(at) if at else gi, value=ar.sym(gv), note="; ".join(ar.step_notes),
                 substituted=_put_in(gi, {q: ar.sym(ahead[q]) for q in params}) if at else None)
            for p, gi, gv in zip(params, grads, g)]


def _lookahead_steps(ar, params, x, v, mu, ahead: dict, t: int) -> list:
    """Nesterov's look-ahead point p̃ = p + μ·v of every parameter, a step each (formula and numbers)."""
    import sympy

    from examsolve.steps import Step

    U, n = {"evaluate": False}, ar.sym
    out = []
    for p, xi, vi in zip(params, x, v):
        q = (f"lookahead.{p.name}[{t}]", n(ahead[p]))
        out.append(Step(f"look-ahead point of {p.name}: the gradient is taken here, not at {p.name}",
                        target=_ahead_symbol(p),
                        formula=sympy.Add(p, sympy.Mul(sympy.Symbol("mu"), sympy.Symbol(f"v_{p.name}"), **U), **U),
                        substituted=sympy.Add(n(xi), sympy.Mul(n(mu), n(vi), **U), **U), value=q[1],
                        quantities=(q,)))
    return out


def _ahead_symbol(p):
    """The look-ahead point's symbol: w_ahead for w (one name every format prints alike)."""
    import sympy

    return sympy.Symbol(f"{p.name}_ahead")


def _put_in(expr, values: dict):
    """expr with the values put in, unevaluated (2·0.62, not 1.24): the substituted line of a step."""
    from examsolve.engine import substitute

    return substitute(expr, values, evaluate=False)


def _all_floats(x, st) -> bool:
    """True once every value is a number and some ran out of the exact budget (a Num)."""
    vals = list(x) + [v for vs in st.values() for v in vs]
    return all(isinstance(v, Num) or getattr(v, "is_number", False) for v in vals) and \
        any(isinstance(v, Num) for v in vals)


def _vec(items):
    from examsolve.tensor import Tensor

    items = tuple(items)
    return items[0] if len(items) == 1 else Tensor((len(items),), items)
