"""examsolve: exact, step-by-step solutions to computational deep-learning exam questions."""
from __future__ import annotations

__version__ = "0.1.0"


def load_spec(path: str):
    """Read and validate a spec file (raises SpecError)."""
    from examsolve.spec import load_spec as _load

    return _load(path)


def solve(spec):
    """Solve a loaded spec into a Solution (raises SolveError)."""
    import dataclasses

    from examsolve.registry import get_family
    from examsolve.statement import fill_statement

    m = spec.model
    statement = fill_statement(m.statement, m.model_dump(by_alias=True), spec.loc("statement")).strip()
    sol = get_family(spec.kind).build(spec)
    from examsolve.explain import explain_keys

    return explain_keys(spec, dataclasses.replace(sol, statement=statement, points=dict(m.points)))


def render(solution, fmt: str = "terminal", **options) -> str:
    """Render a Solution as terminal text, latex, markdown or json."""
    from examsolve.renderers import render as _render

    return _render(solution, fmt, **options)
