"""Independent reference of the *sensitivity* claim, written without ``certify``.

Everything is recomputed from the floats with ``Fraction(float)``: the network's fits, residual,
exact patterns and block weights; the claim's statements are evaluated over Q (determinants by
Fraction elimination, not modulo a prime). A mutated claim is *true* iff every statement of the
claim (docs/certificate-format.md, "sensitivity") holds for the given numbers.
"""

from __future__ import annotations

from fractions import Fraction

import sympy

F = Fraction


def q(text) -> Fraction | None:
    if not isinstance(text, str):
        return None
    try:
        num, _, den = text.partition("/")
        value = F(int(num), int(den) if den else 1)
    except (ValueError, ZeroDivisionError):
        return None
    return value


def vec(obj, length) -> list[Fraction] | None:
    if not isinstance(obj, dict) or set(obj) != {"den", "num"} or not isinstance(obj["num"], list):
        return None
    den = q(obj["den"])
    if den is None or den <= 0 or den.denominator != 1 or len(obj["num"]) != length:
        return None
    out = []
    for v in obj["num"]:
        a = q(v)
        if a is None or a.denominator != 1:
            return None
        out.append(a / den)
    return out


def det(rows: list[list[Fraction]]) -> Fraction:
    M = [list(r) for r in rows]
    n = len(M)
    out = F(1)
    for c in range(n):
        piv = next((r for r in range(c, n) if M[r][c] != 0), None)
        if piv is None:
            return F(0)
        if piv != c:
            M[c], M[piv] = M[piv], M[c]
            out = -out
        out *= M[c][c]
        for r in range(c + 1, n):
            f = M[r][c] / M[c][c]
            if f:
                M[r] = [a - f * b for a, b in zip(M[r], M[c], strict=True)]
    return out


def _is_int(v, lo, hi) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v < hi


def claim_holds(claim: dict, X, y, W1, w2, lam) -> bool:
    """True iff the sensitivity claim is a true statement about ``(X, y, W1, w2, lam)`` (no bias)."""
    try:
        return _holds(claim, X, y, W1, w2, F(lam))
    except (KeyError, TypeError, IndexError, AttributeError):
        return False


def _holds(c, X, y, W1, w2, lam) -> bool:
    X = [[F(v) for v in row] for row in X]
    y = [F(v) for v in y]
    W1 = [[F(v) for v in row] for row in W1]
    w2 = [F(v) for v in w2]
    n, d, m = len(X), len(X[0]), len(w2)
    pre = [[sum((X[k][t] * W1[t][j] for t in range(d)), F(0)) for j in range(m)] for k in range(n)]
    fits = [[max(pre[k][j], F(0)) * w2[j] for k in range(n)] for j in range(m)]
    r = [y[k] - sum(fits[j][k] for j in range(m)) for k in range(n)]
    supp = [j for j in range(m) if any(fits[j])]
    neurons = c["neurons"]
    if neurons != supp or not supp:
        return False
    a = len(supp)
    rows = c["minimality"]["rows"]
    p = q(c["minimality"]["prime"])
    if not isinstance(rows, list) or len(rows) != a or not all(_is_int(k, 0, n) for k in rows) \
            or len(set(rows)) != a or p is None or not sympy.isprime(int(p)) or not 2 < p < 2 ** 64:
        return False
    if det([[fits[j][k] for j in supp] for k in rows]) == 0:
        return False
    pats = [[1 if pre[k][j] >= 0 else 0 for k in range(n)] for j in supp]
    signs = [1 if w2[j] > 0 else -1 for j in supp]
    ws = [[abs(w2[j]) * W1[t][j] for t in range(d)] for j in supp]
    if len({(tuple(pt), s) for pt, s in zip(pats, signs, strict=True)}) != a:
        return False
    if not isinstance(c["norms"], list) or len(c["norms"]) != a:
        return False
    cs = []
    for i, item in enumerate(c["norms"]):
        cc, dl = q(item["c"]), q(item["delta"])
        if cc is None or dl is None or set(item) != {"c", "delta"}:
            return False
        sq = sum(v * v for v in ws[i])
        if not (dl >= 0 and cc - dl > 0 and (cc - dl) ** 2 <= sq <= (cc + dl) ** 2):
            return False
        cs.append(cc)
    tau = q(c["tight_tolerance"])
    if tau is None or tau < 0 or not isinstance(c["tight"], list) or len(c["tight"]) != a:
        return False
    tight = c["tight"]
    for i, ks in enumerate(tight):
        if not isinstance(ks, list) or len(ks) >= d or not all(_is_int(k, 0, n) for k in ks) \
                or any(u >= v for u, v in zip(ks, ks[1:], strict=False)):
            return False
        j = supp[i]
        wsq = sum(W1[t][j] ** 2 for t in range(d))
        for k in ks:
            xsq = sum(v * v for v in X[k])
            if xsq == 0 or pre[k][j] ** 2 > tau ** 2 * xsq * wsq:
                return False
    kappa = q(c["slack_margin"])
    if kappa is None or kappa <= tau:
        return False
    for i, ks in enumerate(tight):
        j = supp[i]
        wsq = sum(W1[t][j] ** 2 for t in range(d))
        for k in range(n):
            xsq = sum(v * v for v in X[k])
            if k not in ks and xsq and pre[k][j] ** 2 < kappa ** 2 * xsq * wsq:
                return False
    Kcols = [[[(-v if pats[i][k] else v) for v in X[k]] for k in tight[i]] for i in range(a)]
    sigma = q(c["stationarity_bound"])
    if sigma is None or sigma < 0 or not isinstance(c["multipliers"], list) or len(c["multipliers"]) != a:
        return False
    for i in range(a):
        rho = vec(c["multipliers"][i], len(tight[i]))
        if rho is None or any(v <= 0 for v in rho):
            return False
        g = [signs[i] * sum((X[k][t] * r[k] for k in range(n) if pats[i][k]), F(0)) - lam * ws[i][t] / cs[i]
             - sum((col[t] * rv for col, rv in zip(Kcols[i], rho, strict=True)), F(0)) for t in range(d)]
        if sum(v * v for v in g) > sigma ** 2:
            return False
    beta = q(c["dual_bound"])
    if beta is None or beta < 0 or beta >= lam or not isinstance(c["off_active"], list):
        return False
    active = {(tuple(pt), s) for pt, s in zip(pats, signs, strict=True)}
    expected = {(tuple(pt), s) for pt in pats for s in (1, -1)} - active
    seen = set()
    for item in c["off_active"]:
        if set(item) != {"neuron", "sign", "mu_idx", "mu"} or not _is_int(item["neuron"], 0, a) \
                or item["sign"] not in (1, -1) or isinstance(item["sign"], bool):
            return False
        key = (tuple(pats[item["neuron"]]), item["sign"])
        if key in active or key in seen:
            return False
        seen.add(key)
        idx = item["mu_idx"]
        if not isinstance(idx, list) or not all(_is_int(k, 0, n) for k in idx) \
                or any(u >= v for u, v in zip(idx, idx[1:], strict=False)):
            return False
        mu = vec(item["mu"], len(idx))
        if mu is None or any(v < 0 for v in mu):
            return False
        pt, s = key
        v = [s * sum((X[k][t] * r[k] for k in range(n) if pt[k]), F(0)) for t in range(d)]
        for k, mk in zip(idx, mu, strict=True):
            v = [v[t] + mk * (X[k][t] if pt[k] else -X[k][t]) for t in range(d)]
        if sum(x * x for x in v) > beta ** 2:
            return False
    if seen != expected:
        return False
    # the system J_c d = R_c
    N = d * a + sum(len(t) for t in tight)
    ys = c["derivatives"]["y"]
    if not isinstance(ys, list) or len(ys) != n:
        return False
    cols = [vec(c["derivatives"]["lam"], N)] + [vec(v, N) for v in ys]
    if any(col is None for col in cols):
        return False
    Z = [[F(0)] * (d * a) for _ in range(n)]
    for i in range(a):
        for k in range(n):
            if pats[i][k]:
                for t in range(d):
                    Z[k][i * d + t] = signs[i] * X[k][t]
    J = [[F(0)] * N for _ in range(N)]
    for u in range(d * a):
        for v in range(d * a):
            J[u][v] = sum((Z[k][u] * Z[k][v] for k in range(n)), F(0))
    Rhs = [[F(0)] * (n + 1) for _ in range(N)]
    col = d * a
    for i in range(a):
        for s_ in range(d):
            for t in range(d):
                proj = (1 if s_ == t else 0) - ws[i][s_] * ws[i][t] / cs[i] ** 2
                J[i * d + s_][i * d + t] += lam * proj / cs[i]
            Rhs[i * d + s_][0] = -ws[i][s_] / cs[i]
            for k in range(n):
                Rhs[i * d + s_][1 + k] = Z[k][i * d + s_]
        for kc in Kcols[i]:
            for t in range(d):
                J[i * d + t][col] = J[col][i * d + t] = kc[t]
            col += 1
    eps = q(c["residual_bound"])
    if eps is None or eps < 0:
        return False
    for cidx in range(n + 1):
        for u in range(N):
            if abs(sum((J[u][v] * cols[cidx][v] for v in range(N)), F(0)) - Rhs[u][cidx]) > eps:
                return False
    pj = q(c["prime"])
    return pj is not None and 2 < pj < 2 ** 64 and sympy.isprime(int(pj)) and det(J) != 0
