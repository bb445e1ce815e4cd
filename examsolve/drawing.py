"""The computational graph as people draw it: every operator a node, edges carrying values and gradients.

Equations written as text are drawn operator by operator from their syntax tree (`w.T @ x` is a
transpose and a matrix product); template nodes (batch norm's μ, σ², x̂, y) are one node each.
Edges carry the forward value of their source and, when asked, the gradient flowing back along
them: ∂L/∂(source) through this edge only, so the edges out of a shared node add up to its gradient.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

from examsolve import budget, engine
from examsolve.equation_drawing import EquationDrawer
from examsolve.errors import SpecError
from examsolve.graph import Graph
from examsolve.tensor import Tensor


@dataclass
class Node:
    """A drawn node: a leaf (given or free name), a constant, an operator or a template node."""

    id: str
    label: str
    kind: str                 # "leaf" | "const" | "op" | "node"
    arity: int = 0
    name: str = ""            # the spec name this node computes or stands for
    value: Any = None
    grad: Any = None          # ∂of/∂(this node), all paths


@dataclass
class Edge:
    """An input of an operator: the value flowing forward and the gradient flowing back along it."""

    src: str
    dst: str
    value: Any = None
    grad: Any = None


@dataclass
class Drawing:
    """Nodes and edges in a deterministic order, and the scalar whose gradients are drawn."""

    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    of: str = ""
    title: str = ""
    names: dict = field(default_factory=dict)   # display names, as in Solution.names

    def node(self, id_: str) -> Node:
        """The node with this id (ids are n0, n1, ... in order)."""
        return self.nodes[int(id_[1:])]

    def _repr_svg_(self) -> str:
        """Jupyter display: graphviz's SVG, cleaned for inlining (SolveError when dot is missing)."""
        from examsolve.renderers import dot
        from examsolve.renderers.svg import clean

        return clean(dot.to_svg(dot.render(self)), label=self.title or "Computational graph")


def default_of(spec) -> str:
    """The scalar to take gradients of: the first grad ask's `of`, else the last equation."""
    for ask in spec.model.ask:
        if ask.kind in ("grad", "update") and isinstance(ask.body.of, str):
            return ask.body.of
    names = list(spec.model.equations)
    return names[-1] if names else ""


class _Builder:
    """Builds a Drawing group by group: leaves, template nodes, aliases; equations through EquationDrawer."""

    def __init__(self, graph: Graph, conventions: dict, of: str | None, grads: bool, strict: bool,
                 backprop: engine.Backprop | None):
        """Choose the scalar whose gradients are drawn and compute its adjoints."""
        self.graph, self.conventions = graph, conventions
        self.bp = backprop or engine.Backprop(graph, engine.evaluate(graph), conventions)
        self.values = self.bp.values
        self.d = Drawing(of=of or "")
        self.root: dict[str, str] = {}     # spec name -> id of the node that computes it
        self.adj: dict = {}
        if not strict and (not of or (of not in graph.groups and of not in graph.aliases)):
            nodes = [g for g, grp in graph.groups.items() if graph.nodes[grp.symbols[0]].kind == "node"]
            of = nodes[-1] if nodes else None      # no grad ask: the last equation
        if grads and of and of in graph.groups and graph.groups[of].shape and not strict:
            of = None          # the default pick is a vector (a Jacobian-only spec): draw values only
        self.d.of = of or ""
        if grads and of:
            g = graph.group(of)
            if g.shape:
                raise SpecError(f"'{of}' is not a scalar; choose a scalar with --of (e.g. the loss)")
            leaves = [s for s, n in graph.nodes.items() if n.kind != "node"]
            self.adj, _ = self.bp.adjoints(g.symbols[0], leaves, with_steps=False)
        self.grads = grads and bool(of)

    def new(self, label: str, kind: str, arity: int = 0, name: str = "", value: Any = None) -> Node:
        """A new node, appended to the drawing."""
        n = Node(f"n{len(self.d.nodes)}", label, kind, arity, name, value)
        self.d.nodes.append(n)
        return n

    def edge(self, src: str, dst: str, value: Any, grad: Any) -> Edge:
        """A new edge, appended to the drawing."""
        e = Edge(src, dst, value, grad)
        self.d.edges.append(e)
        return e

    def group_value(self, name: str) -> Any:
        """The value of a group: a scalar or a Tensor."""
        return engine.group_value(self.graph.groups[name], self.values)

    def group_grad(self, name: str) -> Any:
        """∂of/∂(the group), all paths; None when no gradients are drawn."""
        if not self.grads:
            return None
        g = self.graph.groups[name]
        items = tuple(self.adj.get(s, sympy.Integer(0)) for s in g.symbols)
        return items[0] if not g.shape else Tensor(g.shape, items)

    def build(self) -> Drawing:
        """Draw every group in the graph's order."""
        for name, group in self.graph.groups.items():
            budget.check("drawing the graph", self.graph.nodes[group.symbols[0]].loc)
            kind = self.graph.nodes[group.symbols[0]].kind
            if kind != "node":
                n = self.new(name, "leaf", name=name, value=self.group_value(name))
                n.grad = self.group_grad(name)
                self.root[name] = n.id
            elif name in self.graph.sources:
                EquationDrawer(self, name, self.graph.sources[name]).draw()
            else:
                self.template(name)
        return self.d

    # ---- template nodes: one node, edges from the groups its elements use --------------------
    def template(self, name: str) -> None:
        """A template node: one node, an edge from each group its elements use."""
        g = self.graph.groups[name]
        n = self.new(name, "node", name=name, value=self.group_value(name))
        n.grad = self.group_grad(name)
        parents: list = []
        for s in g.symbols:
            for p in self.graph.nodes[s].parents:
                pg = self.graph.nodes[p].group
                if pg not in parents:
                    parents.append(pg)
        n.arity = len(parents)
        for pg in parents:
            self.edge(self.root[pg], n.id, self.group_value(pg), self.template_grad(g, pg))
        self.root[name] = n.id

    def template_grad(self, g, parent: str) -> Any:
        """∂of/∂(parent) through the elements of group g, by the engine's local derivatives."""
        if not self.grads:
            return None
        pgroup = self.graph.groups[parent]
        items = []
        for p in pgroup.symbols:
            total = sympy.Integer(0)
            for s in g.symbols:
                if p in self.graph.nodes[s].parents and s in self.adj:
                    total += self.adj[s] * self.bp.local(s, p)[1]
            items.append(total)
        return items[0] if not pgroup.shape else Tensor(pgroup.shape, tuple(items))

    def alias(self, name: str) -> None:
        """A name for a series of groups (an RNN's h for h_1..h_T): one node fed by each of them."""
        a = self.graph.aliases[name]
        members: list = []
        for s in a.symbols:
            g = self.graph.nodes[s].group
            if g not in members:
                members.append(g)
        items = tuple(self.values[s] for s in a.symbols)
        n = self.new(name, "node", len(members), name=name, value=Tensor(a.shape, items))
        for g in members:
            self.edge(self.root[g], n.id, self.group_value(g), None)
        self.root[name] = n.id


def build(graph: Graph, conventions: dict, of: str | None = None, grads: bool = True,
          title: str = "", strict: bool = False, names: dict | None = None,
          backprop: engine.Backprop | None = None) -> Drawing:
    """The drawing of a solved graph; gradients of `of` on the edges when grads is true.

    With strict, an `of` that is not a scalar is an error; otherwise the drawing has values only.
    """
    if graph is None:     # a family that computes directly (lr, network shapes ...) has nothing to draw
        raise SpecError(f"'{title or 'this problem'}' has no computational graph to draw (it is computed directly); "
                        "`examsolve run` shows its steps")
    d = _Builder(graph, conventions, of, grads, strict, backprop).build()
    d.title, d.names = title, names or {}
    return d
