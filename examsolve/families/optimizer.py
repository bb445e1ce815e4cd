"""optimizer: steps of gradient descent, momentum (three forms), Nesterov, AdaGrad, RMSProp, Adam(W), Rprop (four variants)."""
import dataclasses
import functools

from examsolve.registry import family

MAX_ALL = 500      # steps that table: all shows in full


@functools.cache
def _model():
    from typing import ClassVar, Literal, Optional

    from pydantic import Field

    from examsolve.spec import KEYS, BaseSpec, Raw, _Model

    from examsolve.spec import CONVENTION

    class Optimizer(_Model):
        """The optimizer and its hyperparameters (PyTorch's defaults where it has them)."""

        type: Literal["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "rprop"]
        lr: Raw = Field("0.1", description="learning rate α (a number or a name under symbols:)")
        form: Literal["classic", "negative", "ema"] = Field("classic", json_schema_extra=CONVENTION, description="momentum: v ← μv + g, "
                                                            "v ← μv − αg, or v ← βv + (1 − β)g")
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
        uses=("given", "symbols", "conventions"))
def _solve(spec):
    """Runs the update rule step by step; every state variable and update is a shown step."""
    import mpmath

    from examsolve.finish import finish

    run = _Run(spec)
    with mpmath.workdps(35):   # float mode keeps 35 digits (30 shown); restored afterwards
        for t in range(1, spec.model.steps + 1):
            run.step(t)
    return finish(spec, run.steps_out(), run.answers(), run.names)


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
        self.rule = o.type + ("/" + o.form if o.type == "momentum" else "")
        self.ar = _Arithmetic(fit, m.conventions.model_dump())
        self.states = {"momentum": ["v"], "nesterov": ["v"], "adagrad": ["G"], "rmsprop": ["s"], "adam": ["m", "v"],
                       "adamw": ["m", "v"], "rprop": ["g_prev", "Δ", "Δw"]}.get(o.type, [])
        self.lr = self.h("lr")
        self.st = self._start_state()
        from examsolve.update_rules import rule_text

        head = f"{o.type}{' (' + o.form + ' form)' if o.type == 'momentum' else ''}: {rule_text(o, self.rule)}"
        self.steps = [Step(head)]
        self.rows: list = []
        self.qs = [(f"iterates.{p.name}[0]", self.ar.sym(v)) for p, v in zip(self.params, self.x)]
        # iRprop+ compares the loss at the current and the previous iterate
        self.losses = [self.ar.sym(self.ar.at(self.loss, dict(zip(self.params, self.x))))] \
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

        from examsolve.rprop import known_sign
        from examsolve.spec_graph import spec_expr
        from examsolve.steps import Step

        m, o, ar, params = self.m, self.o, self.ar, self.params
        if not ar.floats and _all_floats(self.x, self.st):
            self._to_floats()
        tt = spec_expr(self.spec, o.t, ("optimizer", "t"), self.names) if o.t is not None else sympy.Integer(t)
        show = t <= 3 or t == m.steps or m.table == "all"
        g, sub = self._gradients(t, show)
        worse = None if len(self.losses) < 2 else known_sign(
            self.losses[-1] - self.losses[-2], "the loss change L_t − L_(t−1)", self.spec.loc("loss")) > 0
        new, signs = [], []
        for i, p in enumerate(params):
            xn, shown, sign = self._update_one(i, p, g[i], tt, t, show, worse)
            new.append(xn)
            sub.extend(shown)
            signs += [] if sign is None else [sign]
        self.x = new
        loss_t = ar.sym(ar.at(self.loss, dict(zip(params, new))))
        self.qs.append((f"loss[{t}]", loss_t))
        if self.losses:
            self.losses.append(loss_t)
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
        import sympy

        from examsolve.steps import Step

        ar, params, sub = self.ar, self.params, []
        if self.o.type == "nesterov":
            mu = self.h("momentum")
            ahead = {p: ar.fit(xi + mu * vi) for p, xi, vi in zip(params, self.x, self.st["v"])}
            g = [ar.at(gi, ahead) for gi in self.grads]
            look = tuple((f"lookahead.{p.name}[{t}]", ar.sym(ahead[p])) for p in params)
            self.qs += look
            if show:
                sub.append(Step("look-ahead point p + μ·v", value=_vec([v for _, v in look]), quantities=look))
        else:
            g = [ar.at(gi, dict(zip(params, self.x))) for gi in self.grads]
        if show:
            for p, gi, gv in zip(params, self.grads, g):
                sub.append(Step(f"∂L/∂{p.name}", target=sympy.Symbol(f"g_{p.name}"), formula=gi, value=ar.sym(gv),
                                note="; ".join(ar.step_notes)))
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
                                     show)
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
        notes = ([f"convention: {_rprop_name(o.variant)} (optimizer.variant = {o.variant})"]
                 if o.type == "rprop" else []) + self.ar.notes   # every convention a step used, also unshown
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


def _rprop_name(variant: str) -> str:
    from examsolve.rprop import NAMES

    return NAMES[variant]


class _Arithmetic:
    """Exact sympy arithmetic while values are small, 30-digit mpmath floats once they are not."""

    def __init__(self, fit, conventions: dict):
        import sympy

        self.floats, self._fit = False, fit
        self.sympy = sympy
        self.conventions = conventions
        self.notes: list = []        # conventions used (relu'(0) ...), in order, once each
        self.step_notes: list = []   # those used since the last clear

    def to_floats(self) -> None:
        self.floats = True

    def num(self, v):
        """A value as an mpmath float (float mode)."""
        import mpmath

        if isinstance(v, mpmath.mpf):
            return v
        f = self.sympy.N(v, 35)
        return mpmath.mpf(f._mpf_) if f.is_Float else mpmath.mpf(int(f))

    def fit(self, v):
        return v if self.floats else self._fit(v)

    def sqrt(self, v):
        import mpmath

        return mpmath.sqrt(v) if self.floats else self.sympy.sqrt(v)

    def sign(self, v):
        import mpmath

        return int(mpmath.sign(v)) if self.floats else self.sympy.sign(v)

    def min(self, a, b):
        return min(a, b) if self.floats else self.sympy.Min(a, b)

    def max(self, a, b):
        return max(a, b) if self.floats else self.sympy.Max(a, b)

    def at(self, expr, values: dict):
        """expr at the parameter values; a derivative at its kink (relu'(0)) takes the spec's convention."""
        from examsolve.engine import numeric

        if self.floats:
            v = numeric(expr, values)
            if v is not None:
                return v
            return self.num(self._kinks(expr.xreplace({k: self.sympy.Float(x, 35) for k, x in values.items()})))
        return self._fit(self._kinks(expr.xreplace(values)))

    def _kinks(self, expr):
        """Kinks at a number by the conventions (noted); at a symbol by cases, the kink on the convention's side."""
        from examsolve.functions import kinks_to_cases, resolve_kinks

        expr, used = resolve_kinks(expr, self.conventions)
        for note in used:
            self.notes += [note] if note not in self.notes else []
            self.step_notes += [note] if note not in self.step_notes else []
        return kinks_to_cases(expr, self.conventions)

    def sym(self, v):
        """A value for display: sympy (a float keeps 30 digits)."""
        import mpmath

        return self.sympy.Float(v, 30) if isinstance(v, mpmath.mpf) else v


def _all_floats(x, st) -> bool:
    """True once every value is a number and some are floats (exact values ran out of budget)."""
    vals = list(x) + [v for vs in st.values() for v in vs]
    return all(getattr(v, "is_number", False) for v in vals) and any(getattr(v, "is_Float", False) for v in vals)


def _vec(items):
    from examsolve.tensor import Tensor

    items = tuple(items)
    return items[0] if len(items) == 1 else Tensor((len(items),), items)
