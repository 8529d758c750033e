"""The exact polytope of a network's own neurons, ``{beta >= 0 : F beta = F 1}`` (theory.md §4).

``F`` holds the exact activation fits ``F_j = (X W1_j)_+ w2_j`` of the stored (dyadic) weights,
with the ones column in ``X`` when there is a first-layer bias. Every point ``beta`` of the
polytope keeps the fit: the network whose neuron ``j`` is scaled by ``sqrt(beta_j)`` in both
layers (or, exactly rationally, whose ``w2_j`` is multiplied by ``beta_j``) computes the same
``f(X)``. With the balanced scaling the penalty is linear in ``beta``:
``(lam/2) sum_j beta_j (||W1_j||^2 + w2_j^2)``. Its vertices are the *minimal* re-weightings:
their non-zero neurons have linearly independent fits (Prop. 3.6 of the paper in these
coordinates). The polytope is non-trivial when ``m`` exceeds the rank of ``F`` or the fits are
exactly dependent; for generic float networks with ``m <= n`` it is the single point ``1``.

Two exact enumerations, cross-checked:

* pycddlib in GMP-rational mode (:func:`certify.optimal_set.enumeration.enumerate_vertices`);
* a breadth-first search over lexicographically feasible bases
  (:mod:`certify.exact.lexbases`), whose list is the completeness evidence of the
  ``network_polytope_vertices`` claim (proofs/optimal_set.md).

Nothing here is trusted by the checker; each step is pure and sized by a budget.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import flint

from certify.errors import BudgetError
from certify.exact.context import ExactContext
from certify.exact.lexbases import StandardForm, standard_form, tableau
from certify.exact.linalg import DEFAULT_PRIME, independent_rows
from certify.optimal_set.enumeration import DEFAULT_MAX_VERTICES, enumerate_vertices

DEFAULT_MAX_BASES = 20_000
"""Default budget of the lexicographic basis search (the completeness evidence)."""

FALLBACK_PRIMES = (DEFAULT_PRIME, 4611686018427387847, 9223372036854775783)


def activation_matrix(ctx: ExactContext) -> list[list[int]]:
    """Exact activation fits ``F[k][j] = (x_k^T W1_j)_+ w2_j``, up to one positive common scale
    (``2^-(shift)``, irrelevant for ``{beta >= 0 : F beta = F 1}``), as integers (n rows)."""
    w2 = [int(v) for v in ctx.w2.mat.entries()]
    return [[(v if v > 0 else 0) * w2[j] for j, v in enumerate(row)] for row in ctx.evaluation.preact]


def _column_rank(F: list[list[int]], cols: list[int], p: int) -> int:
    if not cols or not F:
        return 0
    return flint.nmod_mat([[row[j] for j in cols] for row in F], p).rank()


def purify(F: list[list[int]], beta: list[Fraction]) -> list[Fraction]:
    """A vertex of ``{x >= 0 : F x = F beta}`` whose support lies in that of ``beta`` (exact).

    Repeatedly takes an exact null vector ``z`` of the support columns and moves
    ``beta - t z`` until a coordinate reaches zero (Algorithm 1 in beta-coordinates, without
    the penalty rule: any direction keeps the fit).
    """
    beta = list(beta)
    while True:
        support = [j for j, v in enumerate(beta) if v]
        if not support:
            return beta
        sub = flint.fmpq_mat(flint.fmpz_mat([[row[j] for j in support] for row in F]))
        rref, rank = sub.rref()
        if rank == len(support):
            return beta
        pivots = []
        for i in range(rank):
            pivots.append(next(c for c in range(len(support)) if rref[i, c] != 0))
        free = next(c for c in range(len(support)) if c not in pivots)
        z = [Fraction(0)] * len(support)
        z[free] = Fraction(1)
        for i, c in enumerate(pivots):
            q = rref[i, free]
            z[c] = -Fraction(int(q.p), int(q.q))
        if not any(v > 0 for v in z):
            z = [-v for v in z]
        # the largest step keeping beta >= 0: exact, so the minimizing coordinate becomes exactly 0
        t = min(beta[j] / z[c] for c, j in enumerate(support) if z[c] > 0)
        for c, j in enumerate(support):
            beta[j] -= t * z[c]


@dataclass(frozen=True)
class Start:
    """An initial lexicographically feasible basis and the rows of the reduced system."""

    rows: list[int]
    basis: tuple[int, ...]
    prime: int
    form: StandardForm


def initial_basis(F: list[list[int]]) -> Start:
    """Rows ``R`` spanning the row space of ``F`` and a feasible basis ``B0`` (hence
    lexicographically feasible in its own coordinates), found modulo a prime and verified
    exactly by :func:`certify.exact.lexbases.standard_form`."""
    m = len(F[0])
    vertex = purify(F, [Fraction(1)] * m)
    support = [j for j, v in enumerate(vertex) if v]
    for p in FALLBACK_PRIMES:
        basis = list(support)
        rank = _column_rank(F, basis, p)
        if rank != len(basis):
            continue
        for j in range(m):
            if j not in basis and _column_rank(F, basis + [j], p) > rank:
                basis.append(j)
                rank += 1
        basis.sort()
        rows = independent_rows(flint.fmpz_mat([[row[j] for j in basis] for row in F]), p) if basis else []
        if rows is None:
            continue
        try:
            form = standard_form(F, rows, basis)
        except ValueError:
            continue
        return Start(sorted(rows), tuple(basis), p, form)
    raise ArithmeticError("no initial basis found modulo the fallback primes")  # pragma: no cover


@dataclass
class BasisSearch:
    """Result of :func:`lex_bases`: every lexicographically feasible basis, with its vertex."""

    start: Start
    bases: dict[tuple[int, ...], tuple[Fraction, ...]]
    complete: bool
    seconds: float
    unbounded_edges: int = 0

    @property
    def vertices(self) -> list[tuple[Fraction, ...]]:
        return sorted(set(self.bases.values()))


def lex_bases(F: list[list[int]], max_bases: int = DEFAULT_MAX_BASES,
              progress: Callable[[int, int], None] | None = None,
              max_seconds: float | None = None) -> BasisSearch:
    """Breadth-first search over the lexicographic pivots from the initial basis.

    Returns ``complete=False`` (with the bases found so far) when more than ``max_bases``
    bases are reached or the search runs longer than ``max_seconds``; ``progress(found,
    frontier)`` is called every 500 bases.
    """
    start_time = time.perf_counter()
    start = initial_basis(F)
    sf = start.form
    bases: dict[tuple[int, ...], tuple[Fraction, ...]] = {}
    queue = deque([start.basis])
    seen = {start.basis}
    unbounded = 0
    complete = True
    while queue:
        if max_seconds is not None and time.perf_counter() - start_time > max_seconds:
            complete = False
            break
        basis = queue.popleft()
        tab = tableau(sf, basis)
        if tab is None or not tab.lex_feasible():  # pragma: no cover - excluded by the theory
            raise ArithmeticError(f"lexicographic pivot reached a basis that is not lex-feasible: {basis}")
        bases[basis] = tuple(tab.basic_solution(sf.m))
        inside = set(basis)
        for j in range(sf.m):
            if j in inside:
                continue
            nxt = tab.pivot(j)
            if nxt is None:
                unbounded += 1
            elif nxt not in seen:
                if len(seen) >= max_bases:
                    complete = False
                    continue
                seen.add(nxt)
                queue.append(nxt)
        if progress and len(bases) % 500 == 0:
            progress(len(bases), len(queue))
    return BasisSearch(start, bases, complete, time.perf_counter() - start_time, unbounded)


@dataclass(frozen=True)
class MinimalNetwork:
    """A vertex ``beta`` of the network polytope as a network.

    Attributes
    ----------
    beta : tuple[Fraction, ...]
        The vertex (m entries).
    neurons : list[int]
        Kept neurons (``beta_j > 0``); its length is the width.
    W1, w2 : exact rationals
        The output-scaled network: ``W1`` columns of the kept neurons unchanged, ``w2_j beta_j``
        (same fit exactly; rows of W1 include the bias row when there is one).
    penalty_balanced : Fraction
        ``(lam/2) sum_j beta_j (||W1_j||^2 + w2_j^2)``: the penalty of the network with both
        layers of neuron ``j`` scaled by ``sqrt(beta_j)`` (same fit; irrational weights).
    """

    beta: tuple[Fraction, ...]
    neurons: list[int]
    W1: list[list[Fraction]]
    w2: list[Fraction]
    penalty_balanced: Fraction

    @property
    def width(self) -> int:
        return len(self.neurons)


def minimal_network(ctx: ExactContext, beta: tuple[Fraction, ...]) -> MinimalNetwork:
    """The network of a vertex ``beta`` (zero neurons dropped)."""
    W1 = ctx.W1.fractions()
    w2 = [Fraction(v, 1 << ctx.w2.shift) for v in ctx.w2.entries()]
    keep = [j for j, v in enumerate(beta) if v]
    sq = [sum(W1[i][j] ** 2 for i in range(len(W1))) + w2[j] ** 2 for j in range(ctx.m)]
    return MinimalNetwork(tuple(beta), keep, [[W1[i][j] for j in keep] for i in range(len(W1))],
                          [w2[j] * beta[j] for j in keep],
                          ctx.lam / 2 * sum(beta[j] * sq[j] for j in keep))


@dataclass
class NetworkPolytope:
    """The exact polytope of a network's own neurons.

    Attributes
    ----------
    F : list[list[int]]
        Integer activation fits (common positive scale dropped).
    rank : int
        Rank of ``F``.
    vertices : list[tuple[Fraction, ...]]
        From pycddlib (GMP rationals), equal to the lexicographic search's when it completed.
    rays : list[tuple[Fraction, ...]]
        Extreme rays (non-empty iff the polyhedron is unbounded: some non-negative combination
        of fits is zero, e.g. a zero neuron or two opposite neurons).
    networks : list[MinimalNetwork]
    search : BasisSearch or None
        The completeness evidence (None when not computed).
    seconds : dict
    """

    F: list[list[int]]
    rank: int
    vertices: list[tuple[Fraction, ...]]
    rays: list[tuple[Fraction, ...]]
    networks: list[MinimalNetwork]
    search: BasisSearch | None
    seconds: dict = field(default_factory=dict)

    @property
    def dimension(self) -> int:
        """``m - rank F``: the polytope contains ``1`` with every coordinate positive, so its
        affine hull is ``{F beta = F 1}``."""
        return len(self.F[0]) - self.rank

    @property
    def complete(self) -> bool:
        return self.search is not None and self.search.complete


def network_polytope(ctx: ExactContext, max_vertices: int = DEFAULT_MAX_VERTICES,
                     max_bases: int = DEFAULT_MAX_BASES, evidence: bool = True,
                     progress: Callable[[int, int], None] | None = None,
                     max_seconds: float | None = None) -> NetworkPolytope:
    """Vertices of ``{beta >= 0 : F beta = F 1}`` for the network of ``ctx``, exactly.

    Parameters
    ----------
    ctx : ExactContext
        Data, network and lam (exact).
    max_vertices : int
        Budget of the cdd enumeration (:class:`BudgetError` with an estimate beyond it).
    max_bases : int
        Budget of the lexicographic search; beyond it the result has no completeness evidence.
    evidence : bool
        Run the lexicographic search (the completeness evidence of the certificate).
    progress : callable, optional
        ``progress(bases found, frontier)`` during the lexicographic search.
    max_seconds : float, optional
        Time budget of the lexicographic search (beyond it: no completeness evidence).

    Raises
    ------
    BudgetError
        When the vertex count may exceed ``max_vertices``.
    ArithmeticError
        When the two exact enumerations disagree (a bug; never silently).
    """
    t0 = time.perf_counter()
    F = activation_matrix(ctx)
    m = ctx.m
    ones = [sum(row) for row in F]
    enum = enumerate_vertices(F, ones, max_vertices=max_vertices)
    seconds = {"cdd": enum.seconds}
    search = None
    if evidence:
        search = lex_bases(F, max_bases=max_bases, progress=progress, max_seconds=max_seconds)
        seconds["lex_search"] = search.seconds
        if search.complete and search.vertices != enum.vertices:
            raise ArithmeticError("the lexicographic search and pycddlib found different vertex sets")
        if not search.complete and not set(search.vertices) <= set(enum.vertices):
            raise ArithmeticError("the lexicographic search found a point that pycddlib did not list")
    networks = [minimal_network(ctx, v) for v in enum.vertices]
    seconds["total"] = time.perf_counter() - t0
    if m and not enum.vertices:  # pragma: no cover - beta = 1 is always feasible
        raise ArithmeticError("empty network polytope")
    return NetworkPolytope(F, enum.rank, enum.vertices, enum.rays, networks, search, seconds)


def check_budget(count: int, budget: int, what: str) -> None:
    """Raise :class:`BudgetError` when ``count > budget``."""
    if count > budget:
        raise BudgetError(f"{what}: {count} exceeds the budget of {budget}")
