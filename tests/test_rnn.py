"""The rnn family against hand derivations and independent float computations."""
from __future__ import annotations

import math

import pytest

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor


def answers(name):
    return {a.name: a.value for a in solve(load_spec(str(ROOT / "problems" / name))).answers}


def run(text):
    sol = solve(parse_spec(text, "r.yaml"))
    return {a.name: a.value for a in sol.answers}, sol


def items(v):
    return v.items if isinstance(v, Tensor) else (v,)


def test_seed000_q10_linear_rnn():
    # z_t = θ1 x_t + θ2 z_(t−1) with θ1 = 1, θ2 = 0: z = x = (0, 1); L = (0 − 1)² + (1 − 3)² = 5
    # dL/dθ1 = Σ_t 2(z_t − y_t)·x_t = 2(−1)(0) + 2(−2)(1) = −4
    a = answers("rnn_linear_two_losses.yaml")
    assert items(a["z"]) == (0, 1) and a["L"] == 5 and a["dL/dtheta1"] == -4


def test_seed001_q2_product_cell():
    # z1 = θ x1 z0 = 2, z2 = θ x2 z1 = −4, L = z2² = 16
    # dL/dθ = dL/dz2·(x2 z1 + θ x2·x1 z0) = (−8)(−2 − 2) = 32 = (−8)(−2) + (−8)(−2)(1)
    a = answers("rnn_product_cell.yaml")
    assert items(a["z"]) == (2, -4) and a["L"] == 16 and a["dL/dtheta"] == 32


def test_relu_dead_units():
    # pre-activations 2·1 − 3 = −1, 2·0 − 1 = −1, 2·0 + 2 = 2: h = (0, 0, 2), h1 and h2 dead
    # dh3/dV = h2 = 0; dh3/dW = x3 + V·dh2/dW = −2 + 0; dh3/dx = (0, 0, W) = (0, 0, −1)
    a = answers("rnn_relu_dead_unit.yaml")
    assert items(a["h"]) == (0, 0, 2)
    assert a["dlast/dV"] == 0 and a["dlast/dW"] == -2 and items(a["dlast/dx"]) == (0, 0, -1)


def test_relu_convention_changes_exactly_the_steps_at_zero():
    # x = (2, −1, 0), V = 2, W = −1, h0 = 1: pre-activations 2·1 − 2 = 0 (the kink), 2·0 + 1 = 1,
    # 2·1 − 0 = 2, so h = (0, 1, 2). dh3/dx = (V·V·W·relu'(0), V·W, W) = (−4·relu'(0), −2, −1)
    spec = ("kind: rnn\ngiven: {V: 2, W: -1}\nsequences: {x: [2, -1, 0]}\ninitial: 1\n"
            "cell: relu(V*h + W*x)\nequations: {last: 'h[2]'}\nask:\n  - grad: {of: last, wrt: x}\n")
    a0, s0 = run(spec)
    a1, s1 = run(spec + "conventions: {relu_grad_at_zero: 1}\n")
    assert items(a0["dlast/dx"]) == (0, -2, -1) and items(a1["dlast/dx"]) == (-4, -2, -1)

    def flat(sol):
        out = []

        def walk(steps):
            for st in steps:
                out.append(st)
                walk(st.substeps)
        walk(sol.steps)
        return out
    changed = [a.title for a, b in zip(flat(s0), flat(s1)) if a.value != b.value]
    noted = [st.title for st in flat(s0) if "relu_grad_at_zero" in st.note]
    # only the step through the kink changes (∂last/∂x1 and its local derivative ∂h1/∂x1 = W·relu'(0)),
    # and it names the convention
    assert changed == ["Backward: ∂last/∂x_1", "local derivative ∂h_1/∂x_1"]
    assert noted == ["Backward: ∂last/∂x_1"]


def _sig(v):
    return 1 / (1 + math.exp(-v))


def test_lstm_matches_plain_floats():
    p = dict(W_f=0.5, U_f=0.1, b_f=0, W_i=1, U_i=-0.5, b_i=0.25, W_o=-0.5, U_o=1, b_o=0, W_c=2, U_c=0.5, b_c=-0.1)
    h = c = 0.0
    hs, cs = [], []
    for x in (1, -1):        # textbook LSTM, written out independently
        f = _sig(p["W_f"] * x + p["U_f"] * h + p["b_f"])
        i = _sig(p["W_i"] * x + p["U_i"] * h + p["b_i"])
        o = _sig(p["W_o"] * x + p["U_o"] * h + p["b_o"])
        g = math.tanh(p["W_c"] * x + p["U_c"] * h + p["b_c"])
        c = f * c + i * g
        h = o * math.tanh(c)
        hs.append(h)
        cs.append(c)
    a = answers("lstm_forward.yaml")
    for got, want in zip(items(a["h"]) + items(a["c"]), hs + cs):
        assert abs(float(got) - want) < 1e-12


def test_gru_matches_plain_floats():
    W_r, U_r = [[0.5, 0], [0, 0.5]], [[0.1, 0], [0, 0.1]]
    W_z, U_z = [[1, 0], [0, -1]], [[0, 0.5], [0.5, 0]]
    W_n, U_n = [[1, 1], [0, 1]], [[0.5, 0], [0, 0.5]]

    def mv(M, v):
        return [sum(M[i][k] * v[k] for k in range(2)) for i in range(2)]
    h = [0.0, 0.0]
    for x in ([1, 0], [0, 1]):   # PyTorch's GRU with zero biases, written out independently
        r = [_sig(a + b) for a, b in zip(mv(W_r, x), mv(U_r, h))]
        z = [_sig(a + b) for a, b in zip(mv(W_z, x), mv(U_z, h))]
        n = [math.tanh(a + ri * b) for a, ri, b in zip(mv(W_n, x), r, mv(U_n, h))]
        h = [(1 - zi) * ni + zi * hi for zi, ni, hi in zip(z, n, h)]
    a = answers("gru_forward.yaml")
    got = items(a["h"])[2:]
    for g, w in zip(got, h):
        assert abs(float(g) - w) < 1e-12
    assert abs(float(a["L"]) - (h[0] ** 2 + h[1] ** 2)) < 1e-12


@pytest.mark.parametrize("d,n", [(1, 1), (5, 4), (3, 7), (10, 2)])
def test_parameter_counts(d, n):
    # LSTM: Keras 4(n(d + n) + n), PyTorch 4(n(d + n) + 2n); GRU: 3(n(d + n) + 2n) in both
    # (Keras's reset_after=True, the TF2 default); e.g. Keras LSTM with d = 5, n = 4 has 160
    def spec(cell):
        mats = {}
        gates = "fioc" if cell == "lstm" else "rzn"
        for g in gates:
            mats[f"W_{g}"] = [[0] * d for _ in range(n)]
            mats[f"U_{g}"] = [[0] * n for _ in range(n)]
            mats[f"b_{g}"] = [0] * n
        given = "\n".join(f"  {k}: {v}" for k, v in mats.items())
        return (f"kind: rnn\ngiven:\n{given}\nsequences: {{x: [{[0] * d}]}}\ninitial: {[0] * n}\n"
                f"cell: {cell}\nask:\n  - value: [h]\n")
    a, _ = run(spec("lstm"))
    assert a["LSTM parameters (Keras)"] == 4 * (n * (d + n) + n)
    assert a["LSTM parameters (PyTorch)"] == 4 * (n * (d + n) + 2 * n)
    a, _ = run(spec("gru"))
    assert a["GRU parameters (Keras)"] == a["GRU parameters (PyTorch)"] == 3 * (n * (d + n) + 2 * n)


def test_keras_lstm_with_five_inputs_and_four_units_has_160_parameters():
    assert 4 * (4 * (5 + 4) + 4) == 160   # the FAMILIES example, for the reader of the test above


def test_unequal_sequences_are_a_spec_error():
    from examsolve.errors import SpecError
    with pytest.raises(SpecError) as e:
        run("kind: rnn\nsequences: {x: [1, 2], y: [1]}\ncell: x + h\nask:\n  - value: [h]\n")
    assert "same number of steps" in str(e.value)


# ---- a value kept as a 30-digit float says so (the probe's scalar LSTM, L = (h_2 − 1/2)²/2) ----

PROBE = """kind: rnn
given: {W_i: 1, U_i: -1, b_i: 0, W_f: 0.5, U_f: 1, b_f: 0, W_c: 1, U_c: 0.5, b_c: 0, W_o: 1, U_o: 1, b_o: 0}
sequences: {x: [1, -1]}
cell: lstm
loss: {each: (h - 1/2)**2/2, steps: last}
ask:
  - value: [h, c, L]
"""


def probe_forward():
    """The probe's LSTM in mpmath at 40 digits: [(f, i, o, g, c, h) at t = 1, 2]."""
    import mpmath
    mpmath.mp.dps = 40
    sig = lambda v: 1 / (1 + mpmath.exp(-v))   # noqa: E731
    h = c = mpmath.mpf(0)
    out = []
    for x in (1, -1):
        f, i, o = sig(x / mpmath.mpf(2) + h), sig(x - h), sig(x + h)
        g = mpmath.tanh(x + h / 2)
        c = f * c + i * g
        h = o * mpmath.tanh(c)
        out.append((f, i, o, g, c, h))
    return out


def test_a_float_kept_for_a_too_long_exact_form_is_marked_in_json():
    import json

    from examsolve.renderers import render
    sol = solve(parse_spec(PROBE, "q.yaml"))
    data = json.loads(render(sol, "json"))
    want = probe_forward()
    h = next(a for a in data["answers"] if a["name"] == "h")
    assert h["approx"] is True and all(abs(v - w[5]) < 1e-12 for v, w in zip(h["value"], want))
    assert h["exact"].startswith("[tanh(")        # h_1 stays exact: tanh(tanh(1)/(1 + e^-1))/(1 + e^-1)
    L = next(a for a in data["answers"] if a["name"] == "L")
    assert L["approx"] is True and abs(L["value"] - (want[1][5] - 0.5) ** 2 / 2) < 1e-12
    assert any('"approx": true' in n for n in data["notes"])
    steps = {}
    stack = list(data["steps"])
    while stack:
        s = stack.pop()
        stack += s.get("substeps", [])
        if s["target"]:
            steps[s["target"]] = s
    # exactness ends at f_2 = sigmoid(−1/2 + h_1) (sigmoid of tanh of tanh: nested past the budget); the step
    # says so, c_1 is exact, and c_2 (from f_2's float) is approximate without repeating the note
    assert steps["f_2"]["approx"] and "30-digit float" in steps["f_2"]["note"] and "too long" in steps["f_2"]["note"]
    assert steps["c_1"]["approx"] is False and steps["c_1"]["note"] == ""
    assert steps["c_2"]["approx"] and "30-digit" not in steps["c_2"]["note"]
    assert abs(steps["c_2"]["value"] - want[1][4]) < 1e-12


def test_a_step_whose_result_shows_only_its_decimal_keeps_its_numbers():
    from examsolve.renderers import render
    text = render(solve(parse_spec(PROBE, "q.yaml")), "terminal")
    line = next(x for x in text.splitlines() if "h₁ = o₁·tanh(c₁)" in x)
    # h_1 = o_1·tanh(c_1) with o_1 = 1/(1 + e^-1), c_1 = tanh(1)/(1 + e^-1): the numbers, then ≈ 0.369606
    assert "= tanh(tanh(1)/(1 + exp(-1)))/(1 + exp(-1)) ≈ 0.369606" in line
