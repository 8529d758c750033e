"""Check of *data certificates*: claims about the data (X, y) over a lam interval (proofs/path.md).

A data certificate is not about one network: its ``inputs`` name only the data
(``data_sha256``, ``n``, ``d``, ``bias``), and every network a claim speaks about is embedded
in the claim as exact values with its digest. Two claim types (theory.md §3, §6):

* ``eps_path``: over a pattern scope S and grid points ``lam_1 > ... > lam_K``
  (``lam_1 = lam_max`` and ``lam_K = lam_min`` of the claim), with networks ``theta_i`` and
  certified lower bounds ``L_i <= p*_S(lam_i)``: for every lam in ``[lam_min, lam_max]``
  the network named for lam's segment has ``NC_lam(theta) - p*_S(lam) <= eps`` (absolute) or
  ``<= eps * p*_S(lam)`` (relative).
* ``zero_optimal_above``: ``rho = y`` is dual feasible over S at ``threshold`` M, so the zero
  network is optimal over S for every ``lam >= M`` (``lam_max(S) <= M``).

The scope S is ``given`` (listed pattern strings with their digest) or ``global``: all activation
patterns, as the listed cells of the data's hyperplane arrangement (an integer interior witness
each) with the evidence that the list is complete. A global scope is verified once per claim
(:func:`certify.check.global_gap.verify_cell_list`: distinct cells, completeness by count or by
flips, classes and rank recomputed); the grid points are then checked over the cells' patterns
exactly as over a given scope. Over a complete cell list, p*_S is the optimum over all networks of
any width (proofs/global_gap.md), so both claims hold over all networks.

Checks of ``eps_path``:

1. the scope is ``given`` (listed patterns, digest, the caller's digest if supplied) or ``global``
   (verified complete; the caller may not supply a pattern digest);
2. the grid is strictly decreasing, starts at ``lam_max`` and ends at ``lam_min > 0``;
3. every grid point: the embedded network's values are binary64 numbers whose digest is the
   stated one, and its evidence ``(rho, mu)`` passes the sub-sampled gap check at ``lam_i``
   (:func:`certify.check.gap.check_gap`): ``dual_value_i <= p*_S(lam_i)``;
4. ``lower_bound_i <= max_{j >= i} dual_value_j`` (a dual point feasible at ``lam_j`` is
   feasible at every larger lam; p* is non-decreasing);
5. every segment ``[lam_{k+1}, lam_k]`` is cut by its ``breaks`` into pieces, each naming a grid
   network j; at both ends of every piece, ``NC_lam(theta_j) - c(lam) <= eps`` (or
   ``<= eps * c(lam)``), with c the chord through ``(lam_{k+1}, L_{k+1})`` and ``(lam_k, L_k)``.
   Both sides are affine in lam on a piece, so its ends decide it; concavity of p* puts p*
   above the chord.

Imports only the standard library, certify/check and certify/exact.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from certify.check.checker import (
    CHECKER_VERSION,
    _reject_all,
    _versions,
    check_header,
    open_document,
    run_claims,
)
from certify.check.fields import binary64, rational, require_keys
from certify.check.gap import check_gap
from certify.check.global_gap import verify_cell_list, witnesses
from certify.check.limits import PY, CheckLimits, LimitExceeded, WorkBudget
from certify.check.verdict import CheckReport, Reject
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.digest import data_digest, network_digest, patterns_digest
from certify.exact.rational import approx, format_rational

DATA_INPUT_KEYS = {"data_sha256", "n", "d", "bias"}
GRID_KEYS = {"lam", "network", "network_sha256", "dual_value", "lower_bound", "evidence"}
EPS_KINDS = ("absolute", "relative")


@dataclasses.dataclass(frozen=True)
class DataInputs:
    """The raw data a data certificate is checked against (plain Python floats)."""

    X: Sequence[Sequence[float]]
    y: Sequence[float]
    bias: bool
    n: int
    d: int


@dataclasses.dataclass(frozen=True)
class GridPoint:
    """Exact values of one checked grid point."""

    lam: Fraction
    loss: Fraction  # 1/2 ||f(X) - y||^2 of the embedded network
    squares: Fraction  # sum_j (||W1_j||^2 + w2_j^2), bias row included
    dual_value: Fraction  # <= p*_S(lam), checked
    lower_bound: Fraction

    def upper(self, lam: Fraction) -> Fraction:
        """``NC_lam`` of this grid point's network: affine in lam."""
        return self.loss + lam * self.squares / 2


def is_data_certificate(doc: object) -> bool:
    """True when the parsed document's inputs name no network (a data certificate)."""
    return (isinstance(doc, dict) and isinstance(doc.get("inputs"), dict)
            and "network_sha256" not in doc["inputs"])


# --------------------------------------------------------------------------------------------
# pieces


def _sub_budget(budget: WorkBudget) -> WorkBudget:
    """A fresh budget for one embedded network that continues the total of ``budget``."""
    sub = WorkBudget(budget.limits)
    sub.used = budget.used
    return sub


@dataclasses.dataclass(frozen=True)
class Scope:
    """The scope of a data claim, as the given pattern set its grid points are checked over.

    ``given`` is a given scope (``{"kind": "given", "patterns", "patterns_sha256"}``): the claim's own
    for kind ``given``; for kind ``global``, the patterns of its verified complete cell list.
    ``description`` says which, in words (for the verdict).
    """

    given: dict
    description: str


def _zero_context(data: DataInputs, lam: Fraction, extra: dict, what: str) -> ExactContext:
    """The exact data with the zero network (one neuron, all weights 0) at ``lam``, charged first."""
    extra["budget"].charge((data.n * (data.d + 2)) * PY, f"{what}: the exact data")
    return ExactContext(data.X, data.y, [[0.0] for _ in range(data.d)], [0.0], [0.0] if data.bias else None,
                        lam)


def _claim_scope(scope: object, data: DataInputs, extra: dict, ctx: ExactContext | None = None) -> Scope:
    """The scope of a claim: ``given`` as it is (its patterns are checked per grid point by ``check_gap``),
    or ``global``, verified here once (proofs/path.md, "The global scope")."""
    kind = scope.get("kind") if isinstance(scope, dict) else None
    if kind == "given":
        count = len(scope["patterns"]) if isinstance(scope.get("patterns"), list) else 0
        return Scope(scope, f"a given set of {count} patterns")
    if kind == "global":
        return _global_scope(scope, data, extra, ctx)
    raise Reject("scope must be a given pattern set ({'kind': 'given', ...}) or all activation patterns "
                 "({'kind': 'global', ...}): a claim over a lam interval is about one fixed scope, not the "
                 "patterns of any one network")


def _global_scope(scope: dict, data: DataInputs, extra: dict, ctx: ExactContext | None) -> Scope:
    """Verify a global scope: its witnesses are interior points of pairwise distinct cells of the data's
    arrangement (features with the ones column when ``bias``) and the list is complete (checks 1 and 2
    of proofs/global_gap.md, by :func:`certify.check.global_gap.verify_cell_list`); its
    ``patterns_sha256`` is the digest of the set of the cells' patterns."""
    limits, budget = extra["limits"], extra["budget"]
    require_keys(scope, {"kind", "cells", "completeness", "patterns_sha256"}, where="scope")
    if extra.get("patterns_sha256") is not None:
        raise Reject("the scope is all activation patterns (kind 'global', its cells listed and verified "
                     "complete), not the pattern set given to the checker: check it without --patterns")
    cells = scope["cells"]
    if not isinstance(cells, list) or not cells:
        raise Reject("scope.cells must be a non-empty list of cells")
    if ctx is None:  # only its exact features are used
        ctx = _zero_context(data, Fraction(1), extra, "the global scope")
    U = witnesses(cells, ctx.d, limits.max_digits, keys={"u"}, where="scope.cells")
    sub = _sub_budget(budget)
    try:
        listed = verify_cell_list(U, scope["completeness"], ctx, {"limits": limits, "budget": sub},
                                  where="scope.completeness")
    except LimitExceeded:
        raise
    except Reject as exc:
        raise Reject(f"global scope: {exc}") from None
    finally:
        budget.used = sub.used
    plist = [pattern_strings.encode(p) for p in listed.patterns]
    digest = patterns_digest(ctx.n, plist)
    if digest != scope["patterns_sha256"]:
        raise Reject(f"scope.patterns_sha256 does not match the patterns of the listed cells (recomputed "
                     f"{digest})")
    return Scope({"kind": "given", "patterns": plist, "patterns_sha256": digest},
                 f"all activation patterns: {len(plist)} cells of the arrangement of {listed.classes.count} "
                 f"hyperplanes of rank {listed.rank}, complete by {listed.scheme}")


def _float_vector(values: object, length: int, what: str, max_digits: int) -> list[float]:
    if not isinstance(values, list) or len(values) != length:
        raise Reject(f"{what} must be a list of {length} rationals")
    return [binary64(rational(v, f"{what}[{i}]", max_digits), f"{what}[{i}]") for i, v in enumerate(values)]


def embedded_network(obj: object, d: int, bias: bool, what: str, max_digits: int
                     ) -> tuple[list[list[float]], list[float], list[float] | None]:
    """``(W1 (d x m), w2, b1 or None)`` as floats from ``{"W1", "w2", "b1"}`` of exact rationals."""
    net = require_keys(obj, {"W1", "w2", "b1"}, where=what)
    rows = net["W1"]
    if not isinstance(rows, list) or len(rows) != d:
        raise Reject(f"{what}.W1 must be a list of d = {d} rows")
    w2_list = net["w2"]
    if not isinstance(w2_list, list) or not w2_list:
        raise Reject(f"{what}.w2 must be a non-empty list")
    m = len(w2_list)
    W1 = [_float_vector(row, m, f"{what}.W1[{i}]", max_digits) for i, row in enumerate(rows)]
    w2 = _float_vector(w2_list, m, f"{what}.w2", max_digits)
    if bias != (net["b1"] is not None):
        raise Reject(f"{what}.b1 must be {'a list' if bias else 'null'}: the certificate's bias is {bias}")
    b1 = _float_vector(net["b1"], m, f"{what}.b1", max_digits) if bias else None
    return W1, w2, b1


def _network_context(obj: dict, data: DataInputs, lam: Fraction, what: str, extra: dict) -> ExactContext:
    limits, budget = extra["limits"], extra["budget"]
    # the exact copy of the data made for each embedded network (its forward pass is charged later)
    budget.charge((data.n * (data.d + 2)) * PY, f"{what}: the exact data for its network")
    W1, w2, b1 = embedded_network(obj["network"], data.d, data.bias, f"{what}.network", limits.max_digits)
    digest = network_digest(W1, w2, b1)
    if digest != obj["network_sha256"]:
        raise Reject(f"{what}.network_sha256 does not match the embedded network (recomputed {digest})")
    return ExactContext(data.X, data.y, W1, w2, b1, lam)


def _run_gap(ctx: ExactContext, scope: dict, lower: str, evidence: object, extra: dict, what: str
             ) -> None:
    """The sub-sampled gap check (proofs/subsampled_gap.md) of ``lower <= p*_S(ctx.lam)``."""
    limits, budget = extra["limits"], extra["budget"]
    sub = _sub_budget(budget)
    sub.forward(ctx)
    gap = ctx.evaluation.objective - rational(lower, f"{what}.lower", limits.max_digits)
    claim = {"id": what, "type": "subsampled_gap", "scope": scope, "lower_bound": lower,
             "gap": format_rational(gap), "evidence": evidence}
    try:
        check_gap(claim, ctx, {"patterns_sha256": extra.get("patterns_sha256"), "limits": limits,
                               "budget": sub})
    except LimitExceeded:
        raise
    except Reject as exc:
        raise Reject(f"{what}: {exc}") from None
    finally:
        budget.used = sub.used


def _grid_point(obj: object, i: int, scope: dict, data: DataInputs, extra: dict) -> GridPoint:
    limits = extra["limits"]
    what = f"grid[{i}]"
    pt = require_keys(obj, GRID_KEYS, where=what)
    lam = rational(pt["lam"], f"{what}.lam", limits.max_digits)
    if lam <= 0:
        raise Reject(f"{what}.lam must be positive")
    ctx = _network_context(pt, data, lam, what, extra)
    _run_gap(ctx, scope, pt["dual_value"], pt["evidence"], extra, what)
    ev = ctx.evaluation
    return GridPoint(lam, ev.loss, 2 * ev.penalty / lam,
                     rational(pt["dual_value"], f"{what}.dual_value", limits.max_digits),
                     rational(pt["lower_bound"], f"{what}.lower_bound", limits.max_digits))


def _segment_pieces(seg: object, k: int, K: int, max_digits: int) -> tuple[list[int], list[Fraction]]:
    """``(networks, breaks)`` of ``segments[k]``: networks named from the top of the segment down,
    switching at the breaks (strictly decreasing, strictly inside the segment: checked later)."""
    obj = require_keys(seg, {"networks", "breaks"}, where=f"segments[{k}]")
    networks, breaks = obj["networks"], obj["breaks"]
    if not isinstance(networks, list) or not networks or not isinstance(breaks, list) \
            or len(breaks) != len(networks) - 1:
        raise Reject(f"segments[{k}] must list r >= 1 networks and r - 1 breaks")
    for j in networks:
        if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < K:
            raise Reject(f"segments[{k}].networks must be grid indices in [0, {K})")
    return networks, [rational(b, f"segments[{k}].breaks", max_digits) for b in breaks]


def chord(lo: GridPoint, hi: GridPoint, lam: Fraction) -> Fraction:
    """The chord of the lower bounds through ``(lo.lam, lo.L)`` and ``(hi.lam, hi.L)`` at lam."""
    t = (lam - lo.lam) / (hi.lam - lo.lam)
    return lo.lower_bound + t * (hi.lower_bound - lo.lower_bound)


def allowed(eps: Fraction, relative: bool, lower: Fraction) -> Fraction:
    """The largest ``NC - lower`` the claim allows where the lower envelope is ``lower``."""
    return eps * lower if relative else eps


# --------------------------------------------------------------------------------------------
# claims


def check_eps_path(claim: dict, data: DataInputs, extra: dict) -> dict:
    """Check an ``eps_path`` claim (module docstring, proofs/path.md)."""
    limits = extra["limits"]
    require_keys(claim, {"id", "type", "scope", "lam_min", "lam_max", "eps", "eps_kind", "grid",
                         "segments"})
    lam_min = rational(claim["lam_min"], "lam_min", limits.max_digits)
    lam_max = rational(claim["lam_max"], "lam_max", limits.max_digits)
    eps = rational(claim["eps"], "eps", limits.max_digits)
    if claim["eps_kind"] not in EPS_KINDS:
        raise Reject(f"eps_kind must be one of {EPS_KINDS}")
    relative = claim["eps_kind"] == "relative"
    if eps < 0:
        raise Reject("eps must be non-negative")
    if not 0 < lam_min < lam_max:
        raise Reject("the interval must satisfy 0 < lam_min < lam_max")
    grid, segments = claim["grid"], claim["segments"]
    if not isinstance(grid, list) or len(grid) < 2:
        raise Reject("grid must list at least two points (lam_max and lam_min)")
    if not isinstance(segments, list) or len(segments) != len(grid) - 1:
        raise Reject(f"segments must name the networks of every segment: {len(grid) - 1} entries")
    K = len(grid)
    pieces = [_segment_pieces(seg, k, K, limits.max_digits) for k, seg in enumerate(segments)]
    # the grid's lam values first (cheap), then the exact work per point
    lams = [rational(pt.get("lam") if isinstance(pt, dict) else None, f"grid[{i}].lam", limits.max_digits)
            for i, pt in enumerate(grid)]
    if lams[0] != lam_max:
        raise Reject(f"grid[0].lam = {approx(lams[0])} is not lam_max = {approx(lam_max)}: the grid must "
                     f"cover the whole interval")
    if lams[-1] != lam_min:
        raise Reject(f"grid[{K - 1}].lam = {approx(lams[-1])} is not lam_min = {approx(lam_min)}: the grid "
                     f"must cover the whole interval")
    for i in range(K - 1):
        if not lams[i] > lams[i + 1]:
            raise Reject(f"grid lam values must be strictly decreasing (grid[{i}] and grid[{i + 1}])")
    scope = _claim_scope(claim["scope"], data, extra)  # a global scope is verified once, here
    points = [_grid_point(pt, i, scope.given, data, extra) for i, pt in enumerate(grid)]
    best = None
    for i in range(K - 1, -1, -1):  # running maximum of the dual values from the small-lam end
        best = points[i].dual_value if best is None or points[i].dual_value > best else best
        if points[i].lower_bound > best:
            raise Reject(f"grid[{i}].lower_bound {approx(points[i].lower_bound)} exceeds the largest "
                         f"certified dual value at lam <= grid[{i}].lam ({approx(best)})")
    worst = None
    for k, (networks, breaks) in enumerate(pieces):
        hi, lo = points[k], points[k + 1]
        ends = [hi.lam, *breaks, lo.lam]
        for t, j in enumerate(networks):
            if not ends[t] > ends[t + 1]:
                raise Reject(f"segments[{k}].breaks must decrease strictly inside ({approx(lo.lam)}, "
                             f"{approx(hi.lam)})")
            for lam in (ends[t], ends[t + 1]):
                low = chord(lo, hi, lam)
                excess = points[j].upper(lam) - low
                if excess > allowed(eps, relative, low):
                    kind = f"{approx(eps)} * lower envelope" if relative else approx(eps)
                    raise Reject(f"segment {k} [{approx(lo.lam)}, {approx(hi.lam)}], network grid[{j}]: "
                                 f"at lam = {approx(lam)}, NC - lower envelope = {approx(excess)} exceeds "
                                 f"{kind}")
                ratio = excess / low if relative and low > 0 else excess
                worst = ratio if worst is None or ratio > worst else worst
    return {"points": K, "lam_min": format_rational(lam_min), "lam_max": format_rational(lam_max),
            "worst": approx(worst), "eps_kind": claim["eps_kind"], "scope_description": scope.description}


def check_zero_optimal_above(claim: dict, data: DataInputs, extra: dict) -> dict:
    """Check ``zero_optimal_above``: ``rho = y`` dual feasible over the scope at ``threshold``."""
    limits = extra["limits"]
    require_keys(claim, {"id", "type", "scope", "threshold", "evidence"})
    threshold = rational(claim["threshold"], "threshold", limits.max_digits)
    if threshold <= 0:
        raise Reject("threshold must be positive")
    ev = require_keys(claim["evidence"], {"den", "rho", "blocks"}, where="evidence")
    ctx = _zero_context(data, threshold, extra, "zero_optimal_above")
    den = rational(ev["den"], "evidence.den", limits.max_digits)
    rho = ev["rho"]
    if not isinstance(rho, list) or len(rho) != ctx.n:
        raise Reject(f"evidence.rho must list n = {ctx.n} integers")
    y_num, y_shift = [int(v) for v in ctx.y.mat.entries()], ctx.y.shift
    for k, v in enumerate(rho):
        if rational(v, f"evidence.rho[{k}]", limits.max_digits) * (1 << y_shift) != y_num[k] * den:
            raise Reject(f"evidence.rho[{k}] / den is not y[{k}]: the dual point must be y itself")
    objective = ctx.evaluation.objective  # 1/2 ||y||^2, the NC of the zero network
    scope = _claim_scope(claim["scope"], data, extra, ctx)
    _run_gap(ctx, scope.given, format_rational(objective), ev, extra, "zero_optimal_above")
    return {"threshold": format_rational(threshold), "zero_objective": format_rational(objective),
            "scope_description": scope.description}


#: Claim type -> check function of a data certificate. A type absent from this table is rejected.
DATA_CHECKS: dict[str, Callable[[dict, DataInputs, dict], dict]] = {
    "eps_path": check_eps_path,
    "zero_optimal_above": check_zero_optimal_above,
}


# --------------------------------------------------------------------------------------------
# the document


def _check_header(doc: dict) -> dict:
    return check_header(doc, DATA_INPUT_KEYS, ("n", "d"))


def _data_problem(X, y) -> str | None:
    n = len(X)
    d = len(X[0]) if n else 0
    if n == 0 or d == 0:
        return "X must be non-empty"
    if any(len(row) != d for row in X) or len(y) != n:
        return f"X must be {n} x {d} and y must have {n} entries"
    values = [v for row in X for v in row] + list(y)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return "every entry must be a finite number"
    return None


def check_data_certificate(document: str | bytes | dict, X: Sequence[Sequence[float]], y: Sequence[float],
                           patterns_sha256: str | None = None, limits: CheckLimits | None = None
                           ) -> CheckReport:
    """Check every claim of a data certificate (no network input) against the data.

    Never raises on a bad document: whatever the certificate says, the answer is a report.

    Parameters
    ----------
    document : str, bytes or dict
        JSON text or a parsed document whose ``inputs`` are ``data_sha256``, ``n``, ``d``, ``bias``.
    X, y : rows of floats (no bias column) and a list of floats
        The raw data and targets.
    patterns_sha256 : str or None, default=None
        Digest of a pattern set the caller supplies; every claim's scope must match it.
    limits : CheckLimits, default=CheckLimits()
        Resource limits (:mod:`certify.check.limits`).

    Returns
    -------
    CheckReport
        One verdict per claim; ``accepted`` iff all are accepted.
    """
    limits = CheckLimits() if limits is None else limits
    opened = open_document(document, limits, _check_header)
    if isinstance(opened, CheckReport):
        return opened
    doc, inputs = opened
    claims = doc["claims"]
    problem = _data_problem(X, y)
    if problem:
        return _reject_all(claims, f"inputs are malformed: {problem}")
    if data_digest(X, y) != inputs["data_sha256"]:
        return _reject_all(claims, "data digest mismatch: the certificate is about other data (X, y)")
    shape = (len(X), len(X[0]))
    if (inputs["n"], inputs["d"]) != shape:
        return _reject_all(claims, f"inputs.n/d do not match the data's shape {shape}")
    data = DataInputs(X, y, inputs["bias"], *shape)
    budget = WorkBudget(limits)
    extra = {"patterns_sha256": patterns_sha256, "limits": limits, "budget": budget}
    verdicts = run_claims(claims, DATA_CHECKS, data, extra, kind=" for a data certificate")
    return CheckReport(verdicts, CHECKER_VERSION, _versions(),
                       {"work": budget.used, "limits": dataclasses.asdict(limits)})
