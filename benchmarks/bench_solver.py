"""Benchmark: the working-set C-ReLU solver against cvxpy + Clarabel (and scnn if installed) (issue 8).

Run from the repository root::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_solver.py           # 18 sizes (20-30 min)
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_solver.py --quick   # 2 sizes (~1.5 min)
    .venv/bin/python benchmarks/bench_solver.py --configs "1000,10,100;2000,20,20" --no-baseline

What is timed, per size ``(n, d, P)`` (``n`` in {200, 1000, 2000}, ``d`` in {5, 10, 20}, ``P`` in
{20, 100} by default):

* **ours**: :func:`certify.solve.working_set.solve` (C-ReLU, ``gated=False``) with
  ``SolverOptions(gap_tol=1e-6)`` (cone violation target ``feas_tol`` = 1e-9, the default),
  ``--repeats`` timed calls (default 3) after one untimed warm-up call per size. The warm-up
  of the first size loads the Numba kernels from their disk cache (or compiles them); its
  time is printed separately as the first-call time.
* **Clarabel**: :func:`certify.solve.cvxpy_reference.solve_crelu` (cvxpy + Clarabel,
  ``tol=1e-8``; cvxpy's canonicalization included), ``--baseline-repeats`` calls (default 1),
  unless ``--no-baseline``.
* **scnn** (``pip install pyscnn``; skipped with a note when ``import scnn`` fails): its convex
  ReLU model (``ConvexReLU`` with the gate vectors that generate the same patterns, the
  augmented-Lagrangian solver ``AL`` with its default tolerances, ``NeuronGL1(lam / n)``:
  scnn's ``1/(2n)`` loss scaling, :func:`certify.problem.convert_lambda` convention
  ``"mean"``), ``unitize_data=False``, float64, ``return_convex=True``; one call.

Instances: ``X`` (n, d) and ``y`` (n,) standard normal (``numpy.random.default_rng(seed)``),
patterns ``D = gate_patterns(X, P, seed)`` (``P`` seeded Gaussian gates, duplicate patterns
removed, so the actual ``P`` can be smaller; it is printed). Regularization: ``lam =
--lam-frac * lam_max`` (default 0.1), where ``lam_max`` is the smallest ``lam`` at which
``U = H = 0`` is optimal: the largest one-cone bound ``max_{u in K_b, ||u|| <= 1} <Z_b^T y, u>``
over the 2P blocks ``b`` (``Z_b = +-D_p X``) at the zero residual ``r = y``, computed with
:func:`certify.solve.cone_kernels.project_batch`. At 0.1 lam_max a few tens of blocks are
non-zero at the optimum, which is the regime the solver is built for (few active blocks).

Correctness (the exit status is 1 when one fails): every solution's objective is recomputed
the same way, ``1/2 ||sum_p D_p X (u_p - h_p) - y||^2 + lam sum_p (||u_p|| + ||h_p||)``, and
its cone violation too: for every non-zero block column ``w`` (of ``U`` or ``H``) with pattern
``p``, ``max_k max(0, -(2 D_kp - 1) x_k^T w) / (||x_k|| ||w||)``. Ours must be converged, have
violation <= 1e-8 and ``(ours - clarabel) / clarabel <= 1e-6``, and its reported ``objective``
must match the recomputed one to 1e-10 relative. (Clarabel's solution, an interior point,
typically violates its cones by ~1e-9..1e-7 and so may sit slightly *below* the optimum.)

Iteration throughput, per size: (a) the bare products, one ``op.forward(W)`` plus one
``op.adjoint(r)`` on random ``W`` (d, P), ``r`` (n,) with the ``auto`` backend
(``select_backend("auto")().prepare(X, D)``); (b) one pricing pass as the solver makes it at
our solution: ``r = y - forward(U - H)``, ``G = adjoint(r)`` and the solver's own
``_Blocks.bounds`` (:func:`certify.solve.cone_kernels.block_bounds`: cheap bounds for every
block, projections for the blocks above the cutoff), its faces and multipliers left by one
earlier pass at the same point, as they are after the solver's previous round. Each is
timed as loops of at least ``--min-time`` seconds, 7 repeats, median per call. Printed:
bare / pricing as "pricing pass at X% of bare-product throughput".

BLAS threads: as in ``bench_exact.py``, ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
``MKL_NUM_THREADS`` are set to 1 in ``os.environ`` before NumPy is imported, for every solver;
Numba's thread count and torch's (scnn) are printed (the projection kernels run serially).
"""

from __future__ import annotations

import os

# Must happen before numpy (and anything importing numpy) is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib  # noqa: E402
import itertools  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.patterns.sampling import sample_gates  # noqa: E402
from certify.patterns.sources import gate_patterns  # noqa: E402
from certify.solve.backends import select_backend  # noqa: E402
from certify.solve.cone_kernels import project_batch  # noqa: E402
from certify.solve.working_set import _CUTOFF_SLACK, SolverOptions, _Blocks, solve  # noqa: E402

GRID_N = (200, 1000, 2000)
GRID_D = (5, 10, 20)
GRID_P = (20, 100)
QUICK = ((200, 5, 20), (1000, 10, 100))
HEADLINE = (1000, 10, 100)
TARGET_RATIO = 50.0

GAP_TOL = 1e-6
BASELINE_TOL = 1e-8
OBJ_TOL = 1e-6          # ours may be at most this much above Clarabel, relatively
VIOLATION_TOL = 1e-8    # our largest relative cone violation
SELF_TOL = 1e-10        # Solution.objective vs the recomputed objective
BIG_BLOCK = 1e-6        # second violation figure: blocks above this fraction of the largest
THROUGHPUT_REPEATS = 7


# --- instances and common measures -------------------------------------------------------------


def make_instance(n: int, d: int, P: int, seed: int, lam_frac: float):
    """Seeded Gaussian ``X``, ``y``; gate patterns ``D``; ``lam = lam_frac * lam_max``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    D = gate_patterns(X, P, seed)
    lam_max = lambda_max(X, y, D)
    return X, y, D, lam_frac * lam_max, lam_max


def lambda_max(X: np.ndarray, y: np.ndarray, D: np.ndarray) -> float:
    """Largest one-cone bound over the 2P blocks at the zero solution (residual ``y``)."""
    P = D.shape[1]
    G = X.T @ (D * y[:, None])
    patterns = np.concatenate([np.arange(P), np.arange(P)])
    signs = np.concatenate([np.ones(P), -np.ones(P)])
    bounds = project_batch(X, D, G, patterns, signs)[0]
    return float(bounds.max())


def crelu_objective(X, y, lam, D, U, H) -> float:
    """``1/2 ||sum_p D_p X (u_p - h_p) - y||^2 + lam sum_p (||u_p|| + ||h_p||)``."""
    fit = np.einsum("np,np->n", D.astype(float), X @ (U - H))
    r = fit - y
    return 0.5 * float(r @ r) + lam * float(np.linalg.norm(U, axis=0).sum() + np.linalg.norm(H, axis=0).sum())


def cone_violation(X, D, U, H, threshold: float = 0.0) -> float:
    """Largest ``max(0, -(2 D_kp - 1) x_k^T w) / (||x_k|| ||w||)`` over the block columns ``w``.

    Blocks with ``||w|| <= threshold * max ||w||`` are skipped (``threshold = 0``: zero blocks
    only, the definition used by the checks).
    """
    S = 2.0 * D.astype(float) - 1.0
    row_norms = np.linalg.norm(X, axis=1)
    largest = max(np.linalg.norm(U, axis=0).max(initial=0.0), np.linalg.norm(H, axis=0).max(initial=0.0))
    worst = 0.0
    for W in (U, H):
        col_norms = np.linalg.norm(W, axis=0)
        live = (col_norms > 0) & (col_norms > threshold * largest)
        if not live.any():
            continue
        slack = S[:, live] * (X @ W[:, live])
        scale = row_norms[:, None] * col_norms[None, live]
        rel = np.divide(-slack, scale, out=np.zeros_like(slack), where=scale > 0)
        worst = max(worst, float(rel.max(initial=0.0)))
    return worst


def nonzero_blocks(U, H, threshold: float = 1e-9) -> int:
    norms = np.concatenate([np.linalg.norm(U, axis=0), np.linalg.norm(H, axis=0)])
    return int((norms > threshold * max(norms.max(initial=0.0), 1e-300)).sum())


def per_call(fn, min_time: float, repeats: int) -> list[float]:
    """Seconds per call: ``repeats`` loops of at least ``min_time`` seconds each."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    loops = max(1, int(min_time / once))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        out.append((time.perf_counter() - t0) / loops)
    return out


# --- the three solvers ---------------------------------------------------------------------------


@dataclass
class Run:
    times: list[float] = field(default_factory=list)
    objective: float = float("nan")
    violation: float = float("nan")
    violation_big: float = float("nan")  # blocks above BIG_BLOCK * the largest only
    blocks: int = 0
    note: str = ""


def run_ours(X, y, lam, D, repeats: int, backend: str = "auto"):
    """One untimed warm-up call, then ``repeats`` timed ones; returns (warm-up s, Run, Solution)."""
    opts = SolverOptions(gap_tol=GAP_TOL, backend=backend)
    t0 = time.perf_counter()
    solve(X, y, lam, D, gated=False, options=opts)
    warm = time.perf_counter() - t0
    run = Run()
    sol = None
    all_converged = True
    for _ in range(repeats):
        t0 = time.perf_counter()
        sol = solve(X, y, lam, D, gated=False, options=opts)
        run.times.append(time.perf_counter() - t0)
        all_converged &= bool(sol.converged)
    run.objective = crelu_objective(X, y, lam, D, sol.U, sol.H)
    run.violation = cone_violation(X, D, sol.U, sol.H)
    run.violation_big = cone_violation(X, D, sol.U, sol.H, BIG_BLOCK)
    run.blocks = nonzero_blocks(sol.U, sol.H)
    if not all_converged:
        run.note = f"not converged: {sol.message}"
    return warm, run, sol


def run_clarabel(X, y, lam, D, repeats: int) -> Run:
    from certify.solve.cvxpy_reference import solve_crelu

    run = Run()
    ref = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        try:
            ref = solve_crelu(X, y, lam, D, tol=BASELINE_TOL)
        except Exception as exc:  # noqa: BLE001 - report whatever the baseline raises
            run.note = f"Clarabel failed: {type(exc).__name__}: {exc}"
            return run
        run.times.append(time.perf_counter() - t0)
    run.objective = crelu_objective(X, y, lam, D, ref.U, ref.H)
    run.violation = cone_violation(X, D, ref.U, ref.H)
    run.violation_big = cone_violation(X, D, ref.U, ref.H, BIG_BLOCK)
    run.blocks = nonzero_blocks(ref.U, ref.H)
    run.note = f"status {ref.status}, reported objective {ref.objective!r}"
    return run


def scnn_gates(X: np.ndarray, P: int, seed: int) -> np.ndarray:
    """The gates of :func:`gate_patterns` that give its (distinct) patterns, in order."""
    G = sample_gates(X.shape[1], P, seed)
    pats = (X @ G >= 0).astype(np.uint8)
    seen: dict[bytes, None] = {}
    keep = []
    for p in range(P):
        key = pats[:, p].tobytes()
        if key not in seen:
            seen[key] = None
            keep.append(p)
    return G[:, keep]


def run_scnn(X, y, lam, D, P_requested: int, seed: int) -> Run:
    """scnn's convex ReLU (AL solver) in scnn's scaling; measured in certify's."""
    from scnn.metrics import Metrics
    from scnn.models import ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL

    n = X.shape[0]
    gates = scnn_gates(X, P_requested, seed)
    run = Run()
    if not np.array_equal((X @ gates >= 0).astype(np.uint8), D):
        run.note = "gate patterns differ from D (skipped)"
        return run
    model = ConvexReLU(gates, c=1)
    t0 = time.perf_counter()
    model, _ = optimize_model(model, AL(model), Metrics(), X, y, regularizer=NeuronGL1(lam / n),
                              return_convex=True, unitize_data=False, dtype="float64")
    run.times.append(time.perf_counter() - t0)
    # scnn reorders the patterns (np.unique) and drops duplicates/zero ones: rebuild them
    Ds = (X @ model.G > 0).astype(np.uint8)
    U, H = np.asarray(model.parameters[0][0]).T, np.asarray(model.parameters[1][0]).T
    run.objective = crelu_objective(X, y, lam, Ds, U, H)
    run.violation = cone_violation(X, Ds, U, H)
    run.violation_big = cone_violation(X, Ds, U, H, BIG_BLOCK)
    run.blocks = nonzero_blocks(U, H)
    run.note = f"{Ds.shape[1]} patterns"
    return run


# --- throughput -------------------------------------------------------------------------------------


def throughput(X, y, lam, D, sol, min_time: float, seed: int,
               backend: str = "auto") -> tuple[list[float], list[float], int]:
    """(bare forward+adjoint s/call, pricing pass s/call, blocks projected)."""
    rng = np.random.default_rng(seed + 1)
    n, d = X.shape
    P = D.shape[1]
    op = select_backend(backend)().prepare(X, D)
    W = rng.standard_normal((d, P))
    r0 = rng.standard_normal(n)

    def bare():
        op.forward(W)
        op.adjoint(r0)

    Wsol = sol.U - sol.H
    G0 = op.adjoint(y - op.forward(Wsol))
    norms = np.linalg.norm(G0, axis=0)
    todo = np.flatnonzero(np.concatenate([norms, norms]) > lam)
    # the solver's own pricing routine and state (faces and multipliers of a previous pass)
    blocks = _Blocks(X, D, gated=False)
    cutoff = lam * (1.0 + _CUTOFF_SLACK * GAP_TOL)
    blocks.bounds(G0, lam, cutoff)

    def pricing():
        # the solver's pass: residual, correlations, block_bounds (working_set._Blocks.bounds)
        r = y - op.forward(Wsol)
        G = op.adjoint(r)
        blocks.bounds(G, lam, cutoff)

    t_bare = per_call(bare, min_time, THROUGHPUT_REPEATS)
    t_price = per_call(pricing, min_time, THROUGHPUT_REPEATS)
    return t_bare, t_price, int(todo.size)


# --- reporting -------------------------------------------------------------------------------------


def machine_info() -> list[str]:
    lines = [f"python {platform.python_version()}, machine {platform.machine()}, "
             f"nproc {os.cpu_count()} (affinity {len(os.sched_getaffinity(0))})"]
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover - not Linux
        pass
    lines.append(f"cpu: {model or platform.processor() or 'unknown'}")
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        lines.append(f"numpy {np.__version__}, BLAS {blas.get('name')} {blas.get('version')}")
    except Exception:  # pragma: no cover - depends on the numpy build
        lines.append(f"numpy {np.__version__}")
    versions = []
    for mod in ("scipy", "clarabel", "cvxpy", "numba"):
        try:
            versions.append(f"{mod} {importlib.import_module(mod).__version__}")
        except Exception:  # noqa: BLE001
            versions.append(f"{mod} not installed")
    lines.append(", ".join(versions))
    try:
        import numba

        lines.append(f"numba.get_num_threads() = {numba.get_num_threads()}, "
                     f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')}, "
                     f"NUMBA_THREADING_LAYER={os.environ.get('NUMBA_THREADING_LAYER')}")
    except ImportError:
        pass
    lines.append("env: " + ", ".join(f"{v}={os.environ.get(v)}" for v in
                                      ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")))
    lines.append(f"operator backend (auto would pick): {select_backend('auto').name}")
    lines.append(git_info())
    lines.append("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return lines


def git_info() -> str:
    """The commit measured, and whether ``certify/`` had uncommitted changes."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "log", "-1", "--format=%h %ci"], cwd=root, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "certify"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return "git: unavailable"
    changed = [f for f in dirty if f.startswith("certify/")]
    return f"git: HEAD {head or '?'}; uncommitted changes in certify/: {', '.join(changed) or 'none'}"


def scnn_available() -> tuple[bool, str]:
    try:
        import scnn  # noqa: F401
    except ImportError:
        return False, "scnn: not installed (skipped)"
    version = "unknown version"
    try:
        from importlib.metadata import version as pkg_version

        version = pkg_version("pyscnn")
    except Exception:  # noqa: BLE001
        pass
    extra = ""
    try:
        import torch

        extra = f", torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}"
    except ImportError:
        pass
    return True, f"scnn: pyscnn {version}{extra} (AL solver, default tolerances)"


def fmt(x: float, spec: str = ".3f") -> str:
    return "—" if x != x else format(x, spec)


def parse_configs(text: str) -> list[tuple[int, int, int]]:
    out = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        vals = tuple(int(v) for v in part.split(","))
        if len(vals) != 3:
            raise SystemExit(f"--configs: {part!r} is not n,d,P")
        out.append(vals)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=str, default=None, help='sizes "n,d,P;n,d,P" (default: full grid)')
    ap.add_argument("--quick", action="store_true", help="sizes (200,5,20) and (1000,10,100)")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls of our solver (default 3)")
    ap.add_argument("--baseline-repeats", type=int, default=1, help="Clarabel calls (default 1)")
    ap.add_argument("--no-baseline", action="store_true", help="skip cvxpy + Clarabel")
    ap.add_argument("--no-scnn", action="store_true", help="skip scnn even if installed")
    ap.add_argument("--lam-frac", type=float, default=0.1, help="lam = lam_frac * lam_max (default 0.1)")
    ap.add_argument("--min-time", type=float, default=0.02, help="seconds per throughput loop")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", default="auto",
                    help="operator backend of our solver: auto (default), numpy, numba, numba-parallel, cuda")
    args = ap.parse_args(argv)
    if args.configs:
        configs = parse_configs(args.configs)
    elif args.quick:
        configs = list(QUICK)
    else:
        configs = list(itertools.product(GRID_N, GRID_D, GRID_P))

    baseline = ("skipped" if args.no_baseline
                else f"cvxpy+Clarabel tol={BASELINE_TOL:g}, repeats={args.baseline_repeats}")
    print(f"# bench_solver: {len(configs)} sizes, lam = {args.lam_frac} * lam_max, gap_tol={GAP_TOL:g}, "
          f"repeats={args.repeats}, baseline: {baseline}, seed={args.seed}, backend={args.backend}")
    for line in machine_info():
        print("# " + line)
    has_scnn, scnn_line = (False, "scnn: skipped (--no-scnn)") if args.no_scnn else scnn_available()
    print("# " + scnn_line)
    sys.stdout.flush()

    failures: list[str] = []
    rows = []
    first_call = None
    for n, d, P_req in configs:
        X, y, D, lam, lam_max = make_instance(n, d, P_req, args.seed, args.lam_frac)
        P = D.shape[1]
        tag = f"n={n} d={d} P={P_req}"
        warm, ours, sol = run_ours(X, y, lam, D, args.repeats, args.backend)
        if first_call is None:
            first_call = (tag, warm)
        rel_self = abs(sol.objective - ours.objective) / max(abs(ours.objective), 1e-300)
        base = None if args.no_baseline else run_clarabel(X, y, lam, D, args.baseline_repeats)
        sc = run_scnn(X, y, lam, D, P_req, args.seed) if has_scnn else None
        t_bare, t_price, priced = throughput(X, y, lam, D, sol, args.min_time, args.seed, args.backend)

        med = statistics.median(ours.times)
        print(f"\n## {tag} (distinct patterns {P}), lam = {lam:.6g} (lam_max = {lam_max:.6g})")
        print(f"ours:     median {med:.3f} s (min {min(ours.times):.3f}, max {max(ours.times):.3f}; "
              f"warm-up call {warm:.3f} s); last call: restricted {sol.seconds.get('restricted', 0):.3f} s, "
              f"pricing {sol.seconds.get('pricing', 0):.3f} s; rounds {sol.rounds}, "
              f"max working set {max((h['blocks'] for h in sol.history), default=0)} blocks, "
              f"non-zero blocks {ours.blocks}; gap {sol.gap:.1e}, converged {sol.converged}")
        print(f"          objective {ours.objective!r} (Solution.objective rel. diff {rel_self:.1e}), "
              f"violation {ours.violation:.1e} (blocks >= {BIG_BLOCK:g} max: {ours.violation_big:.1e}; "
              f"Solution.violation {sol.violation:.1e})")
        if ours.note:
            failures.append(f"{tag}: ours {ours.note}")
        if not sol.converged:
            failures.append(f"{tag}: ours not converged ({sol.message})")
        if not ours.violation <= VIOLATION_TOL:
            failures.append(f"{tag}: our cone violation {ours.violation:.2e} > {VIOLATION_TOL:g}")
        if not rel_self <= SELF_TOL:
            failures.append(f"{tag}: Solution.objective differs from the recomputed one by {rel_self:.2e}")
        ratio = lo = hi = rel = float("nan")
        if base is not None:
            if base.times:
                tb = statistics.median(base.times)
                ratio, lo, hi = tb / med, min(base.times) / max(ours.times), max(base.times) / min(ours.times)
                rel = (ours.objective - base.objective) / abs(base.objective)
                print(f"clarabel: {tb:.3f} s ({len(base.times)} call(s)); objective {base.objective!r}, "
                      f"violation {base.violation:.1e} (blocks >= {BIG_BLOCK:g} max: "
                      f"{base.violation_big:.1e}), "
                      f"non-zero blocks {base.blocks}; {base.note}")
                print(f"          ratio clarabel/ours {ratio:.1f}x (spread {lo:.1f}x .. {hi:.1f}x); "
                      f"(ours - clarabel)/clarabel = {rel:+.2e} (<= {OBJ_TOL:g}: "
                      f"{'OK' if rel <= OBJ_TOL else 'FAIL'})")
                if not rel <= OBJ_TOL:
                    failures.append(f"{tag}: ours {rel:+.2e} above Clarabel (> {OBJ_TOL:g})")
            else:
                print(f"clarabel: {base.note} (no comparison)")
        if sc is not None:
            if sc.times:
                rel_s = (sc.objective - ours.objective) / abs(ours.objective)
                print(f"scnn:     {sc.times[0]:.3f} s; objective {sc.objective!r} ((scnn - ours)/ours "
                      f"{rel_s:+.2e}), violation {sc.violation:.1e} (blocks >= {BIG_BLOCK:g} max: "
                      f"{sc.violation_big:.1e}), non-zero blocks {sc.blocks}; {sc.note}")
            else:
                print(f"scnn:     {sc.note}")
        mb, mp = statistics.median(t_bare), statistics.median(t_price)
        print(f"throughput: bare forward+adjoint {mb * 1e6:.1f} us (min {min(t_bare) * 1e6:.1f}, "
              f"max {max(t_bare) * 1e6:.1f}); pricing pass ({priced} blocks projected) {mp * 1e6:.1f} us "
              f"(min {min(t_price) * 1e6:.1f}, max {max(t_price) * 1e6:.1f}); "
              f"pricing pass at {100 * mb / mp:.2f}% of bare-product throughput")
        sys.stdout.flush()
        nan = float("nan")
        base = base or Run()
        sc = sc or Run()
        rows.append(dict(
            n=n, d=d, P=P, med=med, lo_t=min(ours.times), hi_t=max(ours.times),
            base=statistics.median(base.times) if base.times else nan, ratio=ratio, lo=lo, hi=hi,
            rel=rel, obj=ours.objective, viol=ours.violation, bviol=base.violation,
            bviol_big=base.violation_big, rounds=sol.rounds,
            ws=max((h["blocks"] for h in sol.history), default=0), nz=ours.blocks,
            bare=mb, price=mp, scnn_t=sc.times[0] if sc.times else nan,
            scnn_rel=(sc.objective - ours.objective) / abs(ours.objective),
            scnn_viol=sc.violation, scnn_viol_big=sc.violation_big))

    print()
    print(f"# first call (warm-up, Numba kernel load/compile) at {first_call[0]}: {first_call[1]:.3f} s")
    print("# load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print()
    cols = [("n", ">"), ("d", ">"), ("P", ">"), ("ours med s", ">"), ("min s", ">"), ("max s", ">"),
            ("clarabel s", ">"), ("ratio (spread)", "<"), ("objective ours", ">"),
            ("ours-clar. rel", ">"), ("viol ours", ">"), ("viol clar. all / big", ">"), ("rounds", ">"),
            ("max WS", ">"), ("nz", ">"), ("bare us", ">"), ("pricing us", ">"), ("pricing %", ">")]
    if has_scnn:
        cols += [("scnn s", ">"), ("scnn-ours rel", ">"), ("viol scnn all / big", ">")]
    table = []
    for r in rows:
        spread = "—" if r["ratio"] != r["ratio"] else f"{r['ratio']:.1f}x ({r['lo']:.1f}..{r['hi']:.1f})"
        cells = [str(r["n"]), str(r["d"]), str(r["P"]), f"{r['med']:.3f}", f"{r['lo_t']:.3f}",
                 f"{r['hi_t']:.3f}", fmt(r["base"], ".2f"), spread, f"{r['obj']:.10g}",
                 fmt(r["rel"], "+.1e"), f"{r['viol']:.1e}",
                 f"{fmt(r['bviol'], '.1e')} / {fmt(r['bviol_big'], '.1e')}", str(r["rounds"]),
                 str(r["ws"]), str(r["nz"]), f"{r['bare'] * 1e6:.1f}", f"{r['price'] * 1e6:.1f}",
                 f"{100 * r['bare'] / r['price']:.2f}%"]
        if has_scnn:
            cells += [fmt(r["scnn_t"], ".2f"), fmt(r["scnn_rel"], "+.1e"),
                      f"{fmt(r['scnn_viol'], '.1e')} / {fmt(r['scnn_viol_big'], '.1e')}"]
        table.append(cells)
    widths = [max(len(c[0]), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    print("| " + " | ".join(f"{c[0]:{c[1]}{w}}" for c, w in zip(cols, widths, strict=True)) + " |")
    print("|" + "|".join(("-" * (w + 1) + ":") if c[1] == ">" else ("-" * (w + 2))
                         for c, w in zip(cols, widths, strict=True)) + "|")
    for cells in table:
        print("| " + " | ".join(f"{v:{c[1]}{w}}" for v, c, w in zip(cells, cols, widths, strict=True)) + " |")
    print()
    head = [r for r, c in zip(rows, configs, strict=True) if c == HEADLINE]
    if head and head[0]["ratio"] == head[0]["ratio"]:
        r = head[0]
        print(f"n={HEADLINE[0]},d={HEADLINE[1]},P={HEADLINE[2]}: ratio vs Clarabel: {r['ratio']:.1f}x "
              f"(spread {r['lo']:.1f}x .. {r['hi']:.1f}x) (target >= {TARGET_RATIO:g})")
    elif head:
        print(f"n={HEADLINE[0]},d={HEADLINE[1]},P={HEADLINE[2]}: ratio vs Clarabel: not measured "
              f"(baseline skipped or failed) (target >= {TARGET_RATIO:g})")
    if failures:
        print("\nCHECKS FAILED:")
        for f in failures:
            print("  - " + f)
        return 1
    print("checks: all OK (ours converged, violation <= 1e-8, objective <= Clarabel's + 1e-6 relative)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
