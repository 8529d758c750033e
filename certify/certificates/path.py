"""Producers of the data-certificate claims ``eps_path`` and ``zero_optimal_above`` (proofs/path.md).

Pure functions of exact inputs and float evidence; the adaptive grid lives in
:mod:`certify.certified_path`. The lower envelope here mirrors the checker's
(:mod:`certify.check.path`): running maximum of the certified dual values from the small-lam
end, the chord of those lower bounds between consecutive grid points, and per segment the
grid network whose affine ``NC_lam`` stays closest above it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from certify import __version__
from certify.certificates.certificate import FORMAT_NAME, FORMAT_VERSION
from certify.certificates.gap import RHO_BITS, _exponent, gap_claim, scaled_floats
from certify.convex.correlation import cone_multipliers, cone_rows, round_multipliers
from certify.exact import conventions, dual
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.digest import network_digest
from certify.exact.rational import format_rational, int_to_str
from certify.network import Network


@dataclass(frozen=True)
class GridEntry:
    """One certified grid point: network, exact NC pieces and the certified dual value.

    ``upper(lam) = loss + lam * squares / 2`` is ``NC_lam`` of the network (affine in lam);
    ``dual_value <= p*_S(lam)`` is certified by ``point["evidence"]``.
    """

    lam: Fraction
    network: Network
    loss: Fraction
    squares: Fraction
    dual_value: Fraction
    point: dict  # the grid entry of the claim, without lower_bound

    def upper(self, lam: Fraction) -> Fraction:
        return self.loss + lam * self.squares / 2


def _exact_network(net: Network) -> dict:
    def vec(values) -> list[str]:
        return [format_rational(Fraction(float(v))) for v in values]

    return {"W1": [vec(row) for row in net.W1.tolist()], "w2": vec(net.w2.tolist()),
            "b1": None if net.b1 is None else vec(net.b1.tolist())}


def grid_entry(X_raw: list, y: list, features: np.ndarray, net: Network, lam: Fraction, scope: dict,
               pattern_list: list[str]) -> GridEntry:
    """Certify one grid point: the network's exact NC and a dual lower bound over the scope."""
    b1 = None if net.b1 is None else net.b1.tolist()
    ctx = ExactContext(X_raw, y, net.W1.tolist(), net.w2.tolist(), b1, lam)
    gap = gap_claim(ctx, features, scope, pattern_list)
    ev = ctx.evaluation
    lower = ctx.evaluation.objective - Fraction(gap["gap"])
    point = {"lam": format_rational(lam), "network": _exact_network(net),
             "network_sha256": network_digest(net.W1.tolist(), net.w2.tolist(), b1),
             "dual_value": format_rational(lower), "evidence": gap["evidence"]}
    return GridEntry(lam, net, ev.loss, 2 * ev.penalty / lam, lower, point)


def lower_bounds(entries: list[GridEntry]) -> list[Fraction]:
    """``L_i = max_{j >= i} dual_value_j`` for entries sorted by decreasing lam."""
    out: list[Fraction] = [Fraction(0)] * len(entries)
    best = None
    for i in range(len(entries) - 1, -1, -1):
        v = entries[i].dual_value
        best = v if best is None or v > best else best
        out[i] = best
    return out


def chord(lam_lo: Fraction, L_lo: Fraction, lam_hi: Fraction, L_hi: Fraction, lam: Fraction) -> Fraction:
    """The chord of the lower bounds through ``(lam_lo, L_lo)`` and ``(lam_hi, L_hi)`` at ``lam``."""
    return L_lo + (lam - lam_lo) / (lam_hi - lam_lo) * (L_hi - L_lo)


def piece_excess(entries: list[GridEntry], L: list[Fraction], k: int, j: int, top: Fraction,
                 bottom: Fraction, eps: Fraction, relative: bool) -> Fraction:
    """Largest ``(NC_lam(theta_j) - chord) - allowed`` at the ends of a piece of segment k (<= 0: passes)."""
    hi, lo = entries[k], entries[k + 1]
    worst = None
    for lam in (top, bottom):
        low = chord(lo.lam, L[k + 1], hi.lam, L[k], lam)
        val = entries[j].upper(lam) - low - (eps * low if relative else eps)
        worst = val if worst is None or val > worst else worst
    return worst


@dataclass(frozen=True)
class Segment:
    """The networks named on segment k, from its top down, switching at ``breaks``."""

    networks: list[int]
    breaks: list[Fraction]
    excess: Fraction  # <= 0 when every piece passes

    def pieces(self, top: Fraction, bottom: Fraction) -> list[tuple[int, Fraction, Fraction]]:
        ends = [top, *self.breaks, bottom]
        return [(j, ends[t], ends[t + 1]) for t, j in enumerate(self.networks)]


def _crossing(a: GridEntry, b: GridEntry) -> Fraction | None:
    """Where ``NC_lam`` of the two networks are equal (a binary64 value), or None if parallel."""
    if a.squares == b.squares:
        return None
    return Fraction(float(2 * (b.loss - a.loss) / (a.squares - b.squares)))


def choose_segment(entries: list[GridEntry], L: list[Fraction], k: int, eps: Fraction, relative: bool
                   ) -> Segment:
    """The best of: the upper network, the lower network, or the upper one down to where the
    lower one's ``NC_lam`` crosses below it (the minimum of the two affine upper bounds)."""
    hi, lo = entries[k].lam, entries[k + 1].lam
    options = []
    for j in (k, k + 1):
        options.append(Segment([j], [], piece_excess(entries, L, k, j, hi, lo, eps, relative)))
    cut = _crossing(entries[k], entries[k + 1])
    if cut is not None and lo < cut < hi:
        e = max(piece_excess(entries, L, k, k, hi, cut, eps, relative),
                piece_excess(entries, L, k, k + 1, cut, lo, eps, relative))
        options.append(Segment([k, k + 1], [cut], e))
    return min(options, key=lambda o: o.excess)


def choose_networks(entries: list[GridEntry], eps: Fraction, relative: bool) -> list[Segment]:
    """Per segment the best choice of named networks (:func:`choose_segment`)."""
    L = lower_bounds(entries)
    return [choose_segment(entries, L, k, eps, relative) for k in range(len(entries) - 1)]


def eps_path_claim(entries: list[GridEntry], scope: dict, eps: Fraction, relative: bool) -> dict:
    """The ``eps_path`` claim of a grid that passes (entries sorted by decreasing lam)."""
    segments = choose_networks(entries, eps, relative)
    if any(seg.excess > 0 for seg in segments):
        raise ValueError("internal error: the grid does not certify eps")
    L = lower_bounds(entries)
    grid = [dict(e.point, lower_bound=format_rational(L[i])) for i, e in enumerate(entries)]
    return {"id": "eps_path", "type": "eps_path", "scope": scope,
            "lam_min": format_rational(entries[-1].lam), "lam_max": format_rational(entries[0].lam),
            "eps": format_rational(eps), "eps_kind": "relative" if relative else "absolute",
            "grid": grid,
            "segments": [{"networks": seg.networks, "breaks": [format_rational(b) for b in seg.breaks]}
                         for seg in segments]}


def _sqrt_above(q: Fraction, bits: int = 64) -> Fraction:
    """A dyadic ``s > 0`` with ``s^2 >= q`` and ``s <= sqrt(q) (1 + 2^-(bits-3))`` (for q > 0)."""
    if q <= 0:
        return Fraction(1, 1 << bits)
    k = max(0, bits - (q.numerator.bit_length() - q.denominator.bit_length()) // 2)
    s = Fraction(math.isqrt((q.numerator << (2 * k)) // q.denominator) + 1, 1 << k)
    while s * s < q:  # isqrt(floor) + 1 is already above; kept as a guard
        s += Fraction(1, 1 << k)
    return s


def zero_above_claim(X_raw: list, y: list, features: np.ndarray, bias: bool, scope: dict,
                     pattern_list: list[str]) -> tuple[dict, Fraction]:
    """``zero_optimal_above``: ``rho = y`` exactly, cone multipliers from NNLS, threshold M.

    Returns the claim and M, a dyadic just above ``sqrt`` of the largest exact squared one-cone
    bound of ``s X^T D y`` over the scope (an upper bound of ``lam_max`` of the scope).
    """
    d_raw = len(X_raw[0])
    ctx = ExactContext(X_raw, y, [[0.0] for _ in range(d_raw)], [0.0], [0.0] if bias else None,
                       Fraction(1))
    n = ctx.n
    ev = ctx.evaluation  # residual of the zero network = y, over 2^res_shift
    y_num, y_shift = ev.res_num, ev.res_shift
    y_scaled, ey = scaled_floats(y_num, y_shift)
    xmax = float(np.max(np.abs(features), initial=0.0))
    X_scaled = features / 2.0 ** _exponent(xmax) if xmax > 0 else features
    # mu = 2^ey * mu_scaled; numerators over den = 2^s with s >= y_shift and s >= RHO_BITS - ey
    s = max(y_shift, RHO_BITS - ey)
    den = 1 << s
    rho = [v << (s - y_shift) for v in y_num]
    bits = [pattern_strings.decode(p, n) for p in pattern_list]
    corr = dual.pattern_correlations(ctx.X, rho, bits)
    blocks, worst = [], Fraction(0)
    for p, pbits in enumerate(bits):
        pat = np.asarray(pbits, dtype=float)
        A = cone_rows(X_scaled, pat)
        g_base = X_scaled.T @ (pat * y_scaled)
        for sign in (1, -1):
            idx, num = round_multipliers(cone_multipliers(sign * g_base, A), 1 << RHO_BITS)
            num = [v << (ey - RHO_BITS + s) for v in num]
            v = dual.block_vector(ctx.X_rows, corr[p], sign, pbits, idx, num)
            worst = max(worst, dual.bound_squared(v, ctx.X.shift, den))
            blocks.append({"pattern": pattern_list[p], "sign": sign, "mu_idx": idx,
                           "mu_num": [int_to_str(x) for x in num]})
    M = _sqrt_above(worst)
    claim = {"id": "zero_optimal_above", "type": "zero_optimal_above", "scope": scope,
             "threshold": format_rational(M),
             "evidence": {"den": int_to_str(den), "rho": [int_to_str(r) for r in rho], "blocks": blocks}}
    return claim, M


def data_document(data_digest: str, n: int, d: int, bias: bool, claims: list[dict],
                  diagnostics: dict) -> dict:
    """A data certificate: inputs name only the data (``certify check`` needs no --model)."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "conventions": conventions.expected(bias),
        "inputs": {"data_sha256": data_digest, "n": n, "d": d, "bias": bias},
        "claims": claims,
        "diagnostics": diagnostics,
        "producer": {"name": "certify", "version": __version__},
    }
