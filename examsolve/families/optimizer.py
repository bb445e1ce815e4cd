"""optimizer: steps of gradient descent, momentum (three forms), Nesterov, AdaGrad, RMSProp, Adam(W), RPROP."""
import dataclasses
import functools

from examsolve.registry import family

RULES = {
    "gd": "p ← p − α·g",
    "momentum/classic": "v ← μ·v + g;  p ← p − α·v",
    "momentum/negative": "v ← μ·v − α·g;  p ← p + v",
    "momentum/ema": "v ← β·v + (1 − β)·g;  p ← p − α·v̂ with v̂ = v/(1 − βᵗ) when bias-corrected",
    "nesterov": "v ← μ·v − α·∇f(p + μ·v);  p ← p + v  (the gradient at the look-ahead point)",
    "adagrad": "G ← G + g²;  p ← p − α·g/(√G + ε)",
    "rmsprop": "s ← ρ·s + (1 − ρ)·g²;  p ← p − α·g/(√s + ε)",
    "adam": "m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ);  "
            "p ← p − α·m̂/(√v̂ + ε)",
    "adamw": "as adam, then p ← p − α·λ·p (decoupled weight decay)",
    "rprop": "Δ ← min(η⁺Δ, Δmax) if g·g_prev > 0, max(η⁻Δ, Δmin) and g ← 0 if < 0;  p ← p − sign(g)·Δ "
             "(iRprop−)",
}


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
        t: Optional[Raw] = Field(None, description="the step number in bias corrections, e.g. t (symbolic)")

    class OptimizerSpec(BaseSpec):
        """Optimizer steps on a loss of the parameters."""

        name_fields: ClassVar = (("params", KEYS),)   # symbol names: checked by spec.check_names
        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        params: dict[str, Raw] = Field(description="parameters and their start values (numbers or names)")
        loss: str = Field(description="the loss in the parameters, e.g. 2*x1 + 3*x1*x2")
        optimizer: Optimizer
        steps: int = Field(1, ge=1, le=100_000, description="number of updates")
        state: dict[str, list[Raw]] = Field(default_factory=dict, description="start values of the optimizer "
                                            "state per parameter, e.g. v: [v1, v2] (default 0)")

    return OptimizerSpec


@family("optimizer", summary="optimizer steps: gradient descent, momentum (three forms), Nesterov, AdaGrad, "
        "RMSProp, Adam/AdamW (bias correction named), RPROP; numeric or symbolic, with a table of iterates",
        examples=("momentum_symbolic.yaml", "adam_two_steps.yaml", "rmsprop_steps.yaml", "adagrad_steps.yaml",
                  "nesterov_steps.yaml", "rprop_steps.yaml"), model=_model)
def _solve(spec):
    """Runs the update rule step by step; every state variable and update is a shown step."""
    import sympy

    from examsolve.asks import finish, spec_expr
    from examsolve.errors import SpecError
    from examsolve.expr import symbol
    from examsolve.functions import Iterate
    from examsolve.steps import Answer, Step, Table
    from examsolve.values import fit

    m, o = spec.model, spec.model.optimizer
    names: dict = {}
    for s in m.symbols:
        names[s] = symbol(s)
    for name, raw in m.given.items():
        names[name] = spec_expr(spec, raw, ("given", name), names)
    params = [symbol(p) for p in m.params]
    start = [spec_expr(spec, raw, ("params", p), names) for p, raw in m.params.items()]
    loss = spec_expr(spec, m.loss, ("loss",), {**names, **{p.name: p for p in params}})
    grads = [sympy.diff(loss, p) for p in params]

    hyper: dict = {}

    def h(key):  # a hyperparameter, read once
        if key not in hyper:
            hyper[key] = spec_expr(spec, getattr(o, key), ("optimizer", key), names)
            if ar.floats:
                hyper[key] = ar.num(hyper[key])
        return hyper[key]

    rule = o.type + ("/" + o.form if o.type == "momentum" else "")
    ar = _Arithmetic(fit, m.conventions.model_dump())
    states = {"momentum": ["v"], "nesterov": ["v"], "adagrad": ["G"], "rmsprop": ["s"], "adam": ["m", "v"],
              "adamw": ["m", "v"], "rprop": ["g_prev", "Δ"]}.get(o.type, [])
    for k in m.state:
        if k not in states:
            raise SpecError(f"state '{k}' is not one of {o.type}'s: {', '.join(states) or 'none'}",
                            spec.loc("state", k))
    lr = h("lr")
    st: dict = {}
    for k in states:
        raw = m.state.get(k)
        if raw is not None:
            if len(raw) != len(params):
                raise SpecError(f"state {k} needs one value per parameter ({len(params)})", spec.loc("state", k))
            st[k] = [spec_expr(spec, r, ("state", k, i), names) for i, r in enumerate(raw)]
        else:
            st[k] = [lr if k == "Δ" else sympy.Integer(0)] * len(params)
    steps = [Step(f"{o.type}{' (' + o.form + ' form)' if o.type == 'momentum' else ''}: {RULES[rule]}")]
    x = list(start)
    rows = []
    qs = [(f"iterates.{p.name}[0]", ar.sym(v)) for p, v in zip(params, x)]   # the quantities of every step
    import mpmath

    with mpmath.workdps(35):   # float mode keeps 35 digits (30 shown); restored afterwards
        for t in range(1, m.steps + 1):
            if not ar.floats and _all_floats(x, st):
                # exact values have run out of budget: continue in 30-digit mpmath floats, much faster
                ar.to_floats()
                x = [ar.num(v) for v in x]
                st = {k: [ar.num(v) for v in vals] for k, vals in st.items()}
                lr = ar.num(lr)
                hyper.clear()
            tt = spec_expr(spec, o.t, ("optimizer", "t"), names) if o.t is not None else sympy.Integer(t)
            show = t <= 3 or t == m.steps
            sub: list = []
            at = dict(zip(params, x))
            if o.type == "nesterov":
                mu = h("momentum")
                ahead = {p: ar.fit(xi + mu * vi) for p, xi, vi in zip(params, x, st["v"])}
                g = [ar.at(gi, ahead) for gi in grads]
                qs += [(f"lookahead.{p.name}[{t}]", ar.sym(ahead[p])) for p in params]
                if show:
                    sub.append(Step("look-ahead point p + μ·v", value=_vec([ar.sym(ahead[p]) for p in params]),
                                    quantities=tuple((f"lookahead.{p.name}[{t}]", ar.sym(ahead[p])) for p in params)))
            else:
                g = [ar.at(gi, at) for gi in grads]
            if show:
                for p, gi, gv in zip(params, grads, g):
                    sub.append(Step(f"∂L/∂{p.name}", target=sympy.Symbol(f"g_{p.name}"), formula=gi, value=ar.sym(gv),
                                    note="; ".join(ar.step_notes)))
            ar.step_notes.clear()
            new = []
            qs += [(f"grad.{p.name}[{t}]", ar.sym(gv)) for p, gv in zip(params, g)]
            for i, p in enumerate(params):
                gi, xi = g[i], x[i]
                lines, xn = _update(o, h, rule, st, i, gi, xi, lr, tt, ar)
                new.append(xn)
                qs += [(f"{target.name}.{p.name}[{t}]", ar.sym(value)) for _, target, value in lines]
                qs.append((f"iterates.{p.name}[{t}]", ar.sym(xn)))
                if show:
                    sub.extend(Step(title, target=sympy.Symbol(f"{target.name}_{p.name}"), value=ar.sym(value))
                               for title, target, value in lines)
                    sub.append(Step(f"update {p.name}", target=Iterate(p, t), value=ar.sym(xn)))
            x = new
            loss_t = ar.sym(ar.at(loss, dict(zip(params, x))))
            qs.append((f"loss[{t}]", loss_t))
            if show or m.steps <= 50 or t % (m.steps // 50) == 0:
                rows.append((t,) + tuple(ar.sym(v) for v in x) + (loss_t,))
            if show:
                steps.append(Step(f"Step {t}", substeps=tuple(sub)))
            elif t == 4:
                span = "Step 4" if m.steps == 5 else f"Steps 4..{m.steps - 1}"
                steps.append(Step(f"{span}: the same updates (see the table)"))
    if o.type == "momentum" and not (o.form == "ema" and o.bias_correction):
        # v_t is (x_(t-1) − x_t)/α (classic, ema) or x_t − x_(t-1) (negative): substitute it away
        grad_coeff = "α·(1 − β)" if o.form == "ema" else "α"
        mu_name = "β" if o.form == "ema" else "μ"
        steps.append(Step(f"eliminating the velocity (heavy-ball form): x_(t+1) = x_t + {mu_name}·(x_t − x_(t−1)) "
                          f"− {grad_coeff}·∇L(x_t)"))
    if m.steps > 1:
        steps.append(Step("Iterates", table=Table(("step",) + tuple(p.name for p in params) + ("loss",),
                                                  tuple(rows))))
    # iterates.w[t], grad.w[t] (the gradient used in step t), m.w[t] ..., loss[t]: addressable by key: and grade
    steps[-1] = dataclasses.replace(steps[-1], quantities=steps[-1].quantities + tuple(qs))
    if ar.notes:    # every convention a step used, also in steps not shown
        steps[0] = dataclasses.replace(steps[0], note="; ".join(ar.notes))
    answers = [Answer(f"{p.name} after {m.steps} step{'s' if m.steps > 1 else ''}", ar.sym(xi),
                      Iterate(p, m.steps))
               for p, xi in zip(params, x)]
    for k in states:
        if k in ("v", "m", "s", "G"):
            answers += [Answer(f"{k}_{p.name} after {m.steps} step{'s' if m.steps > 1 else ''}", val)
                        for p, val in zip(params, map(ar.sym, st[k]))]
    return finish(spec, steps, answers, names)


def _update(o, h, rule, st, i, g, x, lr, t, ar):
    """One parameter's update: the shown lines (title, target, value) and the new value."""
    import sympy

    S = sympy.Symbol
    lines = []
    fit = ar.fit

    def root(v):
        eps = h("eps")
        return ar.sqrt(v + eps) if o.eps_inside else ar.sqrt(v) + eps

    if rule == "gd":
        return lines, fit(x - lr * g)
    if rule.startswith("momentum"):
        mu = h("momentum")
        if o.form == "classic":
            v = fit(mu * st["v"][i] + g)
            xn = fit(x - lr * v)
        elif o.form == "negative":
            v = fit(mu * st["v"][i] - lr * g)
            xn = fit(x + v)
        else:
            v = fit(mu * st["v"][i] + (1 - mu) * g)
            vhat = fit(v / (1 - mu ** t)) if o.bias_correction else v
            if o.bias_correction:
                lines.append(("bias correction v̂ = v/(1 − βᵗ)", S("v̂"), vhat))
            xn = fit(x - lr * vhat)
        st["v"][i] = v
        lines.insert(0, ("velocity", S("v"), v))
        return lines, xn
    if rule == "nesterov":
        v = fit(h("momentum") * st["v"][i] - lr * g)
        st["v"][i] = v
        return [("velocity", S("v"), v)], fit(x + v)
    if rule == "adagrad":
        G = fit(st["G"][i] + g ** 2)
        st["G"][i] = G
        return [("sum of squared gradients", S("G"), G)], fit(x - lr * g / root(G))
    if rule == "rmsprop":
        r = h("rho")
        s_ = fit(r * st["s"][i] + (1 - r) * g ** 2)
        st["s"][i] = s_
        return [("running mean of g²", S("s"), s_)], fit(x - lr * g / root(s_))
    if rule in ("adam", "adamw"):
        b1, b2 = h("beta1"), h("beta2")
        m_ = fit(b1 * st["m"][i] + (1 - b1) * g)
        v = fit(b2 * st["v"][i] + (1 - b2) * g ** 2)
        st["m"][i], st["v"][i] = m_, v
        mh = fit(m_ / (1 - b1 ** t)) if o.bias_correction else m_
        vh = fit(v / (1 - b2 ** t)) if o.bias_correction else v
        lines = [("first moment", S("m"), m_), ("second moment", S("v"), v)]
        if o.bias_correction:
            lines += [("m̂ = m/(1 − β₁ᵗ)", S("m̂"), mh), ("v̂ = v/(1 − β₂ᵗ)", S("v̂"), vh)]
        xn = x - lr * mh / root(vh)
        if rule == "adamw":
            xn = xn - lr * h("weight_decay") * x
        return lines, fit(xn)
    # rprop (iRprop−)
    prev, step = st["g_prev"][i], st["Δ"][i]
    sign = ar.sign(g * prev)
    if sign > 0:
        step = fit(ar.min(step * h("eta_plus"), h("step_max")))
    elif sign < 0:
        step = fit(ar.max(step * h("eta_minus"), h("step_min")))
        g = 0 * g                     # iRprop−: no move after a sign change
    st["g_prev"][i], st["Δ"][i] = g, step
    what = "same sign: grow" if sign > 0 else "sign change: shrink, skip the move" if sign < 0 else "first step"
    return [(f"step size Δ ({what})", S("Δ"), step)], fit(x - ar.sign(g) * step)


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
