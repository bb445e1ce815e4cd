"""init: gains against PyTorch's calculate_gain table, fans read from weight shapes in each framework's order,
the scheme formulas written out by hand, and the bias."""
from __future__ import annotations

import math

import pytest

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.errors import SpecError
from examsolve.spec import parse_spec

# torch.nn.init.calculate_gain (PyTorch docs, "torch.nn.init"):
#   Linear / Identity, Conv{1,2,3}D, Sigmoid: 1;  Tanh: 5/3;  ReLU: √2;
#   Leaky ReLU: √(2 / (1 + negative_slope²));  SELU: 3/4
TORCH_GAIN = {"linear": 1.0, "conv": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2.0),
              "leaky_relu": math.sqrt(2.0 / (1 + 0.01**2)), "selu": 0.75}


def _answers(text: str) -> dict:
    return {a.name: a.value for a in solve(parse_spec(text, "i.yaml")).answers}


@pytest.mark.parametrize("nonlinearity", list(TORCH_GAIN))
def test_gain_matches_pytorchs_table(nonlinearity):
    a = _answers(f"kind: init\nW: [20, 30]\nnonlinearity: {nonlinearity}\nschemes: [xavier]\n")
    assert float(a["gain (xavier)"]) == pytest.approx(TORCH_GAIN[nonlinearity], rel=1e-12)
    # xavier_normal_: std = gain·√(2/(fan_in + fan_out)) with fan_in 30, fan_out 20
    std = TORCH_GAIN[nonlinearity] * math.sqrt(2 / (30 + 20))
    assert float(a["sigma (xavier)"]) == pytest.approx(std, rel=1e-12)
    # xavier_uniform_: a = gain·√(6/(fan_in + fan_out))
    assert float(a["uniform bound (xavier)"]) == pytest.approx(TORCH_GAIN[nonlinearity] * math.sqrt(6 / 50),
                                                               rel=1e-12)


def test_leaky_relu_slope():
    # negative_slope 0.2: √(2/(1 + 0.04)) = √(2/1.04) ≈ 1.386750
    a = _answers("kind: init\nW: [4, 4]\nnonlinearity: leaky_relu\nnegative_slope: 0.2\nschemes: [he]\n")
    assert float(a["gain (he)"]) == pytest.approx(math.sqrt(2 / 1.04), rel=1e-12)


@pytest.mark.parametrize("framework,shape,fans", [
    ("pytorch", [50, 100], (100, 50)),          # nn.Linear(100, 50).weight: (out, in)
    ("keras", [100, 50], (100, 50)),            # Dense(50) kernel on 100 inputs: (in, out)
    ("pytorch", [16, 8, 3, 3], (72, 144)),      # Conv2d(8, 16, 3).weight (out, in, k, k): 8·9, 16·9
    ("keras", [3, 3, 8, 16], (72, 144)),        # Conv2D(16, 3) kernel (k, k, in, out)
    ("pytorch", [6, 4, 5], (20, 30)),           # Conv1d(4, 6, 5): 4·5, 6·5
])
def test_fans_from_the_weight_shape(framework, shape, fans):
    a = _answers(f"kind: init\nW: {shape}\nframework: {framework}\nschemes: [lecun]\n")
    assert (a["fan_in"], a["fan_out"]) == fans
    # LeCun: Var = 1/fan_in
    assert a["variance (lecun)"] * fans[0] == 1


def test_he_defaults_and_modes():
    # kaiming_normal_ default (a = 0, leaky_relu): gain √2, std = √2/√fan_in; fan_in 30 → Var = 2/30 = 1/15
    a = _answers("kind: init\nW: [20, 30]\nschemes: [he]\n")
    assert a["variance (he)"] * 15 == 1
    # mode fan_out: 2/20 = 1/10
    a = _answers("kind: init\nW: [20, 30]\nschemes: [he]\nmode: fan_out\n")
    assert a["variance (he)"] * 10 == 1


def test_pytorch_default_weight_and_bias():
    # nn.Linear.reset_parameters: kaiming_uniform_(a=√5) → bound = √(6/((1 + 5)·fan_in)) = 1/√fan_in;
    # bias ~ U(−1/√fan_in, 1/√fan_in). fan_in 25 → both bounds 1/5, variances (1/5)²/3 = 1/75
    a = _answers("kind: init\nW: [10, 25]\nschemes: [pytorch_default]\nbias: pytorch_default\n")
    assert a["uniform bound (pytorch_default)"] * 5 == 1 and a["variance (pytorch_default)"] * 75 == 1
    assert a["bias uniform bound"] * 5 == 1 and a["bias variance"] * 75 == 1


def test_zero_bias_is_the_default_and_names_the_other():
    sol = solve(parse_spec("kind: init\nW: [10, 25]\nschemes: [xavier]\n", "i.yaml"))
    assert {a.name: a.value for a in sol.answers}["bias"] == 0
    assert sol.quantities["bias bound (pytorch_default)"] * 5 == 1     # 1/√25
    assert any("bias: zeros" in n for n in sol.notes)


def test_xavier_tanh_example():
    a = {x.name: x.value for x in solve(load_spec(str(ROOT / "problems" / "xavier_tanh.yaml"))).answers}
    # W (80, 120): fan_in 120, fan_out 80; (5/3)²·2/200 = 1/36; σ = 1/6; (25/9)/120 = 5/216
    assert (a["fan_in"], a["fan_out"]) == (120, 80)
    assert a["variance (xavier)"] * 36 == 1 and a["sigma (xavier)"] * 6 == 1 and a["variance (he)"] * 216 == 5


def test_shape_errors_are_spec_errors():
    with pytest.raises(SpecError) as e:
        solve(parse_spec("kind: init\nW: [10]\n", "i.yaml"))
    assert str(e.value).startswith("i.yaml:2:")
    with pytest.raises(SpecError):
        solve(parse_spec("kind: init\nW: [10, 20]\nfan_in: 3\nfan_out: 4\n", "i.yaml"))
    with pytest.raises(SpecError):
        solve(parse_spec("kind: init\nschemes: [xavier]\n", "i.yaml"))
