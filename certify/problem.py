"""The training problem: data, targets, regularization strength, bias convention.

certify's scaling (theory.md §1), used in every result and certificate:

    NC(W1, w2) = 1/2 * sum_k (f(x_k) - y_k)^2 + (lam/2) * sum_j (||W1_j||^2 + w2_j^2)

A first-layer bias is handled by appending a column of ones to ``X``; the bias is then
regularized like every other first-layer weight. Other conventions are converted
explicitly by :func:`convert_lambda`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from certify.errors import InputError
from certify.exact import conventions
from certify.exact.digest import data_digest
from certify.exact.dyadic import DyadicMatrix
from certify.io.validate import check_data, check_lambda

LOSS_CONVENTION = conventions.LOSS
PENALTY_CONVENTION = conventions.PENALTY
BIAS_CONVENTION = conventions.BIAS

#: Supported conventions: name -> (description, factor c such that our lam = c * n * theirs).
CONVENTIONS = {
    "certify": ("1/2 sum (f-y)^2 + lam/2 sum ||theta||^2 (certify's own)", Fraction(0)),
    "mean": ("1/(2n) sum (f-y)^2 + lam/2 sum ||theta||^2 (scnn): our lam = n * lam", Fraction(1)),
    "mse": ("1/n sum (f-y)^2 + lam/2 sum ||theta||^2 (PyTorch MSELoss + weight_decay=lam): "
            "our lam = n * lam / 2", Fraction(1, 2)),
}


def with_bias_column(X: np.ndarray, bias: bool) -> np.ndarray:
    """``X`` (float64) with a column of ones appended when ``bias`` (certify's bias convention)."""
    X = np.asarray(X, dtype=float)
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


def convert_lambda(lam: object, convention: str, n: int) -> Fraction:
    """Convert a regularization strength from another convention to certify's.

    Parameters
    ----------
    lam : str, int, Fraction or float
        The strength in the source convention (strings are exact decimals).
    convention : {"certify", "mean", "mse"}
        ``"certify"``: ``1/2 sum (f-y)^2 + lam/2 sum ||theta||^2`` (no change).
        ``"mean"``: ``1/(2n) sum (f-y)^2 + lam/2 sum ||theta||^2`` (scnn); multiplying the
        objective by ``n`` gives certify's with ``n * lam``.
        ``"mse"``: ``1/n sum (f-y)^2 + lam/2 sum ||theta||^2`` (PyTorch ``MSELoss`` with
        ``weight_decay=lam`` on all weights); multiplying by ``n/2`` gives ``n * lam / 2``.
    n : int
        Number of samples.

    Returns
    -------
    Fraction
        certify's ``lam``.
    """
    value = check_lambda(lam)
    if convention not in CONVENTIONS:
        raise InputError(f"The 'convention' argument must be one of {sorted(CONVENTIONS)}. "
                         f"Got {convention!r} instead.")
    factor = CONVENTIONS[convention][1]
    return value if factor == 0 else value * factor * n


@dataclass(frozen=True)
class Problem:
    """Data ``(X, y)`` and regularization strength ``lam`` of the training problem NC.

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs, without any bias column.
    y : array of shape (n,)
        Targets.
    lam : str, int, Fraction or float
        Regularization strength in certify's scaling (see module docstring); must be > 0.
        Strings are exact decimals or fractions, floats their exact binary value.
    bias : bool, default=False
        Append a ones column to ``X`` for a first-layer bias (regularized like W1).
    """

    X: np.ndarray
    y: np.ndarray
    lam: Fraction
    bias: bool = False
    _exact: dict = field(default_factory=dict, repr=False, compare=False)

    def __init__(self, X: object, y: object, lam: object, bias: bool = False) -> None:
        Xc, yc = check_data(X, y)
        object.__setattr__(self, "X", Xc)
        object.__setattr__(self, "y", yc)
        object.__setattr__(self, "lam", check_lambda(lam))
        object.__setattr__(self, "bias", bool(bias))
        object.__setattr__(self, "_exact", {})

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        """Number of input features (without the bias column)."""
        return self.X.shape[1]

    @property
    def features(self) -> np.ndarray:
        """``X`` with the ones column appended when ``bias`` is set (float64, (n, d[+1]))."""
        return with_bias_column(self.X, self.bias)

    def digest(self) -> str:
        """SHA-256 of ``(X, y)`` in the canonical encoding of :mod:`certify.exact.digest`."""
        if "digest" not in self._exact:
            self._exact["digest"] = data_digest(self.X.tolist(), self.y.tolist())
        return self._exact["digest"]

    def exact(self) -> tuple[DyadicMatrix, DyadicMatrix]:
        """Exact ``(features, y)`` as dyadic matrices (cached)."""
        if "Xy" not in self._exact:
            self._exact["Xy"] = (DyadicMatrix.from_rows(self.features.tolist()),
                                 DyadicMatrix.from_column(self.y.tolist()))
        return self._exact["Xy"]
