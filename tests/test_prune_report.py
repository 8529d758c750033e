"""`certify prune --report`: the HTML report of a pruning (checked claims, width section)."""

from __future__ import annotations

import re

import numpy as np

from certify.cli import main


def test_prune_report_shows_checked_claims_and_the_width_section(tmp_path, capsys) -> None:
    rng = np.random.default_rng(3)
    n, d, m = 8, 2, 14
    np.savez(tmp_path / "data.npz", X=rng.standard_normal((n, d)), y=rng.standard_normal(n))
    np.savez(tmp_path / "net.npz", W1=rng.standard_normal((d, m)), w2=rng.standard_normal(m),
             b1=rng.standard_normal(m))
    args = ["prune", "--data", str(tmp_path / "data.npz"), "--model", str(tmp_path / "net.npz"),
            "--lam", "0.1", "--bias", "-o", str(tmp_path / "p.npz"),
            "--certificate", str(tmp_path / "c.json")]
    assert main(args + ["--report", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "ACCEPTED: 3 of 3 claims" in html
    assert "Accuracy against width" in html and "training RMSE" in html
    # one table row per listed width, widths decreasing from the pruned width to 1
    with np.load(tmp_path / "p.npz", allow_pickle=False) as f:
        width = f["W1"].shape[1]
    section = html[html.index("Accuracy against width"):]
    rows = [int(w) for w in re.findall(r"<tr><td>(\d+)</td>", section)]
    assert rows[0] == width and rows[-1] == 1 and rows == sorted(rows, reverse=True)
    assert re.search(r'<img alt="training RMSE against width" src="data:image/png;base64,', section)
    # a report path that is not HTML is refused before any work, with a clear message
    assert main(args + ["--report", str(tmp_path / "r.txt")]) == 2
    assert "must end in .html" in capsys.readouterr().err
