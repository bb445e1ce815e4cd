"""Exam variants: draw new given values from a spec's `vary:` block, keep the draws whose answers meet `require:`."""
from __future__ import annotations

import bisect
import copy
import itertools
import math
import random
import re
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml

from examsolve import budget
from examsolve.errors import ExamsolveError, Loc, SolveError, SpecError, nearest
from examsolve.spec import Spec, parse_spec, read_yaml

MAX_DRAWS_PER_VARIANT = 20     # draws tried per asked variant before giving up ...
MAX_DRAWS = 1000               # ... and in all
TIME_LIMIT = 300               # seconds of drawing and solving before giving up
MAX_POOL = 100_000             # values listed for a draw; a larger range is sampled without listing it
DROPPED = ("vary", "require", "key")   # a variant's keys would be the original's, so they go too
_NUMBER = re.compile(r"^-?\d+(\.\d+)?(/\d+)?$")


@dataclass(frozen=True)
class Variant:
    """One concrete spec: its file name, YAML text and the values drawn."""

    name: str
    text: str
    drawn: tuple


def resolve_path(data: dict, key: str, loc: Loc, create: bool = False) -> tuple:
    """`x` (a given name) or a dotted path like `optimizer.lr` or `layers.0.filters`, checked against the spec.

    With create, keys may be new (a mistake may set a convention the spec leaves at its default).
    """
    path: tuple = ("given", key) if isinstance(data.get("given"), dict) and key in data["given"] else tuple(
        int(p) if p.isdigit() else p for p in key.split("."))
    node: Any = data
    for i, part in enumerate(path):
        if create and isinstance(node, dict) and part not in node:
            node = {}
            continue
        ok = (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int)
                                                            and 0 <= part < len(node))
        if not ok:
            known = list(node) if isinstance(node, dict) else []
            where = ".".join(map(str, path[:i])) or "the spec"
            raise SpecError(f"'{key}' names no value: {where} has no '{part}'{nearest(str(part), known)}"
                            + (f"; it has {', '.join(map(str, known))}" if known else ""), loc)
        node = node[part]
    return path


def check_paths(spec: Spec) -> None:
    """SpecError at the first path of vary: or mistakes: that names no value of the spec."""
    m = spec.model
    if not (m.vary or m.mistakes):
        return
    with open(spec.file, encoding="utf-8") as f:
        data = read_yaml(f.read(), spec.file)[0]
    for key in m.vary:
        resolve_path(data, key, spec.key_loc("vary", key))
    for i, mistake in enumerate(m.mistakes):
        changes = {resolve_path(data, key, spec.key_loc("mistakes", i, "set", key), create=True): v
                   for key, v in mistake.set.items()}
        try:
            modified(data, changes, spec.file)
        except SpecError as err:      # e.g. a misspelt key: the changed spec would not load
            raise SpecError(f"mistakes: the spec with these values is not valid ({err.message})",
                            spec.loc("mistakes", i, "set")) from None


def get_at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def set_at(data: Any, path: tuple, value: Any) -> None:
    parent = data
    for part in path[:-1]:
        parent = parent.setdefault(part, {}) if isinstance(parent, dict) else parent[part]
    parent[path[-1]] = value


def draw(rule, rng: random.Random, original: Any, cache: dict | None = None) -> Any:
    """A new value for one path: a whole choice from `from`, else each number of the original drawn anew.

    cache (one dict per run of draws) keeps each rule's list of values, so it is built once, not once
    per number per draw.
    """
    if rule.choices is not None and not (isinstance(original, list) and not isinstance(rule.choices[0], list)):
        return copy.deepcopy(rng.choice(rule.choices))
    if isinstance(original, list):
        return [draw(rule, rng, item, cache) for item in original]
    budget.check("drawing variants")
    key = id(rule)
    if cache is not None and key in cache:
        source = cache[key]
    else:
        source = _source(rule)
        if cache is not None:
            cache[key] = source
    value = source(rng) if callable(source) else rng.choice(source)
    return _plain(value, rule.places if rule.decimal is not None else None)


def _source(rule) -> Any:
    """The values a rule draws from: a list, or a function of the random generator when the range is
    too large to list (the same values, each as likely)."""
    excluded = {as_fraction(v) for v in rule.exclude}
    if rule.choices is not None:
        pool = [v for v in rule.choices if as_fraction(v) not in excluded]
    elif rule.integers is not None:
        lo, hi = rule.integers
        if hi - lo > MAX_POOL:     # too many to list: draw, and draw again on an excluded value
            def pick(rng: random.Random) -> Any:
                value = next((v for v in (rng.randint(lo, hi) for _ in range(100)) if Fraction(v) not in excluded),
                             None)
                if value is None:
                    raise SpecError("a vary entry leaves nothing to draw (its range is empty after `not`); widen it")
                return value
            return pick
        pool = [v for v in range(lo, hi + 1) if Fraction(v) not in excluded]
    else:
        bounds = rule.fraction if rule.fraction is not None else rule.decimal
        lo, hi = map(as_fraction, bounds)
        if lo is None or hi is None:
            raise SpecError(f"vary: the range {bounds} needs two numbers like [-2, 2] or ['-1/2', '1/2']")
        steps = rule.denominators if rule.fraction is not None else [10 ** rule.places]
        qs = sorted(set(steps))
        counts = [max(0, math.floor(hi * q) - math.ceil(lo * q) + 1) for q in qs]
        if (hi - lo) * max(steps) > MAX_POOL or sum(counts) > MAX_POOL:
            return _sampler(lo, qs, counts, excluded)
        pool = sorted({Fraction(p, q) for q in steps for p in range(int(lo * q) - 1, int(hi * q) + 2)
                       if lo <= Fraction(p, q) <= hi} - excluded)
    if not pool:
        raise SpecError("a vary entry leaves nothing to draw (its range is empty after `not`); widen it")
    return pool


def _sampler(lo: Fraction, qs: list, counts: list, excluded: set):
    """Draws p/q from a range too large to list, every distinct value as likely: a pair (q, p) is drawn
    evenly and kept when q is the first denominator that writes p/q (so 1/2 is not counted again as 2/4)."""
    ends = list(itertools.accumulate(counts))
    total = ends[-1] if ends else 0
    firsts = [math.ceil(lo * q) for q in qs]

    def pick(rng: random.Random) -> Fraction:
        for _ in range(1000) if total else ():
            k = rng.randrange(total)
            i = bisect.bisect_right(ends, k)
            q = qs[i]
            v = Fraction(firsts[i] + k - (ends[i - 1] if i else 0), q)
            if next(d for d in qs if d % v.denominator == 0) == q and v not in excluded:
                return v
        raise SpecError("a vary entry leaves nothing to draw (its range is empty after `not`); widen it")
    return pick


def as_fraction(v: Any) -> Fraction | None:
    """A YAML number or 'p/q' as a Fraction; None for anything else (which is then never excluded)."""
    text = str(v).strip()
    exponent = re.search(r"[eE]([+-]?\d+)$", text)
    if len(text) > 60 or (exponent and abs(int(exponent.group(1))) > 100):   # 1e999999 would be a huge integer
        return None
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _plain(v: Any, places: int | None) -> Any:
    """A drawn number as YAML writes it: int, '3/4' or a decimal '0.3'."""
    if not isinstance(v, Fraction):
        return v
    if v.denominator == 1:
        return int(v)
    if places is not None:
        return f"{float(v):.{places}f}"
    return f"{v.numerator}/{v.denominator}"


def meets(solution, requires: list, spec: Spec) -> str:
    """'' when every `require:` holds for the solution's answers, else the first condition that fails."""
    import sympy

    from examsolve.tensor import Tensor

    answers = {a.name: a.value for a in solution.answers}
    for i, r in enumerate(requires):
        if r.answer not in answers:
            raise SpecError(f"require: '{r.answer}' names no answer{nearest(r.answer, list(answers))}; answers are: "
                            + ", ".join(answers), spec.loc("require", i, "answer"))
        v = answers[r.answer]
        items = v.items if isinstance(v, Tensor) else (v,)
        lo, hi = map(as_fraction, r.between or (0, 0))
        if lo is None or hi is None:
            raise SpecError(f"require: between {r.between} needs two numbers, e.g. [-5, 5]",
                            spec.loc("require", i, "between"))
        for x in items:
            if not isinstance(x, sympy.Basic) or not x.is_number:
                return f"{r.answer} is not a number"
            bad = ((r.nonzero and x == 0 and "nonzero") or (r.integer and not x.is_integer and "integer")
                   or (r.positive and not x > 0 and "positive") or (r.negative and not x < 0 and "negative")
                   or (r.between and not lo <= x <= hi and "between")
                   or (r.max_denominator and not (x.is_Rational and x.q <= r.max_denominator)
                       and "max_denominator"))
            if bad:
                return f"{r.answer}: {bad}"
    return ""


def dump(data: dict, header: str = "") -> str:
    """YAML text of a spec: keys in their order, lists of numbers inline, numbers unquoted."""
    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, s):
        style = "" if _NUMBER.match(s) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)

    def seq(dumper, items):
        flow = all(not isinstance(x, dict) for x in items)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)

    Dumper.add_representer(str, text)
    Dumper.add_representer(list, seq)
    body = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
    return (header + "\n" if header else "") + body


def modified(data: dict, changes: dict, file: str, header: str = "", drop: tuple = ()) -> tuple[str, Spec]:
    """The spec with values replaced at paths, without vary/require/key (and the keys in drop): its text and
    the parsed Spec."""
    out = {k: v for k, v in data.items() if k not in drop}
    out = copy.deepcopy(out)
    for path, value in changes.items():
        set_at(out, path, value)
    for k in DROPPED:
        out.pop(k, None)
    for ask in out.get("ask") or []:        # a key inside an ask belongs to the original values too
        for body in ask.values() if isinstance(ask, dict) else ():
            if isinstance(body, dict):
                body.pop("key", None)
    if isinstance(out.get("statement"), str):
        out["statement"] = out["statement"].strip()
    text = dump(out, header)
    return text, parse_spec(text, file)


def make_variants(path: str, count: int, seed: int, progress=None) -> list[Variant]:
    """`count` distinct variants of the spec at path, each solvable and meeting require:; reproducible by seed."""
    import os

    from examsolve import load_spec, solve

    spec = load_spec(path)
    m = spec.model
    if not m.vary:
        raise SpecError("the spec has no vary: block; add one, e.g. vary: {x: {int: [-3, 3], not: [0]}}",
                        spec.loc())
    with open(path, encoding="utf-8") as f:
        data, _, _ = read_yaml(f.read(), path)
    paths = {key: resolve_path(data, key, spec.key_loc("vary", key)) for key in m.vary}
    meets(solve(spec), m.require, spec)          # the answer names in require: exist (the original may not meet it)
    stem = os.path.basename(path).rsplit(".", 1)[0]
    rng = random.Random(seed)
    seen, out, reasons = set(), [], {}
    draws = 0
    limit = min(MAX_DRAWS, max(100, MAX_DRAWS_PER_VARIANT * count))
    start = time.monotonic()
    pools: dict = {}
    while len(out) < count and draws < limit and time.monotonic() - start < TIME_LIMIT:
        budget.check("drawing variants")
        draws += 1
        changes = {}
        for key, p in paths.items():
            try:
                changes[p] = draw(m.vary[key], rng, get_at(data, p), pools)
            except SpecError as err:
                raise SpecError(err.message, spec.key_loc("vary", key)) from None
        drawn = tuple(repr(v) for v in changes.values())
        if drawn in seen:
            reasons["the same values as an earlier variant"] = reasons.get("the same values as an earlier "
                                                                           "variant", 0) + 1
            continue
        seen.add(drawn)
        k = len(out) + 1
        name = f"{stem}.v{k}.yaml"
        title = (data.get("title") or m.kind) + f" (variant {k})"
        header = f"# variant {k} of {os.path.basename(path)}, seed {seed}: written by examsolve variants"
        try:
            text, vspec = modified(data, {**changes, ("title",): title}, name, header)
            why = meets(solve(vspec), m.require, spec)
        except SpecError as err:
            why = f"not a valid spec ({err.message})"
        except budget.BudgetError as err:
            if err.kind in ("time", "memory"):    # the run's budget, not this draw's values
                raise
            why = f"not solvable ({err.message})"
        except ExamsolveError as err:
            why = f"not solvable ({err.message})"
        if why:
            reasons[why] = reasons.get(why, 0) + 1
            continue
        out.append(Variant(name, text, drawn))
        if progress:
            progress(f"{name}: " + ", ".join(f"{key} = {_show(v)}" for key, v in zip(paths, changes.values())))
    if len(out) < count:
        common = sorted(reasons.items(), key=lambda kv: -kv[1])[:3]
        raise SolveError(f"only {len(out)} of {count} variants met the conditions in {draws} draws (most often "
                         "rejected: " + "; ".join(f"{w} ×{n}" for w, n in common)
                         + "); widen the vary: ranges or relax require:", spec.loc("vary"))
    return out


def _show(v: Any) -> str:
    return "[" + ", ".join(map(_show, v)) + "]" if isinstance(v, list) else str(v)
