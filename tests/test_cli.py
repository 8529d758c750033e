"""Command-line tests on small files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from certify.cli import build_parser, main
from tests.instances import global_optimum_planar, planar_data


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    X, y = planar_data()
    net = global_optimum_planar(X, y, 0.1)
    np.savez(tmp / "data.npz", X=X, y=y)
    net.save(str(tmp / "net.npz"))
    other = net.W1.copy()
    other[0, 0] += 0.5
    np.savez(tmp / "other.npz", W1=other, w2=net.w2)
    return tmp


def test_verify_then_check_accepts(files, capsys):
    cert = files / "cert.json"
    rc = main(["verify", "--data", str(files / "data.npz"), "--model", str(files / "net.npz"),
               "--lam", "0.1", "-o", str(cert)])
    out = capsys.readouterr().out
    assert rc == 0 and "not a global optimality claim" in out
    rc = main(["check", str(cert), "--data", str(files / "data.npz"), "--model", str(files / "net.npz")])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.strip().splitlines()[-1].startswith("ACCEPTED:")


def test_check_rejects_swapped_weights_and_edited_claims(files, capsys):
    cert = files / "cert2.json"
    assert main(["verify", "--data", str(files / "data.npz"), "--model", str(files / "net.npz"),
                 "--lam", "1/10", "-o", str(cert), "--quiet"]) == 0
    rc = main(["check", str(cert), "--data", str(files / "data.npz"), "--model", str(files / "other.npz")])
    out = capsys.readouterr().out
    assert rc == 1 and "network digest mismatch" in out and out.strip().endswith("claims")
    doc = json.loads(cert.read_text())
    doc["claims"][0]["objective"] = "1"
    bad = files / "bad.json"
    bad.write_text(json.dumps(doc))
    rc = main(["check", str(bad), "--data", str(files / "data.npz"), "--model", str(files / "net.npz")])
    out = capsys.readouterr().out
    assert rc == 1 and "objective: claimed 1 but recomputed" in out
    assert out.strip().splitlines()[-1] == "REJECTED: 1 of 4 claims"
    bad.write_text(cert.read_text()[:500])
    rc = main(["check", str(bad), "--data", str(files / "data.npz"), "--model", str(files / "net.npz")])
    assert rc == 1 and "not valid JSON" in capsys.readouterr().out


def test_given_patterns_recorded_and_checked(files, capsys):
    from certify.patterns.sampling import enumerate_planar

    X = np.load(files / "data.npz")["X"]
    np.savez(files / "pats.npz", D=enumerate_planar(X))
    np.savez(files / "pats2.npz", D=enumerate_planar(X)[:, :3])
    cert = files / "cert3.json"
    assert main(["verify", "--data", str(files / "data.npz"), "--model", str(files / "net.npz"),
                 "--lam", "0.1", "--patterns", str(files / "pats.npz"), "-o", str(cert), "--quiet"]) == 0
    args = ["check", str(cert), "--data", str(files / "data.npz"), "--model", str(files / "net.npz")]
    assert main(args + ["--patterns", str(files / "pats.npz")]) == 0
    capsys.readouterr()
    assert main(args + ["--patterns", str(files / "pats2.npz")]) == 1
    assert "is not the one given" in capsys.readouterr().out


@pytest.mark.parametrize("lam, message", [("-0.1", "must be a positive rational"),
                                          ("abc", "must be a positive rational"),
                                          ("0", "lam <= 0")])
def test_bad_lambda_exit_2(files, capsys, lam, message):
    rc = main(["verify", "--data", str(files / "data.npz"), "--model", str(files / "net.npz"),
               "--lam", lam, "-o", str(files / "x.json")])
    assert rc == 2 and message in capsys.readouterr().err


def test_bad_inputs_exit_2_without_traceback(files, capsys):
    np.savez(files / "wrong.npz", W1=np.ones((3, 2)), w2=np.ones(2))
    rc = main(["verify", "--data", str(files / "data.npz"), "--model", str(files / "wrong.npz"),
               "--lam", "1", "-o", str(files / "x.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "W1 has shape (3, 2) but X has 2 features" in err and "Traceback" not in err
    rc = main(["verify", "--data", str(files / "missing.npz"), "--model", str(files / "net.npz"),
               "--lam", "1", "-o", str(files / "x.json")])
    assert rc == 2 and "missing.npz" in capsys.readouterr().err
    rc = main(["verify", "--data", str(files / "data.npz"), "--model", str(files / "net.npz"),
               "--lam", "1", "--bias", "-o", str(files / "x.json")])
    assert rc == 2 and "no b1" in capsys.readouterr().err


def test_budget_exit_3(tmp_path, capsys):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    np.savez(tmp_path / "d.npz", X=X, y=np.ones(4))
    np.savez(tmp_path / "m.npz", W1=np.array([[1.0], [-1.0]]), w2=np.array([1.0]))
    rc = main(["verify", "--data", str(tmp_path / "d.npz"), "--model", str(tmp_path / "m.npz"),
               "--lam", "1", "--max-ties", "1", "-o", str(tmp_path / "c.json")])
    assert rc == 3 and "budget" in capsys.readouterr().err


def test_help_is_complete():
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices
    verify_help = sub["verify"].format_help()
    for option in ["--data", "--model", "--lam", "--bias", "--patterns", "--output", "--report",
                   "--convention", "--max-ties", "--kink-tol", "exit codes"]:
        assert option in verify_help
    check_help = sub["check"].format_help()
    for option in ["--data", "--model", "--patterns", "--json", "ACCEPTED"]:
        assert option in check_help
    assert "--out" in sub["demo"].format_help()


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "certify", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "certify" in proc.stdout
