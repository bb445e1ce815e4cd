"""rnn: recurrent networks unrolled in time (a cell equation, LSTM or GRU), forward and BPTT."""
import functools

from examsolve.registry import family

NAMINGS = {  # naming: (input term, recurrent term, what it means)
    "pytorch": ("W_{g} ⊗ x", "U_{g} ⊗ h", "PyTorch: W on the input x, U on the recurrent state h; "
                "weights stacked i, f, g, o (LSTM) and r, z, n (GRU)"),
    "keras": ("W_{g} ⊗ x", "U_{g} ⊗ h", "Keras: W (kernel) on the input x, U (recurrent_kernel) on the state h; "
              "weights stacked i, f, c, o (LSTM) and z, r, h (GRU)"),
    "goodfellow": ("U_{g} ⊗ x", "W_{g} ⊗ h", "Goodfellow et al., Deep Learning §10.10: U on the input x, W on the "
                   "recurrent state h (the reverse of PyTorch's letters); the book calls the input gate g, the "
                   "output gate q, the cell state s and the GRU update gate u"),
}
ORDER = {("lstm", "pytorch"): "fiogch", ("lstm", "keras"): "figoch", ("lstm", "goodfellow"): "figoch",
         ("gru", "pytorch"): "rznh", ("gru", "keras"): "zrnh", ("gru", "goodfellow"): "rznh"}
ACT = {"tanh": "tanh", "sigmoid": "sigmoid"}
# other letters people give a gate's weights, (kind, letter) -> (examsolve's letter, whose letter it is); the
# lstm candidate's g (PyTorch's stacking letter, and the gate's name here) is accepted for c except under
# goodfellow, where the book's g is the input gate; the others only name the weight meant in the error
OTHER_LETTERS = {("lstm", "g"): ("c", "PyTorch's letter for the candidate, the gate g here"),
                 ("lstm", "q"): ("o", "the Deep Learning book's output gate q"),
                 ("lstm", "s"): ("c", "the Deep Learning book's cell state s"),
                 ("gru", "u"): ("z", "the Deep Learning book's update gate u"),
                 ("gru", "h"): ("n", "Keras's letter for the candidate")}


def preset(kind: str, naming: str, candidate: str = "tanh", cell_output: str = "tanh") -> tuple:
    """(gate, equation, what it is) in computing order for lstm or gru under a naming; ⊗ is @ or *."""
    xin, hin, _ = NAMINGS[naming]

    def lin(g: str, state: str = "h") -> str:
        return f"{xin.format(g=g)} + {hin.format(g=g).replace(' h', ' ' + state)} + b_{g}"

    if kind == "lstm":
        eqs = {"f": (f"sigmoid({lin('f')})", "forget gate"), "i": (f"sigmoid({lin('i')})", "input gate"),
               "o": (f"sigmoid({lin('o')})", "output gate"),
               "g": (f"{candidate}({lin('c')})", "candidate cell state c̃"),
               "c": ("f*c + i*g", "cell state"), "h": (f"o*{cell_output}(c)", "hidden state")}
    elif naming == "goodfellow":   # the book's GRU resets the state before the matrix: W (r ⊙ h)
        eqs = {"r": (f"sigmoid({lin('r')})", "reset gate"), "z": (f"sigmoid({lin('z')})", "update gate"),
               "n": (f"{candidate}({lin('n', '(r*h)')})", "candidate state"),
               "h": ("(1 - z)*n + z*h", "hidden state")}
    else:   # PyTorch's and Keras's (reset_after=True) form: the reset gate multiplies U_n h + b_hn
        eqs = {"r": (f"sigmoid({lin('r')})", "reset gate"), "z": (f"sigmoid({lin('z')})", "update gate"),
               "n": (f"{candidate}({xin.format(g='n')} + b_n + r*({hin.format(g='n')} + b_hn))", "candidate state"),
               "h": ("(1 - z)*n + z*h", "hidden state")}
    return tuple((g,) + eqs[g] for g in ORDER[(kind, naming)])


LSTM = preset("lstm", "pytorch")
GRU = preset("gru", "pytorch")


def naming_table() -> str:
    """The weight names of every naming preset as a Markdown table (the spec reference shows it)."""
    rows = ["| naming | cell | gates in computing order (h, c on the right: the previous step's) |", "|---|---|---|"]
    for naming in NAMINGS:
        for kind in ("lstm", "gru"):
            eqs = "; ".join(f"`{g} = {text.replace(' ⊗ ', '·')}`" for g, text, _ in preset(kind, naming))
            if kind == "lstm" and naming != "goodfellow":
                eqs += " (the candidate's W_g, U_g, b_g are read as W_c, U_c, b_c)"
            elif kind == "lstm":
                eqs += " (no W_g: the book's g is the input gate)"
            elif kind == "gru" and naming != "goodfellow":
                eqs += " (b_hn is 0 when not given)"
            rows.append(f"| `{naming}` | {kind} | {eqs} |")
    return "\n".join(rows)


@functools.cache
def _model():
    from typing import Literal, Optional, Union

    from pydantic import Field

    from examsolve.spec import BaseSpec, Raw, _Model

    from examsolve.spec import CONVENTION

    class Loss(_Model):
        """A loss per step, added (or averaged) over the chosen steps into L."""

        each: str = Field(description="the loss of one step, e.g. (y - target)**2")
        steps: Union[Literal["all", "last"], list[int]] = Field("all", description="all, last, or step numbers")
        reduce: Literal["sum", "mean"] = Field("sum", json_schema_extra=CONVENTION, description="how the step losses make L")

    class RnnSpec(BaseSpec):
        __doc__ = ("A recurrent network: a cell equation (or lstm / gru) unrolled over the sequences. With cell: "
                   "lstm or gru, naming: fixes the weight names under given: (the gate letters are what "
                   "gates.<g>[t] and the tables show):\n\n" + naming_table())

        sequences: dict[str, list[Raw]] = Field(default_factory=dict,
                                                description="per-step values, e.g. x: [0, 1] (names x_1, x_2)")
        steps: Optional[int] = Field(None, ge=1, le=100_000,
                                     description="number of steps when there are no sequences")
        state: str = Field("h", description="name of the state: h_0 is the initial state, h_1..h_T follow")
        initial: Raw = Field(0, description="the initial state h_0 (a number or a vector)")
        initial_cell: Raw = Field(0, description="lstm: the initial cell state c_0")
        cell: str = Field(description="the new state from the previous one (written h) and the inputs "
                                      "(written x), e.g. tanh(W @ h + U @ x + b); or lstm, gru")
        outputs: dict[str, str] = Field(default_factory=dict, description="per-step outputs, e.g. y: v*h")
        loss: Optional[Loss] = Field(None, description="a loss over the steps; its total is L")
        naming: Literal["pytorch", "keras", "goodfellow"] = Field(
            "pytorch", json_schema_extra=CONVENTION, description="lstm/gru weight names and gate order: pytorch and keras put W on the input x "
            "and U on the state h; goodfellow (Deep Learning book) puts U on x and W on h")
        candidate: Literal["tanh", "sigmoid"] = Field("tanh", description="lstm/gru: the candidate's activation")
        cell_output: Literal["tanh", "sigmoid"] = Field("tanh", description="lstm: h = o·tanh(c), or o·sigmoid(c)")
        gates: dict[str, str] = Field(default_factory=dict, description="lstm/gru with free equations instead: "
                                      "gate name → formula in x, h (previous state), c (previous cell) and earlier "
                                      "gates, in computing order; must define h (and c for lstm)")

    return RnnSpec


@family("rnn", summary="recurrent networks unrolled in time: a cell equation, LSTM or GRU; hidden states, "
        "outputs and losses per step, backpropagation through time, parameter counts",
        examples=("rnn_linear_two_losses.yaml", "rnn_product_cell.yaml", "rnn_relu_dead_unit.yaml",
                  "rnn_step_back.yaml",
                  "rnn_vector_tanh.yaml", "lstm_forward.yaml", "gru_forward.yaml", "lstm_goodfellow.yaml"), model=_model)
def _solve(spec):
    """Unrolls `cell:` over the steps of `sequences:`; every ask of the graph family then works."""
    from collections import ChainMap

    import sympy

    from examsolve.asks import Solver

    from examsolve.errors import SpecError
    from examsolve.expr import Ops
    from examsolve.graph import Group
    from examsolve.spec_graph import build_graph, spec_expr
    from examsolve.steps import Step, Table

    m = spec.model
    lengths = {name: len(v) for name, v in m.sequences.items()}
    if m.steps is not None:
        lengths["steps"] = m.steps
    if not lengths or len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise SpecError("sequences: give every sequence the same number of steps (at least one), e.g. "
                        "x: [0, 1], or steps: N without sequences; got "
                        + ", ".join(f"{k}: {v}" for k, v in lengths.items()), spec.loc("sequences"))
    T = next(iter(lengths.values()))
    graph = build_graph(spec, equations={})
    h = m.state
    for name, values in m.sequences.items():
        for t, raw in enumerate(values, 1):
            graph.add_given(f"{name}_{t}", spec_expr(spec, raw, ("sequences", name, t - 1), graph.names()),
                            spec.loc("sequences", name, t - 1))
    graph.add_given(f"{h}_0", spec_expr(spec, m.initial, ("initial",), graph.names()), spec.loc("initial"))

    def at(t: int, extra: dict) -> dict:
        """What names mean inside a step-t formula: x is x_t, h is the previous state, ..."""
        now = {name: graph.groups[f"{name}_{t}"].as_value() for name in m.sequences}
        return {**now, **extra}

    templates = StepTemplates(spec, graph)

    def node(name: str, text: str, varying: dict, path: tuple, t: int) -> None:
        value, display = templates.build(text, path, varying)
        graph.add_node(f"{name}_{t}", value, display, spec.loc(*path))

    kind = m.cell.strip().lower() if m.cell.strip().lower() in ("lstm", "gru") else None
    preset = _gates(spec, kind) if kind else ()
    if preset:
        if h != "h":
            raise SpecError("lstm and gru name their state h; remove state:", spec.loc("state"))
        if not m.gates:
            preset = _with_given_letters(spec, kind, preset, graph)
            _check_weights(spec, kind, preset, graph)
        W = next((graph.groups[n] for n in ("W_f", "W_r", "U_f", "U_r") if n in graph.groups), None)
        op = "@" if W is not None and W.shape else "*"     # matrices and vectors, or scalars
        if kind == "lstm":
            graph.add_given("c_0", spec_expr(spec, m.initial_cell, ("initial_cell",), graph.names()),
                            spec.loc("initial_cell"))
        if any("b_hn" in text for _, text, _ in preset) and "b_hn" not in graph.groups and "b_n" in graph.groups:
            graph.add_given("b_hn", sympy.Integer(0) if op == "*" else
                            graph.groups["b_n"].as_value().map(lambda _: sympy.Integer(0)))
        for t in range(1, T + 1):
            here: dict = {"h": graph.groups[f"h_{t - 1}"].as_value()}
            if kind == "lstm":
                here["c"] = graph.groups[f"c_{t - 1}"].as_value()
            for gate, text, _ in preset:
                formula = text.replace("⊗", op)
                node(gate, formula, at(t, here), ("gates", gate) if m.gates else ("cell",), t)
                here[gate] = graph.groups[f"{gate}_{t}"].as_value()
    else:
        for t in range(1, T + 1):
            node(h, m.cell, at(t, {h: graph.groups[f"{h}_{t - 1}"].as_value()}), ("cell",), t)
    for t in range(1, T + 1):
        here = {h: graph.groups[f"{h}_{t}"].as_value()}
        for name, text in m.outputs.items():
            node(name, text, at(t, here), ("outputs", name), t)
            here[name] = graph.groups[f"{name}_{t}"].as_value()
    if m.loss is not None:
        steps = list(range(1, T + 1)) if m.loss.steps == "all" else [T] if m.loss.steps == "last" else m.loss.steps
        bad = [t for t in steps if not 1 <= t <= T]
        if bad:
            raise SpecError(f"loss steps {bad} are outside 1..{T}", spec.loc("loss", "steps"))
        terms = []
        for t in steps:
            here = {h: graph.groups[f"{h}_{t}"].as_value()}
            here.update({name: graph.groups[f"{name}_{t}"].as_value() for name in m.outputs})
            node("L", m.loss.each, at(t, here), ("loss", "each"), t)
            terms.append(graph.groups[f"L_{t}"].as_value())
        total = sympy.Add(*terms) if m.loss.reduce == "sum" else sympy.Add(*terms) / len(terms)
        shown = Ops(False).add(*terms) if m.loss.reduce == "sum" else Ops(False).div(Ops(False).add(*terms),
                                                                                      sympy.Integer(len(terms)))
        graph.add_node("L", total, shown, spec.loc("loss"))
    series = [h] + list(m.sequences) + list(m.outputs)
    if preset:
        series += [g for g, _, _ in preset if g != "h"]
    for name in series:   # h stands for h_1..h_T in asks and equations
        groups = [graph.groups[f"{name}_{t}"] for t in range(1, T + 1) if f"{name}_{t}" in graph.groups]
        if groups and name not in graph.groups:
            syms = tuple(s for g in groups for s in g.symbols)
            graph.aliases[name] = Group(name, (len(groups),) + groups[0].shape, syms)
    names = ChainMap({k: a.as_value() for k, a in graph.aliases.items()}, graph.names())
    for name, text in m.equations.items():   # extra equations may use the whole sequences
        value = spec_expr(spec, text, ("equations", name), names)
        display = spec_expr(spec, text, ("equations", name), names, evaluate=False)
        graph.add_node(name, value, display, spec.key_loc("equations", name), source=text)

    solver = Solver(spec, graph)
    from examsolve.engine import group_value

    def per_step(prefix: str, name: str, first: int) -> list:
        """(prefix.name[t], value of name_t) for t = first..T: t is the time step, as in the table."""
        return [(f"{prefix}.{name}[{t}]", group_value(graph.groups[f"{name}_{t}"], solver.values))
                for t in range(first, T + 1) if f"{name}_{t}" in graph.groups]

    qs = per_step("states", h, 0)
    if kind == "lstm":
        qs += per_step("states", "c", 0)
    for name in m.outputs:
        qs += per_step("outputs", name, 1)
    if preset:
        qs += [q for g, _, _ in preset if g not in ("h", "c") for q in per_step("gates", g, 1)]
    if preset:
        table_rows = [(t,) + tuple(group_value(graph.groups[f"{g}_{t}"], solver.values) for g, _, _ in preset)
                      for t in range(1, T + 1)]
        about = "; ".join(f"{g}_t = {text.replace('⊗', '·').replace(' h', ' h_(t-1)')} ({what})"
                          for g, text, what in preset)
        how = ("free equations (gates:)" if m.gates else
               f"naming: {m.naming} ({NAMINGS[m.naming][2]})" + (f"; candidate {m.candidate}" if m.candidate != "tanh"
                                                                else "")
               + (f"; h = o·{m.cell_output}(c)" if kind == "lstm" and m.cell_output != "tanh" else ""))
        solver.steps.append(Step(f"{m.cell.upper()} cell, {how}; unrolled over t = 1..{T}: {about}",
                                 table=Table(("t",) + tuple(g for g, _, _ in preset), tuple(table_rows)),
                                 quantities=tuple(qs)))
    else:
        solver.steps.append(Step(f"Unrolled in time: {h}_t = {m.cell} with {h} = {h}_(t-1) and each sequence "
                                 f"at step t, for t = 1..{T}; a weight used at every step collects a sum over t",
                                 quantities=tuple(qs)))
    solver.run(m.ask)
    if preset:
        solver.steps.append(_parameter_counts(graph, kind, solver))
    return solver.solution()


class StepTemplates:
    """Each per-step formula parsed once with stand-in symbols, then instantiated per step by substitution.

    Parsing costs ~2 ms a formula and the parser's name lookup grows with the graph, so parsing at every
    step made BPTT quadratic. The first step is parsed both ways and compared: a formula whose template
    does not give the same trees there (or that names a step's own element, such as h_1) is parsed per step.
    """

    def __init__(self, spec, graph):
        self.spec, self.graph, self.cache = spec, graph, {}

    def build(self, text: str, path: tuple, varying: dict) -> tuple:
        """(value, display) of text with the step's names in varying (name -> symbol or Tensor)."""
        key = (text, path, tuple(sorted((k, _shape_of(v)) for k, v in varying.items())))
        tpl = self.cache.get(key)
        if tpl is None:
            value, display = self._parse(text, path, varying)
            self.cache[key] = self._template(text, path, varying, value, display)
            return value, display
        if tpl is False:
            return self._parse(text, path, varying)
        t_value, t_display, stand = tpl
        mapping = {}
        for k, v in stand.items():
            mapping.update(zip(_items(v), _items(varying[k])))
        return _instantiate(t_value, mapping, True), _instantiate(t_display, mapping, False)

    def _parse(self, text: str, path: tuple, varying: dict) -> tuple:
        from collections import ChainMap

        from examsolve.spec_graph import spec_expr

        names = ChainMap(varying, self.graph.names())
        return (spec_expr(self.spec, text, path, names), spec_expr(self.spec, text, path, names, evaluate=False))

    def _template(self, text: str, path: tuple, varying: dict, value, display):
        """(template value, template display, stand-ins) when instantiating it at this step gives the same
        trees as parsing, else False."""
        import re

        import sympy

        from examsolve.expr import symbol
        from examsolve.tensor import Tensor

        stand = {}      # stand-in names hold an invisible separator (U+2063): no spec name can clash
        for k, v in varying.items():
            if isinstance(v, Tensor) and all(isinstance(e, sympy.Symbol) for e in v.items):
                stand[k] = Tensor(v.shape, tuple(symbol(f"{k}\u2063step\u2063{i}") for i in range(len(v.items))))
            elif isinstance(v, sympy.Symbol):
                stand[k] = symbol(f"{k}\u2063step")
            else:
                return False      # a step value that is not a symbol: parse per step
        t_value, t_display = self._parse(text, path, stand)
        series = re.compile("^(" + "|".join(re.escape(k) for k in varying) + r")_\d")
        own = [s for s in _free(t_value) | _free(t_display) if series.match(s.name)]
        mapping = {}
        for k, v in stand.items():
            mapping.update(zip(_items(v), _items(varying[k])))
        if own or _instantiate(t_value, mapping, True) != value or _instantiate(t_display, mapping, False) != display:
            return False
        return t_value, t_display, stand


def _shape_of(v) -> tuple:
    return getattr(v, "shape", None) or ()


def _items(v) -> tuple:
    return v.items if hasattr(v, "items") and not isinstance(v, dict) else (v,)


def _free(v) -> set:
    out = set()
    for e in _items(v):
        out |= getattr(e, "free_symbols", set())
    return out


def _instantiate(v, mapping: dict, evaluate: bool):
    """v with stand-ins replaced: evaluated as sympy would build it, or the display tree kept as written."""
    from examsolve.tensor import Tensor

    if isinstance(v, Tensor):
        return v.map(lambda e: _instantiate(e, mapping, evaluate))
    if not hasattr(v, "xreplace"):
        return v
    if evaluate:
        return _rebuilt(v, mapping, {})
    return _as_written(v, mapping)


# functions whose construction on a non-number argument can only rewrite it by pulling out a minus sign
# (checked below) or by what the argument's assumptions prove; the stand-ins carry the same assumptions as
# the step's symbols, so the template already shows that proof's outcome
_PLAIN_ON_SYMBOLS = ("tanh", "sinh", "cosh", "sin", "cos", "atan", "sigmoid", "softplus")


def _rebuilt(e, mapping: dict, memo: dict):
    """An evaluated template with symbols replaced: sums and products evaluated again (their order depends
    on names), a function kept as it was built without asking its argument's assumptions again."""
    import sympy

    from examsolve import fastsym

    if e in mapping:
        return mapping[e]
    if not e.args:
        return e
    if e in memo:
        return memo[e]
    args = [_rebuilt(a, mapping, memo) for a in e.args]
    if all(a is b for a, b in zip(args, e.args)):
        out = e
    elif (isinstance(e, sympy.Function) and type(e).__name__ in _PLAIN_ON_SYMBOLS and len(args) == 1
          and not args[0].is_number and not args[0].could_extract_minus_sign()):
        out = fastsym.rebuild(e, args, evaluate=False)
    else:
        out = fastsym.rebuild(e, args)
    memo[e] = out
    return out


def _as_written(e, mapping: dict):
    """An unevaluated tree with symbols replaced, each changed node rebuilt with evaluate=False."""
    from examsolve import fastsym

    if e in mapping:
        return mapping[e]
    if not e.args:
        return e
    args = [_as_written(a, mapping) for a in e.args]
    if all(a is b for a, b in zip(args, e.args)):
        return e
    return fastsym.rebuild(e, args, evaluate=False)


def _gates(spec, kind: str) -> tuple:
    """The (gate, equation, what) triples of lstm or gru: the naming preset's, or the free gates: in order."""
    from examsolve.errors import SpecError

    m = spec.model
    if not m.gates:
        return preset(kind, m.naming, m.candidate, m.cell_output)
    need = ("c", "h") if kind == "lstm" else ("h",)
    missing = [g for g in need if g not in m.gates]
    if missing:
        raise SpecError(f"gates: define {' and '.join(missing)} (the new " + ("cell and " if kind == "lstm" else "")
                        + "hidden state) from x, h, c and earlier gates", spec.key_loc("gates"))
    return tuple((g, text, "given equation") for g, text in m.gates.items())


_WEIGHT = r"\b[WUb]_[a-z]+\b"    # a preset's weight and bias names: W_f, U_c, b_hn


def _with_given_letters(spec, kind: str, gates: tuple, graph) -> tuple:
    """The preset with the lstm candidate's W_c, U_c, b_c read as W_g, U_g, b_g where those are given instead."""
    import re

    from examsolve.errors import SpecError

    if kind != "lstm" or spec.model.naming == "goodfellow":
        return gates
    renames = {}
    for p in "WUb":
        if f"{p}_g" in graph.groups and f"{p}_c" in graph.groups:
            raise SpecError(f"given: both {p}_c and {p}_g: they name the same lstm weight (the candidate g's); "
                            "keep one", spec.key_loc("given", f"{p}_g"))
        if f"{p}_g" in graph.groups:
            renames[f"{p}_c"] = f"{p}_g"
    if not renames:
        return gates
    return tuple((g, re.sub(_WEIGHT, lambda w: renames.get(w.group(), w.group()), text), what)
                 for g, text, what in gates)


def _check_weights(spec, kind: str, gates: tuple, graph) -> None:
    """A SpecError for the first preset weight not given, naming the given weight most likely meant for it."""
    import re

    from examsolve.errors import SpecError

    m = spec.model
    needed = [(g, what, w) for g, text, what in gates for w in dict.fromkeys(re.findall(_WEIGHT, text))]
    wanted = {w for _, _, w in needed}
    for gate, what, name in needed:
        if name in graph.groups or name == "b_hn":    # b_hn is 0 when only b_n is given
            continue
        meant, why = _meant_for(kind, name, m.naming, [n for n in m.given if n not in wanted])
        where = spec.key_loc("given", meant) if meant else spec.loc("cell")
        raise SpecError(f"{m.cell} gate {gate} ({what}) needs {name}, which is not given; {why}. "
                        f"naming: {m.naming} names the weights {_weight_names(kind, m.naming)}; "
                        "see `examsolve new rnn`", where)


def _meant_for(kind: str, name: str, naming: str, unused: list) -> tuple:
    """(the unused given name most likely meant as `name`, or None; what to do)."""
    prefix, letter = name.split("_", 1)
    for other in unused:
        p, _, q = other.partition("_")
        if p == prefix and OTHER_LETTERS.get((kind, q), ("",))[0] == letter:
            if kind == "lstm" and q == "g" and naming == "goodfellow":
                return other, (f"you gave {other}: under naming: goodfellow the book's g is the input gate, so "
                               f"call the candidate's weight {name} (and the input gate's {prefix}_i)")
            return other, f"you gave {other} ({OTHER_LETTERS[(kind, q)][1]}): call it {name}"
    return None, f"give {name} under given"


def _weight_names(kind: str, naming: str) -> str:
    """The weight names of a naming preset in its gate order, e.g. W_f, U_f, b_f; W_i, …"""
    import re

    names = [w for _, text, _ in preset(kind, naming) for w in dict.fromkeys(re.findall(_WEIGHT, text))
             if w != "b_hn"]
    if kind == "gru":
        return ", ".join(names) + ("" if naming == "goodfellow" else " (b_hn optional)")
    return ", ".join(names) + ("" if naming == "goodfellow" else " (or W_g, U_g, b_g for the candidate's)")


def _parameter_counts(graph, kind, solver):
    """Learnable parameters of the layer in PyTorch's and Keras's layouts (the bias is the difference)."""
    import sympy

    from examsolve.steps import Step

    x = graph.groups["x_1"]
    h = graph.groups["h_0"]
    d = x.shape[0] if x.shape else 1
    n = h.shape[0] if h.shape else 1
    gates = 4 if kind == "lstm" else 3   # the standard layer's count: names and gate order do not change it
    weights = gates * n * (d + n)
    torch = weights + gates * 2 * n            # PyTorch: b_ih and b_hh for every gate
    keras = weights + gates * n * (2 if gates == 3 else 1)   # Keras GRU (reset_after=True) has two
    name = "LSTM" if gates == 4 else "GRU"
    solver.answer(f"{name} parameters (PyTorch)", sympy.Integer(torch))
    solver.answer(f"{name} parameters (Keras)", sympy.Integer(keras))
    keras_rule = "one bias per gate" if gates == 4 else "two biases per gate (reset_after=True, the TF2 default)"
    return Step(f"{name} parameters with input size d = {d}, hidden size n = {n}: {gates}·n·(d + n) weights "
                f"= {weights}; PyTorch adds two biases per gate: {gates}·2n → {torch}; Keras adds "
                f"{keras_rule} → {keras}")
