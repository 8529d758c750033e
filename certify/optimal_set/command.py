"""``certify optimal-set``: the exact polytope of a network's neurons and the optimal set over a scope.

Two objects, never confused (theory.md §4):

* **the network polytope** ``{beta >= 0 : F beta = F 1}`` of the given network's own neurons,
  exact (dyadic weights, pycddlib in GMP-rational mode, cross-checked by a lexicographic basis
  search); its vertices are written as minimal networks with exact rational weights and a
  certificate claim (``network_polytope_vertices``) that ``certify check`` verifies;
* **the optimal set of the convex program over a pattern scope** (the network's own patterns or
  ``--patterns``), from a float solve (:func:`certify.solve.working_set.solve`): ``E``, ``S``,
  ``dim P`` and the p-uniqueness verdict, labelled numerical (the polytope of the rationalized
  estimates), with every tolerance stated.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import numpy as np

from certify.exact import patterns as pattern_strings
from certify.exact.rational import format_rational
from certify.network import Network
from certify.optimal_set.analysis import OptimalSet, optimal_set_of_solution
from certify.optimal_set.certificate import polytope_certificate
from certify.optimal_set.network_polytope import NetworkPolytope, network_polytope
from certify.problem import Problem
from certify.verify import exact_context


def own_patterns(problem: Problem, network: Network) -> np.ndarray:
    """The distinct float activation patterns ``1[X W1_j >= 0]`` of the network's neurons (n, P)."""
    X = problem.features
    pre = X @ network.weights(problem.bias)
    cols = np.unique((pre >= 0).astype(np.uint8), axis=1)
    return cols


def polytope_summary(poly: NetworkPolytope) -> dict:
    """JSON-ready description of the network polytope (exact rationals as strings)."""
    return {
        "meaning": "{beta >= 0 : F beta = F 1}, F_j = (X W1_j)_+ w2_j exact: every point keeps the fit "
                   "(neuron j scaled by sqrt(beta_j) in both layers, or w2_j by beta_j); the penalty is "
                   "linear in beta. Vertices = minimal re-weightings. Not an optimality claim.",
        "rank_F": poly.rank,
        "dimension": poly.dimension,
        "bounded": not poly.rays,
        "complete": poly.complete,
        "vertices": [{"beta": [format_rational(b) for b in net.beta], "neurons": net.neurons,
                      "width": net.width,
                      "W1": [[format_rational(v) for v in row] for row in net.W1],
                      "w2": [format_rational(v) for v in net.w2],
                      "penalty_balanced": format_rational(net.penalty_balanced)}
                     for net in poly.networks],
        "rays": [[format_rational(v) for v in ray] for ray in poly.rays],
        "seconds": poly.seconds,
    }


def optimal_set_summary(result: OptimalSet, D: np.ndarray) -> dict:
    """JSON-ready description of the (numerical) optimal set over the scope."""
    P = D.shape[1]

    def name(b: int) -> dict:
        p, s = result.block(b, P)
        return {"pattern": pattern_strings.encode(D[:, p].tolist()), "sign": s}

    return {
        "label": result.label,
        "verdict_kind": result.verdict_kind,
        "tolerances": asdict(result.tolerances),
        "scope_patterns": P,
        "equicorrelation": [name(b) for b in result.equicorrelation],
        "groups": [[name(b) for b in g] for g in result.groups],
        "support": result.support,
        "alpha_max": result.alpha_max.tolist(),
        "singular_values": result.singular_values.tolist(),
        "rank": result.rank,
        "dimension": result.dimension,
        "p_unique": result.unique,
        "max_correlation_ratio": float(result.correlation_norms.max(initial=0.0)),
    }


def run(problem: Problem, network: Network, patterns: np.ndarray | None = None, max_vertices: int = 10_000,
        max_bases: int = 20_000, solve_scope: bool = True, max_seconds: float | None = None,
        progress=None) -> dict:
    """Everything ``certify optimal-set`` writes, as a dict with the live objects under ``"_objects"``.

    ``max_vertices`` bounds the cdd enumeration (BudgetError with an estimate beyond it);
    ``max_bases`` and ``max_seconds`` bound the lexicographic search (beyond them the vertex list is
    written without completeness evidence); ``progress(found, frontier)`` reports that search.
    """
    from certify.solve.working_set import solve

    ctx = exact_context(problem, network)
    poly = network_polytope(ctx, max_vertices=max_vertices, max_bases=max_bases, max_seconds=max_seconds,
                            progress=progress)
    out = {"network_polytope": polytope_summary(poly), "lam": format_rational(problem.lam),
           "scaling": "1/2 sum (f(x_k) - y_k)^2 + (lam/2) sum_j (||W1_j||^2 + w2_j^2); bias: regularized "
                      "ones column" if problem.bias else
                      "1/2 sum (f(x_k) - y_k)^2 + (lam/2) sum_j (||W1_j||^2 + w2_j^2)"}
    objects = {"polytope": poly, "ctx": ctx}
    if solve_scope:
        D = patterns if patterns is not None else own_patterns(problem, network)
        objects["scope"] = D
        sol = solve(problem.features, problem.y, float(problem.lam), D)
        analysis = optimal_set_of_solution(problem.features, problem.y, sol)
        out["optimal_set"] = optimal_set_summary(analysis, D)
        out["optimal_set"]["solver"] = {"converged": sol.converged, "relative_gap": sol.gap,
                                        "objective": sol.objective, "message": sol.message,
                                        "scope": "given" if patterns is not None else "own (float patterns)"}
        objects["analysis"] = analysis
    out["_objects"] = objects
    return out


def write_outputs(result: dict, problem: Problem, network: Network, output: str, certificate: str | None,
                  report: str | None) -> None:
    """Write set.json, the certificate and the report."""
    from certify.certificates.certificate import to_json

    data = {k: v for k, v in result.items() if k != "_objects"}
    Path(output).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="ascii")
    objects = result["_objects"]
    if certificate:
        doc = polytope_certificate(problem, network, objects["ctx"], objects["polytope"])
        if "scope" in objects:
            from certify.optimal_set.uniqueness import NotExactlyOptimal, p_unique_claim

            try:
                doc["claims"].append(p_unique_claim(objects["ctx"], objects["scope"]))
                data["p_unique_certificate"] = "written: the network is exactly optimal over the scope"
                result["p_unique_certificate"] = data["p_unique_certificate"]
            except NotExactlyOptimal as exc:
                data["p_unique_certificate"] = f"not written: {exc}"
            result["p_unique_certificate"] = data["p_unique_certificate"]
        Path(certificate).write_text(to_json(doc), encoding="ascii")
        Path(output).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="ascii")
    if report:
        from certify.optimal_set.report import write_report

        write_report(report, data, objects["polytope"])


def summary(result: dict) -> str:
    """Plain-language summary."""
    poly = result["network_polytope"]
    widths = sorted({v["width"] for v in poly["vertices"]})
    lines = [f"network polytope: {len(poly['vertices'])} vertices (exact), dimension {poly['dimension']}, "
             f"rank F = {poly['rank_F']}, widths {widths}"
             + ("" if poly["bounded"] else f", unbounded ({len(poly['rays'])} rays)")
             + ("; completeness certified" if poly["complete"] else "; completeness NOT certified (budget)")]
    if "optimal_set" in result:
        s = result["optimal_set"]
        lines.append(f"optimal set over the scope ({s['scope_patterns']} patterns; {s['verdict_kind']}, "
                     f"rank tolerance {s['tolerances']['rank_tol']:g}): |E| = {len(s['equicorrelation'])}, "
                     f"{len(s['groups'])} after merging duplicates, |S| = {len(s['support'])}, "
                     f"dim P = {s['dimension']}, p-unique: {'yes' if s['p_unique'] else 'no'}")
        lines.append(f"  ({s['label']}; solver gap {s['solver']['relative_gap']:.2g})")
    if "p_unique_certificate" in result:
        lines.append(f"p_unique claim {result['p_unique_certificate']}")
    return "\n".join(lines)


def fraction_rows(rows) -> list[list[Fraction]]:
    return [[Fraction(v) for v in row] for row in rows]
