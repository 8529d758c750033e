"""Acceptance criteria of the foundation issue, on small instances (cvxpy as the reference)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.network import Network
from certify.problem import Problem
from certify.solve.cvxpy_reference import solve_crelu
from certify.verify import verify
from tests.instances import (
    gaussian_data,
    global_optimum_planar,
    mapped_optimum,
    planar_data,
    sampled_patterns,
)


def _check(result, problem, network, patterns_sha256=None):
    return check_certificate(result.to_json(), problem.X.tolist(), problem.y.tolist(), network.W1.tolist(),
                             network.w2.tolist(), None if network.b1 is None else network.b1.tolist(),
                             patterns_sha256)


def test_mapped_optimum_has_tiny_gap_relative_to_its_pattern_set():
    X, y = gaussian_data(30, 3, seed=4)
    D = sampled_patterns(X, 12, seed=5)
    net = mapped_optimum(X, y, 0.5, D)
    problem = Problem(X, y, "0.5")
    result = verify(problem, net, patterns={"D": D})
    assert result.scope == "given"
    assert 0 <= result.gap <= 1e-6 * result.objective
    assert _check(result, problem, net).accepted


@pytest.fixture(scope="module")
def planar_optimum():
    X, y = planar_data()
    return Problem(X, y, "0.1"), global_optimum_planar(X, y, 0.1)


def test_global_optimum_has_tiny_own_pattern_gap(planar_optimum):
    problem, net = planar_optimum
    result = verify(problem, net)
    assert result.scope == "own"
    assert result.gap <= 1e-6 * result.objective
    assert result.goldstein_sq is not None and result.goldstein_sq < 1e-6
    assert _check(result, problem, net).accepted


def test_perturbing_one_weight_raises_gap_and_stationarity(planar_optimum):
    problem, net = planar_optimum
    base = verify(problem, net)
    W1 = net.W1.copy()
    W1[0, 0] += 1e-2
    bumped = Network(W1, net.w2)
    result = verify(problem, bumped)
    assert result.gap > 100 * base.gap
    assert result.gap > 1e-7 * result.objective
    assert result.goldstein_sq > 100 * base.goldstein_sq
    assert result.objective > base.objective
    assert _check(result, problem, bumped).accepted


def test_sampled_optimum_own_gap_is_reported_and_sound():
    X, y = gaussian_data(40, 3, seed=7)
    lam = 0.3
    D = sampled_patterns(X, 6, seed=8)
    net = mapped_optimum(X, y, lam, D)
    problem = Problem(X, y, "0.3")
    result = verify(problem, net)
    assert _check(result, problem, net).accepted
    kinks = result.certificate["diagnostics"]["near_kink"]["neurons"]
    assert kinks, "the sampled optimum's neurons sit on rays: near-kink neurons expected"
    # the true optimum over the network's own patterns, computed independently (no exact ties here)
    assert result.certificate["diagnostics"]["exact_ties"] == 0
    own = np.unique((X @ net.W1 >= 0).astype(np.uint8), axis=1)
    own_opt = solve_crelu(X, y, lam, own).objective
    assert float(result.lower_bound) <= own_opt + 1e-7 * (1 + own_opt)
    # the gap is real: NC is well above the own-pattern optimum
    assert float(result.objective) - own_opt > 1e-4 * own_opt
    assert float(result.gap) >= float(result.objective) - own_opt - 1e-9


def test_false_claims_are_rejected(planar_optimum):
    problem, net = planar_optimum
    result = verify(problem, net)
    doc = result.certificate
    edited = copy.deepcopy(doc)
    edited["claims"][0]["objective"] = "1/3"
    rep = check_certificate(edited, problem.X.tolist(), problem.y.tolist(), net.W1.tolist(), net.w2.tolist())
    assert not rep.verdicts[0].accepted and "objective" in rep.verdicts[0].reason
    edited = copy.deepcopy(doc)
    edited["claims"][2]["gap"] = "0"
    rep = check_certificate(edited, problem.X.tolist(), problem.y.tolist(), net.W1.tolist(), net.w2.tolist())
    assert not rep.verdicts[2].accepted and "exceeds the claimed gap" in rep.verdicts[2].reason
    other = Network(net.W1[:, ::-1], net.w2[::-1])  # swapped weights file
    rep = check_certificate(doc, problem.X.tolist(), problem.y.tolist(), other.W1.tolist(), other.w2.tolist())
    assert not rep.accepted and all("network digest mismatch" in v.reason for v in rep.verdicts)


def test_extreme_magnitudes_round_trip():
    """Subnormal, tiny and huge floats: certificates are exact and check (no digit limits)."""
    X = np.array([[1.0, 5e-324], [1e-300, 2.0], [3.0, -1.0]])
    y = np.array([1e-310, 1.0, 2.0])
    net = Network(np.array([[1.0, -1e-200], [0.5, 1e150]]), np.array([1.0, 1e-150]))
    problem = Problem(X, y, "0.1")
    result = verify(problem, net)
    assert float(result.objective) == pytest.approx(5e298, rel=1e-12)
    assert _check(result, problem, net).accepted


def test_bias_network_round_trip():
    X, y = gaussian_data(20, 2, seed=11)
    rng = np.random.default_rng(3)
    net = Network(rng.standard_normal((2, 4)), rng.standard_normal(4), rng.standard_normal(4))
    problem = Problem(X, y, "1/4", bias=True)
    result = verify(problem, net)
    assert result.certificate["inputs"]["bias"] is True
    assert _check(result, problem, net).accepted
    no_bias = Network(net.W1, net.w2)
    rep = check_certificate(result.to_json(), X.tolist(), y.tolist(), no_bias.W1.tolist(),
                            no_bias.w2.tolist())
    assert not rep.accepted
