"""A shared spec field (given:, ask:, equations: ...) that the chosen family does not read is refused at its key
(exit 2), not silently ignored; every example still loads."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import PROBLEMS, ROOT

from examsolve.errors import SpecError
from examsolve.registry import OPTIONAL_FIELDS, family, load_all
from examsolve.spec import ASSUME_KINDS, load_spec, parse_spec

# the new-user probe: attention has no asks and no equations, it computes scores, weights and output
ATTENTION = """\
kind: attention
Q: [[1, 0]]
K: [[1, 0]]
V: [[1, 2]]
equations: {f: sum(O)}
ask: [{grad: {of: O, wrt: V}}]
"""

# (example of the family, a line appended to it, the field refused, words the hint must hold)
APPENDED = [
    ("xavier.yaml", "given: {a: 1}", "init", "given", "`examsolve new init`"),
    ("norm_means.yaml", "conventions: {relu_grad_at_zero: 1}", "normalization", "conventions", "remove it"),
    ("perceptron_and.yaml", "symbols: [a]", "perceptron", "symbols", "remove it"),
    ("receptive_field_recursion.yaml", "ask: [{value: r}]", "recursion", "ask", "kind: graph"),
    ("softmax_ce.yaml", "functions: [f]", "loss", "functions", "graph"),
    ("sgd_quadratic.yaml", "equations: {g: 2*w}", "lr", "equations", "kind: graph"),
    ("adam_two_steps.yaml", "ask: [{value: w1}]", "optimizer", "ask", "--answers all"),
    ("reinforce.yaml", "equations: {z: 2*theta}", "policy", "equations", "kind: graph"),
    ("conv_shape.yaml", "given: {n: 3}", "network", "given", "remove it"),
    ("attention.yaml", "vector_functions: [g]", "attention", "vector_functions", "graph"),
]


def _refusal(text: str, light: bool) -> SpecError:
    """The SpecError parsing text gives."""
    with pytest.raises(SpecError) as err:
        parse_spec(text, "p.yaml", light=light)
    return err.value


@pytest.mark.parametrize("light", [True, False])
def test_attention_refuses_equations_first_then_ask(light):
    err = _refusal(ATTENTION, light)
    assert (err.loc.line, err.loc.col) == (5, 1)     # `equations:` comes before `ask:`
    assert err.message.startswith("attention does not use 'equations'; ")
    assert "kind: graph and softmax(" in err.message
    without = ATTENTION.replace("equations: {f: sum(O)}\n", "")
    err = _refusal(without, light)
    assert (err.loc.line, err.loc.col) == (5, 1)
    assert err.message.startswith("attention does not use 'ask'; ")


@pytest.mark.parametrize("light", [True, False])
@pytest.mark.parametrize("example, line, kind, field, hint", APPENDED, ids=[a[3] + "-" + a[2] for a in APPENDED])
def test_an_ignored_field_is_refused_at_its_key(example, line, kind, field, hint, light):
    text = (ROOT / "problems" / example).read_text("utf-8")
    assert text.endswith("\n") and f"\n{field}:" not in text
    err = _refusal(text + line + "\n", light)
    assert (err.loc.line, err.loc.col) == (text.count("\n") + 1, 1)
    assert err.message.startswith(f"{kind} does not use '{field}'; ")
    assert hint in err.message


def test_the_column_is_the_keys_in_a_flow_mapping():
    text = "{kind: normalization, x: [[[1]]], symbols: [a]}\n"
    err = _refusal(text, True)
    assert (err.loc.line, err.loc.col) == (1, text.index("symbols") + 1)


def test_the_cli_exits_2_with_file_line_col(tmp_path):
    path = tmp_path / "att.yaml"
    path.write_text(ATTENTION, "utf-8")
    for command in ("check", "run"):
        out = subprocess.run([sys.executable, "-m", "examsolve", command, str(path)], capture_output=True,
                             text=True, cwd=ROOT)
        assert out.returncode == 2
        assert f"{path}:5:1: attention does not use 'equations'; " in out.stdout + out.stderr


def test_the_families_that_read_everything_accept_every_field():
    text = ("kind: graph\ngiven: {x: 1}\nsymbols: [a]\nfunctions: [f]\nvector_functions: [g]\n"
            "equations: {y: f(x) + a}\nask: [{value: y}]\nconventions: {relu_grad_at_zero: 1}\nassume: ['a > 0']\n")
    assert parse_spec(text, "p.yaml", light=True).kind == "graph"


def test_assume_is_declared_by_exactly_the_families_the_validator_lets_use_it():
    users = {name for name, fam in load_all().items() if "assume" in fam.uses}
    assert users == set(ASSUME_KINDS)


def test_a_family_cannot_declare_a_field_that_is_not_optional():
    with pytest.raises(ValueError, match="title"):
        family("probe", "a family that reads no such field", uses=("given", "title"))
    assert "title" not in OPTIONAL_FIELDS


@pytest.mark.parametrize("path", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_every_example_still_loads(path):
    for light in (True, False):
        assert load_spec(str(path), light=light).file == str(path)


def test_an_unknown_key_is_never_pointed_to_a_field_the_family_refuses(tmp_path):
    from click.testing import CliRunner

    from examsolve.cli import main

    f = tmp_path / "a.yaml"
    # attention reads no ask: (it computes every answer); 'askk' is closest to 'ask', which it would refuse
    f.write_text("kind: attention\nQ: [[1]]\nK: [[1]]\nV: [[1]]\naskk: [1]\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["run", str(f)])
    assert r.exit_code == 2 and "unknown key 'askk'" in r.output and "'ask'" not in r.output
