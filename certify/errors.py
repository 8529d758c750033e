"""Exception classes of certify, one per broken rule.

Each subclasses a built-in so that ``except ValueError`` keeps working.
"""

from __future__ import annotations


class CertifyError(Exception):
    """Base class of every error raised on purpose by certify."""


class InputError(CertifyError, ValueError):
    """An input (data, network, lambda, pattern set) is malformed or inconsistent."""


class FormatError(CertifyError, ValueError):
    """A file or a certificate does not follow its documented format."""


class UnsupportedModelError(InputError):
    """A model file holds an architecture other than Linear(d, m) -> ReLU -> Linear(m, 1)."""


class BudgetError(CertifyError, RuntimeError):
    """A computation would exceed its stated budget (e.g. too many tie patterns)."""


class SolverError(CertifyError, RuntimeError):
    """A numerical solver failed or returned an infeasible answer."""
