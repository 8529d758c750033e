"""Algorithm 1 of theory.md §5 in exact arithmetic, in network coordinates (a pure kernel).

Every neuron keeps its input direction: the pruned network has ``W1'_j = a_j W1_j`` and
``w2'_j = P_j w2_j / a_j`` with rationals ``a_j > 0`` (rebalancing) and ``P_j >= 0`` (the factor of
neuron j's contribution to the fit). By positive homogeneity of the ReLU the fit is
``sum_j P_j F_j`` with ``F_j = (X W1_j)_+ w2_j`` the original fit columns, so the fit stays exactly
equal as long as ``F P = F 1``.

While the non-zero columns are dependent, a null vector ``beta`` (``F beta = 0``, exact) moves
``P <- P - s beta``; ``s`` is the first step at which some ``P_k`` reaches 0 (neuron k vanishes) in
one of the two directions. In the paper's contribution coordinates ``beta'_j = beta_j / P_j`` this
is the step ``t = 1 / beta'_k`` with factors ``c_j = 1 - t beta'_j >= 0``; for ``k = argmax |beta'|``
the factors lie in [0, 2]. Each neuron is then rebalanced: ``a_j`` is the balancing factor
``(P_j^2 w2_j^2 / ||W1_j||^2)^(1/4)`` rounded to 24 significant bits (to 128, 512 or 2048 bits, by
integer fourth roots, when a step is refused at that precision: a neutral step pays only the rebalancing
excess), unless keeping the old ``a_j`` gives a smaller penalty. The loss never changes; the
penalty is computed exactly for both directions and a step is taken only if the objective does
not increase (the direction with ``k = argmax |beta'|`` is preferred when it qualifies, so that
its factors are in [0, 2]); when neither does (a neutral step at an exactly optimal network pays
the rebalancing excess), the step is refused and its exact least increase recorded.

Speed: no null space is recomputed. The kernel keeps a set ``B`` of exactly independent columns
(the modular pivots of ``F``; Algorithm 1 exchanges one column per step) and rows ``R`` with
``det F[R, B] != 0`` modulo a prime, together with the exact determinant ``D = det F[R, B]`` (updated
by Cramer's rule at each exchange) and the inverse of ``F[R, B]`` modulo the prime. The null vector
of a column ``j`` outside ``B`` is ``e_j - x`` with ``F[R, B] x = F[R, j]``: ``D x`` is found by
p-adic (Dixon) lifting, ``O(K r^2)`` operations, and verified by multiplication on every row (if it
fails, a direct exact solve decides; if that fails too, ``F_j`` is independent of ``F_B`` and joins
``B``). Floats only choose ``k`` and the rebalancing factors (exact tests correct a wrong choice of
``k``); every quantity that is reported is exact. Rationals are python-flint ``fmpq``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import flint

from certify.exact.dyadic import DyadicMatrix
from certify.exact.linalg import DEFAULT_PRIME, independent_rows
from certify.exact.minimality import fit_columns, pivot_columns, support
from certify.exact.nc import evaluate

#: Primes tried, in order, when a modular computation meets an unlucky prime.
PRIMES = (DEFAULT_PRIME, 4611686018427387847, 9223372036854775783)


@dataclass(frozen=True)
class PruneStep:
    """One step of Algorithm 1.

    Attributes
    ----------
    removed : tuple of int
        Original indices of the neurons that vanished (``c = 0``); the first is ``k``.
    entering : int
        The neuron ``j`` whose null vector ``e_j - x`` (over the independent set) was used.
    t : Fraction
        The step ``1 / beta'_k`` in contribution coordinates (``beta`` normalized by ``beta_j = 1``).
    sign : int
        +1 if ``k = argmax beta'``, -1 if ``k = argmin beta'`` (the two directions).
    max_factor : Fraction
        ``max_j c_j`` (at most 2 when ``k = argmax |beta'|``).
    largest : bool
        True when ``k = argmax |beta'|``.
    objective : Fraction
        Exact NC after the step.
    """

    removed: tuple[int, ...]
    entering: int
    t: Fraction
    sign: int
    max_factor: Fraction
    largest: bool
    objective: Fraction


@dataclass(frozen=True)
class RefusedStep:
    """A dependent neuron whose removal would increase NC in both directions.

    ``increase`` is the exact least increase of NC that the step would cost.
    """

    neuron: int
    increase: Fraction


@dataclass(frozen=True)
class ExactPruning:
    """Result of :func:`prune_exact` (indices are original neuron indices).

    Attributes
    ----------
    kept : list of int
        Surviving neurons, increasing.
    W1 : list of list of Fraction
        Exact first-layer weights of the pruned network, ``d' x len(kept)`` (``d'`` counts the
        ones column when there is a bias: its last row is then ``b1``).
    w2 : list of Fraction
        Exact output weights.
    scale, factor : list of Fraction
        ``a_j`` and ``P_j`` of every kept neuron.
    dead : list of int
        Zero neurons removed first (zero fit column).
    steps : list of PruneStep
    refused : list of RefusedStep
    rank : int
        Number of exactly independent columns at the end: the rank of the kept neurons' fit columns
        (without the refused ones), at most the rank of the original fit columns (usually equal; less
        when several neurons vanish in one step, e.g. columns that cancel).
    loss, objective_original, objective : Fraction
        Exact loss (unchanged), NC of the original network and of the pruned one.
    objective_rebalanced : Fraction
        NC after removing zero neurons and rebalancing, before the first step.
    """

    kept: list[int]
    W1: list[list[Fraction]]
    w2: list[Fraction]
    scale: list[Fraction]
    factor: list[Fraction]
    dead: list[int]
    steps: list[PruneStep]
    refused: list[RefusedStep]
    rank: int
    loss: Fraction
    objective_original: Fraction
    objective_rebalanced: Fraction
    objective: Fraction

    @property
    def minimal(self) -> bool:
        """True iff the kept neurons' fit columns are linearly independent (no refused step)."""
        return not self.refused


@dataclass
class _State:
    """Mutable per-neuron state of the pruning loop (exact rationals)."""

    half_lam: flint.fmpq
    sq_w1: list[flint.fmpq]           # ||W1_j||^2
    w2: list[flint.fmpq]              # original w2_j
    half_lam_f: float = 0.0
    sq_w1_f: list[float] = field(default_factory=list)
    w2_f: list[float] = field(default_factory=list)
    P: dict[int, flint.fmpq] = field(default_factory=dict)
    a: dict[int, flint.fmpq] = field(default_factory=dict)
    term: dict[int, flint.fmpq] = field(default_factory=dict)

    def penalty_term(self, j: int, P: flint.fmpq, a: flint.fmpq) -> flint.fmpq:
        """``(lam/2) (a^2 ||W1_j||^2 + (P w2_j / a)^2)``: neuron j's penalty."""
        b = P * self.w2[j] / a
        return self.half_lam * (a * a * self.sq_w1[j] + b * b)

    def float_term(self, j: int, P: float, a: float) -> float:
        """:meth:`penalty_term` in floating point (used only to choose)."""
        return self.half_lam_f * (a * a * self.sq_w1_f[j] + (P * self.w2_f[j] / a) ** 2)

    def best_scale(self, j: int, P: flint.fmpq, a_old: flint.fmpq, bits: int | None = None
                   ) -> tuple[flint.fmpq, flint.fmpq]:
        """``(a, term)``: a rebalancing factor for neuron j at factor ``P`` and its exact penalty term.

        ``bits=None``: the balancing factor ``(P^2 w2_j^2 / ||W1_j||^2)^(1/4)`` rounded to 24 significant
        bits in floating point (penalty excess about 2^-48 relative), or
        ``a_old`` if floats say it is better. ``bits=b``: the balancing factor truncated to ``b``
        significant bits (integer fourth roots), or ``a_old`` if that is exactly better. Any ``a > 0``
        keeps the fit; the choice only affects the penalty, which is computed exactly.
        """
        Pf, a_old_f = _float(P), _float(a_old)
        choice = a_old
        if Pf > 0:
            try:
                a_float = math.sqrt(Pf * abs(self.w2_f[j]) / math.sqrt(self.sq_w1_f[j]))
            except (OverflowError, ZeroDivisionError, ValueError):
                a_float = math.nan
            if math.isfinite(a_float) and a_float > 0:
                if bits is None:  # 24 significant bits: short odd parts keep the exact sums small
                    mantissa, exponent = math.frexp(a_float)
                    a_short = math.ldexp(round(mantissa * 2**24), exponent - 24)
                    if self.float_term(j, Pf, a_short) < self.float_term(j, Pf, a_old_f):
                        choice = _fmpq(Fraction(a_short))
                else:
                    a_new = _balancing(P * P * self.w2[j] * self.w2[j] / self.sq_w1[j], a_float, bits)
                    old_term, new_term = self.penalty_term(j, P, a_old), self.penalty_term(j, P, a_new)
                    return (a_new, new_term) if new_term < old_term else (a_old, old_term)
        return choice, self.penalty_term(j, P, choice)


def _balancing(r: flint.fmpq, estimate: float, bits: int) -> flint.fmpq:
    """``r^(1/4)`` truncated to about ``bits`` significant bits (``estimate`` its float value)."""
    shift = bits - math.frexp(estimate)[1]
    p, q = int(r.p), int(r.q)
    if shift >= 0:
        root = math.isqrt(math.isqrt((p << (4 * shift)) // q))
        return flint.fmpq(root, 1 << shift) if root else flint.fmpq(1, 1 << shift)
    root = math.isqrt(math.isqrt(p // (q << (-4 * shift))))
    return flint.fmpq(max(root, 1) << -shift)


#: Precisions (significant bits) of the rebalancing factors tried when a step is refused at float
#: precision: a neutral step (positively collinear duplicates) pays only the rebalancing excess,
#: which shrinks by about 2^-2b.
PRECISIONS = (None, 128, 512, 2048)


def _solve(A: flint.fmpz_mat, b: flint.fmpz_mat) -> tuple[flint.fmpz_mat, int] | None:
    """``(num, den)`` with ``A num = den b`` for a square non-singular ``A``; None if singular."""
    try:
        x = A.solve(b)
    except ZeroDivisionError:
        return None
    num, den = x.numer_denom()
    return num, int(den)


class IndependentColumns:
    """An exactly independent set of columns ``B`` with rows ``R`` (``det F[R, B] != 0 mod p``).

    Keeps ``A = F[R, B]`` (``fmpz_mat``), its exact determinant ``D`` and its inverse modulo ``p``,
    so that each null vector costs one p-adic (Dixon) solve: ``O(K r^2)`` word operations for
    ``K`` lifting steps, instead of a new multimodular solve. ``D`` is updated at an exchange of
    one column by Cramer's rule (``det A' = D x_k``), never recomputed.
    """

    def __init__(self, columns: list[list[int]], B: list[int]) -> None:
        self.columns = columns
        self.n = len(columns[0]) if columns else 0
        self.p = PRIMES[0]
        self.reset(B)

    def _rows_for(self, B: list[int]) -> list[int]:
        if not B:
            return []
        M = flint.fmpz_mat(self.n, len(B), [self.columns[j][k] for k in range(self.n) for j in B])
        for p in PRIMES:
            rows = independent_rows(M, p)
            if rows is not None:
                self.p = p
                return rows
        raise ArithmeticError("no prime among PRIMES shows the independent columns independent")

    def reset(self, B: list[int]) -> None:
        """Take ``B`` (exactly independent), choose rows, compute ``D`` exactly and the inverse mod p."""
        self.B = list(B)
        self.R = self._rows_for(self.B)
        self._factor(int(self._square().det()) if self.B else 1)

    def _square(self) -> flint.fmpz_mat:
        cols, R = self.columns, self.R
        return flint.fmpz_mat(len(R), len(self.B), [cols[i][k] for k in R for i in self.B])

    def _factor(self, det: int) -> None:
        self.A = self._square()
        self.D = det
        r = len(self.B)
        self.bits = [max(self.columns[i][k].bit_length() for k in self.R) for i in self.B]
        self.log_r = (r.bit_length() + 1) // 2 + 1
        self.inv = flint.nmod_mat(self.A, self.p).inv() if r else None

    def exchange(self, k: int, j: int, det: int) -> None:
        """Replace column ``k`` of ``B`` by ``j`` (same position); ``det`` is the new ``det F[R, B]``."""
        self.B[self.B.index(k)] = j
        if det % self.p == 0:  # the rows no longer serve (probability about 1/p): choose new ones
            self.reset(self.B)
        else:
            self._factor(det)

    def _dixon(self, b: list[int]) -> list[int]:
        """Integers ``y`` with ``A y = D b`` (exact: ``y = D A^{-1} b``), by p-adic lifting."""
        p, r = self.p, len(b)
        bound = sum(self.bits) + max(max(v.bit_length() for v in b), 1) + self.log_r * (r + 1) + 2
        steps = bound // 60 + 2  # p^steps > 2 |D A^{-1} b| (Hadamard), p > 2^60
        residual = flint.fmpz_mat(r, 1, b)
        digits = []
        for _ in range(steps):
            digit = self.inv * flint.nmod_mat(residual, p)
            xi = flint.fmpz_mat(r, 1, [int(v) for v in digit.entries()])
            digits.append(xi)
            residual = (residual - self.A * xi) / p
        # sum_i digits[i] p^i by binary splitting (linear in the final size, up to a log)
        base = flint.fmpz(p)
        while len(digits) > 1:
            pairs = [digits[i] + digits[i + 1] * base for i in range(0, len(digits) - 1, 2)]
            digits = pairs + ([digits[-1]] if len(digits) % 2 else [])
            base *= base
        power = flint.fmpz(p) ** steps
        half = power // 2
        return [int((self.D * v + half) % power - half) for v in digits[0].entries()]

    def relation(self, j: int) -> tuple[list[int], int, bool] | None:
        """``(x, den, cramer)`` with ``F_B x = den F_j`` exactly, ``den > 0``; None if ``F_j`` is independent.

        ``cramer`` is True when ``den = |det F[R, B]|`` and ``x`` are Cramer's numerators.
        """
        if not self.B:
            return None
        cols = self.columns
        b = [cols[j][k] for k in self.R]
        y, den = self._dixon(b), self.D
        if den < 0:
            y, den = [-v for v in y], -den
        if self._verified(j, y, den):
            return y, den, True
        solved = _solve(self.A, flint.fmpz_mat(len(b), 1, b))  # a lifting slip: solve directly
        if solved is None:  # pragma: no cover - A is non-singular modulo p
            raise ArithmeticError("the independent rows became singular")
        num, den2 = solved
        x = [int(v) for v in num.entries()]
        return (x, den2, False) if self._verified(j, x, den2) else None

    def _verified(self, j: int, x: list[int], den: int) -> bool:
        """``F_B x = den F_j`` on every row, exactly."""
        cols = self.columns
        full = flint.fmpz_mat(self.n, len(self.B), [cols[i][k] for k in range(self.n) for i in self.B])
        prod = full * flint.fmpz_mat(len(x), 1, x)
        return all(int(v) == den * cols[j][k] for k, v in enumerate(prod.entries()))


def prune_exact(X: DyadicMatrix, y: DyadicMatrix, W1: DyadicMatrix, w2: DyadicMatrix, lam: Fraction,
                progress: Callable[[int, int], None] | None = None) -> ExactPruning:
    """Prune a network to independent fit columns without changing its fit, exactly.

    Parameters
    ----------
    X : DyadicMatrix, n x d'
        Features (with the ones column appended when the network has a first-layer bias).
    y : DyadicMatrix, n x 1
    W1 : DyadicMatrix, d' x m
        First-layer weights (with ``b1`` as the last row when there is a bias).
    w2 : DyadicMatrix, m x 1
    lam : Fraction
        ``lam > 0`` in certify's scaling: NC = 1/2 ||f(X) - y||^2 + (lam/2) sum_j (||W1_j||^2 + w2_j^2).
    progress : callable, optional
        Called as ``progress(done, total)`` after each dependent column is processed.

    Returns
    -------
    ExactPruning
        The pruned network (exact), its log and exact objectives. ``objective <= objective_original``
        always; the fit is exactly the original one; ``kept`` has at most ``rank <= n`` neurons when
        ``minimal``.
    """
    lam = Fraction(lam)
    m = W1.shape[1]
    ev = evaluate(X, y, W1, w2, lam)
    w2n = w2.entries()
    columns = fit_columns(ev.preact, w2n)
    alive = support(columns)
    dead = [j for j in range(m) if j not in set(alive)]
    w1_rows = W1.fractions()
    sq_w1 = [sum(row[j] ** 2 for row in w1_rows) for j in range(m)]
    w2f = [Fraction(v, 1 << w2.shift) for v in w2n]
    state = _State(_fmpq(lam / 2), [_fmpq(v) for v in sq_w1], [_fmpq(v) for v in w2f], float(lam / 2),
                   [float(v) for v in sq_w1], [float(v) for v in w2f])
    one = flint.fmpq(1)
    for j in alive:
        a, term = state.best_scale(j, one, one)
        state.P[j], state.a[j], state.term[j] = one, a, term
    loss = _fmpq(ev.loss)
    penalty = _qsum(state.term.values())
    objective = _frac(loss + penalty)
    rebalanced = objective

    n = X.shape[0]
    flat = flint.fmpz_mat(n, len(alive), [columns[j][k] for k in range(n) for j in alive])
    pivots = [alive[i] for i in _pivots(flat)]
    indep = IndependentColumns(columns, pivots)
    pending = [j for j in alive if j not in set(pivots)]
    steps: list[PruneStep] = []
    refused: list[RefusedStep] = []
    for done, j in enumerate(pending, 1):
        relation = indep.relation(j)
        if relation is None:
            indep.reset(indep.B + [j])
        else:
            x, den, cramer = relation
            step = _step(state, indep.B, j, (x, den), loss, penalty)
            if isinstance(step, RefusedStep):
                refused.append(step)
            else:
                removed, new_P, new_a, new_term, record = step
                for i in new_P:
                    state.P[i], state.a[i], state.term[i] = new_P[i], new_a[i], new_term[i]
                for i in removed:
                    del state.P[i], state.a[i], state.term[i]
                penalty = _fmpq(record.objective) - loss
                steps.append(record)
                if removed == (j,):
                    pass  # the entering column vanished: B is unchanged
                elif len(removed) == 1 and cramer:  # exchange: det F[R, B'] = D x_k (Cramer)
                    k = removed[0]
                    indep.exchange(k, j, x[indep.B.index(k)])
                else:
                    indep.reset([i for i in indep.B if i not in removed] + ([] if j in removed else [j]))
        if progress is not None:
            progress(done, len(pending))
    rank = len(indep.B)  # every other surviving column is in their span (refused steps included)
    kept = sorted(state.P)
    scale = [_frac(state.a[j]) for j in kept]
    factor = [_frac(state.P[j]) for j in kept]
    W1_out = [[row[j] * a for j, a in zip(kept, scale, strict=True)] for row in w1_rows]
    w2_out = [P * w2f[j] / a for j, P, a in zip(kept, factor, scale, strict=True)]
    return ExactPruning(kept, W1_out, w2_out, scale, factor, dead, steps, refused, rank, ev.loss,
                        ev.objective, rebalanced, _frac(loss + _qsum(state.term.values())))


def _fmpq(value: Fraction) -> flint.fmpq:
    value = Fraction(value)
    return flint.fmpq(value.numerator, value.denominator)


def _frac(value: flint.fmpq) -> Fraction:
    return Fraction(int(value.p), int(value.q))


def _pivots(M: flint.fmpz_mat) -> list[int]:
    return pivot_columns(M, PRIMES[0])


def _step(state: _State, B: list[int], j: int, relation: tuple[list[int], int], loss: flint.fmpq,
          penalty: flint.fmpq):
    """One exact step along the null vector ``e_j - x / den``; a RefusedStep if NC would increase.

    Floats order the two directions and pick ``k``; the step itself (``t``, the new factors, their
    signs and the new penalty) is exact, and a float choice that an exact test contradicts is
    replaced by the exact one.
    """
    x, den = relation
    # beta in fit-column coordinates: beta_j = 1, beta_B = -x/den (F beta = 0); only P changes:
    # P <- P - s beta (neuron i's fit column is P_i F_i with the original F_i)
    beta = {i: flint.fmpq(-xi, den) for i, xi in zip(B, x, strict=True) if xi}
    beta[j] = flint.fmpq(1)
    Pf = {i: _float(state.P[i]) for i in beta}
    ratio = {i: _float(b) / Pf[i] for i, b in beta.items()}  # beta'_i = beta_i / P_i, in floats
    largest = max(ratio, key=lambda i: abs(ratio[i]))
    top, bottom = max(ratio, key=ratio.__getitem__), min(ratio, key=ratio.__getitem__)
    candidates = [(k, sign) for k, sign in ((top, 1), (bottom, -1)) if sign * ratio[k] > 0]
    old = _qsum(state.term[i] for i in beta)
    old_f = sum(state.float_term(i, Pf[i], _float(state.a[i])) for i in beta)

    def float_increase(k: int) -> float:
        t = Pf[k] / _float(beta[k])
        return sum(state.float_term(i, max(Pf[i] - t * _float(b), 0.0), _float(state.a[i])) if i != k else 0.0
                   for i, b in beta.items()) - old_f

    # the direction with k = argmax |beta'| first when floats say it does not increase NC
    candidates.sort(key=lambda ks: (float_increase(ks[0]) > 0, ks[0] != largest))
    best_increase = None
    tries = [(k, sign, bits) for bits in PRECISIONS for k, sign in candidates]
    for k, sign, bits in tries:
        k, t, new_P = _exact_step(state, beta, k, sign)
        new_a, new_term = {}, {}
        for i, P in new_P.items():
            if P != 0:
                new_a[i], new_term[i] = state.best_scale(i, P, state.a[i], bits)
        increase = _qsum(new_term.values()) - old
        if increase <= 0:
            removed = tuple([k] + sorted(i for i, P in new_P.items() if P == 0 and i != k))
            kept_P = {i: P for i, P in new_P.items() if P != 0}
            widest = max(kept_P, key=lambda i: _float(kept_P[i]) / Pf[i], default=None)
            max_factor = Fraction(0) if widest is None else _frac(kept_P[widest] / state.P[widest])
            record = PruneStep(removed, j, _frac(t), sign, max_factor,
                               k == largest, _frac(loss + penalty + increase))
            return removed, kept_P, new_a, new_term, record
        best_increase = increase if best_increase is None else min(best_increase, increase)
    return RefusedStep(j, _frac(best_increase) if best_increase is not None else Fraction(0))


def _exact_step(state: _State, beta: dict, k: int, sign: int) -> tuple[int, flint.fmpq, dict]:
    """``(k, t, P - t beta)`` with ``t = P_k / beta_k``, ``k`` extreme in the direction ``sign``.

    ``k`` comes from floats; if the exact new factors are not all ``>= 0`` the exact extreme
    ``k = argmax sign * beta_i / P_i`` is used instead.
    """
    for attempt in range(2):
        t = state.P[k] / beta[k]
        new_P = {i: state.P[i] - t * b for i, b in beta.items()}
        new_P[k] = flint.fmpq(0)
        if all(P >= 0 for P in new_P.values()):
            return k, t, new_P
        if attempt == 0:
            k = max(beta, key=lambda i: sign * beta[i] / state.P[i])
    raise ArithmeticError("the exact extreme step left a negative factor")  # pragma: no cover


def _qsum(values) -> flint.fmpq:
    """Exact sum by pairwise (balanced) addition: the denominators grow once per level, not per term."""
    items = list(values)
    if not items:
        return flint.fmpq(0)
    while len(items) > 1:
        items = [items[i] + items[i + 1] for i in range(0, len(items) - 1, 2)] + \
            ([items[-1]] if len(items) % 2 else [])
    return items[0]


def _float(value: flint.fmpq) -> float:
    """The nearest float (big integers divided exactly by Python)."""
    try:
        return int(value.p) / int(value.q)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
