"""A disagreeing key is shown as written in the spec (-0.0498, not -249/5000), with the reason in JSON too."""
from __future__ import annotations

import json

from conftest import run_cli

SPEC = """kind: graph
given: {x: 2, w: 3}
equations: {L: w*x}
ask:
  - grad: {of: L, wrt: [w]}
key:
  dL/dw: 0.0498
"""


def _run(tmp_path, *fmt: str) -> str:
    return run_cli(tmp_path, SPEC, *fmt)


def test_the_key_is_echoed_as_written(tmp_path):
    # dL/dw = x = 2; the key 0.0498 disagrees and is shown as written in every format
    assert "(key: 0.0498)" in _run(tmp_path).replace("\n", " ").replace("│", " ").replace("  ", " ")
    assert "0.0498" in _run(tmp_path, "--format", "markdown")
    assert "0.0498" in _run(tmp_path, "--format", "latex")
    assert "249/5000" not in _run(tmp_path)


def test_json_carries_the_key_note(tmp_path):
    a = json.loads(_run(tmp_path, "--format", "json"))["answers"][0]
    assert a["agrees"] is False and "key_note" in a
