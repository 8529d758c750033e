"""Polish a fitted network into one the sensitivity theorem applies to (theory.md §6, §4, §7).

Why (measured on standardized diabetes, n=442, d=10, lam=20, after ``certify fit`` and ``certify
prune``): a network the working-set solver returns is optimal over its own patterns only to the
solver's accuracy (gap ~1e-8), and that is not enough to differentiate it:

* *noise neurons*: blocks the solver leaves at ``||w_b|| ~ 1e-10 .. 1e-6`` with ``||v_b||`` a hair
  below ``lam`` (margins 5e-7 .. 7e-4): at the optimum they are zero. Their directions are solver
  noise, so the restricted stationarity residual is large (0.36 lam), and ``H``'s ``1/||w_b||``
  makes ``J`` ill-conditioned (1e15);
* *duplicate neurons*: copies of one direction in adjacent cells (patterns that differ only on rows
  within 1e-9 of the neuron's hyperplanes). Their fit columns are exactly independent (so pruning
  keeps them) but numerically dependent (``sigma_min ~ 1e-11``), and ``J`` is numerically singular.

The polish fixes the active set and the tight rows and solves the restricted KKT equations by
Newton's method (the Jacobian is the sensitivity matrix ``J`` itself):

1. merge duplicates: neurons of equal sign with ``1 - cos <= merge`` whose patterns differ only on
   rows within ``tight`` of the hyperplane (their block weights are added, theory.md §4);
2. drop noise: blocks with ``||w_b|| <= drop * max ||w||`` (at the start, or vanishing during Newton)
   are removed, each one kept out only if its dual constraint holds at the polished residual
   (``||Pi_K(Z_b^T r)|| <= (1 + dual) lam``: zero is optimal for it); otherwise it is put back, largest
   violation first. The other-sign block of every kept pattern (the rest of the polished network's own
   scope) is tested the same way and added when violated;
3. tight rows: ``T_b = {k : |x_k^T u_b| <= tight ||x_k||}``, held as equalities ``x_k^T w_b = 0``;
4. Newton on ``G(w, rho) = [Z^T (Z w - y) + lam (w_b / ||w_b||)_b + K rho ; K^T w] = 0`` with a
   backtracking line search on ``||G||``, until ``||G|| <= newton * lam``;
5. cells: on a tight row the fit does not depend on the pattern bit, so a tight row whose multiplier is
   not positive in the current cell moves to the other cell (flipping the bit maps ``rho_k`` to
   ``-rho_k - s_b r_k``); a row whose multiplier is not positive in either cell is released (the
   neuron leaves that hyperplane) and the polish repeats; a non-tight row that the step moved across
   its hyperplane becomes tight; a block whose pattern differs from an opposite-sign block's only on
   its own tight rows moves into that cell when its multipliers are positive there (otherwise the own
   scope would hold a duplicate of it that is not a neuron, which the certificate does not express);
6. the written network: ``W1_b = w_b / sqrt||w_b||``, ``w2_b = s_b sqrt||w_b||`` (balanced), with
   each tight row moved by a relative ``offset`` onto the chosen side, so that the exact pattern of
   the stored floats is the chosen cell (rounding errors are ~1e-16 relative).

The result is a *different network*: its objective and its fit change (reported), and every claim
about it is made for its own stored numbers. Everything here is floating point; the certificate
(:mod:`certify.sensitivity.certificate`) checks the polished network exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from certify.convex.correlation import correlation_vectors
from certify.convex.mapping import nc_objective
from certify.errors import InputError
from certify.network import Network
from certify.problem import Problem
from certify.sensitivity.kernel import (
    ActiveBlock,
    constraint_columns,
    least_squares_multipliers,
    system,
    tight_rows,
)


@dataclass(frozen=True)
class PolishTolerances:
    """Tolerances of :func:`polish` (stated in its result and in the sensitivity certificate's
    diagnostics).

    Attributes
    ----------
    merge : float, default=1e-6
        Neurons of equal sign with ``1 - cos(w_a, w_b) <= merge`` whose patterns differ only on
        rows tight for both (``tight``) are one block (duplicates in adjacent cells).
    tight : float, default=1e-6
        Row ``k`` is held on the hyperplane of block ``b`` when ``|x_k^T u_b| <= tight ||x_k||``.
        Looser than the sensitivity kernel's 1e-7 so that rows the solver left slightly off their
        hyperplane are caught; after the polish they are within ``offset``.
    drop : float, default=1e-4
        Blocks with ``||w_b|| <= drop * max ||w||`` are dropped unless their dual constraint is
        violated at the polished residual (then they are kept).
    newton : float, default=1e-12
        Newton stops when ``||G|| <= newton * lam``.
    max_iter : int, default=60
        Newton iterations per pass.
    max_passes : int, default=12
        Outer passes (release a row, add a crossed row, restore a dropped block).
    start : float, default=1e-3
        The polish is local: it refuses (returns the input unchanged, ``converged`` false) when the
        restricted KKT residual at the start of the first pass exceeds ``start * lam`` (a network far from a
        KKT point of its own patterns is not a solver-accuracy problem; refine it first).
    dual : float, default=1e-9
        A dropped block, or the other-sign block of a kept pattern, is (re)activated when its dual
        ``||Pi_K(Z_b^T r)|| / lam`` exceeds ``1 + dual`` at the polished residual. The slack keeps a
        duplicate cell of an active block (dual exactly 1 up to rounding) from being added again and
        again; such a block is left to the certificate, which then refuses with the reason.
    offset : float, default=1e-12
        Each tight row is placed at ``x_k^T u_b = +-offset ||x_k||`` on the side of its chosen cell.
    """

    merge: float = 1e-6
    tight: float = 1e-6
    drop: float = 1e-4
    newton: float = 1e-12
    max_iter: int = 60
    max_passes: int = 12
    start: float = 1e-3
    dual: float = 1e-9
    offset: float = 1e-12

    def as_dict(self) -> dict:
        return {"merge": self.merge, "tight": self.tight, "drop": self.drop, "newton": self.newton,
                "start": self.start, "dual": self.dual,
                "max_iter": self.max_iter, "max_passes": self.max_passes, "offset": self.offset}


@dataclass
class _Block:
    members: list[int]
    sign: int
    pattern: np.ndarray
    weight: np.ndarray
    tight: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    released: set[int] = field(default_factory=set)
    other: dict[int, float] = field(default_factory=dict)  # tight row -> multiplier in the other cell


@dataclass
class PolishResult:
    """Outcome of :func:`polish`.

    Attributes
    ----------
    network : Network
        The polished network (balanced; one neuron per kept block, in the order of ``groups``).
    converged : bool
        Newton reached ``||G|| <= newton * lam`` with every multiplier positive and the cells
        consistent; otherwise ``message`` says why (the network is still the best iterate).
    groups : list of list of int
        The original neurons merged into each polished neuron.
    dropped : list of int
        Original neurons dropped: noise (zero is optimal for their blocks at the polished residual) and
        neurons with a zero fit column on the data (logged).
    dropped_dual : float
        ``max ||v_b|| / lam`` over the dropped blocks at the polished residual (< 1), or 0.
    objective_before, objective_after : float
        NC of the input and of the polished network (floats).
    fit_change : float
        ``||f(polished) - f(input)||`` over the data.
    kkt_residual : float
        ``||G|| / lam`` at the polished weights.
    tight_rows : int
        Number of rows held on hyperplanes.
    released, added, restored, vanished : int
        Rows released, rows added, dropped blocks restored, blocks whose norm vanished during Newton
        (then dropped) over the passes.
    passes, iterations : int
    tolerances : PolishTolerances
    message : str
    log : list of str
        One line per change of the active set or of the tight rows.
    """

    network: Network
    converged: bool
    groups: list[list[int]]
    dropped: list[int]
    dropped_dual: float
    objective_before: float
    objective_after: float
    fit_change: float
    kkt_residual: float
    tight_rows: int
    released: int
    added: int
    restored: int
    passes: int
    iterations: int
    tolerances: PolishTolerances
    vanished: int = 0
    message: str = ""
    log: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for the command line."""
        if np.isnan(self.kkt_residual):
            return f"polish refused: {self.message}"
        merged = [g for g in self.groups if len(g) > 1]
        return (f"polish: {sum(len(g) for g in self.groups) + len(self.dropped)} neurons -> "
                f"{len(self.groups)} ({len(merged)} merged group(s) {merged}, {len(self.dropped)} "
                f"neuron(s) dropped {self.dropped} (noise or dead), dual margin of the dropped blocks "
                f"1 - max ||v_b|| / lam = "
                f"{1 - self.dropped_dual:.2g}); NC {self.objective_before:.10g} -> "
                f"{self.objective_after:.10g} (change {self.objective_after - self.objective_before:+.3g}); "
                f"||fit change|| = {self.fit_change:.3g}; KKT residual {self.kkt_residual:.2g} lam after "
                f"{self.iterations} Newton step(s) in {self.passes} pass(es); {self.tight_rows} tight rows"
                + ("" if self.converged else f"; NOT converged: {self.message}"))

    def as_dict(self) -> dict:
        """JSON-ready record (floats; for certificate diagnostics)."""
        return {"converged": self.converged, "groups": self.groups, "dropped": self.dropped,
                "dropped_dual": self.dropped_dual, "objective_before": self.objective_before,
                "objective_after": self.objective_after, "fit_change": self.fit_change,
                "kkt_residual": None if np.isnan(self.kkt_residual) else self.kkt_residual,
                "tight_rows": self.tight_rows,
                "released": self.released, "added": self.added, "restored": self.restored,
                "vanished": self.vanished, "passes": self.passes, "iterations": self.iterations,
                "tolerances": self.tolerances.as_dict(), "message": self.message, "log": self.log}


def _tight(X: np.ndarray, w: np.ndarray, tol: float) -> np.ndarray:
    return tight_rows(X, w / np.linalg.norm(w), tol)


def _blocks(X: np.ndarray, W1: np.ndarray, w2: np.ndarray, tol: PolishTolerances
            ) -> tuple[list[_Block], list[_Block]]:
    """Merged blocks of the network (largest first), split into kept and noise candidates."""
    pre = X @ W1
    weights = np.abs(w2)[None, :] * W1
    size = np.linalg.norm(weights, axis=0)
    live = [j for j in np.argsort(-size, kind="stable") if size[j] > 0 and np.any(pre[:, j] > 0)]
    blocks = _merge(X, [_Block([int(j)], 1 if w2[j] > 0 else -1, (pre[:, j] >= 0).astype(np.uint8),
                                        weights[:, j].copy()) for j in live], tol)
    top = max((float(np.linalg.norm(b.weight)) for b in blocks), default=0.0)
    kept = [b for b in blocks if np.linalg.norm(b.weight) > tol.drop * top]
    noise = [b for b in blocks if np.linalg.norm(b.weight) <= tol.drop * top]
    return kept, noise


def _merge(X: np.ndarray, blocks: list[_Block], tol: PolishTolerances) -> list[_Block]:
    """Merge blocks of equal sign and direction whose patterns differ only on rows tight for both."""
    out: list[_Block] = []
    for b in sorted(blocks, key=lambda c: -float(np.linalg.norm(c.weight))):
        u = b.weight / np.linalg.norm(b.weight)
        for a in out:
            ua = a.weight / np.linalg.norm(a.weight)
            if a.sign != b.sign or 1.0 - float(u @ ua) > tol.merge:
                continue
            near = np.intersect1d(_tight(X, a.weight, tol.tight), tight_rows(X, u, tol.tight))
            if np.all(np.isin(np.flatnonzero(a.pattern != b.pattern), near)):
                a.members.extend(b.members)
                a.weight = a.weight + b.weight
                a.tight = np.union1d(a.tight, np.intersect1d(b.tight, near)).astype(int)
                break
        else:
            out.append(b)
    return out


def _share_cells(blocks: list[_Block], log: list[str], passes: int) -> bool:
    """Move a block into the cell of an opposite-sign block when their patterns differ only on its tight
    rows and its multipliers are positive there too.

    Otherwise the network's own scope holds ``(D_c, s_b)``, a duplicate of block ``b`` (same fit) that is
    not a neuron of the network, and the certificate (one block per neuron) refuses. Returns whether a
    pattern changed.
    """
    changed = False
    for b in blocks:
        for c in blocks:
            if c is b or c.sign == b.sign:
                continue
            differ = np.flatnonzero(c.pattern != b.pattern)
            if differ.size and set(differ.tolist()) <= set(b.tight.tolist()) and \
                    all(b.other.get(int(k), -1.0) > 0 for k in differ):
                b.pattern[differ] = c.pattern[differ]
                for k in differ:
                    b.other[int(k)] = -1.0  # the multipliers swap cells; recomputed next pass
                changed = True
                log.append(f"pass {passes}: neurons {b.members} moved into the cell of neurons {c.members} "
                           f"(rows {differ.tolist()}, on its hyperplanes; multipliers positive in both "
                           "cells)")
                break
    return changed


def _residual(X, y, lam, blocks, w, rho):
    """``G(w, rho)`` and the fit."""
    n, d = X.shape
    Z = np.hstack([b.sign * b.pattern.astype(float)[:, None] * X for b in blocks])
    fit = Z @ w
    g = Z.T @ (fit - y)
    out_c = []
    col = 0
    for i, b in enumerate(blocks):
        sl = slice(i * d, (i + 1) * d)
        K = constraint_columns(X, b.pattern, b.tight)
        g[sl] += lam * w[sl] / np.linalg.norm(w[sl]) + K @ rho[col:col + K.shape[1]]
        out_c.append(K.T @ w[sl])
        col += K.shape[1]
    return np.concatenate([g, *out_c]), fit, Z


def _jacobian(X, lam, blocks, w, Z):
    d = X.shape[1]
    active = [ActiveBlock(i, tuple(b.members), b.sign, b.pattern, w[i * d:(i + 1) * d], b.tight, np.zeros(0))
              for i, b in enumerate(blocks)]
    return system(X, lam, active)[0]


def _newton(X, y, lam, blocks, tol: PolishTolerances, gate: bool = True):
    """Newton on ``G = 0`` from the blocks' weights; returns ``(w, rho, ||G||, iterations, ||G|| at the
    start)`` (with ``gate``, no step when the start is farther than ``tol.start * lam``)."""
    n, d = X.shape
    w = np.concatenate([b.weight for b in blocks])
    # least-squares multipliers at the start
    _, fit, Z = _residual(X, y, lam, blocks, w, np.zeros(sum(len(b.tight) for b in blocks)))
    parts = [w[i * d:(i + 1) * d] for i in range(len(blocks))]
    rho = np.concatenate([np.zeros(0)] + [
        least_squares_multipliers(X, y - fit, lam, b.pattern, b.sign, wb / np.linalg.norm(wb), b.tight)[0]
        for b, wb in zip(blocks, parts, strict=True)])
    nw = d * len(blocks)
    G, fit, Z = _residual(X, y, lam, blocks, w, rho)
    norm = start = float(np.linalg.norm(G))
    if gate and start > tol.start * lam:
        return w, rho, norm, 0, start
    it = 0
    for it in range(1, tol.max_iter + 1):
        if norm <= tol.newton * lam:
            it -= 1
            break
        J = _jacobian(X, lam, blocks, w, Z)
        try:
            step = -np.linalg.solve(J, G)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(J, G, rcond=None)[0]
        t, improved = 1.0, False
        for _ in range(40):
            w_t = w + t * step[:nw]
            if all(np.linalg.norm(w_t[i * d:(i + 1) * d]) > 0 for i in range(len(blocks))):
                G_t, fit_t, _ = _residual(X, y, lam, blocks, w_t, rho + t * step[nw:])
                norm_t = float(np.linalg.norm(G_t))
                if norm_t < (1 - 1e-4 * t) * norm:
                    improved = True
                    break
            t /= 2
        if not improved:
            break
        w, rho, G, norm = w_t, rho + t * step[nw:], G_t, norm_t
        sizes = np.linalg.norm(w.reshape(len(blocks), d), axis=1)
        if sizes.min() <= tol.drop * sizes.max():
            break  # a block is vanishing: the caller drops it
    return w, rho, norm, it, start


def _duals(X: np.ndarray, r: np.ndarray, lam: float, blocks: list[_Block]) -> tuple[np.ndarray, np.ndarray]:
    """The blocks' correlation vectors ``v_b`` at the residual ``r`` (d, B) and ``||v_b|| / lam`` (B,)."""
    patterns = np.array([b.pattern for b in blocks], dtype=np.uint8).reshape(len(blocks), X.shape[0]).T
    V = correlation_vectors(X, r, patterns, np.array([b.sign for b in blocks], dtype=int))
    return V, np.linalg.norm(V, axis=0) / lam


def polish(problem: Problem, network: Network, tolerances: PolishTolerances | None = None) -> PolishResult:
    """Polish ``network`` into an accurate KKT point of the convex program over its own patterns.

    Parameters
    ----------
    problem : Problem
        Data and certify's ``lam`` (loss ``1/2 ||f(X) - y||^2``, penalty ``(lam/2) sum_j (||W1_j||^2 +
        w2_j^2)``; a bias is a regularized ones column).
    network : Network
        A (near-)optimal network, typically from ``certify fit`` and ``certify prune``.
    tolerances : PolishTolerances, optional

    Returns
    -------
    PolishResult
        The polished network (a different network: its NC and fit change are reported) and the record
        of what was merged, dropped and held tight. See the module docstring for the method.
    """
    tol = tolerances or PolishTolerances()
    X, y, lam = problem.features, problem.y, float(problem.lam)
    W1 = network.weights(problem.bias)
    n, d = X.shape
    norms_x = np.linalg.norm(X, axis=1)
    before = nc_objective(X, y, lam, W1, network.w2)
    fit_before = np.maximum(X @ W1, 0.0) @ network.w2
    kept, noise = _blocks(X, W1, network.w2, tol)
    if not kept:
        raise InputError("the network has no active neuron: nothing to polish")
    live = {j for b in kept + noise for j in b.members}
    dead = [j for j in range(network.width) if j not in live]
    for b in kept:
        b.tight = _tight(X, b.weight, tol.tight)
    released = added = restored = vanishing = iterations = 0
    log: list[str] = [f"neurons {dead} have a zero fit column on the data: dropped"] if dead else []
    converged, message = False, ""
    w = np.concatenate([b.weight for b in kept])
    rho = np.zeros(0)
    passes = 0
    for passes in range(1, tol.max_passes + 1):
        w, rho, gnorm, it, start = _newton(X, y, lam, kept, tol, gate=passes == 1)
        iterations += it
        if passes == 1 and start > tol.start * lam:
            message = (f"the network is not near a KKT point of its own patterns (restricted KKT residual "
                       f"{start / lam:.3g} lam > {tol.start:g} lam at pass {passes}): the polish is a local "
                       "method; refine the network first (certify fit refines by default)")
            return _unpolished(problem, network, before, kept, noise, passes, iterations, tol, message, log)
        for i, b in enumerate(kept):
            b.weight = w[i * d:(i + 1) * d].copy()
        fit = sum((b.sign * (b.pattern.astype(float) * (X @ b.weight)) for b in kept), np.zeros(n))
        r = y - fit
        changed = False
        col = 0
        for b in kept:
            t = len(b.tight)
            mult = rho[col:col + t]
            col += t
            keep_rows = []
            b.other = {}
            for k, row in enumerate(b.tight):
                flipped = -mult[k] - b.sign * r[row]
                if mult[k] <= 0 < flipped:  # stay in the current cell unless its multiplier fails
                    b.pattern[row] = 1 - b.pattern[row]
                    mult[k], flipped = flipped, mult[k]
                b.other[int(row)] = float(flipped)
                if mult[k] > 0:
                    keep_rows.append(row)
                else:
                    released += 1
                    b.released.add(int(row))
                    changed = True
                    log.append(f"pass {passes}: row {row} of neurons {b.members} released (multiplier "
                               f"{mult[k]:.3g} <= 0 in both cells)")
            b.tight = np.array(keep_rows, int)
            side = (2.0 * b.pattern - 1.0) * (X @ b.weight)
            near = (side < 0) | (np.abs(side) <= tol.tight * norms_x * np.linalg.norm(b.weight))
            near[list(b.released)] = side[list(b.released)] < -tol.tight * norms_x[list(b.released)] * \
                np.linalg.norm(b.weight)  # a released row comes back only if it crossed
            crossed = np.setdiff1d(np.flatnonzero((norms_x > 0) & near), b.tight)
            if crossed.size:
                added += crossed.size
                b.tight = np.union1d(b.tight, crossed).astype(int)
                changed = True
                log.append(f"pass {passes}: rows {crossed.tolist()} of neurons {b.members} reached their "
                           "hyperplanes and are held there")
        changed |= _share_cells(kept, log, passes)
        sizes = [float(np.linalg.norm(b.weight)) for b in kept]
        vanished = [b for b, v in zip(kept, sizes, strict=True) if v <= tol.drop * max(sizes)]
        if vanished:
            kept = [b for b in kept if all(b is not v for v in vanished)]
            noise.extend(vanished)
            vanishing += len(vanished)
            changed = True
            log.append(f"pass {passes}: block(s) of neurons {[v.members for v in vanished]} vanishing "
                       f"(norm <= {tol.drop:g} max): dropped")
        merged = _merge(X, kept, tol)
        if len(merged) < len(kept):
            kept = merged
            changed = True
            log.append(f"pass {passes}: duplicate blocks merged into {[b.members for b in merged]}")
        if not changed:
            # only at a converged point of the kept blocks: is zero optimal for every dropped block and for
            # the other-sign block of every kept pattern (the rest of the network's own scope)?
            keys = {(b.pattern.tobytes(), b.sign) for b in kept}
            others = [_Block([], -b.sign, b.pattern.copy(), np.zeros(d)) for b in kept
                      if (b.pattern.tobytes(), -b.sign) not in keys]
            candidates = noise + others
            V, duals = _duals(X, r, lam, candidates)
            worst = int(np.argmax(duals)) if duals.size else 0
            if duals.size and duals[worst] > 1.0 + tol.dual:
                back = candidates[worst]
                if worst < len(noise):
                    noise.pop(worst)
                v = V[:, worst]
                back.weight = v / np.linalg.norm(v) * 10 * tol.drop * max(sizes)
                back.tight = _tight(X, back.weight, tol.tight)
                kept.append(back)
                restored += 1
                changed = True
                what = (f"dropped block of neurons {back.members} restored" if back.members else
                        "other-sign block of a kept neuron's pattern added")
                log.append(f"pass {passes}: {what} (dual {duals[worst]:.9f} lam >= lam without it)")
        stalled = gnorm > tol.newton * lam
        if not changed:
            converged = not stalled
            message = f"Newton stalled at ||G|| = {gnorm / lam:.3g} lam" if stalled else ""
            break
    else:
        message = f"no consistent active set after {tol.max_passes} passes"
    fit = sum((b.sign * (b.pattern.astype(float) * (X @ b.weight)) for b in kept), np.zeros(n))
    r = y - fit
    dropped_dual = float(_duals(X, r, lam, noise)[1].max(initial=0.0))
    net = _network(X, kept, tol, problem.bias)
    W1p = net.weights(problem.bias)
    after = nc_objective(X, y, lam, W1p, net.w2)
    G, _, _ = _residual(X, y, lam, kept, np.concatenate([b.weight for b in kept]), rho)
    return PolishResult(
        network=net, converged=converged, groups=[b.members for b in kept],
        dropped=sorted([j for b in noise for j in b.members] + dead), dropped_dual=dropped_dual,
        objective_before=before, objective_after=after,
        fit_change=float(np.linalg.norm(np.maximum(X @ W1p, 0.0) @ net.w2 - fit_before)),
        kkt_residual=float(np.linalg.norm(G)) / lam, tight_rows=sum(len(b.tight) for b in kept),
        released=released, added=added, restored=restored, passes=passes, iterations=iterations,
        tolerances=tol, vanished=vanishing, message=message, log=log)


def _unpolished(problem, network, before, kept, noise, passes, iterations, tol, message, log) -> PolishResult:
    """The refusal: the input network unchanged, with the reason."""
    return PolishResult(
        network=network, converged=False, groups=[b.members for b in kept],
        dropped=sorted(j for b in noise for j in b.members), dropped_dual=0.0, objective_before=before,
        objective_after=before, fit_change=0.0, kkt_residual=float("nan"), tight_rows=0, released=0, added=0,
        restored=0, passes=passes, iterations=iterations, tolerances=tol, message=message, log=log)


def _network(X: np.ndarray, blocks: list[_Block], tol: PolishTolerances, bias: bool) -> Network:
    """Balanced neurons, each tight row moved ``offset`` onto the side of its chosen cell."""
    norms_x = np.linalg.norm(X, axis=1)
    cols, outs = [], []
    for b in blocks:
        w = b.weight.copy()
        if len(b.tight):
            rows = X[b.tight]
            target = (2.0 * b.pattern[b.tight] - 1.0) * tol.offset * norms_x[b.tight] * np.linalg.norm(w)
            w = w + np.linalg.lstsq(rows, target - rows @ w, rcond=None)[0]
        size = float(np.linalg.norm(w))
        cols.append(w / np.sqrt(size))
        outs.append(b.sign * np.sqrt(size))
    W1 = np.column_stack(cols)
    w2 = np.array(outs)
    return Network(W1[:-1], w2, W1[-1]) if bias else Network(W1, w2)
