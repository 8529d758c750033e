"""HTML report of ``certify sensitivity``: the hypotheses with their margins, the derivative of the
weights in lam, and the per-training-point influence ``d yhat / d y`` (table and plot).

Numbers are floats rounded for reading; the certificate holds the exact statements.
"""

from __future__ import annotations

import html

import numpy as np

from certify.report.plots import _figure, _png, data_uri

TITLE = "Sensitivity of a minimal optimal network"


def influence_png(influence: np.ndarray) -> bytes:
    """Left: the influence matrix ``d yhat_i / d y_k``; right: each point's self-influence (diagonal)
    and total influence ``sum_i |d yhat_i / d y_k|`` on the fit."""
    fig = _figure(8.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    vmax = float(np.abs(influence).max()) or 1.0
    im = ax1.imshow(influence, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax1.set_xlabel("training target y_k")
    ax1.set_ylabel("fitted value yhat_i")
    ax1.set_title("d yhat / d y", fontsize=9)
    fig.colorbar(im, ax=ax1, fraction=0.046)
    k = np.arange(influence.shape[0])
    ax2.bar(k, np.abs(influence).sum(axis=0), color="tab:blue", alpha=0.5, label="sum_i |d yhat_i / d y_k|")
    ax2.plot(k, np.diag(influence), "o", ms=3, color="black", label="self-influence d yhat_k / d y_k")
    ax2.set_xlabel("training point k")
    ax2.legend(fontsize=7)
    ax2.set_title("which points the model depends on", fontsize=9)
    return _png(fig)


def _row(cells) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


def render_sensitivity_html(result, check_report=None, top: int = 20) -> str:
    """A self-contained page for a :class:`certify.sensitivity.certificate.SensitivityResult`."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{TITLE}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:auto}td,th{padding:2px 8px;"
             "border-bottom:1px solid #ddd;text-align:right}table{border-collapse:collapse}</style>",
             "</head><body>",
             f"<h1>{TITLE}</h1>"]
    if result.valid:
        parts.append("<p><b>Hypotheses hold</b>; the derivatives below are reported. The certificate's "
                     "<code>sensitivity</code> claim states exactly what is checked; that these are the "
                     "derivatives of the optimal solution map is first order (implicit function theorem) "
                     f"with condition number of J about {result.kernel.condition:.3g}.</p>")
    else:
        parts.append(f"<p><b>No derivative is reported</b>: {html.escape(result.refusal)}</p>")
    if check_report is not None:
        parts.append(f"<p>Independent check: <b>{html.escape(check_report.summary_line())}</b></p>")
    parts.append("<h2>Hypotheses</h2><table><tr><th>hypothesis</th><th>holds</th><th>margin</th>"
                 "<th>threshold</th><th>detail</th></tr>")
    for h in result.kernel.hypotheses:
        parts.append(_row([h.name, "yes" if h.holds else "NO", f"{h.margin:.4g}", f"{h.threshold:.3g}",
                           h.detail]))
    parts.append("</table>")
    if result.valid:
        der = result.derivatives
        parts.append("<h2>Weights against lam</h2><table><tr><th>neuron</th><th>||dW1_j/dlam||</th>"
                     "<th>dw2_j/dlam</th></tr>")
        dW1 = np.array(der["dW1_dlam"])
        for i, j in enumerate(der["neurons"]):
            parts.append(_row([j, f"{np.linalg.norm(dW1[:, i]):.4g}", f"{der['dw2_dlam'][i]:.4g}"]))
        parts.append("</table>")
        infl = np.array(der["influence"])
        total = np.abs(infl).sum(axis=0)
        order = np.argsort(-total)[:top]
        parts.append(f"<h2>Influence of the training points</h2><p>The {len(order)} points with the largest "
                     "total influence on the fit. Points with zero influence do not move the model "
                     "(to first order).</p><table><tr><th>point k</th><th>sum_i |d yhat_i/d y_k|</th>"
                     "<th>d yhat_k / d y_k</th></tr>")
        for k in order:
            parts.append(_row([int(k), f"{total[k]:.4g}", f"{infl[k, k]:.4g}"]))
        parts.append(f"</table><img alt='influence' src='{data_uri(influence_png(infl))}'>")
    parts.append("</body></html>")
    return "\n".join(parts)
