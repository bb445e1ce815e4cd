"""optimizer: steps of gradient descent, momentum (three forms), Nesterov, AdaGrad, RMSProp, Adam(W), Rprop (four variants)."""
import contextvars
import dataclasses
import functools
import operator

from examsolve.registry import family

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
        token = _LANES.set(lanes)
        try:
            with mpmath.workdps(35):   # float mode keeps 35 digits (30 shown); restored afterwards
                for t in range(1, spec.model.steps + 1):
                    run.step(t)
            break
        except _NeedLanes:
            lanes = True
        finally:
            _LANES.reset(token)
    return finish(spec, run.steps_out(), run.answers(), run.names)


def _needs_lanes(run) -> bool:
    """Whether a run decides signs the structure cannot (Rprop's g·g_prev, a kink's side): two lanes from step 1."""
    import sympy

    from examsolve.functions import Kink, extreme_grad

    return run.o.type == "rprop" or run.loss.has(Kink, extreme_grad, sympy.sign, sympy.Heaviside, sympy.Abs,
                                                 sympy.Min, sympy.Max, sympy.Piecewise)


class _NeedLanes(Exception):
    """A sign the one-lane run cannot settle: the run is made again with two lanes."""


# two lanes (35 and 75 digits) for new values, else the 35-digit one alone; per context, so solves in threads
# (class grading, a notebook) do not switch each other's lanes
_LANES = contextvars.ContextVar("examsolve_optimizer_lanes", default=True)


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
        self.ar = _Arithmetic(fit, m.conventions.model_dump())
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


# float mode's two lanes (digits): a value's sign counts only where both agree, values.sign's rule of two
# precisions; 35 digits keep the 30 shown
LO, HI = 35, 75
# the exact shadow a float-mode value keeps while it is this small (values.fit's budget floats far earlier)
# (its sympy arithmetic and evalf cost grow fast with size: a shadow lives a few steps, long enough for a
# value that is exactly 0 to be found 0)
SHADOW_NODES, SHADOW_NESTING, SHADOW_DIGITS = 60, 4, 100


def _small(e, nodes: int = SHADOW_NODES, nesting: int = SHADOW_NESTING, digits: int = SHADOW_DIGITS) -> bool:
    """An exact number within a size budget (by default the shadow's): no float, few nodes, shallow, short
    integers."""
    import sympy

    bits = digits * 10 // 3 + 1      # a bound on the digits by bit_length: no str() of a long integer
    count, stack = 0, [(e, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > nodes or depth > nesting or node.is_Float:
            return False
        if node.is_Rational:
            if max(abs(node.p).bit_length(), node.q.bit_length()) > bits:
                return False
        elif node.args:
            inner = depth + (1 if isinstance(node, sympy.Function) else 0)
            stack.extend((a, inner) for a in node.args)
    return True


def _at_digits(f, digits: int, *args):
    """f(*args) with mpmath at `digits` digits (both lanes are computed in one context)."""
    import mpmath

    mp = mpmath.mp
    old = mp.prec
    mp.dps = digits
    try:
        return f(*args)
    finally:
        mp.prec = old


def _lanes(op: str, a: "_Num", b: "_Num") -> tuple:
    """op on the LO lanes at LO digits and on the HI lanes at HI digits: mpmath's libmp at an explicit precision
    (the hot path of a long run; no context switch)."""
    hot = _HOT or _hot()
    f, make = hot[op], hot["make"]
    if op == "**" and b.ex is not None and b.ex.is_Integer:     # g²: a product, not exp(2·log g)
        n = int(b.ex)
        lo = make(hot["libmp"].mpf_pow_int(a.lo._mpf_, n, _BITS[LO], "n"))
        hi = None if a.hi is None or not _LANES.get() else make(hot["libmp"].mpf_pow_int(a.hi._mpf_, n, _BITS[HI], "n"))
        return lo, hi
    lo = make(f(a.lo._mpf_, b.lo._mpf_, _BITS[LO], "n"))
    if a.hi is None or b.hi is None or not _LANES.get():
        return lo, None
    return lo, make(f(a.hi._mpf_, b.hi._mpf_, _BITS[HI], "n"))


_HOT: dict = {}      # libmp's functions, looked up once (an import per operation costs as much as the operation)


def _hot() -> dict:
    """_HOT, filled on first use (mpmath is not imported before a run needs it)."""
    if not _HOT:
        import mpmath
        from mpmath import libmp

        _HOT.update({k: getattr(libmp, v) for k, v in _LIBMP.items()}, make=mpmath.mp.make_mpf, libmp=libmp)
    return _HOT


_BITS = {LO: 120, HI: 252}     # mpmath.libmp.dps_to_prec of the lanes' digits
_BITS30 = 103                  # mpmath.libmp.dps_to_prec(30): the digits shown
_LIBMP = {"+": "mpf_add", "-": "mpf_sub", "*": "mpf_mul", "/": "mpf_div", "**": "mpf_pow"}
_SYMPY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow}


def _lane(v, digits: int):
    """An exact sympy number as an mpf at `digits` digits (rising precision: values.numeric)."""
    import mpmath

    from examsolve.errors import SolveError
    from examsolve.values import numeric

    if v.is_Rational:
        return _at_digits(lambda: mpmath.mpf(v.p) / v.q, digits)
    f = v if v.is_Float else numeric(v, digits)
    if not f.is_Float:
        raise SolveError(f"{_text(v)} is no real number; the optimizer needs real values")
    return _at_digits(mpmath.mpf, digits, f._mpf_)    # at its digits: mpf() rounds to the context's (35)


def _text(v, width: int = 60) -> str:
    import sympy

    s = sympy.sstr(v)
    return s if len(s) <= width else s[:width - 1] + "…"


class _Num:
    """A real number past the exact budget: its value at LO and at HI digits (HI None in a one-lane run), while it
    stays small its exact form (the shadow), and what its structure proves of its sign (pos: 2 > 0, 1 ≥ 0, 0
    nothing: a sum of squares is ≥ 0 whatever its rounding), so that a sign or a 0 is never taken from rounding."""

    __slots__ = ("lo", "hi", "ex", "pos")

    def __init__(self, lo, hi, ex=None, pos: int = 0):
        self.lo, self.hi, self.ex = lo, hi, ex
        # a rational shadow's sign is known at once (1 − β₂ = 1/1000 > 0)
        self.pos = pos if ex is None or not ex.is_Rational else (2 if ex > 0 else 1 if ex == 0 else 0)

    @classmethod
    def of(cls, v) -> "_Num":
        """An exact sympy number as a _Num (a sympy Float keeps no shadow: it is already rounded)."""
        if v.is_Rational:
            return _rational(v)
        n = cls(_lane(v, LO), _lane(v, HI), None if v.is_Float or not _small(v) else v)
        if not v.is_Float and n.sign() == 1:
            n.pos = 2       # the sign of the exact value, kept past its shadow (a sum of squares stays > 0)
        if not _LANES.get():
            n.hi = None
        return n

    def sign(self) -> int | None:
        """−1 or 1 where the structure proves it or both lanes agree to 2 digits, else by the shadow (values.sign:
        0 only when provably 0); None when rounding cannot settle it (_NeedLanes in a one-lane run)."""
        libmp = _hot()["libmp"]
        lo, hi = self.lo._mpf_, None if self.hi is None else self.hi._mpf_
        if self.pos == 2 and lo[1] and not lo[0]:     # proved > 0, and the float is a positive number
            return 1
        # both finite and not 0 (a 0 mantissa is 0, ±inf or nan), one sign, |lo − hi| ≤ |hi|/128
        if hi is not None and lo[1] and hi[1] and lo[0] == hi[0] and libmp.mpf_cmp(
                libmp.mpf_abs(libmp.mpf_sub(lo, hi, 53)), libmp.mpf_shift(libmp.mpf_abs(hi), -7)) <= 0:
            return -1 if hi[0] else 1
        if self.ex is None:
            if hi is None:
                raise _NeedLanes
            return None
        from examsolve.values import sign

        return sign(self.ex)

    def _op(self, other, op: str, swap: bool = False):
        """op (+ − * / **) on both lanes and on the shadows; an exact 0 as a result stays the exact 0."""
        o = other if type(other) is _Num else _lift(other)
        if o is None:     # a symbol (symbolic lr with a float value): the float as sympy, as before
            import sympy

            a = sympy.Float(self.lo, 30)
            return _SYMPY[op](other, a) if swap else _SYMPY[op](a, other)
        a, b = (o, self) if swap else (self, o)
        if a.ex is None or b.ex is None:     # the common case of a long run: no shadow, no sympy
            n = _Num.__new__(_Num)
            n.lo, n.hi = _lanes(op, a, b)
            n.ex, n.pos = None, _POS[op](a, b)
            return n
        return self._shadowed(op, a, b)

    @staticmethod
    def _shadowed(op: str, a: "_Num", b: "_Num"):
        """_op of two values with exact forms: the result keeps its exact form while small."""
        import sympy

        if a.ex.is_Rational and b.ex.is_Rational and op != "**":   # 1 − β: the same few each step, cached
            return _rational_op(op, a.ex, b.ex)
        if op == "**" and a.ex.is_Rational and b.ex.is_Integer and \
                max(a.ex.p.bit_length(), a.ex.q.bit_length()) * abs(int(b.ex)) > SHADOW_DIGITS * 10 // 3:
            ex = None      # βᵗ past the shadow's digits: not computed to be dropped
        else:
            ex = _SYMPY[op](a.ex, b.ex)
            if ex == 0:
                return sympy.S.Zero
            ex = ex if _small(ex) else None
        return _Num(*_lanes(op, a, b), ex, _POS[op](a, b))

    # type(other) is _Num first: the common case of a long run, without _zero's sympy tests
    def __add__(self, other):
        return self._op(other, "+") if type(other) is _Num or not _zero(other) else self

    __radd__ = __add__

    def __sub__(self, other):
        return self._op(other, "-") if type(other) is _Num or not _zero(other) else self

    def __rsub__(self, other):
        return -self if _zero(other) else self._op(other, "-", swap=True)

    def __mul__(self, other):
        import sympy

        return self._op(other, "*") if type(other) is _Num or not _zero(other) else sympy.S.Zero

    __rmul__ = __mul__

    def __truediv__(self, other):
        _divisor(other)
        return self._op(other, "/")

    def __rtruediv__(self, other):
        import sympy

        _divisor(self)
        return sympy.S.Zero if _zero(other) else self._op(other, "/", swap=True)

    def __pow__(self, other):
        return self._op(other, "**")

    def __rpow__(self, other):
        return self._op(other, "**", swap=True)

    def __neg__(self):
        return _Num(-self.lo, None if self.hi is None else -self.hi, None if self.ex is None else -self.ex)

    def sqrt(self):
        """√ of a value that is not negative (a negative or unsettled one is a SolveError)."""
        import mpmath
        import sympy

        from examsolve.errors import SolveError

        s = 1 if self.pos and not self.lo._mpf_[0] else self.sign()   # ≥ 0 proved: √ of its float
        if s is None or s < 0:
            sign = "is negative" if s else "rounding cannot settle"
            raise SolveError(f"√ of {mpmath.nstr(self.lo, 6)}, whose sign {sign}"
                             " in float mode; the optimizer's running sums of squares must not be negative")
        if s == 0:
            return sympy.S.Zero
        hot = _HOT or _hot()
        hi = None if self.hi is None else hot["make"](hot["libmp"].mpf_sqrt(self.hi._mpf_, _BITS[HI], "n"))
        return _Num(hot["make"](hot["libmp"].mpf_sqrt(self.lo._mpf_, _BITS[LO], "n")), hi,
                    None if self.ex is None else sympy.sqrt(self.ex), self.pos)


@functools.lru_cache(maxsize=256)
def _rational(v) -> _Num:
    """A rational as a _Num, once (1 − β, a hyperparameter: every step uses the same few)."""
    # both lanes: the cache serves both kinds of run
    return _Num(_lane(v, LO), _lane(v, HI), v if _small(v) else None, 2 if v > 0 else 1 if v == 0 else 0)


@functools.lru_cache(maxsize=256)
def _rational_op(op: str, a, b):
    """op on two rationals as a _Num (or the exact 0), once."""
    import sympy

    ex = _SYMPY[op](a, b)
    return sympy.S.Zero if ex == 0 else _rational(ex)


def _pos_sum(a: "_Num", b: "_Num") -> int:
    return (2 if max(a.pos, b.pos) == 2 else 1) if a.pos and b.pos else 0


def _pos_product(a: "_Num", b: "_Num") -> int:
    return min(a.pos, b.pos)


def _pos_power(a: "_Num", b: "_Num") -> int:
    """≥ 0 for a base ≥ 0 or an even integer exponent (g²); > 0 for a base > 0."""
    if a.pos:
        return a.pos
    return 1 if b.ex is not None and b.ex.is_Integer and b.ex % 2 == 0 else 0


# what the structure of a result proves of its sign, by operation (a difference proves nothing)
_POS = {"+": _pos_sum, "-": lambda a, b: 0, "*": _pos_product, "/": _pos_product, "**": _pos_power}


@functools.lru_cache(maxsize=64)
def _integer(n: int) -> _Num:
    """A Python int as a _Num, once (the 1 of 1 − β, the 2 of g**2)."""
    import sympy

    return _rational(sympy.Integer(n))


def _zero(x) -> bool:
    """An exact 0 (never a float: a float 0 may be rounding)."""
    import sympy

    return (isinstance(x, int) and x == 0) or (isinstance(x, sympy.Basic) and x.is_Number and not x.is_Float
                                               and x == 0)


def _lift(x) -> _Num | None:
    """x as a _Num; None for a value that is no number (a symbol)."""
    import sympy

    if isinstance(x, _Num):
        return x
    if isinstance(x, int):
        return _integer(x)
    return _Num.of(x) if isinstance(x, sympy.Basic) and x.is_number else None


def _divisor(d) -> None:
    """A float-mode divisor must be settled as not 0 (SolveError: the quotient would be rounding or ∞)."""
    import mpmath

    from examsolve.errors import SolveError

    n = _lift(d)
    if n is not None and not n.sign():
        raise SolveError(f"division by {mpmath.nstr(n.lo, 6)}, which is 0 or which rounding cannot tell from 0 "
                         "in float mode")


class _Arithmetic:
    """Exact sympy arithmetic while values are small, then _Num: floats at two precisions with an exact shadow,
    so that every sign (Rprop's g·g_prev, a kink, a 0 divisor) is decided, never read off rounding."""

    def __init__(self, fit, conventions: dict):
        import sympy

        self.floats, self._fit = False, fit
        self.sympy = sympy
        self.conventions = conventions
        self.notes: list = []        # conventions used (relu'(0) ...), in order, once each
        self.compiled: dict = {}     # expression -> its libmp evaluation (_compile), or False
        self.smooth: set = set()     # expressions without a kink: no branch to check
        self.cache: dict = {}        # per step values every parameter shares (1 − βᵗ)
        self.step_notes: list = []   # those used since the last clear

    def to_floats(self) -> None:
        self.floats = True

    def num(self, v):
        """A number as a _Num (float mode); a symbol stays as it is."""
        return _lift(v) or v

    def fit(self, v):
        """Exact while small; past values.fit's budget a _Num (its exact form kept as the shadow)."""
        if self.floats or isinstance(v, _Num):
            return v
        f = self._fit(v)
        return _Num.of(v) if f is not v and getattr(f, "is_Float", False) else f

    def sqrt(self, v):
        return v.sqrt() if isinstance(v, _Num) else self.sympy.sqrt(v)

    def nonneg(self, v) -> bool:
        """v ≥ 0 is proved: by its structure (a sum of squares) or by its exact sign, else False."""
        if isinstance(v, _Num) and v.pos:
            return True
        return self.sign(v) in (0, 1)

    def positive(self, v):
        """v, marked as proved > 0 (the caller has proved it: 1 − βᵗ with an exact 0 ≤ β < 1)."""
        if isinstance(v, _Num):
            return _Num(v.lo, v.hi, v.ex, 2)
        return v

    def sign(self, v) -> int | None:
        """−1, 0 or 1 when decided (0 only when provably 0), None when symbolic or not settled by rounding."""
        from examsolve.values import sign

        if isinstance(v, _Num):
            return v.sign()
        return sign(v) if getattr(v, "is_number", False) else None

    def decide(self, v, what: str, loc) -> int:
        """The sign of v, which a branch depends on; SolveError when it is symbolic or rounding cannot settle it."""
        from examsolve.errors import SolveError

        s = self.sign(v)
        if s is not None:
            return s
        if isinstance(v, _Num):
            import mpmath

            raise SolveError(f"the optimizer branches on the sign of {what}, which is {mpmath.nstr(v.lo, 6)} at "
                             f"{LO} digits and {mpmath.nstr(v.hi, 6)} at {HI}: past the exact budget the run goes on "
                             "in floats, and rounding cannot settle this sign (it may be 0); give simpler start "
                             "values so that the numbers stay exact", loc)
        raise SolveError(f"the optimizer branches on the sign of {what}, and {_text(v)} has no known sign; give "
                         "the parameters number start values", loc)

    def min(self, a, b):
        return self._pick(a, b, -1)

    def max(self, a, b):
        return self._pick(a, b, 1)

    def _pick(self, a, b, want: int):
        """min (want −1) or max (want 1); a tie rounding cannot settle is either value, its shadow dropped."""
        if not isinstance(a, _Num) and not isinstance(b, _Num):
            return (self.sympy.Min if want < 0 else self.sympy.Max)(a, b)
        a, b = _lift(a), _lift(b)
        s = self.sign(a - b)
        if s is None:      # equal to rounding: the value is either one, its exact form unknown
            return _Num(a.lo, a.hi)
        return a if s * want >= 0 else b

    def at(self, expr, values: dict):
        """expr at the parameter values; a derivative at its kink (relu'(0)) takes the spec's convention."""
        from examsolve.functions import Kink

        shadows = {k: (v.ex if isinstance(v, _Num) else v) for k, v in values.items()}
        if all(s is not None for s in shadows.values()):
            e = self._kinks(expr.xreplace(shadows))
            if e == 0 or not e.is_number:
                return e
            if not self.floats:
                return self.fit(e)
            if expr.has(Kink):    # the lanes' kinks could take another branch than the exact value's
                return _Num.of(e)
            return _Num(self._lane_at(expr, values, LO, "lo"), self._hi_at(expr, values), e if _small(e) else None)
        if expr not in self.smooth:
            self._check_kinks(expr, values)
        return _Num(self._lane_at(expr, values, LO, "lo"), self._hi_at(expr, values))

    def _hi_at(self, expr, values: dict):
        """The HI lane of expr at the values; None in a one-lane run."""
        return self._lane_at(expr, values, HI, "hi") if _LANES.get() else None

    def _lane_at(self, expr, values: dict, digits: int, lane: str):
        """expr at one lane of the values: mpmath first, else sympy at that lane's digits."""
        import mpmath

        from examsolve.engine import numeric

        env = {k: getattr(_lift(v), lane) for k, v in values.items()}
        f = self.compiled.get(expr)
        if f is None:
            f = self.compiled[expr] = _compile(expr, tuple(env)) or False
        if f and tuple(env) == f.order:
            try:
                return _hot()["make"](f(tuple(x._mpf_ for x in env.values()), _BITS[digits]))
            except (ArithmeticError, ValueError):   # 1/0, a domain error: engine.numeric and sympy say what
                pass
        with mpmath.workdps(digits):
            v = numeric(expr, env)
            if v is not None:
                return v
            e = self._kinks(expr.xreplace({k: self.sympy.Float(x, digits) for k, x in env.items()}))
            return _lane(self.sympy.N(e, digits), digits)

    def _check_kinks(self, expr, values: dict) -> None:
        """Each kink's branch (relu', |x|', max's tie ...) depends on a sign: it must be settled in float mode."""
        import sympy

        from examsolve.errors import SolveError
        from examsolve.functions import Kink, extreme_grad

        if not expr.has(Kink, extreme_grad, sympy.sign, sympy.Heaviside):
            self.smooth.add(expr)
            return
        for k in sympy.preorder_traversal(expr):
            if isinstance(k, extreme_grad):
                args = k.args[2:]
                deciders = [a - args[int(k.args[1])] for a in args]
            elif isinstance(k, (Kink, sympy.sign, sympy.Heaviside)):
                deciders = [k.args[0]]
            else:
                continue
            for d in deciders:
                if d != 0 and self.sign(self.at(d, values)) in (None, 0):
                    raise SolveError(f"{_text(k)} branches on the sign of {_text(d)}, and past the exact budget "
                                     "rounding cannot settle it here (it may be 0: the kink); give simpler start "
                                     "values so that the numbers stay exact")

    def _kinks(self, expr):
        """Kinks at a number by the conventions (noted); at a symbol by cases, the kink on the convention's side."""
        from examsolve.functions import kinks_to_cases, resolve_kinks

        expr, used = resolve_kinks(expr, self.conventions)
        for note in used:
            self.notes += [note] if note not in self.notes else []
            self.step_notes += [note] if note not in self.step_notes else []
        return kinks_to_cases(expr, self.conventions)

    def sym(self, v):
        """A value for display: sympy; a float-mode value exact while its shadow fits values.fit, else 30 digits."""
        from examsolve.values import MAX_INT_DIGITS, MAX_NESTING, MAX_NODES

        if isinstance(v, _Num):
            if v.ex is not None and _small(v.ex, MAX_NODES, MAX_NESTING, MAX_INT_DIGITS):
                return v.ex
            # sympy.Float(v.lo, 30) without its parsing: the float rounded to 30 digits' bits
            return self.sympy.Float._new(_hot()["libmp"].mpf_pos(v.lo._mpf_, _BITS30, "n"), _BITS30)
        return v


def _compile(expr, order: tuple):
    """expr as a function of the symbols' raw mpf values (in `order`) at a precision, made of libmp calls once,
    or None for a node it does not know (engine.numeric evaluates those): a long run evaluates the same gradient
    thousands of times, and walking its sympy tree each time costs more than the arithmetic."""
    libmp = _hot()["libmp"]
    where = {s: i for i, s in enumerate(order)}

    def build(e):
        if e in where:
            i = where[e]
            return lambda xs, prec: xs[i]
        if e.is_Rational:
            p, q = libmp.from_int(int(e.p)), libmp.from_int(int(e.q))
            return lambda xs, prec: libmp.mpf_div(p, q, prec, "n")
        if e.is_Float:
            c = e._mpf_
            return lambda xs, prec: c
        parts = [build(a) for a in e.args]
        if e.is_Add:   # one rounding of the exact sum, as mpmath.fsum
            return lambda xs, prec: libmp.mpf_sum([f(xs, prec) for f in parts], prec, "n")
        if e.is_Mul:
            def mul(xs, prec):
                out = parts[0](xs, prec)
                for f in parts[1:]:
                    out = libmp.mpf_mul(out, f(xs, prec), prec, "n")
                return out
            return mul
        if e.is_Pow and e.exp.is_Integer:
            base, n = parts[0], int(e.exp)
            return lambda xs, prec: libmp.mpf_pow_int(base(xs, prec), n, prec, "n")
        f1 = {"exp": libmp.mpf_exp, "sin": libmp.mpf_sin, "cos": libmp.mpf_cos, "tanh": libmp.mpf_tanh}.get(
            type(e).__name__)
        if f1 is not None and len(parts) == 1:
            return lambda xs, prec: f1(parts[0](xs, prec), prec, "n")
        raise LookupError(type(e).__name__)

    try:
        f = build(expr)
    except LookupError:
        return None

    def run(xs, prec):
        return f(xs, prec + 10)     # guard bits, then one rounding to the lane's precision below

    def lane(xs, prec):
        return libmp.mpf_pos(run(xs, prec), prec, "n")

    lane.order = order
    return lane


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
    """True once every value is a number and some ran out of the exact budget (a _Num)."""
    vals = list(x) + [v for vs in st.values() for v in vs]
    return all(isinstance(v, _Num) or getattr(v, "is_number", False) for v in vals) and \
        any(isinstance(v, _Num) for v in vals)


def _vec(items):
    from examsolve.tensor import Tensor

    items = tuple(items)
    return items[0] if len(items) == 1 else Tensor((len(items),), items)
