"""Resource limits of the checker: bounded time and memory on hostile certificates.

A certificate is untrusted input. Without limits, a few kilobytes of JSON could ask the
checker for a number of ten million digits, a nesting ten thousand levels deep, or a scope of
millions of activation patterns, and the checker would hang or run out of memory instead of
answering. Every limit here turns such a request into a *rejection* whose reason names the
limit and how to raise it (proofs/format.md, "Resource limits").

Soundness never depends on a limit: a limit can only make the checker reject a certificate
that it could otherwise have checked, never accept one. Raising a limit is always safe; it
only lets the checker spend more time or memory.

The work of a claim is estimated *before* it is done, in units of roughly one machine-word
multiply-add (about 1 to 10 ns each on a current CPU): an exact forward pass of the network
costs about ``n m (d wX wW + 16)`` units, where ``wX`` and ``wW`` are the sizes in 64-bit words
of the largest data and weight numerators and 16 stands for one interpreted Python step
(:data:`PY`). The estimates are upper bounds up to a small constant, not measurements.
"""

from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass, fields
from itertools import accumulate

from certify.check.verdict import Reject

#: Units of work charged for one interpreted Python step (a loop iteration, a list entry).
PY = 16

#: Bytes of memory assumed per JSON value when a document is parsed (CPython objects and
#: list slots; measured between 8 and about 100 depending on the value).
BYTES_PER_VALUE = 100


@dataclass(frozen=True)
class CheckLimits:
    """Resource limits of :func:`certify.check.checker.check_certificate`.

    Each limit, when exceeded, rejects with a reason that names it. Defaults are far above
    what genuine certificates need (measured sizes in parentheses; docs/certificate-format.md,
    "Limits") and far below what would exhaust a workstation.

    Parameters
    ----------
    max_bytes : int, default=67108864
        Size of the certificate text in bytes (characters for a ``str``), checked before
        parsing: 64 MiB. (Genuine: 2 kB for examples/tiny.cert.json, 180 kB at n = 2000,
        d = 10, m = 50, 1.1 MB at n = 10000, d = 20, m = 100.)
    max_depth : int, default=64
        Nesting depth of JSON arrays and objects, checked on the raw text before parsing (no
        recursion). (Genuine: 7 or 8.)
    max_digits : int, default=20000
        Decimal digits of each integer string: ``p`` and ``q`` of a rational ``"p/q"``
        separately, and every numerator and denominator. (Genuine: 30 for the tiny example,
        about 200 for Gaussian data, 3,384 for data and weights with entries as extreme as
        1e100 and 5e-324.)
    max_list : int, default=1048576
        Entries of any one JSON array or object, checked before parsing. (Genuine: n, the
        length of the residual ``rho``.)
    max_work : int, default=50000000000
        Estimated work of all claims together, in units of about one word operation (module
        docstring); checked before each step that does the work. 5e10 units is minutes to
        about an hour on one core. (Genuine: about 3e7 at n = 2000, d = 10, m = 50;
        about 5e8 at n = 10000, d = 20, m = 100.)
    max_memory : int, default=2147483648
        Estimated bytes of the largest structure the certificate makes the checker build: the
        parsed document (:data:`BYTES_PER_VALUE` per JSON value plus four times the text) and
        the exact forward pass at the network or at a Goldstein point (``n m`` integers).
        2 GiB. The checker also works in bounded chunks where the certificate sets a size (a
        pattern scope is correlated a chunk of patterns at a time).
    """

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 64
    max_digits: int = 20_000
    max_list: int = 1 << 20
    max_work: int = 5 * 10**10
    max_memory: int = 2 * 1024**3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"CheckLimits.{f.name} must be a positive integer, got {value!r}")


#: The command-line option of ``certify check`` that sets each limit.
OPTIONS = {f.name: "--" + f.name.replace("_", "-") for f in fields(CheckLimits)}


class LimitExceeded(Reject):
    """A resource limit would be exceeded: the claim (or the certificate) is rejected.

    Attributes
    ----------
    limit : str
        The name of the :class:`CheckLimits` field, e.g. ``"max_work"``.
    """

    def __init__(self, limit: str, detail: str, allowed: int) -> None:
        self.limit = limit
        super().__init__(f"resource limit exceeded: {detail} (limit {limit} = {allowed}; raise it with "
                         f"`certify check {OPTIONS[limit]} N` or CheckLimits({limit}=N) to check this "
                         f"certificate anyway)")


# --- the raw text, before json.loads -----------------------------------------------------------

# Inside a JSON string every backslash starts an escape of at least two characters, and outside
# strings valid JSON has no backslash; so after deleting each backslash with the character after
# it, the remaining quotes delimit the strings exactly. Each pattern is linear (no backtracking).
_ESCAPE = re.compile(r"\\.", re.S)
_STRING = re.compile(r'"[^"]*"')
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b"[]{},")))  # bytes to delete
_INNERMOST = re.compile(r"\[,+\]|\{,+\}")  # after deleting the empty ones with str.replace
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1, +1, -1, -1 as signed bytes


def decode_text(text: str | bytes) -> str:
    """The text of a certificate, decoded the way :func:`json.loads` decodes bytes."""
    if isinstance(text, str):
        return text
    return text.decode(json.detect_encoding(text), "surrogatepass")


def check_size(text: str | bytes, limits: CheckLimits) -> None:
    """Reject text longer than ``max_bytes`` (bytes, or characters of a ``str``)."""
    if len(text) > limits.max_bytes:
        unit = "bytes" if isinstance(text, (bytes, bytearray)) else "characters"
        raise LimitExceeded("max_bytes", f"the certificate is longer than {limits.max_bytes} {unit}",
                            limits.max_bytes)


def scan_text(text: str, limits: CheckLimits) -> None:
    """Reject JSON text that is too deep, has too long a list, or too many values.

    Works on the raw text with linear regular expressions, ``bytes.translate`` and
    ``itertools.accumulate`` over the brackets and commas outside strings (no recursion, no
    parsing, no Python loop over characters), so that :func:`json.loads` is only called on text
    whose nesting is at most ``max_depth`` and whose parse fits in ``max_memory``. Exact for
    valid JSON; on invalid JSON it may reject for a limit where the parser would have rejected
    for syntax, which is a rejection all the same (proofs/format.md, "Resource limits").

    Parameters
    ----------
    text : str
        The certificate text (decoded).
    limits : CheckLimits
        The limits in force.

    Raises
    ------
    LimitExceeded
        With the limit ``max_depth``, ``max_list`` or ``max_memory``.
    """
    outside = _STRING.sub("", _ESCAPE.sub("", text))
    # UTF-8 encodes every non-ASCII character with bytes >= 0x80, so deleting every byte but
    # []{}, leaves exactly the structure characters outside strings
    structure = outside.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE).decode("ascii")
    del outside
    opens = structure.count("[") + structure.count("{")
    commas = structure.count(",")
    values = opens + commas + 1  # an upper bound on the JSON values (object keys not counted)
    estimate = BYTES_PER_VALUE * values + 4 * len(text)
    if estimate > limits.max_memory:
        raise LimitExceeded("max_memory", f"parsing the certificate would take about {estimate} bytes "
                            f"({values} JSON values)", limits.max_memory)
    if opens > limits.max_depth:
        # prefix sums of +1 (open) and -1 (close) are the depths; computed at C speed
        steps = array("b", structure.encode("ascii").translate(_DEPTH_STEPS, b","))
        depth = max(accumulate(steps), default=0)
        if depth > limits.max_depth:
            raise LimitExceeded("max_depth", f"JSON nesting is {depth} levels deep", limits.max_depth)
    if commas >= limits.max_list:
        _scan_lists(structure, limits)


def _scan_lists(structure: str, limits: CheckLimits) -> None:
    """Reject if an array or object has more than ``max_list`` entries (more than ``max_list - 1``
    commas directly inside it).

    ``structure`` holds the brackets and commas outside strings. Each pass checks for a run of
    too many commas, then deletes the innermost containers (brackets with only commas between):
    a container's own commas form one run once its children are deleted, and a run of commas
    always lies in one container. At most depth + 1 passes, each at C speed.
    """
    # max_list commas: max_list + 1 entries; tried only where a run starts, so linear time
    too_many = re.compile(f"(?<!,),{{{limits.max_list}}}")
    while True:
        shorter = structure.replace("[]", "").replace("{}", "")  # fast; the rest by a regex
        if too_many.search(shorter):
            raise LimitExceeded("max_list", f"a JSON array or object has more than {limits.max_list} "
                                "entries", limits.max_list)
        shorter = _INNERMOST.sub("", shorter)
        if len(shorter) == len(structure):  # no container left (or unbalanced: not JSON anyway)
            return
        structure = shorter


def walk_document(doc: object, limits: CheckLimits) -> None:
    """Check an already parsed document against ``max_depth`` and ``max_list``, iteratively.

    For documents handed over as Python objects: a cycle or a deep nesting stops at
    ``max_depth`` instead of recursing.
    """
    stack = [(doc, 0)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, (dict, list)):
            if depth + 1 > limits.max_depth:
                raise LimitExceeded("max_depth", f"the document is nested more than {limits.max_depth} "
                                    "levels deep", limits.max_depth)
            if len(obj) > limits.max_list:
                raise LimitExceeded("max_list", f"a list or object has {len(obj)} entries",
                                    limits.max_list)
            stack.extend((v, depth + 1) for v in (obj.values() if isinstance(obj, dict) else obj))


# --- the work of the claims ----------------------------------------------------------------------


def words(bits: int) -> int:
    """Size in 64-bit words of an integer of ``bits`` bits (at least 1)."""
    return 1 + max(0, bits) // 64


def max_bits(values) -> int:
    """Largest bit length of the integers (or python-flint ``fmpz``) in ``values``; 0 if none."""
    return int(max((abs(v) for v in values), default=0)).bit_length()


def sum_work(denominators, width: int, extra_words: int = 0) -> int:
    """Units to add up, one term at a time, ``width``-long vectors of rationals with these denominators.

    The common denominator after t terms divides ``2^max(e_s) * prod(o_s)`` over the terms so far,
    where ``q_s = 2^e_s o_s`` with ``o_s`` odd: powers of two merge into the largest, odd parts may
    multiply. Adding a term of ``words(q) + extra_words`` words to an accumulator of ``W`` words costs
    about ``W (words(q) + extra_words)`` per entry (the gcd with the new denominator, the rescaling);
    squaring the final entries costs ``W^2`` each. Dyadic denominators (everything certify writes)
    keep ``W`` at the size of the largest one; distinct odd ones make it grow with every term.
    """
    two = odd = total = 0
    for q in denominators:
        e = (q & -q).bit_length() - 1
        two = max(two, e)
        odd += (q >> e).bit_length() - 1
        total += width * words(two + odd) * (words(q.bit_length()) + extra_words)
    return total + width * words(two + odd) ** 2


def pass_work(n: int, d: int, m: int, wx: int, ww: int) -> int:
    """Units of one exact forward pass (or gradient) with word sizes ``wx`` and ``ww``."""
    return n * m * (d * wx * ww + PY)


def pass_memory(n: int, m: int, wx: int, ww: int) -> int:
    """Bytes of the ``n x m`` exact pre-activations of one forward pass (plus list slots)."""
    return n * m * (8 * (wx + ww + 1) + 64)


class WorkBudget:
    """The work the claims of one certificate have asked for so far, against ``max_work``.

    Parameters
    ----------
    limits : CheckLimits
        The limits in force.
    """

    def __init__(self, limits: CheckLimits) -> None:
        self.limits = limits
        self.used = 0
        self._charged: set[str] = set()
        self._sizes: dict[str, int] = {}

    def charge(self, units: int, what: str) -> None:
        """Add ``units``; raise :class:`LimitExceeded` (and add nothing) past ``max_work``."""
        if self.used + units > self.limits.max_work:
            raise LimitExceeded("max_work", f"{what} needs about {units:.3g} units of work "
                                f"({self.used:.3g} already used by earlier claims)", self.limits.max_work)
        self.used += units

    def charge_once(self, key: str, units: int, what: str) -> None:
        """Charge ``units`` the first time ``key`` is charged (for cached results)."""
        if key not in self._charged:
            self.charge(units, what)
            self._charged.add(key)

    def memory(self, nbytes: int, what: str) -> None:
        """Raise :class:`LimitExceeded` if one structure of ``nbytes`` exceeds ``max_memory``."""
        if nbytes > self.limits.max_memory:
            raise LimitExceeded("max_memory", f"{what} would take about {nbytes:.3g} bytes",
                                self.limits.max_memory)

    def bits(self, ctx, name: str) -> int:
        """Bit length of the largest numerator of ``ctx.X`` (``"X"``) or ``ctx.W1`` (``"W1"``)."""
        if name not in self._sizes:
            mat = ctx.X.mat if name == "X" else ctx.W1.mat
            self._sizes[name] = max_bits(mat.entries())
        return self._sizes[name]

    def words(self, ctx, name: str) -> int:
        """:func:`words` of :meth:`bits`."""
        return words(self.bits(ctx, name))

    def forward(self, ctx) -> None:
        """Charge the exact forward pass at the network (computed once and cached)."""
        wx, ww = self.words(ctx, "X"), self.words(ctx, "W1")
        self.memory(pass_memory(ctx.n, ctx.m, wx, ww), "the exact forward pass of the network")
        self.charge_once("forward", pass_work(ctx.n, ctx.d, ctx.m, wx, ww),
                         "the exact forward pass of the network")

    def gradient(self, ctx) -> None:
        """Charge the exact gradient at the network (computed once and cached)."""
        self.forward(ctx)
        self.charge_once("gradient", pass_work(ctx.n, ctx.d, ctx.m, self.words(ctx, "X"),
                                               self.words(ctx, "W1")),
                         "the exact gradient of the network")


def resources(inputs: dict) -> tuple[CheckLimits, WorkBudget]:
    """The limits and the budget a check function was given (defaults when called alone)."""
    limits = inputs.get("limits")
    if limits is None:
        limits = inputs["limits"] = CheckLimits()
    budget = inputs.get("budget")
    if budget is None:
        budget = inputs["budget"] = WorkBudget(limits)
    return limits, budget
