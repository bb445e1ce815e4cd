"""The command line as a user runs it: commands, exit codes, one-line errors, cheap start."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ROOT

from examsolve import __version__
from examsolve.cli import main

GOLDEN = ROOT / "tests" / "golden"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version_and_help():
    assert __version__ in run("--version").output
    out = run("--help").output
    for cmd in ("run", "list", "new", "check", "schema"):
        assert cmd in out


def test_list_names_every_family():
    out = run("list").output
    assert "graph" in out and "batchnorm" in out and "problems/bn_jacobian.yaml" in out


def test_list_and_help_do_not_import_sympy():
    code = ("import sys; from click.testing import CliRunner; from examsolve.cli import main; "
            "CliRunner().invoke(main, ['list']); CliRunner().invoke(main, ['--help']); "
            "CliRunner().invoke(main, ['new', 'graph']); "
            "print('sympy' in sys.modules, 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_run_json_contract():
    r = run("run", str(ROOT / "problems/sin_net.yaml"), "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.output)
    grad = next(a for a in data["answers"] if a["name"] == "dL/dw")
    assert grad["value"] == [-8, -4] and grad["exact"] == "[-8, -4]"


def test_run_many_files_json_is_a_list():
    r = run("run", str(ROOT / "problems/sin_net.yaml"), str(ROOT / "problems/bn_jacobian.yaml"), "--format", "json")
    assert r.exit_code == 0 and len(json.loads(r.output)) == 2


def test_output_file_and_standalone(tmp_path):
    out = tmp_path / "a.tex"
    r = run("run", str(ROOT / "problems/bn_jacobian.yaml"), "--format", "latex", "--standalone", "-o", str(out))
    assert r.exit_code == 0 and r.output == ""
    text = out.read_text()
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")


def test_bad_spec_exit_2_one_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text('kind: graph\ngiven: {x: "__import__(\'os\').system(\'touch pwned\')"}\n'
                 'equations: {y: x}\nask: [{value: [y]}]\n')
    r = CliRunner().invoke(main, ["run", str(f)])
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and r.output.startswith(f"{f}:2:")
    assert not (tmp_path / "pwned").exists() and not os.path.exists("pwned")


def test_unsolvable_exit_1(tmp_path):
    f = tmp_path / "bn.yaml"
    f.write_text("kind: batchnorm\ngiven: {x: [1], gamma: 1, beta: 0}\nask: [{value: [y]}]\n")
    r = CliRunner().invoke(main, ["run", str(f)])
    assert r.exit_code == 1 and "0/0" in r.output


def test_missing_file_exit_2():
    r = CliRunner().invoke(main, ["run", "no/such.yaml"])
    assert r.exit_code == 2 and "cannot read" in r.output


def test_strict_fails_on_a_disagreeing_key(tmp_path):
    f = tmp_path / "k.yaml"
    f.write_text("kind: graph\ngiven: {x: 2}\nequations: {y: x**2}\nask:\n  - grad: {of: y, wrt: x, key: 5}\n")
    assert CliRunner().invoke(main, ["run", str(f)]).exit_code == 0
    r = CliRunner().invoke(main, ["run", str(f), "--strict"])
    assert r.exit_code == 1 and "disagrees" in r.output


def test_check():
    r = run("check", str(ROOT / "problems/sin_net.yaml"))
    assert r.exit_code == 0 and "ok" in r.output


def test_new_templates_run(tmp_path):
    from examsolve.registry import load_all
    for kind in load_all():
        r = run("new", kind)
        assert r.exit_code == 0, kind
        f = tmp_path / f"{kind}.yaml"
        f.write_text(r.output)
        assert CliRunner().invoke(main, ["run", str(f)]).exit_code == 0, kind


def test_schema_is_json():
    data = json.loads(run("schema").output)
    assert "properties" in data or "anyOf" in data


def test_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "examsolve", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and __version__ in r.stdout


@pytest.mark.parametrize("name,fmt,suffix", [
    ("sin_net", "terminal", "txt"), ("sin_net", "latex", "tex"),
    ("bn_jacobian", "terminal", "txt"), ("bn_jacobian", "latex", "tex"),
])
def test_golden(name, fmt, suffix):
    """Regression: output read and approved by a person; regenerate with EXAMSOLVE_UPDATE_GOLDEN=1."""
    r = run("run", str(ROOT / f"problems/{name}.yaml"), "--format", fmt)
    out = r.output.replace(str(ROOT) + "/", "")
    path = GOLDEN / f"{name}.{suffix}"
    if os.environ.get("EXAMSOLVE_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_digits_option():
    # u = 2π = 6.283185307...: 3 significant digits give 6.28, 10 give 6.283185307
    assert "6.28 " in run("run", str(ROOT / "problems/sin_net.yaml"), "--digits", "3").output.replace("\n", " ")
    assert "6.283185307" in run("run", str(ROOT / "problems/sin_net.yaml"), "--digits", "10").output


def test_readme_shows_the_real_output_and_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    out = run("run", str(ROOT / "problems/sin_net.yaml")).output
    assert out in readme, "README's sample output is stale: paste the current `examsolve run problems/sin_net.yaml`"
    for cmd in main.commands:
        assert f"examsolve {cmd}" in readme, f"README does not document `examsolve {cmd}`"


def test_spec_reference_is_up_to_date():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_reference", ROOT / "docs" / "make_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "spec.md").read_text(encoding="utf-8") == mod.reference(), \
        "docs/spec.md is stale: run `python docs/make_reference.py`"


def test_long_output_is_written_in_pieces_cut_at_line_ends(capsys):
    """_echo writes exactly the text, whatever the piece size (pieces end after a newline)."""
    from examsolve.cli import _echo

    text = "".join(f"line {i}: {'x' * (i % 13)}\n" for i in range(200)) + "no newline at the end"
    for chunk in (1, 7, 64, 1 << 20):
        _echo(text, chunk=chunk)
        assert capsys.readouterr().out == text
