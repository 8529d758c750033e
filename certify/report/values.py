"""Exact rationals for people: rounded decimals with the exact value kept at hand.

Certificates hold rationals as strings ``"p/q"`` (or ``"p"``), often with hundreds of digits.
A report shows each one rounded to a few significant digits, rounded *exactly* (the decimal
is the correctly rounded value of the rational, computed with :mod:`decimal` at an unbounded
exponent range, never through a float), and keeps the exact text available: in HTML as a
``title`` attribute (short values) or a collapsible ``<details>`` block (long values, shown
abbreviated as first and last digits with the digit count); in Markdown in a fenced block.

Nothing here trusts its input: text that is not a rational is shown as (escaped) text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_CEILING, Decimal, Inexact, localcontext
from fractions import Fraction

from markupsafe import Markup

#: Significant digits of rounded values.
DEFAULT_DIGITS = 10
#: Exact texts longer than this are shown abbreviated (the full text stays available).
LONG_EXACT_CHARS = 48
#: Leading and trailing digits kept when an integer is abbreviated.
KEEP_DIGITS = 8
#: Digits above which integers are converted through Decimal (Python limits int(str) to 4300).
_INT_STR_LIMIT = 4000
#: Longest text that is parsed at all (a resource limit for hostile input).
MAX_PARSE_CHARS = 400_000

_RATIONAL = re.compile(r"^(-?)(0|[1-9][0-9]*)(?:/([1-9][0-9]*))?$")


def _to_int(digits: str) -> int:
    if len(digits) > _INT_STR_LIMIT:
        return int(Decimal(digits))  # exact; not subject to the int(str) digit limit
    return int(digits)


def parse_exact(text: object) -> Fraction | None:
    """The rational a certificate string ``"p/q"`` or ``"p"`` denotes, or None if it is not one.

    Parameters
    ----------
    text : object
        Usually a string from a certificate. Python ints (not bools) are accepted too.

    Returns
    -------
    Fraction or None
        The value; None for anything that is not a canonical decimal rational (the
        denominator must be positive; lowest terms are not required here).
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return Fraction(text)
    if not isinstance(text, str) or len(text) > MAX_PARSE_CHARS:
        return None
    match = _RATIONAL.match(text)
    if match is None:
        return None
    sign, num, den = match.groups()
    value = Fraction(_to_int(num), _to_int(den) if den else 1)
    return -value if sign else value


def _decimal_quotient(num: int, den: int, digits: int) -> tuple[Decimal, bool]:
    """``num/den`` correctly rounded (half-even) to ``digits`` significant digits; inexact flag."""
    with localcontext() as ctx:
        ctx.prec = digits
        ctx.Emax = MAX_EMAX
        ctx.Emin = MIN_EMIN
        ctx.clear_flags()
        value = Decimal(num) / Decimal(den)  # Decimal(int) is exact; the division rounds once
        return value, bool(ctx.flags[Inexact])


def format_decimal(value: Decimal) -> str:
    """Plain text of a decimal: positional for moderate exponents, else ``m.mmme+X``."""
    if value.is_zero():
        return "0"
    value = value.normalize()
    exponent = value.adjusted()
    if -5 <= exponent < 12:
        return format(value, "f")
    sign, digits, _ = value.as_tuple()
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{exponent:+d}"


def round_fraction(value: Fraction, digits: int = DEFAULT_DIGITS) -> tuple[str, bool]:
    """Exact rounding of a rational to ``digits`` significant digits.

    Parameters
    ----------
    value : Fraction
        Any rational, however large or small (no float conversion happens).
    digits : int, default=10
        Significant digits.

    Returns
    -------
    text : str
        The rounded decimal (e.g. ``"0.1"``, ``"87.64589235"``, ``"3.333333333e+5999"``).
    inexact : bool
        True iff the decimal differs from the rational.
    """
    rounded, inexact = _decimal_quotient(value.numerator, value.denominator, digits)
    return format_decimal(rounded), inexact


def sqrt_fraction(value: Fraction, digits: int = DEFAULT_DIGITS) -> str:
    """An upper bound of the square root of a non-negative rational, with ``digits`` significant digits.

    The smallest ``digits``-digit decimal ``u`` with ``u^2 >= value`` (checked exactly), so a
    statement ``||g|| <= u`` derived from ``||g||^2 <= value`` stays true.
    """
    if value < 0:
        raise ValueError("square root of a negative value")
    if value == 0:
        return "0"
    with localcontext() as ctx:
        ctx.Emax = MAX_EMAX
        ctx.Emin = MIN_EMIN
        ctx.prec = digits + 10
        root = (Decimal(value.numerator) / Decimal(value.denominator)).sqrt()
        ctx.prec = digits
        ctx.rounding = ROUND_CEILING
        upper = +root  # round up to `digits` significant digits
        while Fraction(upper) ** 2 < value:
            upper = upper.next_plus()
        while True:  # the smallest such decimal (the guard digits can overshoot by one step)
            lower = upper.next_minus()
            if lower <= 0 or Fraction(lower) ** 2 < value:
                break
            upper = lower
    return format_decimal(upper)


def abbreviate_integer(digits: str, keep: int = KEEP_DIGITS) -> str:
    """``"1234…6789"`` for a long digit string (sign kept); short strings unchanged."""
    sign = "-" if digits.startswith("-") else ""
    body = digits[len(sign):]
    if len(body) <= 2 * keep + 3:
        return digits
    return f"{sign}{body[:keep]}…{body[-keep:]}"


def digit_count(text: str) -> str:
    """``"106 digits"`` or ``"106/104 digits"`` for the numerator (and denominator) of ``"p/q"``."""
    parts = [p.lstrip("-") for p in text.split("/")]
    return "/".join(str(len(p)) for p in parts) + " digits"


@dataclass(frozen=True)
class ExactValue:
    """A certificate number prepared for display.

    Attributes
    ----------
    text : str
        The exact text as found (``"p/q"``), or ``str()`` of a non-rational value.
    value : Fraction or None
        The rational, or None when ``text`` is not a rational.
    rounded : str
        The correctly rounded decimal (``text`` itself, truncated, when not a rational).
    inexact : bool
        True iff ``rounded`` differs from the exact value.
    is_long : bool
        True iff ``text`` is too long to show in full inline.
    short : str
        ``text``, or for long values the abbreviation ``"1234…6789/5678…0123"``.
    digits : str
        Digit count of numerator/denominator (``"106/104 digits"``); empty when not a rational.
    """

    text: str
    value: Fraction | None
    rounded: str
    inexact: bool
    is_long: bool
    short: str
    digits: str

    @property
    def approx(self) -> str:
        """``rounded`` prefixed with ``≈`` when rounding changed the value."""
        return ("≈ " if self.inexact else "") + self.rounded


def exact_value(text: object, digits: int = DEFAULT_DIGITS) -> ExactValue:
    """Prepare a certificate number (``"p/q"``) for display; never raises.

    Parameters
    ----------
    text : object
        The value as stored in the certificate (normally a string ``"p/q"``).
    digits : int, default=10
        Significant digits of the rounded decimal.

    Returns
    -------
    ExactValue
    """
    value = parse_exact(text)
    if value is None:
        raw = str(text) if not isinstance(text, str) else text
        shown = raw if len(raw) <= 200 else raw[:200] + "…"
        return ExactValue(raw, None, shown, False, len(raw) > LONG_EXACT_CHARS, shown, "")
    text = str(text)
    rounded, inexact = round_fraction(value, digits)
    is_long = len(text) > LONG_EXACT_CHARS
    short = "/".join(abbreviate_integer(p) for p in text.split("/")) if is_long else text
    return ExactValue(text, value, rounded, inexact, is_long, short, digit_count(text))


def html_exact(text: object, digits: int = DEFAULT_DIGITS) -> Markup:
    """HTML for a certificate number: rounded value, exact value at hand.

    A short exact value is shown beside the rounded one (and in its ``title``); a long one is
    abbreviated (first/last digits, digit count) in the summary of a ``<details>`` block that
    holds the full text. All text is escaped.

    Parameters
    ----------
    text : object
        The certificate's value (``"p/q"``).
    digits : int, default=10
        Significant digits of the rounded decimal.

    Returns
    -------
    markupsafe.Markup
        Safe HTML to insert into an autoescaping template.
    """
    ev = exact_value(text, digits)
    if ev.value is None:
        return Markup('<span class="raw">{}</span>').format(ev.rounded)
    rounded = Markup('<span class="num" title="exact: {}">{}</span>').format(
        ev.short if ev.is_long else ev.text, ev.approx)
    if not ev.inexact:
        return rounded
    if not ev.is_long:
        return rounded + Markup(' <span class="exact">= <code>{}</code></span>').format(ev.text)
    return rounded + Markup(
        '<details class="exact"><summary>exact: <code>{}</code> ({})</summary>'
        '<code class="full">{}</code></details>').format(ev.short, ev.digits, ev.text)


_TAG_START = re.compile(r"<[A-Za-z/!?]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#!{}])")


def md_escape(text: object) -> str:
    """Escape text for Markdown (paragraphs and table cells): no markup, no raw HTML.

    Backslash-escapes Markdown punctuation, writes ``<``, ``>`` and ``&`` as entities and
    folds newlines into spaces, so hostile strings (``<script>``, ``|``) render literally.
    """
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return " ".join(s.splitlines())


def md_code(text: object, table: bool = False) -> str:
    """Markdown code span holding ``text`` literally (HTML inside it is not interpreted).

    The fence is longer than any run of backticks in the text; newlines become spaces; in a
    table cell (``table=True``) pipes are escaped as GFM requires. Text that looks like an HTML
    tag (``<`` followed by a letter, ``/``, ``!`` or ``?``) is not trusted to a code span, whose
    handling varies between renderers: it is escaped as plain text (:func:`md_escape`) instead.
    """
    s = " ".join(str(text).splitlines())
    if _TAG_START.search(s):
        return md_escape(s)
    if table:
        s = s.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def md_exact(text: object, digits: int = DEFAULT_DIGITS) -> str:
    """Markdown for a certificate number in a table cell: rounded and (short) exact value.

    Long exact values are abbreviated with their digit count; the full text belongs in a
    fenced block elsewhere (see :func:`md_full_exact`).
    """
    ev = exact_value(text, digits)
    if ev.value is None:
        return md_escape(ev.rounded)
    if not ev.inexact:
        return ev.rounded
    if not ev.is_long:
        return f"{ev.approx} (exact `{ev.text}`)"
    return f"{ev.approx} (exact `{ev.short}`, {ev.digits})"


def md_full_exact(text: object) -> str | None:
    """The full exact text of a long rational for a fenced block, or None when not needed."""
    ev = exact_value(text)
    if ev.value is None or not ev.is_long or not ev.inexact:
        return None
    return ev.text
