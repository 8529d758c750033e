"""Check of the *sensitivity* claim (proofs/sensitivity.md; theory.md §3, §4, §6).

The claim is about the given network ``theta`` on ``(X, y, lam)``: its active neurons ``j`` (every
neuron with a non-zero fit column), block weights ``w_j = |w2_j| W1_j``, exact patterns ``D_j``
(``x_k^T W1_j >= 0``), signs ``s_j = sign w2_j`` and exact residual ``r = y - f(X)``. Accept iff

1. ``neurons`` is the support and ``minimality`` a non-zero minor modulo a prime of the fit columns
   (the *minimal* check, proofs/minimality.md); the active blocks ``(D_j, s_j)`` are distinct;
2. per neuron, ``0 < c_j - delta_j`` and ``(c_j - delta_j)^2 <= ||w_j||^2 <= (c_j + delta_j)^2``;
3. per neuron, the listed tight rows are distinct, non-zero points with
   ``(x_k^T W1_j)^2 <= tau^2 ||x_k||^2 ||W1_j||^2``, and every other non-zero point has
   ``(x_k^T W1_j)^2 >= kappa^2 ||x_k||^2 ||W1_j||^2`` with ``kappa > tau`` (``slack_margin``);
4. every multiplier is ``> 0`` (strict complementarity of the stated multipliers) and, per neuron,
   ``||Z_j^T r - lam w_j / c_j - K_j rho_j||^2 <= sigma^2`` (stationarity residual);
5. ``off_active`` lists each block of the own scope ``{(D_j, +-1)}`` that is not active exactly once,
   each with multipliers ``mu >= 0`` and ``||s X^T D r + X^T (2D - I) mu||^2 <= beta^2``, and
   ``0 <= beta < lam`` (strict dual feasibility off the active set at the network's residual);
6. ``max |J_c d - R_c| <= epsilon`` entrywise (exact; :mod:`certify.exact.sensitivity`) and
   ``det(L J_c) != 0 mod p``: the stated derivatives solve the rational implicit-function system to
   that residual, and the system is non-singular.

That the stated ``d`` *are* the derivatives of the optimal solution map is first order and numerical
(the claim's ``numerical`` section, not checked): see the proof for what the exact part implies.
"""

from __future__ import annotations

from fractions import Fraction

from certify.check.fields import integer, plain_int, rational, require_keys
from certify.check.limits import PY, max_bits, resources, words
from certify.check.minimality import check_minimal
from certify.check.verdict import Reject
from certify.exact import sensitivity as exact
from certify.exact.context import ExactContext
from certify.exact.linalg import is_prime
from certify.exact.rational import approx, format_rational, parse_int_vector

_KEYS = {"id", "type", "neurons", "minimality", "norms", "tight", "tight_tolerance", "slack_margin",
         "multipliers", "stationarity_bound", "off_active", "dual_bound", "derivatives", "residual_bound",
         "prime", "numerical"}
_PRIME_LIMIT = 1 << 64


def _vector(obj: object, length: int | None, what: str, max_digits: int) -> list[Fraction]:
    try:
        num, den = parse_int_vector(obj, length, what, max_digits)
    except ValueError as exc:
        raise Reject(str(exc)) from None
    return [Fraction(v, den) for v in num]


def _nonneg(value: Fraction, what: str) -> Fraction:
    if value < 0:
        raise Reject(f"{what} must be non-negative")
    return value


def check_sensitivity(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, _KEYS)
    digits = limits.max_digits
    mini = require_keys(claim["minimality"], {"rows", "prime"}, where="minimality")
    check_minimal({"id": claim["id"], "type": "minimal", "support": claim["neurons"], "rows": mini["rows"],
                   "prime": mini["prime"]}, ctx, inputs)
    neurons: list[int] = claim["neurons"]
    a, n, d = len(neurons), ctx.n, ctx.d
    if a == 0:
        raise Reject("the network has no active neuron: there is nothing to differentiate")
    pre = ctx.evaluation.preact
    w2 = [v for row in ctx.w2.fractions() for v in row]
    W1 = ctx.W1.fractions()
    X = ctx.X.fractions()
    r = ctx.evaluation.residual()
    lam = ctx.lam
    patterns = [[1 if pre[k][j] >= 0 else 0 for k in range(n)] for j in neurons]
    signs = [1 if w2[j] > 0 else -1 for j in neurons]
    weights = [[abs(w2[j]) * W1[i][j] for i in range(d)] for j in neurons]
    active = {(tuple(p), s) for p, s in zip(patterns, signs, strict=True)}
    if len(active) != a:
        raise Reject("two active neurons share one block (pattern and sign): the network is not the "
                     "image of a solution with one neuron per block")
    budget.charge(a * (n * d + PY) * words(budget.bits(ctx, "X") + budget.bits(ctx, "W1")),
                  "the exact block weights, norms and tight rows")
    # 2. norms
    norms_raw = claim["norms"]
    if not isinstance(norms_raw, list) or len(norms_raw) != a:
        raise Reject(f"norms must list {a} entries (one per neuron)")
    norms = []
    for i, item in enumerate(norms_raw):
        require_keys(item, {"c", "delta"}, where=f"norms[{i}]")
        c = rational(item["c"], f"norms[{i}].c", digits)
        delta = rational(item["delta"], f"norms[{i}].delta", digits)
        if not exact.norm_bracket_holds(exact.squared_norm(weights[i]), c, delta):
            raise Reject(f"norms[{i}]: c = {approx(c)} is not within delta = {approx(delta)} of ||w_j|| "
                         f"(need 0 < c - delta and (c - delta)^2 <= ||w_j||^2 <= (c + delta)^2)")
        norms.append(c)
    # 3. tight rows
    tau = _nonneg(rational(claim["tight_tolerance"], "tight_tolerance", digits), "tight_tolerance")
    kappa = rational(claim["slack_margin"], "slack_margin", digits)
    if kappa <= tau:
        raise Reject("slack_margin must exceed tight_tolerance (the other rows strictly off the hyperplanes)")
    tight_raw = claim["tight"]
    if not isinstance(tight_raw, list) or len(tight_raw) != a:
        raise Reject(f"tight must list {a} lists of row indices (one per neuron)")
    tight: list[list[int]] = []
    for i, rows in enumerate(tight_raw):
        if not isinstance(rows, list) or len(rows) >= d:
            raise Reject(f"tight[{i}] must be a list of fewer than d = {d} row indices")
        ks = [plain_int(k, f"tight[{i}][{t}]", 0, n) for t, k in enumerate(rows)]
        if any(p >= q for p, q in zip(ks, ks[1:], strict=False)):
            raise Reject(f"tight[{i}] must be strictly increasing")
        j = neurons[i]
        wsq = sum((W1[t][j] ** 2 for t in range(d)), Fraction(0))
        for k in ks:
            xsq = exact.squared_norm(X[k])
            if xsq == 0:
                raise Reject(f"tight[{i}]: row {k} is a zero point (no constraint)")
            dot = sum((X[k][t] * W1[t][j] for t in range(d)), Fraction(0))
            if dot * dot > tau * tau * xsq * wsq:
                raise Reject(f"tight[{i}]: row {k} has |x_k^T W1_j| / (||x_k|| ||W1_j||) above the "
                             f"tight_tolerance {approx(tau)}")
        listed = set(ks)
        for k in range(n):
            if k in listed or ctx.zero_rows[k]:
                continue
            dot = sum((X[k][t] * W1[t][j] for t in range(d)), Fraction(0))
            if dot * dot < kappa * kappa * exact.squared_norm(X[k]) * wsq:
                raise Reject(f"neuron {j}: row {k} is not listed as tight but |x_k^T W1_j| / "
                             f"(||x_k|| ||W1_j||) is below slack_margin {approx(kappa)}")
        tight.append(ks)
    # 4. multipliers and stationarity
    sigma = _nonneg(rational(claim["stationarity_bound"], "stationarity_bound", digits), "stationarity_bound")
    mult_raw = claim["multipliers"]
    if not isinstance(mult_raw, list) or len(mult_raw) != a:
        raise Reject(f"multipliers must list {a} vectors (one per neuron)")
    min_rho = None
    worst_stat = Fraction(0)
    for i in range(a):
        rho = _vector(mult_raw[i], len(tight[i]), f"multipliers[{i}]", digits)
        if any(v <= 0 for v in rho):
            raise Reject(f"multipliers[{i}]: a multiplier is not > 0 (strict complementarity fails)")
        if rho:
            min_rho = min(rho) if min_rho is None else min(min_rho, min(rho))
        s = exact.stationarity_residual(X, r, lam, patterns[i], signs[i], weights[i], norms[i], tight[i], rho)
        ssq = exact.squared_norm(s)
        if ssq > sigma * sigma:
            raise Reject(f"neuron {neurons[i]}: stationarity residual ||Z^T r - lam w / c - K rho|| ~ "
                         f"{approx(ssq, sqrt=True)} exceeds stationarity_bound {approx(sigma)}")
        worst_stat = max(worst_stat, ssq)
    # 5. strict dual feasibility off the active set
    beta = _nonneg(rational(claim["dual_bound"], "dual_bound", digits), "dual_bound")
    if beta >= lam:
        raise Reject(f"dual_bound {approx(beta)} is not below lam = {approx(lam)}: no strict dual "
                     "feasibility off the active set")
    scope = {(tuple(p), s) for p in patterns for s in (1, -1)}
    expected = scope - active
    off = claim["off_active"]
    if not isinstance(off, list):
        raise Reject("off_active must be a list")
    seen: set = set()
    for i, item in enumerate(off):
        require_keys(item, {"neuron", "sign", "mu_idx", "mu"}, where=f"off_active[{i}]")
        pos = plain_int(item["neuron"], f"off_active[{i}].neuron", 0, a)
        sign = item["sign"]
        if sign not in (1, -1) or isinstance(sign, bool):
            raise Reject(f"off_active[{i}].sign must be 1 or -1")
        key = (tuple(patterns[pos]), sign)
        if key in active:
            raise Reject(f"off_active[{i}] names an active block")
        if key in seen:
            raise Reject(f"off_active[{i}] repeats a block")
        seen.add(key)
        idx = item["mu_idx"]
        if not isinstance(idx, list) or not all(isinstance(k, int) and not isinstance(k, bool) for k in idx):
            raise Reject(f"off_active[{i}].mu_idx must be a list of integers")
        if any(k < 0 or k >= n for k in idx) or any(p >= q for p, q in zip(idx, idx[1:], strict=False)):
            raise Reject(f"off_active[{i}].mu_idx must be strictly increasing indices in [0, {n})")
        mu = _vector(item["mu"], len(idx), f"off_active[{i}].mu", digits)
        if any(v < 0 for v in mu):
            raise Reject(f"off_active[{i}]: a cone multiplier is negative")
        budget.charge(d * (n + len(idx)) * PY, f"the one-cone bound of off_active[{i}]")
        pat = patterns[pos]
        v = [sum((sign * X[k][t] * r[k] for k in range(n) if pat[k]), Fraction(0)) for t in range(d)]
        for k, m in zip(idx, mu, strict=True):
            for t in range(d):
                v[t] += m * (X[k][t] if pat[k] else -X[k][t])
        if exact.squared_norm(v) > beta * beta:
            raise Reject(f"off_active[{i}] (neuron {neurons[pos]}'s pattern, sign {sign}): the one-cone "
                         f"bound exceeds dual_bound {approx(beta)}")
    if seen != expected:
        raise Reject(f"off_active covers {len(seen)} blocks; the own scope has {len(expected)} blocks off "
                     "the active set (each pattern of an active neuron with the other sign, unless active)")
    # 6. the implicit-function system
    N = d * a + sum(len(t) for t in tight)
    der = require_keys(claim["derivatives"], {"lam", "y"}, where="derivatives")
    ys = der["y"]
    if not isinstance(ys, list) or len(ys) != n:
        raise Reject(f"derivatives.y must list {n} vectors (one per training point)")
    epsilon = _nonneg(rational(claim["residual_bound"], "residual_bound", digits), "residual_bound")
    p = integer(claim["prime"], "prime", 30)
    if not 2 < p < _PRIME_LIMIT or not is_prime(p):
        raise Reject(f"prime must be an odd prime below 2^64, got {p}")
    size = PY + words(max_bits([int(c.numerator) for c in norms]))
    budget.charge(N * N * (n + 1 + N) * size + n * N * PY,
                  f"the exact implicit-function system ({N} x {N}) and its residual at {n + 1} columns")
    cols = [_vector(der["lam"], N, "derivatives.lam", digits)]
    cols += [_vector(v, N, f"derivatives.y[{k}]", digits) for k, v in enumerate(ys)]
    J, R = exact.system(X, lam, patterns, signs, weights, norms, tight)
    Dm = exact.to_fmpq_mat(N, n + 1, [cols[c][i] for i in range(N) for c in range(n + 1)])
    res = exact.residual_max(J, Dm, R)
    if res > epsilon:
        raise Reject(f"max |J_c d - R_c| = {approx(res)} exceeds residual_bound {approx(epsilon)}: the "
                     "stated derivatives do not solve the implicit-function system to that residual")
    if exact.det_mod(J, p) == 0:
        raise Reject(f"det(L J_c) is 0 modulo {p}: the implicit-function system is not shown non-singular")
    return {"neurons": a, "unknowns": N, "min_multiplier": format_rational(min_rho) if min_rho is not None
            else "none", "dual_margin": format_rational(lam - beta), "residual": format_rational(res),
            "stationarity_sq": format_rational(worst_stat)}
