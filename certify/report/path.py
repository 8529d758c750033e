"""Report of a certified eps-path: the p* band against lam, the grid points, the verdict.

The band: below, the certified lower envelope (chord of the grid lower bounds, exact); above,
``NC_lam`` of the network named for each segment (affine, exact); p* of the scope lies between.
Numbers are shown as floats rounded for reading; the certificate holds the exact values.
"""

from __future__ import annotations

import html
from fractions import Fraction

from certify.report.plots import _figure, _png, data_uri

TITLE = "Certified regularization path"


def band_png(result) -> bytes:
    """The band ``[lower envelope, NC of the named network]`` against lam (log lam axis)."""
    entries, L, names = result.entries, result.lower, result.segments
    fig = _figure(8.0, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    lam, low, up, gap = [], [], [], []
    pieces = [(k, j, top, bottom) for k, seg in enumerate(names)
              for j, top, bottom in seg.pieces(entries[k].lam, entries[k + 1].lam)]
    for k, j, top, bottom in pieces:
        for lam_v in (top, bottom):
            t = (lam_v - entries[k + 1].lam) / (entries[k].lam - entries[k + 1].lam)
            c = L[k + 1] + t * (L[k] - L[k + 1])
            u = entries[j].upper(lam_v)
            lam.append(float(lam_v))
            low.append(float(c))
            up.append(float(u))
            gap.append(float((u - c) / c) if result.relative and c > 0 else float(u - c))
    ax1.fill_between(lam, low, up, color="tab:blue", alpha=0.3, label="certified band")
    ax1.plot(lam, up, "-", color="tab:blue", lw=0.8, label="NC of the named network")
    ax1.plot([float(e.lam) for e in entries], [float(v) for v in L], "o", ms=2.5, color="black",
             label="grid lower bounds")
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
    ax2.set_title("certified gap at the grid and segment ends", fontsize=9)
    ax2.legend(fontsize=7)
    return _png(fig)


def _f(q: Fraction) -> str:
    return f"{float(q):.6g}"


def render_path_html(result, check_report=None, diagnostics=None) -> str:
    """A self-contained HTML page for a :class:`certify.certified_path.CertifiedPath`.

    ``diagnostics`` (a :class:`certify.path_diagnostics.PathDiagnostics`) adds the numerical
    diagnostics section (not certified claims).
    """
    claim = result.document["claims"][0]
    rows = []
    for k, e in enumerate(result.entries):
        named = ", ".join(str(s) for s, seg in enumerate(result.segments) if k in seg.networks) or "-"
        rows.append(f"<tr><td>{k}</td><td>{_f(e.lam)}</td><td>{_f(result.lower[k])}</td>"
                    f"<td>{_f(e.upper(e.lam))}</td><td>{e.network.W1.shape[1]}</td>"
                    f"<td>{html.escape(named)}</td></tr>")
    verdict = ""
    if check_report is not None:
        verdict = (f"<p><b>Independent check:</b> {html.escape(check_report.summary_line())}</p>")
    kind = "relative (NC - p* &le; eps p*)" if result.relative else "absolute (NC - p* &le; eps)"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>certify: regularization path</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}td,th{padding:2px 8px;"
        "text-align:right}table{border-collapse:collapse}tr:nth-child(even){background:#f3f3f3}</style>"
        f"</head><body><h1>{TITLE}</h1>"
        f"<p>Interval [{_f(result.entries[-1].lam)}, {_f(result.entries[0].lam)}], scope: a given set of "
        f"{len(claim['scope']['patterns'])} patterns (sha256 "
        f"{html.escape(claim['scope']['patterns_sha256'][:16])}"
        f"&hellip;), eps = {_f(result.eps)} {kind}. For every lam in the interval, the network named for "
        f"its segment is within eps of the optimum of the convex program over this scope (claim "
        f"<code>eps_path</code>). The zero network is optimal over the scope for every lam &ge; "
        f"{_f(result.threshold)} (claim <code>zero_optimal_above</code>).</p>{verdict}"
        f"<p>{result.points} grid points, {result.solves} solves, {result.rounds} refinement rounds.</p>"
        f"<img alt='band' src='{data_uri(band_png(result))}'>"
        "<h2>Grid points</h2><table><tr><th>k</th><th>lam</th><th>lower bound L</th><th>NC of the "
        "network</th><th>width</th><th>named for segments</th></tr>" + "".join(rows) + "</table>"
        "<p>Floats are rounded for reading; the certificate holds the exact rationals. Scaling: "
        "NC = 1/2 sum (f(x_k) - y_k)^2 + (lam/2) sum_j (||W1_j||^2 + w2_j^2).</p>"
        + (_diagnostics_section(diagnostics) if diagnostics is not None else "") + "</body></html>\n")


def _diagnostics_section(diagnostics) -> str:
    from certify.report.path_diagnostics import diagnostics_html

    return diagnostics_html(diagnostics)
