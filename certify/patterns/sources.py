"""Pattern sources (float): sampled gates, a network's patterns, cells adjacent to its neurons.

All functions return 0/1 matrices of shape (n, P) with distinct columns; :func:`union` merges
sources keeping the first occurrence, so a warm start can keep the order of an earlier set.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from certify.errors import BudgetError
from certify.patterns.sampling import patterns_of_gates, sample_gates, unique_columns

DEFAULT_NEAR_TIE = 1e-9
DEFAULT_MAX_FLIPS = 10


def gate_patterns(X: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Patterns ``1[X g >= 0]`` of ``count`` seeded Gaussian gates (duplicates removed)."""
    return patterns_of_gates(X, sample_gates(X.shape[1], count, seed))


def network_patterns(X: np.ndarray, W1: np.ndarray) -> np.ndarray:
    """The float activation patterns ``1[X W1_j >= 0]`` of a network's non-zero neurons."""
    live = np.any(W1 != 0, axis=0)
    return unique_columns((X @ W1[:, live] >= 0).astype(np.uint8))


def adjacent_patterns(X: np.ndarray, W1: np.ndarray, near_tie: float = DEFAULT_NEAR_TIE,
                      max_flips: int = DEFAULT_MAX_FLIPS) -> np.ndarray:
    """Every cell adjacent to each neuron: its pattern with any subset of near-tie signs flipped.

    A point ``k`` is a near tie of neuron ``j`` when ``|x_k^T W1_j| <= near_tie ||x_k|| ||W1_j||``
    (``x_k != 0``). Raises BudgetError when a neuron has more than ``max_flips`` near ties
    (:func:`adjacent_cells` returns a partial set instead).
    """
    patterns, limited = adjacent_cells(X, W1, near_tie, max_flips)
    if limited:
        j, ties = limited[0]
        raise BudgetError(f"neuron {j} has {ties} near ties (> max_flips = {max_flips}); "
                          f"2^{ties} adjacent cells is over budget")
    return patterns


def adjacent_cells(X: np.ndarray, W1: np.ndarray, near_tie: float = DEFAULT_NEAR_TIE,
                   max_flips: int = DEFAULT_MAX_FLIPS) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The cells adjacent to each neuron, within a budget: ``(patterns (n, P), limited)``.

    A neuron with at most ``max_flips`` near ties (as in :func:`adjacent_patterns`) contributes its
    pattern with every subset of its near-tie signs flipped (``2^t`` cells). A neuron with more
    contributes only its pattern and the ``t`` cells across one near-tie hyperplane each, and is
    listed in ``limited`` as ``(neuron, t)``: for it the set is NOT every adjacent cell.
    """
    xn = np.linalg.norm(X, axis=1)
    pre = X @ W1
    cols = []
    limited = []
    for j in range(W1.shape[1]):
        wn = np.linalg.norm(W1[:, j])
        if wn == 0:
            continue
        base = (pre[:, j] >= 0).astype(np.uint8)
        near = np.flatnonzero((np.abs(pre[:, j]) <= near_tie * xn * wn) & (xn > 0))
        largest = near.size
        if near.size > max_flips:
            limited.append((j, int(near.size)))
            largest = 1
        for size in range(largest + 1):
            for subset in combinations(near, size):
                pat = base.copy()
                pat[list(subset)] ^= 1
                cols.append(pat)
    if not cols:
        return np.zeros((X.shape[0], 0), np.uint8), limited
    return unique_columns(np.array(cols).T), limited


def union(*sources: np.ndarray) -> np.ndarray:
    """Distinct columns of all sources, in order of first appearance."""
    mats = [s for s in sources if s.size]
    if not mats:
        return np.zeros((sources[0].shape[0], 0), np.uint8)
    return unique_columns(np.hstack(mats).astype(np.uint8))
