"""Producer of the *pruned* claim (proofs/pruning.md).

The claim is about the network the certificate names (the float copy that was written). Its
evidence carries the original network (its float values as exact rationals; the checker recomputes
its digest) and the exact rational pruned network. Claimed, all exactly: the exact pruned network
has the original's fit and an objective no larger; the given network is its entry-wise rounding to
binary64 (faithful: no float lies strictly between an entry and its rounding); the objectives of
the three networks and ``||f(given) - f(original)||^2``; optionally that the given network's
objective is no larger than the original's.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from certify.exact.context import ExactContext
from certify.exact.rational import format_rational


def _encode_network(W1: Sequence[Sequence[Fraction | float]], w2: Sequence[Fraction | float],
                    b1: Sequence[Fraction | float] | None) -> dict:
    return {"W1": [[format_rational(Fraction(v)) for v in row] for row in W1],
            "w2": [format_rational(Fraction(v)) for v in w2],
            "b1": None if b1 is None else [format_rational(Fraction(v)) for v in b1]}


def fit_deviation_sq(given: ExactContext, original: ExactContext) -> Fraction:
    """``||f(given) - f(original)||^2`` exactly (both fits are dyadic)."""
    a, b = given.evaluation, original.evaluation
    shift = max(a.res_shift, b.res_shift)
    diff = [(u << (shift - a.res_shift)) - (v << (shift - b.res_shift))
            for u, v in zip(a.res_num, b.res_num, strict=True)]
    return Fraction(sum(v * v for v in diff), 1 << (2 * shift))


def pruned_claim(original: ExactContext, original_raw: tuple, original_sha256: str,
                 exact_W1: Sequence[Sequence[Fraction]], exact_w2: Sequence[Fraction],
                 exact_objective: Fraction, given: ExactContext) -> dict:
    """The *pruned* claim about the network of ``given``.

    Parameters
    ----------
    original : ExactContext
        The original network on the problem.
    original_raw : (W1 rows (d, m0), w2, b1 or None)
        The original network's floats as loaded (``W1`` without the bias row).
    original_sha256 : str
        Its digest (:func:`certify.exact.digest.network_digest`).
    exact_W1, exact_w2 : the exact pruned network, ``W1`` with ``b1`` as last row when there is a bias.
    exact_objective : Fraction
        Its exact NC.
    given : ExactContext
        The float copy that is written.
    """
    bias = given.bias
    W1e = exact_W1[:-1] if bias else exact_W1
    b1e = exact_W1[-1] if bias else None
    objective = given.evaluation.objective
    return {
        "id": "pruned",
        "type": "pruned",
        "original": _encode_network(*original_raw),
        "original_sha256": original_sha256,
        "original_width": original.m,
        "exact": _encode_network(W1e, exact_w2, b1e),
        "width": given.m,
        "original_objective": format_rational(original.evaluation.objective),
        "exact_objective": format_rational(exact_objective),
        "objective": format_rational(objective),
        "fit_deviation_sq": format_rational(fit_deviation_sq(given, original)),
        "objective_not_increased": objective <= original.evaluation.objective,
    }
