"""Check of the *stationarity* claim (proofs/stationarity.md).

Accept iff the listed ties are exactly the network's exact ties ``(k, j)``
(``x_k^T W1_j = 0``, ``x_k != 0``, ``W1_j != 0``), in increasing order, every multiplier
``c`` lies in [0, 1], and ``||g0 + sum_t c_t J_t||^2 <= grad_sq_bound`` exactly, where ``g0`` is
the one-sided gradient and ``J_t`` the jump across tie ``t``. If ``ties_independent`` is
claimed true, the tie points of every neuron must be linearly independent (exact rank).
"""

from __future__ import annotations

from fractions import Fraction

from certify.check.fields import rational, rational_field, require_keys, shown
from certify.check.limits import PY, resources, sum_work
from certify.check.verdict import Reject
from certify.exact.context import ExactContext
from certify.exact.rational import approx, format_rational
from certify.exact.stationarity import tied_gradient_sq, ties_independent


def check_stationarity(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "grad_sq_bound", "ties", "ties_independent"})
    bound = rational_field(claim, "grad_sq_bound", limits.max_digits)
    listed = claim["ties"]
    if not isinstance(listed, list):
        raise Reject("ties must be a list")
    ties, cs = [], []
    for i, t in enumerate(listed):
        require_keys(t, {"k", "j", "c"}, where=f"ties[{i}]")
        if not all(isinstance(t[key], int) and not isinstance(t[key], bool) for key in ("k", "j")):
            raise Reject(f"ties[{i}]: k and j must be integers")
        c = rational(t["c"], f"ties[{i}].c", limits.max_digits)
        if not Fraction(0) <= c <= 1:
            raise Reject(f"ties[{i}].c = {shown(c)} is outside [0, 1]")
        ties.append((t["k"], t["j"]))
        cs.append(c)
    budget.gradient(ctx)  # the tie list needs the forward pass; the measure needs the gradient
    actual = ctx.ties
    if ties != actual:
        missing = sorted(set(actual) - set(ties))[:5]
        extra = sorted(set(ties) - set(actual))[:5]
        raise Reject(f"tie list does not match the network's exact ties (missing {missing}, "
                     f"not ties {extra}, or out of order); the network has {len(actual)} ties")
    if claim["ties_independent"] is True:
        per_neuron: dict[int, int] = {}
        for _, j in ties:
            per_neuron[j] = per_neuron.get(j, 0) + 1
        wx = budget.words(ctx, "X")
        budget.charge(sum(t * ctx.d * min(t, ctx.d) * wx for t in per_neuron.values()),
                      "the exact ranks of the tie points")
        if not ties_independent(ctx, ties):
            raise Reject("ties_independent claimed, but some neuron's tie points are linearly dependent")
    elif claim["ties_independent"] is not False:
        raise Reject("ties_independent must be true or false")
    by_neuron: dict[int, list[int]] = {}
    for (_, j), c in zip(ties, cs, strict=True):
        by_neuron.setdefault(j, []).append(c.denominator)
    wx = budget.words(ctx, "X")
    budget.charge(len(ties) * ctx.d * PY + sum(sum_work(q, ctx.d, wx) for q in by_neuron.values()),
                  f"summing {len(ties)} tie multipliers")
    value = tied_gradient_sq(ctx, ties, cs)
    if value > bound:
        raise Reject(f"squared stationarity measure {format_rational(value)} (~{approx(value)}) "
                     f"exceeds the claimed bound {format_rational(bound)} (~{approx(bound)})")
    return {"grad_sq": format_rational(value)}
