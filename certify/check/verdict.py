"""Per-claim verdicts of the checker."""

from __future__ import annotations

from dataclasses import dataclass, field


class Reject(Exception):
    """Raised inside a check function: the claim is rejected with this reason."""


@dataclass(frozen=True)
class ClaimVerdict:
    """Outcome of checking one claim: accepted or not, the reason, and exact numbers compared."""

    claim_id: str
    claim_type: str
    accepted: bool
    reason: str
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CheckReport:
    """Outcome of checking a whole certificate. ``accepted`` iff every claim is accepted.

    ``resources`` records the limits in force and the estimated work the claims used
    (``{"work": units, "limits": {...}}``; empty when the document was rejected before any
    claim was checked). See :mod:`certify.check.limits`.
    """

    verdicts: list[ClaimVerdict]
    checker_version: str
    versions: dict
    resources: dict = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return bool(self.verdicts) and all(v.accepted for v in self.verdicts)

    def summary_line(self) -> str:
        """``ACCEPTED: k of k claims`` or ``REJECTED: r of k claims``."""
        total = len(self.verdicts)
        if self.accepted:
            return f"ACCEPTED: {total} of {total} claims"
        rejected = sum(not v.accepted for v in self.verdicts)
        return f"REJECTED: {rejected} of {total} claims"
