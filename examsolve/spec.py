"""YAML -> Spec: safe loading that keeps every node's position, and validation.

Two validators give the same Spec: pydantic, with the models of examsolve/spec_models.py (the JSON Schema and
every error message), and, when `light=True` (as `examsolve run` asks), examsolve.lightspec, which needs no
pydantic and hands a spec it cannot vouch for to pydantic. This module imports neither pydantic nor the models.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from examsolve.errors import Loc, SpecError, nearest

MAX_BYTES = 256 * 1024     # a spec file larger than this is refused before parsing
MAX_YAML_NODES = 100_000   # scalars, lists and maps after expanding aliases
MAX_YAML_DEPTH = 40

_STD = "tag:yaml.org,2002:"

ASSUME_KINDS = ("graph", "mlp", "conv", "rnn", "batchnorm", "policy")   # the families that solve with asks.Solver
ASK_KINDS = ("value", "grad", "jacobian", "hessian", "critical_points", "update", "solve")

# marks a family option that is a convention: grading and key checks try its other values
CONVENTION = {"convention": True}

# the pydantic models, from examsolve.spec_models when first asked for (`from examsolve.spec import BaseSpec`)
_MODELS = ("_Model", "Raw", "Names", "at_least", "Conventions", "Of", "HessianAsk", "CriticalAsk", "UpdateAsk",
           "SolveAsk", "Ask", "Vary", "Require", "Tolerance", "Mistake", "BaseSpec")


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        from examsolve import spec_models

        return getattr(spec_models, name)
    raise AttributeError(f"module 'examsolve.spec' has no attribute {name!r}")


# The checks of the models beyond types and bounds: the pydantic validators of spec_models call them, and the
# light validator calls the same functions on its objects. Each raises ValueError with pydantic's message.

def one_ask(ask) -> None:
    """An ask has exactly one of its kinds."""
    if sum(getattr(ask, k) is not None for k in ASK_KINDS) != 1:
        raise ValueError(f"each ask has exactly one of {', '.join(ASK_KINDS)}")


def one_vary(vary) -> None:
    """A vary entry has exactly one way to draw, and sensible denominators."""
    set_ = [k for k in ("choices", "integers", "fraction", "decimal") if getattr(vary, k) is not None]
    if len(set_) != 1:
        raise ValueError("each vary entry has exactly one of from, int, fraction, decimal")
    if any(q < 1 or q > 1000 for q in vary.denominators):
        raise ValueError("denominators are whole numbers from 1 to 1000")


def some_mistake(mistake) -> None:
    """A mistake says how it is made."""
    if not mistake.set and not mistake.answers:
        raise ValueError("a mistake needs set: (values that produce it) or answers: (the wrong answers)")


def assume_here(spec) -> None:
    """assume: only in the families that use it."""
    if spec.assume and spec.kind not in ASSUME_KINDS:
        raise ValueError(f"assume: is used by the families {', '.join(ASSUME_KINDS)}, not {spec.kind}; "
                         "remove it")


def at_least_check(v: Any, low: int, field_name: str) -> None:
    """Every whole number in v (an int or a list of ints) is ≥ low; names and words pass."""
    items = v if isinstance(v, list) else [v]
    bad = [x for x in items if isinstance(x, int) and not isinstance(x, bool) and x < low]
    if bad:
        raise ValueError(f"{field_name} must be at least {low}, got {bad[0]}")


LIGHT_CHECKS = {f.__name__: f for f in (one_ask, one_vary, some_mistake, assume_here, at_least_check)}


class AskMethods:
    """What an ask is, for the pydantic Ask and the light validator's."""

    @property
    def kind(self) -> str:
        return next(k for k in ASK_KINDS if getattr(self, k) is not None)

    @property
    def body(self) -> Any:
        return getattr(self, self.kind)


@dataclass
class Spec:
    """A validated spec, with the position of every YAML node for error messages."""

    file: str
    kind: str
    model: Any
    marks: dict = field(default_factory=dict)       # path -> (line, col) of the value
    key_marks: dict = field(default_factory=dict)   # path -> (line, col) of the key
    spans: dict = field(default_factory=dict)       # path -> (start, end, value) of a quoted, block or multi-line scalar
    text: str = ""

    def loc_at(self, path: tuple, offset: int) -> Loc:
        """The position of character `offset` of the string value at path, through quotes, escapes and folding."""
        span = self.spans.get(tuple(path))
        if span is None or not self.text:
            return self.loc(*path).shifted(offset)
        start, end, value = span
        index = _source_index(self.text, start, end, value, offset)
        if index is None:
            return self.loc(*path)
        line = self.text.count("\n", 0, index) + 1
        return Loc(self.file, line, index - (self.text.rfind("\n", 0, index) + 1) + 1)

    def loc(self, *path: Any) -> Loc:
        """The position of the value at path, or of its nearest enclosing node."""
        path = tuple(path)
        while path and path not in self.marks:
            path = path[:-1]
        line, col = self.marks.get(path, (1, 1))
        return Loc(self.file, line, col)

    def key_loc(self, *path: Any) -> Loc:
        """The position of the key at the end of path (falls back to the value)."""
        if tuple(path) in self.key_marks:
            line, col = self.key_marks[tuple(path)]
            return Loc(self.file, line, col)
        return self.loc(*path)


def _source_index(text: str, start: int, end: int, value: str, offset: int) -> int | None:
    """Where value[offset] sits in text[start:end]: value's characters matched in order, skipping what YAML
    dropped (indentation, quotes, backslashes of escapes; a folded line break matches a space)."""
    j = start
    if text[start:start + 1] in ("|", ">"):        # a block scalar: its text starts on the next line
        j = text.find("\n", start, end) + 1 or end
    for i, ch in enumerate(value[:offset + 1]):
        step = 1
        while j < end:
            c = text[j]
            if c == ch or (ch == " " and c == "\n"):
                break
            if c == "\\" and j + 1 < end:
                if text[j + 1] == ch:           # \" or \\: the character itself follows
                    j += 1
                    continue
                step = {"x": 4, "u": 6, "U": 10}.get(text[j + 1], 2)   # an escape made this character
                break
            j += 1
        if j >= end:
            return None
        if i == offset:
            return j
        j += step
    return None


def load_spec(path: str, light: bool = False) -> Spec:
    """Read, parse and validate a spec file; SpecError with file:line:col on any problem (light: see parse_spec)."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise SpecError(f"the file is {size} bytes; a spec is at most {MAX_BYTES} bytes", Loc(path))
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)     # at most: /dev/zero and pipes report a size of 0
        if len(raw) > MAX_BYTES:
            raise SpecError(f"the file is larger than {MAX_BYTES} bytes; a spec is at most {MAX_BYTES} bytes",
                            Loc(path))
    except OSError as e:
        raise SpecError(f"cannot read the file ({e.strerror or e}); check the path", Loc(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"the file is not UTF-8 text (byte {e.start}); save it as UTF-8", Loc(path)) from None
    return parse_spec(text, path, light)


def parse_spec(text: str, file: str = "<spec>", light: bool = False) -> Spec:
    """Parse and validate spec text (the file name is used in messages).

    light=True validates with examsolve.lightspec where it can vouch for the spec (pydantic otherwise): the model
    is then no pydantic model but has the same fields, properties, model_dump() and class attributes; enough to
    solve and render, not for code that walks pydantic model classes (grading's conventions, variants)."""
    spans: dict = {}
    data, marks, key_marks = read_yaml(text, file, spans)
    if not isinstance(data, dict):
        raise SpecError("a spec is a YAML mapping with kind:, given:, equations: and ask:", Loc(file))
    from examsolve.registry import get_family

    kind = data.get("kind")
    if kind is None:
        raise SpecError("missing key 'kind'; add e.g. 'kind: graph' (see `examsolve list`)", Loc(file))
    fam = get_family(kind, Loc(file, *marks.get(("kind",), (1, 1))))
    model = None
    if light:
        from examsolve import lightspec

        model = lightspec.validate(fam, data)     # None: only pydantic can say (an error, a coercion ...)
    if model is None:
        from examsolve.registry import OPTIONAL_FIELDS

        unread = tuple(f for f in OPTIONAL_FIELDS if fam.unused(f))
        model = _validate(fam.model(), data, file, marks, key_marks, unread)
    refuse_unused(fam, data, file, key_marks)
    spec = Spec(file, kind, model, marks, key_marks, spans, text)
    check_names(spec)
    if fam.refuse is not None:
        fam.refuse(spec)
    return spec


def refuse_unused(fam, data: dict, file: str, key_marks: dict) -> None:
    """SpecError at the key of the first shared field (given:, ask: ...) the family does not read: it would be
    ignored without a word, a silent wrong answer by omission."""
    for key in data:
        why = fam.unused(key)
        if why:
            raise SpecError(why, Loc(file, *key_marks.get((key,), (1, 1))))


def with_pydantic_model(spec: Spec) -> Spec:
    """The spec with its pydantic model, for code that walks the model classes (grading's conventions); a spec
    from the light validator is validated again by pydantic."""
    if not hasattr(type(spec.model), "light_fields"):
        return spec
    return parse_spec(spec.text, spec.file)


class PydanticWhenRead:
    """A spec that becomes the one with pydantic models when first read: for code that may walk the model classes
    (explaining a disagreeing key tries the other conventions, read off them), and often reads nothing (every
    key agrees), so a spec from the light validator costs no pydantic then."""

    def __init__(self, spec: Spec):
        self._spec = spec

    def __getattr__(self, name: str) -> Any:
        self._spec = with_pydantic_model(self._spec)
        return getattr(self._spec, name)


C_COMPOSE_CHARS = 8 * 1024    # a larger spec is composed by libyaml (7-10x faster) when it is plain ASCII
C_COMPOSE_NESTING = 64          # ... and its lists and maps nest no deeper than this (libyaml's composer recurses in C)


def _compose(text: str) -> Any:
    """The YAML node tree of text: by libyaml for a large plain spec (a 256 x 256 matrix takes 2 s in pure
    Python), else, and for any error, by PyYAML's pure-Python composer, whose messages and positions errors
    report. Plain: ASCII without tabs or carriage returns, where both give the same nodes and marks."""
    c_loader = getattr(yaml, "CSafeLoader", None)
    if (c_loader is not None and len(text) > C_COMPOSE_CHARS and text.isascii() and "\t" not in text
            and "\r" not in text):
        try:
            if _shallow(text, c_loader):
                return yaml.compose(text, Loader=c_loader)
        except yaml.YAMLError:
            pass            # the pure-Python composer says what is wrong, and where
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _shallow(text: str, loader: type) -> bool:
    """Whether text's lists and maps (block or flow, bracketed or not) nest at most C_COMPOSE_NESTING deep.

    Read off libyaml's event stream: its parser keeps a stack where its composer recurses (libyaml 0.2.5 has no
    depth limit, so `- - - ...` overflowed the C stack), and the events are what that composer would nest."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > C_COMPOSE_NESTING:
                return False
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return True


def _no_surrogates(n: Any, file: str, pos: Callable) -> str:
    """A scalar's text, refused when a "\\ud800"-style escape made half of a UTF-16 pair, which is no character
    (it cannot be printed or written to a file)."""
    if n.style == '"' and not n.value.isascii() and any("\ud800" <= c <= "\udfff" for c in n.value):
        raise SpecError("the text holds a lone surrogate escape (\\ud800-\\udfff), which is no character; write "
                        "the character itself or its \\U0001xxxx escape", Loc(file, *pos(n)))
    return n.value


def read_yaml(text: str, file: str, spans: dict | None = None) -> tuple[Any, dict, dict]:
    """Plain data from YAML text via the safe composer, plus the position of every node.

    spans, when given, receives the source span of every scalar whose text is not its value as written
    on one line (quoted with escapes, block, folded), so errors inside it point at the right column.
    """
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise SpecError(f"the spec is larger than {MAX_BYTES} bytes", Loc(file))
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Loc(file, mark.line + 1, mark.column + 1) if mark else Loc(file)
        what = e.problem or e.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {what}; check indentation, colons and quotes", loc) from None
    except yaml.YAMLError as e:
        raise SpecError(f"YAML error: {e}", Loc(file)) from None
    except RecursionError:
        raise SpecError(f"YAML nested too deeply (limit {MAX_YAML_DEPTH})", Loc(file)) from None
    if node is None:
        raise SpecError("the spec is empty; start with 'kind: graph' (see `examsolve new graph`)", Loc(file))
    marks: dict = {}
    key_marks: dict = {}
    count = [0]

    def pos(n) -> tuple[int, int]:
        quoted = 1 if isinstance(n, yaml.ScalarNode) and n.style in ("'", '"') else 0
        return n.start_mark.line + 1, n.start_mark.column + 1 + quoted

    def plain(n, path: tuple, depth: int) -> Any:
        count[0] += 1
        at = marks[path] = pos(n)
        if count[0] > MAX_YAML_NODES:
            raise SpecError(f"the spec has more than {MAX_YAML_NODES} values (aliases count each time)", Loc(file, *at))
        if depth > MAX_YAML_DEPTH:
            raise SpecError(f"YAML nested more than {MAX_YAML_DEPTH} deep", Loc(file, *at))
        tag = n.tag or ""
        if not tag.startswith(_STD) or tag[len(_STD):] not in ("str", "int", "float", "bool", "null",
                                                                "seq", "map", "timestamp"):
            raise SpecError(f"YAML tag '{tag}' is not allowed; a spec holds plain values (numbers, text, lists, maps)",
                            Loc(file, *at))
        if isinstance(n, yaml.MappingNode):
            out: dict = {}
            for k, v in n.value:
                if not isinstance(k, yaml.ScalarNode):
                    raise SpecError("a key must be a plain name", Loc(file, *pos(k)))
                key = _no_surrogates(k, file, pos)
                if key in out:
                    raise SpecError(f"key '{key}' appears twice; keep one", Loc(file, *pos(k)))
                key_marks[path + (key,)] = pos(k)
                out[key] = plain(v, path + (key,), depth + 1)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [plain(v, path + (i,), depth + 1) for i, v in enumerate(n.value)]
        if spans is not None and (n.style in ("|", ">") or n.start_mark.line != n.end_mark.line
                                  or (n.style and "\\" in text[n.start_mark.index:n.end_mark.index])):
            spans[path] = (n.start_mark.index, n.end_mark.index, n.value)
        kind = tag[len(_STD):]
        _no_surrogates(n, file, pos)
        if kind == "int" and n.value.lstrip("+-").isdigit() and len(n.value) <= 40:
            return int(n.value)
        if kind == "bool":
            return n.value.lower() in ("true", "yes", "on", "y")
        if kind == "null":
            return None
        return n.value   # floats keep their text, so 0.2 stays exactly 1/5

    try:
        return plain(node, (), 0), marks, key_marks
    except RecursionError:
        raise SpecError(f"YAML nested too deeply (limit {MAX_YAML_DEPTH})", Loc(file)) from None


def _validate(model_cls: type, data: dict, file: str, marks: dict, key_marks: dict, unread: tuple = ()) -> Any:
    """The pydantic model of data; SpecError at the YAML position of the first problem."""
    from pydantic import ValidationError

    try:
        return model_cls.model_validate(data)
    except ValidationError as e:
        raise _spec_error(e, model_cls, file, marks, key_marks, unread) from None


def _spec_error(err: Any, model_cls: type, file: str, marks: dict, key_marks: dict,
                unread: tuple = ()) -> SpecError:
    """The first validation error as one line at its YAML position."""
    errors = err.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(first["loc"])
    # pydantic puts union member names into loc; keep only the parts that are in the YAML
    path: tuple = ()
    for part in loc:
        if path + (part,) in marks:
            path += (part,)
    where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))
    kind = first["type"]
    if kind == "extra_forbidden":
        key = path[-1]
        # a top-level field the family does not read is no suggestion ('mask' is not 'ask' for attention)
        allowed = [k for k in _allowed_keys(model_cls, path[:-1]) if len(path) > 1 or k not in unread]
        hint = nearest(str(key), allowed) or (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        line, col = key_marks.get(path, marks.get(path, (1, 1)))
        return SpecError(f"unknown key '{key}'{hint}", Loc(file, line, col))
    parent = path
    while parent and parent not in marks:
        parent = parent[:-1]
    line, col = marks.get(parent, (1, 1))
    if kind == "missing":
        return SpecError(f"missing key '{loc[-1]}' in {where.rsplit('.', 1)[0] or 'the spec'}; add it",
                         Loc(file, line, col))
    msg = first["msg"]
    msg = msg[0].lower() + msg[1:]
    if msg.startswith("value error, "):
        msg = msg[len("value error, "):]
    return SpecError(f"{where or 'spec'}: {msg}", Loc(file, line, col))


def _allowed_keys(model_cls: type, path: tuple) -> list[str]:
    """Field names of the model found by following path through fields, lists and dicts."""
    import typing

    from pydantic import BaseModel

    current: Any = model_cls
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            f = current.model_fields.get(part)
            current = f.annotation if f else None
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(t: Any) -> Any:
    """Optional[X] -> X; a union -> its model or container member."""
    import typing
    from typing import Union

    from pydantic import BaseModel

    if typing.get_origin(t) is Union:
        args = [a for a in typing.get_args(t) if a is not type(None)]
        for a in args:
            if (isinstance(a, type) and issubclass(a, BaseModel)) or typing.get_origin(a) in (list, dict):
                return a
        return args[0] if args else t
    return t


# Fields whose values (or keys, after KEYS) become symbol names, in every family; a family's model adds its own
# in a `name_fields` class attribute, e.g. (("lr",), ("params", "*")). "*" is every item of a list or mapping.
KEYS = "<keys>"
NAME_FIELDS = (("given", KEYS), ("symbols", "*"), ("functions", "*"), ("vector_functions", "*"), ("equations", KEYS))
# name fields of families whose models do not list them yet (a model's name_fields adds to these)
FAMILY_NAME_FIELDS = {
    "conv": (("conv", "input"), ("conv", "kernel"), ("conv", "bias"), ("conv", "name"), ("pool", "name")),
    "mlp": (("input",), ("target",), ("layers", "*", "weights"), ("layers", "*", "bias"), ("layers", "*", "dropout")),
    "network": (("unknown", "name"),),
    "perceptron": (("network", "*", "name"), ("network", "*", "inputs", "*")),
    "policy": (("param",), ("state",)),
    "rnn": (("state",), ("sequences", KEYS), ("outputs", KEYS)),
}


def _field_names(obj: Any) -> Any:
    """The field names of a pydantic model or a light validator's object; nothing for other values."""
    cls = type(obj)
    return getattr(cls, "light_fields", None) or getattr(cls, "model_fields", ())


def check_names(spec: Spec) -> None:
    """The one name check: every field that becomes a symbol holds a name (names.is_name), else a SpecError at
    that field's position."""
    from examsolve.names import NAME_HINT, is_name, shown

    def walk(obj: Any, rest: tuple, at: tuple):
        if not rest:
            yield at, obj, False
            return
        head, rest = rest[0], rest[1:]
        if head == KEYS:
            for k in (obj if isinstance(obj, dict) else ()):
                yield at + (k,), k, True
        elif head == "*":
            items = obj.items() if isinstance(obj, dict) else enumerate(obj if isinstance(obj, list) else ())
            for k, v in items:
                yield from walk(v, rest, at + (k,))
        elif isinstance(obj, dict) and head in obj:
            yield from walk(obj[head], rest, at + (head,))
        elif head in _field_names(obj):
            yield from walk(getattr(obj, head), rest, at + (head,))

    own = FAMILY_NAME_FIELDS.get(spec.kind, ()) + tuple(getattr(type(spec.model), "name_fields", ()))
    for path in NAME_FIELDS + own:
        for at, name, is_key in walk(spec.model, path, ()):
            if name is not None and not is_name(name):
                field = at[:-1] if is_key else at
                where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(field))
                loc = spec.key_loc(*at) if is_key else spec.loc(*at)
                raise SpecError(f"{where}: '{shown(name)}' is not a valid name; {NAME_HINT}", loc)
