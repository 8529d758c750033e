"""Global optimality of a network: a certified gap over all networks, or a better network.

:func:`global_claims` decides what can be certified (issue 12):

* when the arrangement of the data has at most ``max_cells`` cells (the estimate
  ``2 sum_{k<r} C(h - 1, k)``, ``h`` distinct hyperplanes, ``r = rank X``), every cell is
  enumerated (:mod:`certify.patterns.arrangement`) and a ``global_gap`` claim bounds
  ``NC(theta) - inf NC`` over all networks of any width; if the residual violates the dual
  constraint in some cell, a ``not_optimal`` claim adds one neuron along that cell's maximizer;
* otherwise (or when the enumeration is interrupted) a numerical search for a violating
  direction runs instead: a direction found gives a ``not_optimal`` claim (checked exactly);
  none found proves nothing, and the summary says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from certify.certificates.global_gap import global_gap_claim
from certify.certificates.not_optimal import not_optimal_claim, search_violation
from certify.exact.context import ExactContext
from certify.patterns.arrangement import describe, enumerate_cells

DEFAULT_MAX_CELLS = 100_000
"""Default budget of ``verify --global``: enumerate when the arrangement has at most this many cells."""


@dataclass
class GlobalSummary:
    """What the global step did (for the report; the claims carry the certified facts).

    Attributes
    ----------
    estimate : the cell bound ``2 sum_{k<r} C(h - 1, k)``.
    enumerated : whether a complete enumeration was done; cells, scheme, seconds: its figures.
    searched : whether the numerical search ran; search_violation: its best ``s<r,(Xu)_+> - lam``.
    lines : plain-language sentences.
    """

    estimate: int
    enumerated: bool = False
    cells: int = 0
    scheme: str = ""
    seconds: float = 0.0
    searched: bool = False
    search_violation: float | None = None
    lines: list[str] = field(default_factory=list)


def _stage(progress, stage: str):
    return None if progress is None else (lambda done, total: progress(stage, done, total))


def global_claims(ctx: ExactContext, X: np.ndarray, W1: np.ndarray, max_cells: int = DEFAULT_MAX_CELLS,
                  time_budget: float | None = None, progress: Callable[[str, int, int], None] | None = None,
                  search_starts: int = 256, seed: int = 0) -> tuple[list[dict], GlobalSummary]:
    """Global claims for the network of ``ctx`` (see module docstring).

    Parameters
    ----------
    ctx : exact context (data, network, lam); ``X`` its float features (bias column included) and
        ``W1`` the network's first-layer weights over them (d, m).
    max_cells : enumerate only when the cell estimate is at most this.
    time_budget : seconds for the enumeration (then partial: search instead).
    progress : ``progress(stage, done, total)`` during the enumeration (stage ``"enumerating cells"``,
        counted in pieces) and the bounds (``"bounding cells"``).
    search_starts, seed : the numerical search (random starts besides data rows and neurons).

    Returns
    -------
    (claims, summary)
    """
    arr = describe(X)
    summary = GlobalSummary(arr.bound)
    claims: list[dict] = []
    if arr.bound <= max_cells:
        enum = enumerate_cells(X, max_cells=max_cells, time_budget=time_budget,
                               progress=_stage(progress, "enumerating cells"))
        summary.seconds = enum.seconds
        if enum.complete:
            summary.enumerated, summary.cells, summary.scheme = True, enum.count, enum.scheme
            bound = global_gap_claim(ctx, X, enum, _stage(progress, "bounding cells"))
            claims.append(bound.claim)
            summary.lines.append(f"global: all {enum.count} activation cells enumerated (completeness by "
                                 f"{enum.scheme}); the gap to the optimum over all networks of any width "
                                 "is certified")
            if bound.worst_ratio > 1:
                claim = not_optimal_claim(ctx, X, bound.direction, bound.worst_sign)
                if claim is not None:
                    claims.append(claim)
                    summary.lines.append("global: the residual violates the dual constraint in some cell; a "
                                         "network with one more neuron and exactly smaller NC is certified")
            return claims, summary
        summary.lines.append(f"global: enumeration incomplete ({enum.message}); searching numerically "
                             "instead")
    else:
        summary.lines.append(f"global: the data's arrangement may have up to {arr.bound} activation cells "
                             f"(2 sum_(k<{arr.rank}) C({arr.hyperplanes - 1}, k)), over the budget of "
                             f"{max_cells}; no global gap certificate. Searching numerically for a "
                             "violating direction instead")
    r = np.array([float(v) for v in ctx.evaluation.residual()])
    found = search_violation(X, r, float(ctx.lam), W1, starts=search_starts, seed=seed)
    summary.searched = True
    summary.search_violation = found.violation
    claim = not_optimal_claim(ctx, X, found.direction, found.sign) if found.violation > 0 else None
    if claim is not None:
        claims.append(claim)
        summary.lines.append("global: the search found a violating direction; a network with one more "
                             "neuron and exactly smaller NC is certified: the network is NOT globally "
                             "optimal")
    else:
        summary.lines.append(f"global: no violating direction found from {found.starts} starts (best "
                             f"s<r,(Xu)_+> - lam = {found.violation:.3g}). This proves NOTHING about global "
                             "optimality")
    return claims, summary
