"""Check of the *network_polytope_vertices* claim (proofs/optimal_set.md).

The polytope is re-derived from the inputs: ``P = {beta >= 0 : F beta = F 1}`` with
``F_j = (X W1_j)_+ w2_j`` the exact activation fits of the given network (theory.md §4). For
every listed vertex the checker verifies, exactly: ``beta >= 0``, ``F beta = F 1``, the width
(number of non-zero entries), the objective of the balanced re-scaled network
(``loss(theta) + (lam/2) sum_j beta_j (||W1_j||^2 + w2_j^2)``), and that ``beta`` is a vertex: a
square sub-matrix of ``F`` on its support with a non-zero determinant modulo the given prime.
The vertices must be distinct.

With ``complete: true`` it also verifies that the list holds *every* vertex, without trusting
the enumerator: the evidence lists rows ``R`` and lexicographically feasible bases (each with
the listed vertex it yields); the checker verifies that ``F[R, :]`` spans the row space of
``F``, that each basis is lex-feasible and that the list is closed under lexicographic pivots.
"""

from __future__ import annotations

from fractions import Fraction

import flint

from certify.check.fields import plain_int, rational, require_keys
from certify.check.limits import PY, resources, words
from certify.check.verdict import Reject
from certify.exact.context import ExactContext
from certify.exact.lexbases import standard_form, tableau
from certify.exact.linalg import det_mod, is_prime
from certify.exact.rational import format_rational, parse_int

_CLAIM_KEYS = {"id", "type", "vertices", "complete", "evidence"}
_VERTEX_KEYS = {"beta", "width", "objective"}
_EVIDENCE_KEYS = {"prime", "minor_rows", "rows", "bases"}
_BASIS_KEYS = {"columns", "vertex"}
MAX_PRIME_BITS = 256


def _index_list(obj: object, what: str, high: int, length: int | None = None) -> list[int]:
    if not isinstance(obj, list):
        raise Reject(f"{what} must be a list of indices")
    if length is not None and len(obj) != length:
        raise Reject(f"{what} has {len(obj)} entries, expected {length}")
    out = [plain_int(v, f"{what}[{i}]", 0, high) for i, v in enumerate(obj)]
    if any(a >= b for a, b in zip(out, out[1:], strict=False)):
        raise Reject(f"{what} must be strictly increasing")
    return out


def _activation_fits(ctx: ExactContext) -> list[list[int]]:
    w2 = [int(v) for v in ctx.w2.mat.entries()]
    return [[(v if v > 0 else 0) * w2[j] for j, v in enumerate(row)] for row in ctx.evaluation.preact]


def check_network_polytope(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, _CLAIM_KEYS)
    if not isinstance(claim["complete"], bool):
        raise Reject("complete must be true or false")
    evidence = require_keys(claim["evidence"], _EVIDENCE_KEYS, where="evidence")
    vertices = claim["vertices"]
    if not isinstance(vertices, list) or not vertices:
        raise Reject("vertices must be a non-empty list")
    n, m = ctx.n, ctx.m
    prime = parse_int(evidence["prime"], "evidence.prime", limits.max_digits) \
        if isinstance(evidence["prime"], str) else None
    if prime is None or prime.bit_length() > MAX_PRIME_BITS or not is_prime(prime):
        raise Reject(f"evidence.prime must be a prime of at most {MAX_PRIME_BITS} bits, as a string")
    minor_rows = evidence["minor_rows"]
    if not isinstance(minor_rows, list) or len(minor_rows) != len(vertices):
        raise Reject("evidence.minor_rows must have one row list per vertex")
    budget.forward(ctx)
    F = _activation_fits(ctx)
    fw = words(max((abs(v) for row in F for v in row), default=0).bit_length())
    ones = [sum(row) for row in F]
    loss = ctx.evaluation.loss
    W1 = ctx.W1.rows()
    w2 = [int(v) for v in ctx.w2.mat.entries()]
    sq = [Fraction(sum(row[j] ** 2 for row in W1), 1 << (2 * ctx.W1.shift))
          + Fraction(w2[j] ** 2, 1 << (2 * ctx.w2.shift)) for j in range(m)]
    seen: dict[tuple[Fraction, ...], int] = {}
    for i, vertex in enumerate(vertices):
        where = f"vertices[{i}]"
        require_keys(vertex, _VERTEX_KEYS, where=where)
        raw = vertex["beta"]
        if not isinstance(raw, list) or len(raw) != m:
            raise Reject(f"{where}.beta must list m = {m} rationals")
        beta = tuple(rational(v, f"{where}.beta[{j}]", limits.max_digits) for j, v in enumerate(raw))
        if any(v < 0 for v in beta):
            raise Reject(f"{where}.beta has a negative entry: not in the polytope")
        support = [j for j, v in enumerate(beta) if v]
        den = 1
        for v in beta:
            den = den * v.denominator // _gcd(den, v.denominator)
        bw = words(max(max(abs(v.numerator) for v in beta).bit_length(), den.bit_length()))
        budget.charge(n * (len(support) * fw * bw + PY) + len(support) ** 3 * PY,
                      f"{where} (feasibility, minor)")
        nums = [int(v * den) for v in beta]
        for k in range(n):
            if sum(F[k][j] * nums[j] for j in support) != den * ones[k]:
                raise Reject(f"{where}: F beta != F 1 at row {k}: the point changes the fit")
        width = plain_int(vertex["width"], f"{where}.width", 0, m + 1)
        if width != len(support):
            raise Reject(f"{where}.width is {width} but beta has {len(support)} non-zero entries")
        objective = rational(vertex["objective"], f"{where}.objective", limits.max_digits)
        actual = loss + ctx.lam / 2 * sum(beta[j] * sq[j] for j in support)
        if objective != actual:
            raise Reject(f"{where}.objective: claimed {format_rational(objective)} but recomputed "
                         f"{format_rational(actual)}")
        rows = _index_list(minor_rows[i], f"evidence.minor_rows[{i}]", n, len(support))
        minor = [[F[k][j] for j in support] for k in rows]
        if support and det_mod(flint.fmpz_mat(minor), prime) == 0:
            raise Reject(f"{where}: the minor of F on rows {rows} and the support {support} is zero modulo "
                         f"the prime: not shown to be a vertex")
        if beta in seen:
            raise Reject(f"{where} repeats vertices[{seen[beta]}]")
        seen[beta] = i
    result = {"vertices": len(vertices), "complete": claim["complete"]}
    if claim["complete"]:
        _check_complete(evidence, F, seen, n, m, fw, budget, limits)
    elif evidence["rows"] != [] or evidence["bases"] != []:
        raise Reject("evidence.rows and evidence.bases must be empty lists when complete is false")
    return result


def _check_complete(evidence: dict, F: list[list[int]], seen: dict, n: int, m: int, fw: int,
                    budget, limits) -> None:
    bases_raw = evidence["bases"]
    if not isinstance(bases_raw, list) or not bases_raw:
        raise Reject("evidence.bases must be a non-empty list when complete is true")
    rows = _index_list(evidence["rows"], "evidence.rows", n)
    r = len(rows)
    if r > m:
        raise Reject(f"evidence.rows has {r} rows, more than the m = {m} columns")
    listed: dict[tuple[int, ...], int] = {}
    for i, entry in enumerate(bases_raw):
        require_keys(entry, _BASIS_KEYS, where=f"evidence.bases[{i}]")
        cols = tuple(_index_list(entry["columns"], f"evidence.bases[{i}].columns", m, r))
        vertex = plain_int(entry["vertex"], f"evidence.bases[{i}].vertex", 0, len(seen))
        if cols in listed:
            raise Reject(f"evidence.bases[{i}] repeats evidence.bases[{listed[cols]}]")
        listed[cols] = vertex
    by_index = {i: v for v, i in seen.items()}
    # the row-space check and every tableau: one r x r solve with 1 + r + m right-hand sides
    unit = (r * r * (1 + r + m) + n * m * r) * (fw + r) ** 2 * PY
    budget.charge(unit * (len(listed) + 1), "the lexicographic bases (completeness)")
    first = next(iter(listed))
    try:
        sf = standard_form(F, rows, first)
    except ValueError as exc:
        raise Reject(f"evidence.rows / evidence.bases[0]: {exc}") from None
    used = set()
    for cols, vertex in listed.items():
        tab = tableau(sf, cols)
        if tab is None:
            raise Reject(f"basis {list(cols)}: the columns are dependent (not a basis)")
        if not tab.lex_feasible():
            raise Reject(f"basis {list(cols)} is not lexicographically feasible")
        if tuple(tab.basic_solution(m)) != by_index[vertex]:
            raise Reject(f"basis {list(cols)}: its basic solution is not vertices[{vertex}]")
        used.add(vertex)
        inside = set(cols)
        for j in range(m):
            if j not in inside:
                nxt = tab.pivot(j)
                if nxt is not None and nxt not in listed:
                    raise Reject(f"the bases are not closed under lexicographic pivots: from {list(cols)}, "
                                 f"column {j} enters and leads to {list(nxt)}, which is not listed")
    if len(used) != len(seen):
        missing = sorted(set(range(len(seen))) - used)
        raise Reject(f"vertices {missing[:5]} are not the basic solution of any listed basis")


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a
