"""Check of the *Goldstein stationarity* claim (proofs/stationarity.md, "Goldstein").

Accept iff the point weights are rationals ``>= 0`` summing exactly to 1; every point is
theta with some first-layer columns replaced by dyadic rationals (each neuron at most once,
columns of the right length); NC has no exact tie at any point (so it is differentiable
there); every point is within ``radius_sq`` (squared distance) of theta; and
``||sum_i c_i grad NC(theta_i)||^2 <= grad_sq_bound`` exactly.
"""

from __future__ import annotations

from fractions import Fraction

from certify.check.fields import plain_int, rational_field, require_keys
from certify.check.verdict import Reject
from certify.exact.context import ExactContext
from certify.exact.goldstein import combination_sq, distance_sq, gradient_at, replace_columns
from certify.exact.rational import format_rational, parse_rational

MAX_POINTS = 1024


def check_goldstein(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    require_keys(claim, {"id", "type", "radius_sq", "grad_sq_bound", "points"})
    radius_sq = rational_field(claim, "radius_sq")
    bound = rational_field(claim, "grad_sq_bound")
    points = claim["points"]
    if not isinstance(points, list) or not 0 < len(points) <= MAX_POINTS:
        raise Reject(f"points must be a list of 1 to {MAX_POINTS} points")
    grads, weights = [], []
    total = Fraction(0)
    for i, pt in enumerate(points):
        require_keys(pt, {"weight", "changes"}, where=f"points[{i}]")
        w = rational_field(pt, "weight")
        if w < 0:
            raise Reject(f"points[{i}].weight is negative")
        total += w
        if not isinstance(pt["changes"], list):
            raise Reject(f"points[{i}].changes must be a list")
        changes: dict[int, list[Fraction]] = {}
        for c in pt["changes"]:
            require_keys(c, {"j", "W1"}, where=f"points[{i}].changes[]")
            j = plain_int(c["j"], f"points[{i}].changes[].j", 0, ctx.m)
            if j in changes:
                raise Reject(f"points[{i}] changes neuron {j} twice")
            col = c["W1"]
            if not isinstance(col, list) or len(col) != ctx.d:
                raise Reject(f"points[{i}]: replacement column of neuron {j} must have {ctx.d} entries")
            try:
                changes[j] = [parse_rational(v, f"points[{i}].W1") for v in col]
            except ValueError as exc:
                raise Reject(str(exc)) from None
        try:
            W1p = replace_columns(ctx.W1, changes)
        except ValueError as exc:
            raise Reject(f"points[{i}]: {exc}") from None
        dist = distance_sq(ctx.W1, changes)
        if dist > radius_sq:
            raise Reject(f"points[{i}] is at squared distance {float(dist):.6g} from the network, "
                         f"beyond radius_sq {float(radius_sq):.6g}")
        g, tie = gradient_at(ctx, W1p)
        if g is None:
            raise Reject(f"points[{i}]: NC may not be differentiable there (exact tie at point "
                         f"{tie[0]}, neuron {tie[1]})")
        grads.append(g)
        weights.append(w)
    if total != 1:
        raise Reject(f"point weights sum to {format_rational(total)}, not 1")
    value = combination_sq(grads, weights)
    if value > bound:
        raise Reject(f"squared norm of the gradient combination {format_rational(value)} "
                     f"(~{float(value):.6g}) exceeds the claimed bound (~{float(bound):.6g})")
    return {"grad_sq": format_rational(value), "radius_sq": format_rational(radius_sq)}
