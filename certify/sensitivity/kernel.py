"""Derivatives of a minimal optimal C-ReLU solution in ``lam`` and ``y`` (theory.md §6, *Sensitivity*).

Scaling (certify's, theory.md §1-2): loss ``1/2 ||sum_b Z_b w_b - y||^2``, penalty ``lam sum_b ||w_b||``,
blocks ``b = (pattern D_b, sign s_b)`` with ``Z_b = s_b D_b X`` and cone ``(2 D_b - I) X w_b >= 0``; a
first-layer bias is a ones column of ``X`` (regularized like the other weights).

At an optimal solution with active (merged) set ``A``, unit directions ``u_b = w_b / ||w_b||`` and tight
cone rows ``T_b = {k : x_k^T u_b = 0}`` (up to ``Tolerances.tight`` relative to ``||x_k||``), the KKT
conditions restricted to ``A`` and ``T`` read::

    Z_b^T (Z_A w_A - y) + lam u_b + K_b rho_b = 0,     K_b^T w_b = 0          (b in A)

with ``K_b`` the columns ``-(2 D_b[k] - 1) x_k`` (``k in T_b``) and multipliers ``rho_b >= 0``. Under

1. minimality: the fits ``Z_b u_b`` (b in A) are linearly independent;
2. independent tight constraints: each ``K_b`` has full column rank;
3. strict complementarity: every ``rho_b > 0`` (also for each duplicate block of ``b``);
4. strict dual feasibility off ``A``: ``||v_b|| < lam`` for every other block of the scope,

the implicit function theorem gives (``J`` is non-singular under 1-2, proofs/sensitivity.md)::

    J = [[Z_A^T Z_A + lam H, K_T], [K_T^T, 0]],   H = blkdiag((I - u_b u_b^T) / ||w_b||)
    d(w_A, rho_T)/d lam = -J^{-1} [u; 0],          d(w_A, rho_T)/d y = J^{-1} [Z_A^T; 0]

and, by the chain rule, the balanced network's neurons ``W1_b = w_b / sqrt||w_b||``,
``w2_b = s_b sqrt||w_b||``: ``dW1_b = ||w_b||^{-1/2} (I - u_b u_b^T / 2) dw_b`` and
``dw2_b = s_b u_b^T dw_b / (2 ||w_b||^{1/2})``. Where a hypothesis fails no derivative is reported.
Everything here is floating point; :mod:`certify.check.sensitivity` checks what is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from certify.convex.correlation import cone_rows, correlation_vector
from certify.errors import InputError


@dataclass(frozen=True)
class Tolerances:
    """Tolerances of :func:`sensitivity` (all stated; margins are reported beside them).

    Attributes
    ----------
    zero : float, default=1e-9
        Blocks with ``||w_b|| <= zero * max ||w||`` are inactive.
    duplicate : float, default=1e-9
        Active blocks of equal sign with ``1 - cos(w_b, w_c) <= duplicate`` whose patterns differ only
        on tight rows (so their fits are equal) are merged (theory.md §4).
    tight : float, default=1e-7
        Row ``k`` is tight for block ``b`` when ``|x_k^T u_b| <= tight ||x_k||``.
    minimality : float, default=1e-9
        Minimality holds when ``sigma_min / sigma_max`` of ``[Z_b u_b]`` exceeds this.
    constraints : float, default=1e-9
        Independent tight constraints: ``sigma_min / sigma_max`` of each ``K_b`` exceeds this.
    complementarity : float, default=1e-7
        Strict complementarity: ``min rho / lam`` exceeds this.
    dual : float, default=1e-7
        Strict dual feasibility: ``(lam - max_{b off A} ||v_b||) / lam`` exceeds this.
    stationarity : float, default=1e-6
        The KKT residual of the restricted system, relative to ``lam``, must not exceed this
        (otherwise the solution is not accurate enough to differentiate).
    condition : float, default=1e12
        The 2-norm condition number of ``J`` must stay below this.
    """

    zero: float = 1e-9
    duplicate: float = 1e-9
    tight: float = 1e-7
    minimality: float = 1e-9
    constraints: float = 1e-9
    complementarity: float = 1e-7
    dual: float = 1e-7
    stationarity: float = 1e-6
    condition: float = 1e12


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis of the sensitivity theorem: holds iff ``margin > threshold`` (or ``<`` for
    ``condition`` and ``stationarity``, see ``detail``)."""

    name: str
    holds: bool
    margin: float
    threshold: float
    detail: str


@dataclass(frozen=True)
class ActiveBlock:
    """A merged active block: representative index into the scope, its members and tight rows."""

    index: int
    members: tuple[int, ...]
    sign: int
    pattern: np.ndarray
    weight: np.ndarray
    tight: np.ndarray
    multipliers: np.ndarray


@dataclass(frozen=True)
class Sensitivity:
    """Result of :func:`sensitivity`.

    ``valid`` iff every hypothesis holds; the derivative fields are ``None`` otherwise.

    Attributes
    ----------
    hypotheses : list of :class:`Hypothesis`
    active : list of :class:`ActiveBlock`
    J : ndarray, the implicit-function matrix (``None`` when it could not be built)
    condition : float, its 2-norm condition number
    dw_dlam : ndarray (d, |A|)          derivative of the merged block weights in lam
    dw_dy : ndarray (d, |A|, n)         derivative of the merged block weights in y
    dfit_dlam : ndarray (n,)            derivative of the fit
    dfit_dy : ndarray (n, n)            influence matrix ``d yhat_i / d y_k``
    dW1_dlam, dw2_dlam : ndarray (d, |A|), (|A|,)   balanced network (one neuron per merged block)
    dW1_dy, dw2_dy : ndarray (d, |A|, n), (|A|, n)
    """

    hypotheses: list[Hypothesis]
    active: list[ActiveBlock]
    J: np.ndarray | None = None
    condition: float = float("inf")
    residual: np.ndarray | None = None
    dw_dlam: np.ndarray | None = None
    dw_dy: np.ndarray | None = None
    drho_dlam: np.ndarray | None = None
    dfit_dlam: np.ndarray | None = None
    dfit_dy: np.ndarray | None = None
    dW1_dlam: np.ndarray | None = None
    dw2_dlam: np.ndarray | None = None
    dW1_dy: np.ndarray | None = None
    dw2_dy: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return all(h.holds for h in self.hypotheses)

    def failures(self) -> list[Hypothesis]:
        return [h for h in self.hypotheses if not h.holds]


def _design(X: np.ndarray, pattern: np.ndarray, sign: int) -> np.ndarray:
    return sign * pattern.astype(float)[:, None] * X


def tight_rows(X: np.ndarray, u: np.ndarray, tol: float) -> np.ndarray:
    """Rows ``k`` with ``x_k != 0`` and ``|x_k^T u| <= tol ||x_k||`` (``u`` a unit vector)."""
    norms = np.linalg.norm(X, axis=1)
    return np.flatnonzero((norms > 0) & (np.abs(X @ u) <= tol * norms))


def least_squares_multipliers(X: np.ndarray, r: np.ndarray, lam: float, pattern: np.ndarray, sign: int,
                 u: np.ndarray, tight: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares ``rho`` of ``K rho = Z^T r - lam u`` and the residual norm."""
    g = _design(X, pattern, sign).T @ r - lam * u
    K = constraint_columns(X, pattern, tight)
    if K.shape[1] == 0:
        return np.zeros(0), float(np.linalg.norm(g))
    rho, *_ = np.linalg.lstsq(K, g, rcond=None)
    return rho, float(np.linalg.norm(K @ rho - g))


def constraint_columns(X: np.ndarray, pattern: np.ndarray, tight: np.ndarray) -> np.ndarray:
    """``K_b``: columns ``-(2 D_b[k] - 1) x_k`` for the tight rows ``k``, (d, |T_b|)."""
    return -cone_rows(X, pattern.astype(float))[tight].T


def _check_inputs(X, y, lam, patterns, signs, weights):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    patterns = np.asarray(patterns)
    signs = np.asarray(signs)
    weights = np.asarray(weights, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise InputError(f"X must be (n, d) and y (n,): got {X.shape} and {y.shape}")
    n, d = X.shape
    if patterns.ndim != 2 or patterns.shape[0] != n or weights.shape != (d, patterns.shape[1]) \
            or signs.shape != (patterns.shape[1],):
        raise InputError(f"patterns must be (n, B), signs (B,) and weights (d, B): got {patterns.shape}, "
                         f"{signs.shape}, {weights.shape} with n={n}, d={d}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y)) and np.all(np.isfinite(weights))):
        raise InputError("X, y and the weights must be finite")
    if not np.isfinite(lam) or lam <= 0:
        raise InputError(f"lam must be a finite number > 0, got {lam}")
    if not np.all(np.isin(patterns, (0, 1))) or not np.all(np.isin(signs, (-1, 1))):
        raise InputError("patterns must be 0/1 and signs +-1")
    return X, y, float(lam), patterns.astype(np.uint8), signs.astype(int), weights


def _merge_active(X, patterns, signs, weights, tol: Tolerances) -> tuple[list[list[int]], np.ndarray]:
    norms = np.linalg.norm(weights, axis=0)
    top = norms.max(initial=0.0)
    active = np.flatnonzero(norms > tol.zero * top) if top > 0 else np.zeros(0, int)
    groups: list[list[int]] = []
    for b in active[np.argsort(-norms[active], kind="stable")]:
        u = weights[:, b] / norms[b]
        tight = tight_rows(X, u, tol.tight)  # equal direction and patterns equal off these: equal fits
        for g in groups:
            c = g[0]
            if signs[c] == signs[b] and 1.0 - float(u @ weights[:, c]) / norms[c] <= tol.duplicate \
                    and np.all(np.isin(np.flatnonzero(patterns[:, b] != patterns[:, c]), tight)):
                g.append(int(b))
                break
        else:
            groups.append([int(b)])
    return groups, norms


def sensitivity(X: np.ndarray, y: np.ndarray, lam: float, patterns: np.ndarray, signs: np.ndarray,
                weights: np.ndarray, tolerances: Tolerances | None = None, gated: bool = False
                ) -> Sensitivity:
    """Derivatives of an optimal solution over a block scope in ``lam`` and ``y``, with hypotheses.

    Parameters
    ----------
    X : (n, d) features (with the ones column when a bias is used).
    y : (n,) targets.
    lam : float > 0, certify's scaling (module docstring).
    patterns : (n, B) 0/1, signs : (B,) +-1
        The block scope (every block of the program the solution is optimal for; typically each
        pattern with both signs).
    weights : (d, B)
        An optimal solution over that scope (zero on inactive blocks), accurate to the solver's
        tolerance; duplicate active blocks (equal sign and direction) are merged.
    tolerances : :class:`Tolerances`
    gated : bool, default=False
        The gated ReLU (no cone constraints: no tight rows, ``v_b = Z_b^T r``).

    Returns
    -------
    Sensitivity
        Its ``hypotheses`` state each hypothesis with its margin; derivatives only when all hold.
    """
    tol = tolerances or Tolerances()
    X, y, lam, patterns, signs, weights = _check_inputs(X, y, lam, patterns, signs, weights)
    n, d = X.shape
    groups, norms = _merge_active(X, patterns, signs, weights, tol)
    fit = sum((_design(X, patterns[:, b], signs[b]) @ weights[:, b] for g in groups for b in g),
              np.zeros(n))
    r = y - fit
    hyps: list[Hypothesis] = []
    if not groups:
        hyps.append(Hypothesis("nonzero", False, 0.0, 0.0, "the solution is zero: no active block to "
                               "differentiate (lam >= lam_max; the derivative of the zero solution is 0 "
                               "only when lam > lam_max strictly)"))
        return Sensitivity(hyps, [])
    # merged weights: the representative (largest) block carries the group's sum (same direction)
    grouped = {b for g in groups for b in g}
    active: list[ActiveBlock] = []
    stat_res, min_rho, worst_rho = 0.0, np.inf, ""
    con_margin, worst_con = np.inf, ""
    for g in groups:
        rep = g[0]
        w = weights[:, g].sum(axis=1)
        u = w / np.linalg.norm(w)
        tight = np.zeros(0, int) if gated else tight_rows(X, u, tol.tight)
        members = list(g)
        # inactive duplicates: same sign, pattern differing from rep's only on tight rows
        for c in range(patterns.shape[1]):
            if gated or c in grouped or signs[c] != signs[rep]:
                continue
            differ = np.flatnonzero(patterns[:, c] != patterns[:, rep])
            if np.all(np.isin(differ, tight)) and np.all((2.0 * patterns[:, c] - 1.0) * (X @ u)
                                                         >= -tol.tight * np.linalg.norm(X, axis=1)):
                members.append(c)
                grouped.add(c)
        rho_rep = None
        for c in members:
            rho, res = least_squares_multipliers(X, r, lam, patterns[:, c], signs[c], u, tight)
            stat_res = max(stat_res, res / lam)
            if rho.size and rho.min() / lam < min_rho:
                min_rho, worst_rho = float(rho.min() / lam), f"block {c}, row {tight[int(np.argmin(rho))]}"
            if c == rep:
                rho_rep = rho
        K = constraint_columns(X, patterns[:, rep], tight)
        if K.shape[1] > 0:
            s = np.linalg.svd(K / np.linalg.norm(K, axis=0), compute_uv=False)
            ratio = float(s[-1] / s[0]) if K.shape[1] < d else 0.0
            if ratio < con_margin:
                con_margin, worst_con = ratio, f"block {rep} ({len(tight)} tight rows)"
        active.append(ActiveBlock(rep, tuple(members), int(signs[rep]), patterns[:, rep].copy(), w, tight,
                                  rho_rep))
    hyps.append(Hypothesis("stationarity", stat_res <= tol.stationarity, stat_res, tol.stationarity,
                           f"largest KKT residual ||K rho - (Z^T r - lam u)|| / lam over the active blocks "
                           f"(must be <= {tol.stationarity:g})"))
    F = np.column_stack([_design(X, a.pattern, a.sign) @ (a.weight / np.linalg.norm(a.weight))
                         for a in active])
    sv = np.linalg.svd(F, compute_uv=False)
    min_ratio = float(sv[-1] / sv[0]) if len(active) <= n and sv[0] > 0 else 0.0
    hyps.append(Hypothesis("minimality", min_ratio > tol.minimality, min_ratio, tol.minimality,
                           f"sigma_min/sigma_max of the {len(active)} active fits Z_b u_b"))
    if con_margin == np.inf:
        con_margin, worst_con = 1.0, "no tight rows"
    hyps.append(Hypothesis("independent_constraints", con_margin > tol.constraints, con_margin,
                           tol.constraints, f"smallest sigma_min/sigma_max of the tight-row matrices K_b "
                           f"(worst: {worst_con})"))
    if min_rho == np.inf:
        min_rho, worst_rho = 1.0, "no tight rows"
    hyps.append(Hypothesis("strict_complementarity", min_rho > tol.complementarity, min_rho,
                           tol.complementarity, f"smallest tight-row multiplier / lam (worst: {worst_rho})"))
    off = [c for c in range(patterns.shape[1]) if c not in grouped]
    vmax, worst_off = 0.0, "none"
    for c in off:
        g = _design(X, patterns[:, c], signs[c]).T @ r
        v = float(np.linalg.norm(g if gated else
                                 correlation_vector(g, cone_rows(X, patterns[:, c].astype(float)))))
        if v > vmax:
            vmax, worst_off = v, f"block {c}"
    dual_margin = (lam - vmax) / lam
    hyps.append(Hypothesis("strict_dual_feasibility", dual_margin > tol.dual, dual_margin, tol.dual,
                           f"(lam - max ||v_b||) / lam over the {len(off)} blocks off the active set "
                           f"(worst: {worst_off})"))
    J, rhs_lam, rhs_y, Z = system(X, lam, active)
    cond = float(np.linalg.cond(J))
    hyps.append(Hypothesis("conditioning", cond < tol.condition, cond, tol.condition,
                           "2-norm condition number of J (must be below the threshold)"))
    out = Sensitivity(hyps, active, J=J, condition=cond, residual=r)
    if not out.valid:
        return out
    sol = np.linalg.solve(J, np.column_stack([rhs_lam, rhs_y]))
    nw = d * len(active)
    dw_lam = sol[:nw, 0].reshape(len(active), d).T
    dw_y = sol[:nw, 1:].reshape(len(active), d, n).transpose(1, 0, 2)
    dfit_lam = Z @ sol[:nw, 0]
    dfit_y = Z @ sol[:nw, 1:]
    dW1_lam, dw2_lam, dW1_y, dw2_y = _chain_rule(active, dw_lam, dw_y)
    return Sensitivity(hyps, active, J=J, condition=cond, residual=r, dw_dlam=dw_lam, dw_dy=dw_y,
                       drho_dlam=sol[nw:, 0], dfit_dlam=dfit_lam, dfit_dy=dfit_y, dW1_dlam=dW1_lam,
                       dw2_dlam=dw2_lam, dW1_dy=dW1_y, dw2_dy=dw2_y)


def system(X: np.ndarray, lam: float, active: list[ActiveBlock]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``J``, ``rhs_lam = -[u; 0]``, ``rhs_y = [Z_A^T; 0]`` and ``Z_A`` (n, d|A|) (module docstring)."""
    n, d = X.shape
    Z = np.hstack([_design(X, a.pattern, a.sign) for a in active])
    nw = d * len(active)
    Ks = [constraint_columns(X, a.pattern, a.tight) for a in active]
    nt = sum(K.shape[1] for K in Ks)
    J = np.zeros((nw + nt, nw + nt))
    J[:nw, :nw] = Z.T @ Z
    rhs_lam = np.zeros(nw + nt)
    col = nw
    for i, (a, K) in enumerate(zip(active, Ks, strict=True)):
        norm = float(np.linalg.norm(a.weight))
        u = a.weight / norm
        sl = slice(i * d, (i + 1) * d)
        J[sl, sl] += lam * (np.eye(d) - np.outer(u, u)) / norm
        J[sl, col:col + K.shape[1]] = K
        J[col:col + K.shape[1], sl] = K.T
        col += K.shape[1]
        rhs_lam[sl] = -u
    rhs_y = np.zeros((nw + nt, n))
    rhs_y[:nw] = Z.T
    return J, rhs_lam, rhs_y, Z


def _chain_rule(active, dw_lam, dw_y):
    """Balanced neurons ``W1 = w / sqrt||w||``, ``w2 = s sqrt||w||`` (module docstring)."""
    d, k = dw_lam.shape
    dW1_lam = np.zeros_like(dw_lam)
    dw2_lam = np.zeros(k)
    dW1_y = np.zeros_like(dw_y)
    dw2_y = np.zeros((k, dw_y.shape[2]))
    for i, a in enumerate(active):
        norm = float(np.linalg.norm(a.weight))
        u = a.weight / norm
        M = (np.eye(d) - 0.5 * np.outer(u, u)) / np.sqrt(norm)
        dW1_lam[:, i] = M @ dw_lam[:, i]
        dW1_y[:, i] = M @ dw_y[:, i]
        dw2_lam[i] = a.sign * float(u @ dw_lam[:, i]) / (2 * np.sqrt(norm))
        dw2_y[i] = a.sign * (u @ dw_y[:, i]) / (2 * np.sqrt(norm))
    return dW1_lam, dw2_lam, dW1_y, dw2_y


def from_solution(X: np.ndarray, y: np.ndarray, solution, tolerances: Tolerances | None = None
                  ) -> Sensitivity:
    """:func:`sensitivity` at a :class:`certify.solve.working_set.Solution` (scope: its patterns, both
    signs)."""
    D = solution.patterns
    P = D.shape[1]
    return sensitivity(X, y, solution.lam, np.hstack([D, D]),
                       np.concatenate([np.ones(P, int), -np.ones(P, int)]),
                       np.hstack([solution.U, solution.H]), tolerances, gated=solution.gated)
