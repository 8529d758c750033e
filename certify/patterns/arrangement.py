"""Complete enumeration of activation patterns: the cells of the central arrangement (float search).

The hyperplanes ``{u : x_k^T u = 0}`` of the non-zero rows of the features (bias column
included) cut ``R^d`` into open cells; every cell has one activation pattern, and the closures
of all cells cover ``R^d`` (proofs/global_gap.md). This module *finds* the cells and the
evidence that the list is complete; :mod:`certify.check.global_gap` verifies it exactly.

Two methods, both pure functions of independent pieces (so that they can be sharded):

* **rays** (general position; fast): in the row space of rank ``r``, every cell has an extreme
  ray cut out by ``r - 1`` hyperplanes; around the ray ``+-z`` of each ``(r - 1)``-subset of
  hyperplanes the ``2^(r-1)`` adjacent cells have interior points ``+-z + eps w_tau`` with
  ``V_S w_tau = tau``. A piece is a chunk of subsets (:func:`ray_piece`); pieces are merged by
  sign vector. When the number of distinct cells found equals ``2 sum_{k<r} C(h - 1, k)`` (the
  most an arrangement of ``h`` distinct hyperplanes and rank ``r`` can have), the list is
  complete: certificate scheme ``count``.
* **flips** (any arrangement; slow, for small or degenerate data): breadth-first search over
  the tope graph; for every cell and hyperplane class either the flipped cell is found (a
  linear program gives its interior point) or a Farkas combination (non-negative least squares,
  made exact in rationals) shows that the class is not a facet: certificate scheme ``flips``.

Floats find; witnesses are integer vectors whose signs the checker recomputes exactly.
Long enumerations report progress and stop at a budget (cells or seconds) or on
KeyboardInterrupt, returning what they found marked as partial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations, islice, product

import numpy as np

from certify.exact import arrangement as exact_arrangement
from certify.exact.dyadic import DyadicMatrix

MARGIN = 1e-9
"""A float witness is kept only when every ``|x_k^T u| >= MARGIN ||x_k|| ||u||``: its exact signs
are then those computed in floats (rounding is ~1e-16 relative)."""

WITNESS_BITS = 50
"""Integer witnesses: the float witness scaled so that its largest entry has this many bits."""

_CHUNK_ENTRIES = 1 << 22


@dataclass(frozen=True)
class Arrangement:
    """Exact facts about the arrangement of the rows (computed in :func:`describe`).

    Attributes
    ----------
    classes : exact hyperplane classes (:class:`certify.exact.arrangement.Classes`).
    rank : exact rank of X.
    bound : ``2 sum_{k<r} C(h - 1, k)``, the most cells (``h`` = number of classes).
    dim : d, the number of features.
    """

    classes: exact_arrangement.Classes
    rank: int
    bound: int
    dim: int

    @property
    def hyperplanes(self) -> int:
        return self.classes.count


@dataclass
class Enumeration:
    """Cells found, with the completeness evidence.

    Attributes
    ----------
    patterns : (n, P) uint8 activation patterns (one per cell).
    witnesses : P integer witnesses (lists of d Python ints), one interior point per cell.
    scheme : "count" or "flips" when the list is complete by that scheme, "partial" otherwise.
    arrangement : the exact :class:`Arrangement`.
    nonfacets : for "flips", the Farkas proofs (cell, class, den, idx, num).
    message : what happened (why partial, which method).
    seconds : wall time.
    """

    patterns: np.ndarray
    witnesses: list[list[int]]
    scheme: str
    arrangement: Arrangement
    nonfacets: list[dict] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.scheme in ("count", "flips")

    @property
    def count(self) -> int:
        return len(self.witnesses)

    def completeness_evidence(self) -> dict:
        """The ``completeness`` object of a certificate (docs/certificate-format.md, global_gap):
        ``count`` with the hyperplanes, rank and region bound, or ``flips`` with the Farkas proofs."""
        arr = self.arrangement
        if self.scheme == "count":
            return {"kind": "count", "hyperplanes": arr.hyperplanes, "rank": arr.rank, "regions": arr.bound}
        if self.scheme == "flips":
            return {"kind": "flips", "hyperplanes": arr.hyperplanes, "rank": arr.rank,
                    "nonfacets": self.nonfacets}
        raise ValueError(f"the enumeration is not complete ({self.scheme}): no completeness evidence")


def describe(X: np.ndarray) -> Arrangement:
    """Exact hyperplane classes, rank and cell bound of the features ``X`` (n, d)."""
    rows = DyadicMatrix.from_rows(np.asarray(X, float).tolist()).rows()
    classes = exact_arrangement.hyperplane_classes(rows)
    r = exact_arrangement.rank(rows, X.shape[1]) if X.shape[0] else 0
    return Arrangement(classes, r, exact_arrangement.region_bound(classes.count, r), X.shape[1])


def estimate_cells(X: np.ndarray) -> int:
    """``2 sum_{k<r} C(h - 1, k)``: an upper bound on the number of cells (exact when the data are in
    general position), ``h`` distinct hyperplanes, ``r = rank X``."""
    return describe(X).bound


# --- geometry helpers ------------------------------------------------------------------------------


def _unit_reps(arr: Arrangement) -> np.ndarray:
    V = np.array(arr.classes.reps, dtype=float).reshape(arr.hyperplanes, arr.dim)
    if V.size:
        V /= np.linalg.norm(V, axis=1, keepdims=True)
    return V


def _row_space(V: np.ndarray, r: int) -> np.ndarray:
    """Orthonormal basis (d, r) of the row space of V."""
    _, _, vt = np.linalg.svd(V, full_matrices=False)
    return vt[:r].T


def _pack(signs: np.ndarray) -> np.ndarray:
    """Rows of booleans (M, h) -> one bytes key per row (void view of packed bits)."""
    packed = np.packbits(signs, axis=1)
    return np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()


def ray_piece(W: np.ndarray, subsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate cells around the rays of a chunk of ``(r - 1)``-subsets of hyperplanes.

    Parameters
    ----------
    W : (h, r) unit normals of the hyperplane classes in row-space coordinates.
    subsets : (m, r - 1) class indices.

    Returns
    -------
    keys : (M,) packed sign vectors (void bytes) of candidates whose margin is >= MARGIN.
    points : (M, r) their interior points.
    margins : (M,) ``min_i |w_i^T u| / ||u||``.
    """
    h, r = W.shape
    m = subsets.shape[0]
    VS = W[subsets]  # (m, r-1, r)
    _, s, vt = np.linalg.svd(VS, full_matrices=True)
    z = vt[:, -1, :]  # null direction of each subset (m, r)
    good = s[:, -1] > 1e-9
    pinv = np.linalg.pinv(VS)  # (m, r, r-1)
    taus = np.array(list(product((1.0, -1.0), repeat=r - 1)))  # (T, r-1)
    local = np.einsum("mij,tj->mti", pinv, taus)  # (m, T, r)
    A = np.abs(W @ z.T)  # (h, m)
    B = np.abs(np.einsum("hr,mtr->hmt", W, local))  # (h, m, T)
    in_subset = np.zeros((h, m), bool)
    in_subset[subsets, np.arange(m)[:, None]] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(in_subset[:, :, None] | (B == 0), np.inf, A[:, :, None] / B)
    eps = 0.5 * np.minimum(ratio.min(axis=0), 1.0)  # (m, T)
    pts = []
    for sgn in (1.0, -1.0):
        pts.append(sgn * z[:, None, :] + eps[:, :, None] * local)
    U = np.concatenate(pts, axis=1)[good].reshape(-1, r)  # (M, r)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    Y = U @ W.T  # (M, h)
    margins = np.abs(Y).min(axis=1) if h else np.ones(len(U))
    keep = margins >= MARGIN
    return _pack(Y[keep] > 0), U[keep], margins[keep]


def _subset_chunks(h: int, size: int, chunk: int):
    it = combinations(range(h), size)
    while True:
        block = list(islice(it, chunk))
        if not block:
            return
        yield np.array(block, dtype=np.int64).reshape(len(block), size)


def _integer_witness(u: np.ndarray) -> list[int]:
    top = float(np.max(np.abs(u)))
    scaled = np.rint(u / top * 2.0 ** WITNESS_BITS) if top > 0 else np.zeros_like(u)
    return [int(v) for v in scaled]


def _patterns_from_signs(signs: np.ndarray, arr: Arrangement, n: int) -> np.ndarray:
    """Class sign vectors (P, h) bool -> row patterns (n, P) uint8 (zero rows active)."""
    cls = np.array(arr.classes.of_row, dtype=np.int64)
    orient = np.array(arr.classes.orient, dtype=np.int64)
    D = np.ones((n, signs.shape[0]), np.uint8)
    live = cls >= 0
    if live.any():
        s = signs[:, cls[live]].T  # (n_live, P)
        D[live] = np.where(orient[live, None] > 0, s, ~s).astype(np.uint8)
    return D


def _finish(X: np.ndarray, arr: Arrangement, points: list[np.ndarray], Q: np.ndarray | None,
            scheme: str, message: str, start: float, nonfacets: list[dict] | None = None) -> Enumeration:
    """Integer witnesses, re-derived float signs (dropping any witness too close to a hyperplane)."""
    n, d = X.shape
    V = _unit_reps(arr)
    wits, signs = [], []
    for p in points:
        u = Q @ p if Q is not None else p
        wi = _integer_witness(u)
        uf = np.array(wi, dtype=float)
        y = V @ uf if V.size else np.zeros(0)
        if y.size and np.min(np.abs(y)) < MARGIN * np.linalg.norm(uf) * 0.5:
            scheme, message = "partial", message + "; a witness lost its margin when rounded"
            continue
        wits.append(wi)
        signs.append(y > 0)
    S = np.array(signs, dtype=bool).reshape(len(signs), arr.hyperplanes)
    return Enumeration(_patterns_from_signs(S, arr, n), wits, scheme, arr, nonfacets or [], message,
                       time.perf_counter() - start)


# --- the two methods -------------------------------------------------------------------------------


def enumerate_cells(X: np.ndarray, max_cells: int | None = None, time_budget: float | None = None,
                    progress: Callable[[int, int], None] | None = None, method: str = "auto",
                    max_flip_work: int = 2_000_000, piece_size: int | None = None) -> Enumeration:
    """Every cell of the central arrangement of the rows of ``X`` (features, bias column included).

    Parameters
    ----------
    X : (n, d) float features.
    max_cells : stop (partial) when the arrangement may have more cells than this.
    time_budget : seconds; stop (partial) when exceeded.
    progress : called as ``progress(done, total)`` (pieces of the search).
    method : "auto" (rays, then flips if the count falls short), "rays" or "flips".
    max_flip_work : the flips method runs only when cells x hyperplanes is below this.
    piece_size : subsets of hyperplanes per piece of the rays method (default: about 4M float
        entries of work per piece); a piece is the unit of progress, interruption and sharding.

    Returns
    -------
    Enumeration
        ``scheme`` says whether (and how) the list is complete; a KeyboardInterrupt or a budget
        returns the cells found so far with ``scheme = "partial"`` and the reason in ``message``.
    """
    start = time.perf_counter()
    X = np.asarray(X, dtype=float)
    arr = describe(X)
    if max_cells is not None and arr.bound > max_cells:
        return Enumeration(np.zeros((X.shape[0], 0), np.uint8), [], "partial", arr,
                           message=f"the arrangement may have {arr.bound} cells, over the budget of "
                                   f"{max_cells}", seconds=time.perf_counter() - start)
    if method not in ("auto", "rays", "flips"):
        raise ValueError(f"method must be 'auto', 'rays' or 'flips', got {method!r}")
    if method != "flips":
        result = _by_rays(X, arr, time_budget, progress, start, piece_size)
        if result.scheme == "count" or method == "rays" or result.message.startswith("interrupted"):
            return result
        seeds = result.witnesses
    else:
        seeds = []
    if arr.bound * max(1, arr.hyperplanes) > max_flip_work:
        return Enumeration(np.zeros((X.shape[0], 0), np.uint8), [], "partial", arr,
                           message=f"the data are not in general position and the flip search would "
                                   f"need about {arr.bound * arr.hyperplanes} facet tests (over "
                                   f"max_flip_work = {max_flip_work})", seconds=time.perf_counter() - start)
    return _by_flips(X, arr, seeds, time_budget, progress, start)


def _trivial(X: np.ndarray, arr: Arrangement, start: float) -> Enumeration | None:
    n, d = X.shape
    if arr.hyperplanes == 0:
        u = np.zeros(d)
        u[0] = 1.0
        return _finish(X, arr, [u], None, "count", "no hyperplane: one cell", start)
    if arr.rank == 1:
        v = _unit_reps(arr)[0]
        return _finish(X, arr, [v, -v], None, "count", "rank 1: two cells", start)
    return None


def _by_rays(X: np.ndarray, arr: Arrangement, time_budget, progress, start: float,
             piece_size: int | None = None) -> Enumeration:
    trivial = _trivial(X, arr, start)
    if trivial is not None:
        return trivial
    V = _unit_reps(arr)
    r = arr.rank
    Q = _row_space(V, r)
    W = V @ Q
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    h = arr.hyperplanes
    T = 2 ** (r - 1)
    chunk = piece_size or max(1, _CHUNK_ENTRIES // (h * 2 * T))
    total = (_comb(h, r - 1) + chunk - 1) // chunk
    best: dict[bytes, tuple[float, np.ndarray]] = {}
    message = f"rays: {h} hyperplanes, rank {r}"
    done = 0
    try:
        for subsets in _subset_chunks(h, r - 1, chunk):
            keys, pts, margins = ray_piece(W, subsets)
            order = np.argsort(-margins, kind="stable")
            uniq, first = np.unique(keys[order], return_index=True)
            for key, i in zip(uniq, order[first], strict=True):
                kb = key.tobytes()
                old = best.get(kb)
                if old is None or margins[i] > old[0]:
                    best[kb] = (float(margins[i]), pts[i])
            done += 1
            if progress is not None:
                progress(done, total)
            if time_budget is not None and time.perf_counter() - start > time_budget:
                message = (f"interrupted: time budget of {time_budget:g} s spent after {done} of {total} "
                           "pieces")
                break
    except KeyboardInterrupt:
        message = f"interrupted by the user after {done} of {total} pieces"
    found = [p for _, p in best.values()]
    if message.startswith("interrupted"):
        scheme = "partial"
    elif len(found) == arr.bound:
        scheme = "count"
    else:
        scheme = "partial"
        message += (f"; found {len(found)} cells but general position would give {arr.bound}: the data "
                    "are degenerate (use the flips method)")
    return _finish(X, arr, found, Q, scheme, message, start)


def _comb(a: int, b: int) -> int:
    from math import comb

    return comb(a, b)


def _by_flips(X: np.ndarray, arr: Arrangement, seeds: list[list[int]], time_budget, progress,
              start: float) -> Enumeration:
    """Breadth-first search over the tope graph with exact Farkas proofs for non-facets."""
    trivial = _trivial(X, arr, start)
    if trivial is not None:
        return trivial
    reps = np.array(arr.classes.reps, dtype=float)
    h, d = reps.shape
    V = reps / np.linalg.norm(reps, axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    points: dict[int, np.ndarray] = {}

    def key_of(u: np.ndarray) -> int | None:
        y = V @ u
        if np.min(np.abs(y)) < MARGIN * np.linalg.norm(u):
            return None
        return sum(1 << c for c in np.flatnonzero(y > 0).tolist())

    for w in seeds:
        u = np.array(w, dtype=float)
        k = key_of(u)
        if k is not None:
            points.setdefault(k, u)
    while not points:
        u = rng.standard_normal(d)
        k = key_of(u)
        if k is not None:
            points[k] = u
    queue = list(points)
    nonfacets: list[tuple[int, int, int, list[int], list[int]]] = []
    message = f"flips: {h} hyperplanes, rank {arr.rank}"
    scheme = "flips"
    pos = 0
    try:
        while pos < len(queue):
            key = queue[pos]
            pos += 1
            sig = np.array([1.0 if (key >> c) & 1 else -1.0 for c in range(h)])
            for t in range(h):
                flipped = key ^ (1 << t)
                if flipped in points:
                    continue
                proof = _farkas(arr, sig, t)
                if proof is not None:
                    nonfacets.append((key, t) + proof)
                    continue
                u = _interior_point(V, sig, t)
                k = None if u is None else key_of(u)
                if k != flipped:
                    scheme = "partial"
                    message += f"; could neither find cell {flipped:x} nor prove class {t} a non-facet"
                    continue
                points[k] = u
                queue.append(k)
            if progress is not None:
                progress(pos, max(len(queue), arr.bound))
            if time_budget is not None and time.perf_counter() - start > time_budget:
                scheme, message = "partial", f"interrupted: time budget of {time_budget:g} s spent"
                break
    except KeyboardInterrupt:
        scheme, message = "partial", "interrupted by the user"
    keys = list(points)
    order = {k: i for i, k in enumerate(keys)}
    enum = _finish(X, arr, [points[k] for k in keys], None, scheme, message, start)
    if len(enum.witnesses) != len(keys):
        enum.scheme = "partial"
        return enum
    enum.nonfacets = [{"cell": order[k], "class": t, "den": str(den), "idx": idx,
                       "num": [str(v) for v in num]} for k, t, den, idx, num in nonfacets if k in order]
    return enum


def _farkas(arr: Arrangement, sig: np.ndarray, t: int) -> tuple[int, list[int], list[int]] | None:
    """Exact ``den * s_t rep_t = sum num_i s_i rep_i`` (num >= 0, i != t), found by NNLS; or None."""
    from scipy.optimize import nnls

    reps = arr.classes.reps
    h = len(reps)
    others = [i for i in range(h) if i != t]
    if not others:
        return None
    A = np.array([[sig[i] * reps[i][j] for i in others] for j in range(len(reps[t]))], dtype=float)
    b = sig[t] * np.array(reps[t], dtype=float)
    scale = np.linalg.norm(A, axis=0)
    lam, res = nnls(A / scale, b / np.linalg.norm(b))
    if res > 1e-7 * max(1.0, np.linalg.norm(lam)):
        return None
    support = [others[i] for i in np.argsort(-lam) if lam[i] > 1e-12]
    return _exact_combination(reps, [int(s) for s in sig], t, support)


def _exact_combination(reps: list[list[int]], sig: list[int], t: int, support: list[int]
                       ) -> tuple[int, list[int], list[int]] | None:
    """Solve ``sum_{i in S} lam_i s_i rep_i = s_t rep_t`` exactly on an independent part of S."""
    d = len(reps[t])
    basis: list[int] = []
    for i in support:
        cand = basis + [i]
        cols = [[Fraction(sig[c] * reps[c][j]) for c in cand] for j in range(d)]
        if _rank(cols) == len(cand):
            basis = cand
        if len(basis) == d:
            break
    if not basis:
        return None
    # least squares via normal equations, exactly; then verify the equality
    M = [[Fraction(sig[a] * sig[b] * sum(x * y for x, y in zip(reps[a], reps[b], strict=True)))
          for b in basis] for a in basis]
    rhs = [Fraction(sig[a] * sig[t] * sum(x * y for x, y in zip(reps[a], reps[t], strict=True)))
           for a in basis]
    sol = _solve(M, rhs)
    if sol is None or any(v < 0 for v in sol):
        return None
    for j in range(d):
        if sum(v * sig[c] * reps[c][j] for v, c in zip(sol, basis, strict=True)) != sig[t] * reps[t][j]:
            return None
    from math import lcm

    den = lcm(*(v.denominator for v in sol))
    pairs = sorted((c, int(v * den)) for c, v in zip(basis, sol, strict=True) if v != 0)
    return den, [c for c, _ in pairs], [v for _, v in pairs]


def _rank(rows: list[list[Fraction]]) -> int:
    M = [list(r) for r in rows]
    rk = 0
    for c in range(len(M[0]) if M else 0):
        piv = next((i for i in range(rk, len(M)) if M[i][c] != 0), None)
        if piv is None:
            continue
        M[rk], M[piv] = M[piv], M[rk]
        for i in range(len(M)):
            if i != rk and M[i][c] != 0:
                f = M[i][c] / M[rk][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[rk], strict=True)]
        rk += 1
    return rk


def _solve(M: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    k = len(M)
    A = [row[:] + [b] for row, b in zip(M, rhs, strict=True)]
    for c in range(k):
        piv = next((i for i in range(c, k) if A[i][c] != 0), None)
        if piv is None:
            return None
        A[c], A[piv] = A[piv], A[c]
        for i in range(k):
            if i != c and A[i][c] != 0:
                f = A[i][c] / A[c][c]
                A[i] = [a - f * b for a, b in zip(A[i], A[c], strict=True)]
    return [A[i][k] / A[i][i] for i in range(k)]


def _interior_point(V: np.ndarray, sig: np.ndarray, t: int) -> np.ndarray | None:
    """A point of the cell with signs ``sig`` and class ``t`` flipped (LP: max margin), or None."""
    from scipy.optimize import linprog

    s = sig.copy()
    s[t] = -s[t]
    h, d = V.shape
    # max tau  s.t.  s_i v_i^T u >= tau,  -1 <= u <= 1,  tau <= 1
    c = np.zeros(d + 1)
    c[-1] = -1.0
    A = np.hstack([-(s[:, None] * V), np.ones((h, 1))])
    res = linprog(c, A_ub=A, b_ub=np.zeros(h), bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
    if res.status != 0 or -res.fun <= 1e-9:
        return None
    return res.x[:d]
