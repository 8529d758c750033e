"""Tests of input validation at the boundary: certify.io.validate, Problem, Network, convert_lambda."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from certify.errors import InputError
from certify.io.validate import check_gates, check_lambda, check_path, check_pattern_matrix
from certify.network import Network
from certify.problem import Problem, convert_lambda

X = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 0.5]])
Y = np.array([1.0, 0.0, -1.0])
W1 = np.array([[1.0, -1.0, 0.5], [0.25, 2.0, -0.5]])  # (d, m) = (2, 3)
W2 = np.array([1.0, -2.0, 0.5])

LAM_MSG = r"The 'lam' argument of verify must be a positive rational such as '1/10'\. Got {} instead"


# --- Problem -----------------------------------------------------------------------------


def test_problem_ok() -> None:
    p = Problem(X.tolist(), Y.astype(np.float32), "0.1", bias=True)
    assert p.lam == Fraction(1, 10) and p.n == 3 and p.d == 2
    assert p.X.dtype == np.float64 and p.features.shape == (3, 3)
    assert p.features[:, -1].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("where, kind", [("X", "NaN"), ("X", "Inf"), ("y", "NaN"), ("y", "Inf")])
def test_problem_not_finite(where: str, kind: str) -> None:
    Xb, yb = X.copy(), Y.copy()
    value = np.nan if kind == "NaN" else -np.inf
    if where == "X":
        Xb[1, 0] = value
        index = r"\(1, 0\)"
    else:
        yb[2] = value
        index = r"\(2,\)"
    with pytest.raises(InputError, match=rf"^{where} contains {kind} at index {index} \(1 non-finite entries "
                                         r"in all\); remove or impute them before verifying\.$"):
        Problem(Xb, yb, 1)


@pytest.mark.parametrize("lam, shown", [(0, "0"), (-1, "-1"), ("-0.1", "'-0.1'"),
                                        (Fraction(0), r"Fraction\(0, 1\)"), (-0.5, r"-0\.5")])
def test_problem_lambda_not_positive(lam: object, shown: str) -> None:
    with pytest.raises(InputError, match=LAM_MSG.format(shown) + r" \(lam <= 0\)\.$"):
        Problem(X, Y, lam)


@pytest.mark.parametrize("lam, shown", [("abc", "'abc'"), (None, "None"), (True, "True"),
                                        (float("nan"), "nan"), (float("inf"), "inf"), ("1/0", "'1/0'"),
                                        ([1], r"\[1\]")])
def test_problem_lambda_not_rational(lam: object, shown: str) -> None:
    with pytest.raises(InputError, match=LAM_MSG.format(shown) + r"\.$"):
        Problem(X, Y, lam)


@pytest.mark.parametrize("lam, value", [("0.1", Fraction(1, 10)), ("1/3", Fraction(1, 3)), (2, Fraction(2)),
                                        (0.1, Fraction(0.1)), (Fraction(3, 7), Fraction(3, 7))])
def test_lambda_exact(lam: object, value: Fraction) -> None:
    assert check_lambda(lam) == value
    assert Problem(X, Y, lam).lam == value


def test_lambda_where() -> None:
    with pytest.raises(InputError, match=r"The 'lam' argument of fit must be a positive rational"):
        check_lambda("x", where="fit")


def test_problem_empty() -> None:
    with pytest.raises(InputError, match=r"X is empty \(shape \(0, 2\)\): need at least one row and one "
                                         r"feature\."):
        Problem(np.zeros((0, 2)), np.zeros(0), 1)
    with pytest.raises(InputError, match=r"X is empty \(shape \(3, 0\)\)"):
        Problem(np.zeros((3, 0)), np.zeros(3), 1)


def test_problem_mismatched_n() -> None:
    with pytest.raises(InputError, match=r"X has 3 rows but y has 2 entries: they must have the same number "
                                         r"of samples\."):
        Problem(X, Y[:2], 1)


def test_problem_3d() -> None:
    with pytest.raises(InputError, match=r"X must be 2-D \(n, d\), got shape \(3, 2, 1\)\. Reshape a single "
                                         r"feature with X\.reshape\(-1, 1\)\."):
        Problem(X[:, :, None], Y, 1)


def test_problem_1d_x() -> None:
    with pytest.raises(InputError, match=r"X must be 2-D \(n, d\), got shape \(3,\)"):
        Problem(X[:, 0], Y, 1)


def test_problem_y_matrix() -> None:
    with pytest.raises(InputError, match=r"y must be 1-D \(n,\) with one target per row, got shape \(3, 2\); "
                                         r"certify handles scalar-output networks only\."):
        Problem(X, X, 1)
    assert Problem(X, Y[:, None], 1).y.shape == (3,)


def test_problem_object_dtype() -> None:
    Xo = np.array([[0, 1], [1, "a"], [2, None]], dtype=object)
    with pytest.raises(InputError, match=r"X must be numeric \(float or integer\), got dtype object\. "
                                         r"Convert it with np\.asarray\(X, dtype=float\)"):
        Problem(Xo, Y, 1)


def test_problem_string_y() -> None:
    with pytest.raises(InputError, match=r"y must be numeric \(float or integer\), got dtype <U1"):
        Problem(X, ["a", "b", "c"], 1)


def test_problem_bool_and_int() -> None:
    p = Problem(np.array([[True], [False]]), np.array([1, 2], dtype=np.int64), 1)
    assert p.X.tolist() == [[1.0], [0.0]] and p.y.dtype == np.float64


def test_problem_huge_int() -> None:
    with pytest.raises(InputError, match=r"y has integers too large to be represented exactly as float64"):
        Problem(X, np.array([2**53 + 1, 0, 0], dtype=np.int64), 1)


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        Problem(X, Y, "abc")


# --- Network -----------------------------------------------------------------------------


def test_network_ok() -> None:
    net = Network(W1.tolist(), W2[:, None], np.zeros(3))
    assert net.width == 3 and net.w2.shape == (3,)
    assert net.weights(bias=True).shape == (3, 3)
    np.testing.assert_array_equal(net.predict(X), np.maximum(X @ W1, 0) @ W2)


def test_network_transposed() -> None:
    with pytest.raises(InputError, match=r"W1 has 2 neurons \(columns\) but w2 has 3 entries\. W1 must be "
                                         r"\(d, m\); a PyTorch Linear weight is \(m, d\): transpose it\."):
        Network(W1.T, W2)


def test_network_features_mismatch() -> None:
    net = Network(W1, W2)
    net.check_features(2)
    with pytest.raises(InputError, match=r"W1 has shape \(2, 3\) but X has 5 features: W1 must be "
                                         r"\(d, m\) = \(5, m\)\. A PyTorch Linear weight is \(m, d\); "
                                         r"transpose it or load the state_dict with --format torch\."):
        net.check_features(5)


@pytest.mark.parametrize("name, kind", [("W1", "NaN"), ("w2", "Inf"), ("b1", "NaN")])
def test_network_not_finite(name: str, kind: str) -> None:
    arrays = {"W1": W1.copy(), "w2": W2.copy(), "b1": np.zeros(3)}
    arrays[name].flat[1] = np.nan if kind == "NaN" else np.inf
    with pytest.raises(InputError, match=rf"^{name} contains {kind} at index"):
        Network(arrays["W1"], arrays["w2"], arrays["b1"])


def test_network_shapes() -> None:
    with pytest.raises(InputError, match=r"W1 must be 2-D \(d, m\) with column j holding neuron j's input "
                                         r"weights, got shape \(3,\)"):
        Network(W2, W2)
    with pytest.raises(InputError, match=r"w2 must be 1-D \(m,\), got shape \(3, 2\); certify handles scalar "
                                         r"outputs only\."):
        Network(W1, np.ones((3, 2)))
    with pytest.raises(InputError, match=r"b1 has 2 entries but the network has 3 neurons\."):
        Network(W1, W2, np.zeros(2))
    with pytest.raises(InputError, match=r"the network has no neurons \(m = 0\)\."):
        Network(np.zeros((2, 0)), np.zeros(0))


def test_network_object_dtype() -> None:
    with pytest.raises(InputError, match=r"W1 must be numeric \(float or integer\), got dtype object"):
        Network(np.array([[1, None]], dtype=object), [1.0, 2.0])


def test_network_bias_mismatch() -> None:
    with pytest.raises(InputError, match=r"the problem uses a first-layer bias \(--bias\) but the network "
                                         r"has no b1; add b1 \(zeros for none\) or drop --bias\."):
        Network(W1, W2).check_bias(True)
    with pytest.raises(InputError, match=r"the network has a first-layer bias b1 but the problem has none: "
                                         r"pass --bias \(bias=True\)"):
        Network(W1, W2, np.zeros(3)).check_bias(False)
    with pytest.raises(InputError, match=r"the network has a first-layer bias b1"):
        Network(W1, W2, np.zeros(3)).weights(bias=False)
    Network(W1, W2).check_bias(False)
    Network(W1, W2, np.zeros(3)).check_bias(True)


# --- convert_lambda ----------------------------------------------------------------------


@pytest.mark.parametrize("convention, factor", [("certify", None), ("mean", Fraction(1)),
                                                ("mse", Fraction(1, 2))])
@pytest.mark.parametrize("lam", ["0.1", "1/3", 2, 0.1])
def test_convert_lambda(convention: str, factor: Fraction | None, lam: object) -> None:
    n = 50
    out = convert_lambda(lam, convention, n)
    assert isinstance(out, Fraction)
    exact = Fraction(lam)  # strings are exact decimals or fractions, floats their binary value
    assert out == (exact if factor is None else exact * factor * n)


def test_convert_lambda_values() -> None:
    assert convert_lambda("0.1", "mean", 50) == 5
    assert convert_lambda("0.1", "mse", 50) == Fraction(5, 2)
    assert convert_lambda("1/3", "mse", 7) == Fraction(7, 6)
    assert convert_lambda(0.1, "mse", 2) == Fraction(0.1)  # the float's exact binary value


def test_convert_lambda_errors() -> None:
    with pytest.raises(InputError, match=r"The 'convention' argument must be one of \['certify', 'mean', "
                                         r"'mse'\]\. Got 'sum' instead\."):
        convert_lambda("0.1", "sum", 5)
    with pytest.raises(InputError, match=LAM_MSG.format("'-1'")):
        convert_lambda("-1", "mse", 5)


# --- check_path, check_pattern_matrix, check_gates ---------------------------------------


def test_check_path(tmp_path: Path) -> None:
    f = tmp_path / "a.npz"
    f.write_bytes(b"")
    assert check_path(str(f)) == f
    with pytest.raises(InputError, match=r"input file '.*b\.npz' does not exist"):
        check_path(tmp_path / "b.npz")
    with pytest.raises(InputError, match=r"certificate '.*' is a directory; give the path of a file"):
        check_path(tmp_path, "certificate")


def test_check_pattern_matrix() -> None:
    assert check_pattern_matrix([[1.0, 0.0]]).dtype == np.uint8
    with pytest.raises(InputError, match=r"Dk must contain only 0 and 1, found 0\.5 at index \(0, 1\)"):
        check_pattern_matrix([[1.0, 0.5]], name="Dk")


def test_check_gates() -> None:
    assert check_gates([[1, 2]]).dtype == np.float64
    with pytest.raises(InputError, match=r"G must be 2-D \(d, P\)"):
        check_gates([1.0, 2.0])
