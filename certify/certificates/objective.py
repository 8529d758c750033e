"""Producer of the *objective* claim: NC(theta) equals V exactly (proofs/objective.md)."""

from __future__ import annotations

from certify.exact.context import ExactContext
from certify.exact.rational import format_rational


def objective_claim(ctx: ExactContext) -> dict:
    """The claim ``NC = loss + penalty`` with all three exact values."""
    ev = ctx.evaluation
    return {
        "id": "objective",
        "type": "objective",
        "objective": format_rational(ev.objective),
        "loss": format_rational(ev.loss),
        "penalty": format_rational(ev.penalty),
    }
