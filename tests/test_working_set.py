"""Tests of the working-set solver (certify/solve/working_set.py) against theory.md §2, §3, §8.

Every expected value is computed here independently of the solver: optimal values by the cvxpy
reference solver (:func:`certify.solve.cvxpy_reference.solve_crelu`), cone projections and
``lam_max`` by the SciPy constraint-generation projection (:func:`certify.solve.cones.project`,
not the Numba kernel the solver uses), fits and penalties from the returned block weights.
Scaling (theory.md §2): ``1/2 ||sum_p D_p X (u_p - h_p) - y||^2 + lam sum_p (||u_p|| + ||h_p||)``.

Property tests take their example counts from the hypothesis profile (tests/conftest.py) and
lower it with :func:`at_most` only; instances are small (n <= 20, d <= 3, P <= 8).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from certify.errors import InputError
from certify.patterns.sampling import unique_columns
from certify.patterns.sources import gate_patterns
from certify.solve.cones import cone_matrix, project
from certify.solve.cvxpy_reference import solve_crelu
from certify.solve.working_set import Solution, SolverOptions, solve

GAP_TOL = 1e-8
FEAS_TOL = 1e-9


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


# --------------------------------------------------------------------------------------------
# Independent helpers


def block_list(D: np.ndarray, gated: bool) -> list[tuple[int, int]]:
    """Every block ``(pattern column, sign)`` of the program (sign +1 only when gated)."""
    return [(p, s) for s in ((1,) if gated else (1, -1)) for p in range(D.shape[1])]


def correlation(X: np.ndarray, r: np.ndarray, pattern: np.ndarray, sign: int, gated: bool) -> np.ndarray:
    """``v_b = Pi_{K_b}(s_b X^T D_p r)`` (no projection when gated), by cones.project."""
    g = sign * (X.T @ (pattern.astype(float) * r))
    if gated:
        return g
    res = project(g, cone_matrix(X, pattern), np.linalg.norm(X, axis=1))
    assert res.exact, "reference projection did not reach its tolerance"
    return res.point


def lam_max(X: np.ndarray, y: np.ndarray, D: np.ndarray, gated: bool) -> float:
    """``max_b ||Pi_{K_b}(Z_b^T y)||`` (theory.md §3; ``max_p ||X^T D_p y||`` when gated)."""
    return max(float(np.linalg.norm(correlation(X, y, D[:, p], s, gated))) for p, s in block_list(D, gated))


def fit_of(X: np.ndarray, sol: Solution) -> np.ndarray:
    """``sum_p D_p X (u_p - h_p)`` straight from U, H and the patterns."""
    return np.sum(sol.patterns * (X @ (sol.U - sol.H)), axis=1)


def objective_of(X: np.ndarray, y: np.ndarray, lam: float, sol: Solution) -> float:
    r = y - fit_of(X, sol)
    penalty = np.linalg.norm(sol.U, axis=0).sum() + np.linalg.norm(sol.H, axis=0).sum()
    return 0.5 * float(r @ r) + lam * float(penalty)


def max_cone_violation(X: np.ndarray, sol: Solution) -> float:
    """Largest ``max(0, -a_k^T w) / (||a_k|| ||w||)`` over all rows of all blocks' cones."""
    rn = np.linalg.norm(X, axis=1)
    worst = 0.0
    for W in (sol.U, sol.H):
        for p in range(W.shape[1]):
            wn = np.linalg.norm(W[:, p])
            if wn == 0:
                continue
            slack = cone_matrix(X, sol.patterns[:, p]) @ W[:, p]
            rel = np.divide(slack, rn * wn, out=np.zeros_like(slack), where=rn > 0)
            worst = max(worst, float(-rel.min()))
    return worst


def assert_converged(sol: Solution) -> None:
    assert sol.converged, sol.message
    assert sol.message == "converged"
    assert -1e-12 <= sol.gap <= GAP_TOL  # a rounding-level negative gap is allowed
    assert sol.violation <= FEAS_TOL


def assert_solved(sol: Solution) -> None:
    """:func:`assert_converged`, except that a stall just above the target gap is tolerated
    (the solver reports a stall honestly when even the residual form of the restricted program
    cannot reach the target; the property tests must not turn flaky on it). The claims are
    still checked on the stalled solution."""
    if sol.message.startswith("stalled"):
        assert sol.gap <= 10 * GAP_TOL and sol.violation <= FEAS_TOL, sol.message
    else:
        assert_converged(sol)


# --------------------------------------------------------------------------------------------
# Seeded instances, degenerate ones included


def _gates_plus(X: np.ndarray, count: int, seed: int, extra: np.ndarray | None = None) -> np.ndarray:
    D = gate_patterns(X, count, seed)
    if extra is not None:
        D = unique_columns(np.hstack([D, extra.astype(np.uint8)]))
    return D


def make_instance(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, D)`` of a named small instance."""
    rng = np.random.default_rng(sum(map(ord, kind)))
    if kind == "gaussian":
        X = rng.standard_normal((15, 3))
        y = np.maximum(X @ rng.standard_normal(3), 0) - 0.5 * np.maximum(X @ rng.standard_normal(3), 0)
        return X, y + 0.1 * rng.standard_normal(15), _gates_plus(X, 8, 1)
    if kind == "duplicate_rows":
        base = rng.standard_normal((6, 2))
        X = np.vstack([base, base[:3], base[:2]])           # rows 0, 1 three times; row 2 twice
        y = rng.standard_normal(11)                           # different targets on the copies
        return X, y, _gates_plus(X, 8, 2)
    if kind == "zero_rows":
        X = rng.standard_normal((12, 3))
        X[[0, 5, 9]] = 0.0
        return X, rng.standard_normal(12), _gates_plus(X, 8, 3)
    if kind == "parallel_rows":
        X = rng.standard_normal((12, 2))
        X[6], X[7], X[8] = 2.0 * X[0], -0.5 * X[0], 3.0 * X[1]  # positively and negatively parallel
        return X, rng.standard_normal(12), _gates_plus(X, 8, 4)
    if kind == "bias":
        X = np.hstack([rng.standard_normal((14, 2)), np.ones((14, 1))])
        y = np.abs(X[:, 0]) - 0.3 * X[:, 1] + 0.05 * rng.standard_normal(14)
        return X, y, _gates_plus(X, 8, 5)
    if kind == "d1":
        X = rng.standard_normal((10, 1))
        X[2] = 0.0
        extra = np.column_stack([rng.random(10) < 0.5, np.zeros(10), np.ones(10)])
        return X, rng.standard_normal(10), _gates_plus(X, 4, 6, extra)
    if kind == "integer_ties":
        X = rng.integers(-2, 3, (16, 3)).astype(float)
        X[:, 2] = 1.0
        extra = (rng.random((16, 2)) < 0.5)                  # arbitrary 0/1 columns (not cells)
        return X, rng.integers(-2, 3, 16).astype(float), _gates_plus(X, 6, 7, extra)
    raise AssertionError(kind)


KINDS = ["gaussian", "duplicate_rows", "zero_rows", "parallel_rows", "bias", "d1", "integer_ties"]
FRACTIONS = [0.01, 0.1, 0.5, 0.95]


@cache
def solved(kind: str, gated: bool, fraction: float):
    X, y, D = make_instance(kind)
    lam = fraction * lam_max(X, y, D, gated)
    return X, y, D, lam, solve(X, y, lam, D, gated=gated)


@cache
def reference_value(kind: str, gated: bool, fraction: float) -> float:
    X, y, D, lam, _ = solved(kind, gated, fraction)
    return solve_crelu(X, y, lam, D, gated=gated).objective


CASES = [(k, g, f) for k in KINDS for g in (False, True) for f in FRACTIONS]
IDS = [f"{k}-{'gated' if g else 'crelu'}-{f}" for k, g, f in CASES]


# --------------------------------------------------------------------------------------------
# 1. Optimal value against cvxpy


@pytest.mark.parametrize(("kind", "gated", "fraction"), CASES, ids=IDS)
def test_objective_matches_cvxpy(kind, gated, fraction):
    X, y, D, lam, sol = solved(kind, gated, fraction)
    assert_converged(sol)
    assert sol.U.shape == sol.H.shape == (X.shape[1], D.shape[1])
    assert np.array_equal(sol.patterns, D)
    assert sol.lam == lam and sol.gated is gated
    if gated:
        assert not np.any(sol.H)
    # the reported objective is that of the returned weights, and they are feasible
    assert sol.objective == pytest.approx(objective_of(X, y, lam, sol), rel=1e-12)
    if not gated:
        assert max_cone_violation(X, sol) <= FEAS_TOL
    ref = reference_value(kind, gated, fraction)
    assert sol.objective == pytest.approx(ref, rel=1e-7)
    # non-trivial: below lam_max the optimum is not the zero solution
    assert sol.objective < 0.5 * float(y @ y) * (1 - 1e-6)


# --------------------------------------------------------------------------------------------
# 2. KKT: correlation vectors (theory.md §3)


def check_kkt(X, y, lam, sol: Solution, direction_tol: float = 1e-3) -> None:
    blocks = sol.blocks()
    r = y - blocks.prediction(X)
    assert np.allclose(blocks.prediction(X), fit_of(X, sol), rtol=0, atol=1e-12 * (1 + np.abs(y).max()))
    for p, s in block_list(sol.patterns, sol.gated):
        v = correlation(X, r, sol.patterns[:, p], s, sol.gated)
        assert np.linalg.norm(v) <= lam * (1 + 1e-6), (p, s, np.linalg.norm(v) / lam)
    norms = np.linalg.norm(blocks.weights, axis=0)
    for b in range(blocks.count):
        # Blocks below 1e-6 of the largest are at the solver's zero level (its zero_tol is 1e-9
        # relative; an interior-point leftover of ~1e-9 can survive it): their directions and
        # correlations are not determined to the tolerances below.
        if norms[b] < 1e-6 * norms.max():
            continue
        v = correlation(X, r, blocks.patterns[:, b], int(blocks.signs[b]), sol.gated)
        # every active block attains the dual constraint, in the direction of its weight
        assert np.linalg.norm(v) == pytest.approx(lam, rel=1e-5)
        tol = direction_tol if norms[b] >= 1e-3 * norms.max() else 100 * direction_tol
        assert np.linalg.norm(blocks.weights[:, b] / norms[b] - v / lam) <= tol


@pytest.mark.parametrize(("kind", "gated", "fraction"), CASES, ids=IDS)
def test_kkt_correlation_vectors(kind, gated, fraction):
    X, y, D, lam, sol = solved(kind, gated, fraction)
    assert_converged(sol)
    assert sol.blocks().count >= 1
    check_kkt(X, y, lam, sol)


def test_kkt_check_rejects_a_suboptimal_point():
    """The KKT check above can fail: a point scaled away from the optimum violates it."""
    X, y, D, lam, sol = solved("gaussian", False, 0.1)
    worse = Solution(sol.U * 0.5, sol.H * 0.5, sol.patterns, lam, False, 0, 0, 0, 0, True, 0, "")
    with pytest.raises(AssertionError):
        check_kkt(X, y, lam, worse)


# --------------------------------------------------------------------------------------------
# 4. The reported gap bounds the true suboptimality


@pytest.mark.parametrize(("kind", "gated", "fraction"), CASES[::3], ids=IDS[::3])
def test_gap_is_an_upper_bound_of_the_suboptimality(kind, gated, fraction):
    X, y, D, lam, sol = solved(kind, gated, fraction)
    p_star = reference_value(kind, gated, fraction)
    slack = 1e-9 * p_star
    for rounds in (1, 2, 3, 60):
        s = solve(X, y, lam, D, gated=gated, options=SolverOptions(max_rounds=rounds))
        # the reported violation is that of the returned weights
        if not gated:
            assert s.violation == pytest.approx(max_cone_violation(X, s), rel=1e-6, abs=1e-15)
        # weak duality: dual <= p*, and p* <= objective for a feasible point; the gap is
        # (objective - dual) / objective, so it bounds the relative suboptimality
        assert s.dual_value <= p_star + slack
        assert s.objective - p_star <= s.gap * s.objective + slack
        if s.violation <= FEAS_TOL:
            assert s.objective >= p_star - slack
        else:  # an infeasible intermediate point may lie below p*; it is never "converged"
            assert not s.converged and f"cone violation {s.violation:.1e}" in s.message
        assert s.gap == pytest.approx((s.objective - s.dual_value) / s.objective, rel=1e-9, abs=1e-15)
        assert s.rounds <= rounds and len(s.history) == s.rounds
        assert s.objective == pytest.approx(objective_of(X, y, lam, s), rel=1e-12)


def test_not_converged_is_reported_with_its_numbers():
    X, y, D, lam, _ = solved("gaussian", False, 0.1)
    seen = []
    sol = solve(X, y, lam, D, options=SolverOptions(max_rounds=1), progress=seen.append)
    assert not sol.converged
    assert sol.rounds == 1 and len(seen) == 1 and seen[0]["gap"] == sol.gap
    assert sol.gap > GAP_TOL
    m = re.fullmatch(r"not converged after 1 rounds: relative gap (\S+) \(target 1e-08\), "
                     r"cone violation (\S+) \(target 1e-09\)", sol.message)
    assert m, sol.message
    assert float(m.group(1)) == pytest.approx(sol.gap, rel=1e-2)
    assert float(m.group(2)) == pytest.approx(sol.violation, rel=1e-1, abs=1e-300)
    # the relative gap is a true bound on the distance to the optimum
    p_star = reference_value("gaussian", False, 0.1)
    assert sol.objective - p_star <= sol.gap * sol.objective + 1e-12


# Found by hypothesis (test_c1 with a permuted pattern set): a gated program, n=16, d=3, P=6,
# lam = 0.02 lam_max, all six blocks active. Clarabel returns AlmostSolved after 10 iterations
# on the restricted program (the full one here) whatever its tolerance, so the solver stopped with
# "stalled: relative gap 1.13e-08 (target 1e-08)" although the point was within 8e-10 of the
# optimum (8 of the 720 column orders of D). Fixed by the residual-form fallback.
STALL_X = np.array([
    [1.0, 1.0, -2.28605069], [2.0, -2.0, -2.0], [0.16208836, 0.39484296, 2.0],
    [2.0, 2.65714247, -0.01], [-1.0, -0.56243027, 0.5], [-1.0, -1.0, -2.0],
    [1.0, -0.31057533, 2.98706663], [-1.07679107, -1.0, -1.0], [2.0, 2.0, -1.01036472],
    [-1.0, 1.0, 2.0], [0.76798733, 1.0, -2.0], [0.72237049, -2.0, -1.0],
    [-2.0, -2.66487221, -1.5], [-2.02700768, -1.48724998, 1.0], [0.71764107, 1.1377429, 0.0],
    [-2.0, -1.0, 2.0]])
STALL_Y = np.array([-2.0, -1.0, -2.0, -0.1, -2.0, -1.0, 1.0, -1.0, -0.01, 1.0, 0.0, 0.0,
                    2.39087197, 1.41780382, 2.0, -1.0])
STALL_D = np.array([
    [0, 1, 0, 0, 1, 1], [0, 1, 1, 0, 1, 0], [1, 0, 0, 1, 0, 1], [1, 0, 0, 0, 1, 1],
    [1, 1, 1, 1, 0, 0], [0, 1, 1, 0, 0, 0], [1, 0, 0, 1, 0, 0], [0, 1, 1, 0, 0, 0],
    [1, 0, 0, 0, 1, 1], [1, 0, 1, 1, 0, 1], [0, 1, 0, 0, 1, 1], [0, 1, 1, 1, 1, 0],
    [0, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 1, 1], [1, 0, 1, 1, 0, 0]], np.uint8)


def test_known_stall_is_honest():
    """Whatever happens on the stalling instance, what is reported is true."""
    D = STALL_D[:, [0, 2, 4, 5, 1, 3]]
    lam = 0.02 * lam_max(STALL_X, STALL_Y, D, True)
    sol = solve(STALL_X, STALL_Y, lam, D, gated=True)
    p_star = solve_crelu(STALL_X, STALL_Y, lam, D, gated=True).objective
    assert sol.dual_value <= p_star * (1 + 1e-9)
    assert sol.objective - p_star <= sol.gap * sol.objective + 1e-9 * p_star
    assert sol.converged or sol.message.startswith("stalled: relative gap")
    assert sol.objective == pytest.approx(p_star, rel=1e-7)


def test_former_stall_converges_with_the_residual_form():
    # regression: every column order of this instance stalled at 1.13e-08 with P = F^T F; the
    # solver now falls back to the residual form of the restricted program when it stalls
    import itertools

    for order in list(itertools.permutations(range(6)))[::60] + [(0, 2, 4, 5, 1, 3)]:
        D = STALL_D[:, list(order)]
        lam = 0.02 * lam_max(STALL_X, STALL_Y, D, True)
        assert_converged(solve(STALL_X, STALL_Y, lam, D, gated=True))


# --------------------------------------------------------------------------------------------
# 5. Warm starts


@pytest.mark.parametrize("gated", [False, True], ids=["crelu", "gated"])
def test_warm_start_over_more_patterns_and_another_lam(gated):
    X, y = make_instance("bias")[:2]
    D_small = gate_patterns(X, 4, seed=11)
    D_big = unique_columns(np.hstack([D_small, gate_patterns(X, 12, seed=12)]))
    assert D_big.shape[1] > D_small.shape[1]
    lam = 0.1 * lam_max(X, y, D_big, gated)
    first = solve(X, y, lam, D_small, gated=gated)
    assert_converged(first)
    warm = first.warm_start()
    assert warm and all(s in (1, -1) for _, s in warm)
    assert all(key in {D_small[:, p].tobytes() for p in range(D_small.shape[1])} for key, _ in warm)

    cold = solve(X, y, lam, D_big, gated=gated)
    hot = solve(X, y, lam, D_big, gated=gated, warm_start=warm)
    assert_converged(cold)
    assert_converged(hot)
    assert hot.objective == pytest.approx(cold.objective, rel=1e-8)
    assert hot.objective <= first.objective * (1 + 1e-9)  # more patterns: never worse
    assert hot.history[0]["blocks"] == len(warm)            # the warm blocks were used at once
    assert cold.history[0]["blocks"] == 0

    # permuted big set: the warm start is keyed by pattern, not by column index
    perm = np.random.default_rng(0).permutation(D_big.shape[1])
    shuffled = solve(X, y, lam, D_big[:, perm], gated=gated, warm_start=warm)
    assert_converged(shuffled)
    assert shuffled.objective == pytest.approx(cold.objective, rel=1e-8)

    # from another lam
    lam2 = 2.5 * lam
    other = solve(X, y, lam2, D_big, gated=gated, warm_start=hot.warm_start())
    assert_converged(other)
    assert other.objective == pytest.approx(solve(X, y, lam2, D_big, gated=gated).objective, rel=1e-8)
    assert other.objective == pytest.approx(solve_crelu(X, y, lam2, D_big, gated=gated).objective, rel=1e-7)


def test_crelu_warm_start_into_a_gated_solve_keeps_only_positive_blocks():
    X, y, D = make_instance("gaussian")
    lam = 0.1 * lam_max(X, y, D, False)
    warm = solve(X, y, lam, D).warm_start()
    positive = sum(1 for _, s in warm if s == 1)
    assert 0 < positive < len(warm)  # the instance has blocks of both signs
    lam_g = 0.1 * lam_max(X, y, D, True)
    gated = solve(X, y, lam_g, D, gated=True, warm_start=warm)
    assert_converged(gated)
    assert gated.history[0]["blocks"] == positive
    assert not np.any(gated.H)
    assert gated.objective == pytest.approx(solve(X, y, lam_g, D, gated=True).objective, rel=1e-8)


def test_warm_start_with_unknown_patterns_is_ignored():
    X, y, D = make_instance("zero_rows")
    lam = 0.2 * lam_max(X, y, D, False)
    known = {D[:, p].tobytes() for p in range(D.shape[1])}
    foreign = {(b"\x01" * (X.shape[0] + 1), 1): np.array([0, 1])}       # wrong length
    complement = (1 - D[:, 0]).astype(np.uint8).tobytes()
    if complement not in known:
        foreign[(complement, -1)] = np.zeros(0, np.int64)
    sol = solve(X, y, lam, D, warm_start=foreign)
    assert_converged(sol)
    assert sol.history[0]["blocks"] == 0
    assert sol.objective == pytest.approx(solve(X, y, lam, D).objective, rel=1e-8)


# --------------------------------------------------------------------------------------------
# 6. Input errors


def test_input_errors():
    X, y, D = make_instance("gaussian")
    with pytest.raises(InputError, match=r"y has shape \(14,\).*must be \(15,\)"):
        solve(X, y[:-1], 0.1, D)
    with pytest.raises(InputError, match=r"y has shape \(15, 1\)"):
        solve(X, y[:, None], 0.1, D)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(InputError, match="NaN or infinite"):
        solve(Xn, y, 0.1, D)
    yi = y.copy()
    yi[0] = np.inf
    with pytest.raises(InputError, match="NaN or infinite"):
        solve(X, yi, 0.1, D)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InputError, match="lam must be a positive finite number"):
            solve(X, y, bad, D)
    D2 = D.astype(int)
    D2[0, 0] = 2
    with pytest.raises(InputError, match="only 0 and 1"):
        solve(X, y, 0.1, D2)
    with pytest.raises(InputError, match="only 0 and 1"):
        solve(X, y, 0.1, D * 0.5)
    with pytest.raises(InputError, match=r"D has shape \(14, \d+\) but X has 15 rows"):
        solve(X, y, 0.1, D[:-1])
    with pytest.raises(InputError, match="P >= 1"):
        solve(X, y, 0.1, D[:, :0])
    with pytest.raises(InputError, match="non-empty 2-D"):
        solve(X[:, 0], y, 0.1, D)


# --------------------------------------------------------------------------------------------
# 3. Claims C1-C4 as properties (hypothesis)

# Reals of moderate magnitude: zero, small integers (ties, duplicate and parallel rows happen) or
# |v| in [1e-2, 3].
REAL = st.one_of(st.integers(-2, 2).map(float),
                 st.builds(lambda s, v: s * v, st.sampled_from([-1.0, 1.0]), st.floats(1e-2, 3)))


@st.composite
def programs(draw, gated=None):
    """``(X, y, D, gated)``: n <= 20, d <= 3, P <= 8 distinct patterns (gate cells, sometimes an
    arbitrary 0/1 column), y with ``lam_max > 0``."""
    n = draw(st.integers(2, 20))
    d = draw(st.integers(1, 3))
    X = draw(hnp.arrays(np.float64, (n, d), elements=REAL))
    if d > 1 and draw(st.booleans()):
        X[:, -1] = 1.0  # bias column
    y = draw(hnp.arrays(np.float64, (n,), elements=REAL))
    gates = draw(hnp.arrays(np.float64, (d, draw(st.integers(1, 8))), elements=REAL))
    D = (X @ gates >= 0).astype(np.uint8)
    if draw(st.booleans()):
        D = np.hstack([D, np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
                                   np.uint8)[:, None]])
    D = unique_columns(D)[:, :8]
    if gated is None:
        gated = draw(st.booleans())
    assume(lam_max(X, y, D, gated) > 1e-6 * (1 + float(np.abs(y).max())))
    return X, y, D, gated


FRACTION = st.sampled_from([0.02, 0.1, 0.3, 0.6, 0.9])


@at_most(40)
@given(programs(), FRACTION, st.randoms(use_true_random=False))
def test_c1_unique_fit_under_permuted_patterns(program, fraction, rnd):
    X, y, D, gated = program
    lam = fraction * lam_max(X, y, D, gated)
    perm = list(range(D.shape[1]))
    rnd.shuffle(perm)
    a = solve(X, y, lam, D, gated=gated)
    b = solve(X, y, lam, D[:, perm], gated=gated)
    assert_solved(a)
    assert_solved(b)
    # C1 quantitatively: the loss is 1-strongly convex in the fit, so p(w) - p* >= 1/2 ||f(w) - f*||^2
    # and each fit lies within sqrt(2 gap objective) of the unique optimal fit (the gap is the
    # solver's certified relative duality gap)
    radius = sum(np.sqrt(2.0 * max(s.gap, 0.0) * s.objective) for s in (a, b))
    assert np.linalg.norm(fit_of(X, a) - fit_of(X, b)) <= radius + 1e-9 * np.linalg.norm(y)
    assert a.objective == pytest.approx(b.objective, rel=1e-8)


@at_most(40)
@given(programs(), FRACTION)
def test_c2_c3_penalty_identity_and_correlation_vectors(program, fraction):
    X, y, D, gated = program
    lam = fraction * lam_max(X, y, D, gated)
    sol = solve(X, y, lam, D, gated=gated)
    assert_solved(sol)
    blocks = sol.blocks()
    yhat = blocks.prediction(X)
    r = y - yhat
    penalty = lam * float(np.linalg.norm(blocks.weights, axis=0).sum())
    # C2: lam sum ||w_b|| = <yhat, r>, hence p* = <y, r> - 1/2 ||r||^2
    assert abs(penalty - float(yhat @ r)) <= 1e-6 * sol.objective
    assert sol.objective == pytest.approx(float(y @ r) - 0.5 * float(r @ r), rel=1e-6)
    # C3
    check_kkt(X, y, lam, sol)


@at_most(40)
@given(programs())
def test_c4_zero_solution_threshold(program):
    X, y, D, gated = program
    top = lam_max(X, y, D, gated)
    above = solve(X, y, 1.01 * top, D, gated=gated)
    assert_solved(above)
    assert not np.any(above.U) and not np.any(above.H)
    assert above.objective == pytest.approx(0.5 * float(y @ y), rel=1e-12)
    below = solve(X, y, 0.9 * top, D, gated=gated)
    assert_solved(below)
    assert np.any(below.U) or np.any(below.H)
    assert below.objective < 0.5 * float(y @ y)


def test_tiny_inactive_blocks_are_dropped_at_the_end():
    # an interior-point solution left a block of relative size 1.4e-9 with ||v_b|| = 0.98 lam
    # on this instance; strictly dual-feasible blocks cannot be active (theory.md §3)
    X, y, D = make_instance("duplicate_rows")
    lam = 0.95 * lam_max(X, y, D, False)
    sol = solve(X, y, lam, D)
    assert_converged(sol)
    W = np.hstack([sol.U, sol.H])
    norms = np.linalg.norm(W, axis=0)
    assert norms[norms > 0].min() > 1e-6 * norms.max()


# --------------------------------------------------------------------------------------------
# Duplicate directions, face hints, and the residual form for wide restricted programs


def _duplicated_patterns(seed: int = 0):
    """Patterns that differ only on zero rows: their blocks have identical designs and cones."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((14, 3))
    X[[2, 9]] = 0.0
    y = np.maximum(X @ rng.standard_normal(3), 0) + 0.1 * rng.standard_normal(14)
    D = gate_patterns(X, 6, seed)
    flipped = D.copy()
    flipped[[2, 9]] ^= 1                                       # only the zero rows change
    return X, y, unique_columns(np.hstack([D, flipped]))


def test_duplicate_blocks_are_pruned_from_the_working_set(monkeypatch):
    import certify.solve.working_set as ws

    X, y, D = _duplicated_patterns()
    lam = 0.05 * lam_max(X, y, D, False)
    calls = []
    real = ws._sparsify

    def spy(blocks, weights, y_, lam_):
        out = real(blocks, weights, y_, lam_)
        calls.append((len(weights), len(out)))
        return out

    monkeypatch.setattr(ws, "_sparsify", spy)
    sol = solve(X, y, lam, D)
    assert sol.converged
    assert sol.objective == pytest.approx(solve_crelu(X, y, lam, D).objective, rel=1e-7)
    # the vertex step ran inside the loop (not only at the end) and dropped duplicates
    assert len(calls) >= 2 and any(after < before for before, after in calls)
    # no two returned blocks point the same way
    W = sol.blocks().weights
    dirs = W / np.linalg.norm(W, axis=0)
    cos = dirs.T @ dirs
    np.fill_diagonal(cos, 0.0)
    assert cos.max() < 1 - 1e-9
    check_kkt(X, y, lam, sol)


def test_parallel_block_detection():
    from certify.solve.working_set import _has_parallel_blocks

    a = np.array([1.0, 2.0, 0.0])
    assert _has_parallel_blocks({0: a, 5: 3.0 * a})
    assert not _has_parallel_blocks({0: a, 5: -a})            # opposite directions
    assert not _has_parallel_blocks({0: a, 5: a + np.array([0.0, 0.0, 1e-3])})
    assert not _has_parallel_blocks({0: a})


def test_face_hints_do_not_change_the_result():
    X, y, D = make_instance("bias")
    lam = 0.1 * lam_max(X, y, D, False)
    cold = solve(X, y, lam, D)
    hinted = solve(X, y, lam, D, face_hints=cold.face_hints())
    assert hinted.converged and hinted.objective == pytest.approx(cold.objective, rel=1e-9)
    # hints keyed by pattern: they follow the patterns into a permuted, larger set
    perm = np.random.default_rng(0).permutation(D.shape[1])
    bigger = np.hstack([D[:, perm], gate_patterns(X, 5, 99)])
    hints = cold.face_hints()
    assert hints and all(len(rows) <= 2 * X.shape[1] for rows in hints.values())
    grown = solve(X, y, lam, unique_columns(bigger), face_hints=hints)
    assert grown.converged
    assert grown.objective <= cold.objective * (1 + 1e-9)
    # nonsense hints (any rows) cost time, never correctness
    rng = np.random.default_rng(1)
    junk = {key: rng.integers(0, X.shape[0], rows.size) for key, rows in hints.items()}
    assert solve(X, y, lam, D, face_hints=junk).objective == pytest.approx(cold.objective, rel=1e-9)


def test_wide_restricted_programs_use_the_residual_form(monkeypatch):
    # n = 25 samples, up to hundreds of restricted variables: the residual form is chosen by
    # size, and the answer still matches cvxpy
    import clarabel

    rng = np.random.default_rng(4)
    X = np.hstack([rng.standard_normal((25, 7)), np.ones((25, 1))])
    y = rng.standard_normal(25)
    D = gate_patterns(X, 120, 4)
    lam = 0.01 * lam_max(X, y, D, False)
    shapes = []
    real = clarabel.DefaultSolver

    def spy(P, q, A, b, cones, settings):
        shapes.append((P.shape[0], any(isinstance(c, clarabel.ZeroConeT) for c in cones)))
        return real(P, q, A, b, cones, settings)

    monkeypatch.setattr(clarabel, "DefaultSolver", spy)
    sol = solve(X, y, lam, D)
    assert sol.converged
    # sizes: k blocks of 8 weights and k norm bounds, plus the 25 residuals in residual form
    blocks = [((size - 25) // 9 if residual else size // 9, residual) for size, residual in shapes]
    assert all(residual for k, residual in blocks if 8 * k > 200)     # wide: residual form
    assert any(8 * k > 200 for k, _ in blocks)
    assert any(not residual for k, residual in blocks if 8 * k <= 200)  # narrow: F^T F form
    monkeypatch.setattr(clarabel, "DefaultSolver", real)
    assert sol.objective == pytest.approx(solve_crelu(X, y, lam, D).objective, rel=1e-7)


def test_face_hints_from_other_data_are_ignored_safely():
    # hints carrying row indices beyond this data set's n (from a larger data set) are dropped,
    # not passed to the compiled kernels
    X, y, D = make_instance("bias")
    lam = 0.1 * lam_max(X, y, D, False)
    cold = solve(X, y, lam, D)
    bad = {key: np.concatenate([rows, [X.shape[0], X.shape[0] + 7, -3]])
           for key, rows in cold.face_hints().items()}
    again = solve(X, y, lam, D, face_hints=bad)
    assert again.converged and again.objective == pytest.approx(cold.objective, rel=1e-9)
