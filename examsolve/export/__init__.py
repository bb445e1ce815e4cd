"""Export solved specs to LMS formats: Moodle XML, Canvas QTI 1.2 (zip) and PrairieLearn question folders.

FORMATS maps each --to value to its module; every module has `write(problems, out, inputs)`.
"""
from __future__ import annotations

import os
import re

FORMATS = {"moodle": "examsolve.export.moodle", "canvas": "examsolve.export.qti",
           "prairielearn": "examsolve.export.prairielearn"}
MAX_FILES = 500          # spec files in one export
_VARIANT = re.compile(r"^(.*)\.v(\d+)$")


def spec_files(paths) -> list[str]:
    """The spec files named, folders expanded to their *.yaml / *.yml files (sorted)."""
    from examsolve.errors import Loc, SpecError

    out = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, n) for n in os.listdir(p) if n.endswith((".yaml", ".yml")))
        elif os.path.exists(p):
            out.append(p)
        else:
            raise SpecError("no such file or folder; check the path", Loc(p))
        if len(out) > MAX_FILES:
            raise SpecError(f"more than {MAX_FILES} spec files; export them in smaller groups", Loc(p))
    if not out:
        raise SpecError("no .yaml spec files found; give spec files or a folder holding them",
                        Loc(paths[0] if paths else "."))
    return out


def _stem(path: str) -> tuple[str, int]:
    """('bn_jacobian', 3) for bn_jacobian.v3.yaml: variants written by `examsolve variants` group together."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    m = _VARIANT.match(stem)
    return (m.group(1), int(m.group(2))) if m else (stem, 0)


def load_problems(paths, variants: int | None = None, seed: int = 0, progress=None) -> list:
    """Solve every spec into Problems: files `x.vN.yaml` of one stem are one problem's variants; with
    `variants`, a spec with a vary: block gets that many fresh variants."""
    from examsolve import load_spec, solve
    from examsolve.export.model import Problem, question, slug

    groups: dict[str, list] = {}
    for path in spec_files(paths):
        stem, k = _stem(path)
        groups.setdefault(stem, []).append((k, path))
    out = []
    for stem, members in groups.items():
        specs = []
        for _, path in sorted(members):
            spec = load_spec(path)
            if variants and spec.model.vary:
                specs += _fresh(path, variants, seed, progress)
            else:
                specs.append(spec)
        s = slug(stem)
        qs = tuple(question(sp, solve(sp), f"{s}_v{i}") for i, sp in enumerate(specs, 1))
        out.append(Problem(s, qs[0].title, qs))
    return out


def _fresh(path: str, count: int, seed: int, progress) -> list:
    """`count` variants of a spec with vary:, parsed (as `examsolve variants` writes them)."""
    from examsolve.spec import parse_spec
    from examsolve.variants import make_variants

    return [parse_spec(v.text, v.name) for v in make_variants(path, count, seed, progress=progress)]


def export(paths, to: str, out: str, variants: int | None = None, seed: int = 0, progress=None) -> list:
    """Solve the specs and write them in the format `to` at out; the Problems written."""
    import importlib

    from examsolve.errors import SpecError

    if to not in FORMATS:
        raise SpecError(f"--to {to} is not a format; choose one of " + ", ".join(FORMATS))
    files = spec_files(paths)
    module = importlib.import_module(FORMATS[to])
    module.check_target(out, files)
    problems = load_problems(files, variants, seed, progress)
    module.write(problems, out, files)
    return problems
