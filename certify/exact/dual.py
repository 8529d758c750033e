"""Exact dual bounds for the C-ReLU over a pattern scope (theory.md §3; proofs/subsampled_gap.md).

For a rational residual ``rho`` the dual value is ``<rho, y> - 1/2 ||rho||^2``. It is a lower
bound on the optimum over the scope if, for every block ``b = (pattern D, sign s)``,

    max_{u in K_D, ||u|| <= 1} <s X^T D rho, u>  <=  lam,      K_D = {u : (2D - I) X u >= 0},

and the one-cone bound gives, for any ``mu >= 0``, that maximum <= ``||s X^T D rho + X^T (2D - I) mu||``.
Everything here is integer arithmetic: ``X = Xn / 2^sx`` and ``rho, mu`` share one positive
denominator ``den``, so the vector above is ``v / (2^sx * den)`` with ``v`` an integer vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import flint

from certify.exact.dyadic import DyadicMatrix


def pattern_correlations(X: DyadicMatrix, rho_num: Sequence[int], patterns: Sequence[Sequence[int]]
                         ) -> list[list[int]]:
    """Integer vectors ``Xn^T D_p rho_num`` (one list of length d per pattern)."""
    n, d = X.shape
    P = len(patterns)
    if P == 0:
        return []
    flat = [0] * (n * P)
    for p, bits in enumerate(patterns):
        for k in range(n):
            if bits[k]:
                flat[k * P + p] = rho_num[k]
    prod = X.mat.transpose() * flint.fmpz_mat(n, P, flat)  # d x P
    entries = [int(v) for v in prod.entries()]
    return [[entries[i * P + p] for i in range(d)] for p in range(P)]


def block_vector(X_rows: Sequence[Sequence[int]], corr: Sequence[int], sign: int, bits: Sequence[int],
                 mu_idx: Sequence[int], mu_num: Sequence[int]) -> list[int]:
    """Integer vector ``s * corr + sum_k mu_k (2 D_k - 1) Xn_k`` (over ``2^sx * den``)."""
    v = [sign * c for c in corr]
    for k, mk in zip(mu_idx, mu_num, strict=True):
        if mk == 0:
            continue
        coef = mk if bits[k] else -mk
        row = X_rows[k]
        for i in range(len(v)):
            v[i] += coef * row[i]
    return v


def bound_squared(v: Sequence[int], x_shift: int, den: int) -> Fraction:
    """``||v||^2 / (2^x_shift * den)^2`` exactly: the squared one-cone bound of a block."""
    scale = den << x_shift
    return Fraction(sum(c * c for c in v), scale * scale)


def dual_value(rho_num: Sequence[int], den: int, y: DyadicMatrix) -> Fraction:
    """``<rho, y> - 1/2 ||rho||^2`` exactly, for ``rho = rho_num / den``."""
    y_num = [int(v) for v in y.mat.entries()]
    inner = Fraction(sum(r * v for r, v in zip(rho_num, y_num, strict=True)), den << y.shift)
    sq = Fraction(sum(r * r for r in rho_num), 2 * den * den)
    return inner - sq
