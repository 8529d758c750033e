"""Operator and backend base classes, and input checks shared by every backend.

See :mod:`certify.solve.backends` for the maps and the formulations.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from certify.errors import InputError

# --------------------------------------------------------------------------------------------
# Operators


class Operator(ABC):
    """The pattern operators of one ``(X, D)``, prepared by a backend.

    Attributes
    ----------
    n, d, P : int
        Number of rows of ``X``, of features, and of patterns (columns of ``D``).
    backend : str
        Name of the backend that built it.
    """

    backend: ClassVar[str] = ""

    def __init__(self, n: int, d: int, P: int) -> None:
        self.n, self.d, self.P = n, d, P

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend!r} n={self.n} d={self.d} P={self.P}>"

    def forward(self, W: np.ndarray) -> np.ndarray:
        """Prediction ``sum_p D[:, p] * (X @ W[:, p])``.

        Parameters
        ----------
        W : array of shape (d, P)
            One weight vector per pattern (column ``p`` for pattern ``p``).

        Returns
        -------
        ndarray of shape (n,), float64
        """
        return self._forward(self._check_W(W))

    def adjoint(self, r: np.ndarray) -> np.ndarray:
        """Correlations ``X.T @ (D * r[:, None])``: column ``p`` is ``X^T D_p r``.

        Parameters
        ----------
        r : array of shape (n,)
            A residual (or any vector over the rows of ``X``).

        Returns
        -------
        ndarray of shape (d, P), float64
        """
        r = np.ascontiguousarray(r, dtype=np.float64)
        if r.shape != (self.n,):
            raise InputError(f"r has shape {r.shape} but the operator was prepared for n={self.n} rows: "
                             f"r must be ({self.n},).")
        return self._adjoint(r)

    def min_slacks(self, W: np.ndarray) -> np.ndarray:
        """Most negative cone slack of each block: ``min_k (2 D[k, p] - 1) * x_k^T W[:, p]``.

        Block ``p`` lies in its pattern cone iff the value is ``>= 0``; its violation is
        ``max(0, -min_slacks(W)[p])``. NaN propagates.

        Parameters
        ----------
        W : array of shape (d, P)

        Returns
        -------
        ndarray of shape (P,), float64
        """
        return self._min_slacks(self._check_W(W))

    def _check_W(self, W: np.ndarray) -> np.ndarray:
        W = np.ascontiguousarray(W, dtype=np.float64)
        if W.shape != (self.d, self.P):
            raise InputError(f"W has shape {W.shape} but the operator was prepared for d={self.d} features "
                             f"and P={self.P} patterns: W must be (d, P) = ({self.d}, {self.P}).")
        return W

    @abstractmethod
    def _forward(self, W: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _adjoint(self, r: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _min_slacks(self, W: np.ndarray) -> np.ndarray: ...


def _check_pattern_set(X: Any, D: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` (n, d) and ``D`` (n, P) as C-contiguous float64, or raise InputError."""
    try:
        X = np.ascontiguousarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"X must be a real (n, d) array; conversion to float64 failed: {exc}") from exc
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X has shape {X.shape} but must be a non-empty 2-D array (n, d).")
    if not np.isfinite(X).all():
        raise InputError("X contains NaN or infinite entries; remove or impute them before solving.")
    D = np.asarray(D)
    if D.ndim != 2 or D.shape[0] != X.shape[0] or D.shape[1] == 0:
        raise InputError(f"D has shape {D.shape} but X has {X.shape[0]} rows: D must be (n, P) = "
                         f"({X.shape[0]}, P) with P >= 1, one 0/1 column per activation pattern.")
    if D.dtype != np.bool_ and not np.all((D == 0) | (D == 1)):
        raise InputError("D must hold only 0 and 1 (D[k, p] = 1 iff row k is active in pattern p); "
                         "found other values.")
    return X, np.ascontiguousarray(D, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Backends


class OperatorBackend(ABC):
    """A way of computing the pattern operators; subclasses declare what they need.

    Attributes
    ----------
    name : str
        The name accepted by :func:`select_backend`.
    required_modules : tuple of str
        Top-level modules that must be importable. They are looked up with
        :func:`importlib.util.find_spec`, which does not import a top-level module (a dotted
        name would import its parent, so only top-level names belong here).
    """

    name: ClassVar[str] = ""
    required_modules: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def missing_modules(cls) -> list[str]:
        """Return the required modules that cannot be found (without importing any)."""
        missing = []
        for module in cls.required_modules:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(module)
        return missing

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Return why this backend cannot run here, or None when it can."""
        missing = cls.missing_modules()
        if missing:
            return f"module(s) {', '.join(missing)} not installed"
        return None

    @classmethod
    def is_available(cls) -> bool:
        """Return true iff every required module is installed (and, for CUDA, a GPU is usable)."""
        return cls.unavailable_reason() is None

    @abstractmethod
    def prepare(self, X: np.ndarray, D: np.ndarray) -> Operator:
        """Validate ``(X, D)``, store what the operators need, and return them.

        Parameters
        ----------
        X : array of shape (n, d)
            Features (finite reals; converted to float64).
        D : array of shape (n, P)
            0/1 (or boolean) activation patterns, one column per pattern.

        Returns
        -------
        Operator
            With ``forward``, ``adjoint``, ``min_slacks`` and attributes ``n``, ``d``, ``P``.

        Raises
        ------
        InputError
            If the shapes disagree, ``X`` has non-finite entries or ``D`` is not 0/1.
        """

