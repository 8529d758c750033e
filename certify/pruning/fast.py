"""Algorithm 1 (theory.md §5) with float steps and ONE exact final solve (a pure kernel).

The exact kernel (:mod:`certify.pruning.exact`) does every step in rational arithmetic, on numbers
that grow to about ``r * 110`` bits. Here the steps run in floating point and only choose the final
support; every reported quantity is then computed exactly, once:

1. *Float steps.* Normalized fit columns ``G_j = F_j / ||F_j||``; a column-pivoted QR gives an
   independent set ``B`` (float rank: ``|R_ii| > RANK_TOL |R_00|``). Each other column ``j`` is
   expressed over ``B`` by the maintained QR factorization of ``G_B`` (updated by
   ``scipy.linalg.qr_delete``/``qr_insert`` at each exchange, never recomputed): the null vector
   ``beta = e_j - x`` moves the contribution factors ``P <- P - s beta`` until some ``P_k`` reaches 0.
   With every neuron rebalanced the penalty is ``lam sum_i P_i |w2_i| ||W1_i||``, linear in ``P``, so
   the sign of ``s`` is the one that does not increase it (float estimate); neuron ``k`` leaves and
   ``j`` takes its place in ``B``. The surviving set ``S`` is the candidate support.
2. *One exact solve.* ``P_S`` solves ``F_S P_S = F 1`` exactly: the modular pivots ``S'`` of ``F_S``
   (exactly independent: a non-zero minor modulo a prime is a non-zero integer minor), rows ``R``
   with ``det F[R, S'] != 0 mod p``, ``fmpz_mat.solve`` on ``F[R, S']``, and the solution verified on
   *every* row by integer multiplication. Neurons with ``P_j = 0`` are dropped.
3. *Acceptance* (all exact): the solution exists and is verified, ``P >= 0``, and the rebalanced
   network (``W1'_j = a_j W1_j``, ``w2'_j = P_j w2_j / a_j``, ``a_j`` the balancing factor rounded to
   24 bits or 1, whichever gives the exactly smaller penalty) has NC ``<=`` the original NC.

The accepted network has the original fit exactly (``F P = F 1``, positive homogeneity of the ReLU),
NC not larger, and exactly independent fit columns (so it is minimal, with at most ``rank(F) <= n``
neurons). Otherwise (a float rank or sign decision that the exact test contradicts) the result is
the exact kernel's, run on the original network, and the reason is recorded in ``fallback``.
The float steps are a log of estimates (``FloatStep``); only the final objectives are exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
import scipy.linalg

from certify.exact.dyadic import DyadicMatrix
from certify.exact.linalg import independent_rows
from certify.exact.minimality import fit_columns, matrix, pivot_columns, support
from certify.exact.nc import evaluate
from certify.pruning.exact import PRIMES, ExactPruning, _fmpq, _frac, _qsum, _State, prune_exact

#: Relative threshold on the diagonal of the pivoted QR of the normalized fit columns below which a
#: column counts as dependent (float rank). A wrong decision is caught by the exact acceptance test.
RANK_TOL = 1e-9

#: Relative residual ``||G_B x - G_j||`` above which a column counts as independent of ``B``.
RESIDUAL_TOL = 1e-7


@dataclass(frozen=True)
class FloatStep:
    """One float step of Algorithm 1 (estimates, not certified).

    ``removed`` are original neuron indices (the first is ``k``), ``entering`` the neuron ``j`` whose
    null vector was used, ``s`` the signed step on ``P`` and ``penalty`` the float penalty after it.
    """

    removed: tuple[int, ...]
    entering: int
    s: float
    penalty: float


@dataclass(frozen=True)
class FastPruning:
    """Result of :func:`prune_fast`.

    Attributes
    ----------
    exact : ExactPruning
        The exact pruned network and exact objectives. When the fast result is accepted its
        ``steps`` and ``refused`` are empty (the per-step log is ``float_steps``); after a fallback
        it is the exact kernel's result with its exact log.
    float_steps : list of FloatStep
        The float steps that chose the candidate support (float estimates).
    candidate : list of int
        The candidate support the float steps chose (original indices, increasing).
    fallback : str or None
        None when the fast result was accepted; otherwise why the exact kernel was run.
    """

    exact: ExactPruning
    float_steps: list[FloatStep]
    candidate: list[int]
    fallback: str | None

    @property
    def method(self) -> str:
        """``"fast"`` when accepted, ``"exact"`` after a fallback."""
        return "fast" if self.fallback is None else "exact"


def float_support(columns: Sequence[Sequence[int]], alive: Sequence[int], weight: Sequence[float]
                  ) -> tuple[list[int], list[FloatStep]]:
    """The float steps of Algorithm 1: a candidate support and the step log.

    Parameters
    ----------
    columns : integer fit columns (a common positive scale of ``F``)
    alive : the non-zero columns
    weight : ``lam |w2_j| ||W1_j||`` per neuron (the rebalanced penalty per unit of ``P_j``)
    """
    if not alive:
        return [], []
    # a common power of two keeps the integers within float range (only ratios matter in floats)
    shift = max(0, max(abs(v).bit_length() for j in alive for v in columns[j]) - 960)
    F = np.array([[float(v >> shift) for v in columns[j]] for j in alive]).T  # n x len(alive)
    norms = np.linalg.norm(F, axis=0)
    if not np.all(np.isfinite(norms) & (norms > 0)):
        raise FloatingPointError("fit columns out of float range")
    G = F / norms
    n = G.shape[0]
    c = np.array([weight[j] for j in alive]) / norms  # penalty per unit of P in G coordinates
    P = norms.copy()  # P in G coordinates (G P = F 1): norms times the factors of F
    _, R0, piv = scipy.linalg.qr(G, pivoting=True, mode="economic")
    diag = np.abs(np.diag(R0))
    rank = int(np.sum(diag > RANK_TOL * diag[0])) if diag.size else 0
    B = [int(i) for i in piv[:rank]]
    pending = [int(i) for i in piv[rank:]]
    Q, R = scipy.linalg.qr(G[:, B]) if B else (np.eye(n), np.zeros((n, 0)))
    steps: list[FloatStep] = []
    for j in pending:
        r = len(B)
        qg = Q.T @ G[:, j]
        if r < n and np.linalg.norm(qg[r:]) > RESIDUAL_TOL:  # independent of B in floats: joins B
            Q, R = scipy.linalg.qr_insert(Q, R, G[:, j], r, which="col")
            B.append(j)
            continue
        x = scipy.linalg.solve_triangular(R[:r, :r], qg[:r])
        idx = np.array(B + [j])
        beta = np.concatenate([-x, [1.0]])
        Pi = P[idx]
        ratio = beta / Pi
        g = float(c[idx] @ beta)  # penalty changes by -s g
        up, down = int(np.argmax(ratio)), int(np.argmin(ratio))
        options = [(Pi[up] / beta[up], up)] if ratio[up] > 0 else []
        if ratio[down] < 0:
            options.append((Pi[down] / beta[down], down))
        # the direction that does not increase the penalty (-s g <= 0); ties: the larger |beta'|
        s, k = min(options, key=lambda o: (-o[0] * g, -abs(ratio[o[1]])))
        newP = Pi - s * beta
        newP[k] = 0.0
        gone = [int(idx[i]) for i in range(len(idx)) if newP[i] <= 0.0]
        newP = np.maximum(newP, 0.0)
        P[idx] = newP
        removed = [int(idx[k])] + [i for i in gone if i != int(idx[k])]
        for i in removed:
            if i in B:
                pos = B.index(i)
                Q, R = scipy.linalg.qr_delete(Q, R, pos, which="col")
                del B[pos]
        if j not in removed:
            Q, R = scipy.linalg.qr_insert(Q, R, G[:, j], len(B), which="col")
            B.append(j)
        steps.append(FloatStep(tuple(alive[i] for i in removed), alive[j], float(s / norms[j]),
                               float(c @ P)))
    return sorted(alive[i] for i in B), steps


def exact_factors(columns: Sequence[Sequence[int]], alive: Sequence[int], candidate: Sequence[int]
                  ) -> dict[int, flint.fmpq] | str:
    """Exact ``P`` with ``F_S' P = F 1`` over exactly independent ``S' ⊆ candidate``, or the reason why not.

    ``S'`` are the modular pivot columns of ``F_candidate``; the solution is verified on every row.
    Only neurons with ``P_j > 0`` are returned; a negative ``P_j`` is a failure.
    """
    if not candidate:
        return {} if not alive else "empty candidate support"
    n = len(columns[0])
    target = [sum(columns[j][k] for j in alive) for k in range(n)]
    # each column divided by its content c_j and the target by its own t: the solution z of the
    # reduced system gives P_j = z_j t / c_j, on integers about 60 bits shorter (w2_j's numerator goes)
    content = [math.gcd(*columns[j]) for j in candidate]
    reduced = [[v // c for v in columns[j]] for j, c in zip(candidate, content, strict=True)]
    target_content = math.gcd(*target) or 1
    target = [v // target_content for v in target]
    pivots = pivot_columns(matrix(reduced, range(len(candidate))), PRIMES[0])
    if not pivots:
        return "candidate columns are zero"
    A = matrix(reduced, pivots)
    rows = None
    for p in PRIMES:
        rows = independent_rows(A, p)
        if rows is not None:
            break
    if rows is None:  # pragma: no cover - pivot columns are independent modulo PRIMES[0]
        return "no rows with a non-zero minor"
    square = matrix(reduced, pivots, rows)
    rhs = flint.fmpz_mat(len(rows), 1, [target[k] for k in rows])
    num, den = square.solve(rhs).numer_denom()
    den = int(den)
    prod = A * num  # verified on every row, not only on R
    if any(int(v) != den * t for v, t in zip(prod.entries(), target, strict=True)):
        return "F 1 is not in the span of the candidate columns (exact)"
    P = {candidate[i]: flint.fmpq(int(v) * target_content, den * content[i])
         for i, v in zip(pivots, num.entries(), strict=True)}
    if any(v < 0 for v in P.values()):
        return "a contribution factor is negative (exact)"
    return {j: v for j, v in P.items() if v != 0}


def prune_fast(X: DyadicMatrix, y: DyadicMatrix, W1: DyadicMatrix, w2: DyadicMatrix, lam: Fraction,
               progress: Callable[[int, int], None] | None = None,
               candidate: Sequence[int] | None = None) -> FastPruning:
    """Algorithm 1 with float steps and one exact solve; the exact kernel when that is not accepted.

    Parameters
    ----------
    X, y, W1, w2, lam
        As in :func:`certify.pruning.exact.prune_exact` (``lam > 0``; NC = 1/2 ||f(X) - y||^2 +
        (lam/2) sum_j (||W1_j||^2 + w2_j^2); a bias is the last row of ``W1`` and a ones column of ``X``).
    progress : callable, optional
        Passed to the exact kernel on a fallback.
    candidate : sequence of int, optional
        A support to test instead of the float steps' one (for tests of the fallback).

    Returns
    -------
    FastPruning
        Its ``exact`` network always has the original fit exactly, NC ``<=`` the original, and
        independent fit columns when ``exact.minimal`` (always, when the fast result is accepted).
    """
    lam = Fraction(lam)
    m = W1.shape[1]
    ev = evaluate(X, y, W1, w2, lam)
    w2n = w2.entries()
    columns = fit_columns(ev.preact, w2n)
    alive = support(columns)
    w1_rows = W1.fractions()
    sq_w1 = [sum(row[j] ** 2 for row in w1_rows) for j in range(m)]
    w2f = [Fraction(v, 1 << w2.shift) for v in w2n]
    steps: list[FloatStep] = []
    reason: str | None = None
    if candidate is None:
        try:
            weight = [float(lam) * abs(float(w2f[j])) * math.hypot(*(float(row[j]) for row in w1_rows))
                      for j in range(m)]
            candidate, steps = float_support(columns, alive, weight)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:  # out of float range
            candidate, reason = [], f"float steps failed ({exc})"
    if reason is None:
        candidate = sorted({int(j) for j in candidate} & set(alive))
        factors = exact_factors(columns, alive, candidate)
        reason = factors if isinstance(factors, str) else None
    if reason is None:
        state = _State(_fmpq(lam / 2), [_fmpq(v) for v in sq_w1], [_fmpq(v) for v in w2f], float(lam / 2),
                       [float(v) for v in sq_w1], [float(v) for v in w2f])
        one = flint.fmpq(1)
        loss = _fmpq(ev.loss)
        rebalanced = _frac(loss + _qsum(state.best_scale(j, one, one)[1] for j in alive))
        kept = sorted(factors)
        scaled = [state.best_scale(j, factors[j], one) for j in kept]
        objective = _frac(loss + _qsum(term for _, term in scaled))
        if objective > ev.objective:
            reason = "the exact objective of the candidate exceeds the original one"
        else:
            scale = [_frac(a) for a, _ in scaled]
            factor = [_frac(factors[j]) for j in kept]
            W1_out = [[row[j] * a for j, a in zip(kept, scale, strict=True)] for row in w1_rows]
            w2_out = [P * w2f[j] / a for j, P, a in zip(kept, factor, scale, strict=True)]
            dead = [j for j in range(m) if j not in set(alive)]
            result = ExactPruning(kept, W1_out, w2_out, scale, factor, dead, [], [], len(kept), ev.loss,
                                  ev.objective, rebalanced, objective)
            return FastPruning(result, steps, candidate, None)
    return FastPruning(prune_exact(X, y, W1, w2, lam, progress), steps, candidate, reason)
