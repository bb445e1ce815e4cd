"""The solve: ask, and the real solutions of equations = 0 it shares with critical_points:."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy

from examsolve import engine
from examsolve.errors import ExprError, SpecError, SolveError
from examsolve.expr import parse_equation
from examsolve.spec_graph import names_list
from examsolve.steps import Step

if TYPE_CHECKING:       # only for the hints: asks imports this module
    from examsolve.asks import Solver


# the `how` of solutions from sympy's solve that are not proved to be all of them
UNPROVED = ("the solutions sympy's solve finds in closed form; the equations are not polynomial with rational "
            "coefficients, so there may be others (sin and cos repeat every 2π)")


def ask_solve(solver: Solver, body: Any, path: tuple) -> None:
    """solve: the unknowns from equations (composed and with the given values put in), one answer each."""
    unknowns = solver.symbols_of(names_list(body.unknowns), path + ("unknowns",))
    keep = set(unknowns)
    leaves = {s: v for s, v in solver.values.items() if solver.graph.nodes[s].kind == "given" and s not in keep}
    eqs, shown = [], []
    for i, text in enumerate(names_list(body.equations)):
        p = path + ("equations",) + ((i,) if not isinstance(body.equations, str) else ())
        try:
            e = parse_equation(text, solver.graph.names())
        except ExprError as err:
            raise SpecError(err.message, solver.spec.loc_at(p, err.offset)) from None
        composed = e.xreplace({s: solver.graph.compose(s) for s in e.free_symbols if s in solver.graph.nodes
                               and solver.graph.nodes[s].kind == "node"})
        eq = engine.substitute(composed, leaves)
        eqs.append(eq)
        shown.append(Step(f"equation {i + 1}: {text}", target=sympy.Integer(0), value=eq))
    sols, proof, how = solve_equations(eqs, unknowns, "the equations", solver.spec.loc(*path))
    if not sols:
        raise SolveError("the equations have no real solution for " + ", ".join(u.name for u in unknowns)
                         + (f" ({how})" if how else ""), solver.spec.loc(*path))
    if how:
        shown.append(Step(f"{'solutions' if how == UNPROVED else 'all real solutions'}: {how}"))
    solver.steps.append(Step("Solve for " + ", ".join(u.name for u in unknowns), substeps=tuple(shown),
                             note="" if len(sols) == 1 else f"{len(sols)} solutions"))
    for k, s in enumerate(sols):
        for u in unknowns:
            suffix = f" (solution {k + 1})" if len(sols) > 1 else ""
            # name: is the answer's name; with several unknowns it prefixes each (name.w, name.b)
            base = u.name if not body.name else body.name if len(unknowns) == 1 else f"{body.name}.{u.name}"
            solver.answer(base + suffix, s.get(u, u), u, body.key if len(unknowns) == 1 and k == 0 else None, path)


def solve_equations(eqs: list, unknowns: list, what: str, loc: Any) -> tuple[list[dict], Any, str]:
    """The real solutions of eqs = 0: (solutions, proof, how).

    Equations that are polynomial over Q (after clearing denominators) with finitely many solutions are
    solved by elimination (engine.real_solutions): every real solution, with the proof in `how`, and `proof`
    the RealSolutions whose points are returned. Otherwise sympy.solve's closed forms (proof None); an empty
    list from sympy is no proof that there is no solution, so then a SolveError says it cannot decide.
    """
    from sympy.polys.polyerrors import PolynomialError

    eqs = [e for e in eqs if e != 0]
    try:
        proof = engine.real_solutions(eqs, unknowns)
    except (NotImplementedError, PolynomialError, TypeError, ValueError):
        proof = None
    if proof is not None:
        # sorted by value; a root of degree ≤ 2 is in radicals, a higher one a CRootOf (exact either way)
        order = sorted(range(len(proof.points)), key=lambda k: [sympy.N(proof.points[k][v], 30) for v in unknowns])
        proof.points = [proof.points[k] for k in order]
        proof.roots = [proof.roots[k] for k in order]
        return proof.points, proof, proof.how
    try:
        sols = sympy.solve(eqs, unknowns, dict=True)
    except (NotImplementedError, TypeError, ValueError):   # sympy's ways of saying it cannot
        sols = None
    if sols is None:
        raise SolveError(f"{what} has no closed-form solution that sympy can find (e.g. a mix of "
                         "polynomial and trigonometric terms); solve it numerically or simplify it", loc)
    if not sols:
        never = next((e for e in eqs if e.is_positive or e.is_negative), None)
        if never is not None:
            return [], None, f"{sympy.sstr(never)} is never 0"
        raise SolveError(f"could not decide whether {what} has a real solution: sympy's solve finds none, which "
                         "is no proof that there is none (the equations are not polynomial with rational "
                         "coefficients, or have infinitely many solutions); simplify the problem", loc)
    try:
        polynomial = engine.as_polys(eqs, unknowns) is not None
    except (NotImplementedError, PolynomialError, TypeError, ValueError):
        polynomial = False
    if polynomial:
        return sols, None, ("the equations have infinitely many solutions (their Groebner basis is not "
                            "zero-dimensional), as sympy's solve writes them")
    return sols, None, UNPROVED
