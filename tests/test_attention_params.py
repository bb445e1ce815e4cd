"""Multi-head attention parameter counts, asked alone (no Q, K, V)."""
from __future__ import annotations

import pytest
from conftest import answer, solve_text

from examsolve.errors import SpecError


def test_parameter_counts_need_no_matrices(tmp_path):
    # 4 projections of 512 × 512 plus a bias of 512 each: 4·(262144 + 512) = 1050624; heads of 512/8 = 64
    sol = solve_text(tmp_path, "kind: attention\nd_model: 512\nheads: 8\n"
                               "key: {head size: 64, multi-head parameters without bias: 1048576}\n")
    assert answer(sol, "multi-head parameters").value == 1050624
    assert answer(sol, "head size").agrees is True
    assert answer(sol, "multi-head parameters without bias").agrees is True
    assert [a.name for a in sol.answers][0] == "multi-head parameters"


def test_without_counts_the_matrices_are_still_needed(tmp_path):
    with pytest.raises(SpecError, match="give Q, K and V"):
        solve_text(tmp_path, "kind: attention\nd_model: 512\n")


@pytest.mark.parametrize("scale", ["0", "-2"])
def test_a_scale_that_is_no_positive_number_is_refused(tmp_path, scale):
    with pytest.raises(SpecError, match="is not a number > 0"):
        solve_text(tmp_path, f"kind: attention\nQ: [[1]]\nK: [[1]]\nV: [[1]]\nscale: {scale}\n")
