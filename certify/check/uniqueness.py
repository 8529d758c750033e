"""Check of the *p_unique* claim (proofs/optimal_set.md, "The p_unique claim").

The claim: the network theta attains the optimum of the convex program (C-ReLU) over a pattern
scope, and that optimum is p-unique (theory.md §4, Prop. 4.3): every optimal solution is
``w_b = alpha_b v_b`` on the listed equicorrelated blocks and zero on all others, and the sum of
``alpha_b`` over each group of duplicate blocks (equal sign, ``v_b`` and ``Z_b v_b``) equals the
stated rational. Verified exactly with ``r = y - f_theta(X)``:

1. the blocks are exactly the scope's (pattern, sign) pairs;
2. per block, ``g = s X^T D r``, ``mu >= 0``, ``u = g + X^T (2D - I) mu``; a *strict* block has
   ``||u||^2 < lam^2``; an *equicorrelated* block lists ``v`` with ``u = v``, ``(2D - I) X v >= 0``,
   ``mu_k ((2D - I) X v)_k = 0`` (so ``v`` is the projection of ``g`` onto the cone) and
   ``||v||^2 = lam^2``;
3. every neuron's exact pattern is in the scope, and ``NC(theta) = <r, y> - 1/2 ||r||^2``;
4. the merged columns ``Z_b v_b`` have a non-zero minor modulo a prime (rows given), and
   ``sum_G alpha_G Z_G v_G = f_theta(X)`` with ``alpha_G >= 0``.

Meant for exact (planted) instances: for float data the optimal fit is generally irrational, 3
fails, and only a numerical verdict exists (``certify optimal-set``).
"""

from __future__ import annotations

from fractions import Fraction

from certify.check.fields import plain_int, rational, require_keys
from certify.check.gap import _scope_patterns, block_key
from certify.check.limits import PY, resources
from certify.check.verdict import Reject
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.linalg import det_mod, integer_matrix, is_prime
from certify.exact.rational import format_rational, parse_int

_CLAIM_KEYS = {"id", "type", "scope", "alpha", "evidence"}
_EVIDENCE_KEYS = {"blocks", "prime", "rows"}
_BLOCK_KEYS = {"pattern", "sign", "mu_idx", "mu", "v"}


def check_p_unique(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, _CLAIM_KEYS)
    ev = require_keys(claim["evidence"], _EVIDENCE_KEYS, where="evidence")
    blocks = ev["blocks"]
    if not isinstance(blocks, list):
        raise Reject("evidence.blocks must be a list")
    budget.forward(ctx)
    plist = _scope_patterns(claim["scope"], ctx, inputs, len(blocks) // 2)
    n, d, lam = ctx.n, ctx.d, ctx.lam
    budget.charge(len(blocks) * n * d * 8 * PY, f"the {len(blocks)} blocks of the p_unique claim")
    X = ctx.X.fractions()
    r = ctx.evaluation.residual()
    index = {p: i for i, p in enumerate(plist)}
    seen: dict[tuple[str, int], int] = {}
    equal: list[tuple[int, tuple[Fraction, ...], tuple[Fraction, ...]]] = []
    for i, b in enumerate(blocks):
        where = f"evidence.blocks[{i}]"
        block_key(b, i, _BLOCK_KEYS, index, seen, "evidence.blocks")
        s = b["sign"]
        bits = pattern_strings.decode(b["pattern"], n)
        idx = b["mu_idx"]
        if not isinstance(idx, list) or not isinstance(b["mu"], list) or len(idx) != len(b["mu"]):
            raise Reject(f"{where}: mu_idx and mu must be lists of equal length")
        idx = [plain_int(k, f"{where}.mu_idx", 0, n) for k in idx]
        if any(a >= c for a, c in zip(idx, idx[1:], strict=False)):
            raise Reject(f"{where}.mu_idx must be strictly increasing")
        mu = [rational(v, f"{where}.mu", limits.max_digits) for v in b["mu"]]
        if any(v < 0 for v in mu):
            raise Reject(f"{where}: a cone multiplier is negative")
        rows = [[(1 if bits[k] else -1) * X[k][c] for c in range(d)] for k in range(n)]  # A = (2D - I) X
        u = [s * sum((X[k][c] * r[k] for k in range(n) if bits[k]), Fraction(0)) for c in range(d)]
        for k, mk in zip(idx, mu, strict=True):
            for c in range(d):
                u[c] += mk * rows[k][c]
        norm_sq = sum(c * c for c in u)
        if b["v"] is None:
            if not norm_sq < lam * lam:
                raise Reject(f"{where} (strict): squared cone bound {format_rational(norm_sq)} is not below "
                             f"lam^2 = {format_rational(lam * lam)}")
            continue
        if not isinstance(b["v"], list) or len(b["v"]) != d:
            raise Reject(f"{where}.v must be null or a list of d = {d} rationals")
        v = [rational(c, f"{where}.v", limits.max_digits) for c in b["v"]]
        if v != u:
            raise Reject(f"{where}: v differs from s X^T D r + X^T (2D - I) mu")
        av = [sum(row[c] * v[c] for c in range(d)) for row in rows]
        if any(a < 0 for a in av):
            raise Reject(f"{where}: v is not in the cone of its pattern")
        if any(mk * av[k] != 0 for k, mk in zip(idx, mu, strict=True)):
            raise Reject(f"{where}: a multiplier is positive on a constraint that v does not make tight "
                         f"(v is not shown to be the projection)")
        if norm_sq != lam * lam:
            raise Reject(f"{where}: ||v||^2 = {format_rational(norm_sq)} differs from lam^2 = "
                         f"{format_rational(lam * lam)}")
        column = tuple(Fraction(s) * bits[k] * av[k] * (1 if bits[k] else -1) for k in range(n))
        equal.append((s, tuple(v), column))
    if len(seen) != 2 * len(plist):
        raise Reject(f"evidence covers {len(seen)} blocks but the scope has {2 * len(plist)} "
                     f"(every pattern with both signs)")
    _check_network_in_scope(ctx, index)
    dual_value = _dual_value(r, ctx)
    if ctx.evaluation.objective != dual_value:
        raise Reject(f"NC(theta) = {format_rational(ctx.evaluation.objective)} differs from the dual value "
                     f"{format_rational(dual_value)} of its residual: the network is not shown to be exactly "
                     f"optimal over the scope")
    groups: dict[tuple, int] = {}
    columns: list[tuple[Fraction, ...]] = []
    for s, v, col in equal:
        if (s, v, col) not in groups:
            groups[(s, v, col)] = len(columns)
            columns.append(col)
    alpha_raw = claim["alpha"]
    if not isinstance(alpha_raw, list) or len(alpha_raw) != len(columns):
        raise Reject(f"alpha must list one rational per group of equicorrelated blocks ({len(columns)})")
    alpha = [rational(a, "alpha", limits.max_digits) for a in alpha_raw]
    if any(a < 0 for a in alpha):
        raise Reject("alpha has a negative entry")
    fit = [sum((a * col[k] for a, col in zip(alpha, columns, strict=True)), Fraction(0)) for k in range(n)]
    y = ctx.y.fractions()
    if any(f != y[k][0] - r[k] for k, f in enumerate(fit)):
        raise Reject("sum_G alpha_G Z_G v_G differs from the network's fit")
    prime = (parse_int(ev["prime"], "evidence.prime", limits.max_digits) if isinstance(ev["prime"], str)
             else None)
    if prime is None or prime.bit_length() > 256 or not is_prime(prime):
        raise Reject("evidence.prime must be a prime of at most 256 bits, as a string")
    rows_sel = ev["rows"]
    if not isinstance(rows_sel, list) or len(rows_sel) != len(columns):
        raise Reject(f"evidence.rows must list {len(columns)} row indices (one per group)")
    rows_sel = [plain_int(k, "evidence.rows", 0, n) for k in rows_sel]
    if any(a >= c for a, c in zip(rows_sel, rows_sel[1:], strict=False)):
        raise Reject("evidence.rows must be strictly increasing")
    if columns:
        minor = integer_matrix([[col[k] for col in columns] for k in rows_sel])
        if det_mod(minor, prime) == 0:
            raise Reject("the minor of the merged columns Z_b v_b on evidence.rows is zero modulo the prime: "
                         "independence (p-uniqueness) not shown")
    return {"groups": len(columns), "equicorrelated": len(equal),
            "alpha": [format_rational(a) for a in alpha]}


def _dual_value(r: list[Fraction], ctx: ExactContext) -> Fraction:
    y = ctx.y.fractions()
    return sum((a * b[0] for a, b in zip(r, y, strict=True)), Fraction(0)) - sum(a * a for a in r) / 2


def _check_network_in_scope(ctx: ExactContext, index: dict) -> None:
    """Every neuron with non-zero weights has its exact pattern ``1[X W1_j >= 0]`` in the scope."""
    w2 = [int(v) for v in ctx.w2.mat.entries()]
    pre = ctx.evaluation.preact
    for j in range(ctx.m):
        if ctx.w1_zero[j] or w2[j] == 0:
            continue
        text = pattern_strings.encode([1 if row[j] >= 0 else 0 for row in pre])
        if text not in index:
            raise Reject(f"neuron {j}'s exact activation pattern {text} is not in the scope")

