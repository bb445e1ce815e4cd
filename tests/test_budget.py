"""One resource budget per run (issue 12): time, size of numbers, memory; the quadratic loops made linear.

The commands run in a child process under EXAMSOLVE_TIME_LIMIT and a 60 s timeout; each must end with
exit 1 or 2 and one line on stderr (never 3, never a traceback), or succeed. No test measures time.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from conftest import ROOT, require_tool

from examsolve import budget, load_spec, solve
from examsolve.errors import SolveError, SpecError
from examsolve.spec import parse_spec

SIN = str(ROOT / "problems" / "sin_net.yaml")
# the CLI with the run's budget started as cli.py starts it (EXAMSOLVE_TIME_LIMIT, else 60 s)
WRAPPER = ("import sys; from examsolve import budget; from examsolve.cli import main; budget.start(); "
           "main(args=sys.argv[1:], prog_name='examsolve')")


def examsolve(*args, limit: float = 20, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, EXAMSOLVE_TIME_LIMIT=str(limit), PYTHONPATH=str(ROOT))
    env.pop("EXAMSOLVE_DEBUG", None)
    return subprocess.run([sys.executable, "-c", WRAPPER, *map(str, args)], capture_output=True, text=True,
                          timeout=60, env=env, cwd=cwd or ROOT)


def one_line(r: subprocess.CompletedProcess, code: int) -> str:
    assert r.returncode == code, (r.returncode, r.stderr[-2000:])
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr[-2000:]
    return lines[0]


def spec_file(tmp_path: Path, name: str, text: str) -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


@pytest.fixture(autouse=True)
def no_budget_left_behind():
    yield
    budget.stop()


# ---- numbers too large to compute ------------------------------------------------------

EXP3 = "kind: graph\ngiven: {x: 20}\nequations:\n  y: exp(exp(exp(x)))\nask: [{value: [y]}]\n"


def test_exp_exp_exp_is_refused_in_one_line(tmp_path):
    f = spec_file(tmp_path, "e.yaml", EXP3)
    line = one_line(examsolve("run", f), 1)
    assert line.startswith(f"{f}:4:3: a number with more than 20000 digits: exp(exp(exp(20)))")


def test_power_towers_are_refused_not_out_of_memory(tmp_path):
    f = spec_file(tmp_path, "t.yaml", "kind: graph\ngiven: {x: 9}\nequations:\n  a: x**x\n  b: a**a\n"
                  "  c: b**b\n  y: c**c\nask: [{value: [y]}]\n")
    line = one_line(examsolve("run", f, "--format", "json"), 1)
    assert "a number with more than 1000000000 digits: 387420489**387420489" in line


def test_large_values_stay_floats_and_small_towers_stay_exact():
    x = sympy.Symbol("x")
    budget.check_number(sympy.exp(sympy.exp(20)))            # 10**(2·10**8): a float can hold it
    budget.check_number(sympy.Float(10) ** 100_000_000)
    budget.check_number(sympy.Integer(9) ** 9 ** 2)
    budget.check_number(sympy.exp(x) ** 1000)                  # symbols: nothing to estimate
    for too_big in (sympy.exp(sympy.exp(sympy.exp(20))), sympy.sin(sympy.Float("1e30000"), evaluate=False),
                    sympy.tanh(sympy.exp(sympy.Integer(10) ** 6), evaluate=False),
                    sympy.Pow(sympy.Float("1e999", 30), 10 ** 9, evaluate=False)):
        with pytest.raises(budget.BudgetError) as e:
            budget.check_number(too_big)
        assert e.value.kind == "number" and isinstance(e.value, SolveError) and e.value.exit_code == 1
    assert abs(budget.digits(sympy.Integer(10) ** 50 * sympy.pi) - 50.497) < 0.01


def test_a_key_that_explodes_is_refused(tmp_path):
    text = "kind: graph\ngiven: {x: 2}\nequations:\n  y: x + 1\nask: [{value: [y]}]\nkey: {y: exp(exp(exp(20)))}\n"
    one_line(examsolve("run", spec_file(tmp_path, "k.yaml", text)), 1)


def test_a_student_answer_that_explodes_is_a_wrong_answer_not_a_hang():
    r = examsolve("grade", SIN, "-a", "L=exp(exp(exp(20)))", "-a", "u=2*pi", "--format", "json")
    assert r.returncode == 0, r.stderr
    marks = {m["name"]: m for m in json.loads(r.stdout)["answers"]}
    assert not marks["L"]["correct"] and "more than 20000 digits" in marks["L"]["feedback"]
    assert marks["u"]["correct"]


# ---- time ------------------------------------------------------------------------------

def test_check_raises_once_past_the_deadline_and_names_the_work():
    budget.start(0.05, memory_mb=None)
    with pytest.raises(budget.BudgetError) as e:
        while True:
            budget.check("the forward pass")
    assert e.value.kind == "time" and str(e.value).startswith("the run took longer than 0.05 s (--time-limit)")
    assert "the forward pass" in str(e.value)
    budget.stop()
    budget.check("anything")                       # no budget: no limit


def test_the_alarm_stops_work_that_never_checks_and_stop_restores_the_handler():
    if not hasattr(signal, "setitimer"):
        pytest.skip("no setitimer")
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(budget.BudgetError, match="took longer than 0.2 s"):
        with budget.limits(0.2, memory_mb=None):
            n = 0
            while True:                            # pure Python with no check(): only the alarm ends it
                n += 1
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_sections_share_the_one_timer_with_the_run():
    if not hasattr(signal, "setitimer"):
        pytest.skip("no setitimer")
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(SolveError, match="the solve ask did not finish within 0.2 s") as e:
        with budget.section(0.2, "the solve ask"):      # no run budget: the section alone
            while True:
                pass
    assert not isinstance(e.value, budget.BudgetError) and signal.getsignal(signal.SIGALRM) is before
    budget.start(0.3, memory_mb=None)
    with pytest.raises(budget.BudgetError):            # the run's deadline comes first
        with budget.section(20, "the hessian ask"):
            while True:
                pass
    budget.start(0.3, memory_mb=None)
    with budget.section(20, "a quick ask"):
        pass
    with pytest.raises(budget.BudgetError):            # and is still armed after a section
        while True:
            pass


def test_time_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXAMSOLVE_TIME_LIMIT", "7.5")
    assert budget.default_time_limit() == 7.5
    monkeypatch.setenv("EXAMSOLVE_TIME_LIMIT", "0")
    assert budget.default_time_limit() is None
    budget.start(None, memory_mb=None)
    assert budget.remaining() is None
    monkeypatch.setenv("EXAMSOLVE_TIME_LIMIT", "soon")
    with pytest.raises(SpecError, match="EXAMSOLVE_TIME_LIMIT"):
        budget.start()
    monkeypatch.delenv("EXAMSOLVE_TIME_LIMIT")
    assert budget.default_time_limit() == budget.DEFAULT_TIME_LIMIT == 60
    budget.start(5, memory_mb=None)
    assert 0 < budget.remaining() <= 5
    with pytest.raises(SpecError):
        budget.start(float("nan"))
    r = subprocess.run([sys.executable, "-m", "examsolve", "run", SIN, "--time-limit", "nan"], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "--time-limit nan" in one_line(r, 2)


def test_a_slow_run_ends_with_the_budget_message(tmp_path):
    text = ("kind: graph\ngiven: {w: [%s]}\nequations:\n  L: sum(w*w)\nask:\n  - grad: {of: L, wrt: w}\n"
            % ", ".join(["1"] * 20_000))
    line = one_line(examsolve("run", spec_file(tmp_path, "g.yaml", text), limit=0.5), 1)
    assert line.startswith("error: the run took longer than 0.5 s (--time-limit)")


# ---- memory ----------------------------------------------------------------------------

def test_memory_error_becomes_a_budget_error():
    if not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_AS is enforced on Linux")
    code = ("from examsolve import budget\n"
            "try:\n"
            "    with budget.limits(60, memory_mb=300):\n"
            "        blocks = [bytearray(64 * 2**20) for _ in range(64)]\n"
            "except budget.BudgetError as e:\n"
            "    print(e.kind, e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.stdout.startswith("memory the run needed more than 300 MiB of memory"), r.stdout + r.stderr
    err = budget.translate(MemoryError())
    assert isinstance(err, budget.BudgetError) and err.exit_code == 1
    value = ValueError("x")
    assert budget.translate(value) is value


# ---- input files ----------------------------------------------------------------------

def test_dev_zero_is_read_only_up_to_the_size_limit():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    line = one_line(examsolve("run", "/dev/zero"), 2)
    assert "larger than 262144 bytes" in line


def test_grade_rejects_nan_tolerance_and_non_utf8_answers(tmp_path):
    for option, value in (("--rel", "nan"), ("--abs", "inf")):
        line = one_line(examsolve("grade", SIN, "-a", "L=4", option, value), 2)
        assert f"{option} {value}" in line and "not a tolerance" in line
    bad = tmp_path / "answers.yaml"
    bad.write_bytes(b"L: \xff\xfe\n")
    line = one_line(examsolve("grade", SIN, "--answers", bad), 2)
    assert line.startswith(f"{bad}:1:1: the answers file is not UTF-8")
    if os.path.exists("/dev/zero"):
        assert "larger than" in one_line(examsolve("grade", SIN, "--answers", "/dev/zero"), 2)


# ---- variants: pools built once, huge ranges sampled, statements bounded ---------------

def test_a_fraction_rule_with_a_thousand_denominators(tmp_path):
    dens = list(range(1, 1001))
    text = ("kind: graph\ngiven: {a: [1, 2, 3]}\nequations: {y: sum(a)}\nask: [{value: [y]}]\n"
            f"vary:\n  a: {{fraction: [-50, 50], denominators: {dens}, not: [0]}}\n")
    f = spec_file(tmp_path, "f.yaml", text)
    r = examsolve("variants", f, "-n", "5", "-o", tmp_path / "v")
    assert r.returncode == 0, r.stderr
    from examsolve.spec import read_yaml
    for v in sorted((tmp_path / "v").iterdir()):
        for x in read_yaml(v.read_text(), str(v))[0]["given"]["a"]:
            q = Fraction(str(x))
            assert -50 <= q <= 50 and q != 0 and q.denominator <= 1000


def test_the_sampler_draws_every_distinct_value_evenly():
    from examsolve.variants import _sampler

    qs = [2, 3, 4]
    lo, hi = Fraction(0), Fraction(1)
    counts = [int(hi * q) - int(lo * q) + 1 for q in qs]
    pick = _sampler(lo, qs, counts, {Fraction(1, 3)})
    rng = random.Random(1)
    seen: dict = {}
    for _ in range(7000):
        v = pick(rng)
        seen[v] = seen.get(v, 0) + 1
    pool = {Fraction(p, q) for q in qs for p in range(q + 1)} - {Fraction(1, 3)}
    assert set(seen) == pool                       # 0, 1/4, 1/2, 2/3, 3/4, 1: 1/2 not counted twice
    assert all(600 < n < 1400 for n in seen.values()), seen


def test_each_rule_builds_its_values_once_per_run(tmp_path, monkeypatch):
    from examsolve import variants

    calls = []
    real = variants._source
    monkeypatch.setattr(variants, "_source", lambda rule: calls.append(rule) or real(rule))
    text = ("kind: graph\ngiven: {a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], b: 1}\nequations: {y: sum(a) + b}\n"
            "ask: [{value: [y]}]\nvary:\n  a: {decimal: [-0.05, 0.05], places: 6}\n  b: {int: [1, 9]}\n")
    made = variants.make_variants(str(spec_file(tmp_path, "d.yaml", text)), 5, 0)
    assert len(made) == 5 and len(calls) == 2


def test_statement_placeholders_cannot_blow_up(tmp_path):
    from examsolve.statement import MAX_STATEMENT, fill_statement

    text = ("kind: graph\nstatement: '%s'\ngiven: {x: &a [%s]}\nequations:\n  y: sum(x)\nask:\n  - value: [y]\n"
            % ("{x} " * 20_000, ", ".join(["1"] * 2000)))
    line = one_line(examsolve("run", spec_file(tmp_path, "s.yaml", text)), 2)
    assert f"longer than {MAX_STATEMENT} characters" in line
    data = {"given": {"x": [list(range(1000))] * 1000}}
    with pytest.raises(SpecError, match="longer than"):
        fill_statement("{x}", data)
    assert fill_statement("{x[0][2]} and {y}", data) == "2 and {y}"


# ---- drawing ---------------------------------------------------------------------------

def _slow_dot(n: int = 400) -> str:
    rng = random.Random(3)
    lines = ["digraph g {", "  rankdir=LR;"] + [f'  n{i} [label="op {i}"];' for i in range(n)]
    for i in range(3, n):
        for j in rng.sample(range(i), 3):
            lines.append(f'  n{j} -> n{i} [label="{j}.{i}\\n∂L: 1"];')
    return "\n".join(lines + ["}"]) + "\n"


def test_svg_is_bounded_by_size_and_by_the_time_budget():
    require_tool("dot")
    from examsolve.renderers import dot

    with pytest.raises(budget.BudgetError, match="too large for svg"):
        dot.to_svg(_slow_dot(1200))
    budget.start(1, memory_mb=None)
    with pytest.raises(budget.BudgetError) as e:
        dot.to_svg(_slow_dot(400))             # graphviz needs far longer than 1 s for this one
    assert e.value.kind == "time"


def test_graph_svg_command_stops_in_one_line(tmp_path):
    require_tool("dot")
    rng = random.Random(5)
    names, eqs = ["a", "b", "c"], []
    for k in range(300):
        i, j, m = rng.sample(names, 3)
        eqs.append(f"  e{k}: {i} + {j}*{m}")
        names.append(f"e{k}")
    text = "kind: graph\ngiven: {a: 1, b: 2, c: 3}\nequations:\n" + "\n".join(eqs) + "\nask: [{value: [e299]}]\n"
    line = one_line(examsolve("graph", spec_file(tmp_path, "g.yaml", text), "--format", "svg", limit=8), 1)
    assert "took longer than" in line


def test_graph_of_a_problem_without_a_graph_is_exit_2():
    spec = next(p for p in sorted((ROOT / "problems").glob("*.yaml")) if load_spec(str(p)).kind == "lr")
    line = one_line(examsolve("graph", spec), 2)
    assert "has no computational graph to draw" in line


# ---- linear loops ----------------------------------------------------------------------

def test_a_gradient_finds_the_ancestors_once(monkeypatch):
    from examsolve.graph import Graph

    calls = []
    real = Graph.ancestors
    monkeypatch.setattr(Graph, "ancestors", lambda self, t: calls.append(1) or real(self, t))
    text = ("kind: graph\ngiven: {w: [%s]}\nequations:\n  L: sum(w*w)\nask:\n  - grad: {of: L, wrt: w}\n"
            % ", ".join(["1"] * 500))
    sol = solve(parse_spec(text, "g.yaml"))
    assert sol.answers[0].value.items == (2,) * 500
    assert len(calls) < 10


def test_the_fast_convolution_sums_are_sympy_s_own():
    from examsolve.families.conv import _product, _sort_key, _sum

    key = _sort_key()
    rng = random.Random(0)
    w = [sympy.Symbol(f"w_{i}", real=True) for i in range(9)]
    x = [sympy.Symbol(f"x_{i}_{j}", real=True) for i in range(12) for j in range(12)]
    for _ in range(300):
        pairs = [(rng.choice(w + x[:3]), rng.choice(x + w[:2])) for _ in range(rng.randint(1, 10))]
        fast = _sum([_product(a, b, key) for a, b in pairs] + [w[0]], key)
        slow = sympy.Add(*[a * b for a, b in pairs], w[0])
        assert fast == slow and fast.args == slow.args


def test_a_150_by_150_convolution_is_bounded(tmp_path):
    rows = ", ".join(["[" + ", ".join(str((i * 7 + j * 3) % 5) for j in range(150)) + "]" for i in range(150)])
    text = (f"kind: conv\ngiven:\n  x: [{rows}]\n  w: [[1, 0, -1], [1, 0, -1], [1, 0, -1]]\n"
            "equations:\n  L: sum(c)\nask:\n  - grad: {of: L, wrt: w}\n")
    r = examsolve("run", spec_file(tmp_path, "c.yaml", text), limit=10)
    if r.returncode:
        assert "took longer than 10 s" in one_line(r, 1)


# ---- grading ---------------------------------------------------------------------------

def test_each_distinct_mistake_is_solved_once(tmp_path, monkeypatch):
    import examsolve
    from examsolve.grading import grade_file

    calls = []
    real = examsolve.solve
    monkeypatch.setattr(examsolve, "solve", lambda spec: calls.append(spec.file) or real(spec))
    mistakes = "".join(f"  - {{feedback: m{i}, set: {{x: {i % 3}}}}}\n" for i in range(600))
    f = spec_file(tmp_path, "m.yaml", "kind: graph\ngiven: {x: 2}\nequations:\n  y: x**2\nask:\n  - value: [y]\n"
                  "mistakes:\n" + mistakes)
    assert grade_file(str(f), ["y=1"]).marks[0].feedback.startswith("m1 ")
    calls.clear()
    assert grade_file(str(f), ["y=7"]).marks[0].feedback == ""    # no known path: every mistake is tried
    assert len(calls) <= 1 + 3 + 5            # the spec, three distinct mistakes, the other conventions


def test_six_hundred_mistakes_grade_within_the_budget(tmp_path):
    mistakes = "".join(f"  - {{feedback: m{i}, set: {{x: {i}}}}}\n" for i in range(600))
    f = spec_file(tmp_path, "m.yaml", "kind: graph\ngiven: {x: 2}\nequations:\n  y: x**2\nask:\n  - value: [y]\n"
                  "mistakes:\n" + mistakes)
    r = examsolve("grade", f, "-a", "y=3", limit=45)
    if r.returncode:
        assert "took longer than 45 s" in one_line(r, 1)
    else:
        assert "wrong" in r.stdout
