"""Functions known only by name: several arguments, vector values (Jacobians), powers, in every renderer."""
from __future__ import annotations

import json

import pytest
import sympy
import yaml
from hypothesis import given, settings, strategies as st

from examsolve import load_spec, render, solve
from examsolve.expr import parse
from examsolve.functions import generic

FORMATS = ("terminal", "latex", "markdown", "json")


def _solve(tmp_path, doc: dict):
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return solve(load_spec(str(path)))


def _answer(sol, name):
    return next(a.value for a in sol.answers if a.name == name)


# ---- regression: a power of a named function crashed every renderer but the terminal --------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_power_of_named_function_renders(tmp_path, fmt):
    sol = _solve(tmp_path, {"kind": "graph", "symbols": ["w"], "functions": ["f"],
                            "equations": {"y": "f(w)**2"}, "ask": [{"value": "y"}, {"grad": {"of": "y", "wrt": "w"}}]})
    out = render(sol, fmt)
    assert out
    if fmt == "json":
        data = json.loads(out)
        # d/dw f(w)² = 2·f(w)·f'(w) by the chain rule
        assert sympy.sympify(data["answers"][1]["exact"].replace("f_prime", "fp"),
                             locals={"f": sympy.Function("f"), "fp": sympy.Function("fp")}) == \
            2 * sympy.Function("f")(sympy.Symbol("w")) * sympy.Function("fp")(sympy.Symbol("w"))


def test_power_latex_is_bracketed():
    w = sympy.Symbol("w", real=True)
    from examsolve.renderers.printing import latex, text
    f = generic("f")
    assert latex(f(w) ** 2) == r"\left(f\left(w\right)\right)^{2}"
    assert text(f(w) ** 3) == "f(w)³"


# ---- several arguments ----------------------------------------------------------------------------------------

def test_two_argument_function_partials(tmp_path):
    sol = _solve(tmp_path, {"kind": "graph", "symbols": ["x", "w"], "functions": ["f"],
                            "equations": {"y": "f(x, w)**2"},
                            "ask": [{"grad": {"of": "y", "wrt": "w", "name": "dy/dw"}}]})
    v = _answer(sol, "dy/dw")
    from examsolve.renderers.printing import text
    # d/dw f(x, w)² = 2·f(x, w)·∂f/∂w
    assert text(v) == "2·∂f/∂w·f(x, w)"
    for fmt in FORMATS:
        render(sol, fmt)


def test_swapped_arguments_keep_first_names():
    names = {"x": sympy.Symbol("x", real=True), "w": sympy.Symbol("w", real=True)}

    class Names(dict):
        pass
    ns = Names(names)
    ns["q"] = generic("q")
    e = parse("q(x, w) + q(w, x)", ns)
    d = sympy.diff(e, names["w"])
    from examsolve.renderers.printing import text
    # q's arguments are named x, w by its first call: in q(w, x), w is the first argument, ∂q/∂x(w, x)
    assert sorted(text(d).split(" + ")) == ["∂q/∂w", "∂q/∂x(w, x)"]


def test_sigma_prime_still_takes_one_argument():
    ns = {"x": sympy.Symbol("x", real=True), "sigma": generic("sigma")}
    from examsolve.errors import ExprError
    with pytest.raises(ExprError, match="one argument"):
        parse("sigma_prime(x, x)", ns)


def test_two_vector_layers_in_chain_order(tmp_path):
    sol = solve(load_spec("problems/two_vector_layers.yaml"))
    from examsolve.renderers.printing import latex, text
    # w reaches L through f then g: ∂L/∂w = ∂L/∂g · J_f^g · J_w^f (order matters: matrices)
    assert text(_answer(sol, "dL/dw")) == "∂L/∂g·J_f^g·J_w^f"
    assert text(_answer(sol, "dL/dv")) == "∂L/∂g·J_v^g"
    assert text(_answer(sol, "dL/dx")) == "∂L/∂g·J_f^g·J_x^f"
    assert latex(_answer(sol, "dL/dw")) == r"\frac{\partial L}{\partial g} \cdot J_{f}^{g} \cdot J_{w}^{f}"
    assert all(a.agrees for a in sol.answers)


def test_wrong_order_key_is_flagged(tmp_path):
    doc = yaml.safe_load(open("problems/two_vector_layers.yaml", encoding="utf-8"))
    doc["ask"][0]["grad"]["key"] = "dL_dg(g(f(x, w), v))*J_w__f(x, w)*J_f__g(f(x, w), v)"
    sol = _solve(tmp_path, doc)
    assert next(a for a in sol.answers if a.name == "dL/dw").agrees is False


def test_reparam_estimator():
    sol = solve(load_spec("problems/reparam_exponential.yaml"))
    w, eps = sympy.Symbol("w", real=True), sympy.Symbol("eps", real=True)
    lam, f = generic("λ"), generic("f")
    lp, fp = generic("λ", 1), generic("f", 1)
    got = sol.graph.in_leaves(_answer(sol, "estimator"))
    # y = ε/λ(w): ∂f(y)/∂w = f'(y)·(−ε·λ'(w)/λ(w)²)
    assert sympy.simplify(got - (-eps * fp(eps / lam(w)) * lp(w) / lam(w) ** 2)) == 0
    for fmt in FORMATS:
        render(sol, fmt)


# ---- Hypothesis: random compositions render in every format ----------------------------------------------------

LEAVES = ("x", "w", "v")
FUNCS = {"f": 1, "g": 2, "h": 3}


def _exprs():
    leaf = st.sampled_from(LEAVES)

    def extend(inner):
        call = st.sampled_from(sorted(FUNCS)).flatmap(
            lambda f: st.lists(inner, min_size=FUNCS[f], max_size=FUNCS[f]).map(lambda a: f"{f}({', '.join(a)})"))
        power = st.tuples(inner, st.integers(-3, 3).filter(lambda k: k not in (0, 1))).map(lambda p: f"({p[0]})**{p[1]}")
        prod = st.tuples(inner, inner).map(lambda p: f"{p[0]}*{p[1]}")
        quot = st.tuples(inner, inner).map(lambda p: f"{p[0]}/(1 + {p[1]}**2)")
        return call | power | prod | quot
    return st.recursive(leaf, extend, max_leaves=6)


@settings(max_examples=25, deadline=None)
@given(expr=_exprs(), vector=st.booleans())
def test_random_compositions_render(tmp_path_factory, expr, vector):
    tmp = tmp_path_factory.mktemp("h")
    doc = {"kind": "graph", "symbols": list(LEAVES), "equations": {"y": expr},
           "ask": [{"value": "y"}, {"grad": {"of": "y", "wrt": ["w"]}}]}
    doc["vector_functions" if vector else "functions"] = sorted(FUNCS)
    sol = _solve(tmp, doc)
    for fmt in FORMATS:
        out = render(sol, fmt)
        assert out
        if fmt == "json":
            json.loads(out)
