"""The theory test kit's optimal-polytope claims C10, C11, C12 and C16 (theory.md §4, §6).

Each claim holds for certify's solver and cvxpy on generated instances and on planted instances with a
known optimal set (certify/testing/planted.py), and FAILS, with the numbers that decide, for a
deliberately wrong input: a minimality verdict computed on unmerged duplicates (C10), a wrong uniqueness
verdict (C11), an analysis that leaves duplicate blocks unmerged (C12), a selection that returns a vertex
instead of the minimum-norm point (C16).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.optimal_set.analysis import optimal_set
from certify.solve.cvxpy_reference import solve_crelu
from certify.testing import CLAIMS, Candidate, Instance, certify_solver, check_solver, cvxpy_solver
from certify.testing import claims as C  # noqa: N812
from certify.testing.check_solver import CONVEX_CLAIMS, NETWORK_CLAIMS
from certify.testing.planted import planted_gated, planted_network, planted_relu

POLYTOPE_CLAIMS = ["C10", "C11", "C12", "C16"]


def at_most(count: int) -> settings:
    """Lowers, never raises, the profile's example count."""
    return settings(max_examples=min(count, settings().max_examples))


def _matrix(planted) -> tuple[np.ndarray, np.ndarray]:
    """The planted (exact, as floats) columns ``Z_b v_b`` and fit."""
    M = np.array([[float(v) for v in col] for col in planted.columns]).T
    return M, np.array([float(v) for v in planted.fit])


def _vertices(planted) -> np.ndarray:
    return np.array([[float(a) for a in v] for v in planted.vertices])


def _instance(planted) -> Instance:
    return Instance(planted.X, planted.y, float(planted.lam), planted.D, label="planted")


# --- the table and check_solver --------------------------------------------------------------------------


def test_claims_are_registered_for_convex_solvers() -> None:
    for claim in POLYTOPE_CLAIMS:
        assert claim in CLAIMS and claim in CONVEX_CLAIMS and claim not in NETWORK_CLAIMS
        assert CLAIMS[claim].needs == "solution" and "theory.md" in CLAIMS[claim].source


@pytest.mark.parametrize("name", ["certify", "cvxpy"])
def test_polytope_claims_hold_for_correct_solvers(name) -> None:
    fn, ref = (certify_solver(), None) if name == "certify" else (cvxpy_solver(), certify_solver())
    report = check_solver(fn, reference=ref, claims=POLYTOPE_CLAIMS, max_examples=15, verbose=False)
    assert report.ok, str(report)
    assert all(r.examples >= 15 and r.applicable > 0 for r in report.results)


# --- planted instances: duplicates (C-ReLU) ----------------------------------------------------------------


@pytest.mark.parametrize("seed, ties", [(0, 1), (1, 2), (2, 2)])
def test_polytope_claims_hold_on_planted_duplicates(seed, ties) -> None:
    """planted_relu: 2^ties duplicate blocks with equal Z_b v_b; merged, P_lam is one point (p-unique)."""
    p = planted_relu(seed, ties=ties)
    inst = _instance(p)
    for fn in (certify_solver(), cvxpy_solver()):
        cand = Candidate.of(fn(inst.X, inst.y, inst.lam, inst.D), inst)
        verdicts = [C.check_c10(inst, cand), C.check_c11(inst, cand), C.check_c12(inst, cand),
                    C.check_c16(inst, cand)]
        assert all(v.holds and v.applicable for v in verdicts), [str(v) for v in verdicts]
        v12 = verdicts[2]
        assert v12.numbers["blocks"] == 1 << ties and v12.numbers["groups"] == 1
        assert v12.numbers["merged_independent"] and not v12.numbers["unmerged_independent"]
        assert verdicts[0].numbers["minimal"] and verdicts[1].numbers["independent"]


def _split_candidate(p) -> Candidate:
    """The planted optimum with its weight split equally over the duplicate blocks (the same network)."""
    k = len(p.blocks)
    return Candidate(*p.weights([p.alpha0[0] / k] * k))


def _unmerged_minimal(inst: Instance, cand: Candidate) -> bool:
    """A WRONG minimality verdict: independence of the non-zero blocks' columns Z_b w_b, duplicates not
    merged (theory.md §4: every solution on a data hyperplane then looks non-minimal)."""
    W, pats, signs = cand.weights()
    live = np.flatnonzero(np.linalg.norm(W, axis=0) > 1e-12)
    cols = np.column_stack([signs[b] * inst.D[:, pats[b]] * (inst.X @ W[:, b]) for b in live])
    return bool(np.linalg.matrix_rank(cols) == live.size)


def test_c10_fails_for_a_minimality_verdict_on_unmerged_duplicates() -> None:
    p = planted_relu(1, ties=2)
    inst = _instance(p)
    cand = _split_candidate(p)
    wrong = _unmerged_minimal(inst, cand)
    assert wrong is False
    right = C.check_c10(inst, cand, minimal=True)
    assert right.holds and right.numbers["minimal"], str(right)
    v = C.check_c10(inst, cand, minimal=wrong)
    assert not v.holds and "minimality verdict under test" in v.message, str(v)
    assert "FAILS" in str(v) and v.numbers["claimed_minimal"] is False


def _unmerged(*args, **kwargs):
    """A WRONG analysis: duplicate blocks left as separate groups, uniqueness tested before merging."""
    out = optimal_set(*args, **kwargs)
    if not out.equicorrelation:
        return out
    P = args[3].shape[1]
    X, D, lam = args[0], np.asarray(args[3], float), args[2]
    V_cols = []
    for b in out.equicorrelation:
        s, pat = (1 if b < P else -1), b % P
        g = s * (X.T @ (D[:, pat] * out.residual))
        V_cols.append(s * D[:, pat] * (X @ (g * lam / max(np.linalg.norm(g), 1e-300))))
    cols = np.column_stack(V_cols)
    rank = np.linalg.matrix_rank(cols / np.linalg.norm(cols, axis=0), tol=1e-4)
    return dataclasses.replace(out, groups=[[b] for b in out.equicorrelation], columns=cols,
                               alpha_max=np.ones(len(V_cols)), support=list(range(len(V_cols))),
                               rank=int(rank), dimension=len(V_cols) - int(rank), unique=rank == len(V_cols))


def test_c12_fails_for_an_analysis_that_does_not_merge_duplicates() -> None:
    p = planted_relu(0, ties=1)
    inst = _instance(p)
    cand = Candidate(*p.weights(p.alpha0))
    assert C.check_c12(inst, cand).holds
    v = C.check_c12(inst, cand, analysis=_unmerged)
    assert not v.holds and "not merged" in v.message, str(v)
    assert v.numbers["groups"] == v.numbers["blocks"] == 2 and not v.numbers["claimed_unique"]


def test_c11_fails_for_a_wrong_uniqueness_verdict() -> None:
    p = planted_relu(2, ties=2)
    inst = _instance(p)
    cand = Candidate(*p.weights(p.alpha0))

    def not_unique(*args, **kwargs):
        return dataclasses.replace(optimal_set(*args, **kwargs), unique=False)

    assert C.check_c11(inst, cand).holds
    v = C.check_c11(inst, cand, analysis=not_unique)
    assert not v.holds and "uniqueness verdict under test" in v.message, str(v)
    # the same wrong verdict breaks C12 (p-uniqueness is decided on the merged columns)
    assert not C.check_c12(inst, cand, analysis=not_unique).holds


def test_analysis_errors_fail_the_claims() -> None:
    p = planted_relu(0, ties=1)
    inst = _instance(p)
    cand = Candidate(*p.weights(p.alpha0))

    def broken(*args, **kwargs):
        from certify.errors import SolverError

        raise SolverError("no non-negative combination")

    for check in (C.check_c10, C.check_c11, C.check_c12, C.check_c16):
        v = check(inst, cand, analysis=broken)
        assert not v.holds and "analysis failed" in v.message


# --- planted non-trivial polytopes (gated ReLU; exact columns) ---------------------------------------------


gated_cases = st.tuples(st.integers(0, 30), st.sampled_from([2, 3]),
                        st.sampled_from([None, [(0,), (1,), (0, 1), (), (2,)],
                                         [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2), ()]]))


def _gated(case):
    seed, d, family = case
    if family is None:
        return planted_gated(seed, d=d)
    alpha0 = [Fraction(1)] * 3 + [Fraction(0)] * (len(family) - 3) if len(family) == 8 else None
    return planted_gated(seed, groups=3, family=family, d=d, alpha0=alpha0)


@at_most(10)
@given(gated_cases)
def test_c10_c11_on_planted_polytopes(case) -> None:
    """Every vertex is minimal with independent support; the average of the vertices (non-trivial P) is
    neither; P is unique iff it has one vertex, and a flipped verdict fails."""
    p = _gated(case)
    M, fit = _matrix(p)
    V = _vertices(p)
    for vert in V:
        v = C.check_c10_polytope(M, fit, vert)
        assert v.holds and v.numbers["minimal"], str(v)
    unique = len(V) == 1
    if not unique:
        mid = C.check_c10_polytope(M, fit, V.mean(axis=0))
        assert mid.holds and not mid.numbers["minimal"], str(mid)
        assert not C.check_c10_polytope(M, fit, V.mean(axis=0), minimal=True).holds
    assert C.check_c11_polytope(M, fit, unique=unique).holds
    wrong = C.check_c11_polytope(M, fit, unique=not unique)
    assert not wrong.holds and "uniqueness verdict" in wrong.message


def _vertex_selector(M: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """A WRONG min-norm selection: a vertex (an LP's basic solution) instead of the min-norm point."""
    from certify.selection.polytope import ScalingPolytope
    from certify.selection.select import extreme_point

    k = M.shape[1]
    return extreme_point(ScalingPolytope(np.eye(k), np.ones(k, int), M, fit), cost="random").alpha


def _midpoint_selector(M: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """A WRONG min-norm selection: the average of two different vertices (generally not min-norm)."""
    from certify.selection.polytope import ScalingPolytope
    from certify.selection.select import extreme_point

    k = M.shape[1]
    poly = ScalingPolytope(np.eye(k), np.ones(k, int), M, fit)
    weights = np.arange(1, k + 1, dtype=float)
    a = extreme_point(poly, cost="random", seed=0).alpha
    b = extreme_point(poly, cost="max_sum").alpha
    return (a + 3 * b) / 4 if not np.allclose(a, b) else a + 0 * weights


@at_most(10)
@given(gated_cases)
def test_c16_holds_for_min_norm_and_fails_for_a_vertex(case) -> None:
    p = _gated(case)
    M, fit = _matrix(p)
    V = _vertices(p)
    alpha = C.default_min_norm(M, fit)
    v = C.check_c16_polytope(M, fit, alpha)
    assert v.holds, str(v)
    # the exact min-norm point over conv(vertices) has the same norm (independent reference)
    import cvxpy as cp

    t = cp.Variable(len(V), nonneg=True)
    cp.Problem(cp.Minimize(cp.sum_squares(V.T @ t)), [cp.sum(t) == 1]).solve(solver=cp.CLARABEL)
    assert float(alpha @ alpha) == pytest.approx(float(np.sum((V.T @ t.value) ** 2)), rel=1e-6, abs=1e-9)
    if len(V) > 1:
        for vert in V:  # no vertex of a non-trivial P here is its min-norm point (the planted families)
            if float(vert @ vert) > float(alpha @ alpha) * (1 + 1e-6):
                wrong = C.check_c16_polytope(M, fit, vert)
                assert not wrong.holds and "minimum-norm" in wrong.message, str(wrong)


def test_c16_fails_for_wrong_selectors_on_an_instance() -> None:
    """Instance level: P_lam estimated from cvxpy's gated solution of planted_gated(0) (a segment); the
    min-norm selection passes, a vertex and a skewed point fail."""
    p = planted_gated(0)
    inst = _instance(p)
    cand = Candidate.of(solve_crelu(inst.X, inst.y, inst.lam, inst.D, gated=True), inst)
    ok = C.check_c16(inst, cand, gated=True)
    assert ok.holds, str(ok)
    for wrong in (_vertex_selector, _midpoint_selector):
        v = C.check_c16(inst, cand, gated=True, selector=wrong)
        assert not v.holds, str(v)
    v = C.check_c16(inst, cand, gated=True, selector=lambda M, fit: np.zeros(2))
    assert not v.holds and "selection returned" in v.message
    v11 = C.check_c11(inst, cand, gated=True)
    assert v11.holds and not v11.numbers["independent"], str(v11)


# --- C10: minimal networks of different widths (the network's own polytope) -----------------------------


def test_c10_minimal_points_may_have_different_widths() -> None:
    """Neurons e1, e2, e1 + e2 on positive data: F3 = F1 + F2; vertices (2, 2, 0) (width 2) and (0, 0, 2)
    (width 1) are both minimal (do not assume equal cardinality)."""
    X = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 3.0]])
    W1 = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    F = np.maximum(X @ W1, 0.0)
    fit = F @ np.ones(3)
    widths = []
    for vert in (np.array([2.0, 2.0, 0.0]), np.array([0.0, 0.0, 2.0])):
        v = C.check_c10_polytope(F, fit, vert)
        assert v.holds and v.numbers["minimal"], str(v)
        widths.append(v.numbers["width"])
    assert sorted(widths) == [1, 2]
    v = C.check_c10_polytope(F, fit, np.ones(3))
    assert v.holds and not v.numbers["minimal"]


@at_most(10)
@given(st.integers(0, 100), st.sampled_from([2, 3]), st.integers(1, 3))
def test_c10_on_planted_network_polytopes(seed, d, extra) -> None:
    pn = planted_network(seed, n=6, d=d, extra=extra)
    F = np.array([[float(v) for v in f] for f in pn.fits]).T
    fit = F @ np.ones(F.shape[1])
    for vert in pn.vertices:
        v = C.check_c10_polytope(F, fit, np.array([float(a) for a in vert]))
        assert v.holds and v.numbers["minimal"], str(v)
    v = C.check_c10_polytope(F, fit, np.ones(F.shape[1]))  # beta = 1: m > rank F, dependent
    assert v.holds and not v.numbers["minimal"], str(v)
    assert not C.check_c10_polytope(F, fit, np.ones(F.shape[1]), minimal=True).holds


def test_check_solver_shrinks_a_wrong_analysis_to_a_small_counterexample(capsys) -> None:
    """check_solver with analysis= under test: an analysis that does not merge duplicate blocks fails C12
    on a generated instance, shrunk to a few points (duplicates occur on most instances: optimal neurons
    lie on data hyperplanes)."""
    report = check_solver(certify_solver(), claims=["C12"], analysis=_unmerged, max_examples=30)
    out = capsys.readouterr().out
    assert report.failing() == ["C12"], out
    res = report.results[0]
    assert res.counterexample is not None and res.counterexample.n <= 4, res.counterexample.describe()
    assert "not merged" in res.verdict.message and "C12 fails" in out
    ok = check_solver(certify_solver(), claims=["C16"], selector=C.default_min_norm, max_examples=10,
                      verbose=False)
    assert ok.ok, str(ok)
