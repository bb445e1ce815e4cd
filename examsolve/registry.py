"""The family registry. Family modules import only this at their top, so `examsolve list` stays fast."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any

from examsolve.errors import Loc, SpecError, nearest


@dataclass(frozen=True)
class Family:
    """A problem family: its name, one-line summary, example specs and solver class."""

    name: str
    summary: str
    examples: tuple[str, ...]
    impl: Any

    def model(self) -> type:
        """The pydantic model of this family's spec."""
        return self.impl.model()

    def build(self, spec) -> Any:
        """Solve a validated spec of this family into a Solution."""
        return self.impl.solve(spec)


FAMILIES: dict[str, Family] = {}


def family(name: str, summary: str, examples: tuple[str, ...] = (), model: Any = None):
    """Register a family: a class with `model()` and `solve(spec)`, or a solve function and its `model`.

    `model` is a callable returning the pydantic model, called only when a spec is loaded.
    """
    def register(obj):
        impl = obj
        if model is not None:
            impl = type(name, (), {"model": staticmethod(model), "solve": staticmethod(obj)})
        FAMILIES[name] = Family(name, summary, tuple(examples), impl)
        return obj
    return register


def load_all() -> dict[str, Family]:
    """Import every module of examsolve.families (cheap: they import sympy lazily)."""
    from examsolve import families

    for info in sorted(pkgutil.iter_modules(families.__path__), key=lambda m: m.name):
        importlib.import_module(f"examsolve.families.{info.name}")
    return dict(sorted(FAMILIES.items()))


def get_family(name: Any, loc: Loc | None = None) -> Family:
    """The family of a `kind:`; SpecError with the nearest name when unknown."""
    fams = load_all()
    if not isinstance(name, str) or name not in fams:
        raise SpecError(f"unknown kind '{name}'{nearest(str(name), list(fams))}; "
                        f"known kinds: {', '.join(fams)}", loc)
    return fams[name]
