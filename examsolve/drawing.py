"""The computational graph as people draw it: every operator a node, edges carrying values and gradients.

Equations written as text are drawn operator by operator from their syntax tree (`w.T @ x` is a
transpose and a matrix product); template nodes (batch norm's μ, σ², x̂, y) are one node each.
Edges carry the forward value of their source and, when asked, the gradient flowing back along
them: ∂L/∂(source) through this edge only, so the edges out of a shared node add up to its gradient.
"""
from __future__ import annotations

import ast
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any

import sympy

from examsolve import budget, engine
from examsolve.errors import SpecError
from examsolve.expr import Converter, syntax_tree
from examsolve.functions import resolve_kinks
from examsolve.graph import Graph
from examsolve.tensor import Tensor

_BINOPS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "mod"}


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
    def __init__(self, graph: Graph, conventions: dict, of: str | None, grads: bool, strict: bool,
                 backprop: engine.Backprop | None):
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
        n = Node(f"n{len(self.d.nodes)}", label, kind, arity, name, value)
        self.d.nodes.append(n)
        return n

    def group_value(self, name: str) -> Any:
        return engine.group_value(self.graph.groups[name], self.values)

    def group_grad(self, name: str) -> Any:
        if not self.grads:
            return None
        g = self.graph.groups[name]
        items = tuple(self.adj.get(s, sympy.Integer(0)) for s in g.symbols)
        return items[0] if not g.shape else Tensor(g.shape, items)

    def build(self) -> Drawing:
        for name, group in self.graph.groups.items():
            budget.check("drawing the graph", self.graph.nodes[group.symbols[0]].loc)
            kind = self.graph.nodes[group.symbols[0]].kind
            if kind != "node":
                n = self.new(name, "leaf", name=name, value=self.group_value(name))
                n.grad = self.group_grad(name)
                self.root[name] = n.id
            elif name in self.graph.sources:
                self.equation(name, self.graph.sources[name])
            else:
                self.template(name)
        return self.d

    # ---- template nodes: one node, edges from the groups its elements use --------------------
    def template(self, name: str) -> None:
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
            self.d.edges.append(Edge(self.root[pg], n.id, self.group_value(pg), self._template_grad(g, pg)))
        self.root[name] = n.id

    def _template_grad(self, g, parent: str) -> Any:
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
            self.d.edges.append(Edge(self.root[g], n.id, self.group_value(g), None))
        self.root[name] = n.id

    # ---- equations: one node per operator of the syntax tree --------------------------------
    def equation(self, name: str, text: str) -> None:
        tree, body = syntax_tree(text)
        names = ChainMap({k: a.as_value() for k, a in self.graph.aliases.items()}, self.graph.names())
        conv = Converter(body, names)
        symbols = self.graph.groups[name].symbols
        outputs = list(symbols)

        cache: dict = {}

        uses: dict = {}
        for sub in ast.walk(tree):
            if isinstance(sub, ast.Name):
                uses[sub.id] = uses.get(sub.id, 0) + 1

        def value_of(node: ast.AST) -> Any:
            if id(node) not in cache:
                if node is tree:
                    cache[id(node)] = self.group_value(name)
                elif isinstance(node, ast.Name) and node.id in self.graph.groups:
                    cache[id(node)] = self.group_value(node.id)
                else:
                    cache[id(node)] = engine.substitute(conv.visit(node), self.values)
            return cache[id(node)]

        grads: dict = {}    # id(syntax node) -> ∂of/∂(each element of its value), filled top-down

        def child_grads(node: ast.AST, children: list, is_root: bool) -> None:
            """Reverse mode over the syntax tree: each child's gradient is its operator's gradient times the
            operator's local derivative (all children swapped for placeholders at once, so each operator is
            differentiated once, not the whole equation once per edge)."""
            up = [self.adj.get(s) for s in outputs] if is_root else grads[id(node)]
            overrides, holes, at = {}, [], dict(self.values)
            for k, child in enumerate(children):
                value = value_of(child)
                items = value.items if isinstance(value, Tensor) else (value,)
                hs = tuple(sympy.Symbol(f"_hole{k}_{i}", real=True) for i in range(len(items)))
                overrides[id(child)] = Tensor(value.shape, hs) if isinstance(value, Tensor) else hs[0]
                at.update(zip(hs, items))
                holes.append(hs)
            expr = Converter(body, names, overrides=overrides).visit(node)
            exprs = expr.items if isinstance(expr, Tensor) else (expr,)
            for child, hs in zip(children, holes):
                budget.check("drawing the graph: gradients on the edges")
                out = []
                for h in hs:
                    total = sympy.Integer(0)
                    for e, g in zip(exprs, up):
                        if g is not None and h in engine.free(e):
                            local, _ = resolve_kinks(engine.substitute(engine.derivative(e, h), at), self.conventions)
                            total += g * local
                    out.append(total)
                grads[id(child)] = out

        def edge_grad(node: ast.AST, value: Any) -> Any:
            """∂of/∂(this occurrence), from child_grads of its operator."""
            if not self.grads:
                return None
            if isinstance(node, ast.Name) and uses.get(node.id) == 1 and node.id in self.graph.groups:
                # the only use of that name here: the engine's local derivatives say it all
                return self._template_grad(self.graph.groups[name], node.id)
            out = grads[id(node)]
            return out[0] if not isinstance(value, Tensor) else Tensor(value.shape, tuple(out))

        def walk(node: ast.AST, is_root: bool) -> str:
            """Draw node's subtree; return the id whose output feeds the parent."""
            if isinstance(node, ast.Name):
                if node.id in self.graph.aliases and node.id not in self.root:
                    self.alias(node.id)
                ref = node.id if node.id in self.root else None
                if ref is None:   # pi, e, or an element name like x_1: a constant-like leaf
                    return self.new(node.id, "const", value=value_of(node)).id
                return self.root[ref]
            if isinstance(node, ast.Constant):
                return self.new(ast.get_source_segment(body, node) or str(node.value), "const",
                                value=value_of(node)).id
            label, children = _operator(node, body)
            n = self.new(label, "op", len(children), name=name if is_root else "", value=value_of(node))
            if is_root:
                n.grad = self.group_grad(name)
            if self.grads:
                child_grads(node, children, is_root)
            for child in children:
                src = walk(child, False)
                e = Edge(src, n.id, value_of(child), edge_grad(child, value_of(child)))
                self.d.edges.append(e)
                inner = self.d.nodes[int(src[1:])]
                if inner.kind == "op" and not inner.name:
                    inner.grad = e.grad     # an inner operator has one consumer: its edge is its gradient
            return n.id

        if isinstance(tree, (ast.Name, ast.Constant)):   # y: x (a copy) still gets its own node
            n = self.new("=", "op", 1, name=name, value=self.group_value(name))
            n.grad = self.group_grad(name)
            src = walk(tree, False)
            if self.grads:
                grads[id(tree)] = [self.adj.get(s, sympy.Integer(0)) for s in outputs]   # a copy: ∂y/∂x = 1
            self.d.edges.append(Edge(src, n.id, self.group_value(name), edge_grad(tree, value_of(tree))))
            self.root[name] = n.id
        else:
            self.root[name] = walk(tree, True)


def _operator(node: ast.AST, text: str) -> tuple[str, list]:
    """The label of an operator node and the syntax nodes of its inputs."""
    if isinstance(node, ast.BinOp):
        op = _BINOPS[type(node.op)]
        if op == "**" and isinstance(node.right, ast.Constant):
            return f"**{ast.get_source_segment(text, node.right)}", [node.left]
        return op, [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return ("−" if isinstance(node.op, ast.USub) else "+"), [node.operand]
    if isinstance(node, ast.Call):
        return node.func.id, list(node.args)
    if isinstance(node, ast.Attribute):
        return ".T", [node.value]
    if isinstance(node, ast.Subscript):
        return f"[{ast.get_source_segment(text, node.slice)}]", [node.value]
    if isinstance(node, ast.List):
        return "[…]", list(node.elts)
    return type(node).__name__, []


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
