"""Check of the *Goldstein stationarity* claim (proofs/stationarity.md, "Goldstein").

Accept iff the point weights are rationals ``>= 0`` summing exactly to 1; every point is
theta with some first-layer columns replaced by dyadic rationals (each neuron at most once,
columns of the right length); NC has no exact tie at any point (so it is differentiable
there); every point is within ``radius_sq`` (squared distance) of theta; and
``||sum_i c_i grad NC(theta_i)||^2 <= grad_sq_bound`` exactly.

Each point costs one exact forward pass and one exact gradient, with numbers as long as the
finest replacement weight makes them; the cost of all points is estimated from the text of
the claim and charged before any point is evaluated (limits.py), and the combination is
summed point by point, so that memory holds one gradient at a time.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

from certify.check.fields import plain_int, rational, rational_field, require_keys, shown
from certify.check.limits import PY, WorkBudget, pass_memory, pass_work, resources, sum_work, words
from certify.check.verdict import Reject
from certify.exact.context import ExactContext
from certify.exact.goldstein import distance_sq, gradient_at, replace_columns
from certify.exact.nc import ExactGradient
from certify.exact.rational import approx, format_rational

MAX_POINTS = 1024
_LOG2_10 = 3.3219280948873626  # bits per decimal digit


def _digits_bits(digits: int) -> int:
    """An upper bound on the bit length of an integer of ``digits`` decimal digits."""
    return int(digits * _LOG2_10) + 1


def _point_bits(point: object, W1_bits: int, W1_shift: int) -> tuple[int, int]:
    """(numerator bits of the replaced W1, number of replaced entries), from the text only.

    Upper bound for a well-formed point; a malformed one is rejected before it is evaluated.
    With a common shift ``S``, an entry ``p / 2^e`` becomes ``p 2^(S - e)``: at most
    ``bits(p) + S`` bits, and the unchanged weights grow by ``S - W1_shift`` bits.
    """
    if not isinstance(point, dict) or not isinstance(point.get("changes"), list):
        return W1_bits, 0
    num_bits, shift, entries = 0, W1_shift, 0
    for change in point["changes"]:
        col = change.get("W1") if isinstance(change, dict) else None
        if not isinstance(col, list):
            continue
        for v in col:
            if isinstance(v, str):
                num, _, den = v.partition("/")
                num_bits = max(num_bits, _digits_bits(len(num)))
                shift = max(shift, _digits_bits(len(den)) if den else 0)
        entries += len(col)
    return max(W1_bits + shift - W1_shift, num_bits + shift), entries


def _charge_points(points: list, ctx: ExactContext, budget: WorkBudget, max_digits: int) -> None:
    """Charge the points' gradients and their weighted sum, before any is computed."""
    wx = budget.words(ctx, "X")
    W1_bits = budget.bits(ctx, "W1")
    total, largest, widest, dens = 0, 0, 1, []
    for pt in points:
        bits, entries = _point_bits(pt, W1_bits, ctx.W1.shift)
        ww = words(bits)
        widest = max(widest, ww)
        total += 2 * pass_work(ctx.n, ctx.d, ctx.m, wx, ww) + (entries + ctx.d * ctx.m) * PY * ww
        largest = max(largest, pass_memory(ctx.n, ctx.m, wx, ww))
        try:  # a weight that does not parse is rejected when its point is reached
            dens.append(rational(pt["weight"], "weight", max_digits).denominator)
        except (Reject, TypeError, KeyError):
            pass
    # the combination: d m + m entries over lcm(den(c_i) den(grad_i)), gradients of about widest words
    total += sum_work(dens, ctx.d * ctx.m + ctx.m + 1, wx + widest)
    budget.memory(largest, "the exact forward pass at a Goldstein point")
    budget.charge(total, f"{len(points)} Goldstein point(s) (an exact gradient each, and their weighted sum)")


class _Combination:
    """The running sum ``sum_i c_i g_i`` of exact gradients, as integers over common denominators.

    After the points ``(c_i, g_i)`` are added, the sum is ``acc1 / L1`` (the W1 block) and
    ``acc2 / L2`` (the w2 block), with ``L1 = lcm_i(den(c_i) den_W1(g_i))`` and likewise ``L2``;
    :meth:`squared_norm` is ``||acc1||^2 / L1^2 + ||acc2||^2 / L2^2``, the value of
    :func:`certify.exact.goldstein.combination_sq` over all the points.
    """

    def __init__(self) -> None:
        self.L1 = self.L2 = 1
        self.acc1: list[int] = []
        self.acc2: list[int] = []

    @staticmethod
    def _add(L: int, acc: list[int], c: Fraction, den: int, values: list[int]) -> tuple[int, list[int]]:
        q = c.denominator * den
        new = lcm(L, q)
        if not acc:
            acc = [0] * len(values)
        elif new != L:
            scale = new // L
            acc = [a * scale for a in acc]
        f = c.numerator * (new // q)  # c v / den = f v / new
        if f:
            acc = [a + f * v for a, v in zip(acc, values, strict=True)]
        return new, acc

    def add(self, c: Fraction, g: ExactGradient) -> None:
        flat = [v for row in g.dW1 for v in row]
        self.L1, self.acc1 = self._add(self.L1, self.acc1, c, g.den_W1, flat)
        self.L2, self.acc2 = self._add(self.L2, self.acc2, c, g.den_w2, list(g.dw2))

    def squared_norm(self) -> Fraction:
        return (Fraction(sum(v * v for v in self.acc1), self.L1 * self.L1)
                + Fraction(sum(v * v for v in self.acc2), self.L2 * self.L2))


def check_goldstein(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "radius_sq", "grad_sq_bound", "points"})
    radius_sq = rational_field(claim, "radius_sq", limits.max_digits)
    bound = rational_field(claim, "grad_sq_bound", limits.max_digits)
    points = claim["points"]
    if not isinstance(points, list) or not 0 < len(points) <= MAX_POINTS:
        raise Reject(f"points must be a list of 1 to {MAX_POINTS} points")
    _charge_points(points, ctx, budget, limits.max_digits)
    combination = _Combination()
    total = Fraction(0)
    for i, pt in enumerate(points):
        require_keys(pt, {"weight", "changes"}, where=f"points[{i}]")
        w = rational_field(pt, "weight", limits.max_digits)
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
            changes[j] = [rational(v, f"points[{i}].W1", limits.max_digits) for v in col]
        try:
            W1p = replace_columns(ctx.W1, changes)
        except ValueError as exc:
            raise Reject(f"points[{i}]: {exc}") from None
        dist = distance_sq(ctx.W1, changes)
        if dist > radius_sq:
            raise Reject(f"points[{i}] is at squared distance {approx(dist)} from the network, "
                         f"beyond radius_sq {approx(radius_sq)}")
        g, tie = gradient_at(ctx, W1p)
        if g is None:
            raise Reject(f"points[{i}]: NC may not be differentiable there (exact tie at point "
                         f"{tie[0]}, neuron {tie[1]})")
        combination.add(w, g)
    if total != 1:
        raise Reject(f"point weights sum to {shown(total)}, not 1")
    value = combination.squared_norm()
    if value > bound:
        raise Reject(f"squared norm of the gradient combination {format_rational(value)} "
                     f"(~{approx(value)}) exceeds the claimed bound (~{approx(bound)})")
    return {"grad_sq": format_rational(value), "radius_sq": format_rational(radius_sq)}
