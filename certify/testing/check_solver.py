"""``check_solver``: run the claims of theory.md §8 against a third-party solver, with shrinking.

A solver is a callable with one of two documented signatures:

* ``kind="convex"``: ``fn(X, y, lam, D) -> (U, H)`` solves the C-ReLU over the patterns ``D``
  (theory.md §2): ``X`` (n, d) features (the ones column included when the instance has a bias),
  ``y`` (n,), ``lam`` in the solver's declared scaling, ``D`` (n, P) 0/1 patterns; it returns
  ``U``, ``H`` of shape (d, P) (``h_p`` enters the fit with a minus sign), or any object with
  attributes ``U`` and ``H``; an object with a ``patterns`` attribute (n, P') different from ``D``
  says it solved over those patterns instead (scnn drops and reorders patterns), and the claims
  are then checked over them.
* ``kind="network"``: ``fn(X, y, lam) -> (W1, w2)`` returns a global minimizer of NC (any width):
  ``W1`` (d, m), ``w2`` (m,), or an object with ``W1`` and ``w2`` (a :class:`certify.network.Network`).
  Instances then have two features (``d = 2``, or one feature and the bias column), so that
  every activation pattern is enumerated and the global optimum is known.

``convention`` declares the scaling of ``lam`` the solver expects: ``"certify"`` (``1/2`` sum of
squares; theory.md §1), ``"mean"`` (``1/(2n)``; scnn: its ``lam`` is ours divided by ``n``) or
``"mse"`` (``1/n``: ours divided by ``n/2``). A solver that rescales its loss without declaring it
solves at the wrong ``lam`` and fails C1-C4.

For each applicable claim, hypothesis searches the instances of
:func:`certify.testing.strategies.instances` for one on which the claim fails, and shrinks it to
a minimal counterexample (few points, few features, small integers). The result lists every
claim with the number of examples run and, for a failing claim, the minimal instance, the
numbers that break the claim and the tolerance used.

Reference solutions (C1 and C8 compare with an independent solve): cvxpy + Clarabel by default
(:func:`cvxpy_solver`); pass ``reference=certify_solver()`` to test cvxpy itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from certify.convex.mapping import blocks_to_network, network_to_blocks
from certify.errors import InputError
from certify.testing.claims import CLAIMS, Accuracy, Verdict
from certify.testing.instance import Candidate, Instance
from certify.testing.strategies import instances

__all__ = ["ClaimResult", "SolverReport", "certify_network_solver", "certify_solver", "check_pruner",
           "check_solver", "cvxpy_solver", "scnn_lambda", "scnn_solver", "solver_lambda"]

KINDS = ("convex", "network")
CONVEX_CLAIMS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C10", "C11", "C12", "C13", "C14", "C15",
                 "C16")
NETWORK_CLAIMS = ("C1", "C2", "C3", "C4", "C7", "C8", "C13", "C14")
_SCALE = {"certify": None, "mean": Fraction(1), "mse": Fraction(1, 2)}


# --- scaling --------------------------------------------------------------------------------------


def solver_lambda(lam: float, convention: str, n: int) -> float:
    """certify's ``lam`` converted to a solver's convention (the inverse of
    :func:`certify.problem.convert_lambda`): ``"certify"`` unchanged, ``"mean"`` ``lam / n``,
    ``"mse"`` ``2 lam / n``."""
    if convention not in _SCALE:
        raise InputError(f"convention must be one of {sorted(_SCALE)}, got {convention!r}")
    factor = _SCALE[convention]
    return lam if factor is None else lam / (float(factor) * n)


def scnn_lambda(lam: float, n: int) -> float:
    """scnn's ``lam`` for certify's ``lam`` on ``n`` points: scnn divides the loss by ``2n``
    (``1/(2n) ||f - y||^2 + lam_scnn sum ||w||``; multiplied by ``n`` this is certify's objective at
    ``n lam_scnn``), so ``lam_scnn = lam / n``."""
    return solver_lambda(lam, "mean", n)


# --- adapters -------------------------------------------------------------------------------------


def cvxpy_solver(tol: float = 1e-10) -> Callable:
    """The built-in cvxpy + Clarabel reference (``kind="convex"``, ``convention="certify"``)."""
    from certify.solve.cvxpy_reference import solve_crelu

    def solve(X, y, lam, D):
        return solve_crelu(X, y, lam, D, tol=tol)

    solve.__name__ = "cvxpy+Clarabel"
    return solve


def certify_solver(gap_tol: float = 1e-9) -> Callable:
    """certify's working-set solver (``kind="convex"``, ``convention="certify"``)."""
    from certify.solve.working_set import SolverOptions
    from certify.solve.working_set import solve as ws_solve

    opts = SolverOptions(gap_tol=gap_tol)

    def solve(X, y, lam, D):
        return ws_solve(X, y, lam, D, options=opts)

    solve.__name__ = "certify working set"
    return solve


def certify_network_solver(convex: Callable | None = None) -> Callable:
    """A solver of the network problem for two features (``kind="network"``): the convex program
    over every pattern (:func:`certify.patterns.sampling.enumerate_planar`), mapped to a balanced
    network (theory.md §2; global by C8)."""
    from certify.patterns.sampling import enumerate_planar

    inner = convex or certify_solver()

    def solve(X, y, lam):
        D = enumerate_planar(X)
        sol = Candidate.of(inner(X, y, lam, D), Instance(X, y, lam, D))
        W = np.hstack([sol.U, sol.H])
        signs = np.concatenate([np.ones(D.shape[1]), -np.ones(D.shape[1])])
        return blocks_to_network(W, signs)

    solve.__name__ = "certify network (all patterns)"
    return solve


@dataclass(frozen=True)
class ScnnResult:
    """scnn's answer in certify's layout: ``U``, ``H`` (d, P') over the patterns it used."""

    U: np.ndarray
    H: np.ndarray
    patterns: np.ndarray


def gates_for(X: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gates ``g_p`` with ``1[X g_p > 0] = D_p`` (scnn's strict patterns), one LP each (HiGHS):
    maximize ``t`` subject to ``(2 D_p - 1)_k x_k^T g >= t``, ``|g| <= 1``. Patterns whose cone has an
    empty interior cannot be realized strictly and are dropped. Returns ``(G (d, P'), kept columns)``."""
    from scipy.optimize import linprog

    n, d = X.shape
    gates, kept = [], []
    for p in range(D.shape[1]):
        E = (2.0 * D[:, p] - 1.0)[:, None] * X
        live = np.abs(X).sum(axis=1) > 0
        A = np.hstack([-E[live], np.ones((int(live.sum()), 1))])
        res = linprog(np.r_[np.zeros(d), -1.0], A_ub=A, b_ub=np.zeros(int(live.sum())),
                      bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
        if res.status == 0 and -res.fun > 1e-9 and np.array_equal((X @ res.x[:d] > 0).astype(np.uint8)[live],
                                                                   D[live, p]):
            if np.all(D[~live, p] == 0):
                gates.append(res.x[:d])
                kept.append(p)
    return (np.array(gates).T if gates else np.zeros((d, 0))), np.array(kept, int)


def scnn_solver(**options) -> Callable:
    """Adapter for scnn (PyPI ``pyscnn``): its convex ReLU model solved by its AL solver
    (``kind="convex"``, ``convention="mean"``: pass it to :func:`check_solver` with
    ``convention="mean"``; scnn's ``lam`` is certify's divided by ``n``).

    scnn builds its patterns from gates with a strict inequality, ``1[X g > 0]``, and drops
    duplicate and empty patterns; the adapter finds gates realizing ``D`` (:func:`gates_for`) and
    returns :class:`ScnnResult` with the patterns scnn used, over which the claims are checked.
    ``unitize_data=False`` keeps the data as given. Requires ``import scnn`` to work.
    """
    from scnn.metrics import Metrics
    from scnn.models import ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL

    def solve(X, y, lam, D):
        G, _ = gates_for(X, D)
        if G.shape[1] == 0:
            d = X.shape[1]
            return ScnnResult(np.zeros((d, 1)), np.zeros((d, 1)), np.zeros((X.shape[0], 1), np.uint8))
        model = ConvexReLU(G, c=1)
        model, _ = optimize_model(model, AL(model), Metrics(), X, y, regularizer=NeuronGL1(lam),
                                  return_convex=True, unitize_data=False, dtype="float64", **options)
        Ds = (X @ model.G > 0).astype(np.uint8)
        return ScnnResult(np.asarray(model.parameters[0][0]).T, np.asarray(model.parameters[1][0]).T, Ds)

    solve.__name__ = "scnn (AL)"
    return solve


# --- running the claims ----------------------------------------------------------------------------


@dataclass
class ClaimResult:
    """One claim's outcome over the examples hypothesis ran.

    Attributes
    ----------
    claim, statement, source : str
    examples : int
        Instances the claim was evaluated on (including shrinking steps).
    applicable : int
        Of those, the ones where its hypotheses held.
    holds : bool
        No counterexample was found.
    counterexample : Instance or None
        The minimal (shrunk) instance on which the claim fails.
    verdict : Verdict or None
        The failing verdict on the counterexample: the numbers that break the claim and the tolerance.
    """

    claim: str
    statement: str
    source: str
    examples: int = 0
    applicable: int = 0
    holds: bool = True
    counterexample: Instance | None = None
    verdict: Verdict | None = None

    @property
    def status(self) -> str:
        if not self.holds:
            return "FAILS"
        return "holds" if self.applicable else "not applicable"


@dataclass
class SolverReport:
    """Result of :func:`check_solver`: one :class:`ClaimResult` per claim, in order."""

    solver: str
    kind: str
    convention: str
    results: list[ClaimResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every claim holds on every example."""
        return all(r.holds for r in self.results)

    def failing(self) -> list[str]:
        return [r.claim for r in self.results if not r.holds]

    def table(self) -> str:
        """A plain-text table: claim, source, examples run, verdict."""
        rows = [("claim", "source", "examples", "verdict")]
        for r in self.results:
            rows.append((r.claim, r.source, f"{r.examples} ({r.applicable} applicable)", r.status))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __str__(self) -> str:
        head = (f"check_solver: {self.solver} (kind={self.kind}, convention={self.convention}): "
                + ("all applicable claims hold" if self.ok else f"{len(self.failing())} claim(s) FAIL: "
                   + ", ".join(self.failing())) + f" [{self.seconds:.1f} s]")
        parts = [head, self.table()]
        for r in self.results:
            if not r.holds:
                parts.append(f"\n{r.claim} fails ({r.statement}; {r.source}) on the minimal counterexample\n"
                             f"{r.counterexample.describe() if r.counterexample else '?'}\n  {r.verdict}")
        return "\n".join(parts)


class _Runner:
    """Calls the solver and the reference once per (instance, lam) and evaluates claims."""

    def __init__(self, fn: Callable, kind: str, convention: str, reference: Callable, accuracy: Accuracy,
                 reference_accuracy: Accuracy) -> None:
        self.fn, self.kind, self.convention = fn, kind, convention
        self.reference, self.acc, self.ref_acc = reference, accuracy, reference_accuracy
        self.cache: dict = {}
        self.polytope_options: dict = {}  # analysis= / selector= under test for C10-C12, C16

    # solutions --------------------------------------------------------------------------------
    def solution(self, inst: Instance) -> tuple[Instance, Candidate, tuple[np.ndarray, np.ndarray] | None]:
        key = ("sol", inst.key())
        if key not in self.cache:
            self.cache[key] = self._solve(inst)
        return self.cache[key]

    def _solve(self, inst: Instance):
        lam = solver_lambda(inst.lam, self.convention, inst.n)
        if self.kind == "convex":
            out = self.fn(inst.X.copy(), inst.y.copy(), lam, inst.D.copy())
            pats = getattr(out, "patterns", None)
            if pats is not None and not np.array_equal(np.asarray(pats, np.uint8), inst.D):
                inst = inst.with_scope(np.asarray(pats, np.uint8))
            return inst, Candidate.of(out, inst), None
        out = self.fn(inst.X.copy(), inst.y.copy(), lam)
        W1, w2 = (out.W1, out.w2) if hasattr(out, "W1") else out
        W1, w2 = np.asarray(W1, np.float64), np.asarray(w2, np.float64).ravel()
        if W1.ndim != 2 or W1.shape[0] != inst.d or w2.shape != (W1.shape[1],):
            raise InputError(f"a network solver must return W1 (d, m) = ({inst.d}, m) and w2 (m,); got "
                             f"{W1.shape} and {w2.shape}.")
        scoped, cand = network_candidate(inst, W1, w2)
        return scoped, cand, (W1, w2)

    def ref(self, inst: Instance) -> Candidate:
        key = ("ref", inst.key())
        if key not in self.cache:
            out = self.reference(inst.X.copy(), inst.y.copy(), inst.lam, inst.D.copy())
            self.cache[key] = Candidate.of(out, inst)
        return self.cache[key]

    def resolver(self) -> Callable:
        """The solver in certify's scaling, for the re-solves of C15 (uncached: perturbed data)."""

        def solve(X, y, lam, D):
            return self.fn(X, y, solver_lambda(lam, self.convention, X.shape[0]), D)

        return solve

    def network(self, inst: Instance) -> tuple[Instance, tuple[np.ndarray, np.ndarray]]:
        scoped, cand, net = self.solution(inst)
        if net is None:
            W, _, signs = cand.weights()
            keep = np.linalg.norm(W, axis=0) > 0
            if not keep.any():
                return scoped, (np.zeros((inst.d, 1)), np.zeros(1))
            mapped = blocks_to_network(W[:, keep], signs[keep])
            net = (mapped.W1, mapped.w2)
        return scoped, net

    # claims -----------------------------------------------------------------------------------
    def verdict(self, claim: str, inst: Instance) -> Verdict:
        try:
            return self._verdict(claim, inst)
        except Exception as exc:  # a solver that raises on a valid instance fails the claim
            return Verdict(claim, False, f"the solver raised {type(exc).__name__}: {exc}")

    def _verdict(self, claim: str, inst: Instance) -> Verdict:
        spec = CLAIMS[claim]
        scoped, cand, _ = self.solution(inst)
        if claim == "C1":
            return spec.check(scoped, cand, self.ref(scoped), self.acc)
        if claim in ("C10", "C11", "C12", "C16"):
            opts = {k: v for k, v in self.polytope_options.items() if v is not None
                    and (k != "selector" or claim == "C16")}
            return spec.check(scoped, cand, self.acc, **opts)
        if claim in ("C2", "C3", "C4", "C5", "C6"):
            return spec.check(scoped, cand, self.acc)
        if claim == "C15":
            if not np.array_equal(scoped.D, inst.D):
                return Verdict(claim, True, "the solver used its own patterns (re-solves would change them)",
                               applicable=False)
            return spec.check(scoped, cand, self.resolver(), self.acc)
        if claim == "C7":
            s, (W1, w2) = self.network(inst)
            return spec.check(s, W1, w2, self.acc)
        if claim == "C8":
            s, (W1, w2) = self.network(inst)
            return spec.check(s, W1, w2, self.ref(s), self.acc)
        # path claims: the solver at lam2 on the same scope
        upper, cand2, _ = self.solution(inst.at(inst.lam2))
        if not np.array_equal(upper.D, scoped.D):
            return Verdict(claim, True, "the solver used different patterns at lam and lam2",
                           applicable=False)
        return spec.check(scoped, cand, cand2, self.acc)


def network_candidate(inst: Instance, W1: np.ndarray, w2: np.ndarray) -> tuple[Instance, Candidate]:
    """A network as convex blocks (theory.md §2, network -> convex) over the instance's scope plus
    the network's own patterns (a pattern of a neuron on a data hyperplane need not be a cell's)."""
    blocks = network_to_blocks(inst.X, W1, w2)
    D = inst.D
    index = {D[:, p].tobytes(): p for p in range(D.shape[1])}
    extra = []
    for b in range(blocks.count):
        key = blocks.patterns[:, b].tobytes()
        if key not in index:
            index[key] = D.shape[1] + len(extra)
            extra.append(blocks.patterns[:, b])
    if extra:
        D = np.hstack([D, np.array(extra, np.uint8).T])
        inst = Instance(inst.X, inst.y, inst.lam, D, inst.lam2, inst.bias, inst.complete, None, inst.label)
    U, H = np.zeros((inst.d, inst.P)), np.zeros((inst.d, inst.P))
    for b in range(blocks.count):
        p = index[blocks.patterns[:, b].tobytes()]
        (U if blocks.signs[b] > 0 else H)[:, p] += blocks.weights[:, b]
    return inst, Candidate(U, H)


@st.composite
def _pruning_cases(draw: st.DrawFn, max_n: int) -> tuple[Instance, np.ndarray, np.ndarray]:
    from fractions import Fraction as Frac

    from certify.testing.strategies import data_sets, networks

    X, y = draw(data_sets(n=st.integers(1, max_n), bias=st.booleans()))
    W1, w2 = draw(networks(X, balanced=False))
    lam = float(draw(st.sampled_from([Frac(1, 8), Frac(1, 2), Frac(2)])))
    return Instance(X, y, lam, np.ones((X.shape[0], 1), np.uint8), label="pruning case"), W1, w2


def check_pruner(pruner: Callable | None = None, max_examples: int = 30, max_n: int = 6,
                 verbose: bool = True) -> ClaimResult:
    """Run C9 (Algorithm 1, theory.md §5) against a pruner, shrinking a failure.

    Parameters
    ----------
    pruner : callable, optional
        ``pruner(problem, network) -> result`` with ``result.exact`` holding ``kept``, ``W1``
        (``d x len(kept)``, Fractions), ``w2``, ``steps`` and ``refused`` as
        :class:`certify.pruning.exact.ExactPruning`; default :func:`certify.pruning.prune`.
    max_examples, max_n : int
        Examples tried; largest number of data points. Networks come from
        :func:`certify.testing.strategies.networks` (unbalanced, so duplicated and split neurons stay
        exactly dependent).
    verbose : bool
        Print the outcome (and the minimal counterexample of a failure).

    Returns
    -------
    ClaimResult
    """
    spec = CLAIMS["C9"]
    result = ClaimResult("C9", spec.statement, spec.source)

    def verdict(case) -> Verdict:
        inst, W1, w2 = case
        try:
            return spec.check(inst, W1, w2, pruner=pruner)
        except Exception as exc:  # a pruner that raises on a valid network fails the claim
            return Verdict("C9", False, f"the pruner raised {type(exc).__name__}: {exc}")

    def fails(case) -> bool:
        result.examples += 1
        result.applicable += 1
        return not verdict(case).holds

    try:
        minimal = find(_pruning_cases(max_n), fails, settings=settings(
            max_examples=max_examples, database=None, deadline=None, derandomize=True,
            suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        pass
    else:
        result.holds = False
        result.counterexample = minimal[0]
        result.verdict = verdict(minimal)
        if verbose:
            print(f"C9 fails on\n{minimal[0].describe()}\n  W1={minimal[1].tolist()!r}, "
                  f"w2={minimal[2].tolist()!r}\n  {result.verdict}")
    if verbose and result.holds:
        print(f"C9 holds on {result.examples} examples")
    return result


def check_solver(fn: Callable, kind: str = "convex", convention: str = "certify",
                 claims: Sequence[str] | None = None, max_examples: int = 30, max_n: int = 6,
                 accuracy: Accuracy | None = None, reference: Callable | None = None,
                 name: str | None = None, verbose: bool = True, analysis: Callable | None = None,
                 selector: Callable | None = None, claim_examples: dict[str, int] | None = None
                 ) -> SolverReport:
    """Run the claims of theory.md §8 that apply to a solver, shrinking every failure.

    Parameters
    ----------
    fn : callable
        The solver; signature by ``kind`` (module docstring).
    kind : {"convex", "network"}
        ``"convex"``: ``fn(X, y, lam, D) -> (U, H)``; ``"network"``: ``fn(X, y, lam) -> (W1, w2)``.
    convention : {"certify", "mean", "mse"}
        The scaling of ``lam`` the solver expects (converted by :func:`solver_lambda`).
    claims : sequence of str, optional
        Claims to run (default: every claim of :data:`certify.testing.claims.CLAIMS` that applies
        to ``kind``: C6 is about the convex -> network map, C10-C12, C16 about the optimal polytope
        ``P_lam`` of the solver's own scope (analysed from its solution), and C15 re-runs the solver on
        perturbed ``lam`` and ``y`` (four re-solves per example): convex solvers only).
    max_examples : int, default=30
        Examples hypothesis tries per claim (shrinking steps come on top). Solutions are cached,
        and the search is derandomized, so claims share most solver calls.
    max_n : int, default=6
        Largest number of data points.
    accuracy : Accuracy, optional
        The accuracy solutions are tested at (default ``Accuracy()``: ``rtol = 1e-6``).
    reference : callable, optional
        Independent convex solver for C1 and C8 (default :func:`cvxpy_solver`), in certify's scaling.
    name : str, optional
        Solver name for the report (default: ``fn.__name__``).
    verbose : bool, default=True
        Print the report (table, and each failing claim with its minimal counterexample).
    analysis : callable, optional
        The optimal-set analysis C10-C12 and C16 use (signature of
        :func:`certify.optimal_set.analysis.optimal_set`; default that function): pass another to test it.
    selector : callable, optional
        ``selector(M, fit) -> alpha``, the minimum-norm selection C16 tests (default
        :func:`certify.testing.claims.default_min_norm`, certify's ``select.min_norm``).
    claim_examples : dict, optional
        Examples per claim overriding ``max_examples`` (e.g. ``{"C15": 10}``: C15 re-solves four times per
        example).

    Returns
    -------
    SolverReport
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    solver_lambda(1.0, convention, 1)  # validates the convention
    allowed = CONVEX_CLAIMS if kind == "convex" else NETWORK_CLAIMS
    chosen = list(claims) if claims is not None else list(allowed)
    for c in chosen:
        if c not in allowed:
            raise InputError(f"claim {c!r} does not apply to kind={kind!r} "
                             f"(applicable: {', '.join(allowed)})")
    acc = accuracy or Accuracy()
    runner = _Runner(fn, kind, convention, reference or cvxpy_solver(), acc, acc)
    runner.polytope_options = {"analysis": analysis, "selector": selector}
    strategy = instances(max_n=max_n, scope="all" if kind == "network" else None)
    report = SolverReport(name or getattr(fn, "__name__", repr(fn)), kind, convention)
    start = time.perf_counter()
    for claim in chosen:
        spec = CLAIMS[claim]
        result = ClaimResult(claim, spec.statement, spec.source)

        def fails(inst: Instance, claim: str = claim, result: ClaimResult = result) -> bool:
            v = runner.verdict(claim, inst)
            result.examples += 1
            result.applicable += int(v.applicable)
            return not v.holds

        try:
            minimal = find(strategy, fails, settings=settings(
                max_examples=(claim_examples or {}).get(claim, max_examples), database=None, deadline=None,
                derandomize=True, suppress_health_check=list(HealthCheck)))
        except NoSuchExample:
            pass
        else:
            result.holds = False
            result.counterexample = minimal
            result.verdict = runner.verdict(claim, minimal)
        report.results.append(result)
    report.seconds = time.perf_counter() - start
    if verbose:
        print(report)
    return report
