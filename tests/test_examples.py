"""The examples run and their certificates check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_tiny_certificate_checks_from_the_command_line(capsys):
    rc = main(["check", str(EXAMPLES / "tiny.cert.json"), "--data", str(EXAMPLES / "tiny_data.npz"),
               "--model", str(EXAMPLES / "tiny_model.npz")])
    assert rc == 0 and "ACCEPTED" in capsys.readouterr().out


def test_pytorch_example(tmp_path):
    pytest.importorskip("torch")
    proc = subprocess.run([sys.executable, str(EXAMPLES / "pytorch_weight_decay.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    values = {line[:22].strip(): float(line[22:].split()[0]) for line in proc.stdout.splitlines()
              if line[:22].strip() in ("PyTorch objective", "certify NC * 2/n")}
    assert values["PyTorch objective"] == pytest.approx(values["certify NC * 2/n"], rel=1e-10)
    assert proc.stdout.strip().splitlines()[-1].startswith("ACCEPTED")


def test_demo_writes_certificates_and_reports(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("ACCEPTED: 4 of 4 claims") == 2
    for name in ("optimal", "sampled"):
        assert (tmp_path / f"{name}_report.html").stat().st_size > 10_000
        assert (tmp_path / f"{name}_report.md").exists()
        data = np.load(tmp_path / "data.npz")
        net = np.load(tmp_path / f"{name}_network.npz")
        rep = check_certificate((tmp_path / f"{name}.cert.json").read_text(), data["X"].tolist(),
                                data["y"].tolist(), net["W1"].tolist(), net["w2"].tolist())
        assert rep.accepted


def _run_example(name: str, argv: list[str], capsys) -> str:
    """Run an example's ``main(argv)`` in this process (its Numba kernels are then compiled once
    per test session rather than once per subprocess) and return what it printed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(argv) == 0
    return capsys.readouterr().out


def test_optimal_set_selection_example_prints_the_table(capsys):
    import sklearn  # noqa: F401  (a test dependency: the examples need its data sets; never skipped)
    out = _run_example("optimal_set_selection.py", ["--quick"], capsys)
    rows = [line.split() for line in out.splitlines() if line.startswith("breast cancer ")]
    assert len(rows) == 9  # three polytopes x three selections
    p_lambda = [r for r in rows if r[2] == "P_lambda"]
    objectives = {float(r[-3]) for r in p_lambda}
    assert len(p_lambda) == 3 and max(objectives) - min(objectives) <= 1e-9 * max(objectives)
    assert all(float(r[-2]) <= 1e-8 for r in p_lambda)  # every selection in P_lambda is optimal
    assert "P_lambda is" in out


def test_pruning_accuracy_vs_width_example(tmp_path, capsys):
    import sklearn  # noqa: F401  (a test dependency: the examples need its data sets; never skipped)
    out = _run_example("pruning_accuracy_vs_width.py", [str(tmp_path), "--quick"], capsys)
    assert (tmp_path / "accuracy_vs_width.png").read_bytes().startswith(b"\x89PNG")
    assert "## Accuracy against width" in (tmp_path / "accuracy_vs_width.md").read_text()
    table = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert table and table[-1][0] == "1"
