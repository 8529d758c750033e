"""Strict field access for certificate parsing: every failure is a Reject with a reason."""

from __future__ import annotations

from fractions import Fraction

from certify.check.verdict import Reject
from certify.exact.rational import parse_int, parse_rational


def require_keys(obj: object, keys: set[str], optional: set[str] = frozenset(), where: str = "claim") -> dict:
    """Reject unless ``obj`` is a dict whose keys are ``keys`` plus some of ``optional``."""
    if not isinstance(obj, dict):
        raise Reject(f"{where} must be an object")
    missing = keys - set(obj)
    if missing:
        raise Reject(f"{where} is missing field(s) {sorted(missing)}")
    extra = set(obj) - keys - set(optional)
    if extra:
        raise Reject(f"{where} has unknown field(s) {sorted(extra)}")
    return obj


def rational_field(obj: dict, key: str) -> Fraction:
    try:
        return parse_rational(obj[key], key)
    except ValueError as exc:
        raise Reject(str(exc)) from None


def int_list(obj: object, what: str) -> list[int]:
    """A JSON list of decimal integer strings."""
    if not isinstance(obj, list):
        raise Reject(f"{what} must be a list")
    try:
        return [parse_int(v, f"{what}[{i}]") for i, v in enumerate(obj)]
    except ValueError as exc:
        raise Reject(str(exc)) from None


def plain_int(obj: object, what: str, low: int, high: int) -> int:
    """A JSON integer (not bool) with ``low <= value < high``."""
    if not isinstance(obj, int) or isinstance(obj, bool) or not low <= obj < high:
        raise Reject(f"{what} must be an integer in [{low}, {high}), got {obj!r}")
    return obj
