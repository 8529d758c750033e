"""The JSON Schema of the certificate format (certify/certificates/schema.json) and the
worked example of docs/certificate-format.md (examples/tiny.cert.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator

import certify.certificates
from certify.check.checker import check_certificate
from certify.exact.digest import patterns_digest
from certify.network import Network
from certify.problem import Problem
from certify.verify import given_pattern_strings, verify

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = Path(certify.certificates.__file__).parent / "schema.json"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(validator: Draft202012Validator, doc: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def _check(result, problem: Problem, network: Network, patterns_sha256: str | None = None):
    return check_certificate(result.to_json(), problem.X.tolist(), problem.y.tolist(), network.W1.tolist(),
                             network.w2.tolist(), None if network.b1 is None else network.b1.tolist(),
                             patterns_sha256)


def _random_instance(seed: int, n: int = 8, d: int = 2, m: int = 3, bias: bool = False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    net = Network(rng.standard_normal((d, m)), rng.standard_normal(m),
                  rng.standard_normal(m) if bias else None)
    return Problem(X, y, "1/10", bias=bias), net


@pytest.mark.parametrize("bias", [False, True])
def test_fresh_own_scope_certificate_validates(validator, bias):
    problem, net = _random_instance(0, bias=bias)
    result = verify(problem, net)
    doc = json.loads(result.to_json())
    assert _errors(validator, doc) == []
    assert {c["type"] for c in doc["claims"]} >= {"objective", "stationarity", "subsampled_gap"}
    assert _check(result, problem, net).accepted


def test_fresh_given_scope_certificate_validates(validator):
    problem, net = _random_instance(1)
    D = np.random.default_rng(2).integers(0, 2, size=(problem.n, 5))
    result = verify(problem, net, patterns={"D": D})
    doc = json.loads(result.to_json())
    assert _errors(validator, doc) == []
    gap = next(c for c in doc["claims"] if c["type"] == "subsampled_gap")
    assert gap["scope"]["kind"] == "given"
    digest = patterns_digest(problem.n, given_pattern_strings(problem, {"D": D}))
    assert gap["scope"]["patterns_sha256"] == digest
    assert _check(result, problem, net, digest).accepted


def test_certificate_with_exact_ties_validates(validator):
    # integer data and a neuron orthogonal to x_0 and x_1: exact ties, multipliers c in the claim
    X = np.array([[1.0, 1.0], [2.0, 2.0], [1.0, -1.0], [-1.0, 0.5], [0.5, 2.0]])
    y = np.array([1.0, -1.0, 0.5, 2.0, 0.0])
    net = Network(np.array([[1.0, 0.5], [-1.0, 0.25]]), np.array([0.75, -1.0]))
    problem = Problem(X, y, "1/4")
    result = verify(problem, net)
    doc = json.loads(result.to_json())
    stationarity = next(c for c in doc["claims"] if c["type"] == "stationarity")
    assert [(t["k"], t["j"]) for t in stationarity["ties"]] == [(0, 0), (1, 0)]
    assert stationarity["ties_independent"] is False  # x_0 and x_1 are parallel
    assert _errors(validator, doc) == []
    assert _check(result, problem, net).accepted


def _tiny_inputs():
    data = np.load(EXAMPLES / "tiny_data.npz")
    model = np.load(EXAMPLES / "tiny_model.npz")
    return data["X"], data["y"], model["W1"], model["w2"]


def test_tiny_example_validates_and_is_accepted(validator):
    text = (EXAMPLES / "tiny.cert.json").read_text(encoding="ascii")
    doc = json.loads(text)
    assert _errors(validator, doc) == []
    X, y, W1, w2 = _tiny_inputs()
    report = check_certificate(text, X.tolist(), y.tolist(), W1.tolist(), w2.tolist())
    assert report.accepted, [v.reason for v in report.verdicts]
    # the numbers walked through by hand in docs/certificate-format.md
    claims = {c["id"]: c for c in doc["claims"]}
    assert claims["objective"]["objective"] == "15/2"
    assert claims["objective"]["loss"] == "5/2"
    assert claims["objective"]["penalty"] == "5"
    assert claims["stationarity"]["grad_sq_bound"] == "0"
    gap = claims["subsampled_gap"]
    assert gap["scope"] == {"kind": "own", "max_ties": 12}
    assert [b["pattern"] for b in gap["evidence"]["blocks"]] == ["3", "3"]
    assert gap["gap"] == f"{5 * (2 ** 40 + 1)}/{2 ** 79}"


def test_tiny_example_hand_evidence_is_accepted(validator):
    """The simplified evidence of docs/certificate-format.md ("The same claim by hand")."""
    doc = json.loads((EXAMPLES / "tiny.cert.json").read_text(encoding="ascii"))
    gap = next(c for c in doc["claims"] if c["type"] == "subsampled_gap")
    gap["evidence"] = {"den": "2", "rho": ["2", "4", "0"],
                       "blocks": [{"pattern": "3", "sign": 1, "mu_idx": [], "mu_num": []},
                                  {"pattern": "3", "sign": -1, "mu_idx": [1], "mu_num": ["5"]}]}
    gap["lower_bound"], gap["gap"] = "15/2", "0"
    assert _errors(validator, doc) == []
    X, y, W1, w2 = _tiny_inputs()
    assert check_certificate(json.dumps(doc), X.tolist(), y.tolist(), W1.tolist(), w2.tolist()).accepted
    gap["lower_bound"], gap["gap"] = "8", "-1/2"  # above the dual value 15/2
    report = check_certificate(json.dumps(doc), X.tolist(), y.tolist(), W1.tolist(), w2.tolist())
    assert not report.accepted


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(extra=1),
    lambda d: d["inputs"].update(extra=1),
    lambda d: d["claims"][0].update(extra=1),
    lambda d: d["claims"][0].update(type="global_gap"),
    lambda d: d["claims"][0].update(objective=7.5),
    lambda d: d["claims"][0].update(objective="15/2.0"),
    lambda d: d.update(version="2.0"),
    lambda d: d.update(format="other"),
    lambda d: d["inputs"].pop("lam"),
], ids=["top-extra", "inputs-extra", "claim-extra", "unknown-type", "float", "bad-rational",
        "version", "format", "missing-lam"])
def test_schema_and_checker_both_reject(validator, mutate):
    text = (EXAMPLES / "tiny.cert.json").read_text(encoding="ascii")
    doc = json.loads(text)
    bad = copy.deepcopy(doc)
    mutate(bad)
    assert _errors(validator, bad) != []
    X, y, W1, w2 = _tiny_inputs()
    assert not check_certificate(json.dumps(bad), X.tolist(), y.tolist(), W1.tolist(), w2.tolist()).accepted
