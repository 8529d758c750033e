"""Benchmark: global optimality certificates (issue 12): enumeration, certificate, exact check.

Run from the repository root::

    .venv/bin/python benchmarks/bench_global.py            # d in {2,3,4} x n in {50,100,200,500} + targets
    .venv/bin/python benchmarks/bench_global.py --quick    # d in {2,3}, n in {50,100} (smoke)

For each (n, d) (seeded Gaussian data, no bias column; a network from the working-set solver over
20 sampled gates), three parts are timed, each ``--repeats`` times (median, min and max printed):

* **enumerate**: :func:`certify.patterns.arrangement.enumerate_cells` (all cells, completeness
  evidence); cells per second;
* **certificate**: :func:`certify.certificates.global_gap.global_gap_claim` (multipliers of every
  block, exact bounds, scaling) and the JSON text;
* **check**: :func:`certify.check.checker.check_certificate` on that text (exact; witnesses,
  completeness, every bound); cells per second.

Baseline, in the same run and on the same cells: the sub-sampled gap machinery over the same pattern
set (``gap_claim`` with a given scope: one SciPy NNLS per block; ``check_gap``: patterns decoded and
correlated from their strings), for sizes up to ``--baseline-limit`` cells. The ratio baseline / new
is printed per part with its spread (min/max over the repeats of both). Configurations whose cell
count ``2 sum_{k<r} C(n-1, k)`` exceeds ``--max-cells`` are listed with the estimate and skipped.

BLAS threads are set to 1 before NumPy is imported (a BLAS library reads them once).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.certificates import certificate  # noqa: E402
from certify.certificates.gap import gap_claim, given_scope_spec  # noqa: E402
from certify.certificates.global_gap import global_gap_claim  # noqa: E402
from certify.check.checker import check_certificate  # noqa: E402
from certify.check.limits import CheckLimits  # noqa: E402
from certify.convex.mapping import blocks_to_network  # noqa: E402
from certify.exact import patterns as pattern_strings  # noqa: E402
from certify.patterns.arrangement import enumerate_cells, estimate_cells  # noqa: E402
from certify.patterns.sampling import patterns_of_gates  # noqa: E402
from certify.problem import Problem  # noqa: E402
from certify.solve.working_set import solve  # noqa: E402
from certify.verify import exact_context  # noqa: E402

LAM = 0.1
LIMITS = CheckLimits(max_bytes=2**31 - 1, max_memory=2**36)
"""Raised size limits: certificates of more than ~130000 cells exceed the default 64 MiB (the size is
printed; ``certify check --max-bytes N`` checks them)."""


def instance(n: int, d: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal(d), 0) - 0.5 * np.maximum(X @ rng.standard_normal(d), 0)
    y = y + 0.1 * rng.standard_normal(n)
    D = patterns_of_gates(X, rng.standard_normal((d, 20)))
    blocks = solve(X, y, LAM, D).blocks()
    return X, y, blocks_to_network(blocks.weights, blocks.signs)


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} s [{min(times):.2f}, {max(times):.2f}]"


def ratio(base: list[float], new: list[float]) -> str:
    return (f"{statistics.median(base) / statistics.median(new):6.1f}x "
            f"[{min(base) / max(new):.1f}, {max(base) / min(new):.1f}]")


def run(n: int, d: int, repeats: int, baseline_limit: int, seed: int) -> dict:
    X, y, net = instance(n, d, seed)
    problem = Problem(X, y, LAM)
    ctx = exact_context(problem, net)
    enum, t_enum = timed(lambda: enumerate_cells(X), repeats)
    assert enum.complete, enum.message

    def produce():
        claim = global_gap_claim(exact_context(problem, net), X, enum).claim
        return certificate.to_json(certificate.build(problem, net.digest(), net.width, [claim], {}))

    text, t_cert = timed(produce, repeats)
    args = (X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist(), None)
    report, t_check = timed(lambda: check_certificate(text, *args, limits=LIMITS), repeats)
    assert report.accepted, [v.reason for v in report.verdicts]
    row = {"n": n, "d": d, "cells": enum.count, "scheme": enum.scheme, "enum": t_enum, "cert": t_cert,
           "check": t_check, "bytes": len(text), "gap": report.verdicts[0].values["gap"]}
    if enum.count <= baseline_limit:
        plist = [pattern_strings.encode(enum.patterns[:, p].tolist()) for p in range(enum.count)]
        scope, plist = given_scope_spec(ctx, plist)

        def produce_base():
            claim = gap_claim(exact_context(problem, net), X, scope, plist)
            return certificate.to_json(certificate.build(problem, net.digest(), net.width, [claim], {}))

        base_text, b_cert = timed(produce_base, repeats)
        base_report, b_check = timed(lambda: check_certificate(base_text, *args, limits=LIMITS), repeats)
        assert base_report.accepted, [v.reason for v in base_report.verdicts]
        row.update(base_cert=b_cert, base_check=b_check)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="d in {2, 3}, n in {50, 100}, 2 repeats, no targets")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-cells", type=int, default=400_000, help="skip larger arrangements (default 400000)")
    p.add_argument("--baseline-limit", type=int, default=3000,
                   help="run the sub-sampled-gap baseline up to this many cells (default 3000)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.quick:
        grid, repeats, targets = [(n, d) for d in (2, 3) for n in (50, 100)], 2, []
    else:
        grid = [(n, d) for d in (2, 3, 4) for n in (50, 100, 200, 500)]
        repeats, targets = args.repeats, [(200, 3), (2000, 2)]
    import flint
    print(f"numpy {np.__version__}, python-flint {flint.__version__} (threads {flint.ctx.threads}), "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, repeats {repeats}")
    header = (f"{'n':>5} {'d':>2} {'cells':>8} {'scheme':>6} | {'enumerate':>24} {'cells/s':>9} | "
              f"{'certificate':>24} | {'check':>24} {'cells/s':>8} | {'total (median)':>14} | MB")
    print(header)
    rows = []
    for n, d in dict.fromkeys(grid + targets):
        est = estimate_cells(np.random.default_rng(args.seed).standard_normal((n, d)))
        if est > args.max_cells:
            print(f"{n:>5} {d:>2} {est:>8} skipped: over --max-cells {args.max_cells} (estimate "
                  f"2 sum_(k<{d}) C({n - 1}, k))")
            continue
        row = run(n, d, 1 if est > 100_000 else repeats, args.baseline_limit, args.seed)
        rows.append(row)
        med = {k: statistics.median(row[k]) for k in ("enum", "cert", "check")}
        total = sum(med.values())
        tag = "  <- target < 60 s" if (n, d) in targets else ""
        print(f"{n:>5} {d:>2} {row['cells']:>8} {row['scheme']:>6} | {spread(row['enum'])} "
              f"{row['cells'] / med['enum']:9.0f} | {spread(row['cert'])} | {spread(row['check'])} "
              f"{row['cells'] / med['check']:8.0f} | {total:12.2f} s | {row['bytes'] / 1e6:.1f}{tag}")
    with_base = [r for r in rows if "base_cert" in r]
    if with_base:
        print("\nbaseline (sub-sampled gap machinery over the same cells) / new, median [min, max]:")
        for r in with_base:
            print(f"{r['n']:>5} {r['d']:>2} {r['cells']:>8} cells | certificate "
                  f"{ratio(r['base_cert'], r['cert'])} | check {ratio(r['base_check'], r['check'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
