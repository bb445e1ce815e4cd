"""The light validator (examsolve/lightspec.py) gives what pydantic gives, or leaves the spec to pydantic."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PROBLEMS
from examsolve import lightspec, render, solve
from examsolve.errors import SpecError
from examsolve.lightspec_table import MODELS
from examsolve.registry import get_family, load_all
from examsolve.spec import load_spec, parse_spec, read_yaml

TABLE = Path(lightspec.__file__).with_name("lightspec_table.py")
# examples the light validator leaves to pydantic, and why
DEFERRED = {
    "ce_bits.yaml": "base: 2 goes through the loss family's own validator (the number 2 becomes '2')",
    "js_bits.yaml": "bases: [e, 2], the same validator",
    "vgg16_bn.yaml": "rate: 0.5 is text that pydantic reads as a float",
}
FORMATS = ("terminal", "latex", "markdown", "json", "html")
DATA = {p.name: read_yaml(p.read_text(encoding="utf-8"), str(p))[0] for p in PROBLEMS}


def pydantic_model(data: dict):
    return get_family(data["kind"]).model().model_validate(data)


def assert_same(light, model) -> None:
    """The light object holds what the pydantic model holds: same classes, fields, values and value types."""
    assert repr(light) == repr(model)
    for by_alias in (False, True):
        assert repr(light.model_dump(by_alias=by_alias)) == repr(model.model_dump(by_alias=by_alias))


def test_the_table_is_current():
    assert lightspec.table_text() == TABLE.read_text(encoding="utf-8"), (
        "examsolve/lightspec_table.py is out of date; regenerate it with "
        "python -c 'from examsolve.lightspec import write_table; write_table()'")


def test_every_family_has_its_models_in_the_table():
    from examsolve.lightspec_table import FAMILIES

    assert set(FAMILIES) == set(load_all())
    # every model light (None: left to pydantic; none is, today)
    assert [ref for ref, entry in MODELS.items() if entry is None] == []


@pytest.mark.parametrize("name", sorted(DATA))
def test_every_example_gives_the_pydantic_model_or_is_left_to_pydantic(name):
    data = DATA[name]
    light = lightspec.validate(get_family(data["kind"]), data)
    if name in DEFERRED:
        assert light is None, f"{name} is light now: remove it from DEFERRED"
    else:
        assert light is not None, f"the light validator left {name} to pydantic"
        assert_same(light, pydantic_model(data))


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
def test_run_output_is_the_same_from_either_validator(path):
    """`run` validates with the light validator, `load_spec` with pydantic: every format, byte for byte."""
    from examsolve import drawing
    from examsolve.renderers import dot

    outs = []
    for light in (True, False):
        spec = load_spec(str(path), light=light)
        sol = solve(spec)
        texts = [render(sol, fmt) for fmt in FORMATS]
        if sol.graph is not None:
            d = drawing.build(sol.graph, spec.model.conventions.model_dump(), drawing.default_of(spec),
                              title=sol.title, names=sol.names, backprop=sol.backprop)
            texts.append(dot.render(d))
        outs.append(texts)
    assert outs[0] == outs[1]


def test_a_changed_model_function_leaves_its_family_to_pydantic(monkeypatch):
    """A table older than the family's models is not used: the fingerprint of their source differs."""
    data = DATA["mlp_2_2_1.yaml"]
    fam = get_family("mlp")
    assert lightspec.validate(fam, data) is not None
    source = fam.impl.model.__wrapped__.__code__.co_filename
    text = lightspec._text(source)
    monkeypatch.setitem(lightspec._TEXTS, source, text.replace('input: str = Field("x"', 'input: str = Field("u"'))
    assert lightspec.validate(fam, data) is None
    monkeypatch.setitem(lightspec._TEXTS, lightspec._MODELS_FILE, lightspec._text(lightspec._MODELS_FILE) + "\n#")
    assert lightspec.validate(get_family("graph"), DATA["sin_net.yaml"]) is None


def test_light_objects_work_as_the_models_do():
    spec = parse_spec("kind: graph\ngiven: {x: 2}\nequations: {y: x**2}\nask:\n  - grad: {of: y, wrt: x}\n"
                      "vary:\n  x: {from: [1, 2]}\n", "t.yaml", light=True)
    m = spec.model
    assert type(m).__name__ == "BaseSpec" and not hasattr(m, "model_fields")
    assert m.ask[0].kind == "grad" and m.ask[0].body.of == "y" and m.ask[0].body.at is None
    assert m.conventions.model_dump() == {"relu_grad_at_zero": 0, "max_tie": "first", "abs_grad_at_zero": 0}
    assert m.vary["x"].choices == [1, 2] and m.model_dump(by_alias=True)["vary"]["x"]["from"] == [1, 2]
    assert m.model_dump()["vary"]["x"]["choices"] == [1, 2]
    assert m == parse_spec(spec.text, "t.yaml", light=True).model


# --- generated specs: the examples with keys removed, added and values replaced ------------------------------

FIELD_NAMES = sorted({n for entry in MODELS.values() if entry for f in entry[3] for n in f[:2]} | {"foo", "Kind"})
WORDS = ["", "x", "w", "y", "L", "1", "0.5", "1/2", "-1", "pi", "max", "first", "split", "same", "mean", "sum",
         "tanh", "relu", "pytorch", "keras", "adam", "momentum", "all", "last", "e", "2", "max_pool", "conv",
         "dense", "graph", "relu active", "x > 0", "y_1 = 3", "neg_inf"]
SCALARS = st.one_of(st.integers(-3, 1001), st.booleans(), st.none(), st.sampled_from(WORDS),
                    st.floats(allow_nan=False, width=32))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELD_NAMES + WORDS[1:6]), inner, max_size=4)),
    max_leaves=10)


ALIKE = {str: st.sampled_from(WORDS), int: st.integers(-2, 100), bool: st.booleans(),
         list: st.lists(SCALARS, max_size=3)}


def places(data, at=()):
    """(container, key) of every value in the data."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        yield data, k
        yield from places(v)


def edges(node: tuple, depth: int = 0) -> list:
    """Values near the edges of a table type: its bounds, its literals, sizes around its length bounds, and
    the same values in other types (True for 1, "1" for 1, 1.0 for 1), which pydantic may coerce."""
    from examsolve.lightspec_table import DEFS

    tag = node[0]
    others = [True, False, "1", 1.0, 0.5, "0.5", None, [], {}]
    if depth > 2 or tag in ("any", "opaque"):
        return [1, "x", [1, "x"], {"x": 1}] + others
    if tag in ("int", "float"):
        return sorted({0, 1, -1, 2} | {b + d for _, b in node[2] for d in (-1, 0, 1)}) + others
    if tag == "lit":
        return list(node[1]) + ["x"] + others
    if tag in ("str", "bool"):
        return WORDS[:6] + [1, 0] + others
    if tag in ("null", "check"):
        return edges(node[1], depth)
    if tag == "ref":
        return edges(DEFS[node[1]], depth + 1)
    if tag == "union":
        return [v for n in node[1] for v in edges(n, depth)]
    if tag == "list":
        items = edges(node[1], depth + 1)
        sizes = {0, 1, 2, node[2], node[2] + 1} | ({node[3], node[3] + 1} if node[3] is not None else set())
        return [[items[(i + n) % len(items)] for i in range(n)] for n in sorted(sizes)] + ["x", 1, None]
    if tag == "dict":
        return [{}] + [{"x": v} for v in edges(node[2], depth + 1)[:4]] + [[], "x"]
    if tag == "model":
        fields = MODELS[node[1]][3]
        return [{}] + [{f[1]: v} for f in fields[:3] for v in edges(f[3], depth + 1)[:3]] + ["x", []]
    return others


def models_in(data, node: tuple):
    """(mapping, model) for every mapping of the data that the table reads as a model."""
    from examsolve.lightspec_table import DEFS

    tag = node[0]
    if tag == "model" and isinstance(data, dict) and MODELS[node[1]]:
        yield data, node[1]
        for name, alias, _out, field, _default in MODELS[node[1]][3]:
            for key in {name, alias}:
                if key in data:
                    yield from models_in(data[key], field)
    elif tag in ("null", "check"):
        yield from models_in(data, node[1])
    elif tag == "ref":
        yield from models_in(data, DEFS[node[1]])
    elif tag == "union":
        for n in node[1]:
            yield from models_in(data, n)
    elif tag == "list" and isinstance(data, list):
        for x in data:
            yield from models_in(x, node[1])
    elif tag == "dict" and isinstance(data, dict):
        for x in data.values():
            yield from models_in(x, node[2])


@st.composite
def mutated(draw):
    data = copy.deepcopy(DATA[draw(st.sampled_from(sorted(DATA)))])
    for _ in range(draw(st.integers(1, 3))):
        container, key = draw(st.sampled_from(list(places(data))))
        how = draw(st.sampled_from(("field", "field", "field", "alike", "alike", "replace", "delete", "add")))
        if how == "field":          # a field of a model at its edges: bounds, literals, types pydantic coerces
            from examsolve.lightspec_table import FAMILIES

            mapping, ref = draw(st.sampled_from(list(models_in(data, ("model", FAMILIES[data["kind"]][1])))))
            name, alias, _out, node, _default = draw(st.sampled_from(MODELS[ref][3]))
            if name != "kind":
                mapping[draw(st.sampled_from((name, alias)))] = draw(st.sampled_from(edges(node)))
            continue
        if container is data and key == "kind":
            continue
        if how == "alike":          # a value of the same type: mostly still a valid spec
            container[key] = draw(ALIKE.get(type(container[key]), VALUES))
        elif how == "replace":
            container[key] = draw(VALUES)
        elif how == "delete" and isinstance(container, dict) and key != "kind":
            del container[key]
        elif how == "delete" and isinstance(container, list):
            container.pop(key)
        elif isinstance(container, dict):
            container[draw(st.sampled_from(FIELD_NAMES))] = draw(VALUES)
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_light_and_pydantic_agree_on_generated_data(data):
    """The light model is pydantic's model, or there is none and pydantic decides (maybe with an error)."""
    light = lightspec.validate(get_family(data["kind"]), data)
    try:
        model = pydantic_model(data)
    except Exception:  # noqa: BLE001 - a ValidationError, or an error a validator raises: pydantic's to report
        assert light is None
        return
    if light is not None:
        assert_same(light, model)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_spec_text_gives_the_same_spec_or_the_same_error(data):
    """Through YAML text, as `run` reads it: the same model, or the same one-line error."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    results = []
    for light in (True, False):
        try:
            results.append(repr(parse_spec(text, "g.yaml", light=light).model))
        except SpecError as err:
            results.append(str(err))
    assert results[0] == results[1]


def test_every_field_of_every_model_at_its_edges():
    """Each model's fields, one at a time, set to each of its edge values in an example that has the model."""
    from examsolve.lightspec_table import FAMILIES

    bases = {}
    for name in sorted(DATA):
        data = DATA[name]
        for i, (mapping, ref) in enumerate(models_in(data, ("model", FAMILIES[data["kind"]][1]))):
            bases.setdefault(ref, (name, i))
    tried = agreed = 0
    for ref, (name, i) in sorted(bases.items()):
        for fname, alias, _out, node, _default in MODELS[ref][3]:
            if fname == "kind":
                continue
            for value in edges(node):
                for key in {fname, alias}:
                    data = copy.deepcopy(DATA[name])
                    mapping, _ = list(models_in(data, ("model", FAMILIES[data["kind"]][1])))[i]
                    mapping[key] = copy.deepcopy(value)
                    light = lightspec.validate(get_family(data["kind"]), data)
                    try:
                        model = pydantic_model(data)
                    except Exception:  # noqa: BLE001
                        assert light is None, (ref, key, value)
                        continue
                    tried += 1
                    if light is not None:
                        assert_same(light, model)
                        agreed += 1
    assert agreed > tried / 2, (agreed, tried)     # the light validator vouches for most valid ones
