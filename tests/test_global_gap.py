"""Global optimality (issue 12): the global gap certificate and the witnesses of non-optimality.

Acceptance criteria of the issue as tests: on generated instances with d <= 3 the optimum of the
full program (every enumerated pattern) receives a global gap <= 1e-6 relative, accepted by the
checker; a network optimal only for sampled patterns, on instances where the full program is
better, gets a verified witness (and a certified lower bound that never exceeds the optimum,
computed independently by cvxpy + Clarabel over the enumerated patterns).
"""

from __future__ import annotations

import copy
import json
import warnings
from fractions import Fraction

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.cli import main
from certify.convex.mapping import blocks_to_network
from certify.exact.rational import parse_rational
from certify.network import Network
from certify.patterns.arrangement import enumerate_cells
from certify.problem import Problem
from certify.solve.cvxpy_reference import solve_crelu
from certify.solve.working_set import solve
from certify.verify import verify
from tests.instances import gaussian_data, mapped_optimum, sampled_patterns


def _features(X: np.ndarray, bias: bool) -> np.ndarray:
    return np.hstack([X, np.ones((len(X), 1))]) if bias else X


def _full_optimum(X: np.ndarray, y: np.ndarray, lam: float, bias: bool) -> Network:
    feats = _features(X, bias)
    enum = enumerate_cells(feats)
    assert enum.complete
    blocks = solve(feats, y, lam, enum.patterns).blocks()
    return blocks_to_network(blocks.weights, blocks.signs, bias=bias)


def _check(X, y, net: Network, doc) -> list:
    report = check_certificate(doc, X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist(),
                               None if net.b1 is None else net.b1.tolist())
    return report.verdicts


def _claim(doc: dict, ctype: str) -> dict | None:
    return next((c for c in doc["claims"] if c["type"] == ctype), None)


def _cvxpy_optimum(X: np.ndarray, y: np.ndarray, lam: float, bias: bool) -> float:
    feats = _features(X, bias)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return solve_crelu(feats, y, lam, enumerate_cells(feats).patterns).objective


@pytest.mark.parametrize(("n", "d", "bias", "seed"), [(20, 2, False, 0), (25, 2, False, 1), (15, 2, True, 2),
                                                      (14, 3, False, 3), (12, 2, True, 4)])
def test_acceptance_optimum_of_full_program_has_tiny_global_gap(n, d, bias, seed) -> None:
    X, y = gaussian_data(n, d, seed)
    lam = 0.1
    net = _full_optimum(X, y, lam, bias)
    result = verify(Problem(X, y, lam, bias=bias), net, global_opt=True)
    doc = result.certificate
    claim = _claim(doc, "global_gap")
    assert claim is not None
    verdicts = _check(X, y, net, result.to_json())
    assert all(v.accepted for v in verdicts), [(v.claim_type, v.reason) for v in verdicts]
    gap = parse_rational(claim["gap"])
    assert 0 <= gap <= Fraction(1, 10**6) * result.objective
    assert result.global_summary.enumerated and result.global_summary.cells == len(claim["evidence"]["cells"])


@pytest.mark.parametrize(("seed", "bias"), [(10, False), (11, True), (12, False), (13, True)])
def test_sampled_optimum_gets_witness_and_consistent_bound(seed: int, bias: bool) -> None:
    X, y = gaussian_data(12, 2, seed)
    lam = 0.05
    feats = _features(X, bias)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sampled = mapped_optimum(feats, y, lam, sampled_patterns(feats, 2, seed))
    net = Network(sampled.W1[:-1], sampled.w2, sampled.W1[-1]) if bias else sampled
    result = verify(Problem(X, y, lam, bias=bias), net, global_opt=True)
    p_star = _cvxpy_optimum(X, y, lam, bias)
    lower = parse_rational(_claim(result.certificate, "global_gap")["lower_bound"])
    assert float(lower) <= p_star + 1e-7 * max(1.0, abs(p_star))  # never above the optimum
    verdicts = _check(X, y, net, result.to_json())
    assert all(v.accepted for v in verdicts), [(v.claim_type, v.reason) for v in verdicts]
    if float(result.objective) > p_star * (1 + 1e-3):  # the full program is strictly better
        witness = _claim(result.certificate, "not_optimal")
        assert witness is not None
        assert parse_rational(witness["improved_objective"]) < result.objective


@pytest.mark.parametrize("seed", range(3))
def test_lower_bound_never_exceeds_cvxpy_optimum_for_any_network(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, y = gaussian_data(10, 3, seed)
    lam = 0.2
    net = Network(rng.standard_normal((3, 3)), rng.standard_normal(3))
    result = verify(Problem(X, y, lam), net, global_opt=True)
    lower = parse_rational(_claim(result.certificate, "global_gap")["lower_bound"])
    p_star = _cvxpy_optimum(X, y, lam, False)
    assert float(lower) <= p_star + 1e-7 * max(1.0, abs(p_star))
    assert all(v.accepted for v in _check(X, y, net, result.to_json()))


@pytest.fixture(scope="module")
def certified():
    X, y = gaussian_data(10, 2, 7)
    lam = 0.1
    feats = _features(X, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sampled = mapped_optimum(feats, y, lam, sampled_patterns(feats, 2, 7))
    net = Network(sampled.W1[:-1], sampled.w2, sampled.W1[-1])
    result = verify(Problem(X, y, lam, bias=True), net, global_opt=True)
    assert _claim(result.certificate, "not_optimal") is not None
    return X, y, net, result.certificate


def _verdict(certified, edit, ctype: str = "global_gap"):
    X, y, net, doc = certified
    doc = copy.deepcopy(doc)
    edit(_claim(doc, ctype))
    verdicts = _check(X, y, net, doc)
    return next(v for v in verdicts if v.claim_type == ctype)


def test_genuine_global_claims_accepted(certified) -> None:
    X, y, net, doc = certified
    assert all(v.accepted for v in _check(X, y, net, doc))


def test_checker_rejects_covering_with_a_piece_removed(certified) -> None:
    v = _verdict(certified, lambda c: c["evidence"]["cells"].pop(3))
    assert not v.accepted and "complete by count" in v.reason


def test_checker_rejects_negative_mu(certified) -> None:
    def edit(c):
        cell = next(cell for cell in c["evidence"]["cells"] if cell["mu_num"][0])
        cell["mu_num"][0][0] = "-" + cell["mu_num"][0][0]
    v = _verdict(certified, edit)
    assert not v.accepted and "negative" in v.reason


def test_checker_rejects_duplicate_cell_and_witness_on_hyperplane(certified) -> None:
    def dup(c):
        cells = c["evidence"]["cells"]
        cells[1] = copy.deepcopy(cells[0])
        cells[1]["u"] = [str(2 * int(v)) for v in cells[0]["u"]]
    v = _verdict(certified, dup)
    assert not v.accepted and "same cell" in v.reason

    def on_plane(c):
        c["evidence"]["cells"][0]["u"] = ["0"] * len(c["evidence"]["cells"][0]["u"])
    v = _verdict(certified, on_plane)
    assert not v.accepted and "hyperplane" in v.reason


def test_checker_rejects_wrong_completeness_and_scaled_rho(certified) -> None:
    v = _verdict(certified, lambda c: c["evidence"]["completeness"].update(regions=1))
    assert not v.accepted and "completeness" in v.reason
    v = _verdict(certified, lambda c: c["evidence"].update(rho=[str(4 * int(r))
                                                                for r in c["evidence"]["rho"]]))
    assert not v.accepted and "exceeds" in v.reason


def test_checker_rejects_false_witness_claims(certified) -> None:
    v = _verdict(certified, lambda c: c.update(decrease="0"), "not_optimal")
    assert not v.accepted and "positive" in v.reason
    v = _verdict(certified, lambda c: c["neuron"].update(w2="1000"), "not_optimal")
    assert not v.accepted and "improved_objective" in v.reason

    def too_much(c):
        c["decrease"] = str(parse_rational(c["decrease"]) * 2).replace(" ", "")
    v = _verdict(certified, too_much, "not_optimal")
    assert not v.accepted and "less than the claimed decrease" in v.reason


def test_degenerate_data_certified_by_flips() -> None:
    rng = np.random.default_rng(3)
    Z = rng.integers(-2, 3, (9, 2)).astype(float)
    y = rng.standard_normal(9)
    X = np.vstack([Z, Z[:1]])
    y = np.r_[y, y[:1]]
    net = Network(rng.standard_normal((2, 2)), rng.standard_normal(2), rng.standard_normal(2))
    result = verify(Problem(X, y, 0.3, bias=True), net, global_opt=True)
    claim = _claim(result.certificate, "global_gap")
    assert claim["evidence"]["completeness"]["kind"] == "flips"
    verdicts = _check(X, y, net, result.to_json())
    assert all(v.accepted for v in verdicts), [(v.claim_type, v.reason) for v in verdicts]
    doc = copy.deepcopy(result.certificate)
    _claim(doc, "global_gap")["evidence"]["completeness"]["nonfacets"].pop(0)
    v = next(v for v in _check(X, y, net, doc) if v.claim_type == "global_gap")
    assert not v.accepted and "flips" in v.reason


def test_cli_verify_global_and_check(tmp_path, capsys) -> None:
    X, y = gaussian_data(12, 2, 21)
    lam = 0.1
    np.savez(tmp_path / "data.npz", X=X, y=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        net = mapped_optimum(X, y, lam, sampled_patterns(X, 2, 3))
    net.save(str(tmp_path / "net.npz"))
    args = ["--data", str(tmp_path / "data.npz"), "--model", str(tmp_path / "net.npz")]
    assert main(["verify", *args, "--lam", "0.1", "--global", "-o", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert "global gap" in out and "activation cells enumerated" in out
    assert main(["check", str(tmp_path / "c.json"), *args]) == 0
    assert main(["verify", *args, "--lam", "0.1", "--global", "--improved-out", str(tmp_path / "better.npz"),
                 "-o", str(tmp_path / "e.json")]) == 0
    claim = _claim(json.loads((tmp_path / "e.json").read_text()), "not_optimal")
    assert claim is not None  # a sampled optimum on this instance is not globally optimal
    better = ["--data", str(tmp_path / "data.npz"), "--model", str(tmp_path / "better.npz")]
    assert main(["verify", *better, "--lam", "0.1", "-o", str(tmp_path / "f.json")]) == 0
    improved = json.loads((tmp_path / "f.json").read_text())["claims"][0]["objective"]
    assert parse_rational(improved) == parse_rational(claim["improved_objective"])
    assert main(["verify", *args, "--lam", "0.1", "--global", "--max-cells", "5", "-o",
                 str(tmp_path / "d.json")]) == 0
    out = capsys.readouterr().out
    assert "over the budget of 5" in out and "2 sum_(k<2) C(11, k)" in out
    doc = json.loads((tmp_path / "d.json").read_text())
    assert _claim(doc, "global_gap") is None
    assert ("NOT globally optimal" in out) == (_claim(doc, "not_optimal") is not None)
    if _claim(doc, "not_optimal") is None:
        assert "proves NOTHING" in out
    assert main(["verify", *args, "--lam", "0.1", "--global", "--global-time", "0", "-o",
                 str(tmp_path / "t.json")]) == 0
    out = capsys.readouterr().out
    assert "enumeration incomplete (interrupted: time budget" in out
    assert _claim(json.loads((tmp_path / "t.json").read_text()), "global_gap") is None


def test_search_finds_witness_beyond_enumeration_budget() -> None:
    """d = 6: no enumeration (budget), the numerical search finds a better network for a poor one."""
    X, y = gaussian_data(60, 6, 31)
    lam = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        net = mapped_optimum(X, y, lam, sampled_patterns(X, 2, 31))
    result = verify(Problem(X, y, lam), net, global_opt=True, max_cells=1000)
    summary = result.global_summary
    assert not summary.enumerated and summary.searched and summary.estimate > 1000
    witness = _claim(result.certificate, "not_optimal")
    assert witness is not None and summary.search_violation > 0
    verdicts = _check(X, y, net, result.to_json())
    assert all(v.accepted for v in verdicts)


def test_search_reports_nothing_proved_for_zero_residual() -> None:
    """Zero targets: the zero network is optimal, no violation exists; the summary says that not
    finding one proves nothing."""
    X, y = gaussian_data(30, 5, 32)
    net = Network(np.zeros((5, 1)), np.zeros(1))
    result = verify(Problem(X, np.zeros(30), 1.0), net, global_opt=True, max_cells=10)
    assert _claim(result.certificate, "not_optimal") is None
    assert any("proves NOTHING" in line for line in result.global_summary.lines)


def test_global_certificates_follow_the_json_schema(certified) -> None:
    from pathlib import Path

    from jsonschema import Draft202012Validator

    import certify.certificates

    schema = json.loads((Path(certify.certificates.__file__).parent / "schema.json").read_text())
    validator = Draft202012Validator(schema)
    _, _, _, doc = certified
    assert [e.message for e in validator.iter_errors(doc)] == []
    X, y = gaussian_data(9, 2, 5)  # a flips certificate too
    net = Network(np.ones((2, 1)), np.ones(1), np.zeros(1))
    Xd = np.vstack([np.round(X), np.round(X[:2])])
    yd = np.r_[y, y[:2]]
    result = verify(Problem(Xd, yd, 0.2, bias=True), net, global_opt=True)
    assert _claim(result.certificate, "global_gap")["evidence"]["completeness"]["kind"] == "flips"
    assert [e.message for e in validator.iter_errors(result.certificate)] == []
