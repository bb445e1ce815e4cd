"""clip(x, lo, hi) = min(max(x, lo), hi): values, and derivatives by cases (inside: the slope; outside: 0)."""
from __future__ import annotations

import sympy

from examsolve import solve
from examsolve.spec import parse_spec


def _answers(text: str) -> dict:
    return {a.name: a.value for a in solve(parse_spec(text, "t.yaml")).answers}


def _grad_at(x: str) -> sympy.Expr:
    a = _answers(f"kind: graph\ngiven: {{x: {x}, w: 2}}\nequations:\n  y: clip(w*x, -1, 1)\n  L: y**2\n"
                 "ask:\n  - grad: {of: L, wrt: [x]}\n")
    return a["dL/dx"]


def test_clip_inside_passes_the_gradient():
    # w·x = 0.6 inside [−1, 1]: L = (wx)², dL/dx = 2·wx·w = 2·0.6·2 = 2.4
    assert _grad_at("0.3") == sympy.Rational(12, 5)


def test_clip_outside_stops_the_gradient():
    # w·x = 1.6 > 1 and −1.6 < −1: y is constant (±1), dL/dx = 0
    assert _grad_at("0.8") == 0 and _grad_at("-0.8") == 0


def test_clip_of_a_symbol_is_by_cases():
    # ∂clip(2x, −1, 1)/∂x = 2 for −1/2 < x < 1/2, 0 outside
    a = _answers("kind: graph\nsymbols: [x]\nequations:\n  y: clip(2*x, -1, 1)\nask:\n  - grad: {of: y, wrt: [x]}\n")
    g = a["dy/dx"]
    assert g.has(sympy.Piecewise)
    x = sympy.Symbol("x")
    for point, want in ((sympy.Rational(1, 4), 2), (sympy.Rational(-1, 4), 2), (1, 0), (-1, 0)):
        assert g.xreplace({s: point for s in g.free_symbols if s.name == "x"}).doit() == want, point


def test_clip_values():
    a = _answers("kind: graph\ngiven: {x: 5}\nequations:\n  y: clip(x, 0, 3)\n  z: clip(-x, 0, 3)\nask:\n  - value: [y, z]\n")
    assert a["y"] == 3 and a["z"] == 0
