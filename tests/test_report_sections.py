"""Report sections: "Sensitivity" in the main report of a network, and the path page's sections
"Certified band", "Active-set changes", "Width against lam" (HTML and Markdown, figures, labels,
refusals, hostile text, the CLI's --report files). Tiny instances only (n = 12)."""

from __future__ import annotations

import copy
import json
import re
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.check.path import check_data_certificate
from certify.cli import main
from certify.convex.mapping import blocks_to_network
from certify.network import Network
from certify.problem import Problem
from certify.report import path as path_report
from certify.report.path_diagnostics import NEEDS_DIAGNOSTICS
from certify.report.sections import render_page_html, render_page_markdown, report_format
from certify.sensitivity import report as sens_report
from certify.sensitivity.certificate import sensitivity_certificate
from certify.solve.working_set import SolverOptions, solve

TIGHT = SolverOptions(gap_tol=1e-13, feas_tol=1e-12, subproblem_tol=1e-13)
LAM = 0.3
PNG = b"\x89PNG\r\n\x1a\n"
DATA_URI = re.compile(r'src="data:image/png;base64,')


def _instance(seed: int):
    """Seed 5: every hypothesis holds over the network's own patterns; seed 0: a tight row's
    multiplier is negative (strict complementarity fails), as in tests/test_sensitivity_certificate.py."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 3))
    y = rng.standard_normal(12)
    D = np.unique((X @ rng.standard_normal((3, 8)) >= 0).astype(np.uint8), axis=1)
    b = solve(X, y, LAM, D, options=TIGHT).blocks()
    return X, y, blocks_to_network(b.weights, b.signs)


@cache
def _sensitivity(seed: int):
    X, y, net = _instance(seed)
    result = sensitivity_certificate(Problem(X, y, LAM), net)
    return X, y, net, result


def _check(doc, X, y, net):
    return check_certificate(doc, X.tolist(), y.tolist(), net.W1.tolist(), net.w2.tolist(), None)


@cache
def _path(diagnostics: bool):
    from certify.certified_path import certify_path
    from certify.path_diagnostics import diagnose_certified_path
    from certify.patterns.sources import gate_patterns

    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((12, 2)), rng.standard_normal(12)
    D = gate_patterns(X, 6, 0)
    result = certify_path(X, y, D, "0.1", "3", "1e-2", relative=True, options=SolverOptions(gap_tol=1e-10))
    report = check_data_certificate(result.document, X.tolist(), y.tolist())
    diag = diagnose_certified_path(result, X, y, D) if diagnostics else None
    return X, y, result, report, diag


def _headings(text: str, markdown: bool) -> list[str]:
    if markdown:
        return [re.sub(r"\s*\*.*$", "", h) for h in re.findall(r"^#{2,3} (.+)$", text, re.M)]
    return [re.sub(r"<.*", "", h).strip() for h in re.findall(r"<h[23]>(.*?)</h[23]>", text)]


# -------------------------------------------------------------------------------------------------
# Sensitivity


def test_sensitivity_section_html_has_hypotheses_certified_values_and_three_figures():
    X, y, net, result = _sensitivity(5)
    assert result.valid
    check = _check(result.document, X, y, net)
    assert check.accepted
    page = sens_report.section_html(result, check)
    assert _headings(page, False) == [
        "Sensitivity",
        "Hypotheses",
        "What is certified",
        "Fit against lam",
        "Influence of the training points",
        "Weights against lam",
    ]
    assert len(DATA_URI.findall(page)) == 3
    assert 'class="label certified"' in page and 'class="label numerical"' in page
    assert "first order" in page and "condition number of J" in page
    # the exact dual bound of the claim, rounded exactly, is shown with its exact text at hand
    assert result.claim["dual_bound"] in page
    # the leverage table: the ten points with the largest |d yhat_k / d y_k|, in order, with their values
    infl = np.array(result.derivatives["influence"])
    lev = np.diag(infl)
    table = page[page.index("Influence of the training points") : page.index("Weights against lam")]
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td>", table)
    assert [int(r[0]) for r in rows] == list(range(1, 11))
    assert [int(r[1]) for r in rows] == list(np.argsort(-np.abs(lev), kind="stable")[:10])
    for _, k, value in rows:
        assert float(value) == pytest.approx(lev[int(k)], rel=1e-3)
    # one row per neuron of the support in the weights table
    weights = page[page.index("Weights against lam") :]
    assert len(re.findall(r"<tr><td>", weights)) == len(result.claim["neurons"])


def test_sensitivity_section_markdown_writes_its_figures(tmp_path):
    _, _, _, result = _sensitivity(5)
    text = sens_report.section_markdown(result, None, tmp_path / "figs", "figs")
    assert _headings(text, True)[:3] == ["Sensitivity", "Hypotheses", "What is certified"]
    links = re.findall(r"!\[[^\]]*\]\((figs/[a-z_]+\.png)\)", text)
    assert sorted(links) == [
        "figs/sensitivity_fit.png",
        "figs/sensitivity_influence.png",
        "figs/sensitivity_weights.png",
    ]
    for link in links:
        assert (tmp_path / link).read_bytes().startswith(PNG)
    # not checked: the exact values are labelled unchecked, never certified
    assert "\\[unchecked\\]" in text and "\\[certified\\]" not in text
    assert "*\\[numerical\\]*" in text


def test_sensitivity_labels_follow_the_checkers_verdict():
    X, y, net, result = _sensitivity(5)
    doc = copy.deepcopy(result.document)
    bound = Fraction(doc["claims"][0]["dual_bound"])
    doc["claims"][0]["dual_bound"] = str(bound / 2)  # a false (too small) dual bound
    check = _check(doc, X, y, net)
    assert not check.accepted
    page = sens_report.section_html(doc, check)
    assert 'class="label rejected"' in page and 'class="label certified"' not in page


def test_sensitivity_refusal_names_the_failing_hypothesis_and_draws_no_derivative(tmp_path):
    _, _, _, result = _sensitivity(0)
    assert not result.valid
    page = sens_report.section_html(result)
    assert "Nothing is claimed" in page and "Failing hypotheses: strict_complementarity" in page
    assert not DATA_URI.search(page)
    assert _headings(page, False) == ["Sensitivity", "Hypotheses"]
    text = sens_report.section_markdown(result, None, tmp_path / "figs", "figs")
    assert "Nothing is claimed" in text and "strict\\_complementarity" in text
    assert "![" not in text and not (tmp_path / "figs").exists()


def test_sensitivity_refusal_on_a_planted_non_minimal_network():
    from certify.testing.planted import planted_network

    pn = planted_network(0)
    result = sensitivity_certificate(Problem(pn.X, pn.y, pn.lam), Network(pn.W1, pn.w2))
    page = sens_report.section_html(result)
    assert "Nothing is claimed" in page and "minimality fails exactly" in page and not DATA_URI.search(page)


def test_sensitivity_section_escapes_hostile_text_and_skips_malformed_derivatives(tmp_path):
    _, _, _, result = _sensitivity(5)
    doc = copy.deepcopy(result.document)
    doc["diagnostics"]["sensitivity_hypotheses"][0]["name"] = "<script>alert(1)</script>"
    doc["diagnostics"]["sensitivity_hypotheses"][0]["detail"] = "a | b `c` ![x](y)"
    doc["diagnostics"]["sensitivity"]["influence"] = [[1.0, "x"]]
    page = sens_report.section_html(doc)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "malformed" in page and not DATA_URI.search(page)
    text = sens_report.section_markdown(doc, None, tmp_path, "")
    assert "<script>" not in text and "\\| b" in text and "![x]" not in text


def test_sensitivity_section_shows_a_polish_record(tmp_path):
    _, _, _, result = _sensitivity(5)
    doc = copy.deepcopy(result.document)
    doc["diagnostics"]["polish"] = {
        "converged": True,
        "objective_before": 1.25,
        "groups": [[0], [1, 2]],
        "message": "<b>ok</b>",
        "statement": "Floating point, not certified.",
        "log": ["pass 1"],
    }
    page = sens_report.section_html(doc)
    assert "Polished network" in page and "objective_before" in page and "2 entries" in page
    assert "&lt;b&gt;ok&lt;/b&gt;" in page and "pass 1" not in page
    text = sens_report.section_markdown(doc, None, tmp_path, "")
    assert "### Polished network" in text and "Floating point, not certified." in text


def test_cli_sensitivity_writes_the_main_report_with_the_section(tmp_path, capsys):
    X, y, net = _instance(5)
    data, model = str(tmp_path / "d.npz"), str(tmp_path / "m.npz")
    np.savez(data, X=X, y=y)
    net.save(model)
    out = ["-o", str(tmp_path / "s.json")]
    base = ["sensitivity", "--data", data, "--model", model, "--lam", str(LAM), "--quiet"]
    assert main(base + out + ["--report", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    heads = _headings(page, False)
    for h in (
        "Summary",
        "Claims",
        "Residuals",
        "Sensitivity",
        "Influence of the training points",
        "Conventions and inputs",
    ):
        assert h in heads
    assert heads.index("Sensitivity") < heads.index("Conventions and inputs")
    assert "ACCEPTED: 1 of 1 claims" in page and len(DATA_URI.findall(page)) == 4  # residuals + 3
    assert main(base + out + ["--report", str(tmp_path / "r.md")]) == 0
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "## Sensitivity" in text and "## Conventions and inputs" in text
    files = sorted(p.name for p in (tmp_path / "r_files").iterdir())
    assert files == [
        "residuals.png",
        "sensitivity_fit.png",
        "sensitivity_influence.png",
        "sensitivity_weights.png",
    ]
    # an unknown extension is refused before any work (no certificate written)
    never = tmp_path / "t.json"
    assert main(base + ["-o", str(never), "--report", str(tmp_path / "r.txt")]) == 2 and not never.exists()
    assert "must end in .html" in capsys.readouterr().err


def test_cli_sensitivity_report_when_refused(tmp_path):
    X, y, net = _instance(0)
    data, model = str(tmp_path / "d.npz"), str(tmp_path / "m.npz")
    np.savez(data, X=X, y=y)
    net.save(model)
    rc = main(
        [
            "sensitivity",
            "--data",
            data,
            "--model",
            model,
            "--lam",
            str(LAM),
            "-o",
            str(tmp_path / "s.json"),
            "--report",
            str(tmp_path / "r.md"),
            "--quiet",
        ]
    )
    assert rc == 1
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "Nothing is claimed" in text and "strict\\_complementarity" in text
    assert sorted(p.name for p in (tmp_path / "r_files").iterdir()) == ["residuals.png"]


# -------------------------------------------------------------------------------------------------
# Path


def _independent_worst_ratio(result) -> Fraction:
    """max over the piece ends of the gap over eps, from the claim's grid alone (lower bounds and
    segments as written, NC from the entries' exact loss and squares)."""
    claim = result.document["claims"][0]
    grid, segments = claim["grid"], claim["segments"]
    lam = [Fraction(g["lam"]) for g in grid]
    low = [Fraction(g["lower_bound"]) for g in grid]
    eps = Fraction(claim["eps"])
    worst = Fraction(-1)
    for k, seg in enumerate(segments):
        ends = [lam[k], *(Fraction(b) for b in seg["breaks"]), lam[k + 1]]
        for t, j in enumerate(seg["networks"]):
            for x in (ends[t], ends[t + 1]):
                chord = low[k + 1] + (x - lam[k + 1]) / (lam[k] - lam[k + 1]) * (low[k] - low[k + 1])
                e = result.entries[j]
                nc = e.loss + x * e.squares / 2
                worst = max(worst, (nc - chord) / chord / eps)
    return worst


def test_path_band_section_html_and_markdown(tmp_path):
    X, y, result, check, _ = _path(False)
    assert check.accepted
    ratio = path_report.worst_ratio(result)
    assert ratio == _independent_worst_ratio(result) and 0 < ratio <= 1
    page = path_report.section_html(result, check)
    assert _headings(page, False) == ["Certified band", "Grid points"]
    assert len(DATA_URI.findall(page)) == 1 and 'class="label certified"' in page
    assert "worst ratio" in page and "ACCEPTED: 2 of 2 claims" in page
    body = page[page.index("<h3>Grid points") :]
    assert len(re.findall(r"<tr><td>\d+</td>", body)) == result.points
    text = path_report.section_markdown(result, None, tmp_path / "f", "f")
    assert (tmp_path / "f" / "band.png").read_bytes().startswith(PNG) and "](f/band.png)" in text
    assert "\\[unchecked\\]" in text and "\\[certified\\]" not in text  # no check report given


def test_path_long_grid_tables_are_folded(monkeypatch):
    _, _, result, check, _ = _path(False)
    monkeypatch.setattr(path_report, "FOLD_ROWS", 2)
    page = path_report.section_html(result, check)
    assert f"<details><summary>{result.points} grid points" in page


def test_path_page_without_diagnostics_says_the_sections_need_them(tmp_path):
    _, _, result, check, _ = _path(False)
    sections = path_report.path_sections(result, check, None)
    page = render_page_html("path", result.document, check, sections)
    assert _headings(page, False) == [
        "Certified band",
        "Grid points",
        "Active-set changes",
        "Width against lam",
        "Conventions and inputs",
    ]
    assert page.count("needs the numerical path diagnostics") == 2
    text = render_page_markdown("path", result.document, check, sections, tmp_path / "f", "f")
    assert text.count("needs the numerical path diagnostics") == 2 and NEEDS_DIAGNOSTICS.startswith("This")
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["band.png"]


def test_path_page_with_diagnostics_plots_changes_and_width(tmp_path):
    _, _, result, check, diag = _path(True)
    sections = path_report.path_sections(result, check, diag)
    page = render_page_html("path", result.document, check, sections)
    assert len(DATA_URI.findall(page)) == 3 and "needs the numerical" not in page
    changes = page[page.index("<h2>Active-set changes") : page.index("<h2>Width against lam")]
    assert 'class="label numerical"' in changes and "p-unique" in changes
    n_support = sum(c.support_changed for c in diag.changes)
    if n_support:
        assert len(re.findall(r"<tr><td>", changes)) == n_support
    width = page[page.index("<h2>Width against lam") : page.index("<h2>Conventions and inputs")]
    assert len(re.findall(r"<tr><td>", width)) == len(diag.points)
    text = render_page_markdown("path", result.document, check, sections, tmp_path / "f", "f")
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["band.png", "support.png", "width.png"]
    assert _headings(text, True)[:4] == [
        "Certified band",
        "Grid points",
        "Active-set changes",
        "Where the support changes",
    ]


def test_path_band_section_fits_into_the_main_report():
    from certify.report.render import render_html, render_markdown
    from certify.verify import verify

    X, y, result, check, _ = _path(False)
    entry = result.entries[len(result.entries) // 2]
    problem = Problem(X, y, entry.lam)
    verified = verify(problem, entry.network)
    section = path_report.band_section(result, check)
    page = render_html(problem, entry.network, verified, sections=[section.html()])
    heads = _headings(page, False)
    assert heads.index("Claims") < heads.index("Certified band") < heads.index("Conventions and inputs")
    text = render_markdown(problem, entry.network, verified, sections=[section.markdown(None, None)])
    assert "## Certified band" in text and "Figure omitted (no image folder given)" in text


def test_cli_path_report_markdown_and_html(tmp_path, capsys):
    X, y, _, _, _ = _path(False)
    data = tmp_path / "d.npz"
    np.savez(data, X=X, y=y)
    base = ["path", "--data", str(data), "--gates", "6", "--relative", "--quiet"]
    base += ["--lam-min", "0.1", "--lam-max", "3", "--eps", "1e-2"]
    md = ["-o", str(tmp_path / "c.json"), "--diagnostics", "--report", str(tmp_path / "p.md")]
    assert main(base + md) == 0
    text = (tmp_path / "p.md").read_text(encoding="utf-8")
    assert "**ACCEPTED: 2 of 2 claims**" in text
    assert sorted(p.name for p in (tmp_path / "p_files").iterdir()) == [
        "band.png",
        "support.png",
        "width.png",
    ]
    assert json.loads((tmp_path / "c.json").read_text())["claims"][0]["type"] == "eps_path"
    assert main(base + ["-o", str(tmp_path / "c2.json"), "--report", str(tmp_path / "p.html")]) == 0
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert page.count("needs the numerical path diagnostics") == 2 and len(DATA_URI.findall(page)) == 1
    assert main(base + ["-o", str(tmp_path / "c3.json"), "--report", str(tmp_path / "p.pdf")]) == 2
    assert not (tmp_path / "c3.json").exists() and "must end in .html" in capsys.readouterr().err


def test_report_format_by_extension():
    assert report_format("a.HTML") == "html" and report_format("b.md") == "markdown"
    with pytest.raises(Exception, match="must end in"):
        report_format("c.txt")
