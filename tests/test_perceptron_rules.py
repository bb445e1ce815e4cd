"""Perceptron rule options, built threshold networks and the weight search, against plain Python in the test."""
from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
import sympy

from examsolve import solve
from examsolve.errors import SpecError
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

ROWS = [[0, 0], [0, 1], [1, 0], [1, 1]]


def run(text):
    sol = solve(parse_spec(text, "p.yaml"))
    return {a.name: a.value for a in sol.answers}, sol


def flat(v):
    return [sympy.Rational(e) for e in (v.items if isinstance(v, Tensor) else (v,))]


def plain_train(X, T, w, b, eta, epochs, rule, pm, strict, theta, learn_b, x0=None):
    """The perceptron, written out with Fractions: per epoch (outputs, w, b)."""
    if x0 is not None:
        X = [[x0] + list(x) for x in X]
    out = []
    for _ in range(epochs):
        ys = []
        for x, t in zip(X, T):
            net = sum(wi * xi for wi, xi in zip(w, x)) + b
            on = net > theta if strict else net >= theta
            y = 1 if on else (-1 if pm else 0)
            if rule == "delta":
                d = t - y
            else:
                d = 0 if y == t else (t if pm else t - y)
            w = [wi + eta * d * xi for wi, xi in zip(w, x)]
            if learn_b:
                b = b + eta * d
            ys.append(y)
        out.append((ys, list(w), b))
    return out


def spec_text(X, T, w, eta, epochs, extra=""):
    return (f"kind: perceptron\ninputs: {X}\ntargets: {T}\nweights: {w}\nlr: '{eta}'\nepochs: {epochs}\n"
            + extra)


CASES = [  # (extra spec lines, rule, pm, strict, theta, learn_b, x0, targets)
    ("rule: delta\noutput: pm1\n", "delta", True, True, 0, True, None, [-1, 1, 1, 1]),
    ("rule: mistake\n", "mistake", True, True, 0, True, None, [-1, -1, -1, 1]),
    ("fires: '>='\n", "mistake", True, False, 0, True, None, [-1, 1, 1, 1]),
    ("", "delta", False, True, 0, True, None, [0, 0, 0, 1]),
    ("fires: '>='\nthreshold: '1/2'\n", "delta", False, False, Fraction(1, 2), False, None, [0, 1, 1, 1]),
    ("threshold: 0.3\nrule: delta\noutput: pm1\n", "delta", True, True, Fraction(3, 10), False, None, [-1, 1, 1, 1]),
    ("threshold: 0.3\nlearn_bias: true\nrule: delta\n", "delta", True, True, Fraction(3, 10), True, None,
     [-1, -1, -1, 1]),
    ("constant_input: 1\n", "mistake", True, True, 0, False, 1, [-1, 1, 1, 1]),
    ("constant_input: -1\nrule: delta\n", "delta", False, True, 0, False, -1, [0, 0, 0, 1]),
]


@pytest.mark.parametrize("extra, rule, pm, strict, theta, learn_b, x0, T", CASES)
def test_rule_options_match_plain_python_step_by_step(extra, rule, pm, strict, theta, learn_b, x0, T):
    X = [[-1, -1], [-1, 1], [1, -1], [1, 1]] if pm and x0 is None and "mistake" == rule else ROWS
    w0 = [Fraction(1, 5), Fraction(-1, 10)] + ([] if x0 is None else [Fraction(0)])
    if x0 is not None:
        w0 = [Fraction(0)] + w0[:2]
    eta, epochs = Fraction(1, 10), 4
    expect = plain_train(X, T, w0, Fraction(0), eta, epochs, rule, pm, strict, theta, learn_b, x0)
    ws = "[" + ", ".join(f"'{v}'" for v in w0) + "]"
    a, sol = run(spec_text(X, T, ws, eta, epochs, extra))
    q = sol.quantities
    for k, (ys, w, b) in enumerate(expect, 1):
        assert flat(q[f"epochs[{k}].outputs"]) == ys
        assert flat(q[f"epochs[{k}].w"]) == w
        if learn_b:
            assert flat(q[f"epochs[{k}].b"]) == [b]
    assert flat(a["weights"]) == expect[-1][1]
    assert ("bias" in a) == learn_b


def test_delta_with_pm1_is_twice_the_mistake_step():
    # one mistake from w = 0 on x = (1, 1), t = 1: mistake rule adds η·x = (1, 1); delta adds η·2·x = (2, 2)
    base = "kind: perceptron\ninputs: [[1, 1]]\ntargets: [1]\noutput: pm1\n"
    a1, _ = run(base + "rule: mistake\n")
    a2, s2 = run(base + "rule: delta\n")
    assert flat(a1["weights"]) == [1, 1] and flat(a2["weights"]) == [2, 2]
    assert a1["bias"] == 1 and a2["bias"] == 2
    assert s2.steps[0].title.startswith("convention: w ← w + η(t − y)x")
    assert "output ±1" in s2.steps[0].title and "twice the step" in s2.steps[0].title


def test_convention_names_threshold_and_comparison():
    _, sol = run("kind: perceptron\ninputs: [[0, 1]]\ntargets: [1]\nthreshold: 0.2\nfires: '>='\n")
    assert sol.steps[0].title.startswith("convention: w ← w + η(t − y)x, output 0/1, fires when w·x ≥ θ")


def test_targets_must_fit_the_output_coding():
    with pytest.raises(SpecError, match="not ±1 outputs"):
        run("kind: perceptron\ninputs: [[0, 1]]\ntargets: [0]\noutput: pm1\n")


# ---- built networks, checked by brute force over every row -----------------------------------------------

def net_eval(units, x, strict):
    """Evaluate built units (from the solution's unit table) on one 0/1 row."""
    vals = {f"x{j + 1}": v for j, v in enumerate(x)}
    for name, inputs, ws, b in units:
        net = sum(w * vals[i] for w, i in zip(ws, inputs)) + b
        vals[name] = int(net > 0 if strict else net >= 0)
    return vals[units[-1][0]]


def units_of(sol):
    table = next(s.table for s in sol.steps if s.table is not None and s.table.header[0] == "unit")
    out = []
    for name, inputs, ws, b in table.rows:
        ins = [] if inputs == "none" else inputs.split(", ")
        wl = [Fraction(v) for v in ws.strip("()").split(", ")] if ws != "()" else []
        out.append((name, ins, wl, Fraction(str(b))))
    return out


def truth(f, n):
    return [(x, f(x)) for x in itertools.product((0, 1), repeat=n)]


FUNCS = [  # (formula, python function, n, build)
    ("x1 xor x2 xor x3", lambda x: (x[0] + x[1] + x[2]) % 2, 3, "parity"),
    ("x1 xor x2 xor x3", lambda x: (x[0] + x[1] + x[2]) % 2, 3, "parity_shortcuts"),
    ("x1 ^ x2 ^ x3 ^ x4 ^ x5", lambda x: sum(x) % 2, 5, "parity_shortcuts"),
    ("x1 xor x2 xor x3 xor x4", lambda x: sum(x) % 2, 4, "dnf"),
    ("(x1 and not x2) or (x2 and x3)", lambda x: int((x[0] and not x[1]) or (x[1] and x[2])), 3, "dnf"),
    ("not (x1 or x2) xor x3", lambda x: int((not (x[0] or x[1])) != bool(x[2])), 3, "dnf"),
    ("x1 and x2", lambda x: x[0] & x[1], 2, None),
    ("x1 xor x2", lambda x: x[0] ^ x[1], 2, None),
]


@pytest.mark.parametrize("fires", [">", ">="])
@pytest.mark.parametrize("formula, f, n, build", FUNCS)
def test_built_network_computes_the_function_on_every_row(formula, f, n, build, fires):
    a, sol = run(f"kind: perceptron\nformula: '{formula}'\nfires: '{fires}'\n" + (f"build: {build}\n" if build else ""))
    units = units_of(sol)
    rows = truth(f, n)
    assert [net_eval(units, x, fires == ">") for x, _ in rows] == [t for _, t in rows]
    assert flat(a["output y"]) == [t for _, t in rows]
    assert a["units"] == len(units)


def test_parity_counts():
    # layered: n hidden + 1 output, depth 2, width n; shortcuts: ⌊n/2⌋ hidden + 1, depth 2
    a, _ = run("kind: perceptron\nformula: x1 xor x2 xor x3 xor x4\nbuild: parity\n")
    assert (a["units"], a["depth"], a["width"]) == (5, 2, 4)
    a, _ = run("kind: perceptron\nformula: x1 xor x2 xor x3 xor x4 xor x5\nbuild: parity_shortcuts\n")
    assert (a["units"], a["depth"], a["width"]) == (3, 2, 2)
    a, _ = run("kind: perceptron\nformula: x1 and x2 and not x3\n")      # separable: one unit
    assert (a["units"], a["depth"], a["width"]) == (1, 1, 1)


def test_two_hidden_units_cannot_compute_parity3_in_one_layer():
    # the claim the parity step makes for n = 3, by brute force: every threshold function of 3 inputs (integer
    # weights in −3..3 reach all of them), every pair as the hidden layer: the pair never determines parity
    rows = list(itertools.product((0, 1), repeat=3))
    funcs = {tuple(int(sum(w * v for w, v in zip(c, x)) + c[3] > 0) for x in rows)
             for c in itertools.product(range(-3, 4), repeat=4)}
    assert len(funcs) == 104            # the known number of threshold functions of 3 inputs
    parity = [sum(x) % 2 for x in rows]
    for h1, h2 in itertools.combinations_with_replacement(sorted(funcs), 2):
        seen = {}
        ok = all(seen.setdefault((h1[r], h2[r]), parity[r]) == parity[r] for r in range(8))
        assert not ok


def test_formula_and_targets_must_agree_and_parse():
    with pytest.raises(SpecError, match="the formula gives"):
        run("kind: perceptron\nformula: x1 and x2\ninputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\ntargets: [0, 0, 0, 0]\n")
    with pytest.raises(SpecError, match=r"p.yaml:2:\d+: formula: unknown name 'y'"):
        run("kind: perceptron\nformula: x1 and y\n")
    with pytest.raises(SpecError, match="not parity"):
        run("kind: perceptron\nformula: x1 and x2\nbuild: parity\n")


# ---- a weight search over given values ----------------------------------------------------------------

@pytest.mark.parametrize("fires", [">", ">="])
@pytest.mark.parametrize("T", [[0, 0, 0, 1], [0, 1, 1, 1], [0, 1, 1, 0], [1, 0, 1, 1]])
def test_value_search_matches_plain_enumeration(T, fires):
    vals, bvals = [-1, 0, 1], [-2, -1, 0, 1]
    sols = [(w1, w2, b) for w1 in vals for w2 in vals for b in bvals
            if all(((w1 * x[0] + w2 * x[1] + b > 0) if fires == ">" else (w1 * x[0] + w2 * x[1] + b >= 0)) == (t == 1)
                   for x, t in zip(ROWS, T))]
    a, _ = run(f"kind: perceptron\nfind_weights: true\ninputs: {ROWS}\ntargets: {T}\nweight_values: {vals}\n"
               f"bias_values: {bvals}\nfires: '{fires}'\n")
    assert a["solutions"] == len(sols)
    if sols:
        assert flat(a["weights"]) == list(sols[0][:2]) and a["bias"] == sols[0][2]
    else:
        assert isinstance(a["weights"], str) and a["weights"].startswith("none")


def test_value_search_is_bounded():
    with pytest.raises(SpecError, match="combinations, more than"):
        run("kind: perceptron\nfind_weights: true\ninputs: [[0, 0, 0, 0, 0, 0, 0]]\ntargets: [0]\n"
            "weight_values: [-3, -2, -1, 0, 1, 2, 3]\n")


def test_find_weights_with_geq_realises_the_table():
    # ≥: AND with integer weights; checked by evaluating w·x + b ≥ 0 on every row
    a, _ = run(f"kind: perceptron\nfind_weights: true\ninputs: {ROWS}\ntargets: [0, 0, 0, 1]\nfires: '>='\n")
    w, b = flat(a["weights"]), a["bias"]
    assert [int(bool(w[0] * x[0] + w[1] * x[1] + b >= 0)) for x in ROWS] == [0, 0, 0, 1]
