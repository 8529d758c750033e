"""NumPy (BLAS) backend of the pattern operators.
"""

from __future__ import annotations

import numpy as np

from certify.solve.backends.base import Operator, OperatorBackend, _check_pattern_set


class _NumpyOperator(Operator):
    backend = "numpy"

    def __init__(self, X: np.ndarray, D: np.ndarray) -> None:
        super().__init__(X.shape[0], X.shape[1], D.shape[1])
        self.X = X
        self.XT = np.ascontiguousarray(X.T)
        self.D = D
        self.DT = np.ascontiguousarray(D.T)
        self.S = 2.0 * D - 1.0                   # signs of the cone constraints (2 D - I)

    def _forward(self, W: np.ndarray) -> np.ndarray:
        # sum_p D_p X w_p = rowsum(X * (D W^T)), computed transposed: (d, n) temporaries only.
        return np.einsum("ji,ji->i", self.XT, W @ self.DT)

    def _adjoint(self, r: np.ndarray) -> np.ndarray:
        # X^T diag(r) D: scale X (d x n), not D (n x P).
        return (self.XT * r) @ self.D

    def _min_slacks(self, W: np.ndarray) -> np.ndarray:
        XW = self.X @ W
        np.multiply(XW, self.S, out=XW)
        return XW.min(axis=0)


class NumpyBackend(OperatorBackend):
    """NumPy + BLAS; always available. The reference the other backends are tested against."""

    name = "numpy"
    required_modules = ("numpy",)

    def prepare(self, X: np.ndarray, D: np.ndarray) -> Operator:
        return _NumpyOperator(*_check_pattern_set(X, D))


