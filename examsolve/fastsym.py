"""sympy's own objects, built without its general constructors where the result is known in advance.

Building a graph makes one sympy tree per node, and sympy's constructors do general work for every call:
Mul(x, y) sorts and collects powers (~45 us), tanh(a + b) asks assumption questions of its argument
(`is_zero` through the whole sum: ~0.1-100 ms), and even tanh(x, evaluate=False) builds a FiniteSet. The
functions here return the very object sympy would return (same class, same arguments in the same order:
equal and hashing the same everywhere), and hand every case they do not recognise to sympy.

Value side (as sympy evaluates): add, mul, power, call. As written (evaluate=False): uadd, umul, upow, ucall.
tests/test_fastsym.py checks each fast path against sympy's constructor.
"""
from __future__ import annotations

import functools

import sympy
from sympy import S
from sympy.core.basic import Basic, _get_postprocessors_for_type
from sympy.core.expr import Expr
from sympy.core.mul import _keep_coeff
from sympy.core.parameters import global_parameters

from examsolve import functions as fn

_Add, _Mul, _Pow = sympy.Add, sympy.Mul, sympy.Pow
_order = functools.cmp_to_key(Basic.compare)     # the order sympy sorts the arguments of sums and products in


_PLAIN_TYPES: dict = {}


def _plain_type(t: type) -> bool:
    """An expression type (Add, Mul and Pow take no other without a warning or an error) to which no constructor
    postprocessor applies (only matrix expressions have any)."""
    known = _PLAIN_TYPES.get(t)
    if known is None:
        known = _PLAIN_TYPES[t] = issubclass(t, Expr) and not _get_postprocessors_for_type(t)
    return known


def _plain(args) -> bool:
    get = _PLAIN_TYPES.get
    for a in args:
        if not (get(type(a)) or _plain_type(type(a))):
            return False
    return True


# ---- as written (evaluate=False) -----------------------------------------------------------------------

def _commutative(xs) -> bool | None:
    """fuzzy_and of the arguments' is_commutative, as AssocOp._from_args computes it."""
    out = True
    for a in xs:
        c = a.is_commutative
        if c is False:
            return False
        if c is not True:
            out = None
    return out


def uadd(*xs):
    """Add(*xs, evaluate=False)."""
    if _plain(xs):
        # what AssocOp.__new__ does without evaluation, minus its cache and sympify
        return _Add._from_args(xs, _commutative(xs))
    return _Add(*xs, evaluate=False)


def umul(*xs):
    """Mul(*xs, evaluate=False)."""
    if _plain(xs):
        return _Mul._from_args(xs, _commutative(xs))
    return _Mul(*xs, evaluate=False)


def upow(b, e):
    """Pow(b, e, evaluate=False)."""
    if isinstance(b, Expr) and isinstance(e, Expr) and _plain_type(type(b)) and _plain_type(type(e)):
        obj = Expr.__new__(_Pow, b, e)
        obj.is_commutative = b.is_commutative and e.is_commutative
        return obj
    return _Pow(b, e, evaluate=False)


@functools.lru_cache(maxsize=None)
def _nargs(f: type):
    return f.nargs


@functools.lru_cache(maxsize=None)
def _arities(f: type) -> frozenset | None:
    """The numbers of arguments f takes, None for any number (sympy's Naturals0)."""
    n = f.nargs
    return None if n is S.Naturals0 else frozenset(int(k) for k in n)


# Function classes whose construction is sympy's standard one (Application.__new__: arguments stored,
# nargs set), so f(*args, evaluate=False) is that object without the cache, sympify and a new FiniteSet
_STANDARD: set = {sympy.tanh, sympy.sinh, sympy.cosh, sympy.sin, sympy.cos, sympy.tan, sympy.atan, sympy.exp,
                  fn.sigmoid, fn.softplus, fn.relu, fn.lrelu, fn.Max, fn.Min, fn.Abs, fn.sign}


def _raw(f: type, args: tuple):
    obj = Basic.__new__(f, *args)
    obj.nargs = _nargs(f)
    return obj


def ucall(f, *args):
    """f(*args, evaluate=False)."""
    if f in _STANDARD and all(isinstance(a, Basic) for a in args):
        n = _arities(f)
        if len(args) in n if n is not None else args:
            return _raw(f, args)
    return f(*args, evaluate=False)


# ---- evaluated, as sympy builds it -----------------------------------------------------------------------

def _evaluating() -> bool:
    """sympy evaluates (no `with evaluate(False)` around): else every call goes to sympy as it is."""
    return global_parameters.evaluate


def _ordinary(e) -> bool:
    """Every atom of e is a rational or a symbol not assumed zero (no I, π, float, infinity or nan)."""
    stack = [e]
    while stack:
        x = stack.pop()
        for a in x.args:
            if not a.is_Atom:
                stack.append(a)
            elif a.is_Symbol:
                if _symbol_is_zero(a):
                    return False
            elif not a.is_Rational:
                return False
    return True


def _symbol_is_zero(x) -> bool:
    """A symbol's zero fact: a symbol has no handlers, so it is known from its assumptions or not at all."""
    return x._assumptions.get("zero") is True


def _tanh_is_plain(x) -> bool:
    """Whether sympy's tanh evaluation rules leave tanh(x) as it stands (the object with x as its argument).

    Its rules for an x that is no number: x = c·I (i·tan), a leading minus, a sum holding a multiple of iπ,
    x provably 0, x an inverse hyperbolic function. Here x shows no leading minus, is no inverse function, and
    its atoms are rationals and symbols not assumed zero: no I, so no i·tan and no iπ; and x is not provably
    0 (sympy's assumptions are sound, and nothing in sympy's canonical form of sums, products, powers and
    functions of such atoms is identically 0 without being folded to 0 on construction).
    """
    if x.is_Symbol:
        return not _symbol_is_zero(x)
    if x.is_Atom or x.is_number or type(x) in _INVERSE_HYPERBOLIC:
        return False
    info = _info(x) if x.is_Add else None
    return (info[4] if info is not None and info[4] else _ordinary(x)) and not _minus_sign(x)


def _minus_sign(x) -> bool:
    """x.could_extract_minus_sign() for an x of rational and symbol atoms (_ordinary): a sum counts its terms
    with a leading minus (a product's is its negative rational coefficient: with no zoo among its atoms, -t is
    never t) and only a tie needs sympy's sort keys."""
    if not x.is_Add:
        return x.could_extract_minus_sign()
    negative = 0
    for t in x.args:
        if t.is_Mul or t.is_Rational:
            c = t.args[0] if t.is_Mul else t
            negative += c.is_Rational and c.p < 0
        elif t.is_Symbol or t.is_Pow or t.is_Function:
            pass           # Expr.could_extract_minus_sign: False
        else:
            negative += t.could_extract_minus_sign()
    positive = len(x.args) - negative
    if positive != negative:
        return negative > positive
    return x.could_extract_minus_sign()


_INVERSE_HYPERBOLIC = (sympy.asinh, sympy.acosh, sympy.atanh, sympy.acoth)


def _never_evaluates_symbolic(x) -> bool:
    """sigmoid, softplus and relu evaluate only at a number (their eval asks is_number first)."""
    return not x.is_number


_PLAIN_AT: dict = {sympy.tanh: _tanh_is_plain, fn.sigmoid: _never_evaluates_symbolic,
                   fn.softplus: _never_evaluates_symbolic, fn.relu: _never_evaluates_symbolic}


def plain_call(f, args):
    """f(*args) when f's eval would leave it as it is (built without eval), else None."""
    test = _PLAIN_AT.get(f)
    if (test is not None and len(args) == 1 and isinstance(args[0], Expr) and _evaluating()
            and _plain_type(type(args[0])) and test(args[0])):
        # eval gives None, and Function._should_evalf never fires for an argument that is no number
        return _raw(f, args)
    return None


def call(f, *args):
    """f(*args), evaluated."""
    out = plain_call(f, args)
    return f(*args) if out is None else out


def _is_symbol(x) -> bool:
    return x.is_Symbol and x.is_commutative and _plain_type(type(x))


def mul(*xs):
    """Mul(*xs), evaluated."""
    xs = [x for x in xs if x is not S.One]        # AssocOp.__new__ drops the identity first
    if len(xs) != 2 or not _evaluating():
        return _Mul(*xs)
    a, b = xs
    if b.is_Rational:
        a, b = b, a
    if a.is_Rational:
        if a is S.Zero or b.is_Number:
            return _Mul(*xs)
        if _is_symbol(b):                                               # 3*x
            return _Mul._from_args((a, b), True)
        if b.is_Mul and b.is_commutative and all(_is_symbol(f) for f in b.args):     # 3*(x*y)
            return _Mul._from_args((a,) + b.args, True)
        if b.is_Add and b.is_commutative and global_parameters.distribute and _plain(b.args):
            # Mul.flatten's rule for a rational times a sum: distributed over its terms
            return _scaled(a, b)
        return _Mul(*xs)
    if _is_symbol(a) and _is_symbol(b) and (a.name != b.name or a != b):  # x*y, in sympy's order
        return _Mul._from_args((a, b) if _compare(a, b) < 0 else (b, a), True)
    return _Mul(*xs)


def _scaled(r, total):
    """Add(*[_keep_coeff(r, t) for t in total.args]) (r rational, not 0 or 1)."""
    info = _info(total)
    if info is None or info[2] is None:
        return add(*[_keep_coeff(r, t) for t in total.args])
    _, seen, (n, coeff), symbols, ordinary = info
    # every term is a product of n factors led by the same coefficient (or none): scaled alike, they keep
    # their order (Basic.compare meets the equal coefficients first) and still collect nothing
    args = total.args
    out = []
    if args[0].is_Rational:
        out.append(args[0] * r)
        args = args[1:]
    if coeff is None:
        if n == 1:
            out.extend(_Mul._from_args((r, t), True) for t in args)
        else:
            out.extend(_Mul._from_args((r,) + t.args, True) for t in args)
        new = (n + 1, r)
    else:
        c = coeff * r
        if c is S.One:
            out.extend(_Mul._from_args(t.args[1:], True) if n > 2 else t.args[1] for t in args)
            new = (n - 1, None) if n > 2 else None
        else:
            out.extend(_Mul._from_args((c,) + t.args[1:], True) for t in args)
            new = (n, c)
    result = _Add._from_args(out, True)
    _remember(result, seen, new, symbols, ordinary)      # scaled by a rational: the same symbols
    return result


def power(b, e):
    """Pow(b, e), evaluated."""
    if (e.is_Integer and e is not S.Zero and e is not S.One and _is_symbol(b)
            and type(b)._eval_power is Expr._eval_power and _evaluating()):
        obj = Expr.__new__(_Pow, b, e)        # x**2: no rule of Pow.__new__ applies to a symbol base
        obj.is_commutative = True
        return obj
    return _Pow(b, e)


def _real_symbol(x) -> bool:
    """A symbol with the assumptions of every spec name (expr.symbol): only its name orders it."""
    return type(x) is sympy.Symbol and (x._assumptions0 is _REAL0 or x._assumptions0 == _REAL0)


_PROTOTYPE = sympy.Symbol("_examsolve_prototype", real=True)
# what sympy.Symbol(name, real=True) holds: the assumption tables (shared by sympy's cache of them) and the
# sorted facts tuple (made per symbol by sympy; expr.symbol shares this one)
REAL_ASSUMPTIONS = (_PROTOTYPE._assumptions, _PROTOTYPE._assumptions_orig, _PROTOTYPE._assumptions0)
_REAL0 = REAL_ASSUMPTIONS[2]


def dot(xs, ys):
    """add(*[mul(x, y) for x, y in zip(xs, ys)]): for products of two different real symbols each, sorted by
    their names (sympy's order for terms of that one shape) without the general steps."""
    n = len(xs)
    if n < 2 or not _evaluating():
        return add(*[mul(x, y) for x, y in zip(xs, ys)])
    terms = []
    seen = set()
    for x, y in zip(xs, ys):
        if not (_real_symbol(x) and _real_symbol(y)):
            return add(*[mul(x, y) for x, y in zip(xs, ys)])
        a, b = x.name, y.name
        if a == b:
            return add(*[mul(x, y) for x, y in zip(xs, ys)])        # x*x is a power
        pair = (x, y) if a < b else (y, x)
        terms.append(((pair[0].name, pair[1].name), pair))
    terms.sort(key=lambda kp: kp[0])
    out = []
    for key, pair in terms:
        if key in seen:
            return add(*[mul(x, y) for x, y in zip(xs, ys)])        # a product twice collects
        seen.add(key)
        out.append(_Mul._from_args(pair, True))
    result = _Add._from_args(out, True)
    # real symbols only: ordinary (_ordinary), and the free symbols are the factors
    _remember(result, {("Mul", t.args) for t in out}, (2, None), frozenset(xs) | frozenset(ys), True)
    return result


def udot(xs, ys):
    """uadd(*[umul(x, y) for x, y in zip(xs, ys)])."""
    return uadd(*[umul(x, y) for x, y in zip(xs, ys)])


def _term_key(t):
    """What Add.flatten collects a term under (the term without its rational coefficient), or None when the
    term is of a kind left to sympy's general rules."""
    if not t.is_commutative:
        return None
    if t.is_Mul:
        args = t.args
        if args[0].is_Number:
            if not args[0].is_Rational or args[0] is S.Zero:
                return None
            rest = args[1:]
            return rest[0] if len(rest) == 1 else ("Mul", rest)
        return ("Mul", args)
    if t.is_Symbol or t.is_Function or t.is_Pow and not t.base.is_Number:
        return t
    return None


# sums built here: id -> (the sum, its terms' keys, its shape for _scaled: (factors per term, the common
# coefficient or None) when every term is a product of that many factors with that coefficient (1, None: every
# term a single factor), else None)
_SUMS: dict = {}
MAX_SUMS_KEPT = 1 << 12


def _remember(total, seen: set, shape, symbols: frozenset | None = None, ordinary: bool = False) -> None:
    if len(_SUMS) >= MAX_SUMS_KEPT:
        _SUMS.clear()
    _SUMS[id(total)] = (total, seen, shape, symbols, ordinary)


def _info(e):
    info = _SUMS.get(id(e))
    return info if info is not None and info[0] is e else None


def known_symbols(e) -> frozenset | None:
    """e.free_symbols for a sum built here whose symbols are known without a walk, else None."""
    info = _info(e)
    return None if info is None else info[3]


def _ordinary_term(t) -> bool:
    """_ordinary for a term of a sum, the term itself included."""
    if t.is_Atom:
        return t.is_Rational or t.is_Symbol and not _symbol_is_zero(t)
    return _ordinary(t)


def _shape_of(terms) -> tuple | None:
    """(factors per term, common coefficient or None) when every term is a product of that many factors led
    by one coefficient (or by none), else None."""
    first = terms[0]
    if not first.is_Mul:
        # single factors (symbols, powers, calls): scaled, each is (r, factor), ordered as the factors are
        if all(not t.is_Mul and (t.is_Symbol or t.is_Pow or t.is_Function) for t in terms):
            return 1, None
        return None
    n = len(first.args)
    c = first.args[0] if first.args[0].is_Rational else None
    for t in terms:
        if not t.is_Mul or len(t.args) != n:
            return None
        lead = t.args[0]
        if c is None:
            if lead.is_Number:
                return None
        elif lead != c:
            return None
    return n, c


def add(*xs):
    """Add(*xs), evaluated. When no two terms collect (they differ apart from rational coefficients): the terms
    in sympy's order with the rational constant first, as Add.flatten leaves them."""
    if not _evaluating():
        return _Add(*xs)
    known = _info(xs[0]) if len(xs) > 1 and xs[0].is_Add else None
    if known is not None:
        return _extended(known, xs)
    return _add_terms(xs)


def _add_terms(xs):
    terms: list = []
    const = S.Zero
    for x in xs:
        if x.is_Add:
            args = x.args
            if args[0].is_Rational:
                const += args[0]
                args = args[1:]
            terms.extend(args)
        elif x.is_Rational:
            const += x
        else:
            terms.append(x)
    if len(terms) < 2 or not _plain(terms):
        return _Add(*xs)
    seen = set()
    for t in terms:
        k = _term_key(t)
        if k is None or k in seen:
            return _Add(*xs)
        seen.add(k)
    keys = _sort_keys(terms)
    if keys is None:
        terms.sort(key=_order)
    else:
        terms = [t for _, t in sorted(zip(keys, terms), key=lambda kt: kt[0])]
    shape = _shape_of(terms)
    if const is not S.Zero:
        terms.insert(0, const)
    result = _Add._from_args(terms, True)
    _remember(result, seen, shape)
    return result


def _extended(known, xs):
    """Add(total, *rest) for a sum built here and a few more terms: each put in its place in sympy's order
    (a binary search with Basic.compare), the sum's terms not compared again."""
    total, seen, _, symbols, ordinary = known
    rest = xs[1:]
    if len(rest) > 8 or not all(not x.is_Add and (x.is_Rational or _plain_type(type(x))) for x in rest):
        return _add_terms(xs)
    args = list(total.args)
    const = S.Zero
    if args[0].is_Rational:
        const = args.pop(0)
    new = set()
    for x in rest:
        if x.is_Rational:
            const += x
            continue
        k = _term_key(x)
        if k is None or k in seen or k in new:
            return _add_terms(xs)
        new.add(k)
        lo, hi = 0, len(args)
        while lo < hi:
            mid = (lo + hi) // 2
            if Basic.compare(args[mid], x) < 0:
                lo = mid + 1
            else:
                hi = mid
        args.insert(lo, x)
    if len(args) < 2:
        return _add_terms(xs)
    shape = _shape_of(args)
    if const is not S.Zero:
        args.insert(0, const)
    result = _Add._from_args(args, True)
    if symbols is not None:
        symbols = symbols.union(*[x.free_symbols for x in rest])
    _remember(result, seen | new, shape, symbols, ordinary and all(_ordinary_term(x) for x in rest))
    return result


# ---- sympy's order of terms, by keys -----------------------------------------------------------------------
#
# Add and Mul sort their arguments with Basic.compare: the classes first (by ordering_of_classes, else by
# name), then the number of items in the hashable contents, then the items one by one (a Basic by compare,
# anything else by < and >). _key turns that rule into a tuple Python compares the same way, in C, for the
# kinds of objects a graph is made of; sympy's compare decides for anything else.

class _NoKey(Exception):
    pass


_CLASS_KEYS: dict = {}
_SYMBOL_KEYS: dict = {}


def _class_key(t: type) -> tuple:
    k = _CLASS_KEYS.get(t)
    if k is None:
        from sympy.core.basic import ordering_of_classes

        name = t.__name__
        if name in ordering_of_classes:
            k = (ordering_of_classes.index(name), "")
        else:
            k = (len(ordering_of_classes) + 1, name)
        _CLASS_KEYS[t] = k
    return k


_ARGS_CONTENT = (Basic._hashable_content, Expr._hashable_content)      # the contents are the arguments


def _key(e) -> tuple:
    """A tuple ordered as Basic.compare orders e."""
    t = type(e)
    if t is sympy.Symbol:
        k = _SYMBOL_KEYS.get(e)
        if k is None:
            content = e._hashable_content()
            k = _SYMBOL_KEYS[e] = (_class_key(t), len(content), content)
            if len(_SYMBOL_KEYS) > 1 << 18:
                _SYMBOL_KEYS.clear()
        return k
    if e.is_Rational:
        content = e._hashable_content()
        return _class_key(t), len(content), content
    if (t is _Mul or t is _Add or t is _Pow or e.is_Function) and t._hashable_content in _ARGS_CONTENT:
        args = e.args
        return _class_key(t), len(args), tuple([_key(a) for a in args])
    raise _NoKey


def _compare(a, b) -> int:
    """Basic.compare(a, b) for two symbols."""
    if type(a) is type(b) is sympy.Symbol and a._assumptions0 == b._assumptions0:
        return (a.name > b.name) - (a.name < b.name)
    return Basic.compare(a, b)


def _sort_keys(terms: list) -> list | None:
    """Keys giving sympy's order of the terms, or None when one of them has a kind _key does not know."""
    try:
        return [_key(t) for t in terms]
    except _NoKey:
        return None


# ---- rebuilding a node with new arguments -------------------------------------------------------------------

def rebuild(e, args, evaluate: bool = True):
    """e.func(*args) (evaluate=False: e.func(*args, evaluate=False)) through the constructors above."""
    f = type(e)
    ops = _VALUE_OPS if evaluate else _WRITTEN_OPS
    if f in ops:
        return ops[f](*args)
    if f in (_PLAIN_AT if evaluate else _STANDARD):
        return (call if evaluate else ucall)(f, *args)
    return e.func(*args) if evaluate else e.func(*args, evaluate=False)


_VALUE_OPS = {_Add: add, _Mul: mul, _Pow: power}           # as sympy evaluates
_WRITTEN_OPS = {_Add: uadd, _Mul: umul, _Pow: upow}        # as written
