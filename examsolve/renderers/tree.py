"""A Drawing as a tree per equation, for the terminal."""
from __future__ import annotations

from examsolve.names import text_name
from examsolve.renderers.printing import short_text


def render(d, values: bool = True, grads: bool = True) -> str:
    """One tree per named node; inputs computed by other equations are named, not repeated."""
    inputs: dict = {n.id: [] for n in d.nodes}
    for e in d.edges:
        inputs[e.dst].append(e)
    lines = [d.title] if d.title else []

    def describe(n, value, grad) -> str:
        label = text_name(n.label, d.names) if n.kind != "op" else f"{n.label} ({n.arity})"
        if n.kind == "op" and n.name:
            label = f"{text_name(n.name, d.names)} = {label}"
        parts = [label]
        if values and value is not None:
            parts.append("= " + short_text(value, 24))
        if grads and grad is not None:
            parts.append(f"∂{d.of}: " + short_text(grad, 24))
        return "   ".join(parts)

    def walk(n, prefix: str) -> None:
        edges = inputs[n.id]
        for i, e in enumerate(edges):
            last = i == len(edges) - 1
            src = d.node(e.src)
            lines.append(prefix + ("└─ " if last else "├─ ") + describe(src, e.value, e.grad))
            if src.kind == "op" and not src.name:
                walk(src, prefix + ("   " if last else "│  "))

    for n in d.nodes:
        if n.kind in ("op", "node") and n.name:
            lines.append(describe(n, n.value, n.grad) + ("   (the scalar differentiated)" if n.name == d.of else ""))
            walk(n, "")
    return "\n".join(lines) + "\n"
