"""Scaling polytopes ``{alpha >= 0 : M alpha = fit}`` whose points are networks (theory.md §4).

A *scaling polytope* is described by atoms: atom ``b`` is a convex block with weights ``V_b``
(a column of ``directions``, in the features' coordinates, that is with the ones column last when
a bias is used) and a sign ``s_b``. A point ``alpha >= 0`` is the convex solution
``w_b = alpha_b V_b`` with signs ``s_b``; its network is the balanced network of those blocks
(theory.md §2: ``W1_b = w_b / sqrt(||w_b||)``, ``w2_b = s_b sqrt(||w_b||)``), whose prediction at a
point ``x`` is ``sum_b alpha_b s_b (x^T V_b)_+``: linear in ``alpha``. ``M`` holds the atoms' fits
on the training features (column ``b`` is ``s_b (X V_b)_+``, or ``Z_b v_b`` as given by a producer
of ``P_lambda``) and ``fit`` the common training fit of every point.

Two producers plug in:

* the optimal set ``P_lambda`` of theory.md §4 (atoms ``v_b``, the correlation vectors of the
  equicorrelated blocks; ``M = [Z_b v_b]``, ``fit = y_hat``): every point is optimal and
  ``sum_b alpha_b ||v_b||`` is constant on it, so the penalty is too;
* the polytope of a given network's own neurons ``{beta >= 0 : F beta = F 1}``
  (:func:`neuron_polytope`): every point has the network's training fit; the penalty
  ``lam sum_b beta_b ||V_b||`` (balanced) is constant on it only when the network is optimal.

Floats throughout: these are numerical objects used to *select* networks; exact claims about a
selected network are made by the certificates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify.convex.mapping import blocks_to_network
from certify.errors import InputError
from certify.network import Network


@dataclass(frozen=True)
class ScalingPolytope:
    """``{alpha >= 0 : M alpha = fit}`` with atoms ``(V_b, s_b)`` (see the module docstring).

    Attributes
    ----------
    directions : ndarray, shape (d, B)
        Convex block weights ``V_b`` at ``alpha_b = 1`` (features' coordinates).
    signs : ndarray of int, shape (B,)
        ``+1`` or ``-1``.
    M : ndarray, shape (n, B)
        Training fits of the atoms at ``alpha_b = 1``.
    fit : ndarray, shape (n,)
        The training fit every point of the polytope has.
    reference : ndarray, shape (B,), optional
        A known point of the polytope (for example the solution it was built from).
    label : str
        What the polytope is (shown in reports: "optimal set P_lambda", "own neurons", ...).
    """

    directions: np.ndarray
    signs: np.ndarray
    M: np.ndarray
    fit: np.ndarray
    reference: np.ndarray | None = None
    label: str = "scaling polytope"

    def __post_init__(self) -> None:
        V, s, M, f = self.directions, self.signs, self.M, self.fit
        if V.ndim != 2 or M.ndim != 2 or s.ndim != 1 or f.ndim != 1:
            raise InputError("a scaling polytope needs directions (d, B), signs (B,), M (n, B), fit (n,); "
                             f"got {V.shape}, {s.shape}, {M.shape}, {f.shape}.")
        if V.shape[1] != s.size or M.shape[1] != s.size or M.shape[0] != f.size:
            raise InputError(f"inconsistent shapes: directions {V.shape}, signs {s.shape}, M {M.shape}, "
                             f"fit {f.shape} (need B columns everywhere and n rows in M and fit).")
        if s.size == 0:
            raise InputError("a scaling polytope needs at least one atom.")
        if not np.all(np.isin(s, (-1, 1))):
            raise InputError("signs must be +1 or -1.")
        for name, a in (("directions", V), ("M", M), ("fit", f)):
            if not np.all(np.isfinite(a)):
                raise InputError(f"{name} contains NaN or infinite values.")
        if self.reference is not None and (self.reference.shape != (s.size,) or np.any(self.reference < 0)):
            raise InputError(f"reference must be a non-negative vector of length {s.size}.")

    @property
    def size(self) -> int:
        """Number of atoms ``B``."""
        return int(self.signs.size)

    def atoms(self, features: np.ndarray) -> np.ndarray:
        """Atom outputs ``s_b (x^T V_b)_+`` at the rows of ``features`` (n', d): shape (n', B).

        The prediction of the network of ``alpha`` is ``atoms(features) @ alpha``.
        """
        features = np.asarray(features, dtype=np.float64)
        d = self.directions.shape[0]
        if features.ndim != 2 or features.shape[1] != d:
            raise InputError(f"features have shape {features.shape}; expected (n, {d}) "
                             "(with the ones column when the problem has a bias).")
        return np.maximum(features @ self.directions, 0.0) * self.signs

    def network(self, alpha: np.ndarray, bias: bool = False, zero_tol: float = 0.0) -> Network:
        """The balanced network of ``alpha``: one neuron per atom with ``alpha_b > zero_tol``.

        With ``bias``, the last row of ``directions`` becomes ``b1``.
        """
        alpha = np.asarray(alpha, dtype=np.float64)
        if alpha.shape != (self.size,):
            raise InputError(f"alpha has shape {alpha.shape}; expected ({self.size},).")
        keep = alpha > zero_tol
        if not keep.any():
            keep = np.zeros(self.size, dtype=bool)
            keep[0] = True
        return blocks_to_network(self.directions[:, keep] * alpha[keep], self.signs[keep], bias=bias)

    def penalty_weights(self) -> np.ndarray:
        """``||V_b||``: the balanced network of ``alpha`` has penalty ``lam sum_b alpha_b ||V_b||``."""
        return np.linalg.norm(self.directions, axis=0)


def neuron_polytope(features: np.ndarray, network: Network, bias: bool = False,
                     label: str = "own neurons {beta >= 0 : F beta = F 1}") -> ScalingPolytope:
    """The polytope of a network's own neurons ``{beta >= 0 : F beta = F 1}`` (theory.md §4).

    Atom ``j`` is neuron ``j`` in convex coordinates: ``V_j = |w2_j| W1_j`` (``W1`` with ``b1`` as
    last row when ``bias``), ``s_j = sign(w2_j)``; ``F`` has columns ``(X W1_j)_+ w2_j``;
    ``beta = 1`` is the network itself (up to balancing). Neurons with ``w2_j = 0`` or
    ``W1_j = 0`` contribute nothing and are dropped.

    Parameters
    ----------
    features : (n, d[+1]) training features (the ones column appended when ``bias``).
    network : Network
    bias : bool
        Whether the problem has a first-layer bias (:meth:`Network.weights`).
    """
    W1 = network.weights(bias)
    w2 = network.w2
    live = (w2 != 0) & np.any(W1 != 0, axis=0)
    if not live.any():
        raise InputError("the network has no non-zero neuron; its polytope is empty of atoms.")
    V = W1[:, live] * np.abs(w2[live])
    signs = np.where(w2[live] > 0, 1, -1)
    M = np.maximum(np.asarray(features, np.float64) @ V, 0.0) * signs
    ones = np.ones(int(live.sum()))
    return ScalingPolytope(V, signs, M, M @ ones, ones, label)


def distinct_atoms(directions: np.ndarray, signs: np.ndarray, support: np.ndarray,
                   cosine_tol: float = 1e-9) -> int:
    """Number of distinct neurons among the atoms in ``support`` after merging duplicates.

    Two atoms are duplicates when they have the same sign and positively collinear directions
    (cosine ``>= 1 - cosine_tol``): they compute the same function up to scale everywhere, so
    splitting weight between them changes nothing (theory.md §4, duplicate blocks).
    """
    idx = np.flatnonzero(support)
    norms = np.maximum(np.linalg.norm(directions, axis=0), 1e-300)
    reps: list[int] = []
    for b in idx:
        u = directions[:, b] / norms[b]
        if not any(signs[r] == signs[b] and float(u @ directions[:, r]) / norms[r] >= 1 - cosine_tol
                   for r in reps):
            reps.append(int(b))
    return len(reps)


def merge_duplicates(polytope: ScalingPolytope, cosine_tol: float = 1e-9) -> ScalingPolytope:
    """One atom per distinct neuron: duplicates (same sign, positively collinear) are dropped.

    An atom ``a = c V_r`` (``c > 0``) of the kept representative ``r`` has fit ``c`` times that of
    ``r`` everywhere, so a point ``alpha`` maps to ``alpha_r + sum_a c_a alpha_a`` on ``r`` with the
    same function on every input (theory.md §4: merge duplicates before testing uniqueness).
    """
    V, s = polytope.directions, polytope.signs
    norms = np.linalg.norm(V, axis=0)
    reps: list[int] = []
    owner = np.zeros(s.size, dtype=np.int64)
    scale = np.ones(s.size)
    for b in range(s.size):
        u = V[:, b] / max(norms[b], 1e-300)
        for r in reps:
            if s[r] == s[b] and float(u @ V[:, r]) / max(norms[r], 1e-300) >= 1 - cosine_tol:
                owner[b], scale[b] = r, norms[b] / max(norms[r], 1e-300)
                break
        else:
            owner[b] = b
            reps.append(b)
    keep = np.array(reps, dtype=np.int64)
    ref = None
    if polytope.reference is not None:
        full = np.zeros(s.size)
        np.add.at(full, owner, scale * polytope.reference)
        ref = full[keep]
    return ScalingPolytope(V[:, keep], s[keep], polytope.M[:, keep], polytope.fit, ref,
                           polytope.label + ", duplicates merged")


#: Relative singular-value cut below which the estimated columns of ``P_lambda`` count as dependent.
ESTIMATE_RANK_TOL = 1e-4


def consistent_estimate(M: np.ndarray, fit: np.ndarray, rank_tol: float = ESTIMATE_RANK_TOL
                        ) -> tuple[np.ndarray, np.ndarray, float]:
    """Float estimates of ``{alpha >= 0 : M alpha = fit}`` made consistent.

    The estimates carry the solver's error: exact dependencies among the columns hold to ~1e-8 only
    and ``M alpha = fit`` to ~1e-6, so with exact equalities on the raw estimates a non-trivial
    polytope shrinks to a point or becomes empty. Returns ``(M_r, fit_r, moved)``: the
    column-normalized ``M`` truncated to its singular values above ``rank_tol * sigma_max``
    (scaled back), the fit replaced by ``M_r alpha_nnls``, the nearest non-negative combination
    of those columns, and ``moved = ||fit_r - fit|| / max(1, ||fit||)`` (how far the fit moved).
    """
    from scipy.optimize import nnls

    M = np.asarray(M, np.float64)
    fit = np.asarray(fit, np.float64)
    norms = np.maximum(np.linalg.norm(M, axis=0), 1e-300)
    U, sv, Vt = np.linalg.svd(M / norms, full_matrices=False)
    r = int(np.sum(sv > rank_tol * sv[0])) if sv.size and sv[0] > 0 else 0
    Mr = (U[:, :r] * sv[:r]) @ Vt[:r] * norms
    alpha, _ = nnls(Mr, fit, maxiter=max(100, 10 * M.shape[1]))
    fit_r = Mr @ alpha
    moved = float(np.linalg.norm(fit_r - fit)) / max(1.0, float(np.linalg.norm(fit)))
    return Mr, fit_r, moved


def from_optimal_set(features: np.ndarray, patterns: np.ndarray, result) -> ScalingPolytope:
    """``P_lambda`` of :func:`certify.optimal_set.analysis.optimal_set` as a scaling polytope.

    One atom per merged group of equicorrelated blocks (its first block): direction ``v_b`` (the
    correlation vector, recomputed from ``result.residual``), sign of the block, column
    ``Z_b v_b`` of ``result.columns``; ``fit = result.fit``. Every point is optimal over the pattern
    scope (up to the float tolerances of ``result.tolerances``), and ``sum alpha_b ||v_b||`` is
    constant on it. The columns and the fit are the estimates made consistent by
    :func:`consistent_estimate` (numerical rank at ``ESTIMATE_RANK_TOL``; the fit moved to the nearest
    non-negative combination of the columns; the label says by how much).

    Parameters
    ----------
    features : (n, d) the features the optimal set was computed on (ones column for a bias).
    patterns : (n, P) the pattern scope ``D`` it was computed over.
    result : :class:`certify.optimal_set.analysis.OptimalSet`
    """
    from certify.optimal_set.analysis import correlation_vectors_all

    X = np.asarray(features, np.float64)
    P = patterns.shape[1]
    if not result.groups:
        raise InputError("the optimal set has no equicorrelated block (the zero network is optimal).")
    V = correlation_vectors_all(X, result.residual, patterns, result.gated)
    reps = [g[0] for g in result.groups]
    signs = np.array([1 if b < P else -1 for b in reps])
    M, fit, moved = consistent_estimate(result.columns, result.fit)
    return ScalingPolytope(V[:, reps], signs, M, fit, None,
                           f"P_lambda ({result.label}; numerical rank at {ESTIMATE_RANK_TOL:g}, "
                           f"fit moved by {moved:.1e} relative to be consistent)")
