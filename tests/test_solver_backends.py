"""The working-set solver gives the same answer whichever operator backend computes the products.

The products over all patterns (``forward``, ``adjoint``) go through the backend of
``SolverOptions.backend``; the algorithm is otherwise identical. NumPy and Numba run here; CUDA
runs in Numba's simulator (a subprocess) and, on a machine with a GPU, on the device.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from certify.patterns.sources import gate_patterns
from certify.solve.backends import BACKENDS
from certify.solve.working_set import SolverOptions, solve
from tests.test_backends import run_python


def _instance(n: int, d: int, P: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    return X, y, gate_patterns(X, P, seed)


@pytest.mark.parametrize("gated", [False, True])
def test_numpy_and_numba_backends_agree(gated):
    X, y, D = _instance(60, 3, 12, seed=3)
    sols = [solve(X, y, 2.0, D, gated=gated, options=SolverOptions(backend=b)) for b in ("numpy", "numba")]
    assert all(s.converged for s in sols)
    assert sols[0].objective == pytest.approx(sols[1].objective, rel=1e-9)
    assert np.allclose(sols[0].U - sols[0].H, sols[1].U - sols[1].H, atol=1e-6)


def test_cuda_backend_in_simulator_matches_numpy():
    proc = run_python("""
        import json
        import numpy as np
        from certify.patterns.sources import gate_patterns
        from certify.solve.working_set import SolverOptions, solve
        rng = np.random.default_rng(5)
        X = rng.standard_normal((20, 2)); y = rng.standard_normal(20)
        D = gate_patterns(X, 5, 5)
        a = solve(X, y, 1.0, D, options=SolverOptions(backend="cuda"))
        b = solve(X, y, 1.0, D, options=SolverOptions(backend="numpy"))
        print(json.dumps([a.converged, b.converged, a.objective, b.objective]))
    """, NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr
    conv_a, conv_b, obj_a, obj_b = json.loads(proc.stdout.strip().splitlines()[-1])
    assert conv_a and conv_b
    assert obj_a == pytest.approx(obj_b, rel=1e-9)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["cuda", "cupy"])
@pytest.mark.parametrize("gated", [False, True])
def test_gpu_backend_on_gpu_matches_numba(name, gated):
    backend = BACKENDS[name]
    if (name == "cuda" and backend.is_simulated()) or not backend.is_available():
        pytest.skip(f"no usable CUDA GPU for the {name} backend: {backend.unavailable_reason()}")
    X, y, D = _instance(2000, 20, 100, seed=1)
    lam = 20.0
    gpu = solve(X, y, lam, D, gated=gated, options=SolverOptions(backend=name))
    cpu = solve(X, y, lam, D, gated=gated, options=SolverOptions(backend="numba"))
    assert gpu.converged and cpu.converged
    assert gpu.objective == pytest.approx(cpu.objective, rel=1e-8)
    assert np.allclose(gpu.U - gpu.H, cpu.U - cpu.H, atol=1e-6 * max(1.0, np.abs(cpu.U - cpu.H).max()))
