"""Mutation suite of the ``global_gap`` and ``not_optimal`` claims (issue 12).

An independent reference of both claims, written without ``certify`` (Fractions from the floats):
the hyperplane classes (primitive integer representatives, first non-zero entry positive, numbered
by first row), the exact rank by Fraction elimination, the cell bound ``2 sum_{k<r} C(h-1, k)``,
the witnesses' exact signs, the flip closure with its Farkas combinations, the one-cone bounds
``||s X^T D rho + X^T (2D - I) mu||^2 <= lam^2``, the dual value, and NC of the network with one
neuron appended (the arrangement part, classes to flip closure, is the reference of
:mod:`tests.path_global_reference`, shared with the global path's suite). Genuine certificates
(built by ``certify``'s producers on seeded small instances: Gaussian data in general position,
integer data with degenerate arrangements, with and without a bias) are mutated: rationals moved,
entries negated, scaled, swapped, dropped and duplicated, cells removed and duplicated, witnesses
moved, multipliers made negative, Farkas proofs dropped and altered, the improved neuron changed
(with and without its objective recomputed). The checker must accept a mutant iff the reference says
the mutated claim is true; truncated documents and mismatched inputs are rejected with a precise reason.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import pytest

from certify.certificates import certificate
from certify.check.checker import check_certificate
from certify.convex.mapping import blocks_to_network
from certify.global_opt import global_claims
from certify.network import Network
from certify.patterns.sampling import patterns_of_gates
from certify.problem import Problem
from certify.solve.cvxpy_reference import solve_crelu
from certify.verify import exact_context
from tests.path_global_reference import Arrangement

F = Fraction
SEED = 20_120

# ------------------------------------------------------------------------------------------------
# The independent reference (nothing from certify)
# ------------------------------------------------------------------------------------------------


def parse_q(text: object) -> Fraction | None:
    """Strict ``"p/q"`` (lowest terms, q > 1) or ``"p"``; None otherwise."""
    if not isinstance(text, str):
        return None
    num, sep, den = text.partition("/")

    def canon(s: str) -> bool:
        body = s[1:] if s.startswith("-") else s
        return body.isdecimal() and body.isascii() and (body == "0" or not body.startswith("0")) and s != "-0"

    if not canon(num) or (sep and (not canon(den) or den.startswith("-") or den in ("0", "1"))):
        return None
    value = F(int(num), int(den) if sep else 1)
    return None if sep and value.denominator != int(den) else value


def parse_i(text: object) -> int | None:
    q = parse_q(text)
    return None if q is None or "/" in text else int(q)


def is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def fmt(value: Fraction) -> str:
    value = F(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


class GlobalReference:
    def __init__(self, X, y, W1, w2, b1, lam: Fraction) -> None:
        bias = b1 is not None
        self.X = [[F(v) for v in row] + ([F(1)] if bias else []) for row in X]
        self.y = [F(v) for v in y]
        self.n, self.d = len(self.X), len(self.X[0])
        rows = [[F(v) for v in row] for row in W1] + ([[F(v) for v in b1]] if bias else [])
        self.cols = [[rows[i][j] for i in range(self.d)] for j in range(len(w2))]
        self.w2 = [F(v) for v in w2]
        self.lam = lam
        self.arr = Arrangement(X, bias)  # hyperplane classes, rank, cell bound, completeness
        e = self.residual(self.cols, self.w2)
        self.objective = (sum((v * v for v in e), F(0)) / 2
                          + lam / 2 * (sum((v * v for c in self.cols for v in c), F(0))
                                       + sum((v * v for v in self.w2), F(0))))

    def residual(self, cols, w2) -> list[Fraction]:
        out = []
        for x, t in zip(self.X, self.y, strict=True):
            f = sum((max(sum((a * b for a, b in zip(x, c, strict=True)), F(0)), F(0)) * w
                     for c, w in zip(cols, w2, strict=True)), F(0))
            out.append(t - f)
        return out

    # global gap ---------------------------------------------------------------------------------
    def global_gap(self, c: dict) -> bool:
        lower, gap = parse_q(c["lower_bound"]), parse_q(c["gap"])
        dual = self.global_dual(c)
        return None not in (lower, gap, dual) and lower <= dual and self.objective - lower <= gap

    def global_dual(self, c: dict) -> Fraction | None:
        ev = c["evidence"]
        den = parse_i(ev["den"])
        rho = [parse_i(v) for v in ev["rho"]] if isinstance(ev["rho"], list) else [None]
        if den is None or den <= 0 or len(rho) != self.n or None in rho:
            return None
        rho = [F(r, den) for r in rho]
        cells = ev["cells"]
        if not isinstance(cells, list) or not cells:
            return None
        pats = []
        for cell in cells:
            u = [parse_i(v) for v in cell["u"]]
            if len(u) != self.d or None in u:
                return None
            pat = self.arr.pattern(u)
            if pat is None:
                return None
            pats.append(pat)
        if len(set(pats)) != len(pats) or not self.arr.complete(ev["completeness"], pats, parse_i):
            return None
        for cell, pat in zip(cells, pats, strict=True):
            if len(cell["mu_idx"]) != 2 or len(cell["mu_num"]) != 2:
                return None
            for sign, idx, raw in zip((1, -1), cell["mu_idx"], cell["mu_num"], strict=True):
                num = [parse_i(v) for v in raw]
                if (len(idx) != len(num) or None in num or any(v < 0 for v in num)
                        or any(not is_int(k) or not 0 <= k < self.n for k in idx)
                        or any(a >= b for a, b in zip(idx, idx[1:], strict=False))):
                    return None
                v = [F(0)] * self.d
                for k in range(self.n):
                    if pat[k]:
                        for i in range(self.d):
                            v[i] += sign * rho[k] * self.X[k][i]
                for k, mk in zip(idx, num, strict=True):
                    for i in range(self.d):
                        v[i] += (1 if pat[k] else -1) * F(mk, den) * self.X[k][i]
                if sum((t * t for t in v), F(0)) > self.lam ** 2:
                    return None
        inner = sum((r * t for r, t in zip(rho, self.y, strict=True)), F(0))
        return inner - sum((r * r for r in rho), F(0)) / 2

    # not optimal --------------------------------------------------------------------------------
    def improved(self, c: dict) -> Fraction | None:
        W1 = [parse_q(v) for v in c["neuron"]["W1"]]
        w2 = parse_q(c["neuron"]["w2"])
        if len(W1) != self.d or None in W1 or w2 is None:
            return None
        e = self.residual(self.cols + [W1], self.w2 + [w2])
        return (sum((v * v for v in e), F(0)) / 2
                + self.lam / 2 * (sum((v * v for col in self.cols + [W1] for v in col), F(0))
                                  + sum((v * v for v in self.w2 + [w2]), F(0))))

    def not_optimal(self, c: dict) -> bool:
        value, improved, decrease = self.improved(c), parse_q(c["improved_objective"]), parse_q(c["decrease"])
        return (None not in (value, improved, decrease) and decrease > 0 and value == improved
                and self.objective - value >= decrease)

    def claim(self, c: dict) -> bool:
        return self.global_gap(c) if c["type"] == "global_gap" else self.not_optimal(c)


# ------------------------------------------------------------------------------------------------
# Instances
# ------------------------------------------------------------------------------------------------


def _instance(i: int) -> dict:
    rng = np.random.default_rng([SEED, i])
    kind = ("gauss", "gauss", "sampled", "sampled", "integer", "integer")[i % 6]
    bias = bool(i % 2)
    lam = F(int(rng.integers(1, 5)), 10)
    n = int(rng.integers(5, 10))
    d = int(rng.integers(1, 3)) if bias else int(rng.integers(2, 4))
    if kind == "integer":
        X = rng.integers(-2, 3, (n, d)).astype(float)
        X[0] = X[1]  # duplicate row
    else:
        X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    feats = np.hstack([X, np.ones((n, 1))]) if bias else X
    if kind == "sampled":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            blocks = solve_crelu(feats, y, float(lam), patterns_of_gates(feats, rng.standard_normal(
                (feats.shape[1], 2)))).blocks()
        net = blocks_to_network(blocks.weights, blocks.signs, bias=bias)
    else:
        m = int(rng.integers(1, 4))
        net = Network(rng.standard_normal((d, m)), rng.standard_normal(m),
                      rng.standard_normal(m) if bias else None)
    problem = Problem(X, y, lam, bias=bias)
    ctx = exact_context(problem, net)
    claims, _ = global_claims(ctx, feats, net.weights(bias), search_starts=16)
    doc = certificate.build(problem, net.digest(), net.width, claims, {})
    b1 = None if net.b1 is None else net.b1.tolist()
    return {"name": f"{kind}-{i}", "X": X.tolist(), "y": y.tolist(), "W1": net.W1.tolist(),
            "w2": net.w2.tolist(), "b1": b1, "lam": lam, "doc": doc,
            "ref": GlobalReference(X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist(), b1, lam)}


@pytest.fixture(scope="module")
def instances() -> list[dict]:
    return [_instance(i) for i in range(8)]


def _check(inst: dict, doc, **inputs):
    args = {k: inputs.get(k, inst[k]) for k in ("X", "y", "W1", "w2", "b1")}
    return check_certificate(doc, args["X"], args["y"], args["W1"], args["w2"], args["b1"])


# ------------------------------------------------------------------------------------------------
# Mutation operators: (kind, claim index, edit of the claim)
# ------------------------------------------------------------------------------------------------


def _scalar(value: Fraction) -> Iterator[tuple[str, Fraction]]:
    q = value.denominator
    for name, new in (("+1/q", value + F(1, q)), ("-1/q", value - F(1, q)), ("negate", -value),
                      ("*2", value * 2), ("/2", value / 2), ("*(1+1e-9)", value * (1 + F(1, 10**9)))):
        if new != value:
            yield name, new


def global_mutants(c: dict, rng: np.random.Generator) -> Iterator[tuple[str, object]]:
    for key in ("lower_bound", "gap"):
        for name, new in _scalar(parse_q(c[key])):
            yield f"{key} {name}", lambda c, key=key, new=new: c.__setitem__(key, fmt(new))
    ev = c["evidence"]
    n = len(ev["rho"])
    for k in rng.choice(n, min(n, 3), replace=False).tolist():
        for delta in (1, -1):
            yield f"rho {delta:+d}", lambda c, k=k, delta=delta: c["evidence"]["rho"].__setitem__(
                k, str(int(c["evidence"]["rho"][k]) + delta))
        yield "rho entry negated", lambda c, k=k: c["evidence"]["rho"].__setitem__(
            k, str(-int(c["evidence"]["rho"][k])))
    yield "rho scaled x2", lambda c: c["evidence"].update(rho=[str(2 * int(v)) for v in c["evidence"]["rho"]])
    yield "rho halved", lambda c: c["evidence"].update(rho=[str(int(v) // 2) for v in c["evidence"]["rho"]])
    yield "rho dropped", lambda c: c["evidence"]["rho"].pop()
    for op in ("+1", "-1", "*2"):
        def den_edit(c, op=op):
            den = int(c["evidence"]["den"])
            c["evidence"]["den"] = str(den + 1 if op == "+1" else den - 1 if op == "-1" else 2 * den)
        yield f"den {op}", den_edit
    cells = ev["cells"]
    P = len(cells)
    for p in rng.choice(P, min(P, 4), replace=False).tolist():
        yield "cell removed", lambda c, p=p: _cells(c).pop(p)
        yield "cell duplicated", lambda c, p=p: _cells(c).append(copy.deepcopy(_cells(c)[p]))
        yield "witness scaled x3", lambda c, p=p: _cells(c)[p].update(
            u=[str(3 * int(v)) for v in _cells(c)[p]["u"]])
        yield "witness negated", lambda c, p=p: _cells(c)[p].update(
            u=[str(-int(v)) for v in _cells(c)[p]["u"]])
        yield "witness entry +2^45", lambda c, p=p: _cells(c)[p]["u"].__setitem__(
            0, str(int(_cells(c)[p]["u"][0]) + 2**45))
        yield "witness zero", lambda c, p=p: _cells(c)[p].update(u=["0"] * len(cells[p]["u"]))
        for s in (0, 1):
            if cells[p]["mu_num"][s]:
                yield "mu negated", lambda c, p=p, s=s: _cells(c)[p]["mu_num"][s].__setitem__(
                    0, str(-int(_cells(c)[p]["mu_num"][s][0])))
                yield "mu +1", lambda c, p=p, s=s: _cells(c)[p]["mu_num"][s].__setitem__(
                    0, str(int(_cells(c)[p]["mu_num"][s][0]) + 1))
                yield "mu cleared", lambda c, p=p, s=s: (_cells(c)[p]["mu_num"].__setitem__(s, []),
                                                         _cells(c)[p]["mu_idx"].__setitem__(s, []))
                yield "mu index out of range", lambda c, p=p, s=s: _cells(c)[p]["mu_idx"][s].__setitem__(
                    -1, n)
            yield "mu added", lambda c, p=p, s=s: _add_mu(_cells(c)[p], s, n)
        yield "mu signs swapped", lambda c, p=p: (_cells(c)[p]["mu_num"].reverse(),
                                                  _cells(c)[p]["mu_idx"].reverse())
    if P >= 2:
        a, b = rng.choice(P, 2, replace=False).tolist()

        def swap_witness(c, a=a, b=b):
            cs = _cells(c)
            cs[a]["u"], cs[b]["u"] = cs[b]["u"], cs[a]["u"]
        yield "witnesses swapped", swap_witness
        yield "cells reordered", lambda c: _cells(c).reverse()
    comp = ev["completeness"]
    for key in ("hyperplanes", "rank") + (("regions",) if comp["kind"] == "count" else ()):
        yield f"completeness {key} +1", lambda c, key=key: c["evidence"]["completeness"].__setitem__(
            key, c["evidence"]["completeness"][key] + 1)
    if comp["kind"] == "count":
        yield "completeness kind flips", lambda c: c["evidence"].update(completeness={
            "kind": "flips", "hyperplanes": comp["hyperplanes"], "rank": comp["rank"], "nonfacets": []})
    else:
        nf = comp["nonfacets"]
        for e in rng.choice(len(nf), min(len(nf), 4), replace=False).tolist() if nf else []:
            yield "nonfacet dropped", lambda c, e=e: _nfs(c).pop(e)
            yield "nonfacet num +1", lambda c, e=e: _nfs(c)[e]["num"].__setitem__(
                0, str(int(_nfs(c)[e]["num"][0]) + 1))
            yield "nonfacet den x2", lambda c, e=e: _nfs(c)[e].update(
                den=str(2 * int(_nfs(c)[e]["den"])))
            yield "nonfacet scaled", lambda c, e=e: _nfs(c)[e].update(
                den=str(3 * int(_nfs(c)[e]["den"])),
                num=[str(3 * int(v)) for v in _nfs(c)[e]["num"]])
            yield "nonfacet other cell", lambda c, e=e: _nfs(c)[e].update(
                cell=(_nfs(c)[e]["cell"] + 1) % P)
            yield "nonfacet duplicated", lambda c, e=e: _nfs(c).append(
                copy.deepcopy(_nfs(c)[e]))


def _cells(c: dict) -> list:
    return c["evidence"]["cells"]


def _nfs(c: dict) -> list:
    return c["evidence"]["completeness"]["nonfacets"]


def _add_mu(cell: dict, s: int, n: int) -> None:
    missing = [k for k in range(n) if k not in cell["mu_idx"][s]]
    if missing:
        pairs = sorted(zip(cell["mu_idx"][s] + [missing[0]], cell["mu_num"][s] + ["1000000"], strict=True))
        cell["mu_idx"][s] = [k for k, _ in pairs]
        cell["mu_num"][s] = [v for _, v in pairs]


def not_optimal_mutants(c: dict, ref: GlobalReference) -> Iterator[tuple[str, object]]:
    for key in ("improved_objective", "decrease"):
        for name, new in _scalar(parse_q(c[key])):
            yield f"{key} {name}", lambda c, key=key, new=new: c.__setitem__(key, fmt(new))
    d = len(c["neuron"]["W1"])
    for i in range(d):
        yield "neuron W1 entry doubled", lambda c, i=i: c["neuron"]["W1"].__setitem__(
            i, fmt(2 * parse_q(c["neuron"]["W1"][i])))
    yield "neuron w2 negated", lambda c: c["neuron"].update(w2=fmt(-parse_q(c["neuron"]["w2"])))
    for factor in (F(1, 2), F(3, 2), F(4), F(0)):
        def rescale(c, factor=factor):  # a different neuron with its objective recomputed: still true?
            c["neuron"]["W1"] = [fmt(factor * parse_q(v)) for v in c["neuron"]["W1"]]
            value = ref.improved(c)
            c["improved_objective"] = fmt(value)
            c["decrease"] = fmt(ref.objective - value) if ref.objective != value else "0"
        yield f"neuron rescaled x{factor} (recomputed)", rescale
    yield "decrease set to the exact value", lambda c: c.update(
        decrease=fmt(ref.objective - parse_q(c["improved_objective"])))
    yield "W1 too short", lambda c: c["neuron"]["W1"].pop()


# ------------------------------------------------------------------------------------------------
# The suite
# ------------------------------------------------------------------------------------------------


def test_reference_accepts_genuine_certificates(instances) -> None:
    for inst in instances:
        report = _check(inst, inst["doc"])
        assert report.accepted, [(v.claim_type, v.reason) for v in report.verdicts]
        assert all(inst["ref"].claim(c) for c in inst["doc"]["claims"]), inst["name"]
    kinds = Counter(c["evidence"]["completeness"]["kind"] for inst in instances for c in inst["doc"]["claims"]
                    if c["type"] == "global_gap")
    assert kinds["count"] and kinds["flips"], kinds
    assert any(c["type"] == "not_optimal" for inst in instances for c in inst["doc"]["claims"])


def test_mutants_accepted_iff_reference_true(instances) -> None:
    counts: Counter = Counter()
    failures = []
    for i, inst in enumerate(instances):
        rng = np.random.default_rng([SEED, 1000 + i])
        for ci, claim in enumerate(inst["doc"]["claims"]):
            ops = global_mutants(claim, rng) if claim["type"] == "global_gap" else \
                not_optimal_mutants(claim, inst["ref"])
            for kind, edit in ops:
                doc = copy.deepcopy(inst["doc"])
                edit(doc["claims"][ci])
                try:
                    expected = inst["ref"].claim(doc["claims"][ci])
                except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                    expected = False  # malformed: the reference cannot even read it
                verdict = _check(inst, doc).verdicts[ci]
                counts[(claim["type"], expected)] += 1
                if verdict.accepted != expected or (not verdict.accepted and not verdict.reason.strip()):
                    failures.append((inst["name"], kind, expected, verdict.reason))
    print(dict(counts))
    assert not failures, failures[:10]
    assert counts[("global_gap", False)] >= 200 and counts[("global_gap", True)] >= 20
    assert counts[("not_optimal", False)] >= 20 and counts[("not_optimal", True)] >= 5


def test_truncated_and_mismatched_inputs_rejected_with_reason(instances) -> None:
    inst = instances[0]
    text = json.dumps(inst["doc"])
    report = _check(inst, text[: len(text) // 2])
    assert not report.accepted and "not valid JSON" in report.verdicts[0].reason
    other = instances[1]
    report = _check(inst, inst["doc"], X=other["X"], y=other["y"])
    assert not report.accepted and all("data digest mismatch" in v.reason or "malformed" in v.reason
                                       for v in report.verdicts)
    W1 = [[v + 1.0 for v in row] for row in inst["W1"]]
    report = _check(inst, inst["doc"], W1=W1)
    assert not report.accepted and all("network digest mismatch" in v.reason for v in report.verdicts)
    doc = copy.deepcopy(inst["doc"])
    del doc["claims"][0]["evidence"]["completeness"]
    report = _check(inst, doc)
    assert not report.verdicts[0].accepted and "completeness" in report.verdicts[0].reason
