"""Pattern sources, refinement to a stationary network, ``certify fit``, and claims C1-C4."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.check.checker import check_certificate
from certify.cli import main
from certify.convex.correlation import correlation_vectors
from certify.convex.mapping import nc_objective
from certify.errors import BudgetError, InputError
from certify.fit import fit
from certify.patterns.sources import adjacent_patterns, gate_patterns, network_patterns, union
from certify.problem import Problem
from certify.solve.cvxpy_reference import solve_crelu
from certify.solve.refine import FastSolver, cvxpy_solver, refine
from certify.verify import verify
from tests.instances import gaussian_data


def test_sources_are_distinct_and_adjacent_cells_flip_near_ties():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0], [0.0, 0.0]])
    W1 = np.array([[1.0, 2.0], [-1.0, 1.0]])  # neuron 0 is tied with row 2
    own = network_patterns(X, W1)
    assert own.shape == (5, 2)
    adj = adjacent_patterns(X, W1)
    assert adj.shape[1] == 3  # neuron 0: two cells; neuron 1: one
    flipped = [c for c in adj.T if c[2] == 0]
    assert len(flipped) == 1 and flipped[0][4] == 1  # zero rows never flip
    both = union(own, adj, own)
    assert both.shape[1] == 3 and np.array_equal(both[:, :2], own)
    G = gate_patterns(X, 50, seed=1)
    assert len({c.tobytes() for c in G.T}) == G.shape[1]
    with pytest.raises(BudgetError, match="near ties"):
        adjacent_patterns(np.vstack([X[:4], X[2:3] * 2, X[2:3] * 3]), W1, max_flips=2)


@pytest.fixture(scope="module", params=["fast", "cvxpy"])
def refined(request):
    X, y = gaussian_data(30, 3, seed=5)
    D = gate_patterns(X, 6, seed=2)
    solver = FastSolver() if request.param == "fast" else cvxpy_solver
    return X, y, D, refine(X, y, 0.5, D, solver)


def test_fast_and_reference_refinements_start_from_the_same_optimum(refined):
    X, y, D, res = refined
    reference = solve_crelu(X, y, 0.5, D).objective
    assert res.objectives[0] == pytest.approx(reference, rel=1e-7)


def test_fit_rejects_an_unknown_solver():
    X, y = gaussian_data(10, 2, seed=1)
    with pytest.raises(InputError, match="solver must be one of fast, cvxpy"):
        fit(Problem(X, y, "0.5"), solver="scnn")


def test_fit_with_either_solver_reaches_the_same_sampled_optimum():
    X, y = gaussian_data(20, 2, seed=4)
    problem = Problem(X, y, "0.3")
    fast = fit(problem, gates=6, refine_network=False)
    ref = fit(problem, gates=6, refine_network=False, solver="cvxpy")
    assert fast.solver == "fast" and ref.solver == "cvxpy" and fast.fallbacks == 0
    values = [nc_objective(X, y, 0.3, r.network.W1, r.network.w2) for r in (fast, ref)]
    assert values[0] == pytest.approx(values[1], rel=1e-7)


def test_refinement_never_increases_nc_and_ends_stationary(refined):
    X, y, D, res = refined
    assert res.stationary
    assert all(b <= a * (1 + 1e-12) for a, b in zip(res.objectives, res.objectives[1:], strict=False))
    assert res.objectives[-1] < res.objectives[0]
    # optimal over every adjacent cell: the verified gap over that scope is tiny
    adj = adjacent_patterns(X, res.network.W1)
    problem = Problem(X, y, "0.5")
    over_adjacent = verify(problem, res.network, patterns={"D": adj})
    assert over_adjacent.relative_gap <= 1e-6
    own = verify(problem, res.network)
    assert own.relative_gap <= 1e-6
    assert nc_objective(X, y, 0.5, res.network.W1, res.network.w2) == pytest.approx(float(own.objective))


def test_fit_command_refined_and_sampled(tmp_path, capsys):
    X, y = gaussian_data(25, 2, seed=9)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    net, pats = tmp_path / "net.npz", tmp_path / "S.npz"
    assert main(["fit", "--data", str(tmp_path / "d.npz"), "--lam", "0.4", "--gates", "5", "--bias",
                 "-o", str(net), "--patterns-out", str(pats)]) == 0
    out = capsys.readouterr().out
    assert "refinement: NC" in out
    assert main(["verify", "--data", str(tmp_path / "d.npz"), "--model", str(net), "--lam", "0.4", "--bias",
                 "-o", str(tmp_path / "c.json"), "--quiet"]) == 0
    cert = (tmp_path / "c.json").read_text()
    import json

    gap = json.loads(cert)["claims"][2]
    from fractions import Fraction

    objective = Fraction(json.loads(cert)["claims"][0]["objective"])
    assert Fraction(gap["gap"]) <= Fraction(1, 10**6) * objective
    net2, pats2 = tmp_path / "net2.npz", tmp_path / "S2.npz"
    assert main(["fit", "--data", str(tmp_path / "d.npz"), "--lam", "0.4", "--gates", "5", "--no-refine",
                 "-o", str(net2), "--patterns-out", str(pats2), "--quiet"]) == 0
    assert main(["verify", "--data", str(tmp_path / "d.npz"), "--model", str(net2), "--lam", "0.4",
                 "--patterns", str(pats2), "-o", str(tmp_path / "c2.json"), "--quiet"]) == 0
    doc = json.loads((tmp_path / "c2.json").read_text())
    assert Fraction(doc["claims"][2]["gap"]) <= Fraction(1, 10**6) * Fraction(doc["claims"][0]["objective"])
    data = np.load(tmp_path / "d.npz")
    model = np.load(net2)
    assert check_certificate(json.dumps(doc), data["X"].tolist(), data["y"].tolist(), model["W1"].tolist(),
                             model["w2"].tolist()).accepted


# ----- claims C1-C4 of theory.md §8 on the cvxpy reference ----------------------------------

instances = st.tuples(st.integers(8, 20), st.integers(1, 3), st.integers(0, 10_000),
                      st.sampled_from([0.05, 0.2, 0.8]))


def _solve(n, d, seed, lam, count=8):
    X, y = gaussian_data(n, d, seed)
    D = gate_patterns(X, count, seed)
    return X, y, D, solve_crelu(X, y, lam, D)


@settings(max_examples=10)
@given(instances)
def test_c1_unique_fit_and_c2_penalty_identity(case):
    n, d, seed, lam = case
    X, y, D, sol = _solve(n, d, seed, lam)
    blocks = sol.blocks()
    fit = blocks.prediction(X)
    # C1: the same program with the patterns in reverse order has the same fit
    other = solve_crelu(X, y, lam, D[:, ::-1]).blocks().prediction(X)
    assert np.allclose(fit, other, atol=1e-5 * (1 + np.abs(y).max()))
    # C2: lam * sum ||w_b|| = <yhat, r>
    r = y - fit
    penalty = lam * np.linalg.norm(blocks.weights, axis=0).sum()
    assert penalty == pytest.approx(float(fit @ r), abs=1e-5 * (1 + abs(penalty)))


@settings(max_examples=10)
@given(instances)
def test_c3_correlation_vectors(case):
    n, d, seed, lam = case
    X, y, D, sol = _solve(n, d, seed, lam)
    r = y - sol.blocks().prediction(X)
    pats = np.hstack([D, D])
    signs = np.concatenate([np.ones(D.shape[1], int), -np.ones(D.shape[1], int)])
    V = correlation_vectors(X, r, pats, signs)
    assert np.linalg.norm(V, axis=0).max() <= lam * (1 + 1e-5)
    W = np.hstack([sol.U, sol.H])
    norms = np.linalg.norm(W, axis=0)
    for b in np.flatnonzero(norms > 1e-4 * max(norms.max(), 1e-3 * np.linalg.norm(y))):
        assert np.allclose(W[:, b] / norms[b], V[:, b] / lam, atol=1e-3)


@settings(max_examples=10)
@given(instances)
def test_c4_zero_solution_above_lambda_max(case):
    n, d, seed, _ = case
    X, y = gaussian_data(n, d, seed)
    D = gate_patterns(X, 8, seed)
    pats = np.hstack([D, D])
    signs = np.concatenate([np.ones(D.shape[1], int), -np.ones(D.shape[1], int)])
    lam_max = np.linalg.norm(correlation_vectors(X, y, pats, signs), axis=0).max()
    above = solve_crelu(X, y, lam_max * 1.01, D)
    assert np.abs(np.hstack([above.U, above.H])).max() <= 1e-6 * (1 + lam_max)
    below = solve_crelu(X, y, lam_max * 0.9, D)
    assert np.abs(np.hstack([below.U, below.H])).max() > 1e-4


def test_local_refinement_scope_is_monotone_and_ends_stationary():
    X, y = gaussian_data(30, 3, seed=5)
    D = gate_patterns(X, 6, seed=2)
    res = refine(X, y, 0.5, D, FastSolver(), scope="local")
    assert res.stationary
    assert all(b <= a * (1 + 1e-12) for a, b in zip(res.objectives, res.objectives[1:], strict=False))
    adj = adjacent_patterns(X, res.network.W1)
    assert {c.tobytes() for c in adj.T} <= {c.tobytes() for c in res.patterns.T}
    problem = Problem(X, y, "0.5")
    assert verify(problem, res.network, patterns={"D": adj}).relative_gap <= 1e-6
    with pytest.raises(InputError, match="scope must be"):
        refine(X, y, 0.5, D, FastSolver(), scope="global")
