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
interchangeable classes"; modelled on cvxpy's ``Solver``). One module per backend
(``numpy_backend``, ``numba_backend``, ``cuda_backend``, ``cupy_backend``) on a shared ``base``.

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

from certify.errors import InputError, SolverError
from certify.solve.backends.base import Operator, OperatorBackend
from certify.solve.backends.cuda_backend import CudaBackend
from certify.solve.backends.cupy_backend import CupyBackend
from certify.solve.backends.numba_backend import NumbaBackend, NumbaParallelBackend
from certify.solve.backends.numpy_backend import NumpyBackend

__all__ = [
    "Operator",
    "OperatorBackend",
    "NumpyBackend",
    "NumbaBackend",
    "NumbaParallelBackend",
    "CudaBackend",
    "CupyBackend",
    "GPU_MIN_WORK",
    "BACKENDS",
    "AUTO_ORDER",
    "select_backend",
]


# --------------------------------------------------------------------------------------------
# Selection

BACKENDS: dict[str, type[OperatorBackend]] = {
    b.name: b for b in (NumpyBackend, NumbaBackend, NumbaParallelBackend, CudaBackend, CupyBackend)
}
"""Every backend by name."""

AUTO_ORDER: tuple[str, ...] = ("cupy", "cuda", "numba", "numpy")
"""Preference of ``select_backend("auto")``: the first available one (a real GPU for the GPU
backends, and a large enough instance: :data:`GPU_MIN_WORK`)."""

GPU_SIDE = frozenset({"cupy", "cuda"})

GPU_MIN_WORK: float = 1e7
"""Below this many multiply-adds per product (``n * d * P``) ``select_backend("auto", work)``
skips the GPU backends. Measured on an H100 and an H200 (BENCHMARKS.md "GPU backends"): a
forward + adjoint pair costs at least 0.4-0.5 ms on the GPU (launches and copies), so at
``n * d * P = 10^6`` the GPU backends were 2.5-4.7x slower than NumPy, at ``4 * 10^6`` still
1.25x slower (numba-cuda), and at ``2 * 10^7`` 2.8x (numba-cuda) to 7x (CuPy) faster."""


def select_backend(preference: str = "auto", work: float | None = None) -> type[OperatorBackend]:
    """Return the backend class to use.

    Parameters
    ----------
    preference : str, default="auto"
        ``"auto"``: the first available of :data:`AUTO_ORDER`: CuPy, then the Numba CUDA
        kernels, when a real GPU is usable (not the simulator) and ``work`` is not below
        :data:`GPU_MIN_WORK`; else Numba when it is installed, else NumPy. Or one of the names
        of :data:`BACKENDS`: ``"numpy"``, ``"numba"``, ``"numba-parallel"``, ``"cuda"``,
        ``"cupy"`` (used as asked, whatever ``work``).
    work : float, optional
        ``n * d * P`` of the instance, for ``"auto"``. None: the GPU backends are not ruled
        out by size.

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
        small = work is not None and work < GPU_MIN_WORK
        for name in AUTO_ORDER:
            backend = BACKENDS[name]
            if name in GPU_SIDE and (small or (backend is CudaBackend and CudaBackend.is_simulated())):
                continue
            if backend.is_available():
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

