"""Tensor: a small row-major array of sympy expressions (vectors and matrices in specs)."""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Callable, Iterator

MAX_ELEMENTS = 70_000   # a 256 x 256 Jacobian fits


class ShapeError(ValueError):
    """Two shapes do not fit together; the message says how."""


@dataclass(frozen=True)
class Tensor:
    """A vector (shape (n,)) or matrix (shape (r, c)), or higher rank, of scalar expressions."""

    shape: tuple[int, ...]
    items: tuple[Any, ...]

    def __post_init__(self) -> None:
        if prod(self.shape) != len(self.items):
            raise ShapeError(f"shape {self.shape} does not hold {len(self.items)} elements")
        if len(self.items) > MAX_ELEMENTS:
            raise ShapeError(f"{len(self.items)} elements is more than the limit of {MAX_ELEMENTS}")

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def map(self, f: Callable[[Any], Any]) -> "Tensor":
        """The tensor of f applied to every element."""
        return Tensor(self.shape, tuple(f(x) for x in self.items))

    def nested(self) -> list:
        """Elements as nested lists, row-major."""
        return nest(self.items, self.shape)

    @property
    def rank(self) -> int:
        return len(self.shape)


def nest(flat: "tuple | list", shape: tuple[int, ...]) -> list:
    """Flat row-major items to nested lists of the given shape."""
    if len(shape) <= 1:
        return list(flat)
    step = prod(shape[1:])
    return [nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def from_nested(rows: list) -> Tensor:
    """A tensor from (possibly nested) lists of scalars; ragged lists are a ShapeError."""
    if not isinstance(rows, list) or not rows:
        raise ShapeError("an empty list has no shape")
    if all(not isinstance(r, list) for r in rows):
        return Tensor((len(rows),), tuple(rows))
    if not all(isinstance(r, list) for r in rows):
        raise ShapeError("a list mixes numbers and lists")
    subs = [from_nested(r) for r in rows]
    if len({s.shape for s in subs}) != 1:
        raise ShapeError("rows have different lengths: " + ", ".join(str(len(s)) for s in subs))
    return Tensor((len(subs),) + subs[0].shape, tuple(x for s in subs for x in s.items))


def element_suffix(index: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """The 1-based name suffix of an element: `1` for a vector, `12` or `1,12` for a matrix."""
    parts = [str(i + 1) for i in index]
    return ("" if max(shape) <= 9 else ",").join(parts)


def element_suffixes(shape: tuple[int, ...]) -> list[str]:
    """element_suffix of every index of a shape, row-major (as indices(shape) lists them)."""
    import itertools

    sep = "" if max(shape) <= 9 else ","
    return [sep.join(p) for p in itertools.product(*[[str(i + 1) for i in range(n)] for n in shape])]


def indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """All indices of a shape, row-major."""
    out: list[tuple[int, ...]] = [()]
    for n in shape:
        out = [i + (k,) for i in out for k in range(n)]
    return out
