"""Bundled example data (demo.npz: X (40, 2), y (40,))."""
