"""Load user-given activation patterns (a pattern set for the sub-sampled convex program).

An ``.npz`` file holds exactly one of:

``D``, shape (n, P)
    The patterns themselves: column ``p`` is the 0/1 vector of samples active in pattern
    ``p``. Integer, bool or float arrays are accepted when every entry is exactly 0 or 1;
    the loaded matrix is uint8.
``G``, shape (d, P)
    Gate vectors: column ``g`` gives the pattern ``1[F g > 0]`` where ``F`` is the problem's
    feature matrix. When the problem has a first-layer bias, ``F`` carries a ones column
    last, so ``G`` has ``d + 1`` rows and its last row multiplies the ones column.

Arrays are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import os

import numpy as np

from certify.errors import FormatError, InputError
from certify.io.data import read_npz
from certify.io.validate import check_gates, check_path, check_pattern_matrix

_HOW = "np.savez(path, D=D) for 0/1 patterns (n, P) or np.savez(path, G=G) for gates (d, P)"


def load_patterns(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load a pattern set from an ``.npz`` file with an array ``D`` or ``G``.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` file holding exactly one of ``D`` (n, P), entries 0/1, or ``G`` (d, P),
        finite floats (``d`` counts the ones column when the problem uses a bias).

    Returns
    -------
    dict
        ``{"D": uint8 array (n, P)}`` or ``{"G": float64 array (d, P)}``. Check it against
        the problem with :func:`validate_patterns`.

    Raises
    ------
    InputError
        Missing file, or values that are not 0/1 (``D``) or not finite (``G``), or not 2-D.
    FormatError
        Not an ``.npz`` archive, both or neither of ``D`` and ``G``, other arrays.
    """
    p = check_path(path, "pattern file")
    where = f"pattern file {str(p)!r}"
    if p.suffix.lower() != ".npz":
        raise FormatError(f"{where} has extension {p.suffix!r}; pattern sets are .npz files written "
                          f"with {_HOW}.")
    arrays = read_npz(p, "pattern file", _HOW)
    keys = [k for k in ("D", "G") if k in arrays]
    extra = [k for k in arrays if k not in ("D", "G")]
    if len(keys) != 1:
        found = "both D and G" if keys else f"neither D nor G (found {list(arrays)})"
        raise FormatError(f"{where} has {found}; expected exactly one: 'D' (n, P), 0/1 patterns, or "
                          f"'G' (d, P), gate vectors. Write it with {_HOW}.")
    if extra:
        raise FormatError(f"{where} has unexpected arrays {extra} besides {keys[0]!r}; remove them.")
    try:
        return _clean({keys[0]: arrays[keys[0]]})
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def validate_patterns(pat: dict, n: int, d_features: int) -> dict[str, np.ndarray]:
    """Check a pattern set against a problem's size; return it cleaned.

    Parameters
    ----------
    pat : dict
        ``{"D": (n, P) 0/1 array}`` or ``{"G": (d, P) array}``, as from :func:`load_patterns`.
    n : int
        Number of samples of the problem (rows of ``D``).
    d_features : int
        Number of feature columns of the problem, *including* the ones column when it uses
        a first-layer bias (rows of ``G``): ``problem.features.shape[1]``.

    Returns
    -------
    dict
        ``{"D": uint8 array}`` or ``{"G": float64 array}``.

    Raises
    ------
    InputError
        Wrong keys, values or shapes, e.g. "D has 40 rows but the data has 50 samples".
    """
    if not isinstance(pat, dict) or len(pat) != 1 or next(iter(pat)) not in ("D", "G"):
        got = sorted(pat) if isinstance(pat, dict) else type(pat).__name__
        raise InputError(f"The 'pat' argument of validate_patterns must be a dict with exactly one key, "
                         f"'D' or 'G'. Got {got} instead.")
    clean = _clean(pat)
    if "D" in clean:
        rows = clean["D"].shape[0]
        if rows != n:
            raise InputError(f"D has {rows} rows but the data has {n} samples: D must be (n, P) = "
                             f"({n}, P), one row per sample (transpose it if it is (P, n)).")
    else:
        rows = clean["G"].shape[0]
        if rows != d_features:
            raise InputError(f"G has {rows} rows but the problem has {d_features} feature columns: G must "
                             f"be (d, P) = ({d_features}, P); with a first-layer bias, d counts the ones "
                             "column (last row of G).")
    return clean


def _clean(pat: dict) -> dict[str, np.ndarray]:
    if "D" in pat:
        return {"D": check_pattern_matrix(pat["D"], "D")}
    return {"G": check_gates(pat["G"], "G")}
