"""``certify demo``: the whole pipeline on a small bundled data set.

1. Solve the convex program over *every* activation pattern of the bundled 2-D data (cvxpy;
   d = 2 so the patterns are enumerated exactly by angle) and map the optimum to a network.
2. Solve it again over 8 sampled gate patterns only, and map that optimum too.
3. Verify both networks against their own exact patterns, write certificates and reports,
   and re-check the certificates with the independent checker.

The first network's own-pattern gap is tiny; the second's is not: the optimum of a sampled
program is generally not stationary for the training objective (theory.md §3).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np

DEMO_LAMBDA = "1/10"


def demo_data() -> tuple[np.ndarray, np.ndarray]:
    """The bundled data set: 40 points in [-1, 1]^2 with a smooth target plus noise."""
    with files("certify.data").joinpath("demo.npz").open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        return data["X"], data["y"]


def run_demo(out: Path) -> int:
    from certify.check.checker import check_certificate
    from certify.cli import summary
    from certify.convex.mapping import blocks_to_network
    from certify.patterns.sampling import enumerate_planar, patterns_of_gates, sample_gates
    from certify.problem import Problem
    from certify.report.render import write_report
    from certify.solve.cvxpy_reference import solve_crelu

    out.mkdir(parents=True, exist_ok=True)
    X, y = demo_data()
    np.savez(out / "data.npz", X=X, y=y)
    problem = Problem(X, y, DEMO_LAMBDA)
    lam = float(problem.lam)
    runs = {
        "optimal": ("every activation pattern", enumerate_planar(X)),
        "sampled": ("8 sampled gate patterns", patterns_of_gates(X, sample_gates(2, 8, seed=3))),
    }
    status = 0
    for name, (label, D) in runs.items():
        print(f"== {name}: convex program over {label} ({D.shape[1]} patterns), lam = {DEMO_LAMBDA}")
        sol = solve_crelu(X, y, lam, D)
        blocks = sol.blocks()
        network = blocks_to_network(blocks.weights, blocks.signs)
        network.save(str(out / f"{name}_network.npz"))
        from certify.verify import verify

        result = verify(problem, network)
        cert = out / f"{name}.cert.json"
        cert.write_text(result.to_json(), encoding="ascii")
        report = check_certificate(cert.read_bytes(), X.tolist(), y.tolist(), network.W1.tolist(),
                                   network.w2.tolist())
        write_report(str(out / f"{name}_report.html"), problem, network, result, report)
        write_report(str(out / f"{name}_report.md"), problem, network, result, report)
        print(summary(result))
        print(f"independent check: {report.summary_line()}")
        print(f"wrote {cert}, {out / (name + '_report.html')}, {out / (name + '_report.md')}\n")
        status = status or (0 if report.accepted else 1)
    print("Re-check from the command line with:\n"
          f"  certify check {out / 'optimal.cert.json'} --data {out / 'data.npz'} "
          f"--model {out / 'optimal_network.npz'}")
    return status
