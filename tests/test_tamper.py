"""Tamper tests of the independent checker, in the style of a mutation suite.

Genuine certificates are built for five small instances (own scope, given scope, a network
with a first-layer bias, a network with exact ties, a network near kinks); each must be
accepted. Then every numeric field, every piece of evidence and the document structure are
mutated. Whether a mutated claim is still *true* is decided by the reference in
tests/reference.py, independently of ``certify``: floats are read with ``Fraction(float)``, NC,
its gradient, the network's own pattern scope, the one-cone bound
``||s X^T D rho + X^T (2D - I) mu||^2 <= lam^2`` and the dual value are recomputed from scratch.
The checker must reject every false claim (with a reason) and accept every true one; structural
damage must always be rejected. tests/test_mutations.py scales this up (more instances, more
kinds of mutation).

Run with ``-s`` to see the number of mutants by kind.
"""

from __future__ import annotations

import ast
import copy
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from certify.errors import InputError
from certify.exact.patterns import MAX_TIES_LIMIT  # a resource limit, not a truth
from certify.network import Network
from certify.patterns.sampling import patterns_of_gates, sample_gates
from certify.problem import Problem
from certify.verify import verify
from tests.reference import (
    Instance,
    Reference,
    all_mutants,
    fmt,
    gap_index,
    judge,
    parse_q,
    ref_patterns_digest,
)

ROOT = Path(__file__).resolve().parents[1]
F = Fraction

# ------------------------------------------------------------------------------------------------
# The instances
# ------------------------------------------------------------------------------------------------


def _build(name: str) -> Instance:
    if name == "own":
        rng = np.random.default_rng(11)
        X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
        W1, w2, b1, lam, pats = rng.standard_normal((2, 3)), rng.standard_normal(3), None, "1/10", None
    elif name == "given":
        rng = np.random.default_rng(12)
        X, y = rng.standard_normal((7, 3)), rng.standard_normal(7)
        W1, w2, b1, lam = rng.standard_normal((3, 2)), rng.standard_normal(2), None, "1/2"
        pats = {"D": patterns_of_gates(X, sample_gates(3, 5, seed=3))}
    elif name == "bias":
        rng = np.random.default_rng(17)
        X, y = rng.standard_normal((5, 2)), rng.standard_normal(5)
        W1, w2, b1, lam, pats = rng.standard_normal((2, 2)), rng.standard_normal(2), rng.standard_normal(2), \
            "3/7", None
    elif name == "kink":
        # the optimum of the C-ReLU over 6 sampled patterns (cvxpy, lam = 1/2), mapped to a network
        # and rounded to the grid 2^-30 (hard-coded, so no solver runs here): neurons sit near
        # their rays (theory.md §7), the scope gap is ~4e-10 (tight evidence) and the Goldstein
        # claim combines several points
        rng = np.random.default_rng(4)
        X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
        W1 = np.array([[773075179, -468395317, -167415158, -464282676, -114],
                       [-115488791, -310454042, 233528888, -307728169, 33165]]) / 2.0**30
        w2 = np.array([781653948, -561939397, -287338784, -557005412, -33165]) / 2.0**30
        b1, lam, pats = None, "1/2", None
    else:  # exact ties: neuron 0 with (1, 1) and (2, 2) (dependent), neuron 1 with (1, -2)
        X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0], [2.0, 0.5], [1.0, -2.0], [2.0, 2.0]])
        y = np.array([1.0, 0.0, 0.5, -1.0, 0.25, 0.75, -0.5])
        W1 = np.array([[1.0, 0.5], [-1.0, 0.25]])
        w2, b1, lam, pats = np.array([1.0, -0.5]), None, "1/10", None
    inst = Instance(name, X.tolist(), y.tolist(), W1.tolist(), w2.tolist(),
                    None if b1 is None else b1.tolist(), lam, pats)
    net = Network(W1, w2, b1)
    result = verify(Problem(X, y, lam, bias=b1 is not None), net, patterns=pats)
    inst.doc = result.certificate
    inst.text = result.to_json()
    if pats is not None:
        inst.patterns_sha256 = ref_patterns_digest(X.shape[0], inst.doc["claims"][2]["scope"]["patterns"])
    return inst


INSTANCE_NAMES = ["own", "given", "bias", "ties", "kink"]

# ------------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------------

TOTALS: Counter = Counter()


@pytest.fixture(scope="module")
def instances():
    built = {name: _build(name) for name in INSTANCE_NAMES}
    yield built
    if TOTALS:
        print("\nmutants by kind (all instances): kind: total / rejected")
        kinds = sorted({k for k, _ in TOTALS})
        for kind in kinds:
            total = TOTALS[kind, "accepted"] + TOTALS[kind, "rejected"]
            print(f"  {kind:40s} {total:5d} / {TOTALS[kind, 'rejected']:5d}")
        total = sum(TOTALS.values())
        print(f"  {'TOTAL':40s} {total:5d} / {sum(v for (k, o), v in TOTALS.items() if o == 'rejected'):5d}")


@pytest.mark.parametrize("name", INSTANCE_NAMES)
def test_genuine_certificate_accepted(instances, name: str) -> None:
    inst = instances[name]
    report = inst.check(inst.text)
    assert report.accepted, [v.reason for v in report.verdicts if not v.accepted]
    assert report.summary_line() == f"ACCEPTED: {len(report.verdicts)} of {len(report.verdicts)} claims"
    types = [c["type"] for c in inst.doc["claims"]]
    assert types[:3] == ["objective", "stationarity", "subsampled_gap"]
    # the reference agrees that every claim is true
    assert Reference(inst).verdicts(inst.doc) == [True] * len(types)
    scope = inst.doc["claims"][2]["scope"]["kind"]
    assert scope == ("given" if inst.patterns is not None else "own")
    if name == "ties":
        assert [(t["k"], t["j"]) for t in inst.doc["claims"][1]["ties"]] == [(2, 0), (5, 1), (6, 0)]
        assert inst.doc["claims"][1]["ties_independent"] is False  # (1, 1) and (2, 2) are dependent
        assert inst.doc["diagnostics"]["scope_patterns"] == 6
    if name == "bias":
        assert inst.doc["inputs"]["bias"] is True
    if name == "kink":
        assert len(inst.doc["claims"][3]["points"]) >= 2
        assert parse_q(inst.doc["claims"][2]["gap"]) < F(1, 10**6)
    assert parse_q(inst.doc["claims"][2]["lower_bound"]) > 0  # non-trivial dual evidence


@pytest.mark.parametrize("name", INSTANCE_NAMES)
def test_mutants(instances, name: str) -> None:
    inst = instances[name]
    ref = Reference(inst)
    counts: Counter = Counter()
    failures = []
    for mutant in all_mutants(inst):
        mutated_ok, bad = judge(inst, ref, mutant)
        failures += bad
        counts[mutant.kind, "accepted" if mutated_ok else "rejected"] += 1
    TOTALS.update(counts)
    rejected = sum(v for (_, o), v in counts.items() if o == "rejected")
    print(f"\n[{name}] {sum(counts.values())} mutants, {rejected} with a false claim or damage (rejected)")
    assert not failures, failures[:10]
    assert sum(counts.values()) >= 150


def test_checker_rejects_the_unmutated_claims_only(instances) -> None:
    """A lowered gap on one claim leaves the others accepted (claims are checked independently)."""
    inst = instances["own"]
    doc = copy.deepcopy(inst.doc)
    gi = gap_index(doc)
    gap = parse_q(doc["claims"][gi]["gap"])
    doc["claims"][gi]["gap"] = fmt(gap - F(1, 10**30))
    report = inst.check(doc)
    assert [v.accepted for v in report.verdicts] == [i != gi for i in range(len(doc["claims"]))]
    assert "exceeds the claimed gap" in report.verdicts[gi].reason
    assert report.summary_line() == f"REJECTED: 1 of {len(doc['claims'])} claims"


@pytest.mark.parametrize("what, edit", [
    ("block sign as JSON float 1.0", lambda c: c["evidence"]["blocks"][0].update(sign=1.0)),
    ("block sign as JSON float -1.0", lambda c: c["evidence"]["blocks"][1].update(sign=-1.0)),
    ("block pattern as a list", lambda c: c["evidence"]["blocks"][0].update(pattern=["00"])),
    ("block pattern as an object", lambda c: c["evidence"]["blocks"][0].update(pattern={})),
])
def test_checker_rejects_malformed_values_without_crashing(instances, what: str, edit) -> None:
    """Values of the wrong JSON type inside evidence are rejected, never an exception."""
    inst = instances["own"]
    doc = copy.deepcopy(inst.doc)
    gi = gap_index(doc)
    edit(doc["claims"][gi])
    report = inst.check(doc)
    assert [v.accepted for v in report.verdicts] == [i != gi for i in range(len(doc["claims"]))]
    assert report.verdicts[gi].reason


def test_checker_rejects_huge_integer_literal(instances) -> None:
    """A JSON integer literal of 5000 digits is rejected (formerly an escaping ValueError)."""
    inst = instances["own"]
    text = inst.text.replace('"n": ', '"n": 1' + "0" * 5000 + ', "nn": ', 1)
    report = inst.check(text)
    assert not report.accepted
    assert all(v.reason for v in report.verdicts)


def test_verify_refuses_max_ties_beyond_checker_limit(instances) -> None:
    """verify never writes an own scope its checker would refuse (formerly it did)."""
    inst = instances["own"]
    problem = Problem(np.array(inst.X), np.array(inst.y), inst.lam)
    network = Network(np.array(inst.W1), np.array(inst.w2))
    with pytest.raises(InputError, match=rf"The 'max_ties' argument of verify must be an integer in "
                                         rf"\[0, {MAX_TIES_LIMIT}\]"):
        verify(problem, network, max_ties=MAX_TIES_LIMIT + 1)
    result = verify(problem, network, max_ties=MAX_TIES_LIMIT)
    assert inst.check(result.to_json()).accepted


# --- determinism, import hygiene ------------------------------------------------------------------


@pytest.mark.parametrize("name", INSTANCE_NAMES)
def test_verify_is_deterministic(instances, name: str) -> None:
    inst = instances[name]
    b1 = None if inst.b1 is None else np.array(inst.b1)
    problem = Problem(np.array(inst.X), np.array(inst.y), inst.lam, bias=b1 is not None)
    again = verify(problem, Network(np.array(inst.W1), np.array(inst.w2), b1), patterns=inst.patterns)
    assert again.to_json() == inst.text
    assert again.to_json().encode() == verify(problem, Network(np.array(inst.W1), np.array(inst.w2), b1),
                                              patterns=inst.patterns).to_json().encode()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            out.add(node.module)
    return out


def _allowed(module: str) -> bool:
    top = module.split(".")[0]
    return (module == "__future__" or top in sys.stdlib_module_names or top == "flint"
            or module in ("certify.exact", "certify.check")
            or module.startswith(("certify.exact.", "certify.check.")))


def test_checker_imports_only_stdlib_flint_and_exact() -> None:
    files = [f for sub in ("check", "exact") for f in sorted((ROOT / "certify" / sub).glob("*.py"))]
    assert len(files) >= 10
    bad = {str(f.relative_to(ROOT)): sorted(m for m in _imports(f) if not _allowed(m)) for f in files}
    bad = {f: ms for f, ms in bad.items() if ms}
    assert not bad, bad


def test_checker_import_loads_no_numeric_stack() -> None:
    code = ("import certify.check.checker, sys; "
            "assert 'numpy' not in sys.modules and 'scipy' not in sys.modules "
            "and 'cvxpy' not in sys.modules, "
            "sorted(m for m in ('numpy', 'scipy', 'cvxpy') if m in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
