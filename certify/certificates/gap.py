"""Producer of the *sub-sampled gap* claim (proofs/subsampled_gap.md, theory.md §3).

Claim: ``NC(theta) - p*(S) <= eps``, where ``p*(S)`` is the optimum of the C-ReLU restricted
to the pattern scope ``S`` (both signs per pattern). Evidence: a rational residual ``rho``
and, per block, rational cone multipliers ``mu >= 0`` such that every block's one-cone bound
is ``<= lam``; then ``p*(S) >= L = <rho, y> - 1/2 ||rho||^2`` by weak duality.

Floats find the evidence: ``rho`` is the float residual rounded to a dyadic grid, ``mu`` the
NNLS multipliers of each block (any rounding to non-negative rationals stays valid); then
``rho`` and ``mu`` are scaled by the largest rational ``t`` that keeps every exact bound
``<= lam`` and does not pass the unconstrained maximizer ``<rho, y> / ||rho||^2``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from certify.convex.correlation import cone_multipliers, cone_rows, round_multipliers
from certify.exact import dual
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.digest import patterns_digest
from certify.exact.rational import format_rational, int_to_str

RHO_BITS = 60  # relative resolution of the rounded residual
T_BITS = 40  # resolution of the scaling factor t


def own_scope_spec(ctx: ExactContext, max_ties: int) -> tuple[dict, list[str]]:
    """Scope description and pattern strings of the network's own exact patterns."""
    scope = ctx.own_scope(max_ties)
    return {"kind": "own", "max_ties": max_ties}, scope.patterns


def given_scope_spec(ctx: ExactContext, pattern_list: list[str]) -> tuple[dict, list[str]]:
    """Scope description of a user-given pattern set (embedded with its digest)."""
    distinct = list(dict.fromkeys(pattern_list))
    return ({"kind": "given", "patterns": distinct,
             "patterns_sha256": patterns_digest(ctx.n, distinct)}, distinct)


def scaled_floats(nums: list[int], shift: int) -> tuple[np.ndarray, int]:
    """Floats ``m`` with ``|m| <= 1`` and an exponent ``e`` such that ``nums / 2^shift ~ m 2^e``.

    Exact integers of any size are brought to float range without overflow or underflow of
    the largest entries (smaller ones may round to zero, which costs tightness only).
    """
    top = max((abs(v).bit_length() for v in nums), default=0)
    if top == 0:
        return np.zeros(len(nums)), 0
    cut = top - 60  # keep the leading 60 bits of the largest entry
    ints = [v >> cut if cut > 0 else v << -cut for v in nums]
    return np.array(ints, dtype=float) / float(1 << 60), top - shift


def gap_claim(ctx: ExactContext, X: np.ndarray, scope: dict, pattern_list: list[str],
              progress=None) -> dict:
    """Build the sub-sampled gap claim for the scope ``pattern_list``.

    Parameters
    ----------
    ctx : exact context of (data, network, lam).
    X : float features (n, d), bias column included.
    scope : scope description (see :func:`own_scope_spec`, :func:`given_scope_spec`).
    pattern_list : pattern strings of the scope.
    progress : optional callable ``(done, total)``.

    The float work runs on rescaled copies (``X / 2^ex``, ``r / 2^er``, from the exact residual)
    so that data of any magnitude (1e300, subnormals) neither overflows nor underflows; the
    multipliers scale back exactly by powers of two (docs in proofs/subsampled_gap.md).
    """
    n = ctx.n
    lam = ctx.lam
    bits = [pattern_strings.decode(p, n) for p in pattern_list]
    ev = ctx.evaluation
    r_scaled, er = scaled_floats(ev.res_num, ev.res_shift)  # r ~ r_scaled * 2^er
    xmax = float(np.max(np.abs(X), initial=0.0))
    X_scaled = X / 2.0 ** _exponent(xmax) if xmax > 0 else X
    # rho0 = round(r_scaled * 2^RHO_BITS) * 2^(er - RHO_BITS), written over den0 = 2^(RHO_BITS - er)
    lift = max(0, er - RHO_BITS)
    den0 = 1 << max(0, RHO_BITS - er)
    rho0 = [int(v) << lift for v in np.rint(r_scaled * float(1 << RHO_BITS)).astype(object)]
    corr = dual.pattern_correlations(ctx.X, rho0, bits)
    X_rows = ctx.X_rows
    blocks = []
    worst = Fraction(0)
    total = 2 * len(bits)
    for p, pbits in enumerate(bits):
        pat = np.asarray(pbits, dtype=float)
        A = cone_rows(X_scaled, pat)
        g_base = X_scaled.T @ (pat * r_scaled)
        for sign in (1, -1):
            # mu = 2^er * mu_scaled (see docstring); on the grid 1/den0 its numerators are
            # floor(mu_scaled * 2^RHO_BITS) * 2^lift
            mu = cone_multipliers(sign * g_base, A)
            idx, num = round_multipliers(mu, 1 << RHO_BITS)
            num = [v << lift for v in num]
            v = dual.block_vector(X_rows, corr[p], sign, pbits, idx, num)
            bsq = dual.bound_squared(v, ctx.X.shift, den0)
            worst = max(worst, bsq)
            blocks.append({"pattern": pattern_list[p], "sign": sign, "mu_idx": idx, "mu_num": num})
            if progress is not None:
                progress(len(blocks), total)
    t = _scaling(rho0, den0, ctx, worst, lam)
    tn, td = t.numerator, t.denominator
    den = den0 * td
    rho = [tn * r for r in rho0]
    for b in blocks:
        b["mu_num"] = [int_to_str(tn * v) for v in b["mu_num"]] if tn else []
        b["mu_idx"] = b["mu_idx"] if tn else []
    lower = dual.dual_value(rho, den, ctx.y)
    gap = ctx.evaluation.objective - lower
    return {
        "id": "subsampled_gap" if scope["kind"] == "own" else "subsampled_gap_given",
        "type": "subsampled_gap",
        "scope": scope,
        "lower_bound": format_rational(lower),
        "gap": format_rational(gap),
        "evidence": {"den": int_to_str(den), "rho": [int_to_str(r) for r in rho], "blocks": blocks},
    }


def _exponent(x: float) -> int:
    return math.frexp(x)[1] if x > 0 else 0


def _sqrt_below(q: Fraction, bits: int = 64) -> Fraction:
    """A dyadic ``s`` with ``s^2 <= q`` and ``s >= sqrt(q) (1 - 2^-(bits-2))`` (exact, no floats)."""
    if q <= 0:
        return Fraction(0)
    k = max(0, bits - (q.numerator.bit_length() - q.denominator.bit_length()) // 2)
    return Fraction(math.isqrt((q.numerator << (2 * k)) // q.denominator), 1 << k)


def _scaling(rho0: list[int], den0: int, ctx: ExactContext, worst: Fraction, lam: Fraction) -> Fraction:
    """Dyadic ``t >= 0`` with ``t^2 * worst <= lam^2`` exactly, close to the largest such ``t``
    and capped at the maximizer ``<rho0, y> / ||rho0||^2`` of the dual value along ``t rho0``;
    zero when that maximizer is <= 0. Exact rational arithmetic: no overflow at any scale."""
    y_num = [int(v) for v in ctx.y.mat.entries()]
    a = Fraction(sum(r * v for r, v in zip(rho0, y_num, strict=True)), den0 << ctx.y.shift)
    b = Fraction(sum(r * r for r in rho0), den0 * den0)
    if a <= 0 or b == 0:
        return Fraction(0)
    t = a / b
    if worst > 0:
        t = min(t, _sqrt_below(lam * lam / worst))
    # round down to T_BITS significant bits (keeps both caps; shortens the certificate)
    k = T_BITS - (t.numerator.bit_length() - t.denominator.bit_length())
    if k >= 0:
        t = Fraction((t.numerator << k) // t.denominator, 1 << k)
    else:
        t = Fraction((t.numerator // (t.denominator << -k)) << -k)
    if t * t * worst > lam * lam:  # impossible by construction; never emit infeasible evidence
        raise RuntimeError("internal error: dual scaling is not feasible")
    return t
