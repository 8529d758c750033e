"""Refinement within a budget of adjacent cells (certify.patterns.sources.adjacent_cells, refine's
``limited``): a neuron with more near ties than ``max_flips`` gets the cells across one near-tie
hyperplane each, and the result is then not called stationary. Before, ``certify fit`` stopped
with a budget error on such data (scikit-learn wine at lam = 5)."""

from __future__ import annotations

import numpy as np
import pytest

from certify.errors import BudgetError
from certify.patterns.sources import DEFAULT_NEAR_TIE, adjacent_cells, adjacent_patterns, gate_patterns
from certify.solve.refine import FastSolver, refine


def _near_ties(X, w, tol=DEFAULT_NEAR_TIE):
    xn = np.linalg.norm(X, axis=1)
    pre = X @ w
    return set(np.flatnonzero((np.abs(pre) <= tol * xn * np.linalg.norm(w)) & (xn > 0)).tolist())


def test_over_budget_neuron_gets_single_flips_and_is_listed():
    rng = np.random.default_rng(0)
    w = np.array([1.0, -2.0, 0.5])
    X = rng.standard_normal((12, 3))
    on = [0, 3, 5, 7]  # put four points exactly on the neuron's hyperplane
    for k in on:
        X[k] -= (X[k] @ w) / (w @ w) * w
    W1 = np.stack([w, np.array([0.3, 0.1, 1.0])], axis=1)
    assert _near_ties(X, w) == set(on)
    P, limited = adjacent_cells(X, W1, max_flips=2)
    assert limited == [(0, 4)]
    base = (X @ w >= 0).astype(np.uint8)
    expected = {base.tobytes()}
    for k in on:
        flipped = base.copy()
        flipped[k] ^= 1
        expected.add(flipped.tobytes())
    second = set()
    b2 = (X @ W1[:, 1] >= 0).astype(np.uint8)
    near2 = sorted(_near_ties(X, W1[:, 1]))
    assert len(near2) <= 2
    for mask in range(1 << len(near2)):
        pat = b2.copy()
        for i, k in enumerate(near2):
            if mask >> i & 1:
                pat[k] ^= 1
        second.add(pat.tobytes())
    got = {P[:, c].tobytes() for c in range(P.shape[1])}
    assert got == expected | second
    # within budget: every subset, nothing limited, and the same as adjacent_patterns
    P4, limited4 = adjacent_cells(X, W1, max_flips=4)
    assert limited4 == [] and P4.shape[1] == len({*second, *(
        _flip(base, [k for i, k in enumerate(on) if m >> i & 1]).tobytes() for m in range(16))})
    assert np.array_equal(np.sort(adjacent_patterns(X, W1, max_flips=4), axis=1),
                          np.sort(P4, axis=1))
    with pytest.raises(BudgetError, match="neuron 0 has 4 near ties"):
        adjacent_patterns(X, W1, max_flips=2)


def _flip(base, rows):
    pat = base.copy()
    pat[rows] ^= 1
    return pat


@pytest.mark.parametrize("seed", [1, 2])
def test_refine_with_a_tiny_budget_reports_limited_neurons_and_never_calls_them_stationary(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((25, 3))
    X[:, 2] = 1.0
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(25)
    D = gate_patterns(X, 6, seed)
    lam = 0.05
    full = refine(X, y, lam, D, FastSolver())
    tiny = refine(X, y, lam, D, FastSolver(), max_flips=0)
    assert tiny.objectives[-1] <= tiny.objectives[0] * (1 + 1e-12)  # never worse than the start
    for j, t in tiny.limited:  # exactly the final network's neurons with near ties
        assert t == len(_near_ties(X, tiny.network.W1[:, j])) > 0
    live = [j for j in range(tiny.network.W1.shape[1]) if np.any(tiny.network.W1[:, j])]
    assert {j for j, _ in tiny.limited} == {j for j in live if _near_ties(X, tiny.network.W1[:, j])}
    assert tiny.limited and not tiny.stationary  # these seeds end with neurons on data hyperplanes
    assert full.stationary and full.limited == []  # the default budget covers them all


def test_cli_fit_reports_limited_refinement_and_its_certificate_is_accepted(tmp_path, capsys):
    from certify.cli import main

    rng = np.random.default_rng(1)
    X = rng.standard_normal((25, 2))
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(25)
    data = tmp_path / "d.npz"
    np.savez(data, X=X, y=y)
    net = tmp_path / "net.npz"
    rc = main(["fit", "--data", str(data), "--lam", "0.05", "--bias", "--gates", "6", "--seed", "1",
               "--max-flips", "0", "-o", str(net)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "refinement limited: near ties (neuron " in out and "exceed max_flips = 0" in out
    assert "not known to be stationary" in out
    rc = main(["check", str(tmp_path / "net.cert.json"), "--data", str(data), "--model", str(net)])
    assert rc == 0 and "ACCEPTED" in capsys.readouterr().out
    rc = main(["fit", "--data", str(data), "--lam", "0.05", "--max-flips", "-1", "-o", str(net)])
    assert rc == 2 and "--max-flips must be at least 0" in capsys.readouterr().err
