"""libyaml's composer, used for large plain specs (examsolve.spec._compose), gives read_yaml the same data,
positions and spans as PyYAML's pure-Python composer; anything else, and anything nested deeper than
C_COMPOSE_NESTING (libyaml's composer recurses in C, and libyaml 0.2.5 overflows its stack), goes to the
pure-Python one."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from examsolve import spec as spec_module

PAD = "\n" + "#" * (spec_module.C_COMPOSE_CHARS + 1) + "\n"     # a comment making any text large


def chain_spec(n: int) -> str:
    """A graph of n tanh equations: a long block mapping."""
    eqs = "\n".join(f"  a{i}: tanh(a{i - 1})" for i in range(1, n + 1))
    return f"kind: graph\ngiven:\n  a0: 0.5\nequations:\n{eqs}\nask:\n  - grad: {{of: a{n}, wrt: a0}}\n"


def matrix_spec(n: int, decimals: bool) -> str:
    """A graph with an n x n matrix given in flow style (whole numbers from -5 to 5, or tenths)."""
    rows = [[(i * 7 + j * 3) % 11 - 5 for j in range(n)] for i in range(n)]
    W = [[x / 10 for x in row] for row in rows] if decimals else rows
    x = [((j * 5) % 7 - 3) / 4 for j in range(n)]
    return (f"kind: graph\ngiven:\n  W: {W}\n  x: {x}\nequations:\n  y: tanh(W @ x / 64)\n"
            "ask:\n  - jacobian: {of: y, wrt: x}\n")


def rnn_spec(T: int) -> str:
    """A scalar RNN over T steps: a long flow list of decimals inside flow mappings."""
    xs = [((t * 7) % 5 - 2) / 4 for t in range(T)]
    return (f"kind: rnn\ngiven: {{V: 0.5, W: -0.25}}\nsequences: {{x: {xs}}}\ninitial: 0.1\n"
            "cell: tanh(V*h + W*x)\nloss: {each: h**2, steps: last}\nask:\n  - grad: {of: L, wrt: [V, W]}\n")


def mlp_spec(layers: int) -> str:
    """An MLP with many layers: a block list of flow mappings and block-mapped small matrices."""
    given = "".join(f"  W{k}:\n    - [0.1, -0.2]\n    - [0.3, 0.4]\n  b{k}: [0, 0.5]\n" for k in range(layers))
    items = "".join(f"  - {{weights: W{k}, bias: b{k}, activation: sigmoid}}\n" for k in range(layers))
    return (f"kind: mlp\ngiven:\n  x: [1, 2]\n  y: [0, 1]\n{given}input: x\ntarget: y\nlayers:\n{items}"
            "loss: mse\nask:\n  - update: {of: L, params: [W0, b0], lr: 0.5}\n")


BIG = {"chain": chain_spec(1200), "conv": matrix_spec(56, decimals=True), "rnn": rnn_spec(3000),
       "mlp": mlp_spec(300), "matrix256": matrix_spec(256, decimals=False)}
EXAMPLES = sorted((ROOT / "problems").glob("*.yaml"))

# texts nested far deeper than MAX_YAML_DEPTH, large enough for libyaml and under MAX_BYTES
DEEP = {
    "block lists on one line": "- " * 50000 + "1",
    "block mappings by indentation": "".join("  " * k + f"k{k}:\n" for k in range(420)) + "  " * 420 + "1\n" + PAD,
    "block mappings in block lists": "".join(" " * (4 * k) + "- k:\n" for k in range(300)) + " " * 1202 + "1\n",
    "mixed block and flow": ("- " * 3000 + "a:\n" + " " * 6002 + "- " * 3000 + "[" * 100 + "{b: " * 100 + "1"
                             + "}" * 100 + "]" * 100 + "\n"),
    "flow pairs": "[a: " * 30000 + "1" + "]" * 30000,
    "brackets hidden by quoted brackets": '["]",' * 42000 + "1" + "]" * 42000,
}


def nests_deeper_than(text: str, levels: int) -> bool:
    """Whether text's collections nest deeper than levels, by PyYAML's pure-Python parser (a state machine), read
    only that far (its scanner is quadratic in the flow depth)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > levels:
                return True
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return False


def composers_used(text: str, mp: pytest.MonkeyPatch) -> tuple[object, list]:
    """read_yaml's result (or its SpecError) and the loaders yaml.compose was called with."""
    seen: list = []
    real = yaml.compose
    mp.setattr(yaml, "compose", lambda t, Loader: seen.append(Loader) or real(t, Loader=Loader))
    try:
        result = spec_module.read_yaml(text, "t.yaml")[0]
    except spec_module.SpecError as e:
        result = e
    return result, seen


def both(text: str, monkeypatch) -> tuple:
    """read_yaml's (data, marks, key marks, spans) with the pure-Python composer and with libyaml's."""
    out = []
    for threshold in (10 ** 9, -1):
        monkeypatch.setattr(spec_module, "C_COMPOSE_CHARS", threshold)
        spans: dict = {}
        out.append(spec_module.read_yaml(text, "t.yaml", spans) + (spans,))
    return tuple(out)


@pytest.mark.parametrize("name", sorted(BIG))
def test_large_specs_read_alike(name, monkeypatch):
    assert len(BIG[name]) > spec_module.C_COMPOSE_CHARS
    python, c = both(BIG[name], monkeypatch)
    assert python == c


@pytest.mark.parametrize("name", sorted(BIG))
def test_large_specs_take_libyaml(name, monkeypatch):
    """The fast path stays: an ordinary large spec (a 256 x 256 matrix ...) is composed by libyaml alone."""
    assert len(BIG[name].encode()) <= spec_module.MAX_BYTES
    result, seen = composers_used(BIG[name], monkeypatch)
    assert isinstance(result, dict) and result["kind"]
    assert seen == [yaml.CSafeLoader]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_reads_alike(path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    if not text.isascii() or "\t" in text or "\r" in text:
        pytest.skip("not plain ASCII: always the pure-Python composer")
    python, c = both(text, monkeypatch)
    assert python == c


def test_a_syntax_error_is_reported_by_the_pure_python_composer(monkeypatch):
    """Its message and position, whichever composer tried first."""
    text = BIG["chain"].replace("  a7: tanh(a6)", "  a7: [tanh(a6)", 1)
    monkeypatch.setattr(spec_module, "C_COMPOSE_CHARS", 10 ** 9)
    with pytest.raises(spec_module.SpecError) as python:
        spec_module.read_yaml(text, "t.yaml")
    monkeypatch.setattr(spec_module, "C_COMPOSE_CHARS", -1)
    with pytest.raises(spec_module.SpecError) as c:
        spec_module.read_yaml(text, "t.yaml")
    assert str(python.value) == str(c.value)


def test_deep_brackets_never_reach_libyaml(monkeypatch):
    """libyaml's composer recurses in C; deeply nested brackets stay with the pure-Python one."""
    text = "kind: graph\nx: " + "[" * 200 + "1" + "]" * 200 + PAD
    result, seen = composers_used(text, monkeypatch)
    assert isinstance(result, spec_module.SpecError) and "nested" in str(result)
    assert seen == [yaml.SafeLoader]


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_nesting_of_any_kind_never_reaches_libyaml(name, monkeypatch):
    """Block lists, block mappings, flow pairs and brackets that quotes hide all count: a SpecError, never a
    crash in libyaml's composer."""
    text = DEEP[name]
    assert spec_module.C_COMPOSE_CHARS < len(text) <= spec_module.MAX_BYTES and text.isascii()
    assert nests_deeper_than(text, 200)
    result, seen = composers_used(text, monkeypatch)
    assert isinstance(result, spec_module.SpecError) and "nested" in str(result)
    assert seen == [yaml.SafeLoader]


@pytest.mark.parametrize("name", ["block lists on one line", "block mappings by indentation",
                                  "mixed block and flow"])
def test_deep_nesting_exits_2_with_a_position(name, tmp_path):
    """`examsolve run` of a deeply nested file: exit status 2 and file:line:col, not a signal."""
    f = tmp_path / "deep.yaml"
    f.write_text(DEEP[name], encoding="ascii")
    r = subprocess.run([sys.executable, "-m", "examsolve", "run", str(f)], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    assert re.search(re.escape(str(f)) + r":\d+:\d+: .*nested", r.stdout + r.stderr)


# a level of block nesting: its text, given the column its node starts at, and the column of its child
def _block_list(col: int) -> tuple[str, int]:
    return "- ", col + 2


def _block_list_next_line(col: int) -> tuple[str, int]:
    return "-\n" + " " * (col + 2), col + 2


def _block_mapping(col: int) -> tuple[str, int]:
    return "k:\n" + " " * (col + 2), col + 2


BLOCK = {"list": _block_list, "list on the next line": _block_list_next_line, "mapping": _block_mapping}
# a level of flow nesting: its opening and closing text, and how many levels it is (a pair: a list of a map)
FLOW = {"list": ("[", "]", 1), "mapping": ("{k: ", "}", 1), "pair": ("[k: ", "]", 2)}


def nested_text(block: list[str], flow: list[str]) -> tuple[str, object, int]:
    """YAML nesting the given block levels, then flow levels, around 1; the data it means and its depth."""
    text, col = "", 0
    for kind in block:
        opening, col = BLOCK[kind](col)
        text += opening
    text += "".join(FLOW[k][0] for k in flow) + "1" + "".join(FLOW[k][1] for k in reversed(flow)) + PAD
    data: object = 1
    for kind in reversed(flow):
        data = [data] if kind == "list" else {"k": data} if kind == "mapping" else [{"k": data}]
    for kind in reversed(block):
        data = {"k": data} if kind == "mapping" else [data]
    return text, data, len(block) + sum(FLOW[k][2] for k in flow)


def levels(kinds: dict, most: int) -> st.SearchStrategy:
    """Lists of up to `most` levels, their length drawn first (so long ones, near the limits, come often)."""
    return st.integers(0, most).flatmap(lambda n: st.lists(st.sampled_from(sorted(kinds)), min_size=n, max_size=n))


@settings(max_examples=40, deadline=None)
@given(levels(BLOCK, 100), levels(FLOW, 50))
def test_nesting_decides_the_composer(block, flow):
    """libyaml composes exactly the large texts nested at most C_COMPOSE_NESTING deep; read_yaml gives the data
    up to MAX_YAML_DEPTH and a SpecError past it."""
    text, data, depth = nested_text(block, flow)
    with pytest.MonkeyPatch.context() as mp:
        result, seen = composers_used(text, mp)
    shallow = depth <= spec_module.C_COMPOSE_NESTING
    assert seen == ([yaml.CSafeLoader] if shallow else [yaml.SafeLoader])
    if depth <= spec_module.MAX_YAML_DEPTH:
        assert result == data
    else:
        assert isinstance(result, spec_module.SpecError) and "nested" in str(result)
