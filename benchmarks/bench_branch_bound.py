"""Measurement: would a branch-and-bound over coarse cones need fewer pieces than the full cell list?

Issue 12, item 2 (second part). Float prototype, **not a certificate** (nothing here is checked
exactly): it measures how many cones a split tree needs before every leaf's bound of the dual
constraint is at most ``lam``, against the number of cells of the arrangement (the pieces of the
``global_gap`` certificate).

A node is a cone ``R = {u : s_i x_i^T u >= 0, i in S}`` (the hyperplanes split so far). On ``R``
a row with fixed sign contributes ``rho_k x_k^T u`` (active) or 0; an undetermined row has
``x_k^T u`` in ``[a_k, b_k]`` on ``R`` intersected with the unit ball (``b_k = ||Pi_R(x_k)||``,
``a_k = -||Pi_R(-x_k)||``, exact projections), and

* for ``rho_k > 0``: ``rho_k (t)_+ <= rho_k b_k (t - a_k) / (b_k - a_k)`` (the secant),
* for ``rho_k < 0``: ``rho_k (t)_+ <= rho_k t`` or ``<= 0`` (the one of the two with the smaller
  value at the range's midpoint); negative terms are never dropped,

so ``max_{u in R, ||u|| <= 1} <rho, (X u)_+> <= ||Pi_R(g)|| + c`` (the one-cone bound of the linear
part ``g`` plus the secants' intercepts ``c``). A leaf is a node whose bound is ``<= lam (1 + tol)``;
otherwise the undetermined row with the largest intercept is split (children that the ranges show
empty are skipped). Both signs of the output weight are searched separately (``rho`` and ``-rho``).

Run: ``.venv/bin/python benchmarks/bench_branch_bound.py [--n 60 --d 2]``. Prints, per sign, the
nodes visited, the leaves, and the ratio to the cell count, at the optimum of the full program
(``rho`` = its residual scaled to dual feasibility) and at a sub-optimal network.
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

from certify.convex.correlation import cone_multipliers  # noqa: E402
from certify.convex.mapping import blocks_to_network  # noqa: E402
from certify.patterns.arrangement import enumerate_cells  # noqa: E402
from certify.patterns.sampling import patterns_of_gates  # noqa: E402
from certify.solve.working_set import solve  # noqa: E402


def project_norm(g: np.ndarray, A: np.ndarray) -> float:
    """``||Pi_R(g)||`` for ``R = {u : A u >= 0}`` (max of ``<g, u>`` over R and the unit ball)."""
    if A.shape[0] == 0:
        return float(np.linalg.norm(g))
    return float(np.linalg.norm(g + A.T @ cone_multipliers(g, A)))


def node_bound(X: np.ndarray, rho: np.ndarray, fixed: dict[int, int]) -> tuple[float, int | None, dict]:
    """(bound, row to split or None, rows whose sign the ranges fix) for the cone of ``fixed``."""
    A = np.array([s * X[k] for k, s in fixed.items()]).reshape(len(fixed), X.shape[1])
    g = np.zeros(X.shape[1])
    c = 0.0
    split, worst = None, -1.0
    implied = {}
    for k in range(X.shape[0]):
        if k in fixed:
            if fixed[k] > 0:
                g += rho[k] * X[k]
            continue
        if rho[k] == 0:
            continue
        b = project_norm(X[k], A)
        a = -project_norm(-X[k], A)
        if a >= 0:  # active on R
            g += rho[k] * X[k]
            implied[k] = 1
            continue
        if b <= 0:  # inactive on R
            implied[k] = -1
            continue
        if rho[k] > 0:
            slope = b / (b - a)
            g += rho[k] * slope * X[k]
            extra = rho[k] * slope * (-a)
        else:  # rho_k t (valid: t_+ >= t) or 0, the smaller at the midpoint
            if (a + b) / 2 > 0:
                g += rho[k] * X[k]
                extra = -rho[k] * b  # how much the choice may lose: a proxy for the split priority
            else:
                extra = -rho[k] * (-a)
            extra = 0.0 if extra < 0 else extra
            if rho[k] < 0:
                extra *= 0.5
        if rho[k] > 0:
            c += extra
        if extra > worst:
            split, worst = k, extra
    return project_norm(g, A) + c, split, implied


def branch_and_bound(X: np.ndarray, rho: np.ndarray, lam: float, tol: float = 1e-6,
                     max_nodes: int = 200_000) -> tuple[int, int, bool]:
    """(nodes visited, leaves, finished) of the split tree for ``max <rho, (Xu)_+> <= lam``."""
    stack: list[dict[int, int]] = [{}]
    nodes = leaves = 0
    while stack:
        fixed = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return nodes, leaves, False
        bound, split, implied = node_bound(X, rho, fixed)
        if bound <= lam * (1 + tol):
            leaves += 1
            continue
        if split is None:  # a single cell above lam: rho is not dual feasible (cannot happen here)
            raise AssertionError(f"a cell's bound {bound} exceeds lam = {lam}")
        base = {**fixed, **implied}
        for s in (1, -1):
            stack.append({**base, split: s})
    return nodes, leaves, True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--d", type=int, default=2)
    p.add_argument("--lam", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-nodes", type=int, default=50_000)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((args.n, args.d))
    y = np.maximum(X @ rng.standard_normal(args.d), 0) - 0.5 * np.maximum(X @ rng.standard_normal(args.d), 0)
    y = y + 0.1 * rng.standard_normal(args.n)
    enum = enumerate_cells(X)
    cells = enum.count
    sampled = patterns_of_gates(X, rng.standard_normal((args.d, 5)))
    nets = {"optimum of the full program": solve(X, y, args.lam, enum.patterns).blocks(),
            "optimum over 5 sampled gates": solve(X, y, args.lam, sampled).blocks()}
    print(f"n = {args.n}, d = {args.d}, lam = {args.lam}: {cells} cells (pieces of the global_gap "
          "certificate per sign)")
    for name, blocks in nets.items():
        net = blocks_to_network(blocks.weights, blocks.signs)
        r = y - net.predict(X)
        # scale the residual to dual feasibility over all cells (float one-cone bounds)
        worst = max(project_norm(s * X.T @ (enum.patterns[:, q] * r),
                                 (2.0 * enum.patterns[:, q] - 1)[:, None] * X)
                    for q in range(cells) for s in (1, -1))
        rho = r * min(1.0, args.lam / worst)
        for s in (1, -1):
            t = time.perf_counter()
            nodes, leaves, done = branch_and_bound(X, s * rho, args.lam, max_nodes=args.max_nodes)
            status = "finished" if done else "STOPPED at --max-nodes"
            print(f"  {name}, sign {s:+d}: {nodes} nodes visited, {leaves} leaves ({status}); "
                  f"leaves / cells = {leaves / cells:.3f}, nodes / cells = {nodes / cells:.3f}; "
                  f"{time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
