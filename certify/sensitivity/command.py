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
    "command says which hypothesis fails and by how much (exit 1).\n\n"
    "--polish (with --polished-model FILE): first polish the network (certify.sensitivity.polish: merge "
    "duplicate neurons of adjacent cells, drop noise neurons whose blocks are certifiably inactive at the "
    "polished residual, hold the nearly tight rows on their hyperplanes and solve the restricted KKT "
    "equations by Newton's method), write the polished network to FILE and certify THAT network; the "
    "command prints how much the network changed (NC and fit). Fitted networks of real data usually need "
    "it: the solver's accuracy leaves noise neurons and duplicates that make the KKT residual and the "
    "conditioning fail. Check with `certify check OUT --data D --model FILE`.")


POLISH_STATEMENT = ("Floating point, not certified: the network was polished before certification "
                    "(certify.sensitivity.polish); the certificate is about the polished network, whose NC "
                    "and fit differ from the input's by the amounts recorded here.")


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
    p.add_argument("--report", metavar="FILE", default=None,
                   help="also write the network's report with a section 'Sensitivity': .html or .md (plots "
                        "beside a .md in <name>_files/)")
    p.add_argument("--quiet", action="store_true", help="print only errors")
    p.add_argument("--polish", action="store_true",
                   help="polish the network first (see above) and certify the polished network")
    p.add_argument("--polished-model", metavar="FILE", default=None,
                   help="where --polish writes the polished network (.npz or .safetensors); required with "
                        "--polish: the certificate is about this file")


def cmd_sensitivity(args: argparse.Namespace, load_problem) -> int:
    from certify.certificates.certificate import to_json
    from certify.check.checker import check_certificate
    from certify.errors import InputError
    from certify.sensitivity.certificate import sensitivity_certificate

    if args.patterns:
        raise InputError("sensitivity works over the network's own patterns; it does not take --patterns")
    if args.report:
        from certify.report.sections import report_format

        report_format(args.report)  # a bad extension fails before any work
    if args.polish != (args.polished_model is not None):
        raise InputError("--polish and --polished-model go together: the polished network is a different "
                         "network, and the certificate is about the file it is written to")
    problem, network = load_problem(args)
    polished = None
    if args.polish:
        from certify.io.model import save_network
        from certify.sensitivity.polish import polish

        polished = polish(problem, network)
        if not args.quiet:
            print(polished.summary())
            for line in polished.log:
                print(f"  {line}")
        if polished.converged:
            network = polished.network
            save_network(network, args.polished_model)
            if not args.quiet:
                print(f"the network CHANGED: the polished network is written to {args.polished_model} and "
                      f"the certificate is about it (certify check {args.output} --data ... --model "
                      f"{args.polished_model})")
        elif not args.quiet:
            print(f"the polish failed; {args.polished_model} is not written and the certificate is about the "
                  "input network, unchanged")
    result = sensitivity_certificate(problem, network)
    if polished is not None:
        result.document["diagnostics"]["polish"] = {
            **polished.as_dict(), "model": str(args.polished_model) if polished.converged else None,
            "statement": POLISH_STATEMENT}
    text = to_json(result.document)
    Path(args.output).write_text(text, encoding="ascii")
    report = None
    if result.valid:
        report = check_certificate(text, problem.X.tolist(), problem.y.tolist(), network.W1.tolist(),
                                   network.w2.tolist(), None if network.b1 is None else network.b1.tolist())
    if args.report:
        from certify.sensitivity.report import write_sensitivity_report

        write_sensitivity_report(args.report, problem, network, result, report)
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
            if polished is None and any(h.name in ("stationarity", "conditioning") for h in
                                        result.kernel.failures()):
                print("hint: a fitted network is optimal only to the solver's accuracy; --polish "
                      "--polished-model FILE polishes it (and certifies the polished network)")
        print(f"written to {args.output}" + (f"; report to {args.report}" if args.report else ""))
    if not result.valid:
        return 1
    return 0 if report.accepted else 1
