"""Issue 9, acceptance 1, end to end through the CLI on a scikit-learn data set.

Standardized diabetes (n = 442, d = 10, first-layer bias), 20 seeded gate patterns, lam in [1, 100]
(two orders of magnitude), relative eps = 1e-4: ``certify path`` writes a certificate that
``certify check`` accepts, and prints the adaptive and the uniform (geometric) grid counts; the
adaptive grid needs fewer points. BENCHMARKS.md ("Certified regularization paths") records the
same run with timings (104 against 153 points there).
"""

from __future__ import annotations

import json
import re

import numpy as np
from sklearn.datasets import load_diabetes

from certify.cli import main


def test_diabetes_path_relative_1e4_is_accepted_with_fewer_points_than_uniform(tmp_path, capsys):
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (y - y.mean()) / y.std()
    data = tmp_path / "diabetes.npz"
    np.savez(data, X=X, y=y)
    cert = tmp_path / "path.json"
    rc = main(["path", "--data", str(data), "--lam-min", "1", "--lam-max", "100", "--eps", "1e-4",
               "--relative", "--bias", "--gates", "20", "-o", str(cert), "--compare-uniform"])
    out = capsys.readouterr().out
    assert rc == 0, out
    counts = re.search(r"grid points for eps: adaptive (\d+), uniform \(geometric\) grid reaching the same "
                       r"eps: (\d+) points", out)
    assert counts, out
    adaptive, uniform = int(counts.group(1)), int(counts.group(2))
    assert adaptive < uniform
    doc = json.loads(cert.read_text())
    claim = next(c for c in doc["claims"] if c["type"] == "eps_path")
    assert len(claim["grid"]) == adaptive
    assert (claim["lam_min"], claim["lam_max"], claim["eps"], claim["eps_kind"]) == ("1", "100", "1/10000",
                                                                                    "relative")
    rc = main(["check", str(cert), "--data", str(data)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "ACCEPTED" in out
