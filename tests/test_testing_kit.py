"""The theory test kit (issue 10): strategies, claims, check_solver, planted instances, selftest.

Acceptance: check_solver reports the failing claim, on a counterexample of at most a few data
points, for three deliberately wrong solvers (cone constraints dropped; the loss scaled by 1/(2n)
without declaring it; the sign of the second layer ignored), and reports every applicable claim
holding for certify's solver, cvxpy and the network solver. Planted instances: the exact optimum
is confirmed in Fractions (exact KKT) and by two independent solves.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.cli import main
from certify.problem import convert_lambda
from certify.solve.cvxpy_reference import solve_crelu
from certify.testing import (
    CLAIMS,
    Candidate,
    Instance,
    certify_network_solver,
    certify_solver,
    check_solver,
    cvxpy_solver,
    scnn_lambda,
)
from certify.testing import claims as C  # noqa: N812
from certify.testing import strategies as S  # noqa: N812
from certify.testing.check_solver import CONVEX_CLAIMS, gates_for, network_candidate, solver_lambda
from certify.testing.instance import lam_max
from certify.testing.known import planted_separable


def at_most(count: int) -> settings:
    """Lowers, never raises, the profile's example count."""
    return settings(max_examples=min(count, settings().max_examples))


# --- deliberately wrong solvers --------------------------------------------------------------------


def cones_dropped(X, y, lam, D):
    """Wrong: the gated ReLU (no cone constraints) returned as a C-ReLU solution."""
    return solve_crelu(X, y, lam, D, gated=True)


def undeclared_mean_scaling(X, y, lam, D):
    """Wrong: minimizes 1/(2n) ||.||^2 + lam sum ||w|| but is declared in certify's scaling."""
    return solve_crelu(X, y, lam * X.shape[0], D)


_network = certify_network_solver()


def sign_ignored(X, y, lam):
    """Wrong: a network solver that drops the sign of the second layer."""
    net = _network(X, y, lam)
    return net.W1, np.abs(net.w2)


WRONG = [
    (cones_dropped, "convex", ["C3", "C6"]),
    (undeclared_mean_scaling, "convex", ["C2"]),
    (sign_ignored, "network", ["C1"]),
]


@pytest.mark.parametrize("fn, kind, expected", WRONG, ids=[w[0].__name__ for w in WRONG])
def test_wrong_solvers_fail_with_small_counterexamples(fn, kind, expected, capsys) -> None:
    report = check_solver(fn, kind=kind, claims=expected, max_examples=30)
    out = capsys.readouterr().out
    assert report.failing() == expected, out
    for res in report.results:
        assert res.counterexample is not None and res.counterexample.n <= 4, res.counterexample.describe()
        assert res.verdict is not None and not res.verdict.holds and res.verdict.numbers
        assert f"{res.claim} fails" in out
    assert "minimal counterexample" in out


@pytest.mark.parametrize("name", ["certify", "cvxpy"])
def test_correct_convex_solvers_hold(name) -> None:
    fn, ref = (certify_solver(), None) if name == "certify" else (cvxpy_solver(), certify_solver())
    report = check_solver(fn, reference=ref, max_examples=12, verbose=False)
    assert report.ok, str(report)
    assert [r.claim for r in report.results] == list(CONVEX_CLAIMS) == [c for c in CLAIMS if c != "C9"]
    assert all(r.examples >= 12 and r.applicable > 0 for r in report.results)


def test_correct_network_solver_holds() -> None:
    report = check_solver(certify_network_solver(), kind="network", max_examples=12, verbose=False)
    assert report.ok, str(report)
    assert "C6" not in [r.claim for r in report.results]


def test_check_solver_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kind"):
        check_solver(certify_solver(), kind="other")
    with pytest.raises(ValueError, match="convention"):
        check_solver(certify_solver(), convention="sum")
    with pytest.raises(ValueError, match="C6"):
        check_solver(certify_network_solver(), kind="network", claims=["C6"])


def test_solver_that_raises_fails_the_claim() -> None:
    def broken(X, y, lam, D):
        raise RuntimeError("no")

    report = check_solver(broken, claims=["C2"], max_examples=5, verbose=False)
    assert report.failing() == ["C2"] and "RuntimeError" in report.results[0].verdict.message


def test_malformed_solver_output_fails() -> None:
    report = check_solver(lambda X, y, lam, D: (np.zeros((1, 1)), np.zeros((1, 1))), claims=["C2"],
                          max_examples=5, verbose=False)
    assert report.failing() == ["C2"] and "shape" in report.results[0].verdict.message


# --- scaling adapters (scnn) ---------------------------------------------------------------------------


def test_scnn_scaling_conversion() -> None:
    n = 7
    assert scnn_lambda(0.7, n) == pytest.approx(0.1)
    assert convert_lambda(Fraction(1, 10), "mean", n) == Fraction(7, 10)
    assert solver_lambda(0.7, "mse", n) == pytest.approx(0.2)
    assert solver_lambda(0.7, "certify", n) == 0.7
    # scnn's objective 1/(2n) ||f - y||^2 + lam_s sum ||w|| times n is certify's at lam = n lam_s
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, 2)), rng.standard_normal(n)
    from certify.patterns.sampling import enumerate_planar

    D = enumerate_planar(X)
    U, H = rng.standard_normal((2, D.shape[1])), rng.standard_normal((2, D.shape[1]))
    fit = (D * (X @ (U - H))).sum(axis=1)
    pen = np.linalg.norm(U, axis=0).sum() + np.linalg.norm(H, axis=0).sum()
    lam = 0.7
    ours = 0.5 * np.sum((fit - y) ** 2) + lam * pen
    theirs = np.sum((fit - y) ** 2) / (2 * n) + scnn_lambda(lam, n) * pen
    assert n * theirs == pytest.approx(ours, rel=1e-12)


def test_declared_mean_convention_is_converted() -> None:
    """A solver in scnn's scaling passes when it declares it, fails when it does not."""
    inner = certify_solver()

    def mean_solver(X, y, lam_scnn, D):
        return inner(X, y, lam_scnn * X.shape[0], D)

    declared = check_solver(mean_solver, convention="mean", claims=["C2", "C4"], max_examples=10,
                            verbose=False)
    assert declared.ok
    assert not check_solver(mean_solver, claims=["C2"], max_examples=20, verbose=False).ok


def test_gates_for_realizes_patterns_strictly() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 1.0]])
    from certify.patterns.sampling import enumerate_planar

    D = enumerate_planar(X)
    G, kept = gates_for(X, D)
    assert kept.tolist() == list(range(D.shape[1]))  # full-dimensional cells: all realizable
    np.testing.assert_array_equal((X @ G > 0).astype(np.uint8), D)
    D2 = np.hstack([D, np.ones((4, 1), np.uint8)])  # all ones: rows 0 and 2 oppose
    _, kept2 = gates_for(X, D2)
    assert D.shape[1] not in kept2.tolist()


def test_scnn_adapter_where_installed() -> None:
    pytest.importorskip("scnn", reason="scnn (PyPI pyscnn) is not installed; its adapter runs only there")
    from certify.testing import scnn_solver

    report = check_solver(scnn_solver(), convention="mean", claims=["C2"], max_examples=5, verbose=False)
    assert report.results[0].examples >= 5


# --- claims on hand-made solutions ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def solved():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    from certify.patterns.sampling import enumerate_planar

    D = enumerate_planar(X)
    lmax = lam_max(X, y, D)
    inst = Instance(X, y, 0.3 * lmax, D, lam2=0.5 * lmax, complete=True)
    sol = Candidate.of(solve_crelu(X, y, inst.lam, D), inst)
    sol2 = Candidate.of(solve_crelu(X, y, inst.lam2, D), inst)
    return inst, sol, sol2


def test_claims_hold_at_the_optimum(solved) -> None:
    inst, sol, sol2 = solved
    ref = Candidate.of(certify_solver()(inst.X, inst.y, inst.lam, inst.D), inst)
    verdicts = [C.check_c1(inst, sol, ref), C.check_c2(inst, sol), C.check_c3(inst, sol),
                C.check_c4(inst, sol), C.check_c6(inst, sol), C.check_c13(inst, sol, sol2),
                C.check_c14(inst, sol, sol2)]
    assert all(v.holds and v.applicable for v in verdicts), [str(v) for v in verdicts]


def test_claims_detect_broken_solutions(solved) -> None:
    inst, sol, sol2 = solved
    scaled = Candidate(1.2 * sol.U, 1.2 * sol.H)
    assert not C.check_c1(inst, scaled, sol).holds
    assert not C.check_c2(inst, scaled).holds
    zero = Candidate(0 * sol.U, 0 * sol.H)
    v4 = C.check_c4(inst, zero)
    assert v4.applicable and not v4.holds and "lam < lam_max" in v4.message
    rotated = Candidate(sol.U[::-1].copy(), sol.H[::-1].copy())  # swaps the coordinates of every block
    assert not C.check_c3(inst, rotated).holds
    assert not C.check_c6(inst, rotated).holds
    assert not C.check_c13(inst, sol2, sol).holds  # the two lams' solutions swapped
    far = Candidate(sol.U + 0.5, sol.H)
    assert not C.check_c14(inst, far, sol2).holds
    v = C.check_c2(inst, scaled)
    assert "difference" in v.numbers and v.tolerance > 0 and "FAILS" in str(v)


def test_c4_zero_above_lam_max(solved) -> None:
    inst, sol, _ = solved
    lmax = lam_max(inst.X, inst.y, inst.D)
    high = inst.at(2 * lmax)
    zero = Candidate(0 * sol.U, 0 * sol.H)
    assert C.check_c4(high, zero).holds
    assert not C.check_c4(high, sol).holds
    assert not C.check_c4(inst.at(lmax), zero).applicable


def test_c8_detects_non_optimal_network(solved) -> None:
    inst, sol, _ = solved
    from certify.convex.mapping import blocks_to_network

    b = sol.weights()
    keep = np.linalg.norm(b[0], axis=0) > 1e-9
    net = blocks_to_network(b[0][:, keep], b[2][keep])
    assert C.check_c8(inst, net.W1, net.w2, sol).holds
    assert not C.check_c8(inst, net.W1 * 1.1, net.w2, sol).holds


@at_most(25)
@given(st.data())
def test_c7_holds_for_every_network(data) -> None:
    X, y = data.draw(S.data_sets(bias=st.booleans()))
    W1, w2 = data.draw(S.networks(X))
    inst = Instance(X, y, 0.5, np.ones((X.shape[0], 1), np.uint8))
    v = C.check_c7(inst, W1, w2)
    assert v.holds, str(v)
    scope, cand = network_candidate(inst, W1, w2)
    np.testing.assert_allclose(cand.measures(scope).fit, np.maximum(X @ W1, 0) @ w2, atol=1e-9)


# --- C5: the optimal polytope (task optset's certify.optimal_set) -------------------------------------


def test_c5_holds_at_planted_optima_and_detects_a_wrong_polytope(monkeypatch) -> None:
    import dataclasses

    import certify.optimal_set.analysis as analysis
    import certify.testing.planted as planted_mod
    p = planted_mod.planted_relu(1)
    inst = Instance(p.X, p.y, float(p.lam), p.D)
    vertex = Candidate(*p.weights(p.vertices[-1]))
    v = C.check_c5(inst, vertex)
    assert v.holds and v.applicable and v.numbers["points"] >= 1, str(v)
    real = analysis.optimal_set

    def doubled(*args, **kwargs):  # a wrong M: every column Z_b v_b doubled
        out = real(*args, **kwargs)
        return dataclasses.replace(out, columns=2 * out.columns)

    monkeypatch.setattr(analysis, "optimal_set", doubled)
    v = C.check_c5(inst, Candidate(*p.weights(p.vertices[-1])))
    assert not v.holds and "not optimal" in v.message, str(v)

    def failing(*args, **kwargs):
        raise analysis.SolverError("no non-negative combination")

    monkeypatch.setattr(analysis, "optimal_set", failing)
    v = C.check_c5(inst, Candidate(*p.weights(p.vertices[-1])))
    assert not v.holds and "optimal-set analysis failed" in v.message


# --- C9: pruning (task prune's certify.pruning.prune) -----------------------------------------------


def test_c9_holds_for_certify_prune() -> None:
    from certify.testing import check_pruner

    result = check_pruner(max_examples=15, verbose=False)
    assert result.holds, str(result.verdict)
    assert result.examples >= 15


def test_c9_detects_a_pruner_that_drops_a_neuron(capsys) -> None:
    """A wrong pruner: Algorithm 1, then one more kept neuron dropped without correction."""
    import dataclasses

    from certify.pruning import prune
    from certify.testing import check_pruner

    def greedy(problem, network):
        out = prune(problem, network)
        ex = out.exact
        if len(ex.kept) < 1 or not any(ex.w2):
            return out
        j = next(i for i, w in enumerate(ex.w2) if w)
        keep = [i for i in range(len(ex.kept)) if i != j]
        smaller = dataclasses.replace(ex, kept=[ex.kept[i] for i in keep],
                                      W1=[[row[i] for i in keep] for row in ex.W1],
                                      w2=[ex.w2[i] for i in keep])
        return dataclasses.replace(out, exact=smaller)

    result = check_pruner(greedy, max_examples=15)
    assert not result.holds and "fit differs" in result.verdict.message
    assert result.counterexample.n <= 6
    assert "C9 fails on" in capsys.readouterr().out


def test_exact_rank_helper() -> None:
    F = Fraction
    assert C._exact_rank([[F(1), F(2)], [F(2), F(4)]]) == 1
    assert C._exact_rank([[F(1), F(0)], [F(0), F(3)], [F(1), F(3)]]) == 2
    assert C._exact_rank([[F(0), F(0)]]) == 0


# --- strategies ---------------------------------------------------------------------------------------


@at_most(30)
@given(st.data())
def test_strategies_are_exact_and_well_formed(data) -> None:
    X, y = data.draw(S.data_sets(bias=True))
    assert np.all(X[:, -1] == 1.0)
    assert np.all((X * 16) == np.round(X * 16)) and np.all((y * 4) == np.round(y * 4))  # dyadic
    W1, w2 = data.draw(S.networks(X, balanced=True))
    live = (np.linalg.norm(W1, axis=0) > 0) & (w2 != 0)
    np.testing.assert_allclose(np.linalg.norm(W1, axis=0)[live], np.abs(w2[live]), rtol=1e-12)
    assert not np.any(W1[:, ~live])
    D = data.draw(S.pattern_scopes(X, kind="own", W1=W1))
    assert D.shape[0] == X.shape[0] and set(np.unique(D)) <= {0, 1}
    lam = data.draw(S.lams(X, y, D))
    lmax = lam_max(X, y, D)
    assert lam > 0 and (lmax == 0 or min(abs(lam / lmax - float(f)) for f in S.LAM_FACTORS) < 1e-12)


@at_most(30)
@given(S.data_sets(n=4, d=3, degeneracies=("common_hyperplane",)))
def test_common_hyperplane_lowers_the_rank(Xy) -> None:
    X, _ = Xy
    assert np.linalg.matrix_rank(X) <= 3


@at_most(20)
@given(S.instances(scope="all"))
def test_complete_instances_have_every_cell(inst) -> None:
    assert inst.complete and inst.d == 2 and inst.lam2 > inst.lam
    rng = np.random.default_rng(0)
    G = rng.standard_normal((2, 200))
    cells = {tuple(c) for c in (inst.X @ G >= 0).astype(np.uint8).T}
    assert cells <= {tuple(c) for c in inst.D.T}


def test_degeneracies_are_planted() -> None:
    found = {"zero": False, "dup": False}

    @settings(max_examples=60, derandomize=True, database=None)
    @given(S.data_sets(n=4, d=2, degeneracies=("zero_rows", "duplicate_rows")))
    def run(Xy):
        X, _ = Xy
        found["zero"] |= bool((~X.any(axis=1)).any())
        found["dup"] |= len({tuple(r) for r in X}) < len(X)

    run()
    assert found["zero"] and found["dup"]


# --- planted instances -----------------------------------------------------------------------------------


def exact_kkt(planted) -> bool:
    """Independent exact optimality check of a planted separable optimum (Fractions): each side is
    a scalar lasso min 1/2 ||z a - y||^2 + lam |a|; a is optimal iff <z, y - z a> = lam sign(a) (a != 0)
    or |<z, y>| <= lam (a = 0)."""
    inst = planted.instance
    x = [Fraction(float(v)) for v in inst.X[:, 0]]
    y = [Fraction(float(v)) for v in inst.y]
    lam = planted.lam
    fit = planted.fit
    ok = True
    for side in (1, -1):
        z = [max(side * v, Fraction(0)) for v in x]
        corr = sum(a * (b - f) for a, b, f in zip(z, y, fit, strict=True))
        signs = [s for (p, s) in planted.weights if (p == 0) == (side == 1)]
        if not signs:
            ok &= abs(sum(a * b for a, b in zip(z, y, strict=True))) <= lam
        else:
            ok &= corr == lam * signs[0]  # the stationarity condition of the scalar lasso, exactly
    loss = sum((b - f) ** 2 for b, f in zip(y, fit, strict=True)) / 2
    value = loss + lam * sum(abs(w) for w in planted.weights.values())
    return ok and value == planted.objective


@at_most(25)
@given(S.planted_instances())
def test_planted_optimum_is_exact_and_confirmed_by_independent_solves(planted) -> None:
    assert exact_kkt(planted)
    inst = planted.instance
    exact = planted.candidate()
    p = float(planted.objective)
    for fn in (certify_solver(), cvxpy_solver()):
        cand = Candidate.of(fn(inst.X, inst.y, inst.lam, inst.D), inst)
        m = cand.measures(inst)
        assert abs(m.objective - p) <= 1e-7 * (1 + p)
        np.testing.assert_allclose(np.hstack([cand.U, cand.H]), np.hstack([exact.U, exact.H]), atol=1e-4)
    # the planted optimum passes every single-solution claim exactly-as-floats
    for check in (C.check_c2, C.check_c3, C.check_c4, C.check_c6):
        v = check(inst, exact)
        assert v.holds, str(v)
    assert (planted.lam >= planted.lam_max) == (not planted.weights)
    assert len(planted.vertices) == 1


def test_planted_example_numbers() -> None:
    planted = planted_separable([1.0, 2.0, -1.0], y=[1.0, 2.0, 3.0], lam=Fraction(1, 2))
    # + side: <x+, y> = 5, ||x+||^2 = 5 -> a = 9/10; - side: <x-, y> = 3, ||x-||^2 = 1 -> b = 5/2
    assert planted.weights == {(0, 1): Fraction(9, 10), (1, 1): Fraction(-5, 2)}
    assert planted.fit == [Fraction(9, 10), Fraction(9, 5), Fraction(5, 2)]
    assert planted.lam_max == 5
    assert planted.objective == Fraction(1, 2) * (Fraction(1, 100) + Fraction(1, 25) + Fraction(1, 4)) + \
        Fraction(1, 2) * (Fraction(9, 10) + Fraction(5, 2))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["relu", "gated"])
def test_planted_optimal_sets_confirmed_by_independent_solves(seed: int, kind: str) -> None:
    """certify.testing.planted (exact optimal polytopes): both solvers reach the planted optimal value
    and fit, every vertex of the planted polytope is an optimal solution (the kit's C2, C3 and C6
    hold there, with the same objective and fit: theory.md §4, C5), and the solvers' answers pass C1
    against a vertex."""
    import certify.testing.planted as planted_mod
    p = planted_mod.planted_relu(seed) if kind == "relu" else planted_mod.planted_gated(seed)
    inst = Instance(p.X, p.y, float(p.lam), p.D)
    p_star = float(p.optimal_value)
    fit = np.array([float(v) for v in p.fit])
    vertices = [Candidate(*p.weights(v)) for v in p.vertices]
    assert len(vertices) >= 1
    for vert in vertices:
        m = vert.measures(inst)
        assert m.objective == pytest.approx(p_star, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(m.fit, fit, atol=1e-12)
        checks = (C.check_c2,) if p.gated else (C.check_c2, C.check_c3, C.check_c6)
        for check in checks:
            v = check(inst, vert)
            assert v.holds, str(v)
    solvers = [lambda X, y, lam, D: solve_crelu(X, y, lam, D, gated=p.gated)]
    if not p.gated:
        solvers.append(certify_solver())
    for fn in solvers:
        cand = Candidate.of(fn(inst.X, inst.y, inst.lam, inst.D), inst)
        assert cand.measures(inst).objective == pytest.approx(p_star, rel=1e-7)
        np.testing.assert_allclose(cand.measures(inst).fit, fit, atol=1e-4)
        assert C.check_c1(inst, cand, vertices[0]).holds


# --- selftest ------------------------------------------------------------------------------------------


def test_selftest_cli_prints_the_table(capsys, tmp_path, monkeypatch) -> None:
    """The CLI table (with fewer examples than the quick profile's, to keep the suite fast; the full
    quick profile is timed in BENCHMARKS.md)."""
    from certify.testing import selftest

    monkeypatch.setitem(selftest.PROFILES, "quick", 6)
    report = tmp_path / "selftest.html"
    rc = main(["selftest", "--profile", "quick", "--report", str(report)])
    out = capsys.readouterr().out
    assert rc == 0, out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["claim", "source", "examples", "verdict"]
    for claim in list(CLAIMS) + ["planted"]:
        row = next(line for line in lines if line.startswith(claim + " "))
        assert "holds" in row and "FAILS" not in row
    assert "all claims hold" in out
    html = report.read_text()
    assert "Theory self-test" in html and "C13" in html


def test_report_section(tmp_path) -> None:
    from certify.network import Network
    from certify.problem import Problem
    from certify.report.render import render_html
    from certify.testing.selftest import SelftestResult, SelftestRow
    from certify.verify import verify

    problem = Problem(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0]), "1/2")
    net = Network(np.array([[1.0], [0.0]]), np.array([1.0]))
    result = verify(problem, net)
    fake = SelftestResult("quick", ["certify"], [SelftestRow("C2", "<b>x</b>", "theory.md §3", 3,
                                                             {"certify": "FAILS"}, ["certify: detail"])], 0.1)
    html = render_html(problem, net, result, selftest=fake)
    assert "Theory self-test" in html and "FAILS (certify)" in html and "<b>x</b>" not in html
    assert "Theory self-test" not in render_html(problem, net, result)


def test_tutorial_example_runs() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "check_a_solver.py"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 claim(s) FAIL: C2, C3" in proc.stdout and "all applicable claims hold" in proc.stdout
