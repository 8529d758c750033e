"""Plain-language summary of a pruning result (reporting only; no computation)."""

from __future__ import annotations

from certify.exact.rational import approx
from certify.pruning.api import PruneResult


def prune_summary(result: PruneResult) -> str:
    """Widths, exact objectives, steps and the (uncertified) near-dependence report."""
    ex = result.exact
    original_width = result.certificate["claims"][1]["original_width"]
    if result.method == "fast":
        steps = f"{len(result.certificate['diagnostics']['pruning']['steps_float'])} float step(s)"
    else:
        steps = f"{len(ex.steps)} exact pruning step(s)"
    lines = [
        f"width {original_width} -> {result.network.width} ({len(ex.dead)} zero neuron(s) removed first, "
        f"{steps}; {ex.rank} exactly independent fit column(s) kept)",
        f"objective NC: original {approx(ex.objective_original, 12)}, "
        f"exact pruned {approx(ex.objective, 12)} "
        f"(exact rational network in the certificate), written floats {approx(result.objective, 12)}",
        f"written network: NC {'<=' if result.objective_not_increased else '>'} original NC, exactly; "
        f"||f(written) - f(original)||^2 = {approx(result.fit_deviation_sq, 4)} (float rounding of the "
        "exact network, whose fit equals the original's exactly)",
    ]
    if result.method == "fast":
        count = len(result.certificate["diagnostics"]["pruning"]["steps_float"])
        lines.append(f"method: fast ({count} float step(s), logged in the diagnostics as estimates; one "
                     "exact final solve, exactly verified)")
    elif result.fallback is not None:
        lines.append(f"method: exact (the fast candidate was rejected: {result.fallback})")
    if ex.refused:
        worst = min(r.increase for r in ex.refused)
        lines.append(f"NOT minimal: {len(ex.refused)} dependent neuron(s) kept because removing them would "
                     f"increase NC (least exact increase {approx(worst, 4)})")
    kind = "minimal (independent fit columns)" if result.minimal else "not minimal (dependent fit columns)"
    lines.append(f"written network: {kind}, certified exactly")
    near = result.near_dependence
    if near["columns"]:
        lines.append(f"near-dependence (floats, not certified): numerical rank {near['numerical_rank']} of "
                     f"{near['columns']} at relative tolerance {near['tolerance']:g}; "
                     "smallest singular value "
                     f"{near['smallest'][0]:.3g} (columns scaled to unit norm)")
    return "\n".join(lines)
