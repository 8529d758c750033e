"""Exact pruning of two-layer ReLU networks (theory.md §5): :func:`prune` and its exact kernel."""

from certify.pruning.api import PruneResult, prune

__all__ = ["PruneResult", "prune"]
