"""Exact vertex enumeration of ``{x >= 0 : A x = b}`` with pycddlib in GMP-rational mode.

The equality system is first reduced exactly to independent rows (a rational row echelon form
of ``[A | b]``; an inconsistent system gives an empty polytope). pycddlib's double description
method (``cdd.gmp``, exact rationals) then lists the vertices and the extreme rays. A budget
bounds the work: before enumerating, the number of candidate bases ``C(k, r)`` (k columns, rank
r) is an upper bound on the vertex count; above the budget the enumeration is refused with an
estimate instead of running for hours (design.md, "Vertex enumeration at scale").
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import flint

from certify.errors import BudgetError

DEFAULT_MAX_VERTICES = 10_000
"""Default budget: refuse polytopes that may have more vertices than this."""


@dataclass(frozen=True)
class Enumeration:
    """Vertices and extreme rays of ``{x >= 0 : A x = b}``, exact.

    Attributes
    ----------
    vertices : list[tuple[Fraction, ...]]
        Sorted (lexicographically), each of length k.
    rays : list[tuple[Fraction, ...]]
        Extreme rays (empty iff the polyhedron is bounded or empty), each scaled so that its
        largest entry is 1.
    rank : int
        Rank of ``A`` (the number of independent equality rows kept).
    rows : list[int]
        The independent rows kept.
    seconds : float
    notes : list[str]
    """

    vertices: list[tuple[Fraction, ...]]
    rays: list[tuple[Fraction, ...]]
    rank: int
    rows: list[int]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def dimension(self) -> int:
        """Dimension of the polyhedron (``-1`` when empty): the affine dimension of its vertices
        and rays' span."""
        if not self.vertices:
            return -1
        base = self.vertices[0]
        vecs = [[a - b for a, b in zip(v, base, strict=True)] for v in self.vertices[1:]]
        vecs += [list(ray) for ray in self.rays]
        if not vecs:
            return 0
        return flint.fmpq_mat(len(vecs), len(base), [flint.fmpq(v.numerator, v.denominator)
                                                     for row in vecs for v in row]).rank()


def independent_equalities(A: Sequence[Sequence[Fraction]], b: Sequence[Fraction]
                           ) -> tuple[list[int], bool]:
    """Rows of ``A`` that are independent and span its row space, and whether ``A x = b`` is
    consistent (exact rational elimination on ``[A | b]^T``)."""
    n = len(A)
    k = len(A[0]) if n else 0
    if n == 0:
        return [], True
    aug_t = flint.fmpq_mat(k + 1, n, [flint.fmpq(Fraction(A[i][j]).numerator, Fraction(A[i][j]).denominator)
                                      if j < k else flint.fmpq(Fraction(b[i]).numerator,
                                                               Fraction(b[i]).denominator)
                                      for j in range(k + 1) for i in range(n)])
    a_t = flint.fmpq_mat(k, n, [aug_t[j, i] for j in range(k) for i in range(n)]) if k else None
    rank_a = a_t.rank() if a_t is not None else 0
    consistent = aug_t.rank() == rank_a
    if rank_a == 0:
        return [], consistent
    rref, rank = a_t.rref()
    pivots = []
    for i in range(rank):
        pivots.append(next(j for j in range(n) if rref[i, j] != 0))
    return pivots, consistent


def vertex_upper_bound(k: int, r: int) -> int:
    """An upper bound on the vertex count of ``{x >= 0 : A x = b}`` (k columns, rank r).

    The smaller of ``C(k, r)`` (every vertex is the basic solution of some basis) and McMullen's
    upper bound for a polytope of dimension ``e = k - r`` with at most ``k`` facets,
    ``C(k - ceil(e/2), floor(e/2)) + C(k - floor(e/2) - 1, ceil(e/2) - 1)``.
    """
    e = k - r
    bound = math.comb(k, r)
    if e >= 1:
        lo, hi = e // 2, (e + 1) // 2
        bound = min(bound, math.comb(k - hi, lo) + math.comb(k - lo - 1, hi - 1))
    return bound


def enumerate_vertices(A: Sequence[Sequence[Fraction | int]], b: Sequence[Fraction | int],
                       max_vertices: int = DEFAULT_MAX_VERTICES, force: bool = False) -> Enumeration:
    """Vertices and rays of ``{x >= 0 : A x = b}`` in exact rational arithmetic (``cdd.gmp``).

    Parameters
    ----------
    A : rows of rationals (ints or Fractions; floats are read as their exact dyadic value),
        shape (n, k).
    b : rationals, shape (n,).
    max_vertices : int, default=10_000
        Budget. When ``C(k, rank A)`` exceeds it and the count cannot be bounded otherwise,
        :class:`BudgetError` is raised (unless ``force``), with the estimate in its message.
        The enumeration itself also stops with :class:`BudgetError` when more vertices than
        this are found.
    force : bool, default=False
        Skip the a-priori bound (the count found is still checked afterwards).

    Returns
    -------
    Enumeration
    """
    import cdd
    import cdd.gmp

    start = time.perf_counter()
    A = [[Fraction(v) for v in row] for row in A]
    b = [Fraction(v) for v in b]
    k = len(A[0]) if A else 0
    rows, consistent = independent_equalities(A, b)
    if not consistent:
        return Enumeration([], [], len(rows), rows, time.perf_counter() - start,
                           ["the equality system is inconsistent: the polytope is empty"])
    r = len(rows)
    bound = vertex_upper_bound(k, r)
    notes = []
    if bound > max_vertices and not force:
        raise BudgetError(
            f"vertex enumeration refused: {k} columns of rank {r} allow up to {bound:.3g} "
            f"vertices, more than the budget of {max_vertices}. Raise the budget (max_vertices / "
            f"--max-vertices) if the polytope is known to be small, or select fewer coordinates.")
    # cdd H-representation: each row [c, a] means c + a.x >= 0 (an equality when in lin_set)
    mat = [[b[i]] + [-v for v in A[i]] for i in rows]
    mat += [[Fraction(0)] + [Fraction(int(j == i)) for j in range(k)] for i in range(k)]
    if k == 0:
        return Enumeration([()], [], r, rows, time.perf_counter() - start, notes)
    hrep = cdd.gmp.matrix_from_array(mat, lin_set=set(range(len(rows))), rep_type=cdd.RepType.INEQUALITY)
    poly = cdd.gmp.polyhedron_from_matrix(hrep)
    gens = cdd.gmp.copy_generators(poly)
    vertices, rays = [], []
    for i, row in enumerate(gens.array):
        vec = tuple(Fraction(v) for v in row[1:])
        if row[0] != 0:
            vertices.append(tuple(v / Fraction(row[0]) for v in vec))
        else:
            top = max(vec, key=abs)
            rays.append(tuple(v / abs(top) for v in vec))
            if i in gens.lin_set:  # cannot happen for x >= 0 (pointed)
                notes.append("cdd returned a line: the polyhedron is not pointed")
    if len(vertices) > max_vertices:
        raise BudgetError(f"the polytope has {len(vertices)} vertices, more than the budget of "
                          f"{max_vertices}")
    return Enumeration(sorted(set(vertices)), sorted(set(rays)), r, rows, time.perf_counter() - start, notes)
