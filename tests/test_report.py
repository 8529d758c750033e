"""Reports (certify.report): HTML and Markdown rendering, exact values, plot data."""

from __future__ import annotations

import copy
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.errors import InputError
from certify.network import Network
from certify.problem import Problem
from certify.report.data import plot_data
from certify.report.render import render_html, render_markdown, write_report
from certify.report.values import (
    exact_value,
    html_exact,
    md_code,
    md_escape,
    parse_exact,
    round_fraction,
    sqrt_fraction,
)
from certify.verify import verify

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = "<script>alert('x')</script>"


def _check(problem: Problem, network: Network, doc: dict):
    return check_certificate(doc, problem.X.tolist(), problem.y.tolist(), network.W1.tolist(),
                             network.w2.tolist(), None if network.b1 is None else network.b1.tolist())


@pytest.fixture(scope="module")
def instance():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((16, 2))
    y = rng.standard_normal(16)
    problem = Problem(X, y, "1/10")
    network = Network(rng.standard_normal((2, 4)), rng.standard_normal(4))
    result = verify(problem, network)
    return problem, network, result, _check(problem, network, result.certificate)


@pytest.fixture(scope="module")
def bias_instance():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((14, 2))
    y = rng.standard_normal(14)
    problem = Problem(X, y, "3/10", bias=True)
    network = Network(rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal(3))
    G = rng.standard_normal((3, 5))
    return problem, network, verify(problem, network, patterns={"G": G})


@pytest.fixture(scope="module")
def html(instance):
    problem, network, result, report = instance
    return render_html(problem, network, result, report)


# ---------------------------------------------------------------- exact values


def test_round_fraction_is_exact_rounding():
    assert round_fraction(Fraction(1, 3)) == ("0.3333333333", True)
    assert round_fraction(Fraction(2, 3)) == ("0.6666666667", True)
    assert round_fraction(Fraction(1, 10)) == ("0.1", False)
    assert round_fraction(Fraction(-1, 8)) == ("-0.125", False)
    assert round_fraction(Fraction(0)) == ("0", False)
    assert round_fraction(Fraction(10**500, 3)) == ("3.333333333e+499", True)
    assert round_fraction(Fraction(2, 3 * 10**400)) == ("6.666666667e-401", True)
    # half-way cases round to even, decided exactly (a float would not see the tie)
    assert round_fraction(Fraction(12345678905, 10**10), 10) == ("1.23456789", True)
    assert round_fraction(Fraction(10**20 + 1, 10**20), 10) == ("1", True)


def test_parse_exact_and_long_values():
    assert parse_exact("-3/7") == Fraction(-3, 7)
    assert parse_exact("12") == 12
    for bad in ["1/0", "01/2", "1/-2", "0.5", " 1", "", None, True, 1.5, "<b>"]:
        assert parse_exact(bad) is None
    big = "7" * 5000 + "/3"  # beyond Python's default int(str) digit limit
    value = exact_value(big)
    assert value.value is not None and value.is_long and value.inexact
    assert value.rounded == "2.592592593e+4999"
    assert "…" in value.short and value.digits == "5000/1 digits"
    snippet = html_exact(big)
    assert "<details" in snippet and big in snippet
    assert sqrt_fraction(Fraction(2), 6) == "1.41422"  # an upper bound
    assert sqrt_fraction(Fraction(4), 6) == "2" and sqrt_fraction(Fraction(0)) == "0"
    for v in (Fraction(2), Fraction(1, 3), Fraction(10**401, 7), Fraction(3, 10**333)):
        u = Fraction(Decimal(sqrt_fraction(v, 8)))
        assert u * u >= v and (u * (1 - Fraction(1, 10**7))) ** 2 < v


def test_html_and_markdown_escaping_helpers():
    assert "<script" not in html_exact(HOSTILE) and "&lt;script&gt;" in html_exact(HOSTILE)
    assert "<" not in md_escape(HOSTILE) and "\\|" in md_escape("a|b")
    assert md_code("a`b") == "``a`b``"
    assert md_code("x|y", table=True) == "`x\\|y`"
    assert md_code("a <= b") == "`a <= b`" and "<" not in md_code(HOSTILE)


# ---------------------------------------------------------------- HTML


def test_html_report_content(instance, html):
    _, _, result, report = instance
    doc = result.certificate
    objective = doc["claims"][0]["objective"]
    assert html.startswith("<!DOCTYPE html>")
    assert objective in html  # the full exact value is available
    assert round_fraction(result.objective)[0] in html
    assert "NOT a global optimality claim" in html
    assert report.summary_line() in html and "ACCEPTED" in html
    assert doc["inputs"]["data_sha256"] in html and doc["inputs"]["network_sha256"] in html
    assert html.count("data:image/png;base64,") == 2
    assert "Near-kink diagnostics" in html and "not certified" in html
    assert "checker 1.0" in html


def test_html_escapes_hostile_certificate_strings(instance):
    problem, network, result, _ = instance
    doc = copy.deepcopy(result.certificate)
    doc["claims"][0]["id"] = HOSTILE
    doc["claims"][2]["evidence"]["blocks"][0]["pattern"] = HOSTILE  # malformed: plot skipped
    doc["conventions"]["loss"] = HOSTILE
    doc["producer"]["version"] = "<img src=x onerror=alert(1)>"
    doc["claims"].append({"id": "x" + HOSTILE, "type": "<b>new</b>", HOSTILE: "1/3", "note": HOSTILE})
    doc["diagnostics"]["near_kink"]["neurons"] = [
        {"neuron": HOSTILE, "points": 1, "min_relative_distance": HOSTILE, "point_indices": [HOSTILE]}]
    out = render_html(problem, network, doc)
    assert "<script" not in out and "<img src=x" not in out and "<b>new" not in out
    assert "&lt;script&gt;" in out
    assert "Dual-bound figure omitted" in out
    md = render_markdown(problem, network, doc)
    assert "<script" not in md and "<img src=x" not in md and "<b>" not in md


def test_unknown_and_odd_claims_render(instance):
    problem, network, result, _ = instance
    doc = copy.deepcopy(result.certificate)
    doc["claims"] += [
        {"id": "goldstein", "type": "stationarity_goldstein", "grad_sq_bound": "1/3", "radius_sq": "1/100",
         "points": [{"k": 0}], "flag": True, "nested": {"a": [1, 2], "b": "c"}},
        {"id": "odd", "type": None, "value": None},
        "not a claim",
    ]
    for out in (render_html(problem, network, doc), render_markdown(problem, network, doc)):
        assert "goldstein" in out and "stationarity" in out
        assert "0.3333333333" in out and "0.01" in out
        assert "not described by this report version" in out


def test_rejected_check_is_shown(instance):
    problem, network, result, _ = instance
    doc = copy.deepcopy(result.certificate)
    doc["claims"][0]["objective"] = "1/7"
    report = _check(problem, network, doc)
    assert not report.accepted
    out = render_html(problem, network, doc, report)
    assert "REJECTED" in out and "rejected" in out
    assert report.verdicts[0].reason[:60] in out


def test_digest_mismatch_warns(instance):
    problem, network, result, _ = instance
    other = Problem(problem.X, problem.y + 1.0, problem.lam)
    out = render_markdown(other, network, result)
    assert "sha256 mismatch" in out


# ---------------------------------------------------------------- Markdown


def test_markdown_report_with_images(tmp_path, bias_instance):
    problem, network, result = bias_instance
    path = write_report(tmp_path / "rep.md", problem, network, result)
    text = path.read_text(encoding="utf-8")
    folder = tmp_path / "rep_files"
    for name in ("residuals", "dual_bounds"):
        png = folder / f"{name}.png"
        assert png.read_bytes().startswith(PNG_MAGIC)
        assert f"](rep_files/{name}.png)" in text
    assert "NOT a global optimality claim" in text and "NOT CHECKED" in text
    assert "given set of" in text and "bias" in text
    no_images = render_markdown(problem, network, result)
    assert "![" not in no_images and "Figures omitted" in no_images


def test_write_report_html_and_bad_extension(tmp_path, instance):
    problem, network, result, report = instance
    path = write_report(tmp_path / "rep.html", problem, network, result, report)
    assert "NOT a global optimality claim" in path.read_text(encoding="utf-8")
    with pytest.raises(InputError):
        write_report(tmp_path / "rep.txt", problem, network, result)


# ---------------------------------------------------------------- plot data


@pytest.mark.parametrize("which", ["instance", "bias_instance"])
def test_plot_data_bounds_within_lambda(request, which):
    problem, network, result = request.getfixturevalue(which)[:3]
    data = plot_data(problem, network, result)
    np.testing.assert_allclose(data.residuals, problem.y - network.predict(problem.X))
    assert data.lam == float(problem.lam) and not data.skipped
    (blocks,) = data.gap_blocks
    gap = next(c for c in result.certificate["claims"] if c["type"] == "subsampled_gap")
    assert len(blocks.bounds) == len(gap["evidence"]["blocks"]) > 0
    assert np.all(blocks.bounds <= data.lam * (1 + 1e-9))
    assert set(blocks.signs.tolist()) <= {1, -1}


def test_plot_data_skips_malformed_evidence(instance):
    problem, network, result, _ = instance
    doc = copy.deepcopy(result.certificate)
    doc["claims"][2]["evidence"] = {"den": "0"}
    data = plot_data(problem, network, doc)
    assert data.gap_blocks == [] and len(data.skipped) == 1


def test_no_matplotlib_at_import_and_no_pyplot_after_render():
    code = ("import sys, numpy as np\n"
            "import certify.report.render as r\n"
            "assert 'matplotlib' not in sys.modules\n"
            "from certify.problem import Problem; from certify.network import Network\n"
            "from certify.verify import verify\n"
            "p = Problem(np.eye(3), np.ones(3), '1'); n = Network(np.eye(3), np.ones(3))\n"
            "r.render_html(p, n, verify(p, n))\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_ties_are_described():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((8, 2))
    X[0] = [1.0, 0.0]  # exactly on the hyperplane of the first neuron
    problem = Problem(X, rng.standard_normal(8), "1/4")
    network = Network(np.array([[0.0, 1.0], [1.0, 0.5]]), np.array([1.0, -1.0]))
    result = verify(problem, network)
    out = render_markdown(problem, network, result)
    assert "1 exact tie(s)" in out and "Clarke subdifferential" in out
    assert "1 exact tie " in render_html(problem, network, result)
