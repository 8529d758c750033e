"""Benchmark: exact vertex enumeration of a network polytope ``{beta >= 0 : F beta = F 1}``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_optimal_set.py            # d in {3, 4}, up to 14 neurons
    .venv/bin/python benchmarks/bench_optimal_set.py --quick    # two small instances (CI smoke)

Instances: planted networks (certify/testing/planted.py) with exactly dependent neurons: data in
the positive orthant, neurons ``e_i``, ``extra`` sums ``e_i + c e_j`` and a duplicate, so
``rank F = d`` and the polytope is non-trivial. Timed, each ``--repeats`` times (median, min, max):

* **cdd**: pycddlib in GMP-rational mode (``enumerate_vertices``, the exact row reduction included);
* **lex**: the lexicographic basis search that produces the completeness evidence (``lex_bases``);
* **check**: ``certify check`` of the ``network_polytope_vertices`` claim (complete);
* **baseline**: brute force over every support of at most ``rank F`` columns, with exact Fraction
  elimination (``vertices_by_supports``), the straightforward method.

Ratios baseline/cdd and check/cdd are printed with their spread (min and max over the repeats'
pairings). Vertex sets of the three enumerations are compared; exit status 1 on a mismatch.
BLAS threads are pinned to 1 before NumPy is imported.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.certificates.certificate import to_json  # noqa: E402
from certify.check.checker import check_certificate  # noqa: E402
from certify.exact.context import ExactContext  # noqa: E402
from certify.network import Network  # noqa: E402
from certify.optimal_set.certificate import polytope_certificate  # noqa: E402
from certify.optimal_set.enumeration import enumerate_vertices  # noqa: E402
from certify.optimal_set.network_polytope import activation_matrix, lex_bases, network_polytope  # noqa: E402
from certify.problem import Problem  # noqa: E402
from certify.testing.planted import planted_network, vertices_by_supports  # noqa: E402


def _time(fn, repeats: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return times, out


def _fmt(ts: list[float]) -> str:
    return f"{statistics.median(ts) * 1e3:9.1f} ms [{min(ts) * 1e3:.1f}, {max(ts) * 1e3:.1f}]"


def run(configs: list[tuple[int, int, int]], repeats: int) -> int:
    status = 0
    rows = []
    for n, d, extra in configs:
        pn = planted_network(seed=n + d + extra, n=n, d=d, extra=extra)
        ctx = ExactContext(pn.X.tolist(), pn.y.tolist(), pn.W1.tolist(), pn.w2.tolist(), None, pn.lam)
        F = activation_matrix(ctx)
        ones = [sum(r) for r in F]
        t_cdd, enum = _time(lambda F=F, ones=ones: enumerate_vertices(F, ones), repeats)
        t_lex, search = _time(lambda F=F: lex_bases(F), repeats)
        cols = [[Fraction(row[j]) for row in F] for j in range(len(F[0]))]
        t_base, brute = _time(lambda cols=cols, ones=ones: vertices_by_supports(cols, ones, limit=64),
                              repeats)
        problem, net = Problem(pn.X, pn.y, pn.lam), Network(pn.W1, pn.w2)
        text = to_json(polytope_certificate(problem, net, ctx, network_polytope(ctx)))
        args = (pn.X.tolist(), pn.y.tolist(), pn.W1.tolist(), pn.w2.tolist())
        t_chk, rep = _time(lambda text=text, args=args: check_certificate(text, *args), repeats)
        ok = enum.vertices == search.vertices == brute and rep.accepted and search.complete
        status |= not ok
        ratio = [b / c for b, c in zip(t_base, t_cdd, strict=True)]
        cratio = [k / c for k, c in zip(t_chk, t_cdd, strict=True)]
        m = len(F[0])
        print(f"n={n} d={d} m={m}: {len(enum.vertices)} vertices, {len(search.bases)} lex bases "
              f"({'ok' if ok else 'MISMATCH'})")
        print(f"  cdd      {_fmt(t_cdd)}\n  lex      {_fmt(t_lex)}\n  check    {_fmt(t_chk)}\n"
              f"  baseline {_fmt(t_base)}")
        print(f"  baseline/cdd = {statistics.median(ratio):.1f}x [{min(ratio):.1f}, {max(ratio):.1f}]; "
              f"check/cdd = {statistics.median(cratio):.2f}x [{min(cratio):.2f}, {max(cratio):.2f}]")
        rows.append({"n": n, "d": d, "m": m, "vertices": len(enum.vertices), "bases": len(search.bases),
                     "cdd_ms": statistics.median(t_cdd) * 1e3, "lex_ms": statistics.median(t_lex) * 1e3,
                     "check_ms": statistics.median(t_chk) * 1e3,
                     "baseline_ms": statistics.median(t_base) * 1e3})
    print(json.dumps(rows))
    return status


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="two small instances")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    configs = [(6, 2, 2), (8, 3, 3)] if args.quick else [(8, 3, 3), (10, 3, 6), (10, 4, 6), (12, 4, 9)]
    return run(configs, 2 if args.quick else args.repeats)


if __name__ == "__main__":
    sys.exit(main())
