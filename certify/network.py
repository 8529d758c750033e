"""Two-layer ReLU networks ``f(x) = sum_j (x^T W1_j + b1_j)_+ w2_j`` of any width."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify.errors import InputError
from certify.exact.digest import network_digest
from certify.exact.dyadic import DyadicMatrix
from certify.io.validate import check_network


@dataclass(frozen=True)
class Network:
    """A two-layer ReLU network with scalar output and no second-layer bias.

    Parameters
    ----------
    W1 : array of shape (d, m)
        Column ``j`` holds neuron ``j``'s input weights (the paper's layout; a PyTorch
        ``Linear`` weight is the transpose).
    w2 : array of shape (m,)
        Output weights.
    b1 : array of shape (m,), optional
        First-layer bias; used with ``Problem(bias=True)``, where it is the last row of the
        augmented ``W1`` and is regularized.
    """

    W1: np.ndarray
    w2: np.ndarray
    b1: np.ndarray | None = None

    def __init__(self, W1: object, w2: object, b1: object | None = None) -> None:
        W1c, w2c, b1c = check_network(W1, w2, b1)
        object.__setattr__(self, "W1", W1c)
        object.__setattr__(self, "w2", w2c)
        object.__setattr__(self, "b1", b1c)

    @property
    def width(self) -> int:
        return self.W1.shape[1]

    def weights(self, bias: bool) -> np.ndarray:
        """First-layer weights as used by a problem: ``W1`` or ``[W1; b1]`` when ``bias``."""
        self.check_bias(bias)
        return np.vstack([self.W1, self.b1[None, :]]) if bias else self.W1

    def check_bias(self, bias: bool) -> None:
        """Raise InputError if the network's bias does not match the problem's convention."""
        if bias and self.b1 is None:
            raise InputError("the problem uses a first-layer bias (--bias) but the network has no "
                             "b1; add b1 (zeros for none) or drop --bias.")
        if not bias and self.b1 is not None:
            raise InputError("the network has a first-layer bias b1 but the problem has none: pass "
                             "--bias (bias=True) so that X gets a ones column; the bias is then "
                             "regularized like the other weights (theory.md §1).")

    def check_features(self, d: int) -> None:
        """Raise InputError unless ``W1`` has ``d`` rows (the raw feature count)."""
        check_network(self.W1, self.w2, self.b1, d)

    def digest(self) -> str:
        """SHA-256 of ``(W1, w2[, b1])`` in the canonical encoding of :mod:`certify.exact.digest`."""
        return network_digest(self.W1.tolist(), self.w2.tolist(),
                              None if self.b1 is None else self.b1.tolist())

    def exact(self, bias: bool) -> tuple[DyadicMatrix, DyadicMatrix]:
        """Exact ``(W1 or [W1; b1], w2)`` as dyadic matrices."""
        return (DyadicMatrix.from_rows(self.weights(bias).tolist()),
                DyadicMatrix.from_column(self.w2.tolist()))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Float forward pass on raw inputs ``X`` (n, d)."""
        pre = X @ self.W1
        if self.b1 is not None:
            pre = pre + self.b1
        return np.maximum(pre, 0.0) @ self.w2

    def save(self, path: str) -> None:
        """Write the network as ``.npz`` (``W1`` (d, m), ``w2`` (m,), optional ``b1``)."""
        arrays = {"W1": self.W1, "w2": self.w2}
        if self.b1 is not None:
            arrays["b1"] = self.b1
        np.savez(path, **arrays)
