"""The float path's error bounds past the forward pass: gradients (local partials and adjoint sums),
products that underflow, updates that cancel, and 30-digit Jacobian entries that cancel. Expected values
are by hand, by fractions or by mpmath at 50 digits; a number the float path cannot vouch for to 9 digits
is answered by the exact path."""
from __future__ import annotations

import math
import sys
from fractions import Fraction

import mpmath
import pytest
import sympy

from conftest import ROOT
from examsolve import engine, floatpath, solve
from examsolve.errors import SolveError
from examsolve.spec import parse_spec
from examsolve.tensor import Tensor

PAD = floatpath.FLOAT_NODES + 1      # a tanh chain this long puts any graph on the float path

mp = mpmath.mp.clone()
mp.dps = 50


def padded(given: dict, equations: dict, asks: list[str], key: dict | None = None, n: int = PAD) -> str:
    """A graph spec past the float path's threshold: a tanh chain a1..a_n from a0 = 0.5 beside the given
    values, equations, asks and key."""
    lines = ["kind: graph", "given:", "  a0: 0.5"] + [f"  {k}: {v}" for k, v in given.items()]
    lines += ["equations:"] + [f"  a{i}: tanh(a{i - 1})" for i in range(1, n + 1)]
    lines += [f"  {k}: {v}" for k, v in equations.items()]
    lines += ["ask:"] + [f"  - {a}" for a in asks]
    if key:
        lines += ["key:"] + [f"  {k}: {v}" for k, v in key.items()]
    return "\n".join(lines) + "\n"


def on_float_path(sol) -> bool:
    return any(n.startswith("float path:") for n in sol.notes)


def steps_text(sol) -> str:
    """Every step's title, depth first."""
    out, stack = [], list(sol.steps)
    while stack:
        s = stack.pop()
        out.append(s.title)
        stack.extend(s.substeps)
    return "\n".join(out)


def answer(sol, name: str):
    return next(a for a in sol.answers if a.name == name)


def quantity(sol, name: str):
    q = sol.quantities[name]
    return getattr(q, "value", q)


# ---- gradients: cancellation in a node's partials ------------------------------------------------------

def test_a_gradient_that_cancels_is_answered_exactly():
    """∂(w² − 2cw + a)/∂w = 2(w − c) = 2·10⁻¹² at w = 1.000000000001, c = 1 (fractions); float64 gives
    2.00018e-12 (2w and 2c each round), so the exact path answers: the right key agrees, a key matching the
    float's noise does not."""
    want = 2 * (Fraction("1.000000000001") - 1)
    assert want == Fraction(1, 500_000_000_000)
    for key, agrees in (("2.0000e-12", True), ("2.0002e-12", False)):
        sol = solve(parse_spec(padded({"w": "1.000000000001", "c": 1}, {"L": f"w**2 - 2*c*w + a{PAD}"},
                                      ["grad: {of: L, wrt: w}"], {"dL/dw": key}), "g.yaml"))
        a = sol.answers[0]
        assert a.value == sympy.Rational(want.numerator, want.denominator)
        assert a.agrees is agrees, key
        assert "computed exactly" in steps_text(sol)


def test_partial_bounds_cover_the_error_and_flag_the_cancellation():
    """value_and_partials' bound on ∂/∂w of w² − 2cw at the float w = 1.000000000001: the float result
    differs from 2(w − 1) (the float w, by fractions) by at most the bound, and the bound is more than 1e-9
    of the result (so it would not be shown)."""
    w, c = sympy.symbols("w c", real=True)
    x = 1.000000000001
    bounds: dict = {}
    _, g, _ = floatpath.value_and_partials(w ** 2 - 2 * c * w, {w: x, c: 1.0}, {w: 0.0, c: 0.0}, bounds)
    exact = 2 * (Fraction(x) - 1)
    assert abs(Fraction(g[w]) - exact) <= Fraction(bounds[w])
    assert bounds[w] > floatpath.MIN_RELATIVE * abs(g[w])


def test_partial_bounds_of_a_smooth_expression_are_tight_and_honest():
    """tanh(sin(x)·y) + exp(x)/y at (0.7, 1.3): each partial within its bound of mpmath's 50-digit value at
    the same floats, and the bound is a few units of rounding (1e-14 of it at most)."""
    x, y = sympy.symbols("x y", real=True)
    bounds: dict = {}
    _, g, _ = floatpath.value_and_partials(sympy.tanh(sympy.sin(x) * y) + sympy.exp(x) / y,
                                           {x: 0.7, y: 1.3}, {x: 0.0, y: 0.0}, bounds)
    X, Y = mp.mpf(0.7), mp.mpf(1.3)
    sech2 = 1 / mp.cosh(mp.sin(X) * Y) ** 2
    want = {x: sech2 * mp.cos(X) * Y + mp.exp(X) / Y, y: sech2 * mp.sin(X) - mp.exp(X) / Y ** 2}
    for s in (x, y):
        assert abs(mp.mpf(g[s]) - want[s]) <= bounds[s]
        assert bounds[s] <= 1e-14 * abs(g[s])


# ---- updates: an update that cancels, and the kink it then meets ----------------------------------------

def test_an_update_that_cancels_is_exact_and_the_kink_goes_the_right_way():
    """L = c·|w| + a: w⁽¹⁾ = 3/10 − 3·(1/10) = 0 exactly (fractions), then |w|'(0) = 0 by the default
    convention, so w⁽²⁾ = 0; float64 gives −5.55e-17 and then 0.3."""
    w1 = Fraction(3, 10) - 3 * Fraction(1, 10)
    assert w1 == 0
    sol = solve(parse_spec(padded({"w": 0.3, "c": 0.1}, {"L": f"c*abs(w) + a{PAD}"},
                                  ["update: {of: L, params: [w], lr: 3, steps: 2}"]), "u.yaml"))
    assert quantity(sol, "iterates.w[1]") == 0
    assert sol.answers[0].value == 0
    assert "iterations are computed exactly" in steps_text(sol)


def test_an_update_to_a_tiny_value_is_exact():
    """L = c·w + a with w = 1, c = 0.999999999999, α = 1: w⁽¹⁾ = 1 − c = 10⁻¹² (fractions), w⁽²⁾ = 10⁻¹² − c
    = −0.999999999998; float64 gives 9.99978e-13, whose key 1.0000e-12 disagreed."""
    c = Fraction("0.999999999999")
    w1 = 1 - c
    w2 = w1 - c
    sol = solve(parse_spec(padded({"w": 1, "c": "0.999999999999"}, {"L": f"c*w + a{PAD}"},
                                  ["update: {of: L, params: [w], lr: 1, steps: 2}"],
                                  {"w after 1 step": "1.0000e-12"}), "c.yaml"))
    assert quantity(sol, "iterates.w[1]") == sympy.Rational(w1.numerator, w1.denominator)
    assert answer(sol, "w after 2 steps").value == sympy.Rational(w2.numerator, w2.denominator)
    assert answer(sol, "w after 1 step").agrees is True


def test_momentum_updates_that_do_not_cancel_stay_on_the_float_path():
    """L = (w − 2)² + a, w = 0.5, α = 0.1, μ = 0.9, 3 steps: g = 2(w − 2), v ← μv + g, w ← w − αv, by
    fractions; the float path keeps it (nothing cancels) to 1e-12."""
    w, v = Fraction(1, 2), Fraction(0)
    for _ in range(3):
        v = Fraction(9, 10) * v + 2 * (w - 2)
        w = w - Fraction(1, 10) * v
    sol = solve(parse_spec(padded({"w": 0.5}, {"L": f"(w - 2)**2 + a{PAD}"},
                                  ["update: {of: L, params: [w], lr: 0.1, momentum: 0.9, steps: 3}"]), "m.yaml"))
    assert on_float_path(sol) and "computed exactly" not in steps_text(sol)
    got = sol.answers[0].value
    assert isinstance(got, sympy.Float)
    assert float(got) == pytest.approx(float(w), rel=1e-12)


# ---- underflow: a gradient past float64's range --------------------------------------------------------

def sigmoid_chain(n: int) -> str:
    eqs = "\n".join(f"  a{i}: sigmoid(a{i - 1})" for i in range(1, n + 1))
    return f"kind: graph\ngiven:\n  a0: 0.5\nequations:\n{eqs}\nask:\n  - grad: {{of: a{n}, wrt: a0}}\n"


def test_a_gradient_below_float64_is_not_zero():
    """∂a_n/∂a_0 of n = 2001 nested sigmoids from 0.5 is Π a_i(1 − a_i) ≈ 3.98490e-1298 (mpmath, 50 digits),
    far below float64's 2.2e-308: it was printed as ≈ 0. The product is kept with its exponent apart."""
    n = floatpath.FLOAT_NODES + 1
    a, grad = mp.mpf("0.5"), mp.mpf(1)
    for _ in range(n):
        a = 1 / (1 + mp.exp(-a))
        grad *= a * (1 - a)
    assert mpmath.nstr(grad, 6) == "3.9849e-1298"
    got = solve(parse_spec(sigmoid_chain(n), "s.yaml")).answers[0].value
    assert got != 0
    assert abs(mp.mpf(sympy.Float(got, 20)._mpf_) / grad - 1) < 1e-11


def test_wide_adjoints_of_an_underflowing_chain():
    """adjoints along a chain of partials 1e-200, 1e-200, 1e-200: 1e-600 (by hand), not 0."""
    order = ["b", "c", "d"]
    parent = {"a": "b", "b": "c", "c": "d", "d": None}
    adj, err = floatpath.adjoints("a", order, lambda n: [(parent[n], 1e-200, 0.0)] if parent[n] else [])
    v = floatpath.as_sympy(adj["d"])
    assert abs(float(sympy.N(v * sympy.Integer(10) ** 600, 20)) - 1) < 1e-13
    assert err["d"] <= 1e-13 * 1e-300 or isinstance(adj["d"], floatpath.Wide)


def test_adjoints_that_cancel_need_the_exact_path():
    """Two paths of +1 and −(1 − 2⁻⁵²) whose partials each carry an error bound of 1e-16: their sum 2⁻⁵² is
    not vouched for to 1e-9, so NeedsExact."""
    edges = {"y": [("h1", 1.0, 1e-16), ("h2", 1.0, 1e-16)], "h1": [("x", 1.0, 0.0)],
             "h2": [("x", -(1 - 2 ** -52), 0.0)], "x": []}
    with pytest.raises(floatpath.NeedsExact):
        floatpath.adjoints("y", ["h1", "h2", "x"], lambda n: edges[n])


def test_a_smooth_partial_that_underflows_is_not_zero(monkeypatch):
    """d tanh(x)/dx at x = 400 is sech²(400) ≈ 2.6e-347 (mpmath), below float64: not 0."""
    monkeypatch.setattr(floatpath, "FLOAT_NODES", -1)
    sol = solve(parse_spec("kind: graph\ngiven: {x: 400}\nequations:\n  t: tanh(x)\nask:\n"
                           "  - grad: {of: t, wrt: x}\n", "t.yaml"))
    want = 1 / mp.cosh(400) ** 2
    # the exact answer 1 − tanh(400)² cancels 347 digits: evalf needs the room to see them
    got = mp.mpf(sympy.N(sol.answers[0].value, 30, maxn=4000)._mpf_)
    assert got != 0 and abs(got / want - 1) < 1e-20


# ---- 30-digit Jacobians: an entry that cancels ---------------------------------------------------------

def jacobian_spec(n: int, extra: str = "") -> str:
    xs = [(i % 7) + 1 for i in range(n)]
    return (f"kind: graph\ngiven:\n  x: {xs}\nequations:\n  h: sqrt(2)*x\n  y: sqrt(3)*h - sqrt(6)*x{extra}\n"
            "ask:\n  - jacobian: {of: y, wrt: x}\n")


def test_a_jacobian_entry_that_cancels_is_decided_exactly():
    """y = √3·(√2·x) − √6·x is 0·x (by hand: √3·√2 = √6), so its 65 × 65 Jacobian (past the 4096 exact
    entries: 30-digit floats) is all 0; 30-digit arithmetic left ≈ 3e-36 on the diagonal."""
    n = 65
    assert n * n > engine.MAX_EXACT_ENTRIES
    J = solve(parse_spec(jacobian_spec(n), "j.yaml")).answers[0].value
    assert isinstance(J, Tensor) and J.shape == (n, n)
    assert all(x == 0 for x in J.items)
    assert all(J.items[i * n + i] == 0 and not isinstance(J.items[i * n + i], sympy.Float) for i in range(4, n))


def test_a_tiny_jacobian_entry_is_exact_to_its_digits():
    """y = √3·(√2·x) − √6·x + x/10⁴⁰ has ∂y_i/∂x_i = 10⁻⁴⁰ exactly (by hand), below the 30-digit
    arithmetic's noise on the cancelled terms: every diagonal entry is 1e-40 to 25 digits."""
    n = 65
    J = solve(parse_spec(jacobian_spec(n, " + x/10**40"), "j.yaml")).answers[0].value
    for i in range(n):
        d = J.items[i * n + i]
        assert abs(sympy.N(d * sympy.Integer(10) ** 40 - 1, 30)) < 1e-25, (i, d)
        assert all(J.items[i * n + j] == 0 for j in range(n) if j != i)


def test_a_jacobian_without_cancellation_keeps_its_30_digit_floats():
    """y = √3·(√2·x) + √6·x: ∂y_i/∂x_i = 2√6 ≈ 4.89897948556635619639456814942 (mpmath), a 30-digit float."""
    n = 65
    J = solve(parse_spec(jacobian_spec(n).replace("- sqrt(6)", "+ sqrt(6)"), "j.yaml")).answers[0].value
    want = 2 * mp.sqrt(6)
    for i in range(4, n):
        d = J.items[i * n + i]
        assert isinstance(d, sympy.Float) and abs(mp.mpf(d._mpf_) / want - 1) < 1e-29


# ---- the bench's graphs stay on the float path ---------------------------------------------------------

def bench_specs():
    sys.path.insert(0, str(ROOT / "bench"))
    import reference as ref
    import run as bench

    xs = [((t * 7) % 5 - 2) / 4 for t in range(2100)]
    W, x, b = bench.dense_data(150)
    sizes = (700, 30, 10)
    mx, my, mW, mb = bench.mlp_data(sizes)
    return [
        ("rnn", bench.rnn_spec(2100), lambda: ref.scalar_rnn(xs)),       # ∂L/∂h_t underflows far back in time
        ("dense", bench.dense_spec(150), lambda: ref.dense_jacobian(W, x, b, 64)),
        ("mlp", bench.mlp_spec(sizes), lambda: ref.mlp_sgd(mx, my, mW, mb, 0.5)),
        ("conv", bench.conv_spec(46), lambda: ref.conv_kernel_grad(bench.conv_input(46), bench.CONV_KERNEL)),
        ("chain", bench.chain_spec(PAD + 100), lambda: ref.tanh_chain(PAD + 100)),
    ]


@pytest.mark.parametrize("name", ["rnn", "dense", "mlp", "conv", "chain"])
def test_bench_like_graphs_stay_on_the_float_path(name):
    """Smaller copies of bench/run.py's engine rows (each past the float path's threshold) are answered on
    the float path, not handed to the exact one, and agree with plain float reverse mode to 1e-9."""
    from examsolve.tensor import Tensor as T

    text, reference = next((t, r) for n, t, r in bench_specs() if n == name)
    sol = solve(parse_spec(text, f"{name}.yaml"))
    assert on_float_path(sol)
    assert "computed exactly" not in steps_text(sol)
    got = [float(v) for a in sol.answers for v in (a.value.items if isinstance(a.value, T) else (a.value,))]
    want = reference()
    assert len(got) == len(want)
    assert all(math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-300) for g, w in zip(got, want))


def test_a_sum_that_cancels_past_30_digit_floats_is_refused_not_printed():
    """a_k = tanh(0.9·a_(k−1) + 0.01) from 0.5 converges to a fixed point c ≈ 0.0969456273…; after 60 steps the
    chain's value is a 30-digit float (past the exact budget), and a_60 − c with c given to 25 digits is ~1e-27
    (mpmath at 80 digits): 30-digit floats hold none of its digits, so examsolve must say so, not print noise."""
    import mpmath

    mpmath.mp.dps = 80
    a = mpmath.mpf("0.5")
    for _ in range(60):
        a = mpmath.tanh(mpmath.mpf("0.9") * a + mpmath.mpf("0.01"))
    c = mpmath.nstr(a, 25, strip_zeros=False)
    assert abs(a - mpmath.mpf(c)) < mpmath.mpf(10) ** -20
    eqs = "".join(f"  a{k}: tanh(w*a{k - 1} + 0.01)\n" for k in range(1, 61))
    text = f"kind: graph\ngiven: {{w: 0.9, a0: 0.5}}\nequations:\n{eqs}  d: a60 - {c}\nask:\n  - value: [d]\n"
    with pytest.raises(SolveError, match="a sum cancels"):
        solve(parse_spec(text, "c.yaml"))
