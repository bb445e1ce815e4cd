"""libyaml's composer, used for large plain specs (examsolve.spec._compose), gives read_yaml the same data,
positions and spans as PyYAML's pure-Python composer; anything else goes to the pure-Python one."""
from __future__ import annotations

import sys

import pytest
import yaml

from conftest import ROOT
from examsolve import spec as spec_module

sys.path.insert(0, str(ROOT / "bench"))
import run as bench  # noqa: E402

BIG = {"chain": bench.chain_spec(1200), "conv": bench.conv_spec(56), "rnn": bench.rnn_spec(3000),
       "mlp": bench.mlp_spec((200, 8, 3))}
EXAMPLES = sorted((ROOT / "problems").glob("*.yaml"))


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
    text = "kind: graph\nx: " + "[" * 200 + "1" + "]" * 200 + "\n" + "#" * spec_module.C_COMPOSE_CHARS + "\n"
    seen = []
    real = yaml.compose
    monkeypatch.setattr(yaml, "compose", lambda t, Loader: seen.append(Loader) or real(t, Loader=Loader))
    with pytest.raises(spec_module.SpecError, match="nested"):
        spec_module.read_yaml(text, "t.yaml")
    assert seen == [yaml.SafeLoader]
