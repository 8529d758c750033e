"""Dense primal-dual interior-point method for the restricted program of the working-set solver.

The working-set solver (:mod:`certify.solve.working_set`) repeatedly solves, over ``k`` working
blocks of ``d`` weights each (theory.md §2, §7)::

    min  1/2 w^T Q w - f^T w + lam sum_b t_b
    s.t. A_b w_b >= 0        (the working rows of block b's cone; none when gated)
         ||w_b|| <= t_b      (one second-order cone per block)

with ``Q = F^T F`` dense (``F`` the design of the working blocks). A general sparse conic
solver (Clarabel with QDLDL) spends most of its time factorizing the dense ``Q`` block with a
sparse LDL^T. This module exploits the structure instead: every constraint touches one block,
so the Newton system reduces to ``(P + G^T W^{-2} G) dx = rhs`` with ``P`` the dense ``Q``
(padded with zeros for ``t``) plus a block-diagonal term, factorized with dense LAPACK Cholesky
(one factorization, two solves per iteration).

Algorithm: the infeasible-start primal-dual path-following method with Nesterov-Todd scaling
and Mehrotra's predictor-corrector, as in CVXOPT's ``coneqp`` (Vandenberghe, "The CVXOPT
linear and quadratic cone program solvers", 2010, §§2-5), specialised to the cone
``R_+^m x SOC^{d+1} x ... x SOC^{d+1}`` and ``h = 0``. One step of iterative refinement on
the reduced system per solve. It reports failure (instead of raising) when a factorization
breaks down or the iteration limit is reached; the caller then falls back to Clarabel. Nothing
here is trusted by a certificate: the outer loop re-evaluates the objective, the gap and the
cone violation of whatever it gets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

_STEP_FRACTION = 0.99
_DEBUG = False
_REFINE_STEPS = 2
"""Iterative-refinement steps on the unreduced Newton system per solve."""
"""Fraction of the maximal step to the cone boundary that is taken."""


@dataclass
class IPMResult:
    """``w`` (k, d) weights, ``t`` (k,) norm bounds, ``converged``, ``iterations``, ``message``."""

    w: np.ndarray
    t: np.ndarray
    converged: bool
    iterations: int
    message: str


# --- second-order-cone algebra (batched over k cones of dimension m = d + 1; rows are cones) ---


def _soc_product(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Jordan product ``x o y = (x^T y, x0 y1 + y0 x1)`` per row."""
    out = np.empty_like(x)
    out[:, 0] = np.einsum("ij,ij->i", x, y)
    out[:, 1:] = x[:, :1] * y[:, 1:] + y[:, :1] * x[:, 1:]
    return out


def _soc_divide(lmb: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``u`` with ``lmb o u = v`` per row (``lmb`` in the interior of the cone)."""
    l0, l1 = lmb[:, 0], lmb[:, 1:]
    det = l0 * l0 - np.einsum("ij,ij->i", l1, l1)
    u = np.empty_like(v)
    u[:, 0] = (l0 * v[:, 0] - np.einsum("ij,ij->i", l1, v[:, 1:])) / det
    u[:, 1:] = (v[:, 1:] - u[:, :1] * l1) / l0[:, None]
    return u


def _soc_det(x: np.ndarray) -> np.ndarray:
    return x[:, 0] ** 2 - np.einsum("ij,ij->i", x[:, 1:], x[:, 1:])


def _soc_nt_scaling(s: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nesterov-Todd scaling of each cone: ``W`` (symmetric), ``W^{-1}``, ``lambda = W z``.

    ``W = beta [[v0, v1^T], [v1, I + v1 v1^T / (1 + v0)]]`` with ``beta = (det s / det z)^(1/4)``
    and ``v = (s_bar + J z_bar) / (2 gamma)`` (``s_bar``, ``z_bar`` normalised to determinant 1,
    ``gamma = sqrt((1 + s_bar^T z_bar) / 2)``); then ``W z = W^{-1} s``.
    """
    k, m = s.shape
    sd = np.sqrt(_soc_det(s))
    zd = np.sqrt(_soc_det(z))
    sb = s / sd[:, None]
    zb = z / zd[:, None]
    gamma = np.sqrt((1.0 + np.einsum("ij,ij->i", sb, zb)) / 2.0)
    v = sb.copy()
    v[:, 0] += zb[:, 0]
    v[:, 1:] -= zb[:, 1:]
    v /= (2.0 * gamma)[:, None]
    beta = np.sqrt(sd / zd)
    v0, v1 = v[:, 0], v[:, 1:]
    core = np.einsum("ki,kj->kij", v1, v1) / (1.0 + v0)[:, None, None]
    core[:, np.arange(m - 1), np.arange(m - 1)] += 1.0
    W = np.empty((k, m, m))
    W[:, 0, 0] = v0
    W[:, 0, 1:] = v1
    W[:, 1:, 0] = v1
    W[:, 1:, 1:] = core
    Winv = W.copy()
    Winv[:, 0, 1:] *= -1.0
    Winv[:, 1:, 0] *= -1.0
    W *= beta[:, None, None]
    Winv /= beta[:, None, None]
    lmb = np.einsum("kij,kj->ki", W, z)
    return W, Winv, lmb


def _soc_max_step(x: np.ndarray, dx: np.ndarray) -> float:
    """Largest ``a`` (capped at 1e300) with ``x + a dx`` in every cone (``x`` interior)."""
    a = _soc_det(dx)
    b = x[:, 0] * dx[:, 0] - np.einsum("ij,ij->i", x[:, 1:], dx[:, 1:])
    c = _soc_det(x)
    best = np.inf
    disc = b * b - a * c
    for i in np.flatnonzero(disc >= 0):
        root = np.sqrt(disc[i])
        q = -(b[i] + (root if b[i] >= 0 else -root))
        cands = []
        if a[i] != 0:
            cands.append(q / a[i])
        if q != 0:
            cands.append(c[i] / q)
        pos = [r for r in cands if r > 0]
        if pos:
            best = min(best, min(pos))
    # a cone whose x0 + a dx0 would turn negative without det crossing zero is impossible from
    # the interior (det > 0 on the whole segment keeps x0 of one sign)
    return float(min(best, 1e300))


def _lin_max_step(x: np.ndarray, dx: np.ndarray) -> float:
    neg = dx < 0
    if not neg.any():
        return 1e300
    return float(min(np.min(-x[neg] / dx[neg]), 1e300))


# --- the method --------------------------------------------------------------------------------


def solve_restricted_ipm(Q: np.ndarray, f: np.ndarray, lam: float, A: np.ndarray,
                         row_block: np.ndarray, k: int, d: int, tol: float = 1e-11,
                         max_iter: int = 60) -> IPMResult:
    """Solve the restricted program (module docstring) to the tolerance ``tol``.

    Parameters
    ----------
    Q : (k d, k d) positive semidefinite, ``F^T F``.
    f : (k d,) the linear term, ``F^T y``.
    lam : float > 0.
    A : (m, d) cone rows; row ``i`` constrains block ``row_block[i]`` by ``A[i] @ w_b >= 0``.
    row_block : (m,) int, non-decreasing block indices in ``[0, k)``.
    k, d : number of blocks and weights per block.
    tol : relative tolerance on the primal residual, the dual residual and the duality gap.
    max_iter : iteration limit.

    Returns
    -------
    IPMResult
        ``converged`` is false when the limit was reached or a factorization broke down; the
        caller must then use another solver.
    """
    nw = k * d
    nx = nw + k
    m_lin = A.shape[0]
    m = d + 1
    row_block = np.asarray(row_block, dtype=np.intp)
    wcols = row_block[:, None] * d + np.arange(d)[None, :]        # (m_lin, d) columns of w
    seg_starts = np.flatnonzero(np.r_[True, row_block[1:] != row_block[:-1]]) if m_lin else np.zeros(0, int)
    seg_blocks = row_block[seg_starts] if m_lin else np.zeros(0, int)
    soc_idx = np.empty((k, m), dtype=np.intp)                    # (t_b, w_b) per cone
    soc_idx[:, 0] = nw + np.arange(k)
    soc_idx[:, 1:] = np.arange(nw).reshape(k, d)
    widx = soc_idx[:, 1:]

    q = np.concatenate([-f, np.full(k, lam)])
    qnorm = max(1.0, float(np.linalg.norm(q)))

    def G(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lin = -np.einsum("ij,ij->i", A, x[wcols]) if m_lin else np.zeros(0)
        return lin, -x[soc_idx]

    def GT(zl: np.ndarray, zs: np.ndarray) -> np.ndarray:
        out = np.zeros(nx)
        if m_lin:
            np.add.at(out, wcols, -(A * zl[:, None]))
        out[soc_idx] -= zs
        return out

    def Px(x: np.ndarray) -> np.ndarray:
        out = np.zeros(nx)
        out[:nw] = Q @ x[:nw]
        return out

    # Start (coneqp): (P + G^T G) x = -q; z = G x, s = -G x, both shifted into the cone.
    M = np.zeros((nx, nx))
    M[:nw, :nw] = Q
    base_diag = M.diagonal().copy()
    M0 = M.copy()
    _add_block_terms(M0, np.ones(m_lin), np.broadcast_to(np.eye(m), (k, m, m)), A, seg_starts, seg_blocks,
                     widx, soc_idx)
    try:
        x = scipy.linalg.cho_solve(scipy.linalg.cho_factor(M0, check_finite=False), -q, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return _failed(k, d, 0, "the starting system is singular")
    gl, gs = G(x)
    sl, ss = -gl, -gs
    zl, zs = gl.copy(), gs.copy()
    for vl, vs in ((sl, ss), (zl, zs)):
        shift = max(float(-vl.min()) if m_lin else -np.inf,
                    float(np.max(np.linalg.norm(vs[:, 1:], axis=1) - vs[:, 0])))
        if shift >= 0:
            vl += 1.0 + shift
            vs[:, 0] += 1.0 + shift
    degree = m_lin + k

    for it in range(1, max_iter + 1):
        gl, gs = G(x)
        rx = -(Px(x) + q + GT(zl, zs))
        rzl, rzs = -(gl + sl), -(gs + ss)
        gap = float(sl @ zl + np.sum(ss * zs))
        pobj = 0.5 * float(x[:nw] @ Q @ x[:nw]) + float(q @ x)
        pres = float(np.sqrt(rzl @ rzl + np.sum(rzs * rzs))) / max(1.0, float(np.linalg.norm(x)))
        dres = float(np.linalg.norm(rx)) / qnorm
        if pres <= tol and dres <= tol and gap <= tol * max(1.0, abs(pobj)):
            return IPMResult(x[:nw].reshape(k, d).copy(), x[nw:].copy(), True, it - 1, "solved")
        mu = gap / degree
        if _DEBUG: print(it, f"pres {pres:.2e} dres {dres:.2e} gap {gap:.2e} pobj {pobj:.6e} sdet {np.min(_soc_det(ss)/ss[:,0]**2):.1e} zdet {np.min(_soc_det(zs)/zs[:,0]**2):.1e}")
        # Scaling.
        if m_lin and (sl.min() <= 0 or zl.min() <= 0):
            return _failed(k, d, it, "left the orthant")
        if np.any(ss[:, 0] <= 0) or np.any(zs[:, 0] <= 0) or np.any(_soc_det(ss) <= 0) \
                or np.any(_soc_det(zs) <= 0):
            return _failed(k, d, it, "left the second-order cones")
        wl = np.sqrt(sl / zl)
        lml = np.sqrt(sl * zl)
        Ws, Wsinv, lms = _soc_nt_scaling(ss, zs)
        Hs = np.einsum("kij,kjl->kil", Wsinv, Wsinv)                # W^{-2}
        Kmat = M.copy()
        _add_block_terms(Kmat, zl / sl, Hs, A, seg_starts, seg_blocks, widx, soc_idx)
        scale = np.sqrt(np.maximum(Kmat.diagonal(), 1e-300))
        Kmat /= scale[:, None]
        Kmat /= scale[None, :]
        try:
            chol = scipy.linalg.cho_factor(Kmat, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            return _failed(k, d, it, "the Newton system is not positive definite")

        W2s = np.einsum("kij,kjl->kil", Ws, Ws)                    # W^2
        hl_diag = zl / sl                                            # W^{-2} on the orthant

        def kkt(r1: np.ndarray, r2l: np.ndarray, r2s: np.ndarray):
            # [P G^T; G -W^2] [dx; dz] = [r1; r2] through the reduced system
            rhs = r1 + GT(hl_diag * r2l, np.einsum("kij,kj->ki", Hs, r2s))
            dx = scipy.linalg.cho_solve(chol, rhs / scale, check_finite=False) / scale
            gdl, gds = G(dx)
            return dx, hl_diag * (gdl - r2l), np.einsum("kij,kj->ki", Hs, gds - r2s)

        def newton(ul: np.ndarray, us: np.ndarray):
            # W dz + W^{-1} ds = u and G dx + ds = rz give G dx - W^2 dz = rz - W u
            r2l = rzl - wl * ul
            r2s = rzs - np.einsum("kij,kj->ki", Ws, us)
            dx, dzl, dzs = kkt(rx, r2l, r2s)
            for _ in range(_REFINE_STEPS):   # iterative refinement on the unreduced system
                gdl, gds = G(dx)
                e1 = rx - (Px(dx) + GT(dzl, dzs))
                e2l = r2l - (gdl - wl * wl * dzl)
                e2s = r2s - (gds - np.einsum("kij,kj->ki", W2s, dzs))
                cx, czl, czs = kkt(e1, e2l, e2s)
                dx, dzl, dzs = dx + cx, dzl + czl, dzs + czs
            gdl, gds = G(dx)
            # ds from the linearised primal equation G dx + ds = rz (equal to W (u - W dz) in
            # exact arithmetic; this form keeps the primal residual from drifting when W is
            # badly conditioned near the end)
            return dx, rzl - gdl, rzs - gds, dzl, dzs

        # Predictor (affine scaling): W dz + W^{-1} ds = -lambda.
        dx, dsl, dss, dzl, dzs = newton(-lml, -lms)
        alpha = min(1.0, _step(sl, ss, dsl, dss, zl, zs, dzl, dzs))
        gap_aff = float((sl + alpha * dsl) @ (zl + alpha * dzl)
                        + np.sum((ss + alpha * dss) * (zs + alpha * dzs)))
        sigma = min(1.0, max(0.0, gap_aff / gap)) ** 3
        # Corrector: lambda o (W dz + W^{-1} ds) = -lambda o lambda - (W^{-1} ds_a) o (W dz_a) + sigma mu e
        a_sl, a_zl = dsl / wl, dzl * wl
        a_ss = np.einsum("kij,kj->ki", Wsinv, dss)
        a_zs = np.einsum("kij,kj->ki", Ws, dzs)
        cl = -lml * lml - a_sl * a_zl + sigma * mu
        cs = -_soc_product(lms, lms) - _soc_product(a_ss, a_zs)
        cs[:, 0] += sigma * mu
        dx, dsl, dss, dzl, dzs = newton(cl / lml, _soc_divide(lms, cs))
        alpha = min(1.0, _STEP_FRACTION * _step(sl, ss, dsl, dss, zl, zs, dzl, dzs))
        if _DEBUG: print("   alpha", alpha, "sigma", sigma)
        x = x + alpha * dx
        sl, ss = sl + alpha * dsl, ss + alpha * dss
        zl, zs = zl + alpha * dzl, zs + alpha * dzs
        if not (np.isfinite(x).all() and np.isfinite(ss).all() and np.isfinite(zs).all()):
            return _failed(k, d, it, "non-finite iterate")
    return _failed(k, d, max_iter, f"no convergence in {max_iter} iterations")


def _step(sl, ss, dsl, dss, zl, zs, dzl, dzs) -> float:
    return min(_lin_max_step(sl, dsl) if sl.size else 1e300, _lin_max_step(zl, dzl) if zl.size else 1e300,
               _soc_max_step(ss, dss), _soc_max_step(zs, dzs))


def _add_block_terms(M: np.ndarray, hl: np.ndarray, Hs: np.ndarray, A: np.ndarray, seg_starts: np.ndarray,
                     seg_blocks: np.ndarray, widx: np.ndarray, soc_idx: np.ndarray) -> None:
    """``M += G^T diag(hl, Hs) G``: per block, ``A_b^T diag(hl_b) A_b`` and the cone's ``Hs_b``."""
    if A.shape[0]:
        outer = np.einsum("ri,rj->rij", A * hl[:, None], A)
        per_block = np.add.reduceat(outer, seg_starts, axis=0)
        M[widx[seg_blocks][:, :, None], widx[seg_blocks][:, None, :]] += per_block
    M[soc_idx[:, :, None], soc_idx[:, None, :]] += Hs


def _failed(k: int, d: int, it: int, why: str) -> IPMResult:
    return IPMResult(np.zeros((k, d)), np.zeros(k), False, it, why)
