"""Batched projections onto pattern cones, compiled with Numba (theory.md §3, one-cone bound).

For each requested block ``b`` (pattern column ``p``, cone rows ``a_k = (2 D_kp - 1) x_k``) and
vector ``g_b``, find ``mu >= 0`` minimizing ``||g_b + A^T mu||`` by the Lawson–Hanson active-set
method, warm-started from a face hint, and return ``||g_b + A^T mu||``: an upper bound of
``max_{u in K_b, ||u|| <= 1} <g_b, u>`` for *any* ``mu >= 0`` (so an iteration cap costs
tightness, never validity), equal to it when every row holds at the projection
(``a_k^T p >= -(tol ||p|| + 1e-12 ||g||) ||a_k||``), which the kernel reports as ``exact``.

Lawson–Hanson on ``min ||C mu - b||`` with ``C = A^T`` (d x n), ``b = -g``: the gradient of a row
is ``-a_k^T p``, so the most violated cone row enters the passive set; a least-squares solve on
the passive set either keeps every multiplier positive or steps back to the boundary and drops
the rows that reach zero. In dimension d a projection has at most d rows that matter, so each
costs a few ``A p`` products (``O(n d)``). :func:`certify.solve.cones.project` is the plain
SciPy version (constraint generation with ``scipy.optimize.nnls``), used to cross-check.

Warm path: when hints are given, every block's warm-start point (least squares on its hint
rows, non-positive multipliers dropped; a Gram-Cholesky solve) is computed first and all their
row scans are done at once, as one matrix product ``points @ (X / ||x_k||)^T`` checked by a
small compiled loop: a block whose warm point satisfies every row and whose face rows are
tight (KKT of the projection, to the same tolerance) is exact without entering the
Lawson–Hanson kernel; the others run the kernel as before. At a converged solution (faces
unchanged) a pricing pass then costs about one extra product instead of one row scan per block
(BENCHMARKS.md, "Iteration throughput").

Blocks are independent (a pure function of each block's data, ready for sharding), but the
kernel runs them serially: a ``prange`` loop added ~8 ms per call on this loaded 2-core
machine while the second thread waited for a core (BENCHMARKS.md, "Fast solver").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from certify.errors import InputError

DEFAULT_TOL = 1e-10
_SCAN_CHUNK = 256
"""Blocks whose warm points are checked per matrix product (bounds the (n, chunk) temporaries)."""

FACE_CAPACITY_FACTOR = 2
"""Faces of up to ``FACE_CAPACITY_FACTOR * d`` rows are returned as hints (larger: truncated)."""


@lru_cache(maxsize=1)
def _kernels() -> dict[str, Any]:
    """Load the compiled kernels (imports Numba; compiled once, then cached on disk)."""
    from certify.solve import _cone_kernels_numba as kernels

    return {"project_batch": kernels.project_batch, "warm_points": kernels.warm_points,
            "check_warm": kernels.check_warm, "screen_blocks": kernels.screen_blocks}


def _check_batch(n: int, d: int, D: np.ndarray, G: np.ndarray, patterns: np.ndarray, columns: np.ndarray,
                 signs: np.ndarray, hints: np.ndarray) -> None:
    """Shapes and index ranges (the compiled kernel does no bounds checking)."""
    m = patterns.shape[0]
    if D.ndim != 2 or D.shape[0] != n:
        raise InputError(f"D has shape {D.shape}; it must be (n, P) with n = {n}.")
    if G.ndim != 2 or G.shape[0] != d:
        raise InputError(f"G has shape {G.shape}; it must be (d, k) with d = {d}.")
    if patterns.ndim != 1 or columns.shape != (m,) or signs.shape != (m,) or hints.ndim != 2 \
            or hints.shape[0] != m:
        raise InputError(f"patterns, columns, signs and hints must describe the same {m} blocks; got "
                         f"shapes {patterns.shape}, {columns.shape}, {signs.shape}, {hints.shape}.")
    if m and (patterns.min() < 0 or patterns.max() >= D.shape[1]):
        raise InputError(f"pattern indices must lie in [0, {D.shape[1]}).")
    if m and (columns.min() < 0 or columns.max() >= G.shape[1]):
        raise InputError(f"column indices must lie in [0, {G.shape[1]}).")
    if hints.size and (hints.min() < -1 or hints.max() >= n):
        raise InputError(f"hint rows must lie in [0, {n}) (or be -1 for padding).")


def project_batch(X: np.ndarray, D: np.ndarray, G: np.ndarray, patterns: np.ndarray, signs: np.ndarray,
                  hints: np.ndarray | None = None, tol: float = DEFAULT_TOL, max_iter: int | None = None,
                  columns: np.ndarray | None = None, cutoff: float = -1.0,
                  multipliers_out: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One-cone bounds of many blocks at once (module docstring).

    Parameters
    ----------
    X : (n, d) float64 features; D : (n, P) 0/1 patterns; G : (d, P) correlations ``X^T D_p r``.
    patterns : (m,) pattern column of each requested block; signs : (m,) its sign (+1 / -1),
        so that block ``b`` projects ``signs[b] * G[:, patterns[b]]``.
    hints : (m, c) int rows of earlier faces, ``-1`` padded (default: none, ``c = 2 d``).
    tol : relative feasibility tolerance of the ``exact`` test.
    max_iter : Lawson–Hanson outer iterations per block (default ``3 d + 20``).
    columns : (m,) column of ``G`` of each block (default: ``patterns``); block ``b`` then
        projects ``signs[b] * G[:, columns[b]]`` onto the cone of pattern ``patterns[b]``.
    cutoff : a block whose warm-start bound (least squares on its hint rows, multipliers kept
        positive: already a valid bound) is ``<= cutoff`` stops there, without scanning its
        rows (``exact`` False). Pricing passes ``lam``: such blocks are dual feasible and
        their bound is all the duality gap needs. Default -1: never.
    multipliers_out : (m, c) float array, optional, filled with the multipliers of ``faces``.

    Returns
    -------
    bounds : (m,) upper bounds, valid whatever the iteration count.
    exact : (m,) bool, the projection satisfies every cone row to ``tol``.
    faces : (m, c) rows with positive multipliers, ``-1`` padded (the next call's hints).
    points : (m, d) the projections ``g_b + A^T mu`` (on the cone when ``exact``).
    """
    X = np.ascontiguousarray(X, np.float64)
    D = np.asfortranarray(D, np.uint8)
    G = np.ascontiguousarray(G, np.float64)
    n, d = X.shape
    patterns = np.asarray(patterns, np.int64)
    columns = patterns if columns is None else np.asarray(columns, np.int64)
    signs = np.asarray(signs, np.float64)
    m = len(patterns)
    if hints is None:
        hints = np.full((m, FACE_CAPACITY_FACTOR * d), -1, np.int64)
    hints = np.ascontiguousarray(hints, np.int64)
    _check_batch(n, d, D, G, patterns, columns, signs, hints)
    if multipliers_out is not None and multipliers_out.shape != hints.shape:
        raise InputError(f"multipliers_out has shape {multipliers_out.shape}; it must be {hints.shape}.")
    row_norms = np.linalg.norm(X, axis=1)
    max_iter = int(max_iter if max_iter is not None else 3 * d + 20)
    bounds, exact, faces, points, mus = _project(X, D, row_norms, G, patterns, columns, signs, hints,
                                                 float(tol), max_iter, float(cutoff))
    if multipliers_out is not None:
        multipliers_out[...] = mus
    return bounds, exact, faces, points


def _project(X, D, row_norms, G, patterns, columns, signs, hints, tol, max_iter, cutoff):
    """:func:`project_batch` on checked inputs; also returns the face multipliers."""
    m = len(patterns)
    if m == 0 or max_iter <= 0 or not (hints >= 0).any():
        return _kernels()["project_batch"](X, D, row_norms, G, patterns, columns, signs, hints, tol,
                                           max_iter, cutoff)
    # Warm path: every block's warm-start point first (small least-squares solves, no row
    # scan), then all their row scans at once as one matrix product; only blocks whose warm
    # point violates a row go through the Lawson-Hanson kernel (which redoes the same warm
    # start, so results do not depend on the path taken).
    points, faces, mus = _kernels()["warm_points"](X, D, G, patterns, columns, signs, hints)
    g_norms = np.abs(signs) * np.linalg.norm(G[:, columns], axis=0)
    bounds = np.linalg.norm(points, axis=1)
    exact = np.zeros(m, bool)
    stopped = bounds <= cutoff                       # the kernel's cutoff: no scan, not exact
    limit = tol * bounds + 1e-12 * g_norms
    scan = np.flatnonzero(~stopped)
    if scan.size:
        # rows scaled to unit norm (zero rows stay zero), transposed for the product
        XsT = np.ascontiguousarray((X / np.where(row_norms > 0, row_norms, np.inf)[:, None]).T)
        for lo in range(0, scan.size, _SCAN_CHUNK):
            part = scan[lo:lo + _SCAN_CHUNK]
            exact[part] = _kernels()["check_warm"](points[part] @ XsT, D, patterns[part], row_norms,
                                                   limit[part], faces[part])
    rest = np.flatnonzero(~exact & ~stopped)
    if rest.size:
        b, e, f, pt, mu = _kernels()["project_batch"](X, D, row_norms, G, patterns[rest], columns[rest],
                                                      signs[rest], hints[rest], tol, max_iter, cutoff)
        bounds[rest], exact[rest], faces[rest], points[rest], mus[rest] = b, e, f, pt, mu
    return bounds, exact, faces, points, mus


def block_bounds(X: np.ndarray, D: np.ndarray, G: np.ndarray, cutoff: float, face_rows: np.ndarray,
                 face_mu: np.ndarray, tol: float = DEFAULT_TOL) -> np.ndarray:
    """One-cone bounds of all ``2 P`` blocks of a pattern set (the working-set solver's pricing).

    Block ``j < P`` projects ``G[:, j]``, block ``P + p`` projects ``-G[:, p]``, onto the cone of
    pattern ``j % P``. One compiled pass gives every block a cheap valid bound (``||g||``, or the
    bound at its stored face multipliers) and stops the blocks where that is ``<= cutoff``; the
    others are projected by :func:`project_batch`, warm-started from their faces. ``face_rows``
    (2P, c) and ``face_mu`` (2P, c) hold each block's last face and multipliers and are updated
    in place. Every returned value is a valid upper bound of ``max_{u in K_j, ||u|| <= 1}
    <g_j, u>``; it is the exact projection norm (to ``tol``) for the blocks above ``cutoff``.

    Parameters
    ----------
    X : (n, d) features; D : (n, P) 0/1 patterns (converted to the kernels' layout, float64
        C-ordered and uint8 Fortran-ordered, free when already so: the solver stores them so);
    G : (d, P) correlations ``X^T D_p r``; cutoff : float.
    face_rows : (2P, c) int64, rows in ``[0, n)`` or -1; face_mu : (2P, c) float64.
    """
    X = np.ascontiguousarray(X, np.float64)
    D = np.asfortranarray(D, np.uint8)
    P = D.shape[1]
    count = face_rows.shape[0]
    if face_rows.dtype != np.int64 or face_mu.dtype != np.float64 or face_rows.ndim != 2:
        raise InputError("block_bounds: face_rows must be an int64 (blocks, c) array and face_mu a float64 "
                         "one of the same shape (they are updated in place).")
    if G.shape != (X.shape[1], P) or count not in (P, 2 * P) or face_mu.shape != face_rows.shape:
        raise InputError(f"block_bounds: G {G.shape}, face_rows {face_rows.shape} and face_mu "
                         f"{face_mu.shape} do not fit X {X.shape} and D {D.shape}.")
    if face_rows.size and (face_rows.min() < -1 or face_rows.max() >= X.shape[0]):
        raise InputError(f"block_bounds: face rows must lie in [0, {X.shape[0]}) (or be -1 for padding).")
    G = np.ascontiguousarray(G, np.float64)
    out, flagged = _kernels()["screen_blocks"](X, D, G, count, float(cutoff), face_rows, face_mu)
    todo = np.flatnonzero(flagged)
    if todo.size:
        mu = np.empty((todo.size, face_rows.shape[1]))
        bounds, _, faces, _ = project_batch(X, D, G, todo % P, np.where(todo < P, 1.0, -1.0),
                                            face_rows[todo], tol=tol, cutoff=cutoff, multipliers_out=mu)
        out[todo] = bounds
        face_rows[todo] = faces
        face_mu[todo] = mu
    return out
