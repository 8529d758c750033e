"""Exact activation matrices of a network and their independence (theory.md §4, §7).

Neuron ``j``'s fit column is ``F_j = (X W1_j)_+ w2_j``. With the exact forward pass of
:mod:`certify.exact.nc` (pre-activations ``X W1`` as integers over ``2^s``) and the integer
numerators of ``w2``, the integer matrix ``relu(pre)[k][j] * w2num[j]`` is ``F`` times the positive
constant ``2^(s + s2)``: the same rank, null vectors and non-zero minors (proofs/minimality.md).

A neuron is a *zero neuron* when its column of ``F`` is zero: ``w2_j = 0``, ``W1_j = 0`` or a
dead activation (``x_k^T W1_j <= 0`` for every k). The *support* is the list of the others.
Standard library and python-flint only: the checker imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import flint


def fit_columns(preact: Sequence[Sequence[int]], w2num: Sequence[int]) -> list[list[int]]:
    """Columns of the integer fit matrix: ``[max(pre[k][j], 0) * w2num[j] for k]`` per neuron ``j``."""
    m = len(w2num)
    return [[max(row[j], 0) * w2num[j] for row in preact] if w2num[j] else [0] * len(preact)
            for j in range(m)]


def support(columns: Sequence[Sequence[int]]) -> list[int]:
    """Indices of the non-zero columns (neurons that are not zero neurons), increasing."""
    return [j for j, col in enumerate(columns) if any(col)]


def matrix(columns: Sequence[Sequence[int]], cols: Sequence[int], rows: Sequence[int] | None = None
           ) -> flint.fmpz_mat:
    """The integer matrix with the given columns (and rows, default all) as an ``fmpz_mat``."""
    n = len(columns[0]) if columns else 0
    rows = range(n) if rows is None else rows
    return flint.fmpz_mat(len(rows), len(cols), [columns[j][k] for k in rows for j in cols])


def det_mod_columns(columns: Sequence[Sequence[int]], cols: Sequence[int], rows: Sequence[int],
                    p: int) -> int:
    """``det F[rows, cols] mod p`` for a prime ``p`` (square: ``len(rows) == len(cols)``)."""
    if len(rows) != len(cols):
        raise ValueError("a determinant needs as many rows as columns")
    if not cols:
        return 1 % p
    entries = [columns[j][k] % p for k in rows for j in cols]
    return int(flint.nmod_mat(len(rows), len(cols), entries, p).det())


def pivot_columns(M: flint.fmpz_mat, p: int) -> list[int]:
    """Pivot columns of the reduced row echelon form of ``M`` modulo ``p``.

    They are linearly independent modulo ``p``, hence over Q (a non-zero minor modulo ``p`` is a
    non-zero integer minor); their number is the rank of ``M`` modulo ``p``.
    """
    if M.nrows() == 0 or M.ncols() == 0:
        return []
    rref, rank = flint.nmod_mat(M.tolist(), p).rref()
    rows = rref.tolist()
    return [next(j for j, v in enumerate(rows[i]) if int(v) != 0) for i in range(rank)]


def is_relation(columns: Sequence[Sequence[int]], cols: Sequence[int], z: Sequence[int]) -> bool:
    """True iff ``z`` is non-zero and ``sum_i z_i F[:, cols[i]] = 0`` exactly."""
    if len(z) != len(cols) or not any(z):
        return False
    n = len(columns[0]) if columns else 0
    return all(sum(z[i] * columns[j][k] for i, j in enumerate(cols) if z[i]) == 0 for k in range(n))
