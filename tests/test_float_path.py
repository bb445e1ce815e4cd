"""The float path (examsolve/floatpath.py) for large graphs: its values and gradients agree with the exact
path on every example (forced on), with 30-digit mpmath on large graphs, and it hands kinks, domain
errors and symbols back to the exact path. No timings here (bench/run.py times it)."""
from __future__ import annotations

import mpmath
import pytest
import sympy

from conftest import ROOT
from examsolve import floatpath, render, solve
from examsolve.errors import SolveError
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

GRAPH_KINDS = ("kind: graph", "kind: rnn", "kind: conv", "kind: mlp")
EXAMPLES = sorted(p.name for p in (ROOT / "problems").glob("*.yaml")
                  if any(k in p.read_text(encoding="utf-8") for k in GRAPH_KINDS))


def flat(v) -> list:
    """A value's entries (a tensor's row by row)."""
    return list(v.items) if isinstance(v, Tensor) else [v]


def close(a, b, rel: float = 1e-11) -> bool:
    """Two sympy values agree as numbers to rel (anything not a number must be equal)."""
    if not (getattr(a, "is_number", False) and getattr(b, "is_number", False)):
        return a == b
    x, y = complex(sympy.N(a, 30)), complex(sympy.N(b, 30))
    return abs(x - y) <= rel * max(abs(y), 1e-300)


@pytest.mark.parametrize("name", EXAMPLES)
def test_forced_float_path_agrees_with_exact(name, monkeypatch):
    """Every graph-based example, solved with the float path forced on (thresholds 0), gives the exact
    path's answers to 1e-11 (or hands the graph back: then they are the same answers)."""
    text = (ROOT / "problems" / name).read_text(encoding="utf-8")
    try:
        exact = solve(parse_spec(text, name))
    except SolveError:
        pytest.skip("the example is an error case")
    monkeypatch.setattr(floatpath, "FLOAT_NODES", -1)
    fast = solve(parse_spec(text, name))
    assert [a.name for a in fast.answers] == [a.name for a in exact.answers]
    for a, b in zip(fast.answers, exact.answers):
        xs, ys = flat(a.value), flat(b.value)
        assert len(xs) == len(ys), a.name
        assert all(close(x, y) for x, y in zip(xs, ys)), (name, a.name, xs[:4], ys[:4])
        assert a.agrees == b.agrees, (name, a.name)      # keys: the same verdict
    if not any(n.startswith("float path:") for n in fast.notes):
        pytest.skip("handed back to the exact path (a kink, a domain edge or a symbol)")


def chain(n: int) -> str:
    eqs = "\n".join(f"  a{i}: tanh(a{i - 1})" for i in range(1, n + 1))
    return f"kind: graph\ngiven:\n  a0: 0.5\nequations:\n{eqs}\nask:\n  - grad: {{of: a{n}, wrt: a0}}\n"


def test_long_chain_against_mpmath():
    """da_n/da_0 of a_i = tanh(a_{i-1}) is the product of (1 − a_i²), i = 1..n: 30 digits by mpmath."""
    n = floatpath.FLOAT_NODES + 100
    sol = solve(parse_spec(chain(n), "chain.yaml"))
    mp = mpmath.mp.clone()
    mp.dps = 30
    a, grad = mp.mpf("0.5"), mp.mpf(1)
    for _ in range(n):
        a = mp.tanh(a)
        grad *= 1 - a * a
    got = sol.answers[0].value
    assert isinstance(got, sympy.Float)
    assert abs(float(got) - float(grad)) <= 1e-12 * abs(float(grad))
    assert sol.answers[0].note == floatpath.PRECISION_NOTE
    assert any(n.startswith("float path:") for n in sol.notes)


def test_long_chain_shows_first_and_last_steps():
    """Past the threshold a run of one form shows its first 3 and last 2 steps and one summary step."""
    n = floatpath.FLOAT_NODES + 100
    sol = solve(parse_spec(chain(n), "chain.yaml"))
    forward = sol.steps[0].substeps
    titles = [s.title for s in forward]
    assert len(forward) == 3 + 1 + 2
    assert f"{n - 5} more steps of the same form, a4 … a{n - 2}" in titles[3]
    assert [s.target.name for s in forward if s.target is not None] == ["a1", "a2", "a3", f"a{n - 1}", f"a{n}"]
    text = render(sol, "terminal")
    assert text.count("more steps of the same form") == 2       # forward and backward


def test_dense_layer_against_mpmath():
    """y = tanh(W @ x + b) with more than FLOAT_EDGES edges: its Jacobian dy/dx is diag(1 − y²)·W, by mpmath."""
    width = 110         # 110 nodes of 221 parents each: 24,310 edges
    W = [[((i * 7 + j * 3) % 11 - 5) / 50 for j in range(width)] for i in range(width)]
    x = [((j * 5) % 7 - 3) / 4 for j in range(width)]
    # W @ x is a multiple of 1/200; b_i = k/10 + 0.0123 keeps every z_i off 0 (an exact 0 computed with rounding
    # sends the graph to the exact path: its float would have no correct digits)
    b = [((i * 3) % 5 - 2) / 10 + 0.0123 for i in range(width)]
    text = (f"kind: graph\ngiven:\n  W: {W}\n  x: {x}\n  b: {b}\nequations:\n  y: tanh(W @ x + b)\n"
            "ask:\n  - jacobian: {of: y, wrt: x}\n")
    sol = solve(parse_spec(text, "dense.yaml"))
    J = sol.answers[0].value
    mp = mpmath.mp.clone()
    mp.dps = 30
    worst = 0.0
    for i in range(width):
        z = mp.fsum(mp.mpf(W[i][j]) * mp.mpf(x[j]) for j in range(width)) + mp.mpf(b[i])
        d = 1 - mp.tanh(z) ** 2
        for j in (0, 1, width // 2, width - 1):
            want = d * mp.mpf(W[i][j])
            worst = max(worst, abs(float(J.items[i * width + j]) - float(want)))
    assert worst < 1e-14
    assert floatpath.PRECISION_NOTE in sol.answers[0].note


def big_relu(arg: str, n: int = floatpath.FLOAT_NODES + 10) -> str:
    eqs = "\n".join(f"  a{i}: a{i - 1} + 0*x" for i in range(1, n + 1))
    return (f"kind: graph\ngiven:\n  x: 1\n  a0: 0\nequations:\n{eqs}\n  r: {arg}\n"
            "ask:\n  - grad: {of: r, wrt: x}\n")


def test_kink_goes_back_to_the_exact_path():
    """relu at exactly 0 on a large graph: the float path cannot tell 0 from rounding, so the exact path
    answers with its convention (relu'(0) = 0 by default)."""
    sol = solve(parse_spec(big_relu(f"relu(a{floatpath.FLOAT_NODES + 10} * x)"), "k.yaml"))
    assert sol.answers[0].value == 0 and not any(n.startswith("float path:") for n in sol.notes)


def test_domain_error_goes_back_to_the_exact_path():
    """log(0) on a large graph is the exact path's error, naming the operation."""
    with pytest.raises(SolveError, match="log"):
        solve(parse_spec(big_relu(f"log(a{floatpath.FLOAT_NODES + 10})"), "d.yaml"))


def test_value_of_a_cancelled_division_is_refused():
    """(a − a)/(a − a) is 0/0 as written even though sympy cancels it: the float path does not answer 1."""
    with pytest.raises(SolveError):
        solve(parse_spec(big_relu(f"(a1 - a2)/(a1 - a2) * x"), "z.yaml"))


def test_forward_values_and_partials_of_one_expression():
    """value_and_partials on x·y + sin(x)/y at (2, 4): value 8 + sin 2/4, ∂x = y + cos 2/4, ∂y = x − sin 2/16."""
    import math

    x, y = sympy.symbols("x y", real=True)
    v, g, err = floatpath.value_and_partials(x * y + sympy.sin(x) / y, {x: 2.0, y: 4.0})
    assert 0 < err < 1e-14          # rounding of a few operations on numbers about 8
    assert v == pytest.approx(8 + math.sin(2) / 4, rel=1e-15)
    assert g[x] == pytest.approx(4 + math.cos(2) / 4, rel=1e-15)
    assert g[y] == pytest.approx(2 - math.sin(2) / 16, rel=1e-15)


def forced(text: str, monkeypatch):
    """The solution of a spec with the float path forced on (thresholds below any graph)."""
    monkeypatch.setattr(floatpath, "FLOAT_NODES", -1)
    return solve(parse_spec(text, "forced.yaml"))


def on_float_path(sol) -> bool:
    return any(n.startswith("float path:") for n in sol.notes)


def test_kink_within_rounding_goes_to_the_exact_path(monkeypatch):
    """w @ v = 0.67·10⁴ + 0.72·10⁴ − 1.39·10⁴ is exactly 0, but float64 gives about 1.8e-12 (the products
    round): an absolute tolerance would take relu's active side and answer dL/dw = 2·x·v = 200000 each.
    Exactly, r = relu(0) = 0 and relu'(0) = 0 by the default convention, so dL/dw = (0, 0, 0)."""
    text = ("kind: graph\ngiven: {x: 20, w: [0.67, 0.72, -1.39], v: [10000, 10000, 10000]}\n"
            "equations:\n  r: relu(w @ v)\n  L: x*r\nask:\n  - grad: {of: L, wrt: w}\n")
    sol = forced(text, monkeypatch)
    assert not on_float_path(sol)
    assert list(sol.answers[0].value.items) == [0, 0, 0]


def test_kink_far_from_rounding_stays_on_the_float_path(monkeypatch):
    """relu(a) with a = 1e-13 computed exactly (a product of two exact floats' worth of error, ~1e-29): the
    float path may trust the sign; dL/da = 1 and L = 1e-13 (by hand)."""
    text = ("kind: graph\ngiven: {a: 1e-13, s: 1}\nequations:\n  r: relu(a*s)\nask:\n"
            "  - value: r\n  - grad: {of: r, wrt: a}\n")
    sol = forced(text, monkeypatch)
    assert on_float_path(sol)
    assert float(sol.answers[0].value) == pytest.approx(1e-13, rel=1e-15)
    assert float(sol.answers[1].value) == 1.0


def test_saturated_tanh_and_sigmoid_keep_their_digits(monkeypatch):
    """L = tanh(x) + σ(2x) at x = 20: dL/dx = sech²(20) + 2σ(40)σ(−40), by mpmath at 30 digits (≈ 2.55e-17);
    1 − tanh² and σ(1 − σ) round to exactly 0 there."""
    text = ("kind: graph\ngiven: {x: 20}\nequations:\n  L: tanh(x) + sigmoid(2*x)\nask:\n"
            "  - grad: {of: L, wrt: x}\n")
    sol = forced(text, monkeypatch)
    assert on_float_path(sol)
    mp = mpmath.mp.clone()
    mp.dps = 30
    s = lambda z: 1 / (1 + mp.exp(-z))       # noqa: E731
    want = 1 / mp.cosh(20) ** 2 + 2 * s(40) * s(-40)
    assert float(sol.answers[0].value) == pytest.approx(float(want), rel=1e-13)


def test_a_float_zero_stays_a_float():
    """0.0 from float arithmetic reads ≈ 0, not an exact 0."""
    z = floatpath.as_sympy(0.0)
    assert isinstance(z, sympy.Float) and z.is_zero


def test_underflow_goes_to_the_exact_path(monkeypatch):
    """exp(−800) is about 3.6e-348, below float64: it is not 0, so the exact path answers e^(−800)."""
    text = "kind: graph\ngiven: {x: -800}\nequations:\n  y: exp(x)\nask:\n  - value: y\n"
    sol = forced(text, monkeypatch)
    assert not on_float_path(sol)
    assert sol.answers[0].value == sympy.exp(-800)


def test_a_tiny_constant_is_not_zero():
    """1/10**400 does not fit a float64; it is not 0 either."""
    with pytest.raises(floatpath.NeedsExact):
        floatpath.constant(sympy.Rational(1, 10 ** 400))


def test_max_tie_within_rounding_goes_to_the_exact_path(monkeypatch):
    """max(0.1 + 0.2, 0.3) is a tie exactly (3/10 both), though float64 gives 0.30000000000000004 > 0.3: the
    exact path splits the gradient by its convention instead of giving all of it to the first argument."""
    text = ("kind: graph\ngiven: {a: 0.1, b: 0.2, c: 0.3}\nequations:\n  m: max(a + b, c)\nask:\n"
            "  - grad: {of: m, wrt: [a, c]}\n")
    exact = solve(parse_spec(text, "t.yaml"))
    sol = forced(text, monkeypatch)
    assert not on_float_path(sol)
    assert [a.value for a in sol.answers] == [a.value for a in exact.answers]


def test_a_value_without_enough_correct_digits_goes_to_the_exact_path(monkeypatch):
    """Float values whose rounding-error bound is not small against them are not shown: tan(π/2) (a pole:
    the exact path says there is no value), (tanh(70) − 1)·10⁶¹ (1 − tanh 70 = 2/(e¹⁴⁰ + 1) ≈ 3.16e-61 is lost
    in tanh's rounding: −3.16084…, by mpmath) and sin(10²²) (the argument's rounding is larger than 2π)."""
    pole = "kind: graph\ngiven: {x: pi/2}\nequations:\n  t: tan(x)\nask:\n  - value: t\n"
    monkeypatch.setattr(floatpath, "FLOAT_NODES", -1)
    with pytest.raises(SolveError):
        solve(parse_spec(pole, "p.yaml"))
    lost = "kind: graph\ngiven: {x: 70}\nequations:\n  e: (tanh(x) - 1)*10**61\nask:\n  - value: e\n"
    sol = solve(parse_spec(lost, "l.yaml"))
    mp = mpmath.mp.clone()
    mp.dps = 100        # 1 − tanh 70 ≈ 3e-61: 50 digits would round tanh 70 to 1 as float64 does
    assert not on_float_path(sol)
    assert float(sympy.N(sol.answers[0].value, 30)) == pytest.approx(float((mp.tanh(70) - 1) * mp.mpf(10) ** 61),
                                                                    rel=1e-12)
    big = "kind: graph\ngiven: {x: 10**22}\nequations:\n  h: sin(x)\nask:\n  - value: h\n"
    assert not on_float_path(solve(parse_spec(big, "b.yaml")))


def test_a_subnormal_value_goes_to_the_exact_path(monkeypatch):
    """exp(−700)·10⁻¹⁰ ≈ 9.86e-315 is below float64's normal range (fewer digits): the exact path answers."""
    text = "kind: graph\ngiven: {x: -700}\nequations:\n  e: exp(x)/10**10\nask:\n  - value: e\n"
    sol = forced(text, monkeypatch)
    assert not on_float_path(sol) and sol.answers[0].value == sympy.exp(-700) / 10 ** 10
