"""Benchmark: exact NC objective + gradient versus the same computation in float64 (issue 7).

Run from the repository root::

    .venv/bin/python benchmarks/bench_exact.py            # n=10000, d=50, m=200
    .venv/bin/python benchmarks/bench_exact.py --quick    # n=2000, d=20, m=50 (CI smoke)

The exact path is what certify does to check a network: convert ``X, y, W1, w2`` to dyadic
matrices (``DyadicMatrix.from_rows``, the ``tolist()`` included), then
:func:`certify.exact.nc.evaluate` and :func:`certify.exact.nc.gradient`. The float path is
the same objective and gradient in NumPy float64 (forward pass, loss + penalty, gradient with
respect to ``W1`` and ``w2``), written out below.

BLAS threads: this script sets ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
``MKL_NUM_THREADS`` to 1 in ``os.environ`` *before* NumPy is imported (a BLAS library reads
them once, when it is loaded), so that both paths run on one core and the ratio compares
like with like. FLINT's own thread count (``flint.ctx.threads``) is printed; it defaults to 1.
If ``threadpoolctl`` is installed its report of the loaded BLAS is printed too.

The float objective is checked against ``float(exact objective)`` to a relative 1e-9, and the
float gradient against the exact one, so the benchmark is also a correctness smoke test; the
exit status is 1 when a check fails.
"""

from __future__ import annotations

import os

# Must happen before numpy (and anything importing numpy) is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import flint  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.exact.dyadic import DyadicMatrix  # noqa: E402
from certify.exact.nc import evaluate, gradient  # noqa: E402

LAM = Fraction(1, 10)


def make_instance(n: int, d: int, m: int, seed: int):
    """Seeded Gaussian data and weights (scaled so that f(X) and y are of order 1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    W1 = rng.standard_normal((d, m)) / np.sqrt(d)
    w2 = rng.standard_normal(m) / np.sqrt(m)
    return X, y, W1, w2


def float_objective_gradient(X, y, W1, w2, lam: float):
    """NC objective and gradient (one-sided at ties, like the exact one) in float64."""
    pre = X @ W1                                   # (n, m)
    relu = np.maximum(pre, 0.0)
    r = relu @ w2 - y                              # f(X) - y
    loss = 0.5 * float(r @ r)
    penalty = 0.5 * lam * (float(np.sum(W1 * W1)) + float(w2 @ w2))
    g_w2 = relu.T @ r + lam * w2
    g_W1 = X.T @ ((pre > 0) * np.outer(r, w2)) + lam * W1
    return loss + penalty, g_W1, g_w2


def exact_objective_gradient(X, y, W1, w2, lam: Fraction, parts: dict | None = None):
    """The exact path, conversions included; ``parts`` collects per-stage times."""
    t0 = time.perf_counter()
    Xd = DyadicMatrix.from_rows(X.tolist())
    yd = DyadicMatrix.from_column(y.tolist())
    W1d = DyadicMatrix.from_rows(W1.tolist())
    w2d = DyadicMatrix.from_column(w2.tolist())
    t1 = time.perf_counter()
    ev = evaluate(Xd, yd, W1d, w2d, lam)
    t2 = time.perf_counter()
    g = gradient(Xd, W1d, w2d, lam, ev)
    t3 = time.perf_counter()
    if parts is not None:
        parts.setdefault("convert", []).append(t1 - t0)
        parts.setdefault("evaluate", []).append(t2 - t1)
        parts.setdefault("gradient", []).append(t3 - t2)
    return ev, g


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def blas_info() -> list[str]:
    lines = []
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        lines.append(f"numpy {np.__version__}, BLAS {blas.get('name')} {blas.get('version')}")
    except Exception:  # pragma: no cover - depends on the numpy build
        lines.append(f"numpy {np.__version__}")
    lines.append(f"python-flint {flint.__version__}, flint.ctx.threads = {flint.ctx.threads}")
    lines.append("env: " + ", ".join(f"{v}={os.environ.get(v)}" for v in
                                      ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")))
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        lines.append("threadpoolctl: not installed (skipped)")
    else:
        for info in threadpool_info():
            lines.append(f"threadpoolctl: {info.get('internal_api')} {info.get('version')} "
                         f"num_threads={info.get('num_threads')} ({info.get('filepath')})")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--m", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=None,
                    help="repeats for both paths (default: 5 float, 3 exact)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="n=2000, d=20, m=50 (CI smoke)")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.d, args.m = 2000, 20, 50
    rep_float = args.repeats or 5
    rep_exact = args.repeats or 3

    X, y, W1, w2 = make_instance(args.n, args.d, args.m, args.seed)
    lam_f = float(LAM)

    print(f"# bench_exact: n={args.n} d={args.d} m={args.m} lam={LAM} seed={args.seed}")
    for line in blas_info():
        print("# " + line)

    # Correctness check (untimed) ------------------------------------------------------
    obj_f, gW1_f, gw2_f = float_objective_gradient(X, y, W1, w2, lam_f)
    ev, g = exact_objective_gradient(X, y, W1, w2, LAM)
    obj_x = float(ev.objective)
    rel_obj = abs(obj_f - obj_x) / abs(obj_x)
    gW1_x = np.array([[float(Fraction(v, g.den_W1)) for v in row] for row in g.dW1])
    gw2_x = np.array([float(Fraction(v, g.den_w2)) for v in g.dw2])
    scale = max(np.abs(gW1_x).max(), np.abs(gw2_x).max())
    rel_grad = max(np.abs(gW1_f - gW1_x).max(), np.abs(gw2_f - gw2_x).max()) / scale
    ok_obj, ok_grad = rel_obj <= 1e-9, rel_grad <= 1e-9
    print(f"# check objective: float {obj_f!r} vs exact {obj_x!r}, rel. diff {rel_obj:.2e} "
          f"(<= 1e-9: {'OK' if ok_obj else 'FAIL'})")
    print(f"# check gradient: max |float - exact| / max |grad| = {rel_grad:.2e} "
          f"(<= 1e-9: {'OK' if ok_grad else 'FAIL'})")

    # Timing ---------------------------------------------------------------------------
    t_float = timed(lambda: float_objective_gradient(X, y, W1, w2, lam_f), rep_float)
    parts: dict = {}
    t_exact = timed(lambda: exact_objective_gradient(X, y, W1, w2, LAM, parts), rep_exact)

    med_f, med_x = statistics.median(t_float), statistics.median(t_exact)
    rows = [("float64 (NumPy)", t_float), ("exact (total)", t_exact)]
    rows += [(f"  exact: {k}", v) for k, v in parts.items()]
    print()
    print(f"| {'path':<22} | {'repeats':>7} | {'median s':>10} | {'min s':>10} | {'max s':>10} |")
    print(f"|{'-' * 24}|{'-' * 8}:|{'-' * 11}:|{'-' * 11}:|{'-' * 11}:|")
    for name, ts in rows:
        print(f"| {name:<22} | {len(ts):>7} | {statistics.median(ts):>10.4f} | {min(ts):>10.4f} "
              f"| {max(ts):>10.4f} |")
    print()
    print(f"ratio exact/float (medians): {med_x / med_f:.1f}x  "
          f"(spread: min/max {min(t_exact) / max(t_float):.1f}x .. max/min "
          f"{max(t_exact) / min(t_float):.1f}x)")
    return 0 if ok_obj and ok_grad else 1


if __name__ == "__main__":
    sys.exit(main())
