"""Mutation suite of the *pruned*, *minimal* and *not_minimal* claims.

Genuine certificates come from ``certify.pruning.prune`` on seeded instances (Gaussian data with and
without a bias, more neurons than points, integer data with duplicated and dead neurons, an exactly
balanced duplicate pair whose merge is refused, so that the written network is *not_minimal*). Each is
mutated (numbers moved, evidence rescaled or swapped, indices changed, primes replaced, keys dropped
or added, the file truncated, the inputs swapped); the checker must accept a mutant iff the
independent reference (tests/pruning_reference.py, no ``certify``) says every claim is still true.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.network import Network
from certify.problem import Problem
from certify.pruning import prune
from tests.pruning_reference import PruneReference, ref_network_digest
from tests.reference import fmt, parse_q

F = Fraction
SEED = 5_009


def _instance(kind: str):
    rng = np.random.default_rng([SEED, len(kind)])
    if kind == "gauss-bias":
        n, d, m = 6, 2, 14
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        W1, w2, b1 = rng.standard_normal((d, m)), rng.standard_normal(m), rng.standard_normal(m)
        lam = "1/4"
    elif kind == "gauss":
        n, d, m = 5, 3, 3
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        W1, w2, b1 = rng.standard_normal((d, m)), rng.standard_normal(m), None
        lam = "1/10"
    elif kind == "integer-duplicates":  # duplicated, scaled and dead neurons, zero output weight
        X = rng.integers(-2, 3, (7, 2)).astype(float)
        y = rng.integers(-4, 5, 7) / 4.0
        W1 = rng.integers(-2, 3, (2, 6)).astype(float)
        W1[:, 1] = 2 * W1[:, 0]
        W1[:, 5] = 0.0
        w2 = rng.integers(-4, 5, 6) / 2.0
        w2[3] = 0.0
        b1 = None
        lam = "1/2"
    else:  # "balanced-duplicates": two identical, exactly balanced neurons: the merge is refused
        X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]])
        y = np.array([1.0, 2.0, 3.0, -1.0])
        W1 = np.array([[3.0, 3.0], [4.0, 4.0]])
        w2 = np.array([5.0, 5.0])
        b1 = None
        lam = "1"
    problem = Problem(X, y, lam, bias=b1 is not None)
    result = prune(problem, Network(W1, w2, b1))
    g = result.network
    inputs = (X.tolist(), y.tolist(), g.W1.tolist(), g.w2.tolist(), None if g.b1 is None else g.b1.tolist())
    ref = PruneReference(*inputs, F(problem.lam))
    return result, inputs, ref, (W1, w2, b1)


KINDS = ["gauss-bias", "gauss", "integer-duplicates", "balanced-duplicates"]


@pytest.fixture(scope="module", params=KINDS)
def instance(request):
    return (request.param, *_instance(request.param))


def _index(doc: dict, ctype: str) -> int | None:
    return next((i for i, c in enumerate(doc["claims"]) if c["type"] == ctype), None)


def _scalar_changes(text: str) -> Iterator[tuple[str, str]]:
    v = parse_q(text)
    for name, new in (("+1/q", v + F(1, v.denominator * 7)), ("-tiny", v - F(1, 2**200)), ("x2", 2 * v),
                      ("neg", -v), ("zero", F(0))):
        if new != v:
            yield name, fmt(new)


def mutants(doc: dict) -> Iterator[tuple[str, dict]]:
    """(kind, mutated document) pairs; each changes one thing."""
    def edit(kind, fn):
        new = copy.deepcopy(doc)
        fn(new)
        return kind, new

    pi = _index(doc, "pruned")
    c = doc["claims"][pi]
    for key in ("original_objective", "exact_objective", "objective", "fit_deviation_sq"):
        for name, new in _scalar_changes(c[key]):
            yield edit(f"pruned.{key}.{name}", lambda d, k=key, v=new: d["claims"][pi].__setitem__(k, v))
    m = c["width"]
    for j in range(min(m, 3)):
        for name, factor in (("up", F(1) + F(1, 2**70)), ("x2", F(2)), ("neg", F(-1))):
            def w2(d, j=j, factor=factor):
                e = d["claims"][pi]["exact"]
                e["w2"][j] = fmt(parse_q(e["w2"][j]) * factor)
            yield edit(f"pruned.exact.w2.{name}", w2)

        def rescale(d, j=j):  # same fit, other penalty and not the rounding of the given network
            e = d["claims"][pi]["exact"]
            for row in e["W1"] + ([e["b1"]] if e["b1"] is not None else []):
                row[j] = fmt(parse_q(row[j]) * 2)
            e["w2"][j] = fmt(parse_q(e["w2"][j]) / 2)
        yield edit("pruned.exact.rescaled", rescale)

        def w1(d, j=j):
            e = d["claims"][pi]["exact"]
            e["W1"][0][j] = fmt(parse_q(e["W1"][0][j]) * (1 + F(1, 2**60)) + F(1, 2**90))
        yield edit("pruned.exact.W1", w1)
    m0 = c["original_width"]
    for j in range(min(m0, 3)):
        def orig(d, j=j):
            o = d["claims"][pi]["original"]
            o["w2"][j] = fmt(parse_q(o["w2"][j]) * 2 + 1)
        yield edit("pruned.original.w2", orig)

        def orig_and_digest(d, j=j):  # a consistent digest for another original network
            o = d["claims"][pi]["original"]
            o["w2"][j] = fmt(parse_q(o["w2"][j]) * 2 + 1)
            W1 = [[float(parse_q(v)) for v in r] for r in o["W1"]]
            b1 = None if o["b1"] is None else [float(parse_q(v)) for v in o["b1"]]
            w2 = [float(parse_q(v)) for v in o["w2"]]
            d["claims"][pi]["original_sha256"] = ref_network_digest(W1, w2, b1)
        yield edit("pruned.original.w2+digest", orig_and_digest)

    def not_float(d):
        o = d["claims"][pi]["original"]
        o["w2"][0] = fmt(parse_q(o["w2"][0]) + F(1, 3))
    yield edit("pruned.original.not_float", not_float)
    yield edit("pruned.sha.flip", lambda d: d["claims"][pi].__setitem__(
        "original_sha256", hashlib.sha256(b"x").hexdigest()))
    for key, delta in (("width", 1), ("width", -1), ("original_width", 1), ("original_width", -1)):
        yield edit(f"pruned.{key}.{delta:+d}", lambda d, k=key, dl=delta: d["claims"][pi].__setitem__(
            k, d["claims"][pi][k] + dl))
    yield edit("pruned.original_width.=width", lambda d: d["claims"][pi].__setitem__(
        "original_width", d["claims"][pi]["width"]))
    yield edit("pruned.flag.flip", lambda d: d["claims"][pi].__setitem__(
        "objective_not_increased", not d["claims"][pi]["objective_not_increased"]))
    yield edit("pruned.flag.str", lambda d: d["claims"][pi].__setitem__("objective_not_increased", "true"))
    yield edit("pruned.exact.b1.toggle", lambda d: d["claims"][pi]["exact"].__setitem__(
        "b1", None if d["claims"][pi]["exact"]["b1"] is not None else ["0"] * m))
    yield edit("pruned.exact=original", lambda d: d["claims"][pi].__setitem__(
        "exact", copy.deepcopy(d["claims"][pi]["original"])))
    for key in sorted(c):
        if key not in ("id", "type"):
            yield edit(f"pruned.drop.{key}", lambda d, k=key: d["claims"][pi].pop(k))
    yield edit("pruned.extra", lambda d: d["claims"][pi].__setitem__("note", "x"))

    mi = _index(doc, "minimal")
    if mi is not None:
        c = doc["claims"][mi]
        for p in (3, 5, 7, 2, 4, 9, 2**61 - 1, 2**64 - 59, 2**64 + 13, 1, 0, -7):
            yield edit(f"minimal.prime.{p}", lambda d, p=p: d["claims"][mi].__setitem__("prime", str(p)))
        yield edit("minimal.prime.int", lambda d: d["claims"][mi].__setitem__("prime", 5))
        if len(c["rows"]) > 1:
            yield edit("minimal.rows.reversed", lambda d: d["claims"][mi]["rows"].reverse())
            yield edit("minimal.rows.duplicate", lambda d: d["claims"][mi]["rows"].__setitem__(
                1, d["claims"][mi]["rows"][0]))
        n = len(doc["claims"][0]) and doc["inputs"]["n"]
        for r in range(n):
            if c["rows"] and r not in c["rows"]:
                yield edit(f"minimal.rows.swap{r}", lambda d, r=r: d["claims"][mi]["rows"].__setitem__(0, r))
        def rows_out(d):
            rows = d["claims"][mi]["rows"]
            rows.__setitem__(0, n) if rows else rows.append(n)

        def rows_drop(d):
            rows = d["claims"][mi]["rows"]
            rows.pop() if rows else rows.append(0)
        yield edit("minimal.rows.out", rows_out)
        yield edit("minimal.rows.drop", rows_drop)
        yield edit("minimal.support.drop", lambda d: d["claims"][mi]["support"].pop()
                   if d["claims"][mi]["support"] else d["claims"][mi]["support"].append(0))
        yield edit("minimal.support.add", lambda d: d["claims"][mi]["support"].append(doc["inputs"]["m"]))
        yield edit("minimal.extra", lambda d: d["claims"][mi].__setitem__("note", "x"))
    ni = _index(doc, "not_minimal")
    if ni is not None:
        yield edit("not_minimal.z.x2", lambda d: d["claims"][ni].__setitem__(
            "null_vector", [str(2 * int(v)) for v in d["claims"][ni]["null_vector"]]))
        yield edit("not_minimal.z.neg", lambda d: d["claims"][ni].__setitem__(
            "null_vector", [str(-int(v)) for v in d["claims"][ni]["null_vector"]]))
        yield edit("not_minimal.z.bump", lambda d: d["claims"][ni]["null_vector"].__setitem__(
            0, str(int(d["claims"][ni]["null_vector"][0]) + 1)))
        yield edit("not_minimal.z.zero", lambda d: d["claims"][ni].__setitem__(
            "null_vector", ["0"] * len(d["claims"][ni]["null_vector"])))
        yield edit("not_minimal.dependent.drop", lambda d: d["claims"][ni]["dependent"].pop())
        yield edit("not_minimal.support.drop", lambda d: d["claims"][ni]["support"].pop())
        yield edit("not_minimal.extra", lambda d: d["claims"][ni].__setitem__("note", "x"))
    oi = _index(doc, "objective")
    for name, new in _scalar_changes(doc["claims"][oi]["objective"]):
        yield edit(f"objective.{name}", lambda d, v=new: d["claims"][oi].__setitem__("objective", v))


def test_genuine_certificates_accepted_and_reference_agrees(instance) -> None:
    kind, result, inputs, ref, _ = instance
    report = check_certificate(result.to_json(), *inputs)
    assert report.accepted, [v.reason for v in report.verdicts]
    assert all(ref.claim(c) for c in result.certificate["claims"])
    types = [c["type"] for c in result.certificate["claims"]]
    assert types[:2] == ["objective", "pruned"]
    assert types[2] == ("not_minimal" if kind == "balanced-duplicates" else "minimal")


def test_mutants_accepted_iff_reference_true(instance) -> None:
    kind, result, inputs, ref, _ = instance
    counts = Counter()
    for name, doc in mutants(result.certificate):
        report = check_certificate(json.dumps(doc), *inputs)
        truth = [ref.claim(c) for c in doc["claims"]]
        got = [v.accepted for v in report.verdicts]
        assert got == truth, (kind, name, [v.reason for v in report.verdicts])
        for v, t in zip(report.verdicts, truth, strict=True):
            if not t:
                assert v.reason and not v.reason.startswith("malformed claim"), (kind, name, v.reason)
        counts["accepted" if all(truth) else "rejected"] += 1
    print(kind, dict(counts))
    assert counts["rejected"] >= 30
    # true mutants exist too (weakened flag, reordered rows, rescaled null vector)
    assert counts["accepted"] >= 1


def test_truncated_and_mismatched_inputs_rejected(instance) -> None:
    kind, result, inputs, ref, original = instance
    text = result.to_json()
    for cut in (len(text) // 3, len(text) // 2, len(text) - 3):
        report = check_certificate(text[:cut], *inputs)
        assert not report.accepted and "JSON" in report.verdicts[0].reason
    X, y, W1, w2, b1 = inputs
    W1o, w2o, b1o = original
    same = W1o.tolist() == W1 and w2o.tolist() == w2  # nothing was pruned (balanced duplicates)
    report = check_certificate(text, X, y, W1o.tolist(), w2o.tolist(), None if b1o is None else b1o.tolist())
    assert report.accepted == same
    assert same or all("digest" in v.reason for v in report.verdicts)
    report = check_certificate(text, X, [v + 1 for v in y], W1, w2, b1)
    assert not report.accepted and "data digest" in report.verdicts[0].reason


def test_resource_limits_reject_with_a_reason(instance) -> None:
    from certify.check.limits import CheckLimits

    kind, result, inputs, ref, _ = instance
    report = check_certificate(result.to_json(), *inputs, limits=CheckLimits(max_work=50))
    assert not report.accepted
    assert any("max_work" in v.reason for v in report.verdicts if v.claim_type == "pruned")
    # hostile evidence: every exact output weight over a different huge denominator
    doc = copy.deepcopy(result.certificate)
    pi = _index(doc, "pruned")
    exact = doc["claims"][pi]["exact"]
    exact["w2"] = [fmt(parse_q(v) + F(1, 3**8000 + 2 * j)) for j, v in enumerate(exact["w2"])]
    text = json.dumps(doc)
    limits = CheckLimits(max_work=300_000)  # enough for the genuine certificate, not for this one
    assert check_certificate(result.to_json(), *inputs, limits=limits).accepted
    report = check_certificate(text, *inputs, limits=limits)
    assert not report.verdicts[pi].accepted
    assert "resource limit" in report.verdicts[pi].reason and "clearing" in report.verdicts[pi].reason


def test_certificates_follow_the_json_schema(instance) -> None:
    from jsonschema import Draft202012Validator

    import certify.certificates

    path = Path(certify.certificates.__file__).parent / "schema.json"
    validator = Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
    kind, result, *_ = instance
    errors = [e.message for e in validator.iter_errors(json.loads(result.to_json()))]
    assert not errors, errors[:3]
