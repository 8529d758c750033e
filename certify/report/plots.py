"""The report's figures as PNG bytes (matplotlib, Agg; floats, not certified).

Figures are drawn on :class:`matplotlib.figure.Figure` objects rendered by the Agg canvas,
never through ``pyplot``: importing or calling this module does not change the caller's
matplotlib backend or global figure state. matplotlib is imported inside the functions, so
``import certify`` does not import it.
"""

from __future__ import annotations

import base64
import io

import numpy as np

from certify.report.data import BlockBounds, PlotData

DPI = 110


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def residuals_png(data: PlotData) -> bytes:
    """Residuals ``y - f(X)`` against the sample index, and their histogram.

    Parameters
    ----------
    data : PlotData
        From :func:`certify.report.data.plot_data`.

    Returns
    -------
    bytes
        A PNG image.
    """
    from matplotlib.ticker import MaxNLocator

    r = np.asarray(data.residuals, dtype=float)
    fig = _figure(8.0, 3.0)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[2, 1])
    ax1.axhline(0.0, color="0.6", lw=0.8)
    ax1.vlines(np.arange(r.size), 0.0, r, color="tab:blue", lw=0.8, alpha=0.6)
    ax1.plot(np.arange(r.size), r, "o", ms=3, color="tab:blue")
    ax1.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.set_xlabel("sample k")
    ax1.set_ylabel("residual $y_k - f(x_k)$")
    ax1.set_title("Residual per sample")
    bins = int(min(40, max(5, np.sqrt(max(r.size, 1)) * 2)))
    ax2.hist(r, bins=bins, color="tab:blue", alpha=0.8, orientation="horizontal")
    ax2.axhline(0.0, color="0.6", lw=0.8)
    ax2.set_xlabel("count")
    ax2.set_title("Histogram")
    ax2.sharey(ax1)
    return _png(fig)


def _bounds_axes(ax, blocks: BlockBounds, lam: float) -> None:
    order = np.argsort(-blocks.bounds, kind="stable")
    vals = blocks.bounds[order]
    own = blocks.own_neuron[order]
    pos = blocks.signs[order] > 0
    x = np.arange(vals.size)
    for mask, marker, label in ((pos & ~own, "^", "sign +1"), (~pos & ~own, "v", "sign −1"),
                                (own, "*", "a neuron's own block (float pattern, sign of $w_2$)")):
        if mask.any():
            ax.plot(x[mask], vals[mask], marker, ls="none", ms=9 if marker == "*" else 5, label=label,
                    color="tab:orange" if marker == "*" else ("tab:blue" if marker == "^" else "tab:green"))
    ax.axhline(lam, color="tab:red", lw=1.2, ls="--", label=f"λ = {lam:.6g} (above: infeasible)")
    top = max(lam, float(vals.max()) if vals.size else lam)
    ax.set_ylim(0.0, top * 1.12 if top > 0 else 1.0)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("blocks, sorted by bound")
    ax.set_ylabel("one-cone bound of block (pattern, sign)")
    ax.set_title(f"Dual constraint per block: claim {blocks.claim_id[:40]} (scope {blocks.scope_kind[:20]}, "
                 f"{vals.size} blocks)", fontsize=10, parse_math=False)
    ax.legend(fontsize=8, loc="lower left")


def dual_bounds_png(data: PlotData) -> bytes | None:
    """Per-block one-cone bounds of each sub-sampled gap claim against ``lam``.

    Parameters
    ----------
    data : PlotData
        From :func:`certify.report.data.plot_data`.

    Returns
    -------
    bytes or None
        A PNG image with one panel per gap claim, or None when there is no gap claim.
    """
    if not data.gap_blocks:
        return None
    k = len(data.gap_blocks)
    fig = _figure(8.0, 3.4 * k)
    axes = fig.subplots(k, 1, squeeze=False)[:, 0]
    for ax, blocks in zip(axes, data.gap_blocks, strict=True):
        _bounds_axes(ax, blocks, data.lam)
    return _png(fig)


def figures(data: PlotData) -> dict[str, bytes]:
    """All figures by name: ``"residuals"`` and, when there is a gap claim, ``"dual_bounds"``."""
    out = {"residuals": residuals_png(data)}
    bounds = dual_bounds_png(data)
    if bounds is not None:
        out["dual_bounds"] = bounds
    return out


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for embedding a PNG in HTML."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
