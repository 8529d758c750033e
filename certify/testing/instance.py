"""Instances and candidate solutions of the theory test kit, and the float measures the claims use.

Scaling (certify's, theory.md §1-2), used everywhere in :mod:`certify.testing`::

    NC(W1, w2)  = 1/2 ||f(X) - y||^2 + (lam/2) sum_j (||W1_j||^2 + w2_j^2)
    C-ReLU(U,H) = 1/2 ||sum_p D_p X (u_p - h_p) - y||^2 + lam sum_p (||u_p|| + ||h_p||)
                  s.t. (2 D_p - I) X u_p >= 0,  (2 D_p - I) X h_p >= 0

``X`` here is the *feature* matrix: with a first-layer bias it already holds the ones column
(regularized like the other weights). Solvers in other scalings are converted by the adapters
of :mod:`certify.testing.check_solver`.

Everything in this module is floating point: the kit tests the theory numerically, with every
tolerance stated in the verdicts (:mod:`certify.testing.claims`). Nothing here certifies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from certify.convex.correlation import cone_rows, correlation_vector
from certify.errors import InputError

ACTIVE_TOL = 1e-6
"""Blocks with ``||w_b|| <= ACTIVE_TOL max(max_b ||w_b||, (1 + ||y||) / ||X||_2)`` are not counted as active
(C3 reports the worst direction error over active blocks); ``(1 + ||y||) / ||X||_2`` is the natural scale of
the weights (positive for ``y = 0``, where every block of an interior-point solution is round-off)."""


@dataclass(frozen=True)
class Instance:
    """One problem of the kit: features, targets, ``lam`` and the pattern scope.

    Attributes
    ----------
    X : ndarray (n, d)
        Features (with the ones column when ``bias``).
    y : ndarray (n,)
        Targets.
    lam : float
        Regularization strength in certify's scaling (> 0).
    D : ndarray (n, P) of uint8
        The pattern scope: column ``p`` is ``diag(D_p)``. For network problems (and the
        claims about all patterns) it holds every pattern of the arrangement.
    lam2 : float
        A second strength ``> lam`` on the same data, for the path claims (C13, C14).
    bias : bool
        The last column of ``X`` is the (regularized) ones column.
    complete : bool
        ``D`` holds every pattern of the arrangement (then the scope is global).
    gates : ndarray (d, P), optional
        Gate vectors with ``D = 1[X G >= 0]`` when the scope came from gates (scnn's adapter
        needs them).
    label : str
        How the instance was made (shown in counterexamples).
    """

    X: np.ndarray
    y: np.ndarray
    lam: float
    D: np.ndarray
    lam2: float = 0.0
    bias: bool = False
    complete: bool = False
    gates: np.ndarray | None = None
    label: str = ""

    def __post_init__(self) -> None:
        X = np.ascontiguousarray(self.X, dtype=np.float64)
        y = np.ascontiguousarray(self.y, dtype=np.float64)
        D = np.ascontiguousarray(self.D, dtype=np.uint8)
        if X.ndim != 2 or y.shape != (X.shape[0],) or D.ndim != 2 or D.shape[0] != X.shape[0]:
            raise InputError(f"Instance: X {X.shape}, y {y.shape} and D {D.shape} must be (n, d), (n,) "
                             f"and (n, P).")
        if not (np.isfinite(X).all() and np.isfinite(y).all()):
            raise InputError("Instance: X and y must be finite.")
        if not (self.lam > 0 and math.isfinite(self.lam)):
            raise InputError(f"Instance: lam must be a positive finite number, got {self.lam!r}.")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "D", D)
        object.__setattr__(self, "lam2", float(self.lam2) if self.lam2 > self.lam else 2.0 * self.lam)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def P(self) -> int:
        return self.D.shape[1]

    def at(self, lam: float) -> Instance:
        """The same data and scope at another ``lam``."""
        return Instance(self.X, self.y, lam, self.D, max(self.lam2, 2.0 * lam), self.bias, self.complete,
                        self.gates, self.label)

    def with_scope(self, D: np.ndarray) -> Instance:
        """The same data and ``lam`` over another pattern scope (not complete)."""
        return Instance(self.X, self.y, self.lam, D, self.lam2, self.bias, False, None, self.label)

    def key(self) -> bytes:
        """Bytes identifying the instance (a cache key)."""
        return b"|".join([self.X.tobytes(), str(self.X.shape).encode(), self.y.tobytes(), self.D.tobytes(),
                          str(self.D.shape).encode(), repr((self.lam, self.lam2)).encode()])

    def describe(self) -> str:
        """A short, complete, copy-pastable description (numbers as Python reprs)."""
        return (f"Instance({self.label or 'instance'}: n={self.n}, d={self.d}, P={self.P}, lam={self.lam!r}, "
                f"lam2={self.lam2!r}, bias={self.bias}, complete={self.complete},\n"
                f"  X={self.X.tolist()!r},\n  y={self.y.tolist()!r},\n"
                f"  D={self.D.T.astype(int).tolist()!r} (one row per pattern))")


@dataclass
class Candidate:
    """A solution of the C-ReLU over an instance's scope: ``U``, ``H`` of shape (d, P).

    ``h_p`` enters the fit with a minus sign (theory.md §2). Measures are computed lazily and
    cached (:meth:`measures`).
    """

    U: np.ndarray
    H: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, value: object, instance: Instance) -> Candidate:
        """A candidate from a solver's return value: ``(U, H)`` or any object with ``U`` and ``H``."""
        if isinstance(value, Candidate):
            return value
        if isinstance(value, tuple) and len(value) >= 2:
            U, H = value[0], value[1]
        elif hasattr(value, "U") and hasattr(value, "H"):
            U, H = value.U, value.H
        else:
            raise InputError(f"a convex solver must return (U, H) or an object with U and H; got "
                             f"{type(value).__name__}.")
        U = np.asarray(U, dtype=np.float64)
        H = np.asarray(H, dtype=np.float64)
        shape = (instance.d, instance.P)
        if U.shape != shape or H.shape != shape:
            raise InputError(f"a convex solver must return U and H of shape (d, P) = {shape}; got "
                             f"{U.shape} and {H.shape}.")
        if not (np.isfinite(U).all() and np.isfinite(H).all()):
            raise InputError("the solver returned non-finite weights.")
        return cls(U, H)

    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All blocks ``(W (d, 2P), pattern index (2P,), sign (2P,))``: the ``u`` blocks, then ``h``."""
        P = self.U.shape[1]
        return (np.hstack([self.U, self.H]), np.concatenate([np.arange(P), np.arange(P)]),
                np.concatenate([np.ones(P), -np.ones(P)]))

    def measures(self, instance: Instance) -> Measures:
        key = instance.key()
        if key not in self._cache:
            self._cache[key] = Measures.compute(instance, self)
        return self._cache[key]


@dataclass(frozen=True)
class Measures:
    """Float measures of a candidate on an instance (all in certify's scaling).

    Attributes
    ----------
    fit : ndarray (n,)
        ``y_hat = sum_b Z_b w_b``.
    residual : ndarray (n,)
        ``r = y - y_hat``.
    loss, norm_sum, objective : float
        ``1/2 ||r||^2``, ``S = sum_b ||w_b||``, ``loss + lam S``.
    block_norms : ndarray (2P,)
    active : ndarray of bool (2P,)
        ``||w_b|| > ACTIVE_TOL max(max ||w||, (1 + ||y||) / ||X||_2)``: interior-point solvers leave
        round-off in blocks that are zero at the optimum, in arbitrary directions.
    scale : float
        ``max(max_b ||w_b||, (1 + ||y||) / ||X||_2)``, the scale of the violations.
    correlations : ndarray (d, 2P)
        ``v_b = Pi_{K_b}(Z_b^T r)`` (NNLS; theory.md §3), ``u`` blocks then ``h`` blocks.
    correlation_norms : ndarray (2P,)
        ``||v_b||``: float upper bounds of the one-cone maxima (any ``mu >= 0`` gives one).
    violation : ndarray (2P,)
        Per block the largest cone violation relative to the solution's scale,
        ``max_k (-a_k^T w_b)_+ / (||a_k|| s)`` with ``s = max(max_b ||w_b||, (1 + ||y||) / ||X||_2)``:
        at most the angle by which ``w_b`` leaves its cone, and small for round-off blocks.
    dual_lower : float
        A lower bound of the scope's optimum from this residual: the dual value of ``s r`` with
        ``s = clip(<r, y> / ||r||^2, 0, lam / max ||v_b||)`` (weak duality, theory.md §3; float, and
        ``max ||v_b||`` is an NNLS estimate of the one-cone maxima: a bound up to NNLS accuracy).
    """

    fit: np.ndarray
    residual: np.ndarray
    loss: float
    norm_sum: float
    objective: float
    block_norms: np.ndarray
    active: np.ndarray
    scale: float
    correlations: np.ndarray
    correlation_norms: np.ndarray
    violation: np.ndarray
    dual_lower: float

    @classmethod
    def compute(cls, inst: Instance, cand: Candidate) -> Measures:
        X, y, D = inst.X, inst.y, inst.D
        Df = D.astype(np.float64)
        fit = (Df * (X @ (cand.U - cand.H))).sum(axis=1)
        r = y - fit
        W, pats, signs = cand.weights()
        norms = np.linalg.norm(W, axis=0)
        V, vnorms = correlations(X, r, D, pats, signs)
        viol = np.zeros(W.shape[1])
        row_norms = np.linalg.norm(X, axis=1)
        xn = spectral_norm(X)
        natural = (1.0 + float(np.linalg.norm(y))) / xn if xn > 0 else 1.0
        scale = max(norms.max(initial=0.0), natural)
        active = norms > ACTIVE_TOL * scale
        for b in np.flatnonzero(norms > 0):
            A = cone_rows(X, Df[:, pats[b]])
            slack = A @ W[:, b]
            dist = np.where(row_norms > 0, -slack / np.maximum(row_norms, 1e-300), 0.0)
            viol[b] = max(0.0, float(dist.max(initial=0.0))) / scale
        loss = 0.5 * float(r @ r)
        S = float(norms.sum())
        return cls(fit, r, loss, S, loss + inst.lam * S, norms, active, scale, V, vnorms, viol,
                   dual_lower(y, r, inst.lam, float(vnorms.max(initial=0.0))))


def correlations(X: np.ndarray, r: np.ndarray, D: np.ndarray, pats: np.ndarray, signs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``v_b = Pi_{K_b}(s_b X^T D_p r)`` for every block and their norms (float NNLS)."""
    Df = D.astype(np.float64)
    G = X.T @ (Df * r[:, None])  # (d, P)
    V = np.zeros((X.shape[1], pats.size))
    for b in range(pats.size):
        g = signs[b] * G[:, pats[b]]
        if np.any(g):
            V[:, b] = correlation_vector(g, cone_rows(X, Df[:, pats[b]]))
    return V, np.linalg.norm(V, axis=0)


def dual_lower(y: np.ndarray, r: np.ndarray, lam: float, bound: float) -> float:
    """Dual value of ``s r`` (theory.md §3) with the best feasible ``s`` given the one-cone bound."""
    rr = float(r @ r)
    if rr == 0.0:
        return 0.0
    s = max(0.0, float(r @ y) / rr)
    if bound > 0:
        s = min(s, lam / bound)  # s r is dual feasible: s max_b ||v_b|| <= lam
    return s * float(r @ y) - 0.5 * s * s * rr


def lam_max(X: np.ndarray, y: np.ndarray, D: np.ndarray) -> float:
    """``max_b ||Pi_{K_b}(Z_b^T y)||`` over both signs of every pattern of ``D`` (theory.md §3)."""
    P = D.shape[1]
    _, norms = correlations(X, y, D, np.concatenate([np.arange(P), np.arange(P)]),
                            np.concatenate([np.ones(P), -np.ones(P)]))
    return float(norms.max(initial=0.0))


def spectral_norm(X: np.ndarray) -> float:
    """``||X||_2``, an upper bound of every ``||Z_b||_2 = ||D_p X||_2``."""
    return float(np.linalg.norm(X, 2)) if X.size else 0.0
