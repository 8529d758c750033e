"""Producer of the *Goldstein stationarity* claim (proofs/stationarity.md, "Goldstein").

A float network near a kink (an optimum of the convex program maps to neurons on rays of
their cones, theory.md §7) has a large gradient even when it is stationary in every useful
sense: the gradient jumps across the nearby data hyperplanes. The claim
``dist(0, conv{grad NC(theta_i)}) <= delta`` with ``||theta_i - theta|| <= eps`` measures that.

Construction (floats find, the exact kernel evaluates):
1. near ties ``t = (k, j)``: ``|x_k^T W1_j| <= tol ||x_k|| ||W1_j||``, ``x_k != 0``;
2. ``g(sigma) = g0 + sum_t sigma_t J_t`` with ``J_t = w2_j e_k x_k``; bounded least squares gives
   ``c in [0, 1]^T`` near the minimum-norm point (resolution 2^-20, fewer levels past a budget);
3. the staircase decomposition writes ``c`` as a convex combination of at most ``levels + 1``
   vertices ``sigma`` (one per distinct value of c, plus one); for each, move the tied neurons
   by a least-norm step so that
   ``x_k^T W1_j`` has sign ``+`` where ``sigma_t = 1`` and ``-`` otherwise (magnitude ``tol``);
4. the exact gradients at those points are combined with the exact staircase weights.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from certify.certificates.stationarity import box_multipliers
from certify.exact.context import ExactContext
from certify.exact.goldstein import combination_sq, distance_sq, gradient_at, replace_columns
from certify.exact.rational import format_rational

FINE_LEVELS = 1 << 20  # resolution of the multipliers c
DEFAULT_MAX_POINTS = 33


def _near_ties(X: np.ndarray, W1: np.ndarray, tol: float) -> list[tuple[int, int]]:
    xn = np.linalg.norm(X, axis=1)
    wn = np.linalg.norm(W1, axis=0)
    rel = np.abs(X @ W1)
    out = []
    for k in np.flatnonzero(xn > 0):
        for j in np.flatnonzero(rel[k] <= tol * xn[k] * wn):
            if wn[j] > 0:
                out.append((int(k), int(j)))
    return out


def _move_neuron(X: np.ndarray, w: np.ndarray, rows: list[int], signs: list[int], tol: float
                 ) -> np.ndarray:
    """Least-norm change of ``w`` giving ``x_k^T w`` the wanted signs at ``rows`` (floats)."""
    A = X[rows]
    scale = np.linalg.norm(A, axis=1) * np.linalg.norm(w)
    for factor in (1.0, 4.0, 16.0, 64.0):
        target = np.asarray(signs) * tol * factor * scale
        delta = np.linalg.lstsq(A, target - A @ w, rcond=None)[0]
        new = w + delta
        if np.all(np.sign(A @ new) == np.asarray(signs)):
            return new
    return new


def goldstein_claim(ctx: ExactContext, X: np.ndarray, W1: np.ndarray, w2: np.ndarray,
                    tol: float, max_points: int = DEFAULT_MAX_POINTS) -> dict | None:
    """The claim, or None when some neuron has ``W1_j = 0`` (no differentiable point is built).

    The multipliers are kept at resolution ``2^-20``; when that would need more than
    ``max_points`` points (each costs the checker one exact gradient), they are quantized to
    ``max_points - 1`` levels.
    """
    if np.any(~W1.any(axis=0)):
        return None
    ties = _near_ties(X, W1, tol)
    pre = X @ W1
    residual = ctx.evaluation.residual()
    e = -np.array([float(v) for v in residual])
    c = np.zeros(0, dtype=int)
    if ties:
        # g0 with every near tie switched off (its jump removed where x_k^T W1_j > 0)
        jumps = [w2[j] * e[k] * X[k] for k, j in ties]
        c_float = box_multipliers(ctx, ties, jumps, [bool(pre[k, j] > 0) for k, j in ties])
        levels = FINE_LEVELS
        c = np.clip(np.round(c_float * levels), 0, levels).astype(int)
        if len(set(c.tolist()) | {0, levels}) > max_points:
            levels = max_points - 1
            c = np.clip(np.round(c_float * levels), 0, levels).astype(int)
    else:
        levels = 1
    # staircase: distinct levels in decreasing order
    values = sorted({int(v) for v in c} | {0, levels}, reverse=True)
    points = []
    for hi, lo in zip(values, values[1:], strict=False):
        weight = Fraction(hi - lo, levels)
        # vertex: ties with level >= hi are on (sigma = 1); the first vertex (hi = levels)
        # has only the ties at full level on
        on = {t for t, v in enumerate(c) if v >= hi}
        points.append((weight, on))
    if not points:
        points = [(Fraction(1), set())]
    by_neuron: dict[int, list[int]] = {}
    for t, (_, j) in enumerate(ties):
        by_neuron.setdefault(j, []).append(t)
    entries, grads, weights, radius = [], [], [], Fraction(0)
    for weight, on in points:
        changes = {}
        for j, ts in by_neuron.items():
            rows = [ties[t][0] for t in ts]
            signs = [1 if t in on else -1 for t in ts]
            new = _move_neuron(X, W1[:, j], rows, signs, tol)
            changes[j] = [Fraction(float(v)) for v in new]
        W1p = replace_columns(ctx.W1, changes)
        g, tie = gradient_at(ctx, W1p)
        if g is None:
            return None
        grads.append(g)
        weights.append(weight)
        radius = max(radius, distance_sq(ctx.W1, changes))
        entries.append({"weight": format_rational(weight),
                        "changes": [{"j": j, "W1": [format_rational(v) for v in col]}
                                    for j, col in sorted(changes.items())]})
    value = combination_sq(grads, weights)
    return {
        "id": "stationarity_goldstein",
        "type": "stationarity_goldstein",
        "radius_sq": format_rational(radius),
        "grad_sq_bound": format_rational(value),
        "points": entries,
    }


def goldstein_claim_or_none(ctx: ExactContext, X: np.ndarray, W1: np.ndarray, w2: np.ndarray,
                            tol: float, max_points: int = DEFAULT_MAX_POINTS) -> dict | None:
    """:func:`goldstein_claim`, or None when its float search overflows (weights or data near
    the float range, e.g. 1e300): the claim is optional, the certificate stays valid without it."""
    try:
        with np.errstate(over="raise", invalid="raise"):
            return goldstein_claim(ctx, X, W1, w2, tol, max_points)
    except (OverflowError, FloatingPointError, ValueError):
        return None
