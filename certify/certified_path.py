"""Certified eps-paths over a whole lam interval (theory.md §3, §6; proofs/path.md).

Scaling (certify's convention, theory.md §1): ``NC_lam(theta) = 1/2 ||f(X) - y||^2 +
(lam/2) sum_j (||W1_j||^2 + w2_j^2)``, a first-layer bias as a regularized ones column. The
scope is one given pattern set S for the whole interval; ``p*_S(lam)`` is the optimum of the
C-ReLU over S (both signs of every pattern).

:func:`certify_path` solves the C-ReLU over S on a decreasing grid of lam (warm starts from
the neighbouring grid point), maps every solution to a balanced network, certifies a dual lower
bound at every grid point exactly (the sub-sampled gap evidence), and refines the grid where
the certified band is too wide: a segment whose best endpoint network exceeds eps above the
chord of the lower bounds gets its geometric midpoint. It stops when every segment passes.
The result is a data certificate with an ``eps_path`` claim (and ``zero_optimal_above``),
checked by ``certify check CERT --data D`` (no --model: the networks are embedded).

Tolerances: ``eps`` is exact (a rational). ``relative`` means ``NC - p* <= eps * p*``. The
solver's own tolerance (``SolverOptions.gap_tol``, relative) must be well below eps, or the
grid cannot pass at a point whatever its spacing (:class:`certify.errors.CertifyError`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from certify.certificates.path import (
    GridEntry,
    Segment,
    choose_networks,
    choose_segment,
    data_document,
    eps_path_claim,
    grid_entry,
    lower_bounds,
    zero_above_claim,
)
from certify.convex.mapping import blocks_to_network
from certify.errors import BudgetError, CertifyError, InputError
from certify.exact.digest import data_digest, patterns_digest
from certify.exact.rational import approx
from certify.network import Network
from certify.problem import with_bias_column
from certify.solve.working_set import Solution, SolverOptions, solve

DEFAULT_MAX_POINTS = 400
DEFAULT_INITIAL = 3

#: Progress callback ``(stage, done, total)``.
Progress = Callable[[str, int, int], None]


@dataclass
class CertifiedPath:
    """Result of :func:`certify_path`.

    Attributes
    ----------
    document : dict
        The data certificate (``eps_path`` and ``zero_optimal_above`` claims).
    entries : list of GridEntry
        Grid points by decreasing lam, with networks and exact values.
    segments : list of Segment
        Per segment ``[lam_{k+1}, lam_k]``, the grid networks named on it (and where they switch).
    lower : list of Fraction
        Certified lower bounds ``L_k <= p*_S(lam_k)``.
    threshold : Fraction
        ``lam_max(S) <= threshold``: the zero network is optimal over S for every lam above it.
    solves : int
        Number of convex solves (refinement included).
    rounds : int
        Refinement rounds.
    seconds : dict
        Wall time of the solves (``"solve"``), of the exact certification (``"exact"``), total.
    """

    document: dict
    entries: list[GridEntry]
    segments: list[Segment]
    lower: list[Fraction]
    threshold: Fraction
    eps: Fraction
    relative: bool
    solves: int = 0
    rounds: int = 0
    seconds: dict = field(default_factory=dict)

    @property
    def points(self) -> int:
        return len(self.entries)


def _network(sol: Solution, bias: bool) -> Network:
    b = sol.blocks(1e-12)
    if b.count == 0:
        return blocks_to_network(np.zeros((sol.U.shape[0], 1)), np.ones(1, int), bias=bias)
    return blocks_to_network(b.weights, b.signs, bias=bias)


class _Grid:
    """Solved and certified grid points keyed by lam (Fraction)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, bias: bool, D: np.ndarray, pattern_list: list[str],
                 scope: dict, options: SolverOptions | None, warm: bool = True, exact: bool = True) -> None:
        self.X_raw, self.y_list = X.tolist(), y.tolist()
        self.features = with_bias_column(X, bias)
        self.y, self.bias, self.D = y, bias, D
        self.pattern_list, self.scope = pattern_list, scope
        self.options, self.warm, self.exact = options, warm, exact
        self.points: dict[Fraction, tuple[GridEntry, Solution]] = {}
        self.solves = 0
        self.seconds = {"solve": 0.0, "exact": 0.0}

    def add(self, lam: Fraction, warm_from: Fraction | None) -> None:
        start = None
        if self.warm and warm_from is not None and warm_from in self.points:
            start = self.points[warm_from][1].warm_start()
        t0 = time.perf_counter()
        sol = solve(self.features, self.y, float(lam), self.D, options=self.options, warm_start=start)
        t1 = time.perf_counter()
        self.solves += 1
        net = _network(sol, self.bias)
        if self.exact:
            entry = grid_entry(self.X_raw, self.y_list, self.features, net, lam, self.scope,
                               self.pattern_list)
        else:
            entry = _float_entry(self.features, self.y, net, lam, sol)
        self.seconds["solve"] += t1 - t0
        self.seconds["exact"] += time.perf_counter() - t1
        self.points[lam] = (entry, sol)

    def entries(self) -> list[GridEntry]:
        return [self.points[lam][0] for lam in sorted(self.points, reverse=True)]


def _float_entry(features: np.ndarray, y: np.ndarray, net: Network, lam: Fraction, sol: Solution
                 ) -> GridEntry:
    """A grid entry from floats only (NOT certified): for searching grid sizes cheaply."""
    W = net.W1 if net.b1 is None else np.vstack([net.W1, net.b1[None, :]])
    fit = np.maximum(features @ W, 0.0) @ net.w2
    loss = Fraction(0.5 * float(np.sum((fit - y) ** 2)))
    squares = Fraction(float(np.sum(W * W) + np.sum(net.w2 * net.w2)))
    return GridEntry(lam, net, loss, squares, Fraction(float(sol.dual_value)), {})


def geometric_grid(lam_min: Fraction, lam_max: Fraction, count: int) -> list[Fraction]:
    """``count >= 2`` lam values from lam_max down to lam_min, geometrically spaced.

    The endpoints are exact; interior points are the binary64 values of the geometric grid
    (as exact rationals), kept strictly inside the interval and distinct.
    """
    lo, hi = float(lam_min), float(lam_max)
    inner = [Fraction(v) for v in np.geomspace(hi, lo, count)[1:-1].tolist()]
    out = [lam_max] + [v for v in inner if lam_min < v < lam_max] + [lam_min]
    return sorted(set(out), reverse=True)


def _pieces_needed(seg: Segment, lower: Fraction, eps: Fraction, relative: bool) -> int:
    """How many pieces a failing segment should be cut into: the band of a segment of width h
    shrinks like h^2 (p* is smooth between kinks), so a band ``r`` times too wide needs about
    ``sqrt(r)`` pieces (at least 2, at most 8 per round; the next round corrects the estimate,
    and :func:`thin` takes back points that were not needed)."""
    allowed = eps * lower if relative else eps
    if allowed <= 0:
        return 2
    r = float((seg.excess + allowed) / allowed)
    return int(min(8, max(2, np.ceil(np.sqrt(max(r, 1.0))))))


def _cuts(lo: Fraction, hi: Fraction, pieces: int) -> list[Fraction]:
    """``pieces - 1`` binary64 points strictly inside (lo, hi), geometrically spaced (or fewer)."""
    inner = np.geomspace(float(lo), float(hi), pieces + 1)[1:-1]
    out = sorted({Fraction(float(v)) for v in inner if lo < Fraction(float(v)) < hi})
    if not out:
        mid = Fraction(float((lo + hi) / 2))
        out = [mid] if lo < mid < hi else []
    return out


def _check_inputs(lam_min: object, lam_max: object, eps: object) -> tuple[Fraction, Fraction, Fraction]:
    from certify.exact.rational import parse_user_rational

    a = parse_user_rational(lam_min, "lam_min")
    b = parse_user_rational(lam_max, "lam_max")
    e = parse_user_rational(eps, "eps")
    if a <= 0:
        raise InputError(f"lam_min must be > 0, got {approx(a)}")
    if not a < b:
        raise InputError(f"lam_min must be below lam_max, got [{approx(a)}, {approx(b)}]")
    if e <= 0:
        raise InputError(f"eps must be > 0, got {approx(e)}")
    return a, b, e


def _pattern_strings(D: np.ndarray) -> list[str]:
    from certify.exact import patterns as pattern_strings

    cols = [pattern_strings.encode(D[:, p].tolist()) for p in range(D.shape[1])]
    return list(dict.fromkeys(cols))


def _own_gap_problem(entries: list[GridEntry], L: list[Fraction], eps: Fraction, relative: bool
                     ) -> str | None:
    for k, e in enumerate(entries):
        gap = e.upper(e.lam) - L[k]
        if gap > (eps * L[k] if relative else eps):
            return (f"at grid point lam = {approx(e.lam)} the certified gap of the solved network is "
                    f"{approx(gap)}, above eps (times the lower bound {approx(L[k])} if relative): the "
                    f"solver is not accurate enough for this eps; tighten SolverOptions(gap_tol=...) or "
                    f"raise eps")
    return None


def certify_grid(grid: _Grid, lams: list[Fraction], eps: Fraction, relative: bool,
                 progress: Progress | None = None) -> tuple[list[GridEntry], list[Segment]]:
    """Solve every lam of ``lams`` (decreasing, warm-started); return the entries and the chosen
    networks per segment (``excess <= 0`` where the segment passes)."""
    prev = None
    for i, lam in enumerate(sorted(lams, reverse=True)):
        if lam not in grid.points:
            grid.add(lam, prev)
        prev = lam
        if progress is not None:
            progress("grid points", i + 1, len(lams))
    entries = grid.entries()
    return entries, choose_networks(entries, eps, relative)


def certify_path(X: np.ndarray, y: np.ndarray, D: np.ndarray, lam_min: object, lam_max: object,
                 eps: object, relative: bool = False, bias: bool = False,
                 options: SolverOptions | None = None, initial: int = DEFAULT_INITIAL,
                 max_points: int = DEFAULT_MAX_POINTS, warm: bool = True,
                 progress: Progress | None = None, scope: dict | None = None) -> CertifiedPath:
    """A certified eps-path over ``[lam_min, lam_max]`` for the pattern scope ``D``.

    Parameters
    ----------
    X : ndarray (n, d)
        Raw features, without a bias column.
    y : ndarray (n,)
        Targets.
    D : ndarray (n, P) of 0/1
        The pattern scope S (over the features with the ones column when ``bias``).
    lam_min, lam_max : str, int, Fraction or float
        The interval, ``0 < lam_min < lam_max``, read exactly ('0.1' is 1/10), certify's scaling.
    eps : str, int, Fraction or float
        Tolerance, > 0: absolute (``NC - p* <= eps``) or, with ``relative``, ``NC - p* <= eps p*``.
    relative : bool, default=False
    bias : bool, default=False
        First-layer bias as a regularized ones column.
    options : SolverOptions, optional
        Tolerances of every solve (default relative gap 1e-8: enough for relative eps >= ~1e-6).
    initial : int, default=3
        Points of the starting geometric grid (endpoints included).
    max_points : int, default=400
        Budget: BudgetError if the grid would need more points.
    warm : bool, default=True
        Warm-start every solve from its larger-lam neighbour (False: cold solves, for benchmarks).
    progress : callable ``(stage, done, total)``, optional
    scope : dict, optional
        The scope object the claims carry. Default: the given set of D's distinct columns. The
        global scope (:func:`certify.global_path.certify_global_path`) passes its cell list here,
        with ``D`` the cells' patterns (distinct columns, in the order of the cells).

    Returns
    -------
    CertifiedPath

    Raises
    ------
    InputError
        Malformed data, patterns or interval; eps <= 0.
    BudgetError
        More than ``max_points`` grid points would be needed.
    CertifyError
        The solver is not accurate enough for eps at some grid point.
    """
    start = time.perf_counter()
    a, b, e = _check_inputs(lam_min, lam_max, eps)
    from certify.io.validate import check_data, check_pattern_matrix

    X, y = check_data(X, y)
    D = check_pattern_matrix(D)
    if D.shape[0] != X.shape[0] or D.shape[1] == 0:
        raise InputError(f"patterns must be (n, P) = ({X.shape[0]}, P) with P >= 1, got {D.shape}")
    if initial < 2 or max_points < 2:
        raise InputError("initial and max_points must be at least 2")
    plist = _pattern_strings(D)
    if scope is None:
        scope = {"kind": "given", "patterns": plist, "patterns_sha256": patterns_digest(X.shape[0], plist)}
    grid = _Grid(X, y, bias, np.ascontiguousarray(D, np.uint8), plist, scope, options, warm)
    lams = geometric_grid(a, b, min(initial, max_points))
    rounds = 0
    while True:
        entries, names = certify_grid(grid, lams, e, relative, progress)
        L = lower_bounds(entries)
        problem = _own_gap_problem(entries, L, e, relative)
        if problem:
            raise CertifyError(problem)
        bad = [k for k, seg in enumerate(names) if seg.excess > 0]
        if not bad:
            break
        rounds += 1
        new = []
        for k in bad:
            cuts = _cuts(entries[k + 1].lam, entries[k].lam, _pieces_needed(names[k], L[k + 1], e, relative))
            if not cuts:
                raise CertifyError(f"segment [{approx(entries[k + 1].lam)}, {approx(entries[k].lam)}] cannot "
                                   f"be split further in binary64 and still exceeds eps")
            new.extend(cuts)
        if len(entries) + len(new) > max_points:
            raise BudgetError(f"the eps-path needs more than max_points = {max_points} grid points "
                              f"({len(entries)} so far, {len(bad)} segments still too wide); raise "
                              f"max_points or eps")
        lams = [x.lam for x in entries] + new
        if progress is not None:
            progress("refinement round", rounds, rounds)
    entries = thin(entries, e, relative)
    names, L = choose_networks(entries, e, relative), lower_bounds(entries)
    t0 = time.perf_counter()
    zero, threshold = zero_above_claim(grid.X_raw, grid.y_list, grid.features, bias, scope, plist)
    grid.seconds["exact"] += time.perf_counter() - t0
    claim = eps_path_claim(entries, scope, e, relative)
    diagnostics = {"path": {"points": len(entries), "solves": grid.solves, "rounds": rounds,
                            "note": "grid points by decreasing lam; p* of the scope lies between the "
                                    "chord of the lower bounds and the named network's NC"}}
    document = data_document(data_digest(grid.X_raw, grid.y_list), X.shape[0], X.shape[1], bias,
                             [claim, zero], diagnostics)
    grid.seconds["total"] = time.perf_counter() - start
    return CertifiedPath(document, entries, names, L, threshold, e, relative, grid.solves, rounds,
                         dict(grid.seconds))


def thin(entries: list[GridEntry], eps: Fraction, relative: bool) -> list[GridEntry]:
    """Drop interior grid points greedily (largest lam first) while the grid still certifies eps.

    No new solves: the remaining points' evidence is unchanged, only the segments merge (and the
    running maximum of the lower bounds is recomputed). Bisection overshoots (a segment just above
    eps is split into two far below it); this takes back the points that were not needed.
    """
    keep = list(entries)
    i = 1
    while i < len(keep) - 1:
        trial = keep[:i] + keep[i + 1:]
        L, before = lower_bounds(trial), lower_bounds(keep)
        lo = max(0, i - 1)
        # only the merged segment and the segments whose lower bounds changed can fail
        changed = [k for k in range(len(trial)) if L[k] != before[k + (k >= i)]]
        ks = sorted({lo, *[k for c in changed for k in (c - 1, c) if 0 <= k < len(trial) - 1]})
        if all(choose_segment(trial, L, k, eps, relative).excess <= 0 for k in ks):
            keep = trial
        else:
            i += 1
    return keep


def grid_passes(X: np.ndarray, y: np.ndarray, D: np.ndarray, lams: list[Fraction], eps: Fraction,
                relative: bool, bias: bool = False, options: SolverOptions | None = None,
                warm: bool = True, exact: bool = True) -> tuple[bool, dict]:
    """Whether the fixed grid ``lams`` (decreasing, endpoints included) certifies eps; and timings.

    ``exact=False`` evaluates the same envelope test on float values (solver dual values, float
    NC): an estimate for searching grid sizes, certified only when ``exact`` is true.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    plist = _pattern_strings(D)
    scope = {"kind": "given", "patterns": plist, "patterns_sha256": patterns_digest(X.shape[0], plist)}
    grid = _Grid(X, y, bias, np.ascontiguousarray(D, np.uint8), plist, scope, options, warm, exact)
    _, segments = certify_grid(grid, lams, eps, relative)
    return all(seg.excess <= 0 for seg in segments), dict(grid.seconds, solves=grid.solves)


def uniform_points_needed(X: np.ndarray, y: np.ndarray, D: np.ndarray, lam_min: object, lam_max: object,
                          eps: object, relative: bool = False, bias: bool = False,
                          options: SolverOptions | None = None, max_points: int = DEFAULT_MAX_POINTS,
                          start: int = 2, progress: Progress | None = None) -> int:
    """Smallest K such that the geometric (log-uniform) grid of K points certifies eps exactly.

    Doubling then bisection over K on float estimates of the envelope test (cheap), then exact
    confirmation: the K returned passes exactly and K - 1 fails exactly. (A grid that passes at K
    may in principle fail at some K' > K; this is the usual count of the smallest passing grid
    found by the search.) Raises BudgetError past ``max_points``.
    """
    a, b, e = _check_inputs(lam_min, lam_max, eps)

    def ok(K: int, exact: bool) -> bool:
        passed, _ = grid_passes(X, y, D, geometric_grid(a, b, K), e, relative, bias, options, exact=exact)
        if progress is not None:
            progress(f"uniform grid of {K} points {'passes' if passed else 'fails'}"
                     f"{'' if exact else ' (float estimate)'}", K, max_points)
        return passed

    lo, hi = 1, max(2, start)
    while not ok(hi, False):
        lo, hi = hi, hi * 2
        if hi > max_points:
            raise BudgetError(f"a uniform grid needs more than max_points = {max_points} points")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid >= 2 and ok(mid, False):
            hi = mid
        else:
            lo = mid
    K = hi
    while not ok(K, True):
        K += 1
        if K > max_points:
            raise BudgetError(f"a uniform grid needs more than max_points = {max_points} points")
    while K > 2 and ok(K - 1, True):
        K -= 1
    return K
