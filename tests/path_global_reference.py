"""Independent reference of the *global scope* of the data claims ``eps_path`` and ``zero_optimal_above``.

Written without ``certify``: the features are the floats read with ``Fraction`` (a ones column
with a bias); the hyperplane classes are the primitive integer representatives of the non-zero
rows (first non-zero entry positive, numbered by first row); the rank is Fraction elimination;
the cell bound is ``2 sum_{k<r} C(h - 1, k)`` (1 when h = 0); each witness's pattern is
``d_k = 1[x_k^T u > 0]`` (1 on zero rows), rejected when it lies on a hyperplane; the list must
be duplicate-free and complete by count (exactly the bound) or by flips (every flipped sign
vector listed or a Farkas combination ``den s_t e_t = sum num_j s_j e_j`` with ``den > 0``,
``num >= 0`` over other classes). The claim is then the given-scope claim over the cells'
patterns, evaluated by :mod:`tests.path_reference`. Digests are not recomputed.
"""

from __future__ import annotations

import math
from fractions import Fraction

from tests.path_reference import eps_path_holds, q, zero_above_holds

F = Fraction


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(text: object) -> int | None:
    value = q(text)
    return None if value is None or value.denominator != 1 or "/" in text else int(value)


def _rank(rows: list[list[Fraction]]) -> int:
    M = [list(r) for r in rows]
    rk = 0
    for c in range(len(M[0]) if M else 0):
        piv = next((i for i in range(rk, len(M)) if M[i][c] != 0), None)
        if piv is None:
            continue
        M[rk], M[piv] = M[piv], M[rk]
        for i in range(len(M)):
            if i != rk and M[i][c] != 0:
                f = M[i][c] / M[rk][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[rk], strict=True)]
        rk += 1
    return rk


class Arrangement:
    """Classes, rank and cell bound of the features of (X, bias), in Fractions."""

    def __init__(self, X: list, bias: bool) -> None:
        self.rows = [[F(v) for v in row] + ([F(1)] if bias else []) for row in X]
        self.n, self.d = len(self.rows), len(self.rows[0])
        self.live = [any(row) for row in self.rows]
        self.reps: list[list[int]] = []
        self.cls: list[int] = []
        self.orient: list[int] = []
        index: dict[tuple, int] = {}
        for row in self.rows:
            if not any(row):
                self.cls.append(-1)
                self.orient.append(0)
                continue
            scale = math.lcm(*(v.denominator for v in row))
            ints = [int(v * scale) for v in row]
            g = math.gcd(*ints)
            s = 1 if next(v for v in ints if v) > 0 else -1
            rep = tuple(s * v // g for v in ints)
            if rep not in index:
                index[rep] = len(self.reps)
                self.reps.append(list(rep))
            self.cls.append(index[rep])
            self.orient.append(s)
        self.h = len(self.reps)
        self.rank = _rank(self.rows)
        self.bound = 1 if self.h == 0 or self.rank == 0 else 2 * sum(math.comb(self.h - 1, k)
                                                                     for k in range(self.rank))

    def pattern(self, u: list[int]) -> tuple[int, ...] | None:
        """The pattern of the cell of u, or None when u lies on a hyperplane."""
        vals = [sum((a * b for a, b in zip(x, u, strict=True)), F(0)) for x in self.rows]
        if any(v == 0 and live for v, live in zip(vals, self.live, strict=True)):
            return None
        return tuple(1 if v > 0 or not live else 0 for v, live in zip(vals, self.live, strict=True))

    def signs(self, pat: tuple) -> list[int]:
        out = [0] * self.h
        for k, c in enumerate(self.cls):
            if c >= 0:
                out[c] = self.orient[k] * (1 if pat[k] else -1)
        return out

    def complete(self, spec: object, pats: list[tuple], integer=None) -> bool:
        """Whether ``spec`` proves the list of cell patterns ``pats`` complete; ``integer`` parses the
        integer strings of the Farkas proofs (default: a ``p`` string of :func:`tests.path_reference.q`)."""
        integer = _int if integer is None else integer
        if not isinstance(spec, dict):
            return False
        kind = spec.get("kind")
        if kind == "count":
            vals = [spec.get(k) for k in ("hyperplanes", "rank", "regions")]
            return (set(spec) == {"kind", "hyperplanes", "rank", "regions"} and all(_is_int(v) for v in vals)
                    and vals == [self.h, self.rank, self.bound] and len(pats) == self.bound)
        if kind != "flips" or set(spec) != {"kind", "hyperplanes", "rank", "nonfacets"}:
            return False
        if [spec["hyperplanes"], spec["rank"]] != [self.h, self.rank] or not all(
                _is_int(spec[k]) for k in ("hyperplanes", "rank")):
            return False
        sigs = [self.signs(p) for p in pats]
        listed = {tuple(s) for s in sigs}
        proved = set()
        for e in spec["nonfacets"]:
            c, t, idx = e["cell"], e["class"], e["idx"]
            den, num = integer(e["den"]), [integer(v) for v in e["num"]]
            if (not _is_int(c) or not _is_int(t) or not 0 <= c < len(pats) or not 0 <= t < self.h
                    or (c, t) in proved or den is None or den <= 0 or None in num or any(v < 0 for v in num)
                    or len(num) != len(idx)
                    or any(not _is_int(k) or not 0 <= k < self.h or k == t for k in idx)
                    or any(a >= b for a, b in zip(idx, idx[1:], strict=False))):
                return False
            s = sigs[c]
            for i in range(self.d):
                if sum(v * s[k] * self.reps[k][i] for k, v in zip(idx, num, strict=True)) != \
                        den * s[t] * self.reps[t][i]:
                    return False
            proved.add((c, t))
        for c, s in enumerate(sigs):
            for t in range(self.h):
                flipped = list(s)
                flipped[t] = -flipped[t]
                if tuple(flipped) not in listed and (c, t) not in proved:
                    return False
        return True


def encode(pat: tuple[int, ...]) -> str:
    """Pattern string: hex of sum d_k 2^k, ceil(n/4) digits (as path_reference.pattern_bits reads it)."""
    return format(sum(b << k for k, b in enumerate(pat)), f"0{max(1, (len(pat) + 3) // 4)}x")


def global_patterns(scope: object, X: list, bias: bool) -> list[str] | None:
    """The patterns of a global scope whose cell list is verified complete, else None."""
    if not isinstance(scope, dict) or scope.get("kind") != "global" or \
            set(scope) != {"kind", "cells", "completeness", "patterns_sha256"}:
        return None
    arr = Arrangement(X, bias)
    cells = scope["cells"]
    if not isinstance(cells, list) or not cells:
        return None
    pats = []
    for cell in cells:
        if not isinstance(cell, dict) or set(cell) != {"u"} or not isinstance(cell["u"], list):
            return None
        u = [_int(v) for v in cell["u"]]
        if len(u) != arr.d or None in u:
            return None
        pat = arr.pattern(u)
        if pat is None:
            return None
        pats.append(pat)
    if len(set(pats)) != len(pats) or not arr.complete(scope["completeness"], pats):
        return None
    return [encode(p) for p in pats]


def _over_given(claim: dict, patterns: list[str]) -> dict:
    return {**claim, "scope": {"kind": "given", "patterns": patterns}}


def global_eps_path_holds(claim: dict, X: list, y: list, bias: bool) -> bool:
    """Whether an eps_path claim over a global scope is established by its evidence."""
    pats = global_patterns(claim.get("scope"), X, bias)
    return pats is not None and eps_path_holds(_over_given(claim, pats), X, y, bias, pats)


def global_zero_above_holds(claim: dict, X: list, y: list, bias: bool) -> bool:
    """Whether a zero_optimal_above claim over a global scope is established by its evidence."""
    pats = global_patterns(claim.get("scope"), X, bias)
    return pats is not None and zero_above_holds(_over_given(claim, pats), X, y, bias, pats)
