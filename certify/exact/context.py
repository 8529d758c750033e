"""One exact view of (data, network, lam), computed once and shared by the claims.

Built from plain Python floats so that the checker needs neither NumPy nor the loaders.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import cached_property

from certify.exact import patterns as pattern_strings
from certify.exact.dyadic import DyadicMatrix, ones_column
from certify.exact.nc import ExactEvaluation, ExactGradient, evaluate, gradient


class ExactContext:
    """Exact data, network and derived quantities.

    Parameters
    ----------
    X : rows of floats, shape (n, d) -- raw features (no bias column).
    y : floats, shape (n,).
    W1 : rows of floats, shape (d, m).
    w2 : floats, shape (m,).
    b1 : floats, shape (m,), or None. When given, X gets a ones column and ``b1`` becomes
        the last row of ``W1`` (theory.md §1).
    lam : Fraction, > 0.
    """

    def __init__(self, X: Sequence[Sequence[float]], y: Sequence[float], W1: Sequence[Sequence[float]],
                 w2: Sequence[float], b1: Sequence[float] | None, lam: Fraction) -> None:
        self.lam = Fraction(lam)
        self.bias = b1 is not None
        Xd = DyadicMatrix.from_rows(X)
        W1d = DyadicMatrix.from_rows(W1)
        if self.bias:
            Xd = Xd.hstack(ones_column(len(X)))
            W1d = W1d.vstack(DyadicMatrix.from_rows([list(b1)]))
        self.X = Xd
        self.y = DyadicMatrix.from_column(y)
        self.W1 = W1d
        self.w2 = DyadicMatrix.from_column(w2)
        self.n, self.d = Xd.shape
        self.m = W1d.shape[1]

    @cached_property
    def evaluation(self) -> ExactEvaluation:
        return evaluate(self.X, self.y, self.W1, self.w2, self.lam)

    @cached_property
    def gradient(self) -> ExactGradient:
        return gradient(self.X, self.W1, self.w2, self.lam, self.evaluation)

    @cached_property
    def X_rows(self) -> list[list[int]]:
        return self.X.rows()

    @cached_property
    def zero_rows(self) -> list[bool]:
        return [not any(row) for row in self.X_rows]

    @cached_property
    def w1_zero(self) -> list[bool]:
        rows = self.W1.rows()
        return [not any(row[j] for row in rows) for j in range(self.m)]

    def own_scope(self, max_ties: int) -> pattern_strings.OwnScope:
        """The network's own exact patterns, every tie subset included (exact/patterns.py)."""
        return pattern_strings.own_scope(self.evaluation.preact, self.zero_rows, self.w1_zero, max_ties)

    @cached_property
    def ties(self) -> list[tuple[int, int]]:
        """Every exact tie ``(k, j)`` where NC may have a kink: ``x_k^T W1_j = 0``, ``x_k != 0``.

        A neuron with ``W1_j = 0`` is tied with every non-zero point; it is listed only when
        ``w2_j != 0`` (with ``w2_j = 0`` its jumps ``w2_j e_k x_k`` vanish and NC is
        differentiable in its weights). Sorted by ``(k, j)``.
        """
        pre = self.evaluation.preact
        w2 = [int(v) for v in self.w2.mat.entries()]
        return [(k, j) for k in range(self.n) if not self.zero_rows[k]
                for j in range(self.m) if pre[k][j] == 0 and (not self.w1_zero[j] or w2[j] != 0)]
