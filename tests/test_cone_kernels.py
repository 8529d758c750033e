"""Tests of the batched Numba cone projections (certify/solve/cone_kernels.py), theory.md §3.

For the cone ``K = {u : A u >= 0}`` of a pattern (``A = (2D - I) X``) and a vector ``g``, the
kernel returns ``||g + A^T mu||`` for some ``mu >= 0``: an upper bound of
``max_{u in K, ||u|| <= 1} <g, u> = ||Pi_K(g)||`` whatever the iteration count, equal to it
when the projection is reached. Expected values come from the SciPy constraint-generation
projection (:func:`certify.solve.cones.project`) and a plain full NNLS (scipy.optimize.nnls over
all rows), never from the kernel itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import nnls

from certify.errors import InputError
from certify.solve.cone_kernels import FACE_CAPACITY_FACTOR, project_batch
from certify.solve.cones import cone_matrix, project

REL = 1e-9


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


def all_blocks(P: int) -> tuple[np.ndarray, np.ndarray]:
    """Patterns and signs of the 2P blocks (sign +1, then -1)."""
    return np.concatenate([np.arange(P), np.arange(P)]), np.concatenate([np.ones(P), -np.ones(P)])


def reference(X: np.ndarray, D: np.ndarray, g: np.ndarray, p: int):
    """``(bound, point)`` of cones.project, cross-checked with a full NNLS over every row."""
    A = cone_matrix(X, D[:, p])
    rn = np.linalg.norm(X, axis=1)
    ref = project(g, A, rn)
    live = rn > 0
    if live.any():
        mu, _ = nnls(A[live].T, -g, maxiter=1000)
        full = g + A[live].T @ mu
    else:
        full = g
    scale = max(float(np.linalg.norm(g)), 1e-300)
    assert abs(np.linalg.norm(full) - ref.bound) <= 1e-9 * scale, "the two references disagree"
    return ref.bound, ref.point


def rows_slack(X: np.ndarray, pattern: np.ndarray, point: np.ndarray) -> np.ndarray:
    """``a_k^T point / ||a_k||`` for the non-zero rows."""
    rn = np.linalg.norm(X, axis=1)
    live = rn > 0
    return (cone_matrix(X, pattern) @ point)[live] / rn[live]


def is_nonnegative_row_combination(X: np.ndarray, pattern: np.ndarray, delta: np.ndarray,
                                   scale: float) -> bool:
    """``delta = A^T mu`` for some ``mu >= 0`` (to rounding): what makes ``||g + delta||`` a bound."""
    A = cone_matrix(X, pattern)
    if not np.any(delta):
        return True
    _, residual = nnls(A.T, delta, maxiter=1000)
    return residual <= 1e-9 * scale


# --------------------------------------------------------------------------------------------
# Instances, degenerate ones included


def make_instance(kind: str):
    """``(X, D, G)``: patterns of random gates (plus arbitrary columns for some), G (d, P)."""
    rng = np.random.default_rng(sum(map(ord, kind)))
    n, d, P = 20, 3, 6
    if kind == "d1":
        d = 1
    if kind == "n1":
        n = 1
    X = rng.standard_normal((n, d))
    if kind == "integer":
        X = rng.integers(-2, 3, (n, d)).astype(float)
    elif kind == "zero_rows":
        X[[0, 4, 7]] = 0.0
    elif kind == "duplicate_rows":
        X[5:10] = X[0:5]
    elif kind == "parallel_rows":
        X[5], X[6], X[7] = 3.0 * X[0], -0.25 * X[0], -X[1]
    elif kind == "bias":
        X[:, -1] = 1.0
    elif kind == "d1":
        X[3] = 0.0
    D = (X @ rng.standard_normal((d, P)) >= 0).astype(np.uint8)
    if kind in ("arbitrary", "integer", "d1"):
        D[:, 0] = rng.random(n) < 0.5
        D[:, 1] = 0
        D[:, 2] = 1
    G = rng.standard_normal((d, P)) * np.array([1e-3, 1.0, 1e3, 1.0, 10.0, 0.1])[:P]
    return X, D, G


KINDS = ["gaussian", "integer", "zero_rows", "duplicate_rows", "parallel_rows", "bias", "d1", "n1",
         "arbitrary"]


@pytest.mark.parametrize("kind", KINDS)
def test_bounds_points_and_faces_agree_with_the_reference(kind):
    X, D, G = make_instance(kind)
    pats, signs = all_blocks(D.shape[1])
    bounds, exact, faces, points = project_batch(X, D, G, pats, signs)
    m = len(pats)
    assert bounds.shape == (m,) and exact.shape == (m,) and points.shape == (m, X.shape[1])
    assert faces.shape == (m, FACE_CAPACITY_FACTOR * X.shape[1])
    assert exact.all()
    for b in range(m):
        g = signs[b] * G[:, pats[b]]
        gn = float(np.linalg.norm(g))
        ref_bound, ref_point = reference(X, D, g, pats[b])
        assert abs(bounds[b] - ref_bound) <= REL * max(ref_bound, 1e-3 * gn)
        assert np.linalg.norm(points[b] - ref_point) <= REL * gn
        assert bounds[b] == pytest.approx(np.linalg.norm(points[b]), rel=1e-12, abs=1e-300)
        # the point is on the cone (relative to ||g||; the projection may be 0)
        assert rows_slack(X, D[:, pats[b]], points[b]).min(initial=0.0) >= -REL * gn
        # and is g plus a non-negative combination of the face's rows
        face = faces[b][faces[b] >= 0]
        assert np.all(face < X.shape[0]) and len(set(face)) == face.size
        if face.size:
            A = cone_matrix(X, D[:, pats[b]])[face]
            mu = np.linalg.lstsq(A.T, points[b] - g, rcond=None)[0]
            assert np.all(mu >= -1e-9 * max(1.0, np.abs(mu).max()))
            assert np.linalg.norm(g + A.T @ mu - points[b]) <= 1e-9 * gn
        else:
            assert np.allclose(points[b], g, rtol=0, atol=1e-15 * gn)


def test_instances_exercise_both_interior_and_projected_cases():
    """Guard against vacuous instances: some g are inside their cone, some are projected."""
    inside = projected = 0
    for kind in KINDS:
        X, D, G = make_instance(kind)
        pats, signs = all_blocks(D.shape[1])
        bounds, _, _, _ = project_batch(X, D, G, pats, signs)
        gn = np.linalg.norm(G[:, pats], axis=0)
        inside += int(np.sum(np.isclose(bounds, gn, rtol=1e-12)))
        projected += int(np.sum(bounds < gn * (1 - 1e-6)))
    assert inside >= 5 and projected >= 20


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("max_iter", [0, 1, 2])
def test_capped_iterations_still_give_valid_bounds(kind, max_iter):
    X, D, G = make_instance(kind)
    pats, signs = all_blocks(D.shape[1])
    bounds, exact, _, points = project_batch(X, D, G, pats, signs, max_iter=max_iter)
    for b in range(len(pats)):
        g = signs[b] * G[:, pats[b]]
        gn = float(np.linalg.norm(g))
        ref_bound, _ = reference(X, D, g, pats[b])
        assert bounds[b] >= ref_bound - 1e-12 * gn            # valid: never below the maximum
        assert bounds[b] == pytest.approx(np.linalg.norm(points[b]), rel=1e-12, abs=1e-300)
        assert is_nonnegative_row_combination(X, D[:, pats[b]], points[b] - g, gn)
        if exact[b]:
            assert abs(bounds[b] - ref_bound) <= REL * max(ref_bound, 1e-3 * gn)


def test_one_iteration_is_not_always_exact():
    """The capped-iteration test above is not vacuous: one iteration leaves bounds loose."""
    X, D, G = make_instance("gaussian")
    pats, signs = all_blocks(D.shape[1])
    full, _, _, _ = project_batch(X, D, G, pats, signs)
    one, exact, _, _ = project_batch(X, D, G, pats, signs, max_iter=1)
    assert not exact.all()
    assert np.any(one > full * (1 + 1e-6))
    zero, _, _, _ = project_batch(X, D, G, pats, signs, max_iter=0)
    assert np.allclose(zero, np.linalg.norm(G[:, pats], axis=0), rtol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_hints_give_the_same_bounds(kind):
    X, D, G = make_instance(kind)
    pats, signs = all_blocks(D.shape[1])
    bounds, _, faces, _ = project_batch(X, D, G, pats, signs)
    rng = np.random.default_rng(3)
    # hints from the same call, from another G (stale), random rows, rows padded with -1
    _, _, stale, _ = project_batch(X, D, rng.standard_normal(G.shape), pats, signs)
    random_rows = rng.integers(0, X.shape[0], faces.shape)
    random_rows[:, -1] = -1
    for hints in (faces, stale, random_rows, np.full_like(faces, -1)):
        again, exact, _, points = project_batch(X, D, G, pats, signs, hints=hints)
        gn = np.linalg.norm(G[:, pats], axis=0)
        assert np.all(np.abs(again - bounds) <= REL * np.maximum(bounds, 1e-3 * gn))
        assert exact.all()
        for b in range(len(pats)):
            g = signs[b] * G[:, pats[b]]
            assert is_nonnegative_row_combination(X, D[:, pats[b]], points[b] - g, gn[b])
    # a correct hint is taken as is: one iteration then suffices
    hinted, exact, _, _ = project_batch(X, D, G, pats, signs, hints=faces, max_iter=1)
    assert exact.all()
    gn = np.linalg.norm(G[:, pats], axis=0)
    assert np.all(np.abs(hinted - bounds) <= REL * np.maximum(bounds, 1e-3 * gn))


def test_zero_vector_and_vectors_inside_the_cone():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((15, 3))
    X[2] = 0.0
    W = rng.standard_normal((3, 4))
    D = (X @ W >= 0).astype(np.uint8)            # w_p lies in the cone of pattern p
    pats, signs = all_blocks(4)
    # zero G: every bound is 0 and exact
    bounds, exact, faces, points = project_batch(X, D, np.zeros((3, 4)), pats, signs)
    assert np.all(bounds == 0) and exact.all() and not np.any(points)
    assert np.all(faces == -1)
    # g inside the cone: the bound is ||g||, the point is g, the face is empty
    G = np.hstack([W, -W])                        # column 4 + p is -w_p, projected with sign -1
    cols = np.concatenate([np.arange(4), 4 + np.arange(4)])
    bounds, exact, faces, points = project_batch(X, D, G, pats, signs, columns=cols)
    assert exact.all()
    assert np.allclose(bounds, np.concatenate([np.linalg.norm(W, axis=0)] * 2), rtol=1e-14)
    assert np.allclose(points, np.hstack([W, W]).T, rtol=0, atol=1e-14)
    assert np.all(faces == -1)
    # -w_p is (generically) outside the cone of p: projected, strictly below its norm
    bounds, _, _, _ = project_batch(X, D, W, np.arange(4), -np.ones(4))
    assert np.all(bounds < np.linalg.norm(W, axis=0) * (1 - 1e-6))


def test_columns_select_the_vector_independently_of_the_pattern():
    X, D, G = make_instance("bias")
    P = D.shape[1]
    rng = np.random.default_rng(11)
    G2 = rng.standard_normal((X.shape[1], 2 * P + 3))
    pats = rng.integers(0, P, 17)
    cols = rng.integers(0, G2.shape[1], 17)
    signs = rng.choice([-1.0, 1.0], 17)
    bounds, exact, _, points = project_batch(X, D, G2, pats, signs, columns=cols)
    assert exact.all()
    for b in range(17):
        g = signs[b] * G2[:, cols[b]]
        ref_bound, ref_point = reference(X, D, g, pats[b])
        assert abs(bounds[b] - ref_bound) <= REL * max(ref_bound, 1e-3 * np.linalg.norm(g))
        assert np.linalg.norm(points[b] - ref_point) <= REL * np.linalg.norm(g)
    # without columns, the pattern index selects the column (a different answer here)
    default, _, _, _ = project_batch(X, D, G2, pats, signs)
    ref = [reference(X, D, signs[b] * G2[:, pats[b]], pats[b])[0] for b in range(17)]
    assert np.allclose(default, ref, rtol=1e-9, atol=1e-12)
    assert not np.allclose(default, bounds)


def test_tolerance_changes_only_the_exact_flag():
    X, D, G = make_instance("gaussian")
    pats, signs = all_blocks(D.shape[1])
    tight, exact_tight, _, _ = project_batch(X, D, G, pats, signs, tol=1e-12)
    loose, _, _, _ = project_batch(X, D, G, pats, signs, tol=1e-3)
    assert exact_tight.all()
    # a looser feasibility test may stop earlier; the bound stays valid (>= the tight one)
    assert np.all(loose >= tight * (1 - 1e-12))


# --------------------------------------------------------------------------------------------
# Property: random small instances (hypothesis)

REAL = st.one_of(st.integers(-2, 2).map(float),
                 st.builds(lambda s, v: s * v, st.sampled_from([-1.0, 1.0]), st.floats(1e-2, 3)))


@st.composite
def cone_instances(draw):
    n = draw(st.integers(1, 20))
    d = draw(st.integers(1, 3))
    P = draw(st.integers(1, 8))
    X = draw(hnp.arrays(np.float64, (n, d), elements=REAL))
    gates = draw(hnp.arrays(np.float64, (d, P), elements=REAL))
    D = (X @ gates >= 0).astype(np.uint8)
    if draw(st.booleans()):
        D[:, 0] = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), np.uint8)
    G = draw(hnp.arrays(np.float64, (d, P), elements=REAL))
    return X, D, G, gates


@at_most(40)
@given(cone_instances(), st.integers(0, 3))
def test_property_bounds_are_projections_and_valid(instance, max_iter):
    X, D, G, gates = instance
    P = D.shape[1]
    pats, signs = all_blocks(P)
    bounds, exact, faces, points = project_batch(X, D, G, pats, signs)
    capped, _, _, capped_points = project_batch(X, D, G, pats, signs, max_iter=max_iter)
    hinted, _, _, _ = project_batch(X, D, G, pats, signs, hints=faces)
    rng = np.random.default_rng(0)
    for b in range(2 * P):
        g = signs[b] * G[:, pats[b]]
        gn = float(np.linalg.norm(g))
        ref_bound, ref_point = reference(X, D, g, pats[b])
        tol = REL * max(ref_bound, 1e-3 * gn)
        # exact unless the projection is zero up to rounding (then the bound is ~0 anyway)
        assert exact[b] or ref_bound <= 1e-9 * gn
        assert abs(bounds[b] - ref_bound) <= tol
        assert np.linalg.norm(points[b] - ref_point) <= REL * max(gn, 1e-300) + 1e-300
        assert rows_slack(X, D[:, pats[b]], points[b]).min(initial=0.0) >= -REL * gn
        assert abs(hinted[b] - bounds[b]) <= tol
        assert capped[b] >= ref_bound - 1e-12 * gn
        assert is_nonnegative_row_combination(X, D[:, pats[b]], capped_points[b] - g, gn)
        # a direct check of validity: <g, u> <= bound for points u of the cone (the gate of
        # the pattern, and random perturbations of it that stay in the cone)
        w = gates[:, pats[b]]
        for u in [w] + [w + 0.1 * rng.standard_normal(w.shape) for _ in range(5)]:
            un = np.linalg.norm(u)
            if un > 0 and rows_slack(X, D[:, pats[b]], u).min(initial=0.0) >= 0:
                assert float(g @ u) / un <= capped[b] * (1 + 1e-12) + 1e-12 * gn
                assert float(g @ u) / un <= bounds[b] * (1 + 1e-12) + 1e-12 * gn


def test_project_batch_rejects_out_of_range_indices():
    from certify.errors import InputError

    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    D = (rng.random((6, 1)) < 0.5).astype(np.uint8)
    G = rng.standard_normal((2, 1))
    with pytest.raises(InputError, match=r"pattern indices must lie in \[0, 1\)"):
        project_batch(X, D, G, [3], [1.0])
    with pytest.raises(InputError, match=r"column indices must lie in \[0, 1\)"):
        project_batch(X, D, G, [0], [1.0], columns=[2])
    with pytest.raises(InputError, match=r"hint rows must lie in \[0, 6\)"):
        project_batch(X, D, G, [0], [1.0], hints=np.array([[7, -1]]))
    with pytest.raises(InputError, match="same 1 blocks"):
        project_batch(X, D, G, [0], [1.0, -1.0])
    with pytest.raises(InputError, match=r"G has shape \(3, 1\)"):
        project_batch(X, D, np.zeros((3, 1)), [0], [1.0])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cutoff", [-1.0, 0.5])
def test_batched_warm_check_agrees_with_the_kernel_alone(kind, cutoff):
    # project_batch verifies warm-start points with one matrix product and sends only the
    # failures to the Lawson-Hanson kernel; the kernel alone must give the same answers.
    from certify.solve.cone_kernels import _kernels

    X, D, G = make_instance(kind)
    pats, signs = all_blocks(D.shape[1])
    rng = np.random.default_rng(5)
    _, _, faces, _ = project_batch(X, D, G, pats, signs)
    nearby = G + 1e-3 * rng.standard_normal(G.shape)       # faces mostly right, some not
    random_rows = rng.integers(-1, X.shape[0], faces.shape)
    for hints in (faces, random_rows):
        fast = project_batch(X, D, nearby, pats, signs, hints=hints, cutoff=cutoff)
        alone = _kernels()["project_batch"](
            np.ascontiguousarray(X), np.asfortranarray(D, np.uint8), np.linalg.norm(X, axis=1), nearby,
            pats.astype(np.int64), pats.astype(np.int64), signs.astype(float), hints.astype(np.int64),
            1e-10, 3 * X.shape[1] + 20, cutoff)
        scale = np.maximum(np.linalg.norm(nearby[:, pats], axis=0), 1e-300)
        assert np.all(np.abs(fast[0] - alone[0]) <= 1e-12 * scale)
        assert np.array_equal(fast[1], alone[1])
        assert np.allclose(fast[3], alone[3], atol=1e-12 * scale.max())


def test_wrong_hint_is_corrected():
    # The hint's multiplier is negative, so the warm point is g itself, which violates a row:
    # the block goes through the kernel, which finds the right face.
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    D = np.array([[1], [1]], np.uint8)                     # cone: u >= 0 componentwise
    G = np.array([[2.0], [-1.0]])                           # projection (2, 0), bound 2
    hints = np.array([[0, -1, -1, -1]])                     # wrong face: row 0 instead of row 1
    bounds, exact, faces, points = project_batch(X, D, G, np.array([0]), np.array([1.0]), hints=hints)
    assert bounds[0] == pytest.approx(2.0) and exact[0]
    assert np.allclose(points[0], [2.0, 0.0]) and faces[0, 0] == 1


def test_batched_check_requires_tight_face_rows():
    # check_warm: a feasible warm point whose face row has slack (inaccurate multipliers would
    # leave one) is not the projection, so it is not accepted; a tight face row is.
    from certify.solve.cone_kernels import _kernels

    check = _kernels()["check_warm"]
    D = np.asfortranarray(np.ones((2, 1), np.uint8))
    norms, limit, pats = np.ones(2), np.array([1e-10]), np.array([0])
    faces = np.array([[1, -1]])
    assert check(np.array([[2.0, 0.0]]), D, pats, norms, limit, faces)[0]
    assert not check(np.array([[2.0, 0.5]]), D, pats, norms, limit, faces)[0]     # loose face row
    assert not check(np.array([[2.0, -0.5]]), D, pats, norms, limit, faces)[0]    # violated row


@pytest.mark.parametrize("kind", KINDS)
def test_stored_multipliers_reproduce_the_bounds_and_stay_valid_when_wrong(kind):
    # block_bounds screens every block at its stored face multipliers (no solve): the
    # multipliers of an exact projection reproduce its bound; any multipliers give a valid one
    from certify.solve.cone_kernels import block_bounds

    X, D, G = make_instance(kind)
    P = D.shape[1]
    pats, signs = all_blocks(P)
    c = FACE_CAPACITY_FACTOR * X.shape[1]
    mus = np.empty((len(pats), c))
    true, _, faces, _ = project_batch(X, D, G, pats, signs, multipliers_out=mus)
    gn = np.linalg.norm(G[:, pats], axis=0)
    assert np.all(mus[faces < 0] == 0) and np.all(mus[faces >= 0] > 0)
    Xc, Df = np.ascontiguousarray(X), np.asfortranarray(D, np.uint8)
    cut = float(true.max()) * (1 + 1e-9)          # every block stops at ||g|| or at its multipliers
    again = block_bounds(Xc, Df, G, cut, faces.copy(), mus.copy())
    at_mu = gn > cut                                 # these can only have stopped at the multipliers
    assert at_mu.any() or kind == "n1"             # one data point: no ||g|| exceeds the largest bound
    assert np.allclose(again[at_mu], true[at_mu], rtol=1e-9, atol=1e-12 * gn.max())
    assert np.array_equal(again[~at_mu], gn[~at_mu])
    rng = np.random.default_rng(7)
    for trial in range(3):
        junk = rng.standard_normal(mus.shape) * (10.0 ** rng.integers(-3, 3))      # any sign, any size
        rows = faces.copy() if trial else rng.integers(-1, X.shape[0], faces.shape)
        cut = float(np.median(true))
        bounds = block_bounds(Xc, Df, G, cut, rows, junk)
        # valid whatever the multipliers: never below the true bound
        assert np.all(bounds >= true - 1e-9 * np.maximum(gn, 1e-300))
        # blocks above the cutoff are exact projections, with their new faces and multipliers
        above = bounds > cut
        assert np.allclose(bounds[above], true[above], rtol=1e-9, atol=1e-12 * gn.max())
        assert np.all(junk[above] >= 0) and np.all(junk[above][rows[above] < 0] == 0)


def test_multipliers_out_is_shape_checked():
    X, D, G = make_instance("gaussian")
    pats, signs = all_blocks(D.shape[1])
    hints = np.full((len(pats), 6), -1)
    with pytest.raises(InputError, match=r"multipliers_out has shape \(1,\); it must be"):
        project_batch(X, D, G, pats, signs, hints, multipliers_out=np.zeros(1))


@pytest.mark.parametrize("kind", KINDS)
def test_block_bounds_are_valid_and_exact_above_the_cutoff(kind):
    from certify.solve.cone_kernels import block_bounds

    X, D, G = make_instance(kind)
    P = D.shape[1]
    pats, signs = all_blocks(P)
    true, *_ = project_batch(X, D, G, pats, signs)
    gn = np.linalg.norm(G[:, pats], axis=0)
    Xc, Df = np.ascontiguousarray(X), np.asfortranarray(D, np.uint8)
    c = FACE_CAPACITY_FACTOR * X.shape[1]
    rng = np.random.default_rng(11)
    for state in ("empty", "junk", "previous"):
        rows = np.full((2 * P, c), -1, np.int64)
        mu = np.zeros((2 * P, c))
        if state == "junk":
            rows = rng.integers(-1, X.shape[0], (2 * P, c))
            mu = rng.standard_normal((2 * P, c))
        elif state == "previous":
            block_bounds(Xc, Df, G, 0.0, rows, mu)                 # every block projected once
        for cutoff in (0.0, float(np.median(true)), np.inf):
            r, m = rows.copy(), mu.copy()
            got = block_bounds(Xc, Df, G, cutoff, r, m)
            assert np.all(got >= true - 1e-9 * np.maximum(gn, 1e-300))        # always valid
            above = got > cutoff
            assert np.allclose(got[above], true[above], rtol=1e-9, atol=1e-12 * gn.max())
            assert np.all(got[~above] <= cutoff)
            if cutoff == 0.0:                                          # every block projected:
                assert np.all((m > 0) == (r >= 0))                     # faces and multipliers kept


def test_block_bounds_checks_shapes():
    from certify.solve.cone_kernels import block_bounds

    X, D, G = make_instance("gaussian")
    rows = np.full((5, 6), -1, np.int64)
    with pytest.raises(InputError, match=r"block_bounds: G \(3, 6\), face_rows \(5, 6\)"):
        block_bounds(X, np.asfortranarray(D, np.uint8), G, 1.0, rows, np.zeros((5, 6)))


def test_block_bounds_rejects_out_of_range_face_rows_and_wrong_dtypes():
    from certify.solve.cone_kernels import block_bounds

    X, D, G = make_instance("gaussian")
    P = D.shape[1]
    rows = np.full((2 * P, 6), -1, np.int64)
    rows[3, 0] = X.shape[0]                                    # one past the last row
    with pytest.raises(InputError, match=r"face rows must lie in \[0, 20\)"):
        block_bounds(X, D, G, 1.0, rows, np.zeros((2 * P, 6)))
    with pytest.raises(InputError, match=r"face_rows must be an int64"):
        block_bounds(X, D, G, 1.0, rows.astype(np.int32), np.zeros((2 * P, 6)))
