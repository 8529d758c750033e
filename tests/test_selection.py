"""Selection inside scaling polytopes (certify.selection.select) and claim C16 (theory.md §6)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InputError, SolverError
from certify.network import Network
from certify.problem import Problem
from certify.selection import select
from certify.selection.polytope import ScalingPolytope, distinct_atoms, merge_duplicates, neuron_polytope

FIT_TOL = 1e-7
VALUE_TOL = 1e-6


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


def dependent_network(seed: int, n: int = 5, d: int = 3, m: int = 8
                      ) -> tuple[np.ndarray, np.ndarray, Network]:
    """More neurons than data points: the own-neuron polytope has dimension >= m - n around beta = 1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    W1 = rng.standard_normal((d, m))
    W1[:, 0] = X[0] / np.linalg.norm(X[0])  # every neuron active somewhere
    return X, y, Network(W1, rng.choice([-1.0, 1.0], m) * rng.uniform(0.5, 2.0, m))


def duplicated_network(seed: int, n: int = 12, d: int = 3, base: int = 3, copies: int = 3
                       ) -> tuple[np.ndarray, np.ndarray, Network]:
    """``base`` generic neurons, each split into ``copies`` positively scaled copies (duplicates)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    U = rng.standard_normal((d, base))
    cols, outs = [], []
    for j in range(base):
        s = rng.choice([-1.0, 1.0])
        for _ in range(copies):
            t = rng.uniform(0.3, 2.0)
            cols.append(t * U[:, j])
            outs.append(s * t)
    return X, y, Network(np.array(cols).T, np.array(outs))


def _in_polytope(poly: ScalingPolytope, sel: select.Selection) -> None:
    assert np.all(sel.alpha >= 0)
    scale = max(1.0, float(np.linalg.norm(poly.fit)))
    assert np.linalg.norm(poly.M @ sel.alpha - poly.fit) <= FIT_TOL * scale
    assert sel.fit_residual <= FIT_TOL
    assert sel.width == int(np.sum(sel.alpha > 0))


@at_most(15)
@given(st.integers(0, 10**6))
def test_selections_lie_in_the_polytope_and_win_by_their_own_criterion(seed):
    X, y, net = dependent_network(seed)
    poly = neuron_polytope(X, net)
    assert select.support_dimension(poly)[1] >= 8 - 5  # non-trivial: beta = 1 is an interior point
    rng = np.random.default_rng(seed + 1)
    Xv, yv = rng.standard_normal((6, X.shape[1])), rng.standard_normal(6)
    sels = {"norm": select.min_norm(poly), "vertex": select.extreme_point(poly, cost="random", seed=seed),
            "valid": select.min_validation(poly, Xv, yv)}
    for sel in sels.values():
        _in_polytope(poly, sel)
    w = poly.penalty_weights()
    c = np.random.default_rng(seed).uniform(1.0, 2.0, poly.size)
    A_val = poly.atoms(Xv)
    points = [s.alpha for s in sels.values()] + [poly.reference]
    for a in points:
        assert sels["norm"].value <= np.sum((w * a) ** 2) * (1 + VALUE_TOL) + VALUE_TOL
        assert sels["vertex"].value <= c @ a * (1 + VALUE_TOL) + VALUE_TOL
        assert sels["valid"].value <= np.sum((A_val @ a - yv) ** 2) * (1 + VALUE_TOL) + VALUE_TOL
    # a vertex: the fits of its atoms are linearly independent
    A = sels["vertex"].alpha > 0
    assert np.linalg.matrix_rank(poly.M[:, A]) == int(A.sum())


@at_most(10)
@given(st.integers(0, 10**6))
def test_selections_on_duplicates_keep_the_objective_and_the_function(seed):
    """Duplicates give a non-trivial polytope whose points all have the same objective and the
    same function everywhere (theory.md §4); after merging it is a single point."""
    X, y, net = duplicated_network(seed)
    problem = Problem(X, y, "1/10")
    poly = neuron_polytope(X, net)
    _, dim = select.support_dimension(poly)
    assert dim == 6  # 3 neurons x (3 copies - 1)
    merged = merge_duplicates(poly)
    assert merged.size == 3 and select.support_dimension(merged)[1] == 0
    Xt = np.random.default_rng(seed).standard_normal((20, X.shape[1]))
    base = select.training_objective(problem, poly.network(poly.reference))
    preds = []
    picks = (select.min_norm(poly), select.extreme_point(poly), select.min_validation(poly, Xt[:5], y[:5]))
    for sel in picks:
        _in_polytope(poly, sel)
        assert sel.distinct == 3
        net_sel = poly.network(sel.alpha)
        assert select.training_objective(problem, net_sel) == pytest.approx(base, rel=1e-9, abs=1e-12)
        preds.append(net_sel.predict(Xt))
    for p in preds[1:]:
        np.testing.assert_allclose(p, preds[0], rtol=1e-7, atol=1e-9)
    assert select.extreme_point(poly).width == 3  # a vertex keeps one copy of each neuron


def _reference_min_norm(M: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """Min ||alpha||^2 over {alpha >= 0 : M alpha = fit} with cvxpy, independently of certify."""
    import cvxpy as cp

    a = cp.Variable(M.shape[1], nonneg=True)
    cp.Problem(cp.Minimize(cp.sum_squares(a)), [M @ a == fit]).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(a.value)


@at_most(15)
@given(st.integers(0, 10**6))
def test_c16_min_norm_is_the_pseudoinverse_on_its_support(seed):
    """C16: the minimum-norm point satisfies alpha_A = (M_A)^+ fit on its support A."""
    X, _, net = dependent_network(seed)
    poly = neuron_polytope(X, net)
    ref = _reference_min_norm(poly.M, poly.fit)
    support = ref > 1e-5 * ref.max()  # the interior-point reference leaves ~1e-7 on zero entries
    formula = np.linalg.pinv(poly.M[:, support]) @ poly.fit
    np.testing.assert_allclose(formula, ref[support], rtol=1e-5, atol=1e-5)
    sel = select.min_norm(poly, norm="alpha")
    np.testing.assert_allclose(sel.alpha, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(select.min_norm_on_support(poly.M, poly.fit, support)[support], formula,
                               rtol=1e-9, atol=1e-12)


def test_min_norm_weights_and_alpha_norms_agree_when_atoms_have_equal_norms():
    """On P_lambda every ||v_b|| = lam, so sum ||w_b||^2 = lam^2 ||alpha||^2: the same minimizer."""
    X, _, net = dependent_network(3)
    poly = neuron_polytope(X, net)
    norms = poly.penalty_weights()
    V = poly.directions / norms * 0.7
    M = poly.M / norms * 0.7
    eq = ScalingPolytope(V, poly.signs, M, poly.fit)
    a = select.min_norm(eq, norm="weights").alpha
    b = select.min_norm(eq, norm="alpha").alpha
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_max_sum_vertex_and_unbounded_polytope():
    X, _, net = duplicated_network(5)
    poly = neuron_polytope(X, net)
    sel = select.extreme_point(poly)  # max sum alpha
    _in_polytope(poly, sel)
    other = select.min_norm(poly)
    assert sel.alpha.sum() >= other.alpha.sum() - 1e-7
    # two atoms with opposite fits: {alpha >= 0 : a1 - a2 = 0} is unbounded
    v = np.array([[1.0], [0.5]])
    Xs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    col = np.maximum(Xs @ v, 0)[:, 0]
    unb = ScalingPolytope(np.hstack([v, v]), np.array([1, -1]), np.stack([col, -col], axis=1), np.zeros(3))
    with pytest.raises(SolverError, match="unbounded"):
        select.extreme_point(unb)
    assert select.extreme_point(unb, cost="random").width == 0


def test_distinct_atoms_merges_positive_multiples_only():
    V = np.array([[1.0, 2.0, -1.0, 1.0], [1.0, 2.0, -1.0, 1.0]])
    s = np.array([1, 1, 1, -1])
    assert distinct_atoms(V, s, np.ones(4, bool)) == 3


def test_bad_inputs_are_rejected_with_clear_errors():
    X, _, net = dependent_network(1)
    poly = neuron_polytope(X, net)
    with pytest.raises(InputError, match="inconsistent shapes"):
        ScalingPolytope(poly.directions, poly.signs, poly.M[:, :-1], poly.fit)
    with pytest.raises(InputError, match="NaN"):
        ScalingPolytope(poly.directions, poly.signs, poly.M, poly.fit * np.nan)
    with pytest.raises(InputError, match="signs"):
        ScalingPolytope(poly.directions, poly.signs * 2, poly.M, poly.fit)
    with pytest.raises(InputError, match="norm"):
        select.min_norm(poly, norm="l1")
    with pytest.raises(InputError, match="cost"):
        select.extreme_point(poly, cost="min")
    with pytest.raises(InputError, match="features have shape"):
        select.min_validation(poly, np.zeros((3, X.shape[1] + 1)), np.zeros(3))
    with pytest.raises(InputError, match="y_val"):
        select.min_validation(poly, X, np.zeros(X.shape[0] + 1))
    with pytest.raises(InputError, match="no non-zero neuron"):
        neuron_polytope(X, Network(np.zeros((X.shape[1], 2)), np.ones(2)))


def test_network_polytope_with_bias_reproduces_the_network():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    net = Network(rng.standard_normal((2, 4)), rng.standard_normal(4), rng.standard_normal(4))
    problem = Problem(X, rng.standard_normal(10), "1/2", bias=True)
    poly = neuron_polytope(problem.features, net, bias=True)
    same = poly.network(poly.reference, bias=True)
    Xt = rng.standard_normal((7, 2))
    np.testing.assert_allclose(same.predict(Xt), net.predict(Xt), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(poly.atoms(np.hstack([Xt, np.ones((7, 1))])) @ poly.reference, net.predict(Xt),
                               rtol=1e-12, atol=1e-12)


def _planted_polytope(planted) -> ScalingPolytope:
    V = np.array([[float(c) for c in v] for v in planted.v]).T
    M = np.array([[float(c) for c in col] for col in planted.columns]).T
    signs = np.array([s for _, s in planted.blocks])
    return ScalingPolytope(V, signs, M, np.array([float(f) for f in planted.fit]))


def _convex_objective(planted, poly: ScalingPolytope, alpha: np.ndarray) -> float:
    r = poly.M @ alpha - planted.y
    return 0.5 * float(r @ r) + float(planted.lam) * float(poly.penalty_weights() @ alpha)


def _reference_min_over_hull(vertices: np.ndarray, objective) -> float:
    """min of a convex objective over the convex hull of known vertices (cvxpy, independent)."""
    import cvxpy as cp

    t = cp.Variable(vertices.shape[0], nonneg=True)
    prob = cp.Problem(cp.Minimize(objective(vertices.T @ t)), [cp.sum(t) == 1])
    prob.solve(solver=cp.CLARABEL)
    return float(prob.value)


@at_most(10)
@given(st.integers(0, 50), st.sampled_from([0, 1, 2]))
def test_selections_on_a_planted_optimal_set_with_known_vertices(seed, which):
    """A planted gated-ReLU instance whose optimal set is a known non-trivial polytope
    (certify.testing.planted): every selection is optimal (the convex objective equals p*), the
    extreme points are among the known vertices, and each criterion matches its minimum over the
    convex hull of the known vertices."""
    from fractions import Fraction

    from certify.testing.planted import planted_gated

    family, groups, alpha0 = [  # (family, groups, alpha0): 2, 2 and 6 vertices
        (None, 2, None), ([(0,), (1,), (0, 1), (), (2,)], 3, None),
        ([(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2), ()], 3, [Fraction(1)] * 3 + [Fraction(0)] * 5),
    ][which]
    planted = planted_gated(seed, groups=groups, family=family, alpha0=alpha0)
    poly = _planted_polytope(planted)
    vertices = np.array([[float(a) for a in v] for v in planted.vertices])
    assert len(vertices) >= 2  # non-trivial
    p_star = float(planted.optimal_value)
    rng = np.random.default_rng(seed)
    Xv, yv = rng.standard_normal((4, poly.directions.shape[0])), rng.standard_normal(4)
    A_val = poly.atoms(Xv)
    sels = [select.min_norm(poly), select.extreme_point(poly),
            select.extreme_point(poly, cost="random", seed=seed), select.min_validation(poly, Xv, yv)]
    for sel in sels:
        _in_polytope(poly, sel)
        assert _convex_objective(planted, poly, sel.alpha) == pytest.approx(p_star, rel=1e-9)
    for sel in sels[1:3]:
        assert np.min(np.abs(vertices - sel.alpha).max(axis=1)) <= 1e-9
    import cvxpy as cp

    w = poly.penalty_weights()
    ref = _reference_min_over_hull(vertices, lambda a: cp.sum_squares(cp.multiply(w, a)))
    assert sels[0].value == pytest.approx(ref, rel=1e-6, abs=1e-9)
    ref_v = _reference_min_over_hull(vertices, lambda a: cp.sum_squares(A_val @ a - yv))
    assert sels[3].value == pytest.approx(ref_v, rel=1e-6, abs=1e-9)


def test_from_optimal_set_reproduces_the_planted_polytope():
    """P_lambda from certify.optimal_set.analysis (float estimates) as a scaling polytope: the
    extreme points found by the selection are the planted vertices."""
    from certify.optimal_set.analysis import optimal_set
    from certify.selection.polytope import from_optimal_set
    from certify.testing.planted import planted_gated

    planted = planted_gated(3)
    U, H = planted.weights(planted.alpha0)
    result = optimal_set(planted.X, planted.y, float(planted.lam), planted.D, U, H, gated=True)
    poly = from_optimal_set(planted.X, planted.D, result)
    assert poly.size == len(planted.vertices[0])
    assert select.support_dimension(poly)[1] == 1  # a segment
    vertices = np.array([[float(a) for a in v] for v in planted.vertices])
    found = {tuple(np.round(select.extreme_point(poly, cost="random", seed=s).alpha, 9)) for s in range(8)}
    assert found == {tuple(np.round(v, 9)) for v in vertices}


def test_select_all_reports_equal_objectives_on_an_optimal_set_only():
    X, y, net = duplicated_network(7)
    problem = Problem(X, y, "1/10")
    report = select.select_all(problem, neuron_polytope(X, net), X[:4], y[:4])
    assert set(report.selected) == set(select.CRITERIA) and report.equal
    X2, y2, net2 = dependent_network(7)  # not optimal: the penalty varies over the polytope
    report2 = select.select_all(Problem(X2, y2, "1/10"), neuron_polytope(X2, net2), X2[:3], y2[:3],
                                cost="random")
    assert not report2.equal and report2.spread > 1e-6


@pytest.mark.parametrize("make", ["relu0", "relu2", "gated2"])
def test_min_norm_on_p_lambda_estimated_from_a_solver_solution(make):
    """Regression: P_lambda built from a float solve (not the planted exact weights) is consistent
    enough for the QP selections (the raw estimates made Clarabel report 'infeasible' or missed
    the fit by 5e-7); on the planted gated segment the min-norm point is its midpoint."""
    from certify.optimal_set.analysis import optimal_set
    from certify.selection.polytope import from_optimal_set
    from certify.solve.working_set import solve
    from certify.testing.planted import planted_gated, planted_relu

    planted = {"relu0": lambda: planted_relu(0), "relu2": lambda: planted_relu(2),
               "gated2": lambda: planted_gated(2)}[make]()
    gated = make.startswith("gated")
    X, y, D = (np.asarray(a, float) for a in (planted.X, planted.y, planted.D))
    sol = solve(X, y, float(planted.lam), D, gated=gated)
    poly = from_optimal_set(X, D, optimal_set(X, y, float(planted.lam), D, sol.U, sol.H, gated=gated))
    chosen = select.min_norm(poly)
    assert chosen.fit_residual <= 1e-7
    if gated:
        np.testing.assert_allclose(chosen.alpha, 0.5, atol=1e-3)
