"""Producer of the *not optimal* claim (proofs/not_optimal.md), and the search for violating directions.

If some direction ``u`` has ``s <r, (X u)_+> > lam ||u||`` (``r`` the residual of theta, ``s`` a
sign), the dual constraint over all patterns fails at ``r`` and adding the balanced neuron
``W1 = a u / ||u||``, ``w2 = s a`` lowers NC for small ``a``: with ``h = (X u)_+ / ||u||`` and
``v = s <r, h> - lam > 0``, NC changes by ``-a^2 v + a^4 ||h||^2 / 2``, smallest at
``a^2 = v / ||h||^2`` (a decrease of ``v^2 / (2 ||h||^2)``). The neuron is written as floats (exact
dyadic rationals, so the improved network can be saved as it is) and the decrease recomputed
exactly; the step is halved until it is exactly positive.

Without an enumeration, :func:`search_violation` looks for such a direction by multi-start
local maximization of ``phi(u) = s <r, (X u)_+>`` on the unit sphere (a Numba kernel). A
direction found proves non-optimality (after the exact check); none found proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from certify.convex.correlation import cone_multipliers, cone_rows
from certify.exact.context import ExactContext
from certify.exact.improve import appended_objective
from certify.exact.rational import format_rational


def not_optimal_claim(ctx: ExactContext, X: np.ndarray, direction: np.ndarray, sign: int,
                      halvings: int = 40) -> dict | None:
    """The ``not_optimal`` claim for one neuron along ``direction`` (features' coordinates), or None
    if no step along it lowers NC exactly."""
    u = np.asarray(direction, float)
    norm = np.linalg.norm(u)
    if not np.isfinite(norm) or norm == 0:
        return None
    u = u / norm
    r = np.array([float(Fraction(v, 1 << ctx.evaluation.res_shift)) for v in ctx.evaluation.res_num])
    h = np.maximum(X @ u, 0.0)
    v = sign * float(r @ h) - float(ctx.lam)
    hh = float(h @ h)
    if not v > 0 or hh == 0:
        return None
    a = np.sqrt(v / hh)
    objective = ctx.evaluation.objective
    for _ in range(halvings):
        W1 = [Fraction(float(x)) for x in a * u]
        w2 = Fraction(float(sign * a))
        value = appended_objective(ctx, W1, w2)
        if value < objective:
            return {"id": "not_optimal", "type": "not_optimal",
                    "neuron": {"W1": [format_rational(x) for x in W1], "w2": format_rational(w2)},
                    "improved_objective": format_rational(value),
                    "decrease": format_rational(objective - value)}
        a *= 0.5
    return None


def best_cone_direction(X: np.ndarray, r: np.ndarray, u: np.ndarray, sign: int) -> np.ndarray:
    """The maximizer of ``s <r, D X v>`` over the unit ball of the cone of ``u``'s cell (its projection)."""
    pat = (X @ u >= 0).astype(float)
    g = sign * (X.T @ (pat * r))
    A = cone_rows(X, pat)
    v = g + A.T @ cone_multipliers(g, A)
    return v if np.linalg.norm(v) > 0 else u


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`search_violation`.

    Attributes
    ----------
    direction : best unit direction found; sign : its sign s.
    value : ``s <r, (X u)_+>`` at it (float); violation : ``value - lam`` (> 0: candidate witness).
    starts : number of starting points.
    """

    direction: np.ndarray
    sign: int
    value: float
    violation: float
    starts: int


@lru_cache(maxsize=1)
def _kernel():
    import numba

    @numba.njit(cache=True)
    def ascend(X, r, starts, iters):  # pragma: no cover - compiled
        n, d = X.shape
        m = starts.shape[0]
        best_val = np.full(m, -np.inf)
        best_u = np.zeros((m, d))
        for j in range(m):
            s = 1.0 if j % 2 == 0 else -1.0
            u = starts[j].copy()
            nu = np.sqrt(np.sum(u * u))
            if nu == 0:
                continue
            u /= nu
            val = 0.0
            for k in range(n):
                p = np.dot(X[k], u)
                if p > 0:
                    val += s * r[k] * p
            step = 1.0
            for _ in range(iters):
                g = np.zeros(d)
                for k in range(n):
                    if np.dot(X[k], u) >= 0:
                        g += s * r[k] * X[k]
                gn = np.sqrt(np.sum(g * g))
                if gn == 0:
                    break
                cand = u + step * g / gn
                cand /= np.sqrt(np.sum(cand * cand))
                cv = 0.0
                for k in range(n):
                    p = np.dot(X[k], cand)
                    if p > 0:
                        cv += s * r[k] * p
                if cv > val:
                    u, val = cand, cv
                    step = min(2.0, step * 1.5)
                else:
                    step *= 0.5
                    if step < 1e-10:
                        break
            best_val[j] = val
            best_u[j] = u
        return best_val, best_u

    return ascend


def search_violation(X: np.ndarray, r: np.ndarray, lam: float, W1: np.ndarray | None = None,
                     starts: int = 256, iters: int = 200, seed: int = 0) -> SearchResult:
    """Multi-start local maximization of ``s <r, (X u)_+>`` over unit ``u`` and both signs ``s``.

    Starting points: the data rows, the network's neuron directions and seeded Gaussian vectors
    (``starts`` of them), each with both signs. A result with ``violation > 0`` is a *candidate*
    (checked exactly by :func:`not_optimal_claim`); ``violation <= 0`` proves nothing.
    """
    X = np.ascontiguousarray(X, float)
    r = np.ascontiguousarray(r, float)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    cands = [rng.standard_normal((starts, d)), X[np.linalg.norm(X, axis=1) > 0]]
    if W1 is not None and W1.size:
        cands.append(np.asarray(W1, float).T)
    base = np.vstack(cands)
    both = np.repeat(base, 2, axis=0)  # even rows: sign +1, odd rows: sign -1
    vals, us = _kernel()(X, r, np.ascontiguousarray(both), int(iters))
    j = int(np.argmax(vals))
    sign = 1 if j % 2 == 0 else -1
    u = best_cone_direction(X, r, us[j], sign)
    u = u / np.linalg.norm(u)
    value = float(sign * (r @ np.maximum(X @ u, 0.0)))
    if value < vals[j]:
        u, value = us[j], float(vals[j])
    return SearchResult(u, sign, value, value - float(lam), len(both))


def improved_network(network, claim: dict):
    """The network ``theta'`` of a ``not_optimal`` claim: ``network`` with the claim's neuron appended.

    The neuron's rationals are the exact values of floats (as :func:`not_optimal_claim` writes them),
    so ``theta'`` is stored exactly; a claim with other rationals raises ValueError.
    """
    from certify.exact.rational import parse_rational
    from certify.network import Network

    values = [parse_rational(v) for v in claim["neuron"]["W1"]] + [parse_rational(claim["neuron"]["w2"])]
    floats = [float(v) for v in values]
    if any(Fraction(f) != v for f, v in zip(floats, values, strict=True)):
        raise ValueError("the neuron's entries are not floats; the improved network cannot be stored exactly")
    *w1, w2 = floats
    bias = network.b1 is not None
    col = np.array(w1[:-1] if bias else w1)
    W1 = np.hstack([network.W1, col[:, None]])
    b1 = np.append(network.b1, w1[-1]) if bias else None
    return Network(W1, np.append(network.w2, w2), b1)
