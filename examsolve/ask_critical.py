"""The critical_points: ask: ∇f = 0 solved and each point classified (or 0 ∈ ∂f for a kinked function of one
variable), with the directions along which a polynomial is unbounded."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy

from examsolve import engine
from examsolve.ask_hessian import bound_class, classify, composed
from examsolve.ask_solve import UNPROVED, solve_equations
from examsolve.functions import Partial
from examsolve.spec_graph import names_list
from examsolve.steps import Step
from examsolve.tensor import Tensor
from examsolve.typed import Classification, CriticalPoint, CriticalPoints
from examsolve.values import PRECISION, decimal

if TYPE_CHECKING:       # only for the hints: asks imports this module
    from examsolve.asks import Solver


def ask_critical_points(solver: Solver, body: Any, path: tuple) -> None:
    """critical_points: the real solutions of ∇f = 0, each classified, as one answer."""
    of, wrt, f = composed(solver, body.of, names_list(body.wrt), path)
    if _nonsmooth(solver, of, wrt, f, body, path):
        return
    grad = [sympy.diff(f, v) for v in wrt]
    sols, proof, how = solve_equations(grad, wrt, f"∇{of.name} = 0", solver.spec.loc(*path))
    real = [s for s in sols if all(s.get(v, v).is_real is not False for v in wrt)]
    if proof is None:
        real.sort(key=lambda s: [sympy.default_sort_key(s.get(v, v)) for v in wrt])
    solver.steps.append(Step(f"Critical points of {of.name}: solve ∇{of.name} = 0", substeps=tuple(
        Step(f"∂{of.name}/∂{v.name} = 0", target=Partial(of, v), value=g) for v, g in zip(wrt, grad)),
        note=how))
    H = sympy.Matrix([[sympy.diff(g, v) for v in wrt] for g in grad])
    found = []
    for k, s in enumerate(real):
        point = {v: s.get(v, v) for v in wrt}
        approx = proof is not None and any(x.has(sympy.CRootOf) for x in point.values())
        if approx:
            kind, coords = _classify_algebraic(solver, of, wrt, H, proof, k)
            point = dict(zip(wrt, coords))
        elif all(x.is_number for x in point.values()):
            kind = classify(solver, of, wrt, f, H, point, path, answer=False)
        else:
            kind = bound_class(f, point, of.name) or Classification("cannot_classify", "the point depends on symbols")
        found.append(CriticalPoint(tuple((v.name, point[v]) for v in wrt), kind, approx))
    note = "" if found else f"∇{of.name} = 0 has no real solution"
    if how == UNPROVED and found:
        note = "found by sympy's solve; there may be others"
    solver.answer(body.name or f"critical points of {of.name}", CriticalPoints(tuple(found), note), key=body.key,
                  path=path)
    _unbounded(solver, of, wrt, f)


def _nonsmooth(solver: Solver, of, wrt, f, body, path) -> bool:
    """A function of one variable with |·|, relu or max kinks: its minimisers by 0 ∈ ∂f (examsolve.nonsmooth)."""
    from examsolve import nonsmooth

    done = nonsmooth.critical_points(f, wrt, solver.spec.loc(*path), of.name)
    if done is None:
        return False
    steps, found, note = done
    solver.steps.append(Step(f"Critical points of {of.name}: 0 ∈ ∂{of.name} (the subgradient condition)",
                             substeps=tuple(steps)))
    solver.answer(body.name or f"critical points of {of.name}", CriticalPoints(tuple(found), note), key=body.key,
                  path=path)
    return True


def _unbounded(solver: Solver, of, wrt, f) -> None:
    """For a polynomial: the directions along which it goes to −∞ or +∞, as global minimum/maximum answers."""
    from examsolve import nonsmooth

    found = nonsmooth.unbounded(f, wrt)
    if found:
        step, answers = nonsmooth.unbounded_steps(of.name, wrt, found)
        solver.steps.append(step)
        for name, kind in answers:
            solver.answer(name, kind)


def _classify_algebraic(solver: Solver, of, wrt, H, proof, k: int) -> tuple[Classification, list]:
    """A step for a critical point whose coordinates are roots of a polynomial (sympy's CRootOf): exact
    signs decide the classification, the coordinates and eigenvalues are shown as 30-digit floats."""
    point = proof.points[k]
    kind, eig = engine.classify_exact(proof, k, H)
    approx = [sympy.Float(sympy.N(point[v], PRECISION), PRECISION) for v in wrt]
    where = "≈ (" + ", ".join(decimal(x) for x in approx) + ")"
    Hp = Tensor(H.shape, tuple(sympy.Float(sympy.N(e.xreplace(point), PRECISION), PRECISION) for e in H))
    exact = ", ".join(f"{v.name} = {sympy.sstr(point[v])}" for v in wrt)
    solver.steps.append(Step(f"At ({', '.join(v.name for v in wrt)}) {where}", substeps=(
        Step("the point", target=sympy.Symbol("(" + ", ".join(v.name for v in wrt) + ")"),
             value=Tensor((len(wrt),), tuple(approx)), note=f"exactly {exact}"),
        Step("gradient (0 exactly: the point solves ∇f = 0)", target=sympy.Symbol(f"∇{of.name}"),
             value=Tensor((len(wrt),), tuple(sympy.Integer(0) for _ in wrt))),
        Step("Hessian", target=sympy.Symbol("H"), value=Hp),
        Step("eigenvalues of H", target=sympy.Symbol("λ"), value=Tensor((len(eig),), tuple(eig))),
        Step("classification", value=kind,
             note="from the exact signs of the coefficients of det(λI − H) (Descartes' rule of signs, "
                  "exact for a symmetric matrix)"))))
    return kind, approx
