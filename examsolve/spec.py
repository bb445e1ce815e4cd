"""YAML -> Spec: safe loading that keeps every node's position, and validation with pydantic."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, model_validator
from typing_extensions import TypeAliasType

from examsolve.errors import Loc, SpecError, nearest

MAX_BYTES = 256 * 1024     # a spec file larger than this is refused before parsing
MAX_YAML_NODES = 100_000   # scalars, lists and maps after expanding aliases
MAX_YAML_DEPTH = 40

_STD = "tag:yaml.org,2002:"

Raw = TypeAliasType("Raw", Union[StrictInt, StrictFloat, str, list["Raw"]])
Names = Union[str, list[str]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


def at_least(low: int):
    """A field validator: every whole number in the value (an int or a list of ints) is ≥ low; names and
    words (an unknown size, 'same') pass. Use: `_k = field_validator("stride")(at_least(1))`."""
    def check(cls, v, info):
        items = v if isinstance(v, list) else [v]
        bad = [x for x in items if isinstance(x, int) and not isinstance(x, bool) and x < low]
        if bad:
            raise ValueError(f"{info.field_name} must be at least {low}, got {bad[0]}")
        return v
    return classmethod(check)


class Conventions(_Model):
    """Settings that change answers; each step that relies on one says so."""

    relu_grad_at_zero: Literal[0, 1] = Field(0, description="relu'(0); also picks lrelu's side at 0")
    max_tie: Literal["first", "last", "split"] = Field("first", description="who gets the gradient of a tied max/min")
    abs_grad_at_zero: Literal[-1, 0, 1] = Field(0, description="d|x|/dx at x = 0")


class Of(_Model):
    """Common fields of a derivative ask."""

    of: Names = Field(description="the node(s) differentiated, e.g. L")
    wrt: Names = Field(description="the given name(s) or nodes it is differentiated by, e.g. w")
    at: Optional[dict[str, Raw]] = Field(None, description="values to use instead of the given ones")
    upstream: Optional[Raw] = Field(None, description="grad: the given ∂L/∂of, e.g. a, when of is not the loss")
    name: Optional[str] = Field(None, description="the answer's name (for key:)")
    key: Optional[Raw] = Field(None, description="the official answer, checked and flagged")


class HessianAsk(Of):
    """Hessian of a scalar; eigenvalues and min/max/saddle at each point."""

    points: Optional[list[dict[str, Raw]]] = Field(None, description="points to classify")


class CriticalAsk(_Model):
    """Solve ∇f = 0 and classify every real critical point."""

    of: str = Field(description="the scalar function")
    wrt: Names = Field(description="its variables (names under symbols: or given:)")
    name: Optional[str] = Field(None, description="the answer's name")
    key: Optional[Raw] = Field(None, description="the official answer")


class UpdateAsk(_Model):
    """Gradient descent: p ← p − lr·∂L/∂p, repeated `steps` times."""

    of: str = Field(description="the loss")
    params: Names = Field(description="parameters to update")
    lr: Raw = Field(description="learning rate, e.g. 1/2")
    steps: int = Field(1, ge=1, le=1000, description="number of updates (1 to 1000)")
    momentum: Optional[Raw] = Field(None, description="μ for SGD with momentum as in PyTorch: v ← μ·v + ∂L/∂p, "
                                    "p ← p − lr·v, v starting at 0 (the optimizer family has the other forms)")
    name: Optional[str] = Field(None, description="the answer's name")
    key: Optional[Raw] = Field(None, description="the official answer (one parameter)")


class SolveAsk(_Model):
    """Unknowns from equations over nodes and given names."""

    equations: Names = Field(description="equations like 'y_1 = 3' over nodes and given names")
    unknowns: Names = Field(description="names to solve for; their given values are ignored")
    name: Optional[str] = Field(None, description="the answer's name")
    key: Optional[Raw] = Field(None, description="the official answer (one unknown)")


ASSUME_KINDS = ("graph", "mlp", "conv", "rnn", "batchnorm", "policy")   # the families that solve with asks.Solver
ASK_KINDS = ("value", "grad", "jacobian", "hessian", "critical_points", "update", "solve")


class Ask(_Model):
    """One thing to compute; exactly one of the keys."""

    value: Optional[Names] = Field(None, description="nodes whose forward values are asked")
    grad: Optional[Of] = Field(None, description="gradient of a scalar, by reverse mode")
    jacobian: Optional[Of] = Field(None, description="matrix of ∂(output i)/∂(input j)")
    hessian: Optional[HessianAsk] = Field(None, description="second derivatives, eigenvalues, classification")
    critical_points: Optional[CriticalAsk] = Field(None, description="where the gradient is zero")
    update: Optional[UpdateAsk] = Field(None, description="gradient-descent steps")
    solve: Optional[SolveAsk] = Field(None, description="unknowns from equations")

    @model_validator(mode="after")
    def _one(self) -> "Ask":
        set_ = [k for k in ASK_KINDS if getattr(self, k) is not None]
        if len(set_) != 1:
            raise ValueError(f"each ask has exactly one of {', '.join(ASK_KINDS)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ASK_KINDS if getattr(self, k) is not None)

    @property
    def body(self) -> Any:
        return getattr(self, self.kind)


class Vary(_Model):
    """examsolve variants: how to draw one value; numbers inside a list are drawn one by one."""

    choices: Optional[list[Raw]] = Field(None, alias="from", min_length=1,
                                         description="pick one of these, e.g. [1, 2, 3]")
    integers: Optional[list[int]] = Field(None, alias="int", min_length=2, max_length=2,
                                          description="an integer in [low, high], e.g. [-3, 3]")
    fraction: Optional[list[Raw]] = Field(None, min_length=2, max_length=2,
                                          description="a fraction p/q in [low, high] with q from denominators")
    denominators: list[int] = Field([2, 4], description="fraction: the allowed denominators")
    decimal: Optional[list[Raw]] = Field(None, min_length=2, max_length=2,
                                         description="a decimal in [low, high] with `places` digits after the point")
    places: int = Field(1, ge=0, le=6, description="decimal: digits after the point")
    exclude: list[Raw] = Field(default_factory=list, alias="not", description="values never drawn, e.g. [0]")

    @model_validator(mode="after")
    def _one(self) -> "Vary":
        set_ = [k for k in ("choices", "integers", "fraction", "decimal") if getattr(self, k) is not None]
        if len(set_) != 1:
            raise ValueError("each vary entry has exactly one of from, int, fraction, decimal")
        if any(q < 1 or q > 1000 for q in self.denominators):
            raise ValueError("denominators are whole numbers from 1 to 1000")
        return self


class Require(_Model):
    """examsolve variants: a condition every entry of one answer must meet, e.g. a non-zero variance."""

    answer: str = Field(description="the answer's name, as `examsolve run` prints it")
    nonzero: bool = Field(False, description="no entry is 0")
    integer: bool = Field(False, description="every entry is a whole number")
    positive: bool = Field(False, description="every entry is > 0")
    negative: bool = Field(False, description="every entry is < 0")
    between: Optional[list[Raw]] = Field(None, min_length=2, max_length=2, description="every entry in [low, high]")
    max_denominator: Optional[int] = Field(None, ge=1, description="every entry a fraction with at most this "
                                           "denominator (a 'nice' answer)")


class Tolerance(_Model):
    """examsolve grade: how close a number must be; by default decimals must be right to the digits written."""

    exact: bool = Field(False, description="only the exact value (a decimal must equal it)")
    rel: Optional[Raw] = Field(None, description="relative tolerance, e.g. 1e-3")
    abs: Optional[Raw] = Field(None, description="absolute tolerance, e.g. 0.01")
    sig: Optional[int] = Field(None, ge=1, le=30, description="agree when both are rounded to this many "
                               "significant figures")


class Mistake(_Model):
    """examsolve grade: a known wrong path; an answer equal to the spec solved with `set`, or to one of
    `answers`, gets the feedback."""

    feedback: str = Field(description="what went wrong, e.g. 'the ½ convention in the loss was used'")
    set: dict[str, Raw] = Field(default_factory=dict, description="paths and the values that give the wrong "
                                "answer, e.g. {equations.L: (y - l)**2/2}")
    answers: dict[str, Raw] = Field(default_factory=dict, description="or the wrong answers themselves, by answer "
                                    "name, e.g. {dL/dtheta: 16}")
    credit: float = Field(0, ge=0, le=1, description="the fraction of the answer's points this mistake still earns "
                          "(0 to 1), e.g. 0.5 for a slip that keeps the method right")

    @model_validator(mode="after")
    def _some(self) -> "Mistake":
        if not self.set and not self.answers:
            raise ValueError("a mistake needs set: (values that produce it) or answers: (the wrong answers)")
        return self


# marks a family option that is a convention: grading and key checks try its other values
CONVENTION = {"convention": True}


class BaseSpec(_Model):
    """Keys every spec shares."""

    kind: str = Field(description="a family from `examsolve list`")
    title: str = Field("", description="printed as the heading")
    source: str = Field("", description="where the question comes from")
    statement: str = Field("", description="the question as printed")
    given: dict[str, Raw] = Field(default_factory=dict, description="exact values: numbers, 'pi/2', lists")
    symbols: list[str] = Field(default_factory=list, description="names left symbolic")
    functions: list[str] = Field(default_factory=list,
                                 description="differentiable functions known only by name, e.g. [sigma]; "
                                 "with several arguments, f(x, w), their partials print as ∂f/∂w")
    vector_functions: list[str] = Field(default_factory=list,
                                        description="functions known only by name whose values are vectors "
                                        "(layers f(x, w)): their derivatives are the Jacobians J_w^f, kept in "
                                        "chain-rule order")
    equations: dict[str, str] = Field(default_factory=dict, description="named nodes, in order")
    ask: list[Ask] = Field(description="what to compute, in order")
    key: dict[str, Raw] = Field(default_factory=dict, description="official answers by answer name")
    conventions: Conventions = Field(Conventions(), description="settings that change answers")
    vary: dict[str, Vary] = Field(default_factory=dict, description="examsolve variants: what to draw, by path: "
                                  "x (a given name), or given.x, optimizer.lr, layers.0.filters")
    require: list[Require] = Field(default_factory=list, description="examsolve variants: conditions every variant's "
                                   "answers meet")
    points: dict[str, Raw] = Field(default_factory=dict, description="examsolve grade: points per answer name "
                                   "(default 1 each)")
    tolerance: dict[str, Tolerance] = Field(default_factory=dict, description="examsolve grade: per answer name, "
                                            "or `default`")
    mistakes: list[Mistake] = Field(default_factory=list, description="examsolve grade: known wrong paths")
    assume: list[str] = Field(default_factory=list, max_length=32, description="assumptions that decide cases: "
                              "signs and ranges ('y > 0', '0 < alpha < 1'), regimes ('relu active', 'relu(z1) "
                              "active', 'margin violated' or 'hinge active'), branches ('max(a, b) = a'); "
                              "families graph, mlp, conv, rnn, batchnorm, policy")

    @model_validator(mode="after")
    def _assume_here(self) -> "BaseSpec":
        if self.assume and self.kind not in ASSUME_KINDS:
            raise ValueError(f"assume: is used by the families {', '.join(ASSUME_KINDS)}, not {self.kind}; "
                             "remove it")
        return self


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


def load_spec(path: str) -> Spec:
    """Read, parse and validate a spec file; SpecError with file:line:col on any problem."""
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
    return parse_spec(text, path)


def parse_spec(text: str, file: str = "<spec>") -> Spec:
    """Parse and validate spec text (the file name is used in messages)."""
    spans: dict = {}
    data, marks, key_marks = read_yaml(text, file, spans)
    if not isinstance(data, dict):
        raise SpecError("a spec is a YAML mapping with kind:, given:, equations: and ask:", Loc(file))
    from examsolve.registry import get_family

    kind = data.get("kind")
    if kind is None:
        raise SpecError("missing key 'kind'; add e.g. 'kind: graph' (see `examsolve list`)", Loc(file))
    fam = get_family(kind, Loc(file, *marks.get(("kind",), (1, 1))))
    model_cls = fam.model()
    try:
        model = model_cls.model_validate(data)
    except ValidationError as e:
        raise _spec_error(e, model_cls, file, marks, key_marks) from None
    spec = Spec(file, kind, model, marks, key_marks, spans, text)
    check_names(spec)
    return spec


def read_yaml(text: str, file: str, spans: dict | None = None) -> tuple[Any, dict, dict]:
    """Plain data from YAML text via the safe composer, plus the position of every node.

    spans, when given, receives the source span of every scalar whose text is not its value as written
    on one line (quoted with escapes, block, folded), so errors inside it point at the right column.
    """
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise SpecError(f"the spec is larger than {MAX_BYTES} bytes", Loc(file))
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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
                key = k.value
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


def _spec_error(err: ValidationError, model_cls: type, file: str, marks: dict, key_marks: dict) -> SpecError:
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
        allowed = _allowed_keys(model_cls, path[:-1])
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
        elif isinstance(obj, BaseModel) and head in type(obj).model_fields:
            yield from walk(getattr(obj, head), rest, at + (head,))

    own = FAMILY_NAME_FIELDS.get(spec.kind, ()) + tuple(getattr(type(spec.model), "name_fields", ()))
    for path in NAME_FIELDS + own:
        for at, name, is_key in walk(spec.model, path, ()):
            if name is not None and not is_name(name):
                field = at[:-1] if is_key else at
                where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(field))
                loc = spec.key_loc(*at) if is_key else spec.loc(*at)
                raise SpecError(f"{where}: '{shown(name)}' is not a valid name; {NAME_HINT}", loc)
