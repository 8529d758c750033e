"""Selection inside the optimal set and approximate pruning past minimality (issue 5, items 6-7).

* :mod:`certify.selection.polytope`: scaling polytopes ``{alpha >= 0 : M alpha = fit}`` whose points
  are networks (the optimal set ``P_lambda``, or a network's own neurons).
* :mod:`certify.selection.select`: minimum norm, extreme point, minimum validation error.
* :mod:`certify.selection.approximate`: greedy pruning with least-squares correction (Optimal/LS)
  and the magnitude, gradient and random baselines.

Floats throughout; selected and pruned networks are certified by the certificates.
"""
