"""The cyclic garbage collector around a solve: on for the young generations, the caller's settings kept."""
from __future__ import annotations

import contextlib
import gc

import sympy

from examsolve import engine, solve
from examsolve.expr import symbol
from examsolve.graph import building
from examsolve.spec import parse_spec

# a scalar tanh RNN over 40 steps: enough allocation for many young collections, small enough to be quick
XS = [((t * 7) % 5 - 2) / 4 for t in range(40)]
RNN = (f"kind: rnn\ngiven: {{V: 0.5, W: -0.25}}\nsequences: {{x: {XS}}}\ninitial: 0.1\n"
       "cell: tanh(V*h + W*x)\nloss: {each: h**2, steps: last}\nask:\n  - grad: {of: L, wrt: [V, W]}\n")


@contextlib.contextmanager
def collections_seen():
    """The generations of the collections that start inside the block (gc.callbacks)."""
    seen: list[int] = []

    def note(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)


@contextlib.contextmanager
def gc_settings(thresholds: tuple[int, int, int], enabled: bool):
    """The collector set as a caller might have it, put back as it was afterwards."""
    was, saved = gc.isenabled(), gc.get_threshold()
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        (gc.enable if was else gc.disable)()


def test_solve_leaves_the_collector_as_it_found_it():
    spec = parse_spec(RNN, "rnn.yaml")
    for thresholds, enabled in (((700, 10, 10), True), ((500, 7, 3), True), ((700, 10, 10), False)):
        with gc_settings(thresholds, enabled):
            solve(spec)
            assert gc.isenabled() is enabled
            assert gc.get_threshold() == thresholds


class Cycle:
    """An object that refers to itself: only the cyclic collector frees it."""

    def __init__(self):
        self.me = self


def churn(kept: list, n: int) -> None:
    """n objects kept alive (a growing graph, as building makes) and n cycles dropped at once."""
    for i in range(n):
        kept.append([i])
        Cycle()


def test_building_collects_young_cycles_and_defers_full_collections():
    with gc_settings((100, 1, 1), True):
        gc.collect()
        # a full collection waits until a quarter of the live objects are new: keep more than that
        n = max(100_000, len(gc.get_objects()) // 2)
        with collections_seen() as control:
            churn([], n)
        assert 2 in control                   # the same work outside building() gets full collections
        gc.collect()
        kept: list = []
        with building(), collections_seen() as seen:
            churn(kept, n)
        left = gc.collect()                   # the cycles still waiting for a collection
    assert seen and 2 not in seen             # a full collection would walk the whole growing graph again
    assert left < 1000 < n                    # the young collections freed the cycles along the way


def test_substitute_makes_no_reference_cycles():
    x, y = symbol("x"), symbol("y")
    e = sympy.tanh(x * y + sympy.exp(-x)) ** 2 + sympy.Piecewise((x, x > y), (y, True))
    calls = 100
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for k in range(calls):
            # each call its own numbers, so that no call is answered from sympy's cache alone
            engine.substitute(e, {x: sympy.Rational(k, 7), y: sympy.Integer(k % 5)}, evaluate=k % 2 == 0)
        left = gc.collect()
    finally:
        if was:
            gc.enable()
    assert left < calls          # a cycle per call (the recursive closure and its memo) left a dozen objects each
