"""Producer of the ``network_polytope_vertices`` claim (docs/certificate-format.md).

Turns an exact :class:`~certify.optimal_set.network_polytope.NetworkPolytope` into a claim:
every vertex with its width and the objective of its balanced re-scaled network, a non-zero
minor modulo a prime for each vertex, and, when the lexicographic search completed within its
budget, the completeness evidence (rows and lexicographically feasible bases). Checked by
:mod:`certify.check.polytope`; proof in proofs/optimal_set.md.
"""

from __future__ import annotations

from fractions import Fraction

import flint

from certify.certificates import certificate
from certify.exact.context import ExactContext
from certify.exact.linalg import DEFAULT_PRIME, independent_rows
from certify.exact.rational import format_rational, int_to_str
from certify.network import Network
from certify.optimal_set.network_polytope import FALLBACK_PRIMES, NetworkPolytope
from certify.problem import Problem

CLAIM_TYPE = "network_polytope_vertices"


def _minor_rows(F: list[list[int]], support: list[int], prime: int) -> list[int] | None:
    if not support:
        return []
    return independent_rows(flint.fmpz_mat([[row[j] for j in support] for row in F]), prime)


def polytope_claim(ctx: ExactContext, polytope: NetworkPolytope, claim_id: str = "network_polytope",
                   include_completeness: bool = True) -> dict:
    """The claim for ``polytope`` (complete when its lexicographic search completed)."""
    F = polytope.F
    for prime in FALLBACK_PRIMES:
        minors = [_minor_rows(F, [j for j, v in enumerate(beta) if v], prime) for beta in polytope.vertices]
        if all(rows is not None for rows in minors):
            break
    else:  # pragma: no cover - a vertex's support columns are independent over Q
        raise ArithmeticError("no prime found for the vertex minors")
    loss = ctx.evaluation.loss
    vertices = [{"beta": [format_rational(v) for v in net.beta], "width": net.width,
                 "objective": format_rational(loss + net.penalty_balanced)} for net in polytope.networks]
    complete = include_completeness and polytope.complete
    rows: list[int] = []
    bases: list[dict] = []
    if complete:
        index = {beta: i for i, beta in enumerate(polytope.vertices)}
        search = polytope.search
        rows = list(search.start.rows)
        start = search.start.basis
        order = [start] + sorted(b for b in search.bases if b != start)
        bases = [{"columns": list(b), "vertex": index[search.bases[b]]} for b in order]
    return {"id": claim_id, "type": CLAIM_TYPE, "vertices": vertices, "complete": complete,
            "evidence": {"prime": int_to_str(prime if prime else DEFAULT_PRIME), "minor_rows": minors,
                         "rows": rows, "bases": bases}}


def polytope_certificate(problem: Problem, network: Network, ctx: ExactContext, polytope: NetworkPolytope,
                         include_completeness: bool = True) -> dict:
    """A certificate document holding the ``network_polytope_vertices`` claim."""
    claim = polytope_claim(ctx, polytope, include_completeness=include_completeness)
    diagnostics = {
        "certified": False,
        "rank_F": polytope.rank,
        "dimension": polytope.dimension,
        "rays": len(polytope.rays),
        "lexicographic_bases": len(polytope.search.bases) if polytope.search else None,
        "seconds": {k: round(v, 3) for k, v in polytope.seconds.items()},
        "note": ("every point beta of {beta >= 0 : F beta = F 1} keeps the fit f(X) exactly (neuron j "
                 "scaled by sqrt(beta_j) in both layers); the penalty is linear in beta. Not an "
                 "optimality claim."),
    }
    from certify.exact.digest import network_digest

    digest = network_digest(network.W1.tolist(), network.w2.tolist(),
                             None if network.b1 is None else network.b1.tolist())
    return certificate.build(problem, digest, network.width, [claim], diagnostics)


def fraction_list(values) -> list[Fraction]:
    """Exact Fractions of an iterable of numbers (helper for callers and tests)."""
    return [Fraction(v) for v in values]
