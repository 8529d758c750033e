"""Activation patterns, exactly: encoding, a network's own patterns, and patterns of gates.

A pattern ``D = diag(d)`` with ``d in {0,1}^n`` is written as a *pattern string*: the
hexadecimal digits (lower case, exactly ``ceil(n/4)`` of them) of the integer
``sum_k d_k 2^k``. Convention (theory.md §2): ``d_k = 1[x_k^T g >= 0]``, so points on the
hyperplane (ties) count as active; zero rows ``x_k = 0`` are always active and define no
hyperplane.

The *own-pattern scope* of a network (theory.md §3, "Three scopes"): for every neuron with
``W1_j != 0``, the exact pattern of ``X W1_j >= 0`` together with every pattern obtained by
switching off any subset of its ties (``x_k^T W1_j = 0`` with ``x_k != 0``), so that a
neuron on a hyperplane belongs to every adjacent pattern. Identical patterns are merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

DEFAULT_MAX_TIES = 12  # at most 2**12 tie patterns per neuron
MAX_TIES_LIMIT = 16  # the checker refuses own scopes with more than 2**16 patterns per neuron


def encode(bits: Sequence[int]) -> str:
    """Pattern string of a 0/1 sequence."""
    value = 0
    for k, b in enumerate(bits):
        if b:
            value |= 1 << k
    width = max(1, (len(bits) + 3) // 4)
    return format(value, f"0{width}x")


def decode(text: str, n: int) -> list[int]:
    """0/1 list of a pattern string; raise ValueError if it is not a valid string for n."""
    width = max(1, (n + 3) // 4)
    if not isinstance(text, str) or len(text) != width or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"pattern string must have exactly {width} lower-case hex digits for n = {n}")
    value = int(text, 16)
    if value >> n:
        raise ValueError(f"pattern string sets bits beyond n = {n}")
    return [(value >> k) & 1 for k in range(n)]


def as_int(text: str) -> int:
    """The integer whose bits are the pattern."""
    return int(text, 16)


@dataclass(frozen=True)
class OwnScope:
    """The own-pattern scope of a network.

    Attributes
    ----------
    patterns : list[str]
        Distinct pattern strings in a deterministic order (by neuron, then tie subset).
    ties : list[tuple[int, int]]
        Every exact tie ``(k, j)``: ``x_k^T W1_j = 0`` with ``x_k != 0`` and ``W1_j != 0``.
    skipped_neurons : list[int]
        Neurons with ``W1_j = 0`` (they have no pattern and contribute nothing).
    """

    patterns: list[str]
    ties: list[tuple[int, int]]
    skipped_neurons: list[int]


def own_scope(preact: list[list[int]], zero_rows: Sequence[bool], w1_zero: Sequence[bool],
              max_ties: int = DEFAULT_MAX_TIES) -> OwnScope:
    """Own-pattern scope from the exact pre-activation numerators ``X W1`` (n x m).

    Raises
    ------
    ValueError
        If a neuron has more than ``max_ties`` ties (its scope would have more than
        ``2**max_ties`` patterns).
    """
    n = len(preact)
    m = len(w1_zero)
    seen: dict[str, None] = {}
    ties: list[tuple[int, int]] = []
    skipped = []
    for j in range(m):
        if w1_zero[j]:
            skipped.append(j)
            continue
        base = 0
        tie_rows = []
        for k in range(n):
            v = preact[k][j]
            if v >= 0:
                base |= 1 << k
                if v == 0 and not zero_rows[k]:
                    tie_rows.append(k)
        if len(tie_rows) > max_ties:
            raise ValueError(
                f"neuron {j} lies exactly on {len(tie_rows)} data hyperplanes; its own-pattern "
                f"scope would have 2^{len(tie_rows)} patterns, over the budget of 2^{max_ties} "
                f"(raise max_ties, or verify against a given pattern set)")
        ties.extend((k, j) for k in tie_rows)
        width = max(1, (n + 3) // 4)
        for size in range(len(tie_rows) + 1):
            for subset in combinations(tie_rows, size):
                value = base
                for k in subset:
                    value &= ~(1 << k)
                seen.setdefault(format(value, f"0{width}x"), None)
    ties.sort()
    return OwnScope(list(seen), ties, skipped)


def patterns_of_gates(preact: list[list[int]]) -> list[str]:
    """Pattern strings ``1[X g_p >= 0]`` from exact numerators of ``X G`` (n x P)."""
    n = len(preact)
    P = len(preact[0]) if n else 0
    return [encode([1 if preact[k][p] >= 0 else 0 for k in range(n)]) for p in range(P)]
