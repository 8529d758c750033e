"""Sensitivity of a minimal optimal C-ReLU solution to lam and to y (theory.md §6, issue 9 item 4).

:mod:`certify.sensitivity.kernel` is the pure numerical kernel (floats): hypotheses with their
margins, the implicit-function system and its solution, the chain rule to network weights.
"""
