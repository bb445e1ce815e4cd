"""The JSON Schema of `run --format json` (the output contract), printed by `examsolve schema --output`."""
from __future__ import annotations

from typing import Any

from examsolve.quantity import TYPES

_PLAIN: dict[str, Any] = {"description": "an int or float, a string (a number too large for a float, a symbolic "
                          "value, text), or nested lists of them (row-major) for vectors and matrices",
                          "anyOf": [{"type": ["integer", "number", "string", "boolean", "null"]},
                                    {"type": "array", "items": {"$ref": "#/$defs/plain"}}]}

_QUANTITY = {
    "type": "object",
    "required": ["name", "type", "exact", "value"],
    "properties": {
        "name": {"type": "string", "description": "the name key:, points: and grade use"},
        "type": {"enum": list(TYPES)},
        "exact": {"type": "string", "description": "sympy's one-line form of the exact value"},
        "value": {"$ref": "#/$defs/plain"},
    },
}

_ANSWER = {
    "type": "object",
    "required": ["name", "type", "exact", "latex", "value", "key", "agrees"],
    "properties": dict(_QUANTITY["properties"], latex={"type": "string"}, key={"$ref": "#/$defs/plain"},
                       agrees={"type": ["boolean", "null"]}),
}

_STEP = {
    "type": "object",
    "required": ["title", "target", "formula", "substituted", "exact", "value", "note"],
    "properties": {
        "title": {"type": "string"},
        "target": {"type": ["string", "null"]},
        "formula": {"type": ["string", "null"]},
        "substituted": {"type": ["string", "null"]},
        "exact": {"type": ["string", "null"]},
        "value": {"$ref": "#/$defs/plain"},
        "note": {"type": "string"},
        "substeps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        "table": {"type": "object", "required": ["header", "rows"],
                  "properties": {"header": {"type": "array", "items": {"type": "string"}},
                                 "rows": {"type": "array", "items": {"type": "array"}}}},
    },
}

_SOLUTION = {
    "type": "object",
    "required": ["kind", "title", "source", "answers", "quantities", "steps", "notes"],
    "properties": {
        "kind": {"type": "string"},
        "title": {"type": "string"},
        "source": {"type": "string"},
        "answers": {"type": "array", "items": _ANSWER},
        "quantities": {"type": "array", "items": _QUANTITY},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "graph": {"type": "object"},
    },
}


def schema() -> dict:
    """The output schema: one solution, or a list of them for several files."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "examsolve run --format json",
        "$defs": {"plain": _PLAIN, "step": _STEP, "solution": _SOLUTION},
        "anyOf": [{"$ref": "#/$defs/solution"}, {"type": "array", "items": {"$ref": "#/$defs/solution"}}],
    }
