"""Regularization paths (certify.solve.path, theory.md §3 and §6).

Monotonicity checks test only theorems about *optimal* solutions (for a penalized convex problem
``min L(w) + lam R(w)``, comparing the optimality of ``w1`` at ``lam1`` and ``w2`` at ``lam2 > lam1``
gives ``(lam1 - lam2)(R(w1) - R(w2)) <= 0``): along a decreasing grid the loss is non-increasing,
the penalty ``sum ||w_b||`` non-decreasing and ``p*(lam)`` non-increasing. The solutions are
optimal only to a relative gap ``<= 1e-8``, so each comparison allows the error that gap
implies (derived in ``_loss_error``), which is far below the steps of the grids used here.
"""

from __future__ import annotations

import numpy as np
import pytest

from certify.convex.mapping import nc_objective
from certify.errors import FormatError, InputError
from certify.solve import path as path_module
from certify.solve.path import RegularizationPath, lam_grid, lam_max, solve_path
from certify.solve.working_set import SolverOptions, solve
from tests.instances import gaussian_data, sampled_patterns

CASES = [(seed, gated) for seed in (0, 1, 2) for gated in (False, True)]


def _instance(seed: int, n: int = 36, d: int = 3, count: int = 20):
    X, y = gaussian_data(n, d, seed)
    return X, y, sampled_patterns(X, count, seed + 100)


_PATHS: dict[tuple[int, bool], RegularizationPath] = {}


def _path(seed: int, gated: bool) -> RegularizationPath:
    """One 7-point path per case, shared by the tests (solving is the slow part)."""
    key = (seed, gated)
    if key not in _PATHS:
        X, y, D = _instance(seed)
        _PATHS[key] = solve_path(X, y, D, gated=gated, count=7, ratio=1e-2)
    return _PATHS[key]


def _loss_error(path: RegularizationPath) -> np.ndarray:
    """Bound on ``|loss_k - loss*(lam_k)|`` implied by the relative gap.

    With ``eps = objective - p* <= gap * objective``, ``1/2 ||yhat - yhat*||^2 <= eps`` (the
    objective is 1/2-strongly convex in the fit), so the loss moves by at most
    ``||r|| delta + delta^2 / 2`` with ``delta = sqrt(2 eps)``.
    """
    eps = (np.maximum(path.gaps, 0.0) + 1e-12) * path.objectives
    delta = np.sqrt(2.0 * eps)
    return np.sqrt(2.0 * np.maximum(path.losses, 0.0)) * delta + 0.5 * delta ** 2


# --------------------------------------------------------------------------------------------
# Solutions


@pytest.mark.parametrize("seed, gated", CASES)
def test_path_matches_cold_solves(seed, gated):
    X, y, D = _instance(seed)
    path = _path(seed, gated)
    assert path.converged, path.message
    assert len(path) == 7 and path.lams.shape == (7,)
    for k, lam in enumerate(path.lams):
        cold = solve(X, y, lam, D, gated=gated)
        assert cold.converged, cold.message
        got = path.solutions[k]
        assert got.lam == lam
        assert abs(got.objective - cold.objective) <= 1e-8 * max(cold.objective, got.objective)
        # weak duality across the two solves: each dual value is a lower bound of p*(lam)
        assert got.objective >= cold.dual_value - 1e-12 * cold.objective
        assert cold.objective >= got.dual_value - 1e-12 * got.objective


@pytest.mark.parametrize("seed, gated", CASES)
def test_first_point_is_zero_and_lam_max_is_tight(seed, gated):
    X, y, D = _instance(seed)
    path = _path(seed, gated)
    top = lam_max(X, y, D, gated=gated)
    assert path.lam_max == top and path.lams[0] == top
    first = path.solutions[0]
    assert not first.U.any() and not first.H.any()
    assert abs(first.gap) <= 1e-14  # 0 up to the rounding of two evaluations of X^T D_p y
    assert first.objective == pytest.approx(0.5 * float(y @ y), rel=1e-15)
    assert path.supports()[0] == frozenset() and path.widths[0] == 0
    # just below lam_max the zero solution is no longer optimal
    below = solve(X, y, top * (1 - 1e-3), D, gated=gated)
    assert below.converged and (below.U.any() or below.H.any())
    assert below.objective < 0.5 * float(y @ y)


def test_lam_max_gated_formula_and_cone_bound():
    X, y, D = _instance(0)
    G = X.T @ (D * y[:, None])
    gated = lam_max(X, y, D, gated=True)
    assert gated == pytest.approx(np.linalg.norm(G, axis=0).max(), rel=1e-15)
    # projecting onto a cone never increases the norm: the C-ReLU lam_max is at most the gated one
    assert 0 < lam_max(X, y, D) <= gated * (1 + 1e-12)
    assert lam_max(X, np.zeros_like(y), D) == 0.0


@pytest.mark.parametrize("seed, gated", CASES)
def test_monotone_along_the_path(seed, gated):
    path = _path(seed, gated)
    tol = _loss_error(path)
    losses, penalties, objectives = path.losses, path.penalties, path.objectives
    pen_tol = (tol + (np.maximum(path.gaps, 0.0) + 1e-12) * objectives) / path.lams
    for k in range(len(path) - 1):
        # lams decrease: loss non-increasing, penalty non-decreasing, p* non-increasing
        assert losses[k + 1] <= losses[k] + tol[k] + tol[k + 1]
        assert penalties[k + 1] >= penalties[k] - pen_tol[k] - pen_tol[k + 1]
        assert objectives[k + 1] <= objectives[k] * (1 + 2 * path.gaps.max() + 1e-12)
    # the steps are real, not artefacts of the tolerance
    assert losses[-1] < losses[0] - 10 * tol.max()


# --------------------------------------------------------------------------------------------
# Path object


def test_warm_starts_chain_and_progress(monkeypatch):
    X, y, D = _instance(1)
    seen_warm, calls, made = [], [], []
    real = path_module.solve

    def spy(*args, warm_start=None, **kwargs):
        seen_warm.append(warm_start)
        sol = real(*args, warm_start=warm_start, **kwargs)
        made.append(sol)
        return sol

    monkeypatch.setattr(path_module, "solve", spy)
    lams = lam_grid(lam_max(X, y, D), count=5, ratio=0.05)
    path = solve_path(X, y, D, lams=lams, progress=lambda k, lam, sol: calls.append((k, lam, sol)))
    assert seen_warm[0] is None
    for k in range(1, 5):
        expected = made[k - 1].warm_start()
        got = seen_warm[k] or {}
        assert got.keys() == expected.keys()
        assert all(np.array_equal(got[key], expected[key]) for key in expected)
    assert all(seen_warm[k] for k in range(2, 5))  # non-zero solutions hand their working sets on
    assert [(k, lam) for k, lam, _ in calls] == list(enumerate(lams))
    assert all(sol is path.solutions[k] for k, _, sol in calls)


def test_non_converged_solve_is_kept_and_flagged():
    X, y, D = _instance(2)
    lams = lam_grid(lam_max(X, y, D), count=4, ratio=1e-3)
    path = solve_path(X, y, D, lams=lams, options=SolverOptions(max_rounds=1))
    assert len(path.solutions) == 4
    assert not path.converged
    bad = np.flatnonzero(~path.converged_each)
    assert bad.size > 0
    assert "did not converge" in path.message
    assert f"lams[{bad[0]}]" in path.message


def test_predictions_networks_supports():
    X, y, D = _instance(0)
    path = _path(0, False)
    pred = path.predictions(X)
    K, n = len(path), X.shape[0]
    assert pred.shape == (K, n)
    losses = 0.5 * ((y[None, :] - pred) ** 2).sum(axis=1)
    assert np.allclose(losses, path.losses, rtol=1e-9, atol=1e-12)
    P = D.shape[1]
    for support, sol in zip(path.supports(), path.solutions, strict=True):
        W = np.hstack([sol.U, sol.H])
        assert all(0 <= j < 2 * P for j in support)
        assert set(np.flatnonzero(np.linalg.norm(W, axis=0) > 0)) >= support
    assert list(path.widths) == [len(s) for s in path.supports()]
    nets = path.networks()
    assert len(nets) == K
    for net, sol, row in zip(nets, path.solutions, pred, strict=True):
        out = np.maximum(X @ net.W1, 0.0) @ net.w2
        assert np.allclose(out, row, atol=1e-7 * max(1.0, np.abs(row).max()))
        assert nc_objective(X, y, sol.lam, net.W1, net.w2) == pytest.approx(sol.objective, rel=1e-7)
    assert not nets[0].w2.any()  # the zero solution gives one zero neuron
    Xb = np.hstack([X, np.ones((n, 1))])
    with pytest.raises(InputError, match="training"):
        path.predictions(Xb)
    with pytest.raises(InputError, match="gated"):
        _path(0, True).networks()
    # bias: the last feature's weights become b1
    pb = solve_path(Xb, y, sampled_patterns(Xb, 15, 7), count=3, ratio=0.1)
    net = pb.networks(bias=True)[-1]
    assert net.b1 is not None and net.W1.shape[0] == X.shape[1]


# --------------------------------------------------------------------------------------------
# Files


@pytest.mark.parametrize("gated", [False, True])
def test_save_load_round_trip_exact(tmp_path, gated):
    path = _path(1, gated)
    f = tmp_path / "path.npz"
    path.save(f)
    back = RegularizationPath.load(f)
    assert back.gated == path.gated and back.lam_max == path.lam_max and back.seconds == path.seconds
    assert np.array_equal(back.lams, path.lams) and np.array_equal(back.patterns, path.patterns)
    for name in ("objectives", "dual_values", "gaps", "violations", "penalties", "losses",
                 "converged_each", "widths"):
        assert np.array_equal(getattr(back, name), getattr(path, name)), name
    for a, b in zip(back.solutions, path.solutions, strict=True):
        assert np.array_equal(a.U, b.U) and np.array_equal(a.H, b.H)
        assert (a.lam, a.rounds, a.message, a.converged) == (b.lam, b.rounds, b.message, b.converged)
    assert back.supports() == path.supports()


def test_save_load_keeps_non_converged(tmp_path):
    X, y, D = _instance(2)
    path = solve_path(X, y, D, count=3, ratio=1e-3, options=SolverOptions(max_rounds=1))
    assert not path.converged
    path.save(tmp_path / "p.npz")
    back = RegularizationPath.load(tmp_path / "p.npz")
    assert not back.converged and back.message == path.message


def _arrays(tmp_path) -> dict[str, np.ndarray]:
    f = tmp_path / "good.npz"
    _path(0, False).save(f)
    with np.load(f, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _write(tmp_path, arrays, name="bad.npz"):
    f = tmp_path / name
    np.savez(f, **arrays)
    return f


@pytest.mark.parametrize("change, match", [
    (lambda a: a.pop("U"), "no array 'U'"),
    (lambda a: a.pop("lams"), "no array 'lams'"),
    (lambda a: a.update(extra=np.zeros(2)), "unexpected"),
    (lambda a: a.update(U=a["U"][:, :, :-1]), "'U'"),
    (lambda a: a.update(H=a["H"][:-1]), "'H'"),
    (lambda a: a.update(gaps=a["gaps"][:-1]), "'gaps'"),
    (lambda a: a.update(lams=a["lams"][::-1].copy()), "decreasing"),
    (lambda a: a.update(lams=a["lams"].reshape(1, -1)), "'lams'"),
    (lambda a: a.update(patterns=a["patterns"].astype(np.float64)), "'patterns'"),
    (lambda a: a.update(patterns=a["patterns"] * 2), "0 and 1"),
    (lambda a: a.update(converged=a["converged"].astype(np.int64)), "'converged'"),
    (lambda a: a.update(messages=np.zeros(len(a["lams"]))), "'messages'"),
    (lambda a: a.update(gated=np.array([True])), "'gated'"),
    (lambda a: a.update(version=np.array(99)), "version"),
    (lambda a: a.update(U=np.where(a["U"] == 0, np.nan, a["U"])), "non-finite"),
])
def test_malformed_files_rejected(tmp_path, change, match):
    arrays = _arrays(tmp_path)
    change(arrays)
    with pytest.raises(FormatError, match=match):
        RegularizationPath.load(_write(tmp_path, arrays))


def test_object_array_and_non_npz_rejected(tmp_path):
    arrays = _arrays(tmp_path)
    arrays["messages"] = np.array([object()] * len(arrays["lams"]), dtype=object)
    with pytest.raises(FormatError, match="object array"):
        RegularizationPath.load(_write(tmp_path, arrays))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an archive at all")
    with pytest.raises(FormatError):
        RegularizationPath.load(junk)
    with pytest.raises(InputError):
        RegularizationPath.load(tmp_path / "missing.npz")


# --------------------------------------------------------------------------------------------
# Arguments


@pytest.mark.parametrize("lams, match", [
    ([1.0, 2.0], "strictly decreasing"),
    ([1.0, 1.0], "strictly decreasing"),
    ([1.0, 0.5, 0.7], "strictly decreasing"),
    ([1.0, 0.0], "not positive"),
    ([1.0, -0.5], "not positive"),
    ([1.0, np.nan], "not finite"),
    ([np.inf, 1.0], "not finite"),
    ([], "non-empty"),
    ([[1.0, 0.5]], "1-D"),
    (["a", "b"], "positive numbers"),
])
def test_invalid_lams_rejected(lams, match):
    X, y, D = _instance(0)
    with pytest.raises(InputError, match=match):
        solve_path(X, y, D, lams=lams)


def test_lam_grid():
    g = lam_grid(3.0, count=5, ratio=1e-2)
    assert g[0] == 3.0 and g[-1] == pytest.approx(3e-2, rel=1e-14)
    assert np.all(np.diff(g) < 0) and np.allclose(g[1:] / g[:-1], 10 ** -0.5)
    assert np.array_equal(lam_grid(2.0, count=1), [2.0])
    for top in (0.0, -1.0, np.nan, np.inf, "x"):
        with pytest.raises(InputError, match="lam_max"):
            lam_grid(top)
    for count in (0, -3, 2.5, True, None):
        with pytest.raises(InputError, match="count"):
            lam_grid(1.0, count=count)
    for ratio in (1.0, 0.0, -0.1, 2.0, np.nan):
        with pytest.raises(InputError, match="ratio"):
            lam_grid(1.0, ratio=ratio)


def test_bad_problem_inputs():
    X, y, D = _instance(0)
    with pytest.raises(InputError, match="lam_max = 0"):
        solve_path(X, np.zeros_like(y), D)
    with pytest.raises(InputError, match="D has shape"):
        solve_path(X, y, D[:-1])
    with pytest.raises(InputError):
        lam_max(X, y[:-1], D)
    with pytest.raises(InputError):
        lam_max(X, y, D * 2)
