"""A stand-in for sympy.tensor.tensor in the command line's process, so that its first sum costs no 30 ms.

sympy's Add.flatten runs `from sympy.tensor.tensor import TensExpr, TensAdd` on every sum, only to ask whether
a term is a tensor expression. The first time, that imports sympy.tensor.tensor and with it all of
sympy.combinatorics (polyhedra built at import): about a tenth of `import sympy`, spent by every
`examsolve run`, which never makes a tensor. Until the real module is loaded no term can be one, so the
stand-in answers Add.flatten's question (no) and loads the real module the moment anything else is asked of it;
its TensExpr and TensAdd follow the real classes once those exist. `examsolve run` installs it (cli.py);
importing examsolve as a library does not.
"""
from __future__ import annotations

import importlib
import sys
import types

NAME = "sympy.tensor.tensor"


def install() -> None:
    """Put the stand-in in place of sympy.tensor.tensor, unless that module is loaded already."""
    if NAME not in sys.modules:
        sys.modules[NAME] = _StandIn(NAME, "stands in for sympy.tensor.tensor until it is needed (examsolve)")


def _real() -> types.ModuleType | None:
    """The real module when it is loaded, else None."""
    module = sys.modules.get(NAME)
    return None if isinstance(module, _StandIn) else module


def _load() -> types.ModuleType:
    """The real module, loaded in place of the stand-in if need be."""
    if _real() is None:
        sys.modules.pop(NAME, None)
        importlib.import_module(NAME)
    return sys.modules[NAME]


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):         # the import system asking for __path__ and the like: a plain module
            raise AttributeError(name)
        if name in _FOLLOWERS and _real() is None:
            return _FOLLOWERS[name]
        return getattr(_load(), name)


class _Follower(type):
    """A class standing for a class of the real module: no object is an instance while that module is not
    loaded (nor can any be); afterwards isinstance, issubclass and calls go to the real class."""

    def __instancecheck__(cls, obj) -> bool:
        real = _real()
        return real is not None and isinstance(obj, getattr(real, cls.__name__))

    def __subclasscheck__(cls, sub) -> bool:
        real = _real()
        return real is not None and issubclass(sub, getattr(real, cls.__name__))

    def __call__(cls, *args, **kwargs):
        return getattr(_load(), cls.__name__)(*args, **kwargs)


_FOLLOWERS = {name: _Follower(name, (), {}) for name in ("TensExpr", "TensAdd")}
