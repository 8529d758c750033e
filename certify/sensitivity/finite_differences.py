"""Finite differences of independent re-solves against the sensitivity derivatives (issue 9, acceptance 2).

Floating point, not certified: a measurement of how well the first-order claim of
:mod:`certify.sensitivity.certificate` describes the optimal solution map. The re-solves are the
working-set solver (:func:`certify.solve.working_set.solve`, at tight tolerances) over the network's
own patterns, each pattern with both signs: the scope of the claim. Central differences with step ``h``:
``(w(lam + h) - w(lam - h)) / (2 h)`` and the same in ``y_k``; relative errors are
``||fd - derivative|| / ||derivative||`` over the whole vector (fit: ``n`` entries; weights: the
merged block weights ``w_b`` of every active block, ``d |A|`` entries; the balanced network's
``(W1, w2)``, ``(d + 1) |A|`` entries).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify.convex.mapping import blocks_to_network
from certify.errors import SolverError
from certify.network import Network
from certify.problem import Problem
from certify.sensitivity.kernel import Sensitivity
from certify.sensitivity.polish import polish
from certify.solve.working_set import SolverOptions, solve

#: Tolerances of the re-solves (relative gap 1e-13, cone violation 1e-12).
TIGHT = SolverOptions(gap_tol=1e-13, feas_tol=1e-12, subproblem_tol=1e-13, max_rounds=200)


@dataclass(frozen=True)
class FDComparison:
    """Relative errors of one central difference (``direction``: ``"lam"`` or ``"y[k]"``)."""

    direction: str
    step: float
    fit: float
    weights: float
    network: float


def _own_patterns(problem: Problem, network: Network) -> np.ndarray:
    pre = problem.features @ network.weights(problem.bias)
    return np.unique((pre >= 0).astype(np.uint8), axis=1)


def _block_weights(sol, D: np.ndarray, kernel: Sensitivity) -> np.ndarray:
    """The re-solve's weight of every active block of ``kernel`` (matched by pattern and sign), (d, |A|)."""
    cols = []
    for a in kernel.active:
        p = int(np.flatnonzero(np.all(D == a.pattern[:, None], axis=0))[0])
        cols.append(sol.U[:, p] if a.sign > 0 else sol.H[:, p])
    return np.column_stack(cols)


def _matched(network: Network, kernel: Sensitivity) -> np.ndarray:
    """Block weights of ``network``'s neurons matched to the kernel's active blocks by sign and direction."""
    W = np.abs(network.w2)[None, :] * network.W1
    U = W / np.linalg.norm(W, axis=0)
    cols = []
    for a in kernel.active:
        score = (U.T @ a.weight) * (np.sign(network.w2) == a.sign)
        cols.append(W[:, int(np.argmax(score))])
    return np.column_stack(cols)


def _balanced(W: np.ndarray, kernel: Sensitivity) -> np.ndarray:
    """``[W1; w2]`` of the balanced neurons of block weights ``W`` (d, |A|) -> (d + 1, |A|)."""
    norms = np.linalg.norm(W, axis=0)
    signs = np.array([a.sign for a in kernel.active], float)
    return np.vstack([W / np.sqrt(norms), signs * np.sqrt(norms)])


def _rel(fd: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(fd - exact) / max(float(np.linalg.norm(exact)), 1e-300))


def compare(problem: Problem, network: Network, kernel: Sensitivity, lam_step: float = 1e-5,
            y_step: float = 1e-5, targets: tuple[int, ...] = (0,), options: SolverOptions = TIGHT,
            accept_gap: float = 1e-9, accept_violation: float = 1e-9, newton: bool = True,
            agree: float = 1e-6) -> list[FDComparison]:
    """Compare the kernel's derivatives at ``network`` with central differences of re-solves.

    Parameters
    ----------
    problem : Problem
        Data and certify's ``lam`` (module docstring of :mod:`certify.sensitivity.kernel`).
    network : Network
        The network the derivatives are of (e.g. the polished network).
    kernel : Sensitivity
        A valid result of :func:`certify.sensitivity.kernel.sensitivity` at ``network`` (for example
        ``sensitivity_certificate(problem, network).kernel``).
    lam_step : float, default=1e-5
        ``h = lam_step * lam``. Small, because the derivative describes the solution map only while the
        active set and the tight rows stay fixed, which can be a small neighbourhood (the margins of the
        hypotheses: a multiplier of 1e-4 lam moves to 0 within a relative change of lam of that order);
        the Newton-refined re-solves are accurate enough for such steps.
    y_step : float, default=1e-5
        ``h = y_step * max(1, ||y||_inf)`` on each target in ``targets``.
    targets : tuple of int
    options : SolverOptions, default :data:`TIGHT`
    accept_gap : float, default=1e-9
    accept_violation : float, default=1e-9
        A re-solve that stalls (Clarabel's accuracy limit) is accepted when its relative gap is at most
        ``accept_gap`` and its cone violation at most ``accept_violation`` (the Newton refinement then
        fixes the numbers; without it, pass tighter values).
    newton : bool, default=True
        Refine each re-solve by :func:`certify.sensitivity.polish.polish` (Newton on the KKT equations of
        the active set *the re-solve* identified, to ``||G|| <= 1e-12 lam``). The working-set solver
        reaches relative gaps ~1e-12, but its weights are then accurate only to ~1e-6 along the
        ill-conditioned directions of ``J``, which swamps differences with small steps; the refinement
        changes the numbers, not the active set, and converges to the root of the KKT equations whatever
        the Jacobian, so it does not build the kernel's derivative formula into the comparison. Where
        Newton from the re-solve does not converge (its cells can cycle) or lands on a point whose fit
        differs from the re-solve's, Newton starts from ``network`` instead (the same KKT equations at
        the perturbed data); either result is used only when its fit agrees with the re-solve's.
    agree : float, default=1e-6
        That agreement: ``||fit - fit of the re-solve|| <= agree * max(1, ||fit of the re-solve||)``.

    Returns
    -------
    list of FDComparison
        One for ``lam``, then one per target.

    Raises
    ------
    SolverError
        When a re-solve does not converge, or (``newton``) neither Newton refinement converges to the
        re-solve's fit.
    """
    if not kernel.valid:
        raise ValueError("the kernel result has no derivatives (a hypothesis fails)")
    X, y, lam = problem.features, problem.y, float(problem.lam)
    D = _own_patterns(problem, network)

    def resolve(lam_: float, y_: np.ndarray):
        sol = solve(X, y_, lam_, D, options=options)
        if not (sol.converged or (sol.gap <= accept_gap and sol.violation <= accept_violation)):
            raise SolverError(f"re-solve at lam={lam_:.6g} did not converge: {sol.message}")
        if not newton:
            W = _block_weights(sol, D, kernel)
            return (D * (X @ (sol.U - sol.H))).sum(axis=1), W, _balanced(W, kernel)
        b = sol.blocks()
        fit = (D * (X @ (sol.U - sol.H))).sum(axis=1)
        perturbed = Problem(X, y_, lam_)
        messages = []
        # Newton from the re-solve itself; if its cells cycle or it lands elsewhere, Newton from the
        # given network (the same equations at the perturbed data). Either is used only where its fit
        # agrees with the independent re-solve's (the optimal fit is unique: strong convexity).
        for start in (blocks_to_network(b.weights, b.signs), network):
            pol = polish(perturbed, start)
            if not pol.converged:
                messages.append(pol.message)
                continue
            off = float(np.linalg.norm(pol.network.predict(X) - fit))
            if off <= agree * max(1.0, float(np.linalg.norm(fit))):
                W = _matched(pol.network, kernel)
                return pol.network.predict(X), W, _balanced(W, kernel)
            messages.append(f"its fit is {off:.3g} from the re-solve's")
        raise SolverError(f"Newton refinement of the re-solve at lam={lam_:.6g} failed: "
                          + "; ".join(messages))

    out = []
    h = lam_step * lam
    (fp, wp, np_), (fm, wm, nm) = resolve(lam + h, y), resolve(lam - h, y)
    dnet = np.vstack([kernel.dW1_dlam, kernel.dw2_dlam[None, :]])
    out.append(FDComparison("lam", h, _rel((fp - fm) / (2 * h), kernel.dfit_dlam),
                            _rel((wp - wm) / (2 * h), kernel.dw_dlam), _rel((np_ - nm) / (2 * h), dnet)))
    hy = y_step * max(1.0, float(np.abs(y).max()))
    for k in targets:
        e = np.zeros_like(y)
        e[k] = hy
        (fp, wp, np_), (fm, wm, nm) = resolve(lam, y + e), resolve(lam, y - e)
        dnet = np.vstack([kernel.dW1_dy[:, :, k], kernel.dw2_dy[None, :, k]])
        out.append(FDComparison(f"y[{k}]", hy, _rel((fp - fm) / (2 * hy), kernel.dfit_dy[:, k]),
                                _rel((wp - wm) / (2 * hy), kernel.dw_dy[:, :, k]),
                                _rel((np_ - nm) / (2 * hy), dnet)))
    return out
