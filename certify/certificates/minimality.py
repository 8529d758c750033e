"""Producers of the *minimal* and *not_minimal* claims (proofs/minimality.md), and the
uncertified near-dependence report.

*minimal*: the fit columns ``(X W1_j)_+ w2_j`` of the non-zero neurons are linearly independent;
evidence a prime ``p`` and rows ``R`` with ``det F[R, support] != 0 mod p``.
*not_minimal*: they are dependent; evidence an exact integer null vector. Zero neurons (zero fit
column: ``w2_j = 0``, ``W1_j = 0`` or a dead activation) are excluded from the support.
"""

from __future__ import annotations

import numpy as np

from certify.exact.context import ExactContext
from certify.exact.linalg import independent_rows, null_vector
from certify.exact.minimality import fit_columns, is_relation, matrix, pivot_columns, support
from certify.exact.rational import int_to_str
from certify.pruning.exact import PRIMES, IndependentColumns

#: Default relative tolerance of the near-dependence report (not certified).
NEAR_DEPENDENCE_TOL = 1e-10


def exact_columns(ctx: ExactContext) -> list[list[int]]:
    """The integer fit columns of the network of ``ctx`` (``F`` times a positive constant)."""
    return fit_columns(ctx.evaluation.preact, ctx.w2.entries())


def minimality_claim(ctx: ExactContext) -> dict:
    """A *minimal* claim when the non-zero fit columns are independent, else a *not_minimal* claim."""
    columns = exact_columns(ctx)
    supp = support(columns)
    if not supp:
        return {"id": "minimal", "type": "minimal", "support": [], "rows": [], "prime": int_to_str(PRIMES[0])}
    M = matrix(columns, supp)
    best: list[int] = []
    for p in PRIMES:
        pivots = pivot_columns(M, p) if len(supp) <= ctx.n else []
        if len(pivots) == len(supp):
            rows = independent_rows(M, p)
            if rows is not None:
                return {"id": "minimal", "type": "minimal", "support": supp, "rows": rows,
                        "prime": int_to_str(p)}
        if len(pivots) > len(best):
            best = pivots
    z = _relation(columns, supp, best)
    return {"id": "not_minimal", "type": "not_minimal", "support": supp,
            "null_vector": [int_to_str(v) for v in z],
            "dependent": [j for j, v in zip(supp, z, strict=True) if v]}


def _relation(columns: list[list[int]], supp: list[int], pivots: list[int]) -> list[int]:
    """An exact integer null vector of ``F[:, supp]``, from independent pivot columns when possible."""
    B = [supp[i] for i in pivots]
    indep = IndependentColumns(columns, B)
    for j in supp:
        if j in set(B):
            continue
        rel = indep.relation(j)
        if rel is not None:
            x, den, _ = rel
            coef = dict(zip(B, x, strict=True))
            z = [-den if i == j else coef.get(i, 0) for i in supp]
            if is_relation(columns, supp, z):
                return z
    z = null_vector(matrix(columns, supp))  # unlucky primes only: exact null space (slow)
    if z is None or not is_relation(columns, supp, z):  # pragma: no cover - modular rank is a lower bound
        raise ArithmeticError("the fit columns are independent after all")
    return z


def near_dependence(X: np.ndarray, W1: np.ndarray, w2: np.ndarray, tol: float = NEAR_DEPENDENCE_TOL) -> dict:
    """Numerical near-dependence of the fit columns (floats; NOT certified).

    Parameters
    ----------
    X : (n, d') features (with the ones column when there is a bias).
    W1 : (d', m) first-layer weights (with ``b1`` as the last row when there is a bias).
    w2 : (m,) output weights.
    tol : float
        Relative tolerance: a singular value ``sigma <= tol * sigma_max`` counts as zero.

    Returns
    -------
    dict
        ``rule``, ``tolerance``, ``columns`` (non-zero neurons), ``numerical_rank``, ``smallest``
        (the five smallest singular values, increasing) and ``largest``.
    """
    F = np.maximum(X @ W1, 0.0) * w2
    norms = np.linalg.norm(F, axis=0)
    keep = norms > 0
    rule = ("singular values of the fit columns (X W1_j)_+ w2_j of the non-zero neurons, each scaled "
            "to unit Euclidean norm, computed in float64; numerically dependent when "
            "sigma <= tolerance * sigma_max (not certified)")
    if not keep.any():
        return {"certified": False, "rule": rule, "tolerance": tol, "columns": 0, "numerical_rank": 0,
                "smallest": [], "largest": 0.0}
    sv = np.linalg.svd(F[:, keep] / norms[keep], compute_uv=False)
    rank = int(np.sum(sv > tol * sv[0]))
    return {"certified": False, "rule": rule, "tolerance": tol, "columns": int(keep.sum()),
            "numerical_rank": rank, "smallest": [float(v) for v in sorted(sv)[:5]], "largest": float(sv[0])}
