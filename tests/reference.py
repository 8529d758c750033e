"""Shared machinery of the mutation suites (tests/test_tamper.py, tests/test_mutations.py).

An independent reference of the certificate claims, written without ``certify``: floats are read
with ``Fraction(float)``; NC, its gradient, the network's exact ties and own pattern scope, the
one-cone bound ``||s X^T D rho + X^T (2D - I) mu||^2 <= lam^2`` and the dual value are recomputed
from scratch. Then the mutation operators (each yields a :class:`Mutant`: a changed certificate
or changed inputs, and what the checker must answer) and :func:`judge`, which runs one mutant
through the checker and compares with the reference.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from certify.check.checker import check_certificate
from certify.exact.patterns import MAX_TIES_LIMIT  # a resource limit, not a truth

F = Fraction

# ------------------------------------------------------------------------------------------------
# The instances
# ------------------------------------------------------------------------------------------------


@dataclass
class Instance:
    name: str
    X: list
    y: list
    W1: list
    w2: list
    b1: list | None
    lam: str
    patterns: dict | None = None  # {"D": ...} for a given scope
    doc: dict = field(default_factory=dict)
    text: str = ""
    patterns_sha256: str | None = None

    def check(self, document, X=None, y=None, W1=None, w2=None, b1="same", patterns_sha256="same"):
        return check_certificate(document, self.X if X is None else X, self.y if y is None else y,
                                 self.W1 if W1 is None else W1, self.w2 if w2 is None else w2,
                                 self.b1 if b1 == "same" else b1,
                                 self.patterns_sha256 if patterns_sha256 == "same" else patterns_sha256)


# ------------------------------------------------------------------------------------------------
# The independent reference (Fractions from the floats; nothing from certify)
# ------------------------------------------------------------------------------------------------


def parse_q(text: object) -> Fraction | None:
    """Strict ``"p/q"`` (``q > 1``, lowest terms) / ``"p"``, or None. Digits without leading zeros,
    no ``+``, no ``-0`` (as the checker reads them)."""
    if not isinstance(text, str):
        return None
    num, sep, den = text.partition("/")

    def canon(s: str) -> bool:
        body = s[1:] if s.startswith("-") else s
        return (body.isdecimal() and body.isascii() and (body == "0" or not body.startswith("0"))
                and s != "-0")

    if not canon(num) or (sep and (not canon(den) or den.startswith("-") or den in ("0", "1"))):
        return None
    value = F(int(num), int(den) if sep else 1)
    if sep and value.denominator != int(den):
        return None
    return value


def fmt(value: Fraction) -> str:
    value = F(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def parse_i(text: object) -> int | None:
    q = parse_q(text)
    return None if q is None or "/" in text else int(q)


def is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def encode_bits(bits: list[int]) -> str:
    value = sum(1 << k for k, b in enumerate(bits) if b)
    return format(value, f"0{max(1, (len(bits) + 3) // 4)}x")


def decode_bits(text: object, n: int) -> list[int] | None:
    width = max(1, (n + 3) // 4)
    if not isinstance(text, str) or len(text) != width or any(c not in "0123456789abcdef" for c in text):
        return None
    value = int(text, 16)
    if value >> n:
        return None
    return [(value >> k) & 1 for k in range(n)]


def ref_patterns_digest(n: int, patterns: list[str]) -> str:
    h = hashlib.sha256(b"certify-patterns-v1" + struct.pack("<Q", n))
    for p in sorted(set(patterns)):
        h.update(p.encode("ascii") + b"\n")
    return h.hexdigest()


def rank(rows: list[list[Fraction]]) -> int:
    M = [list(r) for r in rows]
    r = 0
    ncols = len(M[0]) if M else 0
    for c in range(ncols):
        piv = next((i for i in range(r, len(M)) if M[i][c] != 0), None)
        if piv is None:
            continue
        M[r], M[piv] = M[piv], M[r]
        for i in range(len(M)):
            if i != r and M[i][c] != 0:
                f = M[i][c] / M[r][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[r], strict=True)]
        r += 1
    return r


def dot(a, b) -> Fraction:
    return sum((u * v for u, v in zip(a, b, strict=True)), F(0))


class Reference:
    """NC, gradients, ties, own scope and the claim contracts, recomputed in Fractions."""

    def __init__(self, inst: Instance) -> None:
        bias = inst.b1 is not None
        self.X = [[F(v) for v in row] + ([F(1)] if bias else []) for row in inst.X]
        self.y = [F(v) for v in inst.y]
        self.n, self.d = len(self.X), len(self.X[0])
        self.m = len(inst.w2)
        rows = [[F(v) for v in row] for row in inst.W1] + ([[F(v) for v in inst.b1]] if bias else [])
        self.cols = [[rows[i][j] for i in range(self.d)] for j in range(self.m)]
        self.w2 = [F(v) for v in inst.w2]
        self.live_row = [any(row) for row in self.X]
        self.sx = math.lcm(*(v.denominator for row in self.X for v in row))
        self.Xn = [[int(v * self.sx) for v in row] for row in self.X]
        self.given_digest = inst.patterns_sha256  # the pattern set the caller gives the checker
        self._grad_memo: dict = {}
        self._memo: dict = {}

    # NC and its gradient ------------------------------------------------------------------------
    def forward(self, cols):
        pre = [[dot(x, c) for c in cols] for x in self.X]
        fit = [sum((max(p, F(0)) * w for p, w in zip(row, self.w2, strict=True)), F(0)) for row in pre]
        return pre, [f - t for f, t in zip(fit, self.y, strict=True)]  # e = f - y

    def objective(self, lam: Fraction) -> tuple[Fraction, Fraction]:
        _, e = self.forward(self.cols)
        loss = sum((v * v for v in e), F(0)) / 2
        squares = sum((v * v for c in self.cols for v in c), F(0)) + sum((v * v for v in self.w2), F(0))
        penalty = lam / 2 * squares
        return loss, penalty

    def gradient(self, lam: Fraction, cols) -> list[list[Fraction]]:
        """Per neuron: dNC/dW1_j (one-sided, 1[pre > 0]) followed by dNC/dw2_j."""
        pre, e = self.forward(cols)
        out = []
        for j in range(self.m):
            g = [lam * v for v in cols[j]]
            g2 = lam * self.w2[j]
            for k in range(self.n):
                if pre[k][j] > 0:
                    for i in range(self.d):
                        g[i] += self.w2[j] * e[k] * self.X[k][i]
                    g2 += pre[k][j] * e[k]
            out.append(g + [g2])
        return out

    def ties(self) -> list[tuple[int, int]]:
        """``x_k^T W1_j = 0`` with ``x_k != 0``; a zero neuron (``W1_j = 0``) only if ``w2_j != 0``."""
        pre, _ = self.forward(self.cols)
        return [(k, j) for k in range(self.n) for j in range(self.m)
                if self.live_row[k] and pre[k][j] == 0 and (any(self.cols[j]) or self.w2[j] != 0)]

    def own_scope(self, max_ties: int) -> list[str] | None:
        pre, _ = self.forward(self.cols)
        out: dict[str, None] = {}
        for j in range(self.m):
            if not any(self.cols[j]):
                continue
            base = [1 if pre[k][j] >= 0 else 0 for k in range(self.n)]
            tied = [k for k in range(self.n) if pre[k][j] == 0 and self.live_row[k]]
            if len(tied) > max_ties:
                return None
            for mask in range(1 << len(tied)):
                bits = list(base)
                for t, k in enumerate(tied):
                    if mask >> t & 1:
                        bits[k] = 0
                out.setdefault(encode_bits(bits), None)
        return list(out)

    # claim contracts --------------------------------------------------------------------------
    def objective_claim(self, c: dict, lam: Fraction) -> bool:
        loss, penalty = self.objective(lam)
        return (set(c) == {"id", "type", "objective", "loss", "penalty"} and parse_q(c["loss"]) == loss
                and parse_q(c["penalty"]) == penalty and parse_q(c["objective"]) == loss + penalty)

    def stationarity_claim(self, c: dict, lam: Fraction) -> bool:
        bound = parse_q(c["grad_sq_bound"])
        value = self.stationarity_value(c, lam)
        return bound is not None and value is not None and value <= bound

    def stationarity_value(self, c: dict, lam: Fraction) -> Fraction | None:
        """``||g0 + sum_t c_t J_t||^2`` for the claim's ties and multipliers; None if they are wrong."""
        listed = [(t["k"], t["j"]) for t in c["ties"]]
        cs = [parse_q(t["c"]) for t in c["ties"]]
        if any(v is None or not 0 <= v <= 1 for v in cs) or listed != self.ties():
            return None
        if c["ties_independent"] not in (True, False):
            return None
        if c["ties_independent"] and not self.ties_independent():
            return None
        g = self.gradient(lam, self.cols)
        _, e = self.forward(self.cols)
        for (k, j), cv in zip(listed, cs, strict=True):
            for i in range(self.d):
                g[j][i] += cv * self.w2[j] * e[k] * self.X[k][i]
        return sum((v * v for col in g for v in col), F(0))

    def ties_independent(self) -> bool:
        by: dict[int, list[int]] = {}
        for k, j in self.ties():
            by.setdefault(j, []).append(k)
        return all(rank([self.X[k] for k in ks]) == len(ks) for ks in by.values())

    def gap_claim(self, c: dict, lam: Fraction, given: str | None = None) -> bool:
        """``given``: digest of the pattern set the caller gives the checker (None: none)."""
        lower, gap = parse_q(c["lower_bound"]), parse_q(c["gap"])
        dual = self.gap_dual(c, lam, given)
        if lower is None or gap is None or dual is None:
            return False
        loss, penalty = self.objective(lam)
        return lower <= dual and loss + penalty - lower <= gap

    def gap_dual(self, c: dict, lam: Fraction, given: str | None = None) -> Fraction | None:
        """The dual value ``<rho, y> - 1/2 ||rho||^2`` of the evidence, or None if the scope or
        the evidence is wrong (a block missing, a cone bound above lam, ...)."""
        scope = c["scope"]
        if scope["kind"] == "own":
            if given is not None:
                return None  # an own-scope gap is not about the pattern set given to the checker
            if not is_int(scope["max_ties"]) or not 0 <= scope["max_ties"] <= MAX_TIES_LIMIT:
                return None
            plist = self.own_scope(scope["max_ties"])
            if plist is None:
                return None
        else:
            plist = scope["patterns"]
            if (not plist or any(decode_bits(p, self.n) is None for p in plist)
                    or len(set(plist)) != len(plist)
                    or ref_patterns_digest(self.n, plist) != scope["patterns_sha256"]
                    or (given is not None and given != scope["patterns_sha256"])):
                return None
        ev = c["evidence"]
        den = parse_i(ev["den"])
        rho = [parse_i(v) for v in ev["rho"]]
        if den is None or den <= 0 or len(rho) != self.n or None in rho:
            return None
        keys = [(b["pattern"], b["sign"]) for b in ev["blocks"]]
        if (any(not is_int(s) or s not in (1, -1) for _, s in keys) or len(set(keys)) != len(keys)
                or set(keys) != {(p, s) for p in plist for s in (1, -1)}):
            return None
        for b in ev["blocks"]:
            bits = decode_bits(b["pattern"], self.n)
            idx, num = b["mu_idx"], [parse_i(v) for v in b["mu_num"]]
            if (len(idx) != len(num) or None in num or any(v < 0 for v in num)
                    or any(not is_int(k) or not 0 <= k < self.n for k in idx)
                    or any(a >= b_ for a, b_ in zip(idx, idx[1:], strict=False))):
                return None
            v = [0] * self.d
            for k in range(self.n):
                if bits[k]:
                    for i in range(self.d):
                        v[i] += b["sign"] * rho[k] * self.Xn[k][i]
            for k, mk in zip(idx, num, strict=True):
                sgn = 1 if bits[k] else -1
                for i in range(self.d):
                    v[i] += sgn * mk * self.Xn[k][i]
            # ||v / (den * sx)||^2 <= lam^2
            if F(sum(t * t for t in v), (den * self.sx) ** 2) > lam * lam:
                return None
        return (F(sum(r * t for r, t in zip(rho, self.y, strict=True)), den)
                - F(sum(r * r for r in rho), 2 * den * den))

    def goldstein_claim(self, c: dict, lam: Fraction) -> bool:
        radius, bound = parse_q(c["radius_sq"]), parse_q(c["grad_sq_bound"])
        values = self.goldstein_values(c, lam)
        return radius is not None and bound is not None and values is not None and \
            values[0] <= radius and values[1] <= bound

    def goldstein_values(self, c: dict, lam: Fraction) -> tuple[Fraction, Fraction] | None:
        """(largest squared distance of a point, squared norm of the gradient combination), or
        None if the points are wrong (weights, columns, a tie at a point)."""
        pts = c["points"]
        if not 0 < len(pts) <= 1024:
            return None
        weights = [parse_q(p["weight"]) for p in pts]
        if any(w is None or w < 0 for w in weights) or sum(weights) != 1:
            return None
        total = [[F(0)] * (self.d + 1) for _ in range(self.m)]
        far = F(0)
        for p, w in zip(pts, weights, strict=True):
            cols = [list(col) for col in self.cols]
            seen = set()
            dist = F(0)
            for ch in p["changes"]:
                j = ch["j"]
                if not is_int(j) or not 0 <= j < self.m or j in seen or len(ch["W1"]) != self.d:
                    return None
                seen.add(j)
                new = [parse_q(v) for v in ch["W1"]]
                if any(v is None or v.denominator & (v.denominator - 1) for v in new):
                    return None  # not a dyadic rational
                dist += sum(((a - b) ** 2 for a, b in zip(new, self.cols[j], strict=True)), F(0))
                cols[j] = new
            far = max(far, dist)
            pre, _ = self.forward(cols)
            if any(pre[k][j] == 0 and self.live_row[k] for k in range(self.n) for j in range(self.m)):
                return None  # NC may not be differentiable there
            key = (lam, json.dumps(p["changes"], sort_keys=True))
            if key not in self._grad_memo:
                self._grad_memo[key] = self.gradient(lam, cols)
            g = self._grad_memo[key]
            for j in range(self.m):
                for i in range(self.d + 1):
                    total[j][i] += w * g[j][i]
        return far, sum((v * v for col in total for v in col), F(0))

    def claim(self, c: dict, lam: Fraction, given: str | None = None) -> bool:
        if c["type"] == "subsampled_gap":
            return self.gap_claim(c, lam, given)
        return {"objective": self.objective_claim, "stationarity": self.stationarity_claim,
                "stationarity_goldstein": self.goldstein_claim}[c["type"]](c, lam)

    def verdicts(self, doc: dict | str, given: object = "same") -> list[bool]:
        """The truth of every claim of ``doc`` (a well-formed document, dict or JSON text);
        ``given`` overrides the pattern-set digest the caller gives (default: the instance's).
        Verdicts are memoized by (lam, claim, given): a claim's truth depends on nothing else."""
        if isinstance(doc, str):
            doc = json.loads(doc)
        given = self.given_digest if given == "same" else given
        lam = parse_q(doc["inputs"]["lam"])
        out = []
        for c in doc["claims"]:
            key = (lam, given, json.dumps(c, sort_keys=True))
            if key not in self._memo:
                self._memo[key] = self.claim(c, lam, given)
            out.append(self._memo[key])
        return out


# ------------------------------------------------------------------------------------------------
# Mutants
# ------------------------------------------------------------------------------------------------


@dataclass
class Mutant:
    """``mode``: "ref" (the reference decides every claim), "claim" (claim ``index`` must be
    rejected, the others accepted), "all" (every claim rejected, each with ``reason`` if given)."""

    kind: str
    doc: dict | str
    mode: str
    index: int | None = None
    reason: str | None = None
    inputs: dict = field(default_factory=dict)
    obvious: bool = False  # a true claim that must be accepted (e.g. an upper bound increased)


GENERIC = "malformed claim or evidence"  # the checker's catch-all reason for unanticipated errors


def judge(inst: Instance, ref: Reference, mutant: Mutant, specific: bool = False) -> tuple[bool, list]:
    """Check one mutant; return (whether every claim it changed is still true, failures).

    Every rejected claim must come with a non-empty reason (and ``mutant.reason`` in it when
    set). With ``specific``, a claim that is well-formed but false (the "ref" mode) must be
    rejected by one of the checker's explicit tests, not by its catch-all for exceptions.
    """
    report = inst.check(mutant.doc, **mutant.inputs)
    verdicts = report.verdicts
    got = [v.accepted for v in verdicts]
    failures = []
    for v in verdicts:
        if not v.accepted and not v.reason.strip():
            failures.append((mutant.kind, "empty reason"))
    if mutant.mode == "ref":
        given = mutant.inputs.get("patterns_sha256", "same")
        expected = ref.verdicts(mutant.doc, given)
        if got != expected:
            failures.append((mutant.kind, expected, got, [v.reason for v in verdicts]))
        if mutant.obvious and not (expected[mutant.index] if mutant.index is not None else all(expected)):
            failures.append((mutant.kind, "the reference rejects an obviously true claim", expected))
        if specific:
            for v, ok in zip(verdicts, expected, strict=True):
                if not ok and v.reason.startswith(GENERIC):
                    failures.append((mutant.kind, "rejected by the catch-all, not a specific test", v.reason))
        mutated_ok = expected[mutant.index] if mutant.index is not None else all(expected)
    elif mutant.mode == "claim":
        want = [i != mutant.index for i in range(len(verdicts))]
        if got != want:
            failures.append((mutant.kind, want, got, [v.reason for v in verdicts]))
        mutated_ok = False
    else:
        if report.accepted or any(got):
            failures.append((mutant.kind, "must reject all", got))
        mutated_ok = False
    if mutant.reason is not None:
        for v in verdicts:
            if not v.accepted and mutant.reason not in v.reason:
                failures.append((mutant.kind, f"reason lacks {mutant.reason!r}", v.reason))
    return mutated_ok, failures


def scalar_ops(value: Fraction) -> Iterator[tuple[str, Fraction, int]]:
    """(name, new value, direction): the seven edits of a rational, direction +1 (larger) or -1."""
    q = value.denominator
    rel = F(1, 10**9)
    for name, new in (("+1/q", value + F(1, q)), ("-1/q", value - F(1, q)),
                      ("*(1+1e-9)", value * (1 + rel)), ("*(1-1e-9)", value * (1 - rel)),
                      ("negate", -value), ("*2", value * 2), ("/2", value / 2)):
        if new != value:
            yield name, new, (1 if new > value else -1)


def get(obj, path: tuple):
    for key in path:
        obj = obj[key]
    return obj


def at(doc: dict, path: tuple):
    obj = doc
    for key in path[:-1]:
        obj = obj[key]
    return obj, path[-1]


UPPER_BOUNDS = {"gap", "grad_sq_bound", "radius_sq"}


def scalar_paths(doc: dict) -> Iterator[tuple[int, tuple, str]]:
    """Every scalar "p/q" field of every claim: (claim index, path, field name)."""
    for ci, c in enumerate(doc["claims"]):
        base = ("claims", ci)
        t = c["type"]
        if t == "objective":
            names = ["objective", "loss", "penalty"]
        elif t == "stationarity":
            names = ["grad_sq_bound"]
            for ti in range(len(c["ties"])):
                yield ci, base + ("ties", ti, "c"), "c"
        elif t == "subsampled_gap":
            names = ["lower_bound", "gap"]
        else:
            names = ["radius_sq", "grad_sq_bound"]
            for pi, p in enumerate(c["points"]):
                yield ci, base + ("points", pi, "weight"), "weight"
                for hi, ch in enumerate(p["changes"]):
                    for i in range(len(ch["W1"])):
                        yield ci, base + ("points", pi, "changes", hi, "W1", i), "goldstein W1"
        for name in names:
            yield ci, base + (name,), name


def numeric_mutants(inst: Instance) -> Iterator[Mutant]:
    for ci, path, name in scalar_paths(inst.doc):
        obj, key = at(inst.doc, path)
        value = parse_q(obj[key])
        for op, new, direction in scalar_ops(value):
            doc = copy.deepcopy(inst.doc)
            o, k = at(doc, path)
            o[k] = fmt(new)
            obvious = name in UPPER_BOUNDS and direction > 0
            yield Mutant(f"scalar {name} {op}", doc, "ref", ci, obvious=obvious)
    lam = parse_q(inst.doc["inputs"]["lam"])
    for op, new, _ in scalar_ops(lam):
        doc = copy.deepcopy(inst.doc)
        doc["inputs"]["lam"] = fmt(new)
        if new > 0:
            yield Mutant(f"inputs.lam {op}", doc, "ref")
        else:
            yield Mutant("inputs.lam not positive", doc, "all", reason="lam must be positive")


def gap_index(doc: dict) -> int:
    return next(i for i, c in enumerate(doc["claims"]) if c["type"] == "subsampled_gap")


def evidence_mutants(inst: Instance) -> Iterator[Mutant]:
    gi = gap_index(inst.doc)
    ev0 = inst.doc["claims"][gi]["evidence"]

    def mutant(kind: str, edit) -> Mutant:
        doc = copy.deepcopy(inst.doc)
        edit(doc["claims"][gi], doc["claims"][gi]["evidence"])
        return Mutant(kind, doc, "ref", gi)

    for k in range(len(ev0["rho"])):
        for delta in (1, -1):
            def edit(c, ev, k=k, delta=delta):
                ev["rho"][k] = str(int(ev["rho"][k]) + delta)
            yield mutant(f"rho {delta:+d}", edit)
    for scale in (F(2**20 + 1, 2**20), F(2**20 - 1, 2**20)):
        def edit(c, ev, scale=scale):
            ev["rho"] = [str(int(v) * scale.numerator // scale.denominator) for v in ev["rho"]]
        yield mutant(f"rho scaled by 1{'+' if scale > 1 else '-'}2^-20", edit)
    for b, blk in enumerate(ev0["blocks"]):
        for t in range(len(blk["mu_num"])):
            for op in ("+1", "-1", "negate"):
                def edit(c, ev, b=b, t=t, op=op):
                    v = int(ev["blocks"][b]["mu_num"][t])
                    ev["blocks"][b]["mu_num"][t] = str(v + 1 if op == "+1" else v - 1 if op == "-1" else -v)
                yield mutant(f"mu {op}", edit)
        if blk["mu_idx"]:
            def edit(c, ev, b=b):
                ev["blocks"][b]["mu_num"] = [str(int(v) // 2) for v in ev["blocks"][b]["mu_num"]]
            yield mutant("mu halved", edit)

            def edit(c, ev, b=b):
                ev["blocks"][b]["mu_idx"], ev["blocks"][b]["mu_num"] = [], []
            yield mutant("mu cleared", edit)
        missing = [k for k in range(len(ev0["rho"])) if k not in blk["mu_idx"]]
        if missing:
            def edit(c, ev, b=b, k=missing[0]):
                blk = ev["blocks"][b]
                pairs = sorted(zip(blk["mu_idx"] + [k], blk["mu_num"] + [str(10 ** 6)], strict=True))
                blk["mu_idx"], blk["mu_num"] = [p for p, _ in pairs], [v for _, v in pairs]
            yield mutant("mu added", edit)
        if len(blk["mu_idx"]) >= 2:
            def edit(c, ev, b=b):
                blk = ev["blocks"][b]
                blk["mu_idx"] = blk["mu_idx"][::-1]
                blk["mu_num"] = blk["mu_num"][::-1]
            yield mutant("mu order reversed", edit)
        if blk["mu_idx"]:
            def edit(c, ev, b=b):
                ev["blocks"][b]["mu_idx"][-1] = len(ev["rho"])
            yield mutant("mu index out of range", edit)
        yield mutant("block dropped", lambda c, ev, b=b: ev["blocks"].pop(b))
        yield mutant("block duplicated",
                     lambda c, ev, b=b: ev["blocks"].append(copy.deepcopy(ev["blocks"][b])))

        def hexdigit(c, ev, b=b):
            p = ev["blocks"][b]["pattern"]
            ev["blocks"][b]["pattern"] = p[:-1] + "0123456789abcdef"[(int(p[-1], 16) + 1) % 16]
        yield mutant("pattern hex digit", hexdigit)
    blocks = ev0["blocks"]
    pairs = [(a, b) for a in range(len(blocks)) for b in range(a + 1, len(blocks))
             if blocks[a]["sign"] != blocks[b]["sign"]]
    for a, b in pairs[:6]:
        def edit(c, ev, a=a, b=b):
            blk = ev["blocks"]
            blk[a]["sign"], blk[b]["sign"] = blk[b]["sign"], blk[a]["sign"]
        same = blocks[a]["pattern"] == blocks[b]["pattern"]
        yield mutant("signs swapped (same pattern)" if same else "signs swapped", edit)
    for op in ("+1", "-1", "*2"):
        def edit(c, ev, op=op):
            den = int(ev["den"])
            ev["den"] = str(den + 1 if op == "+1" else den - 1 if op == "-1" else 2 * den)
        yield mutant(f"den {op}", edit)
    scope = inst.doc["claims"][gi]["scope"]
    if scope["kind"] == "given":
        def edit(c, ev):
            p = c["scope"]["patterns"][0]
            c["scope"]["patterns"][0] = p[:-1] + "0123456789abcdef"[(int(p[-1], 16) + 1) % 16]
        yield mutant("scope pattern hex digit", edit)

        def edit(c, ev):
            c["scope"]["patterns"].pop()
        yield mutant("scope pattern dropped", edit)
    else:
        for max_ties in (0, 1, MAX_TIES_LIMIT, MAX_TIES_LIMIT + 1, -1):
            def edit(c, ev, max_ties=max_ties):
                c["scope"]["max_ties"] = max_ties
            yield mutant(f"scope max_ties={max_ties}", edit)


def stationarity_mutants(inst: Instance) -> Iterator[Mutant]:
    si = next(i for i, c in enumerate(inst.doc["claims"]) if c["type"] == "stationarity")
    c0 = inst.doc["claims"][si]

    def mutant(kind: str, edit) -> Mutant:
        doc = copy.deepcopy(inst.doc)
        edit(doc["claims"][si])
        return Mutant(kind, doc, "ref", si)

    yield mutant("ties_independent flipped", lambda c: c.update(ties_independent=not c["ties_independent"]))
    yield mutant("tie added", lambda c: c["ties"].append({"k": 0, "j": 0, "c": "0"}))
    for t in range(len(c0["ties"])):
        yield mutant("tie dropped", lambda c, t=t: c["ties"].pop(t))
        yield mutant("tie k changed",
                     lambda c, t=t: c["ties"][t].update(k=(c["ties"][t]["k"] + 1) % inst_n(inst)))
    if len(c0["ties"]) >= 2:
        yield mutant("ties reordered", lambda c: c["ties"].reverse())


def inst_n(inst: Instance) -> int:
    return len(inst.X)


def goldstein_mutants(inst: Instance) -> Iterator[Mutant]:
    gi = [i for i, c in enumerate(inst.doc["claims"]) if c["type"] == "stationarity_goldstein"]
    if not gi:
        return
    gi = gi[0]
    c0 = inst.doc["claims"][gi]

    def mutant(kind: str, edit) -> Mutant:
        doc = copy.deepcopy(inst.doc)
        edit(doc["claims"][gi])
        return Mutant(kind, doc, "ref", gi)

    if len(c0["points"]) >= 2:
        yield mutant("goldstein point dropped", lambda c: c["points"].pop())

        def swap(c):
            pts = c["points"]
            pts[0]["weight"], pts[1]["weight"] = pts[1]["weight"], pts[0]["weight"]
        yield mutant("goldstein weights swapped", swap)
    for p, pt in enumerate(c0["points"]):
        for h in range(len(pt["changes"])):
            yield mutant("goldstein change j", lambda c, p=p, h=h: c["points"][p]["changes"][h].update(
                j=(c["points"][p]["changes"][h]["j"] + 1) % len(inst.w2)))
            yield mutant("goldstein change dropped", lambda c, p=p, h=h: c["points"][p]["changes"].pop(h))


def structure_mutants(inst: Instance) -> Iterator[Mutant]:
    doc0 = inst.doc
    for ci, c in enumerate(doc0["claims"]):
        for key in c:
            doc = copy.deepcopy(doc0)
            del doc["claims"][ci][key]
            yield Mutant(f"claim field removed ({key})" if key in ("id", "type") else "claim field removed",
                         doc, "claim", ci)
        doc = copy.deepcopy(doc0)
        doc["claims"][ci]["unknown_field"] = "1"
        yield Mutant("claim unknown field", doc, "claim", ci)
        doc = copy.deepcopy(doc0)
        doc["claims"][ci]["type"] = c["type"] + "_v2"
        yield Mutant("unknown claim type", doc, "claim", ci, reason="unknown claim type")
        for nested in nested_objects(c):
            for key in get(c, nested):
                doc = copy.deepcopy(doc0)
                del get(doc["claims"][ci], nested)[key]
                yield Mutant("nested field removed", doc, "claim", ci)
            doc = copy.deepcopy(doc0)
            get(doc["claims"][ci], nested)["unknown_field"] = 0
            yield Mutant("nested unknown field", doc, "claim", ci)
        for path, value in leaves(c):
            for bad in wrong_types(value):
                doc = copy.deepcopy(doc0)
                o, k = at(doc["claims"][ci], path)
                o[k] = bad
                yield Mutant("wrong JSON type", doc, "claim", ci)
    doc = copy.deepcopy(doc0)
    doc["claims"][1]["id"] = doc["claims"][0]["id"]
    yield Mutant("claim id duplicated", doc, "claim", 1, reason="unique")
    for version in ("2.0", "1.3", "0.9", "1", "1.0.0", "v1.0", 1.0, "01.0", "1.00", "1.\u0660", " 1.0"):
        doc = copy.deepcopy(doc0)
        doc["version"] = version
        yield Mutant(f"version {version!r}", doc, "all")
    for fmt_name in ("certify-certificate-x", "Certify-Certificate", ""):
        doc = copy.deepcopy(doc0)
        doc["format"] = fmt_name
        yield Mutant("format name", doc, "all", reason="format")
    for key in list(doc0):
        doc = copy.deepcopy(doc0)
        del doc[key]
        yield Mutant("top-level field removed", doc, "all")
    doc = copy.deepcopy(doc0)
    doc["extra"] = {}
    yield Mutant("top-level unknown field", doc, "all")
    for key in list(doc0["inputs"]):
        doc = copy.deepcopy(doc0)
        del doc["inputs"][key]
        yield Mutant("inputs field removed", doc, "all")
    shape = doc0["inputs"]
    for key, bad in (("n", shape["n"] + 1), ("d", shape["d"] + 1), ("m", shape["m"] + 1),
                     ("bias", not doc0["inputs"]["bias"]), ("data_sha256", "0" * 64),
                     ("network_sha256", "f" * 64), ("lam", "0.1"), ("lam", "1/0"), ("lam", 0.1)):
        doc = copy.deepcopy(doc0)
        doc["inputs"][key] = bad
        yield Mutant(f"inputs.{key} changed", doc, "all")
    for key, bad in (("n", float(shape["n"])), ("bias", int(shape["bias"])), ("m", True)):
        doc = copy.deepcopy(doc0)
        doc["inputs"][key] = bad
        yield Mutant(f"inputs.{key} of another JSON type", doc, "all")
    for key in doc0["conventions"]:
        doc = copy.deepcopy(doc0)
        doc["conventions"][key] = doc0["conventions"][key].replace("1/2", "1/(2n)").replace("2D", "2 D") + " "
        yield Mutant("conventions changed", doc, "all", reason="conventions")
    doc = copy.deepcopy(doc0)
    doc["claims"] = []
    yield Mutant("claims emptied", doc, "all")
    text = inst.text
    body = len(text.rstrip())
    for frac in (0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999):
        cut = max(1, min(body - 1, int(frac * body)))
        yield Mutant("truncated JSON", text[:cut], "all", reason="not valid JSON")
    yield Mutant("truncated JSON", text[:body - 1], "all", reason="not valid JSON")
    for needle in ('"format": ', '"id": "objective"', '"den": '):
        pos = text.index(needle)
        line_end = text.index("\n", pos)
        line = text[pos:line_end].rstrip(",")
        yield Mutant("duplicated JSON key", text[:pos] + line + ",\n" + text[pos:], "all",
                     reason="duplicate key")
    yield Mutant("NaN literal", text.replace('"n": ', '"n": NaN, "nn": ', 1), "all", reason="non-JSON number")
    yield Mutant("not an object", "[" + text + "]", "all", reason="JSON object")


def nested_objects(claim: dict) -> list[tuple]:
    """Paths (inside a claim) of its nested objects: one of each kind."""
    t = claim["type"]
    if t == "subsampled_gap":
        return [("scope",), ("evidence",), ("evidence", "blocks", 0)]
    if t == "stationarity":
        return [("ties", 0)] if claim["ties"] else []
    if t == "stationarity_goldstein":
        out = [("points", 0)]
        if claim["points"][0]["changes"]:
            out.append(("points", 0, "changes", 0))
        return out
    return []


def leaves(obj, path: tuple = ()) -> Iterator[tuple[tuple, object]]:
    """Leaves of a JSON tree, only the first element of each list (keeps the count small)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, path + (k,))
    elif isinstance(obj, list):
        if obj:
            yield from leaves(obj[0], path + (0,))
        else:
            yield path, obj
    else:
        yield path, obj


def wrong_types(value: object) -> list[object]:
    """JSON values of another type than ``value``."""
    if isinstance(value, bool):
        return [None, 1, "true", []]
    if isinstance(value, int):
        return [None, True, float(value), str(value), [value], {}]
    if isinstance(value, str):
        return [None, True, 1, 0.5, [value], {}]
    if isinstance(value, list):
        return [None, "[]", {}]
    return [None]


def digest_mutants(inst: Instance) -> Iterator[Mutant]:
    X2 = copy.deepcopy(inst.X)
    X2[0][0] = float(np.nextafter(X2[0][0], np.inf))
    yield Mutant("digest: other X", inst.doc, "all", reason="data digest mismatch", inputs={"X": X2})
    y2 = list(inst.y)
    y2[-1] = -y2[-1] if y2[-1] else 1.0  # (-0.0 is the same number)
    yield Mutant("digest: other y", inst.doc, "all", reason="data digest mismatch", inputs={"y": y2})
    W2 = copy.deepcopy(inst.W1)
    W2[-1][-1] = W2[-1][-1] * 2 if W2[-1][-1] else 1.0
    yield Mutant("digest: other W1", inst.doc, "all", reason="network digest mismatch", inputs={"W1": W2})
    w22 = list(inst.w2)
    w22[0] = float(np.nextafter(w22[0], -np.inf))
    yield Mutant("digest: other w2", inst.doc, "all", reason="network digest mismatch", inputs={"w2": w22})
    if inst.b1 is not None:
        b12 = list(inst.b1)
        b12[0] += 1.0
        yield Mutant("digest: other b1", inst.doc, "all", reason="network digest mismatch",
                     inputs={"b1": b12})
        yield Mutant("digest: b1 omitted", inst.doc, "all", reason="network digest mismatch",
                     inputs={"b1": None})
    else:
        yield Mutant("digest: b1 added", inst.doc, "all", reason="network digest mismatch",
                     inputs={"b1": [0.0] * len(inst.w2)})
    gi = gap_index(inst.doc)
    if inst.patterns_sha256 is not None:
        yield Mutant("digest: other pattern set", inst.doc, "claim", gi, reason="not the one given",
                     inputs={"patterns_sha256": "0" * 64})
    else:  # an own-scope gap checked against a pattern set the caller gives
        yield Mutant("digest: pattern set given to an own scope", inst.doc, "claim", gi,
                     inputs={"patterns_sha256": ref_patterns_digest(len(inst.X), ["0"])})
    ragged = copy.deepcopy(inst.X)
    ragged[0] = ragged[0][:-1]
    for what, bad in (("X ragged", {"X": ragged}), ("y too short", {"y": inst.y[:-1]}),
                      ("X with NaN", {"X": [[math.nan] * len(inst.X[0])] + inst.X[1:]}),
                      ("W1 row missing", {"W1": inst.W1[:-1]})):
        yield Mutant(f"malformed inputs: {what}", inst.doc, "all", inputs=bad)


def all_mutants(inst: Instance) -> Iterator[Mutant]:
    yield from numeric_mutants(inst)
    yield from evidence_mutants(inst)
    yield from stationarity_mutants(inst)
    yield from goldstein_mutants(inst)
    yield from structure_mutants(inst)
    yield from digest_mutants(inst)


