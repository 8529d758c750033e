"""``fit``: an optimal network over a pattern set, refined to a stationary network by default.

1. Start patterns: a given pattern set, or ``gates`` seeded Gaussian gates.
2. Solve the convex program over them and map the optimum to a balanced network
   (``refine=False`` stops here: the optimum of the *sampled* program, which is generally not
   stationary for NC, theory.md §3).
3. Refine (default): add the cells adjacent to every neuron and re-solve until no new cell
   appears (:mod:`certify.solve.refine`); the result is optimal over all cells adjacent to its
   neurons, so its own-pattern gap is tiny.

Solvers: ``"fast"`` (default), the working-set solver (:mod:`certify.solve.working_set`),
warm-started from round to round; ``"cvxpy"``, the cvxpy + Clarabel reference (one cold
interior-point solve per round; slow). With ``"fast"``, a solve that neither converges nor stalls
within ``accept_gap`` falls back to the reference for that round (recorded in ``fallbacks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from certify.convex.mapping import blocks_to_network
from certify.errors import InputError, SolverError
from certify.network import Network
from certify.patterns.sources import DEFAULT_MAX_FLIPS, gate_patterns, union
from certify.problem import Problem
from certify.solve.refine import FastSolver, Solver, cvxpy_solver, refine

SOLVERS = ("fast", "cvxpy")


@dataclass(frozen=True)
class FitResult:
    """Network, the pattern set it is optimal for, and the refinement record.

    ``solver`` names the solver used; ``fallbacks`` counts rounds where the fast solver failed
    and the cvxpy reference was used instead.
    ``limited`` lists ``(neuron, near ties)`` for neurons whose adjacent cells were over the
    refinement budget (:attr:`certify.solve.refine.RefinementResult.limited`); then ``stationary``
    is False.
    """

    network: Network
    patterns: np.ndarray
    refined: bool
    rounds: int
    objectives: list[float]
    stationary: bool
    solver: str = "fast"
    fallbacks: int = 0
    limited: tuple[tuple[int, int], ...] = ()


def _to_network(W1: np.ndarray, w2: np.ndarray, bias: bool) -> Network:
    return Network(W1[:-1], w2, W1[-1]) if bias else Network(W1, w2)


class _WithFallback:
    """:class:`FastSolver`, and the cvxpy reference for a round where it fails."""

    def __init__(self) -> None:
        self.fast = FastSolver()
        self.fallbacks = 0

    def __call__(self, X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        try:
            return self.fast(X, y, lam, D)
        except SolverError:
            self.fallbacks += 1
            return cvxpy_solver(X, y, lam, D)


def fit(problem: Problem, patterns: np.ndarray | None = None, gates: int = 50, seed: int = 0,
        refine_network: bool = True, progress: Callable[[int, float, int], None] | None = None,
        solver: str = "fast", max_flips: int = DEFAULT_MAX_FLIPS) -> FitResult:
    """Fit a network by convex optimization over activation patterns (see module docstring).

    Parameters
    ----------
    problem : Problem
        Data, certify's ``lam`` (1/2 squared loss + lam/2 (||W1||^2 + ||w2||^2) for the network,
        lam times the sum of group norms for the convex program) and the bias flag.
    patterns : (n, P) 0/1 start patterns, optional (default: ``gates`` seeded gates).
    gates : int, default=50
    seed : int, default=0
    refine_network : bool, default=True
    progress : optional callable ``(round, NC, number of patterns)``.
    solver : {"fast", "cvxpy"}, default="fast"
    max_flips : int, default=:data:`certify.patterns.sources.DEFAULT_MAX_FLIPS`
        Refinement budget: a neuron with more near ties gets only the cells across one near-tie
        hyperplane each (see :func:`certify.solve.refine.refine`).
    """
    if solver not in SOLVERS:
        raise InputError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}.")
    X, y, lam = problem.features, problem.y, float(problem.lam)
    D = union(np.asarray(patterns, np.uint8)) if patterns is not None else gate_patterns(X, gates, seed)
    engine: Solver = _WithFallback() if solver == "fast" else cvxpy_solver
    if not refine_network:
        weights, signs = engine(X, y, lam, D)
        net = blocks_to_network(weights, signs, bias=problem.bias)
        return FitResult(net, D, False, 0, [], False, solver, getattr(engine, "fallbacks", 0))
    res = refine(X, y, lam, D, engine, progress=progress, max_flips=max_flips)
    net = _to_network(res.network.W1, res.network.w2, problem.bias)
    return FitResult(net, res.patterns, True, res.rounds, res.objectives, res.stationary, solver,
                     getattr(engine, "fallbacks", 0), tuple(res.limited))
