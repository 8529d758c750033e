"""Inputs of the report's plots, computed in floats (a picture, not a certificate).

* Residuals ``y - f(X)`` of the network's float forward pass.
* For every sub-sampled gap claim, the one-cone bound of each block ``(pattern D, sign s)`` of
  its scope (theory.md §3): with ``rho = rho_num/den`` and ``mu = mu_num/den`` from the
  claim's evidence, the bound is ``||s X^T D rho + X^T (2D - I) mu||`` (``X`` the features, the
  ones column included when the problem has a bias). The checker proves exactly that every
  bound is at most ``lam``; here the same numbers are evaluated in float64 for plotting, so
  they may exceed ``lam`` by rounding only.

Blocks cover the network's neurons' patterns, so these values stand in for the per-neuron
dual constraint ``||Pi_K(X^T D_j r)|| <= lam``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from certify.exact import patterns as pattern_strings
from certify.network import Network
from certify.problem import Problem

_CHUNK = 256  # blocks evaluated together


@dataclass(frozen=True)
class BlockBounds:
    """Float one-cone bounds of the blocks of one sub-sampled gap claim.

    Attributes
    ----------
    claim_id : str
        The claim's id.
    scope_kind : str
        ``"own"`` or ``"given"`` (as stated by the claim).
    patterns : list[str]
        Pattern string of each block.
    signs : ndarray of int, shape (B,)
        Sign of each block.
    bounds : ndarray of float, shape (B,)
        ``||s X^T D rho + X^T (2D - I) mu||`` per block.
    own_neuron : ndarray of bool, shape (B,)
        True where the block is (float pattern, sign of ``w2_j``) of some neuron ``j``.
    """

    claim_id: str
    scope_kind: str
    patterns: list[str]
    signs: np.ndarray
    bounds: np.ndarray
    own_neuron: np.ndarray


@dataclass(frozen=True)
class PlotData:
    """Everything the report plots.

    Attributes
    ----------
    predictions : ndarray, shape (n,)
        Float forward pass ``f(X)``.
    residuals : ndarray, shape (n,)
        ``y - f(X)``.
    lam : float
        ``lam`` (certify's scaling) as a float.
    gap_blocks : list[BlockBounds]
        One entry per sub-sampled gap claim whose evidence could be read.
    skipped : list[str]
        Why a gap claim could not be plotted (malformed evidence), one line per claim.
    """

    predictions: np.ndarray
    residuals: np.ndarray
    lam: float
    gap_blocks: list[BlockBounds] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def certificate_of(result: object) -> dict:
    """The certificate document of a :class:`~certify.verify.VerificationResult` or a dict."""
    doc = getattr(result, "certificate", result)
    if not isinstance(doc, dict):
        raise TypeError(f"expected a VerificationResult or a certificate dict, got {type(result).__name__}")
    return doc


def _ratio(num: object, den: int) -> float:
    """``int(num) / den`` as a correctly rounded float (Python's int division is exact-rounded)."""
    if not isinstance(num, (str, int)) or isinstance(num, bool):
        raise ValueError(f"expected an integer string, got {type(num).__name__}")
    return int(num) / den


def own_blocks(problem: Problem, network: Network) -> set[tuple[str, int]]:
    """``(pattern string, sign)`` of every neuron with ``w2_j != 0``, from float pre-activations."""
    pre = problem.features @ network.weights(problem.bias)
    out = set()
    for j in range(network.width):
        s = int(np.sign(network.w2[j]))
        if s != 0:
            out.add((pattern_strings.encode((pre[:, j] >= 0).astype(int).tolist()), s))
    return out


def block_bounds(X: np.ndarray, claim: dict, own: set[tuple[str, int]] | None = None) -> BlockBounds:
    """Float one-cone bounds of every block in a sub-sampled gap claim's evidence.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Features, the ones column included when the problem has a bias.
    claim : dict
        A ``subsampled_gap`` claim (``evidence`` with ``den``, ``rho``, ``blocks``).
    own : set of (str, int), optional
        Blocks of the network's own neurons (see :func:`own_blocks`), to flag them.

    Returns
    -------
    BlockBounds

    Raises
    ------
    ValueError
        If the evidence is malformed (missing fields, wrong lengths, bad pattern strings).
    """
    n = X.shape[0]
    try:
        ev = claim["evidence"]
        den = int(ev["den"])
        rho_text = ev["rho"]
        blocks = ev["blocks"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"evidence lacks {exc}") from None
    if den <= 0 or not isinstance(rho_text, list) or len(rho_text) != n or not isinstance(blocks, list):
        raise ValueError("evidence.den, evidence.rho or evidence.blocks is malformed")
    rho = np.array([_ratio(r, den) for r in rho_text])
    B = len(blocks)
    patterns: list[str] = []
    signs = np.zeros(B, dtype=int)
    bounds = np.zeros(B)
    for start in range(0, B, _CHUNK):
        chunk = blocks[start:start + _CHUNK]
        D = np.zeros((n, len(chunk)))
        M = np.zeros((n, len(chunk)))
        for c, b in enumerate(chunk):
            try:
                pattern, sign, idx, num = b["pattern"], b["sign"], b["mu_idx"], b["mu_num"]
            except (KeyError, TypeError) as exc:
                raise ValueError(f"block {start + c} lacks {exc}") from None
            if sign not in (1, -1) or not isinstance(idx, list) or not isinstance(num, list) \
                    or len(idx) != len(num):
                raise ValueError(f"block {start + c} is malformed")
            D[:, c] = pattern_strings.decode(pattern, n)
            for k, v in zip(idx, num, strict=True):
                if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < n:
                    raise ValueError(f"block {start + c}: multiplier index {k!r} out of range")
                M[k, c] = _ratio(v, den)
            patterns.append(pattern)
            signs[start + c] = sign
        V = X.T @ (D * rho[:, None]) * signs[start:start + len(chunk)] + X.T @ ((2.0 * D - 1.0) * M)
        bounds[start:start + len(chunk)] = np.linalg.norm(V, axis=0)
    own = own or set()
    flags = np.array([(p, int(s)) in own for p, s in zip(patterns, signs, strict=True)], dtype=bool)
    scope = claim.get("scope")
    kind = str(scope.get("kind", "?")) if isinstance(scope, dict) else "?"
    return BlockBounds(str(claim.get("id", "?")), kind, patterns, signs, bounds, flags)


def plot_data(problem: Problem, network: Network, result: object) -> PlotData:
    """Compute the report's plot inputs (floats).

    Parameters
    ----------
    problem : Problem
        The data the certificate speaks about.
    network : Network
        The network the certificate speaks about.
    result : VerificationResult or dict
        The verification result, or a certificate document.

    Returns
    -------
    PlotData
        Residuals and, per sub-sampled gap claim, the blocks' one-cone bounds. Claims whose
        evidence cannot be read are listed in ``skipped`` instead of raising.
    """
    doc = certificate_of(result)
    predictions = network.predict(problem.X)
    residuals = problem.y - predictions
    X = problem.features
    own = own_blocks(problem, network)
    gap_blocks: list[BlockBounds] = []
    skipped: list[str] = []
    claims = doc.get("claims")
    for i, claim in enumerate(claims if isinstance(claims, list) else []):
        if not isinstance(claim, dict) or claim.get("type") != "subsampled_gap":
            continue
        try:
            gap_blocks.append(block_bounds(X, claim, own))
        except (ValueError, TypeError, OverflowError) as exc:
            skipped.append(f"claim {claim.get('id', f'claims[{i}]')!s}: {exc}")
    return PlotData(predictions, residuals, float(problem.lam), gap_blocks, skipped)
