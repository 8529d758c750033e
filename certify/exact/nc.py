"""Exact objective and gradient of the training problem (NC), theory.md §1.

    NC(W1, w2) = 1/2 ||f(X) - y||^2 + (lam/2) sum_j (||W1_j||^2 + w2_j^2),
    f(X) = sum_j (X W1_j)_+ w2_j.

All inputs are exact (dyadic matrices, rational lam); all outputs are exact integers over
stated denominators or Fractions. ``X`` already carries the ones column when a first-layer
bias is used, and ``W1`` then carries ``b1`` as its last row.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from operator import mul

import flint

from certify.exact.dyadic import DyadicMatrix


@dataclass(frozen=True)
class ExactEvaluation:
    """Exact forward pass of a network on data.

    Attributes
    ----------
    preact : list[list[int]]
        Numerators of ``X W1`` (n rows, m columns) over ``2**preact_shift``.
    fit_num : list[int]
        Numerators of ``f(X)`` over ``2**res_shift``.
    res_num : list[int]
        Numerators of the residual ``r = y - f(X)`` over ``2**res_shift``.
    loss, penalty, objective : Fraction
        ``1/2 ||r||^2``, ``(lam/2) sum (||W1_j||^2 + w2_j^2)`` and their sum.
    """

    preact: list[list[int]]
    preact_shift: int
    fit_num: list[int]
    res_num: list[int]
    res_shift: int
    loss: Fraction
    penalty: Fraction
    objective: Fraction

    def residual(self) -> list[Fraction]:
        """The residual ``y - f(X)`` as Fractions."""
        scale = 1 << self.res_shift
        return [Fraction(v, scale) for v in self.res_num]


def evaluate(X: DyadicMatrix, y: DyadicMatrix, W1: DyadicMatrix, w2: DyadicMatrix,
             lam: Fraction) -> ExactEvaluation:
    """Exact NC objective of the network ``(W1, w2)`` on ``(X, y)``.

    ``X`` is n x d, ``y`` n x 1, ``W1`` d x m, ``w2`` m x 1 (all dyadic).
    """
    n, m = X.shape[0], W1.shape[1]
    pre = X.mat * W1.mat  # value = pre / 2^(sx + sw)
    pre_shift = X.shift + W1.shift
    flat = [int(v) for v in pre.entries()]
    relu = [v if v > 0 else 0 for v in flat]
    w2n = [int(v) for v in w2.mat.entries()]
    # f(X)_k = sum_j relu_kj w2_j in Python integers: cheaper than building an n x m
    # fmpz_mat from relu for one matrix-vector product. Over 2^(pre_shift + s2).
    fit = [sum(map(mul, relu[k * m:(k + 1) * m], w2n)) for k in range(n)]
    fit_shift = pre_shift + w2.shift
    shift = max(fit_shift, y.shift)
    fit_num = [v << (shift - fit_shift) for v in fit]
    y_num = [int(v) << (shift - y.shift) for v in y.mat.entries()]
    res = [yv - fv for yv, fv in zip(y_num, fit_num, strict=True)]
    loss = Fraction(sum(v * v for v in res), 2 << (2 * shift))
    sq_w1 = sum(int(v) ** 2 for v in W1.mat.entries())
    sq_w2 = sum(v * v for v in w2n)
    penalty = lam / 2 * (Fraction(sq_w1, 1 << (2 * W1.shift)) + Fraction(sq_w2, 1 << (2 * w2.shift)))
    rows = [flat[i * m:(i + 1) * m] for i in range(n)]
    return ExactEvaluation(rows, pre_shift, fit_num, res, shift, loss, penalty, loss + penalty)


@dataclass(frozen=True)
class ExactGradient:
    """Exact gradient of NC with the one-sided convention ``1[x_k^T W1_j > 0]`` at ties.

    ``dW1[i][j] / den_W1`` is the derivative with respect to ``W1[i, j]``;
    ``dw2[j] / den_w2`` the derivative with respect to ``w2[j]``.
    """

    dW1: list[list[int]]
    den_W1: int
    dw2: list[int]
    den_w2: int

    def column(self, j: int) -> list[Fraction]:
        """Gradient of neuron ``j``: its W1 column followed by its w2 entry."""
        col = [Fraction(row[j], self.den_W1) for row in self.dW1]
        return col + [Fraction(self.dw2[j], self.den_w2)]

    def squared_norm(self) -> Fraction:
        """``||grad||^2`` exactly."""
        s1 = sum(v * v for row in self.dW1 for v in row)
        s2 = sum(v * v for v in self.dw2)
        return Fraction(s1, self.den_W1 ** 2) + Fraction(s2, self.den_w2 ** 2)


def gradient(X: DyadicMatrix, W1: DyadicMatrix, w2: DyadicMatrix, lam: Fraction,
             ev: ExactEvaluation) -> ExactGradient:
    """Exact gradient of NC at ``(W1, w2)``, given the forward pass ``ev``.

    With ``e = f(X) - y``:
    ``dNC/dw2_j = sum_k (x_k^T W1_j)_+ e_k + lam w2_j`` and
    ``dNC/dW1_j = w2_j sum_k 1[x_k^T W1_j > 0] e_k x_k + lam W1_j``.
    At a tie (``x_k^T W1_j = 0``) this is the one-sided derivative that leaves ``x_k``
    out; :func:`tie_directions` gives the other side.
    ``ev`` must be :func:`evaluate` of the same ``X``, ``W1``, ``w2`` (only its signs of
    ``X W1`` and its residual are read).
    """
    n, m = X.shape[0], W1.shape[1]
    d = W1.shape[0]
    e = [-v for v in ev.res_num]  # f - y over 2^res_shift
    w2n = [int(v) for v in w2.mat.entries()]
    # G = X^T (D * e), D[k][j] = 1[x_k^T W1_j > 0]: G[i][j] = sum_{k: pre_kj > 0} e_k x_ki,
    # over 2^(sx + res_shift). Computed as (diag(e) X)^T D, so that only the n x d matrix
    # diag(e) X and the 0/1 matrix D are built, not an n x m matrix of large integers.
    mask = flint.fmpz_mat(n, m, [1 if v > 0 else 0 for row in ev.preact for v in row])
    xn = [int(v) for v in X.mat.entries()]
    xe = []
    for k in range(n):
        xe.extend(map(e[k].__mul__, xn[k * d:(k + 1) * d]))
    G = [int(v) for v in (flint.fmpz_mat(n, d, xe).transpose() * mask).entries()]
    # dNC/dW1_ij - lam W1_ij = w2_j G_ij, over 2^(sx + res_shift + s2)
    g1e = [G[i * m + j] * w2n[j] for i in range(d) for j in range(m)]
    g1_shift = X.shift + ev.res_shift + w2.shift
    # dNC/dw2_j - lam w2_j = sum_k (x_k^T W1_j)_+ e_k = sum_i W1_ij G_ij,
    # over 2^(sx + sw + res_shift) = 2^(pre_shift + res_shift)
    w1e = [int(v) for v in W1.mat.entries()]
    g2 = [sum(w1e[i * m + j] * G[i * m + j] for i in range(d)) for j in range(m)]
    g2_shift = ev.preact_shift + ev.res_shift
    p, q = lam.numerator, lam.denominator
    t1 = max(g1_shift, W1.shift)
    num1 = [g * q << (t1 - g1_shift) for g in g1e]
    num1 = [a + (p * w << (t1 - W1.shift)) for a, w in zip(num1, w1e, strict=True)]
    t2 = max(g2_shift, w2.shift)
    num2 = [(g * q << (t2 - g2_shift)) + (p * w << (t2 - w2.shift))
            for g, w in zip(g2, w2n, strict=True)]
    dW1 = [num1[i * m:(i + 1) * m] for i in range(d)]
    return ExactGradient(dW1, q << t1, num2, q << t2)


def tie_directions(X: DyadicMatrix, w2: DyadicMatrix, ev: ExactEvaluation,
                   ties: list[tuple[int, int]]) -> list[list[Fraction]]:
    """For each tie ``(k, j)``, the jump ``w2_j e_k x_k`` of ``dNC/dW1_j`` across it.

    The Clarke subdifferential at the network is contained in
    ``{grad + sum_t c_t * jump_t : c in [0, 1]^ties}`` (proofs/stationarity.md).
    """
    xs = 1 << X.shift
    ws = 1 << w2.shift
    rs = 1 << ev.res_shift
    rows = X.rows()
    w2n = [int(v) for v in w2.mat.entries()]
    out = []
    for k, j in ties:
        coef = Fraction(-ev.res_num[k] * w2n[j], rs * ws * xs)
        out.append([coef * v for v in rows[k]])
    return out
