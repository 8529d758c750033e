"""certify: exact verification and certification of trained two-layer ReLU networks."""

__version__ = "0.1.0"
