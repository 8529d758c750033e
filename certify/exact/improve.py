"""NC of a network with one neuron appended, exactly (proofs/not_optimal.md).

``theta'`` is ``theta`` plus the neuron ``x -> (x^T W1)_+ w2`` (``W1`` over the features, the bias
entry last when a bias is used). Its residual is ``r - w2 (X W1)_+`` with ``r`` the exact residual
of ``theta``, and its penalty that of ``theta`` plus ``(lam/2)(||W1||^2 + w2^2)``.
"""

from __future__ import annotations

import math
from fractions import Fraction


def appended_objective(ctx, W1: list[Fraction], w2: Fraction) -> Fraction:
    """``NC(theta')`` exactly, for the exact context ``ctx`` of theta (certify.exact.context)."""
    q1 = math.lcm(*(v.denominator for v in W1)) if W1 else 1
    a = [int(v * q1) for v in W1]
    b, q2 = w2.numerator, w2.denominator
    ev = ctx.evaluation
    big = q2 * (q1 << ctx.X.shift)  # h_k = hn_k / (q1 2^sx); r'_k = (res_k big - b hn_k 2^rs) / (2^rs big)
    acc = 0
    for row, res in zip(ctx.X_rows, ev.res_num, strict=True):
        pre = sum(x * w for x, w in zip(row, a, strict=True))
        hn = pre if pre > 0 else 0
        r_new = res * big - ((b * hn) << ev.res_shift)
        acc += r_new * r_new
    den = big << ev.res_shift
    loss = Fraction(acc, 2 * den * den)
    extra = ctx.lam / 2 * (sum((v * v for v in W1), Fraction(0)) + w2 * w2)
    return loss + ev.penalty + extra
