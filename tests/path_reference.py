"""Independent reference of the data-certificate claims ``eps_path`` and ``zero_optimal_above``.

Written without ``certify``: floats are read with ``Fraction(float)``; the networks' NC, the
one-cone bounds ``||s X^T D rho + X^T (2D - I) mu||^2 <= lam^2`` and the dual values are
recomputed from scratch; then the envelope argument of proofs/path.md is evaluated with
Fractions. Digests are not recomputed (the mutation suites leave them alone or expect a
rejection). :func:`eps_path_holds` and :func:`zero_above_holds` say whether the claim, as
written, is established by its own evidence.
"""

from __future__ import annotations

import re
from fractions import Fraction

F = Fraction
_INT = re.compile(r"-?[0-9]+\Z")


def q(text: object) -> Fraction | None:
    """A rational string ``p`` or ``p/q`` (q > 0), else None."""
    if not isinstance(text, str):
        return None
    parts = text.split("/")
    if len(parts) > 2 or not all(_INT.match(p) for p in parts):
        return None
    if len(parts) == 2:
        if int(parts[1]) <= 0 or parts[1].startswith("-"):
            return None
        return F(int(parts[0]), int(parts[1]))
    return F(int(parts[0]))


def features(X: list, bias: bool) -> list[list[Fraction]]:
    return [[F(v) for v in row] + ([F(1)] if bias else []) for row in X]


def nc_parts(Xf: list, y: list, W1: list, w2: list) -> tuple[Fraction, Fraction]:
    """``(1/2 ||f(X) - y||^2, sum (||W1_j||^2 + w2_j^2))`` with W1 (d' x m) including the bias row."""
    m = len(w2)
    loss = F(0)
    for row, target in zip(Xf, y, strict=True):
        f = sum(max(F(0), sum(row[i] * W1[i][j] for i in range(len(row)))) * w2[j] for j in range(m))
        loss += (f - F(target)) ** 2
    squares = sum(W1[i][j] ** 2 for i in range(len(W1)) for j in range(m)) + sum(v * v for v in w2)
    return loss / 2, squares


def pattern_bits(text: str, n: int) -> list[int]:
    value = int(text, 16)
    return [(value >> k) & 1 for k in range(n)]


def dual_feasible(Xf: list, rho: list[Fraction], blocks: list, patterns: list[str], lam: Fraction,
                  den: int) -> bool:
    """Every block of patterns x {+1, -1} present once, mu >= 0, and its one-cone bound <= lam."""
    n, d = len(Xf), len(Xf[0])
    seen = set()
    for b in blocks:
        key = (b["pattern"], b["sign"])
        if key in seen or b["pattern"] not in patterns or b["sign"] not in (1, -1):
            return False
        seen.add(key)
        bits = pattern_bits(b["pattern"], n)
        v = [b["sign"] * sum(bits[k] * rho[k] * Xf[k][i] for k in range(n)) for i in range(d)]
        for k, num in zip(b["mu_idx"], b["mu_num"], strict=True):
            mu = F(int(num), den)
            if mu < 0:
                return False
            for i in range(d):
                v[i] += mu * (1 if bits[k] else -1) * Xf[k][i]
        if sum(c * c for c in v) > lam * lam:
            return False
    return len(seen) == 2 * len(patterns)


def dual_value(rho: list[Fraction], y: list) -> Fraction:
    return sum(r * F(t) for r, t in zip(rho, y, strict=True)) - sum(r * r for r in rho) / 2


def _network(net: dict, bias: bool) -> tuple[list, list]:
    W1 = [[q(v) for v in row] for row in net["W1"]]
    if bias:
        W1.append([q(v) for v in net["b1"]])
    return W1, [q(v) for v in net["w2"]]


def eps_path_holds(claim: dict, X: list, y: list, bias: bool, patterns: list[str]) -> bool:
    """Whether the claim's evidence establishes it (proofs/path.md), recomputed from scratch."""
    Xf = features(X, bias)
    grid = claim["grid"]
    lams = [q(p["lam"]) for p in grid]
    lam_min, lam_max, eps = q(claim["lam_min"]), q(claim["lam_max"]), q(claim["eps"])
    if None in lams or None in (lam_min, lam_max, eps) or eps < 0 or not 0 < lam_min < lam_max:
        return False
    if lams[0] != lam_max or lams[-1] != lam_min or any(a <= b for a, b in zip(lams, lams[1:], strict=False)):
        return False
    if sorted(set(claim["scope"]["patterns"])) != sorted(set(patterns)):
        return False
    parts, duals, lowers = [], [], []
    for p, lam in zip(grid, lams, strict=True):
        den = int(p["evidence"]["den"])
        if den <= 0:
            return False
        rho = [F(int(r), den) for r in p["evidence"]["rho"]]
        if not dual_feasible(Xf, rho, p["evidence"]["blocks"], patterns, lam, den):
            return False
        dv = q(p["dual_value"])
        if dv > dual_value(rho, y):
            return False
        duals.append(dv)
        lowers.append(q(p["lower_bound"]))
        parts.append(nc_parts(Xf, y, *_network(p["network"], bias)))
    best = None
    for i in range(len(grid) - 1, -1, -1):
        best = duals[i] if best is None else max(best, duals[i])
        if lowers[i] > best:
            return False
    rel = claim["eps_kind"] == "relative"
    for k, seg in enumerate(claim["segments"]):
        ends = [lams[k], *[q(b) for b in seg["breaks"]], lams[k + 1]]
        if len(ends) != len(seg["networks"]) + 1 or any(a <= b for a, b in zip(ends, ends[1:], strict=False)):
            return False
        for t, j in enumerate(seg["networks"]):
            loss, sq = parts[j]
            for lam in (ends[t], ends[t + 1]):
                t_ = (lam - lams[k + 1]) / (lams[k] - lams[k + 1])
                c = lowers[k + 1] + t_ * (lowers[k] - lowers[k + 1])
                if loss + lam * sq / 2 - c > (eps * c if rel else eps):
                    return False
    return True


def zero_above_holds(claim: dict, X: list, y: list, bias: bool, patterns: list[str]) -> bool:
    """Whether ``rho = y`` is dual feasible at the claimed threshold by the claim's evidence."""
    M = q(claim["threshold"])
    ev = claim["evidence"]
    den = int(ev["den"])
    if M is None or M <= 0 or den <= 0:
        return False
    rho = [F(int(r), den) for r in ev["rho"]]
    if rho != [F(t) for t in y]:
        return False
    return dual_feasible(features(X, bias), rho, ev["blocks"], patterns, M, den)
