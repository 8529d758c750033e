"""Exact Algorithm 1 (theory.md §5): C9 as properties, the issue's acceptance criterion, the CLI.

C9: Algorithm 1 keeps the fit exactly and never increases the objective (also on networks that are
not optimal), ends with independent fit columns, at most n neurons, the support shrinks at every
step, and the factors lie in [0, 2] (for the step with k = argmax |beta'|). Everything is checked
against Fractions recomputed here, not against the kernel's own numbers.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.check.checker import check_certificate
from certify.cli import main
from certify.errors import InputError
from certify.exact.dyadic import DyadicMatrix
from certify.network import Network
from certify.problem import Problem
from certify.pruning import prune
from certify.pruning.exact import prune_exact
from tests.reference import rank

F = Fraction


def at_most(count: int) -> settings:
    """Cap the examples of a test in every profile (the thorough profile included)."""
    current = settings().max_examples
    return settings(max_examples=min(count, current) if current < 200 else count * 3)


def _network(seed: int, n: int, d: int, m: int, kind: str, bias: bool, dups: int):
    rng = np.random.default_rng(seed)
    if kind == "integer":  # small integers: exact dependencies, dead neurons, zero rows
        X = rng.integers(-2, 3, (n, d)).astype(float)
        y = rng.integers(-4, 5, n) / 4.0
        W1 = rng.integers(-2, 3, (d, m)).astype(float)
        w2 = rng.integers(-3, 4, m) / 2.0
        b1 = rng.integers(-1, 2, m).astype(float) if bias else None
    else:
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        W1, w2 = rng.standard_normal((d, m)), rng.standard_normal(m)
        b1 = rng.standard_normal(m) if bias else None
    for t in range(min(dups, m - 1)):  # positively scaled duplicates of neuron 0
        scale = float(2 ** int(rng.integers(-2, 3)))
        W1[:, t + 1] = scale * W1[:, 0]
        if b1 is not None:
            b1[t + 1] = scale * b1[0]
    return X, y, W1, w2, b1


def _exact_inputs(X, y, W1, w2, b1):
    feats = np.hstack([X, np.ones((len(y), 1))]) if b1 is not None else X
    W = np.vstack([W1, b1[None, :]]) if b1 is not None else W1
    return (DyadicMatrix.from_rows(feats.tolist()), DyadicMatrix.from_column(y.tolist()),
            DyadicMatrix.from_rows(W.tolist()), DyadicMatrix.from_column(w2.tolist())), feats, W


def _fit(feats, W, w2) -> list[Fraction]:
    Xq = [[F(v) for v in row] for row in feats]
    cols = len(w2)
    return [sum(max(sum(x[i] * F(W[i][j]) for i in range(len(x))), F(0)) * F(w2[j]) for j in range(cols))
            for x in Xq]


def _nc(feats, y, W, w2, lam) -> Fraction:
    loss = sum((f - F(t)) ** 2 for f, t in zip(_fit(feats, W, w2), y, strict=True)) / 2
    return loss + lam / 2 * (sum(F(v) ** 2 for row in W for v in row) + sum(F(v) ** 2 for v in w2))


def _columns(feats, W, w2, neurons) -> list[list[Fraction]]:
    return [[max(sum(F(x[i]) * F(W[i][j]) for i in range(len(x))), F(0)) * F(w2[j]) for x in feats]
            for j in neurons]


instances = st.tuples(
    st.integers(0, 10**6),            # seed
    st.integers(1, 7),                # n
    st.integers(1, 3),                # d
    st.integers(1, 12),               # m (often > n)
    st.sampled_from(["integer", "gauss"]),
    st.booleans(),                    # bias
    st.integers(0, 3),                # duplicated neurons
    st.sampled_from([F(1, 10), F(1, 2), F(2)]),
)


@at_most(40)
@given(instances)
def test_c9_algorithm1_properties(case) -> None:
    seed, n, d, m, kind, bias, dups, lam = case
    X, y, W1, w2, b1 = _network(seed, n, d, m, kind, bias, dups)
    exact_in, feats, W = _exact_inputs(X, y, W1, w2, b1)
    res = prune_exact(*exact_in, lam)
    # the fit is exactly the original one, the objective never increases (step by step)
    assert _fit(feats, res.W1, res.w2) == _fit(feats, W, w2)
    original = _nc(feats, y, W, w2, lam)
    assert res.objective_original == original
    assert res.objective == _nc(feats, y, res.W1, res.w2, lam)
    chain = [original, res.objective_rebalanced] + [s.objective for s in res.steps]
    assert all(a >= b for a, b in zip(chain, chain[1:], strict=False))
    assert chain[-1] == res.objective <= original
    # the support shrinks at every step; survivors, removed and zero neurons partition the neurons
    removed = [k for s in res.steps for k in s.removed]
    assert all(s.removed for s in res.steps)
    assert sorted(res.kept + removed + res.dead) == list(range(m))
    # every survivor is a positive multiple of the original neuron (W1 direction kept)
    for col, j in enumerate(res.kept):
        a = res.scale[col]
        assert a > 0 and all(res.W1[i][col] == a * F(W[i][j]) for i in range(len(W)))
    # factors: >= 0 always, <= 2 for the step k = argmax |beta'|
    for s in res.steps:
        assert s.max_factor >= 0
        if s.largest:
            assert s.max_factor <= 2
    # ends with independent fit columns, at most rank <= n neurons (refused steps are neutral only)
    alive = [j for j in range(m) if j not in res.dead]
    full_rank = rank(_columns(feats, W, w2, alive)) if alive else 0
    assert res.rank <= full_rank <= n
    if res.minimal:
        assert len(res.kept) == res.rank
        assert rank(_columns(feats, W, w2, res.kept)) == len(res.kept)
    else:
        assert all(r.increase > 0 for r in res.refused)
        assert len(res.kept) == res.rank + len(res.refused)


@at_most(15)
@given(st.integers(0, 10**6), st.integers(2, 6), st.booleans())
def test_acceptance_more_neurons_than_points(seed, n, bias) -> None:
    """Issue 5 acceptance: a network with more neurons than data points is pruned to at most n
    neurons, the objective does not increase, and `certify check` accepts both claims."""
    rng = np.random.default_rng(seed)
    d, m = int(rng.integers(1, 4)), n + int(rng.integers(1, 3 * n))
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    b1 = rng.standard_normal(m) if bias else None
    net = Network(rng.standard_normal((d, m)), rng.standard_normal(m), b1)
    problem = Problem(X, y, "1/10", bias=bias)
    result = prune(problem, net)
    g = result.network
    assert g.width <= n < m
    assert result.exact.objective <= result.exact.objective_original
    report = check_certificate(result.to_json(), X.tolist(), y.tolist(), g.W1.tolist(), g.w2.tolist(),
                               None if g.b1 is None else g.b1.tolist())
    assert report.accepted, [v.reason for v in report.verdicts]
    assert {v.claim_type for v in report.verdicts} == {"objective", "pruned", "minimal"}


def test_neutral_step_at_exactly_balanced_duplicates_is_refused_and_reported() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, 3.0])
    net = Network(np.array([[3.0, 3.0], [4.0, 4.0]]), np.array([5.0, 5.0]))  # ||W1_j|| = |w2_j| exactly
    result = prune(Problem(X, y, "1"), net)
    assert not result.exact.minimal and len(result.exact.refused) == 1
    increase = result.exact.refused[0].increase
    assert 0 < increase < F(1, 10**20)  # the rebalancing excess of sqrt(2), nothing else
    assert result.exact.objective == result.exact.objective_original
    assert not result.minimal
    report = check_certificate(result.to_json(), X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist())
    assert report.accepted
    assert [v.claim_type for v in report.verdicts] == ["objective", "pruned", "not_minimal"]


def test_duplicates_of_a_non_balanced_network_are_merged() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]])
    y = np.array([1.0, 2.0, 3.0, -1.0])
    W1 = np.array([[1.0, 2.0, 0.5], [-1.0, -2.0, 1.5]])
    net = Network(W1, np.array([0.7, 0.3, -1.1]))
    result = prune(Problem(X, y, "1/2"), net)
    assert result.exact.minimal and result.network.width == 2
    assert result.exact.objective < result.exact.objective_original


def test_zero_neurons_only() -> None:
    X = np.array([[1.0], [2.0]])
    net = Network(np.array([[-1.0, 0.0, 2.0]]), np.array([1.0, 3.0, 0.0]))
    result = prune(Problem(X, np.array([1.0, 0.0]), "1"), net)
    assert result.exact.dead == [0, 1, 2] and result.network.width == 1
    assert result.minimal and result.certificate["claims"][2]["support"] == []
    g = result.network
    report = check_certificate(result.to_json(), X.tolist(), [1.0, 0.0], g.W1.tolist(), g.w2.tolist())
    assert report.accepted, [v.reason for v in report.verdicts]


def test_bad_inputs() -> None:
    X, y = np.ones((3, 2)), np.ones(3)
    net = Network(np.ones((2, 2)), np.ones(2))
    with pytest.raises(InputError, match="bias"):
        prune(Problem(X, y, "1", bias=True), net)
    with pytest.raises(InputError):
        prune(Problem(np.ones((3, 3)), y, "1"), net)
    with pytest.raises(InputError):
        Problem(X, y, "0")


def test_cli_prune_then_check(tmp_path, capsys) -> None:
    rng = np.random.default_rng(7)
    n, d, m = 6, 2, 15
    np.savez(tmp_path / "data.npz", X=rng.standard_normal((n, d)), y=rng.standard_normal(n))
    W1 = rng.standard_normal((d, m))
    W1[:, 1] = 0.5 * W1[:, 0]
    np.savez(tmp_path / "net.npz", W1=W1, w2=rng.standard_normal(m), b1=rng.standard_normal(m))
    out, cert = str(tmp_path / "pruned.npz"), str(tmp_path / "c.json")
    code = main(["prune", "--data", str(tmp_path / "data.npz"), "--model", str(tmp_path / "net.npz"),
                 "--lam", "0.1", "--bias", "-o", out, "--certificate", cert])
    text = capsys.readouterr().out
    assert code == 0 and f"width {m} -> " in text and "near-dependence" in text and "minimal" in text
    with np.load(out, allow_pickle=False) as f:
        assert f["W1"].shape[1] <= n
    assert main(["check", cert, "--data", str(tmp_path / "data.npz"), "--model", out]) == 0
    assert "ACCEPTED: 3 of 3 claims" in capsys.readouterr().out
    # the certificate is about the pruned file, not the original
    data, original = str(tmp_path / "data.npz"), str(tmp_path / "net.npz")
    assert main(["check", cert, "--data", data, "--model", original]) == 1
    doc = json.loads(open(cert).read())
    assert doc["diagnostics"]["near_dependence"]["tolerance"] == 1e-10
    # bad input: a model of the wrong shape, an unused option
    np.savez(tmp_path / "bad.npz", W1=np.ones((3, 2)), w2=np.ones(2))
    assert main(["prune", "--data", str(tmp_path / "data.npz"), "--model", str(tmp_path / "bad.npz"),
                 "--lam", "1", "-o", out]) == 2
    assert main(["prune", "--data", str(tmp_path / "data.npz"), "--model", str(tmp_path / "net.npz"),
                 "--lam", "-1", "--bias", "-o", out]) == 2
    assert "error" in capsys.readouterr().err
