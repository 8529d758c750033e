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


def gap_claim(ctx: ExactContext, X: np.ndarray, residual: np.ndarray, scope: dict,
              pattern_list: list[str], progress=None) -> dict:
    """Build the sub-sampled gap claim for the scope ``pattern_list``.

    Parameters
    ----------
    ctx : exact context of (data, network, lam).
    X : float features (n, d), bias column included.
    residual : float residual ``y - f(X)`` (n,).
    scope : scope description (see :func:`own_scope_spec`, :func:`given_scope_spec`).
    pattern_list : pattern strings of the scope.
    progress : optional callable ``(done, total)``.
    """
    n = ctx.n
    lam = ctx.lam
    bits = [pattern_strings.decode(p, n) for p in pattern_list]
    scale_exp = RHO_BITS - _exponent(float(np.max(np.abs(residual), initial=0.0)))
    den0 = 1 << max(scale_exp, 0)
    rho0 = [int(v) for v in np.rint(residual * den0).astype(object)] if scale_exp >= 0 else [0] * n
    corr = dual.pattern_correlations(ctx.X, rho0, bits)
    X_rows = ctx.X_rows
    blocks = []
    worst = Fraction(0)
    total = 2 * len(bits)
    for p, pbits in enumerate(bits):
        pat = np.asarray(pbits, dtype=float)
        A = cone_rows(X, pat)
        g_base = X.T @ (pat * residual)
        for sign in (1, -1):
            mu = cone_multipliers(sign * g_base, A)
            idx, num = round_multipliers(mu, den0)
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


def _scaling(rho0: list[int], den0: int, ctx: ExactContext, worst: Fraction, lam: Fraction) -> Fraction:
    """Largest dyadic ``t`` (resolution 2^-T_BITS) with ``t^2 * worst <= lam^2``, capped at the
    maximizer of ``t <rho0, y> - t^2/2 ||rho0||^2``; zero when that maximizer is <= 0."""
    y_num = [int(v) for v in ctx.y.mat.entries()]
    a = Fraction(sum(r * v for r, v in zip(rho0, y_num, strict=True)), den0 << ctx.y.shift)
    b = Fraction(sum(r * r for r in rho0), den0 * den0)
    if a <= 0 or b == 0:
        return Fraction(0)
    t_opt = a / b
    t_float = float(t_opt)
    if worst > 0:
        t_float = min(t_float, float(lam) / math.sqrt(float(worst)))
    t = Fraction(math.floor(t_float * (1 - 1e-12) * (1 << T_BITS)), 1 << T_BITS)
    while t > 0 and t * t * worst > lam * lam:
        t = t * (1 - Fraction(1, 1 << 20))
    return max(t, Fraction(0))
