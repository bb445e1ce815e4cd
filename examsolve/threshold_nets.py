"""Networks of threshold units: evaluated on a truth table, or built for a Boolean function (DNF, parity)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy

MAX_VARS = 6          # a built function's truth table has 2^n rows, its DNF up to 2^n units
LP_VARS = 4           # the separability search (integers, then exact LP) stays fast up to here
MAX_FORMULA = 2000    # characters of a formula
MAX_NESTING = 60      # parentheses and nots inside one another


@dataclass(frozen=True)
class Unit:
    """A threshold unit with its numbers resolved: fires when Σ w·input + b > θ (or ≥ θ)."""

    name: str
    inputs: tuple
    weights: tuple
    bias: object = sympy.Integer(0)
    theta: object = sympy.Integer(0)


def run(units: list, X: list, strict: bool, pm: bool) -> dict:
    """Every unit's output on every row: name -> list of outputs (1, or −1/0)."""
    from examsolve.families.perceptron import fire

    outs: dict = {u.name: [] for u in units}
    for x in X:
        vals = {f"x{j + 1}": v for j, v in enumerate(x)}
        for u in units:
            net = sympy.Add(*[w * vals[i] for w, i in zip(u.weights, u.inputs)]) + u.bias
            vals[u.name] = sympy.Integer(fire(net, u.theta, strict, pm))
            outs[u.name].append(vals[u.name])
    return outs


def depths(units: list, d: int) -> dict:
    """Depth of every input (0) and unit (1 + the deepest of its inputs)."""
    depth = {f"x{j + 1}": 0 for j in range(d)}
    for u in units:
        depth[u.name] = 1 + max((depth[i] for i in u.inputs), default=0)
    return depth


def report(spec, units: list, X: list, steps: list, answers: list, title: str):
    """The truth table of every unit, then the output, the number of units, depth and width."""
    from examsolve.families.perceptron import strict
    from examsolve.finish import finish
    from examsolve.steps import Answer, Step, Table
    from examsolve.tensor import Tensor

    pm = spec.model.output == "pm1"
    d = len(X[0])
    outs = run(units, X, strict(spec), pm)
    depth = depths(units, d)
    base = tuple(f"x{j + 1}" for j in range(d))
    rows = tuple(tuple(x) + tuple(outs[u.name][r] for u in units) for r, x in enumerate(X))
    steps.append(Step(title, table=Table(base + tuple(u.name for u in units), rows), quantities=tuple(
        (f"units.{u.name}.outputs", Tensor((len(X),), tuple(outs[u.name]))) for u in units)))
    layers: dict = {}
    for u in units:
        layers.setdefault(depth[u.name], []).append(u.name)
    last = units[-1].name
    answers += [Answer(f"output {last}", Tensor((len(X),), tuple(outs[last]))),
                Answer("units", sympy.Integer(len(units)), note="threshold units, the inputs not counted"),
                Answer("depth", sympy.Integer(max(depth.values())), note="layers of units on the longest path"),
                Answer("width", sympy.Integer(max(len(v) for v in layers.values())),
                       note="the most units in one layer (units at the same depth)")]
    return finish(spec, steps, answers)


def evaluate(spec, X: list, steps: list, answers: list):
    """The spec's network: each unit's output on every row; units, depth and width."""
    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr

    m = spec.model
    known = [f"x{j + 1}" for j in range(len(X[0]))]
    units = []
    for k, u in enumerate(m.network):
        missing = [i for i in u.inputs if i not in known]
        if missing or len(u.weights) != len(u.inputs):
            raise SpecError(f"unit {u.name}: inputs {missing or ''} unknown or weights do not match the inputs "
                            f"(inputs are {', '.join(known)})", spec.loc("network", k))
        ws = tuple(spec_expr(spec, v, ("network", k, "weights", i), {}) for i, v in enumerate(u.weights))
        units.append(Unit(u.name, tuple(u.inputs), ws, spec_expr(spec, u.bias, ("network", k, "bias"), {}),
                          spec_expr(spec, u.threshold, ("network", k, "threshold"), {})))
        known.append(u.name)
    rel = ">" if m.fires == ">" else "≥"
    out = "1, else −1" if m.output == "pm1" else "1, else 0"
    return report(spec, units, X, steps, answers, f"threshold units output {out}, when Σ w·input + b {rel} θ "
                  f"(θ = 0 unless given)")


# ---- Boolean formulas: a small recursive-descent parser, never eval --------------------------------------

WORDS = {"and": "and", "or": "or", "xor": "xor", "not": "not"}
SYMBOLS = {"&": "and", "∧": "and", "|": "or", "∨": "or", "^": "xor", "⊕": "xor", "~": "not", "!": "not",
           "¬": "not", "(": "(", ")": ")"}


class FormulaError(Exception):
    """A formula that does not parse; offset is the 0-based character."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def tokens(text: str) -> list:
    """(kind, value, offset) tokens: var (index), const (0/1), and, or, xor, not, parentheses."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in SYMBOLS:
            out.append((SYMBOLS[ch], None, i))
            i += 1
        elif ch.isalnum() or ch == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if word.lower() in WORDS:
                out.append((WORDS[word.lower()], None, i))
            elif word in ("0", "1"):
                out.append(("const", int(word), i))
            elif word[0] == "x" and word[1:].isdigit() and 1 <= int(word[1:]) <= MAX_VARS:
                out.append(("var", int(word[1:]), i))
            else:
                raise FormulaError(f"unknown name {word!r}; use x1..x{MAX_VARS}, 0, 1, and, or, xor, not", i)
            i = j
        else:
            raise FormulaError(f"unexpected {ch!r}; use and, or, xor, not (or & | ^ ~) and parentheses", i)
    return out


def parse(text: str):
    """A formula as a tree: ('var', i), ('const', b), ('not', a), ('and' | 'or' | 'xor', [a, b, ...])."""
    if len(text) > MAX_FORMULA:
        raise FormulaError(f"the formula is longer than {MAX_FORMULA} characters", 0)
    toks = tokens(text)
    pos = 0

    def peek():
        return toks[pos][0] if pos < len(toks) else None

    def binary(op: str, below, depth: int):
        nonlocal pos
        items = [below(depth)]
        while peek() == op:
            pos += 1
            items.append(below(depth))
        return items[0] if len(items) == 1 else (op, items)

    def atom(depth: int):
        nonlocal pos
        if depth > MAX_NESTING:
            raise FormulaError(f"nested deeper than {MAX_NESTING}", toks[pos][2] if pos < len(toks) else 0)
        if pos >= len(toks):
            raise FormulaError("the formula ends too early; a name, 0, 1 or ( is missing", len(text))
        kind, value, at = toks[pos]
        pos += 1
        if kind == "not":
            return ("not", atom(depth + 1))
        if kind in ("var", "const"):
            return (kind, value)
        if kind == "(":
            inner = top(depth + 1)
            if peek() != ")":
                raise FormulaError("a ) is missing", toks[pos][2] if pos < len(toks) else len(text))
            pos += 1
            return inner
        raise FormulaError(f"expected a name, 0, 1, not or (, got {kind}", at)

    def conj(depth):
        return binary("and", atom, depth)

    def xors(depth):
        return binary("xor", conj, depth)

    def top(depth):
        return binary("or", xors, depth)

    tree = top(0)
    if pos != len(toks):
        raise FormulaError(f"unexpected {toks[pos][0]} after a complete formula", toks[pos][2])
    return tree


def value(tree, x: tuple) -> int:
    """The formula's 0/1 value on the row x (x[0] is x1)."""
    kind, arg = tree
    if kind == "var":
        return int(x[arg - 1])
    if kind == "const":
        return arg
    if kind == "not":
        return 1 - value(arg, x)
    vals = [value(a, x) for a in arg]
    return int(all(vals)) if kind == "and" else int(any(vals)) if kind == "or" else sum(vals) % 2


def variables(tree) -> int:
    """The largest variable index in the formula (0 when there is none)."""
    kind, arg = tree
    if kind == "var":
        return arg
    if kind == "const":
        return 0
    return max((variables(a) for a in (arg if isinstance(arg, list) else [arg])), default=0)


def dnf_terms(tree) -> list | None:
    """The formula's terms when it is already a DNF: [[(i, positive), ...], ...], else None."""
    def literal(t):
        if t[0] == "var":
            return (t[1], True)
        if t[0] == "not" and t[1][0] == "var":
            return (t[1][1], False)
        return None

    def term(t):
        lits = [literal(a) for a in (t[1] if t[0] == "and" else [t])]
        if None in lits or len({i for i, _ in lits}) != len(lits):
            return None
        return lits

    terms = [term(t) for t in (tree[1] if tree[0] == "or" else [tree])]
    return None if None in terms else terms


# ---- building a network for a Boolean function ---------------------------------------------------------

def build(spec):
    """A threshold network for the targets (or formula): one unit, DNF or parity; checked on every row."""
    from examsolve.errors import SolveError, SpecError
    from examsolve.families.perceptron import strict
    from examsolve.steps import Step, Table

    m = spec.model
    if m.output == "pm1":
        raise SpecError("formula:/build: build 0/1 units on 0/1 inputs; remove output: pm1",
                        spec.loc("output"))
    X, T, tree = _table(spec)
    n = len(X[0])
    is_parity = all(t == sum(x) % 2 for x, t in zip(X, T))
    how = m.build or ("parity" if is_parity and n >= 2 else "dnf")
    steps: list = []
    single = _single(X, T, strict(spec)) if m.build is None and n <= LP_VARS else None
    if single is not None:
        units, why = single
    elif how.startswith("parity"):
        if not is_parity:
            raise SpecError(f"build: {how} builds x1 xor ... xor x{n}, and the targets are not parity; "
                            "use build: dnf", spec.loc("build"))
        units, why = (_parity_shortcuts if how == "parity_shortcuts" else _parity)(n, strict(spec))
    else:
        units, why = _dnf(X, T, tree, strict(spec))
    steps.append(Step(why, note="convention: a unit outputs 1 when Σ w·input + b " + (
        "> 0 (fires: '>')" if strict(spec) else "≥ 0 (fires: '>=')") + ", else 0"))
    outs = run(units, X, strict(spec), False)[units[-1].name]
    if outs != [sympy.Integer(t) for t in T]:     # the constructions are proved; this guards the code
        raise SolveError(f"the built network gives {outs} instead of {T}; please report this spec")
    steps.append(Step("the units", table=Table(("unit", "inputs", "weights", "bias"), tuple(
        (u.name, ", ".join(u.inputs) or "none", "(" + ", ".join(map(sympy.sstr, u.weights)) + ")", u.bias)
        for u in units))))
    return report(spec, units, X, steps, [], "the network on every row")


def _table(spec) -> tuple:
    """Rows, 0/1 targets and the parsed formula (or None): from formula: or from inputs: and targets:."""
    from examsolve.errors import SpecError
    from examsolve.spec_graph import spec_expr

    m = spec.model
    tree = None
    if m.formula:
        try:
            tree = parse(m.formula)
        except FormulaError as e:
            raise SpecError(f"formula: {e}", spec.loc_at(("formula",), e.offset)) from None
    n = len(m.inputs[0]) if m.inputs else variables(tree) if tree else 0
    if not 1 <= n <= MAX_VARS:
        raise SpecError(f"formula:/inputs: 1 to {MAX_VARS} inputs x1, x2, ... (got {n})",
                        spec.loc("formula" if m.formula else "inputs"))
    X = ([[spec_expr(spec, v, ("inputs", i, j), {}) for j, v in enumerate(r)] for i, r in enumerate(m.inputs)]
         if m.inputs else [[sympy.Integer(v) for v in r] for r in itertools.product((0, 1), repeat=n)])
    if any(len(r) != n or any(v not in (0, 1) for v in r) for r in X) or len({tuple(r) for r in X}) != len(X):
        raise SpecError(f"inputs: distinct 0/1 rows of {n} values (a truth table)", spec.loc("inputs"))
    if tree is not None and variables(tree) > n:
        raise SpecError(f"formula: uses x{variables(tree)} but the rows have {n} inputs", spec.loc("formula"))
    computed = [value(tree, tuple(r)) for r in X] if tree is not None else None
    T = [spec_expr(spec, v, ("targets", i), {}) for i, v in enumerate(m.targets)] if m.targets else computed
    if T is None or len(T) != len(X) or any(t not in (0, 1) for t in T):
        raise SpecError(f"targets: one 0/1 target per row ({len(X)} rows), or a formula:", spec.loc("targets"))
    if computed is not None and list(T) != computed:
        bad = next(i for i, (a, b) in enumerate(zip(T, computed)) if a != b)
        raise SpecError(f"targets: row {bad} is {T[bad]} but the formula gives {computed[bad]}; fix one of them",
                        spec.loc("targets", bad))
    return X, [int(t) for t in T], tree


def _single(X: list, T: list, strict: bool):
    """One unit when the table is linearly separable (then that is the smallest network), else None."""
    from examsolve.separable import _linear_program, _small_integers

    fires = [t == 1 for t in T]
    found = _small_integers(X, fires, strict, max_k=2) or _linear_program(X, fires, strict)
    if found is None:
        return None
    n = len(X[0])
    unit = Unit("y", tuple(f"x{j + 1}" for j in range(n)), tuple(found[:-1]), found[-1])
    return [unit], ("the table is linearly separable, so one threshold unit computes it: 1 unit, depth 1, "
                    "the smallest network (a DNF network would not be smaller)")


def _bias(k: int, strict: bool):
    """The bias that makes a unit fire exactly when at least k of its ±1-weighted literals hold."""
    return sympy.Integer(1 - k if strict else -k)      # net ≥ k ⇔ net > k − 1 on integers


def _dnf(X: list, T: list, tree, strict: bool) -> tuple:
    """One AND unit per term (the formula's, if it is a DNF, else one per true row), then an OR unit."""
    n = len(X[0])
    terms = dnf_terms(tree) if tree is not None else None
    source = "term of the formula"
    if terms is None:
        terms = [[(j + 1, bool(v)) for j, v in enumerate(x)] for x, t in zip(X, T) if t == 1]
        source = "row with output 1 (its minterm)"
    if not terms:
        return [Unit("y", (), (), sympy.Integer(-1))], "the function is always 0: one unit that never fires"
    ands = []
    for k, lits in enumerate(terms, 1):
        ws = tuple(sympy.Integer(1 if pos else -1) for _, pos in lits)
        ands.append(Unit("y" if len(terms) == 1 else f"a{k}", tuple(f"x{i}" for i, _ in lits), ws,
                         _bias(sum(pos for _, pos in lits), strict)))
    why = (f"DNF construction: one AND unit per {source} — weight +1 on a plain input, −1 on a negated one, bias "
           f"so it fires only when all its literals hold (net = number of plain literals) — ")
    if len(ands) == 1:
        return ands, why + "one term, so that unit is the output: depth 1"
    orunit = Unit("y", tuple(u.name for u in ands), tuple(sympy.Integer(1) for _ in ands), _bias(1, strict))
    return ands + [orunit], why + (f"then an OR unit that fires when at least one fires: {len(ands)} + 1 units, "
                                   "depth 2 (not always the smallest network: terms can often be merged)")


def _parity(n: int, strict: bool) -> tuple:
    """One hidden layer of n units, unit k fires when Σx ≥ k; the output adds them with signs +, −, +, ..."""
    xs = tuple(f"x{j + 1}" for j in range(n))
    hidden = [Unit(f"h{k}", xs, tuple(sympy.Integer(1) for _ in xs), _bias(k, strict)) for k in range(1, n + 1)]
    out = Unit("y", tuple(u.name for u in hidden), tuple(sympy.Integer((-1) ** (k + 1)) for k in range(1, n + 1)),
               _bias(1, strict))
    why = (f"parity of {n} inputs is not linearly separable (flipping any one input flips the output), so it needs "
           f"depth 2; one hidden layer of n = {n} units suffices: h_k fires when at least k inputs are 1, so with s "
           "inputs on h_1..h_s fire and h_1 − h_2 + h_3 − ... is 1 for odd s, 0 for even s; the output fires when "
           f"that sum ≥ 1: {n} + 1 units, depth 2, width {n}")
    if n <= 3:
        why += (f"; with one hidden layer and no shortcut connections fewer hidden units cannot work for n = {n}: "
                "every edge of the cube joins inputs of different parity, so the hidden hyperplanes must cut all "
                f"{n * 2 ** (n - 1)} edges, and fewer than n hyperplanes cannot (n ≤ 3)")
    return hidden + [out], why


def _parity_shortcuts(n: int, strict: bool) -> tuple:
    """⌊n/2⌋ hidden units, unit k fires when Σx ≥ 2k; the output sees the inputs and fires on Σx − 2Σh ≥ 1."""
    xs = tuple(f"x{j + 1}" for j in range(n))
    hidden = [Unit(f"h{k}", xs, tuple(sympy.Integer(1) for _ in xs), _bias(2 * k, strict)) for k in range(1, n // 2 + 1)]
    out = Unit("y", xs + tuple(u.name for u in hidden),
               tuple(sympy.Integer(1) for _ in xs) + tuple(sympy.Integer(-2) for _ in hidden), _bias(1, strict))
    why = (f"parity of {n} inputs with shortcut connections (the output also sees the inputs): h_k fires when at "
           f"least 2k inputs are 1 (k = 1..{n // 2}), so Σh = ⌊s/2⌋ for s inputs on and Σx − 2Σh = s mod 2; the "
           f"output fires when that is ≥ 1: {n // 2} + 1 units, depth 2 (x → h → y), width {max(n // 2, 1)}; the "
           f"layered construction without shortcuts needs {n} hidden units")
    return hidden + [out], why
