"""The independent checker: recompute every claim from the inputs and the evidence.

Imports only the standard library and :mod:`certify.exact` (python-flint); never the
solvers, NumPy or the producers (a test walks its imports). Rejects by default: unknown
format, unsupported major version or newer minor version, unknown claim type, missing or
extra fields, and inputs whose digests differ from the certificate's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence

from certify.check.fields import require_keys
from certify.check.gap import check_gap
from certify.check.goldstein import check_goldstein
from certify.check.objective import check_objective
from certify.check.stationarity import check_stationarity
from certify.check.verdict import CheckReport, ClaimVerdict, Reject
from certify.exact import conventions
from certify.exact.context import ExactContext
from certify.exact.digest import data_digest, network_digest
from certify.exact.rational import parse_rational

CHECKER_VERSION = "1.0"
FORMAT_NAME = "certify-certificate"
SUPPORTED_MAJOR, SUPPORTED_MINOR = 1, 0
MAX_CERTIFICATE_BYTES = 512 * 1024 * 1024

#: Claim type -> check function. A type absent from this table is rejected.
CHECKS: dict[str, Callable[[dict, ExactContext, dict], dict]] = {
    "objective": check_objective,
    "stationarity": check_stationarity,
    "subsampled_gap": check_gap,
    "stationarity_goldstein": check_goldstein,
}

_VERSION = re.compile(r"^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$")
_TOP_KEYS = {"format", "version", "conventions", "inputs", "claims", "diagnostics", "producer"}
_INPUT_KEYS = {"data_sha256", "network_sha256", "lam", "n", "d", "m", "bias"}


def _versions() -> dict:
    import flint

    return {"checker": CHECKER_VERSION, "python-flint": flint.__version__}


def _reject_all(claims: object, reason: str) -> CheckReport:
    verdicts = []
    if isinstance(claims, list) and claims:
        for i, c in enumerate(claims):
            cid = c.get("id", f"claim[{i}]") if isinstance(c, dict) else f"claim[{i}]"
            ctype = c.get("type", "?") if isinstance(c, dict) else "?"
            verdicts.append(ClaimVerdict(str(cid), str(ctype), False, reason))
    else:
        verdicts.append(ClaimVerdict("certificate", "certificate", False, reason))
    return CheckReport(verdicts, CHECKER_VERSION, _versions())


def parse_document(text: str | bytes) -> dict:
    """Parse certificate JSON strictly (no NaN/Infinity, no duplicate keys); raise Reject."""
    if len(text) > MAX_CERTIFICATE_BYTES:
        raise Reject("certificate is larger than the checker's limit")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise Reject(f"duplicate key in certificate: {sorted({k for k in keys if keys.count(k) > 1})}")
        return dict(pairs)

    def bad_constant(name):
        raise Reject(f"certificate contains the non-JSON number {name}")

    def small_int(digits: str) -> int:
        if len(digits) > 18:
            raise Reject("certificate has a JSON integer literal too long for an index; "
                         "exact numbers are written as strings")
        return int(digits)

    try:
        doc = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=bad_constant,
                         parse_int=small_int)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise Reject(f"certificate is not valid JSON (truncated or corrupt?): {exc}") from None
    if not isinstance(doc, dict):
        raise Reject("certificate must be a JSON object")
    return doc


def _check_header(doc: dict) -> None:
    require_keys(doc, _TOP_KEYS, where="certificate")
    if doc["format"] != FORMAT_NAME:
        raise Reject(f"format is {doc['format']!r}, expected {FORMAT_NAME!r}")
    version = doc["version"]
    if not isinstance(version, str) or not _VERSION.match(version):
        raise Reject(f"version must be 'major.minor', got {version!r}")
    major, minor = (int(p) for p in version.split("."))
    if major != SUPPORTED_MAJOR or minor > SUPPORTED_MINOR:
        raise Reject(f"format version {version} is not supported by this checker "
                     f"(supports {SUPPORTED_MAJOR}.0 to {SUPPORTED_MAJOR}.{SUPPORTED_MINOR})")
    inputs = require_keys(doc["inputs"], _INPUT_KEYS, where="inputs")
    for key in ("n", "d", "m"):
        if not isinstance(inputs[key], int) or isinstance(inputs[key], bool):
            raise Reject(f"inputs.{key} must be an integer")
    if not isinstance(inputs["bias"], bool):
        raise Reject("inputs.bias must be true or false")
    if doc["conventions"] != conventions.expected(inputs["bias"]):
        raise Reject("conventions differ from those of format 1.x (loss 1/2 sum, penalty lam/2, "
                     "bias as a regularized ones column, pattern strings): the certificate is about "
                     "another problem statement")
    if not isinstance(doc["claims"], list) or not doc["claims"]:
        raise Reject("claims must be a non-empty list")


def _shape_problem(X, y, W1, w2, b1) -> str | None:
    """Why the raw inputs are not (n x d, n, d x m, m, m or None) finite numbers, or None."""
    n = len(X)
    d = len(X[0]) if n else 0
    m = len(w2)
    if n == 0 or d == 0 or m == 0:
        return "X, W1 and w2 must be non-empty"
    if any(len(row) != d for row in X) or len(y) != n:
        return f"X must be {n} x {d} and y must have {n} entries"
    if len(W1) != d or any(len(row) != m for row in W1):
        return f"W1 must be d x m = {d} x {m}"
    if b1 is not None and len(b1) != m:
        return f"b1 must have m = {m} entries"
    values = [v for row in X for v in row] + list(y) + [v for row in W1 for v in row] + list(w2)
    values += list(b1 or [])
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return "every entry must be a finite number"
    return None


def check_certificate(document: str | bytes | dict, X: Sequence[Sequence[float]], y: Sequence[float],
                      W1: Sequence[Sequence[float]], w2: Sequence[float],
                      b1: Sequence[float] | None = None, patterns_sha256: str | None = None
                      ) -> CheckReport:
    """Check every claim of a certificate against the given inputs.

    Parameters
    ----------
    document : JSON text or parsed dict.
    X, y : raw data as rows of floats (no bias column) and targets.
    W1, w2, b1 : the network as loaded (W1 of shape (d, m) as rows; b1 or None).
    patterns_sha256 : digest of a pattern set the caller supplies; a ``given`` scope must match it.

    Returns
    -------
    CheckReport
        One verdict per claim; ``accepted`` iff all are accepted.
    """
    try:
        doc = document if isinstance(document, dict) else parse_document(document)
        _check_header(doc)
    except Reject as exc:
        return _reject_all(document.get("claims") if isinstance(document, dict) else None, str(exc))
    claims = doc["claims"]
    inputs = doc["inputs"]
    try:
        lam = parse_rational(inputs["lam"], "inputs.lam")
    except ValueError as exc:
        return _reject_all(claims, str(exc))
    if lam <= 0:
        return _reject_all(claims, "inputs.lam must be positive")
    shape_problem = _shape_problem(X, y, W1, w2, b1)
    if shape_problem:
        return _reject_all(claims, f"inputs are malformed: {shape_problem}")
    if data_digest(X, y) != inputs["data_sha256"]:
        return _reject_all(claims, "data digest mismatch: the certificate is about other data (X, y)")
    if network_digest(W1, w2, b1) != inputs["network_sha256"]:
        return _reject_all(claims, "network digest mismatch: the certificate is about other weights")
    if inputs["bias"] is not (b1 is not None):
        return _reject_all(claims, "bias convention in the certificate does not match the network")
    shape = (len(X), len(X[0]) if len(X) else 0, len(w2))
    if (inputs["n"], inputs["d"], inputs["m"]) != shape:
        return _reject_all(claims, f"inputs.n/d/m do not match the inputs' shape {shape}")
    ctx = ExactContext(X, y, W1, w2, b1, lam)
    extra = {"patterns_sha256": patterns_sha256}
    verdicts = []
    ids = set()
    for i, claim in enumerate(claims):
        cid = claim.get("id") if isinstance(claim, dict) else None
        ctype = claim.get("type") if isinstance(claim, dict) else None
        label = cid if isinstance(cid, str) else f"claim[{i}]"
        try:
            if not isinstance(cid, str) or cid in ids:
                raise Reject("claim id must be a unique string")
            ids.add(cid)
            check = CHECKS.get(ctype) if isinstance(ctype, str) else None
            if check is None:
                raise Reject(f"unknown claim type {ctype!r}")
            values = check(claim, ctx, extra)
            verdicts.append(ClaimVerdict(label, ctype, True, "recomputed exactly", values))
        except Reject as exc:
            verdicts.append(ClaimVerdict(label, str(ctype), False, str(exc)))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
                RecursionError, MemoryError) as exc:
            # reject by default: evidence the checks did not anticipate is never accepted
            verdicts.append(ClaimVerdict(label, str(ctype), False,
                                         f"malformed claim or evidence ({type(exc).__name__}: {exc})"))
    return CheckReport(verdicts, CHECKER_VERSION, _versions())
