"""The exact rational kernel of certify.

Everything here is exact: floats are read as the dyadic rationals they are, integer
matrices are python-flint ``fmpz_mat``, scalars are :class:`fractions.Fraction`.
This package imports only the standard library and python-flint, because the
independent checker (:mod:`certify.check`) builds on it and on nothing else.
"""
