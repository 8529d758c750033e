"""Instances with a known exact optimum and optimal set (planted by construction).

:func:`planted_separable`: one input feature ``x`` (no bias), any targets. The patterns of the
arrangement are ``1[x >= 0]`` and ``1[x <= 0]``; their cones are the half-lines ``u >= 0`` and
``u <= 0`` (theory.md §2), so every convex solution has the fit ``a x_+ + b x_-`` with
``x_+ = max(x, 0)``, ``x_- = max(-x, 0)`` of disjoint supports, and the C-ReLU separates into two
scalar lassos::

    a* = soft(<x_+, y>, lam) / ||x_+||^2,   b* = soft(<x_-, y>, lam) / ||x_-||^2,
    soft(t, lam) = sign(t) max(|t| - lam, 0)

(``0`` when the norm is ``0``). Everything is rational for rational data: the optimal weights, the
fit, ``p* = 1/2 ||y - y_hat||^2 + lam (|a*| + |b*|)``, and ``lam_max = max(|<x_+, y>|, |<x_-, y>|)``.
The optimum is unique (each lasso is strictly convex where its norm is non-zero), so the optimal
polytope ``P_lam`` of theory.md §4 is a single point: one vertex, the active blocks below.

Instances with larger optimal polytopes (planted dual certificates) live in
``certify.testing.planted`` when that module is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from certify.testing.instance import Candidate, Instance


@dataclass(frozen=True)
class Planted:
    """A planted instance with its exact optimum.

    Attributes
    ----------
    instance : Instance
        Float view (the dyadic data are exact as floats; ``lam`` is rounded only if not dyadic).
    lam : Fraction
        Exact ``lam``.
    weights : dict
        Active blocks ``(pattern column, sign) -> exact weight`` (1-D blocks: a Fraction).
    fit : list of Fraction
        The optimal fit ``y_hat``.
    objective : Fraction
        ``p*``.
    lam_max : Fraction
        The zero-solution threshold.
    """

    instance: Instance
    lam: Fraction
    weights: dict
    fit: list
    objective: Fraction
    lam_max: Fraction

    def candidate(self) -> Candidate:
        """The exact optimum as a float candidate (``U``, ``H`` over the instance's scope)."""
        P = self.instance.P
        U, H = np.zeros((1, P)), np.zeros((1, P))
        for (p, sign), w in self.weights.items():
            (U if sign > 0 else H)[0, p] = float(w)
        return Candidate(U, H)

    @property
    def vertices(self) -> list[dict]:
        """The vertices of the optimal polytope: one (the optimum is unique)."""
        return [dict(self.weights)]


def _soft(t: Fraction, lam: Fraction) -> Fraction:
    if abs(t) <= lam:
        return Fraction(0)
    return t - lam if t > 0 else t + lam


def planted_separable(x: list[float], slopes: tuple[float, float] | None = None, lam: object = Fraction(1, 2),
                      y: list[float] | None = None) -> Planted:
    """The one-feature instance of the module docstring.

    Parameters
    ----------
    x : list of float
        The points (exact floats; dyadic values keep everything small).
    slopes : (float, float), optional
        Targets ``y = s_+ x_+ - s_- x_-`` plus the zero rows' targets 0, when ``y`` is not given.
    lam : Fraction, str or float
        certify's scaling, > 0.
    y : list of float, optional
        Explicit targets.
    """
    xs = [Fraction(float(v)) for v in x]
    n = len(xs)
    if y is None:
        sp, sm = (Fraction(float(s)) for s in (slopes or (1.0, 1.0)))
        ys = [sp * max(v, 0) - sm * max(-v, 0) for v in xs]
    else:
        ys = [Fraction(float(v)) for v in y]
    lam = Fraction(lam)
    if lam <= 0:
        raise ValueError("lam must be > 0")
    xp = [max(v, Fraction(0)) for v in xs]
    xm = [max(-v, Fraction(0)) for v in xs]

    def coef(z: list[Fraction]) -> tuple[Fraction, Fraction]:
        zz = sum(v * v for v in z)
        zy = sum(a * b for a, b in zip(z, ys, strict=True))
        return (_soft(zy, lam) / zz if zz else Fraction(0)), abs(zy)

    a, tp = coef(xp)
    b, tm = coef(xm)
    fit = [a * p + b * m for p, m in zip(xp, xm, strict=True)]
    obj = sum((u - v) ** 2 for u, v in zip(ys, fit, strict=True)) / 2 + lam * (abs(a) + abs(b))
    X = np.array([[float(v)] for v in xs])
    cols = [np.array([1 if v >= 0 else 0 for v in xs], np.uint8), np.array([1 if v <= 0 else 0 for v in xs],
                                                                           np.uint8)]
    D = np.stack(cols, axis=1) if not np.array_equal(cols[0], cols[1]) else cols[0][:, None]
    weights = {}
    # the "+" side is pattern 0 (u >= 0), the "-" side pattern 1 (u <= 0, so w = -|b|)
    if a:
        weights[(0, 1 if a > 0 else -1)] = abs(a)
    if b:
        weights[(D.shape[1] - 1, 1 if b > 0 else -1)] = -abs(b)
    inst = Instance(X, np.array([float(v) for v in ys]), float(lam), D, complete=True,
                    label=f"planted separable (n={n})")
    return Planted(inst, lam, weights, fit, obj, max(tp, tm))
