"""Check of the *objective* claim (proofs/objective.md).

Accept iff the claimed ``objective``, ``loss`` and ``penalty`` equal, exactly, the values
recomputed from the inputs: ``loss = 1/2 ||f(X) - y||^2``,
``penalty = (lam/2) sum_j (||W1_j||^2 + w2_j^2)``, ``objective = loss + penalty``.
"""

from __future__ import annotations

from certify.check.fields import rational_field, require_keys
from certify.check.limits import resources
from certify.check.verdict import Reject
from certify.exact.context import ExactContext
from certify.exact.rational import approx, format_rational


def check_objective(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "objective", "loss", "penalty"})
    budget.forward(ctx)
    ev = ctx.evaluation
    for key, actual in (("loss", ev.loss), ("penalty", ev.penalty), ("objective", ev.objective)):
        claimed = rational_field(claim, key, limits.max_digits)
        if claimed != actual:
            raise Reject(f"{key}: claimed {format_rational(claimed)} but recomputed "
                         f"{format_rational(actual)} (difference {approx(claimed - actual, 4)})")
    return {"objective": format_rational(ev.objective)}
