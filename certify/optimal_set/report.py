"""Report section of ``certify optimal-set``: the network polytope projected on two coordinates.

A self-contained HTML (or Markdown) page: the exact vertices as a table (widths, penalties of the
balanced re-scaled networks), a figure of the polytope projected on the two coordinates of
``beta`` that vary most over the vertices (the convex hull of the projected vertices, which is the
projection of the polytope when it is bounded), and the numerical optimal set over the scope with
its tolerances. Figures are floats and certify nothing; every string is escaped.
"""

from __future__ import annotations

import html
from fractions import Fraction
from pathlib import Path

import numpy as np

from certify.optimal_set.network_polytope import NetworkPolytope
from certify.report.plots import data_uri


def projection_coordinates(vertices: list[tuple[Fraction, ...]], count: int = 2) -> list[int]:
    """The ``count`` coordinates with the largest spread over the vertices (ties: lowest index)."""
    if not vertices:
        return []
    V = np.array([[float(v) for v in vert] for vert in vertices])
    spread = V.max(axis=0) - V.min(axis=0)
    order = sorted(range(V.shape[1]), key=lambda j: (-spread[j], j))
    return sorted(order[:min(count, V.shape[1])])


def polytope_png(poly: NetworkPolytope) -> bytes | None:
    """The polytope's vertices projected on two coordinates, with their convex hull."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    coords = projection_coordinates(poly.vertices, 2)
    if len(coords) < 2:
        return None
    V = np.array([[float(vert[j]) for j in coords] for vert in poly.vertices])
    fig = Figure(figsize=(4.8, 4.0), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if len(V) >= 3:
        try:
            from scipy.spatial import ConvexHull

            hull = ConvexHull(V)
            loop = list(hull.vertices) + [hull.vertices[0]]
            ax.fill(V[loop, 0], V[loop, 1], alpha=0.2, color="tab:blue")
            ax.plot(V[loop, 0], V[loop, 1], color="tab:blue", lw=1)
        except Exception:  # degenerate (collinear) projection: draw the points only
            pass
    elif len(V) == 2:
        ax.plot(V[:, 0], V[:, 1], color="tab:blue", lw=1)
    ax.scatter(V[:, 0], V[:, 1], color="tab:red", zorder=3)
    for i, (a, b) in enumerate(V):
        ax.annotate(f"v{i} (w={poly.networks[i].width})", (a, b), textcoords="offset points", xytext=(4, 4),
                    fontsize=8)
    ax.scatter([1.0], [1.0], marker="x", color="black", zorder=3)
    ax.annotate("the given network (beta = 1)", (1.0, 1.0), textcoords="offset points", xytext=(4, -10),
                fontsize=8)
    ax.set_xlabel(f"beta_{coords[0]}")
    ax.set_ylabel(f"beta_{coords[1]}")
    ax.set_title("network polytope, projected (floats)")
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def render_html(data: dict, poly: NetworkPolytope) -> str:
    """The report page."""
    e = html.escape
    np_ = data["network_polytope"]
    rows = "".join(
        f"<tr><td>v{i}</td><td>{v['width']}</td><td>{e(', '.join(map(str, v['neurons'])))}</td>"
        f"<td><code>{e(v['penalty_balanced'])}</code></td></tr>" for i, v in enumerate(np_["vertices"]))
    png = polytope_png(poly)
    figure = (f'<img alt="network polytope" src="{data_uri(png)}">' if png
              else "<p>(one coordinate: no figure)</p>")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>certify optimal-set</title></head><body>",
        "<h1>Optimal set and network polytope</h1>",
        f"<p>λ = <code>{e(data['lam'])}</code>. Scaling: {e(data['scaling'])}.</p>",
        "<h2>The network polytope (exact)</h2>",
        f"<p>{e(np_['meaning'])}</p>",
        f"<p>rank F = {np_['rank_F']}, dimension {np_['dimension']}, "
        f"{'bounded' if np_['bounded'] else 'unbounded'}; {len(np_['vertices'])} vertices; completeness "
        f"{'certified (network_polytope_vertices claim)' if np_['complete'] else 'not certified'}.</p>",
        "<table border='1'><tr><th>vertex</th><th>width</th><th>neurons</th>"
        "<th>penalty of the balanced network</th></tr>" + rows + "</table>",
        figure,
    ]
    if "optimal_set" in data:
        s = data["optimal_set"]
        parts += [
            "<h2>Optimal set over the pattern scope (numerical)</h2>",
            f"<p><b>{e(s['label'])}</b>. Verdicts are {e(s['verdict_kind'])}; tolerances: "
            f"{e(', '.join(f'{k} = {v:g}' for k, v in s['tolerances'].items()))}.</p>",
            f"<p>|E| = {len(s['equicorrelation'])}, {len(s['groups'])} after merging duplicate blocks, "
            f"|S| = {len(s['support'])}, dim P = {s['dimension']}, p-unique: "
            f"{'yes' if s['p_unique'] else 'no'} (singular values of the normalized M_S: "
            f"{e(', '.join(f'{v:.3g}' for v in s['singular_values']))}).</p>",
            f"<p>Solver: relative gap {s['solver']['relative_gap']:.3g}, {e(s['solver']['message'])}.</p>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: str | Path, data: dict, poly: NetworkPolytope) -> Path:
    """Write the HTML report (a ``.md`` path gets the same content as HTML-in-Markdown)."""
    path = Path(path)
    path.write_text(render_html(data, poly), encoding="utf-8")
    return path
