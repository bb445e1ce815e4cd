"""The activation and kink functions of the expression language, as sympy functions.

Non-smooth functions differentiate to "kink" functions that evaluate away from the kink
and stay unevaluated at it; `resolve_kinks` then applies the spec's convention and says so.
"""
from __future__ import annotations

import functools

import sympy
from sympy import Function, Rational, S

from examsolve import values


def sign_of(x: sympy.Expr) -> int | None:
    """-1, 0 or 1 for a real number, None when x is not a plain number (a SolveError when its sign cannot
    be settled)."""
    if not getattr(x, "is_number", False) or x.has(sympy.zoo, sympy.nan):
        return None
    if x.is_infinite:
        return {S.Infinity: 1, S.NegativeInfinity: -1}.get(x)
    # not x.is_positive: sympy decides it at 2 digits, and log(1 + e⁻⁷⁰)·10⁶¹ − 1 comes out negative
    return values.sign(x)


class sigmoid(Function):
    """The logistic function 1/(1 + e^-x)."""

    nargs = 1

    @classmethod
    def _at(cls, x):
        if x.is_number:
            return 1 / (1 + sympy.exp(-x))
        return None

    eval = _at  # the hook sympy calls on construction

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _latex(self, printer):
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class softplus(Function):
    """log(1 + e^x)."""

    nargs = 1

    @classmethod
    def _at(cls, x):
        if x.is_number:
            return sympy.log(1 + sympy.exp(x))
        return None

    eval = _at  # the hook sympy calls on construction

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


class Kink(Function):
    """A derivative that is undefined at one point; `at_kink` applies the convention."""

    def at_kink(self, conventions: dict) -> tuple[sympy.Expr, str]:
        raise NotImplementedError

    def cases(self, conventions: dict) -> sympy.Expr:
        """The derivative at a symbolic argument, by cases, with the kink on the convention's side."""
        raise NotImplementedError

    def fdiff(self, argindex=1):
        # a kink derivative is piecewise constant: its own derivative is 0 away from the kink
        return S.Zero


class relu_grad(Kink):
    """relu'(x): 1 for x > 0, 0 for x < 0, the convention at 0."""

    nargs = 1

    @classmethod
    def _at(cls, x):
        s = sign_of(x)
        return None if s in (None, 0) else (S.One if s > 0 else S.Zero)

    eval = _at  # the hook sympy calls on construction

    def at_kink(self, conventions):
        v = sympy.Integer(conventions.get("relu_grad_at_zero", 0))
        return v, f"relu'(0) is undefined; taken as {v} (convention relu_grad_at_zero)"

    def cases(self, conventions):
        x = self.args[0]
        on = x >= 0 if conventions.get("relu_grad_at_zero", 0) == 1 else x > 0
        return sympy.Piecewise((S.One, on), (S.Zero, True))

    def _latex(self, printer):
        return r"\operatorname{relu}'\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "relu'(%s)" % printer._print(self.args[0])


class relu(Function):
    """max(x, 0)."""

    nargs = 1

    @classmethod
    def _at(cls, x):
        s = sign_of(x)
        return None if s is None else (x if s > 0 else S.Zero)

    eval = _at  # the hook sympy calls on construction

    def fdiff(self, argindex=1):
        return relu_grad(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0])


class lrelu_grad(Kink):
    """lrelu'(x, a): 1 for x > 0, a for x < 0, the relu convention's side at 0."""

    nargs = 2

    @classmethod
    def _at(cls, x, a):
        s = sign_of(x)
        return None if s in (None, 0) else (S.One if s > 0 else a)

    eval = _at  # the hook sympy calls on construction

    def at_kink(self, conventions):
        side = sympy.Integer(conventions.get("relu_grad_at_zero", 0))
        v = S.One if side == 1 else self.args[1]
        return v, (f"lrelu'(0) is undefined; taken as {v}, the "
                   f"{'right' if side == 1 else 'left'} slope (convention relu_grad_at_zero = {side})")

    def cases(self, conventions):
        x, a = self.args
        on = x >= 0 if conventions.get("relu_grad_at_zero", 0) == 1 else x > 0
        return sympy.Piecewise((S.One, on), (a, True))

    def _latex(self, printer):
        return r"\operatorname{lrelu}'\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "lrelu'(%s)" % printer._print(self.args[0])


class lrelu(Function):
    """Leaky ReLU: x for x >= 0, a*x otherwise (a = 1/100 unless given)."""

    nargs = (1, 2)

    @classmethod
    def _at(cls, x, a=Rational(1, 100)):
        s = sign_of(x)
        return None if s is None else (x if s >= 0 else a * x)

    eval = _at  # the hook sympy calls on construction

    def _slope(self):
        return self.args[1] if len(self.args) > 1 else Rational(1, 100)

    def fdiff(self, argindex=1):
        if argindex != 1:
            x = self.args[0]
            return sympy.Piecewise((x, x < 0), (0, True))
        return lrelu_grad(self.args[0], self._slope())

    def _latex(self, printer):
        return r"\operatorname{lrelu}\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)


class abs_grad(Kink):
    """|x|' = sign(x), undefined at 0."""

    nargs = 1

    @classmethod
    def _at(cls, x):
        s = sign_of(x)
        return None if s in (None, 0) else sympy.Integer(s)

    eval = _at  # the hook sympy calls on construction

    def at_kink(self, conventions):
        v = sympy.Integer(conventions.get("abs_grad_at_zero", 0))
        return v, f"|x|' at 0 is undefined; taken as {v} (convention abs_grad_at_zero)"

    def cases(self, conventions):
        x, v = self.args[0], conventions.get("abs_grad_at_zero", 0)
        if v == 0:
            return sympy.Piecewise((S.One, x > 0), (-S.One, x < 0), (S.Zero, True))
        if v == 1:
            return sympy.Piecewise((S.One, x >= 0), (-S.One, True))
        return sympy.Piecewise((S.One, x > 0), (-S.One, True))

    def _latex(self, printer):
        return r"\operatorname{sign}\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "sign(%s)" % printer._print(self.args[0])


class Abs(sympy.Abs):
    """|x|, whose derivative keeps the kink at 0 for the convention."""

    @classmethod
    def eval(cls, arg):
        s = sign_of(arg)      # a number's sign settled (sympy's own eval asks is_negative)
        return super().eval(arg) if s is None else (arg if s >= 0 else -arg)

    def fdiff(self, argindex=1):
        return abs_grad(self.args[0])


class sign(sympy.sign):
    """sign(x); its derivative is taken as 0 everywhere (undefined at 0)."""

    @classmethod
    def eval(cls, arg):
        s = sign_of(arg)      # a number's sign settled (sympy's own eval asks is_positive)
        return super().eval(arg) if s is None else sympy.Integer(s)

    def fdiff(self, argindex=1):
        return S.Zero


class extreme_grad(Kink):
    """d max(args)/d args[i] (or min): 1 for the unique extreme, 0 for others, convention on ties."""

    @classmethod
    def _at(cls, which, i, *args):
        signs = []
        for a in args:
            s = sign_of(a - args[int(i)])
            if s is None:
                return None
            signs.append(s if which == 1 else -s)
        if any(s > 0 for s in signs):
            return S.Zero
        ties = sum(1 for s in signs if s == 0)
        return S.One if ties == 1 else None

    eval = _at  # the hook sympy calls on construction

    def _tied(self):
        which, i, *args = self.args
        return [k for k, a in enumerate(args) if sign_of(a - args[int(i)]) == 0]

    def at_kink(self, conventions):
        which, i = self.args[0], int(self.args[1])
        tied = self._tied()
        rule = conventions.get("max_tie", "first")
        name = "max" if which == 1 else "min"
        if rule == "split":
            v = Rational(1, len(tied))
        elif rule == "last":
            v = S.One if i == tied[-1] else S.Zero
        else:
            v = S.One if i == tied[0] else S.Zero
        places = ", ".join(str(k + 1) for k in tied)
        return v, (f"{name} is tied between arguments {places}; the gradient goes to the "
                   f"{rule} of them (convention max_tie = {rule})")

    def cases(self, conventions):
        which, i, *args = self.args
        i, rule = int(i), conventions.get("max_tie", "first")

        def beats(j, strict, k=i):       # args[k] ahead of args[j]: greater for max, smaller for min
            a, b = (args[k], args[j]) if which == 1 else (args[j], args[k])
            return a > b if strict else a >= b
        others = [j for j in range(len(args)) if j != i]
        if rule == "split":
            ties = sympy.Add(*[sympy.Piecewise((S.One, sympy.Eq(args[j], args[i])), (S.Zero, True))
                               for j in others])
            behind = sympy.Or(*[beats(i, True, k=j) for j in others])
            return sympy.Piecewise((S.One, sympy.And(*[beats(j, True) for j in others])), (S.Zero, behind),
                                   (1 / (1 + ties), True))
        # first: args[i] keeps a tie with a later argument and loses one with an earlier (last: the other way)
        keeps = (lambda j: j > i) if rule == "first" else (lambda j: j < i)
        return sympy.Piecewise((S.One, sympy.And(*[beats(j, not keeps(j)) for j in others])), (S.Zero, True))

    def _latex(self, printer):
        which, i, *args = self.args
        name = r"\max" if which == 1 else r"\min"
        return r"\frac{\partial %s}{\partial a_{%d}}" % (name, int(i) + 1)

    def _sympystr(self, printer):
        which, i, *args = self.args
        return "d%s/da_%d" % ("max" if which == 1 else "min", int(i) + 1)


class _Extreme(Function):
    """max/min of scalars, keeping the argument order (ties go by position)."""

    which = 1

    @classmethod
    def _at(cls, *args):
        if len(args) == 1:
            return args[0]
        best = args[0]
        for a in args[1:]:
            s = sign_of(a - best)
            if s is None:
                return None
            if s * cls.which > 0:
                best = a
        return best

    eval = _at  # the hook sympy calls on construction

    def fdiff(self, argindex=1):
        return extreme_grad(sympy.Integer(self.which), argindex - 1, *self.args)

    def _latex(self, printer):
        name = r"\max" if self.which == 1 else r"\min"
        return r"%s\left(%s\right)" % (name, ", ".join(printer._print(a) for a in self.args))


class Max(_Extreme):
    """max(a, b, ...)."""

    which = 1


class Min(_Extreme):
    """min(a, b, ...)."""

    which = -1


def resolve_kinks(expr: sympy.Expr, conventions: dict) -> tuple[sympy.Expr, tuple[str, ...]]:
    """Replace every kink left unevaluated at a number by its convention value, with notes."""
    kinks = [k for k in sympy.preorder_traversal(expr) if isinstance(k, Kink)
             and all(a.is_number for a in k.args)]
    if not kinks:
        return expr, ()
    mapping, notes = {}, []
    for k in kinks:
        if k in mapping:
            continue
        v, note = k.at_kink(conventions)
        mapping[k] = v
        if note not in notes:
            notes.append(note)
    return expr.xreplace(mapping), tuple(notes)


def kinks_to_cases(expr: sympy.Expr, conventions: dict) -> sympy.Expr:
    """Every kink at a symbolic argument written by cases (a Piecewise), products folded into the cases."""
    if not isinstance(expr, sympy.Basic) or not expr.has(Kink):
        return expr
    kinks = [k for k in sympy.preorder_traversal(expr) if isinstance(k, Kink)]
    out = expr.xreplace({k: k.cases(conventions) for k in kinks})
    return sympy.piecewise_fold(out) if out.has(sympy.Piecewise) else out


class Partial(sympy.Symbol):
    """The display symbol ∂of/∂wrt (a plain atom, so substitution never enters it)."""

    def __new__(cls, of: sympy.Symbol, wrt: sympy.Symbol, total: bool = False):
        obj = super().__new__(cls, f"d{of.name}/d{wrt.name}")
        obj.of, obj.wrt, obj.total = of, wrt, total
        return obj

    def __getnewargs__(self):
        return (self.of, self.wrt, self.total)

    def _latex(self, printer):
        d = "d" if self.total else r"\partial"
        return r"\frac{%s %s}{%s %s}" % (d, printer._print(self.of), d, printer._print(self.wrt))


class Iterate(sympy.Symbol):
    """The display symbol x^(k): a parameter after k update steps."""

    def __new__(cls, base: sympy.Symbol, k: int):
        obj = super().__new__(cls, f"{base.name}^({k})")
        obj.base, obj.k = base, k
        return obj

    def __getnewargs__(self):
        return (self.base, self.k)

    def _latex(self, printer):
        return r"%s^{(%d)}" % (printer._print(self.base), self.k)


@functools.cache
def generic(name: str, order: int = 0, params: tuple | None = None, vector: bool = False) -> type:
    """A differentiable function known only by its name ("σ is a differentiable function").

    One scalar argument (params None, not vector): its derivative is the function of the same name with one
    more prime, σ' then σ''. With params (the names of its arguments at the call, None where an argument
    is no name), or vector-valued: its derivatives are the named partials ∂f/∂x, or Jacobians J_x^f.
    """
    if params is not None or vector:
        return _named(name, tuple(params or (None,)), vector)

    def fdiff(self, argindex=1):
        return generic(name, order + 1)(*self.args)

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        out = r"%s%s\left(%s\right)" % (printer._print(sympy.Symbol(name)), "'" * order, args)
        return out if exp is None else r"\left(%s\right)^{%s}" % (out, exp)

    def _sympystr(self, printer):
        # sigma_prime(x): what the spec language (and sympy's parser) reads back; people's text keeps σ'
        if getattr(printer, "primes", False):
            return printer._print_Function(self)
        return "%s%s(%s)" % (name, "_prime" * order, ", ".join(printer._print(a) for a in self.args))

    return type(name + "'" * order, (Function,), {"fdiff": fdiff, "_latex": _latex, "_sympystr": _sympystr, "nargs": 1,
                                                  "generic_name": name, "generic_order": order,
                                                  "is_number": False})   # σ(2) is no known number


def _named(name: str, params: tuple, vector: bool) -> type:
    """f(x, w): a function known by name with named arguments; its derivatives are partial(...) calls."""
    def fdiff(self, argindex=1):
        return partial(name, params, (argindex - 1,), vector)(*self.args)

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        out = r"%s\left(%s\right)" % (printer._print(sympy.Symbol(name)), args)
        return out if exp is None else r"%s^{%s}\left(%s\right)" % (printer._print(sympy.Symbol(name)), exp, args)

    def _sympystr(self, printer):
        if getattr(printer, "primes", False):
            return printer._print_Function(self)
        return "%s(%s)" % (name, ", ".join(printer._print(a) for a in self.args))

    return type(name, (Function,), {"fdiff": fdiff, "_latex": _latex, "_sympystr": _sympystr,
                                    "nargs": len(params), "generic_name": name, "generic_order": 0, "is_number": False,
                                    "generic_params": params, "generic_vector": vector})


def param_token(params: tuple, i: int) -> str:
    """The name of argument i (0-based) in a partial's name: its name at the call, else its position."""
    return params[i] if params[i] is not None else str(i + 1)


def canonical(params: tuple, args: tuple) -> bool:
    """Every argument is the name its partials are called by: f(x, w), or g(f(...), v); then no argument list is
    printed after ∂f/∂x (or J_x^f)."""
    for p, a in zip(params, args):
        if p is None:
            return False
        if isinstance(a, sympy.Symbol):
            if a.name != p:
                return False
        elif getattr(a, "generic_name", None) != p or hasattr(a, "generic_wrt"):
            return False
    return True


@functools.cache
def partial(name: str, params: tuple, wrt: tuple, vector: bool) -> type:
    """∂f/∂x (J_x^f when f is vector-valued, kept in its place in a product), at f's arguments.

    wrt holds the argument positions (0-based), sorted: ∂²f/∂x∂w is ∂²f/∂w∂x.
    """
    wrt = tuple(sorted(wrt))
    jacobian = vector and len(wrt) == 1
    tokens = [param_token(params, i) for i in wrt]

    def fdiff(self, argindex=1):
        return partial(name, params, wrt + (argindex - 1,), vector)(*self.args)

    def _sympystr(self, printer):
        args = ", ".join(printer._print(a) for a in self.args)
        if not getattr(printer, "primes", False):      # a name the spec language and sympy's parser read back
            head = "J_%s__%s" % (tokens[0], name) if jacobian else "d%s_%s" % (name, "_".join("d" + t for t in tokens))
            return "%s(%s)" % (head, args)
        from examsolve.names import text_name

        def shown(t):
            return t if t.isdigit() else text_name(t, getattr(printer, "names", None))
        f = text_name(name, getattr(printer, "names", None))
        if jacobian:
            head = "J_%s^%s" % (shown(tokens[0]), f)
        else:
            order = "" if len(wrt) == 1 else str(len(wrt)).translate(_SUP)
            head = "∂%s%s/%s" % (order, f, "".join("∂" + shown(t) for t in tokens))
        return head if canonical(params, self.args) else "%s(%s)" % (head, args)

    def _latex(self, printer, exp=None):
        def tex(t):
            return t if t.isdigit() else printer._print(sympy.Symbol(t))
        f = printer._print(sympy.Symbol(name))
        if jacobian:
            head = "J_{%s}^{%s}" % (tex(tokens[0]), f)
        else:
            order = "" if len(wrt) == 1 else "^{%d}" % len(wrt)
            head = r"\frac{\partial%s %s}{%s}" % (order, f, " ".join(r"\partial %s" % tex(t) for t in tokens))
        if not canonical(params, self.args):
            head += r"\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)
        return head if exp is None else r"\left(%s\right)^{%s}" % (head, exp)

    label = ("J_%s^%s" % (tokens[0], name)) if jacobian else "d%s/%s" % (name, "".join("d" + t for t in tokens))
    return type(label, (Function,), {"fdiff": fdiff, "_latex": _latex, "_sympystr": _sympystr,
                                     "nargs": len(params), "is_commutative": not vector, "is_number": False,
                                     "precedence": 55,     # between · and ^: (∂f/∂x)², but 2·∂f/∂x·y
                                     "generic_name": name, "generic_order": len(wrt), "generic_params": params,
                                     "generic_wrt": wrt, "generic_vector": vector})


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


# functions that are defined and real for every real argument: a tree of only these, sums, products and
# whole non-negative powers needs no check of its domain
TOTAL_FUNCTIONS = ("sin", "cos", "exp", "tanh", "sinh", "cosh", "atan", "Abs", "sign", "sigmoid", "relu",
                    "softplus", "lrelu", "Max", "Min", "relu_grad", "lrelu_grad", "abs_grad", "extreme_grad")


@functools.lru_cache(maxsize=1 << 16)
def risky(expr: Any) -> bool:
    """True when expr holds an operation that is undefined or not real somewhere: a division, a root or
    other non-whole power, a log, tan, or a function not known to be total."""
    stack = [expr]
    while stack:
        e = stack.pop()
        if not isinstance(e, sympy.Basic) or not e.args or isinstance(e, Partial):
            continue
        if isinstance(e, sympy.Pow):
            b, x = e.base, e.exp
            # defined and real: a whole non-negative power, or a power of a positive number (x/64 is x·64⁻¹)
            if not ((x.is_Integer and x >= 0) or (b.is_Number and b > 0)):
                return True
        elif isinstance(e, sympy.Function) and type(e).__name__ not in TOTAL_FUNCTIONS:
            return True
        elif not isinstance(e, (sympy.Add, sympy.Mul, sympy.Pow, sympy.Function)):
            return True
        stack.extend(e.args)
    return False
