"""Rprop's four variants (Igel & Hüsken 2000) step by step against a plain-Python implementation written here,
Adam without bias correction against a plain loop, the substituted numbers of every shown update, and grading
naming the variant a student used."""
from __future__ import annotations

from decimal import Decimal, getcontext
from fractions import Fraction as F

import pytest
import sympy

from conftest import ROOT

from examsolve import load_spec, solve
from examsolve.errors import SolveError, SpecError
from examsolve.quantity import lookup
from examsolve.spec import parse_spec

VARIANTS = ("rprop+", "rprop-", "irprop+", "irprop-")


def plain_rprop(variant, w, grad, loss, steps, d0, up=F(6, 5), down=F(1, 2), dmin=F(1, 10**6), dmax=F(50)):
    """Igel & Hüsken (2000), figures 1-4, per weight; E is the loss at the weights before each step.
    Returns per step: (sign of g·g_prev per weight, Δ, Δw, new w)."""
    n = len(w)
    g_prev, delta, dw = [F(0)] * n, [d0] * n, [F(0)] * n
    e_prev, out = None, []
    for _ in range(steps):
        g, e = grad(w), loss(w)
        worse = e_prev is not None and e > e_prev
        signs, new = [], list(w)
        for i in range(n):
            s = g[i] * g_prev[i]
            sgn = (s > 0) - (s < 0)
            gi = g[i]
            if s > 0:
                delta[i] = min(delta[i] * up, dmax)
                dw[i] = -((gi > 0) - (gi < 0)) * delta[i]
            elif s < 0:
                delta[i] = max(delta[i] * down, dmin)
                if variant == "rprop-":
                    dw[i] = -((gi > 0) - (gi < 0)) * delta[i]
                else:
                    undo = variant == "rprop+" or (variant == "irprop+" and worse)
                    dw[i] = -dw[i] if undo else F(0)
                    gi = F(0)
            else:
                dw[i] = -((gi > 0) - (gi < 0)) * delta[i]
            new[i] = w[i] + dw[i]
            g_prev[i] = gi
            signs.append(sgn)
        out.append((signs, list(delta), list(dw), new))
        w, e_prev = new, e
    return out


def spec_text(variant, params, loss, steps, d0, extra=""):
    ps = ", ".join(f"{k}: {v}" for k, v in params.items())
    return (f"kind: optimizer\nparams: {{{ps}}}\nloss: {loss}\n"
            f"optimizer: {{type: rprop, variant: {variant}, step_init: {d0}, eta_plus: 1.2, eta_minus: 0.5}}\n"
            f"steps: {steps}\n{extra}")


def check_against_plain(variant, params, loss_text, grad, loss, steps, d0):
    names = list(params)
    want = plain_rprop(variant, [F(v) for v in params.values()], grad, loss, steps, F(d0))
    sol = solve(parse_spec(spec_text(variant, params, loss_text, steps, d0), "t.yaml"))
    rel = {1: ">0", -1: "<0", 0: "=0"}
    rows = sol.steps[-1].table.rows
    for t, (signs, delta, dw, w) in enumerate(want, 1):
        for i, p in enumerate(names):
            assert lookup(sol.quantities, f"Δ.{p}[{t}]") == delta[i], (variant, t, p)
            assert lookup(sol.quantities, f"Δw.{p}[{t}]") == dw[i], (variant, t, p)
            assert lookup(sol.quantities, f"iterates.{p}[{t}]") == w[i], (variant, t, p)
            assert rows[t - 1][2 + len(names) + i] == rel[signs[i]]      # the table's sign comparison
    return want


def test_four_variants_on_a_1d_quadratic_with_sign_changes():
    # L = (w − 0.3)², g = 2(w − 0.3), w₀ = 1, Δ₀ = 0.4: the step overshoots 0.3 at step 2 (w = 0.12)
    for v in VARIANTS:
        want = check_against_plain(v, {"w": "1"}, "(w - 0.3)**2", lambda w: [2 * (w[0] - F(3, 10))],
                                   lambda w: (w[0] - F(3, 10)) ** 2, 7, "0.4")
        assert any(s[0] < 0 for s, *_ in want)          # a sign change happened


def test_four_variants_on_a_coupled_2d_quadratic():
    # L = (w1 − 1)² + 3·w2² + w1·w2: g = (2(w1 − 1) + w2, 6·w2 + w1); w₀ = (0, 0.5), Δ₀ = 0.6
    grad = lambda w: [2 * (w[0] - 1) + w[1], 6 * w[1] + w[0]]           # noqa: E731
    loss = lambda w: (w[0] - 1) ** 2 + 3 * w[1] ** 2 + w[0] * w[1]      # noqa: E731
    finals = set()
    for v in VARIANTS:
        want = check_against_plain(v, {"w1": "0", "w2": "0.5"}, "(w1 - 1)**2 + 3*w2**2 + w1*w2", grad, loss, 8,
                                   "0.6")
        assert sum(s < 0 for signs, *_ in want for s in signs) >= 2
        finals.add(tuple(want[-1][3]))
    assert len(finals) == 4          # the four variants end in four different places


def test_the_example_by_hand_under_each_variant():
    # problems/rprop_plus.yaml: L = (w1 − 1)² + w2², w = (0, 0.5), Δ₀ = 0.6. By hand (its key's comments):
    # w2 after 4 steps is −0.16 (Rprop+), −0.13 (Rprop−), −0.1 (iRprop+), 0.2 (iRprop−); w1 is 0.96 under Rprop+
    hand = {"rprop+": F(-16, 100), "rprop-": F(-13, 100), "irprop+": F(-1, 10), "irprop-": F(1, 5)}
    for v, w2 in hand.items():
        got = plain_rprop(v, [F(0), F(1, 2)], lambda w: [2 * (w[0] - 1), 2 * w[1]],
                          lambda w: (w[0] - 1) ** 2 + w[1] ** 2, 4, F(3, 5))
        assert got[-1][3][1] == w2, v
        text = (ROOT / "problems/rprop_plus.yaml").read_text(encoding="utf-8")
        text = text.replace("variant: rprop+", f"variant: {v}").split("\nkey:")[0]
        a = {x.name: x.value for x in solve(parse_spec(text, "t.yaml")).answers}
        assert a["w2 after 4 steps"] == w2, v
    sol = solve(load_spec(str(ROOT / "problems/rprop_plus.yaml")))
    assert all(a.agrees for a in sol.answers if a.key is not None)
    assert "convention: Rprop+ with weight backtracking" in sol.steps[0].note


def test_the_default_is_irprop_minus_with_delta0_the_learning_rate():
    # no variant, no step_init: iRprop− (PyTorch's Rprop) with Δ₀ = lr = 0.4 (problems/rprop_steps.yaml's key)
    want = plain_rprop("irprop-", [F(1)], lambda w: [2 * (w[0] - F(3, 10))], lambda w: (w[0] - F(3, 10)) ** 2, 5,
                       F(2, 5))
    sol = solve(load_spec(str(ROOT / "problems/rprop_steps.yaml")))
    assert [lookup(sol.quantities, f"iterates.w[{t}]") for t in range(1, 6)] == [r[3][0] for r in want]
    assert "iRprop−" in sol.steps[0].note


def test_adam_without_bias_correction_against_a_plain_loop_and_its_rule():
    # m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², w ← w − α·m/(√v + ε) (no m̂, v̂) on L = w1² + 3·w2²
    getcontext().prec = 40
    b1, b2, lr, eps = Decimal("0.9"), Decimal("0.999"), Decimal("0.1"), Decimal("1e-8")
    w, m, v = [Decimal(1), Decimal(-2)], [Decimal(0)] * 2, [Decimal(0)] * 2
    for _ in range(3):
        g = [2 * w[0], 6 * w[1]]
        for i in range(2):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            w[i] = w[i] - lr * m[i] / (v[i].sqrt() + eps)
    # step 1 by hand: m = (0.2, −1.2), v = (0.004, 0.144), √v = (0.0632.., 0.379..): w1 = 1 − 0.1·0.2/0.0632.. ≈ 0.6838
    sol = solve(parse_spec("kind: optimizer\nparams: {w1: 1, w2: -2}\nloss: w1**2 + 3*w2**2\n"
                           "optimizer: {type: adam, lr: 0.1, bias_correction: false}\nsteps: 3\n", "t.yaml"))
    for i, p in enumerate(("w1", "w2")):
        got = Decimal(str(sympy.N(lookup(sol.quantities, f"iterates.{p}[3]"), 30)))
        assert abs(got - w[i]) < Decimal("1e-25"), (p, got, w[i])
    rule = sol.steps[0].title
    assert "m/(√v + ε)" in rule and "m̂" not in rule and "no bias correction" in rule
    assert not any("m̂" in s.title for s in sol.steps[1].substeps)


def _evaluated(e):
    """An unevaluated sympy tree, evaluated bottom-up."""
    return e if not e.args else e.func(*[_evaluated(a) for a in e.args])


@pytest.mark.parametrize("name", ["adam_two_steps.yaml", "rprop_plus.yaml", "rmsprop_steps.yaml",
                                  "adagrad_steps.yaml", "nesterov_steps.yaml"])
def test_every_shown_update_substitutes_its_numbers(name):
    sol = solve(load_spec(str(ROOT / "problems" / name)))
    lines = [s for step in sol.steps for s in step.substeps if s.value is not None and not s.title.startswith("∂L")
             and not s.title.startswith("look-ahead")]
    assert lines
    for s in lines:
        if "Δ kept" in s.title or "no move" in s.title:    # nothing is computed: Δ unchanged, Δw = 0
            continue
        assert s.substituted is not None, s.title
        # the value may be a 30-digit float (the exact form grew too large): equal to 25 digits
        diff = sympy.N(_evaluated(s.substituted) - s.value, 40)
        assert abs(diff) <= sympy.Float("1e-25") * max(1, abs(sympy.N(s.value))), (s.title, s.substituted, s.value)


@pytest.mark.parametrize("opt", ["{type: gd}", "{type: momentum, form: classic}", "{type: momentum, form: negative}",
                                 "{type: momentum, form: ema}", "{type: momentum, form: ema, bias_correction: false}",
                                 "{type: adamw, weight_decay: 0.01, eps_inside: true}"])
def test_every_rule_substitutes_its_numbers(opt):
    sol = solve(parse_spec(f"kind: optimizer\nparams: {{a: 1, b: -0.5}}\nloss: a**2 + a*b + 2*b**2\n"
                           f"optimizer: {opt}\nsteps: 2\n", "t.yaml"))
    lines = [s for step in sol.steps for s in step.substeps if s.target is not None and not s.title.startswith("∂L")]
    assert len(lines) >= 4
    for s in lines:
        assert s.substituted is not None, s.title
        assert abs(sympy.N(_evaluated(s.substituted) - s.value, 40)) <= sympy.Float("1e-25"), s.title


def test_adam_first_moment_reads_as_the_issue_writes_it():
    # m = β₁m + (1 − β₁)g = 0.9·0 + 0.1·(−2) = −0.2 at w = −1 on L = w² (g = −2)
    sol = solve(parse_spec("kind: optimizer\nparams: {w: -1}\nloss: w**2\noptimizer: {type: adam}\n", "t.yaml"))
    m = next(s for s in sol.steps[1].substeps if s.target == sympy.Symbol("m_w"))
    assert m.substituted.args == (sympy.Mul(sympy.Rational(9, 10), 0, evaluate=False),
                                  sympy.Mul(sympy.Rational(1, 10), -2, evaluate=False))
    assert m.value == sympy.Rational(-1, 5)


def test_a_key_under_another_variant_is_named():
    # the example under iRprop− gives w2 = 0.2 after 4 steps (by hand above); the problem uses Rprop+
    text = (ROOT / "problems/rprop_plus.yaml").read_text(encoding="utf-8").split("\nkey:")[0]
    a = {x.name: x for x in solve(parse_spec(text + "\nkey:\n  w2 after 4 steps: 0.2\n", "t.yaml")).answers}
    note = a["w2 after 4 steps"].key_note
    assert a["w2 after 4 steps"].agrees is False and "variant = irprop-" in note and "rprop+" in note


def test_grading_names_the_variant_a_student_used(tmp_path):
    from examsolve.grading import grade_file

    f = tmp_path / "q.yaml"
    f.write_text((ROOT / "problems/rprop_plus.yaml").read_text(encoding="utf-8").split("\nkey:")[0] + "\n",
                 encoding="utf-8")
    # −0.13 is Rprop−'s w2 after 4 steps (by hand above)
    mark = {m.name: m for m in grade_file(str(f), ["w2 after 4 steps=-0.13"]).marks}["w2 after 4 steps"]
    assert not mark.correct and "variant = rprop-" in mark.feedback


def test_table_all_shows_every_step_and_every_row():
    text = spec_text("irprop-", {"w": "1"}, "(w - 0.3)**2", 60, "0.4")
    summary = solve(parse_spec(text, "t.yaml"))
    full = solve(parse_spec(text + "table: all\n", "t.yaml"))
    assert any("Steps 4..59" in s.title for s in summary.steps)
    assert [s.title for s in full.steps[1:61]] == [f"Step {t}" for t in range(1, 61)]
    assert [r[0] for r in full.steps[-1].table.rows] == list(range(1, 61))


def test_bounds_and_symbolic_signs_are_errors_for_people():
    with pytest.raises(SpecError, match="table: all shows at most"):
        solve(parse_spec(spec_text("rprop+", {"w": "1"}, "w**2", 501, "0.1", "table: all\n"), "t.yaml"))
    with pytest.raises(SolveError, match="sign"):
        solve(parse_spec("kind: optimizer\nsymbols: [a]\nparams: {w: a}\nloss: w**2\n"
                         "optimizer: {type: rprop}\nsteps: 2\n", "t.yaml"))
