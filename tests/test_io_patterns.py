"""Tests of certify.io.patterns: pattern sets given as 0/1 matrices D or gate vectors G."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from certify.errors import FormatError, InputError
from certify.io.patterns import load_patterns, validate_patterns

BAD = Path(__file__).parent / "data" / "bad"

PATTERNS_CORPUS = {
    "patterns_both.npz": (FormatError, r"patterns_both\.npz' has both D and G; expected exactly one: 'D' "
                                       r"\(n, P\), 0/1 patterns, or 'G' \(d, P\), gate vectors"),
    "patterns_not_01.npz": (InputError, r"patterns_not_01\.npz': D must contain only 0 and 1, found 2 at "
                                        r"index \(1, 0\) \(1 such entries in all\); threshold it"),
    "patterns_3d.npz": (InputError, r"patterns_3d\.npz': G must be 2-D \(d, P\) with one gate vector per "
                                    r"column, got shape \(2, 3, 1\)"),
}


@pytest.mark.parametrize("name", sorted(PATTERNS_CORPUS))
def test_bad_corpus(name: str) -> None:
    error, pattern = PATTERNS_CORPUS[name]
    with pytest.raises(error, match=pattern):
        load_patterns(BAD / name)


def test_bad_corpus_is_covered() -> None:
    assert {p.name for p in BAD.glob("patterns_*")} == set(PATTERNS_CORPUS)


D01 = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 1]])


@pytest.mark.parametrize("D", [D01, D01.astype(bool), D01.astype(np.float32), D01.astype(np.uint64)])
def test_load_D(tmp_path: Path, D: np.ndarray) -> None:
    np.savez(tmp_path / "p.npz", D=D)
    pat = load_patterns(tmp_path / "p.npz")
    assert list(pat) == ["D"]
    assert pat["D"].dtype == np.uint8 and pat["D"].flags.c_contiguous
    np.testing.assert_array_equal(pat["D"], D01)
    assert validate_patterns(pat, n=4, d_features=99)["D"] is not None


def test_load_G(tmp_path: Path) -> None:
    G = np.array([[1.0, -0.5], [0.25, 2.0], [0.0, 1.0]], dtype=np.float32)
    np.savez(tmp_path / "p.npz", G=G)
    pat = load_patterns(str(tmp_path / "p.npz"))
    assert list(pat) == ["G"] and pat["G"].dtype == np.float64
    np.testing.assert_array_equal(pat["G"], G)
    validate_patterns(pat, n=1000, d_features=3)


@pytest.mark.parametrize("value, shown", [(0.5, "0.5"), (np.nan, "nan"), (-1, r"-1\.0")])
def test_D_values(tmp_path: Path, value: float, shown: str) -> None:
    D = D01.astype(float)
    D[2, 1] = value
    np.savez(tmp_path / "p.npz", D=D)
    with pytest.raises(InputError, match=rf"D must contain only 0 and 1, found {shown} at index \(2, 1\)"):
        load_patterns(tmp_path / "p.npz")


@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "Inf")])
def test_G_not_finite(tmp_path: Path, value: float, kind: str) -> None:
    np.savez(tmp_path / "p.npz", G=np.array([[1.0, value]]))
    with pytest.raises(InputError, match=rf"G contains {kind} at index \(0, 1\)"):
        load_patterns(tmp_path / "p.npz")


def test_D_one_dimensional(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", D=np.array([0, 1, 1]))
    with pytest.raises(InputError, match=r"D must be 2-D \(n, P\) with one column per pattern, got shape "
                                         r"\(3,\)\. Reshape a single pattern with D\.reshape\(-1, 1\)\."):
        load_patterns(tmp_path / "p.npz")


@pytest.mark.parametrize("key, shape", [("D", (3, 0)), ("G", (0, 2))])
def test_empty(tmp_path: Path, key: str, shape: tuple) -> None:
    np.savez(tmp_path / "p.npz", **{key: np.zeros(shape)})
    with pytest.raises(InputError, match=rf"{key} is empty \(shape \({shape[0]}, {shape[1]}\)\)"):
        load_patterns(tmp_path / "p.npz")


def test_D_text(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", D=np.array([["1", "0"]]))
    with pytest.raises(InputError, match=r"D must be a 0/1 matrix \(bool, integer or float\), got dtype <U1"):
        load_patterns(tmp_path / "p.npz")


def test_G_complex(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", G=np.array([[1 + 1j]]))
    with pytest.raises(InputError, match=r"G must be numeric \(float or integer\), got dtype complex128"):
        load_patterns(tmp_path / "p.npz")


def test_neither(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", patterns=D01)
    with pytest.raises(FormatError, match=r"has neither D nor G \(found \['patterns'\]\); expected "
                                          r"exactly one"):
        load_patterns(tmp_path / "p.npz")


def test_extra_array(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", D=D01, lam=np.array(0.1))
    with pytest.raises(FormatError, match=r"has unexpected arrays \['lam'\] besides 'D'; remove them"):
        load_patterns(tmp_path / "p.npz")


def test_object_array(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", D=np.array([[1, None]], dtype=object))
    with pytest.raises(FormatError, match=r"array 'D' in pattern file .* is an object array"):
        load_patterns(tmp_path / "p.npz")


def test_wrong_extension(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("1,0\n")
    with pytest.raises(FormatError, match=r"pattern file .* has extension '\.csv'; pattern sets are \.npz "
                                          r"files written with np\.savez\(path, D=D\)"):
        load_patterns(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"pattern file '.*p\.npz' does not exist"):
        load_patterns(tmp_path / "p.npz")


# --- validate_patterns -------------------------------------------------------------------


def test_validate_D_rows() -> None:
    with pytest.raises(InputError, match=r"^D has 40 rows but the data has 50 samples: D must be \(n, P\) = "
                                         r"\(50, P\), one row per sample"):
        validate_patterns({"D": np.ones((40, 7))}, n=50, d_features=3)


def test_validate_G_rows() -> None:
    with pytest.raises(InputError, match=r"^G has 3 rows but the problem has 4 feature columns: G must be "
                                         r"\(d, P\) = \(4, P\); with a first-layer bias, d counts the ones "
                                         r"column"):
        validate_patterns({"G": np.ones((3, 7))}, n=50, d_features=4)


def test_validate_cleans() -> None:
    out = validate_patterns({"D": np.array([[True], [False]])}, n=2, d_features=1)
    assert out["D"].dtype == np.uint8 and out["D"].tolist() == [[1], [0]]
    out = validate_patterns({"G": [[1, 2]]}, n=2, d_features=1)
    assert out["G"].dtype == np.float64


def test_validate_checks_values() -> None:
    with pytest.raises(InputError, match=r"D must contain only 0 and 1, found 3 at index \(0, 0\)"):
        validate_patterns({"D": np.array([[3]])}, n=1, d_features=1)


@pytest.mark.parametrize("pat", [{}, {"D": D01, "G": np.ones((2, 2))}, {"X": D01}, [D01]])
def test_validate_keys(pat: object) -> None:
    with pytest.raises(InputError, match=r"The 'pat' argument of validate_patterns must be a dict with "
                                         r"exactly one key, 'D' or 'G'\. Got .* instead\."):
        validate_patterns(pat, n=4, d_features=3)  # type: ignore[arg-type]
