"""Checks of the *minimal* and *not_minimal* claims (proofs/minimality.md).

Both recompute the exact fit columns ``F_j = (X W1_j)_+ w2_j`` of the given network (as integers,
``F`` times a positive constant) and its *support*: the neurons whose column is not zero. The
claimed support must be exactly that list, so the claim also says which neurons are zero neurons.

* *minimal*: accept iff ``p`` is an odd prime below ``2^64``, ``rows`` are ``|support|`` distinct row
  indices and ``det F[rows, support] != 0 (mod p)``: the non-zero fit columns are independent.
* *not_minimal*: accept iff ``null_vector`` is a non-zero integer vector with
  ``F[:, support] z = 0`` exactly and ``dependent`` lists the support neurons with ``z_i != 0``: the
  non-zero fit columns are dependent, and each ``dependent`` neuron's column is a combination of the
  others'.
"""

from __future__ import annotations

from certify.check.fields import int_list, integer, plain_int, require_keys
from certify.check.limits import PY, max_bits, resources, words
from certify.check.verdict import Reject
from certify.exact.context import ExactContext
from certify.exact.linalg import is_prime
from certify.exact.minimality import det_mod_columns, fit_columns, is_relation, support

_PRIME_LIMIT = 1 << 64  # nmod_mat works modulo word-size primes


def _columns_and_support(claim: dict, ctx: ExactContext, budget) -> tuple[list[list[int]], list[int]]:
    budget.forward(ctx)
    columns = fit_columns(ctx.evaluation.preact, ctx.w2.entries())
    supp = support(columns)
    claimed = claim["support"]
    if not isinstance(claimed, list):
        raise Reject("support must be a list of neuron indices")
    listed = [plain_int(v, f"support[{i}]", 0, ctx.m) for i, v in enumerate(claimed)]
    if listed != supp:
        zero = sorted(set(range(ctx.m)) - set(supp))
        raise Reject(f"support must list exactly the neurons with a non-zero fit column (X W1_j)_+ w2_j, "
                     f"in increasing order: recomputed {len(supp)} such neuron(s), zero neurons "
                     f"{zero[:10]}{'...' if len(zero) > 10 else ''}; the claim lists {len(listed)}")
    return columns, supp


def check_minimal(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "support", "rows", "prime"})
    columns, supp = _columns_and_support(claim, ctx, budget)
    p = integer(claim["prime"], "prime", 30)
    if not 2 < p < _PRIME_LIMIT or not is_prime(p):
        raise Reject(f"prime must be an odd prime below 2^64, got {p}")
    rows_raw = claim["rows"]
    if not isinstance(rows_raw, list) or len(rows_raw) != len(supp):
        raise Reject(f"rows must list {len(supp)} row indices (one per support neuron)")
    rows = [plain_int(v, f"rows[{i}]", 0, ctx.n) for i, v in enumerate(rows_raw)]
    if len(set(rows)) != len(rows):
        raise Reject("rows must be distinct")
    r = len(supp)
    budget.charge(r * r * (r + PY) + r * r * words(max_bits(v for j in supp for v in columns[j])),
                  "the determinant modulo p of the support's fit columns on the given rows")
    if det_mod_columns(columns, supp, rows, p) == 0:
        raise Reject(f"det F[rows, support] is 0 modulo {p}: this minor does not show the fit columns "
                     "independent")
    return {"independent": len(supp), "zero_neurons": ctx.m - len(supp)}


def check_not_minimal(claim: dict, ctx: ExactContext, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "support", "null_vector", "dependent"})
    columns, supp = _columns_and_support(claim, ctx, budget)
    z = int_list(claim["null_vector"], "null_vector", limits.max_digits)
    if len(z) != len(supp):
        raise Reject(f"null_vector has {len(z)} entries, expected one per support neuron ({len(supp)})")
    if not any(z):
        raise Reject("null_vector must not be zero")
    column_words = words(max_bits(v for j in supp for v in columns[j]))
    budget.charge(ctx.n * len(supp) * (words(max_bits(z)) * column_words + PY), "the product F z")
    if not is_relation(columns, supp, z):
        raise Reject("F[:, support] null_vector is not zero: not a linear relation between the fit columns")
    dependent = claim["dependent"]
    expected = [j for j, v in zip(supp, z, strict=True) if v]
    if not isinstance(dependent, list) or dependent != expected:
        raise Reject("dependent must list the support neurons with a non-zero null_vector entry: "
                     f"{expected[:10]}{'...' if len(expected) > 10 else ''}")
    return {"support": len(supp), "dependent": len(expected)}
