"""Selection inside a scaling polytope ``{alpha >= 0 : M alpha = fit}`` (theory.md §4, §6).

Every point of the optimal set ``P_lambda`` is an optimal network, so other criteria can pick
one (the design of Mishkin & Pilanci, ICML 2023, Table 1). Three criteria, open-source solvers:

``min_norm``
    Minimum squared l2 norm of the convex weights, ``sum_b ||w_b||^2 = sum_b alpha_b^2 ||V_b||^2``
    (a QP; cvxpy + Clarabel). Why this norm: the network's own l2 norm of balanced weights,
    ``sum_j (||W1_j||^2 + w2_j^2) = 2 sum_b ||w_b||``, is *linear* in ``alpha`` and constant on
    ``P_lambda`` (it is the penalty; theory.md §4), so minimizing it selects nothing. The squared
    convex norm equals ``(1/2) sum_j (||W1_j||^4 + w2_j^4)`` of the balanced network and spreads the
    weight over as many neurons as the set allows. On ``P_lambda`` every ``||v_b|| = lam``, so it is
    ``lam^2 ||alpha||^2`` and its minimizer is ``(M_A)^+ fit`` on its support ``A`` (claim C16);
    ``norm="alpha"`` minimizes ``||alpha||^2`` for any polytope.
``extreme_point``
    A vertex: an LP solved by HiGHS' dual simplex, which returns a basic solution, so the result
    is a vertex whatever the cost. ``cost="max_sum"`` (default) maximizes ``sum_b alpha_b`` (the
    issue's "maximum sum of beta"; on ``P_lambda`` the weighted sum ``sum alpha_b ||v_b||`` is
    constant, so this picks among vertices); ``cost="random"`` minimizes a seeded positive random
    cost (a generic vertex; always bounded). A vertex is a minimal network: its atoms' fits are
    linearly independent (theory.md §4, Prop. 3.6).
``min_validation``
    Minimum validation error ``||A_val alpha - y_val||^2`` with ``A_val`` the atoms' outputs on
    held-out points (a QP, since the prediction is linear in ``alpha``).

Tolerances (floats; nothing here is certified). The equality system is replaced by an equivalent
well-conditioned one on the numerical row space of ``M`` (singular values above
``rank_tol * sigma_max``, default 1e-13; dimensions are counted with 1e-10). QPs are solved by
Clarabel at tolerance 1e-11, retried at 1e-8 when that fails. Solver output is clipped at zero, entries below
``zero_tol * max alpha`` (default 1e-9) are set to zero, and the point is polished on its support
by the least-squares correction ``alpha_A += M_A^+ (fit - M_A alpha_A)`` when that keeps it
non-negative. A selection is accepted only if ``||M alpha - fit|| <= fit_tol * max(1, ||fit||)``
(default ``fit_tol`` 1e-7); otherwise :class:`certify.errors.SolverError` is raised. The
residual is reported with every selection.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from certify.errors import InputError, SolverError
from certify.network import Network
from certify.problem import Problem
from certify.selection.polytope import ScalingPolytope, distinct_atoms

RANK_TOL = 1e-13
DIMENSION_RANK_TOL = 1e-10
QP_TOLS = (1e-11, 1e-8)
ZERO_TOL = 1e-9
FIT_TOL = 1e-7
CRITERIA = ("min_norm", "extreme_point", "min_validation")


@dataclass(frozen=True)
class Selection:
    """A point of a scaling polytope chosen by one criterion.

    Attributes
    ----------
    criterion : str
        ``"min_norm"``, ``"extreme_point"`` or ``"min_validation"``.
    alpha : ndarray (B,)
        The point (non-negative).
    value : float
        The criterion's value at ``alpha`` (squared norm, LP cost, or validation sum of squares).
    fit_residual : float
        ``||M alpha - fit|| / max(1, ||fit||)``.
    width : int
        Atoms with ``alpha_b > 0`` (neurons of the selected network).
    distinct : int
        Neurons after merging duplicates (same sign, positively collinear directions).
    """

    criterion: str
    alpha: np.ndarray
    value: float
    fit_residual: float
    width: int
    distinct: int


@dataclass(frozen=True)
class EqualitySystem:
    """``A alpha = b``, equivalent to ``M alpha = fit`` on the numerical row space of ``M``.

    ``A`` has orthonormal rows (``V_r^T`` of the SVD ``M = U S V^T``), ``b = S_r^{-1} U_r^T fit``;
    ``range_residual = ||fit - U_r U_r^T fit|| / max(1, ||fit||)`` says how far ``fit`` is from the
    range of ``M`` (zero up to rounding when the polytope is non-empty).
    """

    A: np.ndarray
    b: np.ndarray
    rank: int
    range_residual: float


def equality_system(polytope: ScalingPolytope, rank_tol: float = RANK_TOL) -> EqualitySystem:
    """The equality constraints of ``polytope`` on the numerical row space of ``M``."""
    U, S, Vt = np.linalg.svd(polytope.M, full_matrices=False)
    top = S[0] if S.size else 0.0
    r = int(np.sum(S > rank_tol * top)) if top > 0 else 0
    Ur = U[:, :r]
    coords = Ur.T @ polytope.fit
    scale = max(1.0, float(np.linalg.norm(polytope.fit)))
    resid = float(np.linalg.norm(polytope.fit - Ur @ coords)) / scale
    return EqualitySystem(Vt[:r], coords / S[:r], r, resid)


def fit_residual(polytope: ScalingPolytope, alpha: np.ndarray) -> float:
    """``||M alpha - fit|| / max(1, ||fit||)``."""
    scale = max(1.0, float(np.linalg.norm(polytope.fit)))
    return float(np.linalg.norm(polytope.M @ alpha - polytope.fit)) / scale


def min_norm_on_support(M: np.ndarray, fit: np.ndarray, support: np.ndarray,
                        weights: np.ndarray | None = None) -> np.ndarray:
    """``alpha_A = D^{-1} (M_A D^{-1})^+ fit``, zero off ``A`` (claim C16; ``D = diag(weights_A)``).

    The minimizer of ``sum_b weights_b^2 alpha_b^2`` over ``M_A alpha_A = fit`` (all signs); when it is
    non-negative it is the minimum-norm point of the polytope with that support.
    """
    A = np.flatnonzero(support)
    w = np.ones(A.size) if weights is None else np.asarray(weights, np.float64)[A]
    out = np.zeros(M.shape[1])
    out[A] = np.linalg.pinv(M[:, A] / w) @ fit / w
    return out


def _clean(polytope: ScalingPolytope, alpha: np.ndarray, zero_tol: float, polish: bool) -> np.ndarray:
    alpha = np.maximum(np.asarray(alpha, np.float64), 0.0)
    top = float(alpha.max(initial=0.0))
    alpha[alpha <= zero_tol * top] = 0.0
    if polish and top > 0:
        A = np.flatnonzero(alpha)
        step = np.linalg.lstsq(polytope.M[:, A], polytope.fit - polytope.M[:, A] @ alpha[A], rcond=None)[0]
        trial = alpha.copy()
        trial[A] += step
        if np.all(trial >= 0) and fit_residual(polytope, trial) <= fit_residual(polytope, alpha):
            alpha = trial
    return alpha


def _finish(polytope: ScalingPolytope, criterion: str, alpha: np.ndarray, value: float, fit_tol: float
            ) -> Selection:
    res = fit_residual(polytope, alpha)
    if not res <= fit_tol:
        raise SolverError(f"{criterion}: the selected point misses the polytope's fit by {res:.3g} "
                          f"(relative; tolerance {fit_tol:g}); the solver did not converge.")
    support = alpha > 0
    return Selection(criterion, alpha, float(value), res, int(support.sum()),
                     distinct_atoms(polytope.directions, polytope.signs, support))


def _column_scale(polytope: ScalingPolytope) -> np.ndarray:
    norms = np.linalg.norm(polytope.M, axis=0)
    top = float(norms.max(initial=0.0))
    return np.where(norms > 1e-300, norms, top if top > 0 else 1.0)


def _qp_points(objective_of, system: EqualitySystem, scale: np.ndarray):
    """Candidate minimizers of ``objective_of(alpha)`` over the polytope, best attempt first.

    Attempts: variables ``gamma = scale * alpha`` (``scale``: the column norms of ``M``, so that
    atoms of very different sizes are comparable) and plain ``alpha``, each at Clarabel
    tolerance 1e-11, then 1e-8. Yields ``(alpha, None)`` or ``(None, reason of the failure)``.
    """
    import cvxpy as cp

    for tol in QP_TOLS:
        for sc in (scale, np.ones_like(scale)):
            gamma = cp.Variable(sc.size, nonneg=True)
            prob = cp.Problem(cp.Minimize(objective_of(cp.multiply(1.0 / sc, gamma))),
                              [(system.A / sc) @ gamma == system.b])
            try:
                with warnings.catch_warnings():  # "inaccurate" warnings: the fit is checked below
                    warnings.simplefilter("ignore", UserWarning)
                    prob.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol,
                               max_iter=500)
            except cp.error.SolverError as exc:
                yield None, f"Clarabel failed at tolerance {tol:g} ({exc})"
                continue
            if gamma.value is None or prob.status not in ("optimal", "optimal_inaccurate"):
                yield None, f"Clarabel returned status {prob.status!r} at tolerance {tol:g}"
                continue
            yield np.asarray(gamma.value, np.float64) / sc, None


def _select_qp(polytope: ScalingPolytope, criterion: str, objective_of, value_of, system: EqualitySystem,
               zero_tol: float, fit_tol: float, weights: np.ndarray | None = None) -> Selection:
    """The first QP attempt whose cleaned point meets the fit tolerance (see :func:`_qp_points`)."""
    failures = []
    for raw, why in _qp_points(objective_of, system, _column_scale(polytope)):
        if raw is None:
            failures.append(why)
            continue
        if weights is not None:  # min_norm: the exact formula on the support (C16) when valid
            alpha = _clean(polytope, raw, zero_tol, polish=False)
            exact = min_norm_on_support(polytope.M, polytope.fit, alpha > 0, weights)
            closer = fit_residual(polytope, exact) <= max(fit_residual(polytope, alpha), 1e-13)
            if np.all(exact >= 0) and closer:
                alpha = exact
            else:
                alpha = _clean(polytope, alpha, zero_tol, polish=True)
        else:
            alpha = _clean(polytope, raw, zero_tol, polish=True)
        try:
            return _finish(polytope, criterion, alpha, value_of(alpha), fit_tol)
        except SolverError as exc:
            failures.append(str(exc))
    raise SolverError(f"{criterion}: no solver attempt met the tolerances: " + "; ".join(failures))


def min_norm(polytope: ScalingPolytope, norm: str = "weights", rank_tol: float = RANK_TOL,
             zero_tol: float = ZERO_TOL, fit_tol: float = FIT_TOL) -> Selection:
    """Minimum-norm point: ``sum_b alpha_b^2 ||V_b||^2`` (``norm="weights"``) or ``||alpha||^2``.

    See the module docstring for why the convex weights' squared l2 norm is the meaningful one.
    The solver's point is polished by the exact minimum-norm formula on its support (C16) when
    that is non-negative and at least as close to the polytope.
    """
    if norm not in ("weights", "alpha"):
        raise InputError(f"norm must be 'weights' or 'alpha'; got {norm!r}.")
    w = polytope.penalty_weights() if norm == "weights" else np.ones(polytope.size)
    if np.any(w <= 0):
        raise InputError("an atom has a zero direction; drop it before selecting.")
    import cvxpy as cp

    return _select_qp(polytope, "min_norm", lambda a: cp.sum_squares(cp.multiply(w, a)),
                      lambda a: float(np.sum((w * a) ** 2)), equality_system(polytope, rank_tol),
                      zero_tol, fit_tol, weights=w)


def extreme_point(polytope: ScalingPolytope, cost: str = "max_sum", seed: int = 0,
                  rank_tol: float = RANK_TOL, zero_tol: float = ZERO_TOL, fit_tol: float = FIT_TOL
                  ) -> Selection:
    """A vertex of the polytope by HiGHS' dual simplex (a basic solution; see the module docstring).

    Parameters
    ----------
    cost : {"max_sum", "random"}
        ``"max_sum"`` maximizes ``sum_b alpha_b``; ``"random"`` minimizes ``c^T alpha`` with ``c``
        seeded uniform in [1, 2] (a generic vertex).
    seed : int
        Seed of the random cost.

    Raises
    ------
    SolverError
        The LP is unbounded (``"max_sum"`` on an unbounded set: a network polytope of a network that
        is not optimal can be) or infeasible.
    """
    from scipy.optimize import linprog

    if cost == "max_sum":
        c = -np.ones(polytope.size)
    elif cost == "random":
        c = np.random.default_rng(seed).uniform(1.0, 2.0, polytope.size)
    else:
        raise InputError(f"cost must be 'max_sum' or 'random'; got {cost!r}.")
    system = equality_system(polytope, rank_tol)
    res = linprog(c, A_eq=system.A, b_eq=system.b, bounds=(0, None), method="highs-ds")
    if res.status == 3:
        raise SolverError("extreme_point: the LP is unbounded (the polytope is not bounded: the atoms have "
                          "a non-negative combination with zero fit); use cost='random'.")
    if res.status != 0 or res.x is None:
        raise SolverError(f"extreme_point: HiGHS failed ({res.message}).")
    alpha = _clean(polytope, res.x, zero_tol, polish=True)
    return _finish(polytope, "extreme_point", alpha, float(c @ alpha), fit_tol)


def min_validation(polytope: ScalingPolytope, features_val: np.ndarray, y_val: np.ndarray,
                   rank_tol: float = RANK_TOL, zero_tol: float = ZERO_TOL, fit_tol: float = FIT_TOL
                   ) -> Selection:
    """Minimum validation sum of squares ``||atoms(features_val) alpha - y_val||^2`` over the polytope.

    Parameters
    ----------
    features_val : (n_val, d[+1]) held-out features (with the ones column when the problem has a bias).
    y_val : (n_val,) held-out targets (for classification: the +-1 labels; the criterion is the
        squared error of the network's output, which is convex in ``alpha``).
    """
    y_val = np.asarray(y_val, np.float64)
    A_val = polytope.atoms(features_val)
    if y_val.shape != (A_val.shape[0],) or not np.all(np.isfinite(y_val)):
        raise InputError(f"y_val must be a finite vector of length {A_val.shape[0]}; "
                         f"got shape {y_val.shape}.")
    import cvxpy as cp

    return _select_qp(polytope, "min_validation", lambda a: cp.sum_squares(A_val @ a - y_val),
                      lambda a: float(np.sum((A_val @ a - y_val) ** 2)), equality_system(polytope, rank_tol),
                      zero_tol, fit_tol)


def support_dimension(polytope: ScalingPolytope, rank_tol: float = DIMENSION_RANK_TOL, zero_tol: float = 1e-7
                      ) -> tuple[np.ndarray, int]:
    """The atoms some point of the polytope uses, and the polytope's dimension (floats).

    An atom ``b`` is in the support iff ``max {alpha_b : alpha in polytope} > zero_tol * scale``
    (one LP per atom not yet seen positive; each LP's solution marks every atom it uses). The
    dimension is ``|support| - rank(M_support)`` (numerical rank, ``rank_tol`` relative).

    Returns
    -------
    (support mask (B,), dimension)
    """
    from scipy.optimize import linprog

    system = equality_system(polytope, rank_tol)
    support = np.zeros(polytope.size, dtype=bool)
    if polytope.reference is not None:
        support |= polytope.reference > 0
    tried = np.zeros(polytope.size, dtype=bool)
    for b in range(polytope.size):
        if support[b] or tried[b]:
            continue
        c = np.zeros(polytope.size)
        c[b] = -1.0
        res = linprog(c, A_eq=system.A, b_eq=system.b, bounds=(0, None), method="highs")
        tried[b] = True
        if res.status == 3:
            support[b] = True
            continue
        if res.status == 0 and res.x is not None:
            x = np.maximum(res.x, 0.0)
            support |= x > zero_tol * max(1.0, float(x.max()))
    if not support.any():
        return support, 0
    S = np.linalg.svd(polytope.M[:, support], compute_uv=False)
    rank = int(np.sum(S > rank_tol * S[0])) if S.size and S[0] > 0 else 0
    return support, int(support.sum()) - rank


def training_objective(problem: Problem, network: Network) -> float:
    """NC of ``network`` on ``problem`` (floats; certify's scaling: 1/2 squared loss, lam/2 squared
    weights, bias as a regularized ones column)."""
    from certify.convex.mapping import nc_objective

    return nc_objective(problem.features, problem.y, float(problem.lam), network.weights(problem.bias),
                        network.w2)


OBJECTIVE_TOL = 1e-8
"""Relative spread of the training objectives below which selections count as equally optimal."""


@dataclass(frozen=True)
class SelectedNetwork:
    """A selection with its network and training objective NC (floats, certify's scaling)."""

    selection: Selection
    network: Network
    objective: float


@dataclass(frozen=True)
class SelectionReport:
    """All selections of :func:`select_all` and how far their training objectives differ.

    ``spread = (max NC - min NC) / max(1, |min NC|)``; ``equal`` is ``spread <= OBJECTIVE_TOL``.
    On an optimal set every point is optimal, so ``equal`` should hold; when it does not, the
    polytope was not an optimal set (or a solve was inaccurate) and the selections are not equally
    good networks.
    """

    selected: dict[str, SelectedNetwork]
    spread: float
    equal: bool


def select_all(problem: Problem, polytope: ScalingPolytope, features_val: np.ndarray | None = None,
               y_val: np.ndarray | None = None, cost: str = "max_sum", seed: int = 0) -> SelectionReport:
    """Minimum norm, extreme point and (with validation data) minimum validation error, as networks.

    Parameters
    ----------
    problem : Problem
        The training problem (its features and bias convention must be those of ``polytope``).
    polytope : ScalingPolytope
    features_val, y_val : held-out features (ones column when ``problem.bias``) and targets;
        without them the validation criterion is skipped.
    cost, seed : passed to :func:`extreme_point`.
    """
    sels = [min_norm(polytope), extreme_point(polytope, cost=cost, seed=seed)]
    if features_val is not None and y_val is not None:
        sels.append(min_validation(polytope, features_val, y_val))
    out = {}
    for sel in sels:
        net = polytope.network(sel.alpha, bias=problem.bias)
        out[sel.criterion] = SelectedNetwork(sel, net, training_objective(problem, net))
    values = [s.objective for s in out.values()]
    spread = (max(values) - min(values)) / max(1.0, abs(min(values)))
    return SelectionReport(out, spread, spread <= OBJECTIVE_TOL)
