"""Producer of the *stationarity* claim (proofs/stationarity.md).

Without ties NC is differentiable at theta and the claim is ``||grad NC||^2 <= delta^2`` with
``delta^2`` the exact squared norm. At ties (``x_k^T W1_j = 0``) the set
``S = {g0 + sum_t c_t J_t : c in [0, 1]^T}`` of convex combinations of one-sided gradients
contains the Clarke subdifferential (and equals it when each neuron's tie points are linearly
independent). Floats find a ``c`` near the minimum-norm element of ``S`` (bounded least
squares); it is rounded to rationals in [0, 1] and the claim is ``||g0 + J c||^2 <= delta^2``
for that exact ``c``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.optimize import lsq_linear

from certify.exact.context import ExactContext
from certify.exact.nc import tie_directions
from certify.exact.rational import format_rational
from certify.exact.stationarity import tied_gradient_sq, ties_independent

C_DENOMINATOR = 1 << 30


def box_multipliers(ctx: ExactContext, ties: list[tuple[int, int]], jumps: list[np.ndarray],
                    switched_on: list[bool] | None = None) -> np.ndarray:
    """Float ``c in [0, 1]^T`` minimizing ``||g0 + sum_t c_t J_t||`` over the tied neurons' W1 columns.

    ``g0`` is the exact one-sided gradient of ``ctx`` in floats, with the jump of every tie whose
    ``switched_on`` flag is set subtracted (so that ``c = 0`` means every listed tie is off);
    bounded least squares (SciPy ``lsq_linear``).
    """
    neurons = sorted({j for _, j in ties})
    pos = {j: i for i, j in enumerate(neurons)}
    d = ctx.d
    g0 = np.concatenate([[float(v) for v in ctx.gradient.column(j)[:d]] for j in neurons])
    B = np.zeros((g0.size, len(ties)))
    for t, ((_, j), jump) in enumerate(zip(ties, jumps, strict=True)):
        rows = slice(pos[j] * d, (pos[j] + 1) * d)
        B[rows, t] = jump
        if switched_on is not None and switched_on[t]:
            g0[rows] -= jump
    return lsq_linear(B, -g0, bounds=(0.0, 1.0)).x


def stationarity_claim(ctx: ExactContext) -> dict:
    """Exact stationarity measure with the tie multipliers that attain it."""
    ties = ctx.ties
    c = [Fraction(0)] * len(ties)
    if ties:
        jumps = [np.array([float(v) for v in jump])
                 for jump in tie_directions(ctx.X, ctx.w2, ctx.evaluation, ties)]
        sol = box_multipliers(ctx, ties, jumps)
        c = [Fraction(int(round(min(max(v, 0.0), 1.0) * C_DENOMINATOR)), C_DENOMINATOR) for v in sol]
    value = tied_gradient_sq(ctx, ties, c)
    return {
        "id": "stationarity",
        "type": "stationarity",
        "grad_sq_bound": format_rational(value),
        "ties": [{"k": k, "j": j, "c": format_rational(cv)} for (k, j), cv in zip(ties, c, strict=True)],
        "ties_independent": ties_independent(ctx, ties),
    }
