"""Exact pruning of two-layer ReLU networks (theory.md §5): :func:`prune` and its exact kernel.

``prune`` and ``PruneResult`` are loaded on first access (PEP 562), so that the exact kernel
``certify.pruning.exact`` can be imported by the certificate producers without importing the
producers back through ``certify.pruning.api`` (a circular import).
"""

__all__ = ["PruneResult", "prune"]


def __getattr__(name: str):
    if name in __all__:
        from certify.pruning import api

        return getattr(api, name)
    raise AttributeError(f"module 'certify.pruning' has no attribute {name!r}")
