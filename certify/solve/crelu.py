"""EXPERIMENTAL, work in progress for issue 8: not used by any command, not yet tested.

Measured so far (n=200, d=5, P=20): the AL stage reaches 30.0122 against Clarabel's 29.9935
after 20 rounds and ~25 s (Clarabel: 0.6 s), and the face polish does not yet find the right
faces from such iterates (polished points violate cone constraints). Kept as the starting point
of the next session; see the issue note.

Fast solver for the C-ReLU (and gated ReLU) over a pattern set (theory.md §2, §3, §7).

    min_W  1/2 || sum_p D_p X (u_p - h_p) - y ||^2 + lam sum_p (||u_p|| + ||h_p||)
    s.t.   (2 D_p - I) X u_p >= 0,  (2 D_p - I) X h_p >= 0      (dropped for the gated variant)

Algorithm (under evaluation):

1. **Augmented Lagrangian with FISTA inner solves** (the smooth part is the loss plus the
   penalty ``1/(2 rho) ||(gamma - rho A w)_+||^2`` of the cone constraints; the prox is group
   soft-thresholding). Moderate accuracy; it identifies the active blocks and their faces.
2. **Face polish** (theory.md §7): every active block is restricted to the face of its cone
   spanned by its tight constraints (``w_b = N_b z_b``, ``N_b`` an orthonormal basis of
   ``{u : a_k^T u = 0, k tight}``); the reduced group lasso is solved by damped Newton on its
   optimality system, to machine precision; tight constraints hold exactly by construction.
3. **Verification in floats**: primal cone violation, and the relative duality gap from the
   dual point ``t r`` built from the residual with the one-cone bounds (NNLS per block), the
   same bound the certificates use. If the gap or the violation is above tolerance, the
   blocks that violate the dual constraint join the AL stage again, warm-started.

Status is reported, never assumed: ``converged`` is true only when the gap and the cone
violation are both within tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import null_space

from certify.convex.correlation import cone_multipliers, cone_rows
from certify.errors import InputError


@dataclass
class SolverOptions:
    """Tolerances and limits of :func:`solve`.

    Attributes
    ----------
    gap_tol : float, default=1e-8
        Target relative duality gap ``(primal - dual) / primal``.
    feas_tol : float, default=1e-10
        Target cone violation ``max(0, -min_k (2D_k - 1) x_k^T w_b) / (||x_k|| ||w_b||)``
        (relative: an angle in radians).
    max_rounds : int, default=20
        Outer rounds (AL stage, polish, verification).
    al_iters : int, default=2000
        At most this many FISTA iterations per AL round.
    active_tol : float, default=1e-7
        A block is active when ``||w_b|| > active_tol * max_b ||w_b||``.
    tight_tol : float, default=1e-6
        A constraint is tight when its relative slack is below this.
    """

    gap_tol: float = 1e-8
    feas_tol: float = 1e-10
    max_rounds: int = 20
    al_iters: int = 2000
    active_tol: float = 1e-7
    tight_tol: float = 1e-6


@dataclass
class Solution:
    """Result of :func:`solve`.

    Attributes
    ----------
    U, H : ndarray (d, P)
        Block weights for signs +1 and -1 (``h_p`` enters the fit with a minus sign).
    patterns : ndarray (n, P) uint8
    objective : float
        Convex objective of (U, H).
    dual_value : float
        ``<t r, y> - 1/2 ||t r||^2`` with ``t`` making ``t r`` dual feasible (one-cone bounds).
    gap : float
        Relative duality gap ``(objective - dual_value) / max(objective, tiny)``.
    violation : float
        Largest relative cone violation (0 for the gated variant).
    converged : bool
        ``gap <= gap_tol`` and ``violation <= feas_tol``.
    rounds, iterations : int
    message : str
    """

    U: np.ndarray
    H: np.ndarray
    patterns: np.ndarray
    objective: float
    dual_value: float
    gap: float
    violation: float
    converged: bool
    rounds: int
    iterations: int
    message: str
    history: list = field(default_factory=list)

    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Non-zero blocks as (weights (d, B), signs (B,), pattern columns (n, B))."""
        W = np.hstack([self.U, self.H])
        signs = np.concatenate([np.ones(self.U.shape[1], int), -np.ones(self.H.shape[1], int)])
        pats = np.hstack([self.patterns, self.patterns])
        keep = np.linalg.norm(W, axis=0) > 0
        return W[:, keep], signs[keep], pats[:, keep]


class _Problem:
    """Batched operators of the C-ReLU over P patterns (2P blocks: u then h)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, gated: bool):
        self.X, self.y, self.lam, self.gated = X, y, lam, gated
        self.P = D.shape[1]
        self.D2 = np.hstack([D, D]).astype(float)  # (n, 2P)
        self.E2 = 2.0 * self.D2 - 1.0  # cone row signs
        self.s = np.concatenate([np.ones(self.P), -np.ones(self.P)])
        self.xnorm = np.linalg.norm(X, axis=1)

    def fit(self, S: np.ndarray) -> np.ndarray:
        """Prediction from ``S = X W`` (n, 2P)."""
        return (S * self.D2) @ self.s

    def objective(self, W: np.ndarray, S: np.ndarray | None = None) -> float:
        S = self.X @ W if S is None else S
        r = self.fit(S) - self.y
        return 0.5 * float(r @ r) + self.lam * float(np.linalg.norm(W, axis=0).sum())

    def violation(self, W: np.ndarray, S: np.ndarray | None = None) -> float:
        """Largest relative cone violation over all blocks and rows."""
        if self.gated:
            return 0.0
        S = self.X @ W if S is None else S
        wn = np.linalg.norm(W, axis=0)
        scale = np.outer(np.where(self.xnorm > 0, self.xnorm, 1.0), np.where(wn > 0, wn, 1.0))
        return float(max(0.0, -np.min(self.E2 * S / scale)))


def _group_shrink(V: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    norms = np.linalg.norm(V, axis=0)
    scale = np.maximum(0.0, 1.0 - t / np.where(norms > 0, norms, 1.0))
    return V * scale


def _lipschitz(prob: _Problem, iters: int = 30, seed: int = 0) -> float:
    """Power iteration for ||W -> fit(X W)||^2."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((prob.X.shape[1], 2 * prob.P))
    val = 1.0
    for _ in range(iters):
        r = prob.fit(prob.X @ W)
        G = prob.X.T @ (prob.D2 * r[:, None]) * prob.s
        val = float(np.linalg.norm(G))
        W = G / max(val, 1e-300)
    return val


def _al_stage(prob: _Problem, W: np.ndarray, gamma: np.ndarray, rho: float, iters: int,
              L_loss: float, active: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, int]:
    """FISTA with adaptive restart on the augmented Lagrangian, then one multiplier update.

    Stops when the prox-gradient step is below ``tol`` relative to ``||W||`` or after ``iters``.
    """
    X = prob.X
    L = L_loss + (0.0 if prob.gated else rho * float(np.linalg.norm(X, 2)) ** 2)
    step = 1.0 / L
    Wk = W.copy()
    Z = W.copy()
    t = 1.0
    mask = active.astype(float)
    count = 0
    for _ in range(iters):
        count += 1
        S = X @ Z
        r = prob.fit(S) - prob.y
        M = prob.D2 * r[:, None] * prob.s
        if not prob.gated:
            M = M - prob.E2 * np.maximum(gamma - rho * prob.E2 * S, 0.0)
        G = X.T @ M
        W_new = _group_shrink(Z - step * G, step * prob.lam) * mask
        delta = W_new - Wk
        if float(np.sum((Z - W_new) * delta)) > 0:  # adaptive restart (O'Donoghue and Candes)
            t = 1.0
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        residual = np.linalg.norm(W_new - Z)  # prox-gradient step at Z
        Z = W_new + ((t - 1.0) / t_new) * delta
        if residual <= tol * max(1.0, np.linalg.norm(W_new)):
            Wk = W_new
            break
        Wk, t = W_new, t_new
    if not prob.gated:
        gamma = np.maximum(gamma - rho * prob.E2 * (X @ Wk), 0.0)
    return Wk, gamma, count


def _polish(prob: _Problem, W: np.ndarray, opts: SolverOptions) -> np.ndarray:
    """Restrict active blocks to their faces and solve the reduced group lasso by Newton."""
    X, y, lam = prob.X, prob.y, prob.lam
    norms = np.linalg.norm(W, axis=0)
    if norms.max(initial=0.0) == 0:
        return W
    active = np.flatnonzero(norms > opts.active_tol * norms.max())
    bases, cols = [], []
    for b in active:
        w = W[:, b]
        if prob.gated:
            N = np.eye(X.shape[1])
        else:
            A = prob.E2[:, b][:, None] * X
            slack = (A @ w) / (np.where(prob.xnorm > 0, prob.xnorm, 1.0) * norms[b])
            tight = np.flatnonzero((np.abs(slack) <= opts.tight_tol) & (prob.xnorm > 0))
            N = null_space(A[tight]) if tight.size else np.eye(X.shape[1])
            if N.shape[1] == 0:
                continue
        bases.append(N)
        cols.append(b)
    if not cols:
        return np.zeros_like(W)
    Z = [prob.s[b] * prob.D2[:, b][:, None] * (X @ N) for b, N in zip(cols, bases, strict=True)]
    z = [N.T @ W[:, b] for b, N in zip(cols, bases, strict=True)]
    keep = list(range(len(cols)))
    for _ in range(60):
        z, keep, done = _newton(Z, z, keep, y, lam)
        if done:
            break
    out = np.zeros_like(W)
    for i in keep:
        out[:, cols[i]] = bases[i] @ z[i]
    return out


def _newton(Z, z, keep, y, lam, iters: int = 50):
    """Damped Newton on the reduced group lasso over the blocks in ``keep``.

    Returns the new z, the blocks kept (a block whose norm collapses is dropped), and whether
    the optimality residual reached machine precision.
    """
    sizes = [z[i].size for i in keep]
    M = np.hstack([Z[i] for i in keep])
    zz = np.concatenate([z[i] for i in keep])
    offs = np.cumsum([0] + sizes)

    def obj(v):
        r = M @ v - y
        return 0.5 * r @ r + lam * sum(np.linalg.norm(v[offs[i]:offs[i + 1]]) for i in range(len(keep)))

    MtM = M.T @ M
    Mty = M.T @ y
    for _ in range(iters):
        grad = MtM @ zz - Mty
        Hs = MtM.copy()
        for i in range(len(keep)):
            sl = slice(offs[i], offs[i + 1])
            v = zz[sl]
            nv = np.linalg.norm(v)
            if nv <= 1e-300:
                dead = keep[i]
                for j, k in enumerate(keep):
                    z[k] = zz[offs[j]:offs[j + 1]]
                return z, [k for k in keep if k != dead], False
            u = v / nv
            grad[sl] += lam * u
            Hs[sl, sl] += lam * (np.eye(v.size) - np.outer(u, u)) / nv
        if np.linalg.norm(grad) <= 1e-13 * (1.0 + np.linalg.norm(Mty)):
            for j, k in enumerate(keep):
                z[k] = zz[offs[j]:offs[j + 1]]
            return z, keep, True
        try:
            step = np.linalg.solve(Hs, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(Hs, grad, rcond=None)[0]
        f0 = obj(zz)
        alpha = 1.0
        while alpha > 1e-12:
            cand = zz - alpha * step
            # a one-dimensional face is a ray: its coordinate must stay positive
            bad = [j for j in range(len(keep)) if sizes[j] == 1 and cand[offs[j]] <= 0]
            if not bad and obj(cand) <= f0 - 1e-4 * alpha * float(grad @ step):
                break
            alpha *= 0.5
        else:
            cand = zz
        if alpha <= 1e-12:
            # cannot decrease: a ray block wants to cross zero; drop the smallest ray
            rays = [j for j in range(len(keep)) if sizes[j] == 1]
            if rays:
                j = min(rays, key=lambda j: zz[offs[j]])
                for jj, k in enumerate(keep):
                    z[k] = zz[offs[jj]:offs[jj + 1]]
                return z, [k for jj, k in enumerate(keep) if jj != j], False
            break
        zz = cand
    for j, k in enumerate(keep):
        z[k] = zz[offs[j]:offs[j + 1]]
    return z, keep, False


def dual_bound(prob: _Problem, W: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Objective, dual value of ``t r`` (one-cone bounds, float), and per-block bounds."""
    S = prob.X @ W
    residual = prob.y - prob.fit(S)
    primal = prob.objective(W, S)
    X = prob.X
    bounds = np.zeros(2 * prob.P)
    G = X.T @ (prob.D2[:, :prob.P] * residual[:, None])
    for p in range(prob.P):
        A = None if prob.gated else cone_rows(X, prob.D2[:, p])
        for k, sign in enumerate((1.0, -1.0)):
            g = sign * G[:, p]
            if prob.gated:
                bounds[p + k * prob.P] = np.linalg.norm(g)
            else:
                mu = cone_multipliers(g, A)
                bounds[p + k * prob.P] = np.linalg.norm(g + A.T @ mu)
    a = float(residual @ prob.y)
    b = float(residual @ residual)
    if a <= 0 or b == 0:
        return primal, 0.0, bounds
    t = min(a / b, prob.lam / max(bounds.max(), 1e-300))
    return primal, t * a - 0.5 * t * t * b, bounds


def solve(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, gated: bool = False,
          options: SolverOptions | None = None, warm_start: tuple[np.ndarray, np.ndarray] | None = None,
          verbose: bool = False) -> Solution:
    """Solve the C-ReLU (``gated=False``) or gated ReLU over the pattern columns of ``D``.

    Parameters
    ----------
    X : (n, d) features (with the ones column when a bias is used).
    y : (n,) targets.
    lam : float > 0, certify's scaling (1/2 squared loss, lam times the sum of group norms).
    D : (n, P) 0/1 patterns (duplicate columns are allowed but wasteful).
    gated : drop the cone constraints (gated ReLU).
    options : tolerances and limits (:class:`SolverOptions`).
    warm_start : optional (U, H) of shape (d, P) each, e.g. from a smaller pattern set padded
        with zeros.

    Returns
    -------
    Solution
        Always returned; ``converged`` says whether both tolerances were met.
    """
    opts = options or SolverOptions()
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    D = np.asarray(D)
    if lam <= 0:
        raise InputError(f"lam must be positive, got {lam}")
    if D.ndim != 2 or D.shape[0] != X.shape[0]:
        raise InputError(f"D must be (n, P) = ({X.shape[0]}, P), got {D.shape}")
    prob = _Problem(X, y, float(lam), D, gated)
    n, d = X.shape
    P = D.shape[1]
    W = np.zeros((d, 2 * P)) if warm_start is None else np.hstack(warm_start).astype(float)
    gamma = np.zeros((n, 2 * P))
    L_loss = _lipschitz(prob)
    rho = L_loss / max(float(np.linalg.norm(X, 2)) ** 2, 1e-300)
    active = np.ones(2 * P, bool)
    total_iters = 0
    history = []
    best = None
    message = "maximum rounds reached"
    prev_viol = np.inf
    for rnd in range(1, opts.max_rounds + 1):
        inner_tol = max(1e-12, 1e-3 * 0.3 ** rnd)
        W_al, gamma, its = _al_stage(prob, W, gamma, rho, opts.al_iters, L_loss, active, inner_tol)
        total_iters += its
        W_pol = _polish(prob, W_al, opts)
        cands = []
        for cand in (W_pol, W_al):
            primal, dual, bounds = dual_bound(prob, cand)
            gap = (primal - dual) / max(abs(primal), 1e-300)
            cands.append((gap, prob.violation(cand), primal, dual, cand, bounds))
        # prefer feasible candidates (by gap), else the least violation
        cands.sort(key=lambda c: (0, c[0]) if c[1] <= opts.feas_tol else (1, c[1]))
        gap, viol, primal, dual, Wc, bounds = cands[0]
        history.append({"round": rnd, "gap": gap, "violation": viol, "objective": primal,
                        "al_objective": prob.objective(W_al), "iterations": its, "rho": rho})
        if verbose:
            print(f"round {rnd}: objective {primal:.12g} gap {gap:.3e} violation {viol:.2e} "
                  f"(AL: objective {prob.objective(W_al):.10g}, {its} iterations, rho {rho:.3g})")
        rank = (0, gap) if viol <= opts.feas_tol else (1, viol)
        if best is None or rank < best[0]:
            best = (rank, (gap, viol, primal, dual, Wc))
        if gap <= opts.gap_tol and viol <= opts.feas_tol:
            message = "converged"
            break
        W = W_al
        al_viol = float(np.max(np.maximum(-prob.E2 * (X @ W_al), 0.0), initial=0.0))
        if al_viol > 0.25 * prev_viol:
            rho *= 2.0
        prev_viol = al_viol
    gap, viol, primal, dual, W = best[1]
    converged = gap <= opts.gap_tol and viol <= opts.feas_tol
    if not converged and message == "converged":
        message = "maximum rounds reached"
    return Solution(W[:, :P], W[:, P:], D.astype(np.uint8), primal, dual, gap, viol, converged, len(history),
                    total_iters, message if converged else
                    f"not converged after {len(history)} rounds: relative gap {gap:.2e} "
                    f"(target {opts.gap_tol:.0e}), cone violation {viol:.1e} (target {opts.feas_tol:.0e})",
                    history)
