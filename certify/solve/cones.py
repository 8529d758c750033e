"""Projections onto pattern cones by constraint generation (theory.md §3, one-cone bound).

For the cone ``K = {u : A u >= 0}`` of a pattern (``A = (2D - I) X``, n rows) and a vector
``g``, ``Pi_K(g) = g + A^T mu*`` with ``mu* = argmin_{mu >= 0} ||g + A^T mu||`` (Moreau). For
*any* subset ``R`` of the rows, ``K ⊆ K_R = {u : A_R u >= 0}``, so

    max_{u in K, ||u|| <= 1} <g, u>  <=  ||Pi_{K_R}(g)||  =  ||g + A_R^T mu_R||,

and when ``Pi_{K_R}(g)`` satisfies every row of ``A`` it *is* ``Pi_K(g)``. Constraint generation
solves a small NNLS over ``R``, checks all n rows (one ``A p`` product), adds the most violated
ones and repeats. Each iterate gives a valid upper bound (looser, never wrong); the last one is
the projection up to the stated tolerance. A pattern cone in dimension d has few facets that
matter for a given ``g``, so ``R`` stays small (measured: BENCHMARKS.md, "Fast solver").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

PROJECTION_TOL = 1e-10
"""Rows with ``a_k^T p >= -(PROJECTION_TOL ||p|| + 1e-12 ||g||) ||a_k||`` count as satisfied
(the second term makes a projection that is zero up to rounding exact)."""


@dataclass(frozen=True)
class ConeProjection:
    """Result of :func:`project`.

    Attributes
    ----------
    point : ndarray (d,)
        ``g + A_R^T mu_R``: the projection onto ``K_R``, and onto ``K`` when ``exact``.
    bound : float
        ``||point||``, an upper bound of ``max_{u in K, ||u|| <= 1} <g, u>`` (always valid).
    rows : ndarray of int
        The rows with ``mu > 0`` (the face of ``K`` the projection lies on).
    exact : bool
        Every row of ``A`` holds at ``point`` to :data:`PROJECTION_TOL` (relative).
    """

    point: np.ndarray
    bound: float
    rows: np.ndarray
    exact: bool


def cone_matrix(X: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """``A = (2D - I) X`` for a 0/1 pattern column."""
    return (2.0 * np.asarray(pattern, float) - 1.0)[:, None] * X


def project(g: np.ndarray, A: np.ndarray, row_norms: np.ndarray, hint: np.ndarray | None = None,
            tol: float = PROJECTION_TOL, max_rounds: int = 50) -> ConeProjection:
    """Project ``g`` onto ``{u : A u >= 0}`` by constraint generation (module docstring).

    Parameters
    ----------
    g : (d,) vector.
    A : (n, d) cone rows; ``row_norms`` their norms (zero rows are never violated).
    hint : rows to start from (for example the face of an earlier projection).
    tol : relative tolerance of the final feasibility test.
    max_rounds : NNLS solves at most; the bound stays valid if it is reached.
    """
    d = A.shape[1]
    R = np.zeros(0, np.int64) if hint is None else np.unique(np.asarray(hint, dtype=np.int64))
    point = g.copy()
    gnorm = float(np.linalg.norm(g))
    mu = np.zeros(0)
    for _ in range(max_rounds):
        if R.size:
            mu, _ = nnls(A[R].T, -g, maxiter=max(50, 10 * R.size))
            point = g + A[R].T @ mu
        norm = float(np.linalg.norm(point))
        slack = A @ point
        violated = np.flatnonzero(slack < -(tol * norm + 1e-12 * gnorm) * row_norms)
        if violated.size == 0:
            return ConeProjection(point, norm, R[mu > 0] if R.size else R, True)
        worst = violated[np.argsort(slack[violated] / row_norms[violated])[:max(2, d // 2)]]
        R = np.union1d(R, worst)
    return ConeProjection(point, float(np.linalg.norm(point)), R[mu > 0] if R.size else R, False)
