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


def stationarity_claim(ctx: ExactContext) -> dict:
    """Exact stationarity measure with the tie multipliers that attain it."""
    ties = ctx.ties
    c = [Fraction(0)] * len(ties)
    if ties:
        grad = ctx.gradient
        jumps = tie_directions(ctx.X, ctx.w2, ctx.evaluation, ties)
        # float least squares over the W1 columns of the tied neurons
        neurons = sorted({j for _, j in ties})
        pos = {j: i for i, j in enumerate(neurons)}
        d = ctx.d
        g0 = np.concatenate([[float(v) for v in grad.column(j)[:d]] for j in neurons])
        B = np.zeros((g0.size, len(ties)))
        for t, ((_, j), jump) in enumerate(zip(ties, jumps, strict=True)):
            B[pos[j] * d:(pos[j] + 1) * d, t] = [float(v) for v in jump]
        sol = lsq_linear(B, -g0, bounds=(0.0, 1.0)).x
        c = [Fraction(int(round(min(max(v, 0.0), 1.0) * C_DENOMINATOR)), C_DENOMINATOR) for v in sol]
    value = tied_gradient_sq(ctx, ties, c)
    return {
        "id": "stationarity",
        "type": "stationarity",
        "grad_sq_bound": format_rational(value),
        "ties": [{"k": k, "j": j, "c": format_rational(cv)} for (k, j), cv in zip(ties, c, strict=True)],
        "ties_independent": ties_independent(ctx, ties),
    }
