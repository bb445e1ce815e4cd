"""attention: scaled dot-product attention, exactly (e^(log 2) = 2), with an optional mask and head counts."""
import functools

from examsolve.registry import family


@functools.cache
def _model():
    from typing import Optional

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw

    class AttentionSpec(BaseSpec):
        """Q, K, V (rows are positions), or X with projections; softmax(QKᵀ/√d_k + mask)·V."""

        ask: list = Field(default_factory=list, description="not used: every quantity is computed")
        Q: Optional[Raw] = Field(None, description="queries, one row per position (or give X and W_q)")
        K: Optional[Raw] = Field(None, description="keys")
        V: Optional[Raw] = Field(None, description="values")
        X: Optional[Raw] = Field(None, description="inputs, one row per position, with W_q, W_k, W_v")
        W_q: Optional[Raw] = None
        W_k: Optional[Raw] = None
        W_v: Optional[Raw] = None
        scale: Optional[Raw] = Field(None, description="the divisor of the scores (default √d_k)")
        causal: bool = Field(False, description="mask future positions (j > i); with mask: or key_mask: a key must "
                             "pass both")
        mask: Optional[list] = Field(None, description="queries × keys of 1/true (may attend) and 0/false (may not): "
                                     "a masked weight is exactly 0. PyTorch's boolean attn_mask is the opposite "
                                     "(True = may not attend); its additive 0/-inf mask is 1/0 here")
        key_mask: Optional[list] = Field(None, description="one 1/true (a real key) or 0/false (padding) per key, for "
                                         "every query: a padding mask (PyTorch's key_padding_mask is the opposite)")
        d_model: Optional[int] = Field(None, ge=1, description="for multi-head parameter counts")
        heads: Optional[int] = Field(None, ge=1, description="for multi-head parameter counts")

    return AttentionSpec


@family("attention", summary="scaled dot-product attention: scores QKᵀ/√d, row softmax kept exact, weights and "
        "output, optional causal, padding (key_mask) or 0/1 mask (masked weights exactly 0); multi-head parameter "
        "counts", examples=("attention.yaml", "attention_padding_mask.yaml"), model=_model,
        uses=("given",), hints=dict.fromkeys(("ask", "equations"), "attention computes its answers without "
        "derivatives; to differentiate through attention, write it with kind: graph and softmax(...): one equation "
        "softmax(K @ Q[i] / sqrt(d_k)) per query row i (softmax normalizes its whole argument), then @ V"))
def _solve(spec):
    """Each row's softmax is shown with its exponentials, so e^(log 2) = 2 stays visible; d_model and heads
    alone are a question of parameter counts."""
    from examsolve.finish import finish
    from examsolve.spec_graph import spec_expr

    m = spec.model
    names: dict = {}
    for name, raw in m.given.items():
        names[name] = spec_expr(spec, raw, ("given", name), names)

    steps, answers = [], []
    if m.X is not None or m.Q is not None or m.K is not None or m.V is not None or not (m.d_model and m.heads):
        answers += _attention(spec, m, names, steps)
    if m.d_model and m.heads:
        answers += _multi_head(spec, m, steps)
    return finish(spec, steps, answers, names)


def _attention(spec, m, names: dict, steps: list) -> list:
    """Scores, the row softmax (masks applied) and the output A·V, with their steps."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.expr import matmul, transpose
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor, from_nested

    def mat(key):
        raw = getattr(m, key)
        v = spec_expr(spec, raw, (key,), names)
        if not isinstance(v, Tensor) or v.rank != 2:
            raise SpecError(f"{key} must be a matrix (one row per position)", spec.loc(key))
        return v

    if m.X is not None:
        X = mat("X")
        Q, K, V = (matmul(X, mat(w)) for w in ("W_q", "W_k", "W_v"))
        steps.append(Step("projections Q = X·W_q, K = X·W_k, V = X·W_v", substeps=(
            Step("Q", target=sympy.Symbol("Q"), value=Q), Step("K", target=sympy.Symbol("K"), value=K),
            Step("V", target=sympy.Symbol("V"), value=V))))
    else:
        if m.Q is None or m.K is None or m.V is None:
            raise SpecError("give Q, K and V (or X with W_q, W_k, W_v)", spec.loc())
        Q, K, V = mat("Q"), mat("K"), mat("V")
    dk = K.shape[1]
    if Q.shape[1] != dk or K.shape[0] != V.shape[0]:
        raise SpecError(f"shapes do not fit: Q {Q.shape}, K {K.shape}, V {V.shape}", spec.loc())
    scale = spec_expr(spec, m.scale, ("scale",), names) if m.scale is not None else sympy.sqrt(dk)
    from examsolve.values import sign

    if not getattr(scale, "is_number", False) or sign(scale) != 1:
        raise SpecError(f"scale {sympy.sstr(scale)} is not a number > 0: the scores are divided by it (default √d_k)",
                        spec.loc("scale"))
    S = matmul(Q, transpose(K)).map(lambda s: sympy.expand(s / scale))
    steps.append(Step(f"scores QKᵀ/√d_k (d_k = {dk}, divisor {sympy.sstr(scale)})", target=sympy.Symbol("S"),
                      value=S))
    n, k = S.shape
    allowed = _allowed(spec, m, n, k)
    rows, sub, outs = [], [], []
    for i in range(n):
        row = [S.items[i * k + j] for j in range(k)]
        exps, total, shift = _row_exps(row, allowed[i])
        weights = [e / total for e in exps]
        rows.append(weights)
        # each output entry as one fraction (Σ_j e_j·V_jc) / Σ_j e_j: shorter than the sum of the weights' products
        outs.append([sympy.Add(*(e * V.items[j * V.shape[1] + c] for j, e in enumerate(exps) if e != 0)) / total
                     for c in range(V.shape[1])])
        power = "e^s" if shift == 0 else f"e^(s - {sympy.sstr(shift)})"
        cancels = "" if shift == 0 else f" (the factor e^({sympy.sstr(shift)}) of every term cancels)"
        sub.append(Step(f"row {i + 1}", target=sympy.Symbol(f"A_{i + 1}"), value=Tensor((k,), tuple(weights)),
                        note=f"{power} = ({', '.join(sympy.sstr(e) for e in exps)}), sum {sympy.sstr(total)}"
                        + cancels))
    A = from_nested(rows)
    steps.append(Step("row softmax: A_ij = e^(S_ij) / Σ_j e^(S_ij)" + _mask_title(m), substeps=tuple(sub),
                      note=_mask_note(m)))
    O = from_nested(outs)
    steps.append(Step("output A·V", target=sympy.Symbol("O"), value=O))
    return [Answer("scores", S), Answer("weights", A), Answer("output", O)]


def _multi_head(spec, m, steps: list) -> list:
    """The parameters of multi-head attention's four projections, and the size of each head."""
    import sympy

    from examsolve.errors import SpecError
    from examsolve.steps import Answer, Step

    d, h = m.d_model, m.heads
    if d % h:
        raise SpecError(f"d_model = {d} is not divisible by heads = {h}", spec.loc("heads"))
    count = 4 * (d * d + d)
    steps.append(Step(f"multi-head attention with d_model = {d}, {h} heads of size d_model/heads = {d}/{h} = "
                      f"{d // h}: W_q, W_k, W_v and W_o are each d_model × d_model plus a bias: 4·({d}² + {d}) = "
                      f"{count} ({4 * d * d} without the biases), whatever the number of heads",
                      quantities=(("head size", sympy.Integer(d // h)),
                                  ("multi-head parameters without bias", sympy.Integer(4 * d * d)))))
    return [Answer("multi-head parameters", sympy.Integer(count))]


_ENTRY = "1 or true (may attend) and 0 or false (may not)"


def _bit(spec, raw, path: tuple) -> bool:
    """One mask entry as True (may attend) or False; a SpecError at it for anything but 1/0/true/false."""
    from examsolve.errors import SpecError

    if isinstance(raw, bool):
        return raw
    if type(raw) is int and raw in (0, 1):
        return raw == 1
    text = str(raw).replace(" ", "").lower()
    # an additive mask (0 = attend, -inf = masked) read as 1/0 would invert every 0: refuse it with the mapping
    why = ("; an additive mask's 0 and -inf are 1 and 0 here" if text in ("-inf", "-oo", "-infinity", "inf", "oo")
           or "-1000" in text else "")
    raise SpecError(f"{path[0]} entries are {_ENTRY}, got {raw!r}{why}", spec.loc(*path))


def _bits(spec, raw, key: str, rows: int | None, cols: int, what: str) -> list:
    """A 0/1 mask (rows × cols, or a vector when rows is None) as lists of bools, shapes checked at the YAML."""
    from examsolve.errors import SpecError

    if rows is None:
        if not isinstance(raw, list) or any(isinstance(x, list) for x in raw):
            raise SpecError(f"{key} is a list of {cols} entries, one per key, each {_ENTRY}", spec.loc(key))
        if len(raw) != cols:
            raise SpecError(f"{key} has {len(raw)} entries but there are {cols} keys (rows of K)", spec.loc(key))
        return [_bit(spec, x, (key, j)) for j, x in enumerate(raw)]
    if not isinstance(raw, list) or not all(isinstance(r, list) for r in raw):
        raise SpecError(f"{key} is a matrix, queries × keys ({rows} × {cols}), of {_ENTRY}; for one entry per "
                        "key, the same for every query, write key_mask:", spec.loc(key))
    if len(raw) != rows:
        raise SpecError(f"{key} has {len(raw)} rows but there are {rows} queries ({what}); it is queries × keys, "
                        f"{rows} × {cols}", spec.loc(key))
    out = []
    for i, r in enumerate(raw):
        if len(r) != cols:
            raise SpecError(f"{key} row {i + 1} has {len(r)} entries but there are {cols} keys (rows of K)",
                            spec.loc(key, i))
        out.append([_bit(spec, x, (key, i, j)) for j, x in enumerate(r)])
    return out


def _allowed(spec, m, n: int, k: int) -> list:
    """Which key each query may attend to: mask, key_mask and causal all at once (a key must pass each)."""
    from examsolve.errors import SpecError

    what = "rows of X" if m.X is not None else "rows of Q"
    mask = _bits(spec, m.mask, "mask", n, k, what) if m.mask is not None else None
    keys = _bits(spec, m.key_mask, "key_mask", None, k, what) if m.key_mask is not None else None
    allowed = [[(mask is None or mask[i][j]) and (keys is None or keys[j]) and not (m.causal and j > i)
                for j in range(k)] for i in range(n)]
    for i, row in enumerate(allowed):
        if not any(row):
            # the softmax of an empty row is 0/0 (PyTorch gives nan): no convention gives it a value, and the
            # fix is in the spec, so it is refused at the mask row rather than solved
            by = [name for name, on in (("mask", mask is not None), ("key_mask", keys is not None),
                                         ("causal", m.causal)) if on]
            where = spec.loc("mask", i) if mask is not None else spec.loc("key_mask" if keys is not None else "causal")
            fix = "allow at least one key in that row" if mask is not None else "keep at least one key"
            raise SpecError(f"query {i + 1} may attend to no key ({' and '.join(by)}): its softmax would be 0/0, "
                            f"an empty sum; {fix}", where)
    return allowed


def _row_exps(row: list, keep: list) -> tuple:
    """The row's e^(s_j - shift) (0 where masked), their sum and the shift: 0, or the smallest allowed score when
    that writes the row shorter ((1, 1, e^a)/(2 + e^a), not (e^a, e^a, e^2a)/(2e^a + e^2a)); the factor cancels."""
    import sympy

    def exps(shift):
        es = [sympy.exp(s - shift) if ok else sympy.Integer(0) for s, ok in zip(row, keep)]
        return es, sympy.Add(*es), shift

    plain = exps(sympy.Integer(0))
    kept = [s for s, ok in zip(row, keep) if ok]
    try:
        low = min(kept, key=lambda s: sympy.N(s, 15))     # the first of equal ones: deterministic
    except TypeError:                                     # not comparable (not real): keep e^s as it is
        return plain
    if low == 0:
        return plain
    moved = exps(low)
    size = lambda c: sum(len(sympy.sstr(e)) for e in c[0]) + len(sympy.sstr(c[1]))
    return moved if size(moved) < size(plain) else plain


def _mask_title(m) -> str:
    """What the softmax leaves out, for the step's title."""
    parts = [t for t, on in (("future positions j > i", m.causal), ("entries where mask is 0", m.mask is not None),
                             ("keys where key_mask is 0", m.key_mask is not None)) if on]
    return f", leaving out {' and '.join(parts)}" if parts else ""


def _mask_note(m) -> str:
    """The mask convention, named where it is used."""
    if m.mask is None and m.key_mask is None:
        return ""
    return ("mask convention: 1/true = may attend, 0/false = may not (PyTorch's boolean masks are the opposite); a "
            "masked key is left out of the softmax, so its weight is exactly 0" + (", and a key must also pass the "
            "causal mask" if m.causal else ""))
