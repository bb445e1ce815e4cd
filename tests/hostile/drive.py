"""Run every examsolve command on one hostile spec inside one process under a 2 GiB address-space limit.

Usage: python tests/hostile/drive.py SPEC WORKDIR  ->  a JSON list, one entry per command, on stdout.
Each -o target starts as a sentinel file, so a test can see whether a failing command changed it.
"""
from __future__ import annotations

import json
import os
import resource
import sys

LIMIT = 2 * 1024 ** 3
SENTINEL = "SENTINEL: must stay as it is when the command fails\n"


def commands(spec: str, work: str) -> list[tuple[str, list[str], str | None]]:
    """(label, argv, output file or None) for every command a user may run on one spec."""
    return [
        ("check", ["check", spec], None),
        ("json", ["run", spec, "--format", "json", "-o", os.path.join(work, "out.json")], os.path.join(work, "out.json")),
        ("latex", ["run", spec, "--format", "latex", "--standalone", "-o", os.path.join(work, "out.tex")],
         os.path.join(work, "out.tex")),
        ("markdown", ["run", spec, "--format", "markdown", "-o", os.path.join(work, "out.md")],
         os.path.join(work, "out.md")),
        ("terminal", ["run", spec, "--with-graph"], None),
        ("graph", ["graph", spec, "--format", "dot"], None),
        ("tikz", ["graph", spec, "--format", "tikz"], None),
        ("sheet", ["sheet", spec, "--with-graph", "-o", os.path.join(work, "sheet.tex")],
         os.path.join(work, "sheet.tex")),
        ("questions", ["sheet", spec, "--questions-only", "-o", os.path.join(work, "q.tex")], os.path.join(work, "q.tex")),
        ("grade", ["grade", spec, "-a", "y=1", "-a", "L=exp(exp(exp(20)))"], None),
        ("variants", ["variants", spec, "-n", "2", "-o", os.path.join(work, "v")], None),
    ]


def main() -> None:
    spec, work = sys.argv[1], sys.argv[2]
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    from click.testing import CliRunner

    from examsolve.cli import main as cli

    results = []
    for label, argv, out in commands(spec, work):
        if out:
            with open(out, "w", encoding="utf-8") as f:
                f.write(SENTINEL)
        r = CliRunner().invoke(cli, argv)
        crashed = r.exception is not None and not isinstance(r.exception, SystemExit)
        text = None
        if out:
            with open(out, encoding="utf-8", errors="replace") as f:
                text = f.read()
        results.append({"label": label, "argv": argv, "code": r.exit_code, "stderr": r.stderr,
                        "stdout": r.stdout[-200_000:], "crashed": repr(r.exception) if crashed else None,
                        "output": text})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
