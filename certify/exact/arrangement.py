"""The central hyperplane arrangement of the data, exactly (proofs/global_gap.md).

The hyperplanes are ``{u : x_k^T u = 0}`` for the non-zero rows ``x_k`` of the feature matrix
(the ones column included when a bias is used). Rows that are non-zero multiples of each other
define the same hyperplane: they form one *class*, with a canonical integer representative
(the row divided by the gcd of its entries, its first non-zero entry made positive) and, per
row, an orientation ``+1`` or ``-1`` (the sign of the factor). Zero rows define no hyperplane.

A *cell* is a connected component of the complement of the hyperplanes; it is given by an
interior *witness* ``u`` (``x_k^T u != 0`` for every non-zero row). Its pattern is
``d_k = 1[x_k^T u > 0]`` (``d_k = 1`` for zero rows, as everywhere in certify), and its sign
vector over the classes is ``sigma_c = sign(rep_c^T u)``.

Everything is integer arithmetic on the numerators of the dyadic feature matrix (a positive
common scale changes no sign): the standard library and python-flint only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import flint


@dataclass(frozen=True)
class Classes:
    """Hyperplane classes of the rows.

    Attributes
    ----------
    of_row : list[int]
        Class of each row, ``-1`` for a zero row.
    orient : list[int]
        ``+1`` / ``-1`` per row: ``x_k`` is a positive multiple of ``orient_k * rep``; 0 for zero rows.
    reps : list[list[int]]
        Canonical integer representative of each class.
    first_row : list[int]
        A row of each class (its first).
    """

    of_row: list[int]
    orient: list[int]
    reps: list[list[int]]
    first_row: list[int]

    @property
    def count(self) -> int:
        return len(self.reps)


def hyperplane_classes(rows: Sequence[Sequence[int]]) -> Classes:
    """Group integer rows into hyperplane classes (rows equal up to a non-zero factor)."""
    index: dict[tuple[int, ...], int] = {}
    of_row, orient, reps, first = [], [], [], []
    for k, row in enumerate(rows):
        g = 0
        for v in row:
            g = math.gcd(g, v)
        if g == 0:
            of_row.append(-1)
            orient.append(0)
            continue
        lead = next(v for v in row if v)
        s = 1 if lead > 0 else -1
        rep = tuple(s * v // g for v in row)
        c = index.get(rep)
        if c is None:
            c = index[rep] = len(reps)
            reps.append(list(rep))
            first.append(k)
        of_row.append(c)
        orient.append(s)
    return Classes(of_row, orient, reps, first)


def rank(rows: Sequence[Sequence[int]], ncols: int) -> int:
    """Exact rank of an integer matrix given by rows (flint; the matrix is tall: d columns)."""
    if not rows:
        return 0
    return flint.fmpz_mat([list(r) for r in rows]).rank() if ncols else 0


def region_bound(hyperplanes: int, rank_: int) -> int:
    """``2 sum_{k < r} C(h - 1, k)``: the most cells a central arrangement of ``h`` distinct
    hyperplanes of rank ``r`` can have (attained in general position); 1 when ``h = 0``."""
    if hyperplanes == 0 or rank_ == 0:
        return 1
    return 2 * sum(math.comb(hyperplanes - 1, k) for k in range(rank_))


def products(X: flint.fmpz_mat, witnesses: Sequence[Sequence[int]]) -> list:
    """Entries of ``X U`` (n x P, row-major, as ``fmpz``) for the witness columns ``U`` (d x P).

    Only their signs are used; comparing ``fmpz`` with 0 directly is several times faster than
    converting each entry to a Python int first (measured: 0.08 s against 0.55 s per 10^6)."""
    d = X.ncols()
    P = len(witnesses)
    U = flint.fmpz_mat(d, P, [witnesses[p][i] for i in range(d) for p in range(P)])
    return (X * U).entries()


def patterns_of_witnesses(X: flint.fmpz_mat, zero_rows: Sequence[bool], witnesses: Sequence[Sequence[int]]
                          ) -> tuple[list[bytes], list[int]]:
    """Patterns of the witnesses: one ``bytes`` of length n per witness (byte k = ``d_k``, 0 or 1)
    and the 0/1 entries of the pattern matrix ``D`` (n x P, row-major). Raise ValueError naming the
    first witness that lies on a hyperplane (``x_k^T u = 0`` for a non-zero row)."""
    n = X.nrows()
    P = len(witnesses)
    if P == 0:
        return [], []
    flat = products(X, witnesses)
    bits = [1 if v > 0 else 0 for v in flat]
    for k in range(n):
        lo, hi = k * P, (k + 1) * P
        if zero_rows[k]:
            bits[lo:hi] = [1] * P
        elif 0 in flat[lo:hi]:
            p = flat.index(0, lo, hi) - lo
            raise ValueError(f"witness {p} lies on the hyperplane of row {k} (x_k^T u = 0): it is not "
                             "inside a cell")
    return [bytes(bits[p::P]) for p in range(P)], bits


def class_signs(pattern: bytes, classes: Classes) -> int:
    """Sign vector over the classes as an integer (bit c = 1 iff ``rep_c^T u > 0``), from a pattern
    (byte k = ``d_k``) of a point ``u`` inside a cell."""
    out = 0
    for c, k in enumerate(classes.first_row):
        if (pattern[k] == 1) == (classes.orient[k] > 0):
            out |= 1 << c
    return out


def farkas_holds(classes: Classes, signs: int, target: int, den: int, idx: Sequence[int],
                 num: Sequence[int]) -> bool:
    """``den * s_t rep_t == sum_i num_i s_i rep_i`` exactly (``s_c`` the sign of class c in ``signs``).

    With ``den > 0`` and ``num >= 0`` (checked by the caller), class ``t`` is then implied by the
    other constraints of the cell: it is not one of its facets (proofs/global_gap.md, Lemma 3).
    """
    d = len(classes.reps[target]) if classes.reps else 0
    acc = [0] * d
    for c, v in zip(idx, num, strict=True):
        s = 1 if (signs >> c) & 1 else -1
        rep = classes.reps[c]
        for i in range(d):
            acc[i] += s * v * rep[i]
    st = 1 if (signs >> target) & 1 else -1
    rep = classes.reps[target]
    return all(acc[i] == den * st * rep[i] for i in range(d))


def weighted_transpose(X_rows: Sequence[Sequence[int]], rho: Sequence[int]) -> flint.fmpz_mat:
    """``X^T diag(rho)`` (d x n) in integers."""
    n = len(X_rows)
    d = len(X_rows[0]) if n else 0
    return flint.fmpz_mat(d, n, [X_rows[k][i] * rho[k] for i in range(d) for k in range(n)])


def correlations(XR: flint.fmpz_mat, bits: Sequence[int], P: int) -> list[list[int]]:
    """Integer vectors ``X^T D_p rho`` (one list of length d per pattern), given ``XR = X^T diag(rho)``
    and the 0/1 entries of ``D`` (n x P, row-major)."""
    if P == 0:
        return []
    n = XR.ncols()
    d = XR.nrows()
    flat = [int(v) for v in (XR * flint.fmpz_mat(n, P, bits)).entries()]
    return [[flat[i * P + p] for i in range(d)] for p in range(P)]
