"""A spec's statement with its placeholders ({x}, {x[0]}, {layers.0.filters}) filled in from its values."""
from __future__ import annotations

import re
from typing import Any

from examsolve import budget
from examsolve.errors import Loc, SpecError

MAX_STATEMENT = 64 * 1024      # characters of a statement with its placeholders filled in


class _TooLong(Exception):
    pass


def _show_within(v: Any, room: int) -> str:
    """_show(v), or _TooLong as soon as it passes `room` characters (a long list is never written out)."""
    parts: list = []
    size = 0

    def put(text: str) -> None:
        nonlocal size
        size += len(text)
        if size > room:
            raise _TooLong
        parts.append(text)

    def walk(x: Any) -> None:
        if isinstance(x, list):
            put("[")
            for i, y in enumerate(x):
                if i:
                    put(", ")
                walk(y)
            put("]")
        else:
            put(str(x))

    walk(v)
    return "".join(parts)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)((?:\[\d+\])*)\}")


def fill_statement(statement: str, data: dict, loc: Loc | None = None) -> str:
    """The statement with {x}, {x[0]} (given names) and {layers.0.filters} (paths) replaced; nothing is evaluated.

    SpecError (at loc, the statement's position) when the result would pass MAX_STATEMENT characters.
    """
    given = data.get("given") if isinstance(data.get("given"), dict) else {}

    def value(match) -> Any:
        key, index = match.group(1), match.group(2)
        path = ["given", key] if key in given else [int(p) if p.isdigit() else p for p in key.split(".")]
        path += [int(i) for i in re.findall(r"\[(\d+)\]", index)]
        v: Any = data
        for part in path:
            ok = (isinstance(v, dict) and part in v) or (isinstance(v, list) and isinstance(part, int)
                                                         and part < len(v))
            if not ok:
                return None
            v = v[part]
        return v

    parts: list = []
    size, last = 0, 0
    try:
        for match in _PLACEHOLDER.finditer(statement):
            budget.check("filling in the statement")
            v = value(match)
            text = statement[last:match.start()] + (match.group(0) if v is None else _show_within(v, MAX_STATEMENT))
            size += len(text)
            if size > MAX_STATEMENT:
                raise _TooLong
            parts.append(text)
            last = match.end()
        parts.append(statement[last:])
        if size + len(statement) - last > MAX_STATEMENT:
            raise _TooLong
    except _TooLong:
        raise SpecError(f"statement: with its values filled in it is longer than {MAX_STATEMENT} characters; "
                        "shorten it or leave long lists out of its {placeholders}", loc) from None
    return "".join(parts)
