"""Hypothesis strategies for two-layer ReLU problems (in the style of ``hypothesis.extra.numpy``).

Every strategy returns float64 NumPy arrays (or :class:`~certify.testing.instance.Instance`
objects) in certify's conventions (theory.md §1): ``X`` is ``(n, d)``, ``y`` is ``(n,)``, a network
is ``W1 (d, m)`` (column ``j`` is neuron ``j``) and ``w2 (m,)``, patterns are 0/1 matrices
``D (n, P)``. With ``bias=True`` the last column of ``X`` is the (regularized) ones column.

Values are **dyadic** by default (``k / 2^bits`` with small ``k``): exact as floats and as
rationals, so exact ties (a data point exactly on a neuron's hyperplane), exact duplicates and
exact linear dependencies really occur, and claims that need exactness can be checked in
``fractions.Fraction`` without rounding. Everything shrinks towards few points, few features,
narrow networks and small integers, so a failing property reports a small counterexample.

Strategies
----------
:func:`dyadics`          exact dyadic floats in a range
:func:`data_sets`        ``(X, y)`` with controlled size, rank and degeneracy
:func:`networks`         ``(W1, w2)`` of any width: balanced or not, dead, at kinks, duplicated
:func:`pattern_scopes`   ``D``: every pattern (d = 2), sampled gates, or a network's own patterns
:func:`lams`             ``lam`` around the data's ``lam_max`` (both sides, and far away)
:func:`instances`        :class:`Instance` objects (data, scope, ``lam`` and a second ``lam2``)
:func:`planted_instances` instances with a known exact optimum (:mod:`certify.testing.known`)
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from certify.patterns.sampling import enumerate_planar, patterns_of_gates, unique_columns
from certify.testing.instance import Instance, lam_max

__all__ = ["DEGENERACIES", "data_sets", "dyadics", "instances", "lams", "networks", "pattern_scopes",
           "planted_instances"]

DEGENERACIES = ("duplicate_rows", "zero_rows", "parallel_rows", "common_hyperplane", "low_rank")
"""Degeneracies :func:`data_sets` can plant (each one, some, or none per example)."""

LAM_FACTORS = (Fraction(1, 16), Fraction(1, 4), Fraction(1, 2), Fraction(7, 8), Fraction(9, 8), Fraction(2),
               Fraction(8))
"""Multiples of ``lam_max`` drawn by :func:`lams`: far below, below, just below and just above, far above."""


def dyadics(low: float = -2.0, high: float = 2.0, bits: int = 2) -> st.SearchStrategy[float]:
    """Dyadic floats ``k / 2^bits`` in ``[low, high]``, shrinking to 0 (exact in binary and as rationals).

    Parameters
    ----------
    low, high : float
        Range (inclusive).
    bits : int, default=2
        Denominator ``2^bits``; ``bits=0`` gives integers.
    """
    scale = 1 << bits
    return st.integers(int(np.ceil(low * scale)), int(np.floor(high * scale))).map(lambda k: k / scale)


def _matrix(draw: st.DrawFn, rows: int, cols: int, elements: st.SearchStrategy[float]) -> np.ndarray:
    values = draw(st.lists(elements, min_size=rows * cols, max_size=rows * cols))
    return np.array(values, dtype=np.float64).reshape(rows, cols)


@st.composite
def data_sets(draw: st.DrawFn, n: st.SearchStrategy[int] | int | None = None,
              d: st.SearchStrategy[int] | int | None = None,
              elements: st.SearchStrategy[float] | None = None,
              degeneracies: tuple[str, ...] = DEGENERACIES, bias: bool | st.SearchStrategy[bool] = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """Data sets ``(X, y)``.

    Parameters
    ----------
    n, d : int or strategy of int, optional
        Number of points and of input features (without the bias column); default
        ``integers(1, 8)`` and ``integers(1, 3)``.
    elements : strategy of float, optional
        Entries of ``X`` and ``y``; default ``dyadics(-2, 2, bits=2)``.
    degeneracies : tuple of str
        Which of :data:`DEGENERACIES` may be planted: ``duplicate_rows`` (a row repeated, with
        its own target), ``zero_rows`` (a point at the origin: it defines no hyperplane),
        ``parallel_rows`` (a row replaced by a positive or negative multiple of another),
        ``common_hyperplane`` (every point orthogonal to one dyadic normal: rank ``d - 1``),
        ``low_rank`` (``X = A B`` with a drawn inner dimension).
    bias : bool or strategy of bool
        Append the ones column (then ``X`` has ``d + 1`` columns, the last all ones).
    """
    n = st.integers(1, 8) if n is None else n
    d = st.integers(1, 3) if d is None else d
    n = draw(n) if isinstance(n, st.SearchStrategy) else n
    d = draw(d) if isinstance(d, st.SearchStrategy) else d
    bias = draw(bias) if isinstance(bias, st.SearchStrategy) else bias
    elements = elements if elements is not None else dyadics()
    X = _matrix(draw, n, d, elements)
    y = np.array(draw(st.lists(elements, min_size=n, max_size=n)), dtype=np.float64)
    chosen = draw(st.sets(st.sampled_from(degeneracies), max_size=2)) if degeneracies else set()
    if "low_rank" in chosen and d >= 2:
        r = draw(st.integers(1, d - 1))
        X = _matrix(draw, n, r, dyadics(-1, 1, 1)) @ _matrix(draw, r, d, dyadics(-1, 1, 1))
    if "common_hyperplane" in chosen and d >= 2:
        # project onto the hyperplane orthogonal to a coordinate-aligned dyadic normal: exact
        k = draw(st.integers(0, d - 1))
        X[:, k] = 0.0
    if "parallel_rows" in chosen and n >= 2:
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        X[j] = draw(st.sampled_from([2.0, -1.0, 0.5, -2.0])) * X[i]
    if "duplicate_rows" in chosen and n >= 2:
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        X[j] = X[i]
    if "zero_rows" in chosen:
        X[draw(st.integers(0, n - 1))] = 0.0
    if bias:
        X = np.hstack([X, np.ones((n, 1))])
    return X, y


@st.composite
def networks(draw: st.DrawFn, X: np.ndarray, m: st.SearchStrategy[int] | int | None = None,
             elements: st.SearchStrategy[float] | None = None, balanced: bool | None = None,
             special: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Networks ``(W1 (d, m), w2 (m,))`` on the features ``X`` (n, d).

    Parameters
    ----------
    X : ndarray (n, d)
        Features (with the ones column if the problem has a bias): kinks and dead neurons are
        planted relative to these points.
    m : int or strategy of int, optional
        Width (default ``integers(1, 4)``; duplicated and split neurons add to it).
    elements : strategy of float, optional
        Weights; default ``dyadics(-2, 2, bits=2)``.
    balanced : bool, optional
        ``True``: every neuron has ``||W1_j|| = |w2_j|`` (dyadic norms are generally irrational, so
        balanced neurons are rescaled in floats); ``False``: never rescaled; ``None``: either.
    special : bool, default=True
        Plant some of: a neuron exactly at a kink (``W1_j`` orthogonal to a data point, exact in
        dyadics for d = 2), a dead neuron (``w2_j = 0``, ``W1_j = 0``, or ``X W1_j < 0`` everywhere),
        a duplicated neuron, and an exactly dependent pair (a neuron split into two positively
        collinear halves ``W1, W1`` with ``w2/2, w2/2``: same activation, dependent).
    """
    n, d = X.shape
    m = st.integers(1, 4) if m is None else m
    m = draw(m) if isinstance(m, st.SearchStrategy) else m
    elements = elements if elements is not None else dyadics()
    W1 = _matrix(draw, d, m, elements)
    w2 = np.array(draw(st.lists(elements, min_size=m, max_size=m)), dtype=np.float64)
    if special:
        for kind in draw(st.sets(st.sampled_from(["kink", "dead", "duplicate", "split"]), max_size=2)):
            j = draw(st.integers(0, m - 1))
            if kind == "kink" and d == 2:
                k = draw(st.integers(0, n - 1))
                W1[:, j] = draw(st.sampled_from([1.0, -1.0, 0.5])) * np.array([-X[k, 1], X[k, 0]])
            elif kind == "dead":
                how = draw(st.sampled_from(["w2", "W1", "negative"]))
                if how == "w2":
                    w2[j] = 0.0
                elif how == "W1":
                    W1[:, j] = 0.0
                elif d >= 2 and np.all(X[:, -1] == 1.0):
                    W1[:, j] = 0.0
                    W1[-1, j] = -1.0  # bias -1, no weights: X W1_j = -1 < 0 at every point
            elif kind == "duplicate":
                W1 = np.hstack([W1, W1[:, j:j + 1]])
                w2 = np.concatenate([w2, w2[j:j + 1]])
            elif kind == "split":
                W1 = np.hstack([W1, W1[:, j:j + 1]])
                w2 = np.concatenate([w2, w2[j:j + 1] / 2])
                w2[j] /= 2
    if balanced is None:
        balanced = draw(st.booleans())
    if balanced:
        norms = np.linalg.norm(W1, axis=0)
        live = (norms > 0) & (w2 != 0)
        t = np.ones_like(w2)
        t[live] = np.sqrt(np.abs(w2[live]) / norms[live])
        W1, w2 = W1 * t, np.where(live, w2 / t, 0.0)
        W1[:, ~live] = 0.0
    return W1, w2


@st.composite
def pattern_scopes(draw: st.DrawFn, X: np.ndarray, kind: str | None = None, max_patterns: int = 6,
                   W1: np.ndarray | None = None) -> np.ndarray:
    """Pattern scopes ``D (n, P)`` of the features ``X``.

    Parameters
    ----------
    X : ndarray (n, d)
    kind : {"all", "sampled", "own"}, optional
        ``"all"``: every full-dimensional pattern (``d = 2`` only, by angle; exact for dyadic data
        up to the angular resolution 1e-12); ``"sampled"``: the patterns ``1[X g >= 0]`` of up to
        ``max_patterns`` dyadic gates (duplicates removed; a gate may lie exactly on a data
        hyperplane); ``"own"``: the patterns of ``W1``'s neurons. Default: ``"all"`` when
        ``d = 2``, else ``"sampled"``.
    max_patterns : int
        Gates drawn for ``"sampled"``.
    W1 : ndarray (d, m), optional
        The network for ``"own"``.
    """
    n, d = X.shape
    kind = kind or ("all" if d == 2 else "sampled")
    if kind == "all":
        if d != 2:
            raise ValueError("pattern_scopes(kind='all') enumerates patterns for d = 2 only")
        return enumerate_planar(X)
    if kind == "own":
        if W1 is None:
            raise ValueError("pattern_scopes(kind='own') needs W1")
        return unique_columns((X @ W1 >= 0).astype(np.uint8))
    count = draw(st.integers(1, max_patterns))
    G = _matrix(draw, d, count, dyadics(-2, 2, 2))
    return patterns_of_gates(X, G)


@st.composite
def lams(draw: st.DrawFn, X: np.ndarray, y: np.ndarray, D: np.ndarray,
         factors: tuple[Fraction, ...] = LAM_FACTORS) -> float:
    """``lam = c * lam_max(X, y, D)`` with ``c`` from ``factors`` (default: 1/16 ... 8, both sides of
    ``lam_max`` and close to it); ``lam_max`` is the zero-solution threshold of theory.md §3. When
    ``lam_max = 0`` (no pattern correlates with ``y``) a dyadic ``lam`` in ``[1/4, 2]``."""
    lmax = lam_max(X, y, D)
    if lmax <= 0:
        return draw(st.sampled_from([0.25, 0.5, 1.0, 2.0]))
    return float(draw(st.sampled_from(factors))) * lmax


@st.composite
def instances(draw: st.DrawFn, max_n: int = 6, max_d: int = 3, scope: str | None = None,
              bias: bool | None = None, degeneracies: tuple[str, ...] = DEGENERACIES,
              max_patterns: int = 6) -> Instance:
    """:class:`Instance` objects: data, a pattern scope, ``lam`` around ``lam_max`` and ``lam2 > lam``.

    Parameters
    ----------
    max_n, max_d : int
        Upper bounds of the number of points and features (features count the bias column).
    scope : {"all", "sampled"}, optional
        ``"all"`` forces two features (``d = 2``, or ``d = 1`` plus the bias column) and every
        pattern (``Instance.complete``); ``"sampled"`` gate patterns; default: either.
    bias : bool, optional
        Force or forbid the ones column; default: either.
    degeneracies : tuple of str
        Passed to :func:`data_sets`.
    max_patterns : int
        Passed to :func:`pattern_scopes` for sampled scopes.
    """
    scope = scope or draw(st.sampled_from(["all", "sampled"]))
    use_bias = draw(st.booleans()) if bias is None else bias
    if scope == "all":
        d_in = 1 if use_bias else 2
    else:
        d_in = draw(st.integers(1, max(1, max_d - (1 if use_bias else 0))))
    X, y = draw(data_sets(n=st.integers(1, max_n), d=d_in, degeneracies=degeneracies, bias=use_bias))
    D = draw(pattern_scopes(X, kind=scope, max_patterns=max_patterns))
    lam = draw(lams(X, y, D))
    lam2 = lam * float(draw(st.sampled_from([Fraction(9, 8), Fraction(3, 2), Fraction(4)])))
    return Instance(X, y, lam, D, lam2=lam2, bias=use_bias, complete=scope == "all",
                    label=f"{scope} patterns{', bias' if use_bias else ''}")


@st.composite
def planted_instances(draw: st.DrawFn, max_n: int = 6):
    """Instances with a known exact optimum (:func:`certify.testing.known.planted_separable`):
    one feature, targets proportional to ``x_+`` and ``x_-`` plus noise-free zeros, ``lam`` chosen so
    that zero, one or two neurons are active. Returns a :class:`~certify.testing.known.Planted`."""
    from certify.testing.known import planted_separable

    n = draw(st.integers(1, max_n))
    x = draw(st.lists(dyadics(-2, 2, 1), min_size=n, max_size=n))
    slopes = (draw(dyadics(-2, 2, 1)), draw(dyadics(-2, 2, 1)))
    lam = draw(st.sampled_from([Fraction(1, 8), Fraction(1, 2), Fraction(1), Fraction(4)]))
    return planted_separable(x, slopes, lam)
