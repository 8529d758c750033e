"""Report section "accuracy against width": approximate pruning paths (floats, not certified).

:func:`width_table` evaluates pruning paths (:mod:`certify.selection.approximate`) on train and
test data; :func:`accuracy_vs_width_png` draws them; :func:`section_markdown` and
:func:`section_html` render the section (a figure and a table) for a report. Figures use the
Agg canvas only, like :mod:`certify.report.plots`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from certify.report.plots import _figure, _png
from certify.report.sections import figure_html, table_html, table_md
from certify.report.values import md_escape

TITLE = "Accuracy against width"
METHOD_LABELS = {"ls": "Optimal/LS (least-squares correction)", "magnitude": "magnitude",
                 "gradient": "gradient (first-order saliency)", "random": "random"}


@dataclass(frozen=True)
class WidthCurve:
    """One method's metrics against width (averaged over ``runs`` paths, e.g. random seeds).

    ``widths`` decrease; ``test_metric`` and ``objective`` have the same length.
    """

    method: str
    widths: np.ndarray
    test_metric: np.ndarray
    objective: np.ndarray
    runs: int = 1


def width_curve(method: str, paths: Sequence, metric: Callable[[object], float],
                objective: Callable[[object], float]) -> WidthCurve:
    """Average ``metric(step)`` and ``objective(step)`` over paths of equal widths."""
    widths = np.array([s.width for s in paths[0].steps])
    test = np.array([[metric(s) for s in p.steps] for p in paths]).mean(axis=0)
    obj = np.array([[objective(s) for s in p.steps] for p in paths]).mean(axis=0)
    return WidthCurve(method, widths, test, obj, len(paths))


def accuracy_vs_width_png(curves: Sequence[WidthCurve], metric_name: str = "test accuracy") -> bytes:
    """Test metric and training objective against width, one line per method (PNG bytes)."""
    fig = _figure(9.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    for c in curves:
        label = METHOD_LABELS.get(c.method, c.method) + (f" (mean of {c.runs})" if c.runs > 1 else "")
        ax1.plot(c.widths, c.test_metric, "-", marker="o", ms=2.5, lw=1.2, label=label)
        ax2.plot(c.widths, c.objective, "-", marker="o", ms=2.5, lw=1.2, label=label)
    ax1.set_xlabel("width (neurons)")
    ax1.set_ylabel(metric_name)
    ax1.set_title(f"{metric_name} against width", fontsize=10)
    ax2.set_xlabel("width (neurons)")
    ax2.set_ylabel("training objective NC")
    ax2.set_yscale("log")
    ax2.set_title("training objective against width", fontsize=10)
    for ax in (ax1, ax2):
        ax.invert_xaxis()
    ax1.legend(fontsize=7)
    return _png(fig)


def table_rows(curves: Sequence[WidthCurve], widths: Sequence[int]) -> list[list[str]]:
    """Rows ``[width, metric per method..., objective per method...]`` at the given widths."""
    rows = []
    for w in widths:
        row = [str(w)]
        for c in curves:
            k = np.flatnonzero(c.widths == w)
            row.append(f"{c.test_metric[k[0]]:.4f}" if k.size else "–")
        for c in curves:
            k = np.flatnonzero(c.widths == w)
            row.append(f"{c.objective[k[0]]:.4g}" if k.size else "–")
        rows.append(row)
    return rows


def _header(curves: Sequence[WidthCurve], metric_name: str) -> list[str]:
    return (["width"] + [f"{metric_name}: {c.method}" for c in curves]
            + [f"NC: {c.method}" for c in curves])


def _caption(metric_name: str) -> str:
    return (f"{metric_name} and training objective NC (certify's scaling) of the networks found by removing "
            "one neuron at a time. Optimal/LS removes the neuron whose removal, after a least-squares "
            "correction of the other output weights, changes the training fit least; the baselines remove "
            "the smallest magnitude ||W1_j|| |w2_j|, the smallest first-order saliency |w2_j <A_j, f - y>|, "
            "or a random neuron, without correction. Floats, not certified.")


def section_markdown(curves: Sequence[WidthCurve], widths: Sequence[int], image_link: str | None,
                     metric_name: str = "test accuracy") -> str:
    """The section as Markdown, its text escaped (``image_link``: the PNG's path relative to the
    document, or None; written as given)."""
    lines = [f"## {TITLE}", ""]
    if image_link:
        lines += [f"![{md_escape(metric_name)} and training objective against width]({image_link})", ""]
    lines += [f"*{md_escape(_caption(metric_name))}*", ""]
    lines.append(table_md(_header(curves, metric_name), table_rows(curves, widths)))
    return "\n".join(lines) + "\n"


def section_html(curves: Sequence[WidthCurve], widths: Sequence[int], png: bytes | None,
                 metric_name: str = "test accuracy") -> str:
    """The section as an HTML fragment (the figure embedded as base64)."""
    parts = [f"<section><h2>{html.escape(TITLE)}</h2>"]
    if png is not None:
        parts.append(figure_html(png, f"{metric_name} against width", _caption(metric_name)))
    parts.append(table_html(_header(curves, metric_name), table_rows(curves, widths)))
    parts.append("</section>")
    return "".join(parts)


def training_width_section(problem, network, random_runs: int = 3) -> str:
    """The "accuracy against width" section for a network on its own training data (floats).

    Prunes ``network`` one neuron at a time past minimality with each method of
    :func:`certify.selection.approximate.prune_path` (random: mean of ``random_runs`` seeds) and
    plots the training root-mean-square error and the training objective NC (certify's scaling)
    against width. There is no held-out data here, so the metric is the training RMSE.
    """
    from certify.selection.approximate import METHODS, prune_path
    from certify.selection.select import training_objective

    features = problem.features
    y = np.asarray(problem.y, np.float64)

    def rmse(step) -> float:
        return float(np.sqrt(np.mean((_fit(features, step) - y) ** 2)))

    def objective(step) -> float:
        return training_objective(problem, step.network(problem.bias))

    curves = []
    for method in METHODS:
        runs = range(random_runs) if method == "random" else range(1)
        W1 = network.weights(problem.bias)
        paths = [prune_path(features, y, W1, network.w2, method, seed=s) for s in runs]
        curves.append(width_curve(method, paths, rmse, objective))
    m = network.width
    widths = sorted({m, *(w for w in (40, 30, 20, 15, 10, 5, 3, 2, 1) if w <= m)}, reverse=True)
    png = accuracy_vs_width_png(curves, "training RMSE")
    return section_html(curves, widths, png, "training RMSE")


def _fit(features: np.ndarray, step) -> np.ndarray:
    return np.maximum(features @ step.W1, 0.0) @ step.w2
