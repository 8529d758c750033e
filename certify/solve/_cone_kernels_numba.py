"""Numba kernels of :mod:`certify.solve.cone_kernels` (imported only when they are needed).

Module-level functions, so that Numba's on-disk cache (``cache=True``) finds them again in a
new process instead of compiling them (about 10 s) each time.
"""

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def passive_lstsq(X, e, idx, count, g):  # pragma: no cover - compiled
    """Least squares ``z = argmin ||g + A_P^T z||`` over the ``count`` passive rows."""
    d = X.shape[1]
    C = np.empty((d, count))
    for j in range(count):
        k = idx[j]
        for i in range(d):
            C[i, j] = e[k] * X[k, i]
    z = np.linalg.lstsq(C, -g)[0]
    return z

@nb.njit(cache=True, nogil=True)
def passive_lstsq_gram(X, e, idx, count, g, M, z):  # pragma: no cover - compiled
    """:func:`passive_lstsq` by a Cholesky factorization of the Gram matrix ``C^T C`` in the
    work buffers ``M`` (c x c) and ``z`` (c,) (about 10x faster for faces of a few rows; the
    result is written into ``z[:count]``). Returns False, leaving the work to
    :func:`passive_lstsq`, when there are more rows than dimensions or a pivot is below 1e-10
    of the largest diagonal entry. Callers check the result (:func:`warm_points` is verified by
    a row scan that includes the face)."""
    d = X.shape[1]
    if count > d:
        return False
    big = 0.0
    for a in range(count):
        ka = idx[a]
        for b in range(a + 1):
            kb = idx[b]
            t = 0.0
            for i in range(d):
                t += X[ka, i] * X[kb, i]
            M[a, b] = e[ka] * e[kb] * t
        t = 0.0
        for i in range(d):
            t -= X[ka, i] * g[i]
        z[a] = e[ka] * t
        if M[a, a] > big:
            big = M[a, a]
    # in-place Cholesky: the lower triangle of M becomes L
    for a in range(count):
        t = M[a, a]
        for c in range(a):
            t -= M[a, c] * M[a, c]
        if not t > 1e-10 * big:
            return False
        M[a, a] = np.sqrt(t)
        for b in range(a + 1, count):
            t = M[b, a]
            for c in range(a):
                t -= M[b, c] * M[a, c]
            M[b, a] = t / M[a, a]
    for a in range(count):
        t = z[a]
        for c in range(a):
            t -= M[a, c] * z[c]
        z[a] = t / M[a, a]
    for a in range(count - 1, -1, -1):
        t = z[a]
        for c in range(a + 1, count):
            t -= M[c, a] * z[c]
        z[a] = t / M[a, a]
    return True


@nb.njit(cache=True, nogil=True)
def positive_subset(X, e, idx, mu, count, g, M, zbuf):  # pragma: no cover - compiled
    """Shrink ``idx[:count]`` to the largest subset whose least-squares multipliers (written into
    ``mu``) are all positive: drop the non-positive ones and re-solve. Returns the new count.
    The warm start of :func:`project_one` and of :func:`warm_points` (the same computation, so
    the batched path and the kernel agree)."""
    while count > 0:
        if passive_lstsq_gram(X, e, idx, count, g, M, zbuf):
            z = zbuf
        else:
            z = passive_lstsq(X, e, idx, count, g)
        keep = 0
        for j in range(count):
            if z[j] > 0:
                idx[keep] = idx[j]
                mu[keep] = z[j]
                keep += 1
        if keep == count:
            break
        count = keep
    return count


@nb.njit(cache=True, nogil=True)
def combine(X, e, idx, mu, count, g, p):  # pragma: no cover - compiled
    """``p = g + A_P^T mu`` over the ``count`` passive rows (written into ``p``)."""
    d = X.shape[1]
    for i in range(d):
        p[i] = g[i]
    for j in range(count):
        k = idx[j]
        for i in range(d):
            p[i] += mu[j] * e[k] * X[k, i]


@nb.njit(cache=True, nogil=True)
def project_one(X, e, row_norms, g, hint, tol, max_iter, face, face_mu, point, cutoff):  # pragma: no cover
    n, d = X.shape
    cap = n
    idx = np.empty(cap, np.int64)
    mu = np.zeros(cap)
    count = 0
    excluded = -1
    # warm start from the hint: keep it when its least-squares multipliers are positive
    for j in range(hint.shape[0]):
        if hint[j] >= 0 and row_norms[hint[j]] > 0:
            idx[count] = hint[j]
            count += 1
    # keep the largest subset of the hint whose least-squares multipliers are all positive
    # (drop the non-positive ones and re-solve): a feasible start for Lawson-Hanson
    count = positive_subset(X, e, idx, mu, count, g, np.empty((hint.shape[0], hint.shape[0])),
                            np.empty(hint.shape[0]))
    p = np.empty(d)
    combine(X, e, idx, mu, count, g, p)
    # the warm start's bound is already valid (mu >= 0): stop when it is below the cutoff
    p0 = 0.0
    for i in range(d):
        p0 += p[i] * p[i]
    if np.sqrt(p0) <= cutoff:
        max_iter = 0
    gn = 0.0
    for i in range(d):
        gn += g[i] * g[i]
    gn = np.sqrt(gn)
    exact = False
    it = 0
    while it < max_iter:
        it += 1
        pn = 0.0
        for i in range(d):
            pn += p[i] * p[i]
        pn = np.sqrt(pn)
        # most violated row (relative), not passive, not just excluded
        worst = 0.0
        t = -1
        for k in range(n):
            if row_norms[k] == 0.0 or k == excluded:
                continue
            s = 0.0
            for i in range(d):
                s += X[k, i] * p[i]
            s *= e[k]
            rel = s / row_norms[k]
            if rel < -(tol * pn + 1e-12 * gn) and rel < worst:
                passive = False
                for j in range(count):
                    if idx[j] == k:
                        passive = True
                if not passive:
                    worst = rel
                    t = k
        if t < 0:
            exact = True
            break
        idx[count] = t
        mu[count] = 0.0
        count += 1
        while True:
            z = passive_lstsq(X, e, idx, count, g)
            allpos = True
            for j in range(count):
                if not z[j] > 0:
                    allpos = False
            if allpos:
                for j in range(count):
                    mu[j] = z[j]
                excluded = -1
                break
            alpha = np.inf
            jstar = 0
            for j in range(count):
                if not z[j] > 0:
                    denom = mu[j] - z[j]
                    a = mu[j] / denom if denom > 0 else 0.0
                    if a < alpha:
                        alpha = a
                        jstar = j
            for j in range(count):
                mu[j] += alpha * (z[j] - mu[j])
            mu[jstar] = 0.0
            keep = 0
            for j in range(count):
                if mu[j] > 0:
                    idx[keep] = idx[j]
                    mu[keep] = mu[j]
                    keep += 1
                elif idx[j] == t:
                    excluded = t  # the entering row was rejected: do not pick it next
            count = keep
            if count == 0:
                break
        combine(X, e, idx, mu, count, g, p)
    pn = 0.0
    for i in range(d):
        pn += p[i] * p[i]
    nf = 0
    for j in range(count):
        if mu[j] > 0 and nf < face.shape[0]:
            face[nf] = idx[j]
            face_mu[nf] = mu[j]
            nf += 1
    for j in range(nf, face.shape[0]):
        face[j] = -1
        face_mu[j] = 0.0
    for i in range(d):
        point[i] = p[i]
    return np.sqrt(pn), exact

@nb.njit(cache=True)
def project_batch(X, D, row_norms, G, pats, cols, signs, hints, tol, max_iter, cutoff):  # pragma: no cover
    m = pats.shape[0]
    d = X.shape[1]
    bounds = np.empty(m)
    exact = np.empty(m, np.bool_)
    faces = np.full((m, hints.shape[1]), -1, np.int64)
    mus = np.zeros((m, hints.shape[1]))
    points = np.empty((m, d))
    for b in range(m):
        p = pats[b]
        e = 2.0 * D[:, p].astype(np.float64) - 1.0
        g = np.empty(d)
        for i in range(d):
            g[i] = signs[b] * G[i, cols[b]]
        bounds[b], exact[b] = project_one(X, e, row_norms, g, hints[b], tol, max_iter, faces[b],
                                          mus[b], points[b], cutoff)
    return bounds, exact, faces, points, mus


@nb.njit(cache=True)
def warm_points(X, D, G, pats, cols, signs, hints):  # pragma: no cover - compiled
    """The warm start of :func:`project_one` for every block, without any row scan.

    Per block: the largest subset of its hint rows whose least-squares multipliers are all
    positive, and the point ``g + A_F^T mu`` on it. Returns (points (m, d), faces (m, c),
    multipliers (m, c)).
    """
    m = pats.shape[0]
    n, d = X.shape
    points = np.empty((m, d))
    faces = np.full((m, hints.shape[1]), -1, np.int64)
    mus = np.zeros((m, hints.shape[1]))
    e = np.empty(n)
    idx = np.empty(hints.shape[1], np.int64)
    mu = np.zeros(hints.shape[1])
    g = np.empty(d)
    M = np.empty((hints.shape[1], hints.shape[1]))
    zbuf = np.empty(hints.shape[1])
    for b in range(m):
        p = pats[b]
        for i in range(d):
            g[i] = signs[b] * G[i, cols[b]]
        count = 0
        for j in range(hints.shape[1]):
            k = hints[b, j]
            if k >= 0:
                s = 0.0
                for i in range(d):
                    s += X[k, i] * X[k, i]
                if s > 0:
                    idx[count] = k
                    e[k] = 2.0 * D[k, p] - 1.0
                    count += 1
        count = positive_subset(X, e, idx, mu, count, g, M, zbuf)
        combine(X, e, idx, mu, count, g, points[b])
        for j in range(count):
            faces[b, j] = idx[j]
            mus[b, j] = mu[j]
    return points, faces, mus


@nb.njit(cache=True)
def check_warm(ST, D, pats, row_norms, limit, faces):  # pragma: no cover - compiled
    """Per block ``b``: every row holds at its warm point (relative slack ``>= -limit[b]``) and
    every face row is tight (``|slack| <= limit[b]``). ``ST[b, k] = x_k^T point_b / ||x_k||``
    (0 for zero rows), so ``ST`` already holds relative slacks up to the row's sign."""
    m, n = ST.shape
    ok = np.ones(m, np.bool_)
    for b in range(m):
        p = pats[b]
        lowest = 0.0
        for k in range(n):       # branch-free: the compiler vectorizes it
            v = ST[b, k] * (2.0 * D[k, p] - 1.0)
            lowest = min(lowest, v)
        lim = limit[b]
        if lowest < -lim:
            ok[b] = False
            continue
        for j in range(faces.shape[1]):
            k = faces[b, j]
            if k >= 0 and abs(ST[b, k]) > lim:
                ok[b] = False
                break
    return ok


@nb.njit(cache=True)
def screen_blocks(X, D, G, count, cutoff, face_rows, face_mu):  # pragma: no cover - compiled
    """Cheap valid bounds of all ``count`` blocks (block ``j < P``: ``+G[:, j]``; ``j >= P``:
    ``-G[:, j - P]``) and which still need a projection.

    A block stops at ``||g||`` when that is ``<= cutoff``, else at the bound of its stored face
    multipliers, ``||g + sum_j mu_j a_{k_j}||`` over the rows with ``mu_j > 0`` (valid for any
    ``mu >= 0``), when that is ``<= cutoff``; the others are flagged (their entry is then
    ``||g||``, a valid but loose bound)."""
    d, P = G.shape
    out = np.empty(count)
    todo = np.zeros(count, np.bool_)
    point = np.empty(d)
    for j in range(count):
        p = j if j < P else j - P
        s = 1.0 if j < P else -1.0
        gn = 0.0
        for i in range(d):
            gn += G[i, p] * G[i, p]
        gn = np.sqrt(gn)
        out[j] = gn
        if gn <= cutoff:
            continue
        used = False
        for i in range(d):
            point[i] = s * G[i, p]
        for jj in range(face_rows.shape[1]):
            k = face_rows[j, jj]
            w = face_mu[j, jj]
            if k >= 0 and w > 0:
                used = True
                w *= 2.0 * D[k, p] - 1.0
                for i in range(d):
                    point[i] += w * X[k, i]
        if used:
            b = 0.0
            for i in range(d):
                b += point[i] * point[i]
            b = np.sqrt(b)
            if b <= cutoff:
                out[j] = b
                continue
        todo[j] = True
    return out, todo
