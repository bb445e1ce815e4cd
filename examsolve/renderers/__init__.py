"""Renderers: pure functions from a Solution to text, one file per format."""
from __future__ import annotations

FORMATS = ("terminal", "latex", "markdown", "json", "html")


def render(solution, fmt: str = "terminal", **options) -> str:
    """Render one solution in a format from FORMATS."""
    return render_many([solution], fmt, **options)


def render_many(solutions, fmt: str = "terminal", **options) -> str:
    """Render several solutions as one document in a format from FORMATS."""
    import importlib

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    from examsolve.values import printed_once

    module = importlib.import_module(f"examsolve.renderers.{fmt}")
    with printed_once():        # a value shown in many places (result, next step, answer) is printed once
        return module.render(list(solutions), **options)
