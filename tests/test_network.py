"""The network family against hand arithmetic (the exam keys and closed forms written here)."""
from __future__ import annotations

import pytest
import sympy

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.errors import SolveError
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor


def _plain(v):
    """A shape answer (a vector of whole numbers) as the tuple text the hand results below are written in."""
    return "(" + ", ".join(str(x) for x in v.items) + ")" if isinstance(v, Tensor) else v


def answers(name):
    return {a.name: _plain(a.value) for a in solve(load_spec(str(ROOT / "problems" / name))).answers}


def run(text):
    return {a.name: _plain(a.value) for a in solve(parse_spec(text, "n.yaml")).answers}


def test_seed004_q2_shape():
    # (32 − 3)/1 + 1 = 30 → (8, 30, 30)
    assert answers("conv_shape.yaml")["output shape"] == "(8, 30, 30)"


def test_seed004_q5_conv_and_depthwise_separable():
    a = answers("conv_flops_depthwise.yaml")
    # (227 + 4 − 11)/4 + 1 = 56; (11·11·3 + 1)·64 = 23,296; 11·11·3·64·56·56 = 72,855,552
    assert a["output shape"] == "(64, 56, 56)" and a["parameters"] == 23296
    assert a["operations (inner_product_n)"] == 72855552
    # depthwise 3·(121 + 1) = 366, pointwise 64·(3 + 1) = 256; FLOPs 121·3·56·56 + 3·64·56·56
    assert a["parameters (compare)"] == 366 + 256 == 622
    assert a["operations (inner_product_n) (compare)"] == 1138368 + 602112 == 1740480


def test_seed000_q2_conv3d():
    a = answers("conv3d_stamps.yaml")
    # 27 weights × 2 bytes; (6−2)(6−2)(7−2) = 80 stamps per example, 240 for 3; same padding keeps 6×6×7
    assert a["parameter memory (fp16, bytes)"] == 54
    assert a["stamps per example"] == 80 and a["stamps for the batch of 3"] == 240
    assert a["output shape (compare)"] == "(6, 6, 7, 1)"
    # the exam's rule: 27 multiplications and 27 additions (the sum starting from 0) = 54
    assert a["operations per stamp (exam_each_op, last conv)"] == 54


def test_mlp_parameters():
    # (12·16 + 16) + 3·(16·16 + 16) + (16·3 + 3) = 208 + 816 + 51
    assert answers("mlp_params.yaml")["parameters"] == 1075


def test_receptive_fields():
    # four 3×3 stride-1 convolutions: 1 + 4·2 = 9
    conv = "  - {type: conv, filters: 1, kernel: 3, padding: 1}\n"
    assert run("kind: network\ninput: [1, 32, 32]\nlayers:\n" + conv * 4)["receptive field"] == 9
    # 7/2 conv, 3/2 pool, 3/1 conv: r = 7, 7 + 2·2 = 11, 11 + 2·4 = 19; jumps 2, 4, 4
    a = answers("receptive_field.yaml")
    assert a["receptive field"] == 19 and a["jump"] == 4


@pytest.mark.parametrize("rule,per_stamp", [("macs", 27), ("flops_2x", 54), ("mults_adds", 54),
                                            ("exam_each_op", 55)])
def test_operation_conventions_for_one_stamp_with_bias(rule, per_stamp):
    # 27 products and a bias: MACs 27; 2·27; 27 mults + 26 adds + 1 bias add; exam: 27 + 28
    a = run(f"kind: network\ninput: [1, 5, 5, 5]\nops: {rule}\nlayers:\n  - {{type: conv, filters: 1, kernel: 3}}\n")
    assert a[f"operations per stamp ({rule}, last conv)"] == per_stamp


def test_bad_layers_are_solve_errors():
    with pytest.raises(SolveError) as e:
        run("kind: network\ninput: [1, 4, 4]\nlayers:\n  - {type: conv, filters: 1, kernel: 7}\n")
    assert "kernel spans 7" in str(e.value) and str(e.value).startswith("n.yaml:4:")
    with pytest.raises(SolveError):
        run("kind: network\ninput: [4, 8, 8]\nlayers:\n  - {type: conv, filters: 3, kernel: 3, groups: 2}\n")


def test_vgg16_and_resnet18_match_torchvision():
    # torchvision publishes 138,357,544 (vgg16) and 11,689,512 (resnet18) parameters
    assert answers("vgg16.yaml")["parameters"] == 138357544
    r = answers("resnet18.yaml")
    assert r["parameters"] == 11689512
    # batch norm's running mean and variance: 2 per channel of every BN layer
    # channels of the 20 BN layers: 64 + 4·64 + (3·128) + (3·256) + (3·512)... counted by hand:
    # conv1 64; layer1 4×64; layer2 2×128 + 128 (projection) + 2×128; likewise for 256 and 512
    bn = 64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512
    assert r["non-trainable parameters"] == 2 * bn


@pytest.mark.parametrize("d,n", [(5, 4), (3, 7), (10, 2)])
def test_recurrent_layers_in_both_frameworks(d, n):
    def params(framework, layer):
        return run(f"kind: network\ninput: [6, {d}]\nframework: {framework}\n"
                   f"layers:\n  - {{type: {layer}, units: {n}}}\n")["parameters"]
    w = n * (d + n)
    assert params("keras", "lstm") == 4 * (w + n) and params("pytorch", "lstm") == 4 * (w + 2 * n)
    assert params("keras", "gru") == 3 * (w + 2 * n) == params("pytorch", "gru")
    assert params("keras", "simple_rnn") == w + n and params("pytorch", "simple_rnn") == w + 2 * n


def test_inverse_question_rejects_a_total_with_no_whole_size():
    # 4·(n(5 + n) + n) = 161 has no whole root
    with pytest.raises(SolveError) as e:
        run("kind: network\ninput: [10, 5]\nframework: keras\nunknown: {name: n, parameters: 161}\n"
            "layers:\n  - {type: lstm, units: n}\n")
    assert "no positive whole solution" in str(e.value)


def test_exact_sizes_refuses_a_fractional_output():
    # (32 + 0 − 3)/2 = 14.5
    text = "kind: network\ninput: [1, 32, 32]\nexact_sizes: true\nlayers:\n  - {type: conv, filters: 1, kernel: 3, stride: 2}\n"
    with pytest.raises(SolveError) as e:
        run(text)
    assert "not a whole number" in str(e.value)
    assert run(text.replace("exact_sizes: true", "exact_sizes: false"))["output shape"] == "(1, 15, 15)"


def test_other_layers():
    # transposed conv: (16 − 1)·2 − 2·1 + (3 − 1) + 1 + 1 = 32; params 8·4·9 + 4
    a = run("kind: network\ninput: [8, 16, 16]\nlayers:\n"
            "  - {type: conv_transpose, filters: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1}\n")
    assert a["output shape"] == "(4, 32, 32)" and a["parameters"] == 8 * 4 * 9 + 4
    # ceil mode: ceil((5 − 2)/2) + 1 = 3 (floor gives 2)
    a = run("kind: network\ninput: [1, 5, 5]\nlayers:\n  - {type: pool, kernel: 2, stride: 2, ceil_mode: true}\n")
    assert a["output shape"] == "(1, 3, 3)"
    # embedding 1000 × 16 then an LSTM of 8 units (PyTorch): 16000 + 4·(8·24 + 16)
    a = run("kind: network\ninput: [20]\nlayers:\n  - {type: embedding, vocab: 1000, dim: 16}\n"
            "  - {type: lstm, units: 8}\n")
    assert a["parameters"] == 16000 + 4 * (8 * 24 + 16)
    # concat of a 1×1 conv (4) and a 3×3 conv (6) on 3 channels: 10 channels; (3·4 + 4) + (27·6 + 6)
    a = run("kind: network\ninput: [3, 8, 8]\nlayers:\n  - type: concat\n    branches:\n"
            "      - [{type: conv, filters: 4, kernel: 1}]\n      - [{type: conv, filters: 6, kernel: 3, padding: 1}]\n")
    assert a["output shape"] == "(10, 8, 8)" and a["parameters"] == 16 + 168
    # keras channels last and layer norm over the last axis: 2·32
    a = run("kind: network\ninput: [28, 28, 1]\nframework: keras\nlayers:\n"
            "  - {type: conv, filters: 32, kernel: 3}\n  - {type: layernorm}\n")
    assert a["output shape"] == "(26, 26, 32)" and a["parameters"] == 9 * 32 + 32 + 64


def test_residual_shapes_must_match():
    with pytest.raises(SolveError) as e:
        run("kind: network\ninput: [3, 8, 8]\nlayers:\n  - type: residual\n"
            "    layers: [{type: conv, filters: 4, kernel: 3, padding: 1}]\n")
    assert "shortcut gives" in str(e.value)


def test_receptive_field_per_layer():
    # 7/2 conv: r = 7, j = 2; 3/2 pool: r = 7 + 2·2 = 11, j = 4; 3/1 conv: r = 11 + 2·4 = 19, j = 4
    q = solve(load_spec(str(ROOT / "problems/receptive_field.yaml"))).quantities
    assert [q[f"layers.{i}.receptive_field"] for i in range(3)] == [7, 11, 19]
    assert [q[f"layers.{i}.jump"] for i in range(3)] == [2, 4, 4]


def test_weight_shapes_in_both_orders():
    # 8 filters over 3 channels, 3×3: PyTorch (out, in, kh, kw) = (8, 3, 3, 3); Keras (kh, kw, in, out) = (3, 3, 3, 8)
    torch = solve(load_spec(str(ROOT / "problems/conv_shape.yaml"))).quantities["layers.0.weight_shape"]
    keras = solve(parse_spec("kind: network\ninput: [32, 32, 3]\nframework: keras\nlayers:\n"
                             "  - {type: conv, filters: 8, kernel: 3}\n", "k.yaml")).quantities["layers.0.weight_shape"]
    assert list(torch.items) == [8, 3, 3, 3] and list(keras.items) == [3, 3, 3, 8]


GROUPED = """kind: network
input: [16, 32, 32]
layers:
  - {type: conv, filters: 32, kernel: 3, stride: 2, padding: 2, dilation: 2, groups: 4}
key: KEY
"""


def _grouped(tmp_path, key: str):
    from conftest import solve_text

    return solve_text(tmp_path, GROUPED.replace("KEY", key))


def test_macs_and_flops_of_one_layer_are_both_keyable(tmp_path):
    # groups 4: each filter sees 16/4 = 4 channels, 4·3·3 = 36 MACs per output value; output 32 × 16 × 16
    # ((32 + 2·2 − 2·(3 − 1) − 1) // 2 + 1 = 16): 8192 values → 294912 MACs, 2 × that = 589824 FLOPs
    sol = _grouped(tmp_path, '{"layers.0.macs": 294912, "layers.0.flops_2x": 589824, "operations (flops_2x)": 589824}')
    assert all(a.agrees is True for a in sol.answers if a.key is not None)


def test_a_key_that_forgets_groups_or_dilation_is_named(tmp_path):
    # parameters with groups forgotten: 16·3·3·32 + 32 = 4640 (right: 4·3·3·32 + 32 = 1184)
    a = next(a for a in _grouped(tmp_path, '{"parameters": 4640}').answers if a.name == "parameters")
    assert a.agrees is False and "groups ignored" in a.key_note
    # output size with dilation forgotten: (32 + 4 − 2 − 1) // 2 + 1 = 17 (right: 16)
    a = next(a for a in _grouped(tmp_path, '{"output shape": "(32, 17, 17)"}').answers if a.name == "output shape")
    assert a.agrees is False and "dilation ignored" in a.key_note


def _brute_field(layers: list, n: int) -> tuple[int, list]:
    """The most input pixels one output of the last layer depends on, by explicit sets of pixels on the unbounded
    grid (the recursion's convention): layers are (kind, k, s, p, d), kind 'conv' or 'tconv'."""
    import functools

    def deps(level: int, o: int) -> frozenset:
        if level == 0:
            return frozenset((o,))
        kind, k, s, p, d = layers[level - 1]
        if kind == "conv":
            feeding = [o * s - p + j * d for j in range(k)]
        else:   # o = i·s − p + j·d
            feeding = [(o + p - j * d) // s for j in range(k) if (o + p - j * d) % s == 0]
        return frozenset().union(*(deps(level - 1, i) for i in feeding))

    deps = functools.lru_cache(maxsize=None)(deps)
    sizes = [n]
    for kind, k, s, p, d in layers:
        m = sizes[-1]
        sizes.append((m - 1) * s - 2 * p + d * (k - 1) + 1 if kind == "tconv" else (m + 2 * p - d * (k - 1) - 1) // s + 1)
    fields = [deps(len(layers), o) for o in range(sizes[-1])]
    return max(max(f) - min(f) + 1 for f in fields if f), sizes


@pytest.mark.parametrize("layers", [
    [("tconv", 4, 2, 1, 1), ("tconv", 3, 2, 1, 1)],     # the probe's decoder: 2 pixels, then 3 (not 8)
    [("tconv", 3, 2, 1, 1), ("conv", 3, 1, 1, 1)],
    [("conv", 3, 2, 1, 1), ("tconv", 2, 2, 0, 1), ("conv", 3, 1, 1, 2)],
    [("tconv", 5, 3, 2, 1)],
])
def test_transposed_conv_receptive_field_is_counted_output_by_output(layers):
    want, sizes = _brute_field(layers, 8)
    spec = "kind: network\ninput: [1, 8, 8]\nlayers:\n" + "".join(
        f"  - {{type: {'conv' if kind == 'conv' else 'conv_transpose'}, filters: 1, kernel: {k}, stride: {s}, "
        f"padding: {p}, dilation: {d}}}\n" for kind, k, s, p, d in layers)
    q = solve(parse_spec(spec, "n.yaml")).quantities
    assert q["receptive field"] == want
    assert tuple(int(v) for v in q["output shape"].items)[1:] == (sizes[-1], sizes[-1])
    if layers[0] == ("tconv", 4, 2, 1, 1):
        assert want == 3 and q["layers.0.receptive_field"] == 2
        assert q["jump"] == sympy.Rational(1, 4)


@pytest.mark.parametrize("k, s, p, d, n", [(4, 2, 1, 1, 8), (3, 2, 1, 1, 5), (5, 3, 2, 1, 6), (3, 2, 0, 2, 6),
                                           (1, 2, 0, 1, 4), (2, 3, 0, 1, 4)])
def test_transposed_conv_field_matches_the_zero_insertion_model(k, s, p, d, n):
    # independently: a transposed conv is a stride-1 conv (kernel k, dilation d) over the input with s − 1 zeros
    # put between its values and P = d(k − 1) − p zeros around; output o reads upsampled positions o + j·d, which
    # hold input i where o + j·d − P = i·s
    P = d * (k - 1) - p
    out = (n - 1) * s - 2 * p + d * (k - 1) + 1
    fields = [[(o + j * d - P) // s for j in range(k) if (o + j * d - P) % s == 0] for o in range(out)]
    want = max((max(f) - min(f) + 1 for f in fields if f), default=0)
    spec = (f"kind: network\ninput: [1, {n}]\nlayers:\n  - {{type: conv_transpose, filters: 1, kernel: {k}, "
            f"stride: {s}, padding: {p}, dilation: {d}}}\n")
    q = solve(parse_spec(spec, "n.yaml")).quantities
    assert q["receptive field"] == want


def test_transposed_conv_outputs_fed_by_no_input_see_nothing():
    # k = 1, s = 2, p = 1 on 2 pixels: output size (2 − 1)·2 − 2 + 1 = 1; output 0 would need input (0 + 1)/2,
    # no whole number: it is its bias alone, so the field is 0 pixels (no crash)
    spec = "kind: network\ninput: [1, 2, 2]\nlayers:\n  - {type: conv_transpose, filters: 1, kernel: 1, stride: 2, padding: 1}\n"
    sol = solve(parse_spec(spec, "n.yaml"))
    assert sol.quantities["receptive field"] == 0
    notes = " ".join(s.note for top in sol.steps for s in top.substeps if s.note)
    assert "fed by no input" in notes


def test_self_attention_layer_counts():
    # T = 10 tokens of d = 8, 2 heads: weights 4·8² = 256, biases 4·8 = 32; MACs 4·10·8² + 2·10²·8 = 2560 + 1600
    q = solve(parse_spec("kind: network\ninput: [10, 8]\nlayers:\n  - {type: self_attention, heads: 2}\n",
                         "n.yaml")).quantities
    assert q["parameters"] == 288 and q["layers.0.parameters_without_bias"] == 256
    assert q["layers.0.head_size"] == 4 and q["operations (macs)"] == 4160


@pytest.mark.parametrize("spec, message", [
    ("input: [10, 8]\nlayers:\n  - {type: self_attention, heads: 3}\n", "not divisible by heads = 3"),
    ("input: [3, 8, 8]\nlayers:\n  - {type: conv, filters: 2}\n  - {type: self_attention}\n", "sequence input"),
])
def test_self_attention_needs_a_sequence_and_whole_heads(spec, message):
    with pytest.raises(SolveError, match=message):
        solve(parse_spec("kind: network\n" + spec, "n.yaml"))
