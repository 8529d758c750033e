"""Strict field access for certificate parsing: every failure is a Reject with a reason."""

from __future__ import annotations

import math
from fractions import Fraction

from certify.check.limits import CheckLimits, LimitExceeded
from certify.check.verdict import Reject
from certify.exact.rational import DigitLimitError, format_rational, parse_int, parse_rational

_DEFAULT_DIGITS = CheckLimits().max_digits


def require_keys(obj: object, keys: set[str], optional: set[str] = frozenset(), where: str = "claim") -> dict:
    """Reject unless ``obj`` is a dict whose keys are ``keys`` plus some of ``optional``."""
    if not isinstance(obj, dict):
        raise Reject(f"{where} must be an object")
    missing = keys - set(obj)
    if missing:
        raise Reject(f"{where} is missing field(s) {sorted(missing)}")
    extra = set(obj) - keys - set(optional)
    if extra:
        raise Reject(f"{where} has unknown field(s) {_short_keys(extra)}")
    return obj


def _short_keys(keys: set) -> list[str]:
    # a hostile key may be megabytes long: name at most 5 keys, each cut to 40 characters
    names = sorted(k if isinstance(k, str) else repr(k) for k in keys)
    out = [k if len(k) <= 40 else k[:37] + "..." for k in names[:5]]
    return out + ([f"... {len(keys) - 5} more"] if len(keys) > 5 else [])


def shown(value: Fraction, limit: int = 120) -> str:
    """``format_rational(value)`` for a message, cut in the middle past ``limit`` characters."""
    text = format_rational(value)
    return text if len(text) <= limit else f"{text[:50]}...{text[-20:]} ({len(text)} characters)"


def digits_reject(exc: DigitLimitError) -> LimitExceeded:
    """The rejection for an integer string longer than ``max_digits``."""
    return LimitExceeded("max_digits", f"{exc.what} has an integer of {exc.digits} digits", exc.limit)


def rational(value: object, what: str, max_digits: int = _DEFAULT_DIGITS) -> Fraction:
    """A rational string ``"p/q"`` or ``"p"``; Reject otherwise (LimitExceeded if too long)."""
    try:
        return parse_rational(value, what, max_digits)
    except DigitLimitError as exc:
        raise digits_reject(exc) from None
    except ValueError as exc:
        raise Reject(str(exc)) from None


def integer(value: object, what: str, max_digits: int = _DEFAULT_DIGITS) -> int:
    """A decimal integer string; Reject otherwise (LimitExceeded if too long)."""
    try:
        return parse_int(value, what, max_digits)
    except DigitLimitError as exc:
        raise digits_reject(exc) from None
    except ValueError as exc:
        raise Reject(str(exc)) from None


def rational_field(obj: dict, key: str, max_digits: int = _DEFAULT_DIGITS) -> Fraction:
    """The rational string ``obj[key]``."""
    return rational(obj[key], key, max_digits)


def int_list(obj: object, what: str, max_digits: int = _DEFAULT_DIGITS,
             length: int | None = None) -> list[int]:
    """A JSON list of decimal integer strings (of exactly ``length`` entries, if given)."""
    if not isinstance(obj, list):
        raise Reject(f"{what} must be a list")
    if length is not None and len(obj) != length:
        raise Reject(f"{what} has {len(obj)} entries, expected n = {length}")
    return [integer(v, f"{what}[{i}]", max_digits) for i, v in enumerate(obj)]


def plain_int(obj: object, what: str, low: int, high: int) -> int:
    """A JSON integer (not bool) with ``low <= value < high``."""
    if not isinstance(obj, int) or isinstance(obj, bool) or not low <= obj < high:
        raise Reject(f"{what} must be an integer in [{low}, {high}), got {_short(obj)}")
    return obj


def _short(obj: object) -> str:
    if isinstance(obj, (list, dict)):
        return f"a {type(obj).__name__} of {len(obj)} entries" if obj else repr(obj)
    text = repr(obj[:61] if isinstance(obj, str) else obj)
    return text if len(text) <= 60 else text[:57] + "..."


def binary64(q: Fraction, what: str) -> float:
    """The float equal to the rational ``q``; Reject unless ``q`` is exactly a finite binary64 number."""
    try:
        f = float(q)
    except OverflowError:
        raise Reject(f"{what} is not a binary64 number (too large)") from None
    if not math.isfinite(f) or Fraction(f) != q:
        raise Reject(f"{what} = {shown(q)} is not a binary64 number")
    return f
