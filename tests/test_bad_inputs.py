"""Bad-input corpus additions (issue 11, item 3), beside tests/test_validate.py, tests/test_io_*.py
and tests/test_cli.py (which this file does not repeat).

* Extreme magnitudes in the *data* (1e300, subnormals down to 5e-324) must work exactly: verify,
  then the checker accepts. (Weights of extreme magnitude: tests/test_acceptance.py.)
* Duplicate and zero rows in X must work: zero rows define no hyperplane (no ties, no patterns).
* lam <= 0, non-numeric, 'nan', 'inf' through ``Problem`` and through the command line (exit 2, the
  message names lam, no traceback).
* Truncated ``.safetensors`` files at every stage of the format; wrong dtypes (complex, bytes,
  dates, object arrays of numbers) in arrays, ``.npz`` and ``.safetensors``; empty data.

Cases that currently fail because of a library bug are marked ``xfail(strict=True)`` with the bug
described, so that the fix flips them (and the mark must then be removed).
"""

from __future__ import annotations

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from certify.check.checker import check_certificate
from certify.cli import main
from certify.errors import FormatError, InputError
from certify.io.data import load_data
from certify.io.model import load_network, save_network
from certify.network import Network
from certify.problem import Problem
from certify.verify import verify
from tests.reference import Instance, Reference

W1 = np.array([[1.0, -0.5], [0.25, 1.0]])
W2 = np.array([1.0, -1.0])


def round_trip(X, y, W1, w2, lam: str = "1/10", b1=None):
    """verify, then check; return (result, report)."""
    problem = Problem(X, y, lam, bias=b1 is not None)
    net = Network(W1, w2, b1)
    result = verify(problem, net)
    report = check_certificate(result.to_json(), problem.X.tolist(), problem.y.tolist(), net.W1.tolist(),
                               net.w2.tolist(), None if b1 is None else net.b1.tolist())
    assert report.accepted, [v.reason for v in report.verdicts if not v.accepted]
    return result, report


def exact_objective(X, y, W1, w2, lam: str) -> Fraction:
    """Independent NC in Fractions (tests/reference.py)."""
    inst = Instance("x", np.asarray(X, float).tolist(), np.asarray(y, float).tolist(),
                    np.asarray(W1).tolist(), np.asarray(w2).tolist(), None, lam)
    loss, penalty = Reference(inst).objective(Fraction(lam))
    return loss + penalty


# --- extreme magnitudes in the data -----------------------------------------------------------------

ONE = (np.array([[1.0]]), np.array([1.0]))  # a one-feature, one-neuron network
EXTREME = [  # (id, X, y, (W1, w2) or None for the default 2 x 2 network, marks)
    ("y with 1e300", [[1.0, 0.5], [2.0, -1.0], [-1.0, 1.0]], [1e300, 1.0, -1e300], None, ()),
    ("y with 5e-324", [[1.0, 0.5], [2.0, -1.0], [-1.0, 1.0]], [5e-324, -5e-324, 1.0], None, ()),
    ("X with 5e-324 beside normal entries", [[5e-324, 1.0], [1.0, 5e-324], [-5e-324, -1.0], [2.0, 3.0]],
     [5e-324, 0.0, 1.0, -1e300], None, ()),
    ("X with 1e-300, y with 1e300", [[1e-300, 1.0], [1.0, -1e-300], [2.0, 3.0]], [1e300, 1.0, 0.0], None, ()),
    ("X with a 1e300 entry", [[1.0, 2.0], [1e300, -1.0], [3.0, 1.0], [-2.0, 0.5]], [1.0, 0.0, -1.0, 2.0],
     None, ()),
    ("X with a 1e300 entry, one neuron", [[1e300], [1.0]], [0.0, 1.0], ONE, ()),
    ("X entirely 1e300", [[1e300, 1e300], [1e300, -1e300], [-1e300, 1e300]], [1.0, 0.0, -1.0], None,
     ()),
    ("X entirely 5e-324", [[5e-324, 5e-324], [5e-324, -5e-324], [-5e-324, 5e-324]], [1.0, 0.0, -1.0], None,
     ()),
    ("X entirely 1e-200", [[1e-200, 1e-200], [1e-200, -1e-200], [-1e-200, 1e-200]], [1.0, 0.0, -1.0], None,
     ()),
    ("X with 5e-324, subnormal residual", [[5e-324], [1.0]], [0.0, 1.0], ONE, ()),
    ("weights 1e300 and 1e-300", [[1.0], [-2.0]], [1.0, 1.0], (np.array([[1e300]]), np.array([1e-300])),
     ()),
]


@pytest.mark.parametrize("X, y, net", [pytest.param(X, y, net, id=name, marks=marks)
                                       for name, X, y, net, marks in EXTREME])
def test_extreme_magnitudes_round_trip(X: list, y: list, net: tuple | None) -> None:
    W, w = net if net is not None else (W1, W2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float overflow while *finding* evidence is fine
        result, report = round_trip(np.array(X), np.array(y), W, w)
    assert result.objective == exact_objective(X, y, W, w, "1/10")  # exact, however large or small
    assert len(report.verdicts) >= 3


# --- duplicate and zero rows -------------------------------------------------------------------------


def test_zero_rows_define_no_hyperplane() -> None:
    base = np.array([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0], [0.5, 0.5]])
    yb = np.array([1.0, -1.0, 0.5, 2.0])
    X = np.vstack([base[:2], np.zeros((2, 2)), base[2:], np.zeros((1, 2))])  # zero rows 2, 3, 6
    y = np.concatenate([yb[:2], [0.25, -3.0], yb[2:], [1.0]])
    result, _ = round_trip(X, y, W1, W2)
    claims = result.certificate["claims"]
    assert not claims[1]["ties"], "x_k^T W1_j = 0 at a zero row is not a tie"
    without, _ = round_trip(base, yb, W1, W2)
    assert result.certificate["diagnostics"]["scope_patterns"] == without.certificate["diagnostics"][
        "scope_patterns"]  # zero rows add no pattern (they are active in every one)
    patterns = claims[2]["evidence"]["blocks"]
    for blk in patterns:
        bits = int(blk["pattern"], 16)
        assert all(bits >> k & 1 for k in (2, 3, 6)), "zero rows are active in every pattern"


def test_all_rows_zero() -> None:
    result, _ = round_trip(np.zeros((3, 2)), np.array([1.0, 2.0, 3.0]), W1, W2)
    assert result.certificate["claims"][1]["ties"] == []
    assert result.certificate["diagnostics"]["scope_patterns"] == 1  # the all-active pattern


def test_duplicate_rows() -> None:
    X = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [-1.0, 0.5], [-1.0, 0.5], [2.0, -4.0]])
    y = np.array([1.0, 0.0, 2.0, -1.0, 0.5, 0.5])
    W = np.array([[2.0, 1.0], [-1.0, 1.0]])  # x^T W1_0 = 0 on the three copies of (1, 2); no other tie
    result, _ = round_trip(X, y, W, W2)
    claims = result.certificate["claims"]
    assert [(t["k"], t["j"]) for t in claims[1]["ties"]] == [(0, 0), (1, 0), (2, 0)]
    assert claims[1]["ties_independent"] is False  # copies of one point are dependent
    with_bias, _ = round_trip(X, y, W, W2, b1=np.array([0.0, -1.0]))
    assert with_bias.certificate["inputs"]["bias"] is True


# --- lam through Problem and the command line ----------------------------------------------------------

LAM_MSG = r"The 'lam' argument of verify must be a positive rational such as '1/10'\. Got {} instead"
X3 = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 0.5]])
Y3 = np.array([1.0, 0.0, -1.0])


@pytest.mark.parametrize("lam", ["nan", "NaN", "inf", "-inf", "Infinity", "", " ", "0x10", "1/3/4",
                                 "½", float("-inf"), complex(1, 0), b"0.1"])
def test_problem_lambda_not_a_number(lam: object) -> None:
    with pytest.raises(InputError, match=LAM_MSG.format(_shown(lam)) + r"\.$"):
        Problem(X3, Y3, lam)


@pytest.mark.parametrize("lam", ["0/5", "1/-2", "0.0", "-0", "-1e-9", "-1/3"])
def test_problem_lambda_not_positive_strings(lam: str) -> None:
    with pytest.raises(InputError, match=LAM_MSG.format(_shown(lam)) + r" \(lam <= 0\)\.$"):
        Problem(X3, Y3, lam)


@pytest.mark.parametrize("lam, value", [("1e-400", Fraction(1, 10**400)), ("1e400", Fraction(10**400)),
                                        ("+0.5", Fraction(1, 2)), ("2/4", Fraction(1, 2))])
def test_problem_lambda_extreme_but_valid(lam: str, value: Fraction) -> None:
    assert Problem(X3, Y3, lam).lam == value


def test_problem_lambda_numpy_integer() -> None:
    assert Problem(X3, Y3, np.int64(2)).lam == 2


def _shown(lam: object) -> str:
    return re.escape(repr(lam))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bad")
    np.savez(tmp / "data.npz", X=X3, y=Y3)
    save_network(Network(W1, W2), tmp / "net.npz")
    return tmp


def _cli(files: Path, *args: str) -> list[str]:
    return ["verify", "--data", str(files / "data.npz"), "--model", str(files / "net.npz"),
            "-o", str(files / "c.json"), "--quiet", *args]


@pytest.mark.parametrize("lam, why", [("nan", ""), ("NaN", ""), ("inf", ""), ("-inf", ""), ("Infinity", ""),
                                      ("", ""), ("0/1", " (lam <= 0)"), ("1/0", ""), ("-1/2", " (lam <= 0)"),
                                      ("0x1", ""), ("abc/3", "")])
@pytest.mark.parametrize("convention", ["certify", "mean", "mse"])
def test_cli_bad_lambda(files: Path, capsys, lam: str, why: str, convention: str) -> None:
    rc = main(_cli(files, f"--lam={lam}", "--convention", convention))
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("certify verify: error: The 'lam' argument of verify must be a positive rational")
    assert f"Got {lam!r} instead{why}." in err and "Traceback" not in err


def test_cli_huge_lambda_works(files: Path, capsys) -> None:
    assert main(["verify", "--data", str(files / "data.npz"), "--model", str(files / "net.npz"),
                 "-o", str(files / "c.json"), "--lam", "1e300"]) == 0


@pytest.mark.parametrize("lam", ["1e300", "1e400"])
def test_huge_lambda_api_round_trip(lam: str) -> None:
    result, _ = round_trip(X3, Y3, W1, W2, lam=lam)
    assert result.objective == exact_objective(X3, Y3, W1, W2, lam)


# --- truncated safetensors ----------------------------------------------------------------------------

SAFETENSORS_CUTS = {  # bytes kept -> what the safetensors library says
    "empty file": (0, "header too small"),
    "half the length field": (4, "header too small"),
    "length field only": (8, "invalid header length"),
    "header cut inside its JSON": (40, "invalid header length"),
    "data cut by one byte": (-1, "incomplete metadata, file not fully covered"),
    "data cut in half": ("half", "incomplete metadata, file not fully covered"),
}


@pytest.mark.parametrize("name", list(SAFETENSORS_CUTS))
def test_truncated_safetensors(tmp_path: Path, capsys, name: str) -> None:
    cut, message = SAFETENSORS_CUTS[name]
    path = save_network(Network(W1, W2, np.array([0.5, -0.5])), tmp_path / "m.safetensors")
    raw = path.read_bytes()
    header = 8 + int.from_bytes(raw[:8], "little")
    keep = header + (len(raw) - header) // 2 if cut == "half" else cut
    path.write_bytes(raw[:keep])
    pattern = (r"model file '.*m\.safetensors' is not a readable safetensors file \(Error while "
               rf"deserializing header: {message}")
    with pytest.raises(FormatError, match=pattern):
        load_network(path)
    data = tmp_path / "d.npz"
    np.savez(data, X=X3, y=Y3)
    for args in (["verify", "--data", str(data), "--model", str(path), "--lam", "1", "--bias",
                  "-o", str(tmp_path / "c.json")],
                 ["check", str(tmp_path / "c.json"), "--data", str(data), "--model", str(path)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "is not a readable safetensors file" in err and "Traceback" not in err


# --- wrong dtypes ----------------------------------------------------------------------------------------

NUMERIC_MSG = (r"{} must be numeric \(float or integer\), got dtype {}\. Convert it with "
               r"np\.asarray\({}, dtype=float\)")


@pytest.mark.parametrize("where, value, dtype", [
    ("X", X3.astype(complex), "complex128"),
    ("y", Y3.astype(np.complex64), "complex64"),
    ("X", X3.astype("S4"), r"\|S4"),
    ("X", np.ones((3, 2), dtype="datetime64[D]"), r"datetime64\[D\]"),
    ("y", np.ones(3, dtype="timedelta64[s]"), r"timedelta64\[s\]"),
    ("X", X3.astype(object), "object"),  # numbers, but an object array: refused
])
def test_problem_wrong_dtypes(where: str, value: np.ndarray, dtype: str) -> None:
    X, y = (value, Y3) if where == "X" else (X3, value)
    with pytest.raises(InputError, match=NUMERIC_MSG.format(where, dtype, where)):
        Problem(X, y, 1)


@pytest.mark.parametrize("where", ["W1", "w2", "b1"])
@pytest.mark.parametrize("dtype, shown", [(complex, "complex128"), ("U3", "<U3"), (object, "object")])
def test_network_wrong_dtypes(where: str, dtype, shown: str) -> None:
    arrays = {"W1": W1, "w2": W2, "b1": np.zeros(2)}
    arrays[where] = arrays[where].astype(dtype)
    with pytest.raises(InputError, match=NUMERIC_MSG.format(where, shown, where)):
        Network(arrays["W1"], arrays["w2"], arrays["b1"])


def test_narrow_dtypes_are_exact() -> None:
    """float16, float32, small integers and booleans are widened to float64 exactly."""
    p = Problem(X3.astype(np.float16), Y3.astype(np.float32), 1)
    assert p.X.dtype == np.float64 and p.X.tolist() == X3.astype(np.float16).astype(float).tolist()
    net = Network(W1.astype(np.float16), np.array([1, -1], dtype=np.int8), np.array([True, False]))
    assert net.b1.tolist() == [1.0, 0.0] and net.w2.tolist() == [1.0, -1.0]


def test_npz_complex_data(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", X=X3.astype(complex), y=Y3)
    with pytest.raises(InputError, match=r"data file '.*d\.npz': " + NUMERIC_MSG.format("X", "complex128",
                                                                                       "X")):
        load_data(tmp_path / "d.npz")
    np.savez(tmp_path / "e.npz", X=X3, y=np.array([b"a", b"b", b"c"]))
    with pytest.raises(InputError, match=r"e\.npz': " + NUMERIC_MSG.format("y", r"\|S1", "y")):
        load_data(tmp_path / "e.npz")


@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_model_file_complex_weights(tmp_path: Path, capsys, ext: str) -> None:
    path = tmp_path / f"m.{ext}"
    arrays = {"W1": W1.astype(np.complex64), "w2": W2}
    if ext == "npz":
        np.savez(path, **arrays)
    else:
        save_file(arrays, str(path))
    with pytest.raises(InputError, match=rf"model file '.*m\.{ext}': " + NUMERIC_MSG.format("W1", "complex64",
                                                                                           "W1")):
        load_network(path)
    np.savez(tmp_path / "d.npz", X=X3, y=Y3)
    rc = main(["verify", "--data", str(tmp_path / "d.npz"), "--model", str(path), "--lam", "1",
               "-o", str(tmp_path / "c.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "W1 must be numeric" in err and "Traceback" not in err


# --- empty data --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("X, y, pattern", [
    ([], [], r"X must be 2-D \(n, d\), got shape \(0,\)\. Reshape a single feature"),
    ([[]], [1.0], r"X is empty \(shape \(1, 0\)\): need at least one row and one feature\."),
    (np.zeros((0, 0)), np.zeros(0), r"X is empty \(shape \(0, 0\)\)"),
    (X3, [], r"X has 3 rows but y has 0 entries: they must have the same number of samples\."),
    (X3, np.zeros((3, 0)), r"y must be 1-D \(n,\) with one target per row, got shape \(3, 0\)"),
])
def test_problem_empty_data(X, y, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        Problem(X, y, 1)


def test_network_empty_arrays() -> None:
    with pytest.raises(InputError, match=r"W1 must be 2-D \(d, m\) with column j holding neuron j's input "
                                         r"weights, got shape \(0,\)\."):
        Network([], [])
    with pytest.raises(InputError, match=r"b1 has 0 entries but the network has 2 neurons\."):
        Network(W1, W2, [])
    with pytest.raises(InputError, match=r"W1 has shape \(0, 2\) but X has 2 features"):
        Network(np.zeros((0, 2)), W2).check_features(2)


def test_cli_empty_data(tmp_path: Path, capsys) -> None:
    np.savez(tmp_path / "d.npz", X=np.zeros((0, 2)), y=np.zeros(0))
    save_network(Network(W1, W2), tmp_path / "m.npz")
    for args in (["verify", "--lam", "1", "-o", str(tmp_path / "c.json")],
                 ["check", str(tmp_path / "c.json")]):
        rc = main([*args, "--data", str(tmp_path / "d.npz"), "--model", str(tmp_path / "m.npz")])
        err = capsys.readouterr().err
        assert rc == 2 and "X is empty (shape (0, 2))" in err and "Traceback" not in err


def test_checker_with_empty_inputs() -> None:
    """The checker itself (no Problem in between) refuses empty inputs with a reason."""
    result = verify(Problem(X3, Y3, 1), Network(W1, W2))
    for X, y, w1, w2 in (([], [], W1.tolist(), W2.tolist()), ([[]], [1.0], W1.tolist(), W2.tolist()),
                         (X3.tolist(), Y3.tolist(), [[], []], [])):
        report = check_certificate(result.to_json(), X, y, w1, w2)
        assert not report.accepted
        assert {v.reason for v in report.verdicts} == {"inputs are malformed: X, W1 and w2 must be non-empty"}


@pytest.mark.parametrize("claim, key, specific", [(0, "objective", "recomputed"),
                                                  (1, "grad_sq_bound", "exceeds the claimed bound"),
                                                  (2, "gap", "exceeds the claimed gap")])
def test_false_claims_on_huge_data_have_specific_reasons(claim: int, key: str, specific: str) -> None:
    X, y = [[1.0, 0.5], [2.0, -1.0], [-1.0, 1.0]], [1e300, 1.0, -1e300]  # NC ~ 1e600
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result, _ = round_trip(np.array(X), np.array(y), W1, W2)
    doc = result.certificate
    doc["claims"][claim][key] = "0"
    verdict = check_certificate(doc, X, y, W1.tolist(), W2.tolist()).verdicts[claim]
    assert not verdict.accepted  # sound either way
    assert specific in verdict.reason, verdict.reason
