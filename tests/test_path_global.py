"""Certified eps-paths over ALL activation patterns (``certify path --global``, issue 9 items 1, 2, 5).

The global path is accepted by the checker; its cells equal the cells found independently (every
sign vector of the rows tested for an interior point by a linear program); the optimum over all
those cells, solved by cvxpy at random lam of the interval, lies inside the certified band; the
zero-network threshold bounds the exact lam_max over all cells (independent NNLS projections) and
is tight, and the zero network is not optimal below lam_max. CLI end to end, budget and input errors.
"""

from __future__ import annotations

import copy
import itertools
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, nnls

from certify.certificates.path import data_document, zero_above_claim
from certify.check.path import check_data_certificate
from certify.cli import main
from certify.errors import BudgetError
from certify.exact.digest import data_digest
from certify.global_path import certify_global_path, global_scope
from certify.solve.cvxpy_reference import solve_crelu
from certify.solve.working_set import SolverOptions
from tests.path_global_reference import encode, global_eps_path_holds, global_zero_above_holds

TIGHT = SolverOptions(gap_tol=1e-11)


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples), deadline=None)


def _gauss(seed: int, n: int, d: int):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def _degenerate(seed: int, n: int):
    """Integer data with a repeated row and collinear points: not in general position (flips)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, (n, 2)).astype(float)
    X[0] = X[1]
    return X, rng.standard_normal(n)


def _features(X: np.ndarray, bias: bool) -> np.ndarray:
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


@pytest.fixture(scope="module")
def gauss_path():
    X, y = _gauss(0, 9, 2)
    res, cells = certify_global_path(X, y, "1/20", "4", "1/50", bias=True, options=TIGHT)
    return X, y, True, res, cells


@pytest.fixture(scope="module")
def flips_path():
    X, y = _degenerate(3, 8)
    res, cells = certify_global_path(X, y, "1/10", "3", "1/100", relative=True, bias=True, options=TIGHT)
    return X, y, True, res, cells


def independent_cells(F: np.ndarray) -> set[tuple[int, ...]]:
    """Every cell of the arrangement of the rows of F: each sign vector of the distinct non-zero rows
    with an interior point (LP: max t s.t. s_k x_k^T u >= t, |u_i| <= 1), as a row pattern."""
    n, d = F.shape
    live = [k for k in range(n) if np.any(F[k] != 0)]
    reps, of_row = [], {}
    for k in live:
        v = F[k] / np.linalg.norm(F[k])
        hit = next((i for i, r in enumerate(reps) if np.allclose(r, v, atol=1e-12)
                    or np.allclose(r, -v, atol=1e-12)), None)
        if hit is None:
            reps.append(v)
            hit = len(reps) - 1
        of_row[k] = (hit, 1 if np.allclose(reps[hit], v, atol=1e-12) else -1)
    out = set()
    for signs in itertools.product((1, -1), repeat=len(reps)):
        A = -np.array([s * r for s, r in zip(signs, reps, strict=True)])
        res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[A, np.ones(len(reps))], b_ub=np.zeros(len(reps)),
                      bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
        if res.status == 0 and -res.fun > 1e-9:
            out.add(tuple(1 if k not in of_row or signs[of_row[k][0]] * of_row[k][1] > 0 else 0
                          for k in range(n)))
    return out


def _band(res, lamq: Fraction) -> tuple[Fraction, Fraction]:
    k = max(i for i in range(len(res.entries) - 1) if res.entries[i].lam >= lamq)
    hi, lo = res.entries[k], res.entries[k + 1]
    low = res.lower[k + 1] + (lamq - lo.lam) / (hi.lam - lo.lam) * (res.lower[k] - res.lower[k + 1])
    j = next(j for j, top, bottom in res.segments[k].pieces(hi.lam, lo.lam) if bottom <= lamq <= top)
    return low, res.entries[j].upper(lamq)


def exact_lam_max(F: np.ndarray, y: np.ndarray, patterns: set[tuple[int, ...]]) -> float:
    """max over cells D and signs s of ||Pi_{K_D}(s F^T D y)||, K_D = {u : (2D - I) F u >= 0}: by Moreau,
    Pi_K(g) = g + A^T mu* with mu* = argmin_{mu >= 0} ||g + A^T mu|| (scipy NNLS)."""
    best = 0.0
    for pat in patterns:
        D = np.array(pat, float)
        A = (2 * D - 1)[:, None] * F
        for s in (1.0, -1.0):
            g = s * F.T @ (D * y)
            mu, _ = nnls(A.T, -g)
            best = max(best, float(np.linalg.norm(g + A.T @ mu)))
    return best


# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["gauss_path", "flips_path"])
def test_global_path_is_accepted_and_reference_agrees(which, request):
    X, y, bias, res, cells = request.getfixturevalue(which)
    doc = res.document
    report = check_data_certificate(copy.deepcopy(doc), X.tolist(), y.tolist())
    assert report.accepted, [v.reason for v in report.verdicts]
    for v in report.verdicts:
        assert v.values["scope_description"].startswith(f"all activation patterns: {cells.cells} cells")
        assert v.values["scope_description"].endswith(f"complete by {cells.scheme}")
    assert cells.scheme == ("count" if which == "gauss_path" else "flips")
    assert all(c["scope"]["kind"] == "global" for c in doc["claims"])
    assert global_eps_path_holds(doc["claims"][0], X.tolist(), y.tolist(), bias)
    assert global_zero_above_holds(doc["claims"][1], X.tolist(), y.tolist(), bias)
    assert doc["diagnostics"]["scope"]["cells"] == cells.cells


@pytest.mark.parametrize("which", ["gauss_path", "flips_path"])
def test_cells_are_all_cells_and_global_optimum_lies_in_the_band(which, request):
    X, y, bias, res, cells = request.getfixturevalue(which)
    F = _features(X, bias)
    indep = independent_cells(F)
    assert {encode(p) for p in indep} == set(cells.patterns)
    D_all = np.array(sorted(indep), dtype=float).T
    rng = np.random.default_rng(11)
    a, b = float(res.entries[-1].lam), float(res.entries[0].lam)
    for lam in np.exp(rng.uniform(np.log(a), np.log(b), 3)):
        low, up = _band(res, Fraction(float(lam)))
        p = solve_crelu(F, y, float(lam), D_all).objective
        tol = 1e-7 * max(1.0, abs(p))
        assert float(low) - tol <= p <= float(up) + tol
        allowed = float(res.eps) * (float(low) if res.relative else 1.0)
        assert float(up - low) <= allowed * (1 + 1e-12)


@pytest.mark.parametrize("which", ["gauss_path", "flips_path"])
def test_zero_threshold_bounds_lam_max_over_all_patterns(which, request):
    X, y, bias, res, cells = request.getfixturevalue(which)
    F = _features(X, bias)
    indep = independent_cells(F)
    top = exact_lam_max(F, y, indep)
    M = float(res.threshold)
    assert top <= M * (1 + 1e-9)  # the certified threshold is above lam_max over all patterns
    assert M <= top * (1 + 1e-6)  # and tight
    D_all = np.array(sorted(indep), dtype=float).T
    zero = 0.5 * float(y @ y)
    # the zero network is optimal above M (all networks) and NOT optimal below lam_max (sanity)
    assert solve_crelu(F, y, M * 1.01, D_all).objective == pytest.approx(zero, rel=1e-7)
    assert solve_crelu(F, y, top * 0.95, D_all).objective < zero * (1 - 1e-6)


@at_most(5)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 8), d=st.integers(1, 2), bias=st.booleans())
def test_zero_optimal_above_over_all_patterns_property(seed, n, d, bias):
    """For random small data, the global zero_optimal_above claim is accepted, the independent reference
    agrees, and its threshold is at least the exact lam_max over the independently enumerated cells."""
    X, y = _gauss(seed, n, d)
    F = _features(X, bias)
    cells = global_scope(F)
    claim, M = zero_above_claim(X.tolist(), y.tolist(), F, bias, cells.scope, cells.patterns)
    doc = data_document(data_digest(X.tolist(), y.tolist()), n, d, bias, [claim], {})
    report = check_data_certificate(doc, X.tolist(), y.tolist())
    assert report.accepted, [v.reason for v in report.verdicts]
    assert global_zero_above_holds(claim, X.tolist(), y.tolist(), bias)
    indep = independent_cells(F)
    assert {encode(p) for p in indep} == set(cells.patterns)
    assert exact_lam_max(F, y, indep) <= float(M) * (1 + 1e-9)


def test_budget_refused_up_front_with_the_estimate():
    X, y = _gauss(5, 30, 3)
    with pytest.raises(BudgetError, match=r"up to 8180 activation cells .*max_cells = 100.*--max-cells 8180"):
        certify_global_path(X, y, "1/10", "1", "1/10", bias=True, max_cells=100)


# ------------------------------------------------------------------------------------------------
# CLI


def test_cli_global_path_and_check(tmp_path, capsys):
    X, y = _gauss(2, 8, 2)
    data = tmp_path / "data.npz"
    np.savez(data, X=X, y=y)
    cert, report, pats = tmp_path / "path.json", tmp_path / "path.html", tmp_path / "pat.npz"
    rc = main(["path", "--data", str(data), "--lam-min", "0.1", "--lam-max", "3", "--eps", "0.02", "--bias",
               "--global", "--max-cells", "100", "-o", str(cert), "--report", str(report),
               "--patterns-out", str(pats)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "all activation patterns: 58 cells" in captured.out
    assert "among all networks of any width" in captured.out
    assert "enumerating cells" in captured.err
    assert "all activation patterns" in report.read_text(encoding="utf-8")
    rc = main(["check", str(cert), "--data", str(data)])
    out = capsys.readouterr().out
    assert rc == 0 and "ACCEPTED: 2 of 2 claims" in out
    assert out.count("scope: all activation patterns: 58 cells") == 2 and "complete by count" in out
    # the caller's pattern set is refused for a global scope, with the reason
    rc = main(["check", str(cert), "--data", str(data), "--patterns", str(pats)])
    out = capsys.readouterr().out
    assert rc == 1 and "check it without --patterns" in out
    doc = json.loads(cert.read_text())
    doc["claims"][0]["scope"]["cells"].pop(3)
    cert.write_text(json.dumps(doc))
    rc = main(["check", str(cert), "--data", str(data)])
    out = capsys.readouterr().out
    assert rc == 1 and "completeness by count: 57 cells listed" in out


def test_cli_global_over_budget_exits_3_and_global_with_patterns_is_an_input_error(tmp_path, capsys):
    X, y = _gauss(4, 12, 2)
    data = tmp_path / "data.npz"
    np.savez(data, X=X, y=y)
    cert = tmp_path / "path.json"
    rc = main(["path", "--data", str(data), "--lam-min", "0.1", "--lam-max", "3", "--eps", "0.02", "--bias",
               "--global", "--max-cells", "50", "-o", str(cert)])
    err = capsys.readouterr().err
    assert rc == 3 and "up to 134 activation cells" in err and "--max-cells 134" in err
    assert not cert.exists()
    pats = tmp_path / "pat.npz"
    np.savez(pats, D=np.ones((12, 1)))
    rc = main(["path", "--data", str(data), "--lam-min", "0.1", "--lam-max", "3", "--eps", "0.02",
               "--global", "--patterns", str(pats), "-o", str(cert)])
    assert rc == 2 and "--global and --patterns exclude each other" in capsys.readouterr().err
    rc = main(["path", "--data", str(data), "--lam-min", "0.1", "--lam-max", "3", "--eps", "0.02",
               "--max-cells", "10", "-o", str(cert)])
    assert rc == 2 and "--max-cells is the cell budget of --global" in capsys.readouterr().err
    for scope, option in ((["--global"], ["--gates", "5"]), (["--global"], ["--seed", "1"]),
                          (["--patterns", str(pats)], ["--gates", "5"])):
        rc = main(["path", "--data", str(data), "--lam-min", "0.1", "--lam-max", "3", "--eps", "0.02",
                   *scope, *option, "-o", str(cert)])
        err = capsys.readouterr().err
        assert rc == 2 and "--gates and --seed choose the seeded gate scope" in err, err
        assert scope[0] in err.split("do not apply with")[1]
    assert not cert.exists()


@pytest.mark.parametrize("which", ["gauss_path", "flips_path"])
def test_global_path_documents_follow_the_json_schema(which, request):
    from pathlib import Path

    from jsonschema import Draft202012Validator

    import certify.certificates

    path = Path(certify.certificates.__file__).parent / "schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    doc = request.getfixturevalue(which)[3].document
    assert list(validator.iter_errors(doc)) == []
    for edit in (lambda s: s.update(kind="globe"), lambda s: s.update(cells=[]),
                 lambda s: s["cells"][0].update(mu_idx=[]), lambda s: s["completeness"].update(kind="all"),
                 lambda s: s.pop("patterns_sha256")):
        bad = {**doc, "claims": [copy.deepcopy(doc["claims"][1])]}  # the smaller claim, same scope
        assert not list(validator.iter_errors(bad))
        edit(bad["claims"][0]["scope"])
        assert list(validator.iter_errors(bad)), "a malformed global scope must not validate"
