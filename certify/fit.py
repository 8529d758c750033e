"""``fit``: an optimal network over a pattern set, refined to a stationary network by default.

1. Start patterns: a given pattern set, or ``gates`` seeded Gaussian gates.
2. Solve the convex program over them and map the optimum to a balanced network
   (``refine=False`` stops here: the optimum of the *sampled* program, which is generally not
   stationary for NC, theory.md §3).
3. Refine (default): add the cells adjacent to every neuron and re-solve until no new cell
   appears (:mod:`certify.solve.refine`); the result is optimal over all cells adjacent to its
   neurons, so its own-pattern gap is tiny.

The solver is the cvxpy + Clarabel reference for now (accurate, slow: minutes for n ~ 100 with
refinement); the fast solver of issue 8 will replace it behind the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from certify.convex.mapping import blocks_to_network
from certify.network import Network
from certify.patterns.sources import gate_patterns, union
from certify.problem import Problem
from certify.solve.refine import cvxpy_solver, refine


@dataclass(frozen=True)
class FitResult:
    """Network, the pattern set it is optimal for, and the refinement record."""

    network: Network
    patterns: np.ndarray
    refined: bool
    rounds: int
    objectives: list[float]
    stationary: bool


def _to_network(W1: np.ndarray, w2: np.ndarray, bias: bool) -> Network:
    return Network(W1[:-1], w2, W1[-1]) if bias else Network(W1, w2)


def fit(problem: Problem, patterns: np.ndarray | None = None, gates: int = 50, seed: int = 0,
        refine_network: bool = True, progress: Callable[[int, float, int], None] | None = None) -> FitResult:
    """Fit a network by convex optimization over activation patterns (see module docstring).

    Parameters
    ----------
    problem : Problem
    patterns : (n, P) 0/1 start patterns, optional (default: ``gates`` seeded gates).
    gates : int, default=50
    seed : int, default=0
    refine_network : bool, default=True
    progress : optional callable ``(round, NC, number of patterns)``.
    """
    X, y, lam = problem.features, problem.y, float(problem.lam)
    D = union(np.asarray(patterns, np.uint8)) if patterns is not None else gate_patterns(X, gates, seed)
    if not refine_network:
        weights, signs = cvxpy_solver(X, y, lam, D)
        net = blocks_to_network(weights, signs, bias=problem.bias)
        return FitResult(net, D, False, 0, [], False)
    res = refine(X, y, lam, D, cvxpy_solver, progress=progress)
    net = _to_network(res.network.W1, res.network.w2, problem.bias)
    return FitResult(net, res.patterns, True, res.rounds, res.objectives, res.stationary)
