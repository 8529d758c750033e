"""Command line: ``certify verify``, ``certify check``, ``certify demo``.

Exit codes
----------
0  success (``check``: every claim accepted)
1  ``check``: at least one claim rejected; ``selftest``: a claim of the theory kit fails
2  bad input or usage: a file, shape, value or option is wrong (the message names it)
3  a budget was exceeded (e.g. too many exact ties for the own-pattern scope)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from certify import __version__
from certify.errors import BudgetError, CertifyError, InputError
from certify.exact.rational import approx, parse_rational
from certify.patterns.sources import DEFAULT_MAX_FLIPS

EXIT_OK, EXIT_REJECTED, EXIT_INPUT, EXIT_BUDGET = 0, 1, 2, 3

EPILOG = """exit codes: 0 success / all claims accepted, 1 some claim rejected (check),
2 bad input or usage, 3 budget exceeded.
Scaling: NC = 1/2 sum (f(x_k) - y_k)^2 + (lam/2) sum_j (||W1_j||^2 + w2_j^2); use
--convention to convert lam from 'mean' (1/(2n) loss, scnn) or 'mse' (PyTorch MSELoss with
weight_decay=lam)."""


def _add_inputs(p: argparse.ArgumentParser, model_required: bool = True) -> None:
    p.add_argument("--data", required=True, metavar="FILE",
                   help="data set: .npz with arrays X (n, d) and y (n,), or .csv (last column the target)")
    p.add_argument("--target-column", type=int, default=-1, metavar="J",
                   help="CSV only: index of the target column (default: last)")
    p.add_argument("--model", required=model_required, metavar="FILE",
                   help=("" if model_required else "not needed for a data certificate (certify "
                         "path), which embeds its networks; otherwise required. ")
                   + "network: .npz / .safetensors with W1 (d, m), w2 (m,), optional b1 (m,); "
                        "or a PyTorch state_dict (.pt/.pth) of Linear(d, m) -> ReLU -> Linear(m, 1)")
    p.add_argument("--format", choices=["npz", "safetensors", "torch"], default=None,
                   help="model file format (default: from the extension)")
    p.add_argument("--patterns", metavar="FILE", default=None,
                   help=".npz with a 0/1 matrix D (n, P) or gates G (d, P) (d counts the bias column "
                        "when --bias is given): verify against this pattern set instead of the "
                        "network's own patterns")


def _add_limits(p: argparse.ArgumentParser) -> None:
    from certify.check.limits import CheckLimits

    default = CheckLimits()
    g = p.add_argument_group(
        "resource limits",
        "A certificate that would exceed a limit is rejected with a reason naming the limit\n"
        "(exit 1). Raising a limit is safe: it never makes a false claim pass, it only lets the\n"
        "checker spend more time or memory. Genuine certificates stay far below the defaults\n"
        "(docs/certificate-format.md, 'Limits'). N may be written as 1e11.")
    helps = {
        "max_bytes": "size of the certificate file in bytes (default %(default)s = 64 MiB)",
        "max_depth": "nesting depth of JSON arrays and objects (default %(default)s)",
        "max_digits": "decimal digits of each integer in the certificate, p and q of 'p/q' separately "
                      "(default %(default)s)",
        "max_list": "entries of any one JSON array or object (default %(default)s)",
        "max_work": "estimated work of all claims, in units of about one machine-word operation "
                    "(default %(default)s)",
        "max_memory": "estimated bytes of the largest structure a claim makes the checker build "
                      "(default %(default)s = 2 GiB)",
    }
    for name, text in helps.items():
        g.add_argument("--" + name.replace("_", "-"), type=_positive_int, default=getattr(default, name),
                       metavar="N", dest=name, help=text)


def _positive_int(text: str) -> int:
    """A positive integer written as digits or in exponent notation (``1e11``), exactly."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value() or value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (e.g. 100000 or 1e11), got {text!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="certify", description="Exact verification and certification of two-layer ReLU networks.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"certify {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser(
        "verify", help="certify objective, stationarity and the sub-sampled optimality gap",
        description="Write a certificate (JSON) with exact claims about a trained network: its "
                    "objective NC, its stationarity measure (and a Goldstein measure that accounts "
                    "for nearby kinks), and an upper bound on NC minus the optimum of the convex "
                    "program over a pattern scope (the network's own exact activation patterns, "
                    "or --patterns). The gap is relative to that scope, NOT a global optimality "
                    "claim.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_inputs(v)
    v.add_argument("--lam", required=True, metavar="L",
                   help="regularization strength, > 0; read exactly ('0.1' is 1/10; '1/10' works too)")
    v.add_argument("--convention", choices=["certify", "mean", "mse"], default="certify",
                   help="scaling of --lam: certify (default; 1/2 sum loss, lam/2 penalty), mean "
                        "(1/(2n) sum loss: lam*n), mse (1/n sum loss: lam*n/2)")
    v.add_argument("--bias", action="store_true",
                   help="first-layer bias: append a ones column to X; the model must have b1, which "
                        "is regularized like W1")
    v.add_argument("--max-ties", type=int, default=12, metavar="T",
                   help="budget: a neuron exactly on more than T data hyperplanes makes the own "
                        "scope (2^T patterns per neuron) too large; exit 3 (default 12)")
    v.add_argument("--kink-tol", type=float, default=1e-6, metavar="TOL",
                   help="relative tolerance for near-kink diagnostics and the Goldstein measure "
                        "(default 1e-6)")
    v.add_argument("--global", dest="global_opt", action="store_true",
                   help="also certify global optimality over all networks of any width: enumerate every "
                        "activation cell when the estimate 2 sum_(k<r) C(n-1, k) is at most --max-cells "
                        "(global_gap claim), else search numerically for a better network (not_optimal "
                        "claim if found; finding none proves nothing)")
    v.add_argument("--max-cells", type=int, default=100_000, metavar="N",
                   help="budget of the cell enumeration of --global (default 100000)")
    v.add_argument("--global-time", type=float, default=None, metavar="S",
                   help="with --global: stop the cell enumeration after S seconds (or on Ctrl-C); it is "
                        "then reported as partial and the numerical search runs instead")
    v.add_argument("--improved-out", metavar="NET", default=None,
                   help="with --global: write the better network of a not_optimal claim (.npz), if any")
    v.add_argument("-o", "--output", required=True, metavar="CERT", help="certificate file to write (JSON)")
    v.add_argument("--report", metavar="FILE", default=None,
                   help="also write a report: .html or .md (plots beside a .md in <name>_files/)")
    v.add_argument("--quiet", action="store_true", help="print only errors")

    c = sub.add_parser(
        "check", help="re-check a certificate exactly, independently of the producer",
        description="Recompute every claim of a certificate from the data, the network and the "
                    "evidence in exact rational arithmetic. Prints one line per claim and a final "
                    "'ACCEPTED: k of k claims' or 'REJECTED: r of k claims'.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("certificate", metavar="CERT", help="certificate file (JSON)")
    _add_inputs(c, model_required=False)
    c.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    _add_limits(c)

    f = sub.add_parser(
        "fit", help="fit a network by convex optimization over activation patterns",
        description="Solve the convex program over a pattern set (given, or seeded Gaussian gates), "
                    "map the optimum to a balanced network and, by default, refine it until it is "
                    "optimal over every cell adjacent to its neurons (a stationary network whose "
                    "own-pattern gap is tiny). Writes the network, the final pattern set and a "
                    "certificate: own-pattern scope after refinement, the written pattern set with "
                    "--no-refine. Solver: the working-set solver (default) or the cvxpy + Clarabel "
                    "reference (--solver cvxpy; slow).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("--data", required=True, metavar="FILE", help="data set (.npz with X, y, or .csv)")
    f.add_argument("--target-column", type=int, default=-1, metavar="J", help="CSV only: target column")
    f.add_argument("--lam", required=True, metavar="L", help="regularization strength, > 0 (exact)")
    f.add_argument("--convention", choices=["certify", "mean", "mse"], default="certify",
                   help="scaling of --lam (see verify --help)")
    f.add_argument("--bias", action="store_true", help="first-layer bias (regularized ones column)")
    f.add_argument("--patterns", metavar="FILE", default=None,
                   help="start pattern set (.npz with D (n, P) or gates G (d, P)); default: --gates "
                        "seeded Gaussian gates")
    f.add_argument("--gates", type=int, default=50, metavar="P",
                   help="number of seeded Gaussian gates when --patterns is not given (default 50)")
    f.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the gates (default 0)")
    f.add_argument("--max-flips", type=int, default=DEFAULT_MAX_FLIPS, metavar="K",
                   help=f"refinement budget: a neuron with more than K near ties (default "
                        f"{DEFAULT_MAX_FLIPS}) gets only the cells across one near-tie hyperplane each "
                        "(2^K adjacent cells otherwise)")
    f.add_argument("--no-refine", action="store_true",
                   help="return the optimum of the sampled program (certificate scoped to the pattern "
                        "set written by --patterns-out)")
    f.add_argument("--solver", choices=["fast", "cvxpy"], default="fast",
                   help="convex solver: the working-set solver (default; falls back to cvxpy for a "
                        "round it cannot finish) or the cvxpy + Clarabel reference")
    f.add_argument("-o", "--output", required=True, metavar="NET", help="network file to write (.npz)")
    f.add_argument("--patterns-out", metavar="FILE", default=None,
                   help="write the final pattern set (.npz with D)")
    f.add_argument("--certificate", metavar="CERT", default=None,
                   help="certificate file to write (default: NET with .cert.json)")
    f.add_argument("--quiet", action="store_true", help="print only errors")

    o = sub.add_parser(
        "optimal-set", help="exact polytope of the network's neurons; optimal set over a scope",
        description="Enumerate exactly the vertices of {beta >= 0 : F beta = F 1}, F the network's exact "
                    "activation fits (every point keeps the fit; vertices are minimal networks), and "
                    "analyse the optimal set of the convex program over a pattern scope (the network's "
                    "own patterns or --patterns): E, S, dim P, p-uniqueness. The scope analysis is "
                    "numerical (float estimates; tolerances stated); the polytope's vertices are "
                    "exact and certified (--certificate; checked by certify check).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_inputs(o)
    o.add_argument("--lam", required=True, metavar="L", help="regularization strength, > 0 (exact)")
    o.add_argument("--convention", choices=["certify", "mean", "mse"], default="certify",
                   help="scaling of --lam (see verify --help)")
    o.add_argument("--bias", action="store_true", help="first-layer bias (regularized ones column)")
    o.add_argument("--max-vertices", type=int, default=10_000, metavar="N",
                   help="budget: refuse polytopes that may have more vertices (exit 3; default 10000)")
    o.add_argument("--max-bases", type=int, default=20_000, metavar="N",
                   help="budget of the lexicographic basis search; beyond it completeness is not "
                        "certified (default 20000)")
    o.add_argument("--max-seconds", type=float, default=None, metavar="S",
                   help="time budget of the lexicographic basis search (default: none)")
    o.add_argument("-o", "--output", required=True, metavar="SET", help="JSON file to write")
    o.add_argument("--certificate", metavar="CERT", default=None,
                   help="also write a certificate with the network_polytope_vertices claim")
    o.add_argument("--report", metavar="FILE", default=None, help="also write an HTML report")
    o.add_argument("--quiet", action="store_true", help="print only errors")

    pr = sub.add_parser(
        "prune", help="prune a network exactly to independent activations (Algorithm 1)",
        description="Remove neurons whose fit (X W1_j)_+ w2_j is a combination of the others', "
                    "rescaling the rest so that the fit stays exactly equal and NC does not increase "
                    "(Algorithm 1 in exact rational arithmetic). Writes the float copy of the pruned "
                    "network and a certificate with the claims objective, pruned and minimal (or "
                    "not_minimal) about the written network; the exact rational network is in the "
                    "pruned claim's evidence. Check it with `certify check CERT --data D --model NET`.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_inputs(pr)
    pr.add_argument("--lam", required=True, metavar="L",
                    help="regularization strength, > 0; read exactly ('0.1' is 1/10)")
    pr.add_argument("--convention", choices=["certify", "mean", "mse"], default="certify",
                    help="scaling of --lam (see verify --help)")
    pr.add_argument("--bias", action="store_true", help="first-layer bias (regularized ones column)")
    pr.add_argument("--method", choices=["auto", "fast", "exact"], default="auto",
                    help="exact: every step in rational arithmetic (exact step log); fast: float steps "
                         "and one exact final solve, accepted only if exactly valid, else exact (step "
                         "log: float estimates); auto (default): fast when n*m >= 400, else exact. "
                         "The certificate and its checks are the same")
    pr.add_argument("-o", "--output", required=True, metavar="NET", help="pruned network to write (.npz)")
    pr.add_argument("--certificate", metavar="CERT", default=None,
                    help="certificate file to write (default: NET with .cert.json)")
    pr.add_argument("--report", metavar="FILE", default=None,
                    help="also write an HTML report: the certificate's claims as checked, and training "
                         "error and objective against width when pruning past minimality (floats)")
    pr.add_argument("--quiet", action="store_true", help="print only errors")

    d = sub.add_parser("demo", help="run the full pipeline on bundled data",
                       description="Fit a network on a small bundled data set (cvxpy over every "
                                   "activation pattern), verify it, check the certificate and write "
                                   "a report.")
    d.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default demo-output)")

    s = sub.add_parser(
        "selftest", help="run the theory test kit (claims of theory.md §8) against this installation",
        description="Check the claims of theory.md §8 (certify.testing) on hypothesis-generated instances "
                    "against the working-set solver, the cvxpy reference, the network problem and "
                    "certify.pruning.prune (C9), plus planted instances with a known exact optimum. "
                    "Prints a table: claim, source, examples run, verdict. Exit 1 if a claim fails. "
                    "Float checks with stated tolerances; nothing is certified.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--profile", choices=["quick", "thorough"], default="quick",
                   help="quick (30 examples per claim and subject; default) or thorough (400)")
    s.add_argument("--report", metavar="FILE", default=None, help="also write the table as an HTML page")
    s.add_argument("--verbose", action="store_true", help="print each subject's report")

    from certify.path_cli import add_path_parser

    add_path_parser(sub, EPILOG)
    from certify.sensitivity.command import add_sensitivity_parser

    add_sensitivity_parser(sub, EPILOG, _add_inputs)
    return parser


def _progress(done: int, total: int) -> None:
    if total >= 200 and (done == total or done % max(1, total // 20) == 0):
        print(f"  bounding blocks: {done}/{total}", file=sys.stderr, flush=True)


def _stage_progress(stage: str, done: int, total: int) -> None:
    if total >= 10 and (done == total or done % max(1, total // 10) == 0):
        print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)


def _load(args: argparse.Namespace):
    from certify.io.data import load_data
    from certify.io.model import load_network

    X, y = load_data(args.data, target_column=args.target_column)
    network = load_network(args.model, format=args.format)
    return X, y, network


def _load_problem(args: argparse.Namespace):
    """``(Problem, Network)`` from ``--data``, ``--model``, ``--lam``, ``--convention``, ``--bias``,
    with the network checked against the problem (features, bias)."""
    from certify.problem import Problem, convert_lambda

    X, y, network = _load(args)
    problem = Problem(X, y, convert_lambda(args.lam, args.convention, X.shape[0]), bias=args.bias)
    network.check_features(problem.d)
    network.check_bias(problem.bias)
    return problem, network


def cmd_verify(args: argparse.Namespace) -> int:
    from certify.io.patterns import load_patterns, validate_patterns
    from certify.verify import verify

    problem, network = _load_problem(args)
    patterns = None
    if args.patterns:
        patterns = validate_patterns(load_patterns(args.patterns), problem.n, problem.features.shape[1])
    result = verify(problem, network, patterns=patterns, max_ties=args.max_ties,
                    kink_tol=args.kink_tol, progress=None if args.quiet else _progress,
                    global_opt=args.global_opt, max_cells=args.max_cells,
                    global_progress=None if args.quiet else _stage_progress, global_time=args.global_time)
    Path(args.output).write_text(result.to_json(), encoding="ascii")
    if args.improved_out:
        _write_improved(args.improved_out, network, result)
    if args.report:
        from certify.report.render import write_report

        write_report(args.report, problem, network, result)
    if not args.quiet:
        print(summary(result))
        print(f"certificate written to {args.output}" + (f"; report to {args.report}" if args.report else ""))
    return EXIT_OK


def summary(result) -> str:
    """Plain-language summary of a verification."""
    scope = ("the network's own exact activation patterns" if result.scope == "own"
             else "the given pattern set")
    relative = result.gap / result.objective if result.objective else result.gap
    lines = [
        f"objective NC = {approx(result.objective, 10)} (exact value in the certificate)",
        f"lower bound on the optimum over {scope}: {approx(result.lower_bound, 10)}",
        f"gap <= {approx(result.gap, 4)} (relative {approx(relative, 3)}); relative to that "
        "scope only, not a global optimality claim",
    ]
    ties = len(result.certificate["claims"][1]["ties"])
    if ties:
        lines.append(f"stationarity: {ties} exact tie(s); the one-sided-gradient set there has an element "
                     f"of squared norm <= {approx(result.grad_sq, 4)}")
    else:
        lines.append(f"stationarity: NC is differentiable at the stored weights; ||grad||^2 <= "
                     f"{approx(result.grad_sq, 4)}")
    if result.goldstein_sq is not None:
        lines.append(f"Goldstein stationarity: {approx(result.goldstein_sq, 4, sqrt=True)} within radius "
                     f"{approx(result.goldstein_radius_sq, 3, sqrt=True)}")
    lines.extend(_global_lines(result))
    kinks = result.certificate["diagnostics"]["near_kink"]["neurons"]
    if kinks:
        tol = result.certificate["diagnostics"]["near_kink"]["tolerance"]
        lines.append(f"{len(kinks)} neuron(s) within {tol:g} "
                     "(relative) of a data hyperplane; see the report (not certified)")
    return "\n".join(lines)


def _write_improved(path: str, network, result) -> None:
    from certify.certificates.not_optimal import improved_network

    claim = next((c for c in result.certificate["claims"] if c["type"] == "not_optimal"), None)
    if claim is None:
        print("no not_optimal claim: no improved network written", file=sys.stderr)
        return
    improved_network(network, claim).save(path)
    print(f"improved network (one more neuron, exactly smaller NC) written to {path}", file=sys.stderr)


def _global_lines(result) -> list[str]:
    """The global step's sentences and its certified numbers (``verify --global``)."""
    summary = getattr(result, "global_summary", None)
    if summary is None:
        return []
    lines = list(summary.lines)
    for claim in result.certificate["claims"]:
        if claim["type"] == "global_gap":
            gap = parse_rational(claim["gap"])
            rel = gap / result.objective if result.objective else gap
            lines.append(f"global gap: NC - inf over all networks <= {approx(gap, 4)} (relative "
                         f"{approx(rel, 3)})")
        elif claim["type"] == "not_optimal":
            lines.append(f"not optimal: a network with one more neuron has NC = "
                         f"{approx(parse_rational(claim['improved_objective']), 10)} (decrease "
                         f"{approx(parse_rational(claim['decrease']), 4)})")
    return lines


def cmd_check(args: argparse.Namespace) -> int:
    from certify.check.checker import check_certificate
    from certify.check.limits import CheckLimits

    limits = CheckLimits(**{name: getattr(args, name) for name in
                            ("max_bytes", "max_depth", "max_digits", "max_list", "max_work", "max_memory")})
    loaded = _load(args) if args.model is not None else None  # input errors first, as before
    text = _read_at_most(args.certificate, limits.max_bytes + 1)  # one byte more: the checker rejects it
    from certify.path_cli import data_check

    report = data_check(args, text, limits)  # a data certificate (no network), else None
    if report is None:
        X, y, network = loaded
        digest = None
        if args.patterns:
            digest = _pattern_digest(args, X, y, network)
        report = check_certificate(text, X.tolist(), y.tolist(), network.W1.tolist(), network.w2.tolist(),
                                   None if network.b1 is None else network.b1.tolist(), digest, limits=limits)
    if args.json:
        print(json.dumps({"accepted": report.accepted, "summary": report.summary_line(),
                          "versions": report.versions,
                          "claims": [{"id": v.claim_id, "type": v.claim_type, "accepted": v.accepted,
                                      "reason": v.reason} for v in report.verdicts]}, indent=1))
    else:
        for v in report.verdicts:
            status = "accepted" if v.accepted else "REJECTED"
            print(f"{v.claim_id} ({v.claim_type}): {status}: {v.reason}")
            if v.accepted and isinstance(v.values.get("scope_description"), str):  # data claims
                print(f"  scope: {v.values['scope_description']}")
        print(report.summary_line())
    return EXIT_OK if report.accepted else EXIT_REJECTED


def _read_at_most(path: str, size: int) -> bytes:
    """The first ``size`` bytes of a file (all of it if shorter), read in chunks of 1 MiB."""
    chunks, total = [], 0
    with open(path, "rb") as f:
        while total < size:
            chunk = f.read(min(1 << 20, size - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks)


def _pattern_digest(args, X, y, network) -> str:
    from certify.exact.digest import patterns_digest
    from certify.io.patterns import load_patterns, validate_patterns
    from certify.problem import Problem
    from certify.verify import given_pattern_strings

    problem = Problem(X, y, 1, bias=network.b1 is not None)
    pat = validate_patterns(load_patterns(args.patterns), problem.n, problem.features.shape[1])
    return patterns_digest(problem.n, given_pattern_strings(problem, pat))


def cmd_fit(args: argparse.Namespace) -> int:
    from certify.exact.patterns import decode
    from certify.fit import fit
    from certify.io.data import load_data
    from certify.io.patterns import load_patterns, validate_patterns
    from certify.problem import Problem, convert_lambda
    from certify.verify import given_pattern_strings, verify

    if args.max_flips < 0:
        raise InputError(f"--max-flips must be at least 0, got {args.max_flips}")
    X, y = load_data(args.data, target_column=args.target_column)
    problem = Problem(X, y, convert_lambda(args.lam, args.convention, X.shape[0]), bias=args.bias)
    start = None
    if args.patterns:
        pat = validate_patterns(load_patterns(args.patterns), problem.n, problem.features.shape[1])
        start = np.array([decode(p, problem.n) for p in given_pattern_strings(problem, pat)],
                         dtype=np.uint8).T

    def progress(rnd: int, value: float, count: int) -> None:
        if not args.quiet:
            print(f"  refinement round {rnd}: NC = {value:.10g}, {count} patterns", file=sys.stderr,
                  flush=True)

    result = fit(problem, start, gates=args.gates, seed=args.seed, refine_network=not args.no_refine,
                 progress=progress, solver=args.solver, max_flips=args.max_flips)
    result.network.save(args.output)
    if args.patterns_out:
        np.savez(args.patterns_out, D=result.patterns)
    scope = None if result.refined else {"D": result.patterns}
    verification = verify(problem, result.network, patterns=scope)
    cert = args.certificate or str(Path(args.output).with_suffix("")) + ".cert.json"
    Path(cert).write_text(verification.to_json(), encoding="ascii")
    if not args.quiet:
        if result.refined:
            print(f"refinement: NC {result.objectives[0]:.10g} -> {result.objectives[-1]:.10g} in "
                  f"{result.rounds} rounds, {result.patterns.shape[1]} patterns visited"
                  + ("" if result.stationary or result.limited
                     else " (round limit reached before stationarity)"))
            if result.limited:
                ties = ", ".join(f"neuron {j}: {t}" for j, t in result.limited)
                print(f"refinement limited: near ties ({ties}) exceed max_flips = {args.max_flips}, so "
                      "only the cells across one near-tie hyperplane were added for those neurons; the "
                      "network is not known to be stationary (the certificate below states what holds)")
        if result.fallbacks:
            print(f"note: the fast solver fell back to cvxpy + Clarabel in {result.fallbacks} solve(s)")
        print(summary(verification))
        print(f"network written to {args.output}; certificate to {cert}"
              + (f"; patterns to {args.patterns_out}" if args.patterns_out else ""))
    return EXIT_OK


def cmd_optimal_set(args: argparse.Namespace) -> int:
    from certify.io.patterns import load_patterns, validate_patterns
    from certify.optimal_set import command

    problem, network = _load_problem(args)
    D = None
    if args.patterns:
        from certify.exact.patterns import decode
        from certify.verify import given_pattern_strings

        pat = validate_patterns(load_patterns(args.patterns), problem.n, problem.features.shape[1])
        D = np.array([decode(p, problem.n) for p in given_pattern_strings(problem, pat)], dtype=np.uint8).T
    def progress(found: int, frontier: int) -> None:
        if not args.quiet:
            print(f"  lexicographic bases: {found} found, {frontier} queued", file=sys.stderr, flush=True)

    result = command.run(problem, network, D, max_vertices=args.max_vertices, max_bases=args.max_bases,
                         max_seconds=args.max_seconds, progress=progress)
    command.write_outputs(result, problem, network, args.output, args.certificate, args.report)
    if not args.quiet:
        print(command.summary(result))
        cert = f"; certificate to {args.certificate}" if args.certificate else ""
        print(f"written to {args.output}{cert}" + (f"; report to {args.report}" if args.report else ""))
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    from certify.pruning import prune
    from certify.pruning.report import prune_summary

    if args.patterns:
        raise InputError("prune does not take --patterns")
    problem, network = _load_problem(args)

    def progress(done: int, total: int) -> None:
        if not args.quiet and total >= 20 and (done == total or done % max(1, total // 10) == 0):
            print(f"  pruning: {done}/{total} dependent neurons processed", file=sys.stderr, flush=True)

    if args.report and Path(args.report).suffix.lower() not in (".html", ".htm"):
        raise InputError(f"prune --report writes HTML: the file must end in .html, got {args.report!r}")
    result = prune(problem, network, progress=progress, method=args.method)
    result.network.save(args.output)
    cert = args.certificate or str(Path(args.output).with_suffix("")) + ".cert.json"
    Path(cert).write_text(result.to_json(), encoding="ascii")
    if args.report:
        _write_prune_report(args.report, problem, result)
    if not args.quiet:
        print(prune_summary(result))
        print(f"pruned network written to {args.output}; certificate to {cert}"
              + (f"; report to {args.report}" if args.report else ""))
    return EXIT_OK


def _write_prune_report(path: str, problem, result) -> None:
    from certify.check.checker import check_certificate
    from certify.report.pruning import training_width_section
    from certify.report.render import render_html

    net = result.network
    report = check_certificate(result.to_json(), problem.X.tolist(), problem.y.tolist(), net.W1.tolist(),
                               net.w2.tolist(), None if net.b1 is None else net.b1.tolist())
    sections = [training_width_section(problem, net)] if net.width > 0 else []
    Path(path).write_text(render_html(problem, net, result.certificate, report, sections=sections),
                          encoding="utf-8")


def cmd_demo(args: argparse.Namespace) -> int:
    from certify.demo import run_demo

    return run_demo(Path(args.out))


def cmd_selftest(args: argparse.Namespace) -> int:
    from certify.testing.selftest import run_selftest

    result = run_selftest(args.profile, verbose=args.verbose)
    print(result.table())
    for row in result.rows:
        for line in row.details:
            print(f"  {row.claim}: {line}")
    print(result.summary())
    if args.report:
        from certify.report.render import render_selftest_html

        Path(args.report).write_text(render_selftest_html(result), encoding="utf-8")
        print(f"report written to {args.report}")
    return EXIT_OK if result.ok else EXIT_REJECTED


def _cmd_path(args: argparse.Namespace) -> int:
    from certify.path_cli import cmd_path

    return cmd_path(args)


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from certify.sensitivity.command import cmd_sensitivity

    return cmd_sensitivity(args, _load_problem)


COMMANDS = {"verify": cmd_verify, "check": cmd_check, "fit": cmd_fit, "demo": cmd_demo, "prune": cmd_prune,
            "optimal-set": cmd_optimal_set, "selftest": cmd_selftest, "path": _cmd_path,
            "sensitivity": _cmd_sensitivity}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BudgetError as exc:
        print(f"certify {args.command}: budget exceeded: {exc}", file=sys.stderr)
        return EXIT_BUDGET
    except (CertifyError, OSError) as exc:
        print(f"certify {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
