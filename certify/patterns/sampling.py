"""Float pattern sources: sampled gates, a network's patterns, planar enumeration (d = 2).

These are tools to *find* pattern sets; the certificate records the exact patterns used.
"""

from __future__ import annotations

import numpy as np


def patterns_of_gates(X: np.ndarray, G: np.ndarray) -> np.ndarray:
    """0/1 patterns ``1[X g >= 0]`` (n, P) in floats, duplicates removed (first kept)."""
    return unique_columns((X @ G >= 0).astype(np.uint8))


def sample_gates(d: int, count: int, seed: int = 0) -> np.ndarray:
    """``count`` seeded Gaussian gate vectors (d, count)."""
    return np.random.default_rng(seed).standard_normal((d, count))


def unique_columns(D: np.ndarray) -> np.ndarray:
    """Distinct columns of a 0/1 matrix, in order of first appearance."""
    seen: dict[bytes, None] = {}
    keep = []
    for p in range(D.shape[1]):
        key = D[:, p].tobytes()
        if key not in seen:
            seen[key] = None
            keep.append(p)
    return D[:, keep]


def enumerate_planar(X: np.ndarray) -> np.ndarray:
    """Every full-dimensional activation pattern of a central arrangement in R^2.

    The lines ``x_k^T u = 0`` cut the circle at angles ``phi_k +- pi/2``; one direction
    strictly between consecutive cut angles lies in each 2-dimensional cell. Float
    arithmetic; meant for tests and small examples (d = 2 only).
    """
    if X.shape[1] != 2:
        raise ValueError(f"enumerate_planar needs d = 2, got d = {X.shape[1]}")
    live = np.linalg.norm(X, axis=1) > 0
    phi = np.arctan2(X[live, 1], X[live, 0])
    cuts = np.mod(np.concatenate([phi + np.pi / 2, phi - np.pi / 2]), 2 * np.pi)
    cuts = np.unique(np.round(cuts, 12))
    if cuts.size == 0:
        mids = np.array([0.0])
    else:
        nxt = np.concatenate([cuts[1:], [cuts[0] + 2 * np.pi]])
        mids = (cuts + nxt) / 2
    G = np.vstack([np.cos(mids), np.sin(mids)])
    return patterns_of_gates(X, G)
