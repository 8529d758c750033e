"""Producer of the ``p_unique`` claim (certify/check/uniqueness.py; proofs/optimal_set.md).

For a network that is *exactly* optimal for the convex program over a pattern scope (planted
instances: rational data with a rational optimal fit, theory.md §4 exactness caveat), write the
exact evidence of p-uniqueness: for every block of the scope either a strict one-cone bound
(``||Z_b^T r + A_b^T mu||^2 < lam^2``) or its exact correlation vector ``v_b`` (the projection of
``Z_b^T r`` onto the cone, with the multipliers proving it) and ``||v_b|| = lam``; the merged
equicorrelation columns ``Z_b v_b`` with a non-zero minor modulo a prime; the merged magnitudes.

For float data the optimal fit is generally irrational, the network is not exactly optimal, and
:func:`p_unique_claim` raises :class:`certify.errors.CertifyError`: the uniqueness verdict of
float data is numerical only (:mod:`certify.optimal_set.analysis`).
"""

from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np

from certify.convex.correlation import cone_multipliers, cone_rows
from certify.errors import CertifyError
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.digest import patterns_digest
from certify.exact.linalg import DEFAULT_PRIME, independent_rows, integer_matrix
from certify.exact.rational import format_rational

CLAIM_TYPE = "p_unique"


class NotExactlyOptimal(CertifyError):
    """The network is not exactly optimal over the scope: no exact uniqueness certificate exists."""


def _exact_projection(g: list[Fraction], A: list[list[Fraction]], face: list[int]
                      ) -> tuple[list[Fraction], list[Fraction]] | None:
    """``v = g + A_F^T mu_F`` with ``A_F v = 0`` (exact least squares on the face), or None."""
    d = len(g)
    if not face:
        return list(g), []
    AF = flint.fmpq_mat(len(face), d, [flint.fmpq(v.numerator, v.denominator) for k in face for v in A[k]])
    G = AF * AF.transpose()
    rhs = -(AF * flint.fmpq_mat(d, 1, [flint.fmpq(v.numerator, v.denominator) for v in g]))
    try:
        mu = G.solve(rhs)
    except (ZeroDivisionError, ValueError):
        return None
    mu_f = [Fraction(int(mu[i, 0].p), int(mu[i, 0].q)) for i in range(len(face))]
    v = [g[c] + sum(m * A[k][c] for m, k in zip(mu_f, face, strict=True)) for c in range(d)]
    return v, mu_f


def p_unique_claim(ctx: ExactContext, D: np.ndarray, claim_id: str = "p_unique") -> dict:
    """The ``p_unique`` claim over the given scope ``D`` (n, P) for the network of ``ctx``.

    Raises
    ------
    NotExactlyOptimal
        When some step cannot be made exact (the network is not exactly optimal, a block's
        projection is not rational, or the merged columns are dependent: not p-unique).
    """
    n, d, lam = ctx.n, ctx.d, ctx.lam
    X = ctx.X.fractions()
    Xf = np.array([[float(v) for v in row] for row in X])
    r = ctx.evaluation.residual()
    y = [row[0] for row in ctx.y.fractions()]
    dual = sum((a * b for a, b in zip(r, y, strict=True)), Fraction(0)) - sum(a * a for a in r) / 2
    if dual != ctx.evaluation.objective:
        raise NotExactlyOptimal("NC(theta) differs from the dual value of its exact residual: the network is "
                                "not exactly optimal, so no exact uniqueness certificate exists (for float "
                                "data the p-uniqueness verdict is numerical only)")
    plist = sorted({pattern_strings.encode([int(v) for v in D[:, p]]) for p in range(D.shape[1])})
    blocks, equal = [], []
    for text in plist:
        bits = pattern_strings.decode(text, n)
        A = [[(1 if bits[k] else -1) * X[k][c] for c in range(d)] for k in range(n)]
        for s in (1, -1):
            g = [s * sum((X[k][c] * r[k] for k in range(n) if bits[k]), Fraction(0)) for c in range(d)]
            gf = np.array([float(v) for v in g])
            mu_f = cone_multipliers(gf, cone_rows(Xf, np.array(bits, float)))
            face = [int(k) for k in np.flatnonzero(mu_f > 0)]
            proj = _exact_projection(g, A, face)
            entry = {"pattern": text, "sign": s, "mu_idx": [], "mu": [], "v": None}
            if proj is not None:
                v, mu = proj
                av = [sum(A[k][c] * v[c] for c in range(d)) for k in range(n)]
                ok = all(m >= 0 for m in mu) and all(a >= 0 for a in av)
                nsq = sum(c * c for c in v)
                if ok and nsq == lam * lam:
                    entry.update(mu_idx=face, mu=[format_rational(m) for m in mu],
                                 v=[format_rational(c) for c in v])
                    col = tuple(Fraction(s) * av[k] if bits[k] else Fraction(0) for k in range(n))
                    equal.append((s, tuple(v), col))
                    blocks.append(entry)
                    continue
                if ok and nsq < lam * lam:
                    entry.update(mu_idx=face, mu=[format_rational(m) for m in mu])
                    blocks.append(entry)
                    continue
            # strict bound from the rounded float multipliers
            mu_q = [Fraction(float(m)).limit_denominator(1 << 40) for m in mu_f[face]] if face else []
            u = [g[c] + sum(m * A[k][c] for m, k in zip(mu_q, face, strict=True)) for c in range(d)]
            if not sum(c * c for c in u) < lam * lam:
                raise NotExactlyOptimal(f"block ({text}, {s}): neither a rational projection of norm lam "
                                        "nor a strict bound was found")
            entry.update(mu_idx=face, mu=[format_rational(m) for m in mu_q])
            blocks.append(entry)
    groups, columns = {}, []
    for key in equal:
        if key not in groups:
            groups[key] = len(columns)
            columns.append(key[2])
    rows = independent_rows(integer_matrix([[col[k] for col in columns] for k in range(n)]), DEFAULT_PRIME) \
        if columns else []
    if rows is None:
        raise NotExactlyOptimal("the merged equicorrelation columns are dependent: the optimum is not "
                                "p-unique")
    fit = [y[k] - r[k] for k in range(n)]
    sub = flint.fmpq_mat(len(rows), len(columns), [flint.fmpq(col[k].numerator, col[k].denominator)
                                                   for k in rows for col in columns])
    rhs = flint.fmpq_mat(len(rows), 1, [flint.fmpq(fit[k].numerator, fit[k].denominator) for k in rows])
    alpha = [Fraction(int(a.p), int(a.q)) for a in sub.solve(rhs).entries()] if columns else []
    scope = {"kind": "given", "patterns": plist, "patterns_sha256": patterns_digest(n, plist)}
    return {"id": claim_id, "type": CLAIM_TYPE, "scope": scope, "alpha": [format_rational(a) for a in alpha],
            "evidence": {"blocks": blocks, "prime": str(DEFAULT_PRIME), "rows": sorted(rows)}}
