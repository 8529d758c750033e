"""Certified eps-paths over ALL activation patterns (theory.md §3, §6; proofs/path.md, "The global scope").

The scope of :func:`certify.certified_path.certify_path` is one pattern set S for the whole
interval. Here S is every cell of the hyperplane arrangement of the data (the features, with the
ones column when ``bias``), enumerated by :func:`certify.patterns.arrangement.enumerate_cells`
together with the evidence that the list is complete. The closures of the cells cover R^d
(proofs/global_gap.md, Lemma 1), so the convex program over S has the optimum over all two-layer
ReLU networks of any width; the certificate's claims are then about that optimum:

* ``eps_path``: for every lam in [lam_min, lam_max], the named grid network is within eps of the
  optimum over all networks of any width;
* ``zero_optimal_above``: the zero network is optimal among all networks of any width for every
  lam >= threshold, an upper bound of lam_max over all activation patterns.

Both claims carry the scope ``{"kind": "global", "cells": [{"u": witness}], "completeness",
"patterns_sha256"}``; ``certify check`` verifies the cell list once per claim and every grid
point over the cells' patterns. Scaling: certify's (``1/2 ||f(X) - y||^2 + (lam/2) sum_j
(||W1_j||^2 + w2_j^2)``, bias as a regularized ones column).

Cost: a cell list of P cells makes every grid point a program of 2P blocks (and 2P one-cone
bounds to certify), so the number of cells is budgeted (``max_cells``); the estimate
``2 sum_{k<r} C(h - 1, k)`` (h distinct hyperplanes, r = rank) is compared with it before any
work is done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from certify.certified_path import DEFAULT_INITIAL, DEFAULT_MAX_POINTS, CertifiedPath, Progress, certify_path
from certify.errors import BudgetError, CertifyError
from certify.exact import arrangement as exact_arrangement
from certify.exact import patterns as pattern_strings
from certify.exact.digest import patterns_digest
from certify.exact.dyadic import DyadicMatrix
from certify.exact.rational import int_to_str
from certify.patterns.arrangement import describe, enumerate_cells
from certify.problem import with_bias_column
from certify.solve.working_set import SolverOptions

DEFAULT_MAX_CELLS = 5_000
"""Default cell budget of a global path (each grid point certifies a bound on every cell and sign)."""


@dataclass(frozen=True)
class GlobalScope:
    """Every cell of the data's arrangement, as a pattern scope with its certificate object.

    Attributes
    ----------
    D : (n, P) uint8
        The cells' activation patterns (exact signs of the integer witnesses), in the order of the cells.
    patterns : list of str
        The same as pattern strings.
    scope : dict
        ``{"kind": "global", "cells", "completeness", "patterns_sha256"}`` for the claims.
    scheme : str
        Completeness scheme, ``"count"`` or ``"flips"``.
    hyperplanes, rank : int
        Distinct hyperplanes of the data and the exact rank of the features.
    seconds : float
        Wall time of the enumeration.
    """

    D: np.ndarray
    patterns: list[str]
    scope: dict
    scheme: str
    hyperplanes: int
    rank: int
    seconds: float

    @property
    def cells(self) -> int:
        return len(self.patterns)

    def describe(self) -> str:
        """One line: the scope in words."""
        return (f"all activation patterns: {self.cells} cells of the arrangement of {self.hyperplanes} "
                f"hyperplanes of rank {self.rank}, complete by {self.scheme}")


def global_scope(features: np.ndarray, max_cells: int = DEFAULT_MAX_CELLS, time_budget: float | None = None,
                 progress: Progress | None = None) -> GlobalScope:
    """Enumerate every cell of the arrangement of the rows of ``features`` (bias column included).

    Raises
    ------
    BudgetError
        The estimate ``2 sum_{k<r} C(h - 1, k)`` exceeds ``max_cells`` (checked before any enumeration),
        or the enumeration stopped before it was complete (time budget, degenerate data too large for
        the flip search, interruption).
    """
    features = np.asarray(features, dtype=float)
    n = features.shape[0]
    arr = describe(features)
    if arr.bound > max_cells:
        raise BudgetError(
            f"--global: the data's hyperplane arrangement may have up to {arr.bound} activation cells "
            f"(2 sum_(k<{arr.rank}) C({arr.hyperplanes - 1}, k): {arr.hyperplanes} distinct hyperplanes, "
            f"rank {arr.rank}), over the budget of max_cells = {max_cells}; raise it (--max-cells "
            f"{arr.bound}: every grid point then certifies a bound on each cell) or certify the path over a "
            "given pattern scope (--patterns or --gates)")
    stage = None if progress is None else (lambda done, total: progress("enumerating cells", done, total))
    enum = enumerate_cells(features, max_cells=max_cells, time_budget=time_budget, progress=stage)
    if not enum.complete:
        raise BudgetError(f"--global: the enumeration of the activation cells did not complete "
                          f"({enum.message}); no certificate over all patterns")
    # the patterns the checker will derive: exact signs of the integer witnesses
    Xd = DyadicMatrix.from_rows(features.tolist())
    zero = [not any(row) for row in Xd.rows()]
    codes, _ = exact_arrangement.patterns_of_witnesses(Xd.mat, zero, enum.witnesses)
    plist = [pattern_strings.encode(c) for c in codes]
    if len(set(plist)) != len(plist):
        raise CertifyError("internal error: two witnesses of the enumeration lie in the same cell")
    D = np.array([list(c) for c in codes], dtype=np.uint8).reshape(len(codes), n).T
    completeness = enum.completeness_evidence()
    scope = {"kind": "global", "cells": [{"u": [int_to_str(v) for v in u]} for u in enum.witnesses],
             "completeness": completeness, "patterns_sha256": patterns_digest(n, plist)}
    arr = enum.arrangement
    return GlobalScope(np.ascontiguousarray(D), plist, scope, enum.scheme, arr.hyperplanes, arr.rank,
                       enum.seconds)


def certify_global_path(X: np.ndarray, y: np.ndarray, lam_min: object, lam_max: object, eps: object,
                        relative: bool = False, bias: bool = False, options: SolverOptions | None = None,
                        initial: int = DEFAULT_INITIAL, max_points: int = DEFAULT_MAX_POINTS,
                        max_cells: int = DEFAULT_MAX_CELLS, time_budget: float | None = None,
                        warm: bool = True, progress: Progress | None = None
                        ) -> tuple[CertifiedPath, GlobalScope]:
    """A certified eps-path over ``[lam_min, lam_max]`` over ALL activation patterns.

    Parameters
    ----------
    X : ndarray (n, d)
        Raw features, without a bias column.
    y : ndarray (n,)
        Targets.
    lam_min, lam_max, eps, relative, bias, options, initial, max_points, warm, progress
        As for :func:`certify.certified_path.certify_path` (certify's scaling, exact lam and eps).
    max_cells : int, default=5000
        Budget: BudgetError (before any work) when the arrangement may have more cells.
    time_budget : float, optional
        Seconds for the enumeration of the cells (BudgetError when it does not complete in time).

    Returns
    -------
    (CertifiedPath, GlobalScope)
        The path (its claims carry the global scope) and the cell list.

    Raises
    ------
    InputError
        Malformed data or interval; eps <= 0.
    BudgetError
        Too many cells (estimate above ``max_cells``), an incomplete enumeration, or more than
        ``max_points`` grid points.
    CertifyError
        The solver is not accurate enough for eps at some grid point.
    """
    from certify.certified_path import _check_inputs
    from certify.io.validate import check_data

    _check_inputs(lam_min, lam_max, eps)  # input errors before the enumeration
    X, y = check_data(X, y)
    if max_cells < 1:
        raise BudgetError(f"max_cells must be at least 1, got {max_cells}")
    features = with_bias_column(X, bias)
    start = time.perf_counter()
    cells = global_scope(features, max_cells, time_budget, progress)
    result = certify_path(X, y, cells.D, lam_min, lam_max, eps, relative=relative, bias=bias, options=options,
                          initial=initial, max_points=max_points, warm=warm, progress=progress,
                          scope=cells.scope)
    result.document["diagnostics"]["scope"] = {
        "kind": "global", "cells": cells.cells, "completeness": cells.scheme,
        "hyperplanes": cells.hyperplanes, "rank": cells.rank,
        "note": "all activation patterns: the listed cells of the data's arrangement, verified complete by "
                "the checker; the claims are about the optimum over all networks of any width"}
    result.seconds["enumeration"] = cells.seconds
    result.seconds["total"] = time.perf_counter() - start
    return result, cells
