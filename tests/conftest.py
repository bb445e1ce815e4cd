"""Shared helpers: the example specs, tool requirements, and a finite-difference oracle."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))


def require_tool(name: str) -> None:
    """Skip when a system tool is missing, unless EXAMSOLVE_REQUIRE_LATEX says CI must have it."""
    if shutil.which(name) is None:
        if os.environ.get("EXAMSOLVE_REQUIRE_LATEX"):
            pytest.fail(f"{name} is required (EXAMSOLVE_REQUIRE_LATEX is set) but not installed")
        pytest.skip(f"{name} is not installed")


def solve_text(tmp_path, body: str):
    """A spec written to a file in tmp_path and solved (positions and re-solves need a real file)."""
    from examsolve import load_spec, solve

    p = tmp_path / "s.yaml"
    p.write_text(body, encoding="utf-8")
    return solve(load_spec(str(p)))


def answer(sol, name: str):
    """The answer of a solution by name."""
    return next(a for a in sol.answers if a.name == name)


def run_cli(tmp_path, text: str, *args: str) -> str:
    """`examsolve run` of spec text written to tmp_path/spec.yaml, with more arguments; its standard output."""
    from click.testing import CliRunner

    from examsolve.cli import main

    f = tmp_path / "spec.yaml"
    f.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["run", str(f), *args])
    assert r.exit_code == 0, r.output
    return r.stdout


# a 2-2-2 relu/softmax net with the cross-entropy, one SGD step (tests/test_key_entries.py derives its values)
RELU_SOFTMAX_NET = """kind: mlp
given:
  x: [1, 2]
  y: [1, 0]
  W1: [[1, 0.5], [-1, 1]]
  b1: [0, 0.5]
  W2: [[1, -1], [0.5, 1]]
  b2: [0, 0]
input: x
target: y
layers:
  - {weights: W1, bias: b1, activation: relu}
  - {weights: W2, bias: b2, activation: softmax}
loss: ce
ask:
  - grad: {of: L, wrt: W1}
  - update: {of: L, params: [W1], lr: 0.1, steps: 1}
"""
