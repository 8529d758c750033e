"""Coverage-guided fuzzing of the certificate parser and the checker (issue 11, item 5).

Entry points: :func:`certify.check.checker.parse_document` and
:func:`certify.check.checker.check_certificate`, on the fixed tiny instance of
``examples/tiny_data.npz`` and ``examples/tiny_model.npz`` (n = 3, d = 1, m = 1, lam = 5; the
worked example of docs/certificate-format.md). Seed corpus: ``fuzz/corpus/checker``.

Two kinds of input: raw bytes, checked as they are; and, when the first byte is 0x00, a program of
edits (:func:`structured`) applied to one of the valid seed certificates and serialised as JSON, so
that the fuzzer reaches the claim checks instead of stopping at the JSON syntax and the digests.

The property, checked on every input (a violation raises, which libFuzzer reports as a crash and
saves the input):

1. ``parse_document`` raises nothing but ``Reject`` (and returns a dict otherwise);
2. ``check_certificate`` raises nothing at all and returns a ``CheckReport`` with at least one
   verdict, each with a boolean ``accepted`` and a non-empty string reason;
3. an accepted report is true of the instance, by facts known by hand (NC = 15/2 exactly, the
   gradient is 0 and there is no tie, and 15/2 is the optimum over the own pattern "3" and over any
   scope containing it): every accepted ``objective`` claim says 15/2, 5/2 and 5; every accepted
   bound is non-negative; an accepted gap over such a scope has ``lower_bound <= 15/2``.

Run (atheris, libFuzzer options; the first directory receives new inputs)::

    .venv/bin/python fuzz/fuzz_checker.py -max_total_time=300 -timeout=10 WORKDIR fuzz/corpus/checker

``tests/test_fuzz.py`` imports :func:`test_one_input` to replay the corpus and the regression
inputs in ``tests/data/fuzz_regressions/checker`` without atheris.
"""

from __future__ import annotations

import copy
import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

try:
    import atheris
except ImportError:  # replay without coverage guidance (tests/test_fuzz.py)
    atheris = None


def _import_targets(instrument: bool) -> None:
    """Import the code under test, instrumented for coverage when run by libFuzzer."""
    global CheckReport, Reject, check_certificate, parse_document
    if instrument:
        with atheris.instrument_imports(include=["certify"]):
            _import_targets(False)
        return
    from certify.check.checker import check_certificate, parse_document
    from certify.check.verdict import CheckReport, Reject


_import_targets(instrument=__name__ == "__main__" and atheris is not None)

_DATA = np.load(ROOT / "examples" / "tiny_data.npz")
_MODEL = np.load(ROOT / "examples" / "tiny_model.npz")
INSTANCE = (_DATA["X"].tolist(), _DATA["y"].tolist(), _MODEL["W1"].tolist(), _MODEL["w2"].tolist())
NC, LOSS, PENALTY = Fraction(15, 2), Fraction(5, 2), Fraction(5)
OWN_PATTERN = "3"  # the network's only own pattern: points 0 and 1 active


_SEEDS = [json.loads((ROOT / "fuzz" / "corpus" / "checker" / name).read_text())
          for name in ("tiny.cert.json", "handmade.json", "given.json", "goldstein.json")]


def _slots(obj: object) -> list[tuple[object, object]]:
    """Every (container, key or index) of a document, in a fixed order."""
    out, stack = [], [obj]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            stack.append(value)
    return out


def _value(data: bytes, i: int, slot_value: object, donor: object) -> object:
    """A replacement value chosen by ``data[i]`` (and the bytes after it)."""
    op = data[i] % 12 if i < len(data) else 0
    arg = int.from_bytes(data[i + 1:i + 9], "little", signed=True)
    small = arg % 7 - 3
    return [
        str(arg),                                     # an integer string
        f"{arg}/{abs(arg >> 8) + 2}",                 # a rational string (maybe not in lowest terms)
        small,                                        # a JSON integer
        str(slot_value)[:40000] + str(abs(small)),    # a longer string
        "-" + str(slot_value)[:40000],                # a negated string
        [slot_value, slot_value],                     # a list where a value was
        {"x": slot_value},                            # an object where a value was
        None if small < 0 else bool(small),           # null or a boolean
        donor,                                        # a value from elsewhere in the document
        float(small) / 2,                             # a JSON float
        "9" * (abs(arg) % 30000),                     # a long integer string (past max_digits too)
        copy.deepcopy(slot_value),                    # unchanged (the next edit matters)
    ][op]


MAX_EDITS, MAX_SLOTS, MAX_TEXT = 64, 4096, 1 << 20


def structured(data: bytes) -> bytes:
    """Apply the edit program ``data[2:]`` to the seed ``data[1]``; return the JSON text.

    Each edit is 10 bytes: a slot selector, a donor selector, then :func:`_value`'s operation and
    argument; an operation byte of 255 deletes the slot instead. At most :data:`MAX_EDITS` edits;
    editing stops once the document has :data:`MAX_SLOTS` values or its text would pass
    :data:`MAX_TEXT` bytes (edits that copy subtrees or stringify them could otherwise double it
    each time).
    """
    doc = copy.deepcopy(_SEEDS[data[1] % len(_SEEDS)] if len(data) > 1 else _SEEDS[0])
    text = json.dumps(doc)
    for i in range(2, min(len(data) - 1, 2 + 10 * MAX_EDITS), 10):
        slots = _slots(doc)
        if not slots or len(slots) > MAX_SLOTS:
            break
        node, key = slots[data[i] % len(slots)]
        donor_node, donor_key = slots[data[i + 1] % len(slots)]
        before = node[key]
        if i + 2 < len(data) and data[i + 2] == 255:
            del node[key]
        else:
            node[key] = _value(data, i + 2, before, copy.deepcopy(donor_node[donor_key]))
        edited = json.dumps(doc)
        if len(edited) > MAX_TEXT:
            break
        text = edited
    return text.encode()


class PropertyViolation(AssertionError):
    """The checker broke the documented property on this input."""


def _q(text: object) -> Fraction:
    """The claimed rational, read independently of certify (the checker accepted it)."""
    num, _, den = str(text).partition("/")
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # accepted integers may have up to max_digits digits
    try:
        return Fraction(int(num), int(den or "1"))
    finally:
        sys.set_int_max_str_digits(old)


def _accepted_claims_are_true(doc: dict, report: CheckReport) -> None:
    claims = doc["claims"]
    if len(claims) != len(report.verdicts):
        raise PropertyViolation("one verdict per claim expected")
    for claim, verdict in zip(claims, report.verdicts, strict=True):
        if not verdict.accepted:
            continue
        kind = claim["type"]
        if kind == "objective":
            if (_q(claim["objective"]), _q(claim["loss"]), _q(claim["penalty"])) != (NC, LOSS, PENALTY):
                raise PropertyViolation(f"accepted a false objective claim: {claim}")
        elif kind in ("stationarity", "stationarity_goldstein"):
            radius = _q(claim["radius_sq"]) if kind == "stationarity_goldstein" else Fraction(0)
            if _q(claim["grad_sq_bound"]) < 0 or radius < 0:
                raise PropertyViolation(f"accepted a negative bound: {claim}")
        elif kind == "subsampled_gap":
            scope = claim["scope"]
            contains_own = scope["kind"] == "own" or OWN_PATTERN in scope["patterns"]
            if contains_own and (_q(claim["lower_bound"]) > NC or _q(claim["gap"]) < 0):
                raise PropertyViolation(f"accepted a lower bound above the optimum: {claim}")
        else:
            raise PropertyViolation(f"accepted an unknown claim type {kind!r}")


def test_one_input(data: bytes) -> None:
    """Check the property on one input (raise PropertyViolation, or any escaping exception)."""
    if data[:1] == b"\x00":
        data = structured(data)
    try:
        doc = parse_document(data)
    except Reject:
        doc = None
    if doc is not None and not isinstance(doc, dict):
        raise PropertyViolation(f"parse_document returned {type(doc).__name__}")
    report = check_certificate(data, *INSTANCE)
    if not isinstance(report, CheckReport) or not report.verdicts:
        raise PropertyViolation("check_certificate must return a CheckReport with verdicts")
    for v in report.verdicts:
        if not isinstance(v.accepted, bool) or not isinstance(v.reason, str) or not v.reason:
            raise PropertyViolation(f"malformed verdict {v!r}")
    if report.accepted:
        if doc is None:
            raise PropertyViolation("accepted a document that does not parse")
        _accepted_claims_are_true(doc, report)


def main(argv: list[str]) -> None:
    if atheris is None:
        sys.exit("fuzz_checker.py: atheris is not installed (.venv/bin/pip install atheris); "
                 "tests/test_fuzz.py replays the corpus without it")
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
