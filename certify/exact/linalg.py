"""Exact integer linear algebra: modular rank, non-zero minors, exact null vectors.

Rational matrices are first brought to integers by clearing denominators (exact for the
dyadic data certify handles). Orientation matters (design.md, "Exact rank, oriented"):
never eliminate over the integers on a wide matrix; work with the tall orientation whose
rank equals its number of columns.

Soundness facts used by the checker (proofs/minimality.md):

* if a square integer matrix has non-zero determinant modulo a prime ``p``, its integer
  determinant is non-zero, so the columns are linearly independent over Q;
* a non-zero integer vector ``z`` with ``M z = 0`` (checked by multiplication) proves
  that the columns of ``M`` are dependent.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import lcm

import flint

DEFAULT_PRIME = 2305843009213693951  # 2^61 - 1, a Mersenne prime


def is_prime(p: int) -> bool:
    """Deterministic primality test (python-flint's BPSW-backed ``fmpz.is_prime``)."""
    return p > 1 and bool(flint.fmpz(p).is_prime())


def integer_matrix(rows: Sequence[Sequence[Fraction | int]]) -> flint.fmpz_mat:
    """Clear denominators row-wise-common: return ``L * A`` as an ``fmpz_mat`` (``L > 0``).

    Scaling by a positive constant changes neither rank nor null vectors.
    """
    den = 1
    for row in rows:
        for v in row:
            den = lcm(den, Fraction(v).denominator)
    ints = [[int(Fraction(v) * den) for v in row] for row in rows]
    ncols = len(rows[0]) if rows else 0
    return flint.fmpz_mat(len(rows), ncols, [v for row in ints for v in row])


def modular_rank(M: flint.fmpz_mat, p: int = DEFAULT_PRIME) -> int:
    """Rank of ``M`` modulo ``p``: a lower bound on its rank over Q."""
    if M.nrows() == 0 or M.ncols() == 0:
        return 0
    return flint.nmod_mat(M.tolist(), p).rank()


def submatrix(M: flint.fmpz_mat, rows: Sequence[int], cols: Sequence[int]) -> flint.fmpz_mat:
    """The sub-matrix of ``M`` on the given rows and columns."""
    full = M.tolist()
    return flint.fmpz_mat([[full[i][j] for j in cols] for i in rows])


def det_mod(M: flint.fmpz_mat, p: int) -> int:
    """Determinant of a square integer matrix modulo ``p``."""
    if M.nrows() == 0:
        return 1 % p
    return int(flint.nmod_mat(M.tolist(), p).det())


def independent_rows(M: flint.fmpz_mat, p: int = DEFAULT_PRIME) -> list[int] | None:
    """Rows ``R`` of a tall matrix (n x k) with ``det M[R, :] != 0 mod p``, or None.

    Found from the pivots of the reduced row echelon form of ``M^T`` modulo ``p``.
    """
    k = M.ncols()
    if k == 0:
        return []
    rref, rank = flint.nmod_mat(M.transpose().tolist(), p).rref()
    if rank < k:
        return None
    pivots = []
    rows = rref.tolist()
    for i in range(rank):
        row = rows[i]
        pivots.append(next(j for j, v in enumerate(row) if int(v) != 0))
    return pivots


def null_vector(M: flint.fmpz_mat) -> list[int] | None:
    """A non-zero integer vector ``z`` with ``M z = 0`` (exact), or None if none exists."""
    if M.ncols() == 0:
        return None
    basis, nullity = M.nullspace()
    if nullity == 0:
        return None
    z = [int(basis[i, 0]) for i in range(M.ncols())]
    return z if any(z) else None


def is_null_vector(M: flint.fmpz_mat, z: Sequence[int]) -> bool:
    """True iff ``z`` is non-zero and ``M z = 0`` exactly."""
    if len(z) != M.ncols() or not any(z):
        return False
    prod = M * flint.fmpz_mat(len(z), 1, list(z))
    return all(int(v) == 0 for v in prod.entries())
