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
(``numpy_backend``, ``numba_backend``, ``cuda_backend``) on a shared ``base``.

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
from certify.solve.backends.numba_backend import NumbaBackend, NumbaParallelBackend
from certify.solve.backends.numpy_backend import NumpyBackend

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

