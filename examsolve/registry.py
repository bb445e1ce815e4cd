"""The family registry; examsolve/catalog.py holds the names, summaries and examples for `examsolve list`."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from examsolve.errors import Loc, SpecError, nearest

# The shared spec fields a family may leave unread (title:, key:, vary:, mistakes: ... are read for every family).
# A family lists those it reads in `uses`; a spec giving one of the others is refused, since it would be ignored.
OPTIONAL_FIELDS = ("given", "symbols", "functions", "vector_functions", "equations", "ask", "conventions", "assume")

# How to fix a field the family ignores, by field; {kind} is the family, {users} the families that read the field
UNUSED_HINTS = {
    "given": "remove it: {kind} reads its numbers from its own keys (`examsolve new {kind}` shows them)",
    "symbols": "remove it: {kind} reads its numbers from its own keys (`examsolve new {kind}` shows them)",
    "ask": "{kind} computes all its answers (`examsolve run FILE --answers all` lists every quantity); remove "
           "it, or write the problem with kind: graph to ask for particular values or derivatives",
    "equations": "remove it, or write the problem with kind: graph to add equations",
    "conventions": "remove it: no step of {kind} is decided by a convention",
}
DEFAULT_HINT = "remove it (families that use it: {users})"


@dataclass(frozen=True)
class Family:
    """A problem family: its name, one-line summary, example specs, solver class, and the optional shared
    fields it reads (with how to fix a spec giving one of the others)."""

    name: str
    summary: str
    examples: tuple[str, ...]
    impl: Any
    uses: tuple[str, ...] = OPTIONAL_FIELDS
    hints: tuple[tuple[str, str], ...] = ()
    refuse: Any = None      # refuse(spec): SpecError for a validated spec the family would misread (check runs it)

    def model(self) -> type:
        """The pydantic model of this family's spec."""
        return self.impl.model()

    def build(self, spec) -> Any:
        """Solve a validated spec of this family into a Solution."""
        from examsolve.graph import building

        with building():    # solving keeps its graph alive too: no full collections walking it again and again
            return self.impl.solve(spec)

    def unused(self, field: str) -> str | None:
        """Why a spec of this family may not give `field` (it would be ignored), or None when the field is read."""
        if field not in OPTIONAL_FIELDS or field in self.uses:
            return None
        users = ", ".join(n for n, f in load_all().items() if field in f.uses)
        hint = dict(self.hints).get(field) or UNUSED_HINTS.get(field, DEFAULT_HINT)
        return f"{self.name} does not use '{field}'; " + hint.format(kind=self.name, users=users)


FAMILIES: dict[str, Family] = {}


def family(name: str, summary: str, examples: tuple[str, ...] = (), model: Any = None,
           uses: tuple[str, ...] = OPTIONAL_FIELDS, hints: dict[str, str] | None = None, refuse: Any = None):
    """Register a family: a class with `model()` and `solve(spec)`, or a solve function and its `model`.

    `model` is a callable returning the pydantic model, called only when a spec is loaded. `uses`: the fields of
    OPTIONAL_FIELDS its solver reads (all by default); `hints`: how to fix a spec giving another, by field;
    `refuse(spec)`: a SpecError for a spec the family would misread, run when the spec is loaded (so `check` finds it).
    """
    unknown = set(uses) - set(OPTIONAL_FIELDS)
    if unknown:
        raise ValueError(f"family {name}: uses names no optional field: {sorted(unknown)}")
    def register(obj):
        impl = obj
        if model is not None:
            impl = type(name, (), {"model": staticmethod(model), "solve": staticmethod(obj)})
        FAMILIES[name] = Family(name, summary, tuple(examples), impl, tuple(uses),
                                tuple(sorted((hints or {}).items())), refuse)
        return obj
    return register


def load_all() -> dict[str, Family]:
    """Import every module of examsolve.families (for the schema of all kinds, docs and tests)."""
    import pkgutil

    from examsolve import families

    for info in sorted(pkgutil.iter_modules(families.__path__), key=lambda m: m.name):
        importlib.import_module(f"examsolve.families.{info.name}")
    return dict(sorted(FAMILIES.items()))


def check_kind(name: Any, loc: Loc | None = None) -> None:
    """SpecError with the nearest name when `name` is no family's kind; imports no family module when it is one."""
    from examsolve.catalog import CATALOG

    if isinstance(name, str) and name in CATALOG:
        return
    fams = load_all()   # the catalog may lag behind a family just added
    if not isinstance(name, str) or name not in fams:
        raise SpecError(f"unknown kind '{name}'{nearest(str(name), list(fams))}; "
                        f"known kinds: {', '.join(fams)}", loc)


def get_family(name: Any, loc: Loc | None = None) -> Family:
    """The family of a `kind:`, importing only its module; SpecError with the nearest name when unknown."""
    check_kind(name, loc)
    if name not in FAMILIES:
        importlib.import_module(f"examsolve.families.{name}")   # each family lives in the module of its name
    if name not in FAMILIES:
        load_all()
    return FAMILIES[name]


def catalog_text() -> str:
    """The source of examsolve/catalog.py, from the registered families."""
    lines = ['"""The families\' names, summaries and examples, so `examsolve list` imports no family module.',
             "",
             "Generated from the registry; tests/test_startup.py checks it. After changing a family's @family(...):",
             "    python -c 'from examsolve.registry import write_catalog; write_catalog()'",
             '"""', "", "CATALOG = {"]
    for name, fam in load_all().items():
        lines.append(f"    {name!r}: (")
        lines.append(f"        {fam.summary!r},")
        lines.append(f"        {fam.examples!r}),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_catalog() -> None:
    """Rewrite examsolve/catalog.py from the registry."""
    from pathlib import Path

    Path(__file__).with_name("catalog.py").write_text(catalog_text(), "utf-8")
