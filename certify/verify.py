"""``verify``: certificates for a trained network on a data set (theory.md §3).

Claims produced (each re-checked exactly by :mod:`certify.check`):

* ``objective``: NC(theta) = loss + penalty, exact rationals;
* ``stationarity``: squared norm of the minimum-norm element (found in floats, evaluated
  exactly) of the one-sided-gradient set at ties, which contains the Clarke subdifferential;
* ``subsampled_gap``: NC(theta) minus the optimum of the convex program over a *pattern scope*
  is at most eps. The scope is the network's own exact patterns (default) or a given pattern
  set. This gap is relative to that scope and is **not** a global optimality claim;
* with ``global_opt``: ``global_gap`` (NC(theta) minus the optimum over all networks of any width,
  every activation cell enumerated) and/or ``not_optimal`` (a better network), see
  :mod:`certify.global_opt`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from certify.certificates import certificate
from certify.certificates.gap import gap_claim, given_scope_spec, own_scope_spec
from certify.certificates.goldstein import goldstein_claim_or_none
from certify.certificates.objective import objective_claim
from certify.certificates.stationarity import stationarity_claim
from certify.diagnostics import DEFAULT_KINK_TOL, near_kinks
from certify.errors import BudgetError, InputError
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.dyadic import DyadicMatrix
from certify.exact.patterns import DEFAULT_MAX_TIES, MAX_TIES_LIMIT
from certify.exact.rational import parse_rational
from certify.global_opt import DEFAULT_MAX_CELLS, GlobalSummary, global_claims
from certify.network import Network
from certify.problem import Problem


@dataclass(frozen=True)
class VerificationResult:
    """Certificate and headline numbers of :func:`verify`.

    Attributes
    ----------
    certificate : dict
        The certificate document (write it with :meth:`to_json`).
    objective : Fraction
        Exact NC(theta).
    lower_bound : Fraction
        Certified lower bound on the optimum over the scope.
    gap : Fraction
        ``objective - lower_bound``, a certified upper bound on the scope gap.
    grad_sq : Fraction
        Certified bound on the squared stationarity measure.
    scope : str
        ``"own"`` or ``"given"``.
    goldstein_sq, goldstein_radius_sq : Fraction or None
        Certified Goldstein stationarity bound and squared radius (None if not produced).
    """

    certificate: dict
    objective: Fraction
    lower_bound: Fraction
    gap: Fraction
    grad_sq: Fraction
    scope: str
    goldstein_sq: Fraction | None = None
    goldstein_radius_sq: Fraction | None = None
    global_summary: GlobalSummary | None = None

    @property
    def relative_gap(self) -> float:
        return float(self.gap / self.objective) if self.objective else float(self.gap)

    def to_json(self) -> str:
        return certificate.to_json(self.certificate)


def exact_context(problem: Problem, network: Network) -> ExactContext:
    """Exact view of (problem, network); checks that the network fits the problem."""
    network.check_features(problem.d)
    network.check_bias(problem.bias)
    return ExactContext(problem.X.tolist(), problem.y.tolist(), network.W1.tolist(),
                        network.w2.tolist(), None if network.b1 is None else network.b1.tolist(),
                        problem.lam)


def given_pattern_strings(problem: Problem, patterns: dict) -> list[str]:
    """Exact pattern strings of a user pattern set ``{"D": (n, P)}`` or ``{"G": (d[+1], P)}``."""
    if "D" in patterns:
        D = np.asarray(patterns["D"])
        if D.ndim != 2 or D.shape[0] != problem.n:
            raise InputError(f"D must have shape (n, P) = ({problem.n}, P), got {D.shape}")
        return [pattern_strings.encode(D[:, p].tolist()) for p in range(D.shape[1])]
    G = np.asarray(patterns["G"], dtype=float)
    feats = problem.features
    if G.ndim != 2 or G.shape[0] != feats.shape[1]:
        raise InputError(f"G must have shape (d, P) = ({feats.shape[1]}, P) (the bias row included "
                         f"when --bias is used), got {G.shape}")
    Xd = DyadicMatrix.from_rows(feats.tolist())
    Gd = DyadicMatrix.from_rows(G.tolist())
    prod = Xd.mat * Gd.mat
    P = G.shape[1]
    flat = [int(v) for v in prod.entries()]
    return pattern_strings.patterns_of_gates([flat[k * P:(k + 1) * P] for k in range(problem.n)])


def verify(problem: Problem, network: Network, patterns: dict | None = None,
           max_ties: int = DEFAULT_MAX_TIES, kink_tol: float = DEFAULT_KINK_TOL,
           progress: Callable[[int, int], None] | None = None, global_opt: bool = False,
           max_cells: int = DEFAULT_MAX_CELLS, global_progress: Callable[[str, int, int], None] | None = None,
           global_time: float | None = None) -> VerificationResult:
    """Certify objective, stationarity and the sub-sampled gap of ``network`` on ``problem``.

    Parameters
    ----------
    problem : Problem
        Data, targets, lam (certify's scaling, see :mod:`certify.problem`) and bias flag.
    network : Network
        The trained network; must have ``b1`` iff ``problem.bias``.
    patterns : dict, optional
        A pattern scope ``{"D": (n, P) 0/1}`` or ``{"G": (d, P) gates}``; default: the
        network's own exact patterns.
    max_ties : int, default=12
        A neuron with more exact ties than this makes the own scope too large
        (``2**max_ties`` patterns per neuron); raises BudgetError.
    kink_tol : float, default=1e-6
        Relative tolerance of the near-kink diagnostics (not certified).
    progress : callable, optional
        Called as ``progress(done, total)`` while the blocks of the scope are bounded.
    global_opt : bool, default=False
        Also certify global optimality (:mod:`certify.global_opt`): a ``global_gap`` claim over
        all networks of any width when the data's arrangement has at most ``max_cells`` cells,
        and a ``not_optimal`` claim (a better network) where a violating direction is found.
    max_cells : int, default=100000
        Budget of the cell enumeration for ``global_opt``.
    global_progress : callable, optional
        Called as ``global_progress(stage, done, total)`` during the enumeration (stage
        ``"enumerating cells"``, in pieces) and the cell bounds (``"bounding cells"``).
    global_time : float, optional
        Seconds for the cell enumeration; when spent (or on Ctrl-C) the enumeration is partial,
        no ``global_gap`` claim is made and the numerical search runs instead.

    Returns
    -------
    VerificationResult
    """
    if not isinstance(max_ties, int) or not 0 <= max_ties <= MAX_TIES_LIMIT:
        raise InputError(f"The 'max_ties' argument of verify must be an integer in [0, {MAX_TIES_LIMIT}] "
                         f"(the checker's limit). Got {max_ties!r} instead.")
    ctx = exact_context(problem, network)
    X = problem.features
    W1 = network.weights(problem.bias)
    if patterns is None:
        try:
            scope, plist = own_scope_spec(ctx, max_ties)
        except ValueError as exc:
            raise BudgetError(str(exc)) from None
    else:
        scope, plist = given_scope_spec(ctx, given_pattern_strings(problem, patterns))
    claims = [objective_claim(ctx), stationarity_claim(ctx),
              gap_claim(ctx, X, scope, plist, progress)]
    goldstein = goldstein_claim_or_none(ctx, X, W1, network.w2, kink_tol)
    if goldstein is not None:
        claims.append(goldstein)
    summary = None
    if global_opt:
        extra, summary = global_claims(ctx, X, W1, max_cells=max_cells, progress=global_progress,
                                       time_budget=global_time)
        claims.extend(extra)
    diagnostics = {
        "certified": False,
        "near_kink": {"tolerance": kink_tol,
                      "rule": "|x_k^T W1_j| <= tol * ||x_k|| * ||W1_j|| (features with bias column)",
                      "neurons": near_kinks(X, W1, kink_tol)},
        "scope_patterns": len(plist),
        "exact_ties": len(ctx.ties),
    }
    if summary is not None:
        diagnostics["global"] = {"cell_estimate": summary.estimate, "enumerated": summary.enumerated,
                                 "cells": summary.cells, "completeness": summary.scheme,
                                 "searched": summary.searched, "notes": summary.lines}
    doc = certificate.build(problem, network.digest(), network.width, claims, diagnostics)
    gap = claims[2]
    return VerificationResult(
        doc, ctx.evaluation.objective, parse_rational(gap["lower_bound"]), parse_rational(gap["gap"]),
        parse_rational(claims[1]["grad_sq_bound"]), scope["kind"],
        None if goldstein is None else parse_rational(goldstein["grad_sq_bound"]),
        None if goldstein is None else parse_rational(goldstein["radius_sq"]), summary)
