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
