"""The light validator: a spec's plain data -> objects like the pydantic models', without importing pydantic.

`examsolve run` spends most of its start-up outside sympy in pydantic (its import, the model classes, their
validators). This module validates instead by following examsolve/lightspec_table.py, a table made from the
pydantic models themselves (their core schemas: fields, types, bounds, defaults, aliases, validators). It
vouches only for what it is sure pydantic accepts as it is: values of exactly the field's type (no coercion:
"3" for an int, 1 for a float or true for an int are left to pydantic), known keys only, and the validators it
can run itself (the checks of examsolve.spec). Anything else makes validate() return None, and the caller
validates with pydantic, so every error message is pydantic's. tests/test_lightspec.py checks, over every
example and generated specs, that the two give the same models.

The objects: one class per model, with the model's fields as attributes (defaults filled in), its properties
(from a plain mixin such as spec.AskMethods), its class attributes (name_fields), model_dump(by_alias=...) and
the model's repr; `light_fields` lists the fields. They are not pydantic models (no model_fields, no
model_json_schema): `examsolve.load_spec` still gives pydantic models, `run` asks for light ones.

A family whose model function (or examsolve/spec_models.py) changed since the table was made is left to
pydantic until the table is made again:
    python -c 'from examsolve.lightspec import write_table; write_table()'
Constants the models take from elsewhere (mlp's activations, network's dtypes) are not watched that way; the
test that the table is current is.
"""
from __future__ import annotations

import os
from typing import Any

from examsolve import spec as _spec

_MODELS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spec_models.py")


class LightModel:
    """A block of a spec as the light validator makes it: its pydantic model's fields as attributes."""

    light_fields: tuple = ()     # field names, in the model's order
    light_aliases: dict = {}     # field name -> its alias in model_dump(by_alias=True)

    def __init__(self, values: dict):
        self.__dict__.update(values)

    def model_dump(self, *, by_alias: bool = False) -> dict:
        """The fields as plain data, nested blocks too (as pydantic's model_dump)."""
        names = self.light_aliases if by_alias else {}
        return {names.get(n, n): _dump(getattr(self, n), by_alias) for n in self.light_fields}

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None     # as pydantic models: mutable, so unhashable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.light_fields)})"


def _dump(v: Any, by_alias: bool) -> Any:
    """A field's value as plain data."""
    if isinstance(v, LightModel):
        return v.model_dump(by_alias=by_alias)
    if isinstance(v, list):
        return [_dump(x, by_alias) for x in v]
    if isinstance(v, dict):
        return {k: _dump(x, by_alias) for k, x in v.items()}
    return v


class _Defer(Exception):
    """The light validator cannot vouch for the value: pydantic decides."""


class _NoMatch(_Defer):
    """The value is not exactly of this type (pydantic may still coerce it; in a union another member may fit)."""


def validate(fam: Any, data: Any) -> Any:
    """The light model of a family's spec data, or None when pydantic has to decide."""
    from examsolve.lightspec_table import FAMILIES

    entry = FAMILIES.get(fam.name)
    if entry is None or entry[0] != fingerprint(fam):
        return None
    try:
        return _model(entry[1], data)
    except (_Defer, RecursionError):
        return None


# --- the validator: one function per kind of node of the table ------------------------------------------------

def _model(ref: str, data: Any) -> LightModel:
    """The light object of one model from its mapping: every key a field, each value its field's type."""
    from examsolve.lightspec_table import MODELS

    entry = MODELS[ref]
    if entry is None:               # a model the table does not describe (custom methods, serializers ...)
        raise _Defer
    if type(data) is not dict:
        raise _NoMatch
    _name, _mixin, _classvars, fields, checks = entry
    values, used = {}, 0
    for name, alias, _out, node, default in fields:
        if alias in data and alias != name:
            if name in data:            # both the name and the alias: pydantic decides
                raise _Defer
            values[name] = _value(node, data[alias])
            used += 1
        elif name in data:
            values[name] = _value(node, data[name])
            used += 1
        else:
            values[name] = _default(default)
    if used != len(data):           # a key that is no field: pydantic's "unknown key" error
        raise _NoMatch
    obj = _light_class(ref)(values)
    for check in checks:
        _run(check, obj)
    return obj


def _value(node: tuple, v: Any) -> Any:
    """v as a value of the table type node (a copy of lists and mappings); _NoMatch or _Defer otherwise."""
    tag = node[0]
    if tag == "str":
        if type(v) is str:
            return v
    elif tag == "int":
        if type(v) is int and _within(v, node[2]):
            return v
    elif tag == "float":
        if type(v) is float and _within(v, node[2]):
            return v
    elif tag == "bool":
        if type(v) is bool:
            return v
    elif tag == "lit":
        for e in node[1]:
            if type(v) is type(e) and v == e:
                return e
    elif tag == "null":
        return None if v is None else _value(node[1], v)
    elif tag == "list":
        if type(v) is list and len(v) >= node[2] and (node[3] is None or len(v) <= node[3]):
            return [_value(node[1], x) for x in v]
    elif tag == "dict":
        if type(v) is dict:
            return {_value(node[1], k): _value(node[2], x) for k, x in v.items()}
    elif tag == "union":
        return _union(node[1], v)
    elif tag == "model":
        return _model(node[1], v)
    elif tag == "ref":
        from examsolve.lightspec_table import DEFS

        return _value(DEFS[node[1]], v)
    elif tag == "check":            # a field validator after the type: one of examsolve.spec's checks
        out = _value(node[1], v)
        _run(node[2], out, node[3])
        return out
    elif tag == "any":
        return _fresh(v)
    else:                           # "opaque": something only pydantic can run
        raise _Defer
    raise _NoMatch


def _within(v: Any, bounds: tuple) -> bool:
    """v meets the bounds of an int or float field (ge, gt, le, lt)."""
    return all(v >= x if op == "ge" else v > x if op == "gt" else v <= x if op == "le" else v < x
               for op, x in bounds)


def _union(choices: tuple, v: Any) -> Any:
    """The one member that takes v as it is; none or several: pydantic's smart mode decides."""
    found = []
    for node in choices:
        try:
            found.append(_value(node, v))
        except _NoMatch:
            continue
    if len(found) != 1:
        raise _Defer
    return found[0]


def _run(check: tuple, value: Any, field: str | None = None) -> None:
    """One of examsolve.spec's checks; whatever it finds is pydantic's to report."""
    name, *args = check
    if name not in _spec.LIGHT_CHECKS:
        raise _Defer
    try:
        if field is None:
            _spec.LIGHT_CHECKS[name](value, *args)
        else:
            _spec.LIGHT_CHECKS[name](value, *args, field)
    except Exception:  # noqa: BLE001 - a ValueError is pydantic's error message, anything else its to raise
        raise _Defer from None


def _default(default: tuple) -> Any:
    """The value of a field the spec leaves out."""
    if default[0] == "value":
        return _fresh(default[1])
    if default[0] == "model":
        return _model(default[1], _fresh(default[2]))
    raise _Defer                    # "required" (pydantic's missing-key error) or a default it computes


def _fresh(v: Any) -> Any:
    """A copy of plain data (lists and dicts new, as pydantic's defaults and validated containers are)."""
    if isinstance(v, list):
        return [_fresh(x) for x in v]
    if isinstance(v, dict):
        return {k: _fresh(x) for k, x in v.items()}
    return v


_CLASSES: dict = {}


def _light_class(ref: str) -> type:
    """The class of the light objects of one model, made on first use."""
    cls = _CLASSES.get(ref)
    if cls is None:
        import importlib

        from examsolve.lightspec_table import MODELS

        name, mixin, classvars, fields, _checks = MODELS[ref]
        bases: tuple = (LightModel,)
        if mixin:
            module, _, attr = mixin.partition(":")
            bases = (getattr(importlib.import_module(module), attr), LightModel)
        cls = _CLASSES[ref] = type(name, bases, {
            "__module__": __name__, "__qualname__": name, **classvars,
            "light_fields": tuple(f[0] for f in fields),
            "light_aliases": {f[0]: f[2] for f in fields if f[2] != f[0]}})
    return cls


# --- whether the table still describes a family's models ----------------------------------------------------

_TEXTS: dict = {}


def fingerprint(fam: Any) -> int | None:
    """A checksum of the source that defines a family's models: examsolve/spec_models.py and the family's model
    function (None when the source cannot be read)."""
    import zlib

    fn = fam.impl.model
    while hasattr(fn, "__wrapped__"):       # functools.cache
        fn = fn.__wrapped__
    code = getattr(fn, "__code__", None)
    models, own = _text(_MODELS_FILE), code and _text(code.co_filename)
    if models is None or own is None:
        return None
    lines = own.splitlines()[code.co_firstlineno - 1:_last_line(code)]
    return zlib.crc32("\n".join([models, *lines]).encode("utf-8"))


def _text(path: str) -> str | None:
    """A source file's text, read once per process (None when it cannot be read)."""
    if path not in _TEXTS:
        try:
            with open(path, encoding="utf-8") as f:
                _TEXTS[path] = f.read()
        except OSError:
            _TEXTS[path] = None
    return _TEXTS[path]


def _last_line(code: Any) -> int:
    """The last source line of a function, its nested classes and functions included."""
    last = max((line for _, _, line in code.co_lines() if line), default=code.co_firstlineno)
    for const in code.co_consts:
        if hasattr(const, "co_lines"):
            last = max(last, _last_line(const))
    return last


# --- making the table from the pydantic models (tests and `write_table` only) ---------------------------------

def build_table() -> tuple[dict, dict, dict]:
    """(FAMILIES, MODELS, DEFS) from every registered family's pydantic model."""
    from examsolve.registry import load_all

    compiler = _Compiler()
    families = {}
    for name, fam in load_all().items():
        cls = fam.model()
        cls.model_rebuild()
        root = compiler.node(cls.__pydantic_core_schema__, None)
        assert root[0] == "model", (name, root)
        families[name] = (fingerprint(fam), root[1])
    defs = compiler.defs

    def tidy(node: Any) -> Any:
        if isinstance(node, tuple) and node[:1] == ("ref",) and defs[node[1]][0] == "model":
            return defs[node[1]]
        return tuple(tidy(x) for x in node) if isinstance(node, tuple) else node
    models = {k: tidy(v) for k, v in sorted(compiler.models.items())}
    return families, models, {k: tidy(v) for k, v in sorted(defs.items()) if v[0] != "model"}


def table_text() -> str:
    """The source of examsolve/lightspec_table.py."""
    from pprint import pformat

    families, models, defs = build_table()
    parts = ['"""The light validator\'s table of the spec models (examsolve/lightspec.py), generated from the pydantic',
             "models; tests/test_lightspec.py checks it. After changing a model:",
             "    python -c 'from examsolve.lightspec import write_table; write_table()'",
             "",
             "FAMILIES: kind -> (fingerprint of the models' source, root model). MODELS: model -> (class name, mixin,",
             "class attributes, fields (name, alias, output name, type, default), checks), or None when only pydantic",
             "can validate it. DEFS: shared types (Raw).",
             '"""', ""]
    for name, value in (("FAMILIES", families), ("MODELS", models), ("DEFS", defs)):
        parts.append(f"{name} = {pformat(value, width=116, sort_dicts=False)}\n")
    return "\n".join(parts)


def write_table() -> None:
    """Rewrite examsolve/lightspec_table.py from the models."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "lightspec_table.py"), "w",
              encoding="utf-8") as f:
        f.write(table_text())


_CONFIG_OK = {"title", "extra_fields_behavior", "validate_by_alias", "validate_by_name", "populate_by_name"}
_IGNORED = {"metadata", "ref", "type"}


class _Compiler:
    """pydantic core schema -> table nodes; whatever it does not know becomes ("opaque", why)."""

    def __init__(self):
        self.models: dict = {}
        self.defs: dict = {}
        self.classes: dict = {}

    def node(self, s: dict, field: str | None) -> tuple:
        if "ref" in s and _model_schema(s) is None:
            name = _ref_name(s["ref"])
            if name not in self.defs:
                self.defs[name] = ("opaque", "recursive")     # while its own items refer to it
                self.defs[name] = self._node(s, field)
            return ("ref", name)
        return self._node(s, field)

    def _node(self, s: dict, field: str | None) -> tuple:
        kind = s["type"]
        extra = set(s) - _IGNORED
        if kind == "definitions":
            for d in s["definitions"]:
                self.node(d, None)
            return self.node(s["schema"], field)
        if kind == "definition-ref":
            name = _ref_name(s["schema_ref"])
            target = self.defs.get(name)
            return target if target and target[0] == "model" else ("ref", name)
        if kind in ("str", "bool", "any") and not extra - {"strict"}:
            return (kind,)
        if kind in ("int", "float") and not extra - {"strict", "ge", "gt", "le", "lt"}:
            return (kind, bool(s.get("strict")), tuple((op, s[op]) for op in ("ge", "gt", "le", "lt") if op in s))
        if kind == "literal" and not extra - {"expected"} and all(type(e) in (str, int, bool) for e in s["expected"]):
            return ("lit", tuple(s["expected"]))
        if kind == "nullable" and not extra - {"schema"}:
            return ("null", self.node(s["schema"], field))
        if kind == "list" and not extra - {"items_schema", "min_length", "max_length"}:
            item = self.node(s["items_schema"], field) if "items_schema" in s else ("any",)
            return ("list", item, s.get("min_length", 0), s.get("max_length"))
        if kind == "dict" and not extra - {"keys_schema", "values_schema"}:
            return ("dict", self.node(s.get("keys_schema", {"type": "any"}), field),
                    self.node(s.get("values_schema", {"type": "any"}), field))
        if kind == "union" and not extra - {"choices"}:      # smart mode, no custom error
            return ("union", tuple(self.node(c[0] if isinstance(c, tuple) else c, field) for c in s["choices"]))
        if kind == "model":
            return self._model(s, (), s.get("ref"))
        if kind == "function-after" and not extra - {"function", "schema"}:
            check = _light_check(s["function"])
            if check is None:
                return ("opaque", "a validator of its own")
            if s["schema"]["type"] == "model":          # a model validator
                return self._model(s["schema"], (check,), s.get("ref") or s["schema"].get("ref"))
            return ("check", self.node(s["schema"], field), check, field)
        return ("opaque", kind)

    def _model(self, s: dict, checks: tuple, core_ref: str | None) -> tuple:
        cls = s["cls"]
        ref = _model_ref(cls)
        assert self.classes.setdefault(ref, cls) is cls, f"two models named {ref}"
        if core_ref:
            self.defs[_ref_name(core_ref)] = ("model", ref)
        if ref in self.models:
            known = self.models[ref]
            assert known is None or known[4] == checks, ref
            return ("model", ref)
        self.models[ref] = None                 # until made (a model inside itself stays pydantic's)
        self.models[ref] = self._model_entry(s, cls, checks)
        return ("model", ref)

    def _model_entry(self, s: dict, cls: type, checks: tuple) -> tuple | None:
        inner = s["schema"]
        config = s.get("config", {})
        if (set(s) - {"type", "cls", "config", "custom_init", "root_model", "metadata", "ref", "schema"}
                or s.get("custom_init") or s.get("root_model") or set(config) - _CONFIG_OK
                or config.get("extra_fields_behavior") != "forbid"
                or not (config.get("validate_by_name") or config.get("populate_by_name"))
                or config.get("validate_by_alias") is False
                or inner["type"] != "model-fields" or inner.get("computed_fields")
                or set(inner) - {"type", "fields", "computed_fields", "model_name"}):
            return None
        mixin = _mixin(cls)
        if mixin is False:
            return None
        classvars = {name: getattr(cls, name) for name in sorted(cls.__class_vars__)}
        if not all(_literal(v) for v in classvars.values()):
            return None
        fields = []
        for name, f in inner["fields"].items():
            if set(f) - {"type", "schema", "metadata", "validation_alias", "serialization_alias"}:
                return None
            alias, out = f.get("validation_alias", name), f.get("serialization_alias", name)
            if not isinstance(alias, str):
                return None
            schema, default = f["schema"], ("required",)
            if schema["type"] == "default":
                default = self._default(schema)
                schema = schema["schema"]
            fields.append((name, alias, out, self.node(schema, name), default))
        return (cls.__name__, mixin, classvars, tuple(fields), checks)

    def _default(self, s: dict) -> tuple:
        from pydantic import BaseModel

        if set(s) - {"type", "schema", "default", "default_factory", "default_factory_takes_data", "metadata"}:
            return ("opaque",)
        if "default_factory" in s:
            f = s["default_factory"]
            if s.get("default_factory_takes_data"):
                return ("opaque",)
            if isinstance(f, type) and issubclass(f, BaseModel):
                return ("model", _model_ref(f), {})
            if f in (list, dict) or getattr(f, "__module__", "").startswith("examsolve."):
                v = f()         # a value of ours, e.g. lambda: list(SCHEMES)[:4]: the same each time
                if v == f() and _literal(v):
                    return ("value", v)
            return ("opaque",)
        v = s["default"]
        if isinstance(v, BaseModel):
            return ("model", _model_ref(type(v)), v.model_dump(by_alias=True))
        return ("value", v) if _literal(v) else ("opaque",)


def _model_schema(s: dict) -> dict | None:
    """The model schema of a model node or of a model validator around one."""
    if s["type"] == "model":
        return s
    if s["type"] == "function-after" and s["schema"]["type"] == "model":
        return s["schema"]
    return None


def _model_ref(cls: type) -> str:
    """A model's name in the table: 'examsolve.families.conv:Pool' (a family's models live in its _model())."""
    return f"{cls.__module__}:{cls.__qualname__.rsplit('.', 1)[-1]}"


def _literal(v: Any) -> bool:
    """v is plain data that its repr writes exactly (numbers, text, tuples, lists, dicts of them)."""
    import ast

    try:
        back = ast.literal_eval(repr(v))
    except (ValueError, SyntaxError):
        return False
    return back == v and repr(back) == repr(v)


def _ref_name(ref: str) -> str:
    """A core-schema reference without its run-dependent id: 'examsolve.spec_models.Raw:1403...' -> '...Raw'."""
    return ref.rsplit(":", 1)[0]


def _light_check(function: dict) -> tuple | None:
    """The examsolve.spec check a validator runs (its light_check mark), or None."""
    fn = function.get("function")
    fn = getattr(fn, "__func__", fn)
    check = getattr(fn, "light_check", None)
    return tuple(check) if check and check[0] in _spec.LIGHT_CHECKS else None


def _mixin(cls: type) -> str | None | bool:
    """The one plain class that gives a model its properties ('module:name'), None when there is none, or False
    when the model has methods of its own that light objects would miss."""
    from pydantic import BaseModel

    mixins = []
    for base in cls.__mro__:
        if base in (object, BaseModel) or base.__module__.startswith("pydantic"):
            continue
        if issubclass(base, BaseModel):
            deco = base.__pydantic_decorators__
            if deco.field_serializers or deco.model_serializers or deco.computed_fields or deco.validators \
                    or deco.root_validators or base.__private_attributes__:
                return False
            own = {n for kind in (deco.field_validators, deco.model_validators) for n in kind}
            for n, v in vars(base).items():
                if n.startswith("__") or n in own or n in ("model_config", "_abc_impl") \
                        or n in base.__class_vars__:
                    continue
                if callable(v) or isinstance(v, (property, classmethod, staticmethod)):
                    return False
        elif "<locals>" in base.__qualname__:
            return False
        else:
            mixins.append(f"{base.__module__}:{base.__qualname__}")
    if len(mixins) > 1:
        return False
    return mixins[0] if mixins else None
