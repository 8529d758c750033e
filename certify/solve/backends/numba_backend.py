"""Numba CPU backends of the pattern operators (serial and parallel).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np

from certify.solve.backends.base import Operator, OperatorBackend, _check_pattern_set
from certify.solve.backends.numpy_backend import _NumpyOperator


@functools.cache
def _numba_kernels(parallel: bool) -> dict[str, Any]:
    """Compile (or load from the on-disk cache) the Numba kernels, once per process; imports
    Numba. (Built anew per operator, each new dispatcher reloaded its cache on first call:
    about 12 ms per solve, measured in the refinement benchmark.)"""
    import numba

    # `loop` is a closure variable: Numba folds it in as a constant and hashes it into the cache
    # key, so the serial and the parallel variants are cached side by side.
    loop = numba.prange if parallel else range
    jit = numba.njit(cache=True, fastmath=False, parallel=parallel)

    # Row chunk c is [lo, hi); the bounds are unsigned so that Numba can drop its negative-index
    # wraparound check and vectorise the inner loops (signed bounds measured 1.2x-2x slower).
    @jit
    def forward(XT, W, DT, nchunks):  # pragma: no cover - compiled
        T = np.dot(W, DT)                        # (d, n) = (D W^T)^T, BLAS
        d, n = XT.shape
        out = np.zeros(n)
        chunk = (n + nchunks - 1) // nchunks
        for c in loop(nchunks):
            lo = np.uint64(c * chunk)
            hi = np.uint64(min(n, c * chunk + chunk))
            for j in range(d):
                for i in range(lo, hi):
                    out[i] += XT[j, i] * T[j, i]
        return out

    @jit
    def adjoint(XT, D, r, nchunks):  # pragma: no cover - compiled
        d, n = XT.shape
        Y = np.empty((d, n))
        chunk = (n + nchunks - 1) // nchunks
        for c in loop(nchunks):
            lo = np.uint64(c * chunk)
            hi = np.uint64(min(n, c * chunk + chunk))
            for j in range(d):
                for i in range(lo, hi):
                    Y[j, i] = XT[j, i] * r[i]
        return np.dot(Y, D)                      # X^T diag(r) D, BLAS

    @jit
    def min_slacks(X, W, S, nchunks):  # pragma: no cover - compiled
        XW = np.dot(X, W)                        # (n, P), BLAS
        n, P = XW.shape
        chunk = (n + nchunks - 1) // nchunks
        part = np.full((nchunks, P), np.inf)
        for c in loop(nchunks):
            lo = np.uint64(c * chunk)
            hi = np.uint64(min(n, c * chunk + chunk))
            for i in range(lo, hi):
                for p in range(P):
                    v = S[i, p] * XW[i, p]
                    if v < part[c, p] or v != v:   # NaN-propagating min, like ndarray.min
                        part[c, p] = v
        out = part[0].copy()
        for c in range(1, nchunks):
            for p in range(P):
                v = part[c, p]
                if v < out[p] or v != v:
                    out[p] = v
        return out

    return {"forward": forward, "adjoint": adjoint, "min_slacks": min_slacks,
            "nchunks": numba.get_num_threads() if parallel else 1}


class _NumbaOperator(_NumpyOperator):
    backend = "numba"

    def __init__(self, X: np.ndarray, D: np.ndarray, parallel: bool) -> None:
        super().__init__(X, D)
        kernels = _numba_kernels(parallel)
        self._fwd, self._adj, self._slk = kernels["forward"], kernels["adjoint"], kernels["min_slacks"]
        self.nchunks = min(int(kernels["nchunks"]), self.n)
        if parallel:
            self.backend = "numba-parallel"

    def _forward(self, W: np.ndarray) -> np.ndarray:
        return self._fwd(self.XT, W, self.DT, self.nchunks)

    def _adjoint(self, r: np.ndarray) -> np.ndarray:
        return self._adj(self.XT, self.D, r, self.nchunks)

    def _min_slacks(self, W: np.ndarray) -> np.ndarray:
        return self._slk(self.X, W, self.S, self.nchunks)


class NumbaBackend(OperatorBackend):
    """Numba on the CPU: BLAS for the products, fused compiled loops around them.

    Measured (BENCHMARKS.md, issue 8): hand-fused loops over (row, feature, pattern) without
    BLAS are 1.3x-3.2x slower than the NumPy backend for forward + adjoint, so these kernels
    call ``np.dot`` for the products and fuse only the elementwise work (scaling, the
    column-wise dot, the signed min over rows), which saves NumPy's temporaries and call
    overhead: 0.66x-0.98x NumPy's time for forward + adjoint, 0.36x-0.75x for ``min_slacks``.
    Kernels are compiled with ``cache=True, fastmath=False`` on first use (about 2 s per
    variant, then about 0.3 s to load from ``__pycache__``).
    """

    name = "numba"
    required_modules = ("numba",)
    parallel: ClassVar[bool] = False

    def prepare(self, X: np.ndarray, D: np.ndarray) -> Operator:
        return _NumbaOperator(*_check_pattern_set(X, D), parallel=self.parallel)


class NumbaParallelBackend(NumbaBackend):
    """:class:`NumbaBackend` with ``parallel=True`` (``prange`` over row chunks).

    Only the elementwise loops run in parallel (the BLAS products use the BLAS threads), so the
    gain is small at best. On the 2-core shared benchmark machine it was never faster than
    :class:`NumbaBackend` and, with Numba's OpenMP layer and its default spin-waiting, up to
    20 ms per call when the other core was busy; never chosen by ``"auto"``.
    """

    name = "numba-parallel"
    parallel = True
