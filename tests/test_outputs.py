"""Outputs as a careful user expects them: atomic, never onto an input, untouched on failure; one-line usage errors."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import ROOT, require_tool

from examsolve.cli import main

SIN_NET = str(ROOT / "problems" / "sin_net.yaml")
EXE = [sys.executable, "-m", "examsolve"]


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)


def err_lines(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.strip()]


def test_output_onto_its_input_is_refused(tmp_path):
    spec = tmp_path / "x.yaml"
    shutil.copy(SIN_NET, spec)
    before = spec.read_bytes()
    r = run("run", str(spec), "-o", str(spec))
    assert r.exit_code == 2 and "would replace the input" in r.stderr and len(err_lines(r)) == 1
    assert spec.read_bytes() == before


def test_output_into_a_missing_folder_is_one_line(tmp_path):
    r = run("run", SIN_NET, "-o", str(tmp_path / "nowhere" / "out.txt"))
    assert r.exit_code == 2 and len(err_lines(r)) == 1 and "does not exist" in r.stderr
    assert "Traceback" not in r.output


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_output_to_a_full_device_is_one_line():
    r = run("run", SIN_NET, "-o", "/dev/full")
    assert r.exit_code == 2 and len(err_lines(r)) == 1 and "No space left" in r.stderr


def test_a_failing_problem_leaves_the_output_as_it_was(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: graph\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    out.write_text("old answers\n", encoding="utf-8")
    r = run("run", SIN_NET, str(bad), "-o", str(out))
    assert r.exit_code == 2
    assert out.read_text(encoding="utf-8") == "old answers\n"    # not replaced by sin_net's solution alone


def test_output_replaces_the_old_file_whole(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("x" * 100_000, encoding="utf-8")
    assert run("run", SIN_NET, "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("y = sin") and "x" * 100 not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]    # no temporary file left


def test_sheet_pdf_failure_keeps_the_old_pdf(tmp_path, monkeypatch):
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-old")
    monkeypatch.setenv("PATH", str(tmp_path))    # no latexmk: the PDF cannot be made
    r = run("sheet", SIN_NET, "-o", str(pdf))
    assert r.exit_code == 1 and "latexmk" in r.stderr
    assert pdf.read_bytes() == b"%PDF-old"


def test_sheet_onto_an_input_is_refused(tmp_path):
    spec = tmp_path / "a.yaml"
    shutil.copy(SIN_NET, spec)
    r = run("sheet", str(spec), "-o", str(spec))
    assert r.exit_code == 2 and "would replace the input" in r.stderr
    assert spec.read_bytes() == open(SIN_NET, "rb").read()


def test_variants_do_not_overwrite_hand_edits_without_force(tmp_path):
    spec = str(ROOT / "problems" / "bn_jacobian.yaml")
    out = tmp_path / "v"
    assert run("variants", spec, "-n", "2", "-o", str(out)).exit_code == 0
    first = sorted(out.iterdir())[0]
    # the same command again changes nothing, so it is allowed
    assert run("variants", spec, "-n", "2", "-o", str(out)).exit_code == 0
    first.write_text(first.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    r = run("variants", spec, "-n", "2", "-o", str(out))
    assert r.exit_code == 2 and "--force" in r.stderr
    assert first.read_text(encoding="utf-8").endswith("# my edit\n")
    assert run("variants", spec, "-n", "2", "-o", str(out), "--force").exit_code == 0
    assert not first.read_text(encoding="utf-8").endswith("# my edit\n")


@pytest.mark.parametrize("args", [["run", "--frmat", "x"], ["runn"], ["run"], ["grade"],
                                  ["run", SIN_NET, "--digits", "0"], ["run", SIN_NET, "--format", "pdf"]])
def test_usage_errors_are_one_line_with_exit_2(args):
    r = run(*args)
    assert r.exit_code == 2
    assert len(err_lines(r)) == 1, r.stderr
    assert "--help" in r.stderr


def test_help_still_exits_0():
    r = run("run", "--help")
    assert r.exit_code == 0 and "Usage" in r.output


@pytest.mark.parametrize("text, where", [
    # `foo` is on line 6, column 5 of the file, not at an offset from the `>` on line 4
    ("kind: graph\ngiven: {x: 1}\nequations:\n  y: >\n    x + 2 *\n    foo(x)\nask:\n  - value: [y]\n", "6:5"),
    # line 4 is `  y: "x + \u0078 + foo(x)"`: foo starts at column 20 (the escape is six characters)
    ('kind: graph\ngiven: {x: 1}\nequations:\n  y: "x + \\u0078 + foo(x)"\nask:\n  - value: [y]\n', "4:20"),
], ids=["folded block", "escape"])
def test_error_inside_a_block_or_after_an_escape_points_at_its_column(tmp_path, text, where):
    spec = tmp_path / "f.yaml"
    spec.write_text(text, encoding="utf-8")
    r = run("run", str(spec))
    assert r.exit_code == 2 and r.stderr.startswith(f"{spec}:{where}: unknown function 'foo'")


def test_sigterm_removes_the_temporary_folder(tmp_path):
    require_tool("latexmk")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    p = subprocess.Popen(EXE + ["sheet", str(ROOT / "problems"), "-o", str(tmp_path / "s.pdf")],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not any(tmp.iterdir()) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)
    assert list(tmp.iterdir()) == []
    assert not (tmp_path / "s.pdf").exists()
