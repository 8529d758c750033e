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

    ``ties`` must be the full tie list of :attr:`ExactContext.ties` (zero neurons included).

    Then every sign combination across the ties is attained next to the network, and the
    box set of one-sided gradients equals the Clarke subdifferential.
    """
    by_neuron: dict[int, list[int]] = {}
    for k, j in ties:
        by_neuron.setdefault(j, []).append(k)
    rows = ctx.X_rows
    for ks in by_neuron.values():
        M = flint.fmpz_mat([rows[k] for k in ks])
        if M.rank() < len(ks):
            return False
    return True
