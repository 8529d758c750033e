"""Numerical diagnostics (floats, not certified): neurons near data hyperplanes.

A neuron ``j`` is *near a kink* at point ``k`` when
``|x_k^T W1_j| <= tol * ||x_k|| * ||W1_j||`` (the angle between ``W1_j`` and the hyperplane
``x_k^T u = 0`` is below about ``tol`` radians). Such neurons explain large own-pattern gaps:
the optimum of a sampled program sits on rays of its cones (theory.md §3, §7), and the stored
floats put each neuron in one of the adjacent cells.
"""

from __future__ import annotations

import numpy as np

DEFAULT_KINK_TOL = 1e-6


def near_kinks(X: np.ndarray, W1: np.ndarray, tol: float = DEFAULT_KINK_TOL) -> list[dict]:
    """Per neuron with at least one near-kink point: count, closest relative distance, points.

    ``X`` are the features (bias column included) and ``W1`` the matching first-layer weights.
    """
    xn = np.linalg.norm(X, axis=1)
    wn = np.linalg.norm(W1, axis=0)
    scale = np.outer(xn, wn)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, np.abs(X @ W1) / scale, np.inf)
    out = []
    for j in range(W1.shape[1]):
        hits = np.flatnonzero(rel[:, j] <= tol)
        if hits.size:
            out.append({"neuron": int(j), "points": int(hits.size),
                        "min_relative_distance": float(rel[hits, j].min()),
                        "point_indices": [int(k) for k in hits[:20]]})
    return out
