"""Report section "Sensitivity" of ``certify sensitivity --report`` (in the main report of the network).

Built from the sensitivity certificate document alone (so a stored certificate renders the same):

* the hypotheses of the implicit-function formula with their float margins and thresholds
  (``diagnostics.sensitivity_hypotheses``, numerical);
* what the *sensitivity* claim certifies exactly (labelled by the checker's verdict: minimality by a
  non-zero minor modulo a prime, the tight-row tolerance and slack margin, positive multipliers and
  the stationarity bound, the dual bound below lam, the residual bound of the rational system and its
  non-singularity), and what is first order (that the stated solution of the system is the
  derivative of the optimal solution map) or numerical (the conditioning of J);
* the float derivatives (``diagnostics.sensitivity``, numerical): the fit's derivative in lam against
  the data index and sorted, the influence ``d yhat / d y`` (leverages ``d yhat_k / d y_k``: the ten
  most influential points, a heat map and a bar plot), and the weights' derivatives in lam per neuron.

When the hypotheses fail (no claim), the section names the failing hypotheses, says that nothing is
claimed, and draws no derivative. A polish record (``diagnostics.polish``, written by ``certify
sensitivity --polish``) is shown as "Polished network" (numerical). Scaling: certify's (loss
``1/2 ||f(X) - y||^2``, penalty ``(lam/2) sum_j (||W1_j||^2 + w2_j^2)``, a first-layer bias as a
regularized ones column).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from certify.report.plots import _figure, _png
from certify.report.sections import (
    NUMERICAL,
    Section,
    claim_label,
    exact_html,
    exact_md,
    figure_html,
    figure_md,
    fmt_float,
    label_html,
    label_md,
    table_html,
    table_md,
    verdict_of,
)
from certify.report.values import md_escape

TITLE = "Sensitivity"
TOP = 10
HEATMAP_MAX = 200
"""The heat map shows at most this many points (the most influential by leverage) for large data sets."""


@dataclass
class SensitivityView:
    """What the section shows, read from a sensitivity certificate document (never trusted).

    ``derivatives`` is None when there is no claim, or the float derivatives are missing or
    malformed (``notes`` says why).
    """

    claim: dict | None
    hypotheses: list[dict]
    refusal: str
    lam: object
    derivatives: dict | None
    condition: float | None
    notes: list[str] = field(default_factory=list)
    polish: dict | None = None

    @property
    def valid(self) -> bool:
        return self.claim is not None


def _float_array(value: object, ndim: int) -> np.ndarray | None:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return a if a.ndim == ndim and np.isfinite(a).all() else None


def _derivatives(raw: object, notes: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        notes.append("The certificate carries no float derivatives (diagnostics.sensitivity).")
        return None
    dfit = _float_array(raw.get("dfit_dlam"), 1)
    infl = _float_array(raw.get("influence"), 2)
    dW1 = _float_array(raw.get("dW1_dlam"), 2)
    dw2 = _float_array(raw.get("dw2_dlam"), 1)
    neurons = raw.get("neurons")
    ok = (
        dfit is not None
        and infl is not None
        and dW1 is not None
        and dw2 is not None
        and isinstance(neurons, list)
        and infl.shape == (dfit.size, dfit.size)
        and dW1.shape[1] == dw2.size == len(neurons)
    )
    if not ok:
        notes.append("The float derivatives in the certificate's diagnostics are malformed; not drawn.")
        return None
    return {
        "dfit_dlam": dfit,
        "influence": infl,
        "dW1_dlam": dW1,
        "dw2_dlam": dw2,
        "neurons": [str(j)[:20] for j in neurons],
    }


def sensitivity_view(result: object) -> SensitivityView:
    """The section's data from a :class:`~certify.sensitivity.certificate.SensitivityResult` or its
    certificate document (a dict)."""
    doc = result if isinstance(result, dict) else getattr(result, "document", {})
    doc = doc if isinstance(doc, dict) else {}
    claims = doc.get("claims") if isinstance(doc.get("claims"), list) else []
    claim = next((c for c in claims if isinstance(c, dict) and c.get("type") == "sensitivity"), None)
    diag = doc.get("diagnostics") if isinstance(doc.get("diagnostics"), dict) else {}
    hyps = (
        [h for h in diag.get("sensitivity_hypotheses", []) if isinstance(h, dict)]
        if isinstance(diag.get("sensitivity_hypotheses"), list)
        else []
    )
    refusal = str(diag.get("refusal") or getattr(result, "refusal", "") or "")
    inputs = doc.get("inputs") if isinstance(doc.get("inputs"), dict) else {}
    notes: list[str] = []
    derivatives = _derivatives(diag.get("sensitivity"), notes) if claim is not None else None
    numerical = (
        claim.get("numerical") if claim is not None and isinstance(claim.get("numerical"), dict) else {}
    )
    cond = numerical.get("condition")
    if not isinstance(cond, (int, float)) or isinstance(cond, bool):
        cond = None
    if claim is None and not refusal:
        refusal = "the certificate has no sensitivity claim"
    polish = diag.get("polish") if isinstance(diag.get("polish"), dict) else None
    return SensitivityView(
        claim,
        hyps,
        refusal,
        inputs.get("lam"),
        derivatives,
        None if cond is None else float(cond),
        notes,
        polish,
    )


POLISH_TITLE = "Polished network"
_POLISH_NOTE = (
    "The network was polished before certification (`certify sensitivity --polish`): the certificate and "
    "this report are about the polished network. Its record, floating point:"
)


def _polish_rows(polish: dict) -> list[list[str]]:
    """The polish record's entries (scalars as values, lists as counts, the log and statement left out)."""
    rows = []
    for key, value in polish.items():
        if key in ("statement", "log"):
            continue
        if isinstance(value, (list, dict)):
            value = f"{len(value)} entries"
        rows.append([str(key)[:60], fmt_float(value, 6) if isinstance(value, float) else str(value)[:300]])
    return rows[:40]


def _polish_text(polish: dict) -> str:
    statement = polish.get("statement")
    return _POLISH_NOTE if not isinstance(statement, str) else f"{_POLISH_NOTE[:-1]} ({statement[:600]}):"


# -------------------------------------------------------------------------------------------------
# figures (floats)


def fit_dlam_png(dfit: np.ndarray) -> bytes:
    """``d yhat_k / d lam`` against the data index, and sorted."""
    fig = _figure(8.0, 3.0)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[2, 1])
    k = np.arange(dfit.size)
    ax1.axhline(0.0, color="0.6", lw=0.8)
    ax1.vlines(k, 0.0, dfit, color="tab:blue", lw=0.8, alpha=0.6)
    ax1.plot(k, dfit, "o", ms=3, color="tab:blue")
    ax1.set_xlabel("training point k")
    ax1.set_ylabel("d yhat_k / d lam")
    ax1.set_title("derivative of the fit in lam, by point", fontsize=9)
    ax2.plot(np.sort(dfit), "-", color="tab:blue", lw=1.0)
    ax2.axhline(0.0, color="0.6", lw=0.8)
    ax2.set_xlabel("points, sorted")
    ax2.set_title("sorted", fontsize=9)
    return _png(fig)


def influence_png(influence: np.ndarray) -> bytes:
    """Left: the influence matrix ``d yhat_i / d y_k`` (at most :data:`HEATMAP_MAX` points, the most
    influential by leverage); right: the leverages ``d yhat_k / d y_k`` and the total influence
    ``sum_i |d yhat_i / d y_k|`` of each point."""
    n = influence.shape[0]
    lev = np.diag(influence)
    keep = (
        np.arange(n) if n <= HEATMAP_MAX else np.sort(np.argsort(-np.abs(lev), kind="stable")[:HEATMAP_MAX])
    )
    sub = influence[np.ix_(keep, keep)]
    fig = _figure(8.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    vmax = float(np.abs(sub).max()) or 1.0
    im = ax1.imshow(sub, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax1.set_xlabel("training target y_k" + ("" if n <= HEATMAP_MAX else f" ({keep.size} largest leverages)"))
    ax1.set_ylabel("fitted value yhat_i")
    ax1.set_title("d yhat / d y", fontsize=9)
    fig.colorbar(im, ax=ax1, fraction=0.046)
    k = np.arange(n)
    ax2.bar(k, np.abs(influence).sum(axis=0), color="tab:blue", alpha=0.4, label="sum_i |d yhat_i / d y_k|")
    ax2.plot(k, lev, "o", ms=3, color="black", label="leverage d yhat_k / d y_k")
    ax2.set_xlabel("training point k")
    ax2.legend(fontsize=7)
    ax2.set_title("which points the model depends on", fontsize=9)
    return _png(fig)


def weights_dlam_png(neurons: list[str], dW1: np.ndarray, dw2: np.ndarray) -> bytes:
    """Per neuron: ``||d W1_j / d lam||`` and ``d w2_j / d lam``."""
    fig = _figure(8.0, 3.0)
    ax1, ax2 = fig.subplots(1, 2)
    x = np.arange(len(neurons))
    ax1.bar(x, np.linalg.norm(dW1, axis=0), color="tab:purple")
    ax1.set_ylabel("||d W1_j / d lam||")
    ax2.bar(x, dw2, color="tab:orange")
    ax2.axhline(0.0, color="0.6", lw=0.8)
    ax2.set_ylabel("d w2_j / d lam")
    for ax in (ax1, ax2):
        ax.set_xticks(x, neurons, fontsize=7)
        ax.set_xlabel("neuron j")
    return _png(fig)


# -------------------------------------------------------------------------------------------------
# text and tables


def _hypothesis_rows(view: SensitivityView) -> list[list[str]]:
    rows = []
    for h in view.hypotheses:
        holds = h.get("holds")
        rows.append(
            [
                str(h.get("name", "?"))[:60],
                "yes" if holds is True else "NO",
                fmt_float(h.get("margin")),
                fmt_float(h.get("threshold"), 3),
                str(h.get("detail", ""))[:300],
            ]
        )
    return rows


def failing_hypotheses(view: SensitivityView) -> list[str]:
    """Names of the hypotheses whose float test fails (as listed in the certificate's diagnostics)."""
    return [str(h.get("name", "?"))[:60] for h in view.hypotheses if h.get("holds") is not True]


def _refusal_text(view: SensitivityView) -> str:
    failing = failing_hypotheses(view)
    named = ("Failing hypotheses: " + ", ".join(failing) + ". ") if failing else ""
    return (
        f"Nothing is claimed: no derivative is certified or reported, because {view.refusal[:1000]}. "
        f"{named}The implicit-function formula (theory.md §6) needs every hypothesis; where one fails the "
        "optimal solution map may not be differentiable at this lam."
    )


def _certified_rows(view: SensitivityView, exact, label, kind: str) -> list[list[object]]:
    c = view.claim or {}
    lab = label(kind)
    mini = c.get("minimality") if isinstance(c.get("minimality"), dict) else {}
    neurons = c.get("neurons") if isinstance(c.get("neurons"), list) else []
    tight = c.get("tight") if isinstance(c.get("tight"), list) else []
    n_tight = sum(len(t) for t in tight if isinstance(t, list))
    lam = view.lam
    rows = [
        [
            "minimality: the fits of the support's neurons are independent (a non-zero minor modulo a prime)",
            f"{len(neurons)} neurons, prime {str(mini.get('prime', '?'))[:40]}",
            lab,
        ],
        [
            f"tight rows ({n_tight}): |x_k^T W1_j| / (||x_k|| ||W1_j||) ≤ (tight_tolerance)",
            exact(c.get("tight_tolerance")),
            lab,
        ],
        [
            "the other rows: |x_k^T W1_j| / (||x_k|| ||W1_j||) ≥ (slack_margin)",
            exact(c.get("slack_margin")),
            lab,
        ],
        [
            "multipliers of the tight rows are > 0; restricted stationarity residual ≤ (stationarity_bound)",
            exact(c.get("stationarity_bound")),
            lab,
        ],
        [
            "one-cone bound of every block off the active set ≤ (dual_bound) < lam",
            exact(c.get("dual_bound")),
            lab,
        ],
        ["lam", exact(lam) if lam is not None else "?", lab],
        [
            "the stated derivatives solve the rational system J_c d = R_c to (residual_bound, entrywise)",
            exact(c.get("residual_bound")),
            lab,
        ],
        ["J_c is non-singular (det ≠ 0 modulo the prime)", str(c.get("prime", "?"))[:40], lab],
        [
            "that d is the derivative of the optimal solution map (implicit function theorem)",
            "first order",
            label(NUMERICAL),
        ],
        [
            "condition number of J (2-norm)",
            fmt_float(view.condition, 3) if view.condition is not None else "?",
            label(NUMERICAL),
        ],
    ]
    return rows


def _top_rows(infl: np.ndarray, top: int) -> list[list[str]]:
    lev = np.diag(infl)
    total = np.abs(infl).sum(axis=0)
    order = np.argsort(-np.abs(lev), kind="stable")[:top]
    return [
        [str(r + 1), str(int(k)), fmt_float(float(lev[k])), fmt_float(float(total[k]))]
        for r, k in enumerate(order)
    ]


def _weight_rows(der: dict) -> list[list[str]]:
    norms = np.linalg.norm(der["dW1_dlam"], axis=0)
    return [
        [j, fmt_float(float(a)), fmt_float(float(b))]
        for j, a, b in zip(der["neurons"], norms, der["dw2_dlam"], strict=True)
    ]


def _fit_text(dfit: np.ndarray) -> str:
    k = int(np.argmax(np.abs(dfit)))
    return (
        f"Derivative of the fitted values in lam, d yhat / d lam (first order): largest |d yhat_k / d lam| = "
        f"{abs(float(dfit[k])):.4g} at point {k}; ||d yhat / d lam|| = {float(np.linalg.norm(dfit)):.4g}."
    )


def _influence_text(infl: np.ndarray, top: int) -> str:
    return (
        f"d yhat_i / d y_k: how the fitted value at point i moves with the target of point k (first "
        f"order). The leverage d yhat_k / d y_k is a point's influence on its own fit; their sum (the "
        f"trace, effective degrees of freedom of the fit) is {float(np.trace(infl)):.4g} for n = "
        f"{infl.shape[0]}. The {min(top, infl.shape[0])} points with the largest leverage (|value|):"
    )


_HYP_HEADER = ["hypothesis", "holds", "margin", "threshold", "detail"]
_FIT_CAPTION = (
    "d yhat_k / d lam of the float derivatives, by training point and sorted. Numerical, first order."
)
_INFL_CAPTION = (
    "Left: the influence matrix d yhat_i / d y_k. Right: the leverage d yhat_k / d y_k (dots) and "
    "the total influence sum_i |d yhat_i / d y_k| (bars) of each training point. Numerical, first "
    "order; a point with zero influence does not move the model."
)
_W_CAPTION = "Per neuron of the support: ||d W1_j / d lam|| and d w2_j / d lam (balanced network). Numerical."
_HYP_NOTE = (
    "Float tests of the hypotheses with their margins and thresholds (numerical); where the claim "
    "exists, its exact counterparts are certified below."
)


def section_html(result: object, check_report: object = None, top: int = TOP) -> str:
    """The section "Sensitivity" as an HTML fragment (figures embedded, text escaped).

    Parameters
    ----------
    result : SensitivityResult or dict
        :func:`certify.sensitivity.certificate.sensitivity_certificate`'s result or its document.
    check_report : CheckReport, optional
        The checker's report on the document: labels the claim's exact values *certified* only when
        it accepts the claim.
    top : int
        Rows of the leverage table.
    """
    esc = html.escape
    view = sensitivity_view(result)
    num = label_html(NUMERICAL)
    parts = [f"<section><h2>{TITLE}</h2>"]
    if not view.valid:
        parts.append(f'<p class="box"><strong>{esc(_refusal_text(view))}</strong></p>')
    parts += [
        f"<h3>Hypotheses {num}</h3><p>{esc(_HYP_NOTE)}</p>",
        table_html(_HYP_HEADER, _hypothesis_rows(view)),
    ]
    if view.valid:
        kind = claim_label(verdict_of(check_report, str(view.claim.get("id", "sensitivity"))))
        parts += [
            f"<h3>What is certified {label_html(kind)}, and what is first order or numerical</h3>",
            table_html(["statement", "value", "label"], _certified_rows(view, exact_html, label_html, kind)),
        ]
    parts += [f"<p>{esc(n)}</p>" for n in view.notes]
    if view.polish is not None:
        parts += [
            f"<h3>{POLISH_TITLE} {num}</h3><p>{esc(_polish_text(view.polish))}</p>",
            table_html(["item", "value"], _polish_rows(view.polish)),
        ]
    der = view.derivatives
    if der is not None:
        infl = der["influence"]
        parts += [
            f"<h3>Fit against lam {num}</h3><p>{esc(_fit_text(der['dfit_dlam']))}</p>",
            figure_html(fit_dlam_png(der["dfit_dlam"]), "d yhat / d lam", _FIT_CAPTION),
            f"<h3>Influence of the training points {num}</h3><p>{esc(_influence_text(infl, top))}</p>",
            table_html(
                ["rank", "point k", "leverage d yhat_k / d y_k", "sum_i |d yhat_i / d y_k|"],
                _top_rows(infl, top),
            ),
            figure_html(influence_png(infl), "influence d yhat / d y", _INFL_CAPTION),
            f"<h3>Weights against lam {num}</h3>",
            table_html(["neuron j", "||d W1_j / d lam||", "d w2_j / d lam"], _weight_rows(der)),
            figure_html(
                weights_dlam_png(der["neurons"], der["dW1_dlam"], der["dw2_dlam"]),
                "weights' derivatives in lam",
                _W_CAPTION,
            ),
        ]
    parts.append("</section>")
    return "".join(parts)


def section_markdown(
    result: object,
    check_report: object = None,
    image_dir: str | Path | None = None,
    image_link: str | None = None,
    top: int = TOP,
) -> str:
    """The section "Sensitivity" as Markdown; figures (``sensitivity_fit.png``, ``sensitivity_influence.png``,
    ``sensitivity_weights.png``) are written into ``image_dir``. Parameters as :func:`section_html`."""
    view = sensitivity_view(result)
    num = label_md(NUMERICAL)
    lines = [f"## {TITLE}", ""]
    if not view.valid:
        lines += [f"> **{md_escape(_refusal_text(view))}**", ""]
    lines += [
        f"### Hypotheses {num}",
        "",
        md_escape(_HYP_NOTE),
        "",
        table_md(_HYP_HEADER, _hypothesis_rows(view)),
        "",
    ]
    if view.valid:
        kind = claim_label(verdict_of(check_report, str(view.claim.get("id", "sensitivity"))))
        lines += [
            f"### What is certified {label_md(kind)}, and what is first order or numerical",
            "",
            table_md(["statement", "value", "label"], _certified_rows(view, exact_md, label_md, kind)),
            "",
        ]
    lines += [md_escape(n) + "\n" for n in view.notes]
    if view.polish is not None:
        lines += [
            f"### {POLISH_TITLE} {num}",
            "",
            md_escape(_polish_text(view.polish)),
            "",
            table_md(["item", "value"], _polish_rows(view.polish)),
            "",
        ]
    der = view.derivatives
    if der is not None:
        infl = der["influence"]
        lines += [
            f"### Fit against lam {num}",
            "",
            md_escape(_fit_text(der["dfit_dlam"])),
            "",
            figure_md(
                fit_dlam_png(der["dfit_dlam"]),
                "sensitivity_fit",
                "d yhat / d lam",
                _FIT_CAPTION,
                image_dir,
                image_link,
            ),
            "",
            f"### Influence of the training points {num}",
            "",
            md_escape(_influence_text(infl, top)),
            "",
            table_md(
                ["rank", "point k", "leverage d yhat_k / d y_k", "sum_i |d yhat_i / d y_k|"],
                _top_rows(infl, top),
            ),
            "",
            figure_md(
                influence_png(infl),
                "sensitivity_influence",
                "influence d yhat / d y",
                _INFL_CAPTION,
                image_dir,
                image_link,
            ),
            "",
            f"### Weights against lam {num}",
            "",
            table_md(["neuron j", "||d W1_j / d lam||", "d w2_j / d lam"], _weight_rows(der)),
            "",
            figure_md(
                weights_dlam_png(der["neurons"], der["dW1_dlam"], der["dw2_dlam"]),
                "sensitivity_weights",
                "weights' derivatives in lam",
                _W_CAPTION,
                image_dir,
                image_link,
            ),
            "",
        ]
    return "\n".join(lines)


def sensitivity_section(result: object, check_report: object = None) -> Section:
    """The section "Sensitivity" as a :class:`~certify.report.sections.Section`."""
    return Section(
        TITLE,
        lambda: section_html(result, check_report),
        lambda image_dir, image_link: section_markdown(result, check_report, image_dir, image_link),
    )


def write_sensitivity_report(path: str | Path, problem, network, result, check_report: object = None) -> Path:
    """The main report of the network (claims as checked, conventions and inputs) with the section
    "Sensitivity"; HTML or Markdown by ``path``'s extension (Markdown figures in ``<stem>_files/``).

    Parameters
    ----------
    path : str or Path
    problem, network : the inputs of the certificate.
    result : SensitivityResult
    check_report : CheckReport, optional
        The checker's report on ``result.document`` (None when nothing is claimed).
    """
    from certify.report.render import write_report

    return write_report(
        path,
        problem,
        network,
        result.document,
        check_report,
        sections=[sensitivity_section(result, check_report)],
    )
