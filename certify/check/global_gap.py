"""Check of the *global gap* claim (proofs/global_gap.md, theory.md §3).

Claim: ``NC(theta) - inf { NC(theta') : theta' any two-layer ReLU network of any width } <= gap``.

Accept iff, with ``rho = evidence.rho / den`` and the cells' multipliers ``mu = mu_num / den``:

1. every listed cell has an integer witness ``u`` with ``x_k^T u != 0`` for every non-zero row
   (an interior point), and no two witnesses lie in the same cell (their patterns differ);
2. the list is complete, by one of two schemes (the checker recomputes the hyperplane classes
   and the exact rank ``r`` of X itself):

   * ``count``: there are exactly ``2 sum_{k<r} C(h - 1, k)`` cells, ``h`` the number of distinct
     hyperplanes: the most a central arrangement of rank r can have, so none is missing;
   * ``flips``: for every cell and every class, either the cell with that class flipped is
     listed, or a Farkas certificate (``den * s_t rep_t = sum num_i s_i rep_i``, ``num >= 0``,
     over the other classes) shows that the class is not a facet of the cell;

3. for every cell (pattern D) and both signs s, ``mu >= 0`` (indices strictly increasing) and
   ``||s X^T D rho + X^T (2D - I) mu||^2 <= lam^2`` exactly;
4. ``lower_bound <= <rho, y> - 1/2 ||rho||^2`` and ``NC(theta) - lower_bound <= gap``.

Then every network of any width has NC >= lower_bound (the closures of the cells cover R^d,
so every neuron lies in the cone of a listed pattern), hence the claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from certify.check.fields import int_list, integer, plain_int, rational_field, require_keys
from certify.check.gap import check_lower_bound
from certify.check.limits import PY, max_bits, resources, words
from certify.check.verdict import Reject
from certify.exact import arrangement, dual
from certify.exact.rational import approx, format_rational

#: Cells are checked in chunks of about this many entries of ``X U`` (n per cell).
CHUNK_ENTRIES = 1 << 20

COMPLETENESS_KINDS = ("count", "flips")


def witnesses(cells: list, d: int, max_digits: int, keys: set[str] = frozenset({"u", "mu_idx", "mu_num"}),
              where: str = "cells") -> list[list[int]]:
    """The integer witnesses ``u`` (d entries each) of a list of cells with exactly ``keys``."""
    out = []
    for i, cell in enumerate(cells):
        require_keys(cell, set(keys), where=f"{where}[{i}]")
        u = int_list(cell["u"], f"{where}[{i}].u", max_digits)
        if len(u) != d:
            raise Reject(f"{where}[{i}].u has {len(u)} entries, expected d = {d}")
        out.append(u)
    return out


def _multipliers(cell: dict, i: int, n: int, max_digits: int) -> list[tuple[list[int], list[int]]]:
    idx_lists, num_lists = cell["mu_idx"], cell["mu_num"]
    if not isinstance(idx_lists, list) or not isinstance(num_lists, list) or len(idx_lists) != 2 \
            or len(num_lists) != 2:
        raise Reject(f"cells[{i}]: mu_idx and mu_num must each hold two lists (sign +1, sign -1)")
    out = []
    for s, (idx, raw) in enumerate(zip(idx_lists, num_lists, strict=True)):
        where = f"cells[{i}] (sign {'+1' if s == 0 else '-1'})"
        if not isinstance(idx, list) or not all(isinstance(k, int) and not isinstance(k, bool) for k in idx):
            raise Reject(f"{where}: mu_idx must be a list of integers")
        num = int_list(raw, f"{where} mu_num", max_digits)
        if len(idx) != len(num):
            raise Reject(f"{where}: mu_idx and mu_num differ in length")
        if any(k < 0 or k >= n for k in idx) or any(a >= b for a, b in zip(idx, idx[1:], strict=False)):
            raise Reject(f"{where}: mu_idx must be strictly increasing indices in [0, {n})")
        if any(v < 0 for v in num):
            raise Reject(f"{where}: a cone multiplier is negative")
        out.append((idx, num))
    return out


def _complete(spec: object, classes: arrangement.Classes, rank: int, patterns: list[bytes],
              inputs: dict, where: str) -> str:
    limits, budget = resources(inputs)
    if not isinstance(spec, dict) or spec.get("kind") not in COMPLETENESS_KINDS:
        raise Reject(f"{where} must be an object with kind in {list(COMPLETENESS_KINDS)}")
    h = classes.count
    bound = arrangement.region_bound(h, rank)
    if spec["kind"] == "count":
        require_keys(spec, {"kind", "hyperplanes", "rank", "regions"}, where="completeness")
        stated = [plain_int(spec[key], f"completeness.{key}", 0, 1 << 62)
                  for key in ("hyperplanes", "rank", "regions")]
        if stated != [h, rank, bound]:
            raise Reject(f"completeness: the data have {h} distinct hyperplanes of rank {rank}, at most "
                         f"{bound} cells; the certificate states {stated[0]}, {stated[1]}, {stated[2]}")
        if len(patterns) != bound:
            raise Reject(f"completeness by count: {len(patterns)} cells listed, but only a list of all "
                         f"{bound} = 2 sum_(k<{rank}) C({h - 1}, k) cells is complete by count")
        return "count"
    require_keys(spec, {"kind", "hyperplanes", "rank", "nonfacets"}, where="completeness")
    stated = [plain_int(spec[key], f"completeness.{key}", 0, 1 << 62) for key in ("hyperplanes", "rank")]
    if stated != [h, rank]:
        raise Reject(f"completeness: the data have {h} distinct hyperplanes of rank {rank}; the "
                     f"certificate states {stated[0]}, {stated[1]}")
    entries = spec["nonfacets"]
    if not isinstance(entries, list):
        raise Reject("completeness.nonfacets must be a list")
    P = len(patterns)
    budget.charge(P * h * PY * 4, f"the flip closure of {P} cells over {h} hyperplanes")
    keys = [arrangement.class_signs(p, classes) for p in patterns]
    listed = set(keys)
    proofs: dict[tuple[int, int], int] = {}
    for e, entry in enumerate(entries):
        require_keys(entry, {"cell", "class", "den", "idx", "num"}, where=f"nonfacets[{e}]")
        c = plain_int(entry["cell"], f"nonfacets[{e}].cell", 0, P)
        t = plain_int(entry["class"], f"nonfacets[{e}].class", 0, h)
        if (c, t) in proofs:
            raise Reject(f"nonfacets[{e}] repeats the proof of nonfacets[{proofs[(c, t)]}]")
        den = integer(entry["den"], f"nonfacets[{e}].den", limits.max_digits)
        idx = entry["idx"]
        if not isinstance(idx, list) or not all(isinstance(k, int) and not isinstance(k, bool) for k in idx):
            raise Reject(f"nonfacets[{e}].idx must be a list of integers")
        num = int_list(entry["num"], f"nonfacets[{e}].num", limits.max_digits)
        if den <= 0 or any(v < 0 for v in num) or len(num) != len(idx):
            raise Reject(f"nonfacets[{e}]: den must be positive, num non-negative and as long as idx")
        if any(k < 0 or k >= h or k == t for k in idx) or \
                any(a >= b for a, b in zip(idx, idx[1:], strict=False)):
            raise Reject(f"nonfacets[{e}].idx must be strictly increasing classes in [0, {h}) other than {t}")
        budget.charge(len(classes.reps[t]) * (PY + len(idx) * words(max_bits(num) + 64)),
                      f"the Farkas combination of nonfacets[{e}]")
        if not arrangement.farkas_holds(classes, keys[c], t, den, idx, num):
            raise Reject(f"nonfacets[{e}]: the combination does not equal hyperplane class {t} of cell {c}: "
                         "no proof that it is not a facet")
        proofs[(c, t)] = e
    for c, key in enumerate(keys):
        for t in range(h):
            if (key ^ (1 << t)) not in listed and (c, t) not in proofs:
                raise Reject(f"completeness by flips: cell {c} flipped across hyperplane class {t} (row "
                             f"{classes.first_row[t]}) is not listed, and no proof shows that class {t} is "
                             "not a facet of the cell: the list may miss cells")
    return "flips"


@dataclass(frozen=True)
class CellList:
    """A verified complete list of cells of the data's arrangement (checks 1 and 2).

    Attributes
    ----------
    patterns : one ``bytes`` of length n per listed cell (byte k = ``d_k``), pairwise distinct.
    correlations : ``X^T D rho`` (integers) per cell when ``rho`` was given, else empty.
    classes, rank : the hyperplane classes and the exact rank of X, recomputed.
    scheme : the completeness scheme verified, ``"count"`` or ``"flips"``.
    """

    patterns: list[bytes]
    correlations: list[list[int]]
    classes: arrangement.Classes
    rank: int
    scheme: str


def verify_cell_list(U: list[list[int]], completeness: object, ctx, inputs: dict,
                     rho: list[int] | None = None, where: str = "evidence.completeness") -> CellList:
    """Checks 1 and 2 of the module docstring: every witness of ``U`` is inside a cell, no cell is listed
    twice, and the list is complete (``completeness``, recomputing the classes and the rank of ``ctx.X``).

    Only ``ctx.X``, ``ctx.X_rows`` and ``ctx.zero_rows`` are used (the features, bias column included).
    With ``rho``, also ``X^T D rho`` of every cell (one integer product per chunk, while the witnesses'
    patterns are at hand). Work and memory are charged to the budget of ``inputs`` first.
    """
    _, budget = resources(inputs)
    n, d = ctx.n, ctx.d
    P = len(U)
    wx = budget.words(ctx, "X")
    wu = words(max(max_bits(u) for u in U))
    budget.memory(n * min(P, max(1, CHUNK_ENTRIES // n)) * 8 * (wx + wu + 2), "a chunk of witness products")
    budget.charge(P * n * (d * wx * wu + 2 * PY), f"the signs of {P} witnesses on {n} rows")
    X_rows = ctx.X_rows
    zero = ctx.zero_rows
    chunk = max(1, CHUNK_ENTRIES // n)
    XR = None
    if rho is not None:
        wr = words(max_bits(rho))
        budget.charge(P * n * (d * wx * wr + 2 * PY), f"correlating rho with {P} cell patterns")
        XR = arrangement.weighted_transpose(X_rows, rho)
    patterns: list[bytes] = []
    corr: list[list[int]] = []
    for start in range(0, P, chunk):  # the witnesses' patterns, and X^T D rho for each, a chunk at a time
        part = U[start:start + chunk]
        try:
            codes, bits = arrangement.patterns_of_witnesses(ctx.X.mat, zero, part)
        except ValueError as exc:
            raise Reject(f"cells[{start}+]: {exc}") from None
        patterns.extend(codes)
        if XR is not None:
            corr.extend(arrangement.correlations(XR, bits, len(part)))
    seen: dict[bytes, int] = {}
    for i, p in enumerate(patterns):
        if p in seen:
            raise Reject(f"cells[{i}] lies in the same cell as cells[{seen[p]}] (equal patterns)")
        seen[p] = i
    budget.charge(n * d * PY + d * d * n * wx * wx, "the hyperplane classes and the exact rank of X")
    classes = arrangement.hyperplane_classes(X_rows)
    rank = arrangement.rank(X_rows, d)
    scheme = _complete(completeness, classes, rank, patterns, inputs, where)
    return CellList(patterns, corr, classes, rank, scheme)


def check_global_gap(claim: dict, ctx, inputs: dict) -> dict:
    limits, budget = resources(inputs)
    require_keys(claim, {"id", "type", "lower_bound", "gap", "evidence"})
    budget.forward(ctx)
    ev = require_keys(claim["evidence"], {"den", "rho", "cells", "completeness"}, where="evidence")
    lower = rational_field(claim, "lower_bound", limits.max_digits)
    gap = rational_field(claim, "gap", limits.max_digits)
    den = integer(ev["den"], "evidence.den", limits.max_digits)
    if den <= 0:
        raise Reject("evidence.den must be positive")
    n, d = ctx.n, ctx.d
    rho = int_list(ev["rho"], "evidence.rho", limits.max_digits, length=n)
    cells = ev["cells"]
    if not isinstance(cells, list) or not cells:
        raise Reject("evidence.cells must be a non-empty list")
    U = witnesses(cells, d, limits.max_digits)
    listed = verify_cell_list(U, ev["completeness"], ctx, inputs, rho)
    patterns, corr = listed.patterns, listed.correlations
    X_rows, wx = ctx.X_rows, budget.words(ctx, "X")
    lam_sq = ctx.lam * ctx.lam
    worst = None
    for i, pat in enumerate(patterns):
        mus = _multipliers(cells[i], i, n, limits.max_digits)
        bits = {k: pat[k] for idx, _ in mus for k in idx}
        for (idx, num), sign in zip(mus, (1, -1), strict=True):
            budget.charge(d * (PY + len(idx) * wx * words(max_bits(num))), f"the bound of cells[{i}]")
            v = (dual.block_vector(X_rows, corr[i], sign, bits, idx, num) if idx
                 else [sign * c for c in corr[i]])
            bsq = dual.bound_squared(v, ctx.X.shift, den)
            if bsq > lam_sq:
                raise Reject(f"cells[{i}] (sign {sign:+d}): squared cone bound {approx(bsq)} exceeds "
                             f"lam^2 = {approx(lam_sq)}; the residual is not dual feasible over all "
                             "activation patterns")
            worst = bsq if worst is None or bsq > worst else worst
    dual_val = check_lower_bound(ctx, rho, den, lower, gap)
    return {"cells": len(patterns), "completeness": listed.scheme, "hyperplanes": listed.classes.count,
            "rank": listed.rank, "dual_value": format_rational(dual_val),
            "gap": format_rational(ctx.evaluation.objective - lower),
            "max_bound_sq": format_rational(worst if worst is not None else 0)}
