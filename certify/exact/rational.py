"""Exact rational scalars and vectors, and their text encoding in certificates.

Encoding (docs/certificate-format.md):

* a rational scalar is the string ``"p/q"`` (``q > 0``, lowest terms) or ``"p"`` when ``q = 1``;
* a rational vector is ``{"den": "q", "num": ["p1", "p2", ...]}``: entry ``i`` is ``p_i / q``.

Parsing is strict: anything else raises :class:`ValueError` with the offending text.
Integer strings longer than a limit (``max_digits``, default :data:`DEFAULT_MAX_DIGITS`)
raise :class:`DigitLimitError` before any conversion, so that hostile input cannot make the
parser convert (or multiply) numbers of millions of digits; the checker passes its own limit
(``certify.check.limits.CheckLimits.max_digits``).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import flint

_INT = re.compile(r"^(0|-?[1-9][0-9]*)\Z")  # no '+', no leading zeros, no '-0'
_DEN = re.compile(r"^[1-9][0-9]*\Z")  # \Z, not $: '$' also matches before a final newline
DEFAULT_MAX_DIGITS = 100_000  # refuse absurdly long integers (resource limit)
_MAX_DIGITS = DEFAULT_MAX_DIGITS  # former name, kept for callers


class DigitLimitError(ValueError):
    """An integer string has more decimal digits than the caller's limit allows.

    Attributes
    ----------
    what : str
        The field being parsed.
    digits : int
        The number of digits found (a minus sign is not counted).
    limit : int
        The limit that was exceeded.
    """

    def __init__(self, what: str, digits: int, limit: int) -> None:
        super().__init__(f"{what}: an integer string of {digits} characters exceeds the limit of "
                         f"{limit} digits")
        self.what, self.digits, self.limit = what, digits, limit


def _check_digits(text: str, what: str, max_digits: int) -> None:
    # len(text) counts a leading '-'; test the cheap bound first, then count exactly
    if len(text) > max_digits:
        digits = len(text) - text.startswith("-")
        if digits > max_digits:
            raise DigitLimitError(what, digits, max_digits)


def parse_int(text: object, what: str = "integer", max_digits: int = DEFAULT_MAX_DIGITS) -> int:
    """Parse a canonical decimal integer string (no '+', no leading zeros).

    Parameters
    ----------
    text : str
        The string, e.g. ``"-12"``.
    what : str, default="integer"
        Name of the field, for the error message.
    max_digits : int, default=DEFAULT_MAX_DIGITS
        Resource limit: more digits than this raise :class:`DigitLimitError`, before the
        string is converted.

    Raises
    ------
    ValueError
        If ``text`` is not such a string; :class:`DigitLimitError` if it is too long.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected a decimal integer string, got {_short(text)}")
    _check_digits(text, what, max_digits)
    if not _INT.match(text):
        raise ValueError(f"{what}: expected a decimal integer string, got {_short(text)}")
    return int(flint.fmpz(text))  # fast and free of Python's 4300-digit str/int limit


def int_to_str(value: int) -> str:
    """Decimal text of an integer of any size (Python's ``str`` refuses > 4300 digits)."""
    return str(flint.fmpz(value))


def parse_rational(text: object, what: str = "rational", max_digits: int = DEFAULT_MAX_DIGITS) -> Fraction:
    """Parse ``"p/q"`` (lowest terms, ``q > 1``) or ``"p"`` into a Fraction; nothing else.

    ``max_digits`` limits p and q separately (see :func:`parse_int`).
    """
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected a string 'p/q', got {_short(text)}")
    num, sep, den = text.partition("/")
    p = parse_int(num, what, max_digits)
    if not sep:
        return Fraction(p)
    _check_digits(den, what, max_digits)
    if not _DEN.match(den):
        raise ValueError(f"{what}: denominator must be a positive integer, got {_short(text)}")
    q = parse_int(den, what, max_digits)
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
    if isinstance(value, numbers.Integral):  # e.g. numpy.int64
        return Fraction(int(value))
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


def parse_int_vector(obj: object, length: int | None, what: str,
                     max_digits: int = DEFAULT_MAX_DIGITS) -> tuple[list[int], int]:
    """Parse ``{"den", "num"}`` into integer numerators and a positive denominator."""
    if not isinstance(obj, dict) or set(obj) != {"den", "num"}:
        raise ValueError(f"{what}: expected an object with keys 'den' and 'num'")
    den = parse_int(obj["den"], f"{what}.den", max_digits)
    if den <= 0:
        raise ValueError(f"{what}.den must be positive, got {den}")
    nums = obj["num"]
    if not isinstance(nums, list):
        raise ValueError(f"{what}.num must be a list")
    if length is not None and len(nums) != length:
        raise ValueError(f"{what}.num has {len(nums)} entries, expected {length}")
    return [parse_int(p, f"{what}.num[{i}]", max_digits) for i, p in enumerate(nums)], den


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _short(obj: object) -> str:
    # never repr a large object whole: hostile input may be megabytes long or deeply nested
    if isinstance(obj, str):
        text = repr(obj[:61])
    elif isinstance(obj, (list, dict, tuple, set)):
        text = f"a {type(obj).__name__} of {len(obj)} entries" if obj else repr(obj)
    else:
        text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


def approx(value: Fraction | int, digits: int = 6, sqrt: bool = False) -> str:
    """A rational (or its square root) to ``digits`` significant digits, for messages and
    summaries: exact decimal arithmetic, so no overflow or underflow at any magnitude."""
    from decimal import Context

    value = Fraction(value)
    ctx = Context(prec=digits + 5)
    dec = ctx.divide(ctx.create_decimal(value.numerator), ctx.create_decimal(value.denominator))
    if sqrt:
        dec = ctx.sqrt(dec)
    return f"{dec:.{digits}g}"
