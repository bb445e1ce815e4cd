"""network: receptive fields by brute force over the input positions that influence one output (dense layers
included), counts by layer type, batch norm's trainable and non-trainable values, depth, width and units,
differences to a compared stack, dropout's rate, and the answers that fit the layers present."""
from __future__ import annotations

import pytest

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.errors import SpecError
from examsolve.spec import parse_spec


def _solve(text: str):
    return solve(parse_spec(text, "n.yaml"))


def _q(text: str) -> dict:
    return _solve(text).quantities


def _names(text: str) -> list[str]:
    return [a.name for a in _solve(text).answers]


# ---- brute force: which input positions reach one output ------------------------------------------------------

def _conv1d(inputs: list[set], k: int, s: int, p: int) -> list[set]:
    """Each output position's set of input positions: the union over its window (padding reaches none)."""
    n = len(inputs)
    out = []
    for o in range((n + 2 * p - k) // s + 1):
        seen: set = set()
        for j in range(k):
            i = o * s - p + j
            if 0 <= i < n:
                seen |= inputs[i]
        out.append(seen)
    return out


def _span(seen: set) -> int:
    return max(seen) - min(seen) + 1


def _brute_1d(n: int, layers: list) -> list[int]:
    """The field (span of the influencing input positions) of output 0 after each layer; a dense unit reads all."""
    x = [{i} for i in range(n)]
    spans = []
    for kind, *sizes in layers:
        if kind == "dense":
            everything = set().union(*x)
            x = [everything]
            spans.append(_span(everything))
        else:
            k, s, p = sizes
            x = _conv1d(x, k, s, p)
            interior = x[len(x) // 2]   # an output away from the border: its window is not cut by padding
            spans.append(_span(interior))
    return spans


def _spec_1d(n: int, layers: list, convention: str = "whole_input") -> tuple[str, list[int]]:
    """The stack as a spec (a flatten before the first dense layer) and each layer's index in it."""
    lines = [f"kind: network\ninput: [1, {n}]\ndense_receptive_field: {convention}\nlayers:"]
    index, k, flat = [], 0, False
    for kind, *sizes in layers:
        if kind == "dense":
            if not flat:
                lines.append("  - {type: flatten}")
                k, flat = k + 1, True
            lines.append("  - {type: dense, units: 3}")
        else:
            t = "pool, mode: max" if kind == "pool" else "conv, filters: 2"
            lines.append("  - {{type: {}, kernel: {}, stride: {}, padding: {}}}".format(t, *sizes))
        index.append(k)
        k += 1
    return "\n".join(lines) + "\n", index


STACKS_1D = [
    (32, [("conv", 5, 1, 0), ("pool", 2, 2, 0), ("conv", 5, 1, 0), ("pool", 2, 2, 0), ("dense",), ("dense",)]),
    (40, [("conv", 3, 2, 1), ("conv", 3, 1, 1), ("pool", 2, 2, 0), ("dense",)]),
    # the last pool drops a position: 11 → conv 3/1 → 9 → pool 2/2 → 4 windows; input pixel 10 is never read
    (11, [("conv", 3, 1, 0), ("pool", 2, 2, 0), ("dense",)]),
    # stride larger than the kernel: gaps, and the span stops at the last position read
    (10, [("conv", 1, 3, 0), ("dense",)]),
]


@pytest.mark.parametrize("n,layers", STACKS_1D)
def test_receptive_field_after_every_layer_by_brute_force_1d(n, layers):
    text, index = _spec_1d(n, layers)
    q = _q(text)
    assert [q[f"layers.{k}.receptive_field"] for k in index] == _brute_1d(n, layers)


def test_brute_force_cases_by_hand():
    # 32: 5, 6, 14, 16 (the LeNet chain); a dense unit reads 5 positions centred at 8 + 4i, 16 wide: 0..31, 32
    assert _brute_1d(32, STACKS_1D[0][1]) == [5, 6, 14, 16, 32, 32]
    # 11 → 9 conv outputs → 4 pool windows over conv outputs 0..7 (output 8 is dropped), which read input
    # pixels 0..9: 10, not 11
    assert _brute_1d(11, STACKS_1D[2][1]) == [3, 4, 10]
    # kernel 1, stride 3 on 10: positions 0, 3, 6, 9 → span 10
    assert _brute_1d(10, STACKS_1D[3][1]) == [1, 10]


def test_dense_receptive_field_2d_by_brute_force():
    # 2-D: input 1 × 12 × 9, conv 3 × 3 stride 2 (no padding): rows (12 − 3)//2 + 1 = 5, cols (9 − 3)//2 + 1 = 4;
    # a dense unit reads all 5 × 4 positions; their windows start at 2i and 2j: rows 0..10, cols 0..8
    rows, cols = 12, 9
    seen = set()
    for i in range((rows - 3) // 2 + 1):
        for j in range((cols - 3) // 2 + 1):
            seen |= {(2 * i + a, 2 * j + b) for a in range(3) for b in range(3)}
    span = (max(r for r, _ in seen) - min(r for r, _ in seen) + 1, max(c for _, c in seen) - min(c for _, c in seen) + 1)
    assert span == (11, 9)
    q = _q("kind: network\ninput: [1, 12, 9]\nlayers:\n  - {type: conv, filters: 2, kernel: 3, stride: 2}\n"
           "  - {type: flatten}\n  - {type: dense, units: 4}\n")
    assert [int(v) for v in q["layers.2.receptive_field_per_axis"].items] == list(span)
    assert q["layers.2.receptive_field"] == 11 and q["layers.2.jump"] == 0
    assert q["layers.0.receptive_field"] == 3 and q["layers.1.receptive_field"] == 3   # flatten keeps it


def test_carried_convention_keeps_the_patch():
    # the old reading: conv 5 → pool 2/2 → 6, carried through flatten and dense unchanged
    layers = [("conv", 5, 1, 0), ("pool", 2, 2, 0), ("dense",)]
    q = _q(_spec_1d(32, layers, "carried")[0])
    assert q["layers.3.receptive_field"] == 6 and q["layers.3.receptive_field_if_whole_input"] == 32
    whole = _q(_spec_1d(32, layers)[0])
    assert whole["layers.3.receptive_field"] == 32 and whole["layers.3.receptive_field_if_carried"] == 6


def test_global_pooling_sees_the_whole_input():
    # conv 3 (padding 1) keeps 8; a global average reads all 8 × 8 positions, each with a 3-wide field clipped
    # to the input: 0..7, the whole 8
    q = _q("kind: network\ninput: [1, 8, 8]\nlayers:\n  - {type: conv, filters: 2, kernel: 3, padding: 1}\n"
           "  - {type: global_avg_pool}\n  - {type: flatten}\n  - {type: dense, units: 2}\n")
    assert q["layers.1.receptive_field"] == 8 and q["layers.3.receptive_field"] == 8


def test_lenet5_example():
    q = solve(load_spec(str(ROOT / "problems" / "lenet5.yaml"))).quantities
    # r: 5, 6, 14, 16 (flatten keeps 16), then 32 for every dense layer; the carried reading would say 16
    assert [q[f"layers.{k}.receptive_field"] for k in range(8)] == [5, 6, 14, 16, 16, 32, 32, 32]
    assert q["layers.C5.receptive_field_if_carried"] == 16
    # 6·25 + 6, 0, 16·6·25 + 16, 0, 0, 400·120 + 120, 120·84 + 84, 84·10 + 10
    assert [q[f"layers.{k}.parameters"] for k in range(8)] == [156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert q["parameters"] == 61706 and q["depth"] == 5


# ---- counts ----------------------------------------------------------------------------------------------------

def test_vgg16_bn_counts_against_the_framework_formulas():
    q = solve(load_spec(str(ROOT / "problems" / "vgg16_bn.yaml"))).quantities
    channels = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    # BatchNorm2d(C): weight γ and bias β trainable (2·C), running_mean and running_var buffers (2·C) — Keras
    # calls the latter non-trainable parameters; 13 layers, ΣC = 4224
    assert sum(channels) == 4224
    assert q["batchnorm layers"] == 13 and q["conv layers"] == 13 and q["dense layers"] == 3
    assert q["parameters (batchnorm)"] == 2 * 4224 == 8448
    assert q["non-trainable parameters (batchnorm)"] == 8448 and q["non-trainable parameters"] == 8448
    # Conv2d(c_in, c_out, 3): c_out·c_in·9 + c_out; Linear(i, o): i·o + o
    convs = sum(o * i * 9 + o for i, o in zip([3] + channels[:-1], channels))
    dense = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert convs == 14714688 and dense == 123642856
    assert q["parameters (compare)"] == convs + dense == 138357544
    assert q["parameters"] == convs + dense + 8448 == 138365992
    assert q["parameters (difference)"] == 8448 and q["non-trainable parameters (difference)"] == 8448
    assert q["batchnorm layers (difference)"] == 13 and q["depth (difference)"] == 0
    assert q["depth"] == 16 == q["depth (compare)"]     # 13 conv + 3 dense; batch norm is no weight layer
    assert q["operations (macs) (difference)"] == 0
    # layers.33 is the first dropout (13 conv + 13 batch norm + 5 pool + flatten + dense before it): rate 1/2,
    # kept values × 1/(1 − 1/2) = 2
    assert q["layers.33.rate"] * 2 == 1 and q["layers.33.keep_scale"] == 2


def test_resnet18_depth_and_batchnorm():
    q = solve(load_spec(str(ROOT / "problems" / "resnet18.yaml"))).quantities
    # conv1 + 8 blocks × 2 + fc = 18; the three 1 × 1 projections run beside their blocks
    assert q["depth"] == 18 and q["conv layers"] == 17 + 3
    # BN channels: 64 (stem) + 4·64 + 4·128 + 4·256 + 4·512 (two per block) + 128 + 256 + 512 (projections)
    total = 64 + 4 * 64 + 4 * 128 + 4 * 256 + 4 * 512 + 128 + 256 + 512
    assert q["batchnorm layers"] == 20 and q["parameters (batchnorm)"] == 2 * total == 9600


def test_mlp_depth_width_units():
    # 12 → 16, 16, 16, 16 → 3: five dense layers, four hidden; widest 16; 4·16 + 3 = 67 units, 79 with the inputs
    text = (ROOT / "problems" / "mlp_params.yaml").read_text()
    sol = _solve(text)
    q = sol.quantities
    assert q["depth"] == 5 and q["hidden layers"] == 4 and q["width"] == 16
    assert q["units"] == 67 and q["units with input"] == 79
    names = [a.name for a in sol.answers]
    assert {"width", "units", "depth", "dense layers"} <= set(names)
    assert not {"receptive field", "jump", "stamps per example"} & set(names)
    assert "layers.0.receptive_field" not in q     # an MLP has no field


def test_recurrent_network_has_no_field_or_stamps():
    names = _names("kind: network\ninput: [10, 5]\nlayers:\n  - {type: lstm, units: 4}\n  - {type: dense, units: 2}\n")
    assert "parameters" in names and not {"receptive field", "jump", "stamps per example"} & set(names)


def test_ask_selects_the_box_and_everything_stays_addressable():
    text = ("kind: network\ninput: [1, 8, 8]\nask: [layers.0.receptive_field, conv layers, parameters]\nlayers:\n"
            "  - {type: conv, filters: 2, kernel: 3}\n  - {type: conv, filters: 2, kernel: 3}\n")
    sol = _solve(text)
    # r = 3, then 3 + 2 = 5; 2·1·9 + 2 = 20 and 2·2·9 + 2 = 38
    assert [a.name for a in sol.answers] == ["layers.0.receptive_field", "conv layers", "parameters"]
    assert [a.value for a in sol.answers] == [3, 2, 58]
    assert sol.quantities["receptive field"] == 5 and sol.quantities["stamps per example"] == 2 * 36 + 2 * 16
    with pytest.raises(SpecError) as e:
        _solve(text.replace("conv layers", "conv layer"))
    assert "did you mean 'conv layers'" in str(e.value) and str(e.value).startswith("n.yaml:3:")


def test_dropout_rate_is_shown_without_parameters():
    q = _q("kind: network\ninput: [4]\nlayers:\n  - {type: dense, units: 3}\n  - {type: dropout, rate: 0.2}\n")
    # rate 1/5; kept values × 1/(1 − 1/5) = 5/4; no parameters
    assert q["layers.1.rate"] * 5 == 1 and q["layers.1.keep_scale"] * 4 == 5 and q["layers.1.parameters"] == 0
