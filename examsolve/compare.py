"""The one comparison of a given value with an answer, used by key checks (finish.check_keys) and by grading.

Numbers: exact, or right to the digits written (a decimal must round to the answer at its last digit), or a
tolerance (`rel`, `abs`, `sig`). Eigenvalues and roots (quantity.unordered) match in any order, each once. Strings (classifications, intervals and sets, shapes) compare by value in
any common notation: "min" is "local minimum (all eigenvalues > 0)", "0 < alpha < 2/3" is "(0, 2/3)",
"1/3" is "{1/3}", "8x30x30" is "(8, 30, 30)". Text is read by small hand-written parsers and the spec's
expression language (never eval or sympify).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sympy

from examsolve import budget, quantity, typed
from examsolve.errors import ExamsolveError, SolveError
from examsolve.tensor import Tensor
from examsolve.values import numeric, same, sort_key

MIN_SIG = 3      # a decimal answer needs at least this many significant figures unless it is exactly right
KEY_MIN_SIG = 2  # an official key may be rounded harder (a divergence given as 0.69), not to one figure
TOO_FEW = "too few digits to check"   # a key right only to the 1 figure written: agrees, but says so
FEW_FIGURES = "give at least {} significant figures (or the exact value)"
_DECIMAL = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Rule:
    """How numbers are compared: 'written' (to the digits given), 'exact', 'rel', 'abs' or 'sig'."""

    how: str = "written"
    amount: Any = None

    def __str__(self) -> str:
        return {"written": "right to the digits written", "exact": "exact"}.get(
            self.how, f"{self.how} {self.amount}")


def rule_for(spec, name: str) -> Rule:
    """The spec's `tolerance:` for an answer (or its `default`), else 'right to the digits written'."""
    t = spec.model.tolerance.get(name) or spec.model.tolerance.get("default")
    if t is None:
        return Rule()
    if t.exact:
        return Rule("exact")
    for how in ("rel", "abs", "sig"):
        if getattr(t, how) is not None:
            return Rule(how, getattr(t, how))
    return Rule()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    why: str = ""    # a reason the value fails (or a hint), for feedback
    how: str = ""    # how it agrees when not identically: "rounded to 3 decimals", "same interval", ...; when
    #                  ok is False, how far it agrees: "to the 1 significant figure written" (too few to check)


def as_text(raw: Any) -> str:
    """A raw YAML value as written: lists as [a, b], booleans as yes/no."""
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, list):
        return "[" + ", ".join(as_text(x) for x in raw) + "]"
    return str(raw)


def agrees(raw: Any, text: str, expected: Any, rule: Rule, spec, sol, name: str = "") -> tuple[bool, str]:
    """Whether a student's value matches the expected one under the rule, and a reason when it matters."""
    names = sol.graph.names() if sol is not None and sol.graph is not None else {}
    v = compare(raw, text, expected, rule, spec, names, name=name)
    return v.ok, v.why


def compare(raw: Any, text: str, expected: Any, rule: Rule, spec, names: dict, name: str = "",
            min_sig: int = MIN_SIG, integers_exact: bool = False) -> Verdict:
    """The full comparison: raw is the YAML value (floats as their text), text how it was written.
    integers_exact: compared as a key is (an integer is exact; a decimal that dropped its zeros, 0.1 for
    0.0999999998, is read with them)."""
    if isinstance(expected, str) or typed.is_typed(expected):
        return compare_text(as_text(raw) if not isinstance(text, str) else text, expected, rule, spec, names, name)
    as_set = _written_as_set(raw, name)
    raw = multiset(raw, name)
    if _is_shape(expected) and isinstance(raw, str) and _shape(raw) is not None:
        # a shape written (8, 30, 30), 8x30x30 or [8, 30, 30]: whole numbers, compared as they are
        return Verdict(_shape(raw) == tuple(int(x) for x in expected.items))
    lined = _lined_up(raw, expected, spec, names, integers_exact)
    if isinstance(lined, Verdict) and as_set and isinstance(expected, Tensor):
        # eigenvalues (2, 2, 6) written as the set {6, 2}: a set lists each distinct value once
        distinct = _distinct(expected)
        if len(distinct.items) < len(expected.items):
            again = _lined_up(raw, distinct, spec, names, integers_exact)
            lined = lined if isinstance(again, Verdict) else again
    if isinstance(lined, Verdict):
        return lined
    got, want, texts, free = lined
    moved = False
    if quantity.unordered(name) and len(want) > 1:     # eigenvalues, roots: a multiset, in any order
        order = _matching(got, want, texts, rule, free, min_sig, integers_exact)
        if order is not None:
            moved = order != list(range(len(want)))
            want = [want[j] for j in order]
    short, hows, coarse = "", [], None
    for g, w, t in zip(got, want, texts):
        ok, why, how = _close(g, w, t, rule, free, min_sig, integers_exact)
        if not ok and how:      # right only to too few figures: the other entries may still be plainly wrong
            coarse = coarse or Verdict(False, why, how)
            continue
        if not ok:
            return Verdict(False, why)
        short = short or why
        if how:
            hows.append(how)
    if coarse is not None:
        return coarse
    how = hows[0] if len(set(hows)) == 1 else ("to the digits written" if hows else "")
    if moved:
        how = (how + ", " if how else "") + "in another order"
    return Verdict(True, short, how)


def _lined_up(raw: Any, expected: Any, spec, names: dict, integers_exact: bool) -> Any:
    """(given entries, answer entries, each entry as written, free symbols) of a value read against an answer,
    or a failing Verdict when they do not line up (another shape, another count)."""
    # a graph's names (or the graph its solver put on the spec): its defined nodes expand for the comparison
    graph = getattr(names, "graph", None) or getattr(spec, "exam_graph", None)
    names = dict(names)
    free = expected.free_symbols if isinstance(expected, sympy.Basic) else set().union(
        *[x.free_symbols for x in expected.items if isinstance(x, sympy.Basic)])
    names.update({s.name: s for s in free})
    value = read(raw, spec, names)
    want = expected.items if isinstance(expected, Tensor) else (expected,)
    got = value.items if isinstance(value, Tensor) else (value,)
    if isinstance(expected, Tensor) and isinstance(value, Tensor) and value.shape != expected.shape \
            and len(got) == len(want) and 1 not in (len(value.shape), len(expected.shape)):
        return Verdict(False, f"shape {value.shape}, expected {expected.shape}")
    if len(got) != len(want):
        return Verdict(False, f"has {len(got)} entr{'y' if len(got) == 1 else 'ies'}, the answer {len(want)}")
    if graph is not None and free | _free(got):    # a key in the spec's names (A - Y, A = σ(Z)) by its definition
        got, want = [graph.in_leaves(x) for x in got], [graph.in_leaves(x) for x in want]
        free = _free(want)
    texts = _leaves(raw) if isinstance(raw, list) else _leaves(_list_text(raw)) if isinstance(expected, Tensor) \
        else [raw]
    texts = [None if integers_exact and _is_integer_text(t) else t    # an integer in a key is exact, not
             for t in texts + [None] * (len(got) - len(texts))]      # "rounded to 0 decimals"
    return got, want, texts, free


def entry_agrees(raw: Any, expected: Tensor, rule: Rule, spec, names: dict, name: str = "", min_sig: int = MIN_SIG,
                 integers_exact: bool = False) -> list[bool] | None:
    """Whether each entry of a vector or matrix written entry by entry agrees with the answer's entry, as
    compare() judges it (right only to too few figures counts as agreeing: it is not the wrong one); None when
    the entries do not line up one to one (another count or shape, eigenvalues in any order, one expression)."""
    leaves = _leaves(_list_text(raw))
    if quantity.unordered(name) or not isinstance(expected, Tensor) or len(leaves) != len(expected.items):
        return None
    lined = _lined_up(raw, expected, spec, names, integers_exact)
    if isinstance(lined, Verdict):
        return None
    got, want, texts, free = lined
    out = []
    for g, w, t in zip(got, want, texts):
        budget.check("checking keys")
        ok, _, how = _close(g, w, t, rule, free, min_sig, integers_exact)
        out.append(ok or bool(how))
    return out


def multiset(raw: Any, name: str) -> Any:
    """An unordered quantity's value written {6, 2} as the list [6, 2] (YAML reads {6, 2} as a mapping to
    nulls, {2, 2} not at all); anything else as it is."""
    if not quantity.unordered(name):
        return raw
    if isinstance(raw, dict) and raw and all(v is None for v in raw.values()):
        return list(raw)
    t = raw.strip() if isinstance(raw, str) else ""
    if t[:1] == "{" and t[-1:] == "}":
        return _split(t[1:-1]) or raw
    return raw


def _written_as_set(raw: Any, name: str) -> bool:
    """An unordered quantity's value written as a set: {6, 2} (a YAML mapping to nulls, or that text)."""
    if not quantity.unordered(name):
        return False
    if isinstance(raw, dict):
        return bool(raw) and all(v is None for v in raw.values())
    t = raw.strip() if isinstance(raw, str) else ""
    return t[:1] == "{" and t[-1:] == "}"


def _distinct(value: Tensor) -> Tensor:
    """The distinct entries of a vector (equal by value, not by form), in their order."""
    out: list = []
    for x in value.items:
        if not any(same(x, y) for y in out):
            out.append(x)
    return Tensor((len(out),), tuple(out))


def _is_integer_text(t: Any) -> bool:
    """An integer as written (3, '-2'), not a decimal or a boolean."""
    return isinstance(t, (int, str)) and not isinstance(t, bool) and bool(re.fullmatch(r"[+-]?\d+", str(t).strip()))


MAX_UNORDERED = 12    # entries matched in any order; a longer multiset is compared in the order given


def _matching(got: list, want: list, texts: list, rule: Rule, free, min_sig: int, key: bool) -> list | None:
    """For an unordered answer: order[i] = the index of the answer entry that given entry i matches, each used
    once (right to the digits written when that is possible, else right to the few figures written); None when
    no one-to-one matching exists."""
    if len(got) != len(want) or len(got) > MAX_UNORDERED:
        return None
    close = [[_close(g, w, t, rule, free, min_sig, key) for w in want] for g, t in zip(got, texts)]
    for fits in (lambda c: c[0], lambda c: c[0] or bool(c[2])):
        order = _bipartite([[fits(c) for c in row] for row in close])
        if order is not None:
            return order
    return None


def _bipartite(edges: list[list[bool]]) -> list | None:
    """A perfect matching of rows to columns (Kuhn's augmenting paths; rows tried in order, so deterministic)."""
    owner: dict[int, int] = {}      # column -> row

    def place(i: int, seen: set) -> bool:
        for j, ok in enumerate(edges[i]):
            if ok and j not in seen:
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    if not all(place(i, set()) for i in range(len(edges))):
        return None
    return [j for _, j in sorted((i, j) for j, i in owner.items())]


def read(raw: Any, spec, names: dict) -> Any:
    """A given value (a key, a student's answer) in the spec's expression language; ∞ words; σ' as sigma_prime."""
    from examsolve.spec_graph import spec_expr

    value = _infinity(raw)
    value = spec_expr(spec, _primes(raw), ("answer",), names) if value is None else value
    budget.check_number(value)         # exp(exp(exp(20))) is refused before anything evaluates it
    return value


INFINITY = {"oo": sympy.oo, "inf": sympy.oo, "infinity": sympy.oo, "∞": sympy.oo, "+∞": sympy.oo,
            "+oo": sympy.oo, "+inf": sympy.oo,
            "-oo": -sympy.oo, "-inf": -sympy.oo, "-infinity": -sympy.oo, "-∞": -sympy.oo, "−∞": -sympy.oo}


def _free(items) -> set:
    return set().union(*[x.free_symbols for x in items if isinstance(x, sympy.Basic)])


def _primes(raw: Any) -> Any:
    """σ' written sigma'(x), as run prints it, read as the spec language's sigma_prime(x)."""
    if isinstance(raw, list):
        return [_primes(x) for x in raw]
    return re.sub(r"([A-Za-z_]\w*)'", r"\1_prime", raw) if isinstance(raw, str) else raw


def _infinity(raw: Any) -> Any:
    """∞ written as oo, inf, infinity or ∞ (the expression language has no infinity), else None."""
    return INFINITY.get("".join(raw.split()).lower()) if isinstance(raw, str) else None


def _list_text(raw: Any) -> Any:
    """A list written as a quoted string ("[0.6667, 1.333]") as its YAML list, so each element keeps its
    digits for the written rule; anything else as it is."""
    if isinstance(raw, str) and raw.strip().startswith("["):
        from examsolve.spec import read_yaml

        try:
            parsed = read_yaml(raw, "answer")[0]
        except ExamsolveError:
            return raw
        return parsed if isinstance(parsed, list) else raw
    return raw


def _close(g, w, text, rule: Rule, free, min_sig: int = MIN_SIG, key: bool = False) -> tuple[bool, str, str]:
    """(agrees, why not or a hint, how it agrees when not exactly); key: a key's decimal of too few figures
    agrees when it is right with zeros added up to min_sig figures."""
    # a decimal against a float answer: same() allows 1e-9 (0.000394293 for 0.000394293694), the digits decide
    written = rule.how == "written" and isinstance(text, str) and bool(_DECIMAL.match(text.strip()))
    if same(g, w) and not (written and (g.has(sympy.Float) or w.has(sympy.Float))):
        return True, "", ""
    if free or not (g.is_number and w.is_number) or g.is_infinite or w.is_infinite:
        return False, "", ""
    try:        # at a rising precision: sympy's one evalf can drop a term (log(1 + e⁻⁷⁰) is 0 at 15 digits)
        gf, wf = numeric(g, 40), numeric(w, 40)
    except SolveError as err:
        return False, str(err), ""
    # exact between rationals (a float is its exact binary value): a tie, 0.12 or 0.13 for 1/8, is half a
    # unit away either way, which a difference of 40-digit floats would decide by its rounding error
    rational = all(isinstance(x, (sympy.Rational, sympy.Float)) for x in (g, w))
    diff = abs(sympy.Rational(g) - sympy.Rational(w)) if rational else abs(gf - wf)
    if diff == 0:
        return True, "", ""
    if rule.how == "exact":
        return False, "", ""
    # how is said only of a value that agrees (and of one right to too few figures, below)
    if rule.how == "rel":
        ok = bool(diff <= sympy.Float(str(rule.amount)) * abs(wf))
        return ok, "", f"within relative {rule.amount}" if ok else ""
    if rule.how == "abs":
        ok = bool(diff <= sympy.Float(str(rule.amount)))
        return ok, "", f"within {rule.amount}" if ok else ""
    if rule.how == "sig":
        n = int(rule.amount)
        ok = _round(gf, n) == _round(wf, n)
        return ok, "", f"to {n} significant figure{'s' if n != 1 else ''}" if ok else ""
    # written: a decimal must be right to its last digit, with at least min_sig significant figures
    if not isinstance(text, str) or not _DECIMAL.match(text.strip()):
        return False, "", ""
    digits, last = _sig(text.strip())
    within = _within(diff, last)
    if "e" in text.lower() or last >= 0:
        how = f"to {digits} significant figure{'s' if digits != 1 else ''}"
    else:
        how = f"rounded to {-last} decimal{'s' if last != -1 else ''}"
    # too few figures (0.1): a key is right when it is also right with zeros added up to min_sig figures
    # (0.10 for 0.0999999998, a rounding that dropped its zeros); else the figures written cannot tell (0.1
    # for 0.115). An answer must show its figures (the README's rule).
    if within and digits < min_sig and not (key and _nonzero(text) and _within(diff, last - (min_sig - digits))):
        return False, FEW_FIGURES.format(min_sig), \
            f"to the {digits} significant figure{'s' if digits != 1 else ''} written"
    return within, "", how if within else ""


def _within(diff, last: int) -> bool:
    """diff is at most half a unit in the place 10**last."""
    return bool(diff <= sympy.Rational(1, 2) * sympy.Rational(10) ** last)


def _nonzero(text: str) -> bool:
    """A decimal literal that is not zero (0.00 has no significant figure to add zeros after)."""
    return any(c in "123456789" for c in text.lower().partition("e")[0])


def _sig(text: str) -> tuple[int, int]:
    """Significant figures of a decimal literal and the power of ten of its last digit."""
    mant, _, exp = text.lower().lstrip("+-").partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    return max(len(digits), 1), (int(exp) if exp else 0) - len(frac)


def _round(x, n: int) -> str:
    import mpmath

    with mpmath.workdps(60):
        return mpmath.nstr(mpmath.mpf(str(x)), n, strip_zeros=False)


def _leaves(raw: Any) -> list:
    return [y for x in raw for y in _leaves(x)] if isinstance(raw, list) else [raw]


def _norm(text: Any) -> str:
    return "".join(str(text).split()).lower()


# ---- strings: classifications, intervals and sets, shapes ---------------------------------------------------

def compare_text(given: str, expected: str, rule: Rule, spec, names: dict, name: str = "") -> Verdict:
    """A string or typed answer compared by value: the same text, classification, shape, or set in any notation."""
    if isinstance(expected, sympy.Set):
        got_set = _set(given, spec, names)
        return Verdict(False) if got_set is None else _same_set(got_set, (expected, {}), rule)
    if isinstance(expected, bool):
        word = _norm(given)
        return Verdict(word in (_YES if expected else _NO), how="the same answer")
    if typed.is_typed(expected):
        expected = typed.text(expected)   # a classification or critical points: compared by their words
    if _norm(given) == _norm(expected):
        return Verdict(True)
    if ";" in expected and ":" in expected:          # '(-1, 0): saddle point; (1, 0): local minimum'
        a, b = _point_classes(given), _point_classes(expected)
        if a is not None and a == b:
            return Verdict(True, how="the same classification of each point")
        if a is not None and b is not None and "strict" not in str(given).lower() and [p for p, _ in a] == [
                p for p, _ in b] and all(
                c == d or _also(d, d, c) for (_, c), (_, d) in zip(a, b)):
            return Verdict(True, how="each point's classification (a global minimum is also a local one)")
        return Verdict(False)
    want = _classification(expected)
    why = _also(want, str(expected), str(given))
    if why:
        return Verdict(True, how=why)
    if want is not None:
        return Verdict(_classification(given) == want, how="the same classification")
    shape_want = _shape(expected)
    if shape_want is not None and ("shape" in name.lower() or len(shape_want) != 2):
        return Verdict(_shape(given) == shape_want, how="the same shape")
    want_set = _set(expected, spec, names)
    if want_set is not None:
        got_set = _set(given, spec, names)
        if got_set is None:
            return Verdict(False)
        return _same_set(got_set, want_set, rule)
    if shape_want is not None:
        return Verdict(_shape(given) == shape_want, how="the same shape")
    return Verdict(False)


_YES = ("yes", "true", "y", "1")
_NO = ("no", "false", "n", "0")
_CLASSES = (("not critical", r"not(a)?critical(point)?"), ("minimum", r"(local|strict|strictlocal)?min(imum)?(point)?"),
            ("maximum", r"(local|strict|strictlocal)?max(imum)?(point)?"), ("saddle", r"saddle(point)?"),
            ("degenerate", r"degenerate|inconclusive"), ("cannot classify", r"cannotclassify"),
            ("global minimum", r"global(ly)?min(imum)?(point)?"), ("global maximum", r"global(ly)?max(imum)?(point)?"),
            ("unbounded below", r"unboundedbelow"),
            ("unbounded above", r"unboundedabove"))


def _also(want: str | None, expected: str, given: str) -> str:
    """Why a key naming another class is right for this answer ('' when it is not): a global minimum (maximum) is
    a local one too, though not a strict one (a line of minima); one found by a bound on f where the Hessian has a
    zero eigenvalue is also what the second-order test calls degenerate."""
    if want not in ("global minimum", "global maximum"):
        return ""
    said, extreme = _classification(given), want.split()[1]
    if said == extreme and ("strict" not in given.lower() or "also strict" in expected):
        return f"a {want} is also a local {extreme}"
    if said == "degenerate" and "second-order test is inconclusive" in expected:
        return f"the second-order test is inconclusive there; it is a {want} by the bound on f"
    return ""


def _classification(text: str) -> str | None:
    """'local minimum' / 'min' / 'minimum (all eigenvalues > 0)' -> 'minimum'; None when not one."""
    t = str(text).lower()
    t = re.split(r"[(:]", t, maxsplit=1)[0]             # the reason is not part of the verdict
    t = re.sub(r"[^a-z]", "", t)
    for word, pattern in _CLASSES:
        if re.fullmatch(pattern, t):
            return word
    return None


def _point_classes(text: str):
    """'(-1, 0): saddle point; (1, 0): local minimum' as a sorted tuple of (point, class), or None."""
    out = []
    for part in str(text).split(";"):
        point, colon, kind = part.rpartition(":")
        c = _classification(kind)
        if not colon or c is None:
            return None
        out.append((_norm(point).replace("[", "(").replace("]", ")"), c))
    return tuple(sorted(out))


def _is_shape(value: Any) -> bool:
    """A vector of whole numbers ≥ 0 (a shape, a count per axis)."""
    return isinstance(value, Tensor) and value.rank == 1 and all(
        getattr(x, "is_Integer", False) and x >= 0 for x in value.items)


def _shape(text: str) -> tuple[int, ...] | None:
    """'(8, 30, 30)', '[8, 30, 30]', '8x30x30', '8 × 30 × 30', '(4,)', '4' as a tuple of ints, else None."""
    t = "".join(str(text).split())
    if t[:1] in "([" and t[-1:] in ")]":
        t = t[1:-1]
    parts = re.split(r"[,x×*]", t)
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if not parts or not all(re.fullmatch(r"\d{1,12}", p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


_UNION = re.compile(r"∪|\s+(?:u|U|or|OR)\s+")
_CMP = re.compile(r"(<=|>=|≤|≥|<|>|=)")
_EMPTY = {"∅", "{}", "empty", "emptyset", "theemptyset", "none", "ø"}


def _set(text: str, spec, names: dict):
    """Interval / set notation as (sympy Set, endpoint texts by value), or None when it is not one.

    '(0, 2/3)', ']0, 2/3[', '[0, 1)', '{1/3}', '1/3', '0 < alpha < 2/3', 'alpha > 2', 'x ∈ (0, 1)',
    '(-∞, 0) ∪ (2/3, ∞)', '∅'. Endpoints are read by the spec's expression language.
    """
    s = str(text).strip()
    if not s or len(s) > 2000:
        return None
    s = re.sub(r"^[A-Za-z_α-ω]\w*\s*(∈|\bin\b)\s*", "", s)
    texts: dict = {}
    pieces = []
    try:
        for term in _UNION.split(s):
            term = term.strip()
            if not term:
                return None
            piece = _term(term, spec, names, texts)
            if piece is None:
                return None
            pieces.append(piece)
        return sympy.Union(*pieces), texts
    except (ExamsolveError, TypeError, ValueError, AttributeError):
        return None


def _term(term: str, spec, names: dict, texts: dict):
    if "".join(term.split()).lower() in _EMPTY:
        return sympy.EmptySet
    if term[0] == "{" and term[-1] == "}":
        items = _split(term[1:-1])
        return sympy.FiniteSet(*[_end(x, spec, names, texts) for x in items]) if items else sympy.EmptySet
    if term[0] in "([]" and term[-1] in ")][" and len(term) > 2:
        items = _split(term[1:-1])
        if items is None or len(items) != 2:
            return None
        lo, hi = (_end(x, spec, names, texts) for x in items)
        return sympy.Interval(lo, hi, term[0] != "[", term[-1] != "]")
    parts = _CMP.split(term)
    if len(parts) == 1:                                   # a bare number: the set of that one number
        return sympy.FiniteSet(_end(term, spec, names, texts))
    exprs, ops = parts[0::2], [o.replace("≤", "<=").replace("≥", ">=") for o in parts[1::2]]
    var = [i for i, e in enumerate(exprs) if re.fullmatch(r"\s*[A-Za-z_α-ω]\w*\s*", e)
           and _infinity(e) is None and e.strip() not in ("pi", "e")]
    if len(var) != 1:
        return None
    i = var[0]
    if ops == ["="] and len(exprs) == 2:
        return sympy.FiniteSet(_end(exprs[1 - i], spec, names, texts))
    if "=" in ops or len(exprs) > 3 or (len(exprs) == 3 and i != 1):
        return None
    lo, hi, lo_open, hi_open = -sympy.oo, sympy.oo, True, True
    for j, op in enumerate(ops):                          # exprs[j] op exprs[j + 1]
        left, right = exprs[j], exprs[j + 1]
        if j + 1 == i:                                    # bound op x: a lower bound if op is < or <=
            b = _end(left, spec, names, texts)
            if op[0] == "<":
                lo, lo_open = b, op == "<"
            else:
                hi, hi_open = b, op == ">"
        else:                                             # x op bound
            b = _end(right, spec, names, texts)
            if op[0] == "<":
                hi, hi_open = b, op == "<"
            else:
                lo, lo_open = b, op == ">"
    return sympy.Interval(lo, hi, lo_open, hi_open)


def _split(inner: str) -> list | None:
    """Items separated by commas outside parentheses; None on unbalanced parentheses."""
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return None
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if depth:
        return None
    if cur.strip() or out:
        out.append(cur.strip())
    return None if any(not x for x in out) else out


def _end(text: str, spec, names: dict, texts: dict):
    """One endpoint or element: ∞ words, else an expression in the spec's language (decimals exact)."""
    from examsolve.spec_graph import spec_expr

    t = text.strip()
    v = _infinity(t)
    if v is None:
        v = spec_expr(spec, t.replace("−", "-"), ("answer",), names)
        if not isinstance(v, sympy.Basic) or not v.is_number or not (v.is_real or v.is_infinite):
            raise ValueError("not a real number")
    budget.check_number(v)
    texts.setdefault(v, t)
    return v


def _pieces(s) -> list:
    """A sympy set as its intervals and points, in order: (lo, hi, lo_open, hi_open)."""
    if isinstance(s, sympy.Union):
        out = [p for a in s.args for p in _pieces(a)]
    elif isinstance(s, sympy.Interval):
        out = [(s.start, s.end, bool(s.left_open), bool(s.right_open))]
    elif isinstance(s, sympy.FiniteSet):
        out = [(x, x, False, False) for x in s.args]
    elif s is sympy.EmptySet:
        out = []
    else:
        raise ValueError(f"not an interval or set: {s}")
    return sorted(out, key=lambda p: (sort_key(p[0]), sort_key(p[1])))


def _same_set(got, want, rule: Rule) -> Verdict:
    (g, gtexts), (w, _) = got, want
    if g == w:
        return Verdict(True, how="the same set")
    try:
        gp, wp = _pieces(g), _pieces(w)
    except (TypeError, ValueError):
        return Verdict(False)
    if len(gp) != len(wp):
        return Verdict(False)
    hows = []
    for a, b in zip(gp, wp):
        if (a[0] == a[1]) != (b[0] == b[1]) or a[2:] != b[2:]:
            return Verdict(False)
        for x, y in zip(a[:2], b[:2]):
            ok, _, how = _close(x, y, gtexts.get(x), rule, set(), MIN_SIG)
            if not ok:
                return Verdict(False)
            if how:
                hows.append(how)
    return Verdict(True, how="the same set" + (", endpoints " + hows[0] if len(set(hows)) == 1 else
                                              ", endpoints to the digits written" if hows else ""))


# ---- key checks -------------------------------------------------------------------------------------------

def check_key(spec, answer, raw: Any, names: dict, path: tuple | None = None) -> tuple[Any, bool, str]:
    """An official key (raw YAML value) against an answer: (the key's value, agrees, a short reason).

    The rule is the one grading uses for that answer (the spec's tolerance:, else the digits written);
    a key may be rounded to 2 significant figures, and an integer in a key is exact. A key of 1 figure the
    answer rounds to agrees with a note ending in TOO_FEW unless it is also right with a zero added (0.10);
    explain.py flags it when another value of the solution gives it. path: where the key is in the spec
    (default the top-level key: of that answer).
    """
    rule = rule_for(spec, answer.name)
    written = raw       # as written: compare reads {6, 2} as a set
    raw = raw if isinstance(answer.value, str) or typed.is_typed(answer.value) else multiset(raw, answer.name)
    text = as_text(raw)
    if isinstance(answer.value, str) or typed.is_typed(answer.value):
        v = compare_text(text, answer.value, rule, spec, names, answer.name)
        return text, v.ok, v.how if v.ok else ""
    shape = _shape(raw) if _is_shape(answer.value) and isinstance(raw, str) else None
    if shape is not None:        # (8, 30, 30), 8x30x30: a shape key
        key = Tensor((len(shape),), tuple(sympy.Integer(d) for d in shape))
        return key, compare(raw, text, answer.value, rule, spec, names, answer.name).ok, ""
    from examsolve.spec_graph import spec_expr

    items = answer.value.items if isinstance(answer.value, Tensor) else (answer.value,)
    names = {**names, **{s.name: s for x in items if isinstance(x, sympy.Basic) for s in x.free_symbols}}
    k = _infinity(raw)    # a key may name the answer's own symbols: rho = 1 - 6*alpha (lr's α is no given)
    k = spec_expr(spec, raw, path or ("key", answer.name), names) if k is None else k
    v = compare(written, text, answer.value, rule, spec, names, answer.name, min_sig=KEY_MIN_SIG,
                integers_exact=True)
    if v.ok:
        return k, True, v.how
    if answer.valid is not None:      # many right answers: the key is checked, not compared with ours
        return (k, *answer.valid(k))
    slip = _how_differs(raw, text, answer.value, rule, spec, names, answer.name)
    cut = truncated(raw, answer.value) if not slip and rule.how == "written" else ""
    slip = slip or cut and f"the key is the answer {cut}"
    if v.how and not slip:     # 0.1 for 0.115: not wrong, but one figure cannot tell (explain.py looks further)
        return k, True, f"{v.how}; {TOO_FEW}"
    return k, False, slip or v.why and f"the key {v.why.replace('give', 'needs')}"


def check_valid(spec, answer, raw: Any, names: dict) -> tuple[bool, str]:
    """Another right answer to a question with many (answer.valid set): the family's check of raw."""
    return answer.valid(read(raw, spec, names))


def _how_differs(raw, text, value, rule, spec, names, name: str = "") -> str:
    """'the key is −1 times the answer' and the like, when a slip explains the difference; else ''."""
    slips = ((lambda x: -x, "the key is −1 times the answer"), (lambda x: x / 2, "the key is half the answer"),
             (lambda x: 2 * x, "the key is twice the answer"))
    for f, what in slips:
        try:
            other = Tensor(value.shape, tuple(f(x) for x in value.items)) if isinstance(value, Tensor) else f(value)
            if not same(other, value) and compare(raw, text, other, rule, spec, names, name, min_sig=KEY_MIN_SIG,
                                                  integers_exact=True).ok:
                return what
        except (ExamsolveError, TypeError, ValueError):
            continue
    return _reordered(raw, text, value, rule, spec, names, name) if isinstance(value, Tensor) else ""


def _reordered(raw, text, value: Tensor, rule, spec, names, name: str) -> str:
    """'the key lists the entries in reverse order' (a matrix's: rotated by 180°, a flipped kernel), 'the
    transpose', or 'another order' when the key is the answer's entries reordered so; else ''. Said of the
    whole, before any entry-by-entry explanation (which would name each moved entry another value)."""
    from examsolve.expr import transpose

    if len(value.items) < 2 or quantity.unordered(name):
        return ""
    matrix = len(value.shape) == 2 and 1 not in value.shape
    ways = [(lambda: Tensor(value.shape, value.items[::-1]),
             "the key lists the entries in reverse order" + (" (the matrix turned by 180°, as a flipped kernel)"
                                                            if matrix else "")),
            (lambda: transpose(value) if matrix else None, "the key is the transpose of the answer")]
    for make, what in ways:
        try:
            other = make()
            if other is not None and not same(other, value) and compare(
                    raw, text, other, rule, spec, names, min_sig=KEY_MIN_SIG, integers_exact=True).ok:
                return what
        except (ExamsolveError, TypeError, ValueError):
            continue
    return "the key has the answer's entries in another order" if _permuted(raw, value, rule, spec, names) else ""


def _permuted(raw, value: Tensor, rule, spec, names) -> bool:
    """Whether the key's entries are the answer's, each once, in another order."""
    try:
        lined = _lined_up(raw, value, spec, names, True)
    except (ExamsolveError, TypeError, ValueError):
        return False
    if isinstance(lined, Verdict):
        return False
    got, want, texts, free = lined
    order = _matching(got, want, texts, rule, free, KEY_MIN_SIG, True)
    return order is not None and order != list(range(len(want)))


# ---- a decimal cut rather than rounded --------------------------------------------------------------------

def truncated(raw: Any, value: Any) -> str:
    """'truncated to 3 decimals, not rounded (rounded: 0.684)' when each decimal written is the value cut after
    its last digit (toward 0) and at least one is not the value rounded; else ''. Keys and grading say it."""
    items = value.items if isinstance(value, Tensor) else (value,)
    texts = _leaves(_list_text(raw)) if isinstance(value, Tensor) else [raw]
    if len(texts) != len(items) or not all(isinstance(t, str) and _DECIMAL.match(t.strip()) for t in texts):
        return ""
    rounded, cut_any, places = [], False, set()     # places: how far the entries that were cut are cut
    for t, x in zip(texts, items):
        if not (isinstance(x, sympy.Basic) and x.is_number and x.is_real and x.is_finite):
            return ""
        digits, last = _sig(t.strip())
        got, exact = sympy.Rational(t.strip()), sympy.Rational(str(numeric(x, 60)))
        unit = sympy.Rational(10) ** last
        near = sympy.floor(exact / unit + sympy.Rational(1, 2)) * unit
        rounded.append(_digits_text(near, last))
        if _within(abs(got - exact), last):     # right as written (0.683 for 0.6833; 0.12 for 0.125, a tie)
            continue
        if got != sympy.sign(exact) * (abs(exact) // unit) * unit:
            return ""
        cut_any = True
        places.add(f"{digits} significant figure{'s' if digits != 1 else ''}" if "e" in t.lower()
                   else f"{-last} decimal{'s' if last != -1 else ''}" if last < 0 else "an integer")
    if not cut_any or len(places) != 1:
        return ""
    shown = rounded[0] if not isinstance(value, Tensor) else "[" + ", ".join(rounded) + "]"
    return f"truncated to {places.pop()}, not rounded (rounded: {shown})"


def _digits_text(x, last: int) -> str:
    """A rational with a finite decimal form written to the place 10**last (0.684, 1200)."""
    if last >= 0:
        return str(int(x))
    sign = "-" if x < 0 else ""
    whole = int(abs(x) * sympy.Rational(10) ** -last)
    body = str(whole).rjust(-last + 1, "0")
    return f"{sign}{body[:last]}.{body[last:]}"
