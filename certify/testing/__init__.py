"""The theory test kit: the claims of theory.md §8 as public, reusable property checks.

* :mod:`certify.testing.strategies`: hypothesis strategies for data sets, networks, pattern
  scopes, ``lam`` around ``lam_max`` and instances (dyadic values: exact ties and dependencies).
* :mod:`certify.testing.claims`: each claim as a function returning a :class:`Verdict` (holds or
  fails, the numbers, the tolerance), with its source in the docstring; :data:`CLAIMS` lists them.
* :mod:`certify.testing.check_solver`: :func:`check_solver` runs the claims against a third-party
  solver of the convex program or of the network problem, with shrinking (adapters for cvxpy,
  certify's own solver and scnn); :func:`check_pruner` runs C9 against a pruner
  (:func:`certify.pruning.prune` by default).
* :mod:`certify.testing.known`: planted instances with a known exact optimum.
* :mod:`certify.testing.selftest`: ``certify selftest``, the kit run against the installed package.

Scaling everywhere: certify's (theory.md §1): ``1/2 ||f(X) - y||^2 + (lam/2) sum_j (||W1_j||^2 +
w2_j^2)``, the bias as a regularized ones column of ``X``. Float checks with stated tolerances:
the kit tests the theory and solvers; it certifies nothing (certificates are ``certify verify``'s).
"""

from __future__ import annotations

from certify.testing.check_solver import (
    SolverReport,
    certify_network_solver,
    certify_solver,
    check_pruner,
    check_solver,
    cvxpy_solver,
    scnn_lambda,
    scnn_solver,
)
from certify.testing.claims import CLAIMS, Accuracy, Verdict
from certify.testing.instance import Candidate, Instance

__all__ = ["CLAIMS", "Accuracy", "Candidate", "Instance", "SolverReport", "Verdict", "certify_network_solver",
           "certify_solver", "check_pruner", "check_solver", "cvxpy_solver", "scnn_lambda", "scnn_solver"]
