"""Benchmark: gap safe screening along a regularization path (issue 9, item 2).

Run from the repository root::

    .venv/bin/python benchmarks/bench_screening.py            # n=500, d=10, P=200, 20 and 40 points
    .venv/bin/python benchmarks/bench_screening.py --quick    # n=200, d=5, P=60, 10 points

Synthetic data (seeded Gaussian X plus a ones column, y = sin(x_1) + x_2 x_3 + noise), scope =
P seeded Gaussian gates, geometric grid from lam_max down to 1e-2 lam_max (certify's scaling).
For each grid size, ``--repeat`` interleaved repetitions of:

* warm: :func:`certify.solve.path.solve_path` without screening (warm starts);
* screened: the same with ``screening=True`` (sequential gap safe rule, proofs/screening.md);
* cold: independent solves at every grid point (no warm start), once per repetition.

Printed: the fraction of blocks screened per grid point and overall, medians with spread
(min..max) of the three times, and the ratios warm/screened and cold/screened of the same run.
BLAS threads are set to 1 before NumPy is imported.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.patterns.sources import gate_patterns  # noqa: E402
from certify.solve.path import solve_path  # noqa: E402
from certify.solve.working_set import SolverOptions, solve  # noqa: E402


def _data(n: int, d: int, P: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.3 * rng.standard_normal(n)
    F = np.hstack([X, np.ones((n, 1))])
    return F, y, gate_patterns(F, P, seed)


def _spread(values: list[float]) -> str:
    return f"{np.median(values):.2f} s [{min(values):.2f}..{max(values):.2f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--P", type=int, default=200)
    parser.add_argument("--points", type=int, nargs="*", default=[20, 40])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.d, args.P, args.points, args.repeat = 200, 5, 60, [10], 2
    F, y, D = _data(args.n, args.d, args.P, args.seed)
    options = SolverOptions()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, BLAS threads 1")
    print(f"data: synthetic n={args.n}, d={args.d} (+ bias), P={D.shape[1]} gate patterns, "
          f"{2 * D.shape[1]} blocks, grid lam_max..1e-2 lam_max, gap_tol {options.gap_tol:g}")
    for K in args.points:
        warm_t, scr_t, cold_t = [], [], []
        screened = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            plain = solve_path(F, y, D, count=K, ratio=1e-2, options=options)
            warm_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            path = solve_path(F, y, D, count=K, ratio=1e-2, options=options, screening=True)
            scr_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for lam in plain.lams:
                solve(F, y, float(lam), D, options=options)
            cold_t.append(time.perf_counter() - t0)
            screened = path.screened
            tol = 2 * options.gap_tol * plain.objectives + 1e-12
            same = np.abs(path.objectives - plain.objectives) <= tol
            if not (same.all() and path.converged and plain.converged):
                print("MISMATCH between screened and plain paths", file=sys.stderr)
                return 1
        ws, cs = np.array(warm_t) / np.array(scr_t), np.array(cold_t) / np.array(scr_t)
        print(f"\n{K} grid points, {args.repeat} repetitions")
        print("  fraction of blocks screened per point: " + " ".join(f"{f:.2f}" for f in screened))
        print(f"  overall fraction screened: {float(np.mean(screened)):.3f}")
        print(f"  warm (no screening) {_spread(warm_t)}, screened {_spread(scr_t)}, cold {_spread(cold_t)}")
        print(f"  warm/screened {np.median(ws):.2f}x [{ws.min():.2f}..{ws.max():.2f}], cold/screened "
              f"{np.median(cs):.2f}x [{cs.min():.2f}..{cs.max():.2f}]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
