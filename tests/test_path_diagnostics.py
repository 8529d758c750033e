"""Path diagnostics (certify.path_diagnostics): numerical, checked against independent computations.

theory.md §4 (merged duplicates, p-uniqueness), §5 (pruned width = rank of the active fits), §6 and
C13/C14 of §8 (monotonicity, derivative sandwich, continuity where p-unique).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.certified_path import certify_path
from certify.cli import main
from certify.convex.mapping import Blocks
from certify.errors import InputError
from certify.path_diagnostics import (
    diagnose,
    diagnose_certified_path,
    diagnose_point,
    diagnose_regularization_path,
    network_over_scope,
    pruned_width,
)
from certify.patterns.sources import gate_patterns
from certify.report.path import path_sections
from certify.report.sections import render_page_html
from certify.solve.path import solve_path
from certify.solve.working_set import SolverOptions
from certify.testing.planted import planted_gated, planted_relu

OPTIONS = SolverOptions(gap_tol=1e-10)


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


def _instance(seed: int, n: int = 14, d: int = 3, gates: int = 8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    return X, y, gate_patterns(X, gates, seed)


def _rank_of_active_fits(X, sol) -> int:
    """Independent: numpy's rank of the unmerged active fits (duplicates are parallel columns)."""
    blocks = Blocks.from_solution(sol.U, sol.H, sol.patterns, 1e-9)
    if blocks.count == 0:
        return 0
    F = blocks.fits(X)
    F = F / np.linalg.norm(F, axis=0)
    sv = np.linalg.svd(F, compute_uv=False)
    return int(np.linalg.matrix_rank(F, tol=1e-4 * sv[0]))


@given(seed=st.integers(0, 10_000))
@at_most(6)
def test_width_is_rank_of_active_fits_and_c13_holds(seed):
    X, y, D = _instance(seed)
    path = solve_path(X, y, D, count=6, ratio=3e-2, options=OPTIONS)
    diag = diagnose_regularization_path(path, X, y)
    assert [p.lam for p in diag.points] == list(path.lams)
    for p, sol in zip(diag.points, path.solutions, strict=True):
        rank = _rank_of_active_fits(X, sol)
        assert p.width <= rank <= p.active
        if p.width_margin > 1e-2:  # the pruned fits are well conditioned: the width is the numerical rank
            assert p.width == rank  # (active may exceed it: a solver's solution need not be minimal)
        r = y - (sol.patterns * (X @ (sol.U - sol.H))).sum(axis=1)
        assert p.loss == pytest.approx(0.5 * r @ r, rel=1e-9, abs=1e-12)
        R = np.linalg.norm(sol.U, axis=0).sum() + np.linalg.norm(sol.H, axis=0).sum()
        assert p.penalty_sum == pytest.approx(R, rel=1e-12, abs=1e-15)
        assert p.objective == pytest.approx(sol.objective, rel=1e-9)
    # C13: every inequality within its derived tolerance, and the plain float trends of theory.md §6
    assert diag.c13 and diag.c13_passed, [c for c in diag.c13 if not c.passed]
    obj = np.array([p.objective for p in diag.points])
    assert np.all(np.diff(obj) <= 1e-9 * obj.max())  # lam decreasing: p* non-increasing
    # every change reported lies between adjacent grid points whose support or width differ
    for c in diag.changes:
        hi = next(p for p in diag.points if p.lam == c.lam_hi)
        lo = next(p for p in diag.points if p.lam == c.lam_lo)
        assert hi.support != lo.support or hi.width != lo.width
    assert len(diag.changes) == sum(a.support != b.support or a.width != b.width
                                    for a, b in zip(diag.points, diag.points[1:], strict=False))


def test_c13_detects_a_path_out_of_order():
    X, y, D = _instance(3)
    path = solve_path(X, y, D, count=4, ratio=1e-1, options=OPTIONS)
    sols = path.solutions[::-1]  # the solution of the smallest lam claimed at the largest
    diag = diagnose(X, y, path.lams, D, [s.U for s in sols], [s.H for s in sols], False,
                    [s.dual_value for s in sols])
    assert not diag.c13_passed
    assert any("FAILS" in line for line in diag.summary_lines())


def test_planted_entry_below_lam_max_gated():
    """Gated: lam_max = max_p ||X^T D_p y|| exactly; just below it that one block enters alone."""
    X, y, D = _instance(7, n=16, d=3, gates=10)
    norms = np.linalg.norm(X.T @ (D * y[:, None]), axis=0)
    order = np.argsort(norms)[::-1]
    top = float(norms[order[0]])
    assert norms[order[1]] < 0.99 * top  # the planted gap between the first and second entering block
    lams = [1.5 * top, 1.01 * top, 0.999 * top]
    path = solve_path(X, y, D, lams=lams, gated=True, options=OPTIONS)
    diag = diagnose_regularization_path(path, X, y)
    p0, p1, p2 = diag.points
    assert p0.support == p1.support == frozenset() and p0.width == p1.width == 0
    assert p2.support == frozenset({int(order[0])}) and p2.width == 1 and p2.unique
    assert len(diag.changes) == 1
    change = diag.changes[0]
    assert (change.lam_lo, change.lam_hi) == (lams[2], lams[1])
    assert change.entered == frozenset({int(order[0])}) and not change.left
    assert change.width_hi == 0 and change.width_lo == 1
    assert diag.unique_intervals == [(lams[2], lams[0])] and diag.nonunique == []


def test_planted_entry_below_lam_max_relu():
    """C-ReLU: the zero solution's correlation norms give lam_max; one block enters just below."""
    X, y, D = _instance(11, n=16, d=3, gates=10)
    zero = np.zeros((X.shape[1], D.shape[1]))
    _, s = diagnose_point(X, y, 1.0, D, zero, zero)
    norms = s.correlation_norms  # ||v_b|| / 1 at the zero solution, every block
    order = np.argsort(norms)[::-1]
    top = float(norms[order[0]])
    assert norms[order[1]] < 0.99 * top
    lams = [1.01 * top, 0.999 * top]
    path = solve_path(X, y, D, lams=lams, options=OPTIONS)
    diag = diagnose_regularization_path(path, X, y)
    assert diag.points[0].support == frozenset()
    entered = diag.points[1].support
    assert int(order[0]) in entered and diag.points[1].width == 1
    assert len(diag.changes) == 1 and diag.changes[0].entered == entered


def test_planted_non_unique_is_reported():
    """planted_gated: the optimal set is a segment (not p-unique); the zero solution above lam_max is."""
    inst = planted_gated(seed=1)
    lam = float(inst.lam)
    U = np.zeros((inst.X.shape[1], inst.D.shape[1]))
    for (p, _s), v, a in zip(inst.blocks, inst.v, inst.alpha0, strict=True):
        U[:, p] += float(a) * np.array([float(t) for t in v])
    norms = np.linalg.norm(inst.X.T @ (inst.D * inst.y[:, None]), axis=0)
    big = 2.0 * float(norms.max())
    diag = diagnose(inst.X, inst.y, [big, lam], inst.D, [np.zeros_like(U), U], [np.zeros_like(U)] * 2,
                    gated=True)
    assert diag.points[0].unique and not diag.points[1].unique
    assert diag.nonunique == [lam] and diag.unique_intervals == []
    assert diag.points[1].uniqueness_margin < 1e-4  # below rank_tol: the stated verdict's margin
    assert any("p-uniqueness fails" in line for line in diag.summary_lines())


def test_pruned_width_on_a_planted_segment():
    """planted_gated: fits c_A + c_B = c_AB + c_0; at the segment's midpoint four blocks are active,
    their fits have rank 3, and Algorithm 1 reaches a vertex (two blocks: a tie removes two at once)."""
    inst = planted_gated(seed=2)
    lam = float(inst.lam)
    U = np.zeros((inst.X.shape[1], inst.D.shape[1]))
    for (p, _s), v in zip(inst.blocks, inst.v, strict=True):
        U[:, p] += 0.5 * np.array([float(t) for t in v])  # midpoint of the vertices (1,1,0,0), (0,0,1,1)
    point, s = diagnose_point(inst.X, inst.y, lam, inst.D, U, np.zeros_like(U), gated=True)
    F = np.array([[float(c) for c in col] for col in inst.columns]).T
    assert np.linalg.matrix_rank(F) == 3 and point.active == 4
    assert point.width == 2 == min(sum(1 for a in v if a) for v in inst.merged_vertices)
    assert not point.unique
    fits = F[:, :1]  # a single column: nothing to prune
    assert pruned_width(fits, np.ones(1)) == (1, 1.0)
    assert pruned_width(np.hstack([fits, 2 * fits]), np.ones(2))[0] == 1  # parallel: one survives


def test_planted_duplicates_merge_to_unique():
    """planted_relu: 2^ties duplicate blocks; after merging p-unique with width 1 (theory.md §4)."""
    inst = planted_relu(seed=0)
    U = np.zeros((inst.X.shape[1], inst.D.shape[1]))
    (p, _s), v, a = inst.blocks[0], inst.v[0], inst.alpha0[0]
    U[:, p] = float(a) * np.array([float(t) for t in v])
    point, s = diagnose_point(inst.X, inst.y, float(inst.lam), inst.D, U, np.zeros_like(U))
    assert len(s.equicorrelation) > 1  # duplicates present before merging
    assert point.unique and point.support_groups == 1 and point.width == 1 and point.active == 1


def test_network_over_scope_keeps_the_fit():
    X, y, D = _instance(5)
    path = solve_path(X, y, D, count=3, ratio=1e-1, options=OPTIONS)
    net = path.networks()[-1]
    Dk, U, H = network_over_scope(X, D, net.W1, net.w2)
    assert Dk.shape == D.shape  # every neuron of a scope solution lies in a cone of the scope
    fit = (Dk * (X @ (U - H))).sum(axis=1)
    assert np.allclose(fit, net.predict(X), atol=1e-10)
    # a scope without the neurons' patterns is widened by their own patterns, the fit still kept
    empty = np.zeros((X.shape[0], 1), np.uint8)
    pats = {tuple((X @ net.W1[:, j] >= 0).astype(int)) for j in range(net.width)}
    empty[:, 0] = 1 - np.array(next(iter(pats)), np.uint8)  # the complement of one neuron's pattern
    Dw, U, H = network_over_scope(X, empty, net.W1, net.w2)
    assert Dw.shape[1] > 1
    assert np.allclose((Dw * (X @ (U - H))).sum(axis=1), net.predict(X), atol=1e-10)


def test_inputs_rejected():
    X, y, D = _instance(0)
    Z = np.zeros((X.shape[1], D.shape[1]))
    with pytest.raises(InputError):
        diagnose(X, y, [1.0, 2.0], D, [Z, Z], [Z, Z])
    with pytest.raises(InputError):
        diagnose(X, y, [2.0, 1.0], D, [Z], [Z, Z])


def test_certified_path_diagnostics_report_and_cli(tmp_path, capsys):
    X, y, D = _instance(2, n=12, d=2, gates=6)
    result = certify_path(X, y, D, "0.1", "3", "1e-3", relative=True, options=OPTIONS)
    diag = diagnose_certified_path(result, X, y, D)
    assert len(diag.points) == result.points and diag.c13_passed
    for p, e, low in zip(diag.points, result.entries, result.lower, strict=True):
        assert p.lower == float(low) and p.objective == pytest.approx(float(e.upper(e.lam)), rel=1e-9)
    page = render_page_html("path", result.document, None, path_sections(result, None, diag))
    assert "Active-set changes" in page and "Width against lam" in page
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 3  # band, support, width

    np.savez(tmp_path / "d.npz", X=X, y=y)
    np.savez(tmp_path / "p.npz", D=D)
    rc = main(["path", "--data", str(tmp_path / "d.npz"), "--patterns", str(tmp_path / "p.npz"),
               "--lam-min", "0.1", "--lam-max", "3", "--eps", "1e-3", "--relative", "--diagnostics",
               "-o", str(tmp_path / "c.json"), "--report", str(tmp_path / "r.html")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "path diagnostics" in out and "C13" in out and "change in" in out
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Where the support changes" in html and "ACCEPTED" in html
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 3
