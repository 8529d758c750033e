"""Certified eps-paths (issue 9): producer, checker, mutation suite, C13, cvxpy band, CLI.

The mutation suite compares the checker with the independent reference of
tests/path_reference.py: a mutant is accepted iff the reference says its claim still holds.
"""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.certificates.certificate import to_json
from certify.certificates.path import grid_entry, lower_bounds
from certify.certified_path import certify_path, geometric_grid, grid_passes
from certify.check.checker import check_certificate
from certify.check.limits import CheckLimits
from certify.check.path import check_data_certificate
from certify.cli import main
from certify.errors import InputError
from certify.exact.digest import patterns_digest
from certify.exact.rational import format_rational
from certify.patterns.sources import gate_patterns
from certify.solve.cvxpy_reference import solve_crelu
from certify.solve.working_set import SolverOptions, solve
from tests.path_reference import eps_path_holds, zero_above_holds

TIGHT = SolverOptions(gap_tol=1e-11)


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


def _instance(seed: int, n: int = 12, d: int = 2, gates: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    F = np.hstack([X, np.ones((n, 1))])
    return X, y, F, gate_patterns(F, gates, seed)


@pytest.fixture(scope="module")
def path_abs():
    X, y, F, D = _instance(0)
    res = certify_path(X, y, D, "1/20", "4", "1/100", bias=True, options=TIGHT)
    return X, y, D, res


@pytest.fixture(scope="module")
def path_rel():
    X, y, F, D = _instance(1)
    res = certify_path(X, y, D, "1/10", "2", "1/200", relative=True, bias=True, options=TIGHT)
    return X, y, D, res


def _check(doc, X, y, digest=None):
    return check_data_certificate(copy.deepcopy(doc), X.tolist(), y.tolist(), digest)


def _plist(doc):
    return doc["claims"][0]["scope"]["patterns"]


# ------------------------------------------------------------------------------------------------
# producer and checker agree


@pytest.mark.parametrize("which", ["path_abs", "path_rel"])
def test_certified_path_is_accepted_and_reference_agrees(which, request):
    X, y, D, res = request.getfixturevalue(which)
    doc = res.document
    report = _check(doc, X, y, patterns_digest(X.shape[0], _plist(doc)))
    assert report.accepted, [v.reason for v in report.verdicts]
    assert eps_path_holds(doc["claims"][0], X.tolist(), y.tolist(), True, _plist(doc))
    assert zero_above_holds(doc["claims"][1], X.tolist(), y.tolist(), True, _plist(doc))
    assert res.points == len(doc["claims"][0]["grid"]) >= 2
    # the grid was refined: the starting 3 points do not reach eps
    assert res.points > 3


def test_text_round_trip_is_accepted(path_abs):
    X, y, D, res = path_abs
    report = check_data_certificate(to_json(res.document), X.tolist(), y.tolist())
    assert report.accepted


def test_zero_network_threshold_is_tight_and_correct(path_abs):
    """M bounds lam_max from above, tightly: the float lam_max of the scope is just below it, and
    the solver's solution at lam slightly above M is zero."""
    from certify.solve.path import lam_max

    X, y, D, res = path_abs
    F = np.hstack([X, np.ones((X.shape[0], 1))])
    top = lam_max(F, y, D)
    M = float(res.threshold)
    assert top <= M * (1 + 1e-9)
    assert M <= top * (1 + 1e-6)
    sol = solve(F, y, M * 1.001, D, options=TIGHT)
    assert sol.blocks(1e-9).count == 0


# ------------------------------------------------------------------------------------------------
# the mutation suite


def _drop_point(claim: dict, i: int) -> dict:
    """Remove interior grid point i; segments i-1 and i merge, named by network i-1 (reindexed)."""
    c = copy.deepcopy(claim)
    del c["grid"][i]
    segs = c["segments"]
    merged = {"networks": [i - 1], "breaks": []}
    segs[i - 1:i + 1] = [merged]
    for s in segs:
        s["networks"] = [j - 1 if j > i else j for j in s["networks"]]
    return c


def _mutants(claim: dict):
    K = len(claim["grid"])
    some = sorted({0, 1, K // 3, K // 2, K - 2, K - 1})  # a few positions: every check costs K points
    for i in range(1, K - 1):
        if i in some or i % 3 == 0:
            yield f"drop grid point {i}", _drop_point(claim, i)
    for i in some:
        for delta in (Fraction(1, 10**12), Fraction(1, 10**3)):
            c = copy.deepcopy(claim)
            c["grid"][i]["lower_bound"] = format_rational(Fraction(c["grid"][i]["lower_bound"]) + delta)
            yield f"raise lower bound {i} by {delta}", c
            c = copy.deepcopy(claim)
            c["grid"][i]["dual_value"] = format_rational(Fraction(c["grid"][i]["dual_value"]) + delta)
            yield f"raise dual value {i} by {delta}", c
    for factor in (Fraction(1, 2), Fraction(99, 100)):
        c = copy.deepcopy(claim)
        c["lam_min"] = format_rational(Fraction(c["lam_min"]) * factor)
        yield f"widen lam_min by {factor}", c
        c = copy.deepcopy(claim)
        c["lam_min"] = format_rational(Fraction(c["lam_min"]) * factor)
        c["grid"][-1]["lam"] = c["lam_min"]
        yield f"widen lam_min and move the last grid point by {factor}", c
        c = copy.deepcopy(claim)
        c["lam_max"] = format_rational(Fraction(c["lam_max"]) / factor)
        c["grid"][0]["lam"] = c["lam_max"]
        yield f"widen lam_max and move the first grid point by {factor}", c
    for factor in (Fraction(1, 2), Fraction(9, 10), Fraction(2)):
        c = copy.deepcopy(claim)
        c["eps"] = format_rational(Fraction(c["eps"]) * factor)
        yield f"eps times {factor}", c
    for k in range(0, K - 1, max(1, (K - 1) // 4)):
        seg = claim["segments"][k]
        c = copy.deepcopy(claim)
        other = k + 1 if seg["networks"][0] == k else k
        c["segments"][k] = {"networks": [other], "breaks": []}
        yield f"segment {k} names network {other} only", c
        c = copy.deepcopy(claim)
        c["segments"][k] = {"networks": [0], "breaks": []}
        yield f"segment {k} names network 0", c
        if seg["breaks"]:
            c = copy.deepcopy(claim)
            hi, lo = Fraction(claim["grid"][k]["lam"]), Fraction(claim["grid"][k + 1]["lam"])
            c["segments"][k]["breaks"] = [format_rational((hi + 3 * lo) / 4)]
            yield f"segment {k} moves its break", c
    for i in (0, K // 2):
        c = copy.deepcopy(claim)
        rho = c["grid"][i]["evidence"]["rho"]
        rho[0] = str(int(rho[0]) * 2 + 1)
        yield f"rho of grid point {i} changed", c
        c = copy.deepcopy(claim)
        blocks = c["grid"][i]["evidence"]["blocks"]
        for b in blocks:
            if b["mu_num"]:
                b["mu_num"][0] = str(int(b["mu_num"][0]) * 3)
                break
        yield f"a multiplier of grid point {i} tripled", c
    c = copy.deepcopy(claim)
    c["grid"][1]["lam"], c["grid"][2]["lam"] = c["grid"][2]["lam"], c["grid"][1]["lam"]
    yield "two grid lam values swapped", c


@pytest.mark.parametrize("which", ["path_abs", "path_rel"])
def test_checker_accepts_mutant_iff_reference_holds(which, request):
    X, y, D, res = request.getfixturevalue(which)
    doc = res.document
    plist = _plist(doc)
    verdicts = {}
    for name, claim in _mutants(doc["claims"][0]):
        mutant = copy.deepcopy(doc)
        mutant["claims"] = [claim]
        accepted = _check(mutant, X, y).accepted
        expected = eps_path_holds(claim, X.tolist(), y.tolist(), True, plist)
        assert accepted == expected, f"{name}: checker {accepted}, reference {expected}"
        verdicts[name] = accepted
    # the acceptance criteria of the issue: at least one removal, every raised lower bound of 1e-3
    # and every widening (without evidence for the new end) are rejected
    assert any(not v for k, v in verdicts.items() if k.startswith("drop grid point"))
    assert not any(v for k, v in verdicts.items() if k.startswith("widen lam_min by"))
    assert not any(v for k, v in verdicts.items() if "by 1/1000" in k and "lower bound" in k)


def test_zero_above_mutants(path_abs):
    X, y, D, res = path_abs
    doc = res.document
    claim = doc["claims"][1]
    plist = _plist(doc)
    M = Fraction(claim["threshold"])
    cases = {}
    for factor in (Fraction(1, 2), Fraction(999999, 1000000), Fraction(1), Fraction(2)):
        c = copy.deepcopy(claim)
        c["threshold"] = format_rational(M * factor)
        cases[f"threshold times {factor}"] = c
    c = copy.deepcopy(claim)
    c["evidence"]["rho"][0] = str(int(c["evidence"]["rho"][0]) + 1)
    cases["rho is not y"] = c
    c = copy.deepcopy(claim)
    c["evidence"]["blocks"] = c["evidence"]["blocks"][1:]
    cases["a block missing"] = c
    for name, c in cases.items():
        mutant = copy.deepcopy(doc)
        mutant["claims"] = [c]
        accepted = _check(mutant, X, y).accepted
        expected = zero_above_holds(c, X.tolist(), y.tolist(), True, plist)
        assert accepted == expected, f"{name}: checker {accepted}, reference {expected}"
    assert cases and not _check({**doc, "claims": [cases["threshold times 1/2"]]}, X, y).accepted


def test_truncated_and_mismatched_inputs_are_rejected_with_reasons(path_abs):
    X, y, D, res = path_abs
    doc = res.document
    text = to_json(doc)
    rep = check_data_certificate(text[: len(text) // 2], X.tolist(), y.tolist())
    assert not rep.accepted and "not valid JSON" in rep.verdicts[0].reason
    y2 = y.copy()
    y2[0] += 1e-9
    rep = check_data_certificate(text, X.tolist(), y2.tolist())
    assert not rep.accepted and "data digest mismatch" in rep.verdicts[0].reason
    rep = check_data_certificate(text, X.tolist(), y.tolist(), "0" * 64)
    assert not rep.accepted and "is not the one given" in rep.verdicts[0].reason
    bad = copy.deepcopy(doc)
    w = Fraction(bad["claims"][0]["grid"][1]["network"]["w2"][0])
    bad["claims"][0]["grid"][1]["network"]["w2"][0] = format_rational(w * 2 if w else Fraction(1))  # binary64
    rep = _check(bad, X, y)
    assert not rep.verdicts[0].accepted and "network_sha256 does not match" in rep.verdicts[0].reason
    bad = copy.deepcopy(doc)
    bad["claims"][0]["grid"][1]["network"]["w2"][0] = "1/3"
    rep = _check(bad, X, y)
    assert not rep.verdicts[0].accepted and "not a binary64 number" in rep.verdicts[0].reason
    bad = copy.deepcopy(doc)
    bad["claims"][0]["segments"] = bad["claims"][0]["segments"][:-1]
    rep = _check(bad, X, y)
    assert not rep.verdicts[0].accepted and "segments must name" in rep.verdicts[0].reason
    bad = copy.deepcopy(doc)
    bad["claims"][0]["scope"] = {"kind": "own", "max_ties": 3}
    rep = _check(bad, X, y)
    assert not rep.verdicts[0].accepted and "given pattern set" in rep.verdicts[0].reason
    bad = copy.deepcopy(doc)
    bad["claims"][0]["type"] = "objective"
    rep = _check(bad, X, y)
    assert not rep.verdicts[0].accepted and "unknown claim type" in rep.verdicts[0].reason
    # a network certificate's checker refuses a data certificate (no network digest), and vice versa
    rep = check_certificate(text, X.tolist(), y.tolist(), [[0.0], [0.0]], [0.0], [0.0])
    assert not rep.accepted and "network_sha256" in rep.verdicts[0].reason
    bad = copy.deepcopy(doc)
    bad["inputs"]["network_sha256"] = "0" * 64
    rep = _check(bad, X, y)
    assert not rep.accepted and "unknown field" in rep.verdicts[0].reason


def test_resource_limits_reject_hostile_sizes(path_abs):
    X, y, D, res = path_abs
    rep = check_data_certificate(to_json(res.document), X.tolist(), y.tolist(),
                                 limits=CheckLimits(max_work=10_000))
    assert not rep.accepted and "max_work" in rep.verdicts[0].reason


# ------------------------------------------------------------------------------------------------
# the band against independent solves (cvxpy over the same patterns)


@pytest.mark.parametrize("which", ["path_abs", "path_rel"])
def test_cvxpy_optimum_lies_in_the_band(which, request):
    X, y, D, res = request.getfixturevalue(which)
    F = np.hstack([X, np.ones((X.shape[0], 1))])
    rng = np.random.default_rng(7)
    a, b = float(res.entries[-1].lam), float(res.entries[0].lam)
    for lam in np.exp(rng.uniform(np.log(a), np.log(b), 3)):
        lamq = Fraction(float(lam))
        k = max(i for i in range(len(res.entries) - 1) if res.entries[i].lam >= lamq)
        hi, lo = res.entries[k], res.entries[k + 1]
        low = res.lower[k + 1] + (lamq - lo.lam) / (hi.lam - lo.lam) * (res.lower[k] - res.lower[k + 1])
        seg = res.segments[k]
        j = next(j for j, top, bottom in seg.pieces(hi.lam, lo.lam) if bottom <= lamq <= top)
        up = res.entries[j].upper(lamq)
        p = solve_crelu(F, y, float(lam), D).objective
        tol = 1e-7 * max(1.0, abs(p))
        assert float(low) - tol <= p <= float(up) + tol
        gap = float(up - low)
        assert gap <= float(res.eps) * (float(low) if res.relative else 1.0) * (1 + 1e-12)


# ------------------------------------------------------------------------------------------------
# C13: path monotonicity, tolerances from certified gaps


@at_most(8)
@given(seed=st.integers(0, 10_000), lam1=st.floats(0.05, 3.0), ratio=st.floats(1.05, 4.0))
def test_c13_path_monotonicity(seed, lam1, ratio):
    X, y, F, D = _instance(seed, n=10, d=2, gates=4)
    plist = list(dict.fromkeys(
        format(sum(int(D[k, p]) << k for k in range(X.shape[0])), f"0{(X.shape[0] + 3) // 4}x")
        for p in range(D.shape[1])))
    scope = {"kind": "given", "patterns": plist, "patterns_sha256": patterns_digest(X.shape[0], plist)}
    from certify.certified_path import _network

    pts = []
    for lam in (lam1, lam1 * ratio):
        lamq = Fraction(lam)
        sol = solve(F, y, lam, D, options=TIGHT)
        e = grid_entry(X.tolist(), y.tolist(), F, _network(sol, True), lamq, scope, plist)
        U, L = e.upper(lamq), e.dual_value
        g = U - L  # certified: p* in [L, U]
        assert g >= -Fraction(1, 10**9)
        g = max(g, Fraction(0))
        # the fit is unique; ||yhat - yhat*||^2 <= 2 g, so |loss - loss*| <= ||r|| sqrt(2g) + g
        res_norm = np.sqrt(2 * float(e.loss))
        loss_tol = res_norm * np.sqrt(2 * float(g)) + float(g) + 1e-12
        R = float(e.squares) / 2  # sum ||w_b|| of the balanced network
        R_tol = (float(g) + loss_tol) / lam + 1e-12
        pts.append((lam, float(L), float(U), float(e.loss), loss_tol, R, R_tol))
    (l1, L1, U1, loss1, t1, R1, r1), (l2, L2, U2, loss2, t2, R2, r2) = pts
    assert L1 <= U2 + 1e-12  # p*(lam1) <= p*(lam2)
    assert loss1 <= loss2 + t1 + t2  # loss non-decreasing
    assert R1 >= R2 - r1 - r2  # sum ||w|| non-increasing
    dl = l2 - l1
    assert dl * (R2 - r2) <= U2 - L1 + 1e-12  # (l2 - l1) R(l2) <= p*(l2) - p*(l1)
    assert L2 - U1 <= dl * (R1 + r1) + 1e-12  # p*(l2) - p*(l1) <= (l2 - l1) R(l1)


# ------------------------------------------------------------------------------------------------
# grids, errors, CLI


def test_uniform_grid_of_the_adaptive_size_is_checked_the_same_way(path_abs):
    X, y, D, res = path_abs
    lams = geometric_grid(res.entries[-1].lam, res.entries[0].lam, 3)
    passed, info = grid_passes(X, y, D, lams, res.eps, False, bias=True, options=TIGHT)
    assert not passed and info["solves"] == 3
    assert lower_bounds(res.entries) == res.lower


def test_bad_inputs_get_clear_errors():
    X, y, F, D = _instance(0)
    with pytest.raises(InputError, match="lam_min must be below lam_max"):
        certify_path(X, y, D, "2", "1", "0.1", bias=True)
    with pytest.raises(InputError, match="eps must be > 0"):
        certify_path(X, y, D, "1", "2", "0", bias=True)
    with pytest.raises(InputError, match="lam_min must be > 0"):
        certify_path(X, y, D, "-1", "2", "0.1", bias=True)
    with pytest.raises(InputError, match="patterns must be"):
        certify_path(X, y, D[:-1], "1", "2", "0.1", bias=True)


def test_cli_path_and_check(tmp_path, capsys):
    X, y, F, D = _instance(3)
    data = tmp_path / "data.npz"
    np.savez(data, X=X, y=y)
    cert, pats, report = tmp_path / "path.json", tmp_path / "pat.npz", tmp_path / "path.html"
    rc = main(["path", "--data", str(data), "--lam-min", "0.1", "--lam-max", "3", "--eps", "0.01",
               "--bias", "--gates", "5", "-o", str(cert), "--patterns-out", str(pats),
               "--report", str(report), "--compare-uniform"])
    out = capsys.readouterr().out
    assert rc == 0 and "adaptive grid:" in out and "zero network optimal" in out
    assert "uniform (geometric) grid reaching the same eps:" in out and "adaptive" in out
    assert "<img" in report.read_text() and "ACCEPTED" in report.read_text()
    rc = main(["check", str(cert), "--data", str(data), "--patterns", str(pats)])
    out = capsys.readouterr().out
    assert rc == 0 and "ACCEPTED: 2 of 2 claims" in out
    doc = json.loads(cert.read_text())
    doc["claims"][0]["grid"][1]["lower_bound"] = format_rational(
        Fraction(doc["claims"][0]["grid"][1]["lower_bound"]) + 1)
    cert.write_text(json.dumps(doc))
    rc = main(["check", str(cert), "--data", str(data)])
    out = capsys.readouterr().out
    assert rc == 1 and "REJECTED" in out
    rc = main(["path", "--data", str(data), "--lam-min", "0.1", "--lam-max", "3", "--eps", "0.01",
               "--global", "--patterns", str(pats), "-o", str(cert)])  # (--global: tests/test_path_global.py)
    assert rc == 2 and "--global and --patterns exclude each other" in capsys.readouterr().err


def test_cli_check_without_model_on_a_network_certificate(tmp_path, capsys):
    from certify.network import Network
    from certify.problem import Problem
    from certify.verify import verify

    X, y, F, D = _instance(4)
    data = tmp_path / "data.npz"
    np.savez(data, X=X, y=y)
    result = verify(Problem(X, y, "1"), Network(np.ones((2, 1)), np.ones(1)))
    cert = tmp_path / "net.json"
    cert.write_text(result.to_json())
    rc = main(["check", str(cert), "--data", str(data)])
    assert rc == 2 and "--model is required" in capsys.readouterr().err
