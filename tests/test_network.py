"""The network family against hand arithmetic (the exam keys and closed forms written here)."""
from __future__ import annotations

import pytest

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.errors import SolveError
from examsolve.spec import parse_spec


def answers(name):
    return {a.name: a.value for a in solve(load_spec(str(ROOT / "problems" / name))).answers}


def run(text):
    return {a.name: a.value for a in solve(parse_spec(text, "n.yaml")).answers}


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
