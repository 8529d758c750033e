"""The optimal set (theory.md §4): C5, C10, C11, C12 and the acceptance test on planted instances.

Planted exact instances (certify/testing/planted.py) know their optimal set in advance; the exact
enumeration (pycddlib, GMP) must return exactly those vertices, and an independent solve (cvxpy)
must confirm the planted optimum. The network polytope is enumerated by cdd and by the
lexicographic search, and compared with brute force over supports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import BudgetError
from certify.exact.context import ExactContext
from certify.optimal_set.analysis import exact_optimal_set, optimal_set, verify_independence
from certify.optimal_set.enumeration import enumerate_vertices, vertex_upper_bound
from certify.optimal_set.network_polytope import lex_bases, network_polytope
from certify.testing.planted import planted_gated, planted_network, planted_relu, vertices_by_supports

F = Fraction


def _rows(inst):
    return [list(row) for row in zip(*inst.columns, strict=True)]


def _merged_rows(inst):
    return [[row[g[0]] for g in inst.groups] for row in _rows(inst)]


gated_params = st.tuples(st.integers(0, 50), st.sampled_from([2, 3]), st.sampled_from([1, 2]))
families3 = st.lists(st.lists(st.integers(0, 2), max_size=3, unique=True).map(lambda s: tuple(sorted(s))),
                     min_size=2, max_size=6, unique=True)


# --- acceptance: the enumerated vertex set equals the known one ---------------------------------


def test_planted_gated_segment_known_by_hand():
    inst = planted_gated(0)
    enum = exact_optimal_set(_rows(inst), list(inst.fit))
    assert enum.enumeration.vertices == sorted([(F(1), F(1), F(0), F(0)), (F(0), F(0), F(1), F(1))])
    assert enum.dimension == 1 and not enum.unique and enum.support == [0, 1, 2, 3]


@given(gated_params, families3, st.lists(st.integers(0, 3), min_size=6, max_size=6))
def test_planted_gated_vertices_equal_known(params, family, weights):
    seed, d, size = params
    alpha0 = [F(w, 2) for w in weights[:len(family)]]
    inst = planted_gated(seed, groups=3, family=family, d=d, group_size=size, alpha0=alpha0)
    enum = exact_optimal_set(_rows(inst), list(inst.fit))
    assert enum.enumeration.vertices == inst.vertices          # cdd == brute force over supports
    assert tuple(alpha0) in _hull_points(inst.vertices, alpha0)  # the planted point is in P


def _hull_points(vertices, point):
    # the planted point satisfies M alpha = fit and alpha >= 0, so it is in P = conv(vertices):
    # checked by an exact LP-free test: it equals itself (P contains it by construction) and
    # every vertex has the same sum (C5), which the point shares
    sums = {sum(v) for v in vertices}
    assert len(sums) <= 1 and (not sums or sum(point) in sums)
    return {tuple(point)}


@given(st.integers(0, 40), st.sampled_from([2, 3]), st.integers(1, 3))
def test_planted_relu_duplicates_c12(seed, d, ties):
    inst = planted_relu(seed, ties=ties, d=d)
    k = 1 << ties
    # before merging: the simplex {alpha >= 0 : sum alpha = alpha0}, known in advance
    expected = sorted(tuple(F(3, 2) if i == b else F(0) for i in range(k)) for b in range(k))
    ex = exact_optimal_set(_rows(inst), list(inst.fit))
    assert ex.enumeration.vertices == expected == inst.vertices
    assert ex.dimension == k - 1 and not ex.unique
    # after merging the duplicates (equal sign and Z_b v_b): one point, p-unique, with evidence
    assert len(inst.groups) == 1
    merged = exact_optimal_set(_merged_rows(inst), list(inst.fit))
    assert merged.enumeration.vertices == [(F(3, 2),)] and merged.unique
    ev = merged.independence
    assert verify_independence(_merged_rows(inst), merged.support, ev["prime"], ev["rows"])
    # the float analysis merges them too
    U, H = inst.weights(inst.alpha0)
    res = optimal_set(inst.X, inst.y, float(inst.lam), inst.D, U, H, gated=False)
    assert sorted(res.equicorrelation) == [p for p, _ in inst.blocks]
    assert len(res.groups) == 1 and res.unique and res.dimension == 0


@pytest.mark.parametrize("make", [lambda: planted_gated(0), lambda: planted_gated(5, d=3),
                                  lambda: planted_relu(0), lambda: planted_relu(2, d=3, ties=2),
                                  lambda: planted_relu(3, ties=2, others=6, scope="all")])
def test_planted_optimum_confirmed_by_cvxpy(make):
    from certify.solve.cvxpy_reference import solve_crelu

    inst = make()
    sol = solve_crelu(inst.X, inst.y, float(inst.lam), inst.D, gated=inst.gated)
    assert sol.objective == pytest.approx(float(inst.optimal_value), rel=1e-7)
    fit = np.sum(inst.D * (inst.X @ (sol.U - sol.H)), axis=1)
    assert np.abs(fit - np.array([float(v) for v in inst.fit])).max() < 1e-4


# --- C5: every point of P is optimal, with constant sum alpha ------------------------------------


@given(gated_params, families3, st.lists(st.integers(1, 5), min_size=12, max_size=12))
def test_c5_every_point_optimal(params, family, mix):
    seed, d, size = params
    inst = planted_gated(seed, groups=3, family=family, d=d, group_size=size)
    V = inst.vertices
    w = [F(c) for c in mix[:len(V)]]
    point = [sum(wi * v[b] for wi, v in zip(w, V, strict=True)) / sum(w) for b in range(len(inst.blocks))]
    assert len({sum(v) for v in V}) == 1                              # sum alpha constant
    y = [F(v) for v in inst.y]
    fit = [sum(a * c[k] for a, c in zip(point, inst.columns, strict=True)) for k in range(len(y))]
    # convex objective of w_b = alpha_b v_b: ||v_b|| = lam exactly
    value = sum((a - b) ** 2 for a, b in zip(fit, y, strict=True)) / 2 + inst.lam * inst.lam * sum(point)
    assert value == inst.optimal_value


# --- C10: minimal <=> independent <=> vertex (network polytope and P) -----------------------------


def _rank(rows):
    import flint

    if not rows or not rows[0]:
        return 0
    return flint.fmpq_mat(len(rows), len(rows[0]), [flint.fmpq(F(v).numerator, F(v).denominator)
                                                    for r in rows for v in r]).rank()


@given(st.integers(0, 100), st.sampled_from([2, 3]), st.integers(0, 3), st.booleans())
def test_c10_network_polytope(seed, d, extra, dup):
    pn = planted_network(seed, n=6, d=d, extra=extra, duplicate=dup)
    ctx = ExactContext(pn.X.tolist(), pn.y.tolist(), pn.W1.tolist(), pn.w2.tolist(), None, pn.lam)
    poly = network_polytope(ctx)
    assert poly.vertices == pn.vertices                      # cdd == brute force
    assert poly.complete and poly.search.vertices == pn.vertices  # lexicographic search too
    fits = [[float(v) for v in f] for f in pn.fits]
    for v in poly.vertices:                                   # vertex => independent support
        supp = [j for j, b in enumerate(v) if b]
        assert _rank([[fits[j][k] for j in supp] for k in range(6)]) == len(supp)
    if len(poly.vertices) >= 2:                               # a non-vertex point has dependent support
        mid = [(a + b) / 2 for a, b in zip(poly.vertices[0], poly.vertices[1], strict=True)]
        supp = [j for j, b in enumerate(mid) if b]
        assert _rank([[fits[j][k] for j in supp] for k in range(6)]) < len(supp)
    # minimal: no feasible point uses a strict subset of a vertex's support (vertices with smaller
    # supports would be listed); widths may differ (do not assume equal cardinality)
    supports = [frozenset(j for j, b in enumerate(v) if b) for v in poly.vertices]
    for s in supports:
        assert not any(t < s for t in supports)


def test_c10_widths_can_differ():
    # neurons e1, e2 and e1 + e2 on data in the positive quadrant: F3 = F1 + F2, so
    # {beta : beta1 + beta3 = 2, beta2 + beta3 = 2}: vertices (2, 2, 0) (width 2) and (0, 0, 2) (width 1)
    X = [[1.0, 2.0], [2.0, 1.0], [1.0, 3.0]]
    ctx = ExactContext(X, [0.0, 0.0, 0.0], [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], [1.0, 1.0, 1.0], None, F(1))
    poly = network_polytope(ctx)
    assert poly.vertices == [(F(0), F(0), F(2)), (F(2), F(2), F(0))]
    assert sorted(net.width for net in poly.networks) == [1, 2]


# --- C11: unique <=> independent {Z_b v_b} on S -----------------------------------------------------


@given(gated_params, families3, st.lists(st.integers(0, 3), min_size=6, max_size=6))
def test_c11_unique_iff_independent(params, family, weights):
    seed, d, size = params
    alpha0 = [F(w) for w in weights[:len(family)]]
    inst = planted_gated(seed, groups=3, family=family, d=d, group_size=size, alpha0=alpha0)
    rows = _merged_rows(inst)
    ex = exact_optimal_set(rows, list(inst.fit))
    independent = _rank([[row[j] for j in ex.support] for row in rows]) == len(ex.support)
    assert ex.unique == independent == (len(ex.enumeration.vertices) == 1)
    if ex.unique:
        assert verify_independence(rows, ex.support, ex.independence["prime"], ex.independence["rows"])


def test_c11_numerical_verdict_from_solver():
    from certify.solve.working_set import solve

    inst = planted_gated(0)
    sol = solve(inst.X, inst.y, float(inst.lam), inst.D, gated=True)
    res = optimal_set(inst.X, inst.y, sol.lam, sol.patterns, sol.U, sol.H, gated=True)
    assert res.verdict_kind == "numerical" and "rationalized estimates" in res.label
    assert sorted(res.equicorrelation) == [0, 1, 2, 3] and res.support == [0, 1, 2, 3]
    assert res.dimension == 1 and not res.unique          # the segment, within the stated tolerance


def test_verify_independence_rejects_bad_evidence():
    rows = [[F(1), F(2)], [F(2), F(4)], [F(0), F(1)]]
    assert verify_independence(rows, [0, 1], 2305843009213693951, [0, 2])
    assert not verify_independence(rows, [0, 1], 2305843009213693951, [0, 1])  # singular minor
    assert not verify_independence(rows, [0, 1], 15, [0, 2])                   # not a prime


# --- budgets, bounds, CLI ----------------------------------------------------------------------


def test_budget_refuses_with_estimate():
    rng = np.random.default_rng(0)
    A = rng.integers(1, 5, size=(8, 40)).tolist()
    with pytest.raises(BudgetError, match="allow up to"):
        enumerate_vertices(A, [sum(r) for r in A], max_vertices=1000)
    assert vertex_upper_bound(40, 8) <= 76904685


def test_lex_search_budget_marks_incomplete():
    pn = planted_network(3, n=6, d=3, extra=3)
    F_rows = [[int(v * 4) for v in row] for row in zip(*pn.fits, strict=True)]
    search = lex_bases(F_rows, max_bases=1)
    assert not search.complete and len(search.bases) == 1


@settings(max_examples=5)
@given(st.integers(0, 20))
def test_vertices_by_supports_matches_cdd(seed):
    rng = np.random.default_rng(seed)
    A = rng.integers(-2, 3, size=(3, 6)).tolist()
    x = rng.integers(0, 3, size=6)
    b = (np.array(A) @ x).tolist()
    enum = enumerate_vertices(A, b)
    if not enum.rays:
        assert enum.vertices == vertices_by_supports([list(c) for c in zip(*A, strict=True)], b)


def test_cli_optimal_set(tmp_path):
    pn = planted_network(0)
    np.savez(tmp_path / "d.npz", X=pn.X, y=pn.y)
    np.savez(tmp_path / "m.npz", W1=pn.W1, w2=pn.w2)
    run = [sys.executable, "-m", "certify"]
    files = ["--data", str(tmp_path / "d.npz"), "--model", str(tmp_path / "m.npz")]
    outputs = ["-o", str(tmp_path / "s.json"), "--certificate", str(tmp_path / "c.json"),
               "--report", str(tmp_path / "r.html")]
    out = subprocess.run(run + ["optimal-set", *files, "--lam", "1/2", *outputs],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "s.json").read_text())
    got = sorted(tuple(F(v) for v in vert["beta"]) for vert in data["network_polytope"]["vertices"])
    assert got == pn.vertices and data["network_polytope"]["complete"]
    assert data["optimal_set"]["verdict_kind"] == "numerical"
    assert "<img" in (tmp_path / "r.html").read_text()
    chk = subprocess.run(run + ["check", str(tmp_path / "c.json"), "--data", str(tmp_path / "d.npz"),
                                "--model", str(tmp_path / "m.npz")], capture_output=True, text=True)
    assert chk.returncode == 0 and "ACCEPTED" in chk.stdout
    bad = subprocess.run(run + ["optimal-set", *files, "--lam", "0", "-o", str(tmp_path / "s2.json")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "lam" in bad.stderr.lower()


def test_cli_p_unique_on_planted_network(tmp_path):
    from certify.testing.planted import planted_relu_network

    inst, W1, w2 = planted_relu_network(1, ties=2)
    np.savez(tmp_path / "d.npz", X=inst.X, y=inst.y)
    np.savez(tmp_path / "m.npz", W1=W1, w2=w2)
    np.savez(tmp_path / "p.npz", D=inst.D)
    files = ["--data", str(tmp_path / "d.npz"), "--model", str(tmp_path / "m.npz"),
             "--patterns", str(tmp_path / "p.npz")]
    run = [sys.executable, "-m", "certify"]
    out = subprocess.run(run + ["optimal-set", *files, "--lam", "1/2", "-o", str(tmp_path / "s.json"),
                                "--certificate", str(tmp_path / "c.json")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "p_unique claim written" in out.stdout
    chk = subprocess.run(run + ["check", str(tmp_path / "c.json"), *files], capture_output=True, text=True)
    assert chk.returncode == 0 and "ACCEPTED: 2 of 2" in chk.stdout, chk.stdout


def test_lex_search_time_budget_marks_incomplete():
    pn = planted_network(3, n=6, d=3, extra=3)
    F_rows = [[int(v * 4) for v in row] for row in zip(*pn.fits, strict=True)]
    assert not lex_bases(F_rows, max_seconds=0.0).complete
    assert lex_bases(F_rows).complete


def test_cli_budget_exit_code(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, size=(4, 2))                        # positive data: 30 neurons, rank 2
    W1 = rng.uniform(0.5, 1.5, size=(2, 30))
    np.savez(tmp_path / "d.npz", X=X, y=np.zeros(4))
    np.savez(tmp_path / "m.npz", W1=W1, w2=np.ones(30))
    out = subprocess.run([sys.executable, "-m", "certify", "optimal-set", "--data", str(tmp_path / "d.npz"),
                          "--model", str(tmp_path / "m.npz"), "--lam", "1", "-o", str(tmp_path / "s.json"),
                          "--max-vertices", "100"], capture_output=True, text=True)
    assert out.returncode == 3 and "budget" in out.stderr and "allow up to" in out.stderr
