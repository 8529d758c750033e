"""Floats as exact dyadic rationals, and integer matrices with a power-of-two scale.

Every finite binary64 float is ``p / 2^k`` exactly. A matrix of floats is stored as an
integer matrix ``M`` (python-flint ``fmpz_mat``) and a shift ``s >= 0`` with value
``M / 2^s``; ``s`` is the smallest shift that makes every entry an integer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import flint


def float_to_fraction(x: float) -> Fraction:
    """Return the exact value of a finite float; raise ValueError on NaN or Inf."""
    if not math.isfinite(x):
        raise ValueError(f"non-finite value {x!r}")
    return Fraction(x)


def _exponent(q: int) -> int:
    """log2 of a power of two."""
    return q.bit_length() - 1


@dataclass(frozen=True)
class DyadicMatrix:
    """The exact matrix ``mat / 2**shift``."""

    mat: flint.fmpz_mat
    shift: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.mat.nrows(), self.mat.ncols())

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[float]]) -> DyadicMatrix:
        """Convert a rectangular list of floats (or ints) exactly."""
        nrows = len(rows)
        ncols = len(rows[0]) if nrows else 0
        ratios = []
        shift = 0
        for row in rows:
            if len(row) != ncols:
                raise ValueError("ragged matrix")
            for x in row:
                p, q = float(x).as_integer_ratio() if math.isfinite(x) else _nonfinite(x)
                ratios.append((p, q))
                e = _exponent(q)
                if e > shift:
                    shift = e
        ints = [p << (shift - _exponent(q)) for p, q in ratios]
        return cls(flint.fmpz_mat(nrows, ncols, ints), shift)

    @classmethod
    def from_column(cls, values: Sequence[float]) -> DyadicMatrix:
        """A column vector (n x 1) from a list of floats."""
        return cls.from_rows([[v] for v in values])

    def entries(self) -> list[int]:
        """Integer numerators in row-major order."""
        return [int(e) for e in self.mat.entries()]

    def rows(self) -> list[list[int]]:
        """Integer numerators as a list of rows."""
        n, m = self.shape
        flat = self.entries()
        return [flat[i * m:(i + 1) * m] for i in range(n)]

    def fractions(self) -> list[list[Fraction]]:
        """Exact entries as Fractions (slow; for small matrices and tests)."""
        scale = 1 << self.shift
        return [[Fraction(p, scale) for p in row] for row in self.rows()]

    def hstack(self, other: DyadicMatrix) -> DyadicMatrix:
        """Concatenate columns, bringing both to a common shift."""
        shift = max(self.shift, other.shift)
        a = self.mat * (1 << (shift - self.shift))
        b = other.mat * (1 << (shift - other.shift))
        n = self.shape[0]
        ra, rb = a.tolist(), b.tolist()
        rows = [list(ra[i]) + list(rb[i]) for i in range(n)]
        return DyadicMatrix(flint.fmpz_mat(rows) if n else flint.fmpz_mat(0, 0), shift)

    def vstack(self, other: DyadicMatrix) -> DyadicMatrix:
        """Concatenate rows, bringing both to a common shift."""
        shift = max(self.shift, other.shift)
        a = (self.mat * (1 << (shift - self.shift))).tolist()
        b = (other.mat * (1 << (shift - other.shift))).tolist()
        return DyadicMatrix(flint.fmpz_mat(a + b), shift)


def _nonfinite(x: float):
    raise ValueError(f"non-finite value {x!r}")


def ones_column(n: int) -> DyadicMatrix:
    """The n x 1 matrix of ones."""
    return DyadicMatrix(flint.fmpz_mat(n, 1, [1] * n), 0)
