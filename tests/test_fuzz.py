"""The fuzz harnesses in CI (issue 11, item 5): fuzz/fuzz_checker.py and fuzz/fuzz_loaders.py.

* Every seed of fuzz/corpus/<harness>/ and every regression input of
  tests/data/fuzz_regressions/<harness>/ is replayed through the harness's ``test_one_input`` (no
  atheris needed). A regression input whose bug is not fixed yet is an ``xfail(strict=True)`` naming
  the bug, so that the fix flips it.
* When atheris is installed (``make fuzz`` installs it; the package does not depend on it), each
  harness runs briefly under libFuzzer in a subprocess with a timeout, and must report no crash.
* Whether or not atheris is there, hypothesis feeds both harnesses mutated seeds and random edit
  programs (the fallback that keeps the entry points fuzzed in a bare environment).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
REGRESSIONS = ROOT / "tests" / "data" / "fuzz_regressions"
HAS_ATHERIS = importlib.util.find_spec("atheris") is not None
HARNESSES = ("checker", "loaders")

#: Regression inputs of bugs not fixed yet: (harness, file name) -> (exception type, reason).
#: Empty: the six loader crashes found by fuzzing are FormatErrors now (certify/io/data.py read_npz).
OPEN_BUGS: dict[tuple[str, str], tuple[type[BaseException], str]] = {}


def _harness(name: str):
    """Import fuzz/fuzz_<name>.py as a module (not instrumented: it is not __main__)."""
    spec = importlib.util.spec_from_file_location(f"fuzz_{name}", ROOT / "fuzz" / f"fuzz_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness():
    return {name: _harness(name) for name in HARNESSES}


def _inputs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")) \
        if folder.is_dir() else []


def _replay_cases():
    cases = []
    for name in HARNESSES:
        for path in _inputs(ROOT / "fuzz" / "corpus" / name):
            cases.append(pytest.param(name, path, id=f"corpus-{name}-{path.name}"))
        for path in _inputs(REGRESSIONS / name):
            bug = OPEN_BUGS.get((name, path.name))
            marks = [pytest.mark.xfail(strict=True, raises=bug[0], reason=bug[1])] if bug else []
            cases.append(pytest.param(name, path, id=f"regression-{name}-{path.name}", marks=marks))
    return cases


def test_corpus_and_regressions_exist() -> None:
    for name in HARNESSES:
        seeds = _inputs(ROOT / "fuzz" / "corpus" / name)
        assert len(seeds) >= 5 and all(p.stat().st_size <= 4096 for p in seeds), name
    assert set(OPEN_BUGS) <= {(name, p.name) for name in HARNESSES for p in _inputs(REGRESSIONS / name)}


@pytest.mark.parametrize("name, path", _replay_cases())
def test_replay(harness, name: str, path: Path) -> None:
    harness[name].test_one_input(path.read_bytes())


def test_checker_seeds_are_accepted_or_rejected_as_designed(harness) -> None:
    from certify.check.checker import check_certificate

    checker = harness["checker"]
    expected = {"tiny.cert.json": True, "tiny.min.json": True, "handmade.json": True, "given.json": True,
                "goldstein.json": True, "truncated.json": False, "duplicate.json": False, "nan.json": False,
                "unknown.json": False}
    for file, accepted in expected.items():
        text = (ROOT / "fuzz" / "corpus" / "checker" / file).read_bytes()
        assert check_certificate(text, *checker.INSTANCE).accepted is accepted, file


def test_checker_oracle_catches_a_false_acceptance(harness, monkeypatch) -> None:
    """The property is not vacuous: a checker that accepted everything would be reported."""
    import json

    from certify.check.verdict import CheckReport, ClaimVerdict

    checker = harness["checker"]
    doc = json.loads((ROOT / "fuzz" / "corpus" / "checker" / "tiny.cert.json").read_text())
    doc["claims"][0]["objective"] = "7"
    fake = CheckReport([ClaimVerdict(c["id"], c["type"], True, "ok") for c in doc["claims"]], "x", {})
    monkeypatch.setattr(checker, "check_certificate", lambda *a, **k: fake)
    with pytest.raises(checker.PropertyViolation, match="false objective"):
        checker.test_one_input(json.dumps(doc).encode())


# --- libFuzzer, briefly --------------------------------------------------------------------------------

RUNS = {"checker": 4000, "loaders": 2000}


@pytest.mark.skipif(not HAS_ATHERIS, reason="atheris is not installed (make fuzz installs it)")
@pytest.mark.parametrize("name", HARNESSES)
def test_atheris_brief_run(name: str, tmp_path: Path) -> None:
    work = tmp_path / "corpus"
    work.mkdir()
    cmd = [sys.executable, str(ROOT / "fuzz" / f"fuzz_{name}.py"), f"-runs={RUNS[name]}", "-seed=1",
           "-max_total_time=30", "-timeout=10", "-max_len=8192", "-rss_limit_mb=4096",
           f"-artifact_prefix={tmp_path}/", str(work), str(ROOT / "fuzz" / "corpus" / name)]
    env = dict(os.environ, CERTIFY_FUZZ_SKIP_KNOWN="1")  # open bugs: replayed above as xfail
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    artifacts = sorted(p.name for p in tmp_path.iterdir()
                       if p.name.startswith(("crash-", "timeout-", "oom-", "leak-")))
    assert proc.returncode == 0 and not artifacts, (artifacts, proc.stderr[-4000:])
    assert "Done" in proc.stderr


# --- the fallback: hypothesis ----------------------------------------------------------------------------


def _mutate(seed: bytes, edits: list[tuple[int, bytes, int]]) -> bytes:
    data = bytearray(seed)
    for position, insert, delete in edits:
        at = position % (len(data) + 1)
        data[at:at + delete] = insert
    return bytes(data)


_EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=8), st.integers(0, 8)), max_size=6)


@given(seed=st.integers(0, 100), edits=_EDITS)
def test_checker_mutated_seeds(harness, seed: int, edits) -> None:
    seeds = _inputs(ROOT / "fuzz" / "corpus" / "checker")
    harness["checker"].test_one_input(_mutate(seeds[seed % len(seeds)].read_bytes(), edits))


@given(program=st.binary(min_size=1, max_size=80))
def test_checker_edit_programs(harness, program: bytes) -> None:
    harness["checker"].test_one_input(b"\x00" + program)


@given(seed=st.integers(0, 100), edits=_EDITS)
def test_loaders_mutated_seeds(harness, seed: int, edits) -> None:
    seeds = _inputs(ROOT / "fuzz" / "corpus" / "loaders")
    data = _mutate(seeds[seed % len(seeds)].read_bytes(), edits)
    loaders = harness["loaders"]
    try:
        loaders.test_one_input(data)
    except Exception as exc:  # an open bug, already recorded, is not a new failure
        if not any(isinstance(exc, t) and text in str(exc) for t, text in loaders.KNOWN):
            raise
