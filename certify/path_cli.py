"""``certify path`` and the data-certificate branch of ``certify check`` (no --model).

Kept apart from :mod:`certify.cli` so that the shared parser only registers the command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from certify.errors import InputError

DESCRIPTION = (
    "Certify a regularization path over a whole lam interval: solve the convex program over one "
    "pattern scope (--patterns, seeded Gaussian gates, or --global: every cell of the data's hyperplane "
    "arrangement) on a grid of lam (warm starts), certify an "
    "exact dual lower bound at every grid point, and refine the grid where the band is wider than eps. "
    "The certificate claims: for EVERY lam in [lam-min, lam-max], the grid network named for lam's "
    "segment is within eps of the optimum of the convex program over that scope (eps_path), and the zero "
    "network is optimal over the scope for every lam above a certified threshold (zero_optimal_above). "
    "With --patterns or --gates the scope is that given pattern set, not all patterns. With --global it is "
    "ALL activation patterns (the cells are enumerated, within --max-cells, and the checker verifies that "
    "the list is complete): then p* is the optimum over all networks of any width, and the threshold "
    "bounds lam_max over all patterns. Check with `certify check CERT --data D` (no --model: the networks "
    "are embedded).")


DEFAULT_GATES = 50
"""Gates of the default scope (seeded Gaussian gates) when neither --patterns nor --global is given."""


def add_path_parser(sub, epilog: str) -> None:
    """Register ``certify path`` on the sub-parsers ``sub``."""
    p = sub.add_parser("path", help="certified eps-path over a lam interval (one pattern scope)",
                       description=DESCRIPTION, epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, metavar="FILE", help="data set (.npz with X, y, or .csv)")
    p.add_argument("--target-column", type=int, default=-1, metavar="J", help="CSV only: target column")
    p.add_argument("--lam-min", required=True, metavar="A", help="lower end of the interval, > 0 (exact)")
    p.add_argument("--lam-max", required=True, metavar="B", help="upper end of the interval, > A (exact)")
    p.add_argument("--convention", choices=["certify", "mean", "mse"], default="certify",
                   help="scaling of --lam-min/--lam-max (see verify --help)")
    p.add_argument("--eps", required=True, metavar="E",
                   help="tolerance, > 0 (exact): NC - p* <= E, or with --relative NC - p* <= E p*")
    p.add_argument("--relative", action="store_true", help="eps is relative to p* (default: absolute)")
    p.add_argument("--bias", action="store_true", help="first-layer bias (regularized ones column)")
    p.add_argument("--patterns", metavar="FILE", default=None,
                   help="the pattern scope: .npz with D (n, P) or gates G (d, P) (d counts the bias "
                        "column with --bias); default: --gates seeded Gaussian gates")
    p.add_argument("--gates", type=int, default=None, metavar="P",
                   help=f"number of seeded Gaussian gates when neither --patterns nor --global is given "
                        f"(default {DEFAULT_GATES})")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of the gates (default 0; only with the gate scope)")
    p.add_argument("--global", dest="global_scope", action="store_true",
                   help="scope = all activation patterns: every cell of the data's hyperplane arrangement "
                        "(exit 3 when it may have more than --max-cells cells); not with --patterns")
    p.add_argument("--max-cells", type=int, default=None, metavar="N",
                   help="--global only: budget of cells (default 5000; the estimate 2 sum_(k<r) C(h-1, k) "
                        "is compared with it before any work)")
    p.add_argument("--initial", type=int, default=3, metavar="K",
                   help="points of the starting geometric grid, endpoints included (default 3)")
    p.add_argument("--max-points", type=int, default=400, metavar="N",
                   help="budget: exit 3 if the grid needs more points (default 400)")
    p.add_argument("--gap-tol", type=float, default=1e-10, metavar="T",
                   help="relative duality-gap tolerance of every solve (default 1e-10)")
    p.add_argument("--compare-uniform", action="store_true",
                   help="also find the smallest geometric (log-uniform) grid reaching eps and print both "
                        "counts (slow: solves several uniform grids)")
    p.add_argument("-o", "--output", required=True, metavar="CERT", help="certificate file to write (JSON)")
    p.add_argument("--patterns-out", metavar="FILE", default=None,
                   help="write the scope's pattern set (.npz with D) for `certify check --patterns` "
                        "(with --global: the cells' patterns; a global certificate is checked without "
                        "--patterns)")
    p.add_argument("--report", metavar="FILE", default=None,
                   help="also write a report: .html or .md (plots beside a .md in <name>_files/): sections "
                        "'Certified band', and with --diagnostics 'Active-set changes' and 'Width against "
                        "lam'")
    p.add_argument("--diagnostics", action="store_true",
                   help="print numerical path diagnostics (not certified): support and minimal-width "
                        "changes, p-uniqueness intervals, C13 checks; also plotted in the --report. "
                        "Costs about as much again as the path (one optimal-set analysis per point)")
    p.add_argument("--quiet", action="store_true", help="print only errors")


def _scope_matrix(args: argparse.Namespace, problem) -> np.ndarray:
    from certify.exact.patterns import decode
    from certify.io.patterns import load_patterns, validate_patterns
    from certify.patterns.sources import gate_patterns
    from certify.verify import given_pattern_strings

    if args.patterns:
        pat = validate_patterns(load_patterns(args.patterns), problem.n, problem.features.shape[1])
        strings = list(dict.fromkeys(given_pattern_strings(problem, pat)))
        return np.array([decode(p, problem.n) for p in strings], dtype=np.uint8).T
    gates = DEFAULT_GATES if args.gates is None else args.gates
    if gates < 1:
        raise InputError(f"--gates must be at least 1, got {gates}")
    return gate_patterns(problem.features, gates, 0 if args.seed is None else args.seed)


def cmd_path(args: argparse.Namespace) -> int:
    """``certify path``: write a data certificate with an eps_path claim."""
    from certify.certificates.certificate import to_json
    from certify.certified_path import certify_path, uniform_points_needed
    from certify.exact.rational import approx
    from certify.io.data import load_data
    from certify.problem import Problem, convert_lambda
    from certify.solve.working_set import SolverOptions

    if args.global_scope and args.patterns:
        raise InputError("--global and --patterns exclude each other: the scope is either all activation "
                         "patterns or the given pattern set")
    if (args.global_scope or args.patterns) and (args.gates is not None or args.seed is not None):
        raise InputError("--gates and --seed choose the seeded gate scope; they do not apply with "
                         f"{'--global' if args.global_scope else '--patterns'}")
    if args.max_cells is not None and not args.global_scope:
        raise InputError("--max-cells is the cell budget of --global; pass --global or leave it out")
    if args.report:
        from certify.report.sections import report_format

        report_format(args.report)  # a bad extension fails before any work
    X, y = load_data(args.data, target_column=args.target_column)
    a = convert_lambda(args.lam_min, args.convention, X.shape[0])
    b = convert_lambda(args.lam_max, args.convention, X.shape[0])
    problem = Problem(X, y, b, bias=args.bias)
    options = SolverOptions(gap_tol=args.gap_tol)

    def progress(stage: str, done: int, total: int) -> None:
        if not args.quiet and (done == total or done % 10 == 0):
            print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)

    if args.global_scope:
        from certify.global_path import DEFAULT_MAX_CELLS, certify_global_path

        result, cells = certify_global_path(
            problem.X, problem.y, a, b, args.eps, relative=args.relative, bias=args.bias, options=options,
            initial=args.initial, max_points=args.max_points,
            max_cells=DEFAULT_MAX_CELLS if args.max_cells is None else args.max_cells, progress=progress)
        D, scope_line = cells.D, cells.describe()
    else:
        D = _scope_matrix(args, problem)
        result = certify_path(problem.X, problem.y, D, a, b, args.eps, relative=args.relative, bias=args.bias,
                              options=options, initial=args.initial, max_points=args.max_points,
                              progress=progress)
        scope_line = f"{D.shape[1]} patterns"
    Path(args.output).write_text(to_json(result.document), encoding="ascii")
    if args.patterns_out:
        np.savez(args.patterns_out, D=D)
    report = diagnostics = None
    if args.diagnostics:
        from certify.path_diagnostics import diagnose_certified_path

        diagnostics = diagnose_certified_path(result, problem.X, problem.y, D, bias=args.bias)
    if args.report:
        from certify.check.path import check_data_certificate
        from certify.report.path import write_path_report

        report = check_data_certificate(result.document, problem.X.tolist(), problem.y.tolist())
        write_path_report(args.report, result, report, diagnostics)
    if not args.quiet:
        kind = "relative" if args.relative else "absolute"
        print(f"certified eps-path over [{approx(a)}, {approx(b)}], eps = {approx(result.eps)} ({kind}), "
              f"{scope_line}")
        print(f"adaptive grid: {result.points} points ({result.solves} solves, {result.rounds} rounds, "
              f"{result.seconds['total']:.1f} s)")
        print(f"zero network optimal over the scope for every lam >= {approx(result.threshold)}"
              + (" (among all networks of any width: lam_max over all patterns is at most this)"
                 if args.global_scope else ""))
        print(f"certificate written to {args.output}" + (f"; report to {args.report}" if args.report else ""))
        if args.diagnostics:
            print("\n".join(diagnostics.summary_lines()))
    if args.compare_uniform:  # printed even with --quiet: it was asked for
        K = uniform_points_needed(problem.X, problem.y, D, a, b, args.eps, args.relative, args.bias, options,
                                  max_points=max(args.max_points, 4 * result.points), start=result.points,
                                  progress=progress)
        print(f"grid points for eps: adaptive {result.points}, uniform (geometric) grid reaching the same "
              f"eps: {K} points")
    return 0


def data_check(args: argparse.Namespace, text: bytes, limits):
    """The report of a data certificate, or None when the certificate names a network.

    Raises InputError when the certificate names a network and ``--model`` was not given.
    """
    from certify.check.checker import parse_document
    from certify.check.path import check_data_certificate, is_data_certificate
    from certify.check.verdict import Reject

    try:
        doc = parse_document(text, limits)
    except Reject:
        doc = None
    if doc is None or not is_data_certificate(doc):
        if getattr(args, "model", None) is None:
            raise InputError("--model is required: this certificate is about a network (its inputs name "
                             "network_sha256); only data certificates (certify path) embed their networks")
        return None
    from certify.io.data import load_data

    if getattr(args, "model", None) is not None and not getattr(args, "quiet", False):
        print("note: --model is not used: this data certificate embeds its networks", file=sys.stderr)
    X, y = load_data(args.data, target_column=args.target_column)
    digest = None
    if args.patterns:
        digest = _data_pattern_digest(args, X, y, bool(doc["inputs"].get("bias") is True))
    return check_data_certificate(doc, X.tolist(), y.tolist(), digest, limits=limits)


def _data_pattern_digest(args, X, y, bias: bool) -> str:
    from certify.exact.digest import patterns_digest
    from certify.io.patterns import load_patterns, validate_patterns
    from certify.problem import Problem
    from certify.verify import given_pattern_strings

    problem = Problem(X, y, 1, bias=bias)
    pat = validate_patterns(load_patterns(args.patterns), problem.n, problem.features.shape[1])
    return patterns_digest(problem.n, list(dict.fromkeys(given_pattern_strings(problem, pat))))
