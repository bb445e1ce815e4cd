"""Names as Python's parser reads them: identifiers folded to NFKC, and the spec spellings behind each."""
from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Any, Mapping

Value = Any  # sympy.Expr | Tensor

KEYWORD_NAMES = {"lambda": "_lmbda"}   # same length, so columns stay right
BACK = {v: k for k, v in KEYWORD_NAMES.items()}


def keywords_renamed(text: str) -> str:
    """The text with Python keywords that are spec names (lambda) renamed, so that Python's parser reads it."""
    return re.sub(r"\blambda\b", KEYWORD_NAMES["lambda"], text) if "lambda" in text else text


_FOLDS: list = []   # [(names mapping, its size when scanned, {folded: [spellings]})], the last few mappings


def folded(names: Mapping[str, Value]) -> dict:
    """The names whose NFKC form differs from their spelling, by folded form (usually empty).

    Remembered per mapping (graph.names() grows one equation at a time): only the names added since the
    last call are scanned, and only the non-ASCII ones are folded.
    """
    for i, (known, size, folds) in enumerate(_FOLDS):
        if known is names:
            break
    else:
        known, size, folds = names, 0, {}
        _FOLDS.insert(0, (names, 0, folds))
        del _FOLDS[4:]
        i = 0
    n = len(names)
    if n != size:
        new = list(names) if n < size or not isinstance(names, dict) else \
            list(itertools.islice(reversed(names), n - size))
        if n < size:
            folds.clear()
        for k in new:
            if isinstance(k, str) and not k.isascii():
                f = unicodedata.normalize("NFKC", k)
                if f != k and k not in folds.setdefault(f, []):
                    folds[f].append(k)
        _FOLDS[i] = (names, n, folds)
    return folds

