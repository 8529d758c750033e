"""Exact Goldstein stationarity: convex combinations of gradients at nearby points.

The Goldstein eps-subdifferential of NC at theta is
``conv { grad NC(theta') : ||theta' - theta|| <= eps, NC differentiable at theta' }``.
A certificate lists points ``theta_i`` (theta with some first-layer columns replaced by
dyadic rationals) and rational weights ``c_i >= 0`` summing to 1; the checker verifies that
NC is differentiable at each ``theta_i`` (no exact tie ``x_k^T W1_j = 0`` with ``x_k != 0``),
that ``||theta_i - theta||^2 <= eps^2``, and computes ``||sum_i c_i grad NC(theta_i)||^2``
exactly (proofs/stationarity.md, "Goldstein").
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import lcm

import flint

from certify.exact.dyadic import DyadicMatrix
from certify.exact.nc import ExactGradient, evaluate, gradient


def replace_columns(W1: DyadicMatrix, changes: dict[int, Sequence[Fraction]]) -> DyadicMatrix:
    """``W1`` with column ``j`` replaced by ``changes[j]`` (dyadic rationals only)."""
    shift = W1.shift
    for col in changes.values():
        for v in col:
            q = v.denominator
            if q & (q - 1):
                raise ValueError("replacement weights must be dyadic rationals (denominator a power of 2)")
            shift = max(shift, q.bit_length() - 1)
    d, m = W1.shape
    flat = [int(v) << (shift - W1.shift) for v in W1.mat.entries()]
    for j, col in changes.items():
        for i, v in enumerate(col):
            flat[i * m + j] = v.numerator << (shift - (v.denominator.bit_length() - 1))
    return DyadicMatrix(flint.fmpz_mat(d, m, flat), shift)


def distance_sq(W1: DyadicMatrix, changes: dict[int, Sequence[Fraction]]) -> Fraction:
    """``||theta' - theta||^2`` for the replaced columns."""
    rows = W1.rows()
    scale = 1 << W1.shift
    total = Fraction(0)
    for j, col in changes.items():
        for i, v in enumerate(col):
            diff = v - Fraction(rows[i][j], scale)
            total += diff * diff
    return total


def gradient_at(ctx, W1p: DyadicMatrix) -> tuple[ExactGradient | None, tuple[int, int] | None]:
    """Exact gradient of NC at ``(W1p, w2)``, or ``(None, tie)`` if NC may be non-differentiable."""
    ev = evaluate(ctx.X, ctx.y, W1p, ctx.w2, ctx.lam)
    for k in range(ctx.n):
        if ctx.zero_rows[k]:
            continue
        row = ev.preact[k]
        for j in range(ctx.m):
            if row[j] == 0:
                return None, (k, j)
    return gradient(ctx.X, W1p, ctx.w2, ctx.lam, ev), None


def combination_sq(grads: Sequence[ExactGradient], weights: Sequence[Fraction]) -> Fraction:
    """``||sum_i c_i g_i||^2`` exactly."""
    L1 = 1
    L2 = 1
    for g, c in zip(grads, weights, strict=True):
        L1 = lcm(L1, c.denominator * g.den_W1)
        L2 = lcm(L2, c.denominator * g.den_w2)
    d = len(grads[0].dW1)
    m = len(grads[0].dw2)
    acc1 = [0] * (d * m)
    acc2 = [0] * m
    for g, c in zip(grads, weights, strict=True):
        f1 = c.numerator * (L1 // (c.denominator * g.den_W1))
        f2 = c.numerator * (L2 // (c.denominator * g.den_w2))
        flat = [v for row in g.dW1 for v in row]
        for e in range(d * m):
            acc1[e] += f1 * flat[e]
        for j in range(m):
            acc2[j] += f2 * g.dw2[j]
    return Fraction(sum(v * v for v in acc1), L1 * L1) + Fraction(sum(v * v for v in acc2), L2 * L2)
