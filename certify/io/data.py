"""Load training data ``(X, y)`` from ``.npz`` or ``.csv`` files.

Formats, chosen by the file extension:

``.npz``
    Arrays ``X`` (n, d) and ``y`` (n,) (other arrays are ignored), read with
    ``allow_pickle=False``: an object array inside the archive is refused.
``.csv``
    Comma-separated numbers, one sample per line; the target is column ``target_column``
    (the last by default) and the other columns are the features. A first line whose
    fields are *all* non-numeric is a header: it is skipped and a :class:`UserWarning`
    says so. Blank lines are ignored.

Every loader returns validated float64 arrays (:func:`certify.io.validate.check_data`)
and raises :class:`~certify.errors.FormatError` or :class:`~certify.errors.InputError`
(both ``ValueError``) with the file name and, for CSV, the line number.
"""

from __future__ import annotations

import csv
import io
import operator
import os
import warnings
import zipfile
import zlib
from pathlib import Path
from tokenize import TokenError

import numpy as np

from certify.errors import FormatError, InputError
from certify.io.validate import check_data, check_path

#: Data formats by file extension.
DATA_FORMATS = {".npz": "npz", ".csv": "csv"}


def load_data(path: str | os.PathLike, target_column: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Load and validate training data.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npz`` file with arrays ``X`` (n, d) and ``y`` (n,), or a ``.csv`` file of numbers.
    target_column : int, default=-1
        For CSV, the column holding the target (Python indexing: ``-1`` is the last); the
        remaining columns, in order, are the features. Ignored for ``.npz``.

    Returns
    -------
    X : ndarray of shape (n, d), float64
    y : ndarray of shape (n,), float64

    Raises
    ------
    InputError
        The file does not exist, ``target_column`` is out of range, or the arrays fail
        :func:`~certify.io.validate.check_data` (NaN, Inf, mismatched lengths, ...).
    FormatError
        Unknown extension, corrupt or truncated ``.npz``, pickled arrays, missing ``X``/``y``,
        or a malformed CSV (ragged rows, text in a data row, empty file).

    Examples
    --------
    >>> X, y = load_data("train.csv")                    # doctest: +SKIP
    >>> X, y = load_data("train.csv", target_column=0)   # doctest: +SKIP
    """
    p = check_path(path, "data file")
    kind = DATA_FORMATS.get(p.suffix.lower())
    if kind is None:
        raise FormatError(f"data file {str(p)!r} has extension {p.suffix!r}; supported data formats are "
                          ".npz (arrays X and y) and .csv (numbers, target in the last column). "
                          "Convert the file or rename it if it already is one of these.")
    if kind == "npz":
        arrays = read_npz(p, "data file", "np.savez(path, X=X, y=y)")
        missing = [k for k in ("X", "y") if k not in arrays]
        if missing:
            raise FormatError(f"data file {str(p)!r} has no array {' or '.join(map(repr, missing))}: "
                              f"found {sorted(arrays)}, expected 'X' (n, d) and 'y' (n,). "
                              "Save it with np.savez(path, X=X, y=y).")
        X, y = arrays["X"], arrays["y"]
    else:
        X, y = _read_csv(p, target_column)
    try:
        return check_data(X, y)
    except InputError as exc:
        raise InputError(f"data file {str(p)!r}: {exc}") from None


def read_npz(path: Path, what: str, how_to_save: str) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` archive safely (``allow_pickle=False``).

    Parameters
    ----------
    path : Path
        An existing file.
    what : str
        What the file holds, for messages (``"data file"``, ``"model file"``, ...).
    how_to_save : str
        The call that writes a valid file, quoted in messages.

    Returns
    -------
    dict of str to ndarray
        The arrays, in the archive's order.

    Raises
    ------
    FormatError
        The file is not a readable ``.npz`` archive (truncated, corrupt, a bare ``.npy``,
        a pickle) or holds an object array.
    """
    where = f"{what} {str(path)!r}"
    try:
        obj = np.load(path, allow_pickle=False)
    except ValueError:
        # numpy falls back to unpickling what is neither a zip archive nor a .npy file.
        raise FormatError(f"{where} is not an .npz archive (neither a zip archive nor a .npy file); "
                          f"write it with {how_to_save}.") from None
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, SyntaxError,
            TokenError, MemoryError, OverflowError) as exc:
        raise FormatError(f"{where} is not a readable .npz archive (truncated or corrupt: {exc}); "
                          f"write it again with {how_to_save}.") from None
    if isinstance(obj, np.ndarray):
        raise FormatError(f"{where} holds a single array (.npy format), not an .npz archive of named "
                          f"arrays; write it with {how_to_save}.")
    out: dict[str, np.ndarray] = {}
    with obj:
        for key in obj.files:
            try:
                out[key] = obj[key]
            except ValueError as exc:
                if "allow_pickle" in str(exc):
                    raise FormatError(
                        f"array {key!r} in {where} is an object array, stored with pickle; certify "
                        "loads .npz files with allow_pickle=False because unpickling can run code. "
                        f"Save numeric arrays instead, e.g. {key}=np.asarray({key}, dtype=float)."
                    ) from None
                raise FormatError(f"array {key!r} in {where} is unreadable ({exc}); write the file "
                                  f"again with {how_to_save}.") from None
            except (zipfile.BadZipFile, EOFError, OSError, zlib.error, SyntaxError, TokenError,
                    RuntimeError, NotImplementedError, MemoryError, OverflowError) as exc:
                # malformed member headers (tokenize errors), encrypted members, unknown
                # compression methods: all found by fuzzing (tests/data/fuzz_regressions/)
                raise FormatError(f"array {key!r} in {where} is corrupt or unsupported "
                                  f"({type(exc).__name__}: {exc}); write the file again "
                                  f"with {how_to_save}.") from None
    return out


def _parse_number(text: str) -> float | None:
    """Return ``text`` as a float, or None when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def _not_a_number(where: str, line: int, col: int, text: str, first: bool) -> FormatError:
    msg = f"{where}, line {line}, column {col}: {text!r} is not a number."
    if any(sep in text for sep in ";\t|") or len(text.split()) > 1:
        msg += " certify reads comma-separated values; convert the delimiter to ','."
    elif first:
        msg += (" A first line is skipped as a header only when every field is text; "
                "fix or remove the line.")
    else:
        msg += " Every line after the optional header must hold numbers only."
    return FormatError(msg)


def _read_csv(path: Path, target_column: object) -> tuple[np.ndarray, np.ndarray]:
    """Parse a numeric CSV file into ``(X, y)`` (unvalidated float64 arrays)."""
    where = f"data file {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{where} is not UTF-8 text (undecodable byte at offset {exc.start}); "
                          "is it a binary file with a .csv extension?") from None
    except OSError as exc:
        raise InputError(f"{where} cannot be read ({exc.strerror or exc}).") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            if all(not f.strip() for f in fields):
                continue  # blank line
            rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise FormatError(f"{where}, line {reader.line_num}: malformed CSV ({exc}).") from None
    if rows and len(rows[0][1]) == 1 and any(sep in rows[0][1][0] for sep in ";\t|"):
        line, (field,) = rows[0]
        raise FormatError(f"{where}, line {line}: no commas in {field.strip()!r}; certify reads "
                          "comma-separated values: convert the delimiter to ','.")
    has_header = bool(rows) and all(_parse_number(f) is None for f in rows[0][1])
    if has_header:
        line, header = rows.pop(0)
        warnings.warn(f"{where}: line {line} is all text and was skipped as a header: "
                      f"{[f.strip() for f in header]}", UserWarning, stacklevel=3)
    if not rows:
        raise FormatError(f"{where} has no data rows; expected comma-separated numbers, one sample "
                          "per line, the target in the last column.")
    width = len(rows[0][1])
    values: list[list[float]] = []
    for i, (line, fields) in enumerate(rows):
        if len(fields) != width:
            raise FormatError(f"{where}, line {line}: {len(fields)} fields but line {rows[0][0]} has "
                              f"{width}; every row must have the same number of columns.")
        row = []
        for col, field in enumerate(fields, start=1):
            stripped = field.strip()
            if not stripped:
                raise FormatError(f"{where}, line {line}, column {col} is empty (a missing value or a "
                                  "trailing comma); fill in or drop the row.")
            value = _parse_number(stripped)
            if value is None:
                raise _not_a_number(where, line, col, stripped, first=i == 0 and not has_header)
            row.append(value)
        values.append(row)
    if width < 2:
        raise FormatError(f"{where} has a single column; expected at least one feature column and the "
                          "target column, separated by commas.")
    t = _check_target_column(target_column, width)
    table = np.array(values, dtype=np.float64)
    return np.delete(table, t, axis=1), table[:, t]


def _check_target_column(target_column: object, width: int) -> int:
    msg = (f"The 'target_column' argument of load_data must be an integer in [{-width}, {width - 1}] "
           f"for a file with {width} columns. Got {target_column!r} instead.")
    if isinstance(target_column, bool):
        raise InputError(msg)
    try:
        t = operator.index(target_column)
    except TypeError:
        raise InputError(msg) from None
    if not -width <= t < width:
        raise InputError(msg)
    return t % width
