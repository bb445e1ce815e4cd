"""renderers.json.dumps writes what json.dumps(indent=2) writes; values.double_of and to_plain of doubles."""
from __future__ import annotations

import json
import math
import random

import pytest
import sympy

from examsolve.renderers.json import dumps
from examsolve.tensor import Tensor
from examsolve.values import double_of, printed_once, remembered_map, to_plain

CASES = [
    {}, [], {"a": []}, {"a": {}}, [[]], "s", 3, 2.0, None, True,
    [1.5, -0.0, 1e16, 1e-7, 2.5e300, 0.1],
    [1, True, False, None, "é\n\"x\\\t", 3.5, 2.0],
    {"x": [[1.0, 2.0], [3.0]], 1: "a", 2.5: None, True: 1, None: [[]], "deep": {"list": [{"k": [0.5]}]}},
    ("t", 1, (2.0,)),
    [[0.1] * 3, [], {}, [1, 2.0]],
]


@pytest.mark.parametrize("obj", CASES)
def test_dumps_writes_what_json_writes(obj):
    assert dumps(obj) == json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)


@pytest.mark.parametrize("bad", [[math.nan], [1.0, math.inf], {"a": -math.inf}, [1, math.inf]])
def test_dumps_refuses_nan_and_infinity_as_json_does(bad):
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        dumps(bad)


def test_dumps_refuses_what_json_cannot_write():
    with pytest.raises(TypeError):
        dumps([object()])
    with pytest.raises(TypeError):
        dumps({(1, 2): 3})


def test_double_of_is_the_double_a_float_holds():
    rng = random.Random(5)
    for _ in range(2000):
        v = rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300)
        assert double_of(sympy.Float(v, 15)) == v
        assert to_plain(sympy.Float(v, 15)) == v
    assert double_of(sympy.Float(0.0, 15)) == 0.0
    assert double_of(sympy.Float("0.1", 30)) is None           # more bits than a double
    assert double_of(sympy.Float("1e-320", 15)) is None        # below a double's normal range
    assert double_of(sympy.Float("1e400", 15)) is None         # beyond it
    assert double_of(sympy.Rational(1, 2)) is None
    assert isinstance(to_plain(sympy.Float("1e400", 15)), str)  # a string, as before: JSON has no Infinity


def test_remembered_map_computes_once_per_object():
    calls = []

    def f(x):
        calls.append(x)
        return float(x)

    a, b = sympy.Float(0.5, 15), sympy.Float(0.25, 15)
    t = Tensor((3,), (a, b, a))
    with printed_once():
        assert remembered_map(f, t).items == (0.5, 0.25, 0.5)
        assert remembered_map(f, Tensor((1,), (b,))).items == (0.25,)
    assert calls == [a, b]
    remembered_map(f, t)            # no memo outside printed_once
    assert len(calls) == 5
