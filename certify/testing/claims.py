"""The claims of theory.md §8 as reusable checks with structured verdicts.

Each ``check_cN`` function takes an :class:`~certify.testing.instance.Instance`, one or more
candidate solutions and an :class:`Accuracy`, and returns a :class:`Verdict`: whether the claim
holds, the numbers that decide it, and the tolerance used. The claims are statements about
*optimal* solutions; a numerical solution is optimal only up to its accuracy, so every
tolerance is derived (in the docstrings) from a declared suboptimality budget
``eps = rtol (1 + |p|)`` (``p`` the candidate's objective) and a relative cone-violation budget
``feas_tol``, plus float round-off ``slack``. A verdict "fails" means: no feasible solution
within that budget can produce these numbers, so the solution is wrong (or less accurate than
declared).

Two facts give every tolerance (``p*`` the optimum, ``w`` feasible with ``p(w) <= p* + eps``):

* the loss is 1-strongly convex in the fit, and the fit is linear in ``w``, so
  ``||y_hat(w) - y_hat*|| <= sqrt(2 eps)`` (the fit of every optimum is the same, C1);
* projections onto convex cones are 1-Lipschitz and ``||Z_b||_2 <= ||X||_2``, so
  ``||v_b(w) - v_b*|| <= ||X||_2 sqrt(2 eps)``.

Scaling: certify's (theory.md §1-2; :mod:`certify.testing.instance`). All checks are float
computations; nothing here is a certificate.

C5, C10-C12 and C16 (the optimal polytope: every point optimal, minimality, uniqueness, duplicate
blocks, the min-norm formula) use :func:`certify.optimal_set.analysis.optimal_set` to build ``P_lam``
from the candidate and re-derive what they compare with their own LPs and singular values; C16 tests a
selection (default :func:`certify.selection.select.min_norm`). C9 checks :func:`certify.pruning.prune`.
C15 (sensitivity) compares :func:`certify.sensitivity.kernel.sensitivity` with finite differences of
re-solves by the solver under test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from certify.convex.mapping import blocks_to_network, convex_objective, network_to_blocks
from certify.testing.instance import Candidate, Instance, correlations, lam_max, spectral_norm

if TYPE_CHECKING:
    from certify.sensitivity.kernel import Sensitivity, Tolerances


@dataclass(frozen=True)
class Accuracy:
    """The accuracy a solution is tested at.

    Attributes
    ----------
    rtol : float, default=1e-6
        Declared relative suboptimality: a solution's objective is within
        ``eps = rtol (1 + |p|)`` of the optimum (``p`` its own objective).
    feas_tol : float, default=1e-6
        Allowed cone violation ``(-a_k^T w_b)_+ / ||a_k||`` relative to the solution's scale
        ``max(max_b ||w_b||, (1 + ||y||) / ||X||_2)`` (at most the angle by which a block leaves its cone).
    slack : float, default=1e-9
        Float round-off, relative to the scale of the numbers compared.
    """

    rtol: float = 1e-6
    feas_tol: float = 1e-6
    slack: float = 1e-9

    def eps(self, objective: float) -> float:
        return self.rtol * (1.0 + abs(objective))


@dataclass(frozen=True)
class Verdict:
    """Outcome of one claim on one instance.

    Attributes
    ----------
    claim : str
        ``"C1"`` ... ``"C16"``.
    holds : bool
        The claim holds within ``tolerance`` (always True when not ``applicable``).
    applicable : bool
        The claim's hypotheses hold on this instance (e.g. C4 away from ``lam_max``).
    message : str
        What was compared, in words.
    numbers : dict
        The numbers that decide the verdict (floats).
    tolerance : float
        The tolerance of the deciding comparison (derived in the check's docstring).
    """

    claim: str
    holds: bool
    message: str
    numbers: dict = field(default_factory=dict)
    tolerance: float = 0.0
    applicable: bool = True

    def __str__(self) -> str:
        state = "holds" if self.holds else "FAILS"
        if not self.applicable:
            state = "not applicable"
        nums = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in self.numbers.items())
        return f"{self.claim} {state}: {self.message} [{nums}; tolerance {self.tolerance:.3g}]"


def _not_applicable(claim: str, why: str) -> Verdict:
    return Verdict(claim, True, why, applicable=False)


def _failures(claim: str, parts: list[tuple[str, float, float]], numbers: dict, ok_message: str) -> Verdict:
    """Verdict from ``(what, excess, tolerance)`` comparisons: the claim holds iff every excess is at
    most its tolerance; the first failing comparison names the verdict."""
    for what, excess, tol in parts:
        if not excess <= tol:
            return Verdict(claim, False, what, numbers, tol)
    return Verdict(claim, True, ok_message, numbers, max((t for _, _, t in parts), default=0.0))


# --- C1 ------------------------------------------------------------------------------------------


def check_c1(inst: Instance, cand: Candidate, other: Candidate, acc: Accuracy = Accuracy()) -> Verdict:
    """C1, unique fit (theory.md §3: the fit is the same for every optimal solution).

    Compares the fits of two solutions of the same instance (typically the candidate and an
    independent reference). Tolerance: each is ``eps``-optimal, so each fit is within
    ``sqrt(2 eps)`` of the optimal fit (strong convexity of the loss in the fit), and
    ``||y_hat_1 - y_hat_2|| <= sqrt(2 eps_1) + sqrt(2 eps_2)`` (+ slack).
    """
    m1, m2 = cand.measures(inst), other.measures(inst)
    dist = float(np.linalg.norm(m1.fit - m2.fit))
    tol = (math.sqrt(2 * acc.eps(m1.objective)) + math.sqrt(2 * acc.eps(m2.objective))
           + acc.slack * (1 + float(np.linalg.norm(inst.y))))
    nums = {"fit_distance": dist, "objective": m1.objective, "other_objective": m2.objective,
            "lower_bound": max(m1.dual_lower, m2.dual_lower)}
    return _failures("C1", [("the fits of two solutions differ", dist, tol)], nums,
                     "the two solutions have the same fit")


# --- C2 ------------------------------------------------------------------------------------------


def penalty_tolerance(inst: Instance, cand: Candidate, acc: Accuracy) -> float:
    """Tolerance of ``|lam S - <y_hat, r>|`` for an eps-optimal solution (derivation in check_c2)."""
    m = cand.measures(inst)
    eps = acc.eps(m.objective)
    yhat = float(np.linalg.norm(m.fit))
    scale = 1.0 + float(inst.y @ inst.y)
    return max(yhat * math.sqrt(2 * eps), 2 * eps) + acc.slack * scale


def check_c2(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy()) -> Verdict:
    """C2, penalty identity (theory.md §3, derived): ``lam sum_b ||w_b|| = <y_hat, r>`` at every
    optimum, hence ``p* = <y, r> - 1/2 ||r||^2``.

    Tolerance: ``t w`` is feasible for every ``t >= 0`` (the constraints are cones), and
    ``phi(t) = p(t w)`` is a quadratic with ``phi''= ||y_hat||^2`` and
    ``phi'(1) = lam S - <y_hat, r>``. If ``p(w) <= p* + eps`` then ``phi(1) - min_{t>=0} phi <= eps``,
    which gives ``|phi'(1)| <= max(||y_hat|| sqrt(2 eps), 2 eps)`` (+ slack).
    """
    m = cand.measures(inst)
    gap = inst.lam * m.norm_sum - float(m.fit @ m.residual)
    tol = penalty_tolerance(inst, cand, acc)
    nums = {"lam_times_norm_sum": inst.lam * m.norm_sum, "fit_dot_residual": float(m.fit @ m.residual),
            "difference": gap}
    return _failures("C2", [("lam sum ||w_b|| differs from <y_hat, r>", abs(gap), tol)], nums,
                     "lam sum ||w_b|| = <y_hat, r>")


# --- C3 ------------------------------------------------------------------------------------------


def check_c3(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy()) -> Verdict:
    """C3, correlation vectors (theory.md §3): with ``v_b = Pi_{K_b}(Z_b^T r)``, ``max_b ||v_b|| <= lam``
    and every active block points along ``v_b``: ``w_b / ||w_b|| = v_b / lam`` (so ``w_b in K_b``).

    Three comparisons:

    1. every block lies in its cone: violation relative to the solution's scale ``<= feas_tol``
       (:class:`~certify.testing.instance.Measures`, ``violation``);
    2. ``max_b ||v_b|| <= lam + ||X||_2 sqrt(2 eps)`` (projections are 1-Lipschitz; + slack);
    3. alignment ``E = sum_b ||w_b|| ||u_b - v_b / lam||^2``
       ``<= (2 / lam) T2 + S ((1 + ||X||_2 sqrt(2 eps) / lam)^2 - 1)`` (+ slack), where ``T2`` is
       C2's tolerance. Derivation: for ``w_b in K_b``,
       ``<Z_b^T r, w_b> <= <v_b, w_b>`` (Moreau), ``sum_b <Z_b^T r, w_b> = <r, y_hat>``, and
       ``||u - v/lam||^2 = 2 (1 - <u, v>/lam) + (||v||^2/lam^2 - 1)``.
    """
    m = cand.measures(inst)
    lam = inst.lam
    eps = acc.eps(m.objective)
    xn = spectral_norm(inst.X)
    active = m.active
    worst_viol = float(m.violation.max(initial=0.0))
    vmax = float(m.correlation_norms.max(initial=0.0))
    scale = 1.0 + float(np.linalg.norm(inst.y)) * (1.0 + xn)
    tol_dual = xn * math.sqrt(2 * eps) + acc.slack * scale
    W = np.hstack([cand.U, cand.H])
    E = 0.0
    worst_align = 0.0
    for b in np.flatnonzero(active):
        u = W[:, b] / m.block_norms[b]
        mis = float(np.linalg.norm(u - m.correlations[:, b] / lam))
        worst_align = max(worst_align, mis)
        E += m.block_norms[b] * mis * mis
    grow = (1 + xn * math.sqrt(2 * eps) / lam) ** 2 - 1
    tol_align = (2 / lam * penalty_tolerance(inst, cand, acc) + m.norm_sum * grow
                 + acc.slack * (1 + m.norm_sum))
    nums = {"max_cone_violation": worst_viol, "max_correlation_norm": vmax, "lam": lam,
            "alignment_error": E, "worst_direction_error": worst_align, "active_blocks": int(active.sum())}
    return _failures("C3", [
        ("a block violates its cone constraints", worst_viol, acc.feas_tol),
        ("a correlation vector is longer than lam (dual infeasible)", vmax - lam, tol_dual),
        ("an active block does not point along its correlation vector v_b / lam", E, tol_align),
    ], nums, "max ||v_b|| <= lam and active blocks point along v_b / lam")


# --- C4 ------------------------------------------------------------------------------------------


def check_c4(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy(), band: float = 1e-3) -> Verdict:
    """C4, zero-solution threshold (theory.md §3): ``w = 0`` is optimal iff ``lam >= lam_max``,
    ``lam_max = max_b ||Pi_{K_b}(Z_b^T y)||``.

    * ``lam >= (1 + band) lam_max``: for every feasible ``w``,
      ``p(w) - p(0) >= (lam - lam_max) S`` (since ``<y_hat, y> <= lam_max S``), so an eps-optimal
      solution has ``S <= eps / (lam - lam_max)`` (+ slack).
    * ``lam <= (1 - band) lam_max``: moving along the best block's ``e = v_b / ||v_b||`` lowers the
      objective by ``Delta = (c - lam)^2 / (2 ||Z_b e||^2)`` with ``c = <Z_b e, y>`` (``= lam_max`` for
      the exact projection; measured, so that NNLS inaccuracy cannot inflate it), so
      ``p* <= p(0) - Delta`` and an eps-optimal solution has ``p(w) <= p(0) - Delta + eps``: non-zero
      when ``Delta > eps``.
    * otherwise (within ``band`` of ``lam_max``): not applicable.
    """
    m = cand.measures(inst)
    lam = inst.lam
    lmax = lam_max(inst.X, inst.y, inst.D)
    eps = acc.eps(m.objective)
    p0 = 0.5 * float(inst.y @ inst.y)
    scale = 1.0 + p0
    nums = {"lam": lam, "lam_max": lmax, "norm_sum": m.norm_sum, "objective": m.objective,
            "zero_objective": p0}
    if lam >= (1 + band) * lmax:
        tol = eps / (lam - lmax) + acc.slack * (1 + m.norm_sum)
        return _failures("C4", [("lam >= lam_max but the solution is not zero", m.norm_sum, tol)], nums,
                         "lam >= lam_max and the solution is zero")
    if lam <= (1 - band) * lmax:
        P = inst.P
        pats = np.concatenate([np.arange(P), np.arange(P)])
        signs = np.concatenate([np.ones(P), -np.ones(P)])
        V, norms = correlations(inst.X, inst.y, inst.D, pats, signs)
        b = int(np.argmax(norms))
        e = V[:, b] / norms[b]
        z = signs[b] * inst.D[:, pats[b]] * (inst.X @ e)
        c = float(z @ inst.y)  # = ||v_b|| = lam_max for the exact projection (Moreau); measured here
        delta = (c - lam) ** 2 / (2 * float(z @ z)) if c > lam and float(z @ z) > 0 else 0.0
        nums["decrease_bound"] = delta
        if delta <= eps + acc.slack * scale:
            return _not_applicable("C4", "lam < lam_max, but the known decrease is below the accuracy")
        excess = m.objective - (p0 - delta)
        return _failures("C4", [("lam < lam_max but the solution is not below the zero solution's objective "
                                 "by the guaranteed decrease", excess, eps + acc.slack * scale)], nums,
                         "lam < lam_max and the solution is non-zero (below the zero objective)")
    return _not_applicable("C4", f"lam within {band:g} (relative) of lam_max")


# --- C5 (the optimal polytope, via certify.optimal_set) -------------------------------------------


def _polytope_points(M: np.ndarray, fit: np.ndarray, groups: list[int]) -> list[np.ndarray]:
    """Points of ``{alpha >= 0 : M alpha ~ fit}``: for each listed group the LP maximizer of its
    ``alpha_g`` (HiGHS, the equalities within a box ``max(1e-7 max(1, |fit|_inf), 2 NNLS residual)``),
    and their average."""
    from scipy.optimize import linprog, nnls

    k = M.shape[1]
    alpha_ls, _ = nnls(M, fit, maxiter=max(100, 10 * k))
    box = max(1e-7 * max(1.0, float(np.abs(fit).max(initial=0.0))),
              2.0 * float(np.abs(M @ alpha_ls - fit).max()))
    A_ub, b_ub = np.vstack([M, -M]), np.concatenate([fit + box, -fit + box])
    points = []
    for g in groups:
        c = np.zeros(k)
        c[g] = -1.0
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(0, None)] * k, method="highs")
        if res.status == 0:
            points.append(np.maximum(res.x, 0.0))
    if len(points) > 1:
        points.append(np.mean(points, axis=0))
    return points


def check_c5(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy()) -> Verdict:
    """C5, the optimal polytope (theory.md §4): every point of ``P_lam = {alpha >= 0 : M alpha = y_hat}``,
    ``M = [Z_b v_b]`` over the equicorrelation blocks (duplicates merged), is optimal through
    ``w_b = alpha_b v_b``, and ``sum_b alpha_b`` is constant on ``P_lam``.

    ``P_lam`` is computed by task optset's :func:`certify.optimal_set.analysis.optimal_set` from the
    candidate (its E, merged groups, support; float estimates, its default tolerances). The kit then
    takes points of ``P_lam`` (per support group the LP maximizer of ``alpha_g``, and their average),
    maps each to blocks ``w_b = alpha_g v_b`` (``v_b`` from the candidate's residual) and compares:

    * objective of the point vs the candidate's: ``|p' - p| <= eps + delta (||r|| + delta) +
      lam sum_g alpha_g min(| ||v_g|| - lam |, ||X||_2 sqrt(2 eps))`` (+ slack),
      ``delta = ||M alpha - y_hat||`` with the analysis' ``M`` and fit (the LP box; C3 bounds
      ``| ||v_g|| - lam |`` at an eps-optimum);
    * ``lam^2 sum alpha`` vs ``<y_hat, r>`` (``= lam S`` by C2; exactly ``sum alpha_g ||v_g||^2 =
      <r, M alpha>`` for exact projections): ``| sum alpha_g ||v_g||^2 - <r, y_hat> | <= ||r|| delta +
      sum_g alpha_g | ||v_g||^2 - <Z_g^T r, v_g> |`` (+ slack): so ``sum alpha`` is the same at every point.

    Not applicable to the zero solution (``E`` empty). A :class:`certify.errors.SolverError` from the
    analysis (the fit is not a non-negative combination of the equicorrelation columns: the candidate
    is not optimal) fails the claim.
    """
    from certify.errors import SolverError
    from certify.optimal_set.analysis import optimal_set

    m = cand.measures(inst)
    try:
        result = optimal_set(inst.X, inst.y, inst.lam, inst.D, cand.U, cand.H)
    except SolverError as exc:
        return Verdict("C5", False, f"the optimal-set analysis failed: {exc}", {"objective": m.objective})
    if not result.equicorrelation or not result.support:
        return _not_applicable("C5", "no equicorrelation block (the zero solution)")
    lam = inst.lam
    P = inst.P
    firsts = [g[0] for g in result.groups]
    V = m.correlations  # same block order as optimal_set: b < P sign +1 on pattern b, else sign -1
    vn = np.linalg.norm(V[:, firsts], axis=0)
    signs = np.where(np.array(firsts) < P, 1.0, -1.0)
    pats = np.array(firsts) % P
    G = signs * (inst.X.T @ (inst.D[:, pats] * m.residual[:, None]))  # Z_g^T r, (d, groups)
    inner = np.einsum("ij,ij->j", G, V[:, firsts])
    eps = acc.eps(m.objective)
    rn = float(np.linalg.norm(m.residual))
    scale = 1.0 + abs(m.objective)
    # ||v_g|| may differ from lam by at most ||X||_2 sqrt(2 eps) at an eps-optimal solution (C3)
    allowed = np.minimum(np.abs(vn - lam), spectral_norm(inst.X) * math.sqrt(2 * eps))
    worst_obj, worst_sum, sums = 0.0, 0.0, []
    parts = []
    for alpha in _polytope_points(result.columns, result.fit, result.support):
        U, H = np.zeros_like(cand.U), np.zeros_like(cand.H)
        for g, a in enumerate(alpha):
            if a > 0:
                (U if signs[g] > 0 else H)[:, pats[g]] += a * V[:, firsts[g]]
        point = Candidate(U, H)
        mp = point.measures(inst)
        delta = float(np.linalg.norm(result.columns @ alpha - result.fit))  # the LP's own residual
        tol_obj = eps + delta * (rn + delta) + lam * float(alpha @ allowed) + acc.slack * scale
        weighted = float(alpha @ vn ** 2)
        tol_sum = rn * delta + float(alpha @ np.abs(vn ** 2 - inner)) + acc.slack * scale
        gap_obj = abs(mp.objective - m.objective)
        gap_sum = abs(weighted - float(m.fit @ m.residual))
        worst_obj, worst_sum = max(worst_obj, gap_obj), max(worst_sum, gap_sum)
        sums.append(float(alpha.sum()))
        parts += [("a point of the optimal polytope is not optimal", gap_obj, tol_obj),
                  ("sum alpha ||v||^2 differs from <y_hat, r> at a point of the polytope", gap_sum, tol_sum)]
    nums = {"points": len(sums), "groups": len(result.groups), "support": len(result.support),
            "dimension": result.dimension, "worst_objective_gap": worst_obj, "worst_sum_gap": worst_sum,
            "sum_alpha_min": min(sums, default=0.0), "sum_alpha_max": max(sums, default=0.0)}
    if not parts:
        return Verdict("C5", False, "no point of the optimal polytope could be computed (LP failed)", nums)
    return _failures("C5", parts, nums,
                     "every computed point of the optimal polytope is optimal, same sum alpha")


# --- C6, C7 ---------------------------------------------------------------------------------------


def _blocks_of(cand: Candidate, inst: Instance):
    from certify.convex.mapping import Blocks

    return Blocks.from_solution(cand.U, cand.H, inst.D, threshold=0.0)


def check_c6(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy()) -> Verdict:
    """C6, convex -> network (theory.md §2): the network with ``W1_b = w_b / sqrt(||w_b||)``,
    ``w2_b = s_b sqrt(||w_b||)`` is balanced, has the same prediction and the same objective.

    The identity ``(X W1_b)_+ = D_b X W1_b`` needs ``w_b in K_b``; with a cone violation ``theta_b``
    (relative to the scale ``s``, :class:`~certify.testing.instance.Measures`) it is off by at most
    ``theta_b s ||x_k||`` per row, so within the allowed violation the predictions may differ by
    ``delta = sum_b min(theta_b, feas_tol) s max_k ||x_k|| sqrt(n)`` and the objectives by
    ``delta (||r|| + delta)`` (+ slack, relative).
    """
    m = cand.measures(inst)
    blocks = _blocks_of(cand, inst)
    if blocks.count == 0:
        return Verdict("C6", True, "the zero solution maps to the zero network", {"blocks": 0}, 0.0)
    net = blocks_to_network(blocks.weights, blocks.signs)
    balance = float(np.max(np.abs(np.linalg.norm(net.W1, axis=0) - np.abs(net.w2))))
    pred = np.maximum(inst.X @ net.W1, 0.0) @ net.w2
    nc = 0.5 * float((pred - inst.y) @ (pred - inst.y)) + 0.5 * inst.lam * (float(np.sum(net.W1 ** 2))
                                                                             + float(net.w2 @ net.w2))
    cv = convex_objective(inst.X, inst.y, inst.lam, blocks)
    xk = float(np.linalg.norm(inst.X, axis=1).max(initial=0.0))
    delta = float(np.minimum(m.violation, acc.feas_tol).sum()) * m.scale * xk * math.sqrt(inst.n)
    scale = 1.0 + abs(cv)
    pred_diff = float(np.linalg.norm(pred - m.fit))
    rnorm = float(np.linalg.norm(m.residual))
    nums = {"network_objective": nc, "convex_objective": cv, "prediction_difference": pred_diff,
            "balance_error": balance, "width": net.width}
    return _failures("C6", [
        ("the mapped network is not balanced", balance,
         acc.slack * (1 + float(np.abs(net.w2).max(initial=0.0)))),
        ("the mapped network's prediction differs from the convex fit", pred_diff, delta + acc.slack * scale),
        ("the mapped network's objective differs from the convex objective", abs(nc - cv),
         delta * (rnorm + delta) + acc.slack * scale),
    ], nums, "the mapped network is balanced, with the same prediction and objective")


def nc_value(inst: Instance, W1: np.ndarray, w2: np.ndarray) -> float:
    """NC of a network on the instance's features (float)."""
    r = np.maximum(inst.X @ W1, 0.0) @ w2 - inst.y
    return 0.5 * float(r @ r) + 0.5 * inst.lam * (float(np.sum(W1 * W1)) + float(w2 @ w2))


def check_c7(inst: Instance, W1: np.ndarray, w2: np.ndarray, acc: Accuracy = Accuracy()) -> Verdict:
    """C7, network -> convex (theory.md §2): neuron ``j`` contributes ``|w2_j| W1_j`` to block
    (pattern of ``X W1_j >= 0``, sign of ``w2_j``); the prediction is unchanged and the convex
    objective is at most NC, quantitatively (AM-GM and the triangle inequality):
    ``NC - convex >= lam/2 sum_j (||W1_j|| - |w2_j|)^2`` (+ slack, relative).
    """
    blocks = network_to_blocks(inst.X, W1, w2)
    nc = nc_value(inst, W1, w2)
    cv = convex_objective(inst.X, inst.y, inst.lam, blocks)
    pred = np.maximum(inst.X @ W1, 0.0) @ w2
    imbalance = float(np.sum((np.linalg.norm(W1, axis=0) - np.abs(w2)) ** 2))
    scale = 1.0 + abs(nc)
    nums = {"network_objective": nc, "convex_objective": cv, "imbalance": imbalance,
            "prediction_difference": float(np.linalg.norm(blocks.prediction(inst.X) - pred))}
    return _failures("C7", [
        ("the convex objective exceeds NC - lam/2 sum (||W1_j|| - |w2_j|)^2",
         cv - (nc - inst.lam / 2 * imbalance), acc.slack * scale),
        ("the mapped blocks change the prediction", nums["prediction_difference"],
         acc.slack * (1 + float(np.linalg.norm(pred)))),
    ], nums, "convex objective <= NC (by at least the imbalance term), same prediction")


# --- C8 ------------------------------------------------------------------------------------------


def check_c8(inst: Instance, W1: np.ndarray, w2: np.ndarray, reference: Candidate,
             acc: Accuracy = Accuracy()) -> Verdict:
    """C8, equal optimal values (theory.md §2): ``min NC = min C-ReLU`` once the width is at least
    the pruned width ``m*``; every network has ``NC >= p*``.

    ``W1, w2`` is a network claimed optimal (a network solver's answer, or the network mapped from
    a convex solution, whose width is its number of blocks ``>= m*``); ``reference`` an independent
    solution of the convex program over the scope, whose dual point gives a lower bound ``L <= p*``.
    Checks ``NC >= L - slack`` (any network: only meaningful when the scope holds every pattern, or
    the network's patterns are in it) and ``NC <= p_ref + eps`` (+ slack).
    """
    mref = reference.measures(inst)
    nc = nc_value(inst, W1, w2)
    lower = mref.dual_lower
    eps = acc.eps(nc)
    scale = 1.0 + abs(nc)
    nums = {"network_objective": nc, "convex_optimum": mref.objective, "lower_bound": lower,
            "width": int(W1.shape[1])}
    return _failures("C8", [
        ("the network's objective is below the convex program's lower bound", lower - nc, acc.slack * scale),
        ("the network's objective is above the convex optimum", nc - mref.objective, eps + acc.slack * scale),
    ], nums, "NC of the network equals the convex optimum")


# --- C9 (Algorithm 1, via certify.pruning) ----------------------------------------------------------


def _exact_rank(columns: list[list[Fraction]]) -> int:
    """Rank of a small rational matrix (given by columns) by Fraction elimination."""
    rows = [list(col) for col in columns if any(col)]
    rank, pivot_col = 0, 0
    width = len(rows[0]) if rows else 0
    while rank < len(rows) and pivot_col < width:
        pivot = next((i for i in range(rank, len(rows)) if rows[i][pivot_col] != 0), None)
        if pivot is None:
            pivot_col += 1
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(rank + 1, len(rows)):
            factor = rows[i][pivot_col] / rows[rank][pivot_col]
            if factor:
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
        pivot_col += 1
    return rank


def _exact_columns(X: np.ndarray, W1: list, w2: list) -> list[list[Fraction]]:
    """Fit columns ``(X W1_j)_+ w2_j`` in Fractions (one list per neuron)."""
    Xf = [[Fraction(float(v)) for v in row] for row in X]
    out = []
    for j in range(len(w2)):
        col = []
        for row in Xf:
            pre = sum((a * Fraction(W1[i][j]) for i, a in enumerate(row)), Fraction(0))
            col.append(max(pre, Fraction(0)) * Fraction(w2[j]))
        out.append(col)
    return out


def _exact_fit_and_objective(X: np.ndarray, y: np.ndarray, lam: Fraction, W1: list, w2: list
                             ) -> tuple[list[Fraction], Fraction]:
    """Fit and NC of a network in Fractions, written here independently of certify.exact."""
    Xf = [[Fraction(float(v)) for v in row] for row in X]
    m = len(w2)
    fit = []
    for row in Xf:
        total = Fraction(0)
        for j in range(m):
            pre = sum((a * Fraction(W1[i][j]) for i, a in enumerate(row)), Fraction(0))
            if pre > 0:
                total += pre * Fraction(w2[j])
        fit.append(total)
    loss = sum(((f - Fraction(float(t))) ** 2 for f, t in zip(fit, y, strict=True)), Fraction(0)) / 2
    sq = sum((Fraction(v) ** 2 for col in W1 for v in col), Fraction(0)) + sum((Fraction(v) ** 2 for v in w2),
                                                                              Fraction(0))
    return fit, loss + lam / 2 * sq


def check_c9(inst: Instance, W1: np.ndarray, w2: np.ndarray, acc: Accuracy = Accuracy(),
             pruner: Callable | None = None) -> Verdict:
    """C9, Algorithm 1 (theory.md §5): pruning keeps the fit exactly, does not increase the objective,
    ends with linearly independent fits and at most ``n`` (indeed ``rank``) neurons, the support
    shrinks, and the scaling factors of steps that remove ``argmax |beta|`` lie in ``[0, 2]``.

    Runs ``pruner`` (default :func:`certify.pruning.prune`, the exact implementation) on the network
    and re-checks its *exact* pruned network here, in Fractions computed from the inputs: fit equal,
    NC not larger, width ``<= min(n, rank of the original fits)`` plus the refused steps, kept neurons
    a subset of the non-zero ones, independence of the kept fits when no step was refused (exact ranks
    by Fraction elimination; every comparison exact, no tolerance), factors in ``[0, 2]``. (Float data
    are rarely exactly dependent: a neuron split by irrational factors is *exactly* independent.)
    The features ``X`` are passed as the problem's inputs (a bias column is just a regularized feature).
    """
    from certify.network import Network
    from certify.problem import Problem

    if pruner is None:
        from certify.pruning import prune as pruner
    lam = Fraction(inst.lam)
    result = pruner(Problem(inst.X, inst.y, lam), Network(W1, w2))
    ex = result.exact
    fit0, obj0 = _exact_fit_and_objective(inst.X, inst.y, lam, W1.tolist(), w2.tolist())
    if ex.kept:
        fit1, obj1 = _exact_fit_and_objective(inst.X, inst.y, lam, ex.W1, ex.w2)
    else:
        fit1, obj1 = [Fraction(0)] * inst.n, sum((Fraction(float(t)) ** 2 for t in inst.y), Fraction(0)) / 2
    cols = _exact_columns(inst.X, W1.tolist(), w2.tolist())
    live = [j for j, col in enumerate(cols) if any(col)]
    rank = _exact_rank(cols)
    width = len(ex.kept)
    independent = _exact_rank(_exact_columns(inst.X, ex.W1, ex.w2)) == width if width else True
    factors = [float(step.max_factor) for step in ex.steps if step.largest]
    limit = min(inst.n, rank) + len(ex.refused)  # a refused neuron stays (its removal would cost NC)
    nums = {"width_before": int(W1.shape[1]), "width_after": width, "exact_rank_before": rank,
            "objective_before": float(obj0), "objective_after": float(obj1), "kept_independent": independent,
            "refused_steps": len(ex.refused), "max_factor": max(factors, default=0.0)}
    fit_gap = max((abs(float(a - b)) for a, b in zip(fit0, fit1, strict=True)), default=0.0)
    return _failures("C9", [
        ("the pruned network's fit differs from the original's (exact)",
         0.0 if fit0 == fit1 else max(fit_gap, 1e-300), 0.0),
        ("pruning increased the objective (exact)",
         max(float(obj1 - obj0), 1e-300) if obj1 > obj0 else 0.0, 0.0),
        ("pruning kept a neuron that was zero or not in the network",
         float(len(set(ex.kept) - set(live))), 0.0),
        ("more neurons than the rank of the fits (and than n)", float(width - limit), 0.0),
        ("the kept fits are dependent although no step was refused",
         0.0 if ex.refused or independent else 1.0, 0.0),
        ("a step's scaling factor is outside [0, 2]", max(factors, default=0.0) - 2.0, 0.0),
    ], nums, "fit kept exactly, objective not larger, independent fits, width <= rank")


# --- C13, C14 ---------------------------------------------------------------------------------------


def _norm_sum_tolerance(inst: Instance, cand: Candidate, acc: Accuracy) -> float:
    """``|S - S*|`` for an eps-optimal solution: from C2, ``lam S = <y_hat, r> + phi'(1)`` and
    ``|<y_hat, r> - <y_hat*, r*>| <= ||dr|| (||y|| + 2 ||r|| + ||dr||)`` with ``||dr|| <= sqrt(2 eps)``."""
    m = cand.measures(inst)
    dr = math.sqrt(2 * acc.eps(m.objective))
    rn = float(np.linalg.norm(m.residual))
    yn = float(np.linalg.norm(inst.y))
    return (penalty_tolerance(inst, cand, acc) + dr * (yn + 2 * rn + dr)) / inst.lam


def check_c13(inst: Instance, cand1: Candidate, cand2: Candidate, acc: Accuracy = Accuracy()) -> Verdict:
    """C13, path monotonicity (theory.md §6): for ``lam1 < lam2`` (``inst.lam``, ``inst.lam2``),
    ``p*(lam1) <= p*(lam2)``, the loss is non-decreasing, ``R = sum ||w_b||`` is non-increasing and
    ``(lam2 - lam1) R(lam2) <= p*(lam2) - p*(lam1) <= (lam2 - lam1) R(lam1)``.

    Tolerances (each solution eps-optimal): objectives ``eps1 + eps2``; losses
    ``sum_i 1/2 sqrt(2 eps_i) (2 ||r_i|| + sqrt(2 eps_i))``; ``R`` values
    ``tol_R1 + tol_R2`` (:func:`_norm_sum_tolerance`); the sandwich
    ``eps1 + eps2 + (lam2 - lam1) tol_R`` (+ slack).
    """
    i1, i2 = inst, inst.at(inst.lam2)
    m1, m2 = cand1.measures(i1), cand2.measures(i2)
    e1, e2 = acc.eps(m1.objective), acc.eps(m2.objective)
    scale = 1.0 + abs(m2.objective)
    sl = acc.slack * scale

    def loss_tol(m, e):
        return 0.5 * math.sqrt(2 * e) * (2 * float(np.linalg.norm(m.residual)) + math.sqrt(2 * e))

    tR1, tR2 = _norm_sum_tolerance(i1, cand1, acc), _norm_sum_tolerance(i2, cand2, acc)
    dl = i2.lam - i1.lam
    dp = m2.objective - m1.objective
    nums = {"lam1": i1.lam, "lam2": i2.lam, "p1": m1.objective, "p2": m2.objective, "loss1": m1.loss,
            "loss2": m2.loss, "R1": m1.norm_sum, "R2": m2.norm_sum}
    return _failures("C13", [
        ("p*(lam1) > p*(lam2)", m1.objective - m2.objective, e1 + e2 + sl),
        ("the loss decreased as lam grew", m1.loss - m2.loss, loss_tol(m1, e1) + loss_tol(m2, e2) + sl),
        ("sum ||w_b|| increased as lam grew", m2.norm_sum - m1.norm_sum,
         tR1 + tR2 + acc.slack * (1 + m1.norm_sum)),
        ("p*(lam2) - p*(lam1) < (lam2 - lam1) R(lam2)", dl * m2.norm_sum - dp, e1 + e2 + dl * tR2 + sl),
        ("p*(lam2) - p*(lam1) > (lam2 - lam1) R(lam1)", dp - dl * m1.norm_sum, e1 + e2 + dl * tR1 + sl),
    ], nums, "objective, loss and sum ||w|| move monotonically with the derivative sandwich")


def check_c14(inst: Instance, cand1: Candidate, cand2: Candidate, acc: Accuracy = Accuracy()) -> Verdict:
    """C14, continuity of the path (theory.md §6), in the quantitative form that holds without
    uniqueness (derived here): for ``lam1 < lam2``,
    ``||y_hat(lam1) - y_hat(lam2)||^2 <= (lam2 - lam1) (R(lam1) - R(lam2))``.

    Proof: ``p_1(w_2) - p_1(w_1) >= 1/2 ||dy_hat||^2`` and ``p_2(w_1) - p_2(w_2) >= 1/2 ||dy_hat||^2``
    (strong convexity in the fit at the optimum); their sum is ``(lam1 - lam2)(R2 - R1)``. So the
    fit is continuous (Hölder-1/2) in ``lam`` everywhere. The continuity of the *weights* on
    intervals of uniqueness is not tested here. Tolerance: each fit within ``sqrt(2 eps_i)``, each
    ``R`` within ``tol_R``.
    """
    i1, i2 = inst, inst.at(inst.lam2)
    m1, m2 = cand1.measures(i1), cand2.measures(i2)
    e1, e2 = acc.eps(m1.objective), acc.eps(m2.objective)
    dl = i2.lam - i1.lam
    tR = _norm_sum_tolerance(i1, cand1, acc) + _norm_sum_tolerance(i2, cand2, acc)
    bound = math.sqrt(max(dl * (m1.norm_sum - m2.norm_sum + tR), 0.0))
    dist = float(np.linalg.norm(m1.fit - m2.fit))
    tol = bound + math.sqrt(2 * e1) + math.sqrt(2 * e2) + acc.slack * (1 + float(np.linalg.norm(inst.y)))
    nums = {"fit_distance": dist, "lam1": i1.lam, "lam2": i2.lam, "R1": m1.norm_sum, "R2": m2.norm_sum}
    what = "||y_hat(lam1) - y_hat(lam2)||^2 > (lam2 - lam1)(R(lam1) - R(lam2))"
    return _failures("C14", [(what, dist, tol)], nums,
                     "the fit moves by at most sqrt((lam2 - lam1)(R1 - R2))")


# --- C10, C11, C12, C16 (the optimal polytope P_lam, via certify.optimal_set) -----------------------------

POLY_LP_TOL = 1e-7
"""Equality box of the polytope LPs, relative to ``max(1, |y_hat|_inf)`` (as the analysis' ``lp_tol``)."""
POLY_RANK_TOL = 1e-4
"""Numerical independence: the smallest singular value of the column-normalized matrix above this fraction
of the largest (the analysis' ``rank_tol``: the estimates of ``v_b`` carry the solver's error, ~1e-6)."""
MERGE_SOUND_TOL = 1e-6
"""C12: members of one merged group have columns ``Z_b v_b`` equal within this fraction of the largest."""
MERGE_COMPLETE_TOL = 1e-8
"""C12: representatives of two groups with the same sign differ by more than this fraction of the largest
(otherwise they are duplicates left unmerged). Between the two tolerances either answer is accepted."""
SUPPORT_TOL = 1e-6
"""A group is in a point's support when its ``alpha_g`` exceeds this fraction of the largest (as the kit's
``ACTIVE_TOL``: interior-point solvers leave round-off in blocks that are zero at the optimum)."""
SELECTION_ZERO_TOL = 1e-9
"""C16: entries of a selected point below this fraction of its largest are off its support (select.py)."""
LP_FEASIBILITY = 1e-10
"""HiGHS' primal feasibility tolerance in the kit's LPs (absolute): an LP point may leave the box by this
much, so every bound derived from the box uses ``box + 10 LP_FEASIBILITY``."""
_HIGHS = {"primal_feasibility_tolerance": LP_FEASIBILITY, "dual_feasibility_tolerance": LP_FEASIBILITY}


def _optimal_set_of(inst: Instance, cand: Candidate, gated: bool, analysis: Callable | None):
    """The analysis of ``P_lam`` from the candidate (cached per candidate for the default analysis)."""
    if analysis is not None:
        return analysis(inst.X, inst.y, inst.lam, inst.D, cand.U, cand.H, gated=gated)
    key = ("optimal_set", gated, inst.key())
    if key not in cand._cache:
        from certify.optimal_set.analysis import optimal_set

        cand._cache[key] = optimal_set(inst.X, inst.y, inst.lam, inst.D, cand.U, cand.H, gated=gated)
    return cand._cache[key]


def _box(M: np.ndarray, fit: np.ndarray, *floors: float) -> float:
    """The half-width of the LPs' equality box: ``max(lp_tol max(1, |fit|_inf), 2 NNLS residual, floors)``
    (the float estimates satisfy ``M alpha = fit`` only up to the solver's accuracy)."""
    from scipy.optimize import nnls

    base = POLY_LP_TOL * max(1.0, float(np.abs(fit).max(initial=0.0)))
    if M.shape[1] == 0:
        return max(base, *floors) if floors else base
    alpha_ls, _ = nnls(M, fit, maxiter=max(100, 10 * M.shape[1]))
    return max(base, 2.0 * float(np.abs(M @ alpha_ls - fit).max(initial=0.0)), *floors)


def _coordinate_ranges(M: np.ndarray, fit: np.ndarray, allowed: np.ndarray, box: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``min`` and ``max`` of every allowed ``alpha_g`` over ``{alpha >= 0, alpha_g = 0 off allowed,
    |M alpha - fit|_inf <= box}`` (two HiGHS LPs per allowed coordinate; NaN where an LP fails)."""
    from scipy.optimize import linprog

    k = M.shape[1]
    lo, hi = np.full(k, np.nan), np.full(k, np.nan)
    A_ub, b_ub = np.vstack([M, -M]), np.concatenate([fit + box, -fit + box])
    bounds = [(0, None) if allowed[g] else (0, 0) for g in range(k)]
    for g in np.flatnonzero(allowed):
        for sign, out in ((1.0, lo), (-1.0, hi)):
            c = np.zeros(k)
            c[g] = sign
            res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs", options=_HIGHS)
            if res.status == 0:
                out[g] = max(float(res.x[g]), 0.0)
    return lo, hi


@dataclass(frozen=True)
class _Independence:
    """Numerical independence of columns: ``N = M C^-1`` (``C`` the column norms), ``sigma`` its singular
    values; independent iff ``sigma_min > POLY_RANK_TOL sigma_max``; ``null`` the right singular vector of
    ``sigma_min`` mapped back to ``alpha`` coordinates (``C^-1 z``)."""

    independent: bool
    ratio: float
    sigma_min: float
    norms: np.ndarray
    null: np.ndarray


def _independence(MA: np.ndarray) -> _Independence:
    k = MA.shape[1]
    if k == 0:
        return _Independence(True, 1.0, 1.0, np.zeros(0), np.zeros(0))
    norms = np.maximum(np.linalg.norm(MA, axis=0), 1e-300)
    N = MA / norms
    _, sv, Vt = np.linalg.svd(N, full_matrices=True)
    smin = float(sv[k - 1]) if sv.size >= k else 0.0  # fewer rows than columns: a zero singular value
    ratio = smin / float(sv[0]) if sv.size and sv[0] > 0 else 0.0
    return _Independence(ratio > POLY_RANK_TOL, ratio, smin, norms, Vt[k - 1] / norms)


def _width_bound(ind: _Independence, n: int, box: float) -> np.ndarray:
    """For independent columns: two points of the box face differ in ``alpha_g`` by at most
    ``2 sqrt(n) box' / (sigma_min(N) c_g)`` (``||N (beta - beta')|| <= 2 sqrt(n) box'``, ``beta = C alpha``),
    ``box' = box + 10 LP_FEASIBILITY`` (the LP solver's own feasibility tolerance)."""
    return 2.0 * math.sqrt(n) * (box + 10 * LP_FEASIBILITY) / (max(ind.sigma_min, 1e-300) * ind.norms)


def _dependence_witness(M: np.ndarray, fit: np.ndarray, alpha: np.ndarray, allowed: np.ndarray,
                        ind: _Independence, box: float) -> tuple[np.ndarray, int] | None:
    """For numerically dependent columns: move ``alpha`` along the null direction until an allowed
    coordinate reaches zero. Returns ``(alpha', g)`` when ``alpha'`` is still in the box face (a second
    point of the face with ``alpha'_g = 0``), else None (dependence within the rank tolerance only)."""
    idx = np.flatnonzero(allowed)
    best = None
    for sign in (1.0, -1.0):
        d = sign * ind.null
        neg = d < 0
        if not neg.any():
            continue
        ratios = alpha[idx][neg] / -d[neg]
        j = int(np.argmin(ratios))
        t = float(ratios[j])
        if best is None or t < best[0]:
            best = (t, d, int(idx[np.flatnonzero(neg)[j]]))
    if best is None:
        return None
    t, d, g = best
    moved = alpha.copy()
    moved[idx] = np.maximum(alpha[idx] + t * d, 0.0)
    moved[g] = 0.0
    if float(np.abs(M @ moved - fit).max(initial=0.0)) > box:
        return None
    return moved, g


def _group_alphas(result, cand: Candidate, inst: Instance) -> tuple[np.ndarray, float]:
    """The candidate in merged alpha coordinates, ``alpha_g = sum_{b in g} ||w_b|| / ||v_b||``, and the
    fraction of its ``sum ||w_b||`` outside the equicorrelation set ``E``."""
    W = cand.U - cand.H if result.gated else np.hstack([cand.U, cand.H])  # gated: one free block per gate
    norms = np.linalg.norm(W, axis=0)
    alpha = np.zeros(len(result.groups))
    for g, members in enumerate(result.groups):
        for b in members:
            alpha[g] += norms[b] / max(result.lam * float(result.correlation_norms[b]), 1e-300)
    inside = np.zeros(W.shape[1], bool)
    inside[[b for members in result.groups for b in members]] = True
    total = float(norms.sum())
    outside = float(norms[~inside].sum()) / total if total > 0 else 0.0
    return alpha, outside


def check_c10_polytope(M: np.ndarray, fit: np.ndarray, alpha: np.ndarray, acc: Accuracy = Accuracy(),
                       minimal: bool | None = None) -> Verdict:
    """C10 on a polytope ``{alpha >= 0 : M alpha = fit}`` (merged columns) at one of its points ``alpha``:
    minimal ``<=>`` the columns on its support ``A`` are independent ``<=>`` it is a vertex.

    Three separate computations, compared:

    * independence: singular values of the column-normalized ``M_A`` (``POLY_RANK_TOL``);
    * the face ``F = {alpha' >= 0 : alpha'_g = 0 off A, |M alpha' - fit|_inf <= box}`` by two LPs per
      ``g in A`` (``lo_g``, ``hi_g``); ``box`` is at least ``2 |M alpha - fit|_inf`` (``alpha`` is in
      ``F``).
      *Vertex*: ``F`` is one point, ``hi_g - lo_g`` within noise; *minimal*: no point of ``F`` drops
      a neuron, ``lo_g > 0``.

    Independent: every width ``hi_g - lo_g <= W_g = 2 sqrt(n) box / (sigma_min(N) c_g)`` (derived in
    :func:`_width_bound`) and ``lo_g >= alpha_g - W_g`` (+ slack). Dependent: the kit moves ``alpha``
    along the null vector until a coordinate ``g*`` vanishes; if that point stays in ``F`` (an explicit
    second point), the LPs must find ``lo_g* <= slack`` (not minimal) and ``hi_g* - lo_g* >=
    alpha_g* (1 - slack)`` (not a vertex); if it leaves ``F`` the dependence is within the rank tolerance
    only and the claim is not applicable. ``minimal``, when given, is a verdict under test (from another
    tool); it must equal the kit's. Minimal points of one polytope may have different widths ``|A|``
    (do not assume equal cardinality): the width is reported, never compared.
    """
    M, fit, alpha = np.asarray(M, float), np.asarray(fit, float), np.asarray(alpha, float)
    n = M.shape[0]
    top = float(alpha.max(initial=0.0))
    A = alpha > SUPPORT_TOL * top if top > 0 else np.zeros(alpha.size, bool)
    if not A.any():
        return _not_applicable("C10", "the point is zero (no neuron)")
    ind = _independence(M[:, A])
    box = _box(M[:, A], fit, 2.0 * float(np.abs(M @ alpha - fit).max(initial=0.0)))
    lo, hi = _coordinate_ranges(M, fit, A, box)
    if np.isnan(lo[A]).any() or np.isnan(hi[A]).any():
        return Verdict("C10", False, "an LP over the face through the point failed (the point is not in the "
                       "polytope)", {"width": int(A.sum())})
    width = hi - lo
    sl = acc.slack * (1.0 + top)
    nums = {"width": int(A.sum()), "independent": ind.independent, "singular_ratio": ind.ratio,
            "max_face_width": float(width[A].max()), "min_lower": float(lo[A].min()), "box": box}
    parts = []
    if ind.independent:
        W = _width_bound(ind, n, box)
        nums["width_bound"] = float(W.max())
        parts += [("the support is independent but the face through the point is not a single point (not a "
                   "vertex)", float(np.max(width[A] - W)), sl),
                  ("the support is independent but a point of its face drops a neuron (not minimal)",
                   float(np.max(alpha[A] - W - lo[A])), sl)]
        kit_minimal = True
    else:
        witness = _dependence_witness(M, fit, alpha, A, ind, box)
        if witness is None:
            return _not_applicable("C10", "the support is dependent within the rank tolerance only (the null "
                                   "direction leaves the polytope)")
        _, g = witness
        nums["dropped_group"] = g
        parts += [("the support is dependent but no point of its face drops a neuron (minimal)", lo[g], sl),
                  ("the support is dependent but the face through the point is a single point (a vertex)",
                   alpha[g] * (1 - 1e-6) - width[g], sl)]
        kit_minimal = False
    nums["minimal"] = kit_minimal
    if minimal is not None:
        nums["claimed_minimal"] = bool(minimal)
        parts.append(("the minimality verdict under test disagrees with independence of the merged support",
                      0.0 if bool(minimal) == kit_minimal else 1.0, 0.0))
    return _failures("C10", parts, nums, "minimal <=> independent <=> vertex at the point "
                     f"({'minimal' if kit_minimal else 'not minimal'}, width {int(A.sum())})")


def check_c10(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy(), analysis: Callable | None = None,
              minimal: bool | None = None, gated: bool = False) -> Verdict:
    """C10, minimality (theory.md §4, Prop. 3.6): an optimal solution is minimal iff the (merged) columns
    ``Z_b v_b`` of its non-zero blocks are linearly independent iff it is a vertex of ``P_lam``; minimal
    solutions may differ in size.

    ``P_lam`` (groups of duplicates merged, ``M``, ``y_hat``) comes from ``analysis`` (default
    :func:`certify.optimal_set.analysis.optimal_set`, float estimates); the candidate is mapped to
    ``alpha_g = sum_{b in g} ||w_b|| / ||v_b||`` and :func:`check_c10_polytope` decides (its docstring
    derives the tolerances). Not applicable to the zero solution, or when more than ``1e-3`` of
    ``sum ||w_b||`` lies outside ``E`` (the candidate is not a point of ``P_lam`` within accuracy: C3
    judges that). A ``SolverError`` of the analysis fails the claim.
    """
    from certify.errors import SolverError

    try:
        result = _optimal_set_of(inst, cand, gated, analysis)
    except SolverError as exc:
        return Verdict("C10", False, f"the optimal-set analysis failed: {exc}")
    if not result.groups:
        return _not_applicable("C10", "no equicorrelation block (the zero solution)")
    alpha, outside = _group_alphas(result, cand, inst)
    if outside > 1e-3:
        return _not_applicable("C10", f"{outside:.3g} of sum ||w_b|| lies outside E (not a point of P_lam)")
    return check_c10_polytope(result.columns, result.fit, alpha, acc, minimal)


def check_c11_polytope(M: np.ndarray, fit: np.ndarray, unique: bool | None = None,
                       acc: Accuracy = Accuracy()) -> Verdict:
    """C11 on a polytope ``P = {alpha >= 0 : M alpha = fit}`` (merged columns): ``P`` is a single point iff
    the columns on its support ``S`` are independent.

    ``S`` and the widths come from LPs over the box polytope (``box`` of :func:`_box`): ``hi_g`` (max of
    ``alpha_g``; ``g in S`` iff ``hi_g > SUPPORT_TOL max hi``) and ``lo_g``. Independent ``M_S``: every width
    ``hi_g - lo_g <= W_g`` (the bound of :func:`_width_bound`; + slack). Dependent: the kit takes the
    interior point ``alpha_bar`` (the average of the maximizers) and moves it along the null vector until a
    coordinate ``g*`` vanishes; if that point stays in the box it is an explicit second point of ``P`` and
    the width of ``g*`` must be at least ``alpha_bar_g*`` (- slack); otherwise not applicable. ``unique``,
    when given, is the uniqueness verdict under test; it must equal the independence of ``M_S``.
    """
    from scipy.optimize import linprog

    M, fit = np.asarray(M, float), np.asarray(fit, float)
    n, k = M.shape
    if k == 0:
        return _not_applicable("C11", "no equicorrelation block (the zero solution is the only optimum)")
    box = _box(M, fit)
    everything = np.ones(k, bool)
    lo, hi = _coordinate_ranges(M, fit, everything, box)
    if np.isnan(hi).any() or np.isnan(lo).any():
        return Verdict("C11", False, "an LP over P_lam failed (the fit is not a non-negative combination of "
                       "the columns)", {"groups": k})
    S = hi > SUPPORT_TOL * max(float(hi.max()), 1e-300)
    ind = _independence(M[:, S])
    width = hi - lo
    top = float(hi.max())
    sl = acc.slack * (1.0 + top)
    nums = {"groups": k, "support": int(S.sum()), "independent": ind.independent, "singular_ratio": ind.ratio,
            "max_width": float(width[S].max()), "box": box}
    parts = []
    if ind.independent:
        W = _width_bound(ind, n, box)
        nums["width_bound"] = float(W.max())
        parts.append(("{Z_b v_b : b in S} is independent but P_lam is not a single point",
                      float(np.max(width[S] - W)), sl))
    else:
        A_ub, b_ub = np.vstack([M, -M]), np.concatenate([fit + box, -fit + box])
        points = []
        for g in np.flatnonzero(S):
            c = np.zeros(k)
            c[g] = -1.0
            res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(0, None)] * k, method="highs", options=_HIGHS)
            if res.status == 0:
                points.append(np.maximum(res.x, 0.0))
        bar = np.mean(points, axis=0)
        witness = _dependence_witness(M, fit, bar, S, ind, box)
        if witness is None:
            return _not_applicable("C11", "S is dependent within the rank tolerance only (the null direction "
                                   "leaves P_lam)")
        _, g = witness
        nums["moved_group"] = g
        parts.append(("{Z_b v_b : b in S} is dependent but P_lam is a single point",
                      bar[g] * (1 - 1e-6) - width[g], sl))
    if unique is not None:
        nums["claimed_unique"] = bool(unique)
        parts.append(("the uniqueness verdict under test disagrees with the independence of "
                      "{Z_b v_b : b in S}",
                      0.0 if bool(unique) == ind.independent else 1.0, 0.0))
    state = "unique" if ind.independent else "not unique"
    return _failures("C11", parts, nums, f"P_lam is a single point iff S is independent ({state})")


def check_c11(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy(), analysis: Callable | None = None,
              gated: bool = False) -> Verdict:
    """C11, uniqueness (theory.md §4, Prop. 4.3): the optimum is p-unique iff ``{Z_b v_b : b in S_lam}``
    (duplicates merged) is linearly independent, i.e. iff ``P_lam`` is a single point.

    ``P_lam`` from ``analysis`` (default :func:`certify.optimal_set.analysis.optimal_set`); the kit
    recomputes ``S_lam`` and the widths of ``P_lam`` by its own LPs and compares with the independence of
    the merged columns and with the analysis' (numerical) ``unique`` verdict
    (:func:`check_c11_polytope`). A ``SolverError`` of the analysis fails the claim.
    """
    from certify.errors import SolverError

    try:
        result = _optimal_set_of(inst, cand, gated, analysis)
    except SolverError as exc:
        return Verdict("C11", False, f"the optimal-set analysis failed: {exc}")
    if not result.groups:
        return _not_applicable("C11", "no equicorrelation block (the zero solution)")
    verdict = check_c11_polytope(result.columns, result.fit, result.unique, acc)
    if verdict.applicable and verdict.holds and int(verdict.numbers["support"]) != len(result.support):
        return Verdict("C11", False, "the analysis' support S_lam differs from the kit's LPs",
                       verdict.numbers, 0.0)
    return verdict


def _kit_columns(inst: Instance, result, gated: bool) -> tuple[np.ndarray, np.ndarray]:
    """``Z_b v_b`` of every block of ``E`` recomputed by the kit (its own projections, from the analysis'
    residual) and their signs."""
    P = inst.P
    E = np.array(result.equicorrelation, int)
    pats, signs = E % P, np.where(E < P, 1.0, -1.0)
    if gated:
        V = inst.X.T @ (inst.D[:, pats].astype(float) * result.residual[:, None]) * signs
    else:
        V, _ = correlations(inst.X, result.residual, inst.D, pats, signs)
    cols = signs * inst.D[:, pats].astype(float) * (inst.X @ V)
    return cols, signs


def check_c12(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy(), analysis: Callable | None = None,
              gated: bool = False) -> Verdict:
    """C12, duplicate blocks (theory.md §4): blocks of ``E`` with equal sign and equal ``Z_b v_b`` (a neuron
    on a data hyperplane belongs to several patterns differing only there) are one neuron; merge them before
    testing uniqueness or minimality, and p-uniqueness is decided on the merged columns.

    The kit recomputes ``Z_b v_b`` for every block of the analysis' ``E`` (its own projections) and checks
    the analysis' groups: *sound* (members share the sign and their columns agree within ``MERGE_SOUND_TOL``
    of the largest column), *complete* (the representatives of two groups of equal sign differ by more than
    ``MERGE_COMPLETE_TOL``), and the p-uniqueness verdict equals the independence of the merged support
    columns (kit's ``POLY_RANK_TOL``; ``S`` from the analysis). The tolerances are relative: the estimated
    ``v_b`` carry the solver's error (~1e-6 at a relative gap of 1e-10), exact duplicates agree to round-off.
    """
    from certify.errors import SolverError

    try:
        result = _optimal_set_of(inst, cand, gated, analysis)
    except SolverError as exc:
        return Verdict("C12", False, f"the optimal-set analysis failed: {exc}")
    if not result.groups:
        return _not_applicable("C12", "no equicorrelation block (the zero solution)")
    cols, signs = _kit_columns(inst, result, gated)
    position = {b: i for i, b in enumerate(result.equicorrelation)}
    scale = max(float(np.abs(cols).max(initial=0.0)), 1e-300)
    reps = [position[g[0]] for g in result.groups]
    spread, mixed = 0.0, 0
    for members in result.groups:
        idx = [position[b] for b in members]
        mixed += int(len({signs[i] for i in idx}) > 1)
        spread = max(spread, float(np.abs(cols[:, idx] - cols[:, idx[:1]]).max(initial=0.0)) / scale)
    closest = math.inf
    for i, a in enumerate(reps):
        for b in reps[i + 1:]:
            if signs[a] == signs[b]:
                closest = min(closest, float(np.abs(cols[:, a] - cols[:, b]).max()) / scale)
    S = list(result.support)
    merged = _independence(cols[:, [reps[g] for g in S]])
    unmerged = _independence(cols[:, [position[b] for g in S for b in result.groups[g]]])
    nums = {"blocks": len(result.equicorrelation), "groups": len(result.groups), "support": len(S),
            "group_spread": spread, "closest_groups": closest if math.isfinite(closest) else -1.0,
            "merged_independent": merged.independent, "unmerged_independent": unmerged.independent,
            "claimed_unique": bool(result.unique)}
    return _failures("C12", [
        ("a merged group mixes signs", float(mixed), 0.0),
        ("a merged group holds blocks with different Z_b v_b", spread, MERGE_SOUND_TOL),
        ("two duplicate blocks (equal sign and Z_b v_b) were not merged",
         MERGE_COMPLETE_TOL - closest if math.isfinite(closest) else -1.0, 0.0),
        ("the p-uniqueness verdict differs from the independence of the merged columns on S",
         0.0 if bool(result.unique) == merged.independent else 1.0, 0.0),
    ], nums, "duplicates merged (sound and complete); p-uniqueness decided on the merged columns")


def _numerical_polytope(M: np.ndarray, fit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The estimated polytope with its numerical rank made exact and its fit made consistent
    (:func:`certify.selection.polytope.consistent_estimate` at ``POLY_RANK_TOL``). The float estimates
    carry the solver's error (dependencies hold to ~1e-8 only, and ``M alpha = y_hat`` to ~1e-6), so with
    exact equalities on the raw estimates every polytope would shrink to a point."""
    from certify.selection.polytope import consistent_estimate

    Mr, fit_r, _ = consistent_estimate(M, fit, POLY_RANK_TOL)
    return Mr, fit_r


def default_min_norm(M: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """The selection under test by default: :func:`certify.selection.select.min_norm` (``norm="alpha"``) on
    ``{alpha >= 0 : M alpha = fit}`` (polished by the C16 formula on its support)."""
    from certify.selection.polytope import ScalingPolytope
    from certify.selection.select import min_norm

    k = M.shape[1]
    poly = ScalingPolytope(np.eye(k), np.ones(k, int), np.asarray(M, float), np.asarray(fit, float))
    return min_norm(poly, norm="alpha").alpha


def check_c16_polytope(M: np.ndarray, fit: np.ndarray, alpha: np.ndarray, acc: Accuracy = Accuracy()
                       ) -> Verdict:
    """C16 on ``P = {alpha >= 0 : M alpha = fit}``: ``alpha`` is its minimum-norm point, and on its support
    ``A`` it is ``(M_A)^+ fit``.

    ``A = {g : alpha_g > SELECTION_ZERO_TOL max alpha}``; ``eps = rtol (1 + 1/2 ||alpha||^2)`` is the declared
    suboptimality of the selection in ``1/2 ||alpha||^2``, so ``||alpha - alpha*|| <= sqrt(2 eps)`` (1-strong
    convexity). Three comparisons:

    1. ``alpha`` in ``P``: ``alpha >= 0`` and ``|M alpha - fit|_inf <= box`` (:func:`_box`);
    2. the formula: ``||alpha_A - (M_A)^+ fit|| <= ||(M_A)^+ (fit - M_A alpha_A)|| + sqrt(2 eps)`` (+ slack):
       ``(M_A)^+ fit - alpha_A`` is that pseudo-inverse term minus the component of ``alpha_A`` outside the
       row space of ``M_A``, which is zero at ``alpha*`` and 1-Lipschitz;
    3. optimality by weak duality: for any ``mu`` and ``a >= 0``, ``1/2 ||a||^2 >= mu^T M a - 1/2
       ||(M^T mu)_+||^2`` (expand ``1/2 ||a - (M^T mu)_+||^2 >= 0``), so for the minimizer ``alpha*``
       (``M alpha* = fit``) ``1/2 ||alpha*||^2 >= mu^T fit - 1/2 ||(M^T mu)_+||^2``. The gap
       ``1/2 ||alpha||^2 - mu^T fit + 1/2 ||(M^T mu)_+||^2`` bounds the suboptimality of ``alpha``; at
       the minimizer, with the KKT multiplier (``M_A^T mu = alpha_A``, ``M_g^T mu <= 0`` off ``A``) it is
       ``mu^T (M alpha - fit)``. The kit takes the better of ``mu = (M_A^T)^+ alpha_A`` and the ``mu`` of
       one LP (``M_A^T mu`` = the row-space part of ``alpha_A``, ``max_{g not in A} M_g^T mu`` minimized)
       and requires ``gap <= eps + |mu^T (M alpha - fit)|`` (+ slack). A vertex that is not the
       minimum-norm point fails here: ``M_g^T mu > 0`` for some ``g`` off its support.
    """
    from scipy.optimize import linprog

    M, fit, alpha = np.asarray(M, float), np.asarray(fit, float), np.asarray(alpha, float)
    n, k = M.shape
    top = float(alpha.max(initial=0.0))
    if k == 0 or top <= 0:
        return _not_applicable("C16", "P is the zero point (no atom)")
    A = alpha > SELECTION_ZERO_TOL * top
    box = _box(M, fit)
    resid = M @ alpha - fit
    eps = acc.rtol * (1.0 + 0.5 * float(alpha @ alpha))
    sl = acc.slack * (1.0 + float(alpha @ alpha))
    MA = M[:, A]
    pinv = np.linalg.pinv(MA)
    formula = pinv @ fit
    diff = float(np.linalg.norm(alpha[A] - formula))
    tol_formula = float(np.linalg.norm(pinv @ (fit - MA @ alpha[A]))) + math.sqrt(2 * eps) + sl
    row_part = MA.T @ (pinv.T @ alpha[A])  # projection of alpha_A onto the row space of M_A
    # LP: minimize t s.t. M_A^T mu = row_part, M_g^T mu <= t (g not in A), |t| <= scale
    off = np.flatnonzero(~A)
    mus = [pinv.T @ alpha[A]]
    if off.size:
        scale = 1.0 + float(np.abs(M).max()) * float(np.abs(mus[0]).sum())
        c = np.zeros(n + 1)
        c[-1] = 1.0
        A_ub = np.hstack([M[:, off].T, -np.ones((off.size, 1))])
        A_eq = np.hstack([MA.T, np.zeros((int(A.sum()), 1))])
        res = linprog(c, A_ub=A_ub, b_ub=np.zeros(off.size), A_eq=A_eq, b_eq=row_part,
                      bounds=[(None, None)] * n + [(-scale, scale)], method="highs")
        if res.status == 0:
            mus.append(res.x[:n])

    def excess(mu: np.ndarray) -> tuple[float, float]:
        positive = np.maximum(M.T @ mu, 0.0)
        gap = 0.5 * float(alpha @ alpha) - float(mu @ fit) + 0.5 * float(positive @ positive)
        return gap, eps + abs(float(mu @ resid)) + sl

    gap, tol_gap = min((excess(mu) for mu in mus), key=lambda pair: pair[0] - pair[1])
    nums = {"atoms": k, "support": int(A.sum()), "norm_squared": float(alpha @ alpha),
            "formula_difference": diff, "duality_gap": gap, "fit_residual": float(np.abs(resid).max())}
    return _failures("C16", [
        ("the selected point is not in the polytope (negative entry)", float(-alpha.min()), 0.0),
        ("the selected point does not reproduce the fit", float(np.abs(resid).max()), box),
        ("alpha_A differs from (M_A)^+ y_hat on its support", diff, tol_formula),
        ("the selected point is not the minimum-norm point (positive duality gap)", gap, tol_gap),
    ], nums, "the selected point is the minimum-norm point and equals (M_A)^+ y_hat on its support")


def check_c16(inst: Instance, cand: Candidate, acc: Accuracy = Accuracy(), analysis: Callable | None = None,
              selector: Callable | None = None, gated: bool = False) -> Verdict:
    """C16, the minimum-norm formula (theory.md §6, derived): the minimum-norm point of ``P_lam`` (in merged
    alpha coordinates; on ``P_lam`` every ``||v_b|| = lam`` so ``sum ||w_b||^2 = lam^2 ||alpha||^2`` for
    unsplit groups) satisfies ``alpha_A* = (M_A*)^+ y_hat`` on its support ``A*``.

    ``P_lam`` from ``analysis`` (default :func:`certify.optimal_set.analysis.optimal_set`); ``selector(M,
    y_hat) -> alpha`` is the selection under test (default :func:`default_min_norm`, certify's
    :func:`certify.selection.select.min_norm`). The float estimates satisfy their dependencies and
    ``M alpha = y_hat`` only up to the solver's accuracy, so selector and check get the polytope of
    :func:`_numerical_polytope` (rank truncated at ``POLY_RANK_TOL``, consistent fit by NNLS).
    :func:`check_c16_polytope` decides (tolerances derived there). A
    ``SolverError`` of the analysis or the selector fails the claim.
    """
    from certify.errors import SolverError

    try:
        result = _optimal_set_of(inst, cand, gated, analysis)
    except SolverError as exc:
        return Verdict("C16", False, f"the optimal-set analysis failed: {exc}")
    if not result.groups:
        return _not_applicable("C16", "no equicorrelation block (the zero solution)")
    M, fit = _numerical_polytope(np.asarray(result.columns, float), np.asarray(result.fit, float))
    try:
        alpha = np.asarray((selector or default_min_norm)(M, fit), float)
    except SolverError as exc:
        return Verdict("C16", False, f"the selection failed: {exc}")
    if alpha.shape != (M.shape[1],) or not np.isfinite(alpha).all():
        return Verdict("C16", False, f"the selection returned {alpha.shape}, expected ({M.shape[1]},) finite")
    return check_c16_polytope(M, fit, alpha, acc)


# --- C15 (sensitivity, via certify.sensitivity) ------------------------------------------------------

C15_STEPS = (1e-2, 1e-3, 1e-4)
"""Relative finite-difference steps C15 tries, largest first (``h = step lam``,
``h_y = step (1 + max|y|)``)."""
C15_RTOL = 1e-2
"""Relative budget of C15 for the truncation error ``O(h^2)`` of central differences and the kernel's
evaluation at an inexact solution (measured on the project's solver: below ``1e-3``)."""


def c15_tolerances() -> Tolerances:
    """The kernel's tolerances for the kit: :class:`certify.sensitivity.kernel.Tolerances` with
    ``zero = 1e-6`` (interior-point solvers leave inactive blocks at ``~1e-8`` of the largest) and
    ``stationarity = 1e-4`` (the solvers under test run at their own accuracy; the effect on the
    derivative is within :data:`C15_RTOL`)."""
    from certify.sensitivity.kernel import Tolerances

    return Tolerances(zero=1e-6, stationarity=1e-4)


def _kernel_at(inst: Instance, cand: Candidate, derivatives: Callable | None, tolerances: Tolerances
               ) -> Sensitivity:
    from certify.sensitivity.kernel import sensitivity

    P = inst.P
    fn = derivatives or sensitivity
    return fn(inst.X, inst.y, inst.lam, np.hstack([inst.D, inst.D]),
              np.concatenate([np.ones(P, int), -np.ones(P, int)]), np.hstack([cand.U, cand.H]), tolerances)


def _structure(S: Sensitivity) -> frozenset:
    """The merged active groups with their tight rows (whether or not the hypotheses hold there)."""
    return frozenset((frozenset(a.members), tuple(int(k) for k in a.tight)) for a in S.active)


def check_c15(inst: Instance, cand: Candidate, solver: Callable | None = None, acc: Accuracy = Accuracy(),
              derivatives: Callable | None = None, steps: tuple[float, ...] = C15_STEPS,
              rtol: float = C15_RTOL, tolerances: Tolerances | None = None) -> Verdict:
    """C15, sensitivity (theory.md §6, derived by the implicit function theorem): under minimality,
    independent tight constraints, strict complementarity and strict dual feasibility off the active
    set, ``d y_hat / d lam = -Z_A [J^{-1} (u; 0)]_w`` and ``d y_hat / d y = Z_A [J^{-1} (Z_A^T; 0)]_w``.

    ``derivatives(X, y, lam, patterns, signs, weights, tolerances)`` gives the derivatives and the
    hypotheses (default :func:`certify.sensitivity.kernel.sensitivity`, its scope: every pattern of
    ``inst.D`` with both signs); ``solver(X, y, lam, D) -> (U, H)`` (certify's scaling) is re-run at
    ``lam +- h`` and ``y +- h_y e_k`` (``k`` the point of largest leverage ``d y_hat_k / d y_k``): C15
    needs re-solves, four per example. Not applicable when a hypothesis fails at the candidate (named,
    with its margin), without a solver, or when at no step of ``steps`` both re-solves keep the
    candidate's structure (merged active groups and tight rows: the path has a kink within the step,
    where only one-sided derivatives exist).

    Tolerance, for each compared derivative ``g`` (``dy_hat/dlam`` and the column ``dy_hat/dy_k``):
    ``||FD - g|| <= rtol ||g|| + (sqrt(2 eps'_+) + sqrt(2 eps'_-)) / (2 h)`` (+ slack). The second term is
    the re-solves' inaccuracy: each re-solve is ``eps'``-optimal with ``eps' = min(gap, eps)``, ``gap`` its
    measured duality gap (objective minus :attr:`Measures.dual_lower`, a valid dual bound) and ``eps``
    the declared budget of ``acc``, so its fit is within ``sqrt(2 eps')`` of the exact optimal fit (strong
    convexity of the loss in the fit). ``rtol`` (:data:`C15_RTOL`) bounds the ``O(h^2)`` truncation of
    central differences on a smooth piece of the path and the kernel's evaluation at the candidate's
    (inexact) solution. Steps are tried largest first; a step is skipped where a re-solve changes the
    structure or the second term exceeds ``||g|| / 2`` (the re-solves cannot resolve the derivative);
    when every step is skipped the claim is not applicable, with the reasons. The weight derivative
    ``dw/dlam`` is reported (``weight_error``, relative) but does not decide: without strong convexity
    in ``w`` no tolerance follows from the duality gap.
    """
    tol_k = tolerances or c15_tolerances()
    try:
        S = _kernel_at(inst, cand, derivatives, tol_k)
    except Exception as exc:  # a provider that raises fails the claim
        return Verdict("C15", False, f"the derivative provider raised {type(exc).__name__}: {exc}")
    if not S.valid:
        failing = "; ".join(f"{h.name} (margin {h.margin:.3g}, threshold {h.threshold:.3g})"
                            for h in S.failures())
        return _not_applicable("C15", f"a hypothesis of the sensitivity theorem fails: {failing}")
    if solver is None:
        return _not_applicable("C15", "no solver to re-solve with (C15 compares with finite differences)")
    shapes = {"dfit_dlam": (inst.n,), "dfit_dy": (inst.n, inst.n)}
    for name, shape in shapes.items():
        value = getattr(S, name)
        if value is None or np.shape(value) != shape or not np.all(np.isfinite(value)):
            return Verdict("C15", False, f"the derivative provider claims the hypotheses hold but gives no "
                           f"finite {name} of shape {shape}")
    base = _structure(S)
    lev = np.diag(S.dfit_dy)
    k = int(np.argmax(lev))
    targets = {"dfit_dlam": np.asarray(S.dfit_dlam, float), "dfit_dy": np.asarray(S.dfit_dy[:, k], float)}
    nums: dict = {"active_groups": len(S.active), "tight_rows": sum(len(a.tight) for a in S.active),
                  "condition": float(S.condition), "column": k}

    def resolve(y: np.ndarray, lam: float):
        scoped = Instance(inst.X, y, lam, inst.D)
        c = Candidate.of(solver(inst.X.copy(), y.copy(), lam, inst.D.copy()), scoped)
        m = c.measures(scoped)
        kernel = _kernel_at(scoped, c, None, tol_k)
        gap = max(m.objective - m.dual_lower, 0.0)
        return m.fit, gap, np.hstack([c.U, c.H]), _structure(kernel), m.objective

    skipped = []
    for step in steps:
        hl, hy = step * inst.lam, step * (1.0 + float(np.abs(inst.y).max(initial=0.0)))
        e = np.zeros(inst.n)
        e[k] = hy
        pairs = {"dfit_dlam": (resolve(inst.y, inst.lam + hl), resolve(inst.y, inst.lam - hl), hl),
                 "dfit_dy": (resolve(inst.y + e, inst.lam), resolve(inst.y - e, inst.lam), hy)}
        sides = [side for plus, minus, _ in pairs.values() for side in (plus, minus)]
        nums["resolve_gap"] = max(s[1] for s in sides)
        if any(s[3] != base for s in sides):
            skipped.append(f"step {step:g}: a re-solve changes the active structure (a kink within the step)")
            continue
        parts, resolution = [], 0.0
        for name, (plus, minus, h) in pairs.items():
            g = targets[name]
            fd = (plus[0] - minus[0]) / (2 * h)
            gn = float(np.linalg.norm(g))
            noise = (math.sqrt(2 * min(plus[1], acc.eps(plus[4])))
                     + math.sqrt(2 * min(minus[1], acc.eps(minus[4])))) / (2 * h)
            # resolvable relative to the larger of the claimed and the measured derivative (a provider
            # claiming 0 must not make every step unresolvable)
            resolution = max(resolution, noise / max(gn, float(np.linalg.norm(fd)), 1e-300))
            err = float(np.linalg.norm(fd - g))
            nums[f"{name}_error"] = err / max(gn, 1e-300)
            nums[f"{name}_norm"] = gn
            parts.append((f"{name} differs from the finite difference of re-solves (step {step:g})", err,
                          rtol * gn + noise + acc.slack * (1 + gn)))
        if resolution > 0.5:
            skipped.append(f"step {step:g}: the re-solves are too inaccurate to resolve the derivative "
                           f"(sqrt(2 eps') / h = {resolution:.3g} ||g||)")
            continue
        plus, minus, h = pairs["dfit_dlam"]
        fdw = [(plus[2][:, list(a.members)].sum(axis=1) - minus[2][:, list(a.members)].sum(axis=1)) / (2 * h)
               for a in S.active]
        dw = np.column_stack(fdw) if fdw else np.zeros((inst.d, 0))
        nums["weight_error"] = float(np.linalg.norm(dw - S.dw_dlam) / max(np.linalg.norm(S.dw_dlam), 1e-300))
        nums["step"] = step
        return _failures("C15", parts, nums,
                         "the sensitivity formula matches finite differences of re-solves")
    return Verdict("C15", True, "no step resolves the derivative: " + "; ".join(skipped), nums,
                   applicable=False)


# --- The table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the kit: id, one-line statement, source (theorem), and what it needs.

    ``needs`` is one of ``"solution"`` (one solution), ``"reference"`` (the solution and an
    independent reference solution), ``"path"`` (solutions at ``lam`` and ``lam2``),
    ``"network"`` (a network, the candidate's or the one mapped from it), ``"pruner"`` (a network and a
    pruning function; C9), ``"resolve"`` (the solution and the solver, re-run on perturbed data; C15).
    """

    id: str
    statement: str
    source: str
    needs: str
    check: Callable[..., Verdict]


CLAIMS: dict[str, ClaimSpec] = {s.id: s for s in [
    ClaimSpec("C1", "unique fit: every optimal solution has the same fit y_hat", "theory.md §3 (strong "
              "convexity of the loss in the fit)", "reference", check_c1),
    ClaimSpec("C2", "penalty identity: lam sum ||w_b|| = <y_hat, r>, p* = <y, r> - 1/2 ||r||^2",
              "theory.md §3 (derived; scaling invariance)", "solution", check_c2),
    ClaimSpec("C3", "correlation vectors: max ||v_b|| <= lam; active directions equal v_b / lam",
              "theory.md §3 (KKT; Mishkin-Pilanci 2023)", "solution", check_c3),
    ClaimSpec("C4", "w = 0 is optimal iff lam >= lam_max = max ||Pi_K(Z_b^T y)||", "theory.md §3",
              "solution", check_c4),
    ClaimSpec("C5", "every point of the optimal polytope P_lam is optimal, sum alpha constant",
              "theory.md §4 (Mishkin-Pilanci 2023; P_lam by certify.optimal_set)", "solution", check_c5),
    ClaimSpec("C6", "convex -> network map preserves the objective and balances",
              "theory.md §2 (Pilanci-Ergen 2020)", "solution", check_c6),
    ClaimSpec("C7", "network -> convex map never increases the objective", "theory.md §2 (AM-GM)", "network",
              check_c7),
    ClaimSpec("C8", "equal optimal values: min NC = min C-ReLU once m >= m*", "theory.md §2 (Pilanci-Ergen "
              "2020; Wang-Lacotte-Pilanci 2022)", "network", check_c8),
    ClaimSpec("C9", "Algorithm 1 keeps fit and objective, ends independent with <= rank neurons, factors in "
              "[0, 2]", "theory.md §5 (Mishkin-Pilanci 2023, Alg. 1)", "pruner", check_c9),
    ClaimSpec("C10", "minimal <=> independent merged columns <=> vertex of P_lam (widths may differ)",
              "theory.md §4 (Prop. 3.6; P_lam by certify.optimal_set)", "solution", check_c10),
    ClaimSpec("C11", "unique <=> {Z_b v_b : b in S_lam} independent (P_lam a single point)",
              "theory.md §4 (Prop. 4.3)", "solution", check_c11),
    ClaimSpec("C12", "duplicate blocks merged (sound, complete); p-uniqueness on merged columns",
              "theory.md §4 (duplicate blocks)", "solution", check_c12),
    ClaimSpec("C13", "path monotonicity and the derivative sandwich", "theory.md §6 (Mishkin-Pilanci 2023)",
              "path", check_c13),
    ClaimSpec("C14", "continuity of the path (fit, quantitative)", "theory.md §6 (derived form)", "path",
              check_c14),
    ClaimSpec("C15", "sensitivity: the implicit-function derivatives dy_hat/dlam, dy_hat/dy match finite "
              "differences of re-solves under the theorem's hypotheses", "theory.md §6 (derived; implicit "
              "function theorem; certify.sensitivity)", "resolve", check_c15),
    ClaimSpec("C16", "the min-norm point of P_lam is (M_A)^+ y_hat on its support (certify.selection)",
              "theory.md §6 (derived)", "solution", check_c16),
]}
"""The claims this kit checks, in order. C15 re-solves (``needs="resolve"``: the solver itself).
C9 tests a pruner (:func:`certify.pruning.prune`), not a solver: ``check_solver`` does not run it;
``certify selftest`` runs it on networks with duplicated and split neurons."""
