"""The optimal set of the convex program over a pattern scope, from an approximate solution.

theory.md §3-4. From a solution (``U``, ``H`` over the patterns ``D``; a
:class:`certify.solve.working_set.Solution` or any pair): the fit ``yhat``, the residual
``r = y - yhat``, the canonical correlation vectors ``v_b = Pi_{K_b}(Z_b^T r)`` of every block of
the scope (one NNLS each; ``v_b = Z_b^T r`` when gated), the equicorrelation set
``E = {b : ||v_b|| >= lam (1 - eq_tol)}``, the duplicate blocks merged (equal sign and equal
``Z_b v_b`` up to ``merge_tol``), the support set ``S`` (one LP per merged block: ``b`` is in ``S``
iff ``max {alpha_b : alpha in P} > support_tol``; scipy HiGHS), the polytope
``P = {alpha >= 0 : M alpha = yhat}``, ``M = [Z_b v_b]``, its dimension ``|S| - rank M_S`` and the
p-uniqueness test (``{Z_b v_b : b in S}`` independent, Prop. 4.3).

**Floats.** For float data, ``yhat`` and ``v_b`` are estimates (and generally irrational in
exact arithmetic, theory.md §4 exactness caveat), so everything here describes *the polytope of
the rationalized estimates*; ranks are numerical (singular values against ``rank_tol`` times the
largest, stated in the result), and so is the uniqueness verdict: it is labelled
``"numerical"`` and certifies nothing. Exact statements are made only for rational instances
(:func:`exact_optimal_set`) and for a network's own polytope
(:mod:`certify.optimal_set.network_polytope`).

Tolerances (defaults, all relative): ``eq_tol = 1e-5`` (of lam), ``merge_tol = 1e-7`` (of the
largest column), ``lp_tol = 1e-7`` (equality residual of the LPs, of ``max(1, ||yhat||_inf)``),
``support_tol = 1e-6`` (of the largest LP value), ``rank_tol = 1e-4`` (singular values of the
column-normalized ``M_S`` against the largest: the estimates of ``v_b`` carry the solver's error,
measured ~1e-6 at a relative duality gap of 1e-10, so a tighter tolerance calls every estimated
dependence independent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import flint
import numpy as np
from scipy.optimize import linprog

from certify.convex.correlation import cone_rows, correlation_vector
from certify.errors import InputError, SolverError
from certify.exact.linalg import DEFAULT_PRIME, independent_rows, integer_matrix
from certify.optimal_set.enumeration import DEFAULT_MAX_VERTICES, Enumeration, enumerate_vertices


@dataclass(frozen=True)
class Tolerances:
    """Numerical tolerances of :func:`optimal_set` (all relative; see the module docstring)."""

    eq_tol: float = 1e-5
    merge_tol: float = 1e-7
    lp_tol: float = 1e-7
    support_tol: float = 1e-6
    rank_tol: float = 1e-4


@dataclass
class OptimalSet:
    """The optimal set over a pattern scope, from float estimates.

    Attributes
    ----------
    fit, residual : ndarray (n,)
    lam : float
    gated : bool
    correlation_norms : ndarray (B,)
        ``||v_b|| / lam`` for every block ``b`` of the scope (``b < P``: sign +1 on pattern
        ``b``; ``b >= P``: sign -1 on pattern ``b - P``; gated: sign +1 only).
    equicorrelation : list[int]
        ``E``, block indices.
    groups : list[list[int]]
        ``E`` merged: blocks with equal sign and equal ``Z_b v_b``.
    columns : ndarray (n, G)
        ``M``: ``Z_b v_b`` of each group's first block.
    alpha_max : ndarray (G,)
        ``max {alpha_g : alpha in P}`` per group (LP).
    support : list[int]
        ``S``: groups with ``alpha_max > support_tol * max alpha_max``.
    singular_values : ndarray
        Of ``M_S`` (columns normalized to unit length).
    rank, dimension : int
        Numerical rank of ``M_S``; ``dim P = |S| - rank``.
    unique : bool
        ``rank == |S|``: p-unique (numerical verdict).
    verdict_kind : str
        ``"numerical"`` (float data: the polytope of the rationalized estimates).
    tolerances : Tolerances
    """

    fit: np.ndarray
    residual: np.ndarray
    lam: float
    gated: bool
    correlation_norms: np.ndarray
    equicorrelation: list[int]
    groups: list[list[int]]
    columns: np.ndarray
    alpha_max: np.ndarray
    support: list[int]
    singular_values: np.ndarray
    rank: int
    dimension: int
    unique: bool
    verdict_kind: str = "numerical"
    tolerances: Tolerances = field(default_factory=Tolerances)
    label: str = "polytope of the rationalized estimates (float data; theory.md §4 exactness caveat)"

    def block(self, b: int, P: int) -> tuple[int, int]:
        """``(pattern column, sign)`` of block index ``b`` in a scope of ``P`` patterns."""
        return (b, 1) if b < P else (b - P, -1)


def _fit(X: np.ndarray, D: np.ndarray, U: np.ndarray, H: np.ndarray) -> np.ndarray:
    return np.sum(D * (X @ (U - H)), axis=1)


def correlation_vectors_all(X: np.ndarray, r: np.ndarray, D: np.ndarray, gated: bool) -> np.ndarray:
    """``v_b`` of every block of the scope (d, B): signs +1 then -1 (gated: +1 only)."""
    P = D.shape[1]
    signs = [1] if gated else [1, -1]
    out = np.zeros((X.shape[1], len(signs) * P))
    for si, s in enumerate(signs):
        for p in range(P):
            pat = D[:, p].astype(float)
            g = s * (X.T @ (pat * r))
            out[:, si * P + p] = g if gated else correlation_vector(g, cone_rows(X, pat))
    return out


def optimal_set(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, U: np.ndarray, H: np.ndarray,
                gated: bool = False, tolerances: Tolerances | None = None) -> OptimalSet:
    """Analyse the optimal set from an approximately optimal ``(U, H)`` over patterns ``D``.

    Parameters
    ----------
    X : (n, d) features (ones column included for a bias); y : (n,); lam : float > 0
        certify's scaling (theory.md §1-2).
    D : (n, P) 0/1 patterns; U, H : (d, P) block weights (sign +1, -1).
    gated : bool
    tolerances : Tolerances, optional

    Raises
    ------
    InputError
        Shapes, non-finite values, ``lam <= 0``.
    SolverError
        When the LPs fail (``yhat`` is not a non-negative combination of ``M`` within ``lp_tol``:
        the solution was not accurate enough for ``eq_tol``).
    """
    tol = tolerances or Tolerances()
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    D = np.asarray(D, dtype=float)
    U, H = np.asarray(U, float), np.asarray(H, float)
    if (X.ndim != 2 or y.shape != (X.shape[0],) or D.ndim != 2 or D.shape[0] != X.shape[0]
            or U.shape != (X.shape[1], D.shape[1]) or H.shape != U.shape):
        raise InputError(f"shapes do not match: X {X.shape}, y {y.shape}, D {D.shape}, U {U.shape}, "
                         f"H {H.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all() and np.isfinite(U).all() and np.isfinite(H).all()):
        raise InputError("X, y, U and H must be finite")
    if not lam > 0:
        raise InputError(f"lam must be > 0, got {lam}")
    P = D.shape[1]
    fit = _fit(X, D, U, H)
    r = y - fit
    V = correlation_vectors_all(X, r, D, gated)
    norms = np.linalg.norm(V, axis=0) / lam
    E = [int(b) for b in np.flatnonzero(norms >= 1 - tol.eq_tol)]
    cols = np.column_stack([(1 if b < P else -1) * D[:, b % P] * (X @ V[:, b]) for b in E]) if E \
        else np.zeros((X.shape[0], 0))
    scale = max(np.abs(cols).max(initial=0.0), 1e-300)
    groups: list[list[int]] = []
    reps: list[np.ndarray] = []
    for i, b in enumerate(E):
        sign = 1 if b < P else -1
        for g, rep in zip(groups, reps, strict=True):
            if (1 if E[g[0]] < P else -1) == sign and np.abs(cols[:, i] - rep).max() <= tol.merge_tol * scale:
                g.append(i)
                break
        else:
            groups.append([i])
            reps.append(cols[:, i])
    M = np.column_stack(reps) if reps else np.zeros((X.shape[0], 0))
    alpha_max = _support_lps(M, fit, tol)
    top = alpha_max.max(initial=0.0)
    support = [g for g in range(len(groups)) if alpha_max[g] > tol.support_tol * max(top, 1e-300)]
    MS = M[:, support]
    if MS.shape[1]:
        sv = np.linalg.svd(MS / np.maximum(np.linalg.norm(MS, axis=0), 1e-300), compute_uv=False)
        rank = int(np.sum(sv > tol.rank_tol * sv.max()))
    else:
        sv, rank = np.zeros(0), 0
    return OptimalSet(fit, r, float(lam), gated, norms, [E[i] for i in range(len(E))],
                      [[E[i] for i in g] for g in groups], M, alpha_max, support, sv, rank,
                      len(support) - rank, rank == len(support), "numerical", tol)


def optimal_set_of_solution(X: np.ndarray, y: np.ndarray, solution, tolerances: Tolerances | None = None
                            ) -> OptimalSet:
    """:func:`optimal_set` of a :class:`certify.solve.working_set.Solution` (or any object with
    ``U``, ``H``, ``patterns``, ``lam`` and ``gated``)."""
    return optimal_set(X, y, solution.lam, solution.patterns, solution.U, solution.H,
                       gated=solution.gated, tolerances=tolerances)


def _support_lps(M: np.ndarray, fit: np.ndarray, tol: Tolerances) -> np.ndarray:
    """``max alpha_g`` over ``{alpha >= 0 : |M alpha - fit|_inf <= eps}`` per column, with
    ``eps = max(lp_tol max(1, |fit|_inf), 2 min_{alpha >= 0} |M alpha - fit|_inf)`` (the second
    term from one NNLS: the float estimates are consistent only up to the solver's accuracy)."""
    k = M.shape[1]
    if k == 0:
        return np.zeros(0)
    from scipy.optimize import nnls

    alpha_ls, _ = nnls(M, fit, maxiter=max(100, 10 * k))
    # the estimates satisfy M alpha = fit only up to the solver's accuracy: widen the box to twice
    # the best non-negative residual when that exceeds lp_tol (the width used is returned)
    eps = max(tol.lp_tol * max(1.0, float(np.abs(fit).max(initial=0.0))),
              2.0 * float(np.abs(M @ alpha_ls - fit).max(initial=0.0)))
    A_ub = np.vstack([M, -M])
    b_ub = np.concatenate([fit + eps, -fit + eps])
    out = np.zeros(k)
    for g in range(k):
        c = np.zeros(k)
        c[g] = -1.0
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(0, None)] * k, method="highs")
        if res.status == 3:
            raise SolverError("the optimal set is unbounded in alpha: columns of M sum to zero; the "
                              "solution is not optimal (sum alpha is constant on P, theory.md §4)")
        if res.status != 0:
            raise SolverError(f"support LP for group {g} failed ({res.message}); the fit is not a "
                              f"non-negative combination of the equicorrelation columns within {eps:.3g}")
        out[g] = -res.fun
    return out


# --- exact, for rational instances ------------------------------------------------------------


@dataclass(frozen=True)
class ExactOptimalSet:
    """``P = {alpha >= 0 : M alpha = yhat}`` for exact rational ``M`` and ``yhat``.

    Attributes
    ----------
    enumeration : Enumeration
        Vertices (pycddlib, GMP rationals).
    support : list[int]
        ``S``: columns positive at some vertex (the union of the vertex supports; every point of
        P is a convex combination of the vertices, P being bounded).
    dimension : int
    unique : bool
        The columns of ``M`` on ``S`` are independent (equivalently, P is one point).
    independence : dict or None
        When unique: ``{"prime": p, "rows": R}`` with ``det M[R, S] != 0 mod p`` (verify with
        :func:`verify_independence`).
    """

    enumeration: Enumeration
    support: list[int]
    dimension: int
    unique: bool
    independence: dict | None


def exact_optimal_set(M: list[list[Fraction]], fit: list[Fraction],
                      max_vertices: int = DEFAULT_MAX_VERTICES) -> ExactOptimalSet:
    """Exact vertices, support, dimension and p-uniqueness of ``{alpha >= 0 : M alpha = fit}``.

    ``M`` is given as rows (n x k). Merge duplicate columns first for the p-uniqueness test
    (theory.md §4).
    """
    enum = enumerate_vertices(M, fit, max_vertices=max_vertices)
    if enum.rays:
        raise InputError("P is unbounded: these columns cannot come from an optimal solution (sum alpha "
                         "is constant on the optimal set)")
    k = len(M[0]) if M else 0
    support = sorted({j for v in enum.vertices for j in range(k) if v[j]})
    evidence = None
    unique = False
    if support:
        sub = integer_matrix([[row[j] for j in support] for row in M])
        rows = independent_rows(sub, DEFAULT_PRIME)
        if rows is not None:
            unique = True
            evidence = {"prime": DEFAULT_PRIME, "rows": rows}
    else:
        unique = True
        evidence = {"prime": DEFAULT_PRIME, "rows": []}
    return ExactOptimalSet(enum, support, enum.dimension, unique, evidence)


def verify_independence(M: list[list[Fraction]], support: list[int], prime: int, rows: list[int]) -> bool:
    """True iff ``det M[rows, support] != 0`` modulo ``prime`` (a prime): the columns of ``M`` on
    ``support`` are then linearly independent over Q (exact; certify.exact.linalg)."""
    from certify.exact.linalg import det_mod, is_prime

    if not is_prime(prime) or len(rows) != len(support) or len(set(rows)) != len(rows):
        return False
    sub = integer_matrix([[M[i][j] for j in support] for i in rows]) if support else flint.fmpz_mat(0, 0)
    return not support or det_mod(sub, prime) != 0
