"""Reference solver: C-ReLU over a given pattern set with cvxpy + Clarabel (theory.md §2).

    min  1/2 || sum_i D_i X (u_i - h_i) - y ||^2 + lam sum_i (||u_i|| + ||h_i||)
    s.t. (2 D_i - I) X u_i >= 0,  (2 D_i - I) X h_i >= 0        (dropped when gated=True)

Slow (interior point) but accurate; used in tests and as the baseline of benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify.convex.mapping import Blocks
from certify.errors import SolverError

name = "cvxpy"
required_modules = ("cvxpy", "clarabel")


@dataclass(frozen=True)
class ReferenceSolution:
    """Solution of the C-ReLU over patterns ``D`` (n, P): ``U``, ``H`` of shape (d, P)."""

    U: np.ndarray
    H: np.ndarray
    patterns: np.ndarray
    objective: float
    status: str

    def blocks(self, threshold: float = 1e-9) -> Blocks:
        """Non-zero blocks (``||w|| > threshold * max ||w||``) with their signs."""
        return Blocks.from_solution(self.U, self.H, self.patterns, threshold)


def solve_crelu(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, gated: bool = False,
                tol: float = 1e-10) -> ReferenceSolution:
    """Solve the C-ReLU (or gated ReLU) over the pattern columns of ``D`` with Clarabel.

    Parameters
    ----------
    X : (n, d) features (with the ones column when a bias is used).
    y : (n,) targets.
    lam : float, certify's scaling (theory.md §1).
    D : (n, P) 0/1 patterns.
    gated : drop the cone constraints.
    tol : Clarabel's gap and feasibility tolerances.
    """
    import cvxpy as cp

    n, d = X.shape
    P = D.shape[1]
    U = cp.Variable((d, P))
    H = cp.Variable((d, P))
    Df = D.astype(float)
    fit = cp.sum(cp.multiply(Df, X @ (U - H)), axis=1)  # sum_i D_i X (u_i - h_i), vectorized
    cons = []
    if not gated:
        E = 2.0 * Df - 1.0
        cons = [cp.multiply(E, X @ U) >= 0, cp.multiply(E, X @ H) >= 0]
    penalty = cp.sum(cp.norm(U, 2, axis=0)) + cp.sum(cp.norm(H, 2, axis=0))
    obj = 0.5 * cp.sum_squares(fit - y) + lam * penalty
    prob = cp.Problem(cp.Minimize(obj), cons)
    try:
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol,
                   max_iter=500)
    except cp.error.SolverError as exc:  # pragma: no cover - depends on solver state
        raise SolverError(f"Clarabel failed on the C-ReLU: {exc}") from exc
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(f"Clarabel returned status {prob.status!r} on the C-ReLU")
    return ReferenceSolution(np.asarray(U.value), np.asarray(H.value), D, float(prob.value), prob.status)
