"""Benchmark: the pattern operators of the C-ReLU solver, per backend (issue 8).

Run from the repository root::

    .venv/bin/python benchmarks/bench_operators.py             # full grid (about 2 minutes)
    .venv/bin/python benchmarks/bench_operators.py --quick     # 2 sizes (CI smoke)

What is timed, per backend of :mod:`certify.solve.backends` (``numpy``, ``numba``,
``numba-parallel``, and ``cuda`` when a GPU is usable): one ``forward(W)`` followed by one
``adjoint(r)`` (the solver's gradient step), and separately one ``min_slacks(W)`` (the cone
check), on ``n`` in {200, 1000, 2000}, ``d`` in {5, 10, 20}, ``P`` in {20, 100}, seeded Gaussian
``X`` with a ones column and activation patterns ``D = 1[X G >= 0]`` of random gates ``G``.
``prepare`` (and Numba's compilation or cache load) is not timed; its first-call time is printed.

Two design alternatives are timed beside the backends unless ``--no-variants`` is given, so
that the choices in ``backends.py`` can be rechecked: ``numpy-naive``, the textbook NumPy
formulas ``((X @ W) * D).sum(1)``, ``X.T @ (D * r[:, None])`` and ``((2D - 1) * (X @ W)).min(0)``;
and ``numba-fused``, hand-fused Numba loops over (row, feature, pattern) with no BLAS call
(``fastmath=False``); with a usable CuPy GPU, ``cupy``, the ``numpy`` formulas on CuPy
arrays (cuBLAS), to compare with the Numba ``cuda`` backend. ``--sizes "n,d,P;..."`` replaces
the grid (for example the large sizes where a GPU pays off).

Each repeat times a loop of calls long enough to last about ``--min-time`` seconds and
reports the time per call; backends are interleaved within each repeat, so that the noise of a
shared machine hits all of them alike. Reported: median, min and max over the repeats, and
the ratio of medians to ``numpy`` (< 1: faster than NumPy).

BLAS threads: as in ``bench_exact.py``, ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
``MKL_NUM_THREADS`` are set to 1 in ``os.environ`` before NumPy is imported; ``numba-parallel``
uses Numba's own threads (``NUMBA_NUM_THREADS``, printed) for its loops.

Every backend (and variant) is first checked against the definitions to 1e-12 relative
(relative to the sums of absolute values each entry is made of); the exit status is 1 when a
check fails.
"""

from __future__ import annotations

import os

# Must happen before numpy (and anything importing numpy) is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.solve.backends import BACKENDS, CudaBackend  # noqa: E402

GRID_N = (200, 1000, 2000)
GRID_D = (5, 10, 20)
GRID_P = (20, 100)
QUICK = ((200, 5, 20), (2000, 20, 100))


def make_instance(n: int, d: int, P: int, seed: int):
    """Seeded Gaussian ``X`` (last column ones), patterns of random gates, ``W`` and ``r``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[:, -1] = 1.0
    D = (X @ rng.standard_normal((d, P)) >= 0).astype(np.float64)
    return X, D, rng.standard_normal((d, P)), rng.standard_normal(n)


# --- design alternatives (not part of certify) --------------------------------------------------


class NaiveNumpy:
    """The textbook NumPy formulas (temporaries of shape (n, P))."""

    name = "numpy-naive"

    def __init__(self, X, D):
        self.X, self.D, self.S = X, D, 2.0 * D - 1.0

    def forward(self, W):
        return ((self.X @ W) * self.D).sum(axis=1)

    def adjoint(self, r):
        return self.X.T @ (self.D * r[:, None])

    def min_slacks(self, W):
        return (self.S * (self.X @ W)).min(axis=0)


def _fused_kernels():
    import numba

    jit = numba.njit(cache=True, fastmath=False)

    @jit
    def forward(X, W, D):
        n, d = X.shape
        P = W.shape[1]
        out = np.empty(n)
        acc = np.empty(P)
        for i in range(n):
            acc[:] = 0.0
            for j in range(d):
                xij = X[i, j]
                for p in range(P):
                    acc[p] += xij * W[j, p]
            s = 0.0
            for p in range(P):
                s += acc[p] * D[i, p]
            out[i] = s
        return out

    @jit
    def adjoint(X, D, r):
        n, d = X.shape
        P = D.shape[1]
        G = np.zeros((d, P))
        for i in range(n):
            for j in range(d):
                c = r[i] * X[i, j]
                for p in range(P):
                    G[j, p] += c * D[i, p]
        return G

    @jit
    def min_slacks(X, W, S):
        n, d = X.shape
        P = W.shape[1]
        m = np.full(P, np.inf)
        acc = np.empty(P)
        for i in range(n):
            acc[:] = 0.0
            for j in range(d):
                xij = X[i, j]
                for p in range(P):
                    acc[p] += xij * W[j, p]
            for p in range(P):
                v = S[i, p] * acc[p]
                if v < m[p] or v != v:
                    m[p] = v
        return m

    return forward, adjoint, min_slacks


class FusedNumba:
    """Hand-fused Numba loops, no BLAS: one pass over the rows per call."""

    name = "numba-fused"
    _kernels = None

    def __init__(self, X, D):
        if FusedNumba._kernels is None:
            FusedNumba._kernels = _fused_kernels()
        self.X, self.D, self.S = X, D, 2.0 * D - 1.0

    def forward(self, W):
        return self._kernels[0](self.X, np.ascontiguousarray(W), self.D)

    def adjoint(self, r):
        return self._kernels[1](self.X, self.D, r)

    def min_slacks(self, W):
        return self._kernels[2](self.X, np.ascontiguousarray(W), self.S)


# --- measurement --------------------------------------------------------------------------------


class CupyOperators:
    """Variant (GPU only): the ``numpy`` backend's formulas on CuPy arrays (cuBLAS GEMMs),
    X, D and the sign matrix kept on the device; W or r copied in, the result copied out."""

    name = "cupy"

    def __init__(self, X, D):
        import cupy

        self.cp = cupy
        self.XT = cupy.asarray(np.ascontiguousarray(X.T))
        self.X = cupy.asarray(X)
        self.D = cupy.asarray(D, dtype=np.float64)
        self.DT = cupy.ascontiguousarray(self.D.T)
        self.S = 2.0 * self.D - 1.0

    def forward(self, W):
        cp = self.cp
        return cp.asnumpy((self.XT * (cp.asarray(W) @ self.DT)).sum(axis=0))

    def adjoint(self, r):
        cp = self.cp
        return cp.asnumpy((self.XT * cp.asarray(r)) @ self.D)

    def min_slacks(self, W):
        cp = self.cp
        return cp.asnumpy((self.S * (self.X @ cp.asarray(W))).min(axis=0))


def cupy_usable() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any failure: no CuPy variant
        return False


def check(op, X, D, W, r) -> float:
    """Largest error of the three maps relative to their absolute-value sums (0 is exact)."""
    absXW = np.abs(X) @ np.abs(W)
    pairs = [
        (op.forward(W), ((X @ W) * D).sum(1), (absXW * D).sum(1)),
        (op.adjoint(r), X.T @ (D * r[:, None]), np.abs(X).T @ (D * np.abs(r)[:, None])),
        (op.min_slacks(W), ((2 * D - 1) * (X @ W)).min(0), absXW.max(0)),
    ]
    return max(float(np.max(np.abs(got - want) / np.maximum(scale, 1e-300))) for got, want, scale in pairs)


def calibrate(fn: Callable[[], object], min_time: float) -> int:
    """Number of calls that together last about ``min_time`` seconds."""
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - t0 >= min_time / 4 or loops >= 1 << 20:
            t = (time.perf_counter() - t0) / loops
            return max(1, int(min_time / max(t, 1e-9)))
        loops *= 4


def per_call(fn: Callable[[], object], loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - t0) / loops


def blas_info() -> list[str]:
    import numba

    lines = [f"python {platform.python_version()}, machine {platform.machine()}, nproc {os.cpu_count()}"]
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        lines.append(f"numpy {np.__version__}, BLAS {blas.get('name')} {blas.get('version')}")
    except Exception:  # pragma: no cover - depends on the numpy build
        lines.append(f"numpy {np.__version__}")
    lines.append(f"numba {numba.__version__}, numba.get_num_threads() = {numba.get_num_threads()}")
    lines.append("env: " + ", ".join(f"{v}={os.environ.get(v)}" for v in
                                      ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                       "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY")))
    reason = CudaBackend.unavailable_reason()
    lines.append("cuda: " + ("available" if reason is None else f"skipped ({reason})"))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.02, help="seconds per repeat and backend")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help=f"only (n, d, P) in {QUICK} (CI smoke)")
    ap.add_argument("--no-variants", action="store_true",
                    help="skip the variants numpy-naive, numba-fused and (with a GPU) cupy")
    ap.add_argument("--backends", default=None,
                    help="comma-separated backend names (default: every available one); numpy is "
                         "always included, as the baseline")
    ap.add_argument("--variants", default=None,
                    help="comma-separated variants (default: numpy-naive,numba-fused,cupy)")
    ap.add_argument("--sizes", default=None, help='sizes "n,d,P;n,d,P" instead of the grid')
    args = ap.parse_args(argv)

    wanted = set(BACKENDS) if args.backends is None else {"numpy", *args.backends.split(",")}
    if unknown := wanted - set(BACKENDS):
        ap.error(f"unknown backend(s) {sorted(unknown)}; choose from {sorted(BACKENDS)}")
    names = [name for name, cls in BACKENDS.items() if name in wanted and cls.is_available()
             and not (cls is CudaBackend and CudaBackend.is_simulated())]
    makers: dict[str, Callable] = {name: BACKENDS[name]().prepare for name in names}
    if not args.no_variants:
        variants = {v.name: v for v in (NaiveNumpy, FusedNumba, CupyOperators)}
        chosen = list(variants) if args.variants is None else args.variants.split(",")
        if unknown := set(chosen) - set(variants):
            ap.error(f"unknown variant(s) {sorted(unknown)}; choose from {sorted(variants)}")
        for name in chosen:
            if name != CupyOperators.name or cupy_usable():
                makers[name] = variants[name]
    if args.sizes:
        sizes = tuple(tuple(int(v) for v in part.split(",")) for part in args.sizes.split(";"))
        if any(len(size) != 3 for size in sizes):
            ap.error('--sizes wants "n,d,P;n,d,P"')
    else:
        sizes = QUICK if args.quick else tuple(itertools.product(GRID_N, GRID_D, GRID_P))

    print(f"# bench_operators: {len(sizes)} sizes, repeats={args.repeats}, min-time={args.min_time} s, "
          f"seed={args.seed}")
    for line in blas_info():
        print("# " + line)

    # First calls (compilation or cache load), and the correctness check --------------------------
    X, D, W, r = make_instance(50, 4, 6, args.seed)
    ok = True
    for name, make in makers.items():
        t0 = time.perf_counter()
        op = make(X, D)
        op.forward(W), op.adjoint(r), op.min_slacks(W)
        print(f"# first prepare+calls {name}: {time.perf_counter() - t0:.3f} s")
    if "numba-parallel" in makers:
        import numba

        print(f"# numba threading layer (numba-parallel): {numba.threading_layer()}")
    for n, d, P in sizes:
        X, D, W, r = make_instance(n, d, P, args.seed)
        for name, make in makers.items():
            err = check(make(X, D), X, D, W, r)
            if err > 1e-12:
                ok = False
                print(f"# check FAIL: {name} n={n} d={d} P={P}: relative error {err:.2e} > 1e-12")
    print(f"# check: every backend matches the definitions to 1e-12 relative: {'OK' if ok else 'FAIL'}")

    # Timing ------------------------------------------------------------------------------------
    print()
    print(f"| {'n':>5} | {'d':>3} | {'P':>4} | {'backend':<14} | {'fwd+adj median us':>17} | {'min us':>9} "
          f"| {'max us':>9} | {'vs numpy':>8} | {'slacks median us':>16} | {'vs numpy':>8} |")
    print(f"|{'-' * 6}:|{'-' * 4}:|{'-' * 5}:|{'-' * 16}|{'-' * 18}:|{'-' * 10}:|{'-' * 10}:|{'-' * 9}:"
          f"|{'-' * 17}:|{'-' * 9}:|")
    for n, d, P in sizes:
        X, D, W, r = make_instance(n, d, P, args.seed)
        ops = {name: make(X, D) for name, make in makers.items()}
        fa = {name: (lambda op=op, W=W, r=r: (op.forward(W), op.adjoint(r))) for name, op in ops.items()}
        sl = {name: (lambda op=op, W=W: op.min_slacks(W)) for name, op in ops.items()}
        loops = {(k, name): calibrate(fns[name], args.min_time) for k, fns in (("fa", fa), ("sl", sl))
                 for name in ops}
        times: dict[tuple[str, str], list[float]] = {key: [] for key in loops}
        for _ in range(args.repeats):
            for (k, name), count in loops.items():
                times[k, name].append(per_call((fa if k == "fa" else sl)[name], count))
        med = {key: statistics.median(ts) for key, ts in times.items()}
        for name in ops:
            ts = times["fa", name]
            print(f"| {n:>5} | {d:>3} | {P:>4} | {name:<14} | {med['fa', name] * 1e6:>17.1f} "
                  f"| {min(ts) * 1e6:>9.1f} | {max(ts) * 1e6:>9.1f} "
                  f"| {med['fa', name] / med['fa', 'numpy']:>8.2f} | {med['sl', name] * 1e6:>16.1f} "
                  f"| {med['sl', name] / med['sl', 'numpy']:>8.2f} |", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
