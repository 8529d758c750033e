"""Benchmark: exact and fast Algorithm 1 (certify.pruning) against the per-neuron cvxpy baseline (issue 5).

Run from the repository root::

    .venv/bin/python benchmarks/bench_prune.py            # n,d,m = 20,3,40 and 30,4,60, 3 repeats
    .venv/bin/python benchmarks/bench_prune.py --quick    # 12,2,24, 2 repeats (CI smoke)
    .venv/bin/python benchmarks/bench_prune.py --large    # also exact (one run) and fast pruning at
                                                          # n,d,m = 100,10,300 and 200,10,400
                                                          # (no cvxpy baseline there: too slow)

The baseline is the straightforward approach of the paper's experiment code: at every step, one
cvxpy least-squares solve per remaining neuron (``min ||F_{S-j} x - F_j||^2``, Clarabel) to find a
neuron whose fit column the others reproduce (relative residual <= 1e-8; the smallest one is taken),
which is removed, its contribution moved onto the others by the solution x. It runs in float64 and
certifies nothing. The exact kernel does the whole of Algorithm 1 in rational arithmetic (one exact
square solve per step, the objective of both directions computed exactly). Both start from the same
seeded Gaussian network with m > n neurons and end with rank(F) <= n neurons (checked). The fast mode
(``certify.pruning.fast.prune_fast``) runs the steps in floating point (maintained QR updates) and
computes the final network by one exact solve, exactly verified; it is timed beside both, and whether
it was accepted or fell back to the exact kernel is printed (the check requires acceptance, a width
equal to the exact rank and an exact objective not above the original).

BLAS threads: ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are set to 1 before
NumPy is imported, so both sides run on one core. Times are wall-clock (``time.perf_counter``);
median, min and max over the repeats, and the ratios baseline / exact, baseline / fast and exact /
fast of the medians with their spread (min numerator / max denominator to max / min).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.exact.dyadic import DyadicMatrix  # noqa: E402
from certify.exact.rational import int_to_str  # noqa: E402
from certify.pruning.exact import prune_exact  # noqa: E402
from certify.pruning.fast import prune_fast  # noqa: E402

LAM = Fraction(1, 10)
TOL = 1e-8


def make_instance(n: int, d: int, m: int, seed: int):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    return X, y, rng.standard_normal((d, m)) / np.sqrt(d), rng.standard_normal(m) / np.sqrt(m)


def baseline_prune(X: np.ndarray, W1: np.ndarray, w2: np.ndarray) -> tuple[int, int]:
    """Per-neuron cvxpy least squares at every step; returns (final width, number of solves)."""
    import cvxpy as cp

    F = np.maximum(X @ W1, 0.0) * w2
    coef = np.ones(F.shape[1])
    support = [j for j in range(F.shape[1]) if np.any(F[:, j])]
    solves = 0
    while len(support) > 1:
        best = None
        for j in support:
            others = [i for i in support if i != j]
            A, b = F[:, others], F[:, j]
            x = cp.Variable(len(others))
            problem = cp.Problem(cp.Minimize(cp.sum_squares(A @ x - b)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem.solve(solver=cp.CLARABEL)
            solves += 1
            if x.value is None:
                continue
            rel = np.linalg.norm(A @ x.value - b) / max(np.linalg.norm(b), 1e-300)
            if best is None or rel < best[0]:
                best = (rel, j, others, x.value)
        if best is None or best[0] > TOL:
            break
        _, j, others, x = best
        coef[others] += coef[j] * x
        coef[j] = 0.0
        support = others
    return len(support), solves


def exact_prune(X, y, W1, w2):
    return prune_exact(DyadicMatrix.from_rows(X.tolist()), DyadicMatrix.from_column(y.tolist()),
                       DyadicMatrix.from_rows(W1.tolist()), DyadicMatrix.from_column(w2.tolist()), LAM)


def fast_prune(X, y, W1, w2):
    return prune_fast(DyadicMatrix.from_rows(X.tolist()), DyadicMatrix.from_column(y.tolist()),
                      DyadicMatrix.from_rows(W1.tolist()), DyadicMatrix.from_column(w2.tolist()), LAM)


def ratio(num: list[float], den: list[float]) -> str:
    r = statistics.median(num) / statistics.median(den)
    return f"{r:.1f}x (spread {min(num) / max(den):.1f}x to {max(num) / min(den):.1f}x)"


def fast_ok(out) -> bool:
    res = out.exact
    return out.fallback is None and len(res.kept) == res.rank and res.objective <= res.objective_original


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def stats(times: list[float]) -> str:
    return (f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
            f"{len(times)} runs)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default="20,3,40;30,4,60", help="'n,d,m;...' compared with the baseline")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="12,2,24 with 2 repeats")
    parser.add_argument("--large", action="store_true",
                        help="also time fast pruning (repeats) and exact pruning (one run) at n,d,m = "
                             "100,10,300 and 200,10,400")
    parser.add_argument("--large-configs", default="100,10,300;200,10,400", metavar="'n,d,m;...'",
                        help="sizes of --large")
    parser.add_argument("--no-baseline", action="store_true", help="skip the compared configs")
    parser.add_argument("--no-large-exact", action="store_true", help="--large: time the fast mode only")
    args = parser.parse_args(argv)
    if args.quick:
        args.configs, args.repeats = "12,2,24", 2
    import flint

    print(f"# bench_prune: configs {args.configs}, repeats {args.repeats}, seed {args.seed}, lam {LAM}")
    print(f"# python {platform.python_version()}, machine {platform.machine()}, nproc {os.cpu_count()}, "
          f"numpy {np.__version__}, python-flint {flint.__version__} "
          f"(flint.ctx.threads = {flint.ctx.threads})")
    print("# env: " + ", ".join(f"{v}={os.environ.get(v)}" for v in
                                ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")))
    ok = True
    for config in [] if args.no_baseline else args.configs.split(";"):
        n, d, m = (int(v) for v in config.split(","))
        X, y, W1, w2 = make_instance(n, d, m, args.seed)
        t_exact, res = timed(lambda X=X, y=y, W1=W1, w2=w2: exact_prune(X, y, W1, w2), args.repeats)
        t_fast, fast = timed(lambda X=X, y=y, W1=W1, w2=w2: fast_prune(X, y, W1, w2), args.repeats)
        t_base, (width, solves) = timed(lambda X=X, W1=W1, w2=w2: baseline_prune(X, W1, w2), args.repeats)
        same = width == len(res.kept) == res.rank == len(fast.exact.kept)
        ok &= same and res.objective <= res.objective_original and fast_ok(fast)
        print(f"n={n} d={d} m={m}: exact Algorithm 1 {stats(t_exact)}; {len(res.steps)} steps, "
              f"width {len(res.kept)}, "
              f"NC {float(res.objective_original):.6g} -> {float(res.objective):.6g} (exact)")
        print(f"n={n} d={d} m={m}: fast Algorithm 1 {stats(t_fast)}; {len(fast.float_steps)} float steps, "
              f"{fast.method}, width {len(fast.exact.kept)}, NC -> {float(fast.exact.objective):.6g} (exact)")
        print(f"n={n} d={d} m={m}: cvxpy per-neuron baseline {stats(t_base)}; {solves} solves, width {width}")
        print(f"n={n} d={d} m={m}: ratio baseline / exact = {ratio(t_base, t_exact)}"
              f"{'' if same else '  WIDTHS DIFFER'}")
        print(f"n={n} d={d} m={m}: ratio baseline / fast = {ratio(t_base, t_fast)}")
        print(f"n={n} d={d} m={m}: ratio exact / fast = {ratio(t_exact, t_fast)}")
    if args.large:
        for n, d, m in ((int(v) for v in c.split(",")) for c in args.large_configs.split(";")):
            X, y, W1, w2 = make_instance(n, d, m, args.seed)
            t_fast, fast = timed(lambda X=X, y=y, W1=W1, w2=w2: fast_prune(X, y, W1, w2), args.repeats)
            digits = max(len(int_to_str(v.numerator)) + len(int_to_str(v.denominator)) for v in fast.exact.w2)
            ex = fast.exact
            print(f"n={n} d={d} m={m}: fast Algorithm 1 {stats(t_fast)}; {len(fast.float_steps)} float steps "
                  f"{fast.method}, width {len(ex.kept)}, NC {float(ex.objective_original):.6g} "
                  f"-> {float(ex.objective):.6g} (exact), largest output weight {digits} digits")
            ok &= fast_ok(fast)
            if args.no_large_exact:
                continue
            t, res = timed(lambda X=X, y=y, W1=W1, w2=w2: exact_prune(X, y, W1, w2), 1)
            digits = max(len(int_to_str(v.numerator)) + len(int_to_str(v.denominator)) for v in res.w2)
            print(f"n={n} d={d} m={m}: exact Algorithm 1 {stats(t)}; {len(res.steps)} steps, "
                  f"width {len(res.kept)}, NC -> {float(res.objective):.6g} (exact), "
                  f"largest output weight {digits} digits")
            solves = sum(range(len(res.kept) + 1, m + 1)) + len(res.kept)  # as baseline_prune counts them
            print(f"n={n} d={d} m={m}: ratio exact / fast = {ratio(t, t_fast)}; cvxpy baseline skipped "
                  f"({solves} solves, each slower than the ~10 ms measured at the compared sizes)")
            ok &= len(res.kept) == res.rank == len(ex.kept) and res.objective <= res.objective_original
    print("# check: all widths equal the exact rank, fast mode accepted, exact objectives not increased: "
          + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
