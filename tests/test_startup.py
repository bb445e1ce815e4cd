"""Start-up: each command imports only what it needs (the modules loaded, not timings)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

SIN_NET = str(ROOT / "problems" / "sin_net.yaml")


# runs the command as `python -m examsolve ARGS` does, then prints every module loaded (importtime misses the
# ones loaded with importlib.import_module, such as a family or a renderer)
PROBE = """
import runpy, sys
sys.argv = ["examsolve", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("examsolve", run_name="__main__", alter_sys=True)
except SystemExit as e:
    code = e.code or 0
print("MODULES", *sorted(sys.modules), file=sys.stderr)
sys.exit(code)
"""


def imported(*args: str) -> set[str]:
    """The modules `python -m examsolve ARGS` loads (the command must succeed)."""
    r = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    return set(r.stderr.rsplit("MODULES ", 1)[1].split())


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def families(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("examsolve.families.")}


@pytest.mark.parametrize("args", [("--help",), ("list",), ("new", "graph"), ("run", "--help")])
def test_help_list_and_new_import_no_sympy_pydantic_rich_or_family(args):
    mods = imported(*args)
    assert not top_level(mods) & {"sympy", "pydantic", "rich", "yaml"}
    assert not families(mods)


@pytest.mark.parametrize("fmt", ["json", "latex", "markdown"])
def test_run_without_terminal_output_imports_no_rich_and_no_drawing(fmt):
    mods = imported("run", SIN_NET, "--format", fmt)
    assert "rich" not in top_level(mods)
    assert "examsolve.drawing" not in mods
    assert families(mods) == {"examsolve.families.graph"}   # only the spec's own family


def test_run_in_the_terminal_imports_no_drawing():
    mods = imported("run", SIN_NET)
    assert "rich" in top_level(mods)
    assert "examsolve.drawing" not in mods


def test_with_graph_imports_the_drawing():
    assert "examsolve.drawing" in imported("run", SIN_NET, "--format", "json", "--with-graph")


# bench/run.py's COLD_EXAMPLES: the start-up benchmark's examples
COLD_EXAMPLES = ("sin_net.yaml", "bn_jacobian.yaml", "mlp_2_2_1.yaml", "conv_maxpool_grad.yaml",
                 "rnn_step_back.yaml", "adam_two_steps.yaml", "softmax_ce.yaml")


@pytest.mark.parametrize("name", COLD_EXAMPLES)
def test_run_imports_no_pydantic_and_no_sympy_combinatorics(name):
    """The light validator checks the spec (examsolve/lightspec.py); sympy's first sum finds the tensor stand-in."""
    mods = imported("run", str(ROOT / "problems" / name))
    assert not top_level(mods) & {"pydantic", "pydantic_core"}
    assert "examsolve.spec_models" not in mods
    assert "sympy.combinatorics" not in mods
    assert "sympy.physics.units.systems" not in mods      # sympy.simplify asks only for Quantity


def test_run_without_a_key_imports_no_key_explanations():
    assert "examsolve.explain" not in imported("run", SIN_NET)


def test_a_spec_the_light_validator_leaves_to_pydantic_runs_as_before():
    mods = imported("run", str(ROOT / "problems" / "ce_bits.yaml"))   # base: 2, read by the family's validator
    assert "pydantic" in top_level(mods)


TENSORS = """
import sys
from examsolve import tensor_stand_in
tensor_stand_in.install()
import sympy
x, y = sympy.symbols("x y")
assert str(x + y + 1) == "x + y + 1" and "sympy.combinatorics" not in sys.modules
from sympy.tensor.tensor import TensExpr, TensAdd, TensorIndexType, TensorHead, tensor_indices
L = TensorIndexType("L")
i = tensor_indices("i", L)
A, B = TensorHead("A", [L]), TensorHead("B", [L])
e = A(i) + B(i)
assert type(e).__name__ == "TensAdd" and isinstance(e, TensExpr) and isinstance(e, TensAdd)
assert str(2 * A(i) + A(i)) == "3*A(i)" and str(TensAdd(A(i), B(i))) == "A(i) + B(i)"
import sympy.tensor.toperators
print("ok")
"""


def test_the_tensor_stand_in_gives_way_to_sympy_tensor():
    """Sums need no sympy.combinatorics; tensors, once asked for, work as without the stand-in."""
    r = subprocess.run([sys.executable, "-c", TENSORS], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.strip() == "ok", r.stderr[-2000:]


UNITS = """
import sys
from examsolve import tensor_stand_in
tensor_stand_in.install()
import sympy
x = sympy.Symbol("x")
assert sympy.simplify(sympy.exp(2) / (sympy.exp(2) + 2) + 0 * x) == sympy.exp(2) / (sympy.exp(2) + 2)
assert "sympy.physics.units.systems" not in sys.modules
from sympy.physics.units import meter, second, Quantity
assert isinstance(meter, Quantity) and str(sympy.simplify(3 * meter / second * second)) == "3*meter"
print("ok")
"""


def test_the_units_stand_in_gives_way_to_sympy_physics_units():
    """simplify needs no unit systems; units, once asked for, work as without the stand-in."""
    r = subprocess.run([sys.executable, "-c", UNITS], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.strip() == "ok", r.stderr[-2000:]


def test_catalog_matches_the_registry():
    from examsolve.catalog import CATALOG
    from examsolve.registry import load_all

    registered = {name: (fam.summary, fam.examples) for name, fam in load_all().items()}
    assert CATALOG == registered, ("examsolve/catalog.py is out of date; regenerate it with "
                                   "python -c 'from examsolve.registry import write_catalog; write_catalog()'")
    assert list(CATALOG) == sorted(CATALOG)   # `examsolve list` prints them in this order


def test_unknown_kind_message_lists_every_family():
    from examsolve.errors import SpecError
    from examsolve.registry import get_family, load_all

    with pytest.raises(SpecError) as err:
        get_family("grpah")
    assert "did you mean 'graph'" in str(err.value) or "graph" in str(err.value)
    assert str(err.value).endswith("known kinds: " + ", ".join(load_all()))
