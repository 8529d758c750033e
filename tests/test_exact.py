"""Unit tests of the exact kernel (certify/exact)."""

from __future__ import annotations

import hashlib
import struct
from fractions import Fraction

import flint
import numpy as np
import pytest

from certify.exact import linalg
from certify.exact import patterns as ps
from certify.exact.context import ExactContext
from certify.exact.digest import data_digest, network_digest, patterns_digest
from certify.exact.dyadic import DyadicMatrix
from certify.exact.nc import evaluate, gradient, tie_directions
from certify.exact.rational import (
    encode_vector,
    format_rational,
    parse_int_vector,
    parse_rational,
    parse_user_rational,
)
from certify.exact.stationarity import tied_gradient_sq, ties_independent


def test_dyadic_conversion_is_exact():
    rows = [[0.1, -2.5], [1e-30, 3.0]]
    M = DyadicMatrix.from_rows(rows)
    assert M.fractions() == [[Fraction(v) for v in row] for row in rows]
    with pytest.raises(ValueError, match="non-finite"):
        DyadicMatrix.from_rows([[float("nan")]])


def test_rational_parsing_is_strict():
    assert parse_rational("-3/4") == Fraction(-3, 4)
    assert format_rational(Fraction(6, 3)) == "2"
    for bad in ["6/8", "1/0", "1/-2", "+1", "01", "1.5", "", " 1", 3, None, "1/2/3"]:
        with pytest.raises(ValueError):
            parse_rational(bad)
    assert parse_user_rational("0.1") == Fraction(1, 10)
    assert parse_user_rational("1/10") == Fraction(1, 10)
    assert parse_user_rational(0.1) == Fraction(0.1)
    with pytest.raises(ValueError, match="number"):
        parse_user_rational("abc")
    enc = encode_vector([Fraction(1, 2), Fraction(-1, 3), 2])
    nums, den = parse_int_vector(enc, 3, "v")
    assert [Fraction(p, den) for p in nums] == [Fraction(1, 2), Fraction(-1, 3), 2]


def test_pattern_strings_round_trip():
    bits = [1, 0, 0, 1, 1, 0, 1]
    text = ps.encode(bits)
    assert text == format(0b1011001, "02x")
    assert ps.decode(text, 7) == bits
    with pytest.raises(ValueError, match="beyond"):
        ps.decode("ff", 7)
    with pytest.raises(ValueError, match="hex digits"):
        ps.decode("F", 3)


def test_digest_matches_documented_encoding():
    X = [[1.0, 2.0]]
    y = [0.5]
    expected = hashlib.sha256(
        b"certify-data-v1"
        + b"X\x00\x02" + struct.pack("<QQ", 1, 2) + struct.pack("<2d", 1.0, 2.0)
        + b"y\x00\x01" + struct.pack("<Q", 1) + struct.pack("<d", 0.5)).hexdigest()
    assert data_digest(X, y) == expected
    assert network_digest([[1.0]], [2.0], None) != network_digest([[1.0]], [2.0], [0.0])
    assert patterns_digest(3, ["1", "2", "1"]) == patterns_digest(3, ["2", "1"])


def _float_objective(X, y, W1, w2, lam):
    r = np.maximum(X @ W1, 0) @ w2 - y
    return 0.5 * r @ r + 0.5 * lam * (np.sum(W1 ** 2) + w2 @ w2)


def test_exact_objective_and_gradient_match_floats():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((25, 3)), rng.standard_normal(25)
    W1, w2 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    lam = Fraction(3, 10)
    Xd, yd = DyadicMatrix.from_rows(X.tolist()), DyadicMatrix.from_column(y.tolist())
    Wd, wd = DyadicMatrix.from_rows(W1.tolist()), DyadicMatrix.from_column(w2.tolist())
    ev = evaluate(Xd, yd, Wd, wd, lam)
    assert ev.objective == ev.loss + ev.penalty
    assert float(ev.objective) == pytest.approx(_float_objective(X, y, W1, w2, 0.3), rel=1e-13)
    g = gradient(Xd, Wd, wd, lam, ev)
    eps = 1e-7
    for i, j in [(0, 0), (2, 3), (1, 1)]:
        Wp = W1.copy()
        Wp[i, j] += eps
        fd = (_float_objective(X, y, Wp, w2, 0.3) - _float_objective(X, y, W1, w2, 0.3)) / eps
        assert float(g.column(j)[i]) == pytest.approx(fd, rel=1e-4, abs=1e-5)
    wp = w2.copy()
    wp[2] += eps
    fd = (_float_objective(X, y, W1, wp, 0.3) - _float_objective(X, y, W1, w2, 0.3)) / eps
    assert float(g.column(2)[3]) == pytest.approx(fd, rel=1e-4, abs=1e-5)


def _tie_context():
    # rows (1,0),(0,1),(1,1),(1,-1),(0,0); neuron (1,-1) is tied with (1,1); zero row ignored
    X = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0], [0.0, 0.0]]
    y = [1.0, 0.0, 0.5, 2.0, 0.0]
    W1 = [[1.0, 0.5], [-1.0, 0.25]]
    w2 = [1.5, -1.0]
    return ExactContext(X, y, W1, w2, None, Fraction(1, 10))


def test_ties_and_own_scope():
    ctx = _tie_context()
    assert ctx.ties == [(2, 0)]
    scope = ctx.own_scope(max_ties=12)
    # neuron 0: base pattern has the tie active; its flip switches it off; neuron 1 adds one more
    assert len(scope.patterns) == 3
    on = ps.decode(scope.patterns[0], 5)
    off = ps.decode(scope.patterns[1], 5)
    assert on[2] == 1 and off[2] == 0 and on[:2] + on[3:] == off[:2] + off[3:]
    assert on[4] == 1  # zero rows count as active
    with pytest.raises(ValueError, match="budget"):
        ctx.own_scope(max_ties=0)


def test_stationarity_box_at_a_tie():
    ctx = _tie_context()
    ties = ctx.ties
    base = tied_gradient_sq(ctx, ties, [Fraction(0)])
    assert base == ctx.gradient.squared_norm()
    jump = tie_directions(ctx.X, ctx.w2, ctx.evaluation, ties)[0]
    col = ctx.gradient.column(0)[:2]
    full = tied_gradient_sq(ctx, ties, [Fraction(1)])
    assert full - base == sum((a + b) ** 2 - a * a for a, b in zip(col, jump, strict=True))
    assert ties_independent(ctx, ties)


def test_modular_rank_minor_and_null_vector():
    M = flint.fmpz_mat([[1, 2], [2, 4], [3, 7]])
    assert linalg.modular_rank(M) == 2
    rows = linalg.independent_rows(M)
    assert rows is not None and linalg.det_mod(linalg.submatrix(M, rows, [0, 1]), linalg.DEFAULT_PRIME) != 0
    assert linalg.null_vector(M) is None
    D = flint.fmpz_mat([[1, 2, 3], [2, 4, 6]]).transpose()  # 3 x 2, dependent columns
    assert linalg.independent_rows(D) is None
    z = linalg.null_vector(D)
    assert z is not None and linalg.is_null_vector(D, z)
    assert not linalg.is_null_vector(D, [0, 0])
    assert linalg.is_prime(linalg.DEFAULT_PRIME) and not linalg.is_prime(91)
    A = linalg.integer_matrix([[Fraction(1, 2), Fraction(1, 3)], [1, 0]])
    assert A.tolist() == [[3, 2], [6, 0]]
