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
"""

from __future__ import annotations

from certify.check.fields import int_list, plain_int, rational_field, require_keys
from certify.check.verdict import Reject
from certify.exact import dual
from certify.exact import patterns as pattern_strings
from certify.exact.context import ExactContext
from certify.exact.digest import patterns_digest
from certify.exact.patterns import MAX_TIES_LIMIT
from certify.exact.rational import format_rational, parse_int


def _scope_patterns(scope: object, ctx: ExactContext, inputs: dict) -> list[str]:
    if not isinstance(scope, dict) or scope.get("kind") not in ("own", "given"):
        raise Reject("scope must be an object with kind 'own' or 'given'")
    if scope["kind"] == "own":
        require_keys(scope, {"kind", "max_ties"}, where="scope")
        if inputs.get("patterns_sha256") is not None:
            raise Reject("this gap is relative to the network's own patterns, not to the pattern set "
                         "given to the checker")
        max_ties = plain_int(scope["max_ties"], "scope.max_ties", 0, MAX_TIES_LIMIT + 1)
        try:
            return ctx.own_scope(max_ties).patterns
        except ValueError as exc:
            raise Reject(f"own scope: {exc}") from None
    require_keys(scope, {"kind", "patterns", "patterns_sha256"}, where="scope")
    plist = scope["patterns"]
    if not isinstance(plist, list) or not plist:
        raise Reject("scope.patterns must be a non-empty list of pattern strings")
    for i, p in enumerate(plist):
        try:
            pattern_strings.decode(p, ctx.n)
        except ValueError as exc:
            raise Reject(f"scope.patterns[{i}]: {exc}") from None
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


def check_gap(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    require_keys(claim, {"id", "type", "scope", "lower_bound", "gap", "evidence"})
    plist = _scope_patterns(claim["scope"], ctx, inputs)
    lower = rational_field(claim, "lower_bound")
    gap = rational_field(claim, "gap")
    ev = require_keys(claim["evidence"], {"den", "rho", "blocks"}, where="evidence")
    try:
        den = parse_int(ev["den"], "evidence.den")
    except ValueError as exc:
        raise Reject(str(exc)) from None
    if den <= 0:
        raise Reject("evidence.den must be positive")
    rho = int_list(ev["rho"], "evidence.rho")
    if len(rho) != ctx.n:
        raise Reject(f"evidence.rho has {len(rho)} entries, expected n = {ctx.n}")
    blocks = ev["blocks"]
    if not isinstance(blocks, list):
        raise Reject("evidence.blocks must be a list")
    index = {p: i for i, p in enumerate(plist)}
    seen: dict[tuple[str, int], int] = {}
    for i, b in enumerate(blocks):
        require_keys(b, {"pattern", "sign", "mu_idx", "mu_num"}, where=f"blocks[{i}]")
        if b["sign"] not in (1, -1) or isinstance(b["sign"], bool):
            raise Reject(f"blocks[{i}].sign must be 1 or -1")
        if b["pattern"] not in index:
            raise Reject(f"blocks[{i}] names a pattern outside the scope")
        key = (b["pattern"], b["sign"])
        if key in seen:
            raise Reject(f"blocks[{i}] repeats the block of blocks[{seen[key]}]")
        seen[key] = i
    if len(seen) != 2 * len(plist):
        raise Reject(f"evidence covers {len(seen)} blocks but the scope has {2 * len(plist)} "
                     f"(every pattern with both signs)")
    bits = [pattern_strings.decode(p, ctx.n) for p in plist]
    corr = dual.pattern_correlations(ctx.X, rho, bits)
    lam_sq = ctx.lam * ctx.lam
    worst = None
    for i, b in enumerate(blocks):
        p = index[b["pattern"]]
        if not isinstance(b["mu_idx"], list) or not all(
                isinstance(k, int) and not isinstance(k, bool) for k in b["mu_idx"]):
            raise Reject(f"blocks[{i}].mu_idx must be a list of integers")
        idx = b["mu_idx"]
        num = int_list(b["mu_num"], f"blocks[{i}].mu_num")
        if len(idx) != len(num):
            raise Reject(f"blocks[{i}]: mu_idx and mu_num differ in length")
        if any(k < 0 or k >= ctx.n for k in idx) or any(a >= c for a, c in zip(idx, idx[1:], strict=False)):
            raise Reject(f"blocks[{i}].mu_idx must be strictly increasing indices in [0, {ctx.n})")
        if any(v < 0 for v in num):
            raise Reject(f"blocks[{i}]: a cone multiplier is negative")
        v = dual.block_vector(ctx.X_rows, corr[p], b["sign"], bits[p], idx, num)
        bsq = dual.bound_squared(v, ctx.X.shift, den)
        if bsq > lam_sq:
            raise Reject(f"blocks[{i}] (sign {b['sign']}): squared cone bound {float(bsq):.6g} exceeds "
                         f"lam^2 = {float(lam_sq):.6g}; the residual is not dual feasible")
        worst = bsq if worst is None or bsq > worst else worst
    dual_val = dual.dual_value(rho, den, ctx.y)
    if lower > dual_val:
        raise Reject(f"lower_bound {format_rational(lower)} (~{float(lower):.6g}) exceeds the dual "
                     f"value {format_rational(dual_val)} (~{float(dual_val):.6g})")
    objective = ctx.evaluation.objective
    if objective - lower > gap:
        raise Reject(f"NC - lower_bound = {format_rational(objective - lower)} "
                     f"(~{float(objective - lower):.6g}) exceeds the claimed gap {format_rational(gap)} "
                     f"(~{float(gap):.6g})")
    return {"scope": claim["scope"]["kind"], "dual_value": format_rational(dual_val),
            "gap": format_rational(objective - lower),
            "max_bound_sq": format_rational(worst if worst is not None else 0)}
