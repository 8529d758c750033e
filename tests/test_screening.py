"""Gap safe screening (proofs/screening.md): safety against an independent solver, paths with and
without screening agree, and the safety net re-enters a wrongly screened block."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.solve.cvxpy_reference import solve_crelu
from certify.solve.path import lam_max, solve_path
from certify.solve.screening import (
    dual_scale,
    gap_safe_mask,
    operator_norm_bounds,
    sequential_screen,
    solve_screened,
)
from certify.solve.working_set import SolverOptions, solve
from tests.instances import sampled_patterns


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


def instance(seed: int, n: int = 30, d: int = 3, P: int = 8):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d - 1)), np.ones((n, 1))])
    y = np.sin(2 * X[:, 0]) + 0.2 * rng.standard_normal(n)
    return X, y, sampled_patterns(X, P, seed)


def residual_penalty(X, y, D, U, H):
    r = y - (D * (X @ (U - H))).sum(axis=1)
    return r, float(np.linalg.norm(U, axis=0).sum() + np.linalg.norm(H, axis=0).sum())


def test_operator_norm_bounds_are_upper_bounds_and_tight():
    X, _, D = instance(3, n=25, d=4, P=6)
    norms = operator_norm_bounds(X, D)
    exact = np.array([np.linalg.norm(D[:, p][:, None] * X, 2) for p in range(D.shape[1])])
    assert np.all(norms >= exact) and np.allclose(norms, exact, rtol=1e-8)
    frobenius = np.sqrt(D.astype(float).T @ (X * X).sum(axis=1))
    assert np.all(norms <= frobenius)


def test_gap_safe_mask_formula():
    bounds = np.array([1.0, 2.0, 3.0])
    norms = np.array([1.0, 1.0, 0.0])
    # radius sqrt(2 * 0.125) = 0.5: 0.5 * b + 0.5 < 1.6 for b = 1, 2; b = 3 gives exactly 1.5 < 1.6
    assert gap_safe_mask(bounds, 0.5, norms, 0.125, 1.6).tolist() == [True, True, True]
    assert gap_safe_mask(bounds, 0.5, norms, 0.125, 1.5).tolist() == [True, False, False]
    assert dual_scale(np.ones(3), np.full(3, 2.0), 1.0, 4.0) == 0.25
    assert dual_scale(-np.ones(3), np.ones(3), 1.0, 4.0) == 0.0


@at_most(12)
@given(seed=st.integers(0, 10_000), frac=st.floats(0.05, 0.9), step=st.floats(0.5, 0.98),
       gated=st.booleans())
def test_screened_blocks_are_zero_at_the_independent_optimum(seed, frac, step, gated):
    """The rule's safety: every screened block is zero in a high-accuracy cvxpy solve."""
    X, y, D = instance(seed)
    top = lam_max(X, y, D, gated=gated)
    if top <= 0:
        return
    lam_prev = frac * top
    lam = step * lam_prev
    prev = solve(X, y, lam_prev, D, gated=gated)
    r, pen = residual_penalty(X, y, D, prev.U, prev.H)
    norms = operator_norm_bounds(X, D)
    screen = sequential_screen(X, y, D, r, pen, lam, norms, prev.faces, gated=gated)
    # also from w = 0 and from the optimum of lam itself (small gap: many blocks screened)
    here = solve(X, y, lam, D, gated=gated)
    r2, pen2 = residual_penalty(X, y, D, here.U, here.H)
    screen2 = sequential_screen(X, y, D, r2, pen2, lam, norms, here.faces, gated=gated)
    screen0 = sequential_screen(X, y, D, y, 0.0, lam, norms, None, gated=gated)
    ref = solve_crelu(X, y, lam, D, gated=gated, tol=1e-11)
    P = D.shape[1]
    W = np.concatenate([np.linalg.norm(ref.U, axis=0), np.linalg.norm(ref.H, axis=0)])[: screen.blocks.size]
    cut = 1e-6 * max(float(W.max(initial=0.0)), 1.0)
    for s in (screen, screen2, screen0):
        assert s.blocks.size == (P if gated else 2 * P)
        assert np.all(W[s.blocks] <= cut), (W[s.blocks], s.gap)
    assert screen2.fraction >= 0.0 and screen2.gap <= screen.gap + 1e-9 * (1 + screen.gap)


@pytest.mark.parametrize("gated", [False, True])
def test_paths_with_and_without_screening_agree(gated):
    X, y, D = instance(11, n=40, P=10)
    opts = SolverOptions(gap_tol=1e-9)
    plain = solve_path(X, y, D, gated=gated, count=12, ratio=1e-2, options=opts)
    scr = solve_path(X, y, D, gated=gated, count=12, ratio=1e-2, options=opts, screening=True)
    assert plain.converged and scr.converged
    assert plain.screened is None and scr.screened.shape == (12,)
    assert scr.screened[0] >= 0.5     # lam_max from w = 0: gap 0, all but the blocks attaining lam_max
    # both objectives are within their certified gaps of the same p*(lam)
    lower = np.maximum(plain.dual_values, scr.dual_values)
    assert np.all(plain.objectives >= lower - 1e-12) and np.all(scr.objectives >= lower - 1e-12)
    assert np.all(np.abs(plain.objectives - scr.objectives)
                  <= (plain.gaps + scr.gaps) * np.maximum(plain.objectives, scr.objectives) + 1e-12)
    # the reported gaps are true gaps of the full program: dual values are lower bounds of it
    for sol, lam in zip(scr.solutions, scr.lams, strict=True):
        full = solve(X, y, float(lam), D, gated=gated, options=SolverOptions(gap_tol=1e-11))
        assert sol.dual_value <= full.objective * (1 + 1e-10) + 1e-12
        assert sol.U.shape == (X.shape[1], D.shape[1])
        assert sol.faces.shape[0] == (1 if gated else 2) * D.shape[1]


def test_safety_net_reenters_a_wrongly_screened_block():
    X, y, D = instance(5, n=40, P=10)
    lam = 0.2 * lam_max(X, y, D)
    ref = solve(X, y, lam, D, options=SolverOptions(gap_tol=1e-10))
    active = sorted({int(j) % D.shape[1] for j in ref.working})
    assert active
    # a deliberately wrong (too small) gap: the rule claims blocks the optimum uses
    r, pen = residual_penalty(X, y, D, np.zeros_like(ref.U), np.zeros_like(ref.H))
    norms = operator_norm_bounds(X, D)
    wrong = sequential_screen(X, y, D, r, pen, lam, norms, gap_override=0.0)
    assert wrong.patterns[active].any()
    sol, reentered = solve_screened(X, y, lam, D, wrong.patterns, options=SolverOptions(gap_tol=1e-10))
    assert reentered.size > 0 and set(reentered.tolist()) <= set(np.flatnonzero(wrong.patterns).tolist())
    assert sol.converged
    assert abs(sol.objective - ref.objective) <= 1e-9 * ref.objective
    # an active pattern screened on its own is re-entered too
    mask = np.zeros(D.shape[1], bool)
    mask[active[0]] = True
    sol1, re1 = solve_screened(X, y, lam, D, mask, options=SolverOptions(gap_tol=1e-10))
    assert re1.tolist() == [active[0]] and sol1.converged
    assert abs(sol1.objective - ref.objective) <= 1e-9 * ref.objective
    # the correct gap screens none of the active patterns
    right = sequential_screen(X, y, D, r, pen, lam, norms)
    assert not right.patterns[active].any()


def test_rule_screens_most_blocks_near_the_optimum():
    """From the solver's own optimum (tiny gap) most inactive blocks are screened (the property test
    above is not vacuous), and none of the optimum's working blocks."""
    X, y, D = instance(0)
    lam = 0.3 * lam_max(X, y, D)
    here = solve(X, y, lam, D)
    r, pen = residual_penalty(X, y, D, here.U, here.H)
    screen = sequential_screen(X, y, D, r, pen, lam, operator_norm_bounds(X, D), here.faces)
    assert screen.fraction > 0.5
    assert not screen.blocks[sorted(here.working)].any()
