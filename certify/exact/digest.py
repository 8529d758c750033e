"""SHA-256 digests of the inputs over a canonical byte encoding (standard library only).

Canonical encoding of one named array (docs/certificate-format.md, "Digests"):

    name (UTF-8) || 0x00 || ndim (1 byte) || each dimension as uint64 little-endian
    || every entry as IEEE-754 binary64 little-endian, row-major (C order)

Entries are the values *as loaded*, converted to binary64 (float32 and integer inputs
convert exactly). A digest is SHA-256 over a domain tag followed by the encoded arrays in
a fixed order:

* data:     tag ``certify-data-v1``, arrays ``X`` (n, d) then ``y`` (n,), the raw data before
            any bias column is appended;
* network:  tag ``certify-network-v1``, arrays ``W1`` (d, m), ``w2`` (m,), then ``b1`` (m,)
            only when the network has a first-layer bias;
* patterns: tag ``certify-patterns-v1``, then n as uint64 and the sorted distinct pattern
            strings (see :mod:`certify.exact.patterns`) each followed by a newline.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence


def _encode_array(name: str, shape: tuple[int, ...], flat: Sequence[float]) -> bytes:
    head = name.encode("utf-8") + b"\x00" + bytes([len(shape)])
    head += b"".join(struct.pack("<Q", dim) for dim in shape)
    return head + struct.pack(f"<{len(flat)}d", *flat)


def _matrix(name: str, rows: Sequence[Sequence[float]], ncols: int) -> bytes:
    flat = [float(v) for row in rows for v in row]
    return _encode_array(name, (len(rows), ncols), flat)


def _vector(name: str, values: Sequence[float]) -> bytes:
    return _encode_array(name, (len(values),), [float(v) for v in values])


def data_digest(X: Sequence[Sequence[float]], y: Sequence[float]) -> str:
    """Hex SHA-256 of the data (X as rows, y) in the canonical encoding."""
    d = len(X[0]) if len(X) else 0
    h = hashlib.sha256(b"certify-data-v1")
    h.update(_matrix("X", X, d))
    h.update(_vector("y", y))
    return h.hexdigest()


def network_digest(
    W1: Sequence[Sequence[float]], w2: Sequence[float], b1: Sequence[float] | None
) -> str:
    """Hex SHA-256 of a network (W1 of shape (d, m) as rows, w2, optional b1)."""
    m = len(w2)
    h = hashlib.sha256(b"certify-network-v1")
    h.update(_matrix("W1", W1, m))
    h.update(_vector("w2", w2))
    if b1 is not None:
        h.update(_vector("b1", b1))
    return h.hexdigest()


def patterns_digest(n: int, patterns: Iterable[str]) -> str:
    """Hex SHA-256 of a pattern set given as pattern strings (order and repeats ignored)."""
    h = hashlib.sha256(b"certify-patterns-v1")
    h.update(struct.pack("<Q", n))
    for p in sorted(set(patterns)):
        h.update(p.encode("ascii") + b"\n")
    return h.hexdigest()
