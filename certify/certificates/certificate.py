"""Assemble a certificate document and write it canonically (docs/certificate-format.md).

Identical inputs give byte-identical certificates: keys are sorted, separators fixed, and
nothing time- or machine-dependent is written.
"""

from __future__ import annotations

import json

from certify import __version__
from certify.exact import conventions
from certify.exact.rational import format_rational
from certify.problem import Problem

FORMAT_NAME = "certify-certificate"
FORMAT_VERSION = "1.2"


def build(problem: Problem, network_digest: str, width: int, claims: list[dict],
          diagnostics: dict) -> dict:
    """The certificate document for ``claims`` about a network on ``problem``."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "conventions": conventions.expected(problem.bias),
        "inputs": {
            "data_sha256": problem.digest(),
            "network_sha256": network_digest,
            "lam": format_rational(problem.lam),
            "n": problem.n,
            "d": problem.d,
            "m": width,
            "bias": problem.bias,
        },
        "claims": claims,
        "diagnostics": diagnostics,
        "producer": {"name": "certify", "version": __version__},
    }


def to_json(document: dict) -> str:
    """Canonical JSON text of a certificate (sorted keys, fixed separators, final newline)."""
    return json.dumps(document, sort_keys=True, indent=1, separators=(",", ": "),
                      ensure_ascii=True, allow_nan=False) + "\n"
