"""The scaling and encoding conventions of certificate format 1.x, as exact strings.

The checker requires a certificate's ``conventions`` to be exactly these: a certificate that
states another scaling is about another problem and is rejected.
"""

LOSS = "1/2 * sum_k (f(x_k) - y_k)^2"
PENALTY = "(lam/2) * sum_j (||W1_j||^2 + w2_j^2)"
BIAS = ("first-layer bias as a ones column appended to X (last feature); "
        "b1 is the last row of W1 and is regularized")
NO_BIAS = "none"
PATTERNS = ("pattern string: hex digits of sum_k d_k 2^k, d_k = 1[x_k^T g >= 0] "
            "(ties active); blocks (pattern D, sign s) have Z = s D X and cone "
            "(2D - I) X u >= 0")


def expected(bias: bool) -> dict:
    """The ``conventions`` object of a certificate about a problem with or without bias."""
    return {"loss": LOSS, "penalty": PENALTY, "bias": BIAS if bias else NO_BIAS, "patterns": PATTERNS}
