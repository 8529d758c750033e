"""Approximate pruning past minimality: remove one neuron at a time (theory.md §5, last paragraph).

Algorithm 1 (exact pruning) stops at a minimal network, whose activations are linearly
independent: removing any further neuron changes the fit. Past that point pruning is approximate.
Each step scores the neurons, removes the lowest-scoring one and, when ``correct`` is set,
corrects the remaining second-layer weights by least squares on its activation:

    c = argmin_c || A_{-j} c - A_j w2_j ||,     w2_{-j} <- w2_{-j} + c

(``A = (X W1)_+``, the neurons' activations on the training features), so the new fit is the
closest to the old one that the remaining neurons can reach with their first layers fixed.
Every neuron is then rebalanced (``||W1_j|| = |w2_j|``, the same function, penalty not larger).

Methods (``score``; the lowest is removed):

``"ls"`` (Optimal/LS of Mishkin & Pilanci, ICML 2023; corrected)
    ``|| A_{-j} c_j - A_j w2_j ||``: the change of the training fit that the corrected removal
    of ``j`` causes. It is zero for a neuron whose activation is a combination of the others', so
    this method first makes the exact Algorithm-1 removals (up to float rounding), then the
    cheapest approximate ones.
``"magnitude"``
    ``||W1_j|| |w2_j|``.
``"gradient"`` (first-order saliency)
    ``|w2_j <A_j, f - y>|``: the first-order Taylor estimate of the change of the loss
    ``1/2 ||f - y||^2`` when neuron ``j`` is removed (by 2-homogeneity, the saliency
    ``theta . grad`` summed over the neuron's parameters is twice this).
``"random"``
    A seeded random order.

The baselines are not corrected by default (``correct=None`` means corrected for ``"ls"`` only).
Floats throughout; the pruned networks are float networks (no claim is made about them here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify.errors import InputError
from certify.network import Network

METHODS = ("ls", "magnitude", "gradient", "random")


@dataclass(frozen=True)
class PruningStep:
    """One network of a pruning path.

    Attributes
    ----------
    W1 : (d, m) first-layer weights in the features' coordinates (the bias is the last row
        when the problem has one).
    w2 : (m,) output weights.
    neurons : (m,) indices of the kept neurons in the input network.
    removed : index (in the input network) of the neuron removed to reach this step, or None for
        the first step.
    fit_change : ||f - f_previous|| on the training features (0 for the first step).
    """

    W1: np.ndarray
    w2: np.ndarray
    neurons: np.ndarray
    removed: int | None
    fit_change: float

    @property
    def width(self) -> int:
        return int(self.w2.size)

    def network(self, bias: bool = False) -> Network:
        """As a :class:`Network` (with ``bias``, the last row of ``W1`` becomes ``b1``)."""
        return Network(self.W1[:-1], self.w2, self.W1[-1]) if bias else Network(self.W1, self.w2)


@dataclass(frozen=True)
class PruningPath:
    """Networks of widths ``m, m - 1, ..., min_width`` produced by one method."""

    method: str
    corrected: bool
    steps: list[PruningStep]


def balance(W1: np.ndarray, w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale each neuron to ``||W1_j|| = |w2_j|`` (same function; the penalty does not grow).

    Neurons with ``W1_j = 0`` or ``w2_j = 0`` compute zero and become all-zero.
    """
    a = np.linalg.norm(W1, axis=0)
    b = np.abs(w2)
    live = (a > 0) & (b > 0)
    t = np.ones_like(b)
    t[live] = np.sqrt(b[live] / a[live])
    W1n = W1 * np.where(live, t, 0.0)
    w2n = np.where(live, w2 / np.where(live, t, 1.0), 0.0)
    return W1n, w2n


def ls_correction(A: np.ndarray, w2: np.ndarray, j: int) -> tuple[np.ndarray, float]:
    """Least-squares correction for removing neuron ``j``: ``(new w2 without j, fit change)``.

    ``c = argmin || A_{-j} c - A_j w2_j ||`` (minimum-norm solution); the new output weights are
    ``w2_{-j} + c`` and the fit changes by exactly the residual norm.
    """
    others = np.delete(np.arange(w2.size), j)
    target = A[:, j] * w2[j]
    if others.size == 0:
        return np.zeros(0), float(np.linalg.norm(target))
    c = np.linalg.lstsq(A[:, others], target, rcond=None)[0]
    return w2[others] + c, float(np.linalg.norm(A[:, others] @ c - target))


GRAM_CONDITION = 1e8
""":func:`ls_scores` uses the Gram-inverse formula only when ``cond(A^T A)`` is below this."""


def ls_scores(A: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """``|| A_{-j} c_j - A_j w2_j ||`` for every ``j`` (the fit change of each corrected removal).

    When the activations are well conditioned (``cond(A^T A) < GRAM_CONDITION``) the residual of
    regressing column ``j`` on the others is ``1 / sqrt((G^{-1})_{jj})`` with ``G = A^T A`` (one
    inverse for all ``j``); otherwise (dependent or nearly dependent activations, where the scores
    that matter are near zero) one least-squares solve per neuron (:func:`ls_correction`).
    """
    if w2.size > 1 and A.shape[0] >= w2.size:
        G = A.T @ A
        if np.linalg.cond(G) < GRAM_CONDITION:
            diag = np.diag(np.linalg.inv(G))
            if np.all(diag > 0):
                return np.abs(w2) / np.sqrt(diag)
    return np.array([ls_correction(A, w2, j)[1] for j in range(w2.size)])


def scores(method: str, A: np.ndarray, W1: np.ndarray, w2: np.ndarray, y: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    """Scores of every neuron for ``method`` (see the module docstring); the lowest is removed."""
    if method == "ls":
        return ls_scores(A, w2)
    if method == "magnitude":
        return np.linalg.norm(W1, axis=0) * np.abs(w2)
    if method == "gradient":
        return np.abs(w2 * (A.T @ (A @ w2 - y)))
    if method == "random":
        return rng.random(w2.size)
    raise InputError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")


def prune_path(features: np.ndarray, y: np.ndarray, W1: np.ndarray, w2: np.ndarray, method: str = "ls",
               correct: bool | None = None, min_width: int = 1, seed: int = 0) -> PruningPath:
    """Prune one neuron per step from width ``m`` down to ``min_width``.

    Parameters
    ----------
    features : (n, d) training features (with the ones column when the problem has a bias).
    y : (n,) training targets (used by the ``"gradient"`` score only).
    W1 : (d, m) first-layer weights in the features' coordinates; w2 : (m,).
    method : {"ls", "magnitude", "gradient", "random"}
    correct : least-squares correction of the remaining output weights after each removal;
        default: True for ``"ls"``, False for the baselines.
    min_width : int, default=1
    seed : seed of ``"random"``.

    Returns
    -------
    PruningPath
        ``steps[0]`` is the input network, balanced; ``steps[k]`` has width ``m - k``.
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    X = np.asarray(features, np.float64)
    y = np.asarray(y, np.float64)
    W1 = np.asarray(W1, np.float64)
    w2 = np.asarray(w2, np.float64)
    if X.ndim != 2 or W1.ndim != 2 or w2.ndim != 1 or W1.shape != (X.shape[1], w2.size) \
            or y.shape != (X.shape[0],):
        raise InputError(f"shapes do not match: features {X.shape}, y {y.shape}, W1 {W1.shape}, "
                         f"w2 {w2.shape} (need features (n, d), y (n,), W1 (d, m), w2 (m,)).")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y)) and np.all(np.isfinite(W1))
            and np.all(np.isfinite(w2))):
        raise InputError("features, y and the weights must be finite (no NaN or infinity).")
    if not 1 <= min_width <= w2.size:
        raise InputError(f"min_width must be between 1 and the width {w2.size}; got {min_width}.")
    corrected = (method == "ls") if correct is None else bool(correct)
    rng = np.random.default_rng(seed)
    W1, w2 = balance(W1, w2)
    kept = np.arange(w2.size)
    steps = [PruningStep(W1, w2, kept, None, 0.0)]
    while w2.size > min_width:
        A = np.maximum(X @ W1, 0.0)
        j = int(np.argmin(scores(method, A, W1, w2, y, rng)))
        before = A @ w2
        if corrected:
            w2_new, _ = ls_correction(A, w2, j)
        else:
            w2_new = np.delete(w2, j)
        removed = int(kept[j])
        W1 = np.delete(W1, j, axis=1)
        kept = np.delete(kept, j)
        W1, w2 = balance(W1, w2_new)
        change = float(np.linalg.norm(np.maximum(X @ W1, 0.0) @ w2 - before))
        steps.append(PruningStep(W1, w2, kept, removed, change))
    return PruningPath(method, corrected, steps)
