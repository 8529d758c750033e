"""Exact pieces of the *sensitivity* claim (theory.md §6; proofs/sensitivity.md).

For active neurons ``j`` with block weights ``w_j = |w2_j| W1_j`` (rational), exact patterns ``D_j``
(``x_k^T W1_j >= 0``), signs ``s_j = sign(w2_j)``, rational norm surrogates ``c_j`` (the claim proves
``|c_j - ||w_j||| <= delta_j`` by comparing squares) and tight rows ``T_j``, the implicit-function
system with ``||w_j||`` replaced by ``c_j`` is rational::

    J_c = [[Z^T Z + lam H_c, K], [K^T, 0]],   H_c = blkdiag((I - w_j w_j^T / c_j^2) / c_j)
    R_c = [ -[w_j / c_j]_j , Z^T ; 0 , 0 ]        (first column: lam; then one column per y_k)

``Z = [s_j D_j X]`` and ``K`` holds the columns ``-(2 D_j[k] - 1) x_k`` (k in T_j). Standard library and
python-flint only (the checker imports this module).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import lcm

import flint


def to_fraction(x) -> Fraction:
    """A python-flint ``fmpq`` (or int) as a Fraction."""
    if isinstance(x, flint.fmpq):
        return Fraction(int(x.p), int(x.q))
    return Fraction(int(x))


def to_fmpq_mat(rows: int, cols: int, values: Sequence[Fraction]) -> flint.fmpq_mat:
    """An ``fmpq_mat`` from row-major Fractions."""
    return flint.fmpq_mat(rows, cols, [flint.fmpq(v.numerator, v.denominator) for v in values])


def squared_norm(v: Sequence[Fraction]) -> Fraction:
    return sum((a * a for a in v), Fraction(0))


def norm_bracket_holds(squared: Fraction, c: Fraction, delta: Fraction) -> bool:
    """``0 < c - delta`` and ``(c - delta)^2 <= squared <= (c + delta)^2``, so that
    ``|c - sqrt(squared)| <= delta``."""
    return c - delta > 0 and delta >= 0 and (c - delta) ** 2 <= squared <= (c + delta) ** 2


def design(X: Sequence[Sequence[Fraction]], pattern: Sequence[int], sign: int) -> list[list[Fraction]]:
    """Rows of ``Z = s D X`` (n x d)."""
    return [[sign * v for v in row] if bit else [Fraction(0)] * len(row)
            for row, bit in zip(X, pattern, strict=True)]


def constraint_columns(X: Sequence[Sequence[Fraction]], pattern: Sequence[int], tight: Sequence[int]
                       ) -> list[list[Fraction]]:
    """The columns ``-(2 D[k] - 1) x_k`` for ``k`` in ``tight`` (each a list of d entries)."""
    return [[(-v if pattern[k] else v) for v in X[k]] for k in tight]


def stationarity_residual(X, residual: Sequence[Fraction], lam: Fraction, pattern, sign: int,
                          weight: Sequence[Fraction], c: Fraction, tight: Sequence[int],
                          rho: Sequence[Fraction]) -> list[Fraction]:
    """``Z^T r - lam w / c - K rho`` for one neuron (zero at an exact KKT point with ``c = ||w||``)."""
    d = len(weight)
    Z = design(X, pattern, sign)
    g = [sum((Z[k][i] * residual[k] for k in range(len(Z))), Fraction(0)) - lam * weight[i] / c
         for i in range(d)]
    for col, mult in zip(constraint_columns(X, pattern, tight), rho, strict=True):
        for i in range(d):
            g[i] -= col[i] * mult
    return g


def system(X: Sequence[Sequence[Fraction]], lam: Fraction, patterns: Sequence[Sequence[int]],
           signs: Sequence[int], weights: Sequence[Sequence[Fraction]], norms: Sequence[Fraction],
           tight: Sequence[Sequence[int]]) -> tuple[flint.fmpq_mat, flint.fmpq_mat]:
    """``(J_c, R_c)`` of the module docstring as exact ``fmpq_mat`` (R_c has ``1 + n`` columns)."""
    n, d = len(X), len(X[0]) if X else 0
    a = len(weights)
    nw = d * a
    nt = sum(len(t) for t in tight)
    N = nw + nt
    zrows = [[Fraction(0)] * nw for _ in range(n)]
    for b in range(a):
        for k in range(n):
            if patterns[b][k]:
                for i in range(d):
                    zrows[k][b * d + i] = signs[b] * X[k][i]
    Z = to_fmpq_mat(n, nw, [v for row in zrows for v in row])
    ZtZ = Z.transpose() * Z
    J = [[Fraction(0)] * N for _ in range(N)]
    for i in range(nw):
        for j in range(nw):
            J[i][j] = to_fraction(ZtZ[i, j])
    R = [[Fraction(0)] * (1 + n) for _ in range(N)]
    col = nw
    for b in range(a):
        w, c = weights[b], norms[b]
        c2, base = c * c, b * d
        for i in range(d):
            for j in range(d):
                J[base + i][base + j] += lam * ((1 if i == j else 0) - w[i] * w[j] / c2) / c
            R[base + i][0] = -w[i] / c
            for k in range(n):
                R[base + i][1 + k] = zrows[k][base + i]
        for kcol in constraint_columns(X, patterns[b], tight[b]):
            for i in range(d):
                J[base + i][col] = kcol[i]
                J[col][base + i] = kcol[i]
            col += 1
    return (to_fmpq_mat(N, N, [v for row in J for v in row]),
            to_fmpq_mat(N, 1 + n, [v for row in R for v in row]))


def residual_max(J: flint.fmpq_mat, derivatives: flint.fmpq_mat, R: flint.fmpq_mat) -> Fraction:
    """``max |(J d - R)_{ij}|`` exactly."""
    E = J * derivatives - R
    return max((abs(to_fraction(v)) for v in E.entries()), default=Fraction(0))


def det_mod(J: flint.fmpq_mat, p: int) -> int:
    """``det(L J) mod p`` with ``L > 0`` the lcm of the denominators (0 iff p divides it or J is singular)."""
    N = J.nrows()
    if N == 0:
        return 1 % p
    entries = [to_fraction(v) for v in J.entries()]
    den = 1
    for v in entries:
        den = lcm(den, v.denominator)
    return int(flint.nmod_mat(N, N, [int(v * den) % p for v in entries], p).det())
