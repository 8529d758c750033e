"""Report section of path diagnostics (:mod:`certify.path_diagnostics`): numerical, not certified.

Plots against lam (log axis): p* of the scope with the band [lower bound, objective] at the grid
points, the loss and the penalty ``lam * sum ||w_b||``; the width of a minimal network. Support
or width changes are marked by dotted vertical lines at the segment mid-points, grid segments that
are numerically p-unique at both ends are shaded green, points where p-uniqueness fails are red.
"""

from __future__ import annotations

import html

import numpy as np

from certify.report.plots import _figure, _png, data_uri

TITLE = "Path diagnostics (numerical, not certified)"


def _marks(ax, diag) -> None:
    for lo, hi in diag.unique_intervals:
        ax.axvspan(lo, hi, color="tab:green", alpha=0.12, lw=0)
    for c in diag.changes:
        ax.axvline(float(np.sqrt(c.lam_lo * c.lam_hi)), color="tab:purple", ls=":", lw=0.9)
    for lam in diag.nonunique:
        ax.axvline(lam, color="tab:red", ls="-", lw=0.9)


def diagnostics_png(diag) -> bytes:
    """Four panels: p* with its band, loss, penalty, minimal width against lam."""
    pts = diag.points
    lam = [p.lam for p in pts]
    fig = _figure(8.0, 6.0)
    axes = fig.subplots(2, 2).ravel()
    upper = [p.objective for p in pts]
    lower = [p.lower if np.isfinite(p.lower) else p.objective for p in pts]
    axes[0].fill_between(lam, lower, upper, color="tab:blue", alpha=0.3, label="band [lower, objective]")
    axes[0].plot(lam, upper, "o-", ms=2.5, lw=0.8, color="tab:blue", label="objective (p* estimate)")
    axes[0].set_ylabel("p*")
    axes[1].plot(lam, [p.loss for p in pts], "o-", ms=2.5, lw=0.8, color="tab:orange")
    axes[1].set_ylabel("loss 1/2 ||r||^2")
    axes[2].plot(lam, [p.penalty for p in pts], "o-", ms=2.5, lw=0.8, color="tab:brown")
    axes[2].set_ylabel("penalty lam sum ||w_b||")
    axes[3].step(lam, [p.width for p in pts], where="mid", color="black", lw=1.0, label="minimal width")
    axes[3].plot(lam, [p.support_groups for p in pts], "x", ms=3, color="tab:purple", label="|S| (merged)")
    axes[3].set_ylabel("neurons")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("lam")
        _marks(ax, diag)
    axes[0].legend(fontsize=7)
    axes[3].legend(fontsize=7)
    fig.suptitle("green: p-unique at both ends; dotted: support/width change; red: p-uniqueness fails",
                 fontsize=8)
    return _png(fig)


def diagnostics_html(diag) -> str:
    """An HTML section (heading, plot, change table, C13 summary) for :class:`PathDiagnostics`."""
    rows = []
    for c in diag.changes:
        rows.append(f"<tr><td>{c.lam_lo:.6g}</td><td>{c.lam_hi:.6g}</td><td>{len(c.entered)}</td>"
                    f"<td>{len(c.left)}</td><td>{c.width_hi} &rarr; {c.width_lo}</td></tr>")
    intervals = ", ".join(f"[{lo:.6g}, {hi:.6g}]" for lo, hi in diag.unique_intervals) or "none"
    fails = ", ".join(f"{v:.6g}" for v in diag.nonunique) or "none"
    passed = sum(c.passed for c in diag.c13)
    return (
        f"<h2>{TITLE}</h2><p>{html.escape(diag.label)}. Tolerances: rank_tol = "
        f"{diag.tolerances.rank_tol:g}, merge_tol = {diag.tolerances.merge_tol:g}, eq_tol = "
        f"{diag.tolerances.eq_tol:g} (relative).</p>"
        f"<img alt='path diagnostics' src='{data_uri(diagnostics_png(diag))}'>"
        "<h3>Support and minimal-width changes</h3><table><tr><th>lam from</th><th>lam to</th>"
        "<th>blocks entering</th><th>blocks leaving</th><th>minimal width (high lam &rarr; low)</th></tr>"
        + "".join(rows) + "</table>"
        f"<p>Numerically p-unique at both ends of every grid segment in: {html.escape(intervals)} (there "
        f"the path is continuous if uniqueness holds throughout, theory.md §6). p-uniqueness fails at "
        f"lam = {html.escape(fails)} (the path may jump).</p>"
        f"<p>C13 (p* non-decreasing, loss non-decreasing, penalty sum non-increasing, derivative sandwich): "
        f"{passed}/{len(diag.c13)} inequalities hold within tolerances derived from the gaps.</p>")
