"""Benchmarks for the issue's targets; prints a table (no timings live in tests).

Run with `make bench`; `python bench/run.py --startup` prints only the start-up rows (`--startup --all`: every
example, summarised);
`python bench/run.py engine [quick] [exact]` the engine rows (quick: smaller sizes; exact: the float
path's answers against the exact path too, minutes).
"""
from __future__ import annotations

import functools
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
        subprocess.run(cmd, check=True, capture_output=True, env=CACHED_BYTECODE)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


COLD_EXAMPLES = ("sin_net.yaml", "bn_jacobian.yaml", "mlp_2_2_1.yaml", "conv_maxpool_grad.yaml",
                 "rnn_step_back.yaml", "adam_two_steps.yaml", "softmax_ce.yaml")
TEN_LINES = ("kind: graph\ngiven:\n  x: [2, 1]\n  w: [pi/2, pi]\n  b: 0\n  l: 2\nequations:\n"
             "  y: sin(w @ x) - b\n  L: (y - l)**2\nask:\n  - grad: {of: L, wrt: w}\n")


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of a command."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=CACHED_BYTECODE)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime


# as after pip install: bytecode compiled once and reused (the shell may set PYTHONDONTWRITEBYTECODE)
CACHED_BYTECODE = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CACHED_BYTECODE["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "examsolve-bench-pycache")


def interleaved(cmds: dict[str, list[str]], repeat: int = 9) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each command, run in turn (so load noise hits them alike); one warm-up."""
    for cmd in cmds.values():
        timed(cmd)
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, cmd in cmds.items():
            runs[k].append(timed(cmd))
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}


def cold_start_rows(repeat: int = 9) -> list[tuple[str, float, str]]:
    """Whole-process `run` of each example against `python -c "import sympy"`, medians of interleaved runs."""
    rows = []
    for name in COLD_EXAMPLES:
        m = interleaved({"sympy": [sys.executable, "-c", "import sympy"],
                         "run": EXE + ["run", str(ROOT / "problems" / name)]}, repeat)
        (sw, sc), (rw, rc) = m["sympy"], m["run"]
        rows.append((f"run {name} (cold; import sympy {sw:.3f} s)", rw,
                     f"{rw / sw:.2f}x import sympy (target <= 1.3x); CPU {rc:.3f} s = {rc / sc:.2f}x"))
    return rows


# the design card's libraries alone, one line printed and one YAML read: the floor under any `run`
LIBRARIES = ("import sympy, click, yaml, rich.console, rich.table, rich.panel; "
             "rich.console.Console().print('x'); yaml.safe_load('a: 1')")


def floor_row(repeat: int = 9) -> tuple[str, float, str]:
    """The libraries `run` needs (sympy, click, pyyaml, rich) against `import sympy` alone."""
    m = interleaved({"sympy": [sys.executable, "-c", "import sympy"], "libs": [sys.executable, "-c", LIBRARIES]},
                    repeat)
    (sw, sc), (lw, lc) = m["sympy"], m["libs"]
    return ("sympy + click + pyyaml + rich, one line printed (no examsolve)", lw,
            f"{lw / sw:.2f}x import sympy; CPU {lc / sc:.2f}x: the floor under every run")


def every_example_rows(repeat: int = 3) -> list[tuple[str, float, str]]:
    """`run` of every example against `import sympy` (interleaved): the spread and the slowest."""
    ratios = []
    for path in sorted((ROOT / "problems").glob("*.yaml")):
        m = interleaved({"sympy": [sys.executable, "-c", "import sympy"], "run": EXE + ["run", str(path)]}, repeat)
        ratios.append((m["run"][1] / m["sympy"][1], path.name))
    ratios.sort()
    within = sum(r <= 1.3 for r, _ in ratios)
    rows = [(f"run of all {len(ratios)} examples, CPU vs import sympy", statistics.median(r for r, _ in ratios),
             f"median ratio; min {ratios[0][0]:.2f}x, max {ratios[-1][0]:.2f}x; {within} within 1.3x")]
    rows += [(f"  slowest: {name}", r, "x import sympy (CPU)") for r, name in ratios[-5:]]
    return rows


FIRST_LOAD = """
import sys, time
import examsolve.spec, examsolve.registry, examsolve.families.graph
light = sys.argv[2] == "light"
if light:
    import examsolve.lightspec, examsolve.lightspec_table
else:
    import examsolve.spec_models
wall, cpu = time.perf_counter(), time.process_time()
examsolve.spec.parse_spec(sys.argv[1], "ten.yaml", light=light)
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


def spec_load_time(repeat: int = 9, light: bool = True) -> tuple[float, float]:
    """Median wall and CPU seconds of a process's first load of a 10-line spec, after its imports: with the light
    validator as `run` loads it, or with pydantic as examsolve.load_spec does."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", FIRST_LOAD, TEN_LINES, "light" if light else "pydantic"],
                             check=True, capture_output=True, text=True, env=CACHED_BYTECODE).stdout.split()
        runs.append((float(out[0]), float(out[1])))
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


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


# ---- issue 16, items 2 and 3: per-node cost, linear BPTT, given tensors as data, rendering and JSON ----

def conv_spec(n: int) -> str:
    """A 3x3 kernel over an n x n input (padding 1), L = sum(c**2)/2, gradient w.r.t. the kernel."""
    return (f"kind: conv\ngiven:\n  x: {conv_input(n)}\n  w: {CONV_KERNEL}\n"
            "conv: {input: x, kernel: w, padding: 1, name: c}\nequations:\n  L: sum(c**2)/2\n"
            "ask:\n  - grad: {of: L, wrt: w}\n")


CONV_KERNEL = [[0.1, -0.2, 0.3], [0.0, 0.5, -0.1], [0.2, 0.1, -0.3]]


def conv_input(n: int) -> list:
    """The bench's n x n conv input."""
    return [[((i * 7 + j * 3) % 11) / 10 for j in range(n)] for i in range(n)]


def dense_data(width: int) -> tuple:
    """(W, x, b) of the dense-layer bench: integer weights (a 256 x 256 matrix of decimals is past the
    spec's 256 KiB), small decimal inputs and biases."""
    W = [[(i * 7 + j * 3) % 11 - 5 for j in range(width)] for i in range(width)]
    x = [((j * 5) % 7 - 3) / 4 for j in range(width)]
    b = [((i * 3) % 5 - 2) / 10 for i in range(width)]
    return W, x, b


def dense_spec(width: int) -> str:
    """y = tanh(W @ x / 64 + b) with a given width x width matrix; the Jacobian dy/dx."""
    W, x, b = dense_data(width)
    return (f"kind: graph\ngiven:\n  W: {W}\n  x: {x}\n  b: {b}\nequations:\n  y: tanh(W @ x / 64 + b)\n"
            "ask:\n  - jacobian: {of: y, wrt: x}\n")


def mlp_data(sizes=(784, 32, 10)) -> tuple:
    """(x, y, [W1, W2], [b1, b2]) of the MLP bench: inputs and weights as small decimals."""
    x = [(i % 10) / 10 for i in range(sizes[0])]
    y = [1 if k == 3 else 0 for k in range(sizes[-1])]
    Ws = [[[((i * 7 + j * 3) % 11 - 5) / 100 for j in range(a)] for i in range(b)] for a, b in zip(sizes, sizes[1:])]
    bs = [[((i * 3) % 5 - 2) / 10 for i in range(b)] for b in sizes[1:]]
    return x, y, Ws, bs


def mlp_spec(sizes=(784, 32, 10)) -> str:
    """One SGD step (lr 0.5) of a sigmoid MLP with the MSE, weights given as small decimals."""
    x, y, Ws, bs = mlp_data(sizes)
    given = "".join(f"  W{k}: {W}\n  b{k}: {b}\n" for k, (W, b) in enumerate(zip(Ws, bs), 1))
    layers = "".join(f"  - {{weights: W{k}, bias: b{k}, activation: sigmoid}}\n" for k in range(1, len(Ws) + 1))
    params = ", ".join(f"W{k}, b{k}" for k in range(1, len(Ws) + 1))
    return (f"kind: mlp\ngiven:\n  x: {x}\n  y: {y}\n{given}input: x\ntarget: y\nlayers:\n{layers}loss: mse\n"
            f"ask:\n  - update: {{of: L, params: [{params}], lr: 0.5}}\n")


def answers_as_floats(sol) -> list[float]:
    """Every answer of a solution, flattened to floats in order (tensors row-major)."""
    from examsolve.tensor import Tensor

    out = []
    for a in sol.answers:
        items = a.value.items if isinstance(a.value, Tensor) else (a.value,)
        out.extend(float(v) for v in items)
    return out


def solve_timed(spec_text: str) -> tuple[float, float, object]:
    """(solve seconds, terminal render seconds, solution) in this process."""
    from examsolve import render, solve
    from examsolve.spec import parse_spec

    t = time.perf_counter()
    sol = solve(parse_spec(spec_text, "bench.yaml"))
    t1 = time.perf_counter()
    render(sol, "terminal")
    return t1 - t, time.perf_counter() - t1, sol


# started from a small process: a child forked from this one (hundreds of MiB after the in-process rows) counts
# this process's pages in its peak RSS until it execs
_SPAWN = """
import os, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
print(time.perf_counter() - t, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))
"""


def run_child(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit code) of one `examsolve` process (os.wait4: that child's rusage)."""
    out = subprocess.run([sys.executable, "-c", _SPAWN] + EXE + args, capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def against_exact(spec_text: str, floats: list[float]) -> float:
    """The largest relative difference between the float path's answers and the exact path's."""
    from examsolve import floatpath, solve
    from examsolve.spec import parse_spec

    saved = floatpath.FLOAT_NODES, floatpath.FLOAT_EDGES
    floatpath.FLOAT_NODES = floatpath.FLOAT_EDGES = 10 ** 9
    try:
        exact = answers_as_floats(solve(parse_spec(spec_text, "bench.yaml")))
    finally:
        floatpath.FLOAT_NODES, floatpath.FLOAT_EDGES = saved
    return max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(floats, exact))


def engine_row(name: str, spec_text: str, reference, with_exact: bool = False) -> dict:
    """One issue-16 row: in-process solve/render, whole-process terminal vs JSON with peak memory, and the
    answers against the plain-Python float reverse mode (and, with_exact, against the exact path when the
    row took the float path)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from reference import agree

    row = {"name": name}
    try:
        row["solve"], row["render"], sol = solve_timed(spec_text)
        ok, worst = agree(answers_as_floats(sol), reference())
        row["ref"] = f"{'ok' if ok else 'DIFF'} {worst:.0e}"
    except Exception as e:  # noqa: BLE001 - a refused or failing spec is a row, not a crash
        row["ref"] = "failed: " + str(e).splitlines()[0][:50]
        return row
    row["path"] = "float" if any(n.startswith("float path") for n in sol.notes) else "exact"
    if row["path"] == "float" and with_exact:
        row["ref"] += f"; exact path {against_exact(spec_text, answers_as_floats(sol)):.0e}"
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.yaml"
        path.write_text(spec_text)
        row["term"], row["term_mib"], _ = run_child(["run", str(path)])
        row["json"], row["json_mib"], _ = run_child(["run", str(path), "--format", "json"])
    return row


def engine_rows(quick: bool = False, with_exact: bool = False) -> list[dict]:
    """The issue's engine and rendering rows (quick: smaller sizes, for a first look; with_exact: the
    float path's answers against the exact path too, which takes minutes)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import reference as ref

    chain_n, rnn_T, conv_n, width = (1000, (300, 900), 28, 64) if quick else (4000, (1000, 3000), 56, 256)
    xs = lambda T: [((t * 7) % 5 - 2) / 4 for t in range(T)]     # noqa: E731 - rnn_spec's sequence
    row = functools.partial(engine_row, with_exact=with_exact)
    solve_timed(chain_spec(3))      # imports and first-use caches once, so the first row times the engine alone
    rows = [row(f"tanh chain gradient, n = {chain_n}", chain_spec(chain_n), lambda: ref.tanh_chain(chain_n))]
    # T = 1000 is solved exactly, 3000 on the float path; the float path's own slope from 3000 to 6000
    for T in rnn_T + (2 * rnn_T[1],):
        rows.append(row(f"scalar tanh RNN, dL/d(V, W), T = {T}", rnn_spec(T), lambda T=T: ref.scalar_rnn(xs(T))))
    import math
    for (a, b), (ta, tb) in (((rows[1], rows[2]), rnn_T), ((rows[2], rows[3]), (rnn_T[1], 2 * rnn_T[1]))):
        if "solve" in a and "solve" in b:
            for key in ("solve", "render"):
                b[f"slope_{key}"] = math.log(b[key] / a[key]) / math.log(tb / ta)
    rows.append(row(f"3x3 conv gradient w.r.t. the kernel, {conv_n}x{conv_n}", conv_spec(conv_n),
                    lambda: ref.conv_kernel_grad(conv_input(conv_n), CONV_KERNEL)))
    W, x, b_ = dense_data(width)
    rows.append(row(f"dense Jacobian dy/dx, width {width}", dense_spec(width),
                    lambda: ref.dense_jacobian(W, x, b_, 64)))
    sizes = (196, 16, 10) if quick else (784, 32, 10)
    mx, my, mW, mb = mlp_data(sizes)
    rows.append(row(f"MLP {'-'.join(map(str, sizes))} one SGD step", mlp_spec(sizes),
                    lambda: ref.mlp_sgd(mx, my, mW, mb, 0.5)))
    return rows


def print_engine_rows(rows: list[dict]) -> None:
    """The issue-16 table: seconds, JSON/terminal ratio, peak MiB and the reference column."""
    width = max(len(r["name"]) for r in rows)
    print(f"{'engine benchmark':<{width}}  {'path':>5} {'solve':>7} {'render':>7} {'term':>7} {'json':>7} {'j/t':>5} "
          f"{'MiB t':>6} {'MiB j':>6}  float ref (1e-9)")
    print("-" * (width + 80))
    f = lambda r, k, fmt="7.2f": format(r[k], fmt) if k in r else " " * int(fmt.split(".")[0])  # noqa: E731
    for r in rows:
        ratio = f"{r['json'] / r['term']:5.2f}" if "json" in r else "     "
        slope = "".join(f"; slope {k[6:]} {r[k]:.2f}" for k in ("slope_solve", "slope_render") if k in r)
        print(f"{r['name']:<{width}}  {r.get('path', ''):>5} {f(r, 'solve')} {f(r, 'render')} {f(r, 'term')} {f(r, 'json')} {ratio} "
              f"{f(r, 'term_mib', '6.0f')} {f(r, 'json_mib', '6.0f')}  {r.get('ref', '')}{slope}")
    print("\n(solve/render: in-process seconds; term/json: whole `examsolve run` processes; MiB: their peak RSS;"
          " ratios are from the same run — the machine is shared, absolute seconds are noisy)")


def main() -> None:
    rows = []
    base = wall([sys.executable, "-c", "pass"])
    sym = wall([sys.executable, "-c", "import sympy"])
    lst = wall(EXE + ["list"])
    rows.append(("python -c pass", base, ""))
    rows.append(("python -c 'import sympy'", sym, ""))
    rows.append(("examsolve list (cold)", lst, f"{lst / base:.1f}x bare start (target <= 10x)"))
    rows.append(floor_row())
    rows.extend(cold_start_rows())
    if "--all" in sys.argv:
        rows.extend(every_example_rows())
    wall_load, cpu_load = spec_load_time()
    rows.append(("first load of a 10-line spec in a process, after imports", wall_load,
                 f"target < 0.020 s; CPU {cpu_load:.3f} s (light validator, as run)"))
    wall_load, cpu_load = spec_load_time(light=False)
    rows.append(("  the same with pydantic (examsolve.load_spec)", wall_load, f"CPU {cpu_load:.3f} s"))
    if "--startup" in sys.argv:     # only the start-up rows
        return _print(rows)
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
    rows.append(class_grading_row())
    _print(rows)


# a class for `grade --class`: sin_net's answers right, rounded, on a known wrong path, or hostile
CLASS_ANSWERS = {
    "right": ("2*pi", "0", "4", "[-8, -4]", "[pi/2 + 4, 2 + pi]"),
    "rounded": ("6.283", "0", "4.00", "[-8.0, -4.0]", "[5.571, 5.142]"),
    "mistake": ("-6.283", "0", "2", "[-4, -2]", "[3.571, 4.142]"),         # sign, then the ½ convention
    "garbage": ("=cmd|' /C calc'!A0", "10**10**10", "", "ü", "[1, 2, 3]"),
}


def class_csv(n: int, seed: int = 1) -> str:
    """n students of sin_net, each answer drawn from one of CLASS_ANSWERS' kinds (header id,u,y,L,dL/dw,w…)."""
    import csv
    import io
    import random

    rng = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "u", "y", "L", "dL/dw", "w after 1 step"])
    kinds = list(CLASS_ANSWERS)
    for i in range(n):
        w.writerow([f"s{i:03d}"] + [CLASS_ANSWERS[rng.choice(kinds)][k] for k in range(5)])
    return buf.getvalue()


def class_grading_row(n: int = 200) -> tuple[str, float, str]:
    """Seconds to grade a generated class of n students in one call (in-process, after imports)."""
    from examsolve.export import classgrade

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "class.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(class_csv(n))
        t = time.perf_counter()
        classgrade.grade_class(str(ROOT / "problems" / "sin_net.yaml"), path)
        took = time.perf_counter() - t
    return (f"grade --class: {n} students of sin_net in one call", took, "target < 10 s")


def _print(rows: list[tuple[str, float, str]]) -> None:
    """The table: name, seconds, note."""
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'seconds':>8}  note")
    print("-" * (width + 40))
    for name, t, note in rows:
        print(f"{name:<{width}}  {t:8.3f}  {note}")
    print(f"\n(median of several runs; {os.cpu_count()} cores; python {sys.version.split()[0]})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["engine"]:      # only the issue-16 engine rows: `python bench/run.py engine [quick] [exact]`
        print_engine_rows(engine_rows(quick="quick" in sys.argv[2:], with_exact="exact" in sys.argv[2:]))
    else:
        main()
