"""Exact rational scalars and vectors, and their text encoding in certificates.

Encoding (docs/certificate-format.md):

* a rational scalar is the string ``"p/q"`` (``q > 0``, lowest terms) or ``"p"`` when ``q = 1``;
* a rational vector is ``{"den": "q", "num": ["p1", "p2", ...]}``: entry ``i`` is ``p_i / q``.

Parsing is strict: anything else raises :class:`ValueError` with the offending text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import flint

_INT = re.compile(r"^(0|-?[1-9][0-9]*)$")  # no '+', no leading zeros, no '-0'
_DEN = re.compile(r"^[1-9][0-9]*$")
_MAX_DIGITS = 100_000  # refuse absurdly long integers (resource limit)


def parse_int(text: object, what: str = "integer") -> int:
    """Parse a canonical decimal integer string (no '+', no leading zeros)."""
    if not isinstance(text, str) or len(text) > _MAX_DIGITS or not _INT.match(text):
        raise ValueError(f"{what}: expected a decimal integer string, got {_short(text)}")
    return int(flint.fmpz(text))  # fast and free of Python's 4300-digit str/int limit


def int_to_str(value: int) -> str:
    """Decimal text of an integer of any size (Python's ``str`` refuses > 4300 digits)."""
    return str(flint.fmpz(value))


def parse_rational(text: object, what: str = "rational") -> Fraction:
    """Parse ``"p/q"`` (lowest terms, ``q > 1``) or ``"p"`` into a Fraction; nothing else."""
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected a string 'p/q', got {_short(text)}")
    num, sep, den = text.partition("/")
    p = parse_int(num, what)
    if not sep:
        return Fraction(p)
    if not _DEN.match(den) or len(den) > _MAX_DIGITS:
        raise ValueError(f"{what}: denominator must be a positive integer, got {_short(text)}")
    q = parse_int(den, what)
    if q == 1:
        raise ValueError(f"{what}: write an integer as 'p', not 'p/1' (got {_short(text)})")
    value = Fraction(p, q)
    if value.denominator != q:
        raise ValueError(f"{what}: {_short(text)} is not in lowest terms")
    return value


def format_rational(value: Fraction | int) -> str:
    """Inverse of :func:`parse_rational`."""
    value = Fraction(value)
    if value.denominator == 1:
        return int_to_str(value.numerator)
    return f"{int_to_str(value.numerator)}/{int_to_str(value.denominator)}"


def parse_user_rational(value: object, what: str = "value") -> Fraction:
    """Read a user-supplied number exactly.

    A string is read as an exact decimal or fraction (``"0.1"`` is 1/10, ``"1/10"`` too);
    an ``int`` or ``Fraction`` as itself; a ``float`` as the dyadic rational it stores
    (``0.1`` is 3602879701896397/36028797018963968).
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got a bool")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{what} must be finite, got {value!r}")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        if "/" in text:
            num, _, den = text.partition("/")
            try:
                q = Fraction(Decimal(den.strip()))
                if q == 0:
                    raise ValueError(f"{what}: zero denominator in {value!r}")
                return Fraction(Decimal(num.strip())) / q
            except InvalidOperation:
                raise ValueError(f"{what} must be a number such as '1/10' or '0.1', got {value!r}") from None
        try:
            dec = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{what} must be a number such as '1/10' or '0.1', got {value!r}") from None
        if not dec.is_finite():
            raise ValueError(f"{what} must be finite, got {value!r}")
        return Fraction(dec)
    raise ValueError(f"{what} must be a number, got {type(value).__name__}")


def encode_vector(values: Sequence[Fraction | int]) -> dict:
    """Encode rationals with their least common denominator."""
    den = 1
    for v in values:
        q = Fraction(v).denominator
        den = den * q // _gcd(den, q)
    nums = [int_to_str(int(Fraction(v) * den)) for v in values]
    return {"den": int_to_str(den), "num": nums}


def encode_int_vector(numerators: Iterable[int], den: int) -> dict:
    """Encode integers ``numerators`` over a common positive ``den`` (not reduced)."""
    return {"den": int_to_str(den), "num": [int_to_str(int(p)) for p in numerators]}


def parse_int_vector(obj: object, length: int | None, what: str) -> tuple[list[int], int]:
    """Parse ``{"den", "num"}`` into integer numerators and a positive denominator."""
    if not isinstance(obj, dict) or set(obj) != {"den", "num"}:
        raise ValueError(f"{what}: expected an object with keys 'den' and 'num'")
    den = parse_int(obj["den"], f"{what}.den")
    if den <= 0:
        raise ValueError(f"{what}.den must be positive, got {den}")
    nums = obj["num"]
    if not isinstance(nums, list):
        raise ValueError(f"{what}.num must be a list")
    if length is not None and len(nums) != length:
        raise ValueError(f"{what}.num has {len(nums)} entries, expected {length}")
    return [parse_int(p, f"{what}.num[{i}]") for i, p in enumerate(nums)], den


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _short(obj: object) -> str:
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."
