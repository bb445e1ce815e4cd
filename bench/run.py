"""Benchmarks for the issue's targets; prints a table (no timings live in tests).

Run with `make bench`.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXE = [sys.executable, "-m", "examsolve"]


def wall(cmd: list[str], repeat: int = 5) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def in_process(spec_text: str) -> float:
    """Seconds to load, solve and render (terminal) one spec in this process (imports done)."""
    from examsolve import render, solve
    from examsolve.spec import parse_spec

    t = time.perf_counter()
    render(solve(parse_spec(spec_text, "bench.yaml")), "terminal")
    return time.perf_counter() - t


def draw_dot(spec_text: str) -> float:
    """Seconds to build the drawing of a solved spec and write it as DOT."""
    from examsolve import drawing, solve
    from examsolve.renderers import dot
    from examsolve.spec import parse_spec

    spec = parse_spec(spec_text, "bench.yaml")
    sol = solve(spec)
    t = time.perf_counter()
    d = drawing.build(sol.graph, spec.model.conventions.model_dump(), drawing.default_of(spec),
                      backprop=sol.backprop)
    dot.render(d)
    return time.perf_counter() - t


def bn_spec(m: int, wrt: str = "[beta, gamma]") -> str:
    """The bn_jacobian question (seed 001 Q1) with a batch of m samples."""
    xs = ", ".join(str((i * 7) % 13 + i) for i in range(m))
    return (f"kind: batchnorm\ngiven:\n  x: [{xs}]\n  gamma: 2\n  beta: 1\n"
            f"ask:\n  - value: [mu, var]\n  - jacobian: {{of: y, wrt: {wrt}}}\n")


def chain_spec(n: int) -> str:
    eqs = "\n".join(f"  a{i}: tanh(a{i - 1})" for i in range(1, n + 1))
    return f"kind: graph\ngiven:\n  a0: 0.5\nequations:\n{eqs}\nask:\n  - grad: {{of: a{n}, wrt: a0}}\n"


def main() -> None:
    rows = []
    base = wall([sys.executable, "-c", "pass"])
    sym = wall([sys.executable, "-c", "import sympy"])
    lst = wall(EXE + ["list"])
    rows.append(("python -c pass", base, ""))
    rows.append(("python -c 'import sympy'", sym, ""))
    rows.append(("examsolve list (cold)", lst, f"{lst / base:.1f}x bare start (target <= 10x)"))
    for p in sorted((ROOT / "problems").glob("*.yaml")):
        t = wall(EXE + ["run", str(p)], repeat=3)
        rows.append((f"run {p.name} (cold)", t, f"{t / sym:.2f}x import sympy (target <= 2x)"))
    in_process(bn_spec(4))   # warm up imports and caches
    for m in (8, 64, 256):
        t = in_process(bn_spec(m))
        rows.append((f"batch-norm Jacobian dy/d[beta, gamma], m = {m}", t,
                     "target < 3 s at m = 256" if m == 256 else ""))
    for m in (8, 64, 256):
        t = in_process(bn_spec(m, "x"))
        kind = "exact" if m * m <= 4096 else "30-digit floats past 4096 entries"
        rows.append((f"batch-norm Jacobian dy/dx ({m} x {m}), m = {m}", t,
                     kind + ("; also < 3 s" if m == 256 else "")))
    prev = None
    for n in (250, 500, 1000, 2000):
        t = in_process(chain_spec(n))
        ratio = f"x{t / prev:.2f} for 2x n" if prev else ""
        rows.append((f"tanh chain gradient, n = {n}", t, (ratio + ("; target < 5 s" if n == 2000 else "")).strip("; ")))
        prev = t
    t = draw_dot(chain_spec(2000))
    rows.append(("drawing (DOT, values and gradients) of a 2000-node graph", t, "target < 2 s (after solving)"))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'seconds':>8}  note")
    print("-" * (width + 40))
    for name, t, note in rows:
        print(f"{name:<{width}}  {t:8.3f}  {note}")
    print(f"\n(median of several runs; {os.cpu_count()} cores; python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
