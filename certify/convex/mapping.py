"""Network <-> constrained group lasso (C-ReLU) blocks, theory.md §2.

Network -> convex: neuron ``j`` contributes ``|w2_j| W1_j`` to block
``(pattern of X W1_j >= 0, sign of w2_j)``; neurons sharing pattern and sign merge into one
block. The prediction is unchanged and the convex objective is <= NC (AM-GM), with equality
iff every neuron is balanced and merged neurons are positively collinear.

Convex -> network: block ``w_b`` gives one neuron ``W1 = w_b / sqrt(||w_b||)``,
``w2 = s sqrt(||w_b||)``; the network is balanced and both objectives are equal.

These are float maps used to find certificates; claims are checked exactly elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify.network import Network


@dataclass(frozen=True)
class Blocks:
    """Active blocks of a C-ReLU solution.

    Attributes
    ----------
    patterns : ndarray of uint8, shape (n, B)
        Column ``b`` is the pattern ``diag(D_b)``.
    signs : ndarray of int, shape (B,)
        ``+1`` or ``-1``: ``Z_b = s_b D_b X``.
    weights : ndarray, shape (d, B)
        Block weights ``w_b`` (each in its cone ``(2 D_b - I) X w >= 0`` up to rounding).
    neurons : list[list[int]]
        For blocks made from a network, the neurons merged into each block.
    """

    patterns: np.ndarray
    signs: np.ndarray
    weights: np.ndarray
    neurons: list[list[int]]

    @property
    def count(self) -> int:
        return self.weights.shape[1]

    def fits(self, X: np.ndarray) -> np.ndarray:
        """Columns ``Z_b w_b = s_b D_b X w_b`` (n, B)."""
        return self.patterns * (X @ self.weights) * self.signs

    def prediction(self, X: np.ndarray) -> np.ndarray:
        return self.fits(X).sum(axis=1)

    @classmethod
    def from_solution(cls, U: np.ndarray, H: np.ndarray, patterns: np.ndarray, threshold: float = 1e-9
                      ) -> Blocks:
        """Non-zero blocks of a solver's ``U`` (signs +1) and ``H`` (signs -1), each (d, P) over
        the pattern columns of ``patterns`` (n, P): ``||w|| > threshold * max ||w||``."""
        W = np.hstack([U, H])
        signs = np.concatenate([np.ones(U.shape[1], int), -np.ones(H.shape[1], int)])
        pats = np.hstack([patterns, patterns])
        norms = np.linalg.norm(W, axis=0)
        keep = norms > threshold * max(norms.max(initial=0.0), 1e-300)
        return cls(pats[:, keep], signs[keep], W[:, keep], [[] for _ in range(int(keep.sum()))])


def network_to_blocks(X: np.ndarray, W1: np.ndarray, w2: np.ndarray) -> Blocks:
    """Map a network (first-layer weights ``W1`` (d, m) on features ``X``) to merged blocks.

    Neurons with ``w2_j = 0`` or ``W1_j = 0`` contribute nothing and are dropped.
    """
    pre = X @ W1
    keys: dict[tuple[bytes, int], int] = {}
    pats, signs, weights, members = [], [], [], []
    for j in range(W1.shape[1]):
        if w2[j] == 0 or not np.any(W1[:, j]):
            continue
        pattern = (pre[:, j] >= 0).astype(np.uint8)
        sign = 1 if w2[j] > 0 else -1
        key = (pattern.tobytes(), sign)
        w = abs(w2[j]) * W1[:, j]
        if key in keys:
            b = keys[key]
            weights[b] = weights[b] + w
            members[b].append(j)
        else:
            keys[key] = len(pats)
            pats.append(pattern)
            signs.append(sign)
            weights.append(w)
            members.append([j])
    n, d = X.shape
    if not pats:
        return Blocks(np.zeros((n, 0), np.uint8), np.zeros(0, int), np.zeros((d, 0)), [])
    return Blocks(np.array(pats).T, np.array(signs), np.array(weights).T, members)


def blocks_to_network(weights: np.ndarray, signs: np.ndarray, bias: bool = False,
                      threshold: float = 0.0) -> Network:
    """Balanced network from block weights ``w_b`` (d, B) and signs.

    Blocks with ``||w_b|| <= threshold`` are dropped. With ``bias``, the last row of the
    weights becomes ``b1``.
    """
    norms = np.linalg.norm(weights, axis=0)
    keep = norms > threshold
    if not keep.any():
        keep = np.zeros_like(keep)
        keep[0] = True  # a single zero neuron keeps the network well-formed
    w = weights[:, keep]
    nrm = norms[keep]
    scale = np.where(nrm > 0, 1.0 / np.sqrt(np.where(nrm > 0, nrm, 1.0)), 0.0)
    W1 = w * scale
    w2 = signs[keep] * np.sqrt(nrm)
    if bias:
        return Network(W1[:-1], w2, W1[-1])
    return Network(W1, w2)


def convex_objective(X: np.ndarray, y: np.ndarray, lam: float, blocks: Blocks) -> float:
    """C-ReLU objective ``1/2 ||sum_b Z_b w_b - y||^2 + lam sum_b ||w_b||`` (float)."""
    r = blocks.prediction(X) - y
    return 0.5 * float(r @ r) + lam * float(np.linalg.norm(blocks.weights, axis=0).sum())


def nc_objective(X: np.ndarray, y: np.ndarray, lam: float, W1: np.ndarray, w2: np.ndarray) -> float:
    """NC objective in floats (features ``X`` already include any bias column)."""
    r = np.maximum(X @ W1, 0.0) @ w2 - y
    return 0.5 * float(r @ r) + 0.5 * lam * (float(np.sum(W1 * W1)) + float(w2 @ w2))
