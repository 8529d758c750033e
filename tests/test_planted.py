"""Planted sub-optimal networks (issue 11, item 2): networks made worse by a known margin.

(a) the global optimum of a d = 2 instance with one weight perturbed, (b) the optimum missing a
neuron it needs, (c) networks optimal only for a few sampled patterns. For each, the true optimum
of the scope a certificate speaks about is computed independently: cvxpy (``solve_crelu``) over the
exact pattern scope, the own scope enumerated in Fractions by tests/reference.py (every tie subset
included), the global optimum over every pattern (``enumerate_planar``, d = 2). Then:

* soundness: the certified lower bound is at most the true scope optimum (up to the solver's
  tolerance, 1e-7 relative), so the certified gap is at least the true excess NC - p*(scope);
* where the perturbation keeps every pattern of the optimum in the network's own scope, the gap is
  at least the planted margin NC(perturbed) - NC(optimum), exactly (no solver involved: the
  optimum is a point of that scope, so p*(own) <= NC(optimum));
* the certificates are genuine: the checker accepts them.

The own-scope gap is NOT a global statement: a network far from the global optimum may legitimately
have a tiny own-scope gap when its own-scope optimum really is that high (cases (b) and (c)); the
tests assert exactly that implication, never more. Global optimality claims belong to issue 12.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.network import Network
from certify.patterns.sampling import enumerate_planar
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
from tests.reference import Instance, Reference, decode_bits

F = Fraction
PLANAR = {"planar-1": (1, "1/10"), "planar-3": (3, "3/10")}  # planar_data seed, lam


def tol(value: float) -> float:
    """The solver's tolerance: 1e-7 relative (cvxpy + Clarabel at 1e-10 gap/feasibility)."""
    return 1e-7 * (1 + abs(value))


def own_scope(X: np.ndarray, y: np.ndarray, net: Network) -> list[str]:
    """The network's own exact pattern scope, computed in Fractions (tests/reference.py)."""
    inst = Instance("planted", X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist(), None, "1")
    scope = Reference(inst).own_scope(12)
    assert scope is not None
    return scope


def scope_optimum(X: np.ndarray, y: np.ndarray, lam: str, patterns: list[str]) -> float:
    D = np.array([decode_bits(p, len(y)) for p in patterns], dtype=np.uint8).T
    return solve_crelu(X, y, float(F(lam)), D).objective


def certify_and_check(problem: Problem, net: Network, patterns: dict | None = None):
    result = verify(problem, net, patterns=patterns)
    report = check_certificate(result.to_json(), problem.X.tolist(), problem.y.tolist(), net.W1.tolist(),
                               net.w2.tolist())
    assert report.accepted, [v.reason for v in report.verdicts if not v.accepted]
    return result


def assert_sound(result, p_scope: float) -> None:
    """lower <= p*(scope) (+ tolerance) and gap >= NC - p*(scope) (- tolerance)."""
    nc = float(result.objective)
    assert float(result.lower_bound) <= p_scope + tol(p_scope), (float(result.lower_bound), p_scope)
    assert float(result.gap) >= nc - p_scope - tol(p_scope), (float(result.gap), nc - p_scope)
    assert result.gap == result.objective - result.lower_bound


def assert_scopes_not_confused(result, p_own: float, p_global: float) -> None:
    """A large global excess comes with a tiny own-scope gap only if the own-scope optimum is really
    that high: gap < excess / 2 implies p*(own) >= p* + excess / 2 (up to the tolerance)."""
    nc = float(result.objective)
    excess = nc - p_global
    assert p_global <= p_own + tol(p_own)  # the own scope is a subset of all patterns
    if excess > 1e-6 * nc and float(result.gap) < excess / 2:
        assert p_own >= p_global + excess / 2 - tol(p_own), (p_own, p_global, excess, float(result.gap))


@pytest.fixture(scope="module", params=sorted(PLANAR))
def planar(request) -> dict:
    seed, lam = PLANAR[request.param]
    X, y = planar_data(seed=seed)
    opt = global_optimum_planar(X, y, float(F(lam)))
    problem = Problem(X, y, lam)
    base = certify_and_check(problem, opt)
    p_all = solve_crelu(X, y, float(F(lam)), enumerate_planar(X)).objective
    p_own = scope_optimum(X, y, lam, own_scope(X, y, opt))
    assert abs(p_own - p_all) <= 1e-6 * p_all  # the optimum's own scope holds a global optimum
    assert float(base.gap) <= 1e-6 * float(base.objective)
    return dict(X=X, y=y, lam=lam, problem=problem, opt=opt, base=base, p_global=p_all,
                own_opt=set(own_scope(X, y, opt)))


def _largest(net: Network) -> int:
    return int(np.argmax(np.abs(net.w2) * np.linalg.norm(net.W1, axis=0)))


def _perturbed(opt: Network, how: str) -> Network:
    j = _largest(opt)
    W1, w2 = opt.W1.copy(), opt.w2.copy()
    if how == "w2 of the largest neuron *1.5":
        w2[j] *= 1.5
    elif how == "w2 of the largest neuron +1e-3":
        w2[j] += 1e-3
    elif how == "w2 of the largest neuron negated":
        w2[j] = -w2[j]
    elif how == "W1 column of the largest neuron *2":
        W1[:, j] *= 2.0  # exact in floats: the patterns are unchanged
    elif how == "W1[0, j] of the largest neuron +1e-2":
        W1[0, j] += 1e-2
    else:  # smallest neuron's W1[1, j] -1e-3
        k = int(np.argmin(np.abs(opt.w2) * np.linalg.norm(opt.W1, axis=0)))
        W1[1, k] -= 1e-3
    return Network(W1, w2)


PERTURBATIONS = ["w2 of the largest neuron *1.5", "w2 of the largest neuron +1e-3",
                 "w2 of the largest neuron negated", "W1 column of the largest neuron *2",
                 "W1[0, j] of the largest neuron +1e-2", "W1[1, k] of the smallest neuron -1e-3"]


@pytest.mark.parametrize("how", PERTURBATIONS)
def test_a_perturbed_optimum(planar: dict, how: str) -> None:
    X, y, lam, problem = planar["X"], planar["y"], planar["lam"], planar["problem"]
    net = _perturbed(planar["opt"], how)
    result = certify_and_check(problem, net)
    margin = result.objective - planar["base"].objective  # exact: how much worse than the optimum
    assert margin > 0
    scope = own_scope(X, y, net)
    p_own = scope_optimum(X, y, lam, scope)
    assert_sound(result, p_own)
    assert_scopes_not_confused(result, p_own, planar["p_global"])
    if planar["own_opt"] <= set(scope):
        # the optimum is a point of this own scope: p*(own) <= NC(optimum), so exactly gap >= margin
        assert result.gap >= margin
    if how.startswith(("w2", "W1 column")):
        assert set(scope) == planar["own_opt"]  # these perturbations keep every exact pattern


def test_b_optimum_missing_a_neuron(planar: dict) -> None:
    """The largest neuron dropped, then also every neuron positively collinear with it (the
    duplicates of its block on the adjacent cells): the remaining own scope may lack the
    dropped block's patterns, so p*(own) may exceed the global optimum. Soundness only: the
    own-scope gap may be small while the network is far from the global optimum (global claims
    belong to issue 12)."""
    X, y, lam, problem, opt = planar["X"], planar["y"], planar["lam"], planar["problem"], planar["opt"]
    j = _largest(opt)
    u = opt.W1[:, j] / np.linalg.norm(opt.W1[:, j])
    cos = (u @ opt.W1) / np.maximum(np.linalg.norm(opt.W1, axis=0), 1e-300)
    variants = {
        "largest neuron dropped": [i for i in range(opt.width) if i != j],
        "largest direction dropped": [i for i in range(opt.width) if not (
            cos[i] > 1 - 1e-6 and np.sign(opt.w2[i]) == np.sign(opt.w2[j]))],
    }
    for name, keep in variants.items():
        net = Network(opt.W1[:, keep], opt.w2[keep])
        result = certify_and_check(problem, net)
        assert result.objective - planar["base"].objective > F(1, 100), name  # planted: much worse
        p_own = scope_optimum(X, y, lam, own_scope(X, y, net))
        assert_sound(result, p_own)
        assert_scopes_not_confused(result, p_own, planar["p_global"])
        if name == "largest direction dropped" and planar["lam"] == "1/10":
            # no neuron left in the dropped block's cells: the own-scope optimum is above p*
            assert p_own > planar["p_global"] + 0.01 * planar["p_global"]


@pytest.mark.parametrize("seed", [2, 5, 8])
def test_c_optimum_of_sampled_patterns(planar: dict, seed: int) -> None:
    """The optimum over 3 sampled patterns: tiny gap relative to those patterns (given scope), a
    sound own-scope gap, and far from the global optimum (so neither gap is a global claim)."""
    X, y, lam, problem = planar["X"], planar["y"], planar["lam"], planar["problem"]
    D = sampled_patterns(X, 3, seed=seed)
    net = mapped_optimum(X, y, float(F(lam)), D)
    given = certify_and_check(problem, net, patterns={"D": D})
    p_given = scope_optimum(X, y, lam, given.certificate["claims"][2]["scope"]["patterns"])
    assert_sound(given, p_given)
    assert abs(float(given.gap)) <= 1e-6 * (1 + float(given.objective))  # attained (up to rounding)
    own = certify_and_check(problem, net)
    p_own = scope_optimum(X, y, lam, own_scope(X, y, net))
    assert_sound(own, p_own)
    assert_scopes_not_confused(own, p_own, planar["p_global"])
    p_global = planar["p_global"]
    assert p_global <= p_given + tol(p_given)
    # planted: far from the global optimum; the given-scope lower bound is above p*, i.e. it is
    # a statement about the sampled patterns only
    assert float(own.objective) - p_global > 0.05 * p_global
    assert float(given.lower_bound) > p_global + 0.05 * p_global


@pytest.mark.parametrize("seed", [4, 6])
def test_c_sampled_optimum_d3(seed: int) -> None:
    """The same with a bias (3 features: no enumeration of every pattern, scope soundness only)."""
    X, y = gaussian_data(12, 2, seed=seed)
    lam = "1/4"
    feats = np.hstack([X, np.ones((12, 1))])
    D = sampled_patterns(feats, 4, seed=seed)
    aug = mapped_optimum(feats, y, 0.25, D)
    net = Network(aug.W1[:-1], aug.w2, aug.W1[-1])
    problem = Problem(X, y, lam, bias=True)
    for patterns in ({"D": D}, None):
        result = verify(problem, net, patterns=patterns)
        report = check_certificate(result.to_json(), X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist(),
                                   net.b1.tolist())
        assert report.accepted, [v.reason for v in report.verdicts if not v.accepted]
        if patterns is None:
            inst = Instance("bias", X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist(), net.b1.tolist(),
                            lam)
            scope = Reference(inst).own_scope(12)
        else:
            scope = result.certificate["claims"][2]["scope"]["patterns"]
        Ds = np.array([decode_bits(p, 12) for p in scope], dtype=np.uint8).T
        assert_sound(result, solve_crelu(feats, y, 0.25, Ds).objective)
