"""Mutation suite of the ``network_polytope_vertices`` claim (certify/check/polytope.py).

Genuine certificates are built by ``certify.optimal_set`` for planted networks with exactly
dependent neurons (and a generic float network). Each is mutated (vertex entries, widths,
objectives, dropped/duplicated/swapped/added vertices, minor rows, primes, the completeness flag,
rows and bases of the completeness evidence), and the checker's verdict is compared with an
independent reference written here without ``certify``: Fractions from the floats, the polytope's
vertices by brute force over supports, determinants by Fraction elimination, lexicographic
feasibility and pivots recomputed from scratch. The checker must accept a mutant iff the reference
says the mutated claim (with its evidence) holds. Truncated and mismatched inputs are rejected with
a precise reason.
"""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from certify.certificates.certificate import to_json
from certify.check.checker import check_certificate
from certify.network import Network
from certify.optimal_set.certificate import polytope_certificate
from certify.optimal_set.network_polytope import network_polytope
from certify.problem import Problem
from certify.testing.planted import planted_network
from certify.verify import exact_context

F = Fraction

# ------------------------------------------------------------------------------------------------
# The independent reference
# ------------------------------------------------------------------------------------------------


def _shift(values) -> int:
    return max((F(v).denominator.bit_length() - 1 for v in values), default=0)


def ref_fits(X, W1, w2) -> list[list[int]]:
    """Integer activation fits with the checker's scale (each matrix on its own minimal power of 2)."""
    sx, sw, s2 = _shift([v for r in X for v in r]), _shift([v for r in W1 for v in r]), _shift(w2)
    n, m, d = len(X), len(w2), len(X[0])
    out = []
    for k in range(n):
        row = []
        for j in range(m):
            pre = sum(F(X[k][i]) * F(W1[i][j]) for i in range(d))
            row.append(int(max(pre, 0) * F(w2[j]) * 2 ** (sx + sw + s2)))
        out.append(row)
    return out


def rank(rows) -> int:
    rows = [[F(v) for v in r] for r in rows]
    rk, ncols = 0, len(rows[0]) if rows else 0
    for c in range(ncols):
        p = next((i for i in range(rk, len(rows)) if rows[i][c]), None)
        if p is None:
            continue
        rows[rk], rows[p] = rows[p], rows[rk]
        for i in range(len(rows)):
            if i != rk and rows[i][c]:
                f = rows[i][c] / rows[rk][c]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rk], strict=True)]
        rk += 1
    return rk


def det(rows) -> F:
    rows = [[F(v) for v in r] for r in rows]
    n, out = len(rows), F(1)
    for c in range(n):
        p = next((i for i in range(c, n) if rows[i][c]), None)
        if p is None:
            return F(0)
        if p != c:
            rows[c], rows[p] = rows[p], rows[c]
            out = -out
        out *= rows[c][c]
        for i in range(c + 1, n):
            f = rows[i][c] / rows[c][c]
            rows[i] = [a - f * b for a, b in zip(rows[i], rows[c], strict=True)]
    return out


def solve(A, B):
    """A^{-1} B (square A, B a list of rows), Fractions."""
    n = len(A)
    rows = [[F(v) for v in A[i]] + [F(v) for v in B[i]] for i in range(n)]
    for c in range(n):
        p = next(i for i in range(c, n) if rows[i][c])
        rows[c], rows[p] = rows[p], rows[c]
        piv = rows[c][c]
        rows[c] = [v / piv for v in rows[c]]
        for i in range(n):
            if i != c and rows[i][c]:
                f = rows[i][c]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[c], strict=True)]
    return [row[n:] for row in rows]


def is_prime(p) -> bool:
    if not isinstance(p, int) or p < 2:
        return False
    if p < 4:
        return True
    # deterministic Miller-Rabin for 64-bit and a bit beyond (bases up to 41)
    dd, s = p - 1, 0
    while dd % 2 == 0:
        dd //= 2
        s += 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
        if a % p == 0:
            continue
        x = pow(a, dd, p)
        if x in (1, p - 1):
            continue
        for _ in range(s - 1):
            x = x * x % p
            if x == p - 1:
                break
        else:
            return False
    return True


def all_vertices(Fm) -> set:
    m = len(Fm[0])
    target = [sum(r) for r in Fm]
    out = set()
    for size in range(0, m + 1):
        for sub in combinations(range(m), size):
            cols = [[r[j] for j in sub] for r in Fm]
            if size and rank(cols) < size:
                continue
            if size == 0:
                if not any(target):
                    out.add(tuple([F(0)] * m))
                continue
            rk_rows = []
            for i in range(len(Fm)):  # independent rows of the support columns
                if rank([cols[k] for k in rk_rows + [i]]) > len(rk_rows):
                    rk_rows.append(i)
                if len(rk_rows) == size:
                    break
            sol = solve([cols[i] for i in rk_rows], [[target[i]] for i in rk_rows])
            x = [F(0)] * m
            for j, v in zip(sub, sol, strict=True):
                x[j] = v[0]
            if all(v > 0 for v in (x[j] for j in sub)) and all(
                    sum(r[j] * x[j] for j in range(m)) == t for r, t in zip(Fm, target, strict=True)):
                out.add(tuple(x))
    return out


def parse_q(text):
    if not isinstance(text, str):
        return None
    num, sep, den = text.partition("/")
    try:
        if sep:
            q = int(den)
            if q <= 1 or den != str(q):
                return None
            v = F(int(num), q)
            return v if v.denominator == q and num == str(int(num)) else None
        return F(int(num)) if num == str(int(num)) else None
    except ValueError:
        return None


def reference_accepts(claim: dict, X, y, W1, w2, lam: F) -> bool:
    """Whether the claim, with its evidence, holds (independently of certify)."""
    try:
        Fm = ref_fits(X, W1, w2)
        n, m = len(Fm), len(w2)
        ev = claim["evidence"]
        p = int(ev["prime"]) if isinstance(ev["prime"], str) and ev["prime"].isdigit() else None
        if p is None or not is_prime(p) or p.bit_length() > 256:
            return False
        verts = claim["vertices"]
        if not verts or len(ev["minor_rows"]) != len(verts):
            return False
        d = len(X[0])
        fx = [sum(F(w2[j]) * max(sum(F(X[k][i]) * F(W1[i][j]) for i in range(d)), 0) for j in range(m))
              for k in range(n)]
        loss = sum((f - F(t)) ** 2 for f, t in zip(fx, y, strict=True)) / 2
        sq = [sum(F(W1[i][j]) ** 2 for i in range(len(W1))) + F(w2[j]) ** 2 for j in range(m)]
        listed = []
        target = [sum(r) for r in Fm]
        for vert, mrows in zip(verts, ev["minor_rows"], strict=True):
            beta = [parse_q(v) for v in vert["beta"]]
            if len(beta) != m or any(b is None or b < 0 for b in beta):
                return False
            supp = [j for j in range(m) if beta[j]]
            if any(sum(r[j] * beta[j] for j in range(m)) != t for r, t in zip(Fm, target, strict=True)):
                return False
            if vert["width"] != len(supp) or isinstance(vert["width"], bool):
                return False
            if parse_q(vert["objective"]) != loss + lam / 2 * sum(beta[j] * sq[j] for j in supp):
                return False
            if (not isinstance(mrows, list) or len(mrows) != len(supp)
                    or any(type(i) is not int for i in mrows)
                    or any(not 0 <= i < n for i in mrows) or mrows != sorted(set(mrows))):
                return False
            if supp and det([[Fm[i][j] for j in supp] for i in mrows]) % p == 0:
                return False
            if tuple(beta) in listed:
                return False
            listed.append(tuple(beta))
        if claim["complete"] is False:
            return ev["rows"] == [] and ev["bases"] == []
        return _reference_complete(ev, Fm, listed, n, m)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, StopIteration):
        return False


def _reference_complete(ev, Fm, listed, n, m) -> bool:
    rows, bases = ev["rows"], ev["bases"]
    if not bases or not isinstance(rows, list) or rows != sorted(set(rows)) or any(
            type(i) is not int or not 0 <= i < n for i in rows):
        return False
    r = len(rows)
    table = {}
    for b in bases:
        cols = b["columns"]
        if (not isinstance(cols, list) or len(cols) != r or cols != sorted(set(cols))
                or any(type(j) is not int or not 0 <= j < m for j in cols)):
            return False
        if type(b["vertex"]) is not int or not 0 <= b["vertex"] < len(listed) or tuple(cols) in table:
            return False
        table[tuple(cols)] = b["vertex"]
    FR = [Fm[i] for i in rows]
    b0 = list(next(iter(table)))
    if det([[FR[i][j] for j in b0] for i in range(r)]) == 0:
        return False
    # every row of F in the row space of F[R]
    if rank(FR) != r or rank(Fm) != r:
        return False
    rhs = [[sum(FR[i])] + [FR[i][j] for j in b0] + list(FR[i]) for i in range(r)]
    used = set()
    for cols, vi in table.items():
        B = [[FR[i][j] for j in cols] for i in range(r)]
        if det(B) == 0:
            return False
        T = solve(B, rhs)
        lex = [row[:1 + r] for row in T]
        colsT = [row[1 + r:] for row in T]
        if not all(next((v > 0 for v in row if v), False) for row in lex):
            return False
        x = [F(0)] * m
        for i, j in enumerate(cols):
            x[j] = lex[i][0]
        if tuple(x) != listed[vi]:
            return False
        used.add(vi)
        for j in range(m):
            if j in cols:
                continue
            cand = [(i, [v / colsT[i][j] for v in lex[i]]) for i in range(r) if colsT[i][j] > 0]
            if not cand:
                continue
            i_out = min(cand, key=lambda t: t[1])[0]
            nxt = tuple(sorted([c for c in cols if c != cols[i_out]] + [j]))
            if nxt not in table:
                return False
    return len(used) == len(listed)


# ------------------------------------------------------------------------------------------------
# Instances and mutants
# ------------------------------------------------------------------------------------------------


def _instances():
    out = []
    for seed, (n, d, extra, dup) in enumerate([(5, 2, 2, True), (6, 3, 2, False), (5, 2, 1, True),
                                               (7, 3, 3, True)]):
        pn = planted_network(seed, n=n, d=d, extra=extra, duplicate=dup)
        out.append((f"planted-{seed}", pn.X, pn.y, pn.W1, pn.w2, F(1, 2)))
    rng = np.random.default_rng(7)
    X = rng.standard_normal((6, 2))
    out.append(("generic", X, rng.standard_normal(6), rng.standard_normal((2, 3)), rng.standard_normal(3),
                F(1, 3)))
    # opposite neurons: unbounded polyhedron (a ray), vertices still certified
    X = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0], [3.0, 1.0]])
    W1 = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    out.append(("opposite", X, np.ones(4), W1, np.array([1.0, -1.0, 1.0]), F(1)))
    return out


INSTANCES = _instances()


def _genuine(name, X, y, W1, w2, lam):
    problem = Problem(X, y, lam)
    net = Network(W1, w2)
    ctx = exact_context(problem, net)
    poly = network_polytope(ctx)
    return json.loads(to_json(polytope_certificate(problem, net, ctx, poly)))


def _set_beta(c, i, j, value):
    c["vertices"][i]["beta"][j] = value


def _bump_beta(c, i, j):
    _set_beta(c, i, j, fmt(F(c["vertices"][i]["beta"][j]) + F(1, 3)))


def _bump(c, i, key, delta):
    vert = c["vertices"][i]
    vert[key] = vert[key] + delta if key == "width" else fmt(F(vert[key]) + delta)


def _incomplete(c):
    c["complete"] = False
    c["evidence"]["rows"], c["evidence"]["bases"] = [], []


def _drop_vertex(c):
    c["vertices"].pop()
    c["evidence"]["minor_rows"].pop()


def _duplicate_vertex(c):
    c["vertices"].append(copy.deepcopy(c["vertices"][0]))
    c["evidence"]["minor_rows"].append(list(c["evidence"]["minor_rows"][0]))


def _midpoint(c):
    a = [F(v) for v in c["vertices"][0]["beta"]]
    b = [F(v) for v in c["vertices"][1]["beta"]]
    mid = [(x + z) / 2 for x, z in zip(a, b, strict=True)]
    supp = [j for j, v in enumerate(mid) if v]
    c["vertices"].append({"beta": [fmt(v) for v in mid], "width": len(supp),
                          "objective": c["vertices"][0]["objective"]})
    c["evidence"]["minor_rows"].append(list(range(len(supp))))


def _swap(c):
    c["vertices"][0], c["vertices"][1] = c["vertices"][1], c["vertices"][0]
    mr = c["evidence"]["minor_rows"]
    mr[0], mr[1] = mr[1], mr[0]


def _set_evidence(c, key, value):
    c["evidence"][key] = value


def _next_vertex(c, nv):
    basis = c["evidence"]["bases"][0]
    basis["vertex"] = (basis["vertex"] + 1) % nv


def fmt(value: F) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _mutants(doc: dict, rng: np.random.Generator, n: int):
    """(kind, mutated claim) pairs."""
    claim = doc["claims"][0]
    nv = len(claim["vertices"])
    m = len(claim["vertices"][0]["beta"])

    def mut(fn, kind, *args):
        c = copy.deepcopy(claim)
        fn(c, *args)
        return kind, c

    for i in range(nv):
        for j in range(m):
            yield mut(_bump_beta, "beta+1/3", i, j)
            yield mut(_set_beta, "beta=0", i, j, "0")
        yield mut(_bump, "width+1", i, "width", 1)
        yield mut(_bump, "objective+tiny", i, "objective", F(1, 2**80))
        size = len(claim["evidence"]["minor_rows"][i])
        rows = sorted(rng.choice(n, size=size, replace=False).tolist())
        yield mut(lambda c, i=i, rows=rows: c["evidence"]["minor_rows"].__setitem__(i, rows),
                  "minor_rows random")
    yield mut(_drop_vertex, "drop last vertex")
    yield mut(_incomplete, "complete->false")
    yield mut(lambda c: (_incomplete(c), _drop_vertex(c)), "incomplete, drop vertex")
    yield mut(_duplicate_vertex, "duplicate vertex")
    if nv >= 2:
        yield mut(_midpoint, "add midpoint")
        yield mut(_swap, "swap vertices (bases not renumbered)")
    for prime in ("4", "2", "3", "-7", "2305843009213693951"):
        yield mut(_set_evidence, f"prime {prime}", "prime", prime)
    if claim["complete"]:
        for i in range(len(claim["evidence"]["bases"])):
            yield mut(lambda c, i=i: c["evidence"]["bases"].pop(i), "drop basis")
        yield mut(lambda c: c["evidence"]["bases"].append(copy.deepcopy(c["evidence"]["bases"][0])),
                  "dup basis")
        yield mut(_next_vertex, "basis vertex index", nv)
        yield mut(lambda c: c["evidence"]["rows"].pop(), "drop row")
        other = sorted(set(range(n)) - {0})[:len(claim["evidence"]["rows"])]
        yield mut(_set_evidence, "other rows", "rows", other)
        yield mut(lambda c: c["evidence"]["bases"].reverse(), "bases reordered")
        yield mut(_set_evidence, "no bases", "bases", [])


@pytest.mark.parametrize("index", range(len(INSTANCES)), ids=[i[0] for i in INSTANCES])
def test_mutants_accepted_iff_reference_true(index):
    name, X, y, W1, w2, lam = INSTANCES[index]
    doc = _genuine(name, X, y, W1, w2, lam)
    args = (X.tolist(), y.tolist(), W1.tolist(), w2.tolist())
    claim = doc["claims"][0]
    assert reference_accepts(claim, *args, lam), "the reference rejects the genuine claim"
    report = check_certificate(doc, *args)
    assert report.accepted, [v.reason for v in report.verdicts]
    rng = np.random.default_rng([11, index])
    counts = {"accepted": 0, "rejected": 0}
    failures = []
    for kind, mutated in _mutants(doc, rng, len(X)):
        mdoc = copy.deepcopy(doc)
        mdoc["claims"][0] = mutated
        expected = reference_accepts(mutated, *args, lam)
        verdict = check_certificate(mdoc, *args).verdicts[0]
        if verdict.accepted != expected:
            failures.append((kind, expected, verdict.reason))
        if not verdict.accepted:
            assert verdict.reason.strip()
            assert not verdict.reason.startswith("malformed claim or evidence"), (kind, verdict.reason)
        counts["accepted" if verdict.accepted else "rejected"] += 1
    assert not failures, failures[:5]
    assert counts["rejected"] >= 10
    if claim["complete"]:
        # a complete list is genuinely all the vertices (brute force)
        verts = {tuple(F(v) for v in vert["beta"]) for vert in claim["vertices"]}
        assert verts == all_vertices(ref_fits(*args[:1], args[2], args[3]))


def test_obvious_true_mutants_accepted():
    name, X, y, W1, w2, lam = INSTANCES[0]
    doc = _genuine(name, X, y, W1, w2, lam)
    args = (X.tolist(), y.tolist(), W1.tolist(), w2.tolist())
    weaker = copy.deepcopy(doc)
    c = weaker["claims"][0]
    c["complete"], c["evidence"]["rows"], c["evidence"]["bases"] = False, [], []
    c["vertices"].pop()
    c["evidence"]["minor_rows"].pop()
    assert reference_accepts(c, *args, lam)
    assert check_certificate(weaker, *args).accepted


def test_truncated_and_mismatched_inputs_rejected():
    name, X, y, W1, w2, lam = INSTANCES[0]
    doc = _genuine(name, X, y, W1, w2, lam)
    text = to_json(doc)
    args = (X.tolist(), y.tolist(), W1.tolist(), w2.tolist())
    rep = check_certificate(text[: len(text) // 2], *args)
    assert not rep.accepted and "not valid JSON" in rep.verdicts[0].reason
    other = W1.copy()
    other[0, 0] += 1.0
    rep = check_certificate(text, X.tolist(), y.tolist(), other.tolist(), w2.tolist())
    assert not rep.accepted and "network digest mismatch" in rep.verdicts[0].reason
    missing = copy.deepcopy(doc)
    del missing["claims"][0]["evidence"]["bases"]
    rep = check_certificate(missing, *args)
    assert not rep.accepted and "missing field" in rep.verdicts[0].reason
    extra = copy.deepcopy(doc)
    extra["claims"][0]["vertices"][0]["note"] = "x"
    rep = check_certificate(extra, *args)
    assert not rep.accepted and "unknown field" in rep.verdicts[0].reason
    short = copy.deepcopy(doc)
    short["claims"][0]["vertices"][0]["beta"].pop()
    rep = check_certificate(short, *args)
    assert not rep.accepted and "beta must list m" in rep.verdicts[0].reason


# ------------------------------------------------------------------------------------------------
# The p_unique claim (certify/check/uniqueness.py)
# ------------------------------------------------------------------------------------------------


def _decode(text: str, n: int) -> list[int]:
    value = int(text, 16)
    return [(value >> k) & 1 for k in range(n)]


def reference_p_unique(claim: dict, X, y, W1, w2, lam: F) -> bool:
    """Whether the p_unique claim with its evidence holds (independently of certify)."""
    try:
        n, d, m = len(X), len(X[0]), len(w2)
        Xq = [[F(v) for v in row] for row in X]
        pre = [[sum(Xq[k][i] * F(W1[i][j]) for i in range(d)) for j in range(m)] for k in range(n)]
        fit = [sum(max(pre[k][j], 0) * F(w2[j]) for j in range(m)) for k in range(n)]
        r = [F(y[k]) - fit[k] for k in range(n)]
        nc = sum(v * v for v in r) / 2 + lam / 2 * (sum(F(v) ** 2 for row in W1 for v in row)
                                                     + sum(F(v) ** 2 for v in w2))
        if nc != sum(a * F(b) for a, b in zip(r, y, strict=True)) - sum(a * a for a in r) / 2:
            return False
        scope = claim["scope"]
        plist = scope["patterns"]
        if scope["kind"] != "given" or len(set(plist)) != len(plist):
            return False
        if scope["patterns_sha256"] != _ref_digest(n, plist):
            return False
        for j in range(m):
            if any(F(W1[i][j]) for i in range(d)) and w2[j] != 0:
                pat = sum(1 << k for k in range(n) if pre[k][j] >= 0)
                if format(pat, "x").zfill(max(1, (n + 3) // 4)) not in plist:
                    return False
        ev = claim["evidence"]
        keys = set()
        equal = []
        for b in ev["blocks"]:
            if set(b) != {"pattern", "sign", "mu_idx", "mu", "v"} or b["pattern"] not in plist:
                return False
            if b["sign"] not in (1, -1) or isinstance(b["sign"], bool) or (b["pattern"], b["sign"]) in keys:
                return False
            keys.add((b["pattern"], b["sign"]))
            bits = _decode(b["pattern"], n)
            idx, mus = b["mu_idx"], [parse_q(v) for v in b["mu"]]
            if (len(idx) != len(mus) or idx != sorted(set(idx))
                    or any(type(k) is not int or not 0 <= k < n for k in idx)
                    or any(v is None or v < 0 for v in mus)):
                return False
            A = [[(1 if bits[k] else -1) * Xq[k][c] for c in range(d)] for k in range(n)]
            u = [b["sign"] * sum(Xq[k][c] * r[k] for k in range(n) if bits[k]) for c in range(d)]
            for k, mk in zip(idx, mus, strict=True):
                u = [u[c] + mk * A[k][c] for c in range(d)]
            nsq = sum(c * c for c in u)
            if b["v"] is None:
                if not nsq < lam * lam:
                    return False
                continue
            v = [parse_q(c) for c in b["v"]]
            if v != u:
                return False
            av = [sum(A[k][c] * v[c] for c in range(d)) for k in range(n)]
            slack = any(mk * av[k] for k, mk in zip(idx, mus, strict=True))
            if any(a < 0 for a in av) or slack or nsq != lam * lam:
                return False
            col = tuple(b["sign"] * av[k] if bits[k] else F(0) for k in range(n))
            equal.append((b["sign"], tuple(v), col))
        if len(keys) != 2 * len(plist):
            return False
        uniq = []
        for key in equal:
            if key not in uniq:
                uniq.append(key)
        columns = [key[2] for key in uniq]
        alpha = [parse_q(a) for a in claim["alpha"]]
        if len(alpha) != len(columns) or any(a is None or a < 0 for a in alpha):
            return False
        if any(sum(a * c[k] for a, c in zip(alpha, columns, strict=True)) != fit[k] for k in range(n)):
            return False
        p = int(ev["prime"]) if isinstance(ev["prime"], str) and ev["prime"].isdigit() else None
        rows = ev["rows"]
        if p is None or not is_prime(p) or len(rows) != len(columns) or rows != sorted(set(rows)) or any(
                type(k) is not int or not 0 <= k < n for k in rows):
            return False
        if columns and det([[c[k] for c in columns] for k in rows]) * _scale(columns) % p == 0:
            return False
        return True
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return False


def _scale(columns) -> int:
    """The checker clears denominators with the lcm of all entries: det scales by a power of it, a unit mod p
    unless p divides it; return 1 when the entries are integers (the planted instances)."""
    den = 1
    for c in columns:
        for v in c:
            den = den * v.denominator // __import__("math").gcd(den, v.denominator)
    return den ** len(columns)


def _ref_digest(n: int, plist) -> str:
    import hashlib
    import struct

    h = hashlib.sha256(b"certify-patterns-v1" + struct.pack("<Q", n))
    for p in sorted(set(plist)):
        h.update(p.encode("ascii") + b"\n")
    return h.hexdigest()


def _p_unique_doc(seed: int, d: int, ties: int):
    from certify.certificates.certificate import build
    from certify.exact.digest import network_digest
    from certify.optimal_set.uniqueness import p_unique_claim
    from certify.testing.planted import planted_relu_network

    inst, W1, w2 = planted_relu_network(seed, ties=ties, d=d)
    ctx = exact_context(Problem(inst.X, inst.y, inst.lam), Network(W1, w2))
    doc = build(Problem(inst.X, inst.y, inst.lam), network_digest(W1.tolist(), w2.tolist(), None), 1,
                [p_unique_claim(ctx, inst.D)], {})
    return json.loads(to_json(doc)), (inst.X.tolist(), inst.y.tolist(), W1.tolist(), w2.tolist()), inst.lam


def _p_unique_mutants(claim: dict, n: int):
    def mut(fn, kind):
        c = copy.deepcopy(claim)
        fn(c)
        return kind, c

    yield mut(lambda c: c["alpha"].__setitem__(0, fmt(F(c["alpha"][0]) + F(1, 2**60))), "alpha+tiny")
    yield mut(lambda c: c["alpha"].append("0"), "alpha extra")
    yield mut(lambda c: c["evidence"].__setitem__("prime", "9"), "prime 9")
    yield mut(lambda c: c["evidence"].__setitem__("prime", "3"), "prime 3")
    for k in range(n):
        yield mut(lambda c, k=k: c["evidence"].__setitem__("rows", [k]), f"rows [{k}]")
    for i, b in enumerate(claim["evidence"]["blocks"]):
        yield mut(lambda c, i=i: c["evidence"]["blocks"].pop(i), "drop block")
        if b["v"] is not None:
            yield mut(lambda c, i=i: c["evidence"]["blocks"][i].__setitem__("v", None), "equal -> strict")
            yield mut(lambda c, i=i: c["evidence"]["blocks"][i]["v"].__setitem__(
                0, fmt(F(c["evidence"]["blocks"][i]["v"][0]) + F(1, 8))), "v+1/8")
        else:
            yield mut(lambda c, i=i: c["evidence"]["blocks"][i].__setitem__("mu_idx", []) or
                      c["evidence"]["blocks"][i].__setitem__("mu", []), "strict, no mu")
        for k in range(n):
            if k not in b["mu_idx"]:
                def add_mu(c, i=i, k=k):
                    blk = c["evidence"]["blocks"][i]
                    pairs = sorted(list(zip(blk["mu_idx"], blk["mu"], strict=True)) + [(k, "1/4")])
                    blk["mu_idx"], blk["mu"] = [a for a, _ in pairs], [v for _, v in pairs]
                yield mut(add_mu, "add mu")
                break
    yield mut(lambda c: c["evidence"]["blocks"].append(copy.deepcopy(c["evidence"]["blocks"][0])),
              "dup block")


@pytest.mark.parametrize("seed,d,ties", [(0, 2, 1), (1, 2, 2), (2, 3, 2)])
def test_p_unique_mutants_accepted_iff_reference_true(seed, d, ties):
    doc, args, lam = _p_unique_doc(seed, d, ties)
    claim = doc["claims"][0]
    assert reference_p_unique(claim, *args, lam)
    assert check_certificate(doc, *args).accepted
    counts = {True: 0, False: 0}
    failures = []
    for kind, mutated in _p_unique_mutants(claim, len(args[0])):
        mdoc = copy.deepcopy(doc)
        mdoc["claims"][0] = mutated
        expected = reference_p_unique(mutated, *args, lam)
        verdict = check_certificate(mdoc, *args).verdicts[0]
        if verdict.accepted != expected:
            failures.append((kind, expected, verdict.reason))
        if not verdict.accepted:
            assert verdict.reason.strip() and not verdict.reason.startswith("malformed claim or evidence"), \
                (kind, verdict.reason)
        counts[verdict.accepted] += 1
    assert not failures, failures[:5]
    assert counts[False] >= 10


def test_p_unique_rejects_non_optimal_network_and_float_data():
    from certify.optimal_set.uniqueness import NotExactlyOptimal, p_unique_claim

    doc, args, lam = _p_unique_doc(0, 2, 1)
    X, y, W1, w2 = args
    rep = check_certificate(doc, X, y, [[v * 1.5 for v in row] for row in W1], w2)
    assert not rep.accepted and "network digest mismatch" in rep.verdicts[0].reason
    # a perturbed (float) network: the producer refuses, the numerical verdict is all there is
    Xa = np.array(X)
    ctx = exact_context(Problem(Xa, np.array(y), lam), Network(np.array(W1) * 1.001, np.array(w2)))
    with pytest.raises(NotExactlyOptimal, match="numerical only"):
        p_unique_claim(ctx, (Xa @ np.array(W1) >= 0).astype(np.uint8))


def test_certificates_validate_against_schema():
    from jsonschema import Draft202012Validator

    import certify.certificates

    path = Path(certify.certificates.__file__).parent / "schema.json"
    schema = json.loads(path.read_text())
    validator = Draft202012Validator(schema)
    name, X, y, W1, w2, lam = INSTANCES[0]
    for doc in (_genuine(name, X, y, W1, w2, lam), _p_unique_doc(1, 2, 2)[0]):
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, errors[:3]
