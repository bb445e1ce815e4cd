"""Every example spec, over the registry: it solves, renders everywhere, is deterministic,
compiles as LaTeX, and every gradient, Jacobian and Hessian matches finite differences."""
from __future__ import annotations

import json
import re
import subprocess

import mpmath
import pytest
import sympy

from conftest import PROBLEMS, ROOT, require_tool
from numeric import close, partials

from examsolve import load_spec, render, solve
from examsolve.registry import get_family, load_all
from examsolve.renderers import FORMATS
from examsolve.spec_graph import names_list
from examsolve.tensor import Tensor

IDS = [p.name for p in PROBLEMS]


def test_every_family_has_examples_that_exist():
    for name, fam in load_all().items():
        assert fam.examples, f"family {name} lists no example"
        for e in fam.examples:
            assert (ROOT / "problems" / e).exists(), f"{name}: problems/{e} is missing"


def test_every_example_belongs_to_a_family():
    listed = {e for f in load_all().values() for e in f.examples}
    assert {p.name for p in PROBLEMS} <= listed


@pytest.fixture(scope="module", params=PROBLEMS, ids=IDS)
def solved(request):
    spec = load_spec(str(request.param))
    return spec, solve(spec)


@pytest.mark.parametrize("fmt", FORMATS)
def test_renders_deterministically(solved, fmt):
    spec, sol = solved
    out = render(sol, fmt)
    assert out.strip()
    assert out == render(solve(load_spec(spec.file)), fmt), "same input must give byte-identical output"
    # a value shown only as its decimal carries its own ≈: never '= ≈' (a user copies the line as it is)
    assert not re.search(r"= ?\\approx|= ≈|<mo>=</mo><mrow><mo>≈", out)
    if fmt == "json":
        data = json.loads(out)
        assert data["kind"] == spec.kind
        assert data["answers"] and all({"name", "exact", "latex", "value", "key", "agrees"} <= set(a)
                                       for a in data["answers"])


def test_keys_in_examples_agree_or_are_flagged(solved):
    _, sol = solved
    for a in sol.answers:
        if a.key is not None:
            assert a.agrees is not None


def test_standalone_latex_compiles(solved, tmp_path):
    require_tool("pdflatex")
    _, sol = solved
    tex = tmp_path / "a.tex"
    tex.write_text(render(sol, "latex", standalone=True), encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "a.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
    assert (tmp_path / "a.pdf").exists()


# ---- derivatives against 60-digit finite differences ---------------------------------------

def _composed(spec, of_name, wrt_names, point_raw=None):
    """f(of) as an expression of the wrt leaves, other leaves at their given values."""
    fam = get_family(spec.kind)
    sol = fam.build(spec)
    graph = sol.graph
    wrt = [s for n in wrt_names for s in graph.group(n).symbols]
    outs = graph.group(of_name).symbols
    from examsolve import engine
    values = engine.evaluate(graph)
    leaves = {s: v for s, v in values.items() if graph.nodes[s].kind != "node" and s not in wrt}
    exprs = [graph.compose(o).xreplace(leaves) for o in outs]
    # a symbolic wrt (symbols:) has no value: any rational point checks the formula
    point = {s: sympy.Rational(2 + i, 5) if values[s] == s else values[s] for i, s in enumerate(wrt)}
    if point_raw:
        for name, raw in point_raw.items():
            for s, v in zip(graph.group(name).symbols, raw if isinstance(raw, list) else [raw]):
                point[s] = sympy.Rational(str(v))
    free = sorted(set().union(*(e.free_symbols for e in exprs), *(sympy.sympify(v).free_symbols
                                                                   for v in point.values())) - set(wrt),
                  key=lambda s: s.name)
    fixed = {s: sympy.Rational(3 + 2 * i, 7) for i, s in enumerate(free)}   # symbolic questions: any values
    exprs = [concrete(e).xreplace(fixed) for e in exprs]
    point = {s: concrete(sympy.sympify(v)).xreplace(fixed) for s, v in point.items()}
    return exprs, wrt, {s: mpmath.mpf(str(sympy.N(v, 60))) for s, v in point.items()}, fixed


def concrete(e):
    """Functions known only by name (σ, σ') made concrete as tanh and its derivatives, for FD checks."""
    t = sympy.Symbol("t")

    def make(x):
        if hasattr(x, "generic_params"):     # f(x, w) as tanh(x + 2w); its partials ∂f/∂w, J_w^f differentiate that
            ts = sympy.symbols(f"t0:{len(x.args)}")
            body = sympy.tanh(sum((k + 1) * s for k, s in enumerate(ts)))
            for i in getattr(x, "generic_wrt", ()):
                body = sympy.diff(body, ts[i])
            return body.subs(dict(zip(ts, x.args)))
        return sympy.diff(sympy.tanh(t), t, x.generic_order).subs(t, x.args[0])
    return e.replace(lambda x: hasattr(x, "generic_name"), make)


def _derivative_asks():
    for p in PROBLEMS:
        spec = load_spec(str(p))
        for i, ask in enumerate(spec.model.ask):
            if ask.kind in ("grad", "jacobian"):
                yield pytest.param(p, i, id=f"{p.name}-ask{i}-{ask.kind}")


@pytest.mark.parametrize("path,index", list(_derivative_asks()))
def test_derivatives_match_finite_differences(path, index):
    spec = load_spec(str(path))
    sol = solve(spec)
    ask = spec.model.ask[index]
    body = ask.body
    exprs, wrt, point, fixed = _composed(spec, body.of, names_list(body.wrt), body.at)
    got = _answer_for(sol, spec, index)
    def leaves(v):      # an answer in the spec's names (a - y, ŷ₁ - 1) written out in the leaves
        at = {**fixed, **{s: sympy.Float(mpmath.nstr(x, 60), 60) for s, x in point.items()}}
        return concrete(sol.graph.in_leaves(v) if sol.graph is not None else v).xreplace(at)
    got = got.map(leaves) if isinstance(got, Tensor) else leaves(got)
    if getattr(body, "upstream", None) is not None:        # the answer is upstream · ∂of/∂wrt
        up = concrete(sympy.Symbol(str(body.upstream), real=True)).xreplace(fixed)
        got = got.map(lambda v: v / up) if isinstance(got, Tensor) else got / up
    items = got.items if isinstance(got, Tensor) else (got,)
    assert len(items) == len(exprs) * len(wrt)
    kinked = _uses_convention(sol)
    for r, f in enumerate(exprs):
        for c, v in enumerate(wrt):
            central, left, right = partials(f, point, v)
            g = mpmath.mpf(str(sympy.N(items[r * len(wrt) + c], 60)))
            if kinked and not close(g, central):
                assert close(g, left) or close(g, right), f"d{f}/d{v}: {g} is neither one-sided derivative"
            else:
                assert close(g, central), f"∂/∂{v}: examsolve {g}, finite differences {central}"


def _answer_for(sol, spec, index):
    """The answer produced by ask `index` (answers follow ask order; value asks add one per name)."""
    k = 0
    for i, ask in enumerate(spec.model.ask):
        n = len(names_list(ask.body)) if ask.kind == "value" else 1
        if i == index:
            return sol.answers[k].value
        if ask.kind in ("hessian", "critical_points", "update", "solve"):
            raise AssertionError("derivative asks must come before asks with a variable answer count")
        k += n
    raise AssertionError("ask not found")


def _uses_convention(sol) -> bool:
    def walk(steps):
        for s in steps:
            if "convention" in s.note:
                return True
            if walk(s.substeps):
                return True
        return False
    return walk(sol.steps)


def _hessian_asks():
    for p in PROBLEMS:
        spec = load_spec(str(p))
        for i, ask in enumerate(spec.model.ask):
            if ask.kind == "hessian":
                for pt in ask.body.points or []:
                    yield pytest.param(p, i, pt, id=f"{p.name}-ask{i}-{pt}")


@pytest.mark.parametrize("path,index,point", list(_hessian_asks()))
def test_hessians_match_finite_differences(path, index, point):
    spec = load_spec(str(path))
    body = spec.model.ask[index].body
    sol = solve(spec)
    (f,), wrt, pt, _ = _composed(spec, body.of, names_list(body.wrt), point)
    H = next(a.value for a in sol.answers if a.name == (body.name or f"H({body.of})"))
    for r, v in enumerate(wrt):
        for c, u in enumerate(wrt):
            # second derivative by central differences of central differences
            h = mpmath.mpf("1e-12")
            def g(dv):
                q = dict(pt)
                q[v] = pt[v] + dv
                return partials(f, q, u)[0]
            fd = (g(h) - g(-h)) / (2 * h)
            exact = H.items[r * len(wrt) + c].xreplace({s: sympy.Float(mpmath.nstr(x, 60), 60) for s, x in pt.items()})
            assert close(mpmath.mpf(str(sympy.N(exact, 60))), fd, "1e-9")
