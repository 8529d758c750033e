"""Sensitivity certificates of fitted networks of real data (issue 9, acceptance 2), measured.

Run:  OPENBLAS_NUM_THREADS=1 python examples/sensitivity_diabetes.py [--lam 20 50] [--n 442]
                                                                  [--dataset diabetes|breast_cancer]

The natural pipeline on standardized data (columns and targets to mean 0, variance 1), each step the
``certify`` command a user would type, timed:

    certify fit --data D --lam L --gates 20 -o net.npz
    certify prune --data D --model net.npz --lam L -o pruned.npz --certificate prune.json
    certify sensitivity --data D --model pruned.npz --lam L -o raw.json          # refused (why: printed)
    certify sensitivity --data D --model pruned.npz --lam L --polish --polished-model polished.npz \
        -o sens.json
    certify check sens.json --data D --model polished.npz

then the certified derivatives against central differences of independent re-solves
(:func:`certify.sensitivity.finite_differences.compare`: the working-set solver over the polished network's
own patterns, Newton-refined on the active set it found), relative errors for the fit, the block weights
and the balanced network ``(W1, w2)``, in ``lam`` and in ``y_k`` for ``y_0`` and the three points of
largest influence on the weights. Scaling: certify's (loss ``1/2 ||f(X) - y||^2``, penalty
``(lam/2) sum_j (||W1_j||^2 + w2_j^2)``, no bias).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _data(name: str, n: int | None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    if name == "wine":  # regression of the first column (alcohol) on the other twelve
        data = datasets.load_wine().data
        X, y = np.delete(data, 0, axis=1), data[:, 0]
    else:
        loader = datasets.load_diabetes if name == "diabetes" else datasets.load_breast_cancer
        X, y = loader(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (y - y.mean()) / y.std()
    return (X[:n], y[:n]) if n else (X, y)


def _run(args: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "certify", *args], capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode, proc.stdout + proc.stderr


def one(data: Path, lam: str, work: Path) -> None:
    from certify.io.model import load_network
    from certify.problem import Problem
    from certify.sensitivity.certificate import sensitivity_certificate
    from certify.sensitivity.finite_differences import compare

    d, tag = str(data), f"lam{lam}"
    net, pruned, polished = (str(work / f"{s}_{tag}.npz") for s in ("net", "pruned", "polished"))
    steps = [("fit", ["fit", "--data", d, "--lam", lam, "--gates", "20", "-o", net]),
             ("prune", ["prune", "--data", d, "--model", net, "--lam", lam, "-o", pruned, "--certificate",
                        str(work / f"prune_{tag}.json")]),
             ("sensitivity (no polish)", ["sensitivity", "--data", d, "--model", pruned, "--lam", lam, "-o",
                                          str(work / f"raw_{tag}.json")]),
             ("sensitivity --polish", ["sensitivity", "--data", d, "--model", pruned, "--lam", lam,
                                       "--polish", "--polished-model", polished, "-o",
                                       str(work / f"sens_{tag}.json")]),
             ("check", ["check", str(work / f"sens_{tag}.json"), "--data", d, "--model", polished])]
    print(f"\n=== lam = {lam} ===")
    for name, argv in steps:
        seconds, code, out = _run(argv)
        print(f"-- certify {' '.join(argv[:1])} [{name}]: exit {code}, {seconds:.1f} s")
        keep = [line for line in out.splitlines() if any(k in line for k in (
            "FAILS", "no derivative", "polish:", "pass ", "CHANGED", "derivatives of", "ACCEPTED", "REJECTED",
            "refinement:", "gap <=", "width", "near-dependence"))]
        print("\n".join(f"   {line}" for line in keep))
        if name in ("fit", "prune", "sensitivity --polish", "check") and code != 0:
            print("   (stopped: this step failed)")
            return
    z = np.load(data)
    problem = Problem(z["X"], z["y"], lam)
    network = load_network(polished)
    kernel = sensitivity_certificate(problem, network).kernel
    influence = np.linalg.norm(kernel.dw_dy, axis=(0, 1))
    targets = (0, *(int(k) for k in np.argsort(-influence)[:3]))
    start = time.perf_counter()
    rows = compare(problem, network, kernel, targets=targets)
    print(f"-- finite differences of re-solves ({time.perf_counter() - start:.1f} s; step 1e-5 relative):")
    print(f"   {'direction':>10} {'fit':>10} {'weights':>10} {'network':>10}")
    for c in rows:
        print(f"   {c.direction:>10} {c.fit:10.2e} {c.weights:10.2e} {c.network:10.2e}")
    worst = max(max(c.fit, c.weights, c.network) for c in rows)
    print(f"   worst relative error {worst:.2e} ({'within' if worst <= 1e-3 else 'ABOVE'} 1e-3)")
    raw = compare(problem, network, kernel, lam_step=1e-4, targets=(), newton=False)[0]
    print(f"   lam, raw re-solves (no Newton refinement, step 1e-4): fit {raw.fit:.2e}, weights "
          f"{raw.weights:.2e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lam", nargs="+", default=["20", "50"])
    parser.add_argument("--n", type=int, default=None, help="first n points only (default: all)")
    parser.add_argument("--dataset", choices=["diabetes", "breast_cancer", "wine"], default="diabetes")
    args = parser.parse_args()
    X, y = _data(args.dataset, args.n)
    print(f"{args.dataset}, standardized: n = {X.shape[0]}, d = {X.shape[1]}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        np.savez(work / "data.npz", X=X, y=y)
        for lam in args.lam:
            one(work / "data.npz", lam, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
