"""Exact stationarity measure of NC with tie multipliers (proofs/stationarity.md)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import flint

from certify.exact.nc import tie_directions


def tied_gradient_sq(ctx, ties: Sequence[tuple[int, int]], c: Sequence[Fraction]) -> Fraction:
    """``||g0 + sum_t c_t J_t||^2`` exactly, ``g0`` the one-sided gradient of ``ctx``.

    ``J_t`` is the jump of ``dNC/dW1_j`` across tie ``t = (k, j)``
    (:func:`certify.exact.nc.tie_directions`).
    """
    grad = ctx.gradient
    total = grad.squared_norm()
    if not ties:
        return total
    jumps = tie_directions(ctx.X, ctx.w2, ctx.evaluation, list(ties))
    cols: dict[int, list[Fraction]] = {}
    for (_, j), jump, cv in zip(ties, jumps, c, strict=True):
        if j not in cols:
            cols[j] = grad.column(j)[:ctx.d]
        col = cols[j]
        for i in range(ctx.d):
            col[i] += cv * jump[i]
    for j, col in cols.items():
        base = grad.column(j)[:ctx.d]
        total += sum(v * v for v in col) - sum(v * v for v in base)
    return total


def ties_independent(ctx, ties: Sequence[tuple[int, int]]) -> bool:
    """True iff, for every neuron, the data points tied with it are linearly independent.

    Neurons with ``W1_j = 0`` and ``w2_j != 0`` count as tied with every non-zero point.

    Then every sign combination across the ties is attained next to the network, and the
    box set of one-sided gradients equals the Clarke subdifferential.
    """
    by_neuron: dict[int, list[int]] = {}
    for k, j in ties:
        by_neuron.setdefault(j, []).append(k)
    # A neuron with W1_j = 0 is tied with every non-zero point; the tie list leaves it out
    # (its one-sided gradient, c = 0, is still an element of the full box), but
    # independence must account for it when its jumps w2_j e_k x_k can be non-zero.
    w2 = [int(v) for v in ctx.w2.mat.entries()]
    for j in range(ctx.m):
        if ctx.w1_zero[j] and w2[j] != 0:
            by_neuron[j] = [k for k in range(ctx.n) if not ctx.zero_rows[k]]
    rows = ctx.X_rows
    for ks in by_neuron.values():
        M = flint.fmpz_mat([rows[k] for k in ks])
        if M.rank() < len(ks):
            return False
    return True
