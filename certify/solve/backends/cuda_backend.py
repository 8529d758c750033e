"""CUDA backend of the pattern operators (numba.cuda; testable under Numba's CUDA simulator).
"""

from __future__ import annotations

import builtins
import functools
import types
from typing import Any, ClassVar

import numpy as np

from certify.errors import InputError
from certify.solve.backends.base import Operator, OperatorBackend, _check_pattern_set

cuda: Any = None
"""Placeholder. The CUDA kernels read ``cuda`` as a *global*: Numba's simulator swaps the
``numba.cuda`` module for its fake one in a kernel's globals, not in its closure cells.
:func:`_cuda_kernels` gives each kernel a private globals dict binding the real module, so
this module itself never imports ``numba.cuda``."""


@functools.cache
def _cuda_kernels(tpb: int) -> dict[str, Any]:
    """Return the CUDA kernels for ``tpb`` threads per block (built once per process; Numba
    compiles each on its first launch); imports numba.cuda."""
    import numba.cuda
    from numba import float64

    inf = float("inf")

    def forward(XT, W, DT, out):  # pragma: no cover - device code
        # One thread per row i: out_i = sum_j X_ij sum_p W_jp D_ip.
        i = cuda.grid(1)
        d = XT.shape[0]
        n = XT.shape[1]
        P = DT.shape[0]
        if i < n:
            acc = 0.0
            for j in range(d):
                t = 0.0
                for p in range(P):
                    t += W[j, p] * DT[p, i]
                acc += XT[j, i] * t
            out[i] = acc

    def adjoint(XT, DT, r, G):  # pragma: no cover - device code
        # One block per entry (j, p): G_jp = sum_i X_ij r_i D_ip, tree reduction in shared memory.
        P = DT.shape[0]
        n = XT.shape[1]
        j = cuda.blockIdx.x // P
        p = cuda.blockIdx.x - j * P
        tid = cuda.threadIdx.x
        sh = cuda.shared.array(tpb, float64)
        acc = 0.0
        i = tid
        while i < n:
            acc += XT[j, i] * r[i] * DT[p, i]
            i += tpb
        sh[tid] = acc
        cuda.syncthreads()
        s = tpb // 2
        while s > 0:
            if tid < s:
                sh[tid] += sh[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            G[j, p] = sh[0]

    def min_slacks(XT, W, DT, out):  # pragma: no cover - device code
        # One block per pattern p: min_i (2 D_ip - 1) x_i^T w_p, NaN-propagating min reduction.
        p = cuda.blockIdx.x
        d = XT.shape[0]
        n = XT.shape[1]
        tid = cuda.threadIdx.x
        sh = cuda.shared.array(tpb, float64)
        m = inf
        i = tid
        while i < n:
            t = 0.0
            for j in range(d):
                t += XT[j, i] * W[j, p]
            v = (2.0 * DT[p, i] - 1.0) * t
            if v < m or v != v:
                m = v
            i += tpb
        sh[tid] = m
        cuda.syncthreads()
        s = tpb // 2
        while s > 0:
            if tid < s:
                v = sh[tid + s]
                if v < sh[tid] or v != v:
                    sh[tid] = v
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            out[p] = sh[0]

    namespace = {"cuda": numba.cuda, "__builtins__": builtins}
    return {f.__name__: numba.cuda.jit(types.FunctionType(f.__code__, namespace, f.__name__,
                                                          f.__defaults__, f.__closure__))
            for f in (forward, adjoint, min_slacks)}


@functools.cache
def _probe_failure(tpb: int) -> str | None:
    """Compile and run every kernel once on a 2 x 1 instance; return why that failed, or None.

    ``numba.cuda.is_available()`` only says that a driver and a device answer. The kernels can
    still fail to compile, for example when the installed numba-cuda does not support the
    installed NumPy (seen on a GPU machine: numba-cuda with NumPy 2.5 raises AttributeError
    for ``np.row_stack`` while compiling). Probing once per process turns such a failure into
    "backend unavailable", so ``select_backend("auto")`` falls back to the CPU backends.
    """
    X = np.array([[1.0], [-2.0]])
    D = np.array([[1.0], [0.0]])
    try:
        op = _CudaOperator(X, D, tpb)
        checks = (op._forward(np.array([[3.0]])), op._adjoint(np.array([1.0, 1.0])),
                  op._min_slacks(np.array([[1.0]])))
    except Exception as exc:  # noqa: BLE001 - any failure means the backend cannot be used
        return f"the CUDA kernels failed to compile or run ({type(exc).__name__}: {exc})"
    expected = ([3.0, 0.0], [[1.0]], [1.0])
    if any(not np.array_equal(c.ravel(), np.ravel(e)) for c, e in zip(checks, expected, strict=True)):
        return f"the CUDA kernels gave wrong results on a 2 x 1 probe instance: {checks}"
    return None


class _CudaOperator(Operator):
    backend = "cuda"

    def __init__(self, X: np.ndarray, D: np.ndarray, tpb: int) -> None:
        from numba import cuda

        super().__init__(X.shape[0], X.shape[1], D.shape[1])
        self._cuda = cuda
        self._k = _cuda_kernels(tpb)
        self.tpb = tpb
        # Transposed copies: consecutive threads (rows i) read consecutive addresses.
        self._XT = cuda.to_device(np.ascontiguousarray(X.T))
        self._DT = cuda.to_device(np.ascontiguousarray(D.T))
        self._out_n = cuda.device_array(self.n, dtype=np.float64)
        self._out_G = cuda.device_array((self.d, self.P), dtype=np.float64)
        self._out_P = cuda.device_array(self.P, dtype=np.float64)

    def _forward(self, W: np.ndarray) -> np.ndarray:
        blocks = (self.n + self.tpb - 1) // self.tpb
        self._k["forward"][blocks, self.tpb](self._XT, self._cuda.to_device(W), self._DT, self._out_n)
        return self._out_n.copy_to_host()

    def _adjoint(self, r: np.ndarray) -> np.ndarray:
        self._k["adjoint"][self.d * self.P, self.tpb](self._XT, self._DT, self._cuda.to_device(r),
                                                        self._out_G)
        return self._out_G.copy_to_host()

    def _min_slacks(self, W: np.ndarray) -> np.ndarray:
        self._k["min_slacks"][self.P, self.tpb](self._XT, self._cuda.to_device(W), self._DT, self._out_P)
        return self._out_P.copy_to_host()


class CudaBackend(OperatorBackend):
    """Numba CUDA kernels; ``X`` and ``D`` stay on the GPU between calls.

    ``forward`` runs one thread per row; ``adjoint`` one block per entry ``(j, p)`` and
    ``min_slacks`` one block per pattern, each reducing over the rows in shared memory (a fixed
    order, so results are deterministic). Each call copies ``W`` or ``r`` to the device and the
    result back to the host. With ``NUMBA_ENABLE_CUDASIM=1`` set before Numba is imported the
    kernels run in Numba's CUDA simulator (slow; for tests on tiny instances): the backend is
    then available to explicit requests, but ``select_backend("auto")`` does not pick it.
    """

    name = "cuda"
    required_modules = ("numba",)
    threads_per_block: ClassVar[int] = 128      # a power of two (tree reductions)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        reason = super().unavailable_reason()
        if reason is not None:
            return reason
        try:
            from numba import cuda

            if not cuda.is_available():
                return "numba.cuda.is_available() is False (no usable CUDA GPU or driver)"
        except Exception as exc:  # a broken driver or toolkit must not break import-time checks
            return f"numba.cuda failed to initialise ({type(exc).__name__}: {exc})"
        return _probe_failure(cls.threads_per_block)

    @classmethod
    def is_simulated(cls) -> bool:
        """Return true iff Numba's CUDA simulator is enabled (imports Numba)."""
        if cls.missing_modules():
            return False
        from numba.core import config

        return bool(config.ENABLE_CUDASIM)

    def prepare(self, X: np.ndarray, D: np.ndarray) -> Operator:
        X, D = _check_pattern_set(X, D)
        tpb = self.threads_per_block
        if tpb < 1 or tpb & (tpb - 1):
            raise InputError(f"CudaBackend.threads_per_block must be a power of two. Got {tpb} instead.")
        return _CudaOperator(X, D, tpb)


