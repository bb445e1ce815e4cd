"""perceptron: the perceptron learning rule epoch by epoch, and networks of threshold units on truth tables."""
import functools

from examsolve.registry import family

RULES = {"mistake": "on a mistake w ← w + η·t·x", "delta": "w ← w + η(t − y)x"}


@functools.cache
def _model():
    from typing import Literal, Optional

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw, _Model

    from examsolve.spec import CONVENTION

    class Unit(_Model):
        """A threshold unit: fires when w·inputs + b > θ (or ≥ θ with fires: '>=')."""

        name: str
        inputs: list[str] = Field(description="names of inputs (x1, x2, ...) or earlier units")
        weights: list[Raw]
        bias: Raw = 0
        threshold: Raw = Field(0, description="θ the net w·inputs + b is compared with")

    class PerceptronSpec(BaseSpec):
        """Training data and the rule's settings, or a network of threshold units to evaluate or build."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        inputs: list[list[Raw]] = Field(default_factory=list, description="one row per example, e.g. the truth "
                                        "table [[0, 0], [0, 1], ...]; with formula: every 0/1 row by default")
        targets: list[Raw] = Field(default_factory=list, description="0/1 or ±1 targets for training")
        weights: list[Raw] = Field(default_factory=list, description="start weights (default 0); with "
                                   "constant_input: w0 first")
        bias: Raw = Field(0, description="start bias (a threshold θ is bias −θ)")
        lr: Raw = Field(1, description="learning rate η")
        epochs: int = Field(1, ge=1, le=1000, description="epochs over the examples, in order")
        rule: Optional[Literal["mistake", "delta"]] = Field(
            None, json_schema_extra=CONVENTION, description="mistake: on a mistake w ← w + η·t·x; delta: w ← w + η(t − y)x (with ±1 outputs "
            "twice the mistake step; with 0/1 outputs the 0/1 rule); default mistake for ±1, delta for 0/1")
        output: Optional[Literal["pm1", "01"]] = Field(
            None, description="what a unit outputs: pm1 (±1) or 01 (0/1); default pm1 when a target is −1")
        fires: Literal[">", ">=", "≥"] = Field(">", json_schema_extra=CONVENTION, description="a unit outputs 1 when w·x + b > θ, or ≥ θ "
                                               "(else −1 or 0)")
        threshold: Optional[Raw] = Field(None, description="a fixed threshold θ compared with w·x (+ b), "
                                         "not learned; default 0")
        learn_bias: Optional[bool] = Field(None, description="update b ← b + η·δ too; default yes unless "
                                           "threshold: or constant_input: is given")
        constant_input: Optional[Literal[1, -1]] = Field(
            None, description="a constant input x0 = 1 (or −1) whose weight w0 (first in weights:) is the bias "
            "(or the threshold)")
        network: list[Unit] = Field(default_factory=list, description="threshold units to evaluate instead")
        find_weights: bool = Field(False, description="instead of training: weights and bias of one threshold "
                                   "unit that realises the targets, or the proof that none exists (e.g. XOR)")
        weight_values: list[Raw] = Field(default_factory=list, description="find_weights: search only weights "
                                         "in these values, e.g. [-1, 0, 1] (every combination is tried)")
        bias_values: list[Raw] = Field(default_factory=list, description="find_weights: the values the bias "
                                       "may take (default weight_values)")
        formula: str = Field("", description="a Boolean function to build as a threshold network: and, or, not, "
                             "xor over x1, x2, ..., e.g. (x1 and not x2) or x3; instead of targets:")
        build: Optional[Literal["dnf", "parity", "parity_shortcuts"]] = Field(
            None, description="build a threshold network for the targets (or formula): dnf (one AND unit per "
            "true row or term, then an OR), parity (n hidden units in one layer), parity_shortcuts (⌊n/2⌋ "
            "hidden units, inputs also wired to the output)")

    return PerceptronSpec


@family("perceptron", summary="the perceptron rule epoch by epoch as a table (mistake or delta rule, ±1 or 0/1 "
        "outputs, a threshold with > or ≥, a bias or a constant input), and networks of threshold units evaluated "
        "on a truth table with units, depth and width, or built for a truth table or formula (DNF, parity); "
        "weights for a truth table from its inequalities or from given values, or the proof that none exist",
        examples=("perceptron_and.yaml", "xor_network.yaml", "perceptron_weights.yaml", "perceptron_xor.yaml",
                  "perceptron_delta_threshold.yaml", "xor3_threshold_network.yaml"),
        model=_model, uses=())
def _solve(spec):
    """Training by the chosen rule, a network evaluated or built, or one unit's weights found."""
    from examsolve import threshold_nets
    from examsolve.errors import SpecError
    from examsolve.finish import finish
    from examsolve.spec_graph import spec_expr

    m = spec.model
    if m.formula or m.build:
        return threshold_nets.build(spec)
    X = [[spec_expr(spec, v, ("inputs", i, j), {}) for j, v in enumerate(row)] for i, row in enumerate(m.inputs)]
    if not X or len({len(r) for r in X}) != 1:
        raise SpecError("inputs: rows of the same length; give one row per example, e.g. [[0, 0], [0, 1]]",
                        spec.loc("inputs"))
    if m.network:
        return threshold_nets.evaluate(spec, X, [], [])
    T = [spec_expr(spec, v, ("targets", i), {}) for i, v in enumerate(m.targets)]
    if len(T) != len(X):
        raise SpecError(f"{len(T)} targets for {len(X)} examples; give one target per row of inputs:",
                        spec.loc("targets"))
    pm = coding(spec, T)
    if m.find_weights:
        return _find(spec, X, T, pm)
    steps, answers = _train(spec, X, T, pm)
    return finish(spec, steps, answers)


def coding(spec, T: list) -> bool:
    """True for ±1 outputs, False for 0/1: output: if given, else ±1 when a target is −1; targets must fit."""
    from examsolve.errors import SpecError

    m = spec.model
    pm = m.output == "pm1" if m.output else any(t == -1 for t in T)
    allowed = {-1, 1} if pm else {0, 1}
    bad = [t for t in T if t not in allowed]
    if bad:
        raise SpecError(f"targets {bad} are not {'±1' if pm else '0/1'} outputs; write targets as "
                        f"{'−1/1' if pm else '0/1'} or set output: {'01' if pm else 'pm1'}", spec.loc("targets"))
    return pm


def strict(spec) -> bool:
    """True when units fire on net > θ, False on net ≥ θ."""
    return spec.model.fires == ">"


def fire(net, theta, strict_: bool, pm: bool) -> int:
    """The unit's output: 1 when net > θ (or ≥ θ), else −1 (±1 coding) or 0."""
    on = net > theta if strict_ else net >= theta
    return 1 if on else (-1 if pm else 0)


def _find(spec, X, T, pm):
    """One unit's weights: the inequalities solved, or searched over the given values."""
    from examsolve.errors import SpecError
    from examsolve.finish import finish
    from examsolve.separable import find_weights, search_values
    from examsolve.spec_graph import spec_expr

    m = spec.model
    if not all(v.is_Rational for r in X for v in r):
        raise SpecError("find_weights: needs rational inputs; write them as integers or fractions",
                        spec.loc("inputs"))
    if m.weight_values or m.bias_values:
        wv = [spec_expr(spec, v, ("weight_values", i), {}) for i, v in enumerate(m.weight_values)]
        bv = [spec_expr(spec, v, ("bias_values", i), {}) for i, v in enumerate(m.bias_values)] or wv
        if not wv or not all(v.is_number and v.is_extended_real for v in wv + bv):
            raise SpecError("weight_values: real numbers, e.g. [-1, 0, 1]", spec.loc("weight_values"))
        steps, answers = search_values(X, T, pm, wv, bv, strict(spec), spec.loc("weight_values"))
        return finish(spec, steps, answers)
    steps, answers = find_weights(X, T, pm, strict(spec))
    return finish(spec, steps, _with_checks(spec, X, T, pm, answers))


def _setup(spec, X: list, pm: bool) -> dict:
    """The rule's settings read and checked: start weights, bias, θ, η, the constant input."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr

    m = spec.model
    x0 = m.constant_input
    if x0 is not None and (m.learn_bias or m.bias != 0):
        raise SpecError("constant_input: the weight w0 of x0 is the bias; remove bias: and learn_bias:",
                        spec.loc("constant_input"))
    d = len(X[0]) + (x0 is not None)
    w = [spec_expr(spec, v, ("weights", i), {}) for i, v in enumerate(m.weights)] or [sympy.Integer(0)] * d
    if len(w) != d:
        raise SpecError(f"{len(w)} start weights for {d} inputs" + (" (w0 of x0 first)" if x0 is not None else ""),
                        spec.loc("weights"))
    theta = sympy.Integer(0) if m.threshold is None else spec_expr(spec, m.threshold, ("threshold",), {})
    learn_b = m.learn_bias if m.learn_bias is not None else (m.threshold is None and x0 is None)
    b = spec_expr(spec, m.bias, ("bias",), {})
    rule = m.rule or ("mistake" if pm else "delta")
    return {"w": w, "b": b, "theta": theta, "eta": spec_expr(spec, m.lr, ("lr",), {}), "rule": rule,
            "learn_b": learn_b, "has_b": learn_b or b != 0, "x0": x0, "strict": strict(spec), "pm": pm}


def convention(c: dict) -> str:
    """The rule, output coding and comparison in words: 'w ← w + η(t − y)x, output ±1, fires when w·x ≥ θ'."""
    net = "w·x" + (" + b" if c["has_b"] else "")
    theta = "θ" if c["theta"] != 0 else "0"
    text = (f"convention: {RULES[c['rule']]}" + (", b ← b + η·δ" if c["learn_b"] else "")
            + f", output {'±1' if c['pm'] else '0/1'}, fires when {net} {'>' if c['strict'] else '≥'} {theta}"
            + (f" (θ = {c['theta']}, fixed)" if c["theta"] != 0 else ""))
    if c["x0"] is not None:
        text += f"; x = (x0, x1, ...) with the constant input x0 = {c['x0']}, so w0 plays the " + (
            "bias" if c["x0"] == 1 else "threshold (net w·x − w0)")
    if c["rule"] == "delta" and c["pm"]:
        text += "; with ±1 outputs t − y is ±2 on a mistake: twice the step of the mistake rule"
    if c["rule"] == "mistake" and not c["pm"]:
        text += "; with 0/1 outputs the mistake step η·(t − y)·x is the delta rule"
    return text


def _train(spec, X, T, pm):
    """The epochs: each example's net, output, update; quantities per epoch; the answers."""
    import sympy

    from examsolve.steps import Answer, Step, Table
    from examsolve.tensor import Tensor

    m = spec.model
    c = _setup(spec, X, pm)
    if c["x0"] is not None:
        X = [[sympy.Integer(c["x0"])] + list(x) for x in X]
    w, b, d, n = c["w"], c["b"], len(X[0]), len(X)
    steps = [Step(convention(c))]
    rows, clean_epoch = [], None
    for epoch in range(1, m.epochs + 1):
        mistakes, nets, outs, flags, ws, bs = 0, [], [], [], [], []
        for k, (x, t) in enumerate(zip(X, T), 1):
            net = sympy.Add(*[wi * xi for wi, xi in zip(w, x)]) + b
            o = fire(net, c["theta"], c["strict"], pm)
            delta = t - o if c["rule"] == "delta" or not pm else (t if o != t else 0)
            mistakes += o != t
            nets.append(net)
            outs.append(sympy.Integer(o))
            flags.append(sympy.Integer(1 if delta != 0 else 0))
            w = [wi + c["eta"] * delta * xi for wi, xi in zip(w, x)]
            if c["learn_b"]:
                b = b + c["eta"] * delta
            ws.extend(w)
            bs.append(b)
            rows.append((epoch, k, "(" + ", ".join(map(str, x)) + ")", t, net, o, Tensor((d,), tuple(w)))
                        + ((b,) if c["has_b"] else ()))
        at = f"epochs[{epoch}]."     # epochs numbered as in the table (from 1); samples 0-based in the vectors
        # w is w after the epoch; w_by_example has one row per example (not "w_after", which read as the former)
        qs = [(at + "net", Tensor((n,), tuple(nets))), (at + "outputs", Tensor((n,), tuple(outs))),
              (at + "updates", Tensor((n,), tuple(flags))), (at + "mistakes", sympy.Integer(mistakes)),
              (at + "w", Tensor((d,), tuple(w))), (at + "w_by_example", Tensor((n, d), tuple(ws)))]
        if c["has_b"]:
            qs += [(at + "b", b), (at + "b_by_example", Tensor((n,), tuple(bs)))]
        steps.append(Step(f"epoch {epoch}: {mistakes} mistake{'s' if mistakes != 1 else ''}", quantities=tuple(qs)))
        if mistakes == 0 and clean_epoch is None:
            clean_epoch = epoch
    net_head = "w·x" + (" + b" if c["has_b"] else "")
    steps.append(Step("table (w" + (" and b" if c["has_b"] else "") + " after each example)", table=Table(
        ("epoch", "example", "x", "t", net_head, "y", "w") + (("b",) if c["has_b"] else ()), tuple(rows))))
    answers = [Answer("weights", Tensor((d,), tuple(w)))] + ([Answer("bias", b)] if c["has_b"] else [])
    answers.append(Answer("first epoch without mistakes", sympy.Integer(clean_epoch) if clean_epoch else
                          "none yet (train longer, or the data may not be linearly separable)"))
    return steps, answers


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
        return realises(X, T, pm, half["weights"], half["bias"], strict(spec))

    return valid


def _read(spec, raw, name, default):
    """A value given (YAML) for the other half of the pair, or default when it is missing or unreadable."""
    from examsolve.errors import ExamsolveError
    from examsolve.spec_graph import spec_expr

    if raw is None:
        return default
    try:
        return spec_expr(spec, raw, ("key", name), {})
    except ExamsolveError:
        return default


def realises(X: list, T: list, pm: bool, w, b, strict_: bool = True) -> tuple:
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
        out = fire(net, 0, strict_, pm)      # fires when w·x + b > 0 (sign(0) = −1, step(0) = 0), or ≥ 0
        if out != t:
            row = "(" + ", ".join(map(sympy.sstr, x)) + ")"
            return False, f"gives {out} for input {row}, the table says {sympy.sstr(t)}"
    return True, "a different solution that realises the truth table"
