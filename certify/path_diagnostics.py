"""Numerical diagnostics of a regularization path (theory.md §4, §6; claims C13, C14 of §8).

NOT certified claims: everything here is computed in floats from approximate solutions and is
labelled ``"numerical"``. Per grid point: the objective (an upper bound of ``p*(lam)`` over the
pattern scope) and a lower bound when known (the solver's dual value, or the certified lower bound
of a certified path), the loss, the penalty, ``R = sum_b ||w_b||``, the support ``S_lam`` (merged
duplicate blocks, :func:`certify.optimal_set.analysis.optimal_set`), the width of a minimal network
and the numerical p-uniqueness verdict with its margin. Along the path: the lam intervals where the
support or the minimal width changes, the intervals where p-uniqueness holds at both ends and the
points where it fails, and checks of C13 with tolerances derived from the gaps.

Scaling (certify's, theory.md §1-2): ``loss = 1/2 ||yhat - y||^2`` (a sum, not a mean),
``penalty = lam * R`` with ``R = sum_b ||w_b||`` the sum of the convex block norms, which equals
``(lam/2) sum_j (||W1_j||^2 + w2_j^2)`` of the balanced network; ``objective = loss + penalty``. A
first-layer bias is a regularized ones column of the features.

**Width of a minimal network.** Algorithm 1 (theory.md §5) run in floats on the solution's active
blocks (:func:`pruned_width`): while the column-normalized fits ``F = [Z_b w_b]`` have a singular
value ``<= rank_tol`` (default of :class:`certify.optimal_set.analysis.Tolerances`, 1e-4) times the
largest, step along that null vector in the direction that does not increase the penalty until a
factor reaches zero (factors below ``1e-9`` of the largest count as zero). The fit is unchanged and
the result has independent fits: a minimal network with at most ``rank F`` neurons (fewer when
several factors reach zero in one step). ``width_margin`` is the smallest singular value of the
remaining normalized fits over the largest (robust when far above ``rank_tol``). Exact pruning
(``certify prune``) gives the exact width of one network.

**C13 tolerances** (derived; ``u_k`` the objective of the solution at ``lam_k``, ``l_k`` its lower
bound, ``g_k = u_k - l_k``, ``R_k`` its penalty sum, ``lam_1 < lam_2``). Because
``loss_2 + lam_1 R_2`` is the objective of solution 2 at ``lam_1`` (an upper bound of
``p*(lam_1)``), and likewise for solution 1 at ``lam_2``:
``u_1 - u_2 <= g_1`` (p* non-decreasing), ``u_2 - u_1 >= (lam_2 - lam_1) R_2 - g_1`` and
``u_2 - u_1 <= (lam_2 - lam_1) R_1 + g_2`` (the sandwich). These hold for valid lower bounds
whatever the solutions' accuracy, so a failure means a lower bound is not one. The loss and ``R``
of the optimum are unique (``yhat`` is, by strong convexity in the fit):
``||yhat - yhat*|| <= delta = sqrt(2 g)``, so ``|loss - loss*| <= ||r|| delta + delta^2 / 2 = t``
and ``|R - R*| <= (g + t) / lam``; the monotonicity of loss and ``R`` is checked up to these.
Every comparison also allows ``1e-12`` times the largest objective for float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from certify.convex.mapping import Blocks
from certify.errors import InputError
from certify.optimal_set.analysis import OptimalSet, Tolerances, optimal_set
from certify.problem import with_bias_column

LABEL = ("numerical diagnosis from float solutions (not a certified claim); theory.md §4 and §6: "
         "continuity is guaranteed where the solution is p-unique throughout an interval")
ROUNDING = 1e-12
"""Relative float slack of the C13 comparisons (of the largest objective)."""


@dataclass(frozen=True)
class PointDiagnosis:
    """Diagnostics at one grid point (certify's scaling, module docstring).

    Attributes
    ----------
    lam : float
    objective : float
        ``loss + penalty`` of the solution: an upper bound of ``p*(lam)`` over the scope.
    lower : float
        A lower bound of ``p*(lam)`` (the solver's dual value or a certified bound); ``-inf`` if none.
    loss, penalty, penalty_sum : float
        ``1/2 ||r||^2``, ``lam * R`` and ``R = sum_b ||w_b||``.
    residual_norm : float
        ``||y - yhat||``.
    support : frozenset of int
        Block indices (``p`` for sign +1, ``P + p`` for sign -1) of the merged groups in ``S_lam``.
    support_groups : int
        ``|S_lam|`` after merging duplicate blocks.
    active : int
        The solution's active blocks after merging duplicates (equal sign and parallel fits).
    width : int
        Width of a minimal network pruned from this solution (:func:`pruned_width`, numerical).
    width_margin : float
        Smallest singular value of the pruned normalized fits over the largest (1 when width <= 1).
    unique : bool
        Numerical p-uniqueness verdict (Prop. 4.3 after merging, :func:`optimal_set`).
    uniqueness_margin : float
        Smallest singular value of the normalized ``M_S`` over the largest (unique iff > rank_tol).
    dual_margin : float
        ``1 - max ||v_b|| / lam`` over blocks outside the equicorrelation set (1 if none).
    """

    lam: float
    objective: float
    lower: float
    loss: float
    penalty: float
    penalty_sum: float
    residual_norm: float
    support: frozenset[int]
    support_groups: int
    active: int
    width: int
    width_margin: float
    unique: bool
    uniqueness_margin: float
    dual_margin: float

    @property
    def gap(self) -> float:
        """``objective - lower`` (``inf`` without a lower bound)."""
        return max(self.objective - self.lower, 0.0)


@dataclass(frozen=True)
class Change:
    """The support or the minimal width differs between ``lam_hi`` and ``lam_lo`` (adjacent grid points)."""

    lam_lo: float
    lam_hi: float
    entered: frozenset[int]
    left: frozenset[int]
    width_hi: int
    width_lo: int

    @property
    def support_changed(self) -> bool:
        return bool(self.entered or self.left)

    @property
    def width_changed(self) -> bool:
        return self.width_hi != self.width_lo


@dataclass(frozen=True)
class C13Check:
    """One inequality of C13 between adjacent grid points ``lam_lo < lam_hi``.

    ``slack >= -tolerance`` passes; ``slack`` is the float value of ``rhs - lhs``.
    """

    name: str
    lam_lo: float
    lam_hi: float
    slack: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.slack >= -self.tolerance


@dataclass
class PathDiagnostics:
    """Diagnostics of a path, grid points by decreasing ``lam`` (see the module docstring).

    Attributes
    ----------
    points : list of PointDiagnosis
    changes : list of Change
        Adjacent grid points between which the support or the minimal width changes.
    unique_intervals : list of (float, float)
        ``(lam_lo, lam_hi)`` of adjacent points both numerically p-unique (maximal runs merged).
    nonunique : list of float
        Grid points where the numerical p-uniqueness test fails (the path may jump there).
    c13 : list of C13Check
    tolerances : Tolerances
    label : str
    """

    points: list[PointDiagnosis]
    changes: list[Change]
    unique_intervals: list[tuple[float, float]]
    nonunique: list[float]
    c13: list[C13Check]
    tolerances: Tolerances = field(default_factory=Tolerances)
    label: str = LABEL

    @property
    def c13_passed(self) -> bool:
        return all(c.passed for c in self.c13)

    def summary_lines(self) -> list[str]:
        """Human-readable summary (printed by ``certify path --diagnostics``)."""
        out = [f"path diagnostics ({len(self.points)} grid points; {self.label}):"]
        for c in self.changes:
            what = []
            if c.support_changed:
                what.append(f"support +{len(c.entered)} -{len(c.left)} blocks")
            if c.width_changed:
                what.append(f"minimal width {c.width_hi} -> {c.width_lo}")
            out.append(f"  change in ({c.lam_lo:.6g}, {c.lam_hi:.6g}): " + ", ".join(what))
        if not self.changes:
            out.append("  no change of support or minimal width between grid points")
        for lo, hi in self.unique_intervals:
            out.append(f"  p-unique at both ends of every grid segment in [{lo:.6g}, {hi:.6g}]")
        if self.nonunique:
            out.append("  p-uniqueness fails at lam = " + ", ".join(f"{v:.6g}" for v in self.nonunique)
                       + " (the path may jump there)")
        bad = [c for c in self.c13 if not c.passed]
        out.append(f"  C13 (monotonicity and sandwich): {len(self.c13) - len(bad)}/{len(self.c13)} "
                   f"inequalities hold within their derived tolerances")
        for c in bad[:5]:
            out.append(f"    FAILS {c.name} on ({c.lam_lo:.6g}, {c.lam_hi:.6g}): slack {c.slack:.3g}, "
                       f"tolerance {c.tolerance:.3g}")
        return out


# --------------------------------------------------------------------------------------------
# One grid point


def _merged_fits(fits: np.ndarray, signs: np.ndarray, merge_tol: float) -> np.ndarray:
    """Active fit columns with duplicates (equal sign, parallel fit) merged."""
    reps: list[np.ndarray] = []
    rep_signs: list[int] = []
    for j in range(fits.shape[1]):
        nrm = np.linalg.norm(fits[:, j])
        if nrm == 0:
            continue
        unit = fits[:, j] / nrm
        if not any(s == signs[j] and np.abs(unit - r).max() <= merge_tol
                   for r, s in zip(reps, rep_signs, strict=True)):
            reps.append(unit)
            rep_signs.append(int(signs[j]))
    return np.column_stack(reps) if reps else np.zeros((fits.shape[0], 0))


def pruned_width(fits: np.ndarray, norms: np.ndarray, rank_tol: float = Tolerances.rank_tol,
                 drop_tol: float = 1e-9) -> tuple[int, float]:
    """Width left by Algorithm 1 (theory.md §5) in floats, and its margin.

    Parameters
    ----------
    fits : (n, B) active fit columns ``Z_b w_b``; norms : (B,) their ``||w_b||``.
    rank_tol : a null vector is taken while the smallest singular value of the column-normalized
        alive fits is ``<= rank_tol`` times the largest.
    drop_tol : factors ``<= drop_tol`` (of the largest factor) count as zero (ties of Algorithm 1
        remove several blocks in one step).

    Returns
    -------
    width, margin : int, float
        Alive blocks at the end (``<= rank fits``: ties may remove more than one block per step) and
        the smallest singular value of their normalized fits over the largest (1 if width <= 1).
    """
    fits, norms = np.asarray(fits, float), np.asarray(norms, float)
    col = np.linalg.norm(fits, axis=0)
    alive = [b for b in range(fits.shape[1]) if col[b] > 0]
    c = np.ones(fits.shape[1])
    while len(alive) > 1:
        G = fits[:, alive] / col[alive]
        _, sv, Vt = np.linalg.svd(G, full_matrices=True)
        sv_full = np.concatenate([sv, np.zeros(len(alive) - sv.size)])
        if sv_full[-1] > rank_tol * sv_full[0]:
            return len(alive), float(sv_full[-1] / sv_full[0])
        beta = Vt[-1] / col[alive]  # fits[:, alive] @ beta ~ 0, in the factors' coordinates
        # step c <- c - s beta with s > 0: the penalty sum(c ||w||) changes by -s beta.||w|| <= 0
        if float(beta @ norms[alive]) < 0 or not (beta > 0).any():
            beta = -beta
        ca = c[alive]
        pos = beta > 0
        s = float(np.min(ca[pos] / beta[pos]))
        c[alive] = ca - s * beta
        top = float(np.max(c[alive]))
        alive = [b for b in alive if c[b] > drop_tol * top]
    return len(alive), 1.0


def diagnose_point(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray, U: np.ndarray, H: np.ndarray,
                   gated: bool = False, lower: float = -np.inf, tolerances: Tolerances | None = None,
                   threshold: float = 1e-9) -> tuple[PointDiagnosis, OptimalSet]:
    """Diagnostics of one approximate solution ``(U, H)`` over the patterns ``D``.

    Parameters
    ----------
    X : (n, d) features (ones column included for a bias); y : (n,); lam : float > 0
    D : (n, P) 0/1 patterns; U, H : (d, P) block weights of signs +1 and -1 (``H = 0`` when gated).
    gated : bool
    lower : float
        A lower bound of ``p*(lam)`` if known.
    tolerances : Tolerances, optional
        Those of :func:`certify.optimal_set.analysis.optimal_set`; ``rank_tol`` and ``merge_tol``
        are also used for the width.
    threshold : float
        A block is active when ``||w_b|| > threshold * max ||w_b||``.

    Raises
    ------
    InputError, SolverError
        As :func:`certify.optimal_set.analysis.optimal_set`.
    """
    tol = tolerances or Tolerances()
    s = optimal_set(X, y, lam, D, U, H, gated=gated, tolerances=tol)
    X, D = np.asarray(X, float), np.asarray(D, float)
    U, H = np.asarray(U, float), np.asarray(H, float)
    R = float(np.linalg.norm(U, axis=0).sum() + np.linalg.norm(H, axis=0).sum())
    loss = 0.5 * float(s.residual @ s.residual)
    blocks = Blocks.from_solution(U, H, D.astype(np.uint8), threshold)
    raw = blocks.fits(X) if blocks.count else np.zeros((len(y), 0))
    active = _merged_fits(raw, blocks.signs, tol.merge_tol).shape[1] if blocks.count else 0
    width, width_margin = pruned_width(raw, np.linalg.norm(blocks.weights, axis=0), tol.rank_tol)
    support = frozenset(b for g in s.support for b in s.groups[g])
    sv = s.singular_values
    u_margin = float(sv.min() / sv.max()) if sv.size and sv.max() > 0 else 1.0
    groups, unique = len(s.support), bool(s.unique)
    if blocks.count == 0:  # fit 0: P = {alpha >= 0 : M alpha = 0} is bounded, so {0}: S is empty
        support, groups, unique, u_margin = frozenset(), 0, True, 1.0
    outside = np.delete(s.correlation_norms, s.equicorrelation)
    dual_margin = float(1.0 - outside.max()) if outside.size else 1.0
    point = PointDiagnosis(float(lam), loss + lam * R, float(lower), loss, lam * R, R,
                           float(np.linalg.norm(s.residual)), support, groups, active,
                           width, width_margin, unique, u_margin, dual_margin)
    return point, s


# --------------------------------------------------------------------------------------------
# Along the path


def _changes(points: list[PointDiagnosis]) -> list[Change]:
    out = []
    for hi, lo in zip(points, points[1:], strict=False):
        entered, left = lo.support - hi.support, hi.support - lo.support
        if entered or left or hi.width != lo.width:
            out.append(Change(lo.lam, hi.lam, frozenset(entered), frozenset(left), hi.width, lo.width))
    return out


def _unique_intervals(points: list[PointDiagnosis]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for hi, lo in zip(points, points[1:], strict=False):
        if hi.unique and lo.unique:
            if out and out[-1][0] == hi.lam:
                out[-1] = (lo.lam, out[-1][1])
            else:
                out.append((lo.lam, hi.lam))
    return out


def c13_checks(points: list[PointDiagnosis]) -> list[C13Check]:
    """The C13 inequalities between adjacent grid points with their derived tolerances (module docstring)."""
    scale = max((abs(p.objective) for p in points), default=1.0)
    slack0 = ROUNDING * max(scale, 1.0)
    out = []
    for p2, p1 in zip(points, points[1:], strict=False):  # p1.lam < p2.lam
        dl = p2.lam - p1.lam
        g1, g2 = p1.gap, p2.gap

        def t(p: PointDiagnosis) -> float:
            delta = np.sqrt(2.0 * p.gap)
            return float(p.residual_norm * delta + 0.5 * delta * delta)

        checks = [
            ("p* non-decreasing", p2.objective - p1.objective, g1),
            ("sandwich lower: (l2-l1) R(l2) <= p*(l2) - p*(l1)",
             (p2.objective - p1.objective) - dl * p2.penalty_sum, g1),
            ("sandwich upper: p*(l2) - p*(l1) <= (l2-l1) R(l1)",
             dl * p1.penalty_sum - (p2.objective - p1.objective), g2),
            ("loss non-decreasing", p2.loss - p1.loss, t(p1) + t(p2)),
            ("penalty sum non-increasing", p1.penalty_sum - p2.penalty_sum,
             (g1 + t(p1)) / p1.lam + (g2 + t(p2)) / p2.lam),
        ]
        out.extend(C13Check(name, p1.lam, p2.lam, float(slack), float(tol_ + slack0))
                   for name, slack, tol_ in checks)
    return out


def diagnose(X: np.ndarray, y: np.ndarray, lams, D: np.ndarray, Us, Hs, gated: bool = False,
             lowers=None, tolerances: Tolerances | None = None) -> PathDiagnostics:
    """Diagnostics of a path given as solutions ``(Us[k], Hs[k])`` at strictly decreasing ``lams``.

    Pure: one :func:`diagnose_point` per grid point (independent pieces), then comparisons of
    adjacent points. ``lowers[k]`` is a lower bound of ``p*(lams[k])`` (default: none, and the C13
    tolerances are then infinite). See the module docstring for scaling and tolerances.

    Raises
    ------
    InputError
        ``lams`` not strictly decreasing, or lengths that differ.
    """
    lams = [float(v) for v in lams]
    Us, Hs = list(Us), list(Hs)
    lowers = [-np.inf] * len(lams) if lowers is None else [float(v) for v in lowers]
    if not (len(lams) == len(Us) == len(Hs) == len(lowers)) or not lams:
        raise InputError(f"lams ({len(lams)}), solutions ({len(Us)}, {len(Hs)}) and lower bounds "
                         f"({len(lowers)}) must be non-empty and of equal length")
    if any(b >= a for a, b in zip(lams, lams[1:], strict=False)):
        raise InputError("lams must be strictly decreasing")
    tol = tolerances or Tolerances()
    points = [diagnose_point(X, y, lam, D, U, H, gated, low, tol)[0]
              for lam, U, H, low in zip(lams, Us, Hs, lowers, strict=True)]
    return PathDiagnostics(points, _changes(points), _unique_intervals(points),
                           [p.lam for p in points if not p.unique], c13_checks(points), tol)


def diagnose_regularization_path(path, X: np.ndarray, y: np.ndarray,
                                 tolerances: Tolerances | None = None) -> PathDiagnostics:
    """:func:`diagnose` of a :class:`certify.solve.path.RegularizationPath` solved on features ``X``.

    The lower bounds are the solver's dual values.
    """
    return diagnose(X, y, path.lams, path.patterns, [s.U for s in path.solutions],
                    [s.H for s in path.solutions], path.gated, path.dual_values, tolerances)


def network_over_scope(features: np.ndarray, D: np.ndarray, weights: np.ndarray, w2: np.ndarray,
                       cone_tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block weights ``(U, H)`` over the scope ``D`` of a network (network -> convex map, theory.md §2).

    Neuron ``j`` contributes ``|w2_j| W1_j`` to the block of sign ``sign(w2_j)`` on the first pattern
    ``p`` of ``D`` whose cone holds it (``(2 D_p - 1) X W1_j >= -cone_tol * max |X W1_j|``). A neuron
    whose pattern is not in ``D`` gets its own pattern appended: the returned ``D`` may be wider.

    Returns
    -------
    D, U, H : (n, P'), (d, P'), (d, P')
    """
    D = np.asarray(D, np.uint8)
    cols = [D[:, p] for p in range(D.shape[1])]
    signed = 2.0 * D.astype(float) - 1.0
    U = np.zeros((features.shape[1], D.shape[1]))
    H = np.zeros_like(U)
    for j in range(weights.shape[1]):
        if w2[j] == 0 or not np.any(weights[:, j]):
            continue
        pre = features @ weights[:, j]
        cut = -cone_tol * max(float(np.abs(pre).max()), 1e-300)
        ok = np.flatnonzero(((signed * pre[:, None]) >= cut).all(axis=0))
        if ok.size:
            p = int(ok[0])
        else:
            cols.append((pre >= 0).astype(np.uint8))
            U, H = np.hstack([U, np.zeros((U.shape[0], 1))]), np.hstack([H, np.zeros((H.shape[0], 1))])
            p = U.shape[1] - 1
        (U if w2[j] > 0 else H)[:, p] += abs(w2[j]) * weights[:, j]
    return np.array(cols).T.astype(np.uint8), U, H


def diagnose_certified_path(result, X: np.ndarray, y: np.ndarray, D: np.ndarray, bias: bool = False,
                            tolerances: Tolerances | None = None) -> PathDiagnostics:
    """:func:`diagnose` of a :class:`certify.certified_path.CertifiedPath` over the scope ``D``.

    ``X`` are the raw features (the ones column is appended when ``bias``). Each grid network is
    mapped to blocks over ``D`` (:func:`network_over_scope`); the lower bounds are the certified ones
    (so the C13 tolerances come from certified gaps). Neurons outside every cone of ``D`` (beyond
    ``cone_tol``) widen the scope for every grid point (appended after ``D``, so block
    indices mean the same pattern all along the path).
    """
    features = with_bias_column(X, bias)
    tol = tolerances or Tolerances()
    scope = np.asarray(D, np.uint8)
    for entry in result.entries:  # first pass: one common scope, so block indices agree along the path
        scope = network_over_scope(features, scope, entry.network.weights(bias), entry.network.w2)[0]
    points = []
    for entry, low in zip(result.entries, result.lower, strict=True):
        net = entry.network
        Dk, U, H = network_over_scope(features, scope, net.weights(bias), net.w2)
        points.append(diagnose_point(features, y, float(entry.lam), Dk, U, H, False, float(low), tol)[0])
    return PathDiagnostics(points, _changes(points), _unique_intervals(points),
                           [p.lam for p in points if not p.unique], c13_checks(points), tol)
