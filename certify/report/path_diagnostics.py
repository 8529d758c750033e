"""Report sections of the path diagnostics (:mod:`certify.path_diagnostics`): numerical, not certified.

* "Active-set changes" (:func:`changes_section_html`, :func:`changes_section_markdown`): the lam
  intervals between adjacent grid points where the merged support ``S_lam`` changes (blocks
  entering and leaving), the intervals where p-uniqueness holds at both ends of every grid segment
  (there the path is continuous if uniqueness holds throughout, theory.md §6) and the points where
  it fails (the path may jump), the C13 checks; plotted against lam (log axis).
* "Width against lam" (:func:`width_section_html`, :func:`width_section_markdown`): the width of a
  minimal network pruned from each grid solution (Algorithm 1 in floats) with its margin, where it
  changes, and the loss and penalty against lam.

Every value here is a float computation from approximate solutions, labelled *numerical*. Without
diagnostics (``certify path`` without ``--diagnostics``) each section says that it needs them.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from certify.report.plots import _figure, _png
from certify.report.sections import (
    NUMERICAL,
    Section,
    figure_html,
    figure_md,
    fmt_float,
    label_html,
    label_md,
    table_html,
    table_md,
)
from certify.report.values import md_escape

CHANGES_TITLE = "Active-set changes"
WIDTH_TITLE = "Width against lam"
NEEDS_DIAGNOSTICS = (
    "This section needs the numerical path diagnostics: run `certify path` with "
    "--diagnostics (about as much time again as the path: one optimal-set analysis per grid "
    "point)."
)


def _marks(ax, diag) -> None:
    for lo, hi in diag.unique_intervals:
        ax.axvspan(lo, hi, color="tab:green", alpha=0.12, lw=0)
    for c in diag.changes:
        ax.axvline(float(np.sqrt(c.lam_lo * c.lam_hi)), color="tab:purple", ls=":", lw=0.9)
    for lam in diag.nonunique:
        ax.axvline(lam, color="tab:red", ls="-", lw=0.9)


def changes_png(diag) -> bytes:
    """Support size and p-uniqueness margins against lam (changes and uniqueness marked)."""
    pts = diag.points
    lam = [p.lam for p in pts]
    fig = _figure(8.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.step(
        lam,
        [p.support_groups for p in pts],
        where="mid",
        color="tab:purple",
        lw=1.0,
        label="|S_lam| (merged support)",
    )
    ax1.plot(lam, [p.active for p in pts], "x", ms=3, color="black", label="active blocks of the solution")
    ax1.set_ylabel("blocks")
    ax1.legend(fontsize=7)
    ax2.plot(
        lam,
        [max(p.uniqueness_margin, 1e-16) for p in pts],
        "o-",
        ms=2.5,
        lw=0.8,
        color="tab:green",
        label="p-uniqueness margin",
    )
    ax2.plot(
        lam,
        [max(p.dual_margin, 1e-16) for p in pts],
        "s-",
        ms=2.5,
        lw=0.8,
        color="tab:orange",
        label="dual margin off S",
    )
    ax2.axhline(diag.tolerances.rank_tol, color="black", ls="--", lw=0.8, label="rank_tol")
    ax2.set_yscale("log")
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("lam")
        _marks(ax, diag)
    fig.suptitle(
        "green: p-unique at both ends; dotted: support/width change; red: p-uniqueness fails (numerical)",
        fontsize=8,
    )
    return _png(fig)


def width_png(diag) -> bytes:
    """Minimal width against lam (changes marked) and the loss and penalty against lam."""
    pts = diag.points
    lam = [p.lam for p in pts]
    fig = _figure(8.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.step(lam, [p.width for p in pts], where="mid", color="black", lw=1.0, label="minimal width")
    ax1.set_ylabel("neurons")
    ax1.legend(fontsize=7)
    ax2.plot(lam, [p.loss for p in pts], "o-", ms=2.5, lw=0.8, color="tab:orange", label="loss 1/2 ||r||^2")
    ax2.plot(
        lam,
        [p.penalty for p in pts],
        "s-",
        ms=2.5,
        lw=0.8,
        color="tab:brown",
        label="penalty lam sum ||w_b||",
    )
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("lam")
        _marks(ax, diag)
    return _png(fig)


def _change_rows(diag) -> list[list[str]]:
    return [
        [
            fmt_float(c.lam_lo, 6),
            fmt_float(c.lam_hi, 6),
            str(len(c.entered)),
            str(len(c.left)),
            f"{c.width_hi} → {c.width_lo}",
        ]
        for c in diag.changes
        if c.support_changed
    ]


def _uniqueness_text(diag) -> str:
    intervals = ", ".join(f"[{lo:.6g}, {hi:.6g}]" for lo, hi in diag.unique_intervals) or "none"
    fails = ", ".join(f"{v:.6g}" for v in diag.nonunique) or "none"
    passed = sum(c.passed for c in diag.c13)
    return (
        f"Numerically p-unique at both ends of every grid segment in: {intervals} (there the path is "
        f"continuous if uniqueness holds throughout, theory.md §6). p-uniqueness fails at lam = {fails} "
        f"(the path may jump there). C13 (p* non-decreasing, loss non-decreasing, penalty sum "
        f"non-increasing, derivative sandwich): {passed}/{len(diag.c13)} inequalities hold within "
        "tolerances derived from the gaps."
    )


def _tolerance_text(diag) -> str:
    t = diag.tolerances
    return (
        f"{diag.label}. Tolerances: rank_tol = {t.rank_tol:g}, merge_tol = {t.merge_tol:g}, eq_tol = "
        f"{t.eq_tol:g} (relative). {len(diag.points)} grid points."
    )


_CHANGES_HEADER = [
    "lam from",
    "lam to",
    "blocks entering",
    "blocks leaving",
    "minimal width (high lam → low)",
]
_CHANGES_CAPTION = (
    "Left: size of the merged support S_lam and the solution's active blocks against lam. "
    "Right: p-uniqueness margin (smallest singular value of the normalized M_S over the "
    "largest; unique iff above rank_tol) and dual margin off S. Floats, not certified."
)


def changes_section_html(diag) -> str:
    """The section "Active-set changes" as an HTML fragment (``diag`` None: says it needs --diagnostics)."""
    esc = html.escape
    head = f"<section><h2>{CHANGES_TITLE} {label_html(NUMERICAL)}</h2>"
    if diag is None:
        return head + f"<p>{esc(NEEDS_DIAGNOSTICS)}</p></section>"
    rows = _change_rows(diag)
    return "".join(
        [
            head,
            f"<p>{esc(_tolerance_text(diag))}</p>",
            figure_html(changes_png(diag), "support against lam", _CHANGES_CAPTION),
            "<h3>Where the support changes</h3>",
            table_html(_CHANGES_HEADER, rows)
            if rows
            else "<p>The support does not change between grid points.</p>",
            f"<p>{esc(_uniqueness_text(diag))}</p></section>",
        ]
    )


def changes_section_markdown(diag, image_dir: str | Path | None = None, image_link: str | None = None) -> str:
    """The section "Active-set changes" as Markdown (figure ``support.png`` into ``image_dir``)."""
    lines = [f"## {CHANGES_TITLE} {label_md(NUMERICAL)}", ""]
    if diag is None:
        return "\n".join(lines + [md_escape(NEEDS_DIAGNOSTICS), ""])
    rows = _change_rows(diag)
    lines += [
        md_escape(_tolerance_text(diag)),
        "",
        figure_md(
            changes_png(diag), "support", "support against lam", _CHANGES_CAPTION, image_dir, image_link
        ),
        "",
        "### Where the support changes",
        "",
        table_md(_CHANGES_HEADER, rows) if rows else "The support does not change between grid points.",
        "",
        md_escape(_uniqueness_text(diag)),
        "",
    ]
    return "\n".join(lines)


_WIDTH_HEADER = ["lam", "minimal width", "width margin", "|S_lam|", "p-unique", "loss", "penalty"]
_WIDTH_CAPTION = (
    "Left: width of a minimal network pruned from each grid solution (Algorithm 1 in floats) "
    "against lam. Right: loss 1/2 ||f(X) - y||^2 and penalty lam sum_b ||w_b|| of the grid "
    "solutions. Floats, not certified; the certified grid values are in the band section."
)


def _width_rows(diag) -> list[list[str]]:
    return [
        [
            fmt_float(p.lam, 6),
            str(p.width),
            fmt_float(p.width_margin, 3),
            str(p.support_groups),
            "yes" if p.unique else "NO",
            fmt_float(p.loss, 6),
            fmt_float(p.penalty, 6),
        ]
        for p in diag.points
    ]


def _width_changes_text(diag) -> str:
    ch = [c for c in diag.changes if c.width_changed]
    if not ch:
        return "The minimal width does not change between grid points."
    return (
        "The minimal width changes in: "
        + "; ".join(f"({c.lam_lo:.6g}, {c.lam_hi:.6g}): {c.width_hi} → {c.width_lo}" for c in ch)
        + "."
    )


def width_section_html(diag) -> str:
    """The section "Width against lam" as an HTML fragment (``diag`` None: says it needs --diagnostics)."""
    esc = html.escape
    head = f"<section><h2>{WIDTH_TITLE} {label_html(NUMERICAL)}</h2>"
    if diag is None:
        return head + f"<p>{esc(NEEDS_DIAGNOSTICS)}</p></section>"
    return "".join(
        [
            head,
            f"<p>{esc(_width_changes_text(diag))}</p>",
            figure_html(width_png(diag), "minimal width against lam", _WIDTH_CAPTION),
            table_html(_WIDTH_HEADER, _width_rows(diag)),
            "</section>",
        ]
    )


def width_section_markdown(diag, image_dir: str | Path | None = None, image_link: str | None = None) -> str:
    """The section "Width against lam" as Markdown (figure ``width.png`` into ``image_dir``)."""
    lines = [f"## {WIDTH_TITLE} {label_md(NUMERICAL)}", ""]
    if diag is None:
        return "\n".join(lines + [md_escape(NEEDS_DIAGNOSTICS), ""])
    lines += [
        md_escape(_width_changes_text(diag)),
        "",
        figure_md(
            width_png(diag), "width", "minimal width against lam", _WIDTH_CAPTION, image_dir, image_link
        ),
        "",
        table_md(_WIDTH_HEADER, _width_rows(diag)),
        "",
    ]
    return "\n".join(lines)


def changes_section(diag) -> Section:
    """ "Active-set changes" as a :class:`Section` (``diag``: a PathDiagnostics, or None)."""
    return Section(
        CHANGES_TITLE,
        lambda: changes_section_html(diag),
        lambda image_dir, image_link: changes_section_markdown(diag, image_dir, image_link),
    )


def width_section(diag) -> Section:
    """ "Width against lam" as a :class:`Section` (``diag``: a PathDiagnostics, or None)."""
    return Section(
        WIDTH_TITLE,
        lambda: width_section_html(diag),
        lambda image_dir, image_link: width_section_markdown(diag, image_dir, image_link),
    )
