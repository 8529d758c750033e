"""Train a small network in PyTorch with weight decay, then certify it with certify.

PyTorch's ``MSELoss`` (mean of squares) plus ``weight_decay=wd`` on every parameter minimizes

    (1/n) sum (f - y)^2 + (wd/2) ||theta||^2,

which is ``2/n`` times certify's ``NC`` with ``lam = n * wd / 2`` (``--convention mse``). The
first-layer bias is regularized too, which is certify's ``--bias`` convention.

Run:  python examples/pytorch_weight_decay.py [OUTDIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from certify.check.checker import check_certificate
from certify.io.model import load_network
from certify.problem import Problem, convert_lambda
from certify.verify import verify


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    n, wd = X.shape[0], 1e-3
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1, bias=False))
    model = model.double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=0.0)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def torch_objective():
        fit = model(Xt).squeeze(1)
        return torch.mean((fit - yt) ** 2) + wd / 2 * sum((p ** 2).sum() for p in model.parameters())

    for _ in range(3000):  # explicit penalty (Adam's weight_decay would not be this objective)
        opt.zero_grad()
        loss = torch_objective()
        loss.backward()
        opt.step()
    torch.save(model.state_dict(), out / "model.pt")
    np.savez(out / "data.npz", X=X, y=y)

    network = load_network(out / "model.pt")  # weights_only=True, Linear weights transposed
    lam = convert_lambda(str(wd), "mse", n)
    problem = Problem(X, y, lam, bias=True)
    result = verify(problem, network)
    with torch.no_grad():
        torch_value = float(torch_objective())
    print(f"PyTorch objective     {torch_value:.12g}")
    print(f"certify NC * 2/n      {float(result.objective) * 2 / n:.12g}  (lam = n*wd/2 = {lam})")
    print(f"own-pattern gap       {float(result.gap):.4g} (relative {result.relative_gap:.3g})")
    if result.goldstein_sq is not None:
        print(f"Goldstein measure     {float(result.goldstein_sq) ** 0.5:.4g}")
    (out / "cert.json").write_text(result.to_json())
    report = check_certificate(result.to_json(), X.tolist(), y.tolist(), network.W1.tolist(),
                               network.w2.tolist(), network.b1.tolist())
    print(report.summary_line())
    return 0 if report.accepted else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "pytorch-example-output")))
