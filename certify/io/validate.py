"""Validate user inputs once, at entry; each ``check_*`` returns the cleaned value.

Messages name the input, what was found, what was expected, and the fix.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from certify.errors import InputError
from certify.exact.rational import parse_user_rational


def _as_float_array(value: object, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InputError(
            f"{name} must be numeric (float or integer), got dtype {arr.dtype}. "
            f"Convert it with np.asarray({name}, dtype=float) after removing text entries.")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    out = arr.astype(np.float64)
    if arr.dtype.kind in "iu" and not np.array_equal(out.astype(arr.dtype), arr):
        raise InputError(f"{name} has integers too large to be represented exactly as float64")
    return out


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(arr[idx]) else "Inf"
        raise InputError(f"{name} contains {kind} at index {idx} ({int(bad.sum())} non-finite "
                         f"entries in all); remove or impute them before verifying.")


def check_data(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` as float64 (n, d) and ``y`` as float64 (n,) or raise InputError."""
    X = _as_float_array(X, "X")
    y = _as_float_array(y, "y")
    if X.ndim != 2:
        raise InputError(f"X must be 2-D (n, d), got shape {X.shape}. "
                         "Reshape a single feature with X.reshape(-1, 1).")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise InputError(f"y must be 1-D (n,) with one target per row, got shape {y.shape}; "
                         "certify handles scalar-output networks only.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X is empty (shape {X.shape}): need at least one row and one feature.")
    if X.shape[0] != y.shape[0]:
        raise InputError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries: "
                         "they must have the same number of samples.")
    _check_finite(X, "X")
    _check_finite(y, "y")
    return np.ascontiguousarray(X), np.ascontiguousarray(y)


def check_network(W1: object, w2: object, b1: object | None, n_features: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return ``W1`` (d, m), ``w2`` (m,), ``b1`` (m,) or None as float64, or raise InputError."""
    W1 = _as_float_array(W1, "W1")
    w2 = _as_float_array(w2, "w2")
    if W1.ndim != 2:
        raise InputError(f"W1 must be 2-D (d, m) with column j holding neuron j's input weights, "
                         f"got shape {W1.shape}.")
    if w2.ndim == 2 and 1 in w2.shape:
        w2 = w2.reshape(-1)
    if w2.ndim != 1:
        raise InputError(f"w2 must be 1-D (m,), got shape {w2.shape}; certify handles scalar "
                         "outputs only.")
    if W1.shape[1] != w2.shape[0]:
        raise InputError(f"W1 has {W1.shape[1]} neurons (columns) but w2 has {w2.shape[0]} "
                         "entries. W1 must be (d, m); a PyTorch Linear weight is (m, d): transpose it.")
    if W1.shape[1] == 0:
        raise InputError("the network has no neurons (m = 0).")
    if n_features is not None and W1.shape[0] != n_features:
        raise InputError(
            f"W1 has shape {W1.shape} but X has {n_features} features: W1 must be "
            f"(d, m) = ({n_features}, m). A PyTorch Linear weight is (m, d); transpose it or "
            "load the state_dict with --format torch.")
    if b1 is not None:
        b1 = _as_float_array(b1, "b1").reshape(-1)
        if b1.shape[0] != W1.shape[1]:
            raise InputError(f"b1 has {b1.shape[0]} entries but the network has {W1.shape[1]} neurons.")
        _check_finite(b1, "b1")
    _check_finite(W1, "W1")
    _check_finite(w2, "w2")
    return (np.ascontiguousarray(W1), np.ascontiguousarray(w2),
            None if b1 is None else np.ascontiguousarray(b1))


def check_lambda(lam: object, where: str = "verify") -> Fraction:
    """Return ``lam`` as an exact positive rational or raise InputError.

    A string is read as an exact decimal or fraction ("0.1" is 1/10); a float as the
    binary value it stores.
    """
    try:
        value = parse_user_rational(lam, "lam")
    except ValueError:
        raise InputError(f"The 'lam' argument of {where} must be a positive rational such as "
                         f"'1/10'. Got {lam!r} instead.") from None
    if value <= 0:
        raise InputError(f"The 'lam' argument of {where} must be a positive rational such as "
                         f"'1/10'. Got {lam!r} instead (lam <= 0).")
    return value


def check_path(path: object, what: str = "input file") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` to an existing regular file, or raise InputError.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    what : str, default="input file"
        What the file holds, for the message (e.g. ``"data file"``).
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise InputError(f"The path of the {what} must be a str or os.PathLike. Got {path!r} instead.")
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {str(p)!r} does not exist (looked for {str(p.absolute())!r}); "
                         "check the path and the working directory.")
    if p.is_dir():
        raise InputError(f"{what} {str(p)!r} is a directory; give the path of a file inside it.")
    if not os.access(p, os.R_OK):
        raise InputError(f"{what} {str(p)!r} is not readable (permission denied); check its permissions.")
    return p


def check_pattern_matrix(D: object, name: str = "D") -> np.ndarray:
    """Return an activation-pattern matrix as uint8 (n, P) with entries 0/1, or raise InputError.

    Parameters
    ----------
    D : array of shape (n, P)
        Column ``p`` is the 0/1 indicator of the samples active in pattern ``p``. Integer,
        bool or float arrays are accepted when every entry is exactly 0 or 1.
    name : str, default="D"
        Name of the input, for messages.
    """
    arr = np.asarray(D)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must be a 0/1 matrix (bool, integer or float), got dtype {arr.dtype}.")
    if arr.ndim != 2:
        raise InputError(f"{name} must be 2-D (n, P) with one column per pattern, got shape {arr.shape}. "
                         f"Reshape a single pattern with {name}.reshape(-1, 1).")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {arr.shape}): need at least one sample and one pattern.")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{name} must contain only 0 and 1, found {arr[idx].item()!r} at index {idx} "
                         f"({int(bad.sum())} such entries in all); threshold it, e.g. "
                         f"({name} > 0).astype(np.uint8).")
    return np.ascontiguousarray(arr.astype(np.uint8))


def check_gates(G: object, name: str = "G") -> np.ndarray:
    """Return a gate matrix as float64 (d, P), finite, or raise InputError.

    Parameters
    ----------
    G : array of shape (d, P)
        Column ``p`` is a gate vector ``g``; its pattern is ``1[X g > 0]``. ``d`` counts the
        ones column when the problem has a first-layer bias.
    name : str, default="G"
        Name of the input, for messages.
    """
    arr = _as_float_array(G, name)
    if arr.ndim != 2:
        raise InputError(f"{name} must be 2-D (d, P) with one gate vector per column, got shape "
                         f"{arr.shape}. Reshape a single gate with {name}.reshape(-1, 1).")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {arr.shape}): need at least one row and one gate.")
    _check_finite(arr, name)
    return np.ascontiguousarray(arr)
