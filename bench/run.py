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


def rnn_spec(T: int, units: int = 1) -> str:
    """A tanh RNN over T steps (scalar, or `units` wide) with a loss on the last state."""
    xs = [((t * 7) % 5 - 2) / 4 for t in range(T)]
    if units == 1:
        return (f"kind: rnn\ngiven: {{V: 0.5, W: -0.25}}\nsequences: {{x: {xs}}}\ninitial: 0.1\n"
                "cell: tanh(V*h + W*x)\nloss: {each: h**2, steps: last}\n"
                "ask:\n  - grad: {of: L, wrt: [V, W]}\n")
    V = [[0.5 if i == j else 0.1 for j in range(units)] for i in range(units)]
    W = [[0.25 * ((i + j) % 3 - 1)] for i in range(units) for j in range(1)]
    return (f"kind: rnn\ngiven: {{V: {V}, W: {[w[0] for w in W]}}}\nsequences: {{x: {xs}}}\n"
            f"initial: {[0.1] * units}\ncell: tanh(V @ h + W*x)\nloss: {{each: sum(h**2), steps: last}}\n"
            "ask:\n  - grad: {of: L, wrt: [V, W]}\n")


NAIVE = """
import sys, time, sympy
T = int(sys.argv[1])
V, W = sympy.symbols("V W")
h = sympy.Rational(1, 10)
for t in range(T):
    h = sympy.tanh(V * h + W * sympy.Rational((t * 7) % 5 - 2, 4))
L = h ** 2
start = time.perf_counter()
g = [sympy.diff(L, v).subs({V: sympy.Rational(1, 2), W: sympy.Rational(-1, 4)}).evalf() for v in (V, W)]
print(time.perf_counter() - start)
"""


def naive(T: int, limit: int = 60) -> tuple[float | None, str]:
    """The global sympy.diff of the composed expression, in a subprocess with a time limit."""
    try:
        r = subprocess.run([sys.executable, "-c", NAIVE, str(T)], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return None, f"did not finish in {limit} s"
    if r.returncode != 0:
        return None, "failed: " + (r.stderr.strip().splitlines() or ["?"])[-1][:60]
    return float(r.stdout.strip()), ""


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
    in_process(rnn_spec(5))
    prev = None
    for T in (10, 100, 1000):
        t = in_process(rnn_spec(T))
        note = (f"x{t / prev:.1f} for 10x T" if prev else "") + ("; target < 5 s" if T == 1000 else "")
        rows.append((f"scalar tanh RNN, dL/d(V, W), T = {T}", t, note.strip("; ")))
        prev = t
    t = in_process(rnn_spec(100, units=4))
    rows.append(("4-unit vector tanh RNN, dL/d(V, W), T = 100", t, "target < 10 s"))
    for T in (8, 10):
        t, why = naive(T)
        rows.append((f"naive sympy.diff of the composed RNN, T = {T}", t if t is not None else float("nan"),
                     why or "for comparison"))
    params = ", ".join(f"w{i}: {i % 3 - 1}" for i in range(10))
    loss = " + ".join(f"{i + 1}*(w{i} - {i}/10)**2" for i in range(10))
    adam = (f"kind: optimizer\nparams: {{{params}}}\nloss: {loss}\n"
            "optimizer: {type: adam, lr: 0.01}\nsteps: 1000\n")
    rows.append(("1000 Adam steps, 10-parameter quadratic", in_process(adam), "target < 3 s"))
    prev = None
    for n in (7, 14, 28):
        rows_x = [[((i * 7 + j * 3) % 11) / 10 for j in range(n)] for i in range(n)]
        conv = (f"kind: conv\ngiven:\n  x: {rows_x}\n  w: [[0.1, -0.2, 0.3], [0.0, 0.5, -0.1], [0.2, 0.1, -0.3]]\n"
                "conv: {input: x, kernel: w, padding: 1, name: c}\nequations:\n  L: sum(c**2)/2\n"
                "ask:\n  - grad: {of: L, wrt: w}\n")
        t = in_process(conv)
        note = (f"x{t / prev:.1f} for 4x pixels" if prev else "") + ("; target < 5 s" if n == 28 else "")
        rows.append((f"3x3 conv gradient w.r.t. the kernel, {n}x{n} input", t, note.strip("; ")))
        prev = t
    for name in ("vgg16.yaml", "resnet18.yaml"):
        t = in_process((ROOT / "problems" / name).read_text())
        rows.append((f"{name} summary with steps (after start-up)", t, "target < 1 s"))
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
