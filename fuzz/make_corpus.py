"""Write the seed corpus of the fuzz harnesses (fuzz/corpus/checker, fuzz/corpus/loaders).

Run from the repository root: ``.venv/bin/python fuzz/make_corpus.py``. The files are small (at most
a few kilobytes) and deterministic; they are committed, so this script documents how they were made.
"""

from __future__ import annotations

import io
import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
from safetensors.numpy import save

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.exact.context import ExactContext  # noqa: E402
from certify.exact.digest import patterns_digest  # noqa: E402
from certify.exact.goldstein import combination_sq, gradient_at, replace_columns  # noqa: E402
from certify.exact.rational import format_rational  # noqa: E402

CHECKER = ROOT / "fuzz" / "corpus" / "checker"
LOADERS = ROOT / "fuzz" / "corpus" / "loaders"


def _checker_seeds() -> dict[str, bytes]:
    text = (ROOT / "examples" / "tiny.cert.json").read_text()
    doc = json.loads(text)
    seeds = {"tiny.cert.json": text.encode(),
             "tiny.min.json": json.dumps(doc, separators=(",", ":")).encode()}
    # the hand-made evidence of docs/certificate-format.md: exactly optimal over the own pattern
    hand = json.loads(text)
    gap = hand["claims"][2]
    gap.update(lower_bound="15/2", gap="0")
    gap["evidence"] = {"den": "2", "rho": ["2", "4", "0"],
                       "blocks": [{"pattern": "3", "sign": 1, "mu_idx": [], "mu_num": []},
                                  {"pattern": "3", "sign": -1, "mu_idx": [1], "mu_num": ["5"]}]}
    seeds["handmade.json"] = json.dumps(hand, separators=(",", ":")).encode()
    # the same evidence over a given scope {"3", "7"} (pattern 7: every point active)
    given = json.loads(json.dumps(hand))
    plist = ["3", "7"]
    given["claims"][2]["scope"] = {"kind": "given", "patterns": plist,
                                   "patterns_sha256": patterns_digest(3, plist)}
    given["claims"][2]["lower_bound"] = "0"
    given["claims"][2]["gap"] = "15/2"
    given["claims"][2]["evidence"] = {"den": "1", "rho": ["0", "0", "0"], "blocks": [
        {"pattern": p, "sign": s, "mu_idx": [], "mu_num": []} for p in plist for s in (1, -1)]}
    seeds["given.json"] = json.dumps(given, separators=(",", ":")).encode()
    # a Goldstein claim with two points around the network (W1 = 1 +- 2^-10), exact bound
    data, model = np.load(ROOT / "examples" / "tiny_data.npz"), np.load(ROOT / "examples" / "tiny_model.npz")
    ctx = ExactContext(data["X"].tolist(), data["y"].tolist(), model["W1"].tolist(), model["w2"].tolist(),
                       None, Fraction(5))
    moves = [Fraction(1) + Fraction(1, 1024), Fraction(1) - Fraction(1, 1024)]
    grads = [gradient_at(ctx, replace_columns(ctx.W1, {0: [v]}))[0] for v in moves]
    weights = [Fraction(1, 2), Fraction(1, 2)]
    gold = json.loads(text)
    gold["claims"][3] = {"id": "stationarity_goldstein", "type": "stationarity_goldstein",
                         "radius_sq": format_rational(Fraction(1, 1024) ** 2),
                         "grad_sq_bound": format_rational(combination_sq(grads, weights)),
                         "points": [{"weight": "1/2", "changes": [{"j": 0, "W1": [format_rational(v)]}]}
                                    for v in moves]}
    seeds["goldstein.json"] = json.dumps(gold, separators=(",", ":")).encode()
    # broken on purpose: truncated, a duplicate key, NaN, an unknown claim type
    seeds["truncated.json"] = text[:700].encode()
    seeds["duplicate.json"] = text.replace('"loss": "5/2",', '"loss": "5/2", "loss": "5/2",', 1).encode()
    seeds["nan.json"] = text.replace('"m": 1', '"m": NaN', 1).encode()
    seeds["unknown.json"] = text.replace('"type": "objective"', '"type": "objectiv"', 1).encode()
    # edit programs (fuzz_checker.structured): byte 0, a seed, then 10-byte edits
    for k in range(4):
        seeds[f"edits-{k}.bin"] = bytes([0, k]) + bytes([7 * k + 3, 11, k, 1, 0, 0, 0, 0, 0, 0])
    return seeds


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _loader_seeds() -> dict[str, bytes]:
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    y = np.array([1.0, 0.0, -1.0])
    W1, w2, b1 = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([1.0, -0.5]), np.array([0.0, 0.25])
    return {
        "data.npz.bin": b"\x00" + _npz(X=X, y=y),
        "data.csv.bin": b"\x01" + b"x1,x2,y\n1,2,1\n3,-1,0\n0.5,0,-1\n",
        "model.npz.bin": b"\x02" + _npz(W1=W1, w2=w2, b1=b1),
        "model.safetensors.bin": b"\x03" + save({"W1": W1, "w2": w2}),
        "patterns_D.npz.bin": b"\x04" + _npz(D=np.array([[1, 0], [1, 1], [0, 1]], dtype=np.uint8)),
        "patterns_G.npz.bin": b"\x04" + _npz(G=np.array([[1.0, -1.0], [0.5, 2.0]])),
    }


def main() -> None:
    for folder, seeds in ((CHECKER, _checker_seeds()), (LOADERS, _loader_seeds())):
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in seeds.items():
            (folder / name).write_bytes(content)
        print(f"{folder.relative_to(ROOT)}: {len(seeds)} files, {sum(map(len, seeds.values()))} bytes")


if __name__ == "__main__":
    main()
