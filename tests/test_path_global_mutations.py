"""Mutation suite of the global scope of the data claims ``eps_path`` and ``zero_optimal_above``.

Genuine global paths (Gaussian data in general position: completeness by count; integer data with a
repeated row: completeness by flips; with and without a bias column) are mutated in the scope (cells
removed, duplicated, witnesses moved into other cells, onto hyperplanes, scaled; completeness kind and
counts tampered; Farkas proofs dropped and altered; relabelling given <-> global) and in the path (a
grid point removed, a lower bound raised, the interval widened). The checker must accept a mutant iff
the independent reference (tests/path_global_reference.py, Fractions only) says the mutated claim
still holds, and reject with a precise reason where the reason is fixed by the mutation.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np
import pytest

from certify.certificates.certificate import to_json
from certify.certified_path import certify_path
from certify.check.limits import CheckLimits
from certify.check.path import check_data_certificate
from certify.exact.rational import format_rational
from certify.global_path import certify_global_path
from certify.solve.working_set import SolverOptions
from tests.path_global_reference import global_eps_path_holds, global_patterns, global_zero_above_holds

TIGHT = SolverOptions(gap_tol=1e-11)


def _instance(kind: str) -> dict:
    if kind == "gauss-bias":
        rng = np.random.default_rng(90)
        X, bias = rng.standard_normal((8, 2)), True
    elif kind == "gauss":
        rng = np.random.default_rng(91)
        X, bias = rng.standard_normal((7, 3)), False
    else:
        rng = np.random.default_rng(92)
        X, bias = rng.integers(-2, 3, (8, 2)).astype(float), True
        X[0] = X[1]
    y = rng.standard_normal(X.shape[0])
    res, cells = certify_global_path(X, y, "1/10", "3", "1/40", bias=bias, options=TIGHT)
    return {"name": kind, "X": X.tolist(), "y": y.tolist(), "bias": bias, "doc": res.document,
            "scheme": cells.scheme, "D": cells.D, "Xa": X, "ya": y}


@pytest.fixture(scope="module")
def instances() -> list[dict]:
    return [_instance(k) for k in ("gauss-bias", "gauss", "integer")]


_CACHE: dict[str, bool] = {}


def reference(inst: dict, claim: dict) -> bool:
    """The reference verdict: the scope's cell list verified by :func:`global_patterns`, then the claim over
    those patterns (cached by the claim without its scope and the pattern set: most scope mutants leave
    the grid evidence and the patterns unchanged)."""
    pats = global_patterns(claim.get("scope"), inst["X"], inst["bias"])
    if pats is None:
        return False
    body = {k: v for k, v in claim.items() if k != "scope"}
    key = inst["name"] + json.dumps(body, sort_keys=True) + ",".join(sorted(pats))
    if key not in _CACHE:
        holds = global_eps_path_holds if claim["type"] == "eps_path" else global_zero_above_holds
        _CACHE[key] = holds(claim, inst["X"], inst["y"], inst["bias"])
    return _CACHE[key]


def check(inst: dict, claim: dict, **kw):
    doc = {**inst["doc"], "claims": [claim]}
    return check_data_certificate(doc, inst["X"], inst["y"], **kw).verdicts[0]


# ------------------------------------------------------------------------------------------------
# mutation operators: (name, edit of a claim, expected reason or None when the reference decides)

Edit = Callable[[dict], None]

#: Reason of a mutant that changes the scope's digest: the reference does not recompute digests, so such a
#: mutant must be rejected, with the digest as the reason when everything else still holds.
DIGEST = "patterns_sha256"


def _cells(c: dict) -> list:
    return c["scope"]["cells"]


def scope_mutants(claim: dict, rng: np.random.Generator) -> Iterator[tuple[str, Edit, str | None]]:
    cells = claim["scope"]["cells"]
    P = len(cells)
    spec = claim["scope"]["completeness"]
    for p in sorted(set(rng.choice(P, 2, replace=False).tolist()) | {P - 1}):
        yield "cell removed", lambda c, p=p: _cells(c).pop(p), "global scope: "  # count or flips: see below
        yield "cell duplicated", lambda c, p=p: _cells(c).append(copy.deepcopy(_cells(c)[p])), "same cell"
        q = (p + 1) % P
        yield "witness moved into another listed cell", lambda c, p=p, q=q: _cells(c)[p].update(
            u=[str(2 * int(v)) for v in _cells(c)[q]["u"]]), "lies in the same cell as"
        yield "witness negated", lambda c, p=p: _cells(c)[p].update(
            u=[str(-int(v)) for v in _cells(c)[p]["u"]]), None
        yield "witness scaled x3 (same cell: still true)", lambda c, p=p: _cells(c)[p].update(
            u=[str(3 * int(v)) for v in _cells(c)[p]["u"]]), None
        yield "witness zero (on every hyperplane)", lambda c, p=p: _cells(c)[p].update(
            u=["0"] * len(cells[p]["u"])), "not inside a cell"
        yield "witness entry dropped", lambda c, p=p: _cells(c)[p]["u"].pop(), "entries, expected d"
        yield "cell with an extra field", lambda c, p=p: _cells(c)[p].update(mu_idx=[[], []]), "unknown field"
    # the digest is of the pattern set (order ignored): true for count, breaks the flips proofs' indices
    yield "cells reversed", lambda c: _cells(c).reverse(), None
    yield "cells emptied", lambda c: c["scope"].update(cells=[]), "non-empty list"
    for key in ("hyperplanes", "rank") + (("regions",) if spec["kind"] == "count" else ()):
        for delta in (1, -1):
            yield f"completeness.{key} {delta:+d}", lambda c, key=key, delta=delta: \
                c["scope"]["completeness"].__setitem__(key, c["scope"]["completeness"][key] + delta), \
                "completeness"
    if spec["kind"] == "count":
        yield "count relabelled flips without proofs", lambda c: c["scope"].update(completeness={
            "kind": "flips", "hyperplanes": spec["hyperplanes"], "rank": spec["rank"], "nonfacets": []}), None
    else:
        yield "flips relabelled count", lambda c: c["scope"].update(completeness={
            "kind": "count", "hyperplanes": spec["hyperplanes"], "rank": spec["rank"],
            "regions": 2 * sum(math.comb(spec["hyperplanes"] - 1, k) for k in range(spec["rank"]))}), \
            "complete by count"
        nf = spec["nonfacets"]
        for e in sorted(set(rng.choice(len(nf), min(3, len(nf)), replace=False).tolist())):
            yield "a Farkas proof dropped", lambda c, e=e: c["scope"]["completeness"]["nonfacets"].pop(e), \
                "completeness by flips"
            yield "a Farkas den doubled", lambda c, e=e: c["scope"]["completeness"]["nonfacets"][e].update(
                den=str(2 * int(nf[e]["den"]))), None
            yield "a Farkas proof repeated", lambda c, e=e: c["scope"]["completeness"]["nonfacets"].append(
                copy.deepcopy(nf[e])), "repeats the proof"
    yield "completeness kind unknown", lambda c: c["scope"]["completeness"].update(kind="all"), \
        "scope.completeness must be an object"
    yield "scope digest changed", lambda c: c["scope"].update(patterns_sha256="0" * 64), DIGEST
    yield "scope relabelled given", lambda c: c["scope"].update(kind="given"), "missing field(s) ['patterns']"
    yield "scope kind unknown", lambda c: c["scope"].update(kind="all"), "all activation patterns"


def path_mutants(claim: dict) -> Iterator[tuple[str, Edit, str | None]]:
    K = len(claim["grid"])

    def drop(c: dict, i: int) -> None:
        del c["grid"][i]
        c["segments"][i - 1:i + 1] = [{"networks": [i - 1], "breaks": []}]
        for s in c["segments"]:
            s["networks"] = [j - 1 if j > i else j for j in s["networks"]]

    for i in sorted({1, K // 2, K - 2}):
        if 0 < i < K - 1:
            yield f"grid point {i} removed", lambda c, i=i: drop(c, i), None
    for i in sorted({0, K // 2, K - 1}):
        for delta in (Fraction(1, 10**12), Fraction(1, 10**3)):
            yield f"lower bound {i} raised by {delta}", lambda c, i=i, delta=delta: c["grid"][i].update(
                lower_bound=format_rational(Fraction(c["grid"][i]["lower_bound"]) + delta)), None
    yield "lam_min widened", lambda c: c.update(lam_min=format_rational(Fraction(c["lam_min"]) / 2)), \
        "is not lam_min"
    yield "lam_min widened with the last grid point", lambda c: (
        c.update(lam_min=format_rational(Fraction(c["lam_min"]) / 2)),
        c["grid"][-1].update(lam=c["lam_min"])), None
    yield "lam_max widened with the first grid point", lambda c: (
        c.update(lam_max=format_rational(Fraction(c["lam_max"]) * 2)),
        c["grid"][0].update(lam=c["lam_max"])), None
    yield "a block removed at a grid point", lambda c: c["grid"][K // 2]["evidence"]["blocks"].pop(), \
        "evidence covers"


def zero_mutants(claim: dict) -> Iterator[tuple[str, Edit, str | None]]:
    M = Fraction(claim["threshold"])
    for factor in (Fraction(1, 2), Fraction(999_999, 1_000_000), Fraction(2)):
        yield f"threshold times {factor}", lambda c, f=factor: c.update(
            threshold=format_rational(M * f)), None


# ------------------------------------------------------------------------------------------------


def test_genuine_certificates_accepted_by_checker_and_reference(instances):
    assert {inst["scheme"] for inst in instances} == {"count", "flips"}
    for inst in instances:
        report = check_data_certificate(to_json(inst["doc"]), inst["X"], inst["y"])
        assert report.accepted, (inst["name"], [v.reason for v in report.verdicts])
        for claim in inst["doc"]["claims"]:
            assert reference(inst, claim), inst["name"]


def test_mutants_accepted_iff_reference_holds(instances):
    rng = np.random.default_rng(7)
    rejected = 0
    total = 0
    accepted: set[tuple[str, str]] = set()
    for inst in instances:
        path, zero = inst["doc"]["claims"]
        cases = [(path, m) for m in scope_mutants(path, rng)]
        if inst is instances[0]:  # the path's own mutants (tests/test_path_certificate.py has many more)
            cases += [(path, m) for m in path_mutants(path)]
        cases += [(zero, m) for m in zero_mutants(zero)]
        cases += [(zero, m) for m in scope_mutants(zero, rng)
                  if m[0] in ("cell removed", "scope relabelled given", "scope digest changed")]
        for claim, (name, edit, reason) in cases:
            mutant = copy.deepcopy(claim)
            edit(mutant)
            verdict = check(inst, mutant)
            holds = reference(inst, mutant)
            expected = holds and reason != DIGEST
            where = f"{inst['name']} / {claim['type']} / {name}"
            assert verdict.accepted == expected, f"{where}: checker {verdict.accepted} ({verdict.reason}), " \
                                                 f"reference {expected}"
            if reason is not None and (reason != DIGEST or holds):
                assert not verdict.accepted and reason in verdict.reason, f"{where}: {verdict.reason}"
            rejected += not verdict.accepted
            total += 1
            if verdict.accepted:
                accepted.add((inst["name"], name))
    # the acceptance criteria: a removed cell, a raised lower bound (1e-3) and a widened interval
    # are rejected (asserted through the reasons above and the reference), and most mutants are rejected
    assert rejected >= 0.8 * total
    # and true mutants are accepted: a witness moved within its cell, a larger threshold
    for inst in instances:
        assert (inst["name"], "witness scaled x3 (same cell: still true)") in accepted
        assert (inst["name"], "threshold times 2") in accepted


def test_removed_cell_gives_a_precise_completeness_reason(instances):
    for inst in instances:
        path = copy.deepcopy(inst["doc"]["claims"][0])
        scope = path["scope"]
        P = len(scope["cells"])
        scope["cells"].pop()  # the last cell: the others keep their indices
        if inst["scheme"] == "flips":  # and its own non-facet proofs
            spec = scope["completeness"]
            spec["nonfacets"] = [e for e in spec["nonfacets"] if e["cell"] != P - 1]
        reason = check(inst, path).reason
        if inst["scheme"] == "count":
            assert f"completeness by count: {P - 1} cells listed" in reason
        else:
            assert "completeness by flips: cell" in reason and "the list may miss cells" in reason
        assert reason.startswith("global scope: ")


def test_given_certificate_relabelled_global_and_back(instances):
    inst = instances[0]
    res = certify_path(inst["Xa"], inst["ya"], inst["D"], "1/10", "3", "1/40", bias=inst["bias"],
                       options=TIGHT)
    given = res.document["claims"][0]
    assert check_data_certificate(res.document, inst["X"], inst["y"]).accepted
    mutant = copy.deepcopy(given)
    mutant["scope"]["kind"] = "global"
    verdict = check(inst, mutant)
    assert not verdict.accepted and "scope is missing field(s) ['cells', 'completeness']" in verdict.reason
    # the global scope of the same cells in a given-scope claim: its grid evidence is the same kind
    mutant = copy.deepcopy(given)
    mutant["scope"] = copy.deepcopy(inst["doc"]["claims"][0]["scope"])
    verdict = check(inst, mutant)
    assert verdict.accepted == reference(inst, mutant)
    assert verdict.accepted  # the same cells: a given scope's evidence over them is the global evidence


def test_truncated_mismatched_and_limited_inputs_rejected_with_reasons(instances):
    inst = instances[0]
    text = to_json(inst["doc"])
    rep = check_data_certificate(text[: len(text) // 3], inst["X"], inst["y"])
    assert not rep.accepted and "not valid JSON" in rep.verdicts[0].reason
    y2 = list(inst["y"])
    y2[1] += 1e-12
    rep = check_data_certificate(text, inst["X"], y2)
    assert not rep.accepted and "data digest mismatch" in rep.verdicts[0].reason
    rep = check_data_certificate(text, inst["X"], inst["y"], "0" * 64)
    assert not rep.accepted and all("check it without --patterns" in v.reason for v in rep.verdicts)
    rep = check_data_certificate(text, inst["X"], inst["y"], limits=CheckLimits(max_work=20_000))
    assert not rep.accepted and "max_work" in rep.verdicts[0].reason
    # other data with the same shape: the witnesses and evidence are about the certificate's data
    X2 = (np.array(inst["X"]) + 0.5).tolist()
    doc = copy.deepcopy(inst["doc"])
    rep = check_data_certificate(doc, X2, inst["y"])
    assert not rep.accepted and "data digest mismatch" in rep.verdicts[0].reason
