"""The independent checker: recompute every claim from the inputs and the evidence.

Imports only the standard library and :mod:`certify.exact` (python-flint); never the
solvers, NumPy or the producers (a test walks its imports). Rejects by default: unknown
format, unsupported major version or newer minor version, unknown claim type, missing or
extra fields, and inputs whose digests differ from the certificate's. Hostile certificates
are rejected within resource limits (:class:`certify.check.limits.CheckLimits`): size, nesting
and list lengths before parsing, digits before converting, work and memory before computing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from certify.check.fields import rational, require_keys
from certify.check.gap import check_gap
from certify.check.global_gap import check_global_gap
from certify.check.goldstein import check_goldstein
from certify.check.limits import (
    CheckLimits,
    LimitExceeded,
    WorkBudget,
    check_size,
    decode_text,
    scan_text,
    walk_document,
)
from certify.check.minimality import check_minimal, check_not_minimal
from certify.check.not_optimal import check_not_optimal
from certify.check.objective import check_objective
from certify.check.polytope import check_network_polytope
from certify.check.pruning import check_pruned
from certify.check.sensitivity import check_sensitivity
from certify.check.stationarity import check_stationarity
from certify.check.uniqueness import check_p_unique
from certify.check.verdict import CheckReport, ClaimVerdict, Reject
from certify.exact import conventions
from certify.exact.context import ExactContext
from certify.exact.digest import data_digest, network_digest

CHECKER_VERSION = "1.0"
FORMAT_NAME = "certify-certificate"
SUPPORTED_MAJOR, SUPPORTED_MINOR = 1, 2
MAX_CERTIFICATE_BYTES = CheckLimits().max_bytes  # default; see CheckLimits.max_bytes

#: Claim type -> check function. A type absent from this table is rejected.
CHECKS: dict[str, Callable[[dict, ExactContext, dict], dict]] = {
    "objective": check_objective,
    "stationarity": check_stationarity,
    "subsampled_gap": check_gap,
    "stationarity_goldstein": check_goldstein,
    "global_gap": check_global_gap,
    "not_optimal": check_not_optimal,
    "network_polytope_vertices": check_network_polytope,
    "p_unique": check_p_unique,
    "pruned": check_pruned,
    "minimal": check_minimal,
    "not_minimal": check_not_minimal,
    "sensitivity": check_sensitivity,
}

_VERSION = re.compile(r"^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\Z")  # \Z: no trailing newline
_TOP_KEYS = {"format", "version", "conventions", "inputs", "claims", "diagnostics", "producer"}
_INPUT_KEYS = {"data_sha256", "network_sha256", "lam", "n", "d", "m", "bias"}


def _versions() -> dict:
    import flint

    return {"checker": CHECKER_VERSION, "python-flint": flint.__version__}


def _short_repr(value: object) -> str:
    """``repr`` cut to 60 characters, without building the repr of a large object."""
    if isinstance(value, (list, dict)):
        text = f"<{type(value).__name__} of {len(value)} entries>"
    else:
        text = repr(value[:61] if isinstance(value, str) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _label(value: object, default: str) -> str:
    """A claim id or type for a verdict: a string as it is, ``default`` for None, else shortened."""
    if isinstance(value, str):
        return value
    return default if value is None else _short_repr(value)


def _limit_values(exc: Reject) -> dict:
    return {"limit": exc.limit} if isinstance(exc, LimitExceeded) else {}


def _reject_all(claims: object, exc: Reject | str) -> CheckReport:
    reason = str(exc)
    values = _limit_values(exc) if isinstance(exc, Reject) else {}
    verdicts = []
    if isinstance(claims, list) and claims:
        for i, c in enumerate(claims):
            cid = c.get("id") if isinstance(c, dict) else None
            ctype = c.get("type") if isinstance(c, dict) else None
            verdicts.append(ClaimVerdict(_label(cid, f"claim[{i}]"), _label(ctype, "?"), False, reason,
                                         dict(values)))
    else:
        verdicts.append(ClaimVerdict("certificate", "certificate", False, reason, values))
    return CheckReport(verdicts, CHECKER_VERSION, _versions())


def parse_document(text: str | bytes, limits: CheckLimits | None = None) -> dict:
    """Parse certificate JSON strictly (no NaN/Infinity, no duplicate keys) within resource limits.

    Parameters
    ----------
    text : str or bytes
        The certificate (bytes are decoded as :func:`json.loads` decodes them: UTF-8, -16 or -32).
    limits : CheckLimits, default=CheckLimits()
        ``max_bytes`` is checked first, then ``max_depth``, ``max_list`` and the memory of the
        parse (``max_memory``) on the raw text, all before :func:`json.loads` runs.

    Returns
    -------
    dict
        The document.

    Raises
    ------
    Reject
        For anything but a JSON object within the limits (:class:`LimitExceeded` for a limit).
    """
    limits = CheckLimits() if limits is None else limits
    if not isinstance(text, (str, bytes, bytearray)):
        raise Reject(f"certificate must be JSON text (str or bytes), got {type(text).__name__}")
    check_size(text, limits)
    try:
        text = decode_text(bytes(text) if isinstance(text, bytearray) else text)
    except ValueError as exc:  # UnicodeDecodeError
        raise Reject(f"certificate is not valid JSON (truncated or corrupt?): {exc}") from None
    scan_text(text, limits)

    def no_duplicates(pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            counts = Counter(k for k, _ in pairs)
            repeated = sorted(k if len(k) <= 40 else k[:37] + "..." for k, c in counts.items() if c > 1)
            raise Reject(f"duplicate key in certificate: {repeated[:5]}")
        return obj

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
    except RecursionError:  # only if max_depth was raised beyond what the parser can nest
        raise Reject("certificate is nested too deeply for the JSON parser") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise Reject(f"certificate is not valid JSON (truncated or corrupt?): {exc}") from None
    if not isinstance(doc, dict):
        raise Reject("certificate must be a JSON object")
    return doc


def check_header(doc: dict, input_keys: set[str], integer_keys: tuple[str, ...]) -> dict:
    """Reject unless ``doc`` has the format-1.x header with exactly ``input_keys`` as inputs
    (``integer_keys`` among them JSON integers, ``bias`` a bool), the fixed conventions and a
    non-empty claim list; return the inputs."""
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
    inputs = require_keys(doc["inputs"], input_keys, where="inputs")
    for key in integer_keys:
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
    return inputs


def _check_header(doc: dict) -> dict:
    return check_header(doc, _INPUT_KEYS, ("n", "d", "m"))


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
                      b1: Sequence[float] | None = None, patterns_sha256: str | None = None,
                      limits: CheckLimits | None = None) -> CheckReport:
    """Check every claim of a certificate against the given inputs.

    Never raises on a bad document: whatever the certificate says, the answer is a report.

    Parameters
    ----------
    document : str, bytes or dict
        JSON text or a parsed document.
    X, y : rows of floats (no bias column) and a list of floats
        The raw data and targets.
    W1, w2, b1 : rows of floats (d, m), a list of floats (m,), a list of floats (m,) or None
        The network as loaded.
    patterns_sha256 : str or None, default=None
        Digest of a pattern set the caller supplies; a ``given`` scope must match it.
    limits : CheckLimits, default=CheckLimits()
        Resource limits; a certificate that would exceed one is rejected with a reason that
        names the limit (:mod:`certify.check.limits`). Raising a limit never makes a false
        claim pass.

    Returns
    -------
    CheckReport
        One verdict per claim; ``accepted`` iff all are accepted.
    """
    limits = CheckLimits() if limits is None else limits
    opened = open_document(document, limits, _check_header)
    if isinstance(opened, CheckReport):
        return opened
    doc, _ = opened
    claims = doc["claims"]
    inputs = doc["inputs"]
    try:
        lam = rational(inputs["lam"], "inputs.lam", limits.max_digits)
    except Reject as exc:
        return _reject_all(claims, exc)
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
    budget = WorkBudget(limits)
    extra = {"patterns_sha256": patterns_sha256, "limits": limits, "budget": budget}
    verdicts = run_claims(claims, CHECKS, ctx, extra)
    return CheckReport(verdicts, CHECKER_VERSION, _versions(),
                       {"work": budget.used, "limits": dataclasses.asdict(limits)})


def open_document(document: str | bytes | dict, limits: CheckLimits,
                  check_header: Callable[[dict], object]) -> tuple[dict, object] | CheckReport:
    """Parse (or walk) ``document`` within ``limits`` and check its header.

    Returns ``(doc, check_header(doc))``, or a :class:`CheckReport` rejecting every claim with the
    reason when the document is not a well-formed certificate (never raises on a bad document).
    """
    if not isinstance(limits, CheckLimits):
        raise TypeError(f"limits must be a CheckLimits, got {type(limits).__name__}")
    try:
        if isinstance(document, dict):
            walk_document(document, limits)
            doc = document
        else:
            doc = parse_document(document, limits)
        return doc, check_header(doc)
    except Reject as exc:
        return _reject_all(document.get("claims") if isinstance(document, dict) else None, exc)
    except (RecursionError, TypeError, ValueError) as exc:  # only for a dict built in Python
        return _reject_all(None, f"malformed certificate ({type(exc).__name__}: {exc})")


def run_claims(claims: list, table: dict[str, Callable[[dict, object, dict], dict]], context: object,
               extra: dict, kind: str = "") -> list[ClaimVerdict]:
    """Check each claim with ``table[claim["type"]](claim, context, extra)``: one verdict per claim.

    A claim is accepted only when its check returns normally. Ids must be unique strings; a type
    absent from ``table`` is rejected (``kind`` names the document kind in that message); an
    unexpected exception inside a check rejects the claim with the exception as the reason.
    """
    verdicts = []
    ids: set[str] = set()
    for i, claim in enumerate(claims):
        cid = claim.get("id") if isinstance(claim, dict) else None
        ctype = claim.get("type") if isinstance(claim, dict) else None
        label = cid if isinstance(cid, str) else f"claim[{i}]"
        type_label = _label(ctype, "None")
        try:
            if not isinstance(cid, str) or cid in ids:
                raise Reject("claim id must be a unique string")
            ids.add(cid)
            check = table.get(ctype) if isinstance(ctype, str) else None
            if check is None:
                raise Reject(f"unknown claim type {_short_repr(ctype)}{kind}")
            values = check(claim, context, extra)
            verdicts.append(ClaimVerdict(label, ctype, True, "recomputed exactly", values))
        except Reject as exc:
            verdicts.append(ClaimVerdict(label, type_label, False, str(exc), _limit_values(exc)))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
                RecursionError, MemoryError) as exc:
            # reject by default: evidence the checks did not anticipate is never accepted
            verdicts.append(ClaimVerdict(label, type_label, False,
                                         f"malformed claim or evidence ({type(exc).__name__}: {exc})"))
    return verdicts
