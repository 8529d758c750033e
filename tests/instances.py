"""Small instances shared by tests: data, optimal and sampled-optimal networks."""

from __future__ import annotations

import numpy as np

from certify.convex.mapping import blocks_to_network
from certify.network import Network
from certify.patterns.sampling import enumerate_planar, patterns_of_gates, sample_gates
from certify.solve.cvxpy_reference import solve_crelu


def planar_data(n: int = 15, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2)), rng.standard_normal(n)


def gaussian_data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal(d), 0) - 0.5 * np.maximum(X @ rng.standard_normal(d), 0)
    return X, y + 0.1 * rng.standard_normal(n)


def mapped_optimum(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray) -> Network:
    """Balanced network of a high-accuracy cvxpy optimum over the patterns D."""
    blocks = solve_crelu(X, y, lam, D).blocks()
    return blocks_to_network(blocks.weights, blocks.signs)


def global_optimum_planar(X: np.ndarray, y: np.ndarray, lam: float) -> Network:
    """Global optimum for d = 2 (every pattern enumerated)."""
    return mapped_optimum(X, y, lam, enumerate_planar(X))


def sampled_patterns(X: np.ndarray, count: int, seed: int) -> np.ndarray:
    return patterns_of_gates(X, sample_gates(X.shape[1], count, seed))
