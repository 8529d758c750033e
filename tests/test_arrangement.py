"""Complete enumeration of activation cells (certify/patterns/arrangement.py, issue 12 item 1).

Brute-force references, independent of the enumerator: for d = 2 the cells by sorting angles
(:func:`certify.patterns.sampling.enumerate_planar`); for d = 3 every sign vector of the
hyperplane classes tested by a linear program (small n). Degenerate data: duplicate rows, zero
rows, parallel rows, a bias column, points on common lines (not in general position).
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from certify.exact import arrangement as exact_arrangement
from certify.exact.dyadic import DyadicMatrix
from certify.patterns.arrangement import describe, enumerate_cells, estimate_cells
from certify.patterns.sampling import enumerate_planar


def _set(D: np.ndarray) -> set[bytes]:
    return {D[:, p].astype(np.uint8).tobytes() for p in range(D.shape[1])}


def _exact_patterns_of(X: np.ndarray, witnesses: list[list[int]]) -> list[bytes]:
    Xd = DyadicMatrix.from_rows(X.tolist())
    zero = [not any(r) for r in Xd.rows()]
    return exact_arrangement.patterns_of_witnesses(Xd.mat, zero, witnesses)[0]


def _check_witnesses(X: np.ndarray, enum) -> None:
    """Every witness is exactly inside its cell and the cells are distinct."""
    codes = _exact_patterns_of(X, enum.witnesses)
    listed = [enum.patterns[:, p].astype(np.uint8).tobytes() for p in range(enum.count)]
    assert codes == listed
    assert len(set(codes)) == len(codes)


def _lp_cells(X: np.ndarray) -> set[bytes]:
    """Brute force: every sign vector of the distinct hyperplanes, kept when an LP finds an interior point."""
    reps, rows = [], []
    for k, x in enumerate(X):
        if not np.any(x):
            continue
        unit = x / np.linalg.norm(x)
        for i, r in enumerate(reps):
            if np.allclose(unit, r) or np.allclose(unit, -r):
                rows.append((k, i, 1 if np.allclose(unit, r) else -1))
                break
        else:
            reps.append(unit)
            rows.append((k, len(reps) - 1, 1))
    V = np.array(reps)
    h, d = V.shape
    out = set()
    for signs in product((1.0, -1.0), repeat=h):
        s = np.array(signs)
        A = np.hstack([-(s[:, None] * V), np.ones((h, 1))])
        res = linprog(np.r_[np.zeros(d), -1.0], A_ub=A, b_ub=np.zeros(h),
                      bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
        if res.status == 0 and -res.fun > 1e-9:
            pat = np.ones(len(X), np.uint8)
            for k, i, o in rows:
                pat[k] = 1 if o * s[i] > 0 else 0
            out.add(pat.tobytes())
    return out


def test_planar_cells_equal_sorted_angles() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    enum = enumerate_cells(X)
    assert enum.scheme == "count" and enum.count == 80 == estimate_cells(X)
    assert _set(enum.patterns) == _set(enumerate_planar(X))
    _check_witnesses(X, enum)


@given(st.integers(0, 10_000))
def test_planar_degenerate_equal_brute_force(seed: int) -> None:
    """d = 2 with duplicate, zero and parallel rows, and 1-D data with a bias column."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 14))
    X = rng.integers(-3, 4, (n, 2)).astype(float)
    X[rng.integers(n)] = 0.0  # a zero row
    X = np.vstack([X, X[:2], 2.5 * X[:1], -X[1:2]])  # duplicates, parallel (same and opposite)
    enum = enumerate_cells(X)
    assert enum.complete
    assert _set(enum.patterns) == _set(enumerate_planar(X))
    _check_witnesses(X, enum)
    z = rng.integers(-3, 4, n).astype(float)
    Xb = np.column_stack([np.r_[z, z[:2]], np.ones(n + 2)])  # bias column, duplicate points
    enum = enumerate_cells(Xb)
    assert enum.complete and _set(enum.patterns) == _set(enumerate_planar(Xb))


@pytest.mark.parametrize("seed", range(4))
def test_three_dim_degenerate_equal_lp_brute_force(seed: int) -> None:
    """Points of a small integer grid with a bias column: many triples on common lines."""
    rng = np.random.default_rng(seed)
    n = 9
    Z = rng.integers(-2, 3, (n, 2)).astype(float)
    X = np.column_stack([Z, np.ones(n)])
    X = np.vstack([X, X[:1], np.zeros((1, 3))])  # a duplicate and a zero row
    enum = enumerate_cells(X)
    assert enum.complete
    assert _set(enum.patterns) == _lp_cells(X)
    _check_witnesses(X, enum)


def test_general_position_three_dim_matches_lp_brute_force() -> None:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((8, 3))
    enum = enumerate_cells(X)
    assert enum.scheme == "count" and enum.count == 2 * (1 + 7 + 21)
    assert _set(enum.patterns) == _lp_cells(X)


def test_flips_method_agrees_with_rays() -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((10, 3))
    rays = enumerate_cells(X, method="rays")
    flips = enumerate_cells(X, method="flips")
    assert rays.scheme == "count" and flips.scheme == "flips"
    assert _set(rays.patterns) == _set(flips.patterns)
    assert flips.nonfacets  # some classes are not facets of some cells


def test_rank_deficient_and_trivial_arrangements() -> None:
    X = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [-1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])  # rank 2 in R^3
    enum = enumerate_cells(X)
    assert enum.arrangement.rank == 2 and enum.complete and enum.count == 4
    _check_witnesses(X, enum)
    enum = enumerate_cells(np.zeros((3, 2)))
    assert enum.count == 1 and enum.complete and enum.patterns.all()
    enum = enumerate_cells(np.array([[1.0, 1.0], [-2.0, -2.0]]))
    assert enum.count == 2 and enum.complete


def test_budget_and_interrupt_give_partial_results() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    over = enumerate_cells(X, max_cells=100)
    assert not over.complete and over.scheme == "partial" and str(describe(X).bound) in over.message

    calls = []

    def interrupt(done: int, total: int) -> None:
        calls.append((done, total))
        raise KeyboardInterrupt

    partial = enumerate_cells(X, progress=interrupt, piece_size=100)
    assert calls and partial.scheme == "partial" and "interrupted" in partial.message
    assert 0 < partial.count < describe(X).bound
    _check_witnesses(X, partial)
    timed = enumerate_cells(X, time_budget=0.0)
    assert timed.scheme == "partial" and "time budget" in timed.message


def test_region_bound_is_zaslavsky_count() -> None:
    assert exact_arrangement.region_bound(0, 0) == 1
    assert exact_arrangement.region_bound(5, 1) == 2
    assert exact_arrangement.region_bound(5, 2) == 10
    assert exact_arrangement.region_bound(200, 3) == 39802


@settings(max_examples=min(settings().max_examples, 12))
@given(st.integers(0, 10_000), st.integers(3, 6), st.booleans())
def test_count_bound_and_enumeration_match_lp_brute_force(seed: int, n: int, integer: bool) -> None:
    """proofs/global_gap.md Lemma 2 (at most 2 sum_{k<r} C(h-1, k) cells, equality in general position)
    and the completeness of the enumeration, against an LP over every sign vector (d = 3)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, (n, 3)).astype(float) if integer else rng.standard_normal((n, 3))
    brute = _lp_cells(X)
    arr = describe(X)
    assert len(brute) <= arr.bound
    if not integer:
        assert len(brute) == arr.bound  # Gaussian rows are in general position
    enum = enumerate_cells(X)
    assert enum.complete and _set(enum.patterns) == brute
