"""One equation of a drawing, drawn operator by operator from its syntax tree (`w.T @ x` is a transpose
and a matrix product), with the gradient flowing back along each edge."""
from __future__ import annotations

import ast
from collections import ChainMap
from typing import Any

import sympy

from examsolve import budget, engine
from examsolve.expr import Converter, syntax_tree
from examsolve.functions import resolve_kinks
from examsolve.tensor import Tensor

_BINOPS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "mod"}


class EquationDrawer:
    """Draws the equation `name: text` into a drawing._Builder: one node per operator of its syntax tree."""

    def __init__(self, builder: Any, name: str, text: str):
        """Read the equation and count the uses of each name in it."""
        self.b, self.name = builder, name
        self.tree, self.body = syntax_tree(text)
        graph = builder.graph
        self.names = ChainMap({k: a.as_value() for k, a in graph.aliases.items()}, graph.names())
        self.conv = Converter(self.body, self.names)
        self.outputs = list(graph.groups[name].symbols)
        self.cache: dict = {}
        self.uses: dict = {}
        for sub in ast.walk(self.tree):
            if isinstance(sub, ast.Name):
                self.uses[sub.id] = self.uses.get(sub.id, 0) + 1
        self.grads: dict = {}    # id(syntax node) -> ∂of/∂(each element of its value), filled top-down

    def draw(self) -> None:
        """Draw the equation; the node computing it becomes the root of its name."""
        b, tree, name = self.b, self.tree, self.name
        if isinstance(tree, (ast.Name, ast.Constant)):   # y: x (a copy) still gets its own node
            n = b.new("=", "op", 1, name=name, value=b.group_value(name))
            n.grad = b.group_grad(name)
            src = self.walk(tree, False)
            if b.grads:
                self.grads[id(tree)] = [b.adj.get(s, sympy.Integer(0)) for s in self.outputs]   # a copy: ∂y/∂x = 1
            b.edge(src, n.id, b.group_value(name), self.edge_grad(tree, self.value_of(tree)))
            b.root[name] = n.id
        else:
            b.root[name] = self.walk(tree, True)

    def value_of(self, node: ast.AST) -> Any:
        """The forward value of a syntax node (computed once per node)."""
        cache, b = self.cache, self.b
        if id(node) not in cache:
            if node is self.tree:
                cache[id(node)] = b.group_value(self.name)
            elif isinstance(node, ast.Name) and node.id in b.graph.groups:
                cache[id(node)] = b.group_value(node.id)
            else:
                cache[id(node)] = engine.substitute(self.conv.visit(node), b.values)
        return cache[id(node)]

    def child_grads(self, node: ast.AST, children: list, is_root: bool) -> None:
        """Reverse mode over the syntax tree: each child's gradient is its operator's gradient times the
        operator's local derivative (all children swapped for placeholders at once, so each operator is
        differentiated once, not the whole equation once per edge)."""
        b, grads = self.b, self.grads
        up = [b.adj.get(s) for s in self.outputs] if is_root else grads[id(node)]
        overrides, holes, at = {}, [], dict(b.values)
        for k, child in enumerate(children):
            value = self.value_of(child)
            items = value.items if isinstance(value, Tensor) else (value,)
            hs = tuple(sympy.Symbol(f"_hole{k}_{i}", real=True) for i in range(len(items)))
            overrides[id(child)] = Tensor(value.shape, hs) if isinstance(value, Tensor) else hs[0]
            at.update(zip(hs, items))
            holes.append(hs)
        expr = Converter(self.body, self.names, overrides=overrides).visit(node)
        exprs = expr.items if isinstance(expr, Tensor) else (expr,)
        for child, hs in zip(children, holes):
            budget.check("drawing the graph: gradients on the edges")
            out = []
            for h in hs:
                total = sympy.Integer(0)
                for e, g in zip(exprs, up):
                    if g is not None and h in engine.free(e):
                        local, _ = resolve_kinks(engine.substitute(engine.derivative(e, h), at), b.conventions)
                        total += g * local
                out.append(total)
            grads[id(child)] = out

    def edge_grad(self, node: ast.AST, value: Any) -> Any:
        """∂of/∂(this occurrence), from child_grads of its operator."""
        b = self.b
        if not b.grads:
            return None
        if isinstance(node, ast.Name) and self.uses.get(node.id) == 1 and node.id in b.graph.groups:
            # the only use of that name here: the engine's local derivatives say it all
            return b.template_grad(b.graph.groups[self.name], node.id)
        out = self.grads[id(node)]
        return out[0] if not isinstance(value, Tensor) else Tensor(value.shape, tuple(out))

    def walk(self, node: ast.AST, is_root: bool) -> str:
        """Draw node's subtree; return the id whose output feeds the parent."""
        b, name, value_of = self.b, self.name, self.value_of
        if isinstance(node, ast.Name):
            if node.id in b.graph.aliases and node.id not in b.root:
                b.alias(node.id)
            ref = node.id if node.id in b.root else None
            if ref is None:   # pi, e, or an element name like x_1: a constant-like leaf
                return b.new(node.id, "const", value=value_of(node)).id
            return b.root[ref]
        if isinstance(node, ast.Constant):
            return b.new(ast.get_source_segment(self.body, node) or str(node.value), "const",
                         value=value_of(node)).id
        label, children = _operator(node, self.body)
        n = b.new(label, "op", len(children), name=name if is_root else "", value=value_of(node))
        if is_root:
            n.grad = b.group_grad(name)
        if b.grads:
            self.child_grads(node, children, is_root)
        for child in children:
            src = self.walk(child, False)
            e = b.edge(src, n.id, value_of(child), self.edge_grad(child, value_of(child)))
            inner = b.d.nodes[int(src[1:])]
            if inner.kind == "op" and not inner.name:
                inner.grad = e.grad     # an inner operator has one consumer: its edge is its gradient
        return n.id


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
