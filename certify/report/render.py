"""HTML and Markdown reports of a verification result (and, optionally, its independent check).

The report restates the certificate for people: what each claim says, its exact numbers
(rounded, the exact value at hand), the verdict of the checker when one is given, the scope
of the sub-sampled gap (never a global optimality claim), near-kink diagnostics and two
figures. Everything shown comes from the certificate, the check report and float
computations that are labelled as such; nothing here certifies anything.

Every string taken from a certificate is escaped (HTML autoescaping; Markdown escaping of
every expression through the environment's ``finalize``), so hostile certificates render as
text.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from certify import __version__
from certify.network import Network
from certify.problem import Problem
from certify.report import plots
from certify.report.data import PlotData, certificate_of, plot_data
from certify.report.values import (
    exact_value,
    html_exact,
    md_code,
    md_escape,
    md_exact,
    md_full_exact,
    parse_exact,
    round_fraction,
    sqrt_fraction,
)

#: What each known claim type asserts (plain language). Other types are shown generically.
CLAIM_MEANINGS = {
    "objective": "NC(θ) = objective = loss + penalty, exactly.",
    "stationarity": ("‖g‖² ≤ grad_sq_bound for an element g of the set of convex combinations of "
                     "one-sided gradients at θ (a set that contains the Clarke subdifferential)."),
    "stationarity_goldstein": (
        "‖Σ c_i ∇NC(θ_i)‖² ≤ grad_sq_bound for listed points θ_i within squared distance radius_sq of θ "
        "where NC is differentiable (Goldstein ε-stationarity): meaningful for float networks that sit "
        "next to kinks, where the gradient at θ itself jumps."),
    "subsampled_gap": ("NC(θ) − p*(scope) ≤ gap, where p*(scope) ≥ lower_bound is the optimum of the "
                       "convex program restricted to the stated pattern scope (weak duality)."),
    "network_polytope_vertices": (
        "Each listed β is a vertex of {β ≥ 0 : F β = F 1}, F the exact activation fits of θ's neurons (same "
        "fit, minimal re-weighting), with the stated width and NC of the √β-scaled network; with complete, "
        "these are all the vertices. Not an optimality claim."),
    "p_unique": ("θ attains the optimum of the convex program over the scope, and every optimal solution "
                 "has the stated merged magnitudes on the equicorrelated blocks (p-unique); exact "
                 "instances."),
    "global_gap": ("NC(θ) − inf NC ≤ gap over all two-layer ReLU networks of any width: every activation "
                   "cell is listed with an exact interior point, the list is proved complete, and the scaled "
                   "residual is dual feasible on every cell (weak duality)."),
    "not_optimal": ("θ plus the stated neuron has exactly smaller NC: θ is not a global minimizer (the "
                    "improved network is in the evidence; both objectives recomputed)."),
    "minimal": ("The fits (X W1_j)_+ w2_j of θ's non-zero neurons are linearly independent (a non-zero minor "
                "modulo a prime): no optimal network uses a strict subset of them (theory.md §4)."),
    "not_minimal": ("The fits of θ's non-zero neurons are linearly dependent (an exact null vector): the "
                    "listed neurons can be pruned without changing the fit."),
    "pruned": ("An exact rational network in the evidence has exactly the fit of the original network "
               "(bound by its digest) and NC ≤ the original's; θ is its float rounding, with its own exact "
               "NC and fit deviation stated."),
    "sensitivity": ("The hypotheses of the implicit-function formula hold at θ with the stated rational "
                    "margins, and the stated derivatives solve the rational linear system to the stated "
                    "residual; that they are the derivatives of the optimal solution map is first order."),
}
#: Preferred order of fields for known claim types (other fields follow, sorted).
FIELD_ORDER = {
    "objective": ["objective", "loss", "penalty"],
    "stationarity": ["grad_sq_bound", "ties", "ties_independent"],
    "stationarity_goldstein": ["grad_sq_bound", "radius_sq", "points"],
    "subsampled_gap": ["lower_bound", "gap", "scope"],
}
_HIDDEN_FIELDS = {"id", "type", "evidence"}
_MAX_TEXT = 200

SCOPE_WARNING = (
    "This is NOT a global optimality claim. The gap is relative to the stated pattern scope only: a "
    "network whose neurons use other activation patterns, or a wider network, may have a lower "
    "objective. Global optimality needs the dual constraint over all activation patterns "
    "(theory.md §3), which this certificate does not establish.")
KINK_EXPLANATION = (
    "Neurons close to a data hyperplane (x_kᵀW1_j ≈ 0) sit near a kink of NC. They explain large "
    "own-pattern gaps: the optimum of a sampled convex program puts its neurons on rays of their "
    "pattern cones, on kinks of NC, and is generally not stationary for NC; the stored floats put each "
    "such neuron in one of the adjacent cells, where the optimum can be far lower (theory.md §3). "
    "These diagnostics are floating-point numbers and are not certified.")


class MdSafe(str):
    """A string that is already valid Markdown (not escaped again by the Markdown environment)."""


def _md_finalize(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, MdSafe):
        return value
    return md_escape(value)


def _environment(markdown: bool):
    from jinja2 import Environment, PackageLoader, StrictUndefined

    if markdown:
        env = Environment(loader=PackageLoader("certify.report", "templates"), autoescape=False,
                          finalize=_md_finalize, undefined=StrictUndefined, keep_trailing_newline=True,
                          trim_blocks=True, lstrip_blocks=True)
        env.filters["exact"] = lambda v: MdSafe(md_exact(v))
        env.filters["approx"] = lambda v: MdSafe(md_escape(exact_value(v).approx))
        env.filters["raw"] = MdSafe
        env.filters["code"] = lambda v: MdSafe(md_code(v))
        env.filters["tcode"] = lambda v: MdSafe(md_code(v, table=True))
        env.filters["eq"] = lambda v: MdSafe(_eq(exact_value(v).approx))
    else:
        env = Environment(loader=PackageLoader("certify.report", "templates"),
                          autoescape=True, undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
        env.filters["exact"] = html_exact
        env.filters["approx"] = _html_approx
        env.filters["eq"] = lambda v: _html_approx(v, eq=True)
    return env


def _eq(approx: str) -> str:
    """``"= 0.1"`` for an exact decimal, ``"≈ 0.333"`` for a rounded one."""
    return approx if approx.startswith("≈") else "= " + approx


def _html_approx(value: object, eq: bool = False):
    from markupsafe import Markup

    ev = exact_value(value)
    if ev.value is None:
        return Markup('<span class="raw">{}</span>').format(ev.rounded)
    return Markup('<span class="num" title="exact: {}">{}</span>').format(
        ev.short if ev.is_long else ev.text, _eq(ev.approx) if eq else ev.approx)


def _text(value: object, limit: int = _MAX_TEXT) -> str:
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= limit else s[:limit] + "…"


def _describe(value: object) -> str:
    """Short text for a non-rational field value (objects and lists summarized)."""
    if isinstance(value, dict):
        items = [f"{_text(k)}: {_text(v)}" for k, v in value.items()
                 if isinstance(v, (str, int, float, bool)) or v is None]
        extra = len(value) - min(len(items), 8)
        parts = items[:8] + ([f"… {extra} more"] if extra else [])
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        return f"list of {len(value)} entries"
    return _text(value)


def _fields(claim: dict) -> list[dict]:
    """Displayable fields of a claim: rationals as exact values, other values as text."""
    ctype = claim.get("type")
    order = FIELD_ORDER.get(ctype, []) if isinstance(ctype, str) else []
    keys = [k for k in order if k in claim]
    keys += sorted((k for k in claim if k not in _HIDDEN_FIELDS and k not in keys), key=str)
    out = []
    for k in keys:
        v = claim[k]
        rational = isinstance(v, str) and parse_exact(v) is not None
        out.append({"name": str(k), "rational": rational, "value": v if rational else _describe(v)})
    return out


def _ratio_text(num: Fraction | None, den: Fraction | None) -> str | None:
    if num is None or den is None or den == 0:
        return None
    return round_fraction(num / den, 4)[0]


def _scope_phrase(claim: dict, n_patterns: int) -> str:
    scope = claim.get("scope") if isinstance(claim.get("scope"), dict) else {}
    kind = scope.get("kind")
    if kind == "own":
        return (f"the optimum over the network's own activation patterns ({n_patterns} patterns, both "
                f"signs, every subset of exact ties included)")
    if kind == "given":
        digest = _text(scope.get("patterns_sha256", "?"))
        return (f"the optimum over a given set of {n_patterns} activation patterns (both signs; "
                f"pattern set sha256 {digest[:16]}…)")
    return f"the optimum over a pattern scope of kind {_text(kind)} ({n_patterns} patterns)"


def _gap_info(claim: dict, objective: Fraction | None) -> dict:
    ev = claim.get("evidence") if isinstance(claim.get("evidence"), dict) else {}
    blocks = ev.get("blocks") if isinstance(ev.get("blocks"), list) else []
    pats = {b.get("pattern") for b in blocks if isinstance(b, dict) and isinstance(b.get("pattern"), str)}
    scope = claim.get("scope") if isinstance(claim.get("scope"), dict) else {}
    gap = parse_exact(claim.get("gap"))
    return {
        "id": _text(claim.get("id", "?")),
        "kind": _text(scope.get("kind", "?")),
        "max_ties": scope.get("max_ties"),
        "patterns_sha256": scope.get("patterns_sha256"),
        "n_patterns": len(pats),
        "n_blocks": len(blocks),
        "lower_bound": claim.get("lower_bound"),
        "gap": claim.get("gap"),
        "relative": _ratio_text(gap, objective),
        "phrase": _scope_phrase(claim, len(pats)),
    }


def _stationarity_info(claim: dict) -> dict:
    g2 = parse_exact(claim.get("grad_sq_bound"))
    ties = claim.get("ties")
    return {
        "id": _text(claim.get("id", "?")),
        "grad_sq_bound": claim.get("grad_sq_bound"),
        "sqrt": sqrt_fraction(g2, 6) if g2 is not None and g2 >= 0 else None,
        "ties": len(ties) if isinstance(ties, list) else None,
        "ties_independent": claim.get("ties_independent"),
    }


def _verdicts(claims: list, check_report) -> list:
    if check_report is None:
        return [None] * len(claims)
    verdicts = list(check_report.verdicts)
    if len(verdicts) == len(claims):
        return verdicts
    by_id = {v.claim_id: v for v in verdicts}
    out = []
    for c in claims:
        cid = c.get("id") if isinstance(c, dict) else None
        out.append(by_id.get(cid) if isinstance(cid, str) else None)
    return out


def _near_kink(diagnostics: dict) -> dict | None:
    nk = diagnostics.get("near_kink") if isinstance(diagnostics, dict) else None
    if not isinstance(nk, dict):
        return None
    rows = []
    for entry in nk.get("neurons") if isinstance(nk.get("neurons"), list) else []:
        if not isinstance(entry, dict):
            continue
        dist = entry.get("min_relative_distance")
        pts = entry.get("point_indices")
        rows.append({
            "neuron": _text(entry.get("neuron", "?")),
            "points": _text(entry.get("points", "?")),
            "distance": f"{dist:.3g}" if isinstance(dist, (int, float)) and not isinstance(dist, bool)
            else _text(dist),
            "indices": ", ".join(_text(k) for k in pts) if isinstance(pts, list) else "",
        })
    tol = nk.get("tolerance")
    return {"tolerance": f"{tol:g}" if isinstance(tol, (int, float)) and not isinstance(tol, bool)
            else _text(tol), "rule": _text(nk.get("rule", "")), "rows": rows}


def report_context(problem: Problem, network: Network, result: object, check_report: object = None
                   ) -> dict:
    """The data both templates render (strings from the certificate are not yet escaped).

    Parameters
    ----------
    problem, network : the inputs the certificate speaks about.
    result : VerificationResult or dict (a certificate document).
    check_report : CheckReport, optional
        Outcome of :func:`certify.check.checker.check_certificate` on the same certificate.

    Returns
    -------
    dict
        Template context (figures are not included; see :func:`render_html`).
    """
    doc = certificate_of(result)
    raw_claims = doc.get("claims") if isinstance(doc.get("claims"), list) else []
    claims_d = [c if isinstance(c, dict) else {"id": f"claims[{i}]", "type": "?", "value": c}
                for i, c in enumerate(raw_claims)]
    inputs = doc.get("inputs") if isinstance(doc.get("inputs"), dict) else {}
    conventions = doc.get("conventions") if isinstance(doc.get("conventions"), dict) else {}
    producer = doc.get("producer") if isinstance(doc.get("producer"), dict) else {}
    diagnostics = doc.get("diagnostics") if isinstance(doc.get("diagnostics"), dict) else {}

    objective_text = next((c.get("objective") for c in claims_d if c.get("type") == "objective"), None)
    objective = parse_exact(objective_text)
    verdicts = _verdicts(claims_d, check_report)
    claims = []
    for c, v in zip(claims_d, verdicts, strict=True):
        ctype = c.get("type")
        known = isinstance(ctype, str) and ctype in CLAIM_MEANINGS
        claims.append({
            "id": _text(c.get("id", "?")),
            "type": _text(ctype),
            "meaning": CLAIM_MEANINGS[ctype] if known else
            "Claim type not described by this report version; its fields are shown as asserted.",
            "known": known,
            "fields": _fields(c),
            "verdict": None if v is None else {"accepted": bool(v.accepted), "reason": _text(v.reason, 600)},
        })

    warnings = []
    if inputs.get("data_sha256") not in (None, problem.digest()):
        warnings.append("The data given to the report differ from the data the certificate speaks about "
                        "(sha256 mismatch): residuals and plots do not describe the certified inputs.")
    if inputs.get("network_sha256") not in (None, network.digest()):
        warnings.append("The network given to the report differs from the certificate's network (sha256 "
                        "mismatch): residuals and plots do not describe the certified network.")
    if check_report is None:
        status = "unchecked"
    else:
        status = "accepted" if check_report.accepted else "rejected"

    long_values = []
    for c in claims_d:
        for f in _fields(c):
            full = md_full_exact(f["value"]) if f["rational"] else None
            if full is not None:
                long_values.append({"claim": _text(c.get("id", "?")), "field": f["name"], "text": full})

    n, d, m = inputs.get("n", problem.n), inputs.get("d", problem.d), inputs.get("m", network.width)
    return {
        "title": f"Verification report: two-layer ReLU network (n = {_text(n)}, d = {_text(d)}, "
                 f"m = {_text(m)})",
        "status": status,
        "check": None if check_report is None else {
            "summary": check_report.summary_line(),
            "checker_version": _text(getattr(check_report, "checker_version", "?")),
            "versions": {str(k): _text(v) for k, v in (getattr(check_report, "versions", {}) or {}).items()},
        },
        "objective": objective_text,
        "gaps": [_gap_info(c, objective) for c in claims_d if c.get("type") == "subsampled_gap"],
        "stationarity": [_stationarity_info(c) for c in claims_d if c.get("type") == "stationarity"],
        "claims": claims,
        "long_values": long_values,
        "near_kink": _near_kink(diagnostics),
        "diag_scope_patterns": diagnostics.get("scope_patterns"),
        "diag_exact_ties": diagnostics.get("exact_ties"),
        "lam": inputs.get("lam", str(problem.lam)),
        "conventions": [(str(k), _text(v)) for k, v in conventions.items()],
        "inputs": [(str(k), _text(v)) for k, v in inputs.items() if k != "lam"],
        "bias": bool(inputs.get("bias", problem.bias)),
        "format": f"{_text(doc.get('format', '?'))} {_text(doc.get('version', '?'))}",
        "producer": f"{_text(producer.get('name', '?'))} {_text(producer.get('version', '?'))}",
        "report_version": __version__,
        "warnings": warnings,
        "scope_warning": SCOPE_WARNING,
        "kink_explanation": KINK_EXPLANATION,
    }


def _plot_inputs(problem: Problem, network: Network, result: object) -> tuple[dict[str, bytes], list[str]]:
    notes: list[str] = []
    try:
        data: PlotData = plot_data(problem, network, result)
    except (ValueError, TypeError) as exc:
        return {}, [f"Figures omitted: {exc}"]
    notes += [f"Dual-bound figure omitted for {s}" for s in data.skipped]
    return plots.figures(data), notes


def render_html(problem: Problem, network: Network, result: object, check_report: object = None,
                selftest: object = None, sections: Sequence[str] = ()) -> str:
    """A self-contained HTML report (figures embedded as base64 PNG).

    Parameters
    ----------
    problem : Problem
        Data and lam the certificate speaks about.
    network : Network
        The certified network.
    result : VerificationResult or dict
        The result of :func:`certify.verify.verify`, or a certificate document.
    check_report : CheckReport, optional
        The independent checker's verdicts on the same certificate; without it the report says
        the claims are not checked.
    selftest : SelftestResult, optional
        A :func:`certify.testing.selftest.run_selftest` result, shown as the section "Theory
        self-test" (claim, source, examples run, verdict).
    sections : sequence of str, optional
        Extra sections as HTML fragments that escape their own text (for example
        :func:`certify.report.pruning.section_html`, "Accuracy against width"), inserted before
        "Conventions and inputs".

    Returns
    -------
    str
        The HTML document.
    """
    ctx = report_context(problem, network, result, check_report)
    figs, notes = _plot_inputs(problem, network, result)
    ctx["figures"] = {name: plots.data_uri(png) for name, png in figs.items()}
    ctx["figure_notes"] = notes
    ctx["selftest"] = None if selftest is None else selftest.to_context()
    from markupsafe import Markup

    ctx["sections"] = [Markup(fragment) for fragment in sections]
    return _environment(markdown=False).get_template("report.html.j2").render(**ctx)


def render_selftest_html(selftest: object) -> str:
    """A standalone HTML page with the "Theory self-test" section of :func:`render_html`.

    Parameters
    ----------
    selftest : SelftestResult
        A :func:`certify.testing.selftest.run_selftest` result.
    """
    return _environment(markdown=False).get_template("selftest.html.j2").render(
        selftest=selftest.to_context(), report_version=__version__)


def render_markdown(problem: Problem, network: Network, result: object, check_report: object = None,
                    image_dir: str | Path | None = None, image_link: str | None = None,
                    sections: Sequence[str] = ()) -> str:
    """A Markdown report; figures are written as PNG files into ``image_dir``.

    Parameters
    ----------
    problem, network, result, check_report
        As for :func:`render_html`.
    image_dir : str or Path, optional
        Folder for the figures (created if needed), normally next to the ``.md`` file. When
        None, no figures are written and the report says so.
    image_link : str, optional
        Relative link prefix of the figures as seen from the ``.md`` file; default: the name of
        ``image_dir`` (a folder beside the ``.md`` file).
    sections : sequence of str, optional
        Extra sections as Markdown that escapes its own text (for example
        :func:`certify.report.pruning.section_markdown`), inserted before "Conventions and inputs".

    Returns
    -------
    str
        The Markdown text.
    """
    ctx = report_context(problem, network, result, check_report)
    ctx["figures"] = {}
    ctx["figure_notes"] = []
    if image_dir is None:
        ctx["figure_notes"] = ["Figures omitted (no image folder given)."]
    else:
        folder = Path(image_dir)
        prefix = (image_link if image_link is not None else folder.name).rstrip("/")
        figs, notes = _plot_inputs(problem, network, result)
        ctx["figure_notes"] = notes
        if figs:
            folder.mkdir(parents=True, exist_ok=True)
        for name, png in figs.items():
            (folder / f"{name}.png").write_bytes(png)
            ctx["figures"][name] = MdSafe(f"{prefix}/{name}.png" if prefix else f"{name}.png")
    ctx["sections"] = [MdSafe(text) for text in sections]
    return _environment(markdown=True).get_template("report.md.j2").render(**ctx)


def write_report(path: str | Path, problem: Problem, network: Network, result: object,
                 check_report: object = None, selftest: object = None, sections: Sequence = ()) -> Path:
    """Write an HTML (``.html``, ``.htm``) or Markdown (``.md``, ``.markdown``) report.

    A Markdown report's figures go into the folder ``<stem>_files/`` beside it.

    Parameters
    ----------
    path : str or Path
        Output file; its extension chooses the format.
    problem, network, result, check_report
        As for :func:`render_html`.
    selftest : SelftestResult, optional
        HTML only: adds the "Theory self-test" section (:func:`render_html`).
    sections : sequence of certify.report.sections.Section, optional
        Extra sections in both formats (their figures go into ``<stem>_files/`` for Markdown),
        inserted before "Conventions and inputs".

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    InputError
        If the extension is neither HTML nor Markdown.
    """
    from certify.errors import InputError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = render_html(problem, network, result, check_report, selftest=selftest,
                           sections=[s.html() for s in sections])
    elif suffix in (".md", ".markdown"):
        folder = path.parent / f"{path.stem}_files"
        text = render_markdown(problem, network, result, check_report, image_dir=folder,
                               sections=[s.markdown(folder, folder.name) for s in sections])
    else:
        raise InputError(f"report path must end in .html, .htm, .md or .markdown, got {path.name!r}")
    path.write_text(text, encoding="utf-8")
    return path
