"""Coverage-guided fuzzing of the input loaders (issue 11, item 5).

Entry points: :func:`certify.io.data.load_data` (``.npz`` and ``.csv``),
:func:`certify.io.model.load_network` (``.npz`` and ``.safetensors``; ``.pt`` too when the
environment variable ``CERTIFY_FUZZ_TORCH=1`` is set and PyTorch is installed) and
:func:`certify.io.patterns.load_patterns` (``.npz``). The first byte of an input picks the
loader and extension (:data:`TARGETS`); the other bytes are written to a temporary file with that
extension. Seed corpus: ``fuzz/corpus/loaders`` (``fuzz/make_corpus.py`` writes it).

The property: a loader either returns what it documents (finite float64 ``X`` (n, d) and ``y``
(n,); a ``Network``; ``{"D": 0/1 uint8 (n, P)}`` or ``{"G": finite float64 (d, P)}``) or raises a
:class:`certify.errors.CertifyError` (``InputError``, ``FormatError``, ...). Any other exception is a
crash.

Run (atheris, libFuzzer options; the first directory receives new inputs)::

    .venv/bin/python fuzz/fuzz_loaders.py -max_total_time=300 -timeout=10 WORKDIR fuzz/corpus/loaders
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

try:
    import atheris
except ImportError:  # replay without coverage guidance (tests/test_fuzz.py)
    atheris = None


def _import_targets(instrument: bool) -> None:
    """Import the code under test, instrumented for coverage when run by libFuzzer."""
    global CertifyError, Network, load_data, load_network, load_patterns
    if instrument:
        with atheris.instrument_imports(include=["certify"]):
            _import_targets(False)
        return
    from certify.errors import CertifyError
    from certify.io.data import load_data
    from certify.io.model import load_network
    from certify.io.patterns import load_patterns
    from certify.network import Network


_import_targets(instrument=__name__ == "__main__" and atheris is not None)

#: (extension, loader) by the first byte of an input, modulo the length.
TARGETS = [(".npz", "data"), (".csv", "data"), (".npz", "network"), (".safetensors", "network"),
           (".npz", "patterns")]
if os.environ.get("CERTIFY_FUZZ_TORCH") == "1":
    TARGETS.append((".pt", "network"))

#: Each input is written to this file (plus the loader's extension) and removed after loading;
#: libFuzzer ends the process with exit(), which would skip the cleanup of a temporary folder.
_TMP = Path(tempfile.gettempdir()) / f"certify-fuzz-loaders-{os.getpid()}"

#: Crashes found and recorded in tests/data/fuzz_regressions/loaders whose fix is not made yet (an
#: exception type and a piece of its message). With ``CERTIFY_FUZZ_SKIP_KNOWN=1`` (``make fuzz``)
#: they are tolerated, so that a long run goes on to find other crashes; tests/test_fuzz.py replays
#: them without it. Empty: every crash found so far (zipfile exceptions, .npy header TokenError and
#: SyntaxError, in archive members and bare .npy files) is a FormatError now.
KNOWN: list[tuple[type[BaseException], str]] = []
SKIP_KNOWN = os.environ.get("CERTIFY_FUZZ_SKIP_KNOWN") == "1"


class PropertyViolation(AssertionError):
    """A loader broke its documented contract on this input."""


def _finite_float64(a: object, ndim: int, what: str) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype != np.float64 or a.ndim != ndim or not np.all(np.isfinite(a)):
        raise PropertyViolation(f"{what} must be a finite float64 array with {ndim} dimension(s)")
    return a


def _check_result(kind: str, result: object) -> None:
    if kind == "data":
        X, y = result
        _finite_float64(X, 2, "X")
        _finite_float64(y, 1, "y")
        if X.shape[0] != y.shape[0] or X.size == 0:
            raise PropertyViolation(f"X {X.shape} and y {y.shape} disagree or are empty")
    elif kind == "network":
        if not isinstance(result, Network):
            raise PropertyViolation(f"load_network returned {type(result).__name__}")
        d, m = _finite_float64(result.W1, 2, "W1").shape
        if _finite_float64(result.w2, 1, "w2").shape != (m,) or (
                result.b1 is not None and _finite_float64(result.b1, 1, "b1").shape != (m,)):
            raise PropertyViolation("w2 and b1 must have m entries")
    else:
        if not isinstance(result, dict) or len(result) != 1:
            raise PropertyViolation(f"load_patterns returned {result!r:.80}")
        (key, value), = result.items()
        if key == "D":
            if not isinstance(value, np.ndarray) or value.dtype != np.uint8 or value.ndim != 2 or (
                    value.size and value.max() > 1):
                raise PropertyViolation("D must be a 0/1 uint8 matrix")
        elif key == "G":
            _finite_float64(value, 2, "G")
        else:
            raise PropertyViolation(f"load_patterns returned the key {key!r}")


def test_one_input(data: bytes) -> None:
    """Load ``data[1:]`` with the loader ``data[0]`` picks; raise on a contract violation."""
    if not data:
        return
    ext, kind = TARGETS[data[0] % len(TARGETS)]
    path = _TMP.with_suffix(ext)
    path.write_bytes(data[1:])
    loader = {"data": load_data, "network": load_network, "patterns": load_patterns}[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a CSV header is reported with a UserWarning
        try:
            result = loader(path)
        except CertifyError:
            return
        except Exception as exc:
            if SKIP_KNOWN and any(isinstance(exc, t) and text in str(exc) for t, text in KNOWN):
                return
            raise
        finally:
            path.unlink(missing_ok=True)
    _check_result(kind, result)


def main(argv: list[str]) -> None:
    if atheris is None:
        sys.exit("fuzz_loaders.py: atheris is not installed (.venv/bin/pip install atheris); "
                 "tests/test_fuzz.py replays the corpus without it")
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
