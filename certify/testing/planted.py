"""Planted exact instances with a known optimal set (theory.md §3-4), for tests and examples.

Each instance is built from its dual certificate: a residual ``r`` and a rational correlation
vector ``v`` with ``||v|| = lam`` (a Pythagorean point, so the norm is rational), chosen so that
the blocks of the pattern scope split into the equicorrelation set ``E`` (``Z_b^T r`` already
in the cone with norm ``lam``: ``v_b = Z_b^T r``) and blocks certifiably below ``lam``. Then
``fit = sum_b alpha0_b Z_b v_b`` for a chosen ``alpha0 >= 0`` and ``y = fit + r``. KKT holds
exactly (theory.md §3), so the optimal fit is ``fit``, the optimal value is
``p* = <y, r> - 1/2 ||r||^2`` (penalty identity) and the optimal set in alpha-coordinates is
``P = {alpha >= 0 : M alpha = fit}`` with ``M = [Z_b v_b]_{b in E}``: an exact rational polytope
whose vertices are known in advance.

Construction: ``r = rho e_t`` is supported on one point ``t``, so ``Z_b^T r = s rho x_t`` when
``t`` is in the pattern and 0 otherwise; ``lam = rho ||x_t||`` with ``x_t`` a Pythagorean vector.

* :func:`planted_gated` (gated ReLU, arbitrary 0/1 gates, sign +1): blocks whose patterns contain
  ``t`` share ``v = rho x_t`` but differ on *groups* of other points; fits are
  ``c_S = c_t + sum_{g in S} a_g`` for a family of group subsets ``S``, so relations such as
  ``c_{A} + c_{B} = c_{A u B} + c_{{}}`` make ``P`` a non-trivial polytope (a segment for that
  family). Its vertices are computed by :func:`vertices_by_supports` (every basic solution,
  exact, no cdd).
* :func:`planted_relu` (the cone-constrained C-ReLU): ``k`` points on the hyperplane of ``x_t``
  (ties) give ``2^k`` duplicate blocks with equal ``Z_b v_b`` (theory.md §4, duplicate blocks):
  before merging ``P`` is the simplex ``{alpha >= 0 : sum alpha = alpha0}`` with ``2^k``
  vertices; after merging, a single point (p-unique).
* :func:`planted_network`: a network whose neurons have exactly dependent fits (data in the
  positive orthant, neurons ``e_i``, ``e_i + e_j`` and a duplicate), with the vertices of
  ``{beta >= 0 : F beta = F 1}`` known by :func:`vertices_by_supports`.

Scaling: certify's (loss 1/2 sum, lam times the sum of group norms, theory.md §1-2). Every number
is exact: ``X`` holds small integers, ``y`` dyadic rationals, ``lam`` a rational.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np

F = Fraction

PYTHAGOREAN = {2: [(3, 4), (5, 12), (8, 15), (4, 3)], 3: [(1, 2, 2), (2, 3, 6), (2, 6, 9), (4, 4, 7)]}
"""Integer vectors with an integer norm, by dimension."""


def _norm(v) -> int:
    s = sum(int(a) ** 2 for a in v)
    r = int(round(s ** 0.5))
    assert r * r == s
    return r


@dataclass(frozen=True)
class PlantedOptimalSet:
    """A planted instance of the convex program over a pattern scope, with its exact optimal set.

    Attributes
    ----------
    X : ndarray (n, d)
        Features (small integers; exact as floats).
    y : ndarray (n,)
        Targets (dyadic; exact as floats).
    lam : Fraction
    D : ndarray (n, P) uint8
        The pattern scope (blocks ``(p, +1)`` and, unless gated, ``(p, -1)``).
    gated : bool
    blocks : list[tuple[int, int]]
        The equicorrelation set ``E``: ``(pattern column, sign)``.
    v : list[tuple[Fraction, ...]]
        Correlation vector of each block of ``E`` (``||v|| = lam``).
    columns : list[tuple[Fraction, ...]]
        ``Z_b v_b`` of each block of ``E`` (n entries).
    alpha0 : tuple[Fraction, ...]
        The planted optimal point of ``P``.
    fit, residual : tuple[Fraction, ...]
    optimal_value : Fraction
        ``p* = <y, r> - 1/2 ||r||^2``.
    vertices : list[tuple[Fraction, ...]]
        The vertices of ``P`` (known by construction; sorted).
    merged_vertices : list[tuple[Fraction, ...]]
        The vertices after merging blocks with equal sign and equal ``Z_b v_b`` (sorted).
    groups : list[list[int]]
        The merged groups (indices into ``blocks``).
    """

    X: np.ndarray
    y: np.ndarray
    lam: Fraction
    D: np.ndarray
    gated: bool
    blocks: list[tuple[int, int]]
    v: list[tuple[Fraction, ...]]
    columns: list[tuple[Fraction, ...]]
    alpha0: tuple[Fraction, ...]
    fit: tuple[Fraction, ...]
    residual: tuple[Fraction, ...]
    optimal_value: Fraction
    vertices: list[tuple[Fraction, ...]]
    merged_vertices: list[tuple[Fraction, ...]]
    groups: list[list[int]]

    @property
    def support(self) -> list[int]:
        """``S``: blocks of ``E`` positive at some vertex."""
        return sorted({i for vert in self.vertices for i, a in enumerate(vert) if a})

    def weights(self, alpha) -> tuple[np.ndarray, np.ndarray]:
        """Solver layout ``(U, H)`` (d, P) of the point ``w_b = alpha_b v_b``."""
        d, P = self.X.shape[1], self.D.shape[1]
        U, H = np.zeros((d, P)), np.zeros((d, P))
        for (p, s), a, v in zip(self.blocks, alpha, self.v, strict=True):
            (U if s > 0 else H)[:, p] += float(a) * np.array([float(c) for c in v])
        return U, H


def vertices_by_supports(columns, target, limit: int = 16) -> list[tuple[Fraction, ...]]:
    """Vertices of ``{x >= 0 : sum_i x_i columns_i = target}`` by brute force, exactly.

    Every vertex is the unique solution on a support whose columns are independent; this tries
    every subset of at most ``rank`` columns (for ``len(columns) <= limit``). Independent of
    pycddlib: a reference for tests.
    """
    k = len(columns)
    if k > limit:
        raise ValueError(f"brute force over {k} > {limit} columns")
    n = len(target)
    found = set()
    for size in range(0, min(k, n) + 1):
        for subset in combinations(range(k), size):
            sol = _solve_exact([columns[i] for i in subset], target)
            if sol is None or any(a <= 0 for a in sol):
                continue
            x = [F(0)] * k
            for i, a in zip(subset, sol, strict=True):
                x[i] = a
            found.add(tuple(x))
    return sorted(found)


def _solve_exact(cols, target) -> list[Fraction] | None:
    """The unique ``a`` with ``sum a_i cols_i = target`` when the columns are independent, else None."""
    n, k = len(target), len(cols)
    rows = [[F(cols[j][i]) for j in range(k)] + [F(target[i])] for i in range(n)]
    piv_cols, r = [], 0
    for c in range(k + 1):
        p = next((i for i in range(r, n) if rows[i][c] != 0), None)
        if p is None:
            continue
        if c == k:
            return None  # inconsistent
        rows[r], rows[p] = rows[p], rows[r]
        inv = 1 / rows[r][c]
        rows[r] = [v * inv for v in rows[r]]
        for i in range(n):
            if i != r and rows[i][c]:
                f = rows[i][c]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[r], strict=True)]
        piv_cols.append(c)
        r += 1
    if len(piv_cols) != k:
        return None  # dependent columns
    return [rows[i][k] for i in range(k)]


def _merge(blocks, columns) -> list[list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, ((_, s), col) in enumerate(zip(blocks, columns, strict=True)):
        groups.setdefault((s, tuple(col)), []).append(i)
    return sorted(groups.values())


def _finish(X, D, gated, t, rho, lam, blocks, alpha0) -> PlantedOptimalSet:
    n = X.shape[0]
    xt = [F(int(a)) for a in X[t]]
    v = tuple(rho * a for a in xt)
    vs, cols = [], []
    for p, s in blocks:
        vs.append(tuple(s * a for a in v))
        cols.append(tuple(F(s * int(D[k, p])) * sum((F(int(X[k, i])) * s * v[i] for i in range(len(v))), F(0))
                          for k in range(n)))
    fit = tuple(sum((a * c[k] for a, c in zip(alpha0, cols, strict=True)), F(0)) for k in range(n))
    residual = tuple(rho if k == t else F(0) for k in range(n))
    y = [f + r for f, r in zip(fit, residual, strict=True)]
    for val in y:
        assert float(val) == val, "targets must be exact floats"
    opt = sum((a * b for a, b in zip(y, residual, strict=True)), F(0)) - sum(r * r for r in residual) / 2
    vertices = vertices_by_supports(cols, fit) if len(cols) <= 16 else []
    groups = _merge(blocks, cols)
    merged_cols = [cols[g[0]] for g in groups]
    merged = vertices_by_supports(merged_cols, fit)
    return PlantedOptimalSet(np.asarray(X, float), np.array([float(a) for a in y]), F(lam),
                             D.astype(np.uint8),
                             gated, list(blocks), vs, cols, tuple(alpha0), fit, residual, opt,
                             vertices, merged, groups)


def planted_gated(seed: int = 0, groups: int = 2, family: list[tuple[int, ...]] | None = None,
                  d: int = 2, group_size: int = 2, distractors: int = 3,
                  alpha0: list[Fraction] | None = None) -> PlantedOptimalSet:
    """A gated-ReLU instance whose optimal set is a known non-trivial polytope.

    Parameters
    ----------
    seed : int
        Seeds the off-``t`` points and distractor gates.
    groups : int
        Number of disjoint groups of other points.
    family : list of tuples of group indices, optional
        The group subsets ``S`` that form the equicorrelation blocks (pattern ``{t} u groups in S``).
        Default ``[(0,), (1,), (0, 1), ()]`` for two groups: ``P`` is a segment with vertices
        ``(1, 1, 0, 0)`` and ``(0, 0, 1, 1)`` (times the scale of ``alpha0``).
    d : int
        2 or 3.
    distractors : int
        Patterns without ``t`` (their ``Z_b^T r = 0``).
    alpha0 : optional planted optimal point (default: 1 on the first two subsets).
    """
    rng = np.random.default_rng(seed)
    family = family if family is not None else ([(0,), (1,), (0, 1), ()] if groups == 2
                                                else [tuple(range(i + 1)) for i in range(groups)] + [()])
    xt = np.array(PYTHAGOREAN[d][seed % len(PYTHAGOREAN[d])])
    pts = [xt]
    members = []
    for _g in range(groups):
        idx = []
        for _ in range(group_size):
            while True:
                x = rng.integers(-4, 5, size=d)
                if x @ xt != 0:
                    break
            idx.append(len(pts))
            pts.append(x)
        members.append(idx)
    X = np.array(pts, dtype=float)
    n = X.shape[0]
    cols = []
    for S in family:
        col = np.zeros(n, np.uint8)
        col[0] = 1
        for g in S:
            col[members[g]] = 1
        cols.append(col)
    for _ in range(distractors):
        col = rng.integers(0, 2, size=n).astype(np.uint8)
        col[0] = 0
        cols.append(col)
    D = np.array(cols).T
    rho = F(1, 4)
    lam = rho * _norm(xt)
    blocks = [(p, 1) for p in range(len(family))]
    if alpha0 is None:
        alpha0 = [F(1) if i < 2 else F(0) for i in range(len(family))]
    return _finish(X, D, True, 0, rho, lam, blocks, alpha0)


ALPHA0 = F(3, 2)
"""Default planted magnitude of :func:`planted_relu`."""


def planted_relu(seed: int = 0, ties: int = 2, others: int = 4, d: int = 2, alpha0: Fraction = ALPHA0,
                 distractors: int = 4, xt: tuple[int, ...] | None = None, rho: Fraction | None = None,
                 scope: str = "sampled") -> PlantedOptimalSet:
    """A C-ReLU instance (cone constraints) with ``2^ties`` duplicate equicorrelation blocks.

    Points: ``x_t`` (Pythagorean), ``ties`` points on its hyperplane (``x_k^T x_t = 0``) and
    ``others`` points off it. The scope holds every tie variant of the pattern of ``x_t`` (each
    cone contains ``x_t``), plus ``distractors`` patterns of random gates (``scope="sampled"``) or
    every full-dimensional pattern of the arrangement (``scope="all"``, d = 2 only), each block with
    both signs. Every other block is below ``lam`` strictly: ``Z_b^T r`` is 0, or ``-rho x_t`` on a
    cone where ``x_t^T u >= 0``, or ``rho x_t`` outside its cone (a projection shortens it).
    Before merging, ``P`` is the simplex ``{alpha >= 0 : sum alpha = alpha0}`` (``2^ties``
    vertices); after merging the duplicates (equal ``Z_b v_b``) it is one point.
    """
    rng = np.random.default_rng(seed)
    xt = np.array(xt if xt is not None else PYTHAGOREAN[d][seed % len(PYTHAGOREAN[d])])
    pts = [xt]
    if d == 2:
        basis = [np.array([-xt[1], xt[0]])]
    else:
        basis = [c for c in (np.cross(xt, e) for e in np.eye(3, dtype=int)) if c.any()][:2]
    for i in range(ties):
        coeffs = rng.integers(-2, 3, size=len(basis))
        if not coeffs.any():
            coeffs[0] = 1
        pts.append(sum(c * b for c, b in zip(coeffs, basis, strict=True)) * (1 if i % 2 == 0 else -1))
    for _ in range(others):
        while True:
            x = rng.integers(-4, 5, size=d)
            if x @ xt != 0:
                break
        pts.append(x)
    X = np.array(pts, dtype=float)
    base = (X @ xt >= 0).astype(np.uint8)  # ties counted active
    tie_rows = [k for k in range(1, 1 + ties)]
    cols = []
    for mask in range(1 << ties):
        col = base.copy()
        for i, k in enumerate(tie_rows):
            col[k] = (mask >> i) & 1
        cols.append(col)
    tied = len(cols)
    if scope == "all":
        if d != 2:
            raise ValueError("scope='all' enumerates the planar arrangement: d = 2 only")
        from certify.patterns.sampling import enumerate_planar

        extra = enumerate_planar(X).T
    elif scope == "sampled":
        G = rng.standard_normal((d, distractors))
        extra = [(X @ G[:, q] >= 0).astype(np.uint8) for q in range(distractors)]
    else:
        raise ValueError(f"scope must be 'sampled' or 'all', got {scope!r}")
    for col in extra:
        col = np.asarray(col, np.uint8)
        if not any((col == c).all() for c in cols):
            cols.append(col)
    D = np.array(cols).T
    rho = F(1, 2) if rho is None else F(rho)
    lam = rho * _norm(xt)
    blocks = [(p, 1) for p in range(tied)]
    alphas = [alpha0] + [F(0)] * (tied - 1)
    return _finish(X, D, False, 0, rho, lam, blocks, alphas)


def planted_relu_network(seed: int = 0, ties: int = 2, d: int = 2, others: int = 4
                         ) -> tuple[PlantedOptimalSet, np.ndarray, np.ndarray]:
    """:func:`planted_relu` with ``x_t = e_1`` and a dyadic, exactly optimal, balanced network.

    ``rho = 1/2`` (so ``lam = 1/2``) and ``alpha0 = 8``: the optimal block ``w = alpha0 v`` has
    ``||w|| = 4``, so the neuron ``W1 = w / 2``, ``w2 = 2`` is dyadic and balanced and attains
    the optimum of the convex program over the scope (its pattern is the first block's). Returns
    the instance and ``(W1 (d, 1), w2 (1,))``.
    """
    xt = tuple([1] + [0] * (d - 1))
    inst = planted_relu(seed, ties=ties, others=others, d=d, alpha0=F(8), xt=xt, rho=F(1, 2))
    w = [8 * c for c in inst.v[0]]
    W1 = np.array([[float(c / 2)] for c in w])
    return inst, W1, np.array([2.0])


@dataclass(frozen=True)
class PlantedNetwork:
    """A network with exactly dependent neuron fits and the known vertices of its polytope.

    ``F = [(X W1_j)_+ w2_j]``; ``vertices`` are those of ``{beta >= 0 : F beta = F 1}``, found by
    :func:`vertices_by_supports` (no cdd).
    """

    X: np.ndarray
    y: np.ndarray
    W1: np.ndarray
    w2: np.ndarray
    lam: Fraction
    fits: list[tuple[Fraction, ...]]
    vertices: list[tuple[Fraction, ...]]


def planted_network(seed: int = 0, n: int = 6, d: int = 2, extra: int = 2, duplicate: bool = True
                    ) -> PlantedNetwork:
    """Data in the positive orthant (every neuron below is active everywhere, so fits are linear
    in ``W1``): neurons ``e_1..e_d``, ``extra`` sums ``e_i + e_j`` (or multiples), and optionally a
    duplicate of neuron 0 with halved output weight. ``rank F = d`` while ``m = d + extra (+1)``."""
    rng = np.random.default_rng(seed)
    X = rng.integers(1, 6, size=(n, d)).astype(float)
    cols = [np.eye(d)[:, i] for i in range(d)]
    w2 = [float(rng.integers(1, 3)) for _ in range(d)]
    for _ in range(extra):
        i, j = rng.choice(d, size=2, replace=d < 2)
        cols.append(np.eye(d)[:, i] + np.eye(d)[:, j] * float(rng.integers(1, 3)))
        w2.append(float(rng.choice([1.0, 0.5, 2.0])))
    if duplicate:
        cols.append(2 * np.eye(d)[:, 0])
        w2.append(w2[0] / 2)
    W1 = np.array(cols).T
    w2 = np.array(w2)
    y = rng.integers(-3, 4, size=n).astype(float)
    fits = [tuple(F(v) for v in np.maximum(X @ W1[:, j], 0) * w2[j]) for j in range(W1.shape[1])]
    target = [sum((f[k] for f in fits), F(0)) for k in range(n)]
    return PlantedNetwork(X, y, W1, w2, F(1, 2), fits, vertices_by_supports(fits, target))
