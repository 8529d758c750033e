"""Check of the *sub-sampled gap* claim (proofs/subsampled_gap.md).

Accept iff, with ``rho = evidence.rho / den`` and per block ``mu = mu_num / den``:

1. the scope is well-formed: ``own`` (patterns recomputed here from the exact network,
   every tie subset included, within ``max_ties``) or ``given`` (listed pattern strings whose
   digest matches ``patterns_sha256`` and, when the caller supplies one, the user's digest);
2. the blocks are exactly the scope's (pattern, sign) pairs, each once, both signs;
3. every multiplier is non-negative, its indices strictly increasing and in range;
4. for every block, ``||s X^T D rho + X^T (2D - I) mu||^2 <= lam^2`` exactly;
5. ``lower_bound <= <rho, y> - 1/2 ||rho||^2`` and ``NC(theta) - lower_bound <= gap``.

Then ``NC(theta) - p*(scope) <= gap`` by weak duality and the one-cone bound.

Resources (limits.py): the work of the scope is charged before it is enumerated or
decoded; an own scope is enumerated neuron by neuron and abandoned as soon as it has more
patterns than the evidence has blocks for (so its memory is bounded by the certificate's);
patterns are decoded and correlated with ``rho`` a chunk at a time.
"""

from __future__ import annotations

import re
from fractions import Fraction

from certify.check.fields import int_list, integer, plain_int, rational_field, require_keys
from certify.check.limits import PY, WorkBudget, max_bits, resources, words
from certify.check.verdict import Reject
from certify.exact import dual
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.digest import patterns_digest
from certify.exact.patterns import MAX_TIES_LIMIT
from certify.exact.rational import approx, format_rational

_HEX = re.compile(r"[0-9a-f]+")

#: Patterns are decoded and correlated in chunks of about this many 0/1 entries (n per pattern).
CHUNK_ENTRIES = 1 << 20

#: An own scope of at most this many bits in all (patterns x n) is enumerated in one go.
SMALL_SCOPE_BITS = 1 << 26


def _tie_counts(ctx: ExactContext) -> list[int]:
    """Per neuron with ``W1_j != 0``, its number of exact ties (as in the own scope); 0 otherwise.

    For such a neuron, ``ctx.ties`` lists exactly the ``(k, j)`` with ``x_k^T W1_j = 0``, ``x_k != 0``.
    """
    counts = [0] * ctx.m
    for _, j in ctx.ties:
        counts[j] += 1
    return [0 if ctx.w1_zero[j] else c for j, c in enumerate(counts)]


def _own_patterns(ctx: ExactContext, max_ties: int, room: int, budget: WorkBudget) -> list[str]:
    """The own scope's patterns (as :meth:`ExactContext.own_scope`), or Reject.

    ``room`` is the number of patterns the evidence has blocks for: the scope is rejected as
    soon as it is known to have more.
    """
    ties = _tie_counts(ctx)
    for j, t in enumerate(ties):
        if t > max_ties:  # the message of exact/patterns.own_scope
            raise Reject(f"own scope: neuron {j} lies exactly on {t} data hyperplanes; its own-pattern "
                         f"scope would have 2^{t} patterns, over the budget of 2^{max_ties} "
                         f"(raise max_ties, or verify against a given pattern set)")
    live = [j for j in range(ctx.m) if not ctx.w1_zero[j]]
    total = sum(1 << ties[j] for j in live)  # patterns before merging identical ones
    budget.charge(sum(ctx.n * PY + (ctx.n << ties[j]) for j in live),
                  f"enumerating the own scope ({total} tie patterns)")
    if total <= room or total * ctx.n <= SMALL_SCOPE_BITS:
        try:
            return ctx.own_scope(max_ties).patterns
        except ValueError as exc:
            raise Reject(f"own scope: {exc}") from None
    # neuron by neuron, in the order of own_scope (so the same patterns in the same order)
    seen: dict[str, None] = {}
    pre, zero_rows = ctx.evaluation.preact, ctx.zero_rows
    for j in live:
        if 1 << ties[j] > room:  # the 2^t tie subsets of one neuron give distinct patterns
            _too_many(room, 1 << ties[j])
        column = [[row[j]] for row in pre]
        for p in pattern_strings.own_scope(column, zero_rows, [False], max_ties).patterns:
            seen.setdefault(p, None)
        if len(seen) > room:
            _too_many(room, len(seen))
    return list(seen)


def _too_many(room: int, found: int) -> None:
    raise Reject(f"evidence has blocks for at most {room} patterns, but the own scope has at least "
                 f"{found} (every pattern needs a block of each sign)")


def _scope_patterns(scope: object, ctx: ExactContext, inputs: dict, room: int) -> list[str]:
    _, budget = resources(inputs)
    if not isinstance(scope, dict) or scope.get("kind") not in ("own", "given"):
        raise Reject("scope must be an object with kind 'own' or 'given'")
    if scope["kind"] == "own":
        require_keys(scope, {"kind", "max_ties"}, where="scope")
        if inputs.get("patterns_sha256") is not None:
            raise Reject("this gap is relative to the network's own patterns, not to the pattern set "
                         "given to the checker")
        max_ties = plain_int(scope["max_ties"], "scope.max_ties", 0, MAX_TIES_LIMIT + 1)
        return _own_patterns(ctx, max_ties, room, budget)
    require_keys(scope, {"kind", "patterns", "patterns_sha256"}, where="scope")
    plist = scope["patterns"]
    if not isinstance(plist, list) or not plist:
        raise Reject("scope.patterns must be a non-empty list of pattern strings")
    for i, p in enumerate(plist):
        _valid_pattern(p, ctx.n, f"scope.patterns[{i}]")
    if len(set(plist)) != len(plist):
        raise Reject("scope.patterns lists a pattern twice")
    digest = patterns_digest(ctx.n, plist)
    if digest != scope["patterns_sha256"]:
        raise Reject(f"scope.patterns_sha256 does not match the listed patterns (recomputed {digest})")
    expected = inputs.get("patterns_sha256")
    if expected is not None and expected != digest:
        raise Reject(f"the pattern set in the certificate (sha256 {digest}) is not the one given "
                     f"(sha256 {expected})")
    return plist


def _valid_pattern(text: object, n: int, what: str) -> None:
    """Reject unless ``text`` is a pattern string for ``n`` points (what ``patterns.decode`` accepts).

    Checked on the text, without decoding: exactly ``ceil(n/4)`` lower-case hex digits (at least
    one), and no bit at or beyond n, that is, the leading digit below ``2^(n - 4 (width - 1))``.
    """
    width = max(1, (n + 3) // 4)
    if not isinstance(text, str) or len(text) != width or not _HEX.fullmatch(text):
        raise Reject(f"{what}: pattern string must have exactly {width} lower-case hex digits for n = {n}")
    if int(text[0], 16) >> max(0, n - 4 * (width - 1)):
        raise Reject(f"{what}: pattern string sets bits beyond n = {n}")


def _room(blocks: list, n: int) -> int:
    """Patterns the blocks can cover: distinct well-formed pattern strings, at most len / 2."""
    width = max(1, (n + 3) // 4)
    names = {b["pattern"] for b in blocks
             if isinstance(b, dict) and isinstance(b.get("pattern"), str) and len(b["pattern"]) == width}
    return min(len(names), len(blocks) // 2)


def block_key(b: object, i: int, keys: set[str], index: dict[str, int], seen: dict[tuple[str, int], int],
              where: str) -> tuple[str, int]:
    """Validate block ``i`` of an evidence list named ``where``: exactly ``keys``, a sign of +-1, a
    pattern of the scope (``index``), and a (pattern, sign) pair not in ``seen``; record and
    return that pair."""
    at = f"{where}[{i}]"
    require_keys(b, keys, where=at)
    if b["sign"] not in (1, -1) or isinstance(b["sign"], bool):
        raise Reject(f"{at}.sign must be 1 or -1")
    if not isinstance(b["pattern"], str) or b["pattern"] not in index:
        raise Reject(f"{at} names a pattern outside the scope")
    key = (b["pattern"], b["sign"])
    if key in seen:
        raise Reject(f"{at} repeats the block of {where}[{seen[key]}]")
    seen[key] = i
    return key


def check_lower_bound(ctx: ExactContext, rho: list[int], den: int, lower: Fraction, gap: Fraction
                      ) -> Fraction:
    """Reject unless ``lower <= <rho, y> - 1/2 ||rho||^2`` (rho = ``rho / den``) and
    ``NC(theta) - lower <= gap``; return the dual value."""
    dual_val = dual.dual_value(rho, den, ctx.y)
    if lower > dual_val:
        raise Reject(f"lower_bound {format_rational(lower)} (~{approx(lower)}) exceeds the dual "
                     f"value {format_rational(dual_val)} (~{approx(dual_val)})")
    objective = ctx.evaluation.objective
    if objective - lower > gap:
        raise Reject(f"NC - lower_bound = {format_rational(objective - lower)} "
                     f"(~{approx(objective - lower)}) exceeds the claimed gap {format_rational(gap)} "
                     f"(~{approx(gap)})")
    return dual_val


def check_gap(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "scope", "lower_bound", "gap", "evidence"})
    budget.forward(ctx)  # NC(theta), and the own scope from the exact pre-activations
    ev = require_keys(claim["evidence"], {"den", "rho", "blocks"}, where="evidence")
    blocks = ev["blocks"]
    if not isinstance(blocks, list):
        raise Reject("evidence.blocks must be a list")
    plist = _scope_patterns(claim["scope"], ctx, inputs, _room(blocks, ctx.n))
    lower = rational_field(claim, "lower_bound", limits.max_digits)
    gap = rational_field(claim, "gap", limits.max_digits)
    den = integer(ev["den"], "evidence.den", limits.max_digits)
    if den <= 0:
        raise Reject("evidence.den must be positive")
    rho = int_list(ev["rho"], "evidence.rho", limits.max_digits, length=ctx.n)
    index = {p: i for i, p in enumerate(plist)}
    seen: dict[tuple[str, int], int] = {}
    for i, b in enumerate(blocks):
        block_key(b, i, {"pattern", "sign", "mu_idx", "mu_num"}, index, seen, "blocks")
    if len(seen) != 2 * len(plist):
        raise Reject(f"evidence covers {len(seen)} blocks but the scope has {2 * len(plist)} "
                     f"(every pattern with both signs)")
    wx, wr = budget.words(ctx, "X"), words(max_bits(rho))
    budget.charge(len(plist) * ctx.n * (2 * PY + ctx.d * wx * wr),
                  f"correlating rho with {len(plist)} patterns")
    lam_sq = ctx.lam * ctx.lam
    worst = None
    chunk = max(1, CHUNK_ENTRIES // ctx.n)
    # blocks chunk by chunk of patterns; within a chunk in their order in the certificate
    order = sorted(range(len(blocks)), key=lambda i: index[blocks[i]["pattern"]] // chunk)
    start = None
    for i in order:
        b = blocks[i]
        p = index[b["pattern"]]
        if start is None or not start <= p < start + chunk:
            start = p - p % chunk
            bits = [pattern_strings.decode(q, ctx.n) for q in plist[start:start + chunk]]
            corr = dual.pattern_correlations(ctx.X, rho, bits)
        if not isinstance(b["mu_idx"], list) or not all(
                isinstance(k, int) and not isinstance(k, bool) for k in b["mu_idx"]):
            raise Reject(f"blocks[{i}].mu_idx must be a list of integers")
        idx = b["mu_idx"]
        num = int_list(b["mu_num"], f"blocks[{i}].mu_num", limits.max_digits)
        if len(idx) != len(num):
            raise Reject(f"blocks[{i}]: mu_idx and mu_num differ in length")
        if any(k < 0 or k >= ctx.n for k in idx) or any(a >= c for a, c in zip(idx, idx[1:], strict=False)):
            raise Reject(f"blocks[{i}].mu_idx must be strictly increasing indices in [0, {ctx.n})")
        if any(v < 0 for v in num):
            raise Reject(f"blocks[{i}]: a cone multiplier is negative")
        budget.charge(ctx.d * (PY + len(idx) * wx * words(max_bits(num))), f"the bound of blocks[{i}]")
        v = dual.block_vector(ctx.X_rows, corr[p - start], b["sign"], bits[p - start], idx, num)
        bsq = dual.bound_squared(v, ctx.X.shift, den)
        if bsq > lam_sq:
            raise Reject(f"blocks[{i}] (sign {b['sign']}): squared cone bound {approx(bsq)} exceeds "
                         f"lam^2 = {approx(lam_sq)}; the residual is not dual feasible")
        worst = bsq if worst is None or bsq > worst else worst
    dual_val = check_lower_bound(ctx, rho, den, lower, gap)
    return {"scope": claim["scope"]["kind"], "dual_value": format_rational(dual_val),
            "gap": format_rational(ctx.evaluation.objective - lower),
            "max_bound_sq": format_rational(worst if worst is not None else 0)}
