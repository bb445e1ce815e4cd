"""Errors for people: one line, `file:line:col: what is wrong; what to do`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A position in a spec file (line and column are 1-based)."""

    file: str
    line: int = 1
    col: int = 1

    def shifted(self, offset: int) -> "Loc":
        """The position `offset` characters further along the same line."""
        return Loc(self.file, self.line, self.col + offset)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class ExamsolveError(Exception):
    """Base class: an error with a message meant for the user."""

    exit_code = 1

    def __init__(self, message: str, loc: Loc | None = None):
        super().__init__(message)
        self.message = message
        self.loc = loc

    def __str__(self) -> str:
        # one line whatever the spec held: control characters (newlines, escapes) spelled out
        text = f"{self.loc}: {self.message}" if self.loc else self.message
        return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class SpecError(ExamsolveError):
    """The spec is malformed or asks for something that does not exist (exit 2)."""

    exit_code = 2


class SolveError(ExamsolveError):
    """The problem cannot be solved as posed, for a mathematical reason (exit 1)."""

    exit_code = 1


class ExprError(Exception):
    """An error inside one expression string; `offset` is the 0-based column in it."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.message = message
        self.offset = offset


def nearest(word: str, choices: "list[str] | tuple[str, ...]") -> str:
    """A ` did you mean 'x'?` hint, or an empty string when nothing is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
