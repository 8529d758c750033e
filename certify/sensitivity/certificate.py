"""Producer of the *sensitivity* claim (proofs/sensitivity.md; checked by certify/check/sensitivity.py).

Floats find the evidence (the kernel's hypotheses, tight rows, multipliers, cone multipliers of the
blocks off the active set, the derivatives); every number written into the claim is then verified
here with the checker's own exact functions before the claim is emitted, and every bound is rounded
*up* to a short dyadic rational. Scaling: certify's (theory.md §1-2; loss ``1/2 ||f(X) - y||^2``,
penalty ``(lam/2) sum_j (||W1_j||^2 + w2_j^2)``, bias as a regularized ones column).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from certify.certificates import certificate
from certify.convex.correlation import cone_multipliers, cone_rows
from certify.exact import sensitivity as exact
from certify.exact.context import ExactContext
from certify.exact.rational import encode_vector, format_rational, int_to_str
from certify.network import Network
from certify.problem import Problem
from certify.pruning.exact import PRIMES
from certify.sensitivity.kernel import Sensitivity, Tolerances, sensitivity
from certify.verify import exact_context

_GRID = 1 << 64
"""Bounds are rounded up to multiples of ``2^-64`` (relative to their size, see :func:`_round_up`)."""

_MU_DEN = 1 << 48
"""Cone multipliers of the blocks off the active set are rounded down to this grid."""

STATEMENT = ("Exact (checked): the listed neurons are the network's support and their fits are "
             "independent (minimality); |c_j - ||w_j||| <= delta_j; the tight rows are within "
             "tight_tolerance of the hyperplanes x_k^T W1_j = 0 and the others at least slack_margin "
             "away; the stated multipliers are > 0 and "
             "solve the restricted stationarity to stationarity_bound; every block of the own scope off "
             "the active set has one-cone bound <= dual_bound < lam at the network's exact residual; "
             "the stated derivatives solve the rational implicit-function system J_c d = R_c to "
             "residual_bound entrywise, and J_c is non-singular. First-order and numerical (not "
             "checked): that d are the derivatives of the optimal solution map, which holds at an "
             "exact KKT point under these hypotheses up to the stated residuals, with the "
             "conditioning of J given in 'numerical'.")


@dataclass
class SensitivityResult:
    """Kernel result, the claim (``None`` when a hypothesis fails) and the certificate document."""

    kernel: Sensitivity
    claim: dict | None
    document: dict
    refusal: str = ""
    derivatives: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.claim is not None


def _round_up(value: Fraction) -> Fraction:
    """The smallest multiple of ``2^(e - 64)`` that is ``>= value`` (``e`` its binary exponent)."""
    if value <= 0:
        return Fraction(0)
    e = max(value.numerator.bit_length() - value.denominator.bit_length(), -1000)
    grid = Fraction(2) ** (e - 64)
    return math.ceil(value / grid) * grid


def _sqrt_up(square: Fraction) -> Fraction:
    """A short rational ``s >= sqrt(square)``."""
    s = _round_up(Fraction(math.sqrt(float(square))) * (1 + Fraction(1, 1 << 40)))
    while s * s < square:
        s = _round_up(s * (1 + Fraction(1, 1 << 30)))
    return s


def _sqrt_down(square: Fraction) -> Fraction:
    """A short rational ``0 <= s <= sqrt(square)``."""
    s = Fraction(math.sqrt(float(square))) * (1 - Fraction(1, 1 << 40))
    s = Fraction(math.floor(s * _GRID), _GRID) if s > Fraction(1, 1 << 40) else Fraction(0)
    while s * s > square:
        s = s * (1 - Fraction(1, 1 << 30))
    return s


def _refuse(kernel: Sensitivity, reason: str, problem: Problem, network: Network) -> SensitivityResult:
    doc = certificate.build(problem, network.digest(), network.width, [], _diagnostics(kernel, reason))
    return SensitivityResult(kernel, None, doc, reason)


def _diagnostics(kernel: Sensitivity, refusal: str = "") -> dict:
    return {"certified": False, "sensitivity_hypotheses": [
        {"name": h.name, "holds": h.holds, "margin": h.margin, "threshold": h.threshold, "detail": h.detail}
        for h in kernel.hypotheses], "refusal": refusal}


def sensitivity_certificate(problem: Problem, network: Network, tolerances: Tolerances | None = None
                            ) -> SensitivityResult:
    """Derivatives of the network's optimal solution in ``lam`` and ``y``, and the *sensitivity* claim.

    The scope is the network's own exact patterns (``x_k^T W1_j >= 0``), each with both signs; the
    active blocks are the network's non-zero neurons (one per block). Where a hypothesis fails, or
    the exact evidence cannot be written, the result has no claim and ``refusal`` says why.
    """
    from certify.certificates.minimality import minimality_claim  # here: certify.pruning imports it (cycle)

    ctx = exact_context(problem, network)
    X, y, lam = problem.features, problem.y, float(problem.lam)
    mini = minimality_claim(ctx)
    W1 = network.weights(problem.bias)
    w2 = network.w2
    supp = mini["support"]
    n, d = X.shape
    pre = ctx.evaluation.preact
    pats = [[1 if pre[k][j] >= 0 else 0 for k in range(n)] for j in supp]
    signs = [1 if w2[j] > 0 else -1 for j in supp]
    active_keys = {(tuple(p), s) for p, s in zip(pats, signs, strict=True)}
    off = [(i, -s) for i, (p, s) in enumerate(zip(pats, signs, strict=True))
           if (tuple(p), -s) not in active_keys]
    seen_off, off_blocks = set(), []
    for i, s in off:
        if (tuple(pats[i]), s) not in seen_off:
            seen_off.add((tuple(pats[i]), s))
            off_blocks.append((i, s))
    B = len(supp) + len(off_blocks)
    scope_p = np.zeros((n, B), np.uint8)
    scope_s = np.zeros(B, int)
    scope_w = np.zeros((d, B))
    for b, j in enumerate(supp):
        scope_p[:, b], scope_s[b], scope_w[:, b] = pats[b], signs[b], abs(w2[j]) * W1[:, j]
    for t, (i, s) in enumerate(off_blocks):
        scope_p[:, len(supp) + t], scope_s[len(supp) + t] = pats[i], s
    if not supp:
        kernel = sensitivity(X, y, lam, scope_p, scope_s, scope_w, tolerances)
        return _refuse(kernel, "the network has no active neuron", problem, network)
    kernel = sensitivity(X, y, lam, scope_p, scope_s, scope_w, tolerances)
    if mini["type"] != "minimal":
        return _refuse(kernel, "minimality fails exactly: the active fits are dependent (exact null vector "
                       f"on neurons {mini['dependent']}); the optimal network is not locally unique", problem,
                       network)
    if not kernel.valid:
        failed = "; ".join(f"{h.name} fails (margin {h.margin:.3g}, threshold {h.threshold:.3g}: {h.detail})"
                           for h in kernel.failures())
        if any(h.name in ("strict_complementarity", "strict_dual_feasibility") and h.margin < 0
               for h in kernel.failures()):
            failed += ("; a negative margin means the network is not a KKT point of the convex program "
                       "over its own patterns (theory.md §3, three scopes): refine it to a stationary "
                       "point first")
        return _refuse(kernel, failed, problem, network)
    if len(kernel.active) != len(supp) or any(len(a.members) > 1 for a in kernel.active):
        return _refuse(kernel, "two neurons (or a neuron and a duplicate block) share one direction: merge "
                       "them first", problem, network)
    claim = _claim(ctx, kernel, mini, supp, pats, signs, off_blocks)
    if isinstance(claim, str):
        return _refuse(kernel, claim, problem, network)
    doc = certificate.build(problem, network.digest(), network.width, [claim], _diagnostics(kernel))
    doc["diagnostics"]["sensitivity"] = _float_derivatives(kernel, supp)
    return SensitivityResult(kernel, claim, doc, "", doc["diagnostics"]["sensitivity"])


def _claim(ctx: ExactContext, kernel: Sensitivity, mini: dict, supp, pats, signs, off_blocks) -> dict | str:
    n, d = ctx.n, ctx.d
    lam = ctx.lam
    Xf = ctx.X.fractions()
    W1 = ctx.W1.fractions()
    w2 = [v for row in ctx.w2.fractions() for v in row]
    r = ctx.evaluation.residual()
    by_index = {a.index: a for a in kernel.active}
    weights = [[abs(w2[j]) * W1[i][j] for i in range(d)] for j in supp]
    norms, norm_items, tight, mults = [], [], [], []
    tau_sq, stat_sq, kappa_sq = Fraction(0), Fraction(0), None
    for b, j in enumerate(supp):
        a = by_index[b]
        sq = exact.squared_norm(weights[b])
        c = Fraction(math.sqrt(float(sq)))
        delta = _round_up(abs(c * c - sq) / c) if c * c != sq else Fraction(0)
        if not exact.norm_bracket_holds(sq, c, delta):
            return f"could not bracket ||w_j|| of neuron {j}"
        norms.append(c)
        norm_items.append({"c": format_rational(c), "delta": format_rational(delta)})
        ks = [int(k) for k in a.tight]
        wsq = sum((W1[t][j] ** 2 for t in range(d)), Fraction(0))
        for k in range(n):
            xsq = exact.squared_norm(Xf[k])
            if xsq == 0:
                continue
            dot = sum((Xf[k][t] * W1[t][j] for t in range(d)), Fraction(0))
            ratio = dot * dot / (xsq * wsq)
            if k in ks:
                tau_sq = max(tau_sq, ratio)
            else:
                kappa_sq = ratio if kappa_sq is None else min(kappa_sq, ratio)
        rho = [Fraction(float(v)) for v in a.multipliers]
        if any(v <= 0 for v in rho):
            return f"a multiplier of neuron {j} is not positive after rounding"
        s = exact.stationarity_residual(Xf, r, lam, pats[b], signs[b], weights[b], c, ks, rho)
        stat_sq = max(stat_sq, exact.squared_norm(s))
        tight.append(ks)
        mults.append(encode_vector(rho))
    tau = _sqrt_up(tau_sq) if tau_sq else Fraction(0)
    kappa = _sqrt_down(kappa_sq) if kappa_sq is not None else Fraction(1)
    if kappa <= tau:
        return (f"the tight rows (angle <= {float(tau):.3g}) are not separated from the others "
                f"({float(kappa):.3g})")
    sigma = _sqrt_up(stat_sq) if stat_sq else Fraction(0)
    # blocks off the active set: float NNLS multipliers, rounded down, bound checked exactly
    X = np.array([[float(v) for v in row] for row in Xf])
    rf = np.array([float(v) for v in r])
    off_items, worst = [], Fraction(0)
    for i, s in off_blocks:
        pat = np.array(pats[i], float)
        mu = cone_multipliers(s * X.T @ (pat * rf), cone_rows(X, pat))
        idx = [int(k) for k in np.flatnonzero(mu > 0)]
        muq = [Fraction(math.floor(mu[k] * _MU_DEN), _MU_DEN) for k in idx]
        keep = [t for t, v in enumerate(muq) if v > 0]
        idx, muq = [idx[t] for t in keep], [muq[t] for t in keep]
        v = [sum((s * Xf[k][t] * r[k] for k in range(n) if pats[i][k]), Fraction(0)) for t in range(d)]
        for k, m in zip(idx, muq, strict=True):
            for t in range(d):
                v[t] += m * (Xf[k][t] if pats[i][k] else -Xf[k][t])
        worst = max(worst, exact.squared_norm(v))
        off_items.append({"neuron": i, "sign": s, "mu_idx": idx, "mu": encode_vector(muq)})
    beta = _sqrt_up(worst) if worst else Fraction(0)
    if beta >= lam:
        return f"the exact one-cone bounds off the active set reach {float(beta):.6g} >= lam"
    J, R = exact.system(Xf, lam, pats, signs, weights, norms, tight)
    Jf = np.array([[float(exact.to_fraction(J[i, k])) for k in range(J.ncols())] for i in range(J.nrows())])
    Rf = np.array([[float(exact.to_fraction(R[i, k])) for k in range(R.ncols())] for i in range(R.nrows())])
    Df = np.linalg.solve(Jf, Rf)
    N = J.nrows()
    Dq = [[Fraction(float(Df[i, c])) for c in range(n + 1)] for i in range(N)]
    res = exact.residual_max(J, exact.to_fmpq_mat(N, n + 1, [v for row in Dq for v in row]), R)
    prime = next((p for p in PRIMES if exact.det_mod(J, p) != 0), None)
    if prime is None:
        return "J_c is singular modulo every prime tried"
    return {
        "id": "sensitivity", "type": "sensitivity",
        "neurons": list(supp),
        "minimality": {"rows": mini["rows"], "prime": mini["prime"]},
        "norms": norm_items,
        "tight": tight,
        "tight_tolerance": format_rational(tau),
        "slack_margin": format_rational(kappa),
        "multipliers": mults,
        "stationarity_bound": format_rational(sigma),
        "off_active": off_items,
        "dual_bound": format_rational(beta),
        "derivatives": {"lam": encode_vector([row[0] for row in Dq]),
                        "y": [encode_vector([row[1 + k] for row in Dq]) for k in range(n)]},
        "residual_bound": format_rational(_round_up(res) if res else Fraction(0)),
        "prime": int_to_str(prime),
        "numerical": {"condition": float(np.linalg.cond(Jf)), "statement": STATEMENT,
                      "order": "first", "unknowns": "w_j (d per neuron, in neuron order), then rho (tight "
                      "rows, neuron by neuron)"},
    }


def _float_derivatives(kernel: Sensitivity, supp) -> dict:
    """The kernel's float derivatives in neuron order (uncertified convenience copy)."""
    order = [next(i for i, a in enumerate(kernel.active) if a.index == b) for b in range(len(supp))]
    return {
        "neurons": list(supp),
        "dW1_dlam": kernel.dW1_dlam[:, order].tolist(),
        "dw2_dlam": kernel.dw2_dlam[order].tolist(),
        "dfit_dlam": kernel.dfit_dlam.tolist(),
        "influence": kernel.dfit_dy.tolist(),
        "condition": kernel.condition,
    }
