"""Shared fixtures and hypothesis profiles.

Profiles: ``dev`` (default, quick), ``ci`` (selected by ``make test`` and CI), ``thorough``
(``make test-thorough``; slow property runs).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("dev")
