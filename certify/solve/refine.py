"""Refinement to a stationary network (theory.md §3, "Refining to a stationary point").

Re-solve the convex program over ``S ∪ (cells adjacent to every neuron)`` and map, until the
network is optimal over all the cells adjacent to its neurons; then its own-pattern gap is tiny
whichever adjacent cell the stored floats pick. The solver is a parameter: :class:`FastSolver`
(the working-set solver, warm-started from round to round; the default of ``certify fit``) or
:func:`cvxpy_solver` (the cvxpy + Clarabel reference, one cold interior-point solve per round).
NC never increases across accepted rounds: a round whose network has a larger NC is rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from certify.convex.mapping import blocks_to_network, nc_objective
from certify.errors import InputError, SolverError
from certify.network import Network
from certify.patterns.sources import DEFAULT_MAX_FLIPS, DEFAULT_NEAR_TIE, adjacent_cells, union
from certify.solve.working_set import Solution, SolverOptions, WarmStart, solve

Solver = Callable[[np.ndarray, np.ndarray, float, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class RefinementResult:
    """Outcome of :func:`refine`.

    Attributes
    ----------
    network : Network
        The refined (balanced) network, first-layer weights on the features (bias row last).
    patterns : ndarray (n, P)
        The final pattern set S (the start set plus every adjacent cell visited).
    objectives : list[float]
        NC after each round (round 0 is the start's optimum).
    rounds : int
    stationary : bool
        The last round added no new adjacent cell (the network is optimal over them all,
        to the solver's accuracy). False when ``limited`` is not empty.
    limited : list of (neuron, near ties)
        Neurons of the final network with more than ``max_flips`` near ties: only the cells across
        one of their near-tie hyperplanes were added (:func:`certify.patterns.sources.adjacent_cells`),
        so the network is not known to be optimal over every cell adjacent to them.
    """

    network: Network
    patterns: np.ndarray
    objectives: list[float] = field(default_factory=list)
    rounds: int = 0
    stationary: bool = False
    limited: list[tuple[int, int]] = field(default_factory=list)


def _network(weights: np.ndarray, signs: np.ndarray) -> Network:
    return blocks_to_network(weights, signs, bias=False, threshold=1e-12 * max(
        float(np.linalg.norm(weights, axis=0).max(initial=0.0)), 1e-300))


def refine(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, solver: Solver,
           near_tie: float = DEFAULT_NEAR_TIE, max_rounds: int = 30,
           progress: Callable[[int, float, int], None] | None = None, scope: str = "accumulate",
           max_flips: int = DEFAULT_MAX_FLIPS) -> RefinementResult:
    """Refine the optimum over patterns ``D`` to a network optimal over its adjacent cells.

    Parameters
    ----------
    X, y, lam : features (bias column included), targets, certify's lam.
    D : (n, P) start patterns.
    solver : callable ``(X, y, lam, D) -> (weights (d, B), signs (B,))`` of non-zero blocks.
    near_tie : relative tolerance defining adjacent cells (see
        :func:`certify.patterns.sources.adjacent_patterns`).
    max_rounds : int
    progress : optional callable ``(round, NC, number of patterns)``.
    scope : {"accumulate", "local"}, default="accumulate"
        Pattern set of each round. ``"accumulate"`` (theory.md §3): ``S`` grows by the cells
        adjacent to every neuron; stationary when no new cell appears. ``"local"``: each round
        solves over the cells adjacent to the current network only (it is feasible there, so NC
        cannot increase), dropping older cells; once a round gains less than 1e-9 relative it
        continues as ``"accumulate"``, so the stopping rule and its guarantee are the same.
    max_flips : int, default=:data:`certify.patterns.sources.DEFAULT_MAX_FLIPS`
        A neuron with more near ties than this gets only the cells across one near-tie hyperplane
        each; the result lists it in ``limited`` and is then not called stationary.
    """
    if scope not in ("local", "accumulate"):
        raise InputError(f"scope must be 'local' or 'accumulate'; got {scope!r}.")
    S = union(D)
    weights, signs = solver(X, y, lam, S)
    net = _network(weights, signs)
    best = nc_objective(X, y, lam, net.W1, net.w2)
    result = RefinementResult(net, S, [best])
    current = scope
    solved_over = S  # the pattern set the current network is optimal over
    for rnd in range(1, max_rounds + 1):
        adjacent, limited = adjacent_cells(X, net.W1, near_tie, max_flips)
        S_new = union(solved_over, adjacent)
        if S_new.shape[1] == solved_over.shape[1]:
            # optimal over a set that holds every adjacent cell, unless some neuron's were limited
            result.stationary = not limited
            result.limited = limited
            break
        S = S_new if current == "accumulate" else union(adjacent)
        weights, signs = solver(X, y, lam, S)
        cand = _network(weights, signs)
        value = nc_objective(X, y, lam, cand.W1, cand.w2)
        result.rounds = rnd
        if value <= best * (1 + 1e-12):
            if value > best * (1 - 1e-9):
                # no real progress over the local cells: finish by accumulating, which stops
                # when no new adjacent cell appears (finitely many cells)
                current = "accumulate"
            net, best = cand, value
        else:
            current = "accumulate"
        # either way the network is optimal over S (to the solver's accuracy): the candidate is
        # the optimum over S, and a rejected one is not better than the network, which is
        # feasible over S (its own cells are among the adjacent ones)
        solved_over = S
        result.objectives.append(best)
        if progress is not None:
            progress(rnd, best, S.shape[1])
    else:  # round limit: the final network's limited neurons (a break above has recorded them)
        result.limited = adjacent_cells(X, net.W1, near_tie, max_flips)[1]
    result.network, result.patterns = net, solved_over
    return result


class FastSolver:
    """The working-set solver (:mod:`certify.solve.working_set`) as a warm-started :data:`Solver`.

    Each call starts from the working blocks and rows of the previous call and from the
    projection faces of every block it priced (matched by pattern), which is what makes
    refinement over a growing pattern set cheap. A solve is
    accepted when it converged, or when it stalled with a relative gap ``<= accept_gap``
    (default 1e-7; degenerate pattern sets of many near-duplicate adjacent cells can leave
    Clarabel a few 1e-8 short) and a feasible point; otherwise SolverError (a refinement must
    not build on it). The certificate of the result is checked exactly anyway.
    """

    def __init__(self, options: SolverOptions | None = None, accept_gap: float = 1e-7) -> None:
        self.options = options or SolverOptions()
        self.accept_gap = accept_gap
        self.warm: WarmStart | None = None
        self.faces: WarmStart | None = None
        self.last: Solution | None = None

    def __call__(self, X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        sol = solve(X, y, lam, D, options=self.options, warm_start=self.warm, face_hints=self.faces)
        if not (sol.converged or (sol.gap <= self.accept_gap and sol.violation <= self.options.feas_tol)):
            raise SolverError(f"the C-ReLU solve over {D.shape[1]} patterns did not converge: {sol.message}")
        self.warm, self.faces, self.last = sol.warm_start(), sol.face_hints(), sol
        blocks = sol.blocks()
        return blocks.weights, blocks.signs


def cvxpy_solver(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cvxpy + Clarabel reference as a :data:`Solver`."""
    from certify.solve.cvxpy_reference import solve_crelu

    blocks = solve_crelu(X, y, lam, D).blocks()
    return blocks.weights, blocks.signs
