"""Gap safe screening of blocks along a regularization path (proofs/screening.md).

Scaling (certify's, theory.md §1–3): the primal is ``1/2 ||y - sum_b Z_b w_b||^2 + lam sum_b
||w_b||`` with ``w_b`` in the pattern cone ``K_b``; the dual objective is ``D(theta) = <theta, y>
- 1/2 ||theta||^2`` (1-strongly concave), feasible when every block's cone maximum
``c_b(theta) = max_{u in K_b, ||u|| <= 1} <Z_b^T theta, u>`` is ``<= lam``. The unique optimal
residual ``r*`` satisfies, for every primal-feasible ``w`` and dual-feasible ``theta``,

    ||r* - theta|| <= sqrt(2 G),   G = P_lam(w) - D(theta)   (absolute gap)

and ``c_b`` is ``||Z_b||_2``-Lipschitz. A block with ``c_b(theta) + ||Z_b||_2 sqrt(2 G) < lam`` has
``c_b(r*) < lam`` and is zero at *every* optimum of that ``lam``. :func:`gap_safe_mask` is that
test, with one-cone upper bounds of ``c_b`` (theory.md §3) and upper bounds of ``||Z_b||_2``
(:func:`operator_norm_bounds`). :func:`sequential_screen` applies it at the next grid point
``lam'`` with the previous point's weights (still primal feasible) and its residual rescaled to be
dual feasible at ``lam'`` (Ndiaye, Fercoq, Gramfort, Salmon, *Gap safe screening rules for
sparsity enforcing penalties*, JMLR 2017, sequential rule).

Screening is a solver acceleration, never a source of claims: :func:`solve_screened` solves the
program without the screened patterns and then prices *every* block at the result (the safety
net); a screened block that violates its dual constraint re-enters and the program is solved
again, so the returned gap is a true duality gap of the full program whatever the screening did.
All functions are pure (inputs in, arrays out), one independent piece per block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify.solve.cone_kernels import FACE_CAPACITY_FACTOR, block_bounds, project_batch
from certify.solve.working_set import Solution, SolverOptions, WarmStart, solve

__all__ = ["Screen", "dual_scale", "gap_safe_mask", "operator_norm_bounds", "sequential_screen",
           "solve_screened"]

NORM_MARGIN = 1e-10
"""Relative margin added to the float spectral norms (eigenvalue rounding is ~1e-15 relative)."""

TEST_MARGIN = 1e-9
"""A block is screened only when its bound plus the ball term is below ``(1 - TEST_MARGIN) lam``."""


def operator_norm_bounds(X: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Upper bounds of ``||Z_b||_2 = ||D_p X||_2`` for every pattern ``p`` (P,).

    The spectral norm from the eigenvalues of the ``d x d`` Gram matrix ``X^T D_p X``, enlarged
    by :data:`NORM_MARGIN` (relative), and never above the Frobenius norm
    ``sqrt(sum_{k : D_kp = 1} ||x_k||^2)`` (a bound without rounding issues). Both signs of a
    pattern share it.
    """
    X = np.asarray(X, np.float64)
    Dm = np.asarray(D, np.float64)
    frob = np.sqrt(Dm.T @ (X * X).sum(axis=1))
    gram = np.einsum("kp,ki,kj->pij", Dm, X, X, optimize=True)
    top = np.sqrt(np.maximum(np.linalg.eigvalsh(gram)[:, -1], 0.0))
    return np.minimum(frob, top * (1.0 + NORM_MARGIN) + NORM_MARGIN * frob)


def dual_scale(r: np.ndarray, y: np.ndarray, lam: float, bound: float) -> float:
    """The scale ``t`` of the dual point ``theta = t r`` (the solver's, working_set.py).

    ``t = min(<r, y> / ||r||^2, lam / bound)`` (0 when ``<r, y> <= 0``): ``theta`` is dual feasible
    when ``bound`` is an upper bound of ``max_b c_b(r)``.
    """
    a, b = float(r @ y), float(r @ r)
    if a <= 0 or b == 0:
        return 0.0
    return a / b if bound <= 0 else min(a / b, lam / bound)


def gap_safe_mask(bounds: np.ndarray, scale: float, norms: np.ndarray, gap: float, lam: float) -> np.ndarray:
    """Blocks certified zero at every optimum: ``scale * bounds + norms * sqrt(2 gap) < lam``.

    Parameters
    ----------
    bounds : (m,) upper bounds of ``c_b(r)`` at a residual ``r``.
    scale : ``t`` with ``theta = t r`` dual feasible at ``lam``.
    norms : (m,) upper bounds of ``||Z_b||_2``.
    gap : absolute duality gap ``P_lam(w) - D(theta)`` of a primal-feasible ``w`` (clipped at 0).
    lam : float > 0.

    Returns
    -------
    ndarray (m,) bool
        True for the blocks the rule removes (with the relative margin :data:`TEST_MARGIN`).
    """
    radius = float(np.sqrt(2.0 * max(float(gap), 0.0)))
    return scale * np.asarray(bounds, np.float64) + np.asarray(norms, np.float64) * radius \
        < lam * (1.0 - TEST_MARGIN)


@dataclass(frozen=True)
class Screen:
    """Result of :func:`sequential_screen` at one ``lam``.

    Attributes
    ----------
    blocks : (2P,) bool (P when gated), blocks ``j`` (``p`` for ``u_p``, ``P + p`` for ``h_p``)
        certified zero at every optimum.
    patterns : (P,) bool, patterns whose every block is screened (removed from the program).
    gap : absolute gap used (``P_lam(w) - D(t r)``); radius ``sqrt(2 gap)``.
    scale : the dual scale ``t``.
    """

    blocks: np.ndarray
    patterns: np.ndarray
    gap: float
    scale: float

    @property
    def fraction(self) -> float:
        """Fraction of blocks screened."""
        return float(self.blocks.mean()) if self.blocks.size else 0.0


def _all_bounds(X, D, G, cutoff, faces):
    """One-cone bounds of all 2P blocks (exact above ``cutoff``) and the faces they used."""
    P = D.shape[1]
    rows = np.full((2 * P, FACE_CAPACITY_FACTOR * X.shape[1]), -1, np.int64)
    if faces is not None and faces.shape == rows.shape:
        rows[...] = faces
    return block_bounds(X, D, G, cutoff, rows, np.zeros(rows.shape)), rows


def sequential_screen(X: np.ndarray, y: np.ndarray, D: np.ndarray, residual: np.ndarray, penalty: float,
                      lam: float, norms: np.ndarray, faces: np.ndarray | None = None, gated: bool = False,
                      gap_override: float | None = None) -> Screen:
    """Gap safe screening at ``lam`` from a primal-feasible point of any ``lam`` (a previous one).

    Parameters
    ----------
    X, y, D : the problem (certify's scaling, module docstring); ``D`` (n, P) 0/1.
    residual : (n,) ``r = y - sum_b Z_b w_b`` of a cone-feasible ``w`` (for example the solution at
        the previous grid point, or ``w = 0`` with ``r = y``).
    penalty : ``sum_b ||w_b||`` of the same ``w``.
    lam : the ``lam`` to screen at.
    norms : (P,) :func:`operator_norm_bounds`.
    faces : (2P, c) int rows of earlier projection faces (``Solution.faces``), hints only.
    gated : gated ReLU (``c_b = ||Z_b^T theta||``, no cones).
    gap_override : use this gap instead of the computed one (tests of the safety net only: a
        too-small gap makes the rule unsafe).

    Returns
    -------
    Screen
    """
    X = np.asarray(X, np.float64)
    r = np.asarray(residual, np.float64)
    P = D.shape[1]
    Dm = np.asarray(D, np.float64)
    G = X.T @ (Dm * r[:, None])
    blk_norms = norms if gated else np.concatenate([norms, norms])
    # pass 1: valid bounds of all blocks, exact above lam (the solver's pricing)
    if gated:
        bounds = np.linalg.norm(G, axis=0)
        rows = None
    else:
        bounds, rows = _all_bounds(X, D, G, lam, faces)
    top = float(bounds.max(initial=0.0))
    t = dual_scale(r, y, lam, top)
    dual = t * float(r @ y) - 0.5 * t * t * float(r @ r)
    primal = 0.5 * float(r @ r) + lam * float(penalty)
    gap = max(primal - dual, 0.0) if gap_override is None else float(gap_override)
    mask = gap_safe_mask(bounds, t, blk_norms, gap, lam)
    if not gated and t > 0:
        # pass 2: blocks the cheap bound did not screen but the exact one might: project them
        radius = float(np.sqrt(2.0 * max(gap, 0.0)))
        todo = np.flatnonzero(~mask & (bounds <= lam) & (blk_norms * radius < lam))
        if todo.size:
            exact, _, _, _ = project_batch(X, D, G, todo % P, np.where(todo < P, 1.0, -1.0), rows[todo])
            bounds = bounds.copy()
            bounds[todo] = np.minimum(bounds[todo], exact)
            mask = gap_safe_mask(bounds, t, blk_norms, gap, lam)
    pats = mask[:P] if gated else (mask[:P] & mask[P:])
    return Screen(blocks=mask, patterns=pats, gap=float(gap), scale=float(t))


def _embed(sol: Solution, kept: np.ndarray, D: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, ...]:
    """Full-size ``U``, ``H``, working sets and faces of a solve over ``D[:, kept]``."""
    d = sol.U.shape[0]
    P, Pk = D.shape[1], kept.size
    U = np.zeros((d, P))
    H = np.zeros((d, P))
    U[:, kept] = sol.U
    H[:, kept] = sol.H
    working = {int(kept[j]) if j < Pk else P + int(kept[j - Pk]): rows for j, rows in sol.working.items()}
    full = faces.copy()
    if sol.faces.shape[0] == 2 * Pk and full.shape[0] == 2 * P:
        full[kept] = sol.faces[:Pk]
        full[P + kept] = sol.faces[Pk:]
    elif sol.faces.shape[0] == Pk and full.shape[0] == P:   # gated: one block per pattern
        full[kept] = sol.faces
    return U, H, working, full


def _full_size(sol: Solution, U, H, working, faces, D) -> Solution:
    """``sol`` (a solve over all patterns of ``D``) with its arrays in full size (unchanged)."""
    return Solution(U, H, np.ascontiguousarray(D, np.uint8), sol.lam, sol.gated, sol.objective,
                    sol.dual_value, sol.gap, sol.violation, sol.converged, sol.rounds, sol.message,
                    sol.history, working, sol.seconds, faces)


def solve_screened(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, screened: np.ndarray,
                   gated: bool = False, options: SolverOptions | None = None,
                   warm_start: WarmStart | None = None, faces: np.ndarray | None = None,
                   max_reentries: int = 5) -> tuple[Solution, np.ndarray]:
    """Solve without the ``screened`` patterns, then price every block (the safety net).

    Parameters
    ----------
    X, y, lam, D, gated, options, warm_start : as :func:`certify.solve.working_set.solve`.
    screened : (P,) bool, patterns left out of the program (both blocks screened).
    faces : (2P, c) (P when gated) earlier projection faces (hints only; ignored if mis-shaped).
    max_reentries : re-solves after re-entering violating screened patterns; if violators
        remain after them, every pattern re-enters (the full program is solved).

    Returns
    -------
    solution : Solution over the full ``D`` (``U``, ``H`` (d, P)); its ``dual_value`` and ``gap``
        use one-cone bounds of *all* blocks at its residual, so they are those of the full
        program whatever was screened; ``converged`` as in :func:`solve`.
    reentered : (k,) int, screened patterns that violated their dual constraint and re-entered
        (empty when the screening was right, as proofs/screening.md says it is up to rounding).
    """
    opts = options or SolverOptions()
    X = np.ascontiguousarray(X, np.float64)
    y = np.ascontiguousarray(y, np.float64)
    n, d = X.shape
    P = D.shape[1]
    screened = np.asarray(screened, bool).copy()
    count = P if gated else 2 * P
    base_faces = np.full((count, FACE_CAPACITY_FACTOR * d), -1, np.int64)
    if faces is not None and np.shape(faces) == base_faces.shape:
        base_faces[...] = faces
    reentered: list[int] = []
    for attempt in range(max_reentries + 2):
        if attempt == max_reentries + 1:
            screened[:] = False
        kept = np.flatnonzero(~screened)
        if kept.size == 0:
            kept = np.array([0])   # an empty program: keep one pattern (re-entering is always safe)
            screened[0] = False
        sol = solve(X, y, lam, D[:, kept], gated=gated, options=opts, warm_start=warm_start)
        U, H, working, full_faces = _embed(sol, kept, D, base_faces)
        Dm = np.asarray(D, np.float64)
        r = y - (Dm * (X @ (U - H))).sum(axis=1)
        G = X.T @ (Dm * r[:, None])
        if gated:
            bounds = np.linalg.norm(G, axis=0)
        else:
            bounds = block_bounds(X, D, G, lam * (1.0 + 0.01 * opts.gap_tol), full_faces,
                                  np.zeros(full_faces.shape))
        per_pattern = bounds if gated else np.maximum(bounds[:P], bounds[P:])
        violators = np.flatnonzero(screened & (per_pattern > lam))
        if violators.size == 0:
            break
        reentered.extend(int(p) for p in violators)
        screened[violators] = False
        warm_start = sol.warm_start()
        base_faces = full_faces
    if not screened.any():
        # nothing left out: the solver priced every block, its dual point is the full program's
        return _full_size(sol, U, H, working, full_faces, D), np.asarray(sorted(set(reentered)), np.int64)
    t = dual_scale(r, y, lam, float(bounds.max(initial=0.0)))
    dual = t * float(r @ y) - 0.5 * t * t * float(r @ r)
    objective = sol.objective
    gap = (objective - dual) / objective if objective > 0 else 0.0
    if sol.converged and gap > opts.gap_tol:
        # the solver's dual point (its residual before the final vertex step) was checked on the
        # kept blocks only; the fresh one at the final residual can be a little worse. Finish on
        # the full program, warm-started (usually one round): its gap is the full program's.
        full = solve(X, y, lam, D, gated=gated, options=opts, warm_start=sol.warm_start())
        return full, np.asarray(sorted(set(reentered)), np.int64)
    converged = bool(gap <= opts.gap_tol and sol.violation <= opts.feas_tol)
    message = sol.message if converged or not sol.converged else (
        f"relative gap {gap:.2e} over all blocks exceeds the target {opts.gap_tol:.0e} (screened program "
        f"converged)")
    out = Solution(U, H, np.ascontiguousarray(D, np.uint8), float(lam), bool(gated), objective, dual, gap,
                   sol.violation, converged, sol.rounds, message, sol.history, working, sol.seconds,
                   full_faces)
    return out, np.asarray(sorted(set(reentered)), np.int64)
