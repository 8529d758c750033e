"""Check of the *pruned* claim (proofs/pruning.md).

The claim is about the given network ``G`` (the one whose digest the certificate names). Its
evidence is the original network ``O`` (exact rationals that must be binary64 numbers; the checker
recomputes their digest) and an exact rational network ``E``. Accept iff, all recomputed exactly:

1. ``O``'s digest is ``original_sha256`` and its width ``original_width``; ``G`` and ``E`` have
   ``width <= original_width`` neurons; bias present in all three or in none;
2. ``f(E) = f(O)`` on every data point;
3. ``NC(O) = original_objective``, ``NC(E) = exact_objective``, ``NC(G) = objective`` and
   ``NC(E) <= NC(O)``;
4. every entry of ``G`` is a faithful binary64 rounding of the entry of ``E``: no float lies
   strictly between them;
5. ``||f(G) - f(O)||^2 = fit_deviation_sq``;
6. if ``objective_not_increased`` is true, ``NC(G) <= NC(O)`` (false claims nothing).
"""

from __future__ import annotations

import math
from fractions import Fraction

import flint

from certify.check.fields import binary64, plain_int, rational, rational_field, require_keys, shown
from certify.check.limits import PY, max_bits, pass_memory, pass_work, resources, words
from certify.check.verdict import Reject
from certify.exact.context import ExactContext
from certify.exact.digest import network_digest
from certify.exact.dyadic import DyadicMatrix
from certify.exact.nc import evaluate

_KEYS = {"id", "type", "original", "original_sha256", "original_width", "exact", "width",
         "original_objective", "exact_objective", "objective", "fit_deviation_sq", "objective_not_increased"}


def _vector(obj: object, length: int, what: str, max_digits: int) -> list[Fraction]:
    if not isinstance(obj, list) or len(obj) != length:
        raise Reject(f"{what} must be a list of {length} rationals")
    return [rational(v, f"{what}[{i}]", max_digits) for i, v in enumerate(obj)]


def _network(obj: object, d: int, m: int, bias: bool, what: str, max_digits: int):
    """``(W1 rows (d x m), w2, b1 or None)`` of Fractions from ``{"W1", "w2", "b1"}``."""
    require_keys(obj, {"W1", "w2", "b1"}, where=what)
    rows = obj["W1"]
    if not isinstance(rows, list) or len(rows) != d:
        raise Reject(f"{what}.W1 must be a list of d = {d} rows")
    W1 = [_vector(row, m, f"{what}.W1[{i}]", max_digits) for i, row in enumerate(rows)]
    w2 = _vector(obj["w2"], m, f"{what}.w2", max_digits)
    if (obj["b1"] is not None) != bias:
        raise Reject(f"{what}.b1 must be {'a list' if bias else 'null'}: the certificate's bias is {bias}")
    b1 = _vector(obj["b1"], m, f"{what}.b1", max_digits) if bias else None
    return W1, w2, b1


def _faithful(given: float, exact: Fraction) -> bool:
    """No binary64 number lies strictly between ``given`` and ``exact``."""
    g = Fraction(given)
    if g == exact:
        return True
    nxt = math.nextafter(given, math.inf if exact > g else -math.inf)
    if not math.isfinite(nxt):
        return True  # beyond the largest float: nothing lies between
    return min(g, Fraction(nxt)) <= exact <= max(g, Fraction(nxt))


def _fit_and_penalty(ctx: ExactContext, W1: list[list[Fraction]], w2: list[Fraction], budget
                     ) -> tuple[list[int], int, Fraction]:
    """``(fit numerators, denominator, sum of squared weights)`` of a rational network on ``ctx.X``.

    ``W1`` is ``d' x m`` (with the bias row). The fit is ``relu(X V) N / (2^sx L1 L2)`` with
    ``V = L1 W1`` and ``N = L2 w2`` integer (``L1``, ``L2`` the least common denominators).
    """
    m = len(w2)
    dens1 = {v.denominator for row in W1 for v in row}
    dens2 = {v.denominator for v in w2}
    # the least common denominators have at most as many bits as their distinct factors together:
    # bound the size of the cleared numerators before computing them (hostile denominators)
    bits1 = sum(q.bit_length() for q in dens1) + max_bits(v.numerator for row in W1 for v in row)
    bits2 = sum(q.bit_length() for q in dens2) + max_bits(v.numerator for v in w2)
    budget.memory((len(W1) + 1) * m * 8 * (words(bits1) + words(bits2)), "the cleared evidence network")
    budget.charge((len(dens1) + len(dens2)) * (words(bits1) + words(bits2)) ** 2
                  + (len(W1) + 1) * m * (words(bits1) + words(bits2) + PY), "clearing the evidence network")
    L1 = math.lcm(*dens1)
    L2 = math.lcm(*dens2)
    V = [int(v * L1) for row in W1 for v in row]
    N = [int(v * L2) for v in w2]
    wv, wn = words(max_bits(V)), words(max_bits(N))
    wx = words(max_bits(ctx.X.mat.entries()))
    budget.memory(pass_memory(ctx.n, m, wx, wv), "the exact forward pass of the evidence network")
    budget.charge(pass_work(ctx.n, ctx.d, m, wx, wv) + ctx.n * m * (words(max_bits(V)) + wx) * wn,
                  "the exact forward pass of the evidence network")
    pre = ctx.X.mat * flint.fmpz_mat(len(W1), m, V)
    flat = [int(v) for v in pre.entries()]
    fit = [sum(max(flat[k * m + j], 0) * N[j] for j in range(m)) for k in range(ctx.n)]
    squares = Fraction(sum(v * v for v in V), L1 * L1) + Fraction(sum(v * v for v in N), L2 * L2)
    return fit, (1 << ctx.X.shift) * L1 * L2, squares


def check_pruned(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    digits = limits.max_digits
    require_keys(claim, _KEYS)
    d_raw = ctx.d - (1 if ctx.bias else 0)
    m0 = plain_int(claim["original_width"], "original_width", 1, limits.max_list + 1)
    width = plain_int(claim["width"], "width", 1, limits.max_list + 1)
    if width != ctx.m:
        raise Reject(f"width is {width} but the given network has {ctx.m} neurons")
    if width > m0:
        raise Reject(f"width {width} exceeds original_width {m0}: not a pruning")
    budget.charge((d_raw + 2) * (m0 + width) * PY, "parsing the evidence networks")
    W1o, w2o, b1o = _network(claim["original"], d_raw, m0, ctx.bias, "original", digits)
    W1e, w2e, b1e = _network(claim["exact"], d_raw, width, ctx.bias, "exact", digits)

    # 1. the original network is the one named by original_sha256
    floats_W1 = [[binary64(v, f"original.W1[{i}][{j}]") for j, v in enumerate(row)]
                 for i, row in enumerate(W1o)]
    floats_w2 = [binary64(v, f"original.w2[{j}]") for j, v in enumerate(w2o)]
    floats_b1 = None if b1o is None else [binary64(v, f"original.b1[{j}]") for j, v in enumerate(b1o)]
    budget.charge((d_raw + 2) * m0 * PY, "the digest of the original network")
    if network_digest(floats_W1, floats_w2, floats_b1) != claim["original_sha256"]:
        raise Reject("original_sha256 is not the digest of the original network in the evidence")

    # 2.-3. exact objectives and fits
    Wo = DyadicMatrix.from_rows(floats_W1)
    if floats_b1 is not None:
        Wo = Wo.vstack(DyadicMatrix.from_rows([floats_b1]))
    wx, wo = words(max_bits(ctx.X.mat.entries())), words(max_bits(Wo.mat.entries()))
    budget.memory(pass_memory(ctx.n, m0, wx, wo), "the exact forward pass of the original network")
    budget.charge(pass_work(ctx.n, ctx.d, m0, wx, wo), "the exact forward pass of the original network")
    ev_o = evaluate(ctx.X, ctx.y, Wo, DyadicMatrix.from_column(floats_w2), ctx.lam)
    fit_e, den_e, squares_e = _fit_and_penalty(ctx, W1e + ([b1e] if b1e is not None else []), w2e, budget)
    scale_o = 1 << ev_o.res_shift  # f(O) = fit_num / 2^res_shift
    fit_o = ev_o.fit_num
    for k in range(ctx.n):
        if fit_e[k] * scale_o != fit_o[k] * den_e:
            raise Reject(f"the exact network's fit differs from the original's at data point {k}")
    exact_obj = ev_o.loss + ctx.lam / 2 * squares_e
    budget.forward(ctx)
    given_obj = ctx.evaluation.objective
    for key, actual in (("original_objective", ev_o.objective), ("exact_objective", exact_obj),
                        ("objective", given_obj)):
        claimed = rational_field(claim, key, digits)
        if claimed != actual:
            raise Reject(f"{key}: claimed {shown(claimed)} but recomputed {shown(actual)}")
    if exact_obj > ev_o.objective:
        raise Reject("the exact network's objective exceeds the original's")

    # 4. the given network is the faithful rounding of the exact one
    Wg = ctx.W1.fractions()
    wg = [Fraction(v, 1 << ctx.w2.shift) for v in ctx.w2.entries()]
    W1e_all = W1e + ([b1e] if b1e is not None else [])
    budget.charge((ctx.d + 1) * width * PY * 4, "the rounding check")
    for i, row in enumerate(W1e_all):
        for j, e in enumerate(row):
            if not _faithful(float(Wg[i][j]), e):
                name = f"b1[{j}]" if ctx.bias and i == ctx.d - 1 else f"W1[{i}][{j}]"
                raise Reject(f"the given {name} is not a binary64 rounding of the exact network's entry")
    for j, e in enumerate(w2e):
        if not _faithful(float(wg[j]), e):
            raise Reject(f"the given w2[{j}] is not a binary64 rounding of the exact network's entry")

    # 5. the float copy's deviation from the original fit
    ev_g = ctx.evaluation
    shift = max(ev_g.res_shift, ev_o.res_shift)
    dev = sum(((u << (shift - ev_g.res_shift)) - (v << (shift - ev_o.res_shift))) ** 2
              for u, v in zip(ev_g.res_num, ev_o.res_num, strict=True))
    deviation = Fraction(dev, 1 << (2 * shift))
    claimed_dev = rational_field(claim, "fit_deviation_sq", digits)
    if claimed_dev != deviation:
        raise Reject(f"fit_deviation_sq: claimed {shown(claimed_dev)} but recomputed {shown(deviation)}")

    # 6. optional: the float copy does not increase the objective
    flag = claim["objective_not_increased"]
    if not isinstance(flag, bool):
        raise Reject("objective_not_increased must be true or false")
    if flag and given_obj > ev_o.objective:
        raise Reject("objective_not_increased is true but NC(given) exceeds NC(original)")
    return {"original_width": m0, "width": width, "objective_not_increased": flag}
