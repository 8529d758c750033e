"""Exact lexicographic bases of a polyhedron ``{x >= 0 : A x = b}`` (proofs/optimal_set.md).

Used by the checker (``network_polytope_vertices``, completeness) and by the producer's exact
enumeration; standard library and python-flint only.

Setting. ``F`` is an integer matrix (n x m), ``P = {x >= 0 : F x = F 1}`` (the polytope of a
network's own neurons, theory.md §4). The equality system is reduced to ``r`` independent rows
``R`` and put in the coordinates of an initial basis ``B0`` (``|B0| = r``, ``F[R, B0]`` invertible):

    A = F[R, B0]^{-1} F[R, :],      b = A 1,

which defines the same set as ``F x = F 1`` when every row of ``F`` lies in the row space of
``F[R, :]`` (checked exactly: ``F = F[:, B0] A``). For a basis ``B`` (``A_B`` invertible) the
*lexicographic tableau* is ``L_B = A_B^{-1} [b | I_r]`` (r rows, r + 1 columns); ``B`` is
*lex-feasible* when every row of ``L_B`` is lexicographically positive (first non-zero entry
> 0). For a column ``j`` not in ``B`` with ``d = A_B^{-1} A_j`` having a positive entry, the
*lexicographic pivot* leaves the basis element at the row ``i`` (``d_i > 0``) that minimizes
``L_B[i] / d_i`` lexicographically (unique: the rows of ``A_B^{-1}`` are independent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import flint


def _q(value) -> Fraction:
    return Fraction(int(value.p), int(value.q))


def lex_positive(row: Sequence[Fraction]) -> bool:
    """True iff the first non-zero entry of ``row`` is positive."""
    for v in row:
        if v:
            return v > 0
    return False


@dataclass(frozen=True)
class StandardForm:
    """The reduced system ``A x = b`` in the coordinates of the initial basis.

    Attributes
    ----------
    F_rows : list[list[int]]
        ``F[R, :]`` (r x m integers).
    base : flint.fmpq_mat
        The right-hand sides ``[F[R,:] 1 | F[R, B0] | F[R, :]]`` (r x (1 + r + m)), so that
        ``F[R, B]^{-1} base = [A_B^{-1} b | A_B^{-1} | A_B^{-1} A]``.
    r, m : int
    """

    F_rows: list[list[int]]
    base: flint.fmpq_mat
    r: int
    m: int


def submatrix(rows: Sequence[Sequence[int]], cols: Sequence[int]) -> flint.fmpq_mat:
    """``rows[:, cols]`` as an ``fmpq_mat``."""
    return flint.fmpq_mat(len(rows), len(cols), [row[j] for row in rows for j in cols])


def standard_form(F: Sequence[Sequence[int]], rows: Sequence[int], basis0: Sequence[int]) -> StandardForm:
    """The reduced system of ``{x >= 0 : F x = F 1}`` on rows ``rows`` and initial basis ``basis0``.

    Raises
    ------
    ValueError
        If ``F[rows, basis0]`` is singular, or some row of ``F`` is not in the row space of
        ``F[rows, :]`` (then the reduced system would describe a larger set).
    """
    r, m = len(rows), len(F[0]) if F else 0
    if len(basis0) != r:
        raise ValueError(f"the initial basis has {len(basis0)} columns, expected r = {r}")
    FR = [list(F[i]) for i in rows]
    FRB0 = submatrix(FR, basis0)
    if r and FRB0.det() == 0:
        raise ValueError("F[rows, basis0] is singular")
    base = flint.fmpq_mat(r, 1 + r + m, [v for i in range(r) for v in
                                         [sum(FR[i])] + [FR[i][j] for j in basis0] + FR[i]])
    if r:
        A = FRB0.solve(flint.fmpq_mat(r, m, [v for row in FR for v in row]))
        recon = flint.fmpq_mat(flint.fmpz_mat([[row[j] for j in basis0] for row in F])) * A
        full = flint.fmpq_mat(flint.fmpz_mat([list(row) for row in F]))
        if recon != full:
            raise ValueError("some row of F is not a combination of the rows given: the reduced "
                             "system would describe a larger set")
    elif any(v for row in F for v in row):
        raise ValueError("F is non-zero but no rows were given")
    return StandardForm(FR, base, r, m)


@dataclass(frozen=True)
class Tableau:
    """The tableau of one basis.

    Attributes
    ----------
    basis : tuple[int, ...]
        The basis columns, in the order of the tableau's rows.
    lex : list[list[Fraction]]
        ``A_B^{-1} [b | I]``, one row per basis column (its first entry is the basic solution).
    columns : list[list[Fraction]]
        ``A_B^{-1} A``, one row per basis column (m entries).
    """

    basis: tuple[int, ...]
    lex: list[list[Fraction]]
    columns: list[list[Fraction]]

    def lex_feasible(self) -> bool:
        """Every row of ``A_B^{-1} [b | I]`` is lexicographically positive."""
        return all(lex_positive(row) for row in self.lex)

    def basic_solution(self, m: int) -> list[Fraction]:
        """``x_B = A_B^{-1} b``, zero off the basis (length ``m``)."""
        x = [Fraction(0)] * m
        for i, j in enumerate(self.basis):
            x[j] = self.lex[i][0]
        return x

    def pivot(self, j: int) -> tuple[int, ...] | None:
        """The basis after the lexicographic pivot on column ``j`` (sorted), or None when
        ``A_B^{-1} A_j`` has no positive entry (an unbounded edge: no neighbour)."""
        best = None
        best_key = None
        for i, row in enumerate(self.columns):
            dij = row[j]
            if dij > 0:
                key = [v / dij for v in self.lex[i]]
                if best_key is None or key < best_key:
                    best, best_key = i, key
        if best is None:
            return None
        return tuple(sorted([c for c in self.basis if c != self.basis[best]] + [j]))


def tableau(sf: StandardForm, basis: Sequence[int]) -> Tableau | None:
    """The tableau of ``basis`` (None when ``A_B`` is singular)."""
    r, m = sf.r, sf.m
    basis = tuple(basis)
    if len(basis) != r:
        raise ValueError(f"a basis has r = {r} columns, got {len(basis)}")
    if r == 0:
        return Tableau(basis, [], [])
    FRB = submatrix(sf.F_rows, basis)
    if FRB.det() == 0:
        return None
    sol = FRB.solve(sf.base)
    width = 1 + r + m
    flat = [_q(v) for v in sol.entries()]
    rows = [flat[i * width:(i + 1) * width] for i in range(r)]
    return Tableau(basis, [row[:1 + r] for row in rows], [row[1 + r:] for row in rows])


def neighbours(sf: StandardForm, tab: Tableau) -> list[tuple[int, tuple[int, ...]]]:
    """``(j, pivot basis)`` for every column ``j`` outside the basis with a pivot."""
    inside = set(tab.basis)
    out = []
    for j in range(sf.m):
        if j not in inside:
            nxt = tab.pivot(j)
            if nxt is not None:
                out.append((j, nxt))
    return out
