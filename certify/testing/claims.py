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

Claims C10-C12 and C16 (minimality, uniqueness, min-norm) and C15 (sensitivity) are not in this
module (see ``docs/claims/index.md``); C5 uses task optset's :func:`certify.optimal_set.analysis.optimal_set`
and C9 checks task prune's :func:`certify.pruning.prune`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from certify.convex.mapping import blocks_to_network, convex_objective, network_to_blocks
from certify.testing.instance import Candidate, Instance, correlations, lam_max, spectral_norm


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
        ``"C1"`` ... ``"C14"``.
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


# --- The table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the kit: id, one-line statement, source (theorem), and what it needs.

    ``needs`` is one of ``"solution"`` (one solution), ``"reference"`` (the solution and an
    independent reference solution), ``"path"`` (solutions at ``lam`` and ``lam2``),
    ``"network"`` (a network, the candidate's or the one mapped from it), ``"pruner"`` (a network and a
    pruning function; C9).
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
    ClaimSpec("C13", "path monotonicity and the derivative sandwich", "theory.md §6 (Mishkin-Pilanci 2023)",
              "path", check_c13),
    ClaimSpec("C14", "continuity of the path (fit, quantitative)", "theory.md §6 (derived form)", "path",
              check_c14),
]}
"""The claims this kit checks, in order. C10-C12, C15, C16 are not in it (docs/claims/index.md).
C9 tests a pruner (:func:`certify.pruning.prune`), not a solver: ``check_solver`` does not run it;
``certify selftest`` runs it on networks with duplicated and split neurons."""
