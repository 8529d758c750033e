"""Assemble a certificate document and write it canonically (docs/certificate-format.md).

Identical inputs give byte-identical certificates: keys are sorted, separators fixed, and
nothing time- or machine-dependent is written.
"""

from __future__ import annotations

import json

from certify import __version__
from certify.exact.rational import format_rational
from certify.problem import BIAS_CONVENTION, LOSS_CONVENTION, PENALTY_CONVENTION, Problem

FORMAT_NAME = "certify-certificate"
FORMAT_VERSION = "1.0"
PATTERN_CONVENTION = ("pattern string: hex digits of sum_k d_k 2^k, d_k = 1[x_k^T g >= 0] "
                      "(ties active); blocks (pattern D, sign s) have Z = s D X and cone "
                      "(2D - I) X u >= 0")


def build(problem: Problem, network_digest: str, width: int, claims: list[dict],
          diagnostics: dict) -> dict:
    """The certificate document for ``claims`` about a network on ``problem``."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "conventions": {
            "loss": LOSS_CONVENTION,
            "penalty": PENALTY_CONVENTION,
            "bias": BIAS_CONVENTION if problem.bias else "none",
            "patterns": PATTERN_CONVENTION,
        },
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
