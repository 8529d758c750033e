"""Tutorial: test a (deliberately wrong) solver of the convex ReLU program with certify's theory kit.

Run:  python examples/check_a_solver.py

A solver of the C-ReLU (theory.md §2) is a function ``fn(X, y, lam, D) -> (U, H)``. The solver below
looks reasonable: it calls cvxpy on the textbook objective. But it scales the loss by ``1/(2n)`` (the
"mean" convention of scnn and of many ML codes) while being declared in certify's convention
(``1/2`` sum of squares). So it solves the problem at ``n * lam``, and the claims of theory.md §8 that
depend on ``lam`` fail. ``check_solver`` finds this and shrinks each failure to a minimal
counterexample, typically two data points (one point cannot tell the scalings apart: ``n = 1``).

Then the same solver, declared with ``convention="mean"``, passes: the kit converts ``lam``
(``lam_mean = lam / n``) before calling it.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from certify.testing import check_solver


def my_solver(X: np.ndarray, y: np.ndarray, lam: float, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C-ReLU over the patterns D with the loss averaged over the n points (the bug, if undeclared)."""
    n, d = X.shape
    P = D.shape[1]
    U, H = cp.Variable((d, P)), cp.Variable((d, P))
    fit = cp.sum(cp.multiply(D, X @ (U - H)), axis=1)
    E = 2.0 * D - 1.0
    constraints = [cp.multiply(E, X @ U) >= 0, cp.multiply(E, X @ H) >= 0]
    objective = cp.sum_squares(fit - y) / (2 * n) + lam * (cp.sum(cp.norm(U, 2, axis=0))
                                                           + cp.sum(cp.norm(H, 2, axis=0)))
    cp.Problem(cp.Minimize(objective), constraints).solve(solver=cp.CLARABEL)
    return U.value, H.value


def main() -> int:
    print("== declared in certify's scaling (wrong):")
    wrong = check_solver(my_solver, kind="convex", convention="certify", claims=["C2", "C3"],
                         max_examples=15)
    print("\n== declared in the 'mean' scaling (right):")
    right = check_solver(my_solver, kind="convex", convention="mean", claims=["C1", "C2", "C3", "C4"],
                         max_examples=15)
    # the tutorial's own acceptance: the wrong declaration fails, the right one passes
    return 0 if (not wrong.ok and right.ok) else 1


if __name__ == "__main__":
    raise SystemExit(main())
