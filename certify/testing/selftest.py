"""``certify selftest``: the theory test kit run against the installed package.

Subjects (each checked with :func:`certify.testing.check_solver.check_solver`):

* ``certify``: the working-set solver (:func:`certify.solve.working_set.solve`), reference cvxpy;
* ``cvxpy``: the cvxpy + Clarabel reference (:mod:`certify.solve.cvxpy_reference`), reference the
  working-set solver (each is the other's independent solve);
* ``network``: the network problem for two features (every pattern enumerated, the convex optimum
  mapped to a network), reference cvxpy;
* ``prune``: C9 against :func:`certify.pruning.prune` (:func:`certify.testing.check_solver.check_pruner`);
* C15 (sensitivity: :mod:`certify.sensitivity` against finite differences of re-solves) runs for the two
  convex subjects, with fewer examples (:data:`C15_EXAMPLES`);
* the optimal-polytope claims C10-C12 and C16 run for the two convex subjects (``P_lam`` analysed by
  :func:`certify.optimal_set.analysis.optimal_set`, the min-norm point selected by
  :func:`certify.selection.select.min_norm`);
* ``planted``: both solvers on planted instances with a known exact optimum
  (:mod:`certify.testing.known`): the optimal value within the solver's accuracy, the fit and the
  single vertex of the optimal polytope.

Profiles: ``quick`` (30 examples per claim and subject; well under two minutes on a 2-core machine)
and ``thorough`` (400 examples per claim and subject).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from certify.testing.check_solver import (
    SolverReport,
    certify_network_solver,
    certify_solver,
    check_pruner,
    check_solver,
    cvxpy_solver,
)
from certify.testing.claims import CLAIMS, Accuracy

PROFILES = {"quick": 30, "thorough": 400}
"""Examples per claim and subject."""

C15_EXAMPLES = {"quick": 8, "thorough": 100}
"""Examples of C15 per subject (each re-solves four times: fewer than the other claims)."""

PLANTED_CLAIM = "planted"


@dataclass
class SelftestRow:
    """One claim: its source, examples run (all subjects) and the verdict per subject."""

    claim: str
    statement: str
    source: str
    examples: int = 0
    verdicts: dict[str, str] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        values = set(self.verdicts.values())
        if "FAILS" in values:
            return "FAILS (" + ", ".join(k for k, v in self.verdicts.items() if v == "FAILS") + ")"
        if values <= {"not applicable", "-"}:
            return "not applicable"
        return "holds"


@dataclass
class SelftestResult:
    """The table of ``certify selftest``."""

    profile: str
    subjects: list[str]
    rows: list[SelftestRow]
    seconds: float
    reports: list[SolverReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(r.verdict.startswith("FAILS") for r in self.rows)

    def table(self) -> str:
        """Plain-text table: claim, source, examples run, verdict (and the verdict per subject)."""
        head = ("claim", "source", "examples", "verdict", *self.subjects)
        rows = [head] + [(r.claim, r.source, str(r.examples), r.verdict,
                          *(r.verdicts.get(s, "-") for s in self.subjects)) for r in self.rows]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def summary(self) -> str:
        state = "all claims hold" if self.ok else "SOME CLAIMS FAIL"
        return (f"certify selftest ({self.profile}): {state}; {sum(r.examples for r in self.rows)} examples "
                f"in {self.seconds:.1f} s")

    def to_context(self) -> dict:
        """Plain data for the report templates."""
        return {"profile": self.profile, "subjects": list(self.subjects), "ok": self.ok,
                "summary": self.summary(),
                "rows": [{"claim": r.claim, "statement": r.statement, "source": r.source,
                          "examples": r.examples, "verdict": r.verdict,
                          "verdicts": [r.verdicts.get(s, "-") for s in self.subjects],
                          "details": list(r.details)} for r in self.rows]}


def planted_checks(count: int, accuracy: Accuracy | None = None) -> tuple[int, list[str]]:
    """Both solvers on ``count`` planted instances: returns (examples, failure descriptions)."""
    from fractions import Fraction

    from certify.testing.known import planted_separable

    acc = accuracy or Accuracy()
    rng = np.random.default_rng(2023)
    failures: list[str] = []
    solvers = {"certify": certify_solver(), "cvxpy": cvxpy_solver()}
    for i in range(count):
        n = int(rng.integers(1, 7))
        x = [float(v) / 4 for v in rng.integers(-8, 9, n)]
        y = [float(v) / 4 for v in rng.integers(-8, 9, n)]
        lam = Fraction(int(rng.integers(1, 9)), 8)
        planted = planted_separable(x, lam=lam, y=y)
        inst = planted.instance
        exact = planted.candidate()
        for name, fn in solvers.items():
            from certify.testing.instance import Candidate

            cand = Candidate.of(fn(inst.X, inst.y, inst.lam, inst.D), inst)
            m = cand.measures(inst)
            p_true = float(planted.objective)
            tol = acc.eps(p_true)
            fit_err = float(np.linalg.norm(m.fit - np.array([float(v) for v in planted.fit])))
            w_err = float(np.abs(np.hstack([cand.U - exact.U, cand.H - exact.H])).max(initial=0.0))
            if not (abs(m.objective - p_true) <= tol and fit_err <= 2 * np.sqrt(2 * tol)
                    and w_err <= 2 * np.sqrt(2 * tol) * (1 + 1 / max(float(np.linalg.norm(inst.X)), 1e-300))):
                failures.append(f"{name} on planted instance {i} (x={x}, y={y}, lam={lam}): objective "
                                f"{m.objective!r} vs exact {planted.objective} ({p_true!r}), fit error "
                                f"{fit_err:.3g}, weight error {w_err:.3g}, tolerance {tol:.3g}")
    return count * len(solvers), failures


def run_selftest(profile: str = "quick", verbose: bool = False) -> SelftestResult:
    """Run the kit against the installed package.

    Parameters
    ----------
    profile : {"quick", "thorough"}
        Examples per claim and subject (:data:`PROFILES`).
    verbose : bool
        Print each subject's report as it finishes.

    Returns
    -------
    SelftestResult
    """
    if profile not in PROFILES:
        from certify.errors import InputError

        raise InputError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    examples = PROFILES[profile]
    start = time.perf_counter()
    subjects = {
        "certify": dict(fn=certify_solver(), kind="convex", reference=None),
        "cvxpy": dict(fn=cvxpy_solver(), kind="convex", reference=certify_solver()),
        "network": dict(fn=certify_network_solver(), kind="network", reference=None),
    }
    rows = {cid: SelftestRow(cid, spec.statement, spec.source) for cid, spec in CLAIMS.items()}
    reports = []
    for name, cfg in subjects.items():
        with warnings.catch_warnings():  # cvxpy's "Solution may be inaccurate": the claims judge accuracy
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            rep = check_solver(cfg["fn"], kind=cfg["kind"], reference=cfg["reference"], max_examples=examples,
                               name=name, verbose=verbose, claim_examples={"C15": C15_EXAMPLES[profile]})
        reports.append(rep)
        for res in rep.results:
            row = rows[res.claim]
            row.examples += res.examples
            row.verdicts[name] = res.status
            if not res.holds and res.verdict is not None:
                row.details.append(f"{name}: {res.verdict}")
    pruning = check_pruner(max_examples=examples, verbose=verbose)
    rows["C9"].examples += pruning.examples
    rows["C9"].verdicts["prune"] = pruning.status
    if not pruning.holds and pruning.verdict is not None:
        rows["C9"].details.append(f"prune: {pruning.verdict}")
    planted = SelftestRow(PLANTED_CLAIM, "both solvers reproduce a known exact optimum (the polytope's "
                          "single vertex)", "certify.testing.known (separable planted instances)")
    count, failures = planted_checks(examples)
    planted.examples = count
    planted.verdicts = {"certify": "FAILS" if any(f.startswith("certify") for f in failures) else "holds",
                        "cvxpy": "FAILS" if any(f.startswith("cvxpy") for f in failures) else "holds"}
    planted.details = failures[:5]
    ordered = list(rows.values()) + [planted]
    return SelftestResult(profile, [*subjects, "prune"], ordered, time.perf_counter() - start, reports)
