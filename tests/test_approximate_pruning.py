"""Approximate pruning past minimality (certify.selection.approximate) and its report section."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InputError
from certify.network import Network
from certify.problem import Problem
from certify.report.pruning import accuracy_vs_width_png, section_html, section_markdown, width_curve
from certify.report.render import render_html, render_markdown
from certify.selection.approximate import METHODS, balance, ls_correction, ls_scores, prune_path
from certify.verify import verify
from tests.instances import planar_data


def at_most(count: int) -> settings:
    """Settings with ``max_examples = min(count, profile's)``: lowers, never raises, the profile."""
    return settings(max_examples=min(count, settings().max_examples))


def random_network(seed: int, n: int = 30, d: int = 4, m: int = 9):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W1 = rng.standard_normal((d, m))
    w2 = rng.standard_normal(m)
    y = np.maximum(X @ W1, 0) @ w2 + 0.3 * rng.standard_normal(n)
    return X, y, W1, w2


def fit_of(X, W1, w2):
    return np.maximum(X @ W1, 0) @ w2


@at_most(20)
@given(st.integers(0, 10**6), st.sampled_from(METHODS))
def test_width_decreases_by_one_and_fit_changes_are_reported(seed, method):
    X, y, W1, w2 = random_network(seed)
    path = prune_path(X, y, W1, w2, method, seed=seed)
    assert [s.width for s in path.steps] == list(range(9, 0, -1))
    np.testing.assert_allclose(fit_of(X, path.steps[0].W1, path.steps[0].w2), fit_of(X, W1, w2), atol=1e-10)
    for prev, step in zip(path.steps, path.steps[1:], strict=False):
        assert step.removed in prev.neurons and step.removed not in step.neurons
        change = np.linalg.norm(fit_of(X, step.W1, step.w2) - fit_of(X, prev.W1, prev.w2))
        assert step.fit_change == pytest.approx(change, rel=1e-9, abs=1e-12)
        # balanced: ||W1_j|| = |w2_j|
        np.testing.assert_allclose(np.linalg.norm(step.W1, axis=0), np.abs(step.w2), rtol=1e-12, atol=1e-14)


@at_most(20)
@given(st.integers(0, 10**6))
def test_ls_correction_never_does_worse_on_the_training_fit_than_plain_removal(seed):
    X, y, W1, w2 = random_network(seed)
    A = np.maximum(X @ W1, 0)
    for j in range(w2.size):
        _, corrected = ls_correction(A, w2, j)
        plain = np.linalg.norm(A[:, j] * w2[j])
        assert corrected <= plain * (1 + 1e-12) + 1e-12
    for method in ("magnitude", "gradient"):
        with_ls = prune_path(X, y, W1, w2, method, correct=True, min_width=8)
        without = prune_path(X, y, W1, w2, method, correct=False, min_width=8)
        assert with_ls.steps[1].removed == without.steps[1].removed
        assert with_ls.steps[1].fit_change <= without.steps[1].fit_change * (1 + 1e-12) + 1e-12


def planted_duplicates(seed: int):
    """Three essential neurons, one of them small, and copies of the two large ones (dependent)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3))
    U = rng.standard_normal((3, 3))
    cols, outs = [U[:, 0] * 0.2], [0.2]           # small but essential
    for j in (1, 2):
        for t in (1.0, 1.3, 1.6):                 # three copies of two large neurons
            cols.append(U[:, j] * t * 2)
            outs.append((1.0 if j == 1 else -1.0) * t * 2)
    W1, w2 = np.array(cols).T, np.array(outs)
    return X, fit_of(X, W1, w2), W1, w2


def test_method_ordering_on_a_planted_instance():
    """LS removes the dependent copies first at zero fit change; magnitude removes the small,
    essential neuron first; down to the 3 distinct neurons, LS keeps the fit exactly."""
    X, y, W1, w2 = planted_duplicates(0)
    errors = {}
    for method in METHODS:
        runs = range(5) if method == "random" else range(1)
        errs = []
        for s in runs:
            path = prune_path(X, y, W1, w2, method, seed=s, min_width=3)
            errs.append([np.linalg.norm(fit_of(X, st_.W1, st_.w2) - y) for st_ in path.steps])
        errors[method] = np.max(errs, axis=0)
    assert np.all(errors["ls"] <= 1e-9 * np.linalg.norm(y))
    for method in ("magnitude", "gradient", "random"):
        assert np.all(errors["ls"] <= errors[method] + 1e-9)
        assert errors[method][-1] > 1e-3 * np.linalg.norm(y)
    assert prune_path(X, y, W1, w2, "magnitude", min_width=6).steps[1].removed == 0


def test_balance_keeps_the_function():
    X, _, W1, w2 = random_network(1)
    W1[:, 2] = 0.0
    Wb, wb = balance(W1 * 3.0, w2 / 3.0)
    np.testing.assert_allclose(fit_of(X, Wb, wb), fit_of(X, W1, w2), rtol=1e-12, atol=1e-12)
    assert wb[2] == 0 and not np.any(Wb[:, 2])


def test_bad_inputs():
    X, y, W1, w2 = random_network(2)
    with pytest.raises(InputError, match="method"):
        prune_path(X, y, W1, w2, "largest")
    with pytest.raises(InputError, match="shapes"):
        prune_path(X, y, W1[:, :-1], w2)
    with pytest.raises(InputError, match="finite"):
        prune_path(X * np.nan, y, W1, w2)
    with pytest.raises(InputError, match="min_width"):
        prune_path(X, y, W1, w2, min_width=0)


def test_report_section_renders_table_and_figure():
    X, y, W1, w2 = random_network(3)
    curves = [width_curve(m, [prune_path(X, y, W1, w2, m)], lambda s: float(s.width),
                          lambda s: 1.0 + s.fit_change) for m in ("ls", "magnitude")]
    png = accuracy_vs_width_png(curves)
    assert png.startswith(b"\x89PNG")
    md = section_markdown(curves, [9, 5, 1], "fig.png")
    assert "## Accuracy against width" in md and "![" in md and "| 5 | 5.0000 | 5.0000 |" in md
    assert "<script>" not in section_markdown(curves, [9], None, metric_name="<script>|")
    html = section_html(curves, [9, 1], png, metric_name="<b>acc</b>")
    assert "&lt;b&gt;acc&lt;/b&gt;" in html and "<b>acc" not in html and "data:image/png;base64," in html


def test_report_includes_the_section(tmp_path):
    X, y = planar_data(8)
    rng = np.random.default_rng(0)
    W1, w2 = rng.standard_normal((2, 3)), rng.standard_normal(3)
    problem, net = Problem(X, y, "1/10"), Network(W1, w2)
    result = verify(problem, net)
    curves = [width_curve("ls", [prune_path(X, y, W1, w2, "ls")], lambda s: float(s.width), lambda s: 1.0)]
    png = accuracy_vs_width_png(curves)
    html = render_html(problem, net, result, sections=[section_html(curves, [3, 1], png)])
    assert html.index("Accuracy against width") < html.index("Conventions and inputs")
    md = render_markdown(problem, net, result, sections=[section_markdown(curves, [3, 1], "fig.png")])
    assert md.index("## Accuracy against width") < md.index("## Conventions and inputs")
    assert "Accuracy against width" not in render_html(problem, net, result)


@at_most(20)
@given(st.integers(0, 10**6))
def test_ls_scores_formula_matches_one_least_squares_per_neuron(seed):
    X, _, W1, w2 = random_network(seed)
    A = np.maximum(X @ W1, 0)
    loop = np.array([ls_correction(A, w2, j)[1] for j in range(w2.size)])
    np.testing.assert_allclose(ls_scores(A, w2), loop, rtol=1e-6, atol=1e-9 * np.linalg.norm(A @ w2))
    A[:, 1] = A[:, 0] * 2.0  # dependent activations: the per-neuron fallback, zero scores for 0 and 1
    s = ls_scores(A, w2)
    assert s[0] <= 1e-9 * np.linalg.norm(A) and s[1] <= 1e-9 * np.linalg.norm(A)
