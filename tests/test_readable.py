"""An exact number too long to copy (Adam with ε = 1e-8) is shown by its decimal; JSON keeps it exact."""
from __future__ import annotations

import json
import math

from conftest import run_cli

ADAM = """kind: optimizer
params: {w: 0}
loss: (w - 3)**2
optimizer: {type: adam, lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8}
steps: 2
"""


def _adam_float() -> float:
    """Two Adam steps on (w − 3)² from 0, in plain floats."""
    w, m, v = 0.0, 0.0, 0.0
    for t in (1, 2):
        g = 2 * (w - 3)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w -= 0.1 * (m / (1 - 0.9 ** t)) / (math.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def _run(tmp_path, *fmt: str) -> str:
    return run_cli(tmp_path, ADAM, *fmt)


def test_a_long_exact_value_is_shown_by_its_decimal(tmp_path):
    want = f"{_adam_float():.6g}"                       # 0.199897
    out = _run(tmp_path)
    box = out[out.index("Answers"):]
    assert f"≈ {want}" in box and "sqrt(" not in box
    assert "sqrt(" not in _run(tmp_path, "--format", "latex").split(r"\paragraph{Answers}")[1]


def test_json_keeps_the_exact_value(tmp_path):
    d = json.loads(_run(tmp_path, "--format", "json"))
    a = next(a for a in d["answers"] if a["name"] == "w after 2 steps")
    assert "sqrt" in a["exact"] and abs(a["value"] - _adam_float()) < 1e-12


def test_short_exact_values_stay_exact(tmp_path):
    # step 1: m = 0.1·(−6) = −3/5, shown exactly beside its decimal
    assert "-3/5 ≈ -0.6" in _run(tmp_path)


def test_a_long_fraction_put_in_is_shown_as_its_decimal_and_the_result_stays_exact():
    import sympy

    from examsolve.renderers.lines import brief

    # 425259009679546882211105600970299/64000000240000000300000000125000 ≈ 6.644672001 (by long division)
    g = sympy.Rational(425259009679546882211105600970299, 64000000240000000300000000125000)
    put = sympy.Add(sympy.Mul(sympy.Rational(9, 10), sympy.Rational(4, 5), evaluate=False),
                    sympy.Mul(sympy.Rational(1, 10), g, evaluate=False), evaluate=False)
    short = brief(put)
    assert short.args[0] == put.args[0]                      # 9/10·4/5 kept as written, not folded to 18/25
    f = short.args[1].args[1]
    assert isinstance(f, sympy.Float) and abs(f - sympy.Float("6.644672001", 12)) < 1e-9
    assert brief(sympy.Rational(1, 3)) == sympy.Rational(1, 3)     # a short fraction stays
