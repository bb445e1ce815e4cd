"""perceptron: the perceptron learning rule epoch by epoch, and networks of threshold units on truth tables."""
import functools

from examsolve.registry import family


@functools.cache
def _model():
    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw, _Model

    class Unit(_Model):
        """A threshold unit: fires (1) when w·inputs + b > 0."""

        name: str
        inputs: list[str] = Field(description="names of inputs (x1, x2, ...) or earlier units")
        weights: list[Raw]
        bias: Raw = 0

    class PerceptronSpec(BaseSpec):
        """Training data and the rule's settings, or a network of threshold units to evaluate."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        inputs: list[list[Raw]] = Field(description="one row per example, e.g. the truth table [[0, 0], [0, 1], ...]")
        targets: list[Raw] = Field(default_factory=list, description="0/1 or ±1 targets for training")
        weights: list[Raw] = Field(default_factory=list, description="start weights (default 0)")
        bias: Raw = Field(0, description="start bias (a threshold θ is bias −θ)")
        lr: Raw = Field(1, description="learning rate η")
        epochs: int = Field(1, ge=1, le=1000, description="epochs over the examples, in order")
        network: list[Unit] = Field(default_factory=list, description="threshold units to evaluate instead")
        find_weights: bool = Field(False, description="instead of training: weights and bias of one threshold "
                                   "unit that realises the targets, or the proof that none exists (e.g. XOR)")

    return PerceptronSpec


@family("perceptron", summary="the perceptron rule epoch by epoch as a table (0/1 targets with a step, ±1 with "
        "sign), and networks of threshold units evaluated on a truth table with depth and width"
        "; weights for a truth table from its inequalities, or the proof that none exist",
        examples=("perceptron_and.yaml", "xor_network.yaml", "perceptron_weights.yaml", "perceptron_xor.yaml"),
        model=_model)
def _solve(spec):
    """0/1: w ← w + η(t − o)x, b ← b + η(t − o); ±1: on a mistake w ← w + η·t·x, b ← b + η·t."""
    import sympy

    from examsolve.asks import finish, spec_expr
    from examsolve.errors import SpecError
    from examsolve.steps import Answer, Step, Table
    from examsolve.tensor import Tensor

    m = spec.model
    X = [[spec_expr(spec, v, ("inputs", i, j), {}) for j, v in enumerate(row)] for i, row in enumerate(m.inputs)]
    if not X or len({len(r) for r in X}) != 1:
        raise SpecError("inputs: rows of the same length", spec.loc("inputs"))
    d = len(X[0])
    steps, answers = [], []
    if m.network:
        return _network(spec, m, X, steps, answers)
    T = [spec_expr(spec, v, ("targets", i), {}) for i, v in enumerate(m.targets)]
    if len(T) != len(X):
        raise SpecError(f"{len(T)} targets for {len(X)} examples", spec.loc("targets"))
    pm = any(t == -1 for t in T)
    if m.find_weights:
        from examsolve.separable import find_weights

        if not set(T) <= ({-1, 1} if pm else {0, 1}) or not all(v.is_Rational for r in X for v in r):
            raise SpecError("find_weights: needs rational inputs and targets all 0/1 or all ±1",
                            spec.loc("targets"))

        steps, answers = find_weights(X, T, pm)
        return finish(spec, steps, _with_checks(spec, X, T, pm, answers))
    w = [spec_expr(spec, v, ("weights", i), {}) for i, v in enumerate(m.weights)] or [sympy.Integer(0)] * d
    if len(w) != d:
        raise SpecError(f"{len(w)} start weights for {d} inputs", spec.loc("weights"))
    b = spec_expr(spec, m.bias, ("bias",), {})
    eta = spec_expr(spec, m.lr, ("lr",), {})
    rule = ("±1 targets, o = sign(w·x + b) (sign(0) = −1); on a mistake w ← w + η·t·x, b ← b + η·t" if pm else
            "0/1 targets, o = step(w·x + b) (1 when > 0); w ← w + η·(t − o)·x, b ← b + η·(t − o)")
    steps.append(Step("perceptron rule: " + rule))
    rows, clean_epoch = [], None
    for epoch in range(1, m.epochs + 1):
        mistakes, nets, outs, flags, ws, bs = 0, [], [], [], [], []
        for k, (x, t) in enumerate(zip(X, T), 1):
            net = sympy.Add(*[wi * xi for wi, xi in zip(w, x)]) + b
            o = (1 if net > 0 else -1) if pm else (1 if net > 0 else 0)
            delta = (t if o != t else 0) if pm else (t - o)
            if delta != 0:
                mistakes += 1
            nets.append(net)
            outs.append(sympy.Integer(o))
            flags.append(sympy.Integer(1 if delta != 0 else 0))
            w = [wi + eta * delta * xi for wi, xi in zip(w, x)]
            b = b + eta * delta
            ws.extend(w)
            bs.append(b)
            rows.append((epoch, k, "(" + ", ".join(map(str, x)) + ")", t, net, o,
                         Tensor((d,), tuple(w)), b))
        n = len(X)
        at = f"epochs[{epoch}]."     # epochs numbered as in the table (from 1); samples 0-based in the vectors
        steps.append(Step(f"epoch {epoch}: {mistakes} mistake{'s' if mistakes != 1 else ''}", quantities=(
            (at + "net", Tensor((n,), tuple(nets))), (at + "outputs", Tensor((n,), tuple(outs))),
            (at + "updates", Tensor((n,), tuple(flags))), (at + "mistakes", sympy.Integer(mistakes)),
            (at + "w", Tensor((d,), tuple(w))), (at + "b", b),
            (at + "w_after", Tensor((n, d), tuple(ws))), (at + "b_after", Tensor((n,), tuple(bs))))))
        if mistakes == 0 and clean_epoch is None:
            clean_epoch = epoch
    steps.append(Step("table (w and b after each example)",
                      table=Table(("epoch", "example", "x", "t", "w·x + b", "o", "w", "b"), tuple(rows))))
    answers += [Answer("weights", Tensor((d,), tuple(w))), Answer("bias", b),
                Answer("first epoch without mistakes", sympy.Integer(clean_epoch) if clean_epoch else
                       "none yet (train longer, or the data may not be linearly separable)")]
    return finish(spec, steps, answers)


def _network(spec, m, X, steps, answers):
    """Each unit's output on every row; depth = the longest chain of units, width = the largest layer."""
    import sympy

    from examsolve.asks import finish, spec_expr
    from examsolve.errors import SpecError
    from examsolve.steps import Answer, Step, Table
    from examsolve.tensor import Tensor

    d = len(X[0])
    base = [f"x{j + 1}" for j in range(d)]
    depth = {n: 0 for n in base}
    for k, u in enumerate(m.network):
        missing = [i for i in u.inputs if i not in depth]
        if missing or len(u.weights) != len(u.inputs):
            raise SpecError(f"unit {u.name}: inputs {missing or ''} unknown or weights do not match the inputs "
                            f"(inputs are {', '.join(depth)})", spec.loc("network", k))
        depth[u.name] = 1 + max(depth[i] for i in u.inputs)
    rows, outs = [], {u.name: [] for u in m.network}
    for x in X:
        vals = dict(zip(base, x))
        for k, u in enumerate(m.network):
            ws = [spec_expr(spec, v, ("network", k, "weights", i), {}) for i, v in enumerate(u.weights)]
            net = sympy.Add(*[wi * vals[i] for wi, i in zip(ws, u.inputs)]) + spec_expr(spec, u.bias,
                                                                                         ("network", k, "bias"), {})
            vals[u.name] = sympy.Integer(1 if net > 0 else 0)
            outs[u.name].append(vals[u.name])
        rows.append(tuple(x) + tuple(vals[u.name] for u in m.network))
    layers: dict = {}
    for u in m.network:
        layers.setdefault(depth[u.name], []).append(u.name)
    steps.append(Step("threshold units fire (1) when Σ w·input + b > 0", table=Table(
        tuple(base) + tuple(u.name for u in m.network), tuple(rows)),
        quantities=tuple((f"units.{u.name}.outputs", Tensor((len(X),), tuple(outs[u.name]))) for u in m.network)))
    last = m.network[-1].name
    answers += [Answer(f"output {last}", Tensor((len(X),), tuple(outs[last]))),
                Answer("depth", sympy.Integer(max(depth.values()))),
                Answer("width", sympy.Integer(max(len(v) for v in layers.values())))]
    return finish(spec, steps, answers)


PAIR = ("weights", "bias")


def _with_checks(spec, X, T, pm, answers):
    """The weights and bias answers with their validity check: many pairs realise one truth table."""
    import dataclasses

    ours = {a.name: a.value for a in answers if a.name in PAIR}
    if len(ours) < 2:
        return answers          # not separable: nothing to check
    return [dataclasses.replace(a, valid=_pair_check(spec, X, T, pm, a.name, ours)) if a.name in PAIR else a
            for a in answers]


def _pair_check(spec, X, T, pm, name, ours):
    """valid(value, others) for one half of (weights, bias); the other half is the one given with it."""

    def valid(value, others=None):
        # a key is checked with the key's other half, a student's answer with the student's; else ours
        given = spec.model.key if others is None else others
        half = {name: value}
        for other in PAIR:
            if other != name:
                half[other] = _read(spec, given.get(other), other, ours[other])
        return realises(X, T, pm, half["weights"], half["bias"])

    return valid


def _read(spec, raw, name, default):
    """A value given (YAML) for the other half of the pair, or default when it is missing or unreadable."""
    from examsolve.asks import spec_expr
    from examsolve.errors import ExamsolveError

    if raw is None:
        return default
    try:
        return spec_expr(spec, raw, ("key", name), {})
    except ExamsolveError:
        return default


def realises(X, T, pm, w, b) -> tuple:
    """(ok, reason): whether one threshold unit with weights w and bias b reproduces every row of the table."""
    import sympy

    from examsolve.tensor import Tensor

    items = w.items if isinstance(w, Tensor) and w.rank == 1 else (w,) if not isinstance(w, Tensor) else None
    d = len(X[0])
    if items is None or len(items) != d:
        return False, f"the unit has {d} weights, one per input"
    if not all(isinstance(v, sympy.Basic) and v.is_number and v.is_extended_real for v in items + (b,)):
        return False, "the weights and the bias are real numbers"
    for x, t in zip(X, T):
        net = sympy.Add(*[wi * xi for wi, xi in zip(items, x)]) + b
        out = 1 if net > 0 else (-1 if pm else 0)      # the unit fires when w·x + b > 0 (sign(0) = −1, step(0) = 0)
        if out != t:
            row = "(" + ", ".join(map(sympy.sstr, x)) + ")"
            return False, f"gives {out} for input {row}, the table says {sympy.sstr(t)}"
    return True, "a different solution that realises the truth table"
