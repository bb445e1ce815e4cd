"""network steps: every number a step computes is a quantity; weight, bias and padding shapes by hand."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.registry import load_all
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

EXAMPLES = [ROOT / "problems" / e for e in load_all()["network"].examples]


def _steps(steps):
    for s in steps:
        yield s
        yield from _steps(s.substeps)


def _labels(layers) -> list[str]:
    """Every layer's label as the steps print it (its name, or type and 1-based place), blocks included."""
    out = []
    for k, layer in enumerate(layers):
        out.append(layer.name or f"{layer.type} {k + 1}")
        out += _labels(layer.layers) + _labels(layer.projection)
        for branch in layer.branches:
            out += _labels(branch)
    return out


def _texts(v) -> set[str]:
    """A value's numbers as written: 8, 3/2; every element of a tensor."""
    items = v.items if isinstance(v, Tensor) else (v,)
    return {str(x) for x in items}


def _numbers(title: str, labels: list[str]) -> list[str]:
    """The numbers a title states, once layer labels and axis or branch places are taken out."""
    for label in sorted(labels, key=len, reverse=True):
        title = title.replace(label, "")
    title = re.sub(r"\b(axis|branch) \d+\b", "", title)
    return re.findall(r"(?<![\w.])\d+(?:/\d+)?(?!\w)", title)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_computed_number_is_addressable(path):
    spec = load_spec(str(path))
    labels = _labels(spec.model.layers) + _labels(spec.model.compare)
    sol = solve(spec)
    for s in _steps(sol.steps):
        values = set().union(*(_texts(v) for _, v in s.quantities)) if s.quantities else set()
        if s.value is not None or s.table is not None:
            assert s.target is not None or s.quantities, (path.name, s.title)
        if s.value is not None and s.target is None:
            assert any(v is s.value or v == s.value for _, v in s.quantities), (path.name, s.title)
        stray = [n for n in _numbers(s.title, labels) if n not in values]
        assert not stray, (path.name, s.title, stray)
        for name, _ in s.quantities:
            assert name in sol.quantities, (path.name, name)


def _q(text: str) -> dict:
    return solve(parse_spec(text, "n.yaml")).quantities


def _ints(v) -> list:
    assert isinstance(v, Tensor) and all(x.is_Integer for x in v.items)
    return [int(x) for x in v.items]


def test_grouped_conv_pytorch():
    # 8 → 16 channels in 4 groups: each filter sees 8/4 = 2 channels; weight (16, 2, 3, 3), bias (16,);
    # 16·2·3·3 + 16 = 288 + 16 = 304; padding given as 1 on both axes
    q = _q("kind: network\ninput: [8, 10, 10]\nlayers:\n"
           "  - {type: conv, filters: 16, kernel: 3, groups: 4, padding: 1}\n")
    assert _ints(q["layers.0.weight_shape"]) == [16, 2, 3, 3] and _ints(q["layers.0.bias_shape"]) == [16]
    assert q["layers.0.parameters"] == 304 and _ints(q["layers.0.padding"]) == [1, 1]


def test_depthwise_in_both_orders():
    # 3 channels, multiplier 2: PyTorch Conv2d(3, 6, 3, groups=3).weight is (6, 1, 3, 3);
    # Keras DepthwiseConv2D(3, depth_multiplier=2) depthwise_kernel is (3, 3, 3, 2); 6 biases
    layer = "layers:\n  - {type: depthwise_conv, kernel: 3, multiplier: 2}\n"
    torch = _q("kind: network\ninput: [3, 8, 8]\n" + layer)
    keras = _q("kind: network\ninput: [8, 8, 3]\nframework: keras\n" + layer)
    assert _ints(torch["layers.0.weight_shape"]) == [6, 1, 3, 3]
    assert _ints(keras["layers.0.weight_shape"]) == [3, 3, 3, 2]
    assert _ints(torch["layers.0.bias_shape"]) == [6] == _ints(keras["layers.0.bias_shape"])


def test_dense_orders_and_no_bias():
    # nn.Linear(5, 7).weight is (7, 5); a Keras Dense(7) kernel on 5 inputs is (5, 7); bias (7,)
    torch = _q("kind: network\ninput: [5]\nlayers:\n  - {type: dense, units: 7, name: fc}\n")
    keras = _q("kind: network\ninput: [5]\nframework: keras\nlayers:\n  - {type: dense, units: 7}\n")
    assert _ints(torch["layers.0.weight_shape"]) == [7, 5] and _ints(torch["layers.fc.weight_shape"]) == [7, 5]
    assert _ints(keras["layers.0.weight_shape"]) == [5, 7] and _ints(torch["layers.0.bias_shape"]) == [7]
    # without a bias: no bias values, a bias shape with 0 elements, 5·7 = 35 parameters
    none = _q("kind: network\ninput: [5]\nlayers:\n  - {type: dense, units: 7, bias: false}\n")
    assert none["layers.0.bias"] == 0 and _ints(none["layers.0.bias_shape"]) == [0]
    assert none["layers.0.parameters"] == 35


def test_keras_conv_and_transposed_conv():
    # Keras Conv2D(8, 5) on 3 channels: kernel (5, 5, 3, 8); PyTorch ConvTranspose2d(4, 6, 3).weight: (4, 6, 3, 3)
    keras = _q("kind: network\ninput: [32, 32, 3]\nframework: keras\nlayers:\n  - {type: conv, filters: 8, kernel: 5}\n")
    assert _ints(keras["layers.0.weight_shape"]) == [5, 5, 3, 8]
    up = _q("kind: network\ninput: [4, 5, 5]\nlayers:\n  - {type: conv_transpose, filters: 6, kernel: 3, stride: 2}\n")
    assert _ints(up["layers.0.weight_shape"]) == [4, 6, 3, 3]
    # (5 − 1)·2 − 0 + (3 − 1) + 0 + 1 = 11 per axis
    assert _ints(up["layers.0.output_size"]) == [11, 11]


def test_same_padding_is_resolved_per_axis():
    # kernel (3, 5), dilation 1: d·(k − 1)/2 = 1 and 2; the size stays 9 × 9
    q = _q("kind: network\ninput: [1, 9, 9]\nlayers:\n  - {type: conv, filters: 1, kernel: [3, 5], padding: same}\n"
           "  - {type: pool, kernel: 3, stride: 1, dilation: 2, padding: same}\n")
    assert _ints(q["layers.0.padding"]) == [1, 2] and q["layers.0.padding[1]"] == 2
    assert _ints(q["layers.0.output_size"]) == [9, 9]
    # dilation 2, kernel 3: 2·(3 − 1)/2 = 2 per side; (9 + 4 − 5)/1 + 1 = 9
    assert _ints(q["layers.1.padding"]) == [2, 2] and _ints(q["layers.1.output_size"]) == [9, 9]


def test_stamp_counts_and_start():
    # conv3d_stamps: 27 terms, no bias, each × and + counted from 0: 27 + 27 = 54 per stamp;
    # 'same' padding of a 3-kernel is 1 per side on all three axes
    q = solve(load_spec(str(ROOT / "problems" / "conv3d_stamps.yaml"))).quantities
    assert q["layers.0.terms_per_stamp"] == 27 and q["layers.0.operations_per_stamp"] == 54
    assert q["layers.0.operations_per_stamp.flops_2x"] == 54 and q["layers.0.operations_per_stamp.mults_adds"] == 53
    assert _ints(q["compare.0.padding"]) == [1, 1, 1]
    # start: 1/2 + ((3 − 1)/2 − 0)·1 = 3/2 without padding, 1/2 + (1 − 1)·1 = 1/2 with 'same'
    assert q["layers.0.start"] * 2 == 3 and q["compare.0.start"] * 2 == 1


def test_blocks_name_their_inner_layers():
    # resnet18: the first block's main path starts with a 3 × 3 conv 64 → 64 without bias: 64·64·9 = 36864;
    # the stride-2 block (layers.9 in the file) projects with a 1 × 1 conv 64 → 128: weight (128, 64, 1, 1)
    q = solve(load_spec(str(ROOT / "problems" / "resnet18.yaml"))).quantities
    assert q["layers.4.layers.0.parameters"] == 36864
    assert _ints(q["layers.4.layers.0.weight_shape"]) == [64, 64, 3, 3]
    proj = [n for n in q if re.fullmatch(r"layers\.\d+\.projection\.0\.weight_shape", n)]
    assert proj and _ints(q[proj[0]]) == [128, 64, 1, 1]


def test_json_has_the_new_quantities_as_integer_arrays():
    # conv_shape: 8 filters 3 × 3 over 3 channels, no padding, 32 → 30
    r = CliRunner().invoke(main, ["run", str(ROOT / "problems" / "conv_shape.yaml"), "--format", "json"])
    assert r.exit_code == 0, r.stderr
    q = {x["name"]: x for x in json.loads(r.stdout)["quantities"]}
    expected = {"weight_shape": [8, 3, 3, 3], "bias_shape": [8], "padding": [0, 0], "output_size": [30, 30]}
    for name, value in expected.items():
        got = q[f"layers.0.{name}"]
        assert got["type"] == "tensor" and got["value"] == value
        assert all(type(v) is int for v in got["value"])
    assert q["layers.0.operations_per_stamp"]["value"] == 27        # 3·3·3 terms, one MAC each
    assert q["layers.0.start"]["exact"] == "3/2"                    # 1/2 + (3 − 1)/2
