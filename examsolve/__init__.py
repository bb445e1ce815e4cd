"""examsolve: exact, step-by-step solutions to computational deep-learning exam questions.

The Python API (docs/api.md): solve_file(path) and solve(spec, dict or YAML text) return a Solution whose
answers hold typed values; Solution.to_latex/to_markdown/to_html/to_json render it, and it displays itself
in Jupyter. Importing this package imports no sympy: everything heavy loads on first use.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["load_spec", "parse_spec", "solve", "solve_file", "render", "SpecError", "SolveError"]


def __getattr__(name: str) -> Any:
    # the error classes, without importing them (and their module) before they are asked for
    if name in ("SpecError", "SolveError"):
        from examsolve import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'examsolve' has no attribute {name!r}")


def load_spec(path: str):
    """Read and validate a spec file (raises SpecError)."""
    from examsolve.spec import load_spec as _load

    return _load(path)


def parse_spec(text: str, file: str = "<spec>"):
    """Parse and validate spec YAML text; `file` names it in error positions (raises SpecError)."""
    from examsolve.spec import parse_spec as _parse

    return _parse(text, file)


def solve_file(path: str):
    """Solve the spec file at path into a Solution (SpecError or SolveError with file:line:col)."""
    from examsolve.spec import load_spec as _load

    return solve(_load(str(path), light=True))


def solve(spec: Any):
    """Solve a spec, given as a loaded Spec, a dict or YAML text, into a Solution (raises SpecError, SolveError)."""
    if isinstance(spec, str):
        spec = _from_text(spec)
    elif isinstance(spec, dict):
        spec = _from_dict(spec)
    elif not hasattr(spec, "model"):
        from examsolve.errors import SpecError

        raise SpecError(f"solve() takes a Spec, a dict or YAML text, not {type(spec).__name__}; "
                        "for a file use examsolve.solve_file(path)")
    return _solve_spec(spec)


def _from_text(text: str):
    from examsolve.errors import SpecError
    from examsolve.spec import parse_spec as _parse

    try:
        return _parse(text, "<string>", light=True)
    except SpecError as err:
        if "\n" not in text.strip() and text.strip().endswith((".yaml", ".yml")):
            raise SpecError(f"{err.message}; '{text.strip()}' looks like a path: use examsolve.solve_file(path)",
                            err.loc) from None
        raise


def _from_dict(data: dict):
    """A dict as spec text, so errors still point at a line and column (of that text, named <dict>)."""
    import yaml

    from examsolve.errors import SpecError

    try:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError as err:
        raise SpecError(f"the dict is not plain data (numbers, strings, lists, dicts): {err}") from None
    from examsolve.spec import parse_spec as _parse

    return _parse(text, "<dict>", light=True)


def _solve_spec(spec):
    import dataclasses

    from examsolve.registry import get_family
    from examsolve.statement import fill_statement

    m = spec.model
    statement = fill_statement(m.statement, m.model_dump(by_alias=True), spec.loc("statement")).strip()
    sol = get_family(spec.kind).build(spec)
    sol = dataclasses.replace(sol, statement=statement, points=dict(m.points))
    if all(a.agrees is None for a in sol.answers):      # no key checked: nothing to explain
        return sol
    from examsolve.explain import explain_keys
    from examsolve.spec import PydanticWhenRead

    return explain_keys(PydanticWhenRead(spec), sol)


def render(solution, fmt: str = "terminal", **options) -> str:
    """Render a Solution as terminal text, latex, markdown, json or html."""
    from examsolve.renderers import render as _render

    return _render(solution, fmt, **options)
