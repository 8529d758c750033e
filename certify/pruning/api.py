"""``prune``: exact Algorithm 1 (theory.md §5) on a trained network, with a certificate.

Scaling (certify's, stated in the certificate): NC = 1/2 ||f(X) - y||^2 + (lam/2) sum_j
(||W1_j||^2 + w2_j^2); a first-layer bias is a regularized ones column.

The exact pruned network (rational weights, the original fit exactly, objective not larger) cannot
in general be written as floats. The written network is its entry-wise rounding: ``W1`` (and ``b1``)
to the nearest float, ``w2`` in the direction that lowers NC to first order (the sign of the float
gradient at the exact network), or to the nearest float when that gives a lower exact NC. The
certificate's claims are about the written floats (*objective*, *pruned*, *minimal* or
*not_minimal*); the exact network travels in the *pruned* claim's evidence.

Methods (``method=``): ``"exact"`` runs every step of Algorithm 1 in rational arithmetic
(:func:`certify.pruning.exact.prune_exact`; exact per-step log). ``"fast"`` runs the steps in floating
point and computes the final contribution factors by one exact solve, accepted only when exactly
valid (fit equal, NC not increased, independent fit columns), else the exact kernel
(:func:`certify.pruning.fast.prune_fast`; its per-step log is float estimates, its final objective
exact). ``"auto"`` (the default) is ``"fast"`` when ``n * m >= AUTO_FAST_SIZE`` and ``"exact"``
otherwise. The certificate is the same in every method and the checker verifies only the final
network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from certify.certificates import certificate
from certify.certificates.minimality import minimality_claim, near_dependence
from certify.certificates.objective import objective_claim
from certify.certificates.pruning import fit_deviation_sq, pruned_claim
from certify.errors import InputError
from certify.network import Network
from certify.problem import Problem
from certify.pruning.exact import ExactPruning, prune_exact
from certify.pruning.fast import FastPruning, prune_fast
from certify.verify import exact_context

#: ``method="auto"`` uses the fast method when ``n * m`` (points times neurons) is at least this.
AUTO_FAST_SIZE = 400

#: The accepted values of ``method``.
METHODS = ("auto", "fast", "exact")


@dataclass(frozen=True)
class PruneResult:
    """Result of :func:`prune`.

    Attributes
    ----------
    network : Network
        The written (float) pruned network.
    exact : ExactPruning
        The exact pruned network, the step log and the exact objectives.
    certificate : dict
        Claims *objective*, *pruned* and *minimal* (or *not_minimal*) about ``network``.
    objective : Fraction
        Exact NC of ``network`` (the float copy).
    fit_deviation_sq : Fraction
        ``||f(network) - f(original)||^2`` exactly.
    near_dependence : dict
        Singular values of the written network's normalized fit columns (floats, not certified).
    method : str
        ``"fast"`` (float steps, one exact final solve; ``exact.steps`` is then empty and the float
        step estimates are in the certificate's diagnostics) or ``"exact"``.
    fallback : str or None
        Why the fast candidate was rejected and the exact kernel run instead (None otherwise).
    """

    network: Network
    exact: ExactPruning
    certificate: dict
    objective: Fraction
    fit_deviation_sq: Fraction
    near_dependence: dict
    method: str = "exact"
    fallback: str | None = None

    @property
    def minimal(self) -> bool:
        """True iff the certificate claims the written network's fit columns independent."""
        return any(c["type"] == "minimal" for c in self.certificate["claims"])

    @property
    def objective_not_increased(self) -> bool:
        """True iff NC(written network) <= NC(original), exactly."""
        return self.objective <= self.exact.objective_original

    def to_json(self) -> str:
        return certificate.to_json(self.certificate)


def _round_down(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) <= q else math.nextafter(f, -math.inf)


def _round_up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def float_copies(problem: Problem, W1: list[list[Fraction]], w2: list[Fraction]) -> list[Network]:
    """Candidate float copies of an exact network: ``w2`` rounded against the gradient, then nearest.

    ``W1`` is ``d' x m`` (``b1`` as last row when ``problem.bias``); every ``W1`` entry is rounded
    to the nearest float.
    """
    Wf = np.array([[float(v) for v in row] for row in W1], dtype=float).reshape(len(W1), len(w2))
    X = problem.features
    pre = np.maximum(X @ Wf, 0.0)
    w2_near = np.array([float(v) for v in w2])
    residual = pre @ w2_near - problem.y
    grad = pre.T @ residual + float(problem.lam) * w2_near
    w2_dir = np.array([_round_down(v) if g > 0 else _round_up(v) for v, g in zip(w2, grad, strict=True)])
    out = []
    for w in (w2_dir, w2_near):
        out.append(Network(Wf[:-1], w, Wf[-1]) if problem.bias else Network(Wf, w))
    return out


def prune(problem: Problem, network: Network,
          progress: Callable[[int, int], None] | None = None, method: str = "auto") -> PruneResult:
    """Prune ``network`` exactly to linearly independent fit columns (Algorithm 1) and certify it.

    Parameters
    ----------
    problem : Problem
        Data, targets, ``lam`` (certify's scaling, see the module docstring) and bias flag.
    network : Network
        Any network (optimal or not); must have ``b1`` iff ``problem.bias``.
    progress : callable, optional
        ``progress(done, total)`` over the dependent neurons (exact steps only).
    method : {"auto", "fast", "exact"}
        ``"exact"``: every step in rational arithmetic. ``"fast"``: float steps and one exact final
        solve, with the exact kernel as fallback when the exact acceptance test fails. ``"auto"``
        (default): ``"fast"`` when ``n * m >= AUTO_FAST_SIZE`` (400), else ``"exact"``.

    Returns
    -------
    PruneResult
        The float copy, the exact result and the certificate. The exact pruned network has the
        original fit exactly and NC not larger; it has at most ``rank <= n`` neurons unless a step
        was refused (``exact.refused``: removing that neuron would have increased NC, by the stated
        exact amount).
    """
    if method not in METHODS:
        raise InputError(f"unknown pruning method {method!r}; expected one of {', '.join(METHODS)}")
    if method == "auto":
        method = "fast" if problem.features.shape[0] * network.width >= AUTO_FAST_SIZE else "exact"
    original = exact_context(problem, network)
    fast: FastPruning | None = None
    if method == "fast":
        fast = prune_fast(original.X, original.y, original.W1, original.w2, problem.lam, progress)
        result = fast.exact
    else:
        result = prune_exact(original.X, original.y, original.W1, original.w2, problem.lam, progress)
    W1, w2 = result.W1, result.w2
    if not result.kept:  # every neuron is a zero neuron: keep one zero neuron (width >= 1)
        W1, w2 = [[Fraction(0)] for _ in range(original.d)], [Fraction(0)]
    best = None
    for candidate in float_copies(problem, W1, w2):
        ctx = exact_context(problem, candidate)
        if best is None or ctx.evaluation.objective < best[1].evaluation.objective:
            best = (candidate, ctx)
    given, ctx = best
    raw = (network.W1.tolist(), network.w2.tolist(), None if network.b1 is None else network.b1.tolist())
    exact_objective = result.objective if result.kept else result.loss
    claims = [objective_claim(ctx),
              pruned_claim(original, raw, network.digest(), W1, w2, exact_objective, ctx),
              minimality_claim(ctx)]
    near = near_dependence(problem.features, given.weights(problem.bias), given.w2)
    diagnostics = {
        "certified": False,
        "near_dependence": near,
        "pruning": _log(result, network.width) if fast is None else _fast_log(fast, network.width),
    }
    doc = certificate.build(problem, given.digest(), given.width, claims, diagnostics)
    return PruneResult(given, result, doc, ctx.evaluation.objective, fit_deviation_sq(ctx, original), near,
                       "exact" if fast is None else fast.method, None if fast is None else fast.fallback)


def _log(result: ExactPruning, width: int) -> dict:
    """The step log for the certificate's diagnostics (floats; the exact objectives are in the claims)."""
    return {
        "original_width": width,
        "dead_neurons": result.dead,
        "rank": result.rank,
        "steps": [{"removed": list(s.removed), "entering": s.entering, "t": float(s.t), "sign": s.sign,
                   "max_factor": float(s.max_factor), "objective": float(s.objective)}
                  for s in result.steps],
        "refused": [{"neuron": r.neuron, "increase": float(r.increase)} for r in result.refused],
        "objective_original": float(result.objective_original),
        "objective_exact": float(result.objective),
    }


def _fast_log(fast: FastPruning, width: int) -> dict:
    """The log of the fast method: float step estimates, the method, the fallback reason if any."""
    log = _log(fast.exact, width)
    log["method"] = fast.method
    log["fallback"] = fast.fallback
    log["steps_float"] = [{"removed": list(s.removed), "entering": s.entering, "s": s.s,
                           "penalty_estimate": s.penalty} for s in fast.float_steps]
    return log
