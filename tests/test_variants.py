"""examsolve variants and question/key sheets: reproducible draws that solve and meet require:."""
from __future__ import annotations

import os
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from conftest import PROBLEMS, ROOT, require_tool

from examsolve import load_spec, solve
from examsolve.cli import main
from examsolve.errors import SolveError, SpecError
from examsolve.spec import parse_spec, read_yaml
from examsolve.statement import fill_statement
from examsolve.variants import make_variants

VARIED = [p for p in PROBLEMS if "\nvary:" in p.read_text()]


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_three_families_have_varied_examples():
    kinds = {load_spec(str(p)).kind for p in VARIED}
    assert len(kinds) >= 3, kinds


@pytest.mark.parametrize("path", VARIED, ids=lambda p: p.stem)
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_variants_of_every_varied_example_solve(path, seed):
    made = make_variants(str(path), 2, seed)
    assert len({v.text for v in made}) == 2
    original = load_spec(str(path)).model
    for v in made:
        spec = parse_spec(v.text, v.name)
        assert "vary" not in v.text.split("\n# ")[0] and not spec.model.key
        sol = solve(spec)
        answers = {a.name: a.value for a in sol.answers}
        for r in original.require:            # checked again here, by the test, not by examsolve
            if r.nonzero:
                value = answers[r.answer]
                assert all(x != 0 for x in getattr(value, "items", (value,)))


def test_same_seed_same_files_and_bn_variance_by_hand(tmp_path):
    first = make_variants(str(ROOT / "problems" / "bn_jacobian.yaml"), 5, 1)
    again = make_variants(str(ROOT / "problems" / "bn_jacobian.yaml"), 5, 1)
    assert [v.text for v in first] == [v.text for v in again]
    assert len({v.drawn for v in first}) == 5
    for v in first:
        data = read_yaml(v.text, v.name)[0]
        x1, x2 = data["given"]["x"]
        mu, var = Fraction(x1 + x2, 2), Fraction((x1 - x2) ** 2, 4)     # by hand, m = 2, biased variance
        answers = {a.name: a.value for a in solve(parse_spec(v.text, v.name)).answers}
        assert answers["mu"] == mu and answers["var"] == var and var != 0


def test_cli_writes_the_files_and_reports_impossible_conditions(tmp_path):
    out = tmp_path / "v"
    r = cli("variants", str(ROOT / "problems" / "bn_jacobian.yaml"), "--count", "3", "--seed", "7", "-o", str(out))
    assert r.exit_code == 0 and sorted(os.listdir(out)) == [f"bn_jacobian.v{k}.yaml" for k in (1, 2, 3)]
    spec = tmp_path / "s.yaml"
    spec.write_text("kind: batchnorm\ngiven: {x: [2, 4], gamma: 1, beta: 0, eps: 1}\nask:\n  - value: [var]\n"
                    "vary:\n  x: {from: [3]}\nrequire:\n  - {answer: var, nonzero: true}\n")
    r = cli("variants", str(spec), "--count", "2", "-o", str(out))
    assert r.exit_code == 1 and "only 0 of 2 variants" in r.output and "var: nonzero" in r.output


def test_bad_vary_path_and_no_vary_block(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("kind: graph\ngiven: {x: 1}\nequations: {y: x**2}\nask:\n  - value: [y]\n"
                    "vary:\n  given.z: {int: [1, 3]}\n")
    with pytest.raises(SpecError) as e:
        make_variants(str(spec), 1, 0)
    assert "s.yaml:7:3" in str(e.value) and "given has no 'z'" in str(e.value)
    with pytest.raises(SpecError, match="no vary: block"):
        make_variants(str(ROOT / "problems" / "xavier.yaml"), 1, 0)
    spec.write_text("kind: graph\ngiven: {x: 1}\nequations: {y: x**2}\nask:\n  - value: [y]\n"
                    "vary:\n  x: {int: [1, 3], fraction: [0, 1]}\n")
    r = cli("variants", str(spec))
    assert r.exit_code == 2 and "exactly one of from, int, fraction, decimal" in r.output


def test_fraction_and_decimal_draws_stay_in_range(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("kind: graph\ngiven: {a: 1, b: 1}\nequations: {y: a + b}\nask:\n  - value: [y]\n"
                    "vary:\n  a: {fraction: [-1, 1], denominators: [3], not: [0]}\n"
                    "  b: {decimal: [0, 1], places: 2}\n")
    for v in make_variants(str(spec), 10, 5):
        g = read_yaml(v.text, v.name)[0]["given"]
        a, b = Fraction(str(g["a"])), Fraction(str(g["b"]))
        assert -1 <= a <= 1 and a != 0 and (a * 3).denominator == 1
        assert 0 <= b <= 1 and (b * 100).denominator == 1


def test_statement_placeholders():
    data = {"given": {"x": [2, 4], "g": "1/2"}, "layers": [{"filters": 8}]}
    text = "B = {x1 = {x[0]}, x2 = {x[1]}}, γ = {g}, {layers.0.filters} filters, {unknown} stays"
    assert fill_statement(text, data) == "B = {x1 = 2, x2 = 4}, γ = 1/2, 8 filters, {unknown} stays"


def test_question_and_key_sheets(tmp_path):
    out = tmp_path / "v"
    cli("variants", str(ROOT / "problems" / "bn_jacobian.yaml"), "--count", "2", "--seed", "1", "-o", str(out))
    files = sorted(str(p) for p in out.iterdir())
    cli("sheet", *files, "--questions-only", "-o", str(tmp_path / "q.tex"))
    cli("sheet", *files, "--key", "-o", str(tmp_path / "k.tex"))
    q, k = (tmp_path / "q.tex").read_text(), (tmp_path / "k.tex").read_text()
    assert "\\boxed" not in q and "Find" in q and "[2 points]" in q and "x1 = -3" in q
    from examsolve.renderers.latex import _result
    for f in files:                      # the key's answers are those of `run` on each variant
        sol = solve(load_spec(f))
        for a in sol.answers:
            assert "\\boxed{" + _result(a.value, 6, sol.names) + "}" in k
    assert cli("sheet", *files, "--key", "--questions-only").exit_code == 2


def test_question_and_key_pdfs_compile(tmp_path):
    require_tool("latexmk")
    out = tmp_path / "v"
    cli("variants", str(ROOT / "problems" / "conv_shape.yaml"), "--count", "3", "--seed", "2", "-o", str(out))
    files = sorted(str(p) for p in out.iterdir())
    for flag, name in (("--questions-only", "exam.pdf"), ("--key", "key.pdf")):
        r = cli("sheet", *files, flag, "-o", str(tmp_path / name))
        assert r.exit_code == 0 and (tmp_path / name).read_bytes().startswith(b"%PDF")


def test_failed_draw_reasons_are_named(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("kind: graph\ngiven: {x: 1}\nequations: {y: 1/x}\nask:\n  - value: [y]\n"
                    "vary:\n  x: {from: [0]}\n")
    with pytest.raises(SolveError, match="not solvable"):
        make_variants(str(spec), 1, 0)


def test_question_sheet_graph_gives_nothing_away(tmp_path):
    # sin_net: dL/dw = (−8, −4) and L = 4 must not appear; the graph is drawn bare
    cli("sheet", str(ROOT / "problems" / "sin_net.yaml"), "--questions-only", "--with-graph",
        "-o", str(tmp_path / "q.tex"))
    q = (tmp_path / "q.tex").read_text()
    assert "tikzpicture" in q and "-8" not in q and "\\boxed" not in q


_scalars = st.one_of(st.integers(-10**6, 10**6), st.text(max_size=12), st.floats(allow_nan=False, width=32),
                     st.sampled_from(["1/2", "1e400", "-0", "pi", "[", "{", "x"]))
_rules = st.dictionaries(st.sampled_from(["from", "int", "fraction", "decimal", "denominators", "places", "not",
                                          "other"]),
                         st.one_of(_scalars, st.lists(_scalars, max_size=3)), max_size=3)


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(["x", "given.x", "equations.y", "ask.0", "nothing", "given.x.5"]), rule=_rules)
def test_random_vary_blocks_never_crash(tmp_path_factory, key, rule):
    import json
    spec = tmp_path_factory.mktemp("v") / "s.yaml"
    spec.write_text("kind: graph\ngiven: {x: [1, 2]}\nequations: {y: x.T @ x}\nask:\n  - value: [y]\n"
                    f"vary:\n  {json.dumps(key)}: {json.dumps(rule)}\n")
    try:
        for v in make_variants(str(spec), 1, 0):
            solve(parse_spec(v.text, v.name))
    except (SpecError, SolveError):
        pass
