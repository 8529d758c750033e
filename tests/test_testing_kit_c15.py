"""The theory test kit's C15, sensitivity (theory.md §6; implicit function theorem).

``check_c15`` compares the derivatives of :func:`certify.sensitivity.kernel.sensitivity` with central
differences of re-solves by the solver under test. It holds for certify's solver and cvxpy on generated
instances where the theorem's hypotheses hold; it is "not applicable", naming the failing hypothesis, on
planted degenerate / non-unique instances (certify/testing/planted.py) and on the zero solution; and it
FAILS for deliberately wrong derivative providers (the sign of d y_hat / d lam flipped; the ``lam H``
curvature term dropped from ``J``) and for a solver that ignores the perturbations.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.sensitivity.kernel import sensitivity, system
from certify.testing import CLAIMS, Candidate, Instance, certify_solver, check_solver, cvxpy_solver
from certify.testing import claims as C  # noqa: N812
from certify.testing.check_solver import CONVEX_CLAIMS, NETWORK_CLAIMS
from certify.testing.planted import planted_relu


def at_most(count: int) -> settings:
    """Lowers, never raises, the profile's example count."""
    return settings(max_examples=min(count, settings().max_examples))


def gaussian(seed: int, lam: float = 0.3, n: int = 12, d: int = 3, P: int = 8) -> Instance:
    """Generic data (Gaussian, so no exact ties): the hypotheses usually hold."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    D = np.unique((X @ rng.standard_normal((d, P)) >= 0).astype(np.uint8), axis=1)
    return Instance(X, y, lam, D, label=f"gaussian seed {seed}")


def solved(inst: Instance, fn) -> Candidate:
    return Candidate.of(fn(inst.X, inst.y, inst.lam, inst.D), inst)


# --- deliberately wrong derivative providers ---------------------------------------------------------------


def flipped_sign(*args, **kwargs):
    """The kernel with ``d y_hat / d lam`` (and ``d w / d lam``) negated."""
    S = sensitivity(*args, **kwargs)
    if not S.valid:
        return S
    return dataclasses.replace(S, dfit_dlam=-S.dfit_dlam, dw_dlam=-S.dw_dlam)


def without_curvature(X, y, lam, patterns, signs, weights, tolerances=None):
    """The implicit-function derivatives with the ``lam H`` term of ``J`` dropped (least squares where the
    truncated ``J`` is singular)."""
    S = sensitivity(X, y, lam, patterns, signs, weights, tolerances)
    if not S.valid:
        return S
    J, rhs_lam, rhs_y, Z = system(np.asarray(X, float), lam, S.active)
    d = X.shape[1]
    for i, a in enumerate(S.active):
        norm = float(np.linalg.norm(a.weight))
        u = a.weight / norm
        sl = slice(i * d, (i + 1) * d)
        J[sl, sl] -= lam * (np.eye(d) - np.outer(u, u)) / norm
    sol, *_ = np.linalg.lstsq(J, np.column_stack([rhs_lam, rhs_y]), rcond=None)
    nw = Z.shape[1]
    return dataclasses.replace(S, dfit_dlam=Z @ sol[:nw, 0], dfit_dy=Z @ sol[:nw, 1:])


def zero_derivatives(*args, **kwargs):
    """Claims every derivative is 0."""
    S = sensitivity(*args, **kwargs)
    if not S.valid:
        return S
    return dataclasses.replace(S, dfit_dlam=np.zeros_like(S.dfit_dlam), dfit_dy=np.zeros_like(S.dfit_dy))


def missing_derivatives(*args, **kwargs):
    """Claims the hypotheses hold but gives no derivative."""
    return dataclasses.replace(sensitivity(*args, **kwargs), dfit_dlam=None)


def stale(fn):
    """A solver that answers a call within 5% of an earlier one (same ``X``, ``D``) with the earlier
    solution: it ignores small changes of ``lam`` and ``y``."""
    memo: list = []

    def solve(X, y, lam, D):
        for X0, D0, y0, lam0, out in memo:
            same = X0.shape == X.shape and D0.shape == D.shape and np.array_equal(X0, X) \
                and np.array_equal(D0, D)
            if same and abs(lam - lam0) <= 5e-2 * lam0 \
                    and np.abs(y - y0).max(initial=0.0) <= 5e-2 * (1 + np.abs(y0).max(initial=0.0)):
                return out
        out = fn(X, y, lam, D)
        memo.append((X.copy(), D.copy(), y.copy(), lam, out))
        return out

    return solve


# --- registration ------------------------------------------------------------------------------------------


def test_c15_is_registered_for_convex_solvers() -> None:
    spec = CLAIMS["C15"]
    assert spec.needs == "resolve" and "theory.md §6" in spec.source and spec.check is C.check_c15
    assert "C15" in CONVEX_CLAIMS and "C15" not in NETWORK_CLAIMS
    assert list(CLAIMS).index("C15") == list(CLAIMS).index("C14") + 1


# --- holds where the hypotheses hold -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["certify", "cvxpy"])
def test_c15_holds_on_a_fixed_valid_instance(name) -> None:
    """Applicable (so the property below cannot pass vacuously) and holds, with small measured errors."""
    fn = certify_solver() if name == "certify" else cvxpy_solver()
    inst = gaussian(0)
    v = C.check_c15(inst, solved(inst, fn), fn)
    assert v.applicable and v.holds, str(v)
    assert v.numbers["active_groups"] >= 2 and v.numbers["tight_rows"] >= 1
    assert v.numbers["dfit_dlam_error"] <= 1e-3 and v.numbers["dfit_dy_error"] <= 1e-3
    assert v.numbers["weight_error"] <= 1e-2
    assert 0 < v.tolerance < 0.5 * v.numbers["dfit_dlam_norm"]  # a wrong sign (error 2 ||g||) would fail


@at_most(8)
@given(seed=st.integers(0, 10_000), lam=st.sampled_from([0.15, 0.3, 0.6]))
def test_c15_holds_for_certify_on_generated_instances(seed, lam) -> None:
    fn = certify_solver()
    inst = gaussian(seed, lam)
    v = C.check_c15(inst, solved(inst, fn), fn)
    assert v.holds, str(v)
    if not v.applicable:  # only for a named reason
        assert "hypothesis" in v.message or "re-solves" in v.message


def test_check_solver_runs_c15_with_applicable_examples() -> None:
    report = check_solver(certify_solver(), claims=["C15"], max_examples=12, verbose=False)
    res = report.results[0]
    assert report.ok and res.claim == "C15" and res.examples >= 12 and res.applicable > 0, str(report)


# --- not applicable where a hypothesis fails ---------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_c15_not_applicable_on_planted_degenerate_instances(seed) -> None:
    """planted_relu: ``2^ties`` duplicate blocks (the optimal set is a simplex before merging) and a residual
    supported on ``x_t``, so every tight multiplier is 0. At a vertex and at the split (non-unique) point
    the verdict is "not applicable", naming strict complementarity, never "holds"."""
    planted = planted_relu(seed)
    inst = Instance(planted.X, planted.y, float(planted.lam), planted.D, label="planted relu")
    k = len(planted.alpha0)
    split = tuple(Fraction(sum(planted.alpha0), k) for _ in range(k))
    for alpha in (planted.alpha0, split):
        cand = Candidate(*planted.weights(alpha))
        v = C.check_c15(inst, cand, certify_solver())
        assert not v.applicable and v.holds, str(v)
        assert "strict_complementarity" in v.message and "margin" in v.message
        assert "not applicable" in str(v)


def test_c15_not_applicable_for_the_zero_solution_and_without_a_solver() -> None:
    inst = gaussian(3, lam=1e3)  # far above lam_max: the solution is zero
    v = C.check_c15(inst, solved(inst, certify_solver()), certify_solver())
    assert not v.applicable and "nonzero" in v.message
    inst = gaussian(0)
    v = C.check_c15(inst, solved(inst, certify_solver()), None)
    assert not v.applicable and "no solver" in v.message


# --- fails for wrong derivatives -------------------------------------------------------------------------


@pytest.mark.parametrize("provider", [flipped_sign, without_curvature, zero_derivatives])
@pytest.mark.parametrize("seed", [0, 1])
def test_c15_fails_for_wrong_derivative_providers(provider, seed) -> None:
    fn = certify_solver()
    inst = gaussian(seed)
    cand = solved(inst, fn)
    assert C.check_c15(inst, cand, fn).holds
    v = C.check_c15(inst, cand, fn, derivatives=provider)
    assert v.applicable and not v.holds, str(v)
    assert "differs from the finite difference" in v.message and "FAILS" in str(v)
    assert v.numbers["dfit_dlam_error"] > 0.1


def test_c15_fails_for_a_stale_solver_in_check_solver() -> None:
    """A solver ignoring small lam and y perturbations (finite differences 0) fails C15, shrunk."""
    report = check_solver(stale(certify_solver()), claims=["C15"], max_examples=12, verbose=False)
    res = report.results[0]
    assert not report.ok and res.counterexample is not None and not res.verdict.holds, str(report)
    assert "finite difference" in res.verdict.message


def test_c15_raising_or_incomplete_provider_fails() -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    inst = gaussian(0)
    fn = certify_solver()
    v = C.check_c15(inst, solved(inst, fn), fn, derivatives=broken)
    assert not v.holds and "boom" in v.message
    v = C.check_c15(inst, solved(inst, fn), fn, derivatives=missing_derivatives)
    assert not v.holds and "dfit_dlam" in v.message
