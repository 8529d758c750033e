"""Regularization paths: warm-started solves over a decreasing grid of ``lam`` (theory.md §6).

Scaling (certify's convention, theory.md §1–2): at every grid point the solver minimizes ::

    1/2 || sum_p D_p X (u_p - h_p) - y ||^2 + lam sum_p (||u_p|| + ||h_p||)

subject to the cone constraints ``(2 D_p - I) X u_p >= 0`` and ``(2 D_p - I) X h_p >= 0``
(dropped for the gated ReLU, where ``h_p = 0``). The loss is ``1/2`` times the *sum* of squared
residuals, not the mean: scnn's ``lam`` is this ``lam`` divided by ``n``
(:func:`certify.problem.convert_lambda` converts other conventions).

``w = 0`` is optimal iff ``lam >= lam_max = max_b ||Pi_{K_b}(Z_b^T y)||`` (theory.md §3); for the
gated ReLU, ``lam_max = max_p ||X^T D_p y||``. :func:`lam_max` computes it from the one-cone
bounds of :func:`certify.solve.cone_kernels.project_batch`, which are *upper* bounds of the
projection norms whatever the iteration count, so the value returned is never below the true
``lam_max`` and ``w = 0`` is optimal there.

:func:`solve_path` solves at each ``lam`` of a strictly decreasing grid, each solve warm-started
from the previous one's working blocks and rows (:meth:`Solution.warm_start`). Along a
decreasing grid, every optimum's loss is non-increasing, its penalty ``sum ||w_b||`` is
non-decreasing and ``p*(lam)`` is non-increasing (theory.md §6). A solve that does not converge
is kept in the path and flagged (:attr:`RegularizationPath.converged`,
:attr:`RegularizationPath.message`), never dropped.

Paths are saved as ``.npz`` archives of plain arrays (no pickle) and loaded with
``allow_pickle=False``; see :meth:`RegularizationPath.save`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from certify.convex.mapping import blocks_to_network
from certify.errors import FormatError, InputError
from certify.io.data import read_npz
from certify.io.validate import check_data, check_path, check_pattern_matrix
from certify.network import Network
from certify.solve.cone_kernels import project_batch
from certify.solve.screening import operator_norm_bounds, sequential_screen, solve_screened
from certify.solve.working_set import Solution, SolverOptions, solve

__all__ = ["RegularizationPath", "lam_grid", "lam_max", "solve_path"]

FORMAT_VERSION = 1
"""Version of the ``.npz`` layout written by :meth:`RegularizationPath.save`."""

_HOW = "RegularizationPath.save(path)"

_PER_POINT = ("objectives", "dual_values", "gaps", "violations")
"""Per-grid-point float arrays of a saved path besides ``lams``, each of shape (K,)."""


# --------------------------------------------------------------------------------------------
# Inputs


def _check_problem(X: object, y: object, D: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X`` (n, d), ``y`` (n,) as float64 and ``D`` (n, P) as uint8, or raise InputError."""
    X, y = check_data(X, y)
    D = check_pattern_matrix(D)
    if D.shape[0] != X.shape[0] or D.shape[1] == 0:
        raise InputError(f"D has shape {D.shape} but X has {X.shape[0]} rows: D must be (n, P) = "
                         f"({X.shape[0]}, P) with P >= 1, one activation pattern per column.")
    return X, y, np.ascontiguousarray(D, np.uint8)


def _check_lams(lams: object) -> np.ndarray:
    """A strictly decreasing array of positive finite floats (K,), K >= 1, or raise InputError."""
    try:
        arr = np.asarray(lams, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"lams must be a 1-D sequence of positive numbers; got {lams!r}.") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"lams must be a non-empty 1-D sequence of positive numbers; got shape "
                         f"{arr.shape}.")
    if not np.isfinite(arr).all():
        k = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(f"lams[{k}] = {arr[k]} is not finite; every lam must be a positive finite "
                         f"number.")
    if (arr <= 0).any():
        k = int(np.flatnonzero(arr <= 0)[0])
        raise InputError(f"lams[{k}] = {arr[k]} is not positive; every lam must be > 0.")
    steps = np.diff(arr)
    if (steps >= 0).any():
        k = int(np.flatnonzero(steps >= 0)[0])
        raise InputError(f"lams must be strictly decreasing (warm starts go from large to small lam); "
                         f"lams[{k}] = {arr[k]} but lams[{k + 1}] = {arr[k + 1]}. Sort them with "
                         f"np.sort(lams)[::-1] and remove duplicates.")
    return arr


# --------------------------------------------------------------------------------------------
# lam_max and grids


def lam_max(X: np.ndarray, y: np.ndarray, D: np.ndarray, gated: bool = False) -> float:
    """The smallest ``lam`` at which ``w = 0`` is optimal over the patterns of ``D``.

    Parameters
    ----------
    X : ndarray (n, d)
        Features (with the ones column when a bias is used).
    y : ndarray (n,)
        Targets.
    D : ndarray (n, P)
        0/1 activation patterns, one per column.
    gated : bool, default=False
        Gated ReLU (no cone constraints): ``max_p ||X^T D_p y||``.

    Returns
    -------
    float
        C-ReLU: ``max_b`` of the one-cone bounds of ``s_b X^T D_p y`` on pattern ``p``'s cone over
        both signs ``s_b = +-1`` (theory.md §3). The bounds are upper bounds of the projection
        norms, so the value is ``>=`` the true ``lam_max`` (equal up to the projection tolerance)
        and ``w = 0`` is optimal at it. ``0.0`` when no pattern correlates with ``y``
        (for example ``y = 0``); then ``w = 0`` is optimal at every ``lam``.

    Raises
    ------
    InputError
        Malformed ``X``, ``y`` or ``D`` (shapes, non-finite values, entries other than 0/1).
    """
    X, y, D = _check_problem(X, y, D)
    G = X.T @ (D * y[:, None])
    norms = np.linalg.norm(G, axis=0)
    if gated:
        return float(norms.max())
    # a zero correlation has a zero projection; every other block, of either sign, is projected
    todo = np.flatnonzero(norms > 0)
    if todo.size == 0:
        return 0.0
    patterns = np.concatenate([todo, todo])
    signs = np.concatenate([np.ones(todo.size), -np.ones(todo.size)])
    bounds, _, _, _ = project_batch(X, D, G, patterns, signs)
    return float(max(bounds.max(initial=0.0), 0.0))


def lam_grid(lam_max: float, count: int = 20, ratio: float = 1e-2) -> np.ndarray:
    """Geometric decreasing grid from ``lam_max`` down to ``ratio * lam_max``.

    Parameters
    ----------
    lam_max : float > 0
        First (largest) point, usually :func:`lam_max`.
    count : int >= 1, default=20
        Number of points (``count = 1`` gives ``[lam_max]``).
    ratio : float in (0, 1), default=1e-2
        Last point over first point.

    Returns
    -------
    ndarray (count,)
        ``lam_max * ratio ** (k / (count - 1))``, ``k = 0..count-1``: strictly decreasing, first
        entry exactly ``lam_max``.

    Raises
    ------
    InputError
        ``lam_max`` not positive and finite, ``count`` not a positive integer, ``ratio`` not in
        ``(0, 1)``.
    """
    try:
        top = float(lam_max)
    except (TypeError, ValueError):
        raise InputError(f"lam_max must be a positive finite number; got {lam_max!r}.") from None
    if not np.isfinite(top) or top <= 0:
        hint = (" (lam_max = 0: no pattern correlates with y, so w = 0 is optimal at every lam)"
                if top == 0 else "")
        raise InputError(f"lam_max must be a positive finite number; got {top}{hint}.")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise InputError(f"count must be a positive integer (number of grid points); got {count!r}.")
    try:
        r = float(ratio)
    except (TypeError, ValueError):
        raise InputError(f"ratio must be a number in (0, 1); got {ratio!r}.") from None
    if not (0.0 < r < 1.0):
        raise InputError(f"ratio must be in (0, 1) (the last grid point is ratio * lam_max); got {r}.")
    count = int(count)
    if count == 1:
        return np.array([top])
    grid = top * r ** (np.arange(count) / (count - 1))
    grid[0] = top
    if (np.diff(grid) >= 0).any():
        raise InputError(f"ratio = {r} and count = {count} give grid points that are equal in "
                         f"floating point; use fewer points or a smaller ratio.")
    return grid


# --------------------------------------------------------------------------------------------
# The path


@dataclass
class RegularizationPath:
    """Solutions of the C-ReLU (or gated ReLU) at a decreasing sequence of ``lam``.

    Attributes
    ----------
    lams : ndarray (K,)
        Strictly decreasing regularization strengths (certify's scaling, module docstring).
    solutions : list of Solution
        One per ``lam``, in the same order; non-converged solves are kept (check
        :attr:`converged` and :attr:`message`).
    patterns : ndarray (n, P) uint8
        The pattern set every solve used.
    gated : bool
        Gated ReLU (no cone constraints; ``H = 0``).
    lam_max : float
        :func:`lam_max` of the instance (``w = 0`` is optimal for ``lam >= lam_max``).
    seconds : float
        Wall time of the whole path (per-solve times are in ``solutions[k].seconds``).
    screened : ndarray (K,) or None
        Fraction of blocks removed by gap safe screening at each point (``solve_path(...,
        screening=True)``); None without screening. Not saved by :meth:`save`.
    """

    lams: np.ndarray
    solutions: list[Solution]
    patterns: np.ndarray
    gated: bool
    lam_max: float
    seconds: float = 0.0
    screened: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.solutions)

    # ---- per-point quantities

    def _each(self, name: str) -> np.ndarray:
        """The float attribute ``name`` of every solution, (K,)."""
        return np.array([getattr(s, name) for s in self.solutions], dtype=np.float64)

    @property
    def objectives(self) -> np.ndarray:
        """Convex objectives ``1/2 ||r||^2 + lam sum ||w_b||`` (K,)."""
        return self._each("objective")

    @property
    def dual_values(self) -> np.ndarray:
        """Dual objectives of the solver's dual-feasible points (K,): lower bounds of ``p*(lam)``."""
        return self._each("dual_value")

    @property
    def penalties(self) -> np.ndarray:
        """Sums of the group norms ``sum_p (||u_p|| + ||h_p||)`` (K,), not multiplied by ``lam``."""
        return np.array([float(np.linalg.norm(s.U, axis=0).sum() + np.linalg.norm(s.H, axis=0).sum())
                         for s in self.solutions], dtype=np.float64)

    @property
    def losses(self) -> np.ndarray:
        """Losses ``1/2 ||y - yhat||^2`` (K,), as ``objective - lam * penalty``.

        The solver's objective is exactly ``1/2 ||r||^2 + lam * penalty`` of the stored ``U, H``,
        so this is the loss of the stored weights up to rounding (``~1e-16 * objective``).
        """
        return self.objectives - self.lams * self.penalties

    @property
    def gaps(self) -> np.ndarray:
        """Relative duality gaps (K,)."""
        return self._each("gap")

    @property
    def violations(self) -> np.ndarray:
        """Largest relative cone violations (K,) (0 for the gated ReLU)."""
        return self._each("violation")

    @property
    def converged_each(self) -> np.ndarray:
        """Whether each solve converged (K,) bool."""
        return np.array([bool(s.converged) for s in self.solutions], dtype=bool)

    @property
    def converged(self) -> bool:
        """True when every solve of the path converged."""
        return bool(self.converged_each.all())

    @property
    def message(self) -> str:
        """``"converged"``, or which solves did not converge and why."""
        bad = [k for k, s in enumerate(self.solutions) if not s.converged]
        if not bad:
            return "converged"
        lines = [f"lams[{k}] = {self.lams[k]:.6g}: {self.solutions[k].message}" for k in bad]
        return (f"{len(bad)} of {len(self.solutions)} solves did not converge (kept in the path):\n  "
                + "\n  ".join(lines))

    def supports(self, threshold: float = 1e-9) -> list[frozenset[int]]:
        """Active blocks of each solution.

        Parameters
        ----------
        threshold : float, default=1e-9
            A block is active when ``||w_b|| > threshold * max_b ||w_b||`` (as
            :meth:`Solution.blocks`).

        Returns
        -------
        list of frozenset of int
            Block indices ``j``: ``p`` for ``u_p`` and ``P + p`` for ``h_p``.
        """
        out = []
        for s in self.solutions:
            norms = np.concatenate([np.linalg.norm(s.U, axis=0), np.linalg.norm(s.H, axis=0)])
            cut = threshold * max(float(norms.max(initial=0.0)), 1e-300)
            out.append(frozenset(int(j) for j in np.flatnonzero(norms > cut)))
        return out

    @property
    def widths(self) -> np.ndarray:
        """Number of active blocks of each solution (K,) int (default threshold of :meth:`supports`)."""
        return np.array([len(s) for s in self.supports()], dtype=np.int64)

    def predictions(self, X: np.ndarray) -> np.ndarray:
        """Fits ``sum_p D_p X (u_p - h_p)`` of every solution on the training features (K, n).

        Parameters
        ----------
        X : ndarray (n, d)
            The training features the path was solved on (the patterns are those of its rows).
            For new data, use :meth:`networks` (C-ReLU only).

        Returns
        -------
        ndarray (K, n)
        """
        X = np.asarray(X, dtype=np.float64)
        n, P = self.patterns.shape
        d = self.solutions[0].U.shape[0] if self.solutions else (X.shape[1] if X.ndim == 2 else -1)
        if X.ndim != 2 or X.shape != (n, d):
            raise InputError(f"X has shape {X.shape} but the path was solved on features of shape "
                             f"({n}, {d}); predictions() evaluates the convex model on the training "
                             f"rows (its patterns are theirs). For new data use networks().")
        Dm = self.patterns.astype(np.float64)
        return np.array([(Dm * (X @ (s.U - s.H))).sum(axis=1) for s in self.solutions]).reshape(-1, n)

    def networks(self, bias: bool = False, threshold: float = 1e-9) -> list[Network]:
        """Balanced ReLU networks of the solutions (convex -> network map, theory.md §2).

        Parameters
        ----------
        bias : bool, default=False
            The last feature is the ones column: its weights become the first-layer bias ``b1``.
        threshold : float, default=1e-9
            Blocks with ``||w_b|| <= threshold * max ||w||`` are dropped.

        Returns
        -------
        list of Network
            One per ``lam``; a zero solution gives a single zero neuron.

        Raises
        ------
        InputError
            For a gated path: a gated ReLU solution is not a ReLU network (its fixed gates are
            not the signs of its own weights).
        """
        if self.gated:
            raise InputError("a gated ReLU path has no ReLU networks: the gated model uses fixed "
                             "activation patterns, not the signs of its own weights. Solve the "
                             "C-ReLU path (gated=False) to get networks.")
        out = []
        for s in self.solutions:
            b = s.blocks(threshold)
            if b.count == 0:
                d = s.U.shape[0]
                out.append(blocks_to_network(np.zeros((d, 1)), np.ones(1, int), bias=bias))
            else:
                out.append(blocks_to_network(b.weights, b.signs, bias=bias))
        return out

    # ---- files

    def save(self, path: str | os.PathLike) -> None:
        """Write the path to an ``.npz`` archive of plain arrays (no object arrays, no pickle).

        Arrays: ``version`` (), ``lams`` (K,), ``U`` and ``H`` (K, d, P), ``patterns`` (n, P)
        uint8, ``objectives``, ``dual_values``, ``gaps``, ``violations`` (K,) float64,
        ``converged`` (K,) bool, ``rounds`` (K,) int64, ``messages`` (K,) unicode, ``gated`` ()
        bool, ``lam_max`` () and ``seconds`` () float64. Solver histories, working sets and
        per-solve timings are not saved.
        """
        K = len(self.solutions)
        n, P = self.patterns.shape
        d = self.solutions[0].U.shape[0] if K else 0
        arrays = {
            "version": np.array(FORMAT_VERSION, np.int64),
            "lams": np.asarray(self.lams, np.float64),
            "U": np.array([s.U for s in self.solutions], np.float64).reshape(K, d, P),
            "H": np.array([s.H for s in self.solutions], np.float64).reshape(K, d, P),
            "patterns": np.asarray(self.patterns, np.uint8),
            "objectives": self.objectives,
            "dual_values": self.dual_values,
            "gaps": self.gaps,
            "violations": self.violations,
            "converged": self.converged_each,
            "rounds": np.array([int(s.rounds) for s in self.solutions], np.int64),
            "messages": np.array([str(s.message) for s in self.solutions], dtype=np.str_).reshape(K),
            "gated": np.array(bool(self.gated)),
            "lam_max": np.array(float(self.lam_max), np.float64),
            "seconds": np.array(float(self.seconds), np.float64),
        }
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> RegularizationPath:
        """Read a path written by :meth:`save` (``allow_pickle=False``) and check its arrays.

        Raises
        ------
        InputError
            The file does not exist.
        FormatError
            Not a readable ``.npz`` archive, object arrays, missing or unexpected arrays, wrong
            shapes or dtypes, non-finite or non-decreasing ``lams``, patterns other than 0/1.
        """
        p = check_path(path, "path file")
        where = f"path file {str(p)!r}"
        arrays = read_npz(p, "path file", _HOW)
        expected = ("version", "lams", "U", "H", "patterns", "objectives", "dual_values", "gaps",
                    "violations", "converged", "rounds", "messages", "gated", "lam_max", "seconds")
        missing = [k for k in expected if k not in arrays]
        if missing:
            raise FormatError(f"{where} has no array {', '.join(map(repr, missing))}; write it with "
                              f"{_HOW}.")
        extra = [k for k in arrays if k not in expected]
        if extra:
            raise FormatError(f"{where} has unexpected arrays {extra}; a path file holds exactly "
                              f"{list(expected)}.")

        def fail(msg: str) -> FormatError:
            return FormatError(f"{where}: {msg}; write it with {_HOW}.")

        def scalar(key: str, kinds: str) -> np.ndarray:
            a = arrays[key]
            if a.shape != () or a.dtype.kind not in kinds:
                raise fail(f"array {key!r} must be a scalar of kind {kinds!r}, got shape {a.shape} "
                           f"dtype {a.dtype}")
            return a

        version = int(scalar("version", "iu"))
        if version != FORMAT_VERSION:
            raise fail(f"format version {version} is not supported (this certify reads version "
                       f"{FORMAT_VERSION})")
        gated = bool(scalar("gated", "b"))
        top = float(scalar("lam_max", "f"))
        seconds = float(scalar("seconds", "f"))
        if not (np.isfinite(top) and top >= 0):
            raise fail(f"lam_max = {top} must be finite and >= 0")
        if not (np.isfinite(seconds) and seconds >= 0):
            raise fail(f"seconds = {seconds} must be finite and >= 0")

        lams = arrays["lams"]
        if lams.ndim != 1 or lams.dtype.kind != "f" or lams.size == 0:
            raise fail(f"array 'lams' must be a non-empty 1-D float array, got shape {lams.shape} "
                       f"dtype {lams.dtype}")
        K = lams.size
        try:
            lams = _check_lams(lams)
        except InputError as exc:
            raise fail(f"array 'lams': {exc}") from None
        patterns = arrays["patterns"]
        if patterns.ndim != 2 or patterns.dtype != np.uint8 or 0 in patterns.shape:
            raise fail(f"array 'patterns' must be a non-empty (n, P) uint8 array, got shape "
                       f"{patterns.shape} dtype {patterns.dtype}")
        if not np.all(patterns <= 1):
            raise fail("array 'patterns' must hold only 0 and 1")
        n, P = patterns.shape
        U, H = arrays["U"], arrays["H"]
        for key, a in (("U", U), ("H", H)):
            if a.ndim != 3 or a.dtype.kind != "f" or a.shape[0] != K or a.shape[2] != P or a.shape[1] == 0:
                raise fail(f"array {key!r} must be a float array (K, d, P) = ({K}, d, {P}) with d >= 1, "
                           f"got shape {a.shape} dtype {a.dtype}")
            if not np.isfinite(a).all():
                raise fail(f"array {key!r} holds non-finite entries")
        if U.shape != H.shape:
            raise fail(f"arrays 'U' {U.shape} and 'H' {H.shape} must have the same shape")
        if gated and np.any(H):
            raise fail("a gated path must have H = 0")
        per_point = {}
        for key in _PER_POINT:
            a = arrays[key]
            if a.shape != (K,) or a.dtype.kind != "f":
                raise fail(f"array {key!r} must be a float array of shape ({K},), got shape {a.shape} "
                           f"dtype {a.dtype}")
            per_point[key] = a
        converged = arrays["converged"]
        if converged.shape != (K,) or converged.dtype.kind != "b":
            raise fail(f"array 'converged' must be a bool array of shape ({K},), got shape "
                       f"{converged.shape} dtype {converged.dtype}")
        rounds = arrays["rounds"]
        if rounds.shape != (K,) or rounds.dtype.kind not in "iu" or (rounds < 0).any():
            raise fail(f"array 'rounds' must be a non-negative integer array of shape ({K},), got "
                       f"shape {rounds.shape} dtype {rounds.dtype}")
        messages = arrays["messages"]
        if messages.shape != (K,) or messages.dtype.kind != "U":
            raise fail(f"array 'messages' must be a unicode array of shape ({K},), got shape "
                       f"{messages.shape} dtype {messages.dtype}")

        solutions = [
            Solution(U=U[k].copy(), H=H[k].copy(), patterns=patterns, lam=float(lams[k]), gated=gated,
                     objective=float(per_point["objectives"][k]),
                     dual_value=float(per_point["dual_values"][k]), gap=float(per_point["gaps"][k]),
                     violation=float(per_point["violations"][k]), converged=bool(converged[k]),
                     rounds=int(rounds[k]), message=str(messages[k]))
            for k in range(K)
        ]
        return cls(lams=lams, solutions=solutions, patterns=patterns, gated=gated, lam_max=top,
                   seconds=seconds)


# --------------------------------------------------------------------------------------------
# Solving


def solve_path(X: np.ndarray, y: np.ndarray, D: np.ndarray, lams: Sequence[float] | np.ndarray | None = None,
               gated: bool = False, options: SolverOptions | None = None, count: int = 20,
               ratio: float = 1e-2,
               progress: Callable[[int, float, Solution], None] | None = None,
               screening: bool = False) -> RegularizationPath:
    """Solve the C-ReLU (or gated ReLU) over ``D`` at every ``lam`` of a decreasing grid.

    Each solve is warm-started from the previous one's :meth:`Solution.warm_start`.

    Parameters
    ----------
    X : ndarray (n, d)
        Features (with the ones column when a bias is used).
    y : ndarray (n,)
        Targets.
    D : ndarray (n, P)
        0/1 activation patterns, one per column.
    lams : sequence of float, optional
        Strictly decreasing, positive and finite (certify's scaling, module docstring). Default:
        ``lam_grid(lam_max(X, y, D, gated), count, ratio)``, whose first point gives ``w = 0``.
    gated : bool, default=False
        Gated ReLU (no cone constraints).
    options : SolverOptions, optional
        Tolerances of every solve (default ``SolverOptions()``: relative gap 1e-8).
    count, ratio :
        Grid size and last-over-first ratio of the default grid (ignored when ``lams`` is given).
    progress : callable, optional
        Called as ``progress(k, lam, solution)`` after the ``k``-th solve.
    screening : bool, default=False
        Gap safe sequential screening (:mod:`certify.solve.screening`, proofs/screening.md):
        before each solve, patterns whose blocks are certified zero at every optimum (from the
        previous point's weights and rescaled residual) are left out of the program; every block
        is priced at the result and violators re-enter, so gaps and convergence are those of the
        full program. Off by default: measured, it does not pay off on the benchmarks
        (BENCHMARKS.md, "Gap safe screening"). Fractions screened: ``path.screened``.

    Returns
    -------
    RegularizationPath
        Every solve, converged or not; ``path.converged`` is False and ``path.message`` says why
        when any did not converge.

    Raises
    ------
    InputError
        Malformed ``X``, ``y``, ``D``; ``lams`` not positive, finite and strictly decreasing;
        a default grid when ``lam_max = 0`` (``w = 0`` is optimal at every ``lam``).
    SolverError
        A restricted program fails in the solver (:func:`certify.solve.working_set.solve`).
    """
    start = time.perf_counter()
    X, y, D = _check_problem(X, y, D)
    top = lam_max(X, y, D, gated=gated)
    if lams is None:
        if top == 0:
            raise InputError("lam_max = 0: no pattern of D correlates with y (for example y = 0), so "
                             "w = 0 is optimal at every lam; there is no path to compute. Pass lams "
                             "explicitly to solve anyway.")
        grid = lam_grid(top, count=count, ratio=ratio)
    else:
        grid = _check_lams(lams)
    solutions: list[Solution] = []
    warm = None
    screened: list[float] = []
    norms = operator_norm_bounds(X, D) if screening else None
    residual, penalty, faces = y, 0.0, None   # w = 0 is feasible: the first point screens too
    for k, lam in enumerate(grid):
        if screening:
            screen = sequential_screen(X, y, D, residual, penalty, float(lam), norms, faces, gated)
            sol, _ = solve_screened(X, y, float(lam), D, screen.patterns, gated=gated, options=options,
                                    warm_start=warm, faces=faces)
            screened.append(screen.fraction)
            faces = sol.faces
            if sol.converged:   # cone feasible to feas_tol; otherwise keep the last feasible point
                residual = y - (D * (X @ (sol.U - sol.H))).sum(axis=1)
                penalty = float(np.linalg.norm(sol.U, axis=0).sum() + np.linalg.norm(sol.H, axis=0).sum())
        else:
            sol = solve(X, y, float(lam), D, gated=gated, options=options, warm_start=warm)
        solutions.append(sol)
        warm = sol.warm_start()
        if progress is not None:
            progress(k, float(lam), sol)
    return RegularizationPath(lams=grid, solutions=solutions, patterns=D, gated=bool(gated), lam_max=top,
                              seconds=time.perf_counter() - start,
                              screened=np.array(screened) if screening else None)
