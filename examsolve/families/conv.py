"""conv: a convolution (cross-correlation, as in deep-learning libraries) and a pooling on given numbers.

The output elements become graph nodes (sums of products), so forward values, gradients with
respect to kernel and input, updates and unknown kernel entries all come from the graph engine.
"""
import functools

from examsolve.registry import family


def _sort_key():
    """sympy's own order of the arguments of a sum or product (Mul and Add sort with it)."""
    from sympy.core.basic import Basic

    return functools.cmp_to_key(Basic.compare)


def _product(a, b, key):
    """a*b for two different symbols without sympy's general flatten (the same object, ~8x faster)."""
    import sympy

    if a.is_Symbol and b.is_Symbol and a != b:
        return sympy.Mul._from_args(sorted((a, b), key=key), True)
    return a * b


def _sum(terms: list, key):
    """sympy.Add(*terms) for distinct products and symbols (nothing to collect), without the flatten."""
    import sympy

    if len(terms) > 1 and all(t.is_Mul or t.is_Symbol for t in terms) and len(set(terms)) == len(terms):
        return sympy.Add._from_args(sorted(terms, key=key), True)
    return sympy.Add(*terms)


@functools.cache
def _model():
    from typing import Literal, Optional, Union

    from pydantic import Field, field_validator

    from examsolve.spec import CONVENTION, BaseSpec, _Model, at_least

    Size = Union[int, list[int]]
    Pad = Size

    class Conv(_Model):
        """The convolution: names of the input and kernel under given:, and its geometry."""

        input: str = Field("x", description="given name of the input: L, H×W, or C×H×W")
        kernel: str = Field("w", description="given name of the kernel: k, kh×kw, C_in×kh×kw or C_out×C_in×kh×kw")
        bias: Optional[str] = Field(None, description="given name of the bias (one per output channel)")
        stride: Size = 1
        padding: Pad = 0
        dilation: Size = 1
        flip: bool = Field(False, description="true convolution (flip the kernel) instead of cross-correlation")
        name: str = Field("c", description="the output's name")

        # a stride or dilation of 0 has no meaning (and divided by zero); padding may be 0
        _sizes = field_validator("stride", "dilation")(at_least(1))
        _padding = field_validator("padding")(at_least(0))

    class Pool(_Model):
        """A pooling of the convolution's output."""

        type: Literal["max", "avg"] = "max"
        size: Size = 2
        stride: Optional[Size] = Field(None, description="default: the size")
        padding: Pad = Field(0, description="cells added on each side: avg pooling pads with zeros, max pooling "
                              "with max_padding")
        max_padding: Literal["neg_inf", "zero"] = Field(
            "neg_inf", json_schema_extra=CONVENTION, description="max: a padded cell is −∞ (PyTorch: pads never "
            "win) or 0 (some courses: a window of negative numbers that meets the border gives 0)")
        count_include_pad: bool = Field(True, description="avg: divide by the whole window, pads included "
                                        "(PyTorch's default), or only by the real entries")
        name: str = Field("p", description="the output's name")

        _sizes = field_validator("size", "stride")(at_least(1))
        _padding = field_validator("padding")(at_least(0))

    class ConvSpec(BaseSpec):
        """A convolution (and pooling) on given numbers, then equations and the graph family's asks."""

        conv: Conv = Field(default_factory=Conv)
        pool: Optional[Pool] = None

    return ConvSpec


@family("conv", summary="numeric convolution (cross-correlation; flip for true convolution) with channels, stride, "
        "padding, dilation, and max/avg pooling; gradients w.r.t. kernel, bias and input, updates, unknown "
        "kernel entries; max pooling's padding as −∞ (PyTorch) or 0", examples=(
            "conv_maxpool_grad.yaml", "conv2d_bce.yaml", "conv_unknown_kernel.yaml", "maxpool_zero_padding.yaml"),
        model=_model)
def _solve(spec):
    """Output element o = Σ kernel · input window (+ bias), each a node; pooling nodes on top."""
    import itertools

    import sympy

    from examsolve import budget, functions as fn
    from examsolve.asks import Solver
    from examsolve.errors import SpecError
    from examsolve.expr import Ops
    from examsolve.spec_graph import add_equations, build_graph
    from examsolve.steps import Step
    from examsolve.tensor import Tensor

    m = spec.model
    graph = build_graph(spec, equations={})
    c = m.conv
    for name in (c.input, c.kernel) + ((c.bias,) if c.bias else ()):
        if name not in graph.groups:
            alone = "" if ("conv",) in spec.key_marks else (
                " (no conv: block, so its defaults input: x, kernel: w are used); the family convolves before it "
                "pools: give conv: {input: ..., kernel: ...}, or for pooling alone a 1×1 kernel of 1 (w: [[1]])")
            raise SpecError(f"conv: '{name}' is not under given:{alone}", spec.loc("conv"))
    x = graph.groups[c.input].as_value()
    w = graph.groups[c.kernel].as_value()
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise SpecError("conv: the input and the kernel are lists (1-D) or nested lists (2-D)", spec.loc("conv"))
    if x.rank == 1:
        nd, xin = 1, Tensor((1,) + x.shape, x.items)              # one channel
    elif x.rank == 2:
        nd, xin = 2, Tensor((1,) + x.shape, x.items)
    else:
        nd, xin = x.rank - 1, x
    cin = xin.shape[0]
    ksp = w.shape[-nd:]
    if w.rank == nd:
        wk = Tensor((1, 1) + ksp, w.items)
    elif w.rank == nd + 1:
        wk = Tensor((1,) + w.shape, w.items)
    else:
        wk = w
    cout = wk.shape[0]
    if wk.shape[1] != cin:
        raise SpecError(f"conv: the kernel has {wk.shape[1]} input channels, the input {cin}", spec.loc("conv"))

    def per(v, *path):
        if isinstance(v, int):
            return [v] * nd
        if len(v) != nd:
            raise SpecError(f"{'.'.join(path)}: {len(v)} values for {nd} spatial axes; give one number or {nd}",
                            spec.loc(*path))
        return list(v)

    stride, pad, dil = per(c.stride, "conv", "stride"), per(c.padding, "conv", "padding"), \
        per(c.dilation, "conv", "dilation")
    sp = xin.shape[1:]
    out = []
    for n, k, s, p, d in zip(sp, ksp, stride, pad, dil):
        span = d * (k - 1) + 1
        if span > n + 2 * p:
            raise SpecError(f"conv: the kernel spans {span} but the padded input is {n + 2 * p}", spec.loc("conv"))
        out.append((n + 2 * p - span) // s + 1)
    X = {idx: v for idx, v in zip(itertools.product(*[range(s) for s in xin.shape]), xin.items)}
    W = {idx: v for idx, v in zip(itertools.product(*[range(s) for s in wk.shape]), wk.items)}
    b = graph.groups[c.bias].as_value() if c.bias else None
    ev, shown = [], []
    low = Ops(False)
    key = _sort_key()
    for o in range(cout):
        for pos in itertools.product(*[range(n) for n in out]):
            budget.check("the convolution")
            terms = []
            for ch in range(cin):
                for kidx in itertools.product(*[range(k) for k in ksp]):
                    src = [q * s + ki * d - p for q, s, ki, d, p in zip(pos, stride, kidx, dil, pad)]
                    if any(i < 0 or i >= n for i, n in zip(src, sp)):
                        continue        # zero padding
                    kk = tuple(k - 1 - i for i, k in zip(kidx, ksp)) if c.flip else kidx
                    terms.append((W[(o, ch) + kk], X[(ch,) + tuple(src)]))
            bias = [] if b is None else [b.items[o] if isinstance(b, Tensor) else b]
            ev.append(_sum([_product(a, v, key) for a, v in terms] + bias, key))
            shown.append(low.add(*[low.mul(a, v) for a, v in terms], *bias))
    shape = tuple(out) if cout == 1 else (cout,) + tuple(out)
    graph.add_node(c.name, Tensor(shape, tuple(ev)), Tensor(shape, tuple(shown)), spec.loc("conv"))
    note = (f"conv: {'true convolution (kernel flipped)' if c.flip else 'cross-correlation (as PyTorch)'}; "
            f"output size floor((n + 2p − d(k − 1) − 1)/s) + 1 = {tuple(out)} per channel, {cout} channel(s)")
    steps = [Step(note)]
    if m.pool is not None:
        pl = m.pool
        size = per(pl.size, "pool", "size")
        pstride = per(pl.stride, "pool", "stride") if pl.stride is not None else size
        cv = graph.groups[c.name].as_value()
        C = Tensor((1,) + cv.shape, cv.items) if cout == 1 else cv
        grid = {idx: v for idx, v in zip(itertools.product(*[range(s) for s in C.shape]), C.items)}
        ppad = per(pl.padding, "pool", "padding")
        if any(2 * p > k for p, k in zip(ppad, size)):
            raise SpecError(f"pool: padding {tuple(ppad)} is more than half the window {tuple(size)} (PyTorch "
                            "refuses it too)", spec.loc("pool", "padding"))
        pout = [(n + 2 * p - k) // s + 1 for n, k, s, p in zip(out, size, pstride, ppad)]
        if any(p < 1 for p in pout):
            raise SpecError(f"pool: the window {size} is larger than the input {tuple(out)}", spec.loc("pool"))
        pev, pshown = [], []
        for o in range(cout):
            for pos in itertools.product(*[range(n) for n in pout]):
                cells = [tuple(q * s + i - p for q, s, i, p in zip(pos, pstride, off, ppad))
                         for off in itertools.product(*[range(k) for k in size])]
                window = [grid[(o,) + cell] for cell in cells if all(0 <= x < n for x, n in zip(cell, out))]
                if pl.type == "max":
                    # zero padding: one 0 stands for the window's padded cells (they are all 0)
                    window += [sympy.Integer(0)] if pl.max_padding == "zero" and len(window) < len(cells) else []
                    pev.append(fn.Max(*window))
                    pshown.append(fn.Max(*window, evaluate=False))
                else:
                    count = len(cells) if pl.count_include_pad else len(window)
                    pev.append(sympy.Add(*window) / count)
                    pshown.append(low.div(low.add(*window), sympy.Integer(count)))
        pshape = tuple(pout) if cout == 1 else (cout,) + tuple(pout)
        graph.add_node(pl.name, Tensor(pshape, tuple(pev)), Tensor(pshape, tuple(pshown)), spec.loc("pool"))
        padded = f", padding {tuple(ppad)} ({_pad_rule(pl)})" if any(ppad) else ""
        steps.append(Step(f"{pl.type} pooling, window {tuple(size)}, stride {tuple(pstride)}{padded}: {pshape}"
                          + ("; the gradient goes to the largest entry of each window (ties: convention max_tie)"
                             if pl.type == "max" else "; the gradient is shared equally over the window")))
    add_equations(spec, graph, m.equations)
    solver = Solver(spec, graph)
    solver.steps.extend(steps)
    solver.run(m.ask)
    _kernel_checks(spec, solver, c.kernel)
    return solver.solution()


def _pad_rule(pool) -> str:
    """The padding convention a pooling used, in words for its step."""
    if pool.type == "avg":
        return "zeros, " + ("counted in the divisor" if pool.count_include_pad else "not counted in the divisor")
    if pool.max_padding == "zero":
        return "convention max_padding = zero: padded cells are 0, so a window of negative entries at the border " \
            "gives 0; PyTorch pads with −∞"
    return "convention max_padding = neg_inf: padded cells are −∞ and never win, as PyTorch"


def _kernel_checks(spec, solver, kernel: str) -> None:
    """A solve ask for the kernel: the kernel as one answer too, each with a check that another kernel fits."""
    import dataclasses

    import sympy

    from examsolve.spec_graph import names_list
    from examsolve.steps import Answer
    from examsolve.tensor import Tensor

    g = solver.graph.groups[kernel]
    entries = [s.name for s in g.symbols]
    for i, a in enumerate(spec.model.ask):
        if a.kind != "solve" or names_list(a.body.unknowns) != [kernel]:
            continue
        have = {x.name: x.value for x in solver.answers}
        if not all(n in have for n in entries):
            return      # several solutions ("w_1 (solution 2)"): not the linear system of a kernel
        ours = {n: have[n] for n in entries}
        eqs = _equations(spec, solver, a.body, ("ask", i, "solve"), set(g.symbols))
        check = _KernelCheck(spec, kernel, g, eqs, ours)
        solver.answers = [dataclasses.replace(x, valid=check.entry(x.name)) if x.name in ours else x
                          for x in solver.answers]
        if g.shape:       # the whole kernel as one answer too: key it as w: [1, 2]
            solver.answers.append(Answer(kernel, Tensor(g.shape, tuple(ours.values())), sympy.Symbol(kernel),
                                         valid=check.entry(kernel)))
        return


def _equations(spec, solver, body, path: tuple, unknowns: set) -> list:
    """The solve ask's equations as (lhs text, lhs, rhs text, rhs) in the unknowns, the other givens put in."""
    import re

    import sympy

    from examsolve import engine
    from examsolve.expr import parse_equation
    from examsolve.spec_graph import names_list

    graph = solver.graph
    leaves = {s: v for s, v in solver.values.items() if graph.nodes[s].kind == "given" and s not in unknowns}

    def side(text):
        e = parse_equation(text, graph.names())    # already parsed once by the ask: no error here
        composed = e.xreplace({s: graph.compose(s) for s in e.free_symbols
                               if s in graph.nodes and graph.nodes[s].kind == "node"})
        return engine.substitute(composed, leaves)

    out = []
    for text in names_list(body.equations):
        parts = re.split(r"(?<![=<>!])=(?!=)", text)   # as expr.parse_equation splits lhs = rhs
        lhs, rhs = (parts[0], parts[1]) if len(parts) == 2 else (text, "0")
        out.append((lhs.strip(), side(lhs), rhs.strip(), side(rhs) if len(parts) == 2 else sympy.Integer(0)))
    return out


class _KernelCheck:
    """valid(value, others) for the kernel and each entry: another kernel agrees when every equation holds."""

    def __init__(self, spec, kernel: str, group, equations: list, ours: dict):
        self.spec, self.kernel, self.group, self.equations, self.ours = spec, kernel, group, equations, ours

    def entry(self, name: str):
        def valid(value, others=None):
            # an entry is checked with the other entries given with it (the key's, or the student's), else ours
            given = self.spec.model.key if others is None else others
            return self.reproduces(self._assemble(name, value, given))
        return valid

    def _assemble(self, name: str, value, given: dict) -> dict:
        """Entry name -> value: ours, then the whole kernel given, then single entries given, then value."""
        from examsolve.tensor import Tensor

        out = dict(self.ours)
        whole = value if name == self.kernel else self._read(given.get(self.kernel), self.kernel)
        if isinstance(whole, Tensor) and len(whole.items) == len(out):
            out = dict(zip(out, whole.items))
        if name == self.kernel:
            return out if isinstance(whole, Tensor) and len(whole.items) == len(out) else {}
        for entry in out:
            if entry != name and given.get(entry) is not None:
                out[entry] = self._read(given[entry], entry, out[entry])
        out[name] = value
        return out

    def _read(self, raw, name: str, default=None):
        from examsolve.errors import ExamsolveError
        from examsolve.spec_graph import spec_expr

        if raw is None:
            return default
        try:
            return spec_expr(self.spec, raw, ("key", name), {})
        except ExamsolveError:
            return default

    def reproduces(self, entries: dict) -> tuple:
        """(ok, reason): whether the kernel with these entries gives the outputs the equations ask for."""
        import sympy

        from examsolve.values import exact_str

        n = len(self.group.symbols)
        if len(entries) != n:
            return False, f"the kernel has {n} entries"
        vals = tuple(entries.values())
        if not all(isinstance(v, sympy.Basic) and v.is_number and v.is_extended_real for v in vals):
            return False, "every entry of the kernel is a real number"
        at = dict(zip(self.group.symbols, vals))
        for ltext, lhs, rtext, rhs in self.equations:
            got, want = sympy.simplify(lhs.xreplace(at)), sympy.simplify(rhs.xreplace(at))
            if sympy.simplify(got - want) != 0:
                return False, f"gives {ltext} = {exact_str(got)}, the question says {rtext}"
        return True, "a different kernel that reproduces the given outputs"
