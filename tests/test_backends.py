"""Tests of the pattern-operator backends (certify/solve/backends.py).

One common test class, one subclass per CPU backend; every result is recomputed here from the
definitions (theory.md §2) rather than taken from another backend. The CUDA kernels run in
Numba's CUDA simulator in a subprocess (the simulator must be enabled before Numba is
imported), and for real under ``-m gpu`` when a GPU is present.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from certify.errors import InputError, SolverError
from certify.solve import backends
from certify.solve.backends import (
    BACKENDS,
    CudaBackend,
    CupyBackend,
    NumbaBackend,
    NumbaParallelBackend,
    NumpyBackend,
    OperatorBackend,
    select_backend,
)

ROOT = Path(__file__).resolve().parents[1]

# (n, d, P): edge cases, then sizes up to n=500, d=10, P=30.
SHAPES = [(1, 1, 1), (2, 1, 3), (7, 3, 4), (13, 10, 2), (50, 2, 30), (200, 5, 20), (500, 1, 1),
          (500, 10, 30)]


def make_instance(n: int, d: int, P: int, seed: int):
    """Gaussian ``X`` with a ones column (when d > 1), activation patterns of random gates
    (ties included via a zero row), a random 0/1 column, an all-zero and an all-one column."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if d > 1:
        X[:, -1] = 1.0
    if n > 2:
        X[1] = 0.0                                 # a tie: x^T g = 0 for every gate
    D = (X @ rng.standard_normal((d, P)) >= 0).astype(float)
    if P >= 4:
        D[:, 1] = rng.random(n) < 0.5
        D[:, 2] = 0.0
        D[:, 3] = 1.0
    W = rng.standard_normal((d, P))
    r = rng.standard_normal(n)
    return X, D, W, r


def reference(X, D, W, r):
    """The three maps from their definitions, with the scales that bound their rounding."""
    XW = X @ W
    absXW = np.abs(X) @ np.abs(W)
    return {
        "forward": ((XW * D).sum(axis=1), (absXW * D).sum(axis=1)),
        "adjoint": (X.T @ (D * r[:, None]), np.abs(X).T @ (D * np.abs(r)[:, None])),
        "min_slacks": (((2 * D - 1) * XW).min(axis=0), absXW.max(axis=0)),
    }


def assert_close(got, want, scale, rtol=1e-12):
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.shape == want.shape
    err = np.abs(got - want)
    assert np.all(err <= rtol * scale + 1e-300), f"max error {err.max():.3e}, max scale {np.max(scale):.3e}"


class BackendCommonTests:
    """Tests every backend must pass; subclasses set ``backend``."""

    backend: type[OperatorBackend]

    @pytest.fixture
    def make(self):
        if not self.backend.is_available():
            pytest.skip(f"{self.backend.name} not available: {self.backend.unavailable_reason()}")
        return self.backend().prepare

    @pytest.mark.parametrize("n,d,P", SHAPES)
    def test_matches_definitions(self, make, n, d, P):
        for seed in range(3):
            X, D, W, r = make_instance(n, d, P, seed)
            op = make(X, D)
            assert (op.n, op.d, op.P) == (n, d, P)
            assert op.backend == self.backend.name
            ref = reference(X, D, W, r)
            assert_close(op.forward(W), *ref["forward"])
            assert_close(op.adjoint(r), *ref["adjoint"])
            assert_close(op.min_slacks(W), *ref["min_slacks"])

    @pytest.mark.parametrize("n,d,P", SHAPES)
    def test_adjoint_identity(self, make, n, d, P):
        X, D, W, r = make_instance(n, d, P, seed=7)
        op = make(X, D)
        lhs = float(op.forward(W) @ r)
        rhs = float(np.sum(W * op.adjoint(r)))
        scale = float(np.sum(np.abs(r)[:, None] * D * (np.abs(X) @ np.abs(W))))
        assert abs(lhs - rhs) <= 1e-10 * scale

    def test_matches_numpy_backend(self, make):
        X, D, W, r = make_instance(300, 6, 25, seed=3)
        op, ref = make(X, D), NumpyBackend().prepare(X, D)
        scales = reference(X, D, W, r)
        assert_close(op.forward(W), ref.forward(W), scales["forward"][1])
        assert_close(op.adjoint(r), ref.adjoint(r), scales["adjoint"][1])
        assert_close(op.min_slacks(W), ref.min_slacks(W), scales["min_slacks"][1])

    def test_accepts_bool_int_lists_and_any_layout(self, make):
        X, D, W, r = make_instance(20, 3, 5, seed=1)
        want = reference(X, D, W, r)
        for Dv in (D.astype(bool), D.astype(np.int8), D.tolist()):
            op = make(X.tolist(), Dv)
            assert_close(op.forward(np.asfortranarray(W)), *want["forward"])
            assert_close(op.forward(W.T.copy().T), *want["forward"])
            assert_close(op.adjoint(r[::-1].copy()[::-1]), *want["adjoint"])
            W32 = W.astype(np.float32)                    # converted to float64 on entry
            assert_close(op.min_slacks(W32), *reference(X, D, W32.astype(np.float64), r)["min_slacks"])

    def test_min_slacks_measure_cone_membership(self, make):
        # W[:, p] = g_p with D_p = 1[X g_p >= 0] lies in the cone K_p: every slack is >= 0,
        # and 0 exactly at the tie row; -g_p violates it by max_k |x_k^T g_p|.
        rng = np.random.default_rng(5)
        X = rng.standard_normal((40, 4))
        X[0] = 0.0
        G = rng.standard_normal((4, 6))
        D = (X @ G >= 0).astype(float)
        op = make(X, D)
        assert np.all(op.min_slacks(G) == 0.0)            # the zero row is tied, slack 0
        viol = np.maximum(0.0, -op.min_slacks(-G))
        assert_close(viol, np.abs(X @ G).max(axis=0), np.abs(X @ G).max(axis=0))

    def test_nan_propagates(self, make):
        X, D, W, r = make_instance(10, 3, 4, seed=2)
        op = make(X, D)
        W[1, 2] = np.nan
        s = op.min_slacks(W)
        assert np.isnan(s[2]) and np.isfinite(np.delete(s, 2)).all()
        assert np.isnan(op.forward(W)).any()
        r[3] = np.nan
        assert np.isnan(op.adjoint(r)).any()

    def test_input_errors(self, make):
        X, D, W, r = make_instance(6, 2, 3, seed=0)
        with pytest.raises(InputError, match=r"X has shape \(6,\) but must be a non-empty 2-D array"):
            make(X[:, 0], D)
        with pytest.raises(InputError, match=r"X contains NaN or infinite entries"):
            make(np.where(X > 0, np.inf, X), D)
        with pytest.raises(InputError, match=r"D has shape \(5, 3\) but X has 6 rows: "
                                             r"D must be \(n, P\) = \(6, P\)"):
            make(X, D[:5])
        with pytest.raises(InputError, match=r"D must hold only 0 and 1"):
            make(X, 2 * D)
        op = make(X, D)
        with pytest.raises(InputError, match=r"W has shape \(3, 2\) but .* W must be \(d, P\) = \(2, 3\)"):
            op.forward(W.T)
        with pytest.raises(InputError, match=r"W has shape \(2, 4\)"):
            op.min_slacks(np.zeros((2, 4)))
        with pytest.raises(InputError, match=r"r has shape \(5,\) but .* r must be \(6,\)"):
            op.adjoint(r[:5])
        with pytest.raises(ValueError):                   # InputError is a ValueError
            op.adjoint(np.zeros((6, 1)))


class TestNumpyBackend(BackendCommonTests):
    backend = NumpyBackend


class TestNumbaBackend(BackendCommonTests):
    backend = NumbaBackend


class TestNumbaParallelBackend(BackendCommonTests):
    backend = NumbaParallelBackend


# --- select_backend -------------------------------------------------------------------------


def test_registry_names_and_declarations():
    assert set(BACKENDS) == {"numpy", "numba", "numba-parallel", "cuda", "cupy"}
    for name, cls in BACKENDS.items():
        assert cls.name == name and issubclass(cls, OperatorBackend)
        assert cls.required_modules and all("." not in m for m in cls.required_modules)
    assert backends.AUTO_ORDER == ("cupy", "cuda", "numba", "numpy")


def test_select_auto():
    chosen = select_backend()
    assert chosen is select_backend("auto") and chosen.is_available()
    if CupyBackend.is_available():
        assert chosen is CupyBackend
    elif CudaBackend.is_available() and not CudaBackend.is_simulated():
        assert chosen is CudaBackend
    else:
        assert chosen is NumbaBackend                   # numba is a dependency of certify
    # Small instances never go to a GPU; large ones go wherever "auto" goes.
    assert select_backend("auto", work=backends.GPU_MIN_WORK - 1) is NumbaBackend
    assert select_backend("auto", work=backends.GPU_MIN_WORK) is chosen


def test_auto_prefers_gpu_only_for_large_work(monkeypatch):
    # Pretend both GPU backends are usable: "auto" must pick CuPy, then the CUDA kernels, and
    # neither below GPU_MIN_WORK.
    monkeypatch.setattr(CupyBackend, "unavailable_reason", classmethod(lambda cls: None))
    monkeypatch.setattr(CudaBackend, "unavailable_reason", classmethod(lambda cls: None))
    monkeypatch.setattr(CudaBackend, "is_simulated", classmethod(lambda cls: False))
    assert select_backend("auto", work=1e9) is CupyBackend
    assert select_backend("auto") is CupyBackend
    assert select_backend("auto", work=1e6) is NumbaBackend
    monkeypatch.setattr(CupyBackend, "unavailable_reason", classmethod(lambda cls: "no cupy"))
    assert select_backend("auto", work=1e9) is CudaBackend
    monkeypatch.setattr(CudaBackend, "is_simulated", classmethod(lambda cls: True))
    assert select_backend("auto", work=1e9) is NumbaBackend


def test_select_by_name():
    assert select_backend("numpy") is NumpyBackend
    assert select_backend("numba") is NumbaBackend
    assert select_backend("numba-parallel") is NumbaParallelBackend


def test_select_unknown_name():
    with pytest.raises(InputError, match=r"The 'preference' argument of select_backend must be one of "
                                         r"'auto', 'numpy', .* Got 'gpu' instead\."):
        select_backend("gpu")
    with pytest.raises(InputError, match=r"Got None instead"):
        select_backend(None)  # type: ignore[arg-type]


def test_select_cuda_without_gpu():
    if CudaBackend.is_available():
        pytest.skip("a CUDA GPU (or the simulator) is available here")
    with pytest.raises(SolverError, match=r"The 'cuda' operator backend is not available: "
                                          r"numba.cuda.is_available\(\) is False"):
        select_backend("cuda")


def test_missing_modules_fall_back(monkeypatch):
    for cls in (NumbaBackend, CudaBackend, CupyBackend):
        monkeypatch.setattr(cls, "required_modules", ("certify_no_such_module",))
    assert NumbaBackend.missing_modules() == ["certify_no_such_module"]
    assert not NumbaBackend.is_available() and not CudaBackend.is_available()
    assert NumbaParallelBackend.unavailable_reason() == "module(s) certify_no_such_module not installed"
    assert select_backend("auto") is NumpyBackend
    with pytest.raises(SolverError, match=r"The 'numba' operator backend is not available: "
                                          r"module\(s\) certify_no_such_module not installed\. "
                                          r"Use select_backend\('auto'\)"):
        select_backend("numba")
    with pytest.raises(SolverError, match=r"'cuda' .* not installed"):
        select_backend("cuda")


def test_cuda_threads_per_block_must_be_power_of_two(monkeypatch):
    monkeypatch.setattr(CudaBackend, "threads_per_block", 96)
    with pytest.raises(InputError, match=r"threads_per_block must be a power of two. Got 96 instead"):
        CudaBackend().prepare(np.ones((2, 1)), np.ones((2, 1)))


# --- subprocesses: lazy imports and the CUDA simulator ----------------------------------------


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_import_does_not_load_numba():
    proc = run_python("""
        import sys
        import certify
        import certify.solve.backends as b
        assert b.NumbaBackend.is_available()          # find_spec, no import
        b.NumpyBackend().prepare([[1.0]], [[1]]).forward([[2.0]])
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite')))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_cuda_kernels_in_simulator():
    # threads_per_block = 4 < n = 7: exercises the strided row loops and the tree reductions.
    proc = run_python("""
        import json
        import numpy as np
        from certify.solve.backends import CudaBackend, NumpyBackend, select_backend
        assert CudaBackend.is_simulated() and CudaBackend.is_available()
        assert select_backend("auto") is not CudaBackend       # never the simulator
        CudaBackend.threads_per_block = 4
        rng = np.random.default_rng(11)
        X = rng.standard_normal((7, 3)); X[2] = 0.0
        D = rng.random((7, 4)) < 0.5; D[:, 0] = False; D[:, 1] = True
        W = rng.standard_normal((3, 4)); r = rng.standard_normal(7)
        op = select_backend("cuda")().prepare(X, D)
        ref = NumpyBackend().prepare(X, D)
        out = {"backend": op.backend}
        for f, a in (("forward", W), ("adjoint", r), ("min_slacks", W)):
            got, want = getattr(op, f)(a), getattr(ref, f)(a)
            assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == want.shape
            out[f] = float(np.abs(got - want).max() / np.abs(want).max())
        out["identity"] = abs(float(op.forward(W) @ r) - float(np.sum(W * op.adjoint(r))))
        W[0, 3] = np.nan
        out["nan"] = np.isnan(op.min_slacks(W)).tolist()
        print(json.dumps(out))
    """, NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["backend"] == "cuda"
    for f in ("forward", "adjoint", "min_slacks"):
        assert out[f] <= 1e-12, (f, out[f])
    assert out["nan"] == [False, False, False, True]
    assert out["identity"] <= 1e-12


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["cuda", "cupy"])
def test_gpu_backend_on_gpu(name):
    backend = BACKENDS[name]
    if (name == "cuda" and backend.is_simulated()) or not backend.is_available():
        pytest.skip(f"no usable CUDA GPU for the {name} backend: {backend.unavailable_reason()}")
    for n, d, P in [(7, 3, 4), (2000, 20, 100), (3001, 7, 33)]:
        X, D, W, r = make_instance(n, d, P, seed=n)
        op = select_backend(name)().prepare(X, D)
        assert op.backend == name
        ref = reference(X, D, W, r)
        assert_close(op.forward(W), *ref["forward"])
        assert_close(op.adjoint(r), *ref["adjoint"])
        assert_close(op.min_slacks(W), *ref["min_slacks"])
        lhs, rhs = float(op.forward(W) @ r), float(np.sum(W * op.adjoint(r)))
        assert abs(lhs - rhs) <= 1e-10 * float(np.sum(np.abs(r)[:, None] * D * (np.abs(X) @ np.abs(W))))


def test_cupy_unavailable_reason_names_the_cause():
    reason = CupyBackend.unavailable_reason()
    if importlib.util.find_spec("cupy") is None:
        assert reason == "module(s) cupy not installed"
        with pytest.raises(SolverError, match=r"The 'cupy' operator backend is not available: "
                                              r"module\(s\) cupy not installed"):
            select_backend("cupy")
    else:  # CuPy installed: usable, or a reason naming CuPy
        assert reason is None or "CuPy" in reason


def test_cuda_probe_failure_makes_backend_unavailable(monkeypatch):
    # numba.cuda can report a device while the kernels cannot compile (seen on a GPU machine:
    # numba-cuda with NumPy 2.5 fails on np.row_stack). The probe must turn that into a reason.
    pytest.importorskip("numba")
    from certify.solve.backends import cuda_backend

    def broken(tpb):
        raise AttributeError("module 'numpy' has no attribute 'row_stack'")

    monkeypatch.setattr(cuda_backend, "_cuda_kernels", broken)
    reason = cuda_backend._probe_failure.__wrapped__(128)
    assert reason == ("the CUDA kernels failed to compile or run (AttributeError: module 'numpy' "
                      "has no attribute 'row_stack')")

    class FakeCuda:
        @staticmethod
        def is_available():
            return True

    import numba

    monkeypatch.setattr(numba, "cuda", FakeCuda, raising=False)
    monkeypatch.setattr(cuda_backend, "_probe_failure", lambda tpb: reason)
    assert CudaBackend.unavailable_reason() == reason
    assert select_backend("auto") is not CudaBackend
    with pytest.raises(SolverError, match=r"'cuda' operator backend is not available: the CUDA kernels "
                                          r"failed to compile or run \(AttributeError"):
        select_backend("cuda")


def test_numba_kernels_are_built_once_per_process():
    # a new dispatcher per operator reloaded Numba's cache on its first call (~12 ms per solve)
    pytest.importorskip("numba")
    from certify.solve.backends.numba_backend import _numba_kernels

    X, D, W, r = make_instance(9, 2, 3, seed=1)
    a, b = NumbaBackend().prepare(X, D), NumbaBackend().prepare(X, D)
    assert a._fwd is b._fwd and a._adj is b._adj and _numba_kernels(False) is _numba_kernels(False)
