"""``certify sensitivity`` (registered by :mod:`certify.cli`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DESCRIPTION = (
    "Derivatives of a minimal optimal network in lam and in the targets y (theory.md §6: implicit "
    "function theorem on the KKT system of the convex program over the network's own patterns), with "
    "the hypotheses and their margins: minimality, independent tight constraints, strict "
    "complementarity, strict dual feasibility off the active set, conditioning. Writes a certificate "
    "with a 'sensitivity' claim (check it with `certify check OUT --data D --model M`) and the float "
    "derivatives in its diagnostics. Where a hypothesis fails, no derivative is claimed and the "
    "command says which hypothesis fails and by how much (exit 1).")


def add_sensitivity_parser(sub, epilog: str, add_inputs) -> None:
    """Register ``certify sensitivity`` on ``sub`` (``add_inputs`` adds --data/--model/...)."""
    p = sub.add_parser("sensitivity", help="certified derivatives of a minimal optimal network in lam and y",
                       description=DESCRIPTION, epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_inputs(p)
    p.add_argument("--lam", required=True, metavar="L", help="regularization strength, > 0 (read exactly)")
    p.add_argument("--convention", choices=["certify", "mean", "mse"], default="certify",
                   help="scaling of --lam (see verify --help)")
    p.add_argument("--bias", action="store_true", help="first-layer bias (regularized ones column)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="certificate to write (JSON)")
    p.add_argument("--report", metavar="FILE", default=None, help="also write an HTML report")
    p.add_argument("--quiet", action="store_true", help="print only errors")


def cmd_sensitivity(args: argparse.Namespace, load_problem) -> int:
    from certify.certificates.certificate import to_json
    from certify.check.checker import check_certificate
    from certify.errors import InputError
    from certify.sensitivity.certificate import sensitivity_certificate

    if args.patterns:
        raise InputError("sensitivity works over the network's own patterns; it does not take --patterns")
    problem, network = load_problem(args)
    result = sensitivity_certificate(problem, network)
    text = to_json(result.document)
    Path(args.output).write_text(text, encoding="ascii")
    report = None
    if result.valid:
        report = check_certificate(text, problem.X.tolist(), problem.y.tolist(), network.W1.tolist(),
                                   network.w2.tolist(), None if network.b1 is None else network.b1.tolist())
    if args.report:
        from certify.sensitivity.report import render_sensitivity_html

        Path(args.report).write_text(render_sensitivity_html(result, report), encoding="utf-8")
    if not args.quiet:
        for h in result.kernel.hypotheses:
            print(f"  {h.name}: {'holds' if h.holds else 'FAILS'} (margin {h.margin:.4g}, "
                  f"threshold {h.threshold:.3g})")
        if result.valid:
            der = result.derivatives
            print(f"derivatives of {len(der['neurons'])} neurons in lam and y; cond(J) ~ "
                  f"{result.kernel.condition:.3g}; sensitivity claim: {report.summary_line()}")
            print("d fit / d lam (first 5):", json.dumps([round(v, 6) for v in der["dfit_dlam"][:5]]))
        else:
            print(f"no derivative claimed: {result.refusal}")
        print(f"written to {args.output}" + (f"; report to {args.report}" if args.report else ""))
    if not result.valid:
        return 1
    return 0 if report.accepted else 1
