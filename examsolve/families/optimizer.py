"""optimizer: steps of gradient descent, momentum (three forms), Nesterov, AdaGrad, RMSProp, Adam(W), Rprop (four variants)."""
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
    return make(f(a.lo._mpf_, b.lo._mpf_, _BITS[LO], "n")), make(f(a.hi._mpf_, b.hi._mpf_, _BITS[HI], "n"))


_HOT: dict = {}      # libmp's functions, looked up once (an import per operation costs as much as the operation)


def _hot() -> dict:
    """_HOT, filled on first use (mpmath is not imported before a run needs it)."""
    if not _HOT:
        import mpmath
        from mpmath import libmp

        _HOT.update({k: getattr(libmp, v) for k, v in _LIBMP.items()}, make=mpmath.mp.make_mpf, libmp=libmp)
    return _HOT


_BITS = {LO: 120, HI: 252}     # mpmath.libmp.dps_to_prec of the lanes' digits
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
    return mpmath.mpf(f._mpf_)


def _text(v, width: int = 60) -> str:
    import sympy

    s = sympy.sstr(v)
    return s if len(s) <= width else s[:width - 1] + "…"


class _Num:
    """A real number past the exact budget: its value at LO and at HI digits, and while it stays small its exact
    form (the shadow), so that a sign or a 0 is never taken from rounding."""

    __slots__ = ("lo", "hi", "ex")

    def __init__(self, lo, hi, ex=None):
        self.lo, self.hi, self.ex = lo, hi, ex

    @classmethod
    def of(cls, v) -> "_Num":
        """An exact sympy number as a _Num (a sympy Float keeps no shadow: it is already rounded)."""
        if v.is_Rational:
            return _rational(v)
        return cls(_lane(v, LO), _lane(v, HI), None if v.is_Float or not _small(v) else v)

    def sign(self) -> int | None:
        """−1 or 1 where both lanes agree to 2 digits, else by the shadow (values.sign: 0 only when provably 0);
        None when rounding cannot settle it."""
        libmp = _hot()["libmp"]
        lo, hi = self.lo._mpf_, self.hi._mpf_
        # both finite and not 0 (a 0 mantissa is 0, ±inf or nan), one sign, |lo − hi| ≤ |hi|/128
        if lo[1] and hi[1] and lo[0] == hi[0] and libmp.mpf_cmp(
                libmp.mpf_abs(libmp.mpf_sub(lo, hi, 53)), libmp.mpf_shift(libmp.mpf_abs(hi), -7)) <= 0:
            return -1 if hi[0] else 1
        if self.ex is None:
            return None
        from examsolve.values import sign

        return sign(self.ex)

    def _op(self, other, op: str, swap: bool = False):
        """op (+ − * / **) on both lanes and on the shadows; an exact 0 as a result stays the exact 0."""
        import sympy

        sf = _SYMPY[op]
        o = _lift(other)
        if o is None:     # a symbol (symbolic lr with a float value): the float as sympy, as before
            a = sympy.Float(self.lo, 30)
            return sf(other, a) if swap else sf(a, other)
        a, b = (o, self) if swap else (self, o)
        ex = None
        if a.ex is not None and b.ex is not None:
            ex = sf(a.ex, b.ex)
            if ex == 0:
                return sympy.S.Zero
            ex = ex if _small(ex) else None
        return _Num(*_lanes(op, a, b), ex)

    def __add__(self, other):
        return self if _zero(other) else self._op(other, "+")

    __radd__ = __add__

    def __sub__(self, other):
        return self if _zero(other) else self._op(other, "-")

    def __rsub__(self, other):
        return -self if _zero(other) else self._op(other, "-", swap=True)

    def __mul__(self, other):
        import sympy

        return sympy.S.Zero if _zero(other) else self._op(other, "*")

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
        return _Num(-self.lo, -self.hi, None if self.ex is None else -self.ex)

    def sqrt(self):
        """√ of a value that is not negative (a negative or unsettled one is a SolveError)."""
        import mpmath
        import sympy

        from examsolve.errors import SolveError

        s = self.sign()
        if s is None or s < 0:
            sign = "is negative" if s else "rounding cannot settle"
            raise SolveError(f"√ of {mpmath.nstr(self.lo, 6)}, whose sign {sign}"
                             " in float mode; the optimizer's running sums of squares must not be negative")
        if s == 0:
            return sympy.S.Zero
        return _Num(_at_digits(mpmath.sqrt, LO, self.lo), _at_digits(mpmath.sqrt, HI, self.hi),
                    None if self.ex is None else sympy.sqrt(self.ex))


@functools.lru_cache(maxsize=256)
def _rational(v) -> _Num:
    """A rational as a _Num, once (1 − β, a hyperparameter: every step uses the same few)."""
    return _Num(_lane(v, LO), _lane(v, HI), v if _small(v) else None)


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
            return _Num(self._lane_at(expr, values, LO, "lo"), self._lane_at(expr, values, HI, "hi"),
                        e if _small(e) else None)
        self._check_kinks(expr, values)
        return _Num(self._lane_at(expr, values, LO, "lo"), self._lane_at(expr, values, HI, "hi"))

    def _lane_at(self, expr, values: dict, digits: int, lane: str):
        """expr at one lane of the values: mpmath first, else sympy at that lane's digits."""
        import mpmath

        from examsolve.engine import numeric

        env = {k: getattr(_lift(v), lane) for k, v in values.items()}
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
            return self.sympy.Float(v.lo, 30)
        return v


def _all_floats(x, st) -> bool:
    """True once every value is a number and some ran out of the exact budget (a _Num)."""
    vals = list(x) + [v for vs in st.values() for v in vs]
    return all(isinstance(v, _Num) or getattr(v, "is_number", False) for v in vals) and \
        any(isinstance(v, _Num) for v in vals)


def _vec(items):
    from examsolve.tensor import Tensor

    items = tuple(items)
    return items[0] if len(items) == 1 else Tensor((len(items),), items)
