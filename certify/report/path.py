"""Report of a certified eps-path (``certify path --report``): a page made of sections.

Section "Certified band" (:func:`section_html`, :func:`section_markdown`, :func:`band_section`):
the band of ``p*`` against lam (below, the chord of the certified grid lower bounds; above,
``NC_lam`` of the network named for each segment, affine in lam; ``p*`` of the scope lies
between), the grid points, the checker's verdict, eps, the worst ratio of the certified gap to
eps and the threshold of ``zero_optimal_above``. Every exact value comes from the certificate (the
grid's lam, lower bounds, the networks' exact NC); the worst ratio is computed from them in exact
arithmetic. The figure plots those exact values as floats.

The sections "Active-set changes" and "Width against lam" come from the numerical path
diagnostics (:mod:`certify.report.path_diagnostics`). :func:`write_path_report` writes the page
as HTML or Markdown by the file's extension. Scaling: NC = 1/2 sum (f(x_k) - y_k)^2 + (lam/2)
sum_j (||W1_j||^2 + w2_j^2), a first-layer bias as a regularized ones column.
"""

from __future__ import annotations

import html
from fractions import Fraction
from pathlib import Path

from certify.certificates.path import chord
from certify.report.plots import _figure, _png
from certify.report.sections import (
    Raw,
    Section,
    claim_label,
    exact_html,
    exact_md,
    figure_html,
    figure_md,
    label_html,
    label_md,
    table_html,
    table_md,
    verdict_of,
    write_page,
)
from certify.report.values import md_code, md_escape

TITLE = "Certified band"
PAGE_TITLE = "Certified regularization path"


def band_png(result) -> bytes:
    """The band ``[lower envelope, NC of the named network]`` against lam (log lam axis), and the
    certified gap at the ends of every piece against eps (floats of the exact values)."""
    entries = result.entries
    lam, low, up, gap = [], [], [], []
    for _, _, lam_v, c, u in _piece_ends(result):
        lam.append(float(lam_v))
        low.append(float(c))
        up.append(float(u))
        gap.append(float((u - c) / c) if result.relative and c > 0 else float(u - c))
    fig = _figure(8.0, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.fill_between(lam, low, up, color="tab:blue", alpha=0.3, label="certified band")
    ax1.plot(lam, up, "-", color="tab:blue", lw=0.8, label="NC of the named network")
    ax1.plot(
        [float(e.lam) for e in entries],
        [float(v) for v in result.lower],
        "o",
        ms=2.5,
        color="black",
        label="grid lower bounds",
    )
    lam_lo, lam_hi = float(entries[-1].lam), float(entries[0].lam)
    if lam_lo <= float(result.threshold) <= lam_hi:
        ax1.axvline(float(result.threshold), color="gray", ls=":", lw=1, label="zero optimal above")
    ax1.set_xscale("log")
    ax1.set_xlabel("lam")
    ax1.set_ylabel("p* of the scope")
    ax1.legend(fontsize=7)
    ax2.plot(lam, gap, "-", lw=0.8, color="tab:red")
    ax2.axhline(float(result.eps), color="black", ls="--", lw=0.8, label="eps")
    ax2.set_xscale("log")
    ax2.set_xlabel("lam")
    ax2.set_ylabel("relative gap" if result.relative else "gap")
    ax2.set_title("certified gap at the piece ends", fontsize=9)
    ax2.legend(fontsize=7)
    return _png(fig)


def _piece_ends(result):
    """``(segment k, named network j, lam, chord of the lower bounds, NC_lam(theta_j))`` at both ends of
    every piece of every segment (exact Fractions)."""
    entries, L = result.entries, result.lower
    for k, seg in enumerate(result.segments):
        hi, lo = entries[k], entries[k + 1]
        for j, top, bottom in seg.pieces(hi.lam, lo.lam):
            for lam_v in (top, bottom):
                yield k, j, lam_v, chord(lo.lam, L[k + 1], hi.lam, L[k], lam_v), entries[j].upper(lam_v)


def worst_ratio(result) -> Fraction | None:
    """``max (gap / eps)`` over the piece ends (exact): the fraction of eps the band uses at worst.

    The gap ``NC_lam(theta_j) - chord`` (relative: divided by the chord) is affine (relative:
    linear-fractional) on each piece, so its largest value is at a piece end. None when a
    relative gap has a non-positive chord (then the relative ratio is not defined).
    """
    worst = None
    for _, _, _, c, u in _piece_ends(result):
        if result.relative:
            if c <= 0:
                return None
            g = (u - c) / c
        else:
            g = u - c
        worst = g if worst is None or g > worst else worst
    return None if worst is None else worst / result.eps


def _scope_text(claim: dict) -> str:
    scope = claim.get("scope") if isinstance(claim.get("scope"), dict) else {}
    kind = str(scope.get("kind", "?"))[:40]
    pats = scope.get("patterns")
    digest = str(scope.get("patterns_sha256", ""))[:16]
    count = f"{len(pats)} patterns, " if isinstance(pats, list) else ""
    if kind == "global" and isinstance(scope.get("cells"), list):  # certify path --global
        return (
            f"pattern scope of all activation patterns ({len(scope['cells'])} cells of the data's "
            "hyperplane arrangement, verified complete: p* is the optimum over all networks of any "
            f"width; both signs; pattern set sha256 {digest}…)"
        )
    return f"pattern scope of kind {kind} ({count}both signs; pattern set sha256 {digest}…)"


def _facts(result, check_report) -> dict:
    doc = result.document
    claims = doc.get("claims", [])
    eps_claim = next((c for c in claims if c.get("type") == "eps_path"), {})
    path_label = claim_label(verdict_of(check_report, str(eps_claim.get("id", "eps_path"))))
    zero_label = claim_label(verdict_of(check_report, "zero_optimal_above"))
    verdicts = (
        []
        if check_report is None
        else [
            (str(v.claim_id), "accepted" if v.accepted else "REJECTED", str(v.reason)[:300])
            for v in check_report.verdicts
        ]
    )
    return {
        "claim": eps_claim,
        "path_label": path_label,
        "zero_label": zero_label,
        "verdicts": verdicts,
        "ratio": worst_ratio(result),
        "kind": "relative" if result.relative else "absolute",
        "summary": "not checked" if check_report is None else check_report.summary_line(),
    }


def _statement(result, f: dict) -> str:
    lo, hi = result.entries[-1].lam, result.entries[0].lam
    rel = "NC − p* ≤ eps · p*" if result.relative else "NC − p* ≤ eps"
    return (
        f"For every lam in [{_q(lo)}, {_q(hi)}], the network named for lam's segment is within eps = "
        f"{_q(result.eps)} ({f['kind']}: {rel}) of p*, the optimum of the convex program over the "
        f"{_scope_text(f['claim'])} (claim eps_path). The zero network is optimal over the scope for "
        f"every lam ≥ {_q(result.threshold)} (claim zero_optimal_above). p* is concave in lam, so it "
        "lies above the chord of the grid lower bounds; each named network's NC is affine in lam; the "
        "checker verifies both envelopes exactly on the whole interval (proofs/path.md)."
    )


def _q(value: Fraction) -> str:
    from certify.exact.rational import approx

    return approx(value, 6)


def _key_rows(result, f: dict, exact, label) -> list[list[object]]:
    ratio = f["ratio"]
    return [
        [
            "lam_min, lam_max",
            Raw(f"{exact(result.entries[-1].lam)}, {exact(result.entries[0].lam)}"),
            label(f["path_label"]),
        ],
        [f"eps ({f['kind']})", exact(result.eps), label(f["path_label"])],
        ["grid points", str(result.points), label(f["path_label"])],
        [
            "worst ratio certified gap / eps (exact, from the claim's values)",
            exact(ratio) if ratio is not None else "undefined (a chord is not positive)",
            label(f["path_label"]),
        ],
        ["zero network optimal for every lam ≥ (threshold)", exact(result.threshold), label(f["zero_label"])],
        ["solves, refinement rounds", f"{result.solves}, {result.rounds}", label("numerical")],
    ]


def _grid_rows(result, exact) -> list[list[object]]:
    rows = []
    for k, e in enumerate(result.entries):
        named = ", ".join(str(s) for s, seg in enumerate(result.segments) if k in seg.networks) or "–"
        rows.append(
            [
                str(k),
                exact(e.lam),
                exact(result.lower[k]),
                exact(e.upper(e.lam)),
                exact(e.loss),
                exact(e.lam * e.squares / 2),
                str(e.network.W1.shape[1]),
                named,
            ]
        )
    return rows


_GRID_HEADER = [
    "k",
    "lam",
    "lower bound L_k ≤ p*(lam_k)",
    "NC_lam_k of the grid network",
    "loss",
    "penalty",
    "width",
    "named on segments",
]
_EXACT_COLUMNS = set(_GRID_HEADER[1:7])  # lam, L_k, NC, loss, penalty, width: exact values of the claim
_CAPTION = (
    "Left: the certified band of p* of the scope against lam: below, the chord of the grid lower "
    "bounds; above, NC of the network named for each piece; dots, the grid lower bounds. Right: the "
    "certified gap (relative to the chord for a relative eps) at the ends of every piece against eps. "
    "Floats of the certificate's exact values, for reading."
)


FOLD_ROWS = 40
"""HTML grid tables longer than this are folded into a ``<details>`` block (open on click)."""


def _folded(table: str, rows: int) -> str:
    if rows <= FOLD_ROWS:
        return table
    return f"<details><summary>{rows} grid points (click to show the table)</summary>{table}</details>"


def section_html(result, check_report: object = None) -> str:
    """The section "Certified band" as an HTML fragment (figure embedded, text escaped).

    Parameters
    ----------
    result : CertifiedPath
        From :func:`certify.certified_path.certify_path`.
    check_report : CheckReport, optional
        The independent checker's report on ``result.document``; without it the exact values are
        labelled *unchecked*, with a rejection *rejected*.
    """
    f = _facts(result, check_report)
    esc = html.escape
    verdicts = "".join(f"<li><code>{esc(c)}</code>: {esc(v)} ({esc(r)})</li>" for c, v, r in f["verdicts"])
    lab = f["path_label"]
    header = [Raw(esc(h) + (" " + label_html(lab) if h in _EXACT_COLUMNS else "")) for h in _GRID_HEADER]
    return "".join(
        [
            f"<section><h2>{TITLE}</h2>",
            f"<p>{esc(_statement(result, f))}</p>",
            f"<p><strong>Independent check:</strong> {esc(f['summary'])}</p>",
            f"<ul>{verdicts}</ul>" if verdicts else "",
            table_html(["quantity", "value", "label"], _key_rows(result, f, exact_html, label_html)),
            figure_html(band_png(result), "certified band of p* against lam", _CAPTION),
            "<h3>Grid points</h3>",
            f"<p>Exact values ({label_html(lab)} with the eps_path claim: lam_k and L_k are in the claim, "
            "NC and its loss and penalty are recomputed exactly from the embedded networks); rounded for "
            "reading, the exact value in the tooltip or beside it.</p>",
            _folded(table_html(header, _grid_rows(result, exact_html)), result.points),
            "</section>",
        ]
    )


def section_markdown(
    result, check_report: object = None, image_dir: str | Path | None = None, image_link: str | None = None
) -> str:
    """The section "Certified band" as Markdown; the figure is written as ``band.png`` into ``image_dir``."""
    f = _facts(result, check_report)
    lab = f["path_label"]
    header = [Raw(md_escape(h) + (" " + label_md(lab) if h in _EXACT_COLUMNS else "")) for h in _GRID_HEADER]
    lines = [
        f"## {TITLE}",
        "",
        md_escape(_statement(result, f)),
        "",
        f"**Independent check:** {md_escape(f['summary'])}",
        "",
    ]
    lines += [f"- {md_code(c)}: {md_escape(v)} ({md_escape(r)})" for c, v, r in f["verdicts"]]
    lines += [
        "",
        table_md(["quantity", "value", "label"], _key_rows(result, f, exact_md, label_md)),
        "",
        figure_md(
            band_png(result), "band", "certified band of p* against lam", _CAPTION, image_dir, image_link
        ),
        "",
        "### Grid points",
        "",
        f"Exact values ({label_md(lab)} with the eps\\_path claim: lam\\_k and L\\_k are in the claim, NC "
        "and its loss and penalty are recomputed exactly from the embedded networks); rounded for "
        "reading, the exact value beside it.",
        "",
        table_md(header, _grid_rows(result, exact_md)),
        "",
    ]
    return "\n".join(lines)


def band_section(result, check_report: object = None) -> Section:
    """The section "Certified band" for :func:`certify.report.sections.write_page` or the main report."""
    return Section(
        TITLE,
        lambda: section_html(result, check_report),
        lambda image_dir, image_link: section_markdown(result, check_report, image_dir, image_link),
    )


def path_sections(result, check_report: object = None, diagnostics: object = None) -> list[Section]:
    """The sections of a path report: "Certified band", "Active-set changes", "Width against lam".

    Without ``diagnostics`` (``certify path`` without ``--diagnostics``) the last two say that they
    need it.
    """
    from certify.report.path_diagnostics import changes_section, width_section

    return [band_section(result, check_report), changes_section(diagnostics), width_section(diagnostics)]


def _intro(result) -> tuple[str, str]:
    inputs = result.document.get("inputs", {})
    text = (
        f"A data certificate (n = {inputs.get('n', '?')}, d = {inputs.get('d', '?')}, bias = "
        f"{inputs.get('bias', '?')}): its claims speak about the data and the pattern scope; the grid "
        "networks are embedded in it (check it with `certify check CERT --data D`)."
    )
    return f"<p>{html.escape(text)}</p>", md_escape(text)


def write_path_report(
    path: str | Path, result, check_report: object = None, diagnostics: object = None
) -> Path:
    """Write the path report (HTML or Markdown by ``path``'s extension; Markdown figures in
    ``<stem>_files/``): "Certified band", "Active-set changes", "Width against lam".

    Parameters
    ----------
    path : str or Path
        ``.html``/``.htm`` or ``.md``/``.markdown``.
    result : CertifiedPath
    check_report : CheckReport, optional
        :func:`certify.check.path.check_data_certificate` on ``result.document``.
    diagnostics : PathDiagnostics, optional
        :func:`certify.path_diagnostics.diagnose_certified_path` of ``result`` (``--diagnostics``).
    """
    intro_html, intro_md = _intro(result)
    return write_page(
        path,
        PAGE_TITLE,
        result.document,
        check_report,
        path_sections(result, check_report, diagnostics),
        intro_html,
        intro_md,
    )
