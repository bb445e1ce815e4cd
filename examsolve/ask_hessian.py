"""The second-derivative asks: hessian: (H, at given points classified) and the classification of one point."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy

from examsolve import budget, engine
from examsolve.errors import SpecError, SolveError
from examsolve.functions import Partial, resolve_kinks
from examsolve.spec_graph import names_list
from examsolve.steps import Step
from examsolve.tensor import Tensor
from examsolve.typed import Classification

if TYPE_CHECKING:       # only for the hints: asks imports this module
    from examsolve.asks import Solver


def composed(solver: Solver, of_name: str, wrt_names: list, path: tuple) -> tuple[Any, list, Any]:
    """(of, wrt, f): the scalar of written out in the given names, with every given value but wrt's put in."""
    of = solver.scalar(of_name, path + ("of",))
    wrt = solver.symbols_of(wrt_names, path + ("wrt",))
    f = solver.graph.compose(of)
    budget.check_size(f, f"{of.name} written out in the given names", hint="ask for grad: or jacobian: "
                      "instead (they go node by node)")
    keep = set(wrt)
    leaves = {s: v for s, v in solver.values.items() if solver.graph.nodes[s].kind == "given" and s not in keep}
    return of, wrt, engine.substitute(f, leaves)


def ask_hessian(solver: Solver, body: Any, path: tuple) -> None:
    """hessian: H of the composed function, as the answer (at the given values or a point) and classified."""
    of, wrt, f = composed(solver, body.of, names_list(body.wrt), path)
    grad = [sympy.diff(f, v) for v in wrt]
    H = sympy.Matrix([[sympy.diff(g, v) for v in wrt] for g in grad])
    sub = [Step("Composed function", target=of, value=f)]
    sub += [Step(f"∂{of.name}/∂{v.name}", target=Partial(of, v), value=g) for v, g in zip(wrt, grad)]
    Ht = Tensor(H.shape, tuple(H))
    sub.append(Step("Hessian H[i][j] = ∂²f/∂(input i)∂(input j)", target=sympy.Symbol("H"), value=Ht))
    solver.steps.append(Step(f"Hessian of {of.name}", substeps=tuple(sub)))
    points = list(body.points or [])
    if body.at is not None:
        points = [body.at] + points
    if not points and not any(solver.graph.nodes[v].kind == "symbol" for v in wrt):
        points = [None]
    name = body.name or f"H({of.name})"
    if body.at is not None:
        _hessian_at(solver, of, wrt, f, H, name, body, path, points[1:])
        return
    if points == [None] or not points:
        at_values = {v: solver.values[v] for v in wrt if solver.graph.nodes[v].kind == "given"}
        Hn = Tensor(H.shape, tuple(engine.substitute(h, at_values) for h in H))
        solver.answer(name, Hn if at_values else Ht, sympy.Symbol("H"), body.key, path)
        if at_values:
            classify(solver, of, wrt, f, H, at_values, path)
        return
    solver.answer(name, Ht, sympy.Symbol("H"), body.key, path)
    for k, pt in enumerate(points):
        over = solver.point(pt, path + ("points", k))
        missing = [v.name for v in wrt if v not in over]
        if missing:
            raise SpecError(f"the point does not give {', '.join(missing)}", solver.spec.loc(*path, "points", k))
        classify(solver, of, wrt, f, H, over, path)


def _hessian_at(solver: Solver, of, wrt, f, H, name: str, body, path: tuple, points: list) -> None:
    """hessian: {at: …}: H at that point as the answer (kinks by the conventions), classified there."""
    over = _full_point(solver, body.at, path + ("at",), wrt)
    Hp = Tensor(H.shape, tuple(resolve_kinks(engine.substitute(h, over), solver.conventions)[0] for h in H))
    solver.answer(name, Hp, sympy.Symbol("H"), body.key, path)
    classify(solver, of, wrt, f, H, over, path + ("at",))
    for k, pt in enumerate(points):
        classify(solver, of, wrt, f, H, _full_point(solver, pt, path + ("points", k), wrt), path)


def _full_point(solver: Solver, raw: dict, path: tuple, wrt: list) -> dict:
    """A point that gives every variable of wrt."""
    over = solver.point(raw, path)
    missing = [v.name for v in wrt if v not in over]
    if missing:
        raise SpecError(f"the point does not give {', '.join(missing)}; add {missing[0]}: VALUE",
                        solver.spec.loc(*path))
    return over


def classify(solver: Solver, of: Any, wrt: list, f: Any, H: sympy.Matrix, point: dict, path: tuple,
             answer: bool = True) -> Classification:
    """The gradient, H and its eigenvalues at one point as a step, and what kind of point it is (an answer)."""
    notes: list = []

    def at_point(e):
        """e at the point, its kinks resolved by the conventions (each one used is noted)."""
        value, used = resolve_kinks(engine.substitute(e, point), solver.conventions)
        notes.extend(used)
        return value

    where = "(" + ", ".join(sympy.sstr(point[v]) for v in wrt) + ")"
    loc = solver.spec.loc(*path)
    # f itself must have a real value there (1/x at x = 0 or log(y) at y = -1 has no Hessian to classify)
    engine.checked_value(f, point, f"{of.name} at ({', '.join(v.name for v in wrt)}) = {where}", loc)
    Hp = H.applyfunc(at_point)
    grad = [at_point(sympy.diff(f, v)) for v in wrt]
    bad = [e for e in list(grad) + list(Hp) if engine._undefined(e) or engine._nonreal(e)]
    if bad:
        raise SolveError(f"the derivatives of {of.name} have no real value at {where} (e.g. {sympy.sstr(bad[0])}); "
                         "classify points where f is twice differentiable", loc)
    kind, eig = engine.classify(Hp, grad)
    if kind.kind in ("degenerate", "local_minimum", "local_maximum"):
        kind = bound_class(f, point, of.name, kind) or kind
    at = f"{of.name} at {where}"      # stable names per point: 'f at (1, 0).eigenvalues'
    g_at, H_at, eig_at = (Tensor((len(grad),), tuple(grad)), Tensor(Hp.shape, tuple(Hp)),
                          Tensor((len(eig),), tuple(eig)))
    solver.steps.append(Step(f"At ({', '.join(v.name for v in wrt)}) = {where}", substeps=(
        Step("gradient", target=sympy.Symbol(f"∇{of.name}"), value=g_at, quantities=((at + ".gradient", g_at),)),
        Step("Hessian", target=sympy.Symbol("H"), value=H_at, quantities=((at + ".H", H_at),)),
        Step("eigenvalues of H", target=sympy.Symbol("λ"), value=eig_at, quantities=((at + ".eigenvalues", eig_at),),
             note=_eig_note(Hp, eig)),
        Step("classification", value=kind, quantities=((at, kind),))),
        note="; ".join(dict.fromkeys(notes))))
    if answer:
        solver.answer(f"{of.name} at {where}", kind)
    return kind


def bound_class(f: Any, point: dict, name: str = "f", test: Classification | None = None) -> Classification | None:
    """A global minimum (maximum) where f − f(point) is ≥ 0 (≤ 0) everywhere by its form (a sum of squares, |·|,
    exp): what a zero eigenvalue leaves undecided, e.g. (1 − w1·w2)² on its line of zeros; None otherwise."""
    from examsolve.values import exact_sign

    value = engine.substitute(f, point)
    if not value.is_number or exact_sign(value) is None:
        return None
    rest = f - value
    if rest.is_nonnegative is None and rest.is_nonpositive is None and rest.is_polynomial() and len(
            rest.free_symbols) <= 4:
        rest = sympy.factor(rest)        # x² + 2xy + y² is (x + y)² ≥ 0 once factored
    definite = test is not None and test.kind in ("local_minimum", "local_maximum")
    how = ("all eigenvalues of H have one sign, so it is also strict" if definite else
           "the second-order test is inconclusive (a zero eigenvalue)")
    v = sympy.sstr(value)
    # a strict local minimum can only be a global minimum, a strict local maximum a global maximum
    if rest.is_nonnegative and (not definite or test.kind == "local_minimum"):
        return Classification("global_minimum", f"{name} ≥ {v} everywhere by its form, and {name} = {v} here; {how}")
    if rest.is_nonpositive and (not definite or test.kind == "local_maximum"):
        return Classification("global_maximum", f"{name} ≤ {v} everywhere by its form, and {name} = {v} here; {how}")
    return None


def _eig_note(Hp: sympy.Matrix, eig: list) -> str:
    """engine.NUMERIC_EIG when the eigenvalues of an exact H are floats (sympy cannot write them), else ''."""
    exact = not any(h.has(sympy.Float) for h in Hp)
    return engine.NUMERIC_EIG if exact and any(isinstance(v, sympy.Float) for v in eig) else ""
