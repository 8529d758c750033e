"""Validate user inputs once, at entry; each ``check_*`` returns the cleaned value.

Messages name the input, what was found, what was expected, and the fix.
"""

from __future__ import annotations

from fractions import Fraction

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
