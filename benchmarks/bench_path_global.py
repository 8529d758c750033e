"""Benchmark: a certified eps-path over ALL activation patterns (``certify path --global``).

Run from the repository root::

    .venv/bin/python benchmarks/bench_path_global.py            # n=20, d=2 + bias (382 cells), eps 1e-3
    .venv/bin/python benchmarks/bench_path_global.py --quick    # n=12, d=2 + bias (134 cells), eps 1e-2

Data: seeded Gaussian X (n x d) with a first-layer bias (ones column), y = sin(x_1) + noise;
certify's scaling; lam in [lam-min, lam-max]; relative eps; solver gap tolerance 1e-10. Each
repetition times, in the same process:

* the enumeration of every cell of the data's arrangement (:func:`certify.global_path.global_scope`);
* the certified path over those cells (:func:`certify.certified_path.certify_path` with the global
  scope: warm-started solves, exact dual evidence per grid point, adaptive refinement);
* the exact check of the certificate (:func:`certify.check.path.check_data_certificate`: the cell
  list verified once per claim, then every grid point's 2P one-cone bounds).

Printed: cells, grid points, median (min..max) seconds of each step over ``--repeat`` runs, and the
ratio check / path with its spread. BLAS threads are set to 1 before NumPy is imported.
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

from certify.certificates.certificate import to_json  # noqa: E402
from certify.certified_path import certify_path  # noqa: E402
from certify.check.path import check_data_certificate  # noqa: E402
from certify.global_path import global_scope  # noqa: E402
from certify.solve.working_set import SolverOptions  # noqa: E402


def _spread(values: list[float]) -> str:
    return f"{np.median(values):.2f} s ({min(values):.2f}..{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=12, eps 1e-2, 2 repetitions")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--eps", default=None, help="relative eps (default 1e-3, quick 1e-2)")
    parser.add_argument("--lam-min", default="1/20")
    parser.add_argument("--lam-max", default="5")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 3, quick 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n = args.n or (12 if args.quick else 20)
    eps = args.eps or ("1e-2" if args.quick else "1e-3")
    repeat = args.repeat or (2 if args.quick else 3)
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((n, args.d))
    y = np.sin(X[:, 0]) + 0.3 * rng.standard_normal(n)
    F = np.hstack([X, np.ones((n, 1))])
    options = SolverOptions(gap_tol=1e-10)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, BLAS threads 1")
    print(f"data: synthetic n={n}, d={args.d} + bias; lam in [{args.lam_min}, {args.lam_max}], relative eps "
          f"{eps}; {repeat} repetitions")
    enum_t, path_t, solve_t, exact_t, check_t = [], [], [], [], []
    for r in range(repeat):
        t0 = time.perf_counter()
        cells = global_scope(F)
        t1 = time.perf_counter()
        res = certify_path(X, y, cells.D, args.lam_min, args.lam_max, eps, relative=True, bias=True,
                           options=options, scope=cells.scope)
        t2 = time.perf_counter()
        report = check_data_certificate(res.document, X.tolist(), y.tolist())
        t3 = time.perf_counter()
        if not report.accepted:
            print("certificate REJECTED:", [v.reason for v in report.verdicts])
            return 1
        enum_t.append(t1 - t0)
        path_t.append(t2 - t1)
        solve_t.append(res.seconds["solve"])
        exact_t.append(res.seconds["exact"])
        check_t.append(t3 - t2)
        print(f"  run {r + 1}: {cells.cells} cells ({cells.scheme}), {res.points} grid points ({res.solves} "
              f"solves), enumeration {t1 - t0:.3f} s, path {t2 - t1:.2f} s, check {t3 - t2:.2f} s",
              flush=True)
    size = len(to_json(res.document))
    ratio = np.array(check_t) / np.array(path_t)
    print(f"cells {cells.cells} (completeness by {cells.scheme}, {cells.hyperplanes} hyperplanes, rank "
          f"{cells.rank}), grid points {res.points}, certificate {size / 1e6:.1f} MB, threshold "
          f"{float(res.threshold):.6g}")
    print(f"enumeration {_spread(enum_t)}; path {_spread(path_t)} (solves {_spread(solve_t)}, exact evidence "
          f"{_spread(exact_t)}); check {_spread(check_t)}")
    print(f"check / path: {np.median(ratio):.2f}x ({ratio.min():.2f}..{ratio.max():.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
