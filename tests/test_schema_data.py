"""The JSON Schema describes data certificates (format 1.1, `certify path`) as well as network ones."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator

import certify.certificates
from certify.cli import main

SCHEMA_PATH = Path(certify.certificates.__file__).parent / "schema.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def path_document(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("path")
    rng = np.random.default_rng(1)
    np.savez(folder / "data.npz", X=rng.standard_normal((12, 2)), y=rng.standard_normal(12))
    out = folder / "path.json"
    assert main(["path", "--data", str(folder / "data.npz"), "--lam-min", "0.5", "--lam-max", "5",
                 "--eps", "0.05", "--relative", "--gates", "6", "-o", str(out), "--quiet"]) == 0
    return json.loads(out.read_text())


def test_data_certificate_validates(validator, path_document) -> None:
    assert {c["type"] for c in path_document["claims"]} == {"eps_path", "zero_optimal_above"}
    assert list(validator.iter_errors(path_document)) == []


@pytest.mark.parametrize("edit", ["drop_segments", "network_inputs", "network_claim", "extra_input",
                                  "bad_kind"])
def test_malformed_data_certificates_do_not_validate(validator, path_document, edit) -> None:
    doc = copy.deepcopy(path_document)
    eps = next(c for c in doc["claims"] if c["type"] == "eps_path")
    if edit == "drop_segments":
        del eps["segments"]
    elif edit == "network_inputs":  # a data certificate's claims under a network certificate's inputs
        doc["inputs"].update({"network_sha256": "0" * 64, "lam": "1", "m": 1})
    elif edit == "network_claim":  # a network claim inside a data certificate
        doc["claims"].append({"id": "objective", "type": "objective", "objective": "1", "loss": "1",
                              "penalty": "0"})
    elif edit == "extra_input":
        doc["inputs"]["lam"] = "1"
    else:
        eps["eps_kind"] = "percent"
    assert list(validator.iter_errors(doc)), edit
