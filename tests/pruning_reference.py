"""An independent reference of the *pruned*, *minimal* and *not_minimal* claims (and *objective*).

Written without ``certify``: floats are read with ``Fraction(float)``, the fit, NC, fit columns,
determinants and the network digest are recomputed from scratch (the digest from the encoding of
docs/certificate-format.md, "Digests"). Strict parsing of rational and integer strings comes from
tests/reference.py (also free of ``certify``). Used by tests/test_mutations_pruning.py.
"""

from __future__ import annotations

import hashlib
import math
import struct
from fractions import Fraction

from sympy import isprime

from tests.reference import parse_i, parse_q

F = Fraction

PRUNED_KEYS = {"id", "type", "original", "original_sha256", "original_width", "exact", "width",
               "original_objective", "exact_objective", "objective", "fit_deviation_sq",
               "objective_not_increased"}


def plain(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def ref_network_digest(W1: list, w2: list, b1: list | None) -> str:
    """SHA-256 of ``certify-network-v1`` + the arrays W1 (d, m), w2 (m,), optional b1 (m,)."""
    def array(name: str, shape: tuple, flat: list) -> bytes:
        head = name.encode() + b"\x00" + bytes([len(shape)]) + b"".join(struct.pack("<Q", s) for s in shape)
        return head + b"".join(struct.pack("<d", float(v)) for v in flat)

    h = hashlib.sha256(b"certify-network-v1")
    h.update(array("W1", (len(W1), len(w2)), [v for row in W1 for v in row]))
    h.update(array("w2", (len(w2),), list(w2)))
    if b1 is not None:
        h.update(array("b1", (len(b1),), list(b1)))
    return h.hexdigest()


def det(rows: list[list[Fraction]]) -> Fraction:
    """Determinant by Fraction elimination."""
    a = [list(r) for r in rows]
    n, out = len(a), F(1)
    for c in range(n):
        p = next((r for r in range(c, n) if a[r][c] != 0), None)
        if p is None:
            return F(0)
        if p != c:
            a[c], a[p] = a[p], a[c]
            out = -out
        out *= a[c][c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            if f:
                a[r] = [x - f * y for x, y in zip(a[r], a[c], strict=True)]
    return out


def faithful(given: float, exact: Fraction) -> bool:
    """No binary64 number strictly between ``given`` and ``exact``."""
    g = F(given)
    if g == exact:
        return True
    h = math.nextafter(given, math.inf if exact > g else -math.inf)
    return not math.isfinite(h) or min(g, F(h)) <= exact <= max(g, F(h))


class PruneReference:
    """Truth of the claims about a given network ``(W1, w2, b1)`` on ``(X, y, lam)``."""

    def __init__(self, X: list, y: list, W1: list, w2: list, b1: list | None, lam: Fraction) -> None:
        self.bias = b1 is not None
        self.X = [[F(v) for v in row] + ([F(1)] if self.bias else []) for row in X]
        self.y = [F(v) for v in y]
        self.d_raw = len(X[0])
        self.lam = F(lam)
        self.W, self.w2 = self.augment([[F(v) for v in r] for r in W1], [F(v) for v in w2],
                                       None if b1 is None else [F(v) for v in b1])
        self.n, self.m = len(self.X), len(self.w2)

    def augment(self, W1, w2, b1):
        return (W1 + [b1] if b1 is not None else W1), w2

    def fit(self, W, w2) -> list[Fraction]:
        m = len(w2)
        return [sum(max(sum(x[i] * W[i][j] for i in range(len(x))), F(0)) * w2[j] for j in range(m))
                for x in self.X]

    def nc(self, W, w2) -> Fraction:
        loss = sum((f - t) ** 2 for f, t in zip(self.fit(W, w2), self.y, strict=True)) / 2
        return loss + self.lam / 2 * (sum(v * v for r in W for v in r) + sum(v * v for v in w2))

    def columns(self) -> list[list[Fraction]]:
        return [[max(sum(x[i] * self.W[i][j] for i in range(len(x))), F(0)) * self.w2[j] for x in self.X]
                for j in range(self.m)]

    def support(self) -> list[int]:
        return [j for j, c in enumerate(self.columns()) if any(c)]

    # --- claims -------------------------------------------------------------------------------

    def objective_claim(self, c: dict) -> bool:
        if set(c) != {"id", "type", "objective", "loss", "penalty"}:
            return False
        vals = [parse_q(c[k]) for k in ("objective", "loss", "penalty")]
        fit = self.fit(self.W, self.w2)
        loss = sum((f - t) ** 2 for f, t in zip(fit, self.y, strict=True)) / 2
        pen = self.lam / 2 * (sum(v * v for r in self.W for v in r) + sum(v * v for v in self.w2))
        return vals == [loss + pen, loss, pen]

    def _support_ok(self, c: dict) -> bool:
        s = c["support"]
        return isinstance(s, list) and all(plain(v) for v in s) and s == self.support()

    def minimal_claim(self, c: dict) -> bool:
        if set(c) != {"id", "type", "support", "rows", "prime"} or not self._support_ok(c):
            return False
        p = parse_i(c["prime"])
        if p is None or not 2 < p < 2**64 or not isprime(p):
            return False
        rows = c["rows"]
        supp = c["support"]
        if not isinstance(rows, list) or len(rows) != len(supp) or not all(plain(r) and 0 <= r < self.n
                                                                          for r in rows):
            return False
        if len(set(rows)) != len(rows):
            return False
        cols = self.columns()
        value = det([[cols[j][k] for j in supp] for k in rows])
        return value.numerator % p != 0  # p odd: the power-of-two denominator does not matter

    def not_minimal_claim(self, c: dict) -> bool:
        if set(c) != {"id", "type", "support", "null_vector", "dependent"} or not self._support_ok(c):
            return False
        supp = c["support"]
        z = c["null_vector"]
        if not isinstance(z, list) or len(z) != len(supp):
            return False
        z = [parse_i(v) for v in z]
        if any(v is None for v in z) or not any(z):
            return False
        cols = self.columns()
        if any(sum(z[i] * cols[j][k] for i, j in enumerate(supp)) != 0 for k in range(self.n)):
            return False
        return c["dependent"] == [j for j, v in zip(supp, z, strict=True) if v]

    def _network(self, obj: object, m: int):
        if not isinstance(obj, dict) or set(obj) != {"W1", "w2", "b1"}:
            return None
        W1, w2, b1 = obj["W1"], obj["w2"], obj["b1"]
        if not isinstance(W1, list) or len(W1) != self.d_raw or (b1 is not None) != self.bias:
            return None
        rows = W1 + ([b1] if self.bias else [])
        if not all(isinstance(r, list) and len(r) == m for r in rows) or not isinstance(w2, list) \
                or len(w2) != m:
            return None
        W = [[parse_q(v) for v in r] for r in rows]
        w = [parse_q(v) for v in w2]
        if any(v is None for r in W for v in r) or any(v is None for v in w):
            return None
        return W, w

    def pruned_claim(self, c: dict) -> bool:
        if set(c) != PRUNED_KEYS:
            return False
        m0, width = c["original_width"], c["width"]
        if not (plain(m0) and plain(width) and m0 >= 1 and width == self.m and width <= m0):
            return False
        orig = self._network(c["original"], m0)
        exact = self._network(c["exact"], width)
        if orig is None or exact is None:
            return False
        Wo, wo = orig
        try:
            floats = [[float(v) for v in r] for r in Wo], [float(v) for v in wo]
        except OverflowError:
            return False
        if any(F(f) != v or not math.isfinite(f) for fr, vr in zip(floats[0], Wo, strict=True)
               for f, v in zip(fr, vr, strict=True)) or \
                any(F(f) != v or not math.isfinite(f) for f, v in zip(floats[1], wo, strict=True)):
            return False
        W1f = floats[0][:self.d_raw]
        b1f = floats[0][self.d_raw] if self.bias else None
        if ref_network_digest(W1f, floats[1], b1f) != c["original_sha256"]:
            return False
        We, we = exact
        if self.fit(We, we) != self.fit(Wo, wo):
            return False
        nco, nce, ncg = self.nc(Wo, wo), self.nc(We, we), self.nc(self.W, self.w2)
        claimed = [parse_q(c[k]) for k in ("original_objective", "exact_objective", "objective")]
        if claimed != [nco, nce, ncg] or nce > nco:
            return False
        if not all(faithful(float(g), e) for gr, er in zip(self.W, We, strict=True)
                   for g, e in zip(gr, er, strict=True)):
            return False
        if not all(faithful(float(g), e) for g, e in zip(self.w2, we, strict=True)):
            return False
        dev = sum((a - b) ** 2 for a, b in zip(self.fit(self.W, self.w2), self.fit(Wo, wo), strict=True))
        if parse_q(c["fit_deviation_sq"]) != dev:
            return False
        flag = c["objective_not_increased"]
        return isinstance(flag, bool) and (not flag or ncg <= nco)

    def claim(self, c: dict) -> bool:
        kind = c.get("type") if isinstance(c, dict) else None
        return {"objective": self.objective_claim, "pruned": self.pruned_claim,
                "minimal": self.minimal_claim, "not_minimal": self.not_minimal_claim}.get(
                    kind, lambda _: False)(c)
