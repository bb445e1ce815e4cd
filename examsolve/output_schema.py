"""The JSON Schema of `run --format json` (the output contract), printed by `examsolve schema --output`."""
from __future__ import annotations

from typing import Any

from examsolve.quantity import TYPES
from examsolve.typed import CLASSES

_PLAIN: dict[str, Any] = {"description": "an int or float, a string (a number too large for a float, a symbolic "
                          "value, text), or nested lists of them (row-major) for vectors and matrices",
                          "anyOf": [{"type": ["integer", "number", "string", "boolean", "null"]},
                                    {"type": "array", "items": {"$ref": "#/$defs/plain"}}]}

_NUMBER = {"type": ["integer", "number", "string"], "description": "a number; ∞ as the string oo or -oo"}
_INTERVAL = {"type": "object", "required": ["interval", "open"], "additionalProperties": False,
             "properties": {"interval": {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2},
                            "open": {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 2}}}
_FINITE = {"type": "object", "required": ["set"], "additionalProperties": False,
           "properties": {"set": {"type": "array", "items": _NUMBER}}}
_SET = {"description": "a set of reals: an interval, a finite set, or a union of them ({\"set\": []} is ∅)",
        "anyOf": [_INTERVAL, _FINITE, {"type": "object", "required": ["union"], "additionalProperties": False,
                                       "properties": {"union": {"type": "array", "items": {"anyOf": [_INTERVAL, _FINITE]}}}}]}
_CLASSIFICATION = {"type": "object", "required": ["classification", "reason"], "additionalProperties": False,
                   "properties": {"classification": {"enum": list(CLASSES)}, "reason": {"type": "string"}}}
_CRITICAL = {"type": "object", "required": ["points", "note"], "additionalProperties": False, "properties": {
    "points": {"type": "array", "items": {
        "type": "object", "required": ["point", "approx", "classification"], "additionalProperties": False,
        "properties": {"point": {"type": "object", "additionalProperties": _NUMBER}, "approx": {"type": "boolean"},
                       "classification": _CLASSIFICATION}}},
    "note": {"type": "string", "description": "why the list is empty or may be partial"}}}

_VALUE = {"anyOf": [{"$ref": "#/$defs/plain"}, {"$ref": "#/$defs/set"}, {"$ref": "#/$defs/classification"},
                   {"$ref": "#/$defs/critical_points"}]}

_QUANTITY = {
    "type": "object",
    "required": ["name", "type", "exact", "value"],
    "properties": {
        "name": {"type": "string", "description": "the name key:, points: and grade use"},
        "type": {"enum": list(TYPES)},
        "exact": {"type": "string", "description": "sympy's one-line form of the exact value"},
        "value": _VALUE,
        "approx": {"type": "boolean", "description": "true when the value (or an element) is a float: `exact` then "
                   "holds that float (30 digits where the exact form grew too long), not an exact form"},
    },
    "allOf": [{"if": {"properties": {"type": {"const": t}}}, "then": {"properties": {"value": {"$ref": f"#/$defs/{t}"}}}}
              for t in ("set", "classification", "critical_points")],
}

_ANSWER = {
    "type": "object",
    "required": ["name", "type", "exact", "latex", "value", "key", "agrees"],
    "properties": dict(_QUANTITY["properties"], latex={"type": "string"}, key={"$ref": "#/$defs/plain"},
                       agrees={"type": ["boolean", "null"]},
                       key_note={"type": "string", "description": "how the key agrees or differs"}),
    "allOf": _QUANTITY["allOf"],
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
        "value": _VALUE,
        "approx": {"type": "boolean", "description": "as an answer's approx; the note says where exactness ended"},
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
        "$defs": {"plain": _PLAIN, "step": _STEP, "solution": _SOLUTION, "set": _SET,
                  "classification": _CLASSIFICATION, "critical_points": _CRITICAL},
        "anyOf": [{"$ref": "#/$defs/solution"}, {"type": "array", "items": {"$ref": "#/$defs/solution"}}],
    }
