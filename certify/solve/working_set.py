"""Fast solver of the C-ReLU (and gated ReLU) over a pattern set: a working-set method.

Problem (theory.md §2, certify's scaling: ``1/2`` squared loss, ``lam`` times the sum of the
group norms; blocks ``p`` with sign ``+1`` are ``u_p``, with sign ``-1`` are ``h_p``)::

    min  1/2 || sum_p D_p X (u_p - h_p) - y ||^2 + lam sum_p (||u_p|| + ||h_p||)
    s.t. (2 D_p - I) X u_p >= 0,  (2 D_p - I) X h_p >= 0         (dropped when gated)

Algorithm (chosen by measurement; BENCHMARKS.md, "Fast solver (issue 8)"). At an optimum few
blocks are non-zero, and each lies on a face of its cone cut out by few of its n constraints
(theory.md §7). So the solver grows two working sets and solves only the small program they
define, exactly, with an interior-point method (Clarabel called directly, without cvxpy):

1. **Pricing.** With the residual ``r`` of the current point, every block's dual constraint
   ``max_{u in K_b, ||u|| <= 1} <Z_b^T r, u> <= lam`` is bounded from above by the one-cone bound
   (:func:`certify.solve.cone_kernels.block_bounds`: blocks whose ``||Z_b^T r||`` or whose
   bound at their last projection's multipliers is below the cutoff are screened without a
   projection; the others are projected, warm-started from their last faces). Blocks that
   violate it join the working set, the most violating first, at most as many as are already
   in it (the set at most doubles).
2. **Restricted solve.** The program over the working blocks, each constrained only by its
   working rows, is a small second-order-cone program: Clarabel with ``P = F^T F``, or in the
   residual form when it has more variables than there are samples. When two working blocks
   point the same way (duplicate directions, theory.md §4), an LP vertex step keeps one per
   direction and the others leave the working set.
3. **Row generation.** Rows of the full cone that a working block violates join its rows.
4. **Stopping.** The dual point ``t r`` with ``t = min(<r, y> / ||r||^2, lam / M)``, ``M`` the
   largest one-cone bound over *all* blocks, is dual feasible (theory.md §3), so
   ``gap = (primal - dual) / primal`` is a true relative duality gap (in floats: the same
   bound the certificates check exactly). The solver stops when ``gap <= gap_tol`` and the
   largest relative cone violation is ``<= feas_tol``; ``converged`` says so, and a solution
   that is not converged says why in ``message``.

Warm starts: a :class:`Solution` remembers its working blocks and rows by pattern
(:meth:`Solution.warm_start`) and every block's last projection face
(:meth:`Solution.face_hints`); a later solve over a larger pattern set, or at another lam,
starts from them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from certify.convex.mapping import Blocks
from certify.errors import InputError, SolverError
from certify.solve.backends import select_backend
from certify.solve.cone_kernels import FACE_CAPACITY_FACTOR, block_bounds, project_batch
from certify.solve.cones import cone_matrix

_MARGIN_FACTOR = 0.1
"""A block joins when its one-cone bound exceeds ``lam (1 + _MARGIN_FACTOR gap)`` (or, when none
does, ``lam``)."""

_RESTORE_TOL = 1e-12

_TINY = 1e-6
_INACTIVE = 1e-3
"""At the end, blocks with ``||w|| <= _TINY max ||w||`` and bound ``< (1 - _INACTIVE) lam`` are
dropped (the objective and the gap are recomputed)."""

_RESTORE_MAX = 1e-6
"""Feasibility is restored (by projection) only when no row outside the working rows is violated
by more than this (relative)."""

_CUTOFF_SLACK = 0.01
"""Pricing tightens a block's bound only above ``lam (1 + _CUTOFF_SLACK gap_tol)``: a looser
bound below that is still valid and moves the duality gap by at most ~1 % of its target (the
active blocks of a converged point sit at ``lam`` up to rounding, and their bounds at the last
multipliers are then accepted without a projection)."""

_FAER_SIZE = 200
"""Restricted programs with more block variables than this use Clarabel's "faer" solver."""

_WARM_TOL = 1e-6
"""Blocks above this fraction of the largest are kept for a warm start."""
"""Relative row tolerance of the feasibility restoration (well below ``feas_tol``)."""

WarmStart = dict[tuple[bytes, int], np.ndarray]
"""Working blocks of an earlier solve: ``(pattern bytes, sign) -> working rows``."""


@dataclass(frozen=True)
class SolverOptions:
    """Tolerances and limits of :func:`solve`.

    Attributes
    ----------
    gap_tol : float, default=1e-8
        Target relative duality gap ``(primal - dual) / primal``.
    feas_tol : float, default=1e-9
        Target relative cone violation ``max_k max(0, -a_k^T w_b) / (||a_k|| ||w_b||)`` over
        every row ``a_k`` of every block's cone (an angle, in radians).
    max_rounds : int, default=60
        Pricing rounds at most.
    initial_blocks : int, default=16
        Blocks added in the first round (later rounds add at most the working-set size).
    subproblem_tol : float, default=1e-11
        Clarabel's gap and feasibility tolerances on the (rescaled) restricted program.
    zero_tol : float, default=1e-9
        Blocks of the restricted solution with ``||w_b|| <= zero_tol * max ||w||`` are set to
        zero (an interior-point method leaves ~1e-13 in blocks that are zero at the optimum).
    backend : str, default="auto"
        Operator backend for the full products (:func:`certify.solve.backends.select_backend`;
        ``"auto"`` passes ``work = n * d * P``, so a GPU is used only for large instances).
    """

    gap_tol: float = 1e-8
    feas_tol: float = 1e-9
    max_rounds: int = 60
    initial_blocks: int = 16
    subproblem_tol: float = 1e-11
    zero_tol: float = 1e-9
    backend: str = "auto"


@dataclass
class Solution:
    """Result of :func:`solve` (always returned; check ``converged``).

    Attributes
    ----------
    U, H : ndarray (d, P)
        Block weights of signs +1 and -1 (``h_p`` enters the fit with a minus sign).
    patterns : ndarray (n, P) uint8
    lam : float
    gated : bool
    objective : float
        Convex objective of ``(U, H)``. An upper bound of the optimum only when ``violation`` is
        within tolerance: a solution that is not converged may be infeasible (feasibility is
        restored only once the working rows are nearly complete).
    dual_value : float
        Dual objective of the dual-feasible point ``t r`` (float one-cone bounds).
    gap : float
        Relative duality gap ``(objective - dual_value) / objective`` (0 when both are 0).
    violation : float
        Largest relative cone violation (0 for the gated variant).
    converged : bool
        ``gap <= gap_tol`` and ``violation <= feas_tol``.
    rounds : int
    message : str
    history : list of dict
        Per round: objective, gap, violation, working blocks, working rows, seconds.
    working : dict
        Block index ``j`` (``p`` for ``u_p``, ``P + p`` for ``h_p``) -> working rows.
    seconds : dict
        Wall time in ``"restricted"`` solves, ``"pricing"`` and ``"total"``.
    faces : ndarray (blocks, c)
        Rows of each block's last projection face, ``-1`` padded (:meth:`face_hints`).
    """

    U: np.ndarray
    H: np.ndarray
    patterns: np.ndarray
    lam: float
    gated: bool
    objective: float
    dual_value: float
    gap: float
    violation: float
    converged: bool
    rounds: int
    message: str
    history: list[dict] = field(default_factory=list)
    working: dict[int, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    faces: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))

    def blocks(self, threshold: float = 1e-9) -> Blocks:
        """Non-zero blocks (``||w|| > threshold * max ||w||``) with their signs and patterns."""
        return Blocks.from_solution(self.U, self.H, self.patterns, threshold)

    def face_hints(self) -> WarmStart:
        """The last projection face of every block, keyed by pattern (``solve(face_hints=...)``)."""
        P = self.patterns.shape[1]
        return {(self.patterns[:, j % P].tobytes(), 1 if j < P else -1): rows[rows >= 0]
                for j, rows in enumerate(self.faces) if (rows >= 0).any()}

    def warm_start(self) -> WarmStart:
        """The working blocks and rows, keyed by pattern, for a later :func:`solve`."""
        P = self.patterns.shape[1]
        out: WarmStart = {}
        for j, rows in self.working.items():
            out[(self.patterns[:, j % P].tobytes(), 1 if j < P else -1)] = rows
        return out


# --------------------------------------------------------------------------------------------
# Pieces


def _check_inputs(X, y, lam, D) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X has shape {X.shape}; it must be a non-empty 2-D array (n, d).")
    if y.shape != (X.shape[0],):
        raise InputError(f"y has shape {y.shape} but X has {X.shape[0]} rows: y must be ({X.shape[0]},).")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InputError("X or y contains NaN or infinite entries.")
    lam = float(lam)
    if not np.isfinite(lam) or lam <= 0:
        raise InputError(f"lam must be a positive finite number; got {lam}.")
    D = np.asarray(D)
    if D.ndim != 2 or D.shape[0] != X.shape[0] or D.shape[1] == 0:
        raise InputError(f"D has shape {D.shape} but X has {X.shape[0]} rows: D must be (n, P) = "
                         f"({X.shape[0]}, P) with P >= 1.")
    if not np.all((D == 0) | (D == 1)):
        raise InputError("D must hold only 0 and 1 (one activation pattern per column).")
    return X, y, lam, np.ascontiguousarray(D, dtype=np.uint8)


class _Blocks:
    """The 2P blocks (P when gated) of a pattern set, with cached cone data."""

    def __init__(self, X: np.ndarray, D: np.ndarray, gated: bool) -> None:
        self.X, self.gated = np.ascontiguousarray(X, np.float64), gated
        self.D = np.asfortranarray(D, np.uint8)   # the layout the projection kernels read
        self.n, self.d = X.shape
        self.P = D.shape[1]
        self.count = self.P if gated else 2 * self.P
        self.row_norms = np.linalg.norm(X, axis=1)
        # rows of each block's last projection face, -1 padded (the next projection's hint)
        self.face_rows = np.full((self.count, FACE_CAPACITY_FACTOR * self.d), -1, np.int64)
        self.face_mu = np.zeros(self.face_rows.shape)   # their multipliers (bounds without a solve)

    def pattern(self, j: int) -> int:
        return j % self.P

    def sign(self, j: int) -> float:
        return 1.0 if j < self.P else -1.0

    def cone(self, j: int) -> np.ndarray:
        return cone_matrix(self.X, self.D[:, self.pattern(j)])

    def design(self, j: int) -> np.ndarray:
        """``Z_j = s_j D_p X`` (n, d)."""
        return (self.sign(j) * self.D[:, self.pattern(j)].astype(float))[:, None] * self.X

    def bounds(self, G: np.ndarray, lam: float, cutoff: float | None = None) -> np.ndarray:
        """Upper bounds of every block's dual constraint at correlations ``G = [X^T D_p r]_p``.

        Exact (to the projection tolerance) for blocks whose bound exceeds ``cutoff`` (default
        ``lam``); for the others a valid bound ``<= cutoff``: ``||g||``, the bound at the
        previous projection's multipliers, or the bound of the warm start on the block's
        previous face (:func:`certify.solve.cone_kernels.block_bounds`).
        """
        if self.gated:
            return np.linalg.norm(G, axis=0)
        return block_bounds(self.X, self.D, G, lam if cutoff is None else cutoff, self.face_rows,
                            self.face_mu)

    def face(self, j: int) -> np.ndarray:
        """Rows of block ``j``'s last projection face (empty before its first projection)."""
        rows = self.face_rows[j]
        return rows[rows >= 0]

    def entry_rows(self, j: int, G: np.ndarray) -> np.ndarray:
        """Working rows of a block entering the working set.

        The face of its last projection, and the ``2 d`` rows closest to binding at that
        projection (smallest relative slack), which the restricted optimum tends to meet next.
        """
        face = self.face(j)
        if self.gated:
            return face
        A = self.cone(j)
        g = self.sign(j) * G[:, self.pattern(j)]
        point = g if face.size == 0 else g + A[face].T @ np.linalg.lstsq(A[face].T, -g, rcond=None)[0]
        rel = np.divide(A @ point, self.row_norms, out=np.full(self.n, np.inf), where=self.row_norms > 0)
        near = np.argsort(rel)[: 2 * self.d]
        return np.union1d(face, near[np.isfinite(rel[near])])

    def restore(self, weights: dict[int, np.ndarray], slacks: dict[int, np.ndarray]
                ) -> tuple[dict[int, np.ndarray], list[int]]:
        """Blocks with a negative relative slack (``slacks``, from :meth:`violations`) projected
        onto their full cones; returns the new weights and the blocks it projected."""
        order = [j for j in weights if slacks[j].min(initial=0.0) < 0]
        if self.gated or not order:
            return weights, []
        W = np.column_stack([weights[j] for j in order])
        bounds, _, _, points = project_batch(self.X, self.D, W, np.asarray([j % self.P for j in order]),
                                             np.ones(len(order)), np.full((len(order), 1), -1, np.int64),
                                             _RESTORE_TOL, max_iter=self.n + 10 * self.d,
                                             columns=np.arange(len(order)))
        out = dict(weights)
        for i, j in enumerate(order):
            if bounds[i] > 0:
                out[j] = points[i]
            else:
                del out[j]
        return out, order

    def violations(self, j: int, w: np.ndarray) -> np.ndarray:
        """Relative slacks ``a_k^T w / (||a_k|| ||w||)`` of block ``j``'s rows (0 for zero rows)."""
        wn = float(np.linalg.norm(w))
        if wn == 0 or self.gated:
            return np.zeros(self.n)
        slack = self.cone(j) @ w
        scale = self.row_norms * wn
        return np.divide(slack, scale, out=np.zeros(self.n), where=scale > 0)


def _restricted_solve(blocks: _Blocks, y: np.ndarray, lam: float, working: dict[int, np.ndarray],
                      tol: float, residual_form: bool = False, refine: bool = False) -> dict[int, np.ndarray]:
    """Solve the program over the working blocks and rows with Clarabel; return their weights.

    Rescaled by ``c = ||y|| / sqrt(n)`` (``y / c``, ``lam / c``; the weights scale back by
    ``c``) so that Clarabel's absolute tolerances are relative to the data. The default form
    has the quadratic ``P = F^T F`` (smallest KKT system); ``residual_form`` adds the residual
    ``e = F z - y / c`` as variables with ``P = I`` on them (n more variables, but the
    condition number of ``F`` is not squared: the fallback when the default form stalls, and
    the form used whenever there are fewer samples than variables, ``n < k d``, above 200
    variables).
    Clarabel's iterative refinement of the KKT solves is off at first (it took a third of the
    time at 500 variables, for the same solution to 1e-15; BENCHMARKS.md) and is switched on
    for the retries: same form with ``refine``, then the residual form with ``refine``.
    """
    import clarabel

    order = sorted(working)
    k, d, n = len(order), blocks.d, blocks.n
    c = max(float(np.linalg.norm(y)) / np.sqrt(n), 1e-300)
    F = np.hstack([blocks.design(j) for j in order])                     # (n, k d)
    nz = k * d
    if n < nz and nz > _FAER_SIZE:
        # fewer samples than variables: F^T F is dense, (k d)^2 entries of rank <= n, while
        # the residual form's KKT system eliminates to an n x n Schur complement (measured in
        # the refinement benchmark: n = 80, 600-1200 variables, 2.4x faster overall). Small
        # programs keep the F^T F form: its solutions meet the dual constraints more tightly
        # (a 12-point instance: 1 + 7e-12 against 1 + 2e-6 of lam, the same objective)
        residual_form = True
    extra = n if residual_form else 0
    size = nz + k + extra
    # A in COO pieces (row, column, value), built without dense intermediates
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cones = []
    m = 0
    if residual_form:
        Pm = sp.diags(np.concatenate([np.zeros(nz + k), np.ones(n)])).tocsc()
        q = np.concatenate([np.zeros(nz), np.full(k, lam / c), np.zeros(n)])
        rr, cc = np.nonzero(F)
        pieces.append((rr, cc, F[rr, cc]))
        pieces.append((np.arange(n), nz + k + np.arange(n), -np.ones(n)))
        cones.append(clarabel.ZeroConeT(n))
        b_eq = y / c
        m = n
    else:
        Pm = sp.csc_matrix(np.triu(F.T @ F))
        Pm.resize((size, size))
        q = np.concatenate([-(F.T @ (y / c)), np.full(k, lam / c)])
        b_eq = np.zeros(0)
    m_lin = 0
    for i, j in enumerate(order):
        R = working[j]
        if R.size and not blocks.gated:
            A = blocks.cone(j)[R]
            A = A / np.maximum(np.linalg.norm(A, axis=1), 1e-300)[:, None]
            rows = m + m_lin + np.repeat(np.arange(R.size), d)
            cols = np.tile(i * d + np.arange(d), R.size)
            pieces.append((rows, cols, -A.ravel()))
            m_lin += R.size
    if m_lin:
        cones.append(clarabel.NonnegativeConeT(m_lin))
    m += m_lin
    for i in range(k):
        pieces.append((np.array([m]), np.array([nz + i]), np.array([-1.0])))
        pieces.append((m + 1 + np.arange(d), i * d + np.arange(d), -np.ones(d)))
        cones.append(clarabel.SecondOrderConeT(d + 1))
        m += d + 1
    A = sp.csc_matrix((np.concatenate([p[2] for p in pieces]),
                       (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))),
                      shape=(m, size))
    b = np.zeros(m)
    b[:b_eq.size] = b_eq
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = tol
    settings.max_iter = 200
    settings.max_threads = 1
    # QDLDL is fastest for small programs; the supernodal "faer" factorization for larger ones
    # (measured without iterative refinement: 0.017 s vs 0.044 s at 176 variables, 0.062 s vs
    # 0.065 s at 319, 0.16 s vs 0.30 s at 495; BENCHMARKS.md)
    settings.direct_solve_method = "faer" if nz > _FAER_SIZE else "qdldl"
    settings.iterative_refinement_enable = refine
    solver = clarabel.DefaultSolver(Pm, q, A, b, cones, settings)
    sol = solver.solve()
    status = str(sol.status)
    x = np.asarray(sol.x)
    if status not in ("Solved", "AlmostSolved") and not refine:
        return _restricted_solve(blocks, y, lam, working, tol, residual_form, refine=True)
    if status not in ("Solved", "AlmostSolved") and not residual_form:
        # e.g. InsufficientProgress on an ill-conditioned P = F^T F: the residual form
        return _restricted_solve(blocks, y, lam, working, tol, residual_form=True, refine=True)
    usable = status in ("Solved", "AlmostSolved", "InsufficientProgress")
    if not usable or not np.isfinite(x).all():
        raise SolverError(f"Clarabel returned status {status} on the restricted C-ReLU "
                          f"({k} blocks, {sum(len(r) for r in working.values())} cone rows).")
    # an InsufficientProgress point is still used: the outer loop checks the gap and the cone
    # violation of whatever it gets, so an inaccurate restricted solution costs rounds, not
    # soundness
    x = x * c
    return {j: x[i * d:(i + 1) * d] for i, j in enumerate(order)}


def _sparsify(blocks: _Blocks, weights: dict[int, np.ndarray], y: np.ndarray, lam: float
              ) -> dict[int, np.ndarray]:
    """A vertex of the optimal set through the same fit (theory.md §4-5, in floats).

    With the directions ``w_b / ||w_b||`` fixed, the fit is ``F alpha`` (``F`` has columns
    ``Z_b w_b / ||w_b||``) and the penalty is ``lam sum(alpha)``: a linear program over
    ``{alpha >= 0 : F alpha = F alpha_0}`` whose simplex solution has linearly independent
    columns (a minimal set of blocks), the same fit and a penalty no larger. An interior-point
    solution spreads its weight over near-duplicate blocks; this keeps working sets, warm
    starts and networks small. The support is kept, the LP's values are replaced by a least-
    squares solve of the fit on it, and the result is used only when it is non-negative and its
    objective is not larger than before (to a relative 1e-14).
    """
    if len(weights) < 2:
        return weights
    from scipy.optimize import linprog

    order = list(weights)
    alpha0 = np.array([np.linalg.norm(weights[j]) for j in order])
    F = np.column_stack([blocks.design(j) @ (weights[j] / a) for j, a in zip(order, alpha0, strict=True)])
    fit = F @ alpha0
    scale = max(float(np.abs(fit).max()), 1e-300)
    res = linprog(np.ones(len(order)), A_eq=F / scale, b_eq=fit / scale, bounds=(0, None), method="highs-ds")
    if res.status != 0:
        return weights
    support = np.flatnonzero(res.x > 1e-9 * max(float(res.x.max()), 1e-300))
    if support.size == 0 or support.size == len(order):
        return weights
    alpha = np.linalg.lstsq(F[:, support], fit, rcond=None)[0]
    if np.any(alpha <= 0):
        return weights
    r0 = y - fit
    r1 = y - F[:, support] @ alpha
    before = 0.5 * float(r0 @ r0) + lam * float(alpha0.sum())
    after = 0.5 * float(r1 @ r1) + lam * float(alpha.sum())
    if after > before * (1 + 1e-14):
        return weights
    return {order[i]: weights[order[i]] * (a / alpha0[i]) for i, a in zip(support, alpha, strict=True)}


def _has_parallel_blocks(weights: dict[int, np.ndarray], cosine: float = 1.0 - 1e-9) -> bool:
    """True when two blocks' weight vectors point in the same direction (cosine > ``cosine``)."""
    if len(weights) < 2:
        return False
    dirs = np.array([w / np.linalg.norm(w) for w in weights.values()])
    C = dirs @ dirs.T
    np.fill_diagonal(C, 0.0)
    return bool((C > cosine).any())


def _block_matrix(weights: dict[int, np.ndarray], d: int, P: int, which: str) -> np.ndarray:
    """``U`` (blocks ``j < P``) or ``H`` (blocks ``j >= P``) as a (d, P) matrix."""
    out = np.zeros((d, P))
    for j, w in weights.items():
        if (j < P) == (which == "U"):
            out[:, j % P] = w
    return out


def _largest(weights: dict[int, np.ndarray]) -> float:
    """``max_b ||w_b||`` (0 for no blocks)."""
    return max((float(np.linalg.norm(w)) for w in weights.values()), default=0.0)


def _evaluate(op, y: np.ndarray, lam: float, weights: dict[int, np.ndarray], d: int, P: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``U``, ``H``, the residual ``y - fit`` and the convex objective of block weights."""
    U = _block_matrix(weights, d, P, "U")
    H = _block_matrix(weights, d, P, "H")
    r = y - op.forward(U - H)
    penalty = sum(float(np.linalg.norm(w)) for w in weights.values())
    return U, H, r, 0.5 * float(r @ r) + lam * penalty


def _dual_value(r: np.ndarray, y: np.ndarray, lam: float, bound: float) -> float:
    """``<t r, y> - 1/2 ||t r||^2`` with ``t = min(<r, y> / ||r||^2, lam / bound)`` (>= 0)."""
    a, b = float(r @ y), float(r @ r)
    if a <= 0 or b == 0:
        return 0.0
    t = a / b if bound <= 0 else min(a / b, lam / bound)
    return t * a - 0.5 * t * t * b


# --------------------------------------------------------------------------------------------
# Solver


def solve(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, gated: bool = False,
          options: SolverOptions | None = None, warm_start: WarmStart | None = None,
          progress: Callable[[dict], None] | None = None, face_hints: WarmStart | None = None
          ) -> Solution:
    """Solve the C-ReLU (``gated=False``) or the gated ReLU over the pattern columns of ``D``.

    Parameters
    ----------
    X : (n, d) features (with the ones column when a bias is used).
    y : (n,) targets.
    lam : float > 0
        certify's scaling: ``1/2 ||.||^2`` loss plus ``lam`` times the sum of group norms
        (:func:`certify.problem.convert_lambda` converts scnn's and PyTorch's conventions).
    D : (n, P) 0/1 patterns.
    gated : drop the cone constraints (gated ReLU; then ``H`` is zero).
    options : :class:`SolverOptions` (tolerances; defaults: gap 1e-8, cone violation 1e-9).
    warm_start : :meth:`Solution.warm_start` of an earlier solve (other patterns or lam).
    progress : called after every round with that round's ``history`` entry.
    face_hints : :meth:`Solution.face_hints` of an earlier solve: the last projection face of
        every block it priced, keyed by pattern. Only a starting guess of the projections
        (results do not depend on it); saves the cold projections of patterns seen before
        (refinement over a growing pattern set).

    Returns
    -------
    Solution
        ``converged`` is true only when the relative duality gap and the cone violation are
        both within tolerance; otherwise ``message`` says which is not.

    Raises
    ------
    InputError
        Shapes, non-finite values, ``lam <= 0``, non-0/1 patterns.
    SolverError
        Clarabel fails on a restricted program.
    """
    opts = options or SolverOptions()
    X, y, lam, D = _check_inputs(X, y, lam, D)
    start = time.perf_counter()
    blocks = _Blocks(X, D, gated)
    op = select_backend(opts.backend, work=float(X.shape[0]) * X.shape[1] * D.shape[1])().prepare(X, D)
    n, d = X.shape
    P = D.shape[1]
    working: dict[int, np.ndarray] = {}
    index = {D[:, p].tobytes(): p for p in range(P)} if (warm_start or face_hints) else {}
    if face_hints:
        cap = blocks.face_rows.shape[1]
        for (key, sign), rows in face_hints.items():
            p = index.get(key)
            if p is not None and (sign == 1 or not gated):
                rows = np.asarray(rows, np.int64).ravel()
                rows = rows[(rows >= 0) & (rows < n)][:cap]       # hints from other data: ignored rows
                blocks.face_rows[p if sign == 1 else P + p, :rows.size] = rows
    if warm_start:
        for (key, sign), rows in warm_start.items():
            p = index.get(key)
            if p is not None and (sign == 1 or not gated):
                working[p if sign == 1 else P + p] = np.asarray(rows, np.int64)
    weights: dict[int, np.ndarray] = {}
    history: list[dict] = []
    secs = {"restricted": 0.0, "pricing": 0.0}
    tol = opts.subproblem_tol
    residual_form = False
    U = np.zeros((d, P))
    H = np.zeros((d, P))
    objective = dual = gap = violation = np.inf
    message = f"not converged after {opts.max_rounds} rounds"
    converged = False
    rnd = 0
    dropped: set[int] = set()
    for rnd in range(1, opts.max_rounds + 1):
        t0 = time.perf_counter()
        if working:
            weights = _restricted_solve(blocks, y, lam, working, tol, residual_form)
        t1 = time.perf_counter()
        largest = _largest(weights)
        weights = {j: w for j, w in weights.items() if np.linalg.norm(w) > opts.zero_tol * largest}
        parked: set[int] = set()
        if _has_parallel_blocks(weights):
            # blocks of adjacent cells that share a boundary ray carry the same neuron: the
            # interior-point solution spreads its weight over all of them (theory.md §4, merged
            # duplicates). The vertex step keeps one per direction; the others leave the
            # working set unless they violate their dual constraint beyond the margin.
            kept = _sparsify(blocks, weights, y, lam)
            parked = set(weights) - set(kept)
            weights = kept
        # rows of the full cones that working blocks violate and that are not yet working rows
        slacks = {j: blocks.violations(j, w) for j, w in weights.items()}
        new_rows: dict[int, np.ndarray] = {}
        missing = 0.0
        for j, rel in slacks.items():
            bad = np.setdiff1d(np.flatnonzero(rel < -opts.feas_tol), working[j])
            if bad.size:
                new_rows[j] = bad[np.argsort(rel[bad])[: 4 * d]]
                missing = max(missing, float(-rel[bad].min()))
        # the restricted optimum's residual drives pricing (and gives the dual point: valid for
        # any residual); the primal value is that of its feasible restoration
        r = _evaluate(op, y, lam, weights, d, P)[2]
        if missing <= _RESTORE_MAX:
            # restore feasibility: project the blocks onto their full cones (an interior-point
            # solution meets its working rows only to an absolute tolerance, visible on tiny
            # blocks); skipped while rows outside the working rows are clearly violated (the
            # next round adds them)
            weights, projected = blocks.restore(weights, slacks)
            slacks.update({j: blocks.violations(j, weights[j]) for j in projected if j in weights})
        violation = max((float(-slacks[j].min(initial=0.0)) for j in weights), default=0.0)
        U, H, _, objective = _evaluate(op, y, lam, weights, d, P)
        # pricing: one-cone bounds of every block at the residual
        G = op.adjoint(r)
        bounds = blocks.bounds(G, lam, cutoff=lam * (1.0 + _CUTOFF_SLACK * opts.gap_tol))
        dual = _dual_value(r, y, lam, float(bounds.max(initial=0.0)))
        gap = (objective - dual) / objective if objective > 0 else 0.0
        t2 = time.perf_counter()
        secs["restricted"] += t1 - t0
        secs["pricing"] += t2 - t1
        entry = {"round": rnd, "objective": objective, "dual": dual, "gap": gap, "violation": violation,
                 "blocks": len(working), "rows": int(sum(len(v) for v in working.values())),
                 "seconds": t2 - t0}
        history.append(entry)
        if progress is not None:
            progress(entry)
        if gap <= opts.gap_tol and violation <= opts.feas_tol:
            converged, message = True, "converged"
            break
        # blocks that violate their dual constraint by more than a margin that shrinks with the
        # gap (near-duplicate cells that violate it by a hair join only when the gap is small)
        margin = lam * (1.0 + _MARGIN_FACTOR * min(gap, 1.0))
        for j in parked:
            if bounds[j] <= margin:
                del working[j]  # a duplicate direction the vertex step dropped (above)
                dropped.add(j)
        # dropped duplicates come back only beyond the margin (not as hair violators)
        violating = [int(j) for j in np.argsort(-bounds) if bounds[j] > lam and j not in working
                     and (j not in dropped or bounds[j] > margin)]
        outside = [j for j in violating if bounds[j] > margin] or violating
        dropped.difference_update(outside)
        for j in [j for j in working if j not in weights and bounds[j] < lam]:
            del working[j]  # zero at the restricted optimum and dual feasible: inactive
        budget = max(opts.initial_blocks, len(working) // 2)
        for j in outside[:budget]:
            working[j] = blocks.entry_rows(j, G)
        for j, rows in new_rows.items():
            if j in working:
                working[j] = np.union1d(working[j], rows)
        if not outside and not new_rows:
            if not residual_form:
                residual_form = True  # better conditioned restricted program (see _restricted_solve)
                continue
            if tol > 1e-14:
                tol /= 100.0  # the restricted solve was not accurate enough for the target gap
                continue
            message = (f"stalled: relative gap {gap:.2e} (target {opts.gap_tol:.0e}), cone violation "
                       f"{violation:.1e} (target {opts.feas_tol:.0e}) with no block or row left to add; "
                       f"the restricted solves are at Clarabel's accuracy limit")
            break
    if converged:
        # a vertex of the optimal set through the same fit: fewer blocks, penalty not larger;
        # the dual point is unchanged, so the gap is recomputed for the new primal value
        # blocks that are tiny and strictly dual feasible cannot be active at the optimum
        # (theory.md §3: active blocks have ||v_b|| = lam): interior-point residue, dropped
        largest = _largest(weights)
        weights = {j: w for j, w in weights.items()
                   if not (np.linalg.norm(w) <= _TINY * largest and bounds[j] < (1 - _INACTIVE) * lam)}
        weights = _sparsify(blocks, weights, y, lam)
        U, H, _, objective = _evaluate(op, y, lam, weights, d, P)
        gap = (objective - dual) / objective if objective > 0 else 0.0
        if gap > opts.gap_tol:  # pragma: no cover - _sparsify never increases the objective
            converged, message = False, f"vertex step raised the gap to {gap:.2e}"
    if not converged and message.startswith("not converged"):
        message += f": relative gap {gap:.2e} (target {opts.gap_tol:.0e}), cone violation " \
                   f"{violation:.1e} (target {opts.feas_tol:.0e})"
    secs["total"] = time.perf_counter() - start
    largest = _largest(weights)
    kept = {j: working[j] for j, w in weights.items() if np.linalg.norm(w) > _WARM_TOL * largest}
    return Solution(U, H, D, lam, gated, objective, dual, gap, violation, converged, rnd, message,
                    history, kept, secs, blocks.face_rows)
