"""Property-based tests of theory.md §2-3 (C6, C7, the one-cone bound, weak duality).

Every property is checked against an independent computation written in this file: NC in
``fractions.Fraction`` straight from the floats, the one-cone maximum by cvxpy, the optimum of
the C-ReLU by the cvxpy reference solver, and the network's own exact pattern scope by
Fraction arithmetic. Example counts come from the hypothesis profile (tests/conftest.py);
the cvxpy-based properties lower it with :func:`at_most`, never raise it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations

import cvxpy as cp
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from certify.check.checker import check_certificate
from certify.convex.correlation import cone_multipliers, cone_rows, correlation_vector
from certify.convex.mapping import (
    Blocks,
    blocks_to_network,
    convex_objective,
    nc_objective,
    network_to_blocks,
)
from certify.exact.digest import patterns_digest
from certify.exact.nc import evaluate
from certify.exact.patterns import encode
from certify.network import Network
from certify.patterns.sampling import patterns_of_gates
from certify.problem import Problem
from certify.solve.cvxpy_reference import solve_crelu
from certify.verify import verify


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


# Reals of moderate magnitude: zero, small integers (exact ties happen) or |v| in [1e-4, 3].
# Magnitudes below 1e-4 are excluded so that float round-off stays far below the tolerances.
REAL = st.one_of(st.integers(-2, 2).map(float),
                 st.floats(-3, 3, allow_nan=False, allow_subnormal=False).filter(
                     lambda v: v == 0 or abs(v) >= 1e-4))
LAMS = st.sampled_from(["1/10", "1/2", "1", "3/7", "2"])


def matrix(rows: int, cols: int, elements: st.SearchStrategy = REAL) -> st.SearchStrategy:
    return hnp.arrays(np.float64, (rows, cols), elements=elements)


def vector(size: int, elements: st.SearchStrategy = REAL) -> st.SearchStrategy:
    return hnp.arrays(np.float64, (size,), elements=elements)


def dot(a: list[Fraction], b: list[Fraction]) -> Fraction:
    return sum((u * v for u, v in zip(a, b, strict=True)), Fraction(0))


def fraction_nc(X: np.ndarray, y: np.ndarray, lam: Fraction, W1: np.ndarray, w2: np.ndarray
                ) -> tuple[Fraction, Fraction]:
    """Independent exact (loss, penalty) of NC: every float read with ``Fraction(float)``."""
    n, d = X.shape
    m = W1.shape[1]
    Xf = [[Fraction(float(v)) for v in row] for row in X]
    Wf = [[Fraction(float(W1[i, j])) for i in range(d)] for j in range(m)]
    w2f = [Fraction(float(v)) for v in w2]
    loss = Fraction(0)
    for k in range(n):
        fit = Fraction(0)
        for j in range(m):
            pre = dot(Xf[k], Wf[j])
            if pre > 0:
                fit += pre * w2f[j]
        loss += (fit - Fraction(float(y[k]))) ** 2
    sq = sum(v * v for col in Wf for v in col) + sum(v * v for v in w2f)
    return loss / 2, Fraction(lam) / 2 * sq


def exact_own_patterns(X: np.ndarray, W1: np.ndarray) -> list[tuple[int, ...]]:
    """Independent own-pattern scope (theory.md §3): per neuron ``W1_j != 0`` the exact pattern
    ``1[X W1_j >= 0]`` and every pattern with a subset of its ties (``x_k != 0``) switched off."""
    n, d = X.shape
    Xf = [[Fraction(float(v)) for v in row] for row in X]
    out: dict[tuple[int, ...], None] = {}
    for j in range(W1.shape[1]):
        w = [Fraction(float(W1[i, j])) for i in range(d)]
        if not any(w):
            continue
        pre = [dot(Xf[k], w) for k in range(n)]
        base = [1 if v >= 0 else 0 for v in pre]
        ties = [k for k in range(n) if pre[k] == 0 and any(Xf[k])]
        for size in range(len(ties) + 1):
            for subset in combinations(ties, size):
                bits = list(base)
                for k in subset:
                    bits[k] = 0
                out.setdefault(tuple(bits), None)
    return list(out)


# --- C6: convex -> network preserves the objective and balances ---------------------------------


@st.composite
def cone_blocks(draw: st.DrawFn, max_n: int = 12, max_d: int = 4, max_b: int = 4):
    """(X, y, lam, Blocks) with each weight in its own pattern's cone (pattern 1[X u >= 0])."""
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    B = draw(st.integers(1, max_b))
    X = draw(matrix(n, d))
    y = draw(vector(n))
    U = draw(matrix(d, B))
    signs = np.array(draw(st.lists(st.sampled_from([1, -1]), min_size=B, max_size=B)))
    lam = draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
    patterns = (X @ U >= 0).astype(np.uint8)
    return X, y, lam, Blocks(patterns, signs, U, [[] for _ in range(B)])


@given(cone_blocks())
def test_c6_convex_to_network_preserves_objective_and_balances(case) -> None:
    X, y, lam, blocks = case
    net = blocks_to_network(blocks.weights, blocks.signs)
    norms = np.linalg.norm(net.W1, axis=0)
    np.testing.assert_allclose(norms, np.abs(net.w2), rtol=1e-12, atol=0)  # balanced
    cv = convex_objective(X, y, lam, blocks)
    nc = nc_objective(X, y, lam, net.W1, net.w2)
    assert math.isclose(nc, cv, rel_tol=1e-9, abs_tol=1e-12), (nc, cv)
    # the prediction too: (X W1_j)_+ w2_j = s D X w_b on the block's own pattern
    pred = np.maximum(X @ net.W1, 0.0) @ net.w2
    np.testing.assert_allclose(pred, blocks.prediction(X), rtol=1e-9, atol=1e-12)


@given(cone_blocks(max_n=4, max_d=2, max_b=2), LAMS)
def test_c6_exact_nc_matches_fraction_recomputation(case, lam: str) -> None:
    X, y, flam, blocks = case
    net = blocks_to_network(blocks.weights, blocks.signs)
    problem = Problem(X, y, lam)
    Xd, yd = problem.exact()
    W1d, w2d = net.exact(False)
    ev = evaluate(Xd, yd, W1d, w2d, problem.lam)
    loss, penalty = fraction_nc(X, y, problem.lam, net.W1, net.w2)
    assert ev.loss == loss
    assert ev.penalty == penalty
    assert ev.objective == loss + penalty
    # and the exact value agrees with the float convex objective (at the float lam)
    cv = convex_objective(X, y, float(problem.lam), blocks)
    assert math.isclose(float(ev.objective), cv, rel_tol=1e-9, abs_tol=1e-12)


# --- C7: network -> convex never increases the objective -----------------------------------------


@st.composite
def networks(draw: st.DrawFn, max_n: int = 12, max_d: int = 4, max_m: int = 5):
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(1, max_m))
    lam = draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
    return draw(matrix(n, d)), draw(vector(n)), lam, draw(matrix(d, m)), draw(vector(m))


def balance(W1: np.ndarray, w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale each neuron to ``||W1_j|| = |w2_j|`` (same function, both factors positive)."""
    W1, w2 = W1.copy(), w2.copy()
    for j in range(W1.shape[1]):
        a, b = np.linalg.norm(W1[:, j]), abs(w2[j])
        if a > 0 and b > 0:
            t = math.sqrt(b / a)
            W1[:, j] *= t
            w2[j] /= t
    return W1, w2


@given(networks())
def test_c7_network_to_convex_never_increases(case) -> None:
    X, y, lam, W1, w2 = case
    blocks = network_to_blocks(X, W1, w2)
    nc = nc_objective(X, y, lam, W1, w2)
    cv = convex_objective(X, y, lam, blocks)
    scale = max(1.0, abs(nc))
    assert cv <= nc + 1e-9 * scale
    # AM-GM, quantitatively: NC - convex >= lam/2 sum_j (||W1_j|| - |w2_j||)^2
    imbalance = float(np.sum((np.linalg.norm(W1, axis=0) - np.abs(w2)) ** 2))
    assert nc - cv >= lam / 2 * imbalance - 1e-9 * scale
    pred = np.maximum(X @ W1, 0.0) @ w2
    np.testing.assert_allclose(blocks.prediction(X), pred, rtol=1e-9, atol=1e-9 * scale)
    # every block's weight lies in its pattern's cone (up to round-off)
    for b in range(blocks.count):
        A = cone_rows(X, blocks.patterns[:, b].astype(float))
        assert np.all(A @ blocks.weights[:, b] >= -1e-9 * scale * (1 + np.abs(A).sum()))


def balanced_distinct(X: np.ndarray, W1: np.ndarray, w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Balanced neurons with pairwise distinct (pattern, sign); unbalanceable ones dropped."""
    W1, w2 = balance(W1, w2)
    keys, keep = set(), []
    for j in range(W1.shape[1]):
        if not W1[:, j].any() or w2[j] == 0:
            continue  # W1_j = 0 or w2_j = 0: dead, and unbalanced unless both are zero
        key = ((X @ W1[:, j] >= 0).tobytes(), w2[j] > 0)
        if key not in keys:
            keys.add(key)
            keep.append(j)
    return W1[:, keep], w2[keep]


@given(networks())
def test_c7_equality_when_balanced_and_distinct(case) -> None:
    X, y, lam, W1, w2 = case
    W1, w2 = balanced_distinct(X, W1, w2)
    blocks = network_to_blocks(X, W1, w2)
    # the map's own float patterns (X @ W1, possibly with FMA) can differ from X @ W1_j at an
    # exact tie and merge two non-collinear neurons; equality is claimed only without merges
    assume(blocks.count == W1.shape[1])
    nc = nc_objective(X, y, lam, W1, w2)
    cv = convex_objective(X, y, lam, blocks)
    assert math.isclose(cv, nc, rel_tol=1e-9, abs_tol=1e-12), (cv, nc)


@given(networks(max_m=3), st.floats(0.05, 0.95))
def test_c7_equality_when_merged_neurons_are_collinear(case, gamma: float) -> None:
    """Split a balanced neuron into two positively collinear ones: they merge, equality holds."""
    X, y, lam, W1, w2 = case
    W1, w2 = balanced_distinct(X, W1, w2)
    assume(W1.shape[1] > 0)
    a, b = math.sqrt(gamma), math.sqrt(1 - gamma)
    W1s = np.hstack([W1, a * W1[:, :1]])
    W1s[:, 0] *= b
    w2s = np.concatenate([w2, [a * w2[0]]])
    w2s[0] *= b
    blocks = network_to_blocks(X, W1s, w2s)
    pair = {0, W1s.shape[1] - 1}
    # float round-off at an exact tie can move a rescaled neuron into another block: only the
    # split pair may merge (a merge of non-collinear neurons makes the inequality strict)
    assume(all(len(b) == 1 or set(b) == pair for b in blocks.neurons))
    nc = nc_objective(X, y, lam, W1s, w2s)
    cv = convex_objective(X, y, lam, blocks)
    assert math.isclose(cv, nc, rel_tol=1e-9, abs_tol=1e-12), (cv, nc)


# --- The one-cone bound (theory.md §3) ------------------------------------------------------------


def cone_max(g: np.ndarray, A: np.ndarray) -> float:
    """``max {<g, u> : A u >= 0, ||u|| <= 1}`` by cvxpy (Clarabel)."""
    u = cp.Variable(g.size)
    prob = cp.Problem(cp.Maximize(g @ u), [A @ u >= 0, cp.norm(u, 2) <= 1])
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == "optimal", prob.status
    return float(prob.value)


@at_most(20)
@given(st.data())
def test_one_cone_bound_any_mu(data) -> None:
    k = data.draw(st.integers(1, 6))
    d = data.draw(st.integers(1, 4))
    A = data.draw(matrix(k, d))
    g = data.draw(vector(d))
    mu = data.draw(vector(k, st.floats(0, 5, allow_nan=False, allow_subnormal=False)))
    best = cone_max(g, A)
    tol = 1e-7 * (1 + np.linalg.norm(g))
    assert best <= np.linalg.norm(g + A.T @ mu) + tol
    mu_star = cone_multipliers(g, A)
    assert np.all(mu_star >= 0)
    assert best <= np.linalg.norm(g + A.T @ mu_star) + tol


@at_most(20)
@given(st.data())
def test_one_cone_bound_nnls_attains_projection_norm(data) -> None:
    """On a pattern cone with an interior point, the NNLS bound equals the maximum (Moreau)."""
    n = data.draw(st.integers(1, 8))
    d = data.draw(st.integers(1, 4))
    X = data.draw(matrix(n, d))
    gate = data.draw(vector(d, st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) >= 0.1)))
    pre = X @ gate
    assume(np.all((np.abs(pre) > 1e-3) | ~X.any(axis=1)))  # the gate is interior to its cone
    A = cone_rows(X, (pre >= 0).astype(float))
    g = data.draw(vector(d))
    best = cone_max(g, A)
    v = correlation_vector(g, A)
    mu = cone_multipliers(g, A)
    np.testing.assert_allclose(v, g + A.T @ mu, rtol=0, atol=1e-12)
    scale = 1 + np.linalg.norm(g)
    assert abs(best - np.linalg.norm(v)) <= 1e-6 * scale, (best, np.linalg.norm(v))
    # Moreau: v = Pi_K(g) lies in K and is orthogonal to g - v
    assert np.all(A @ v >= -1e-8 * scale * (1 + np.abs(A).sum(axis=1)))
    assert abs(v @ (g - v)) <= 1e-8 * scale * scale


# --- Weak duality: the certified lower bound is below the scope's optimum ---------------------------


@st.composite
def instances(draw: st.DrawFn, max_n: int = 6, max_d: int = 3, max_m: int = 3):
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(1, max_m))
    return draw(matrix(n, d)), draw(vector(n)), draw(LAMS), draw(matrix(d, m)), draw(vector(m))


def crelu_optimum(X: np.ndarray, y: np.ndarray, lam: Fraction, patterns: list[tuple[int, ...]]) -> float:
    D = np.array(patterns, dtype=np.uint8).T
    return solve_crelu(X, y, float(lam), D).objective


@at_most(20)
@given(instances(), st.integers(1, 5), st.data())
def test_weak_duality_given_scope(case, count: int, data) -> None:
    X, y, lam, W1, w2 = case
    n, d = X.shape
    G = data.draw(matrix(d, count, st.floats(-3, 3, allow_nan=False, allow_subnormal=False)))
    D = patterns_of_gates(X, G)
    if data.draw(st.booleans()):  # a pattern no gate may realize (its cone can be {0})
        D = np.unique(np.hstack([D, data.draw(matrix(n, 1, st.sampled_from([0.0, 1.0]))).astype(np.uint8)]),
                      axis=1)
    problem = Problem(X, y, lam)
    result = verify(problem, Network(W1, w2), patterns={"D": D})
    strings = [encode(D[:, p].tolist()) for p in range(D.shape[1])]
    opt = crelu_optimum(X, y, problem.lam, [tuple(D[:, p]) for p in range(D.shape[1])])
    assert float(result.lower_bound) <= opt + 1e-7 * (1 + abs(opt)), (result.lower_bound, opt)
    assert result.objective - result.lower_bound == result.gap
    report = check_certificate(result.to_json(), X.tolist(), y.tolist(), W1.tolist(), w2.tolist(),
                               patterns_sha256=patterns_digest(n, strings))
    assert report.accepted, [v.reason for v in report.verdicts if not v.accepted]


@at_most(20)
@given(instances())
def test_weak_duality_own_scope(case) -> None:
    X, y, lam, W1, w2 = case
    scope = exact_own_patterns(X, W1)
    assume(0 < len(scope) <= 24)
    problem = Problem(X, y, lam)
    result = verify(problem, Network(W1, w2))
    assert result.scope == "own"
    assert result.certificate["diagnostics"]["scope_patterns"] == len(scope)
    opt = crelu_optimum(X, y, problem.lam, scope)
    assert float(result.lower_bound) <= opt + 1e-7 * (1 + abs(opt)), (result.lower_bound, opt)
    # without exact or near ties the own scope is the float patterns 1[X W1_j >= 0]
    pre = X @ W1
    live = np.abs(W1).sum(axis=0) > 0
    rel = np.abs(pre[:, live]) / np.maximum(np.outer(np.abs(X).sum(axis=1), np.abs(W1[:, live]).sum(axis=0)),
                                            1e-300)
    if np.all(rel > 1e-9):
        floats = {tuple(int(b) for b in (pre[:, j] >= 0)) for j in np.flatnonzero(live)}
        assert floats == set(scope)
    report = check_certificate(result.to_json(), X.tolist(), y.tolist(), W1.tolist(), w2.tolist())
    assert report.accepted, [v.reason for v in report.verdicts if not v.accepted]


@at_most(20)
@given(instances(), st.integers(1, 6), st.data())
def test_weak_duality_at_the_scope_optimum(case, count: int, data) -> None:
    """For the mapped optimum over S the bound is tight: opt - 1e-5 <= L <= opt + 1e-7 (relative)."""
    X, y, lam, _, _ = case
    n, d = X.shape
    G = data.draw(matrix(d, count, st.floats(-3, 3, allow_nan=False, allow_subnormal=False)))
    D = patterns_of_gates(X, G)
    problem = Problem(X, y, lam)
    solution = solve_crelu(X, y, float(problem.lam), D)
    blocks = solution.blocks()
    assume(blocks.count > 0)
    net = blocks_to_network(blocks.weights, blocks.signs)
    result = verify(problem, net, patterns={"D": D})
    opt = solution.objective
    assert float(result.lower_bound) <= opt + 1e-7 * (1 + abs(opt)), (result.lower_bound, opt)
    assert float(result.lower_bound) >= opt - 1e-5 * (1 + abs(opt)), (result.lower_bound, opt)
    report = check_certificate(result.to_json(), X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist())
    assert report.accepted, [v.reason for v in report.verdicts if not v.accepted]
