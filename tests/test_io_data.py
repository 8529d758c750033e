"""Tests of certify.io.data: loading (X, y) from .npz and .csv, and every way it can fail."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from certify.errors import FormatError, InputError
from certify.io.data import load_data

BAD = Path(__file__).parent / "data" / "bad"
X3 = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 0.5]])
Y3 = np.array([1.0, 0.0, -1.0])

# file in tests/data/bad -> (error, message pattern); README.md there lists the same.
DATA_CORPUS = {
    "data_header_only.csv": (FormatError, r"data_header_only\.csv' has no data rows"),
    "data_empty.csv": (FormatError, r"data_empty\.csv' has no data rows; expected comma-separated"),
    "data_ragged.csv": (FormatError, r"data_ragged\.csv', line 2: 2 fields but line 1 has 3"),
    "data_text.csv": (FormatError, r"data_text\.csv', line 2, column 2: 'oops' is not a number"),
    "data_mixed_header.csv": (FormatError, r"line 1, column 1: 'x' is not a number\. A first line is "
                                           r"skipped as a header only when every field is text"),
    "data_semicolon.csv": (FormatError, r"line 1: no commas in '0;1;1'.*convert the delimiter to ','"),
    "data_missing_value.csv": (FormatError, r"line 2, column 2 is empty \(a missing value"),
    "data_nan.csv": (InputError, r"data_nan\.csv': X contains NaN at index \(1, 1\)"),
    "data_one_column.csv": (FormatError, r"has a single column; expected at least one feature"),
    "data_truncated.npz": (FormatError, r"data_truncated\.npz' is not a readable \.npz archive "
                                        r"\(truncated or corrupt"),
    "data_object_array.npz": (FormatError, r"array 'X' in data file .*data_object_array\.npz' is an "
                                           r"object array, stored with pickle.*allow_pickle=False"),
    "data_missing_keys.npz": (FormatError, r"has no array 'X' or 'y': found \['Y', 'x'\], expected 'X'"),
    "data_nan.npz": (InputError, r"data_nan\.npz': X contains NaN at index \(2, 0\)"),
    "data_inf.npz": (InputError, r"y contains Inf at index \(1,\)"),
    "data_3d.npz": (InputError, r"X must be 2-D \(n, d\), got shape \(3, 2, 1\)"),
    "data_mismatched_n.npz": (InputError, r"X has 3 rows but y has 2 entries"),
}


@pytest.mark.filterwarnings("ignore:.*skipped as a header:UserWarning")
@pytest.mark.parametrize("name", sorted(DATA_CORPUS))
def test_bad_corpus(name: str) -> None:
    error, pattern = DATA_CORPUS[name]
    with pytest.raises(error, match=pattern):
        load_data(BAD / name)


def test_bad_corpus_is_covered() -> None:
    files = {p.name for p in BAD.iterdir() if p.name.startswith("data_")}
    assert files == set(DATA_CORPUS) | {"data_header.csv"}
    others = {p.name for p in BAD.iterdir() if not p.name.startswith(("data_", "model_", "patterns_"))}
    assert others == {"README.md", "make_corpus.py"}


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        load_data(BAD / "data_ragged.csv")
    with pytest.raises(ValueError):
        load_data(BAD / "does_not_exist.csv")


# --- npz ---------------------------------------------------------------------------------


def test_npz_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=X3, y=Y3, extra=np.arange(4))  # other arrays are ignored
    X, y = load_data(path)
    assert X.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_array_equal(X, X3)
    np.testing.assert_array_equal(y, Y3)


def test_npz_integer_and_column_y(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([[1, 2], [3, 4]], dtype=np.int32), y=np.array([[1], [0]]))
    X, y = load_data(str(path), target_column=0)  # target_column is ignored for npz
    assert X.dtype == np.float64 and y.shape == (2,)
    np.testing.assert_array_equal(y, [1.0, 0.0])


def test_npz_string_array(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([["a", "b"]]), y=np.zeros(1))
    with pytest.raises(InputError, match=r"d\.npz': X must be numeric .*got dtype <U1"):
        load_data(path)


def test_npz_empty(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((0, 2)), y=np.zeros(0))
    with pytest.raises(InputError, match=r"X is empty \(shape \(0, 2\)\)"):
        load_data(path)


def test_npz_corrupt_member(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=X3, y=Y3)
    raw = bytearray(path.read_bytes())
    raw[100:110] = b"\x00" * 10  # inside X.npy's data: the CRC no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(FormatError,
                       match=r"array 'X' in data file .* is corrupt or unsupported \(BadZipFile: Bad CRC-32"):
        load_data(path)


def test_npz_that_is_text(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    path.write_text("X,y\n1,2\n")
    with pytest.raises(FormatError, match=r"is not an \.npz archive \(neither a zip archive nor a \.npy"):
        load_data(path)


def test_npz_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match=r"is not a readable \.npz archive"):
        load_data(path)


def test_npz_that_is_npy(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    with open(path, "wb") as fh:
        np.save(fh, X3)
    with pytest.raises(FormatError, match=r"holds a single array \(\.npy format\).*"
                                          r"np\.savez\(path, X=X, y=y\)"):
        load_data(path)


def test_npz_pickled_object_is_never_unpickled(tmp_path: Path) -> None:
    # An object array whose elements would run code if unpickled.
    class Boom:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "ran",))

    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w") as zf, zf.open("X.npy", "w") as fh:
        np.lib.format.write_array(fh, np.array([Boom()], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match=r"array 'X' .* is an object array, stored with pickle"):
        load_data(path)
    assert not (tmp_path / "ran").exists()


# --- csv ---------------------------------------------------------------------------------


def _csv(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_basic(tmp_path: Path) -> None:
    X, y = load_data(_csv(tmp_path, "0,1,1\n1,-1,0\n2,0.5,-1\n"))
    np.testing.assert_array_equal(X, X3)
    np.testing.assert_array_equal(y, Y3)


def test_csv_exact_float_parse(tmp_path: Path) -> None:
    X, y = load_data(_csv(tmp_path, "0.1,1e-3,-2.5E2\n"))
    assert X.tolist() == [[0.1, 0.001]] and y.tolist() == [-250.0]


@pytest.mark.parametrize("target", [0, 1, 2, -1, -3, np.int64(2)])
def test_csv_target_column(tmp_path: Path, target: int) -> None:
    rows = [[0.0, 1.0, -1.0], [1.0, 0.0, 1.0]]
    X, y = load_data(_csv(tmp_path, "0,1,-1\n1,0,1\n"), target_column=target)
    col = int(target) % 3
    np.testing.assert_array_equal(y, [r[col] for r in rows])
    np.testing.assert_array_equal(X, np.delete(np.array(rows), col, axis=1))


@pytest.mark.parametrize("target", [3, -4, 1.0, "1", True, None])
def test_csv_target_column_invalid(tmp_path: Path, target: object) -> None:
    path = _csv(tmp_path, "0,1,-1\n1,0,1\n")
    with pytest.raises(InputError, match=r"The 'target_column' argument of load_data must be an integer "
                                         r"in \[-3, 2\] for a file with 3 columns\. Got .* instead\."):
        load_data(path, target_column=target)


def test_csv_header_skipped_and_reported(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"data_header\.csv': line 1 is all text and was skipped as a "
                                         r"header: \['a', 'b', 'target'\]"):
        X, y = load_data(BAD / "data_header.csv")
    np.testing.assert_array_equal(X, X3)
    np.testing.assert_array_equal(y, Y3)


def test_csv_without_header_does_not_warn(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_data(_csv(tmp_path, "0,1,1\n"))


def test_csv_quoted_bom_blank_lines_crlf(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b'\xef\xbb\xbf"0", 1 ,1\r\n\r\n1,-1,0\r\n  \r\n2,0.5,-1\r\n\r\n')
    X, y = load_data(path)
    np.testing.assert_array_equal(X, X3)
    np.testing.assert_array_equal(y, Y3)


def test_csv_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"line 4, column 3: 'x' is not a number\. Every line after"):
        load_data(_csv(tmp_path, "0,1,1\n\n1,2,3\n4,5,x\n"))


def test_csv_text_after_header(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="skipped as a header"):
        with pytest.raises(FormatError, match=r"line 3, column 1: 'abc' is not a number\. Every line"):
            load_data(_csv(tmp_path, "a,b\n1,2\nabc,3\n"))


def test_csv_trailing_comma(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"line 1, column 3 is empty \(a missing value or a trailing "
                                          r"comma\)"):
        load_data(_csv(tmp_path, "1,2,\n3,4,\n"))


def test_csv_tab_separated(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"line 1: no commas in '1\\t2'"):
        load_data(_csv(tmp_path, "1\t2\n3\t4\n"))


def test_csv_space_separated_after_first_line(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"line 2, column 1: '3 4' is not a number\. certify reads "
                                          r"comma-separated values"):
        load_data(_csv(tmp_path, "1,2\n3 4,5\n"))


def test_csv_inf(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"y contains Inf at index \(0,\)"):
        load_data(_csv(tmp_path, "1,inf\n"))


def test_csv_blank_lines_only(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"has no data rows"):
        load_data(_csv(tmp_path, "\n  \n\n"))


def test_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"1,2\n\xff\xfe,3\n")
    with pytest.raises(FormatError, match=r"is not UTF-8 text \(undecodable byte at offset 4\)"):
        load_data(path)


def test_csv_nul_byte(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"1,2\n3,\x004\n")
    with pytest.raises(FormatError, match=r"d\.csv', line \d+"):
        load_data(path)


# --- paths and extensions ----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError, match=r"data file '.*nope\.csv' does not exist \(looked for '/"):
        load_data(path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"data file '.*' is a directory"):
        load_data(tmp_path)


def test_unknown_extension(tmp_path: Path) -> None:
    path = _csv(tmp_path, "1,2\n", name="d.txt")
    with pytest.raises(FormatError, match=r"has extension '\.txt'; supported data formats are \.npz "
                                          r"\(arrays X and y\) and \.csv"):
        load_data(path)


def test_extension_case_insensitive(tmp_path: Path) -> None:
    X, y = load_data(_csv(tmp_path, "1,2\n", name="D.CSV"))
    assert X.shape == (1, 1) and y.tolist() == [2.0]


@pytest.mark.parametrize("path", [3, None, b"d.csv"])
def test_path_type(path: object) -> None:
    with pytest.raises(InputError, match=r"The path of the data file must be a str or os\.PathLike\. "
                                         r"Got .* instead\."):
        load_data(path)  # type: ignore[arg-type]
