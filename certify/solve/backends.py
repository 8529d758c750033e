"""Interchangeable backends for the pattern operators of the C-ReLU solver (theory.md §2).

A pattern set is ``X`` (n, d) float64 features and ``D`` (n, P) 0/1 patterns, column ``p``
holding the diagonal of ``D_p``. A block matrix ``W`` (d, P) holds one weight vector per
pattern. The solver's hot loop needs three maps:

* ``forward(W)  = sum_p D_p X W[:, p]``                                   shape (n,)
* ``adjoint(r)  = [X^T D_p r]_p = X^T (D * r[:, None])``                  shape (d, P)
* ``min_slacks(W)[p] = min_k (2 D_kp - 1) x_k^T W[:, p]``                 shape (P,)

``adjoint`` is the adjoint of ``forward``: ``<forward(W), r> = sum(W * adjoint(r))``. The cone
violation of block ``p`` (pattern cone ``K_p``, theory.md §2) is ``max(0, -min_slacks(W)[p])``.

Each backend is a class that declares its ``name`` and the modules it needs; ``is_available``
checks them with :func:`importlib.util.find_spec`, without importing them, so that
``import certify`` never loads Numba or CUDA (docs: ``/work/shared/style.md``, "Backends are
interchangeable classes"; modelled on cvxpy's ``Solver``). The backends share this one module,
as issue 8 asked; style.md suggests one file per backend, a mechanical split if it grows.

Formulations (chosen by measurement, BENCHMARKS.md "Operator backends (issue 8)"), with
``XT = X^T`` (d, n) and ``DT = D^T`` (P, n) stored once by :meth:`OperatorBackend.prepare`:

* forward:    ``sum_j XT[j, i] * (W @ DT)[j, i]``  (a GEMM with a (d, n) result, then a
  column-wise dot, instead of ``((X @ W) * D).sum(1)`` and its (n, P) temporary);
* adjoint:    ``(XT * r) @ D``  (scales the (d, n) matrix, not the (n, P) one);
* min_slacks: ``min over rows of (2 D - 1) * (X @ W)``, the sign matrix stored once.

The textbook formulas are 1.3x-2.9x slower for forward + adjoint on the benchmark grid.

Results are float64 NumPy arrays on the host for every backend. Non-finite inputs propagate
(a NaN in ``W`` gives NaN in the results, ``min_slacks`` included).
"""

from __future__ import annotations

import builtins
import functools
import importlib.util
import types
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from certify.errors import InputError, SolverError

__all__ = [
    "Operator",
    "OperatorBackend",
    "NumpyBackend",
    "NumbaBackend",
    "NumbaParallelBackend",
    "CudaBackend",
    "BACKENDS",
    "AUTO_ORDER",
    "select_backend",
]


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


@functools.cache
def _numba_kernels(parallel: bool) -> dict[str, Any]:
    """Compile (or load from the on-disk cache) the Numba kernels; imports Numba."""
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


cuda: Any = None
"""Placeholder. The CUDA kernels read ``cuda`` as a *global*: Numba's simulator swaps the
``numba.cuda`` module for its fake one in a kernel's globals, not in its closure cells.
:func:`_cuda_kernels` gives each kernel a private globals dict binding the real module, so
this module itself never imports ``numba.cuda``."""


@functools.cache
def _cuda_kernels(tpb: int) -> dict[str, Any]:
    """Compile the CUDA kernels for ``tpb`` threads per block; imports numba.cuda."""
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

            if cuda.is_available():
                return None
        except Exception as exc:  # a broken driver or toolkit must not break import-time checks
            return f"numba.cuda failed to initialise ({type(exc).__name__}: {exc})"
        return "numba.cuda.is_available() is False (no usable CUDA GPU or driver)"

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


# --------------------------------------------------------------------------------------------
# Selection

BACKENDS: dict[str, type[OperatorBackend]] = {
    b.name: b for b in (NumpyBackend, NumbaBackend, NumbaParallelBackend, CudaBackend)
}
"""Every backend by name."""

AUTO_ORDER: tuple[str, ...] = ("cuda", "numba", "numpy")
"""Preference of ``select_backend("auto")``: the first available one (a real GPU for CUDA)."""


def select_backend(preference: str = "auto") -> type[OperatorBackend]:
    """Return the backend class to use.

    Parameters
    ----------
    preference : str, default="auto"
        ``"auto"``: CUDA when a real GPU is usable (not the simulator), else Numba when it is
        installed, else NumPy (:data:`AUTO_ORDER`). Or one of the names of :data:`BACKENDS`:
        ``"numpy"``, ``"numba"``, ``"numba-parallel"``, ``"cuda"``.

    Returns
    -------
    type[OperatorBackend]
        Instantiate it and call ``prepare(X, D)``.

    Raises
    ------
    InputError
        If ``preference`` is not ``"auto"`` or a backend name.
    SolverError
        If the named backend is not available here (the message says why).

    Examples
    --------
    >>> op = select_backend("numpy")().prepare([[1.0, 0.0], [0.0, 1.0]], [[1, 0], [1, 1]])
    >>> op.forward([[1.0, 2.0], [3.0, 4.0]]).tolist()
    [1.0, 7.0]
    """
    if preference == "auto":
        for name in AUTO_ORDER:
            backend = BACKENDS[name]
            if backend.is_available() and not (backend is CudaBackend and CudaBackend.is_simulated()):
                return backend
        return NumpyBackend  # pragma: no cover - numpy is always available
    backend = BACKENDS.get(preference) if isinstance(preference, str) else None
    if backend is None:
        names = ", ".join(repr(n) for n in ("auto", *BACKENDS))
        raise InputError(f"The 'preference' argument of select_backend must be one of {names}. "
                         f"Got {preference!r} instead.")
    reason = backend.unavailable_reason()
    if reason is not None:
        raise SolverError(f"The {preference!r} operator backend is not available: {reason}. "
                          f"Use select_backend('auto') to pick the best available one.")
    return backend
