"""Graph-building cost per computed node (issue 16 item 2): prints a table.

Building is everything a family does before the Solver starts: the given values and equations parsed
(spec_expr, add_equations), the family's own nodes (conv windows, RNN steps) and Graph.add_node. It is timed in
this process, from solve() to the Solver's construction (parse_spec's YAML reading is not counted), as CPU
time of this process (the machine is shared: wall time follows the load) and wall time; the best of a few runs.

    python bench/build.py              # the table
    python bench/build.py --quick      # smaller sizes
    python bench/build.py --repeat 1   # one run per row (default: the best of 3)
    python bench/build.py --only dense # the rows whose name has "dense"
    python bench/build.py --profile chain   # and the top functions of cProfile for rows whose name has "chain"
"""
from __future__ import annotations

import cProfile
import gc
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench   # noqa: E402 - the spec generators of bench/run.py

TARGET_US = 50


class _Built(Exception):
    def __init__(self, graph):
        self.graph = graph


def build(spec_text: str, profile: cProfile.Profile | None = None) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, computed nodes) to build one spec's graph, stopping where the Solver
    would start."""
    import examsolve.asks as asks
    from examsolve import solve
    from examsolve.spec import parse_spec

    class Stop(asks.Solver):
        def __init__(self, spec, graph):     # noqa: D107 - no solving: building ends here
            raise _Built(graph)

    spec = parse_spec(spec_text, "bench.yaml")
    real, asks.Solver = asks.Solver, Stop
    gc.collect()
    try:
        t, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        try:
            solve(spec)
        except _Built as b:
            graph = b.graph
        else:
            raise RuntimeError("the family did not build a graph")
        finally:
            if profile:
                profile.disable()
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
    finally:
        asks.Solver = real
    return cpu, took, graph.computed


def rows(quick: bool = False) -> list[tuple[str, str]]:
    chain_n, T, conv_n, width, sizes = (1000, 300, 28, 64, (196, 16, 10)) if quick else \
        (4000, 1000, 56, 256, (784, 32, 10))
    return [(f"chain_spec({chain_n})", bench.chain_spec(chain_n)),
            (f"rnn_spec({T})", bench.rnn_spec(T)),
            ("rnn_spec(100, units=4)", bench.rnn_spec(100, units=4)),
            (f"conv_spec({conv_n})", bench.conv_spec(conv_n)),
            (f"dense_spec({width})", bench.dense_spec(width)),
            (f"mlp_spec({sizes})", bench.mlp_spec(sizes))]


def main() -> None:
    quick = "--quick" in sys.argv
    prof = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else None
    for warm in (bench.chain_spec(20), bench.conv_spec(4), bench.rnn_spec(3)):    # imports, first-use caches
        build(warm)
    table = rows(quick)
    if "--only" in sys.argv:
        table = [r for r in table if sys.argv[sys.argv.index("--only") + 1] in r[0]]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    width = max(len(n) for n, _ in table)
    print(f"{'spec':<{width}}  {'nodes':>6}  {'CPU s':>7}  {'us/node':>8}  {'wall s':>7}")
    print("-" * (width + 40))
    profiles = []
    for name, text in table:
        runs = [build(text) for _ in range(repeat)]
        cpu, nodes = min(r[0] for r in runs), runs[0][2]
        took = min(r[1] for r in runs)
        mark = "" if cpu / nodes * 1e6 <= TARGET_US else "  (target <= %d)" % TARGET_US
        print(f"{name:<{width}}  {nodes:>6}  {cpu:7.3f}  {cpu / nodes * 1e6:8.1f}  {took:7.3f}{mark}", flush=True)
        if prof and prof in name:
            p = cProfile.Profile()
            build(text, p)
            profiles.append((name, p))
    for name, p in profiles:
        out = io.StringIO()
        pstats.Stats(p, stream=out).sort_stats("tottime").print_stats(25)
        print(f"\n==== cProfile of {name} (by own time) ====")
        print("\n".join(out.getvalue().splitlines()[6:40]))


if __name__ == "__main__":
    main()
