"""Determinism (issue 11, item 6).

* Identical inputs give byte-identical certificates across runs and across BLAS thread counts:
  ``verify`` runs in fresh interpreters with ``OPENBLAS_NUM_THREADS`` (and the OpenMP / MKL
  equivalents) set to 1 and to 2 before NumPy is imported, and the bytes are compared with each
  other and with a run in this process.
* The checker's verdicts do not depend on key order or whitespace: a certificate re-serialized
  with shuffled keys, ``indent=None`` or extra JSON whitespace gets the same verdicts (acceptance
  and reason) as the canonical text, for genuine and for tampered certificates.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from certify.check.checker import check_certificate
from certify.network import Network
from certify.problem import Problem
from certify.verify import verify
from tests.instances import gaussian_data, global_optimum_planar, planar_data

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import hashlib, json, os, sys
assert "numpy" not in sys.modules
import numpy as np
from certify.network import Network
from certify.problem import Problem
from certify.verify import verify

out = {}
for path in sys.argv[1:]:
    a = np.load(path)
    b1 = a["b1"] if "b1" in a.files else None
    pats = {"G": a["G"]} if "G" in a.files else None
    problem = Problem(a["X"], a["y"], str(a["lam"]), bias=b1 is not None)
    result = verify(problem, Network(a["W1"], a["w2"], b1), patterns=pats)
    text = result.to_json().encode("ascii")
    with open(path + f".{os.environ['OPENBLAS_NUM_THREADS']}.json", "wb") as fh:
        fh.write(text)
    out[path] = hashlib.sha256(text).hexdigest()


def blas_threads():  # OpenBLAS's thread count as NumPy's bundled library reports it (None: not found)
    import ctypes, glob
    for lib in glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*")):
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                     "openblas_get_num_threads"):
            try:
                return getattr(ctypes.CDLL(lib), name)()
            except (OSError, AttributeError):
                pass
    return None


out["threads"] = blas_threads()
print(json.dumps(out))
"""


def _cases() -> dict[str, dict]:
    cases = {}
    X, y = gaussian_data(1000, 10, seed=3)  # large enough for OpenBLAS to use threads
    rng = np.random.default_rng(5)
    cases["gauss-1000x10-own"] = dict(X=X, y=y, W1=rng.standard_normal((10, 16)), w2=rng.standard_normal(16),
                                      lam="1/3")
    cases["gauss-1000x10-bias-given"] = dict(X=X, y=y, W1=rng.standard_normal((10, 8)),
                                             w2=rng.standard_normal(8), b1=rng.standard_normal(8),
                                             G=rng.standard_normal((11, 12)), lam="7/10")
    Xp, yp = planar_data()
    net = global_optimum_planar(Xp, yp, 0.1)  # neurons near kinks: Goldstein points, NNLS multipliers
    cases["planar-optimum"] = dict(X=Xp, y=yp, W1=net.W1, w2=net.w2, lam="1/10")
    rng = np.random.default_rng(9)
    cases["integer-ties"] = dict(X=rng.integers(-3, 4, (30, 3)).astype(float), y=rng.integers(-4, 5, 30) / 4,
                                 W1=np.array([[1.0, 1.0, 0.0], [1.0, -2.0, 1.0], [0.0, 1.0, -1.0]]),
                                 w2=np.array([1.0, -0.5, 0.75]), lam="1/2")  # 4 and 6 exact ties
    return cases


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    tmp = tmp_path_factory.mktemp("determinism")
    out = {}
    for name, arrays in _cases().items():
        path = tmp / f"{name}.npz"
        np.savez(path, **arrays)
        out[name] = (path, arrays)
    return out


def _in_process(arrays: dict) -> bytes:
    b1 = arrays.get("b1")
    pats = {"G": arrays["G"]} if "G" in arrays else None
    result = verify(Problem(arrays["X"], arrays["y"], arrays["lam"], bias=b1 is not None),
                    Network(arrays["W1"], arrays["w2"], b1), patterns=pats)
    return result.to_json().encode("ascii")


def _run_child(paths: list[Path], threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", CHILD, *map(str, paths)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_certificates_are_byte_identical_across_blas_thread_counts(cases) -> None:
    paths = [path for path, _ in cases.values()]
    one = _run_child(paths, 1)
    two = _run_child(paths, 2)
    if one["threads"] is not None:  # the setting took effect (where NumPy's OpenBLAS can be asked)
        assert (one["threads"], two["threads"]) == (1, 2)
    for name, (path, arrays) in cases.items():
        text1 = Path(f"{path}.1.json").read_bytes()
        text2 = Path(f"{path}.2.json").read_bytes()
        assert one[str(path)] == hashlib.sha256(text1).hexdigest()
        assert text1 == text2, f"{name}: certificates differ between 1 and 2 BLAS threads"
        here = _in_process(arrays)
        assert here == text1, f"{name}: certificate differs between this process and a fresh one"
        assert here == _in_process(arrays), f"{name}: two runs in one process differ"
        assert two[str(path)] == one[str(path)]
        doc = json.loads(text1)
        report = check_certificate(text1, arrays["X"].tolist(), arrays["y"].tolist(), arrays["W1"].tolist(),
                                   arrays["w2"].tolist(), arrays["b1"].tolist() if "b1" in arrays else None)
        assert report.accepted, (name, [v.reason for v in report.verdicts if not v.accepted])
        if name == "integer-ties":
            assert doc["claims"][1]["ties"], "exact ties expected"
        if name == "planar-optimum":
            assert len(doc["claims"][3]["points"]) >= 2, "a Goldstein claim over several points expected"


# --- key order and whitespace ----------------------------------------------------------------------


def _shuffled(obj, rng: np.random.Generator):
    if isinstance(obj, dict):
        keys = list(obj)
        return {keys[i]: _shuffled(obj[keys[i]], rng) for i in rng.permutation(len(keys))}
    if isinstance(obj, list):
        return [_shuffled(v, rng) for v in obj]
    return obj


LAYOUTS = [
    dict(indent=None),
    dict(indent=None, separators=(",", ":")),
    dict(indent=4, separators=(" , ", " : ")),
    dict(indent="\t", separators=(",\n", ":\r\n")),
    dict(indent=0, separators=(",  ", ":\t")),
]


def _tampered(doc: dict) -> list[tuple[dict, int]]:
    """Tampered versions and the claim each breaks: a lowered gap, a tie added, a block dropped."""
    gap, tie, block = copy.deepcopy(doc), copy.deepcopy(doc), copy.deepcopy(doc)
    gap["claims"][2]["gap"] = "0"
    tie["claims"][1]["ties"].append({"k": 0, "j": 0, "c": "1/2"})
    block["claims"][2]["evidence"]["blocks"].pop()
    return [(gap, 2), (tie, 1), (block, 2)]


@pytest.mark.parametrize("name", ["gauss-1000x10-bias-given", "planar-optimum", "integer-ties"])
def test_verdicts_do_not_depend_on_key_order_or_whitespace(cases, name: str) -> None:
    _, arrays = cases[name]
    text = _in_process(arrays).decode("ascii")
    args = (arrays["X"].tolist(), arrays["y"].tolist(), arrays["W1"].tolist(), arrays["w2"].tolist(),
            arrays["b1"].tolist() if "b1" in arrays else None)
    rng = np.random.default_rng(11)
    for doc, broken in [(json.loads(text), None), *_tampered(json.loads(text))]:
        canonical = json.dumps(doc, sort_keys=True, indent=1, separators=(",", ": "))
        want = [(v.claim_id, v.accepted, v.reason) for v in check_certificate(canonical, *args).verdicts]
        assert [accepted for _, accepted, _ in want] == [i != broken for i in range(len(doc["claims"]))]
        for layout in LAYOUTS:
            for _ in range(2):
                variant = "\n \t" + json.dumps(_shuffled(doc, rng), **layout) + " \r\n"
                got = [(v.claim_id, v.accepted, v.reason) for v in check_certificate(variant, *args).verdicts]
                assert got == want, layout
