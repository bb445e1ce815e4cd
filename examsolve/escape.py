"""The only way text and names reach LaTeX, Markdown, HTML and the terminal.

Every string that comes from a spec (titles, sources, statements, notes, answer names, table headers, file
paths) or that embeds a spec's name goes through one of these functions on its way into a document:

- latex_text: text-mode LaTeX; every special character escaped, Unicode mapped to commands or to ASCII, so
  the result is ASCII with balanced braces and holds no command that came from the input;
- latex_comment: the rest of one `%` comment line (control characters and line breaks replaced);
- latex_name: a symbol name that is not a plain identifier, typeset as \\text{...} in math;
- markdown_text / markdown_math: Markdown text and $$ math without raw HTML or live links;
- html_text: text for HTML element content and attribute values;
- terminal_text: text for the terminal without control sequences.

No sympy here: the module is cheap to import.
"""
from __future__ import annotations

import re
import unicodedata

from examsolve.names import GREEK

# C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and the bidirectional
# embeddings, overrides and isolates (U+202A–202E, U+2066–2069) that reorder what is shown ("Trojan source")
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"     # and the LRM, RLM and ALM marks
_CONTROL = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")

_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
_UNICODE_TEXT = {"−": "-", "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''",
                 "…": r"\ldots{}", "×": r"$\times$", "·": r"$\cdot$", "≈": r"$\approx$",
                 "ᵀ": r"$^{\mathsf{T}}$", "²": r"$^2$", "³": r"$^3$", "∂": r"$\partial$", "∇": r"$\nabla$",
                 "∞": r"$\infty$", "∪": r"$\cup$", "∅": r"$\emptyset$",
                 "∈": r"$\in$", "⇔": r"$\Leftrightarrow$", "\u0303": "", "≠": r"$\neq$", "⁺": r"$^+$", "⁻": r"$^-$",
                 "ᵗ": r"$^t$", "←": r"$\leftarrow$",
                 "‖": r"$\|$", "√": r"$\sqrt{}$", "→": r"$\to$", "≤": r"$\le$", "≥": r"$\ge$",
                 "∑": r"$\sum$", "Σ": r"$\Sigma$", "\u0302": "", "ε": r"$\varepsilon$"}
GREEK_TEX = {v: k for k, v in GREEK.items() if k != "eps"}
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"
_ACCENTS = {"\u0302": "hat", "\u0303": "tilde"}


def latex_text(s: str) -> str:
    """Plain text made safe for LaTeX text mode (special characters escaped, Unicode mapped or dropped).

    The result is ASCII, its braces are balanced, and every backslash in it starts a command of this module.
    """
    s = "".join(map(_hat_apart, _CONTROL.sub(" ", str(s))))
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if nxt in _ACCENTS and re.match(r"\w", ch):       # a hat or a tilde over a letter
            body = _accent_body(ch)
            if body is not None:
                out.append("$\\%s{%s}$" % (_ACCENTS[nxt], body))
                i += 2
                continue
        out.append(_text_char(ch))
        i += 1
    return "".join(out)


def _hat_apart(ch: str) -> str:
    """A letter with a hat or tilde in one character (ŷ, ñ) as the letter and the combining accent, so it keeps
    its accent (ŷ − y is not y − y)."""
    if ch.isascii():
        return ch
    parts = unicodedata.normalize("NFD", ch)
    return parts if len(parts) == 2 and parts[1] in _ACCENTS else ch


def _accent_body(ch: str) -> str | None:
    """The letter under an accent, in math mode; None when it has no safe math form."""
    if ch.isascii() and ch.isalnum():
        return ch
    if ch in GREEK_TEX:
        return "\\" + GREEK_TEX[ch]
    return None


def _text_char(ch: str) -> str:
    if ch in "ᵢⱼ":
        return "$_%s$" % ("i" if ch == "ᵢ" else "j")
    if ch in _TEXT_ESCAPES:
        return _TEXT_ESCAPES[ch]
    if ord(ch) < 128:
        return ch
    if ch in _UNICODE_TEXT:
        return _UNICODE_TEXT[ch]
    if ch in GREEK_TEX:
        return "$\\%s$" % GREEK_TEX[ch]
    if ch in _SUBSCRIPTS:
        return "$_{%d}$" % _SUBSCRIPTS.index(ch)
    # anything else: its ASCII letters (é -> e), escaped again, since ＼ and ｛ decompose to \ and {
    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    plain = _CONTROL.sub(" ", plain)
    return "".join(_TEXT_ESCAPES.get(c, c) for c in plain) or "?"


def latex_comment(s: str) -> str:
    """Text for the rest of a `%` comment line: line breaks and control characters become '?', so nothing after
    them can leave the comment."""
    return _CONTROL.sub("?", str(s))


def latex_name(name: str) -> str:
    r"""A symbol name that is not a plain identifier, in math mode: \text{...} of its escaped text."""
    return r"\text{%s}" % latex_text(name)


# Markdown: raw HTML never passes; inline links and images are broken up; the rest prints as written.
_TAG = re.compile(r"<(?=[A-Za-z/!?])")            # a tag, a comment, a declaration or an autolink
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_BACKSLASH = re.compile(r"\\")      # every one: pandoc's raw_tex would run \\input{...} before a letter
_LINK = re.compile(r"\](?=\()")


def markdown_text(s: str, cell: bool = False) -> str:
    """Text for Markdown (one line), shown as written: a `<` that would open an HTML tag becomes &lt;, an `&`
    that would start an entity &amp;, `](` of an inline link or image `\\](`, and every backslash stays a
    backslash (before punctuation CommonMark would drop it, before a letter pandoc would read raw TeX); in a
    table cell (cell=True) `|` is escaped too. (Our text never starts a line, so `#`, `>` and `-` cannot start
    blocks, and link definitions cannot exist.)"""
    s = _CONTROL.sub(" ", str(s))
    s = _BACKSLASH.sub(r"\\\\", s)
    s = _ENTITY.sub("&amp;", s)
    s = _TAG.sub("&lt;", s)
    s = _LINK.sub(r"\\]", s)
    if cell:
        s = s.replace("|", r"\|")
    return s


def markdown_math(tex: str) -> str:
    """LaTeX placed between $ or $$ in Markdown: one line, and no `<` that could open an HTML tag."""
    return _TAG.sub("&lt;", _CONTROL.sub(" ", tex))


def markdown_latex_text(s: str) -> str:
    r"""Text for \text{...} inside Markdown math (MathJax, KaTeX): TeX's special characters escaped so no command
    can start and the group cannot close early, < and > as HTML entities; other Unicode as it is."""
    s = _CONTROL.sub(" ", str(s))
    return "".join(_TEXT_ESCAPES.get(c) or {"<": "&lt;", ">": "&gt;"}.get(c, c) for c in s)


def html_text(s: str) -> str:
    """Text for HTML element content or a quoted attribute value."""
    s = re.sub(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]", "\ufffd", str(s))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#x27;"))


def terminal_text(s: str) -> str:
    """Text for the terminal: control characters other than newline and tab (escape sequences, carriage
    returns, bells) and bidirectional overrides become '?'."""
    return re.sub(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]", "?", str(s))
