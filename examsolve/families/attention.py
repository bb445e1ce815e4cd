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
        causal: bool = Field(False, description="mask future positions (j > i)")
        d_model: Optional[int] = Field(None, ge=1, description="for multi-head parameter counts")
        heads: Optional[int] = Field(None, ge=1, description="for multi-head parameter counts")

    return AttentionSpec


@family("attention", summary="scaled dot-product attention: scores QKᵀ/√d, row softmax kept exact, weights and "
        "output, optional causal mask; multi-head parameter counts", examples=("attention.yaml",), model=_model,
        uses=("given",), hints=dict.fromkeys(("ask", "equations"), "attention computes its answers without "
        "derivatives; to differentiate through attention, write it with kind: graph and softmax(...): one equation "
        "softmax(K @ Q[i] / sqrt(d_k)) per query row i (softmax normalizes its whole argument), then @ V"))
def _solve(spec):
    """Each row's softmax is shown with its exponentials, so e^(log 2) = 2 stays visible."""
    import sympy

    from examsolve.finish import finish

    from examsolve.errors import SpecError
    from examsolve.expr import matmul, transpose
    from examsolve.spec_graph import spec_expr
    from examsolve.steps import Answer, Step
    from examsolve.tensor import Tensor, from_nested

    m = spec.model
    names: dict = {}
    for name, raw in m.given.items():
        names[name] = spec_expr(spec, raw, ("given", name), names)

    def mat(key):
        raw = getattr(m, key)
        v = spec_expr(spec, raw, (key,), names)
        if not isinstance(v, Tensor) or v.rank != 2:
            raise SpecError(f"{key} must be a matrix (one row per position)", spec.loc(key))
        return v

    steps = []
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
    S = matmul(Q, transpose(K)).map(lambda s: sympy.expand(s / scale))
    steps.append(Step(f"scores QKᵀ/√d_k (d_k = {dk}, divisor {sympy.sstr(scale)})", target=sympy.Symbol("S"),
                      value=S))
    n, k = S.shape
    rows, sub = [], []
    for i in range(n):
        row = [S.items[i * k + j] for j in range(k)]
        keep = [not (m.causal and j > i) for j in range(k)]
        exps = [sympy.exp(s) if ok else sympy.Integer(0) for s, ok in zip(row, keep)]
        total = sympy.Add(*exps)
        weights = [e / total for e in exps]
        rows.append(weights)
        sub.append(Step(f"row {i + 1}", target=sympy.Symbol(f"A_{i + 1}"), value=Tensor((k,), tuple(weights)),
                        note=f"e^s = ({', '.join(sympy.sstr(e) for e in exps)}), sum {sympy.sstr(total)}"))
    A = from_nested(rows)
    steps.append(Step("row softmax: A_ij = e^(S_ij) / Σ_j e^(S_ij)" + (" (future positions masked)" if m.causal
                                                                       else ""), substeps=tuple(sub)))
    O = matmul(A, V)
    steps.append(Step("output A·V", target=sympy.Symbol("O"), value=O))
    answers = [Answer("scores", S), Answer("weights", A), Answer("output", O)]
    if m.d_model and m.heads:
        d, h = m.d_model, m.heads
        if d % h:
            raise SpecError(f"d_model = {d} is not divisible by heads = {h}", spec.loc("heads"))
        count = 4 * (d * d + d)
        steps.append(Step(f"multi-head attention with d_model = {d}, {h} heads of size {d // h}: W_q, W_k, W_v and "
                          f"W_o are each d_model × d_model plus a bias: 4·({d}² + {d}) = {count}, whatever the "
                          "number of heads"))
        answers.append(Answer("multi-head parameters", sympy.Integer(count)))
    return finish(spec, steps, answers, names)
