"""Producer of the *global gap* claim (proofs/global_gap.md, theory.md §3).

Claim: ``NC(theta) - inf NC <= eps`` over all two-layer ReLU networks of any width. Evidence: the
cells of the data's hyperplane arrangement (an integer interior witness each, found by
:mod:`certify.patterns.arrangement`) with the completeness evidence, a rational residual ``rho``
and, per cell and sign, rational cone multipliers ``mu >= 0`` whose one-cone bound is ``<= lam``.

Floats find: ``rho`` is the exact residual rounded to a dyadic grid (as for the sub-sampled gap),
``mu`` the multipliers of a batched Lawson-Hanson projection of every block onto its cone. Then
the largest exact bound is computed and ``rho`` and ``mu`` are scaled by the dyadic ``t`` that
makes every bound ``<= lam`` (:func:`certify.certificates.gap._scaling`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from certify.certificates.gap import RHO_BITS, _scaling, scaled_floats
from certify.exact import arrangement, dual
from certify.exact.context import ExactContext
from certify.exact.rational import format_rational, int_to_str
from certify.patterns.arrangement import Enumeration
from certify.solve.cone_kernels import FACE_CAPACITY_FACTOR, project_batch

_CHUNK_ENTRIES = 1 << 20


@dataclass(frozen=True)
class GlobalBound:
    """The claim and what the producer learned on the way.

    Attributes
    ----------
    claim : the ``global_gap`` claim.
    worst_ratio : largest one-cone bound over lam before scaling (> 1: the residual violates the
        dual constraint somewhere; then the worst block is a candidate improving direction).
    worst_cell, worst_sign : where.
    direction : (d,) float maximizer direction of the worst block (its cone projection).
    """

    claim: dict
    worst_ratio: float
    worst_cell: int
    worst_sign: int
    direction: np.ndarray


def global_gap_claim(ctx: ExactContext, X: np.ndarray, enum: Enumeration, progress=None) -> GlobalBound:
    """Build the ``global_gap`` claim from a complete enumeration.

    Parameters
    ----------
    ctx : exact context of (data, network, lam).
    X : float features (n, d), bias column included.
    enum : a complete :class:`Enumeration` (``enum.complete``).
    progress : optional callable ``(done, total)`` over the cells.
    """
    if not enum.complete:
        raise ValueError(f"the enumeration is not complete ({enum.message}); no global claim")
    n, d = ctx.n, ctx.d
    P = enum.count
    ev = ctx.evaluation
    r_scaled, er = scaled_floats(ev.res_num, ev.res_shift)
    xmax = float(np.max(np.abs(X), initial=0.0))
    ex = math.frexp(xmax)[1] if xmax > 0 else 0
    X_scaled = X / 2.0 ** ex
    lift = max(0, er - RHO_BITS)
    den0 = 1 << max(0, RHO_BITS - er)
    rho0 = [int(v) << lift for v in np.rint(r_scaled * float(1 << RHO_BITS)).astype(object)]
    D = enum.patterns
    # float bounds and multipliers of every block (cell, sign)
    XR_scaled = (X_scaled * r_scaled[:, None]).T  # (d, n)
    G = np.empty((d, P))
    step = max(1, _CHUNK_ENTRIES // max(1, n))
    for start in range(0, P, step):  # X^T D r without an n x P float temporary
        G[:, start:start + step] = XR_scaled @ D[:, start:start + step]
    pats = np.concatenate([np.arange(P), np.arange(P)])
    signs = np.concatenate([np.ones(P), -np.ones(P)])
    width = FACE_CAPACITY_FACTOR * d
    mus = np.zeros((2 * P, width))
    bounds, _, faces, points = project_batch(X_scaled, D, G, pats, signs, multipliers_out=mus)
    worst_block = int(np.argmax(bounds)) if len(bounds) else 0
    # exact bounds, chunk by chunk of cells
    X_rows = ctx.X_rows
    XR = arrangement.weighted_transpose(X_rows, rho0)
    cells, worst = [], Fraction(0)
    chunk = max(1, _CHUNK_ENTRIES // max(1, n))
    for start in range(0, P, chunk):
        block = D[:, start:start + chunk]
        corr = arrangement.correlations(XR, block.ravel().tolist(), block.shape[1])
        for off in range(block.shape[1]):
            p = start + off
            bits = block[:, off]
            idx_pair, num_pair = [], []
            for s, sign in enumerate((1, -1)):
                b = p + s * P
                rows, vals = faces[b], mus[b]
                pairs = sorted((int(k), int(np.floor(v * float(1 << RHO_BITS))) << lift)
                               for k, v in zip(rows, vals, strict=True) if k >= 0 and v > 0)
                pairs = [(k, v) for k, v in pairs if v > 0]
                idx = [k for k, _ in pairs]
                num = [v for _, v in pairs]
                vec = dual.block_vector(X_rows, corr[off], sign, {k: int(bits[k]) for k in idx}, idx, num)
                worst = max(worst, dual.bound_squared(vec, ctx.X.shift, den0))
                idx_pair.append(idx)
                num_pair.append(num)
            cells.append((enum.witnesses[p], idx_pair, num_pair))
        if progress is not None:
            progress(min(P, start + chunk), P)
    t = _scaling(rho0, den0, ctx, worst, ctx.lam)
    tn, td = t.numerator, t.denominator
    den = den0 * td
    rho = [tn * v for v in rho0]
    lower = dual.dual_value(rho, den, ctx.y)
    completeness = enum.completeness_evidence()
    evidence_cells = [{"u": [int_to_str(v) for v in u],
                       "mu_idx": [list(i) if tn else [] for i in idx_pair],
                       "mu_num": [[int_to_str(tn * v) for v in num] if tn else [] for num in num_pair]}
                      for u, idx_pair, num_pair in cells]
    claim = {
        "id": "global_gap",
        "type": "global_gap",
        "lower_bound": format_rational(lower),
        "gap": format_rational(ev.objective - lower),
        "evidence": {"den": int_to_str(den), "rho": [int_to_str(v) for v in rho], "cells": evidence_cells,
                     "completeness": completeness},
    }
    ratio = math.sqrt(float(worst)) / float(ctx.lam) if worst > 0 else 0.0
    direction = points[worst_block] if len(points) else np.zeros(d)
    return GlobalBound(claim, ratio, worst_block % max(P, 1), 1 if worst_block < P else -1,
                       np.asarray(direction, float))
