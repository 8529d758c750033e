"""Benchmark: refinement to a stationary network, fast solver versus a cvxpy + Clarabel loop.

Run from the repository root::

    .venv/bin/python benchmarks/bench_refine.py            # n=80, d=5 (+ bias), 30 gates, lam=0.5
    .venv/bin/python benchmarks/bench_refine.py --quick    # n=30, d=3 (+ bias), 10 gates

Both runs execute :func:`certify.solve.refine.refine` from the same start patterns (seeded
Gaussian gates) with the same stopping rule (no new adjacent cell); only the solver differs:
:class:`certify.solve.refine.FastSolver` (working-set solver, warm-started from round to round)
or :func:`certify.solve.refine.cvxpy_solver` (one cold cvxpy + Clarabel solve per round). The
two refinements may take different paths (optima over degenerate pattern sets are not unique),
so the script prints both: rounds, patterns visited, NC before and after, and the time. Each
final network is then checked by ``certify.verify.verify`` (exact own-pattern gap), and the
exit status is 1 when a final relative gap exceeds 1e-6.

BLAS threads are set to 1 before NumPy is imported (both solvers run on one core).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.network import Network  # noqa: E402
from certify.patterns.sources import gate_patterns  # noqa: E402
from certify.problem import Problem  # noqa: E402
from certify.solve.refine import FastSolver, cvxpy_solver, refine  # noqa: E402
from certify.verify import verify  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=30, d=3, 10 gates")
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--d", type=int, default=5)
    parser.add_argument("--gates", type=int, default=30)
    parser.add_argument("--lam", default="1/2", help="certify's lam (exact rational string)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true", help="skip the cvxpy loop")
    parser.add_argument("--baseline-limit", type=float, default=None,
                        help="stop the cvxpy loop after its first round that ends past this many "
                             "seconds; the ratio is then reported as a lower bound")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.d, args.gates = 30, 3, 10
    rng = np.random.default_rng(args.seed)
    features = rng.standard_normal((args.n, args.d))
    y = rng.standard_normal(args.n)
    problem = Problem(features, y, args.lam, bias=True)
    X, lam = problem.features, float(problem.lam)
    D = gate_patterns(X, args.gates, args.seed + 1)
    print(f"# bench_refine: n={args.n} d={args.d} (+ bias column) gates={args.gates} lam={args.lam} "
          f"seed={args.seed}; nproc={os.cpu_count()}, OPENBLAS_NUM_THREADS=1")
    runs = [("fast (working set, warm-started)", FastSolver())]
    if not args.no_baseline:
        runs.append(("cvxpy + Clarabel loop", cvxpy_solver))
    times = {}
    lower_bound: dict[str, bool] = {}
    failed = False
    print("| solver | seconds | rounds | patterns | NC start | NC end | own-pattern rel. gap (exact) |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, solver in runs:
        t0 = time.perf_counter()
        limit = args.baseline_limit if solver is cvxpy_solver else None
        try:
            res = refine(X, y, lam, D, solver, max_rounds=60, progress=_stopper(t0, limit))
        except _Stopped as stop:
            seconds = time.perf_counter() - t0
            times[name] = seconds
            lower_bound[name] = True
            print(f"| {name} | > {seconds:.1f} (stopped after round {stop.round}, "
                  f"{stop.patterns} patterns) | – | – | – | {stop.nc:.10g} (not finished) | – |", flush=True)
            continue
        seconds = time.perf_counter() - t0
        times[name] = seconds
        W1, w2 = res.network.W1, res.network.w2
        gap = verify(problem, Network(W1[:-1], w2, W1[-1])).relative_gap
        failed |= not (gap <= 1e-6 and res.stationary)
        print(f"| {name} | {seconds:.1f} | {res.rounds} | {res.patterns.shape[1]} | "
              f"{res.objectives[0]:.10g} | {res.objectives[-1]:.10g} | {float(gap):.2e} |", flush=True)
    if len(times) == 2:
        fast, slow = times[runs[0][0]], times[runs[1][0]]
        bound = ">= " if lower_bound.get(runs[1][0]) else ""
        print(f"\nratio cvxpy loop / fast: {bound}{slow / fast:.2f}x (target >= 50)")
    return 1 if failed else 0


class _Stopped(Exception):
    def __init__(self, rnd: int, nc: float, patterns: int) -> None:
        super().__init__(f"stopped after round {rnd}")
        self.round, self.nc, self.patterns = rnd, nc, patterns


def _stopper(t0: float, limit: float | None):
    """A refine() progress callback that raises _Stopped once ``limit`` seconds have passed."""
    def progress(rnd: int, nc: float, patterns: int) -> None:
        if limit is not None and time.perf_counter() - t0 > limit:
            raise _Stopped(rnd, nc, patterns)
    return progress


if __name__ == "__main__":
    sys.exit(main())
