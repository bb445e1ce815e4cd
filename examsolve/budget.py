"""One resource budget per run: time, size of numbers, size of expressions, memory.

Time: `start(time_limit)` sets a deadline for the whole run. The loops that can run long (the
engine's forward and backward passes, variant draws, statement filling, grading, drawing) call
`check(what)`, which raises BudgetError once the deadline has passed; on the main thread a timer
signal (SIGALRM, `signal.setitimer`) raises it from wherever sympy is stuck. `stop()` disarms it
and restores what was there before; `limits(...)` does both around a block.

Numbers: `check_number(value)` refuses exp, sin, tanh ... of a number with more than MAX_DIGITS
digits (exp(exp(exp(20))): evaluating it needs that many digits of precision) and any number with
more than MAX_MAGNITUDE digits even as a float (9**9**9**9), by estimating log10|value| from the
expression tree with floats, before anything is computed; `check_call(node, args)` does the same
for a power or function about to be built. These guards hold with or without `start()`.

Memory: on systems with RLIMIT_AS (Linux), `start()` lowers the soft address-space limit to
what the process uses plus `memory_mb` (default 2 GiB), so a runaway allocation raises
MemoryError instead of exhausting the machine; `translate(err)` turns that into a BudgetError.

Every BudgetError is a SolveError (exit status 1) with a one-line message that says what was too
big and how to change it. This module imports no sympy at import time (the CLI imports it).
"""
from __future__ import annotations

import math
import os
import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

from examsolve.errors import Loc, SolveError, SpecError

DEFAULT_TIME_LIMIT = 60.0     # seconds for one run, unless --time-limit or EXAMSOLVE_TIME_LIMIT says otherwise
DEFAULT_MEMORY_MB = 2048      # address space allowed on top of what the process uses at start()
MAX_DIGITS = 20_000           # digits of a number given to exp, sin, tanh ... (as expr.MAX_RESULT_DIGITS)
MAX_MAGNITUDE = 1_000_000_000  # digits of any number, even as a float (10**(10**8) is a fine float)
MAX_EXPR_NODES = 200_000      # nodes of one expression tree
TIME_ENV = "EXAMSOLVE_TIME_LIMIT"      # seconds; the default of start(); 0 means no time limit
MEMORY_ENV = "EXAMSOLVE_MEMORY_LIMIT"  # MiB; 0 means no memory limit
_REPEAT = 2.0                 # after the deadline, the timer fires again this often until stop()
_LOG10_2 = math.log10(2)
_LOG10_E = math.log10(math.e)


class BudgetError(SolveError):
    """The run went past its budget: time, number size, expression size or memory (exit 1).

    `kind` is "time", "memory", "number" or "size": a caller that reads untrusted values (a
    student's answer) may treat "number" and "size" as a bad value and must let the others through.
    """

    def __init__(self, message: str, loc: Loc | None = None, kind: str = "time"):
        super().__init__(message, loc)
        self.kind = kind


class _State:
    def __init__(self) -> None:
        self.active = False
        self.limit: float | None = None          # seconds allowed, None when unlimited
        self.deadline: float | None = None       # time.monotonic() value
        self.expired = False
        self.what = ""                           # what the run was doing at the last check()
        self.loc: Loc | None = None              # and where in the spec, when known
        self.alarm = False                       # our SIGALRM handler is installed
        self.old_handler: Any = None
        self.old_rlimit: tuple | None = None
        self.memory_mb: int | None = None
        self.calls = 0
        self.repeat_at = 0.0                     # after the deadline: when the timer fires again
        self.sections: list = []                 # [end, seconds, what] of each section() in force


_state = _State()


# ---- time ---------------------------------------------------------------------------------

def default_time_limit() -> float | None:
    """EXAMSOLVE_TIME_LIMIT in seconds (0 or 'none': no limit), else DEFAULT_TIME_LIMIT."""
    return _env_number(TIME_ENV, DEFAULT_TIME_LIMIT)


def default_memory_mb() -> int | None:
    """EXAMSOLVE_MEMORY_LIMIT in MiB (0 or 'none': no limit), else DEFAULT_MEMORY_MB."""
    v = _env_number(MEMORY_ENV, DEFAULT_MEMORY_MB)
    return None if v is None else int(v)


def _env_number(name: str, default: float) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in ("none", "off", "inf", "0"):
        return None
    try:
        v = float(raw)
    except ValueError:
        raise SpecError(f"{name}={raw!r} is not a number of seconds or MiB; e.g. {name}=30") from None
    if not math.isfinite(v) or v < 0:
        raise SpecError(f"{name}={raw!r} must be a number ≥ 0 (0: no limit)")
    return v or None


def start(time_limit: float | None = None, memory_mb: int | None | str = "default") -> None:
    """Start the run's budget (a second start replaces the first); SpecError (exit 2) for a bad limit.

    time_limit: seconds for the whole run; None takes EXAMSOLVE_TIME_LIMIT, else 60 s; 0 or inf:
    no time limit. memory_mb: address space allowed on top of the current use; "default" takes
    EXAMSOLVE_MEMORY_LIMIT, else 2048; None or 0: leave the memory limit alone.
    """
    stop()
    if time_limit is None:
        time_limit = default_time_limit()
    elif not isinstance(time_limit, (int, float)) or math.isnan(time_limit) or time_limit < 0:
        raise SpecError(f"--time-limit {time_limit!r} is not a number of seconds ≥ 0 (0: no limit)")
    if time_limit is not None and (time_limit == 0 or math.isinf(time_limit)):
        time_limit = None
    if memory_mb == "default":
        memory_mb = default_memory_mb()
    st = _state
    st.active, st.expired, st.what, st.loc, st.calls = True, False, "", None, 0
    st.limit = None if time_limit is None else float(time_limit)
    st.deadline = None if st.limit is None else time.monotonic() + st.limit
    if st.deadline is not None and _install_handler():
        _arm()
    if memory_mb:
        _limit_memory(int(memory_mb))


def stop() -> None:
    """End the budget: the timer disarmed, the previous signal handler and memory limit restored."""
    st = _state
    if st.alarm and not st.sections:
        _uninstall_handler()
    if st.old_rlimit is not None:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, st.old_rlimit)
        except (ImportError, ValueError, OSError):   # pragma: no cover
            pass
        st.old_rlimit = None
    st.active, st.limit, st.deadline, st.expired, st.memory_mb = False, None, None, False, None


@contextmanager
def section(seconds: float, what: str) -> Iterator[None]:
    """A part of the run allowed at most `seconds` (sympy's solve and eigenvalues have no bound of their own).

    SolveError "{what} did not finish within {seconds} s" when it runs longer; BudgetError when the run's
    deadline comes first. It shares the one timer with the run's budget (signal.alarm would clear that),
    and works without start() too. Off the main thread the block just runs.
    """
    st = _state
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    installed = not st.alarm and _install_handler()
    entry = [time.monotonic() + seconds, seconds, what]
    st.sections.append(entry)
    _arm()
    try:
        yield
    finally:
        st.sections.remove(entry)
        if installed:
            _uninstall_handler()
        else:
            _arm()


@contextmanager
def limits(time_limit: float | None = None, memory_mb: int | None | str = "default") -> Iterator[None]:
    """`start(...)` for the block, then `stop()`; a MemoryError inside comes out as a BudgetError."""
    start(time_limit, memory_mb)
    try:
        yield
    except MemoryError as err:
        raise translate(err) from None
    finally:
        stop()


def remaining() -> float | None:
    """Seconds left before the deadline (0 when past it), None without a time limit."""
    if _state.deadline is None:
        return None
    return max(0.0, _state.deadline - time.monotonic())


def check(what: str = "", loc: Loc | None = None) -> None:
    """Raise BudgetError when the run is past its deadline; `what` (and loc) name the current work.

    Cheap (a clock read): call it once per node, per draw, per answer.
    """
    st = _state
    st.what, st.loc = what, loc
    if st.deadline is None:
        return
    if st.expired or time.monotonic() >= st.deadline:
        st.expired = True
        raise BudgetError(_time_message(), kind="time")
    st.calls += 1
    if st.alarm and st.calls % 64 == 0:
        _rearm()


def _time_message() -> str:
    during = f", stopped in {_state.what}" if _state.what else ""
    return (f"the run took longer than {_state.limit:g} s (--time-limit){during}; make the problem smaller "
            "or allow more time")


def _install_handler() -> bool:
    """Our SIGALRM handler, only on the main thread of a system that has setitimer; True when installed."""
    st = _state
    if st.alarm:
        return True
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return False
    try:
        st.old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    except (ValueError, OSError):   # pragma: no cover - e.g. an embedded interpreter
        return False
    st.alarm = True
    return True


def _uninstall_handler() -> None:
    st = _state
    try:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, st.old_handler if st.old_handler is not None else signal.SIG_DFL)
    except (ValueError, OSError):   # pragma: no cover - not the main thread any more
        pass
    st.alarm, st.old_handler = False, None


def _arm() -> None:
    """The timer set to the next moment something ends: the run's deadline or a section's."""
    st = _state
    if not st.alarm:
        return
    ends = [e[0] for e in st.sections if e[0] != math.inf]
    if st.active and st.deadline is not None:
        ends.append(st.repeat_at if st.expired else st.deadline)
    try:
        signal.setitimer(signal.ITIMER_REAL, max(min(ends) - time.monotonic(), 0.001) if ends else 0)
    except (ValueError, OSError):   # pragma: no cover - not the main thread
        pass


def _rearm() -> None:
    """Arm the timer again if someone else's signal.alarm cleared it."""
    try:
        if signal.getsignal(signal.SIGALRM) is _on_alarm and signal.getitimer(signal.ITIMER_REAL)[0] == 0:
            _arm()
    except (ValueError, OSError):   # pragma: no cover - not the main thread
        pass


def _on_alarm(signum, frame) -> None:
    st = _state
    now = time.monotonic()
    run_over = st.active and st.deadline is not None and now >= st.deadline - 0.005
    section = next((e for e in st.sections if now >= e[0] - 0.005), None)
    if not run_over and section is None:
        _arm()                       # early (a timer re-armed by someone): wait for the rest
        return
    if _importing(frame):            # never inside an import (a half-made module stays broken): just after it
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return
    if run_over:
        st.expired = True
        st.repeat_at = now + _REPEAT     # once more later, should the error be caught and the work go on
        _arm()
        raise BudgetError(_time_message(), kind="time")
    section[0] = math.inf            # reported once; the section's end re-arms the run's timer
    _arm()
    raise SolveError(f"{section[2]} did not finish within {section[1]:g} s; simplify the problem")


def _importing(frame) -> bool:
    """True when the interrupted code runs inside an import statement."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


# ---- memory -------------------------------------------------------------------------------

def _limit_memory(mb: int) -> None:
    """A soft RLIMIT_AS of the current use plus mb MiB, where the system has it (not macOS: it ignores it)."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = _address_space() + mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft != resource.RLIM_INFINITY and soft <= want:
            return                  # already as tight: leave it
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ImportError, ValueError, OSError):   # pragma: no cover
        return
    _state.old_rlimit = (soft, hard)
    _state.memory_mb = mb


def _address_space() -> int:
    """Bytes of address space the process uses now (Linux: /proc/self/statm)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):   # pragma: no cover
        return 0


def memory_error() -> BudgetError:
    """The BudgetError for running out of memory."""
    during = f" in {_state.what}" if _state.what else ""
    if _state.memory_mb:
        return BudgetError(f"the run needed more than {_state.memory_mb} MiB of memory{during}; make the problem "
                           f"smaller (or raise {MEMORY_ENV}, in MiB)", kind="memory")
    return BudgetError(f"the run ran out of memory{during}; make the problem smaller", kind="memory")


def translate(err: BaseException) -> BaseException:
    """The error to report for err: MemoryError becomes a BudgetError; anything else is returned as it is."""
    if isinstance(err, MemoryError):
        return memory_error()
    return err


# ---- size of numbers ----------------------------------------------------------------------

def check_number(value: Any, what: str = "") -> Any:
    """value itself; BudgetError when it holds a number too large to compute with.

    Nothing is evaluated: log10|x| is estimated from the tree with floats (a sum is as large as its
    largest term, a product adds, x**y multiplies by y, exp(y) is y·log10(e)). Refused: a function
    such as exp, sin or tanh of a number with more than MAX_DIGITS digits (evaluating it needs that
    many digits of precision: exp(exp(exp(20)))), and any number, even as a float, with more than
    MAX_MAGNITUDE digits (9**9**9**9). Large exact values are not refused: they become floats.
    """
    from examsolve.tensor import Tensor

    try:
        if isinstance(value, Tensor):
            memo: dict = {}
            for item in value.items:
                if _is_basic(item):
                    _walk(item, memo, what)
        elif _is_basic(value):
            _walk(value, {}, what)
    except RecursionError:       # a tree too deep to walk: sympy will say so itself
        pass
    return value


def digits(value: Any) -> float | None:
    """An estimate of log10|value| (None when value holds symbols); BudgetError as check_number."""
    return _walk(value, {}, "") if _is_basic(value) else None


def check_call(node: Any, args: Any, what: str = "") -> None:
    """Before node.func(*args) is built from new args (engine.substitute): the checks of
    check_number for a power or function of those arguments."""
    s = _sympy()
    if not isinstance(node, (s.Pow, s.Function)):
        return
    memo: dict = {}
    mags = [_walk(a, memo, what) if _is_basic(a) else None for a in args]
    _check_node(node.func, args, mags, lambda: _build_for_message(node, args), what)


def check_size(expr: Any, what: str, limit: int = MAX_EXPR_NODES,
               hint: str = "split it into smaller equations") -> Any:
    """expr itself; BudgetError when its tree has more than `limit` nodes (stops counting there)."""
    if not _is_basic(expr):
        return expr
    count, stack = 0, [expr]
    while stack:
        e = stack.pop()
        count += 1
        if count > limit:
            raise BudgetError(f"{what} has more than {limit} terms and operations; {hint}", _state.loc,
                              kind="size")
        stack.extend(e.args)
    return expr


_SYMPY: Any = None


def _sympy():
    global _SYMPY
    if _SYMPY is None:
        import sympy

        _SYMPY = sympy
    return _SYMPY


def _is_basic(v: Any) -> bool:
    return isinstance(v, _sympy().Basic)


def _ilog10(n: int) -> float:
    n = abs(n)
    if n == 0:
        return -math.inf
    b = n.bit_length()
    if b <= 1000:
        return math.log10(n)
    return math.log10(n >> (b - 64)) + (b - 64) * _LOG10_2


def _walk(e: Any, memo: dict, what: str) -> float | None:
    """Estimated log10|e| of a number tree, None when unknown (symbols); BudgetError as check_number."""
    key = id(e)
    hit = memo.get(key)
    if hit is not None:
        return hit[0]
    s = _sympy()
    mag: float | None
    if e.is_Number:
        if e.is_Rational:
            mag = _ilog10(e.p) - _ilog10(e.q)
        elif e.is_Float:
            _, man, exp, bc = e._mpf_
            mag = (exp + bc) * _LOG10_2 if man else (-math.inf if e.is_zero else None)
        else:                    # oo, -oo, zoo, nan
            mag = None
    elif e.is_NumberSymbol:
        mag = math.log10(float(e))
    elif e is s.I:
        mag = 0.0
    elif not e.args:
        mag = None               # a symbol: unknown
    else:
        mags = [_walk(a, memo, what) for a in e.args]
        mag = _check_node(e.func, e.args, mags, lambda: e, what)
    memo[key] = (mag, e)         # e kept alive, so its id is not reused within this walk
    return mag


def _check_node(func: Any, args: Any, mags: list, shown, what: str) -> float | None:
    """log10|func(*args)| from the arguments' estimates; BudgetError when it is too large to compute."""
    name = getattr(func, "__name__", "")
    if name in _PRECISION_HUNGRY and mags and mags[0] is not None and mags[0] > MAX_DIGITS:
        raise _too_big(shown(), what, MAX_DIGITS)
    mag = _combine(func, args, mags)
    if mag is not None and (mag > MAX_MAGNITUDE or -math.inf < mag < -MAX_MAGNITUDE or math.isnan(mag)):
        raise _too_big(shown(), what, MAX_MAGNITUDE)
    return mag


# a function of x needs about log10|x| digits of precision to be evaluated (exp, and x mod 2π)
_PRECISION_HUNGRY = ("exp", "sin", "cos", "tan", "cot", "sec", "csc", "tanh", "sinh", "cosh", "coth",
                     "sigmoid", "softplus", "erf", "atan")
_BOUNDED = ("sin", "cos", "tanh", "atan", "sigmoid", "sign", "Heaviside", "erf", "asin", "acos")


def _combine(func: Any, args: tuple, mags: list) -> float | None:
    """log10|func(*args)| from the estimates of the arguments."""
    s = _sympy()
    known = [m for m in mags if m is not None]
    if func is s.Add:
        return max(known) if known else None
    if func is s.Mul:
        return sum(known) if known else None
    if func is s.Pow:
        base, power = mags
        if base is None or base == -math.inf:
            return None
        if base == 0:
            return 0.0
        v = _approx(args[1], power)
        return None if v is None else base * v
    name = getattr(func, "__name__", "")
    if name == "exp":
        v = _approx(args[0], mags[0])
        return None if v is None else v * _LOG10_E
    if name in ("sinh", "cosh"):
        v = _approx(args[0], mags[0])
        return None if v is None else abs(v) * _LOG10_E
    if name == "log":
        m = mags[0]
        if m is None:
            return None
        if math.isinf(m):
            return None          # log(0)
        return math.log10(abs(m) / _LOG10_E) if abs(m) > 1 else 0.0
    if name in _BOUNDED:
        return 0.0
    return max(known) if known else None


def _approx(x: Any, mag: float | None) -> float | None:
    """A signed float near x, from its estimate (±inf when too large for a float)."""
    if mag is None:
        return None
    if mag == -math.inf:
        return 0.0
    negative = False
    if x.is_Rational:
        negative = x.p < 0
    elif x.is_Float:
        negative = x._mpf_[0] == 1
    else:
        try:
            negative = bool(x.could_extract_minus_sign())
        except Exception:  # noqa: BLE001 - only a sign hint
            negative = False
    if mag > 300:
        return -math.inf if negative else math.inf
    if x.is_Rational or x.is_Float:
        return float(x)
    return -(10.0 ** mag) if negative else 10.0 ** mag


def _too_big(e: Any, what: str, limit: int) -> BudgetError:
    where = f" in {what}" if what else ""
    return BudgetError(f"a number with more than {limit} digits{where}: {_short(e)}; use smaller values",
                       _state.loc, kind="number")


def _build_for_message(node: Any, args: Any) -> Any:
    """node.func(*args) unevaluated, for the message only."""
    try:
        return node.func(*args, evaluate=False)
    except Exception:  # noqa: BLE001 - the message falls back to the original node
        return node


def _short(e: Any, width: int = 60) -> str:
    """A short text of an expression: sympy's form when small, else its head and size."""
    count, stack = 0, [e]
    while stack and count <= 200:
        count += 1
        stack.extend(stack.pop().args)
    if count > 200:
        return f"an expression of type {type(e).__name__} with more than 200 parts"
    s = _sympy()
    if e.is_Rational and max(_ilog10(e.p), _ilog10(e.q)) > 40:
        return f"a {int(max(_ilog10(e.p), _ilog10(e.q))) + 1}-digit number"
    if e.is_Float:
        return s.sstr(s.Float(e, 6))
    text = s.sstr(e)
    return text if len(text) <= width else text[:width - 1] + "…"
