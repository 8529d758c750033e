"""Approximate pruning past minimality: test accuracy against width for four methods.

Fit an optimal network with certify on a scikit-learn data set (breast cancer, standardized,
+-1 labels, no first-layer bias, ``lam = n * 1e-3`` in certify's scaling, that is 1e-3 in scnn's),
then remove one neuron at a time down to width 1 with each method of
:mod:`certify.selection.approximate`: Optimal/LS (the neuron whose corrected removal changes the
training fit least, remaining output weights corrected by least squares), and the baselines
magnitude, gradient (first-order saliency) and random (mean of 5 seeds), all uncorrected. The
optimal network is minimal (a vertex of its optimal set), so every removal is approximate.

Writes ``accuracy_vs_width.png`` and ``accuracy_vs_width.md`` (the report section) into OUTDIR
and prints the table.

Run:  .venv/bin/python examples/pruning_accuracy_vs_width.py [OUTDIR] [--quick]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from certify.fit import fit
from certify.problem import Problem, convert_lambda
from certify.report.pruning import accuracy_vs_width_png, section_markdown, table_rows, width_curve
from certify.selection.approximate import METHODS, prune_path
from certify.selection.select import training_objective

RANDOM_SEEDS = 5


def load(seed: int, train_fraction: float = 0.3):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.where(y > 0, 1.0, -1.0)
    idx = np.random.default_rng(seed).permutation(len(y))
    k = int(train_fraction * len(y))
    return X[idx[:k]], y[idx[:k]], X[idx[k:]], y[idx[k:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", default="out/pruning", help="default: out/pruning (git-ignored)")
    parser.add_argument("--quick", action="store_true", help="30 gates and 2 random seeds (for tests)")
    parser.add_argument("--gates", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    Xtr, ytr, Xte, yte = load(args.seed)
    problem = Problem(Xtr, ytr, convert_lambda("1e-3", "mean", len(ytr)))
    gates, seeds = (30, 2) if args.quick else (args.gates, RANDOM_SEEDS)
    net = fit(problem, gates=gates, seed=args.seed, refine_network=False).network
    print(f"breast cancer: n_train = {len(ytr)}, n_test = {len(yte)}, lam = {float(problem.lam):g} "
          f"(certify's scaling), optimal network over {gates} sampled gates: width {net.width}, "
          f"NC = {training_objective(problem, net):.6g}")

    def accuracy(step) -> float:
        return float(np.mean(np.sign(step.network().predict(Xte)) == yte))

    def objective(step) -> float:
        return training_objective(problem, step.network())

    curves = []
    for method in METHODS:
        runs = range(seeds) if method == "random" else range(1)
        paths = [prune_path(problem.features, ytr, net.W1, net.w2, method, seed=s) for s in runs]
        curves.append(width_curve(method, paths, accuracy, objective))
    png = accuracy_vs_width_png(curves)
    (out / "accuracy_vs_width.png").write_bytes(png)
    m = net.width
    widths = sorted({m, *(w for w in (40, 30, 20, 15, 10, 5, 3, 2, 1) if w <= m)}, reverse=True)
    (out / "accuracy_vs_width.md").write_text(section_markdown(curves, widths, "accuracy_vs_width.png"))
    names = [c.method for c in curves]
    print(f"{'width':>5} " + " ".join(f"{'acc ' + n:>14}" for n in names) + " "
          + " ".join(f"{'NC ' + n:>13}" for n in names))
    for row in table_rows(curves, widths):
        k = len(names)
        print(f"{row[0]:>5} " + " ".join(f"{v:>14}" for v in row[1:1 + k]) + " "
              + " ".join(f"{v:>13}" for v in row[1 + k:]))
    print(f"random: mean of {seeds} seeds. Wrote {out / 'accuracy_vs_width.png'} and "
          f"{out / 'accuracy_vs_width.md'} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
