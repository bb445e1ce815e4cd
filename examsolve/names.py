"""Display names of symbols in Unicode text (no sympy needed)."""
from __future__ import annotations

import re

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Omega": "Ω",
}
SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")
SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def text_name(name: str, names: dict | None = None) -> str:
    """A symbol name in Unicode: gamma -> γ, x_1 -> x₁, xhat -> x̂, gtilde -> g̃, xbar -> x̄."""
    if names and name in names:
        return names[name][1]
    base, _, sub = name.partition("_")
    m = re.fullmatch(r"([A-Za-z]+?)(\d+)", base)
    if not sub and m and m.group(1) in GREEK:      # theta1 -> θ₁, as sympy's LaTeX does
        base, sub = m.group(1), m.group(2)
    # a mark on one letter or a Greek name (yhat, gtilde, thetabar), not on a word that ends so (what, foobar)
    mark = next((m for m in ("hat", "tilde", "bar") if base.endswith(m) and (len(base) == len(m) + 1
                 or base[:-len(m)] in GREEK)), "")
    base = base[:len(base) - len(mark)] if mark else base
    base = GREEK.get(base, base) + {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "": ""}[mark]
    if not sub:
        return base
    if re.fullmatch(r"[0-9,]+", sub):
        return base + sub.translate(SUB)
    if re.fullmatch(r"[0-9]+(_[0-9]+)+", sub):      # step and element: r_1_2 -> r₁,₂
        return base + sub.replace("_", ",").translate(SUB)
    return base + "_" + sub


# The one rule for a name that becomes a symbol: a letter (Latin or Greek), then letters, digits and _.
# Such a name is an identifier of the expression language and prints as a plain symbol in every format.
NAME = re.compile(r"[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*")
NAME_HINT = "use letters, digits and _ (e.g. w_1)"


def is_name(name: object) -> bool:
    """True for a name a spec may give a symbol: a letter, then letters, digits and _."""
    return isinstance(name, str) and NAME.fullmatch(name) is not None


def shown(name: object, limit: int = 40) -> str:
    """A name as quoted in a one-line message: control characters spelled out, long names cut."""
    s = str(name)
    s = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in s)
    return s if len(s) <= limit else s[:limit - 1] + "…"
