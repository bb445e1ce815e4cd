"""Stand-ins for sympy modules that sympy imports on every sum or simplify only to ask a question whose
answer is "no" in examsolve's command line: each import would cost a tenth of `import sympy` per run.

- sympy's Add.flatten runs `from sympy.tensor.tensor import TensExpr, TensAdd` on every sum, only to ask
  whether a term is a tensor expression; the first time, that imports sympy.tensor.tensor and with it all of
  sympy.combinatorics (polyhedra built at import), about 30 ms.
- sympy.simplify runs `from sympy.physics.units import Quantity` to ask whether the expression holds a
  physical quantity; that imports every unit system, about 100 ms.

Until the real module is loaded no object can be an instance of its classes, so the stand-in answers those
questions (no) and loads the real module the moment anything else is asked of it; its classes follow the
real ones once those exist. `examsolve run` installs the stand-ins (cli.py); importing examsolve as a
library does not.
"""
from __future__ import annotations

import importlib
import sys
import types

# module -> the classes a stand-in answers for without loading it
STOOD_IN = {"sympy.tensor.tensor": ("TensExpr", "TensAdd"), "sympy.physics.units": ("Quantity",)}


def install() -> None:
    """Put a stand-in in place of each module of STOOD_IN that is not loaded already."""
    for name in STOOD_IN:
        if name not in sys.modules:
            sys.modules[name] = _StandIn(name, f"stands in for {name} until it is needed (examsolve)")


def _real(name: str) -> types.ModuleType | None:
    """The real module when it is loaded, else None."""
    module = sys.modules.get(name)
    return None if isinstance(module, _StandIn) else module


def _load(name: str) -> types.ModuleType:
    """The real module, loaded in place of the stand-in if need be."""
    if _real(name) is None:
        sys.modules.pop(name, None)
        importlib.import_module(name)
    return sys.modules[name]


class _StandIn(types.ModuleType):
    def __getattr__(self, attr: str):
        if attr.startswith("__"):         # the import system asking for __path__ and the like: a plain module
            raise AttributeError(attr)
        if attr in STOOD_IN[self.__name__] and _real(self.__name__) is None:
            return _FOLLOWERS[(self.__name__, attr)]
        return getattr(_load(self.__name__), attr)


class _Follower(type):
    """A class standing for a class of the real module: no object is an instance while that module is not
    loaded (nor can any be); afterwards isinstance, issubclass and calls go to the real class."""

    module = ""

    def __instancecheck__(cls, obj) -> bool:
        real = _real(cls.module)
        return real is not None and isinstance(obj, getattr(real, cls.__name__))

    def __subclasscheck__(cls, sub) -> bool:
        real = _real(cls.module)
        return real is not None and issubclass(sub, getattr(real, cls.__name__))

    def __call__(cls, *args, **kwargs):
        return getattr(_load(cls.module), cls.__name__)(*args, **kwargs)


_FOLLOWERS = {(module, name): _Follower(name, (), {"module": module})
              for module, names in STOOD_IN.items() for name in names}
