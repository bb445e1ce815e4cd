"""parse_both gives parse's value and its tree as written from one reading: the same trees, the same errors."""
from __future__ import annotations

import pytest
import sympy
import yaml

from conftest import PROBLEMS
from test_fastsym import same

from examsolve import expr
from examsolve.budget import BudgetError
from examsolve.errors import ExprError
from examsolve.tensor import Tensor

NAMES = {n: expr.symbol(n) for n in ("x", "y", "z", "w", "b", "h", "a", "u", "lam")}
NAMES["v"] = Tensor((3,), tuple(expr.symbol(f"v_{i}") for i in range(1, 4)))
NAMES["W"] = Tensor((2, 3), tuple(expr.symbol(f"W_{i}{j}") for i in range(1, 3) for j in range(1, 4)))
NAMES["c"] = Tensor((2,), tuple(expr.symbol(f"c_{i}") for i in range(1, 3)))
_x, _y, _z = NAMES["x"], NAMES["y"], NAMES["z"]
NAMES["s"] = _x + _y                                                          # a name bound to a sum
NAMES["q"] = sympy.Add(sympy.Add(_x, _y, evaluate=False), _z, evaluate=False)  # ... to a nested one as written
NAMES["m"] = sympy.Mul(sympy.Mul(2, _x, evaluate=False), _y, evaluate=False)
NAMES["t"] = Tensor((3,), (_x + _y, sympy.Mul(sympy.Mul(3, _y, evaluate=False), _z, evaluate=False), _z))

TEXTS = [
    "x", "2", "-x", "x - y", "y - x", "-(x - y)", "2*(x + 1)*y", "(x + y) + z", "x*y*2", "x/64", "(x + y)/64 + b",
    "tanh(x)", "tanh(-x)", "tanh(x - y)", "tanh(y - x)", "tanh(W @ v / 64 + c)", "sigmoid(W @ v + c)",
    "sum(v**2)/2", "sum(v**2)", "mean(v)", "norm(v)", "softmax(v)", "dot(v, v)", "v @ v", "W.T", "W[1]",
    "W[1, 2]", "v[0] + v[-1]", "v[1+1]", "x**2", "x**-1", "2**3000", "(2 - 1)**5000", "x**1001", "x // y",
    "x % y", "floor(x) + ceil(y)", "max(x, y, 0)", "min(v)", "clip(x, 0, 1)", "relu(x - y)", "lrelu(x)",
    "lrelu(x, 0.2)", "abs(x)", "sign(x)", "log(x)", "log(x, 2)", "sqrt(x**2 + y**2)", "exp(-x)",
    "sin(pi/2)", "cos(x)*sin(y)", "atan(x)", "softplus(x)", "0/0", "1/0", "log(0)", "sqrt(-1)", "tanh(sqrt(-1)*x)",
    "x + 0.5", "0.1 + 0.2", "1e-3*x", "lam*x", "lambda*x", "tanh(tanh(x))", "h*(1 - h)", "(x - 2)/(x - 2)",
    "unknown + 1", "sin", "x +", "[1, 2] + v", "v + W", "f(x)", "tanh(x, y)", "x if y else z", "x[0]",
    "sum(W @ v)", "W @ W", "exp(x)/sum(exp(v))", "-v", "+x", "2*-x", "x*(y + z)*2", "(x*y)**2", "(2*x)**2",
    "(x*y)*(z*w)", "-(-x)", "((x + y) + (z + w))*2", "tanh((x + y) + z)", "W @ (2*v)", "(2*W) @ v", "dot(2*v, v)",
    "sum(v) + sum(v)", "s", "q", "m", "s + z", "q + w", "m*w", "tanh(q)", "q**2", "t", "t + v", "t @ v", "sum(t)",
    "2*t", "dot(t, t)", "v @ t", "-q", "x - q", "m/m", "s*s", "[s, q, m]", "[[x, y], [z, w]] @ [x, y]",
]


def equations() -> list:
    out = []
    for p in PROBLEMS:
        data = yaml.safe_load(p.read_text())
        for v in (data.get("equations") or {}).values():
            if isinstance(v, str):
                out.append(v)
    return out


def outcome(f):
    try:
        return f(), None
    except Exception as e:  # noqa: BLE001
        return None, (type(e), str(e), getattr(e, "offset", None))


def same_value(a, b) -> bool:
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return isinstance(a, Tensor) and isinstance(b, Tensor) and a.shape == b.shape and \
            all(same(x, y) for x, y in zip(a.items, b.items))
    return same(a, b)


@pytest.mark.parametrize("text", TEXTS + [t for t in equations() if t not in TEXTS])
def test_parse_both_is_the_two_parses(text):
    got, err = outcome(lambda: expr.parse_both(text, NAMES, allow_free=True))
    want_v, err_v = outcome(lambda: expr.parse(text, NAMES, allow_free=True))
    want_d, err_d = outcome(lambda: expr.parse(text, NAMES, allow_free=True, evaluate=False))
    if err_v or err_d:
        assert err == (err_v or err_d)
        return
    assert err is None
    assert same_value(got[0], want_v) and same_value(got[1], want_d)


@pytest.mark.parametrize("text", ["tanh(W @ v / 64 + c)", "sum(v**2)/2", "x - y", "v[1]", "softmax(v)"])
def test_parse_both_reads_once(text):
    v, d = expr._parse_dual(text, NAMES, False)      # no fallback: side by side
    assert same_value(v, expr.parse(text, NAMES)) and same_value(d, expr.parse(text, NAMES, evaluate=False))


def test_fallback_errors_are_parses_own():
    with pytest.raises(ExprError) as e:
        expr.parse_both("x + nope", NAMES)
    assert "unknown name 'nope'" in e.value.message
    assert isinstance(expr.parse_both("2", NAMES)[0], sympy.Integer)


@pytest.mark.parametrize("raw", [
    [1, 2, 3], [[1, 2], [3, 4]], [0.5, -0.05, 1e-05, 2], [["0.5", "-3"], [" 7 ", "1e3"]], [[[1, 2]], [[3, 4]]],
    [-0.0, 0.0, 0, "-0"], [1.5, "1.5", 3, 3.0], [[1, 2], [3]], [1, True], [[1, 2], 3], ["x", 1], [1, [2]], [],
    [[]], ["1_0", 2], ["0.1234567890123456789012345678901234567890123456789012345678901234567"],
])
def test_number_lists_in_one_go(raw):
    """spec_expr's bulk path for lists of numbers gives what element-by-element parsing gives."""
    from examsolve import spec_graph

    class Spec:                       # only consulted for an error's position
        def loc(self, *path):
            return None

        def loc_at(self, path, offset):
            return None

        class model:
            equations = {}

    def run(**kw):
        return outcome(lambda: spec_graph.spec_expr(Spec(), raw, ("given", "W"), {}, **kw))

    bulk = spec_graph._number_tensor(raw)
    old = spec_graph._number_tensor
    try:
        spec_graph._number_tensor = lambda raw: None
        want = [run(), run(evaluate=False), run(both=True)]
    finally:
        spec_graph._number_tensor = old
    got = [run(), run(evaluate=False), run(both=True)]
    for (g, ge), (w, we) in zip(got, want):
        assert (ge is None) == (we is None) and (ge is None or ge[:2] == we[:2])
        if we is None:
            if isinstance(w, tuple):
                assert same_value(g[0], w[0]) and same_value(g[1], w[1])
            else:
                assert same_value(g, w)
    if bulk is not None:
        assert want[2][1] is None


@pytest.mark.parametrize("error", [BudgetError("the time limit of 1 s is over"), RuntimeError("a bug in DualOps")])
def test_other_errors_of_the_side_by_side_parse_propagate(monkeypatch, error):
    """Only the fallback's own cases are parsed again: a time budget running out (SIGALRM) or a bug is not."""
    def fail(self, *xs):
        raise error

    def parse(*args, **kwargs):
        raise AssertionError("parsed again after the side-by-side parse failed")

    monkeypatch.setattr(expr.DualOps, "add", fail)
    monkeypatch.setattr(expr, "parse", parse)
    with pytest.raises(type(error)) as got:
        expr.parse_both("x + y", NAMES)
    assert got.value is error
