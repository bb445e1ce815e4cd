"""LSTM/GRU naming presets and activation options against a plain-float LSTM/GRU written here."""
from __future__ import annotations

import math

import pytest

from examsolve import solve
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

GATES = ("f", "i", "o", "c")
# input weights A (2×2), recurrent weights B (2×2), biases, per gate: the numbers of a small 2-D LSTM
A = {"f": [[0.5, -1], [0.25, 0]], "i": [[1, 0.5], [-0.5, 1]], "o": [[0, 1], [1, 0]], "c": [[2, -1], [0.5, 0.5]]}
B = {"f": [[0.1, 0], [0, -0.2]], "i": [[0.3, 0.1], [0, 0.5]], "o": [[-1, 0], [0.5, 1]], "c": [[0.5, 0], [-0.5, 1]]}
BIAS = {"f": [0, 1], "i": [0.25, 0], "o": [0, -0.5], "c": [-0.1, 0]}
XS = [[1, -1], [0.5, 2]]


def sig(v):
    return 1 / (1 + math.exp(-v))


def mv(M, v):
    return [sum(a * b for a, b in zip(row, v)) for row in M]


def lstm_floats(xs, inp, rec, bias, cand=math.tanh, out=math.tanh):
    """A plain LSTM: gate = act(inp_g x + rec_g h + b_g), c = f c + i g, h = o out(c); the (c, h) per step."""
    h, c, trace = [0.0, 0.0], [0.0, 0.0], []
    for x in xs:
        pre = {g: [a + b + d for a, b, d in zip(mv(inp[g], x), mv(rec[g], h), bias[g])] for g in GATES}
        f, i, o = ([sig(v) for v in pre[g]] for g in ("f", "i", "o"))
        gg = [cand(v) for v in pre["c"]]
        c = [fv * cv + iv * gv for fv, cv, iv, gv in zip(f, c, i, gg)]
        h = [ov * out(cv) for ov, cv in zip(o, c)]
        trace.append((c, h))
    return trace


def spec(naming, first, second, extra=""):
    """An lstm spec whose names put `first` under W_* and `second` under U_*."""
    lines = ["kind: rnn", "cell: lstm", f"naming: {naming}", "initial: [0, 0]", "initial_cell: [0, 0]",
             f"sequences: {{x: {XS}}}", "ask:", "  - value: [c, h]", "given:"]
    for g in GATES:
        lines += [f"  W_{g}: {first[g]}", f"  U_{g}: {second[g]}", f"  b_{g}: {BIAS[g]}"]
    return "\n".join(lines) + "\n" + extra


def states(text):
    sol = solve(parse_spec(text, "l.yaml"))
    q = sol.quantities
    return [([float(v) for v in q[f"states.c[{t}]"].items], [float(v) for v in q[f"states.h[{t}]"].items])
            for t in (1, 2)], {a.name: a.value for a in sol.answers}, sol


def close(a, b):
    return all(abs(u - v) < 1e-9 for pa, pb in zip(a, b) for xa, xb in zip(pa, pb) for u, v in zip(xa, xb))


def test_pytorch_naming_is_w_on_input():
    got, _, _ = states(spec("pytorch", A, B))
    assert close(got, lstm_floats(XS, A, B, BIAS))


def test_goodfellow_equals_pytorch_with_the_matrices_swapped():
    # goodfellow: U on x, W on h. Giving W := B (recurrent) and U := A (input) is PyTorch's LSTM on (A, B).
    good, ga, gsol = states(spec("goodfellow", B, A))
    torch, ta, _ = states(spec("pytorch", A, B))
    assert close(good, torch) and close(good, lstm_floats(XS, A, B, BIAS))
    # the same letters under the other naming are a different network
    other, _, _ = states(spec("pytorch", B, A))
    assert not close(good, other)
    assert "naming: goodfellow" in gsol.steps[0].title and "U on the input x, W on the" in gsol.steps[0].title
    # parameters: 4·n·(d + n) = 4·2·4 = 32 weights; PyTorch + 4·2n = 16 biases → 48; Keras + 4n = 8 → 40
    assert ga["LSTM parameters (PyTorch)"] == ta["LSTM parameters (PyTorch)"] == 48
    assert ga["LSTM parameters (Keras)"] == ta["LSTM parameters (Keras)"] == 40


def test_keras_naming_computes_the_same_cell():
    got, _, sol = states(spec("keras", A, B))
    assert close(got, lstm_floats(XS, A, B, BIAS)) and "naming: keras" in sol.steps[0].title


@pytest.mark.parametrize("cand, out", [("sigmoid", "tanh"), ("tanh", "sigmoid"), ("sigmoid", "sigmoid")])
def test_sigmoid_candidate_and_cell_output(cand, out):
    fn = {"tanh": math.tanh, "sigmoid": sig}
    got, _, _ = states(spec("goodfellow", B, A, f"candidate: {cand}\ncell_output: {out}\n"))
    assert close(got, lstm_floats(XS, A, B, BIAS, fn[cand], fn[out]))


def test_free_equations_match_the_preset():
    gates = ("gates:\n  f: sigmoid(P_f @ x + Q_f @ h + b_f)\n  i: sigmoid(P_i @ x + Q_i @ h + b_i)\n"
             "  o: sigmoid(P_o @ x + Q_o @ h + b_o)\n  g: tanh(P_c @ x + Q_c @ h + b_c)\n  c: f*c + i*g\n"
             "  h: o*tanh(c)\n")
    text = spec("pytorch", A, B, gates).replace("  W_", "  P_").replace("  U_", "  Q_")
    got, ans, sol = states(text)
    assert close(got, lstm_floats(XS, A, B, BIAS)) and "free equations" in sol.steps[0].title
    assert ans["LSTM parameters (PyTorch)"] == 48


def gru_floats(xs, inp, rec, bias, book):
    """A plain GRU; book: n = tanh(U_n x + W_n (r ⊙ h) + b_n), else PyTorch's n = tanh(W_n x + b_n + r ⊙ (U_n h))."""
    h, out = [0.0, 0.0], []
    for x in xs:
        r = [sig(a + b + d) for a, b, d in zip(mv(inp["r"], x), mv(rec["r"], h), bias["r"])]
        z = [sig(a + b + d) for a, b, d in zip(mv(inp["z"], x), mv(rec["z"], h), bias["z"])]
        if book:
            n = [math.tanh(a + b + d) for a, b, d in zip(mv(inp["n"], x), mv(rec["n"], [rv * hv for rv, hv in zip(r, h)]), bias["n"])]
        else:
            n = [math.tanh(a + d + rv * b) for a, d, rv, b in zip(mv(inp["n"], x), bias["n"], r, mv(rec["n"], h))]
        h = [(1 - zv) * nv + zv * hv for zv, nv, hv in zip(z, n, h)]
        out.append(h)
    return out


@pytest.mark.parametrize("naming", ["pytorch", "goodfellow"])
def test_gru_naming(naming):
    inp = {"r": A["f"], "z": A["i"], "n": A["c"]}
    rec = {"r": B["f"], "z": B["i"], "n": B["c"]}
    bias = {"r": BIAS["f"], "z": BIAS["i"], "n": BIAS["c"]}
    on_x, on_h = ("U", "W") if naming == "goodfellow" else ("W", "U")
    lines = ["kind: rnn", "cell: gru", f"naming: {naming}", "initial: [0, 0]", f"sequences: {{x: {XS}}}",
             "ask:", "  - value: [h]", "given:"]
    for g in ("r", "z", "n"):
        lines += [f"  {on_x}_{g}: {inp[g]}", f"  {on_h}_{g}: {rec[g]}", f"  b_{g}: {bias[g]}"]
    sol = solve(parse_spec("\n".join(lines) + "\n", "g.yaml"))
    got = [[float(v) for v in sol.quantities[f"states.h[{t}]"].items] for t in (1, 2)]
    want = gru_floats(XS, inp, rec, bias, naming == "goodfellow")
    assert all(abs(u - v) < 1e-9 for a, b in zip(got, want) for u, v in zip(a, b))
    ans = {a.name: a.value for a in sol.answers}
    # 3·n·(d + n) = 24 weights; PyTorch + 3·2n = 12 → 36; Keras (two biases per gate) + 12 → 36
    assert ans["GRU parameters (PyTorch)"] == 36 and ans["GRU parameters (Keras)"] == 36
    assert isinstance(sol.quantities["states.h[1]"], Tensor)


# ---- the candidate's weights: W_c (Keras's and the book's letter) or W_g (PyTorch's, and the gate's name) ----

def spec_letters(naming, candidate_letter, rename=None):
    """spec(naming, A, B) with the candidate's weights named W_<letter>, U_<letter>, b_<letter>."""
    text = spec(naming, A, B)
    for p in "WUb":
        text = text.replace(f"  {p}_c:", f"  {p}_{candidate_letter}:")
    for old, new in (rename or {}).items():
        text = text.replace(f"  {old}:", f"  {new}:")
    return text


@pytest.mark.parametrize("naming", ["pytorch", "keras"])
def test_candidate_weights_may_be_called_w_g(naming):
    got, _, sol = states(spec_letters(naming, "g"))
    assert close(got, lstm_floats(XS, A, B, BIAS))
    assert "g_t = tanh(W_g · x + U_g · h_(t-1) + b_g)" in sol.steps[0].title


def spec_error(text):
    from examsolve.errors import SpecError
    with pytest.raises(SpecError) as e:
        solve(parse_spec(text, "l.yaml"))
    return e.value.message


def test_w_g_under_goodfellow_is_the_books_input_gate_so_it_is_refused_with_the_name_to_use():
    message = spec_error(spec_letters("goodfellow", "g"))
    assert "needs U_c" in message and "you gave U_g" in message and "input gate" in message
    assert "call the candidate's weight U_c" in message and "did you mean" not in message


def test_the_books_output_gate_q_is_named_as_the_weight_meant():
    message = spec_error(spec_letters("pytorch", "c", {"W_o": "W_q"}))
    assert "gate o (output gate) needs W_o" in message and "you gave W_q" in message and "call it W_o" in message


def test_both_letters_for_one_weight_are_refused():
    text = spec("pytorch", A, B).replace("  W_c:", f"  W_g: {A['c']}\n  W_c:")
    assert "both W_c and W_g" in spec_error(text)


def test_a_missing_weight_lists_the_presets_names():
    text = "\n".join(line for line in spec("keras", A, B).splitlines() if not line.startswith("  U_f"))
    message = spec_error(text + "\n")
    assert "gate f (forget gate) needs U_f, which is not given; give U_f under given." in message
    assert "naming: keras names the weights W_f, U_f, b_f, W_i" in message and "b_o (or W_g, U_g, b_g" in message


def test_gru_candidate_called_h_as_in_keras_is_named():
    lines = ["kind: rnn", "cell: gru", "naming: keras", "initial: 0", "sequences: {x: [1, 2]}", "ask:",
             "  - value: [h]", "given:"]
    for g in ("r", "z", "h"):
        lines += [f"  W_{g}: 1", f"  U_{g}: 1", f"  b_{g}: 0"]
    message = spec_error("\n".join(lines) + "\n")
    assert "needs W_n" in message and "you gave W_h (Keras's letter for the candidate): call it W_n" in message


def test_the_template_and_the_reference_name_the_lstm_weights():
    from importlib import resources
    template = resources.files("examsolve").joinpath("templates", "rnn.yaml").read_text("utf-8")
    assert "cell: lstm" in template and "W_c, U_c, b_c" in template and "W_g, U_g, b_g" in template
    from examsolve.families.rnn import naming_table
    table = naming_table()
    assert "`g = tanh(U_c·x + W_c·h + b_c)`" in table and "`n = tanh(W_n·x + b_n + r*(U_n·h + b_hn))`" in table
