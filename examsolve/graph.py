"""Graph: named scalar nodes in topological order, with vectors and matrices as groups of elements."""
from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass, field
from typing import Any

import sympy

from examsolve import fastsym
from examsolve.errors import Loc, SpecError, nearest
from examsolve.expr import CONSTANTS, FUNCTION_NAMES, symbol
from examsolve.names import NAME_HINT, is_name, shown
from examsolve.tensor import Tensor, element_suffixes


# gc threshold2 while building or solving: a full collection only after this many generation-1 ones (by
# default one per ~7000 net allocations), i.e. none during a solve; the young ones run as usual
FULL_AFTER = 1_000_000


@contextlib.contextmanager
def building():
    """Python's cyclic collector kept to its young generations while a graph is built or solved.

    Building allocates sympy objects by the hundred thousand and keeps most of them: each full collection
    walks them all again (~40% of building a 256-wide dense layer; a 6000-step RNN grew superlinearly). The
    young collections still free the reference cycles that die young (a closure calling itself, per call),
    so they do not pile up; one that outlives two young collections waits for the first full one after.
    The thresholds are put back afterwards; gc.enable/disable and the caller's young thresholds are left alone.
    """
    saved = gc.get_threshold()
    gc.set_threshold(saved[0], saved[1], max(saved[2], FULL_AFTER))
    try:
        yield
    finally:
        gc.set_threshold(*saved)


# calls whose free symbols are not their arguments' (bound variables): free_symbols decides for them
_BINDING = (sympy.Subs, sympy.Derivative, sympy.Lambda, sympy.Integral, sympy.Sum, sympy.Product, sympy.Piecewise)

_FUNCTIONS = frozenset(FUNCTION_NAMES)
MAX_NODES = 50_000     # computed nodes (equations' elements); given tensors are data and do not count


@dataclass(slots=True)        # 65,536 given entries of one matrix: no __dict__ each
class Node:
    """One scalar: a given leaf, a free symbol, or an equation of its parents."""

    name: str
    symbol: sympy.Symbol
    kind: str                      # "given" | "symbol" | "node"
    group: str
    expr: Any = None               # evaluated expression of parent symbols (nodes)
    display: Any = None            # the formula as written, unevaluated
    value: Any = None              # given value (leaves)
    loc: Loc | None = None
    hint: str = ""                 # why this node may be undefined (for SolveError)
    parents: tuple = ()


class _Consumers(dict):
    """symbol -> the nodes that use it; a symbol nothing uses (most given entries) has no list of its own."""

    def __missing__(self, key: Any) -> tuple:
        return ()


@dataclass(frozen=True)
class Group:
    """A spec-level name: a scalar, or a vector/matrix of element nodes."""

    name: str
    shape: tuple[int, ...]
    symbols: tuple[sympy.Symbol, ...]

    def as_value(self) -> Any:
        """The symbol, or a Tensor of element symbols."""
        return self.symbols[0] if not self.shape else Tensor(self.shape, self.symbols)


class Names(dict):
    """The names expressions may use, with the graph that defines them (key checks expand defined names)."""

    graph: Any = None


def _symbols_in(expr: Any, nodes: dict) -> list | None:
    """expr.free_symbols that are keys of nodes, found by one walk over sums, products, powers, calls, symbols
    and numbers (shared subtrees once); None when expr holds anything else (free_symbols decides then)."""
    if expr.is_Symbol:
        return [expr] if expr in nodes else []
    if expr.is_Atom:
        return [] if expr.is_Number or expr.is_NumberSymbol or expr is sympy.S.ImaginaryUnit else None
    found: dict = {}
    seen: set = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if e.is_Add:
            known = fastsym.known_symbols(e)
            if known is not None:          # a sum fastsym built: its symbols are known
                found.update((p, None) for p in known if p in nodes)
                continue
        elif not (e.is_Mul or e.is_Pow or e.is_Function and not isinstance(e, _BINDING)):
            return None
        for a in e.args:
            if a.is_Symbol:
                if a in nodes:
                    found[a] = None
            elif a.is_Atom:
                if not (a.is_Number or a.is_NumberSymbol or a is sympy.S.ImaginaryUnit):
                    return None
            elif id(a) not in seen:
                seen.add(id(a))
                stack.append(a)
    return list(found)


@dataclass
class Graph:
    """Nodes in insertion (= topological) order and the groups that name them."""

    nodes: dict = field(default_factory=dict)      # Symbol -> Node
    groups: dict = field(default_factory=dict)     # name -> Group
    order: dict = field(default_factory=dict)      # Symbol -> position
    _names: dict = field(default_factory=Names)      # name -> symbol or Tensor, for parsing
    sources: dict = field(default_factory=dict)      # equation name -> its text, for drawings
    aliases: dict = field(default_factory=dict)      # name -> Group of other groups' elements (h = h_1..h_T)
    computed: int = 0                                # nodes defined by equations (the size limit counts these)

    def names(self) -> dict[str, Any]:
        """What expressions may refer to: group names and element names (kept up to date; read only)."""
        self._names.graph = self
        return self._names

    def in_leaves(self, e: Any) -> Any:
        """e with every defined node written out in the leaves and every given name replaced by its value."""
        from examsolve.functions import sigmoid, softplus

        if not isinstance(e, sympy.Basic):
            return e
        nodes = [s for s in e.free_symbols if s in self.nodes and self.nodes[s].kind != "symbol"]
        if nodes:
            given = {s: n.value for s, n in self.nodes.items() if n.kind == "given"}
            e = e.xreplace({s: self.compose(s).xreplace(given) for s in nodes})
        # σ and softplus by their formulas, so a key written with exp (1/(1 + exp(-z))) cancels against them
        return e.replace(sigmoid, lambda x: 1 / (1 + sympy.exp(-x))).replace(
            softplus, lambda x: sympy.log(1 + sympy.exp(x)))

    def _claim(self, name: str, loc: Loc | None) -> None:
        if not is_name(name):
            raise SpecError(f"'{shown(name)}' is not a valid name; {NAME_HINT}", loc)
        if name in self.groups or symbol(name) in self.nodes or name in self._names:
            raise SpecError(f"'{name}' is defined twice; give each quantity one name", loc)
        if name in _FUNCTIONS:
            raise SpecError(f"'{name}' is a function name; choose another name", loc)
        if self.computed >= MAX_NODES:
            raise SpecError(f"the graph has more than {MAX_NODES} computed scalar nodes; make the problem smaller",
                            loc)

    def _add(self, name: str, shape: tuple, kind: str, items: tuple, loc: Loc | None, **extra) -> Group:
        self._claim(name, loc)
        nodes, order = self.nodes, self.order
        if shape:
            names = [f"{name}_{suffix}" for suffix in element_suffixes(shape)]
            syms = tuple(symbol(n) for n in names)
            for n, s in zip(names, syms):
                if s in nodes or n in self.groups:
                    raise SpecError(f"element '{n}' of '{name}' clashes with another name", loc)
        else:
            names = [name]
            syms = (symbol(name),)
        hint = extra.get("hint", "")
        for n, s, item in zip(names, syms, items):
            if kind == "node":
                expr, display = item
                node = Node(n, s, kind, name, expr, display, None, loc, hint, self.parents_of(expr))
            else:
                node = Node(n, s, kind, name, None, None, item, loc, hint)
            order[s] = len(order)
            nodes[s] = node
        if kind == "node":
            self.computed += len(syms)
        group = Group(name, shape, syms)
        self.groups[name] = group
        self._names[name] = group.as_value()
        if shape:
            self._names.update((s.name, s) for s in syms)
        return group

    def parents_of(self, expr: Any) -> tuple:
        """The nodes expr is written in (its free symbols that are nodes), in topological order."""
        found = _symbols_in(expr, self.nodes)
        if found is None:
            found = [p for p in expr.free_symbols if p in self.nodes]
        if len(found) > 1:
            found.sort(key=self.order.__getitem__)
        return tuple(found)

    def add_given(self, name: str, value: Any, loc: Loc | None = None) -> Group:
        """A leaf with a value (scalar or Tensor)."""
        shape, items = (value.shape, value.items) if isinstance(value, Tensor) else ((), (value,))
        return self._add(name, shape, "given", items, loc)

    def add_function(self, name: str, loc: Loc | None = None, vector: bool = False) -> None:
        """A differentiable function known only by name (vector-valued: its derivatives are Jacobians)."""
        from examsolve.functions import generic

        self._claim(name, loc)
        self._names[name] = generic(name, vector=vector)

    def add_symbol(self, name: str, loc: Loc | None = None) -> Group:
        """A free scalar leaf without a value."""
        return self._add(name, (), "symbol", (None,), loc)

    def add_node(self, name: str, value: Any, display: Any = None, loc: Loc | None = None,
                 hint: str = "", source: str = "") -> Group:
        """An equation: value (and its display form) in terms of earlier symbols."""
        if source:
            self.sources[name] = source
        display = value if display is None else display
        if isinstance(value, Tensor):
            disp = display.items if isinstance(display, Tensor) and display.shape == value.shape else value.items
            items = tuple(zip(value.items, disp))
            return self._add(name, value.shape, "node", items, loc, hint=hint)
        return self._add(name, (), "node", ((value, display),), loc, hint=hint)

    def group(self, name: str, loc: Loc | None = None, what: str = "name") -> Group:
        """The group of a name used in an ask; SpecError with a suggestion when unknown."""
        if name in self.groups:
            return self.groups[name]
        if name in self.aliases:
            return self.aliases[name]
        s = symbol(name)
        if s in self.nodes:
            return Group(name, (), (s,))
        raise SpecError(f"unknown {what} '{name}'{nearest(name, list(self.groups) + list(self.aliases))}", loc)

    def ancestors(self, targets) -> set:
        """The targets and every node they depend on."""
        seen, stack = set(), list(targets)
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            stack.extend(self.nodes[s].parents)
        return seen

    def consumers(self) -> dict:
        """For each symbol, the nodes that use it, in topological order."""
        out: dict = _Consumers()
        for s, n in self.nodes.items():
            for p in n.parents:
                if p in out:
                    out[p].append(s)
                else:
                    out[p] = [s]
        return out

    def compose(self, target: sympy.Symbol) -> sympy.Expr:
        """The target as one expression of the leaves (for small symbolic questions)."""
        memo: dict = {}
        for s in sorted(self.ancestors([target]), key=self.order.__getitem__):
            n = self.nodes[s]
            memo[s] = s if n.kind != "node" else n.expr.xreplace({p: memo[p] for p in n.parents})
        return memo[target]

    def constants_shadowed(self) -> tuple[str, ...]:
        """Constant names (pi, e) that the spec redefines."""
        return tuple(c for c in CONSTANTS if c in self.groups)
