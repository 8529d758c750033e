"""Benchmark: certified eps-paths, grid points as eps shrinks, and warm against cold solves.

Run from the repository root::

    .venv/bin/python benchmarks/bench_path.py            # diabetes (standardized), lam in [1, 100]
    .venv/bin/python benchmarks/bench_path.py --quick    # synthetic n=60, d=3, fewer eps

Data: scikit-learn's diabetes set, X and y standardized, first-layer bias (ones column), scope =
20 seeded Gaussian gates; certify's scaling (1/2 sum loss, lam/2 penalty). For each relative eps:

* the adaptive grid of :func:`certify.certified_path.certify_path` (points, solves, seconds);
* the smallest geometric (log-uniform) grid that reaches the same eps, found by
  :func:`certify.certified_path.uniform_points_needed` (float search, then exact confirmation:
  K passes exactly, K - 1 fails exactly);
* the ratio uniform / adaptive, and the fitted exponent of points ~ eps^-alpha (the theory's
  anchor is alpha = 1/2: Giesen, Jaggi and Laue; Ndiaye et al., ICML 2019).

Then, on the final adaptive grid of the smallest eps, the path's solves are timed with warm starts
(each from its larger-lam neighbour) and cold (each from scratch), ``--repeat`` times each,
interleaved; the median ratio cold / warm and its spread (min..max) are printed.

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
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.certified_path import certify_path, uniform_points_needed  # noqa: E402
from certify.patterns.sources import gate_patterns  # noqa: E402
from certify.solve.working_set import SolverOptions, solve  # noqa: E402


def _data(quick: bool, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    if quick:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((60, 3))
        return X, np.sin(X[:, 0]) + 0.3 * rng.standard_normal(60), "synthetic n=60, d=3"
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    return X, y, "diabetes (standardized) n=442, d=10"


def _time_path(F, y, D, lams, options, warm: bool) -> float:
    start = time.perf_counter()
    prev = None
    for lam in lams:
        start_from = prev.warm_start() if warm and prev is not None else None
        prev = solve(F, y, float(lam), D, options=options, warm_start=start_from)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="synthetic data, eps 1e-2 and 1e-3")
    parser.add_argument("--eps", type=str, nargs="*", default=None, help="relative eps values")
    parser.add_argument("--lam-min", default="1")
    parser.add_argument("--lam-max", default="100")
    parser.add_argument("--gates", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of the warm/cold timing")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    eps_list = args.eps or (["1e-2", "1e-3"] if args.quick else ["1e-2", "1e-3", "1e-4"])
    X, y, name = _data(args.quick, args.seed)
    F = np.hstack([X, np.ones((X.shape[0], 1))])
    D = gate_patterns(F, args.gates, args.seed)
    options = SolverOptions(gap_tol=1e-10)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, BLAS threads 1")
    print(f"data: {name}, bias, scope {D.shape[1]} gate patterns, lam in [{args.lam_min}, {args.lam_max}]")
    print(f"{'eps (rel)':>10} {'adaptive':>9} {'uniform':>8} {'ratio':>6} {'solves':>7} {'seconds':>8}")
    rows = []
    last = None
    for eps in eps_list:
        res = certify_path(X, y, D, args.lam_min, args.lam_max, eps, relative=True, bias=True,
                           options=options)
        K = uniform_points_needed(X, y, D, args.lam_min, args.lam_max, eps, relative=True, bias=True,
                                  options=options, max_points=4000, start=res.points)
        rows.append((float(Fraction(eps)), res.points, K))
        last = res
        print(f"{eps:>10} {res.points:>9} {K:>8} {K / res.points:>6.2f} {res.solves:>7} "
              f"{res.seconds['total']:>8.1f}", flush=True)
    if len(rows) >= 2:
        e = np.log([r[0] for r in rows])
        for label, col in (("adaptive", 1), ("uniform", 2)):
            alpha = -np.polyfit(e, np.log([r[col] for r in rows]), 1)[0]
            print(f"fitted exponent, points ~ eps^-alpha: {label} alpha = {alpha:.2f}")
    lams = [entry.lam for entry in last.entries]
    warm_t, cold_t = [], []
    for _ in range(args.repeat):
        warm_t.append(_time_path(F, y, D, lams, options, True))
        cold_t.append(_time_path(F, y, D, lams, options, False))
    ratios = np.array(cold_t) / np.array(warm_t)
    print(f"path of {len(lams)} solves (eps {eps_list[-1]} grid), {args.repeat} repetitions: warm "
          f"{np.median(warm_t):.2f} s [{min(warm_t):.2f}..{max(warm_t):.2f}], cold {np.median(cold_t):.2f} s "
          f"[{min(cold_t):.2f}..{max(cold_t):.2f}], cold/warm {np.median(ratios):.2f}x "
          f"[{ratios.min():.2f}..{ratios.max():.2f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
