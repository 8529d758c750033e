"""Check of the *not optimal* claim (proofs/not_optimal.md).

Claim: the network ``theta'`` obtained by appending one neuron (first-layer weights ``W1``,
the bias entry last when the network has a bias, and output weight ``w2``, exact rationals in
the claim) to the given network ``theta`` has ``NC(theta') = improved_objective`` and
``NC(theta) - NC(theta') >= decrease > 0``. So ``theta`` is not a global minimizer of NC among
networks of any width (``theta'`` has width m + 1).

The checker recomputes both objectives exactly: NC(theta) from the inputs (the certificate is
bound to them by their digests), NC(theta') from the exact residual of theta and the neuron.
"""

from __future__ import annotations

from certify.check.fields import rational, rational_field, require_keys
from certify.check.limits import PY, resources, words
from certify.check.verdict import Reject
from certify.exact.improve import appended_objective
from certify.exact.rational import approx, format_rational


def check_not_optimal(claim: dict, ctx, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "neuron", "improved_objective", "decrease"})
    budget.forward(ctx)
    neuron = require_keys(claim["neuron"], {"W1", "w2"}, where="neuron")
    raw = neuron["W1"]
    if not isinstance(raw, list) or len(raw) != ctx.d:
        raise Reject(f"neuron.W1 must be a list of d = {ctx.d} rationals (the bias entry last when the "
                     "network has a bias)")
    W1 = [rational(v, f"neuron.W1[{i}]", limits.max_digits) for i, v in enumerate(raw)]
    w2 = rational(neuron["w2"], "neuron.w2", limits.max_digits)
    improved = rational_field(claim, "improved_objective", limits.max_digits)
    decrease = rational_field(claim, "decrease", limits.max_digits)
    if decrease <= 0:
        raise Reject("decrease must be positive: a not-optimal claim needs a strictly better network")
    bits = sum(v.numerator.bit_length() + v.denominator.bit_length() for v in W1 + [w2])
    wx = budget.words(ctx, "X")
    budget.charge(ctx.n * (ctx.d * wx * words(bits) + 4 * PY) * words(bits + 64),
                  "the objective of the improved network")
    value = appended_objective(ctx, W1, w2)
    if value != improved:
        raise Reject(f"improved_objective {format_rational(improved)} (~{approx(improved)}) is not NC of "
                     f"the improved network, recomputed as {format_rational(value)} (~{approx(value)})")
    objective = ctx.evaluation.objective
    if objective - value < decrease:
        raise Reject(f"NC(theta) - NC(theta') = {format_rational(objective - value)} "
                     f"(~{approx(objective - value)}) is less than the claimed decrease "
                     f"{format_rational(decrease)} (~{approx(decrease)})")
    return {"objective": format_rational(objective), "improved_objective": format_rational(value),
            "decrease": format_rational(objective - value)}
