"""Resource limits of the checker (issue 11, item 4): certify/check/limits.py.

* Genuine certificates (the tiny example, extreme magnitudes, n = 2000, d = 10, m = 50) stay far
  below every default limit; the measured sizes are asserted with margins.
* Each limit, set just below what the tiny certificate needs, rejects it with a reason naming the
  limit and how to raise it; set exactly at its need, or raised, the certificate passes again.
* Hostile certificates (a 10^7-digit rational, a 10^5-deep nesting, lists and scopes of millions of
  items, claims asking for enormous work) are rejected within 5 s and, measured with tracemalloc,
  under 200 MB of Python memory.
* The raw-text scan agrees with a reference computed on the parsed document (hypothesis).
"""

from __future__ import annotations

import copy
import json
import re
import time
import tracemalloc
from dataclasses import asdict, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from certify.check import gap as gap_module
from certify.check.checker import check_certificate, parse_document
from certify.check.goldstein import _Combination
from certify.check.limits import CheckLimits, LimitExceeded, scan_text, walk_document
from certify.check.verdict import Reject
from certify.cli import main
from certify.exact.context import ExactContext
from certify.exact.digest import data_digest, network_digest
from certify.exact.goldstein import combination_sq
from certify.exact.nc import ExactGradient
from certify.exact.rational import DEFAULT_MAX_DIGITS, DigitLimitError, int_to_str, parse_int, parse_rational
from certify.network import Network
from certify.patterns.sampling import patterns_of_gates, sample_gates
from certify.problem import Problem
from certify.verify import verify

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DEFAULT = CheckLimits()
SECONDS, MEGABYTES = 5.0, 200


# --- instances --------------------------------------------------------------------------------------


class Case:
    """A certificate with its inputs, checked with :meth:`check`."""

    def __init__(self, text: str, X, y, W1, w2, b1=None, patterns_sha256=None) -> None:
        self.text, self.doc = text, json.loads(text)
        self.args = (X, y, W1, w2, b1, patterns_sha256)

    def check(self, document=None, limits=None):
        return check_certificate(self.text if document is None else document, *self.args, limits=limits)


def _case(problem: Problem, net: Network, **kw) -> Case:
    result = verify(problem, net, **kw)
    return Case(result.to_json(), problem.X.tolist(), problem.y.tolist(), net.W1.tolist(), net.w2.tolist(),
                None if net.b1 is None else net.b1.tolist())


@pytest.fixture(scope="module")
def tiny() -> Case:
    data, model = np.load(EXAMPLES / "tiny_data.npz"), np.load(EXAMPLES / "tiny_model.npz")
    return Case((EXAMPLES / "tiny.cert.json").read_text(), data["X"].tolist(), data["y"].tolist(),
                model["W1"].tolist(), model["w2"].tolist())


@pytest.fixture(scope="module")
def moderate() -> Case:
    """n = 2000, d = 10, m = 50 (Gaussian), the size the issue names."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((2000, 10)), rng.standard_normal(2000)
    net = Network(rng.standard_normal((10, 50)) / np.sqrt(10), rng.standard_normal(50) / np.sqrt(50))
    return _case(Problem(X, y, "1/10"), net)


def _text_stats(text: str) -> dict:
    """Bytes, nesting depth, longest list, most digits in an integer string and JSON values."""
    doc = json.loads(text)
    depth = longest = digits = values = 0
    stack = [(doc, 0)]
    while stack:
        obj, level = stack.pop()
        values += 1
        if isinstance(obj, (dict, list)):
            depth, longest = max(depth, level + 1), max(longest, len(obj))
            stack.extend((v, level + 1) for v in (obj.values() if isinstance(obj, dict) else obj))
        elif isinstance(obj, str) and re.fullmatch(r"-?[0-9]+(/[0-9]+)?", obj):
            digits = max(digits, *(len(part.lstrip("-")) for part in obj.split("/")))
    return {"bytes": len(text.encode()), "depth": depth, "list": longest, "digits": digits, "values": values}


def _measure(fn):
    """(result, seconds, peak MiB): time without tracemalloc (it slows allocation), then memory."""
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return result, seconds, peak


def _rejected_for(report, limit: str) -> None:
    assert not report.accepted
    hits = [v for v in report.verdicts if v.values.get("limit") == limit]
    assert hits, [v.reason for v in report.verdicts]
    flag = "--" + limit.replace("_", "-")
    for v in hits:
        assert not v.accepted
        assert "resource limit exceeded" in v.reason and f"{limit} = " in v.reason, v.reason
        assert f"certify check {flag} N" in v.reason and f"CheckLimits({limit}=N)" in v.reason, v.reason


# --- the limits object ------------------------------------------------------------------------------


def test_defaults_are_documented_values() -> None:
    assert asdict(DEFAULT) == {"max_bytes": 64 * 2**20, "max_depth": 64, "max_digits": 20_000,
                               "max_list": 2**20, "max_work": 5 * 10**10, "max_memory": 2 * 2**30}


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10", None])
def test_limits_must_be_positive_integers(value) -> None:
    with pytest.raises(ValueError, match=r"CheckLimits\.max_depth must be a positive integer"):
        CheckLimits(max_depth=value)


def test_limits_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT.max_depth = 3  # type: ignore[misc]


def test_check_certificate_refuses_a_limits_of_another_type(tiny) -> None:
    with pytest.raises(TypeError, match="limits must be a CheckLimits"):
        tiny.check(limits={"max_depth": 3})


# --- genuine certificates stay far below the defaults --------------------------------------------------


def test_tiny_example_sizes_and_headroom(tiny) -> None:
    stats = _text_stats(tiny.text)
    assert stats == {"bytes": 2050, "depth": 7, "list": 7, "digits": 30, "values": 76}
    report = tiny.check()
    assert report.accepted
    assert report.resources["work"] < 1000 and report.resources["limits"] == asdict(DEFAULT)


def test_extreme_magnitudes_stay_far_below_max_digits() -> None:
    """The certificate of tests/test_acceptance.py::test_extreme_magnitudes_round_trip (5e-324 ... 1e150)."""
    X = np.array([[1.0, 5e-324], [1e-300, 2.0], [3.0, -1.0]])
    y = np.array([1e-310, 1.0, 2.0])
    net = Network(np.array([[1.0, -1e-200], [0.5, 1e150]]), np.array([1.0, 1e-150]))
    case = _case(Problem(X, y, "0.1"), net)
    stats = _text_stats(case.text)
    assert 2000 < stats["digits"] <= 3000  # measured: 2759
    assert stats["digits"] * 5 < DEFAULT.max_digits
    assert case.check().accepted
    assert not case.check(limits=CheckLimits(max_digits=stats["digits"] - 1)).accepted
    assert case.check(limits=CheckLimits(max_digits=stats["digits"])).accepted


def test_moderate_certificate_stays_far_below_every_default(moderate) -> None:
    stats = _text_stats(moderate.text)
    report, seconds, peak = _measure(moderate.check)
    assert report.accepted
    # measured: 181 kB, depth 7, longest list 2000 (rho), 197 digits, work 3.1e7
    assert stats["bytes"] * 100 < DEFAULT.max_bytes
    assert stats["depth"] * 8 <= DEFAULT.max_depth
    assert stats["digits"] * 50 < DEFAULT.max_digits
    assert stats["list"] == 2000 and stats["list"] * 500 < DEFAULT.max_list
    assert report.resources["work"] * 1000 < DEFAULT.max_work
    assert peak < MEGABYTES


# --- each limit: just below rejects (naming it), at the need or raised passes ------------------------------

# the tiny certificate's need for each limit (measured: tests above), and a raised value
NEEDS = {"max_bytes": 2050, "max_depth": 7, "max_digits": 30, "max_list": 7}


@pytest.mark.parametrize("limit", sorted(NEEDS))
def test_each_text_limit_rejects_below_the_need_and_passes_at_it(tiny, limit: str) -> None:
    need = NEEDS[limit]
    _rejected_for(tiny.check(limits=replace(DEFAULT, **{limit: need - 1})), limit)
    assert tiny.check(limits=replace(DEFAULT, **{limit: need})).accepted
    assert tiny.check(limits=replace(DEFAULT, **{limit: 10 * getattr(DEFAULT, limit)})).accepted


def test_max_work_rejects_the_claims_past_the_budget_only(tiny) -> None:
    used = tiny.check().resources["work"]
    report = tiny.check(limits=CheckLimits(max_work=used - 1))
    _rejected_for(report, "max_work")
    assert report.verdicts[0].accepted  # the objective fits; a later claim does not
    assert tiny.check(limits=CheckLimits(max_work=used)).accepted
    report = tiny.check(limits=CheckLimits(max_work=1))
    assert all(v.values.get("limit") == "max_work" for v in report.verdicts)


def test_max_memory_rejects_the_parse_and_the_forward_pass(tiny, moderate) -> None:
    _rejected_for(tiny.check(limits=CheckLimits(max_memory=10_000)), "max_memory")  # parse: ~16 kB
    report = moderate.check(limits=CheckLimits(max_memory=2**22))  # parses; n m = 1e5 pre-activations
    _rejected_for(report, "max_memory")
    assert "forward pass" in report.verdicts[0].reason
    assert moderate.check(limits=CheckLimits(max_memory=2**26)).accepted


def test_limits_of_the_command_line(tiny, capsys) -> None:
    args = ["check", str(EXAMPLES / "tiny.cert.json"), "--data", str(EXAMPLES / "tiny_data.npz"),
            "--model", str(EXAMPLES / "tiny_model.npz")]
    for option, low in (("--max-digits", "29"), ("--max-depth", "6"), ("--max-bytes", "2049"),
                        ("--max-list", "6"), ("--max-work", "10"), ("--max-memory", "1000")):
        assert main(args + [option, low]) == 1, option
        out = capsys.readouterr().out
        assert f"certify check {option} N" in out and out.strip().splitlines()[-1].startswith("REJECTED")
        assert main(args + [option, "1e12"]) == 0, option
        assert capsys.readouterr().out.strip().splitlines()[-1] == "ACCEPTED: 4 of 4 claims"
    with pytest.raises(SystemExit):
        main(args + ["--max-work", "0"])
    assert "expected a positive integer" in capsys.readouterr().err


def test_command_line_help_names_every_limit_and_its_default(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, value in asdict(DEFAULT).items():
        assert re.search(rf"--{name.replace('_', '-')} N .*?\(default {value}", text), name


def test_command_line_reads_at_most_max_bytes_plus_one(tmp_path, capsys) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2**20 + 10))
    rc = main(["check", str(big), "--data", str(EXAMPLES / "tiny_data.npz"),
               "--model", str(EXAMPLES / "tiny_model.npz"), "--max-bytes", str(2**20)])
    assert rc == 1 and "longer than 1048576 bytes" in capsys.readouterr().out


# --- hostile certificates: rejected within seconds and bounded memory ----------------------------------


def _hostile(case: Case, document, limit: str | None, reason: str | None = None):
    report, seconds, peak = _measure(lambda: case.check(document))
    assert not report.accepted
    if limit is not None:
        _rejected_for(report, limit)
    if reason is not None:
        assert any(reason in v.reason for v in report.verdicts), [v.reason for v in report.verdicts]
    print(f"rejected in {seconds:.3f} s, peak {peak:.1f} MiB: {report.verdicts[0].reason[:90]}")
    assert seconds < SECONDS, seconds
    assert peak < MEGABYTES, peak
    return report


@pytest.mark.parametrize("where", ["lam", "objective numerator", "gap denominator", "rho entry"])
def test_ten_million_digit_rational(tiny, where: str) -> None:
    doc = copy.deepcopy(tiny.doc)
    huge = "7" * 10**7
    if where == "lam":
        doc["inputs"]["lam"] = huge
    elif where == "objective numerator":
        doc["claims"][0]["objective"] = huge + "/2"
    elif where == "gap denominator":
        doc["claims"][2]["gap"] = "1/" + huge
    else:
        doc["claims"][2]["evidence"]["rho"][2] = huge
    report = _hostile(tiny, json.dumps(doc), "max_digits", "10000000 digits")
    if where != "lam":  # the other claims are still checked, and accepted
        assert sum(v.accepted for v in report.verdicts) == 3


@pytest.mark.parametrize("where", ["diagnostics", "claim", "top"])
def test_hundred_thousand_deep_nesting(tiny, where: str) -> None:
    deep = "[" * 10**5 + "]" * 10**5
    if where == "diagnostics":
        text = tiny.text.replace('"diagnostics": {', '"diagnostics": {"deep": ' + deep + ",", 1)
    elif where == "claim":
        text = tiny.text.replace('"loss": "5/2"', '"loss": ' + deep, 1)
    else:
        text = deep
    assert text != tiny.text
    _hostile(tiny, text, "max_depth", "100000 levels deep" if where == "top" else None)


def test_deep_brackets_inside_strings_are_not_nesting(tiny) -> None:
    text = tiny.text.replace('"diagnostics": {', '"diagnostics": {"deep": "' + "[{" * 10**5 + '\\"[",', 1)
    assert tiny.check(text).accepted


def test_huge_lists_are_rejected_before_parsing(tiny) -> None:
    text = tiny.text.replace('"diagnostics": {', '"diagnostics": {"x": [' + "0," * 3 * 10**6 + "0],", 1)
    _hostile(tiny, text, "max_list")
    text = tiny.text.replace('"diagnostics": {', '"diagnostics": {"x": [' + "[]," * 2 * 10**6 + "0],", 1)
    _hostile(tiny, text, "max_list")


def test_millions_of_small_values_exceed_max_memory_before_parsing(tiny) -> None:
    # 24 million zeros in lists of a million: ~2.4 GB estimated (100 bytes a value), 48 MB of text
    chunk = "[" + "0," * (10**6 - 1) + "0]"
    text = tiny.text.replace('"diagnostics": {', '"diagnostics": {"x": [' + ",".join([chunk] * 24) + "],", 1)
    _hostile(tiny, text, "max_memory", "parsing the certificate")


def test_long_list_where_n_entries_are_expected(tiny) -> None:
    doc = copy.deepcopy(tiny.doc)
    doc["claims"][2]["evidence"]["rho"] = ["1"] * 10**6
    doc["claims"][2]["scope"] = {"kind": "given", "patterns": ["0"] * 10**6, "patterns_sha256": "0" * 64}
    _hostile(tiny, json.dumps(doc), None, "scope.patterns lists a pattern twice")
    doc["claims"][2]["scope"] = {"kind": "own", "max_ties": 12}
    _hostile(tiny, json.dumps(doc), None, "evidence.rho has 1000000 entries, expected n = 3")


def test_a_billion_declared_points(tiny) -> None:
    _hostile(tiny, tiny.text.replace('"n": 3', '"n": 1000000000', 1), None, "do not match the inputs' shape")


@pytest.fixture(scope="module")
def tied() -> Case:
    """m = 24 neurons, each exactly on 16 data hyperplanes: an own scope of 24 * 2^16 patterns."""
    m, per = 24, 16
    W1 = np.zeros((3, m))
    rows = []
    for j in range(m):
        a, b = 1.0, float(j + 2)  # pairwise non-parallel directions (a, b, 0)
        W1[:, j] = (a, b, 0.0)
        rows += [(-b * t, a * t, float(t % 5)) for t in range(1, per + 1)]
    X = np.array(rows)
    y = np.linspace(-1.0, 1.0, len(rows))
    w2 = np.ones(m)
    ctx_net = Network(W1, w2)
    doc = {"format": "certify-certificate", "version": "1.0", "producer": {}, "diagnostics": {},
           "conventions": json.loads((EXAMPLES / "tiny.cert.json").read_text())["conventions"],
           "inputs": {"data_sha256": data_digest(X.tolist(), y.tolist()),
                      "network_sha256": network_digest(W1.tolist(), w2.tolist(), None),
                      "lam": "1", "n": len(rows), "d": 3, "m": m, "bias": False},
           "claims": [{"id": "gap", "type": "subsampled_gap", "scope": {"kind": "own", "max_ties": 16},
                       "lower_bound": "0", "gap": "1000000",
                       "evidence": {"den": "1", "rho": ["0"] * len(rows), "blocks": []}}]}
    return Case(json.dumps(doc), X.tolist(), y.tolist(), ctx_net.W1.tolist(), w2.tolist())


def test_own_scope_of_millions_of_patterns_stops_early(tied) -> None:
    ctx = ExactContext(*tied.args[:4], None, Fraction(1))
    assert len(ctx.ties) == 24 * 16
    width = (len(ctx.X_rows) + 3) // 4
    doc = copy.deepcopy(tied.doc)
    blocks = doc["claims"][0]["evidence"]["blocks"]
    blocks += [{"pattern": "f" * width, "sign": s, "mu_idx": [], "mu_num": []} for s in (1, -1)]
    _hostile(tied, json.dumps(doc), None, "own scope has at least 65536")
    # room for 2^16 + 1 patterns: the first neuron is enumerated, the second stops it
    blocks += [{"pattern": format(i, f"0{width}x"), "sign": s, "mu_idx": [], "mu_num": []}
               for i in range(1, 2**16 + 1) for s in (1, -1)]
    _hostile(tied, json.dumps(doc), None, "own scope has at least 1310")


def test_own_scope_work_is_charged_before_enumerating(tied) -> None:
    report = tied.check(limits=CheckLimits(max_work=10**8))
    _rejected_for(report, "max_work")
    assert "enumerating the own scope (1572864 tie patterns)" in report.verdicts[0].reason


def test_goldstein_points_with_enormous_numbers(moderate) -> None:
    """1024 points whose replacement weights have 19,869-digit denominators: ~1e13 units of work."""
    doc = copy.deepcopy(moderate.doc)
    gi = next(i for i, c in enumerate(doc["claims"]) if c["type"] == "stationarity_goldstein")
    column = ["1/" + int_to_str(2**66000)] + ["0"] * 9
    doc["claims"][gi]["points"] = [{"weight": "1/1024", "changes": [{"j": 0, "W1": column}]}] * 1024
    report = _hostile(moderate, json.dumps(doc), "max_work", "1024 Goldstein point(s)")
    assert sum(v.accepted for v in report.verdicts) == len(doc["claims"]) - 1


def _odd_denominators(count: int, digits: int = 19_999) -> list[str]:
    """Distinct odd integers of ``digits`` digits: sums of their reciprocals have huge denominators."""
    base = 10 ** (digits - 1)
    return [int_to_str(base + 2 * i + 1) for i in range(count)]


def test_goldstein_weights_with_distinct_huge_denominators(tiny) -> None:
    """1024 weights 1/q_i: their sum and the combination would need denominators of 20 million digits.

    Before the charge for rational growth (limits.sum_work) 64 such points took 128 s here.
    """
    doc = copy.deepcopy(tiny.doc)
    doc["claims"][3]["points"] = [{"weight": "1/" + q, "changes": []} for q in _odd_denominators(1024)]
    report = _hostile(tiny, json.dumps(doc), "max_work", "weighted sum")
    assert [v.accepted for v in report.verdicts] == [True, True, True, False]
    # with dyadic weights the same number of points is cheap, and the sum is exactly 1
    doc["claims"][3]["points"] = [{"weight": "1/1024", "changes": []}] * 1024
    assert tiny.check(json.dumps(doc)).accepted


def test_tie_multipliers_with_distinct_huge_denominators(tied) -> None:
    """A zero neuron with w2 != 0 is tied with all 384 points: 384 multipliers c = 1/q_i."""
    X, y, W1, w2 = tied.args[:4]
    W1 = [row + [0.0] for row in W1]
    w2 = w2 + [1.0]
    ctx = ExactContext(X, y, W1, w2, None, Fraction(1))
    doc = copy.deepcopy(tied.doc)
    doc["inputs"].update(network_sha256=network_digest(W1, w2, None), m=len(w2))
    big = iter(_odd_denominators(len(X)))
    ties = [{"k": k, "j": j, "c": "1/" + next(big) if j == len(w2) - 1 else "0"} for k, j in ctx.ties]
    doc["claims"] = [{"id": "s", "type": "stationarity", "grad_sq_bound": "1", "ties": ties,
                      "ties_independent": False}]
    case = Case(json.dumps(doc), X, y, W1, w2)
    _hostile(case, None, "max_work", f"summing {len(ties)} tie multipliers")


# --- the pieces ---------------------------------------------------------------------------------------


def test_parse_int_digit_limit_is_a_parameter() -> None:
    assert DEFAULT_MAX_DIGITS == 100_000
    assert parse_int("9" * 100_000) == 10**100_000 - 1
    with pytest.raises(DigitLimitError, match="100001 characters exceeds the limit of 100000 digits"):
        parse_int("9" * 100_001)
    assert parse_int("-" + "9" * 5, max_digits=5) == -99999  # the sign is not a digit
    with pytest.raises(DigitLimitError) as info:
        parse_rational("1/" + "3" * 6, "x", max_digits=5)
    assert (info.value.what, info.value.digits, info.value.limit) == ("x", 6, 5)
    assert isinstance(info.value, ValueError)
    assert parse_rational("1/" + "3" * 5, "x", max_digits=5) == Fraction(1, 33333)


def test_parse_document_limits(tiny) -> None:
    assert parse_document(tiny.text) == tiny.doc
    assert parse_document(tiny.text.encode("utf-16")) == tiny.doc  # decoded as json.loads does
    with pytest.raises(LimitExceeded, match="max_depth = 6"):
        parse_document(tiny.text, CheckLimits(max_depth=6))
    with pytest.raises(Reject, match="must be JSON text"):
        parse_document(12)  # type: ignore[arg-type]


def test_document_given_as_a_dict_is_walked_without_recursion(tiny) -> None:
    doc = copy.deepcopy(tiny.doc)
    assert tiny.check(doc).accepted
    cyclic = copy.deepcopy(tiny.doc)
    cyclic["diagnostics"]["self"] = cyclic
    _rejected_for(tiny.check(cyclic), "max_depth")
    nested: list = []
    for _ in range(10**5):
        nested = [nested]
    doc["diagnostics"]["deep"] = nested
    _rejected_for(tiny.check(doc), "max_depth")
    with pytest.raises(LimitExceeded, match="max_list"):
        walk_document({"a": list(range(10))}, CheckLimits(max_list=9))


def _ref_depth_and_longest(obj) -> tuple[int, int]:
    depth = longest = 0
    stack = [(obj, 0)]
    while stack:
        o, level = stack.pop()
        if isinstance(o, (dict, list)):
            depth, longest = max(depth, level + 1), max(longest, len(o))
            stack.extend((v, level + 1) for v in (o.values() if isinstance(o, dict) else o))
    return depth, longest


_TEXT = st.text(alphabet=st.sampled_from('ab[]{},:"\\/\n\t\u00e9\u4e2d\U0001f600'), max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | _TEXT,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(_TEXT, inner, max_size=6),
    max_leaves=40)


@given(doc=_JSON, depth=st.integers(1, 6), length=st.integers(1, 6), ascii_only=st.booleans())
def test_scan_text_agrees_with_the_parsed_document(doc, depth: int, length: int, ascii_only: bool) -> None:
    text = json.dumps(doc, ensure_ascii=ascii_only)
    true_depth, true_longest = _ref_depth_and_longest(doc)
    limits = CheckLimits(max_depth=depth, max_list=length)
    try:
        scan_text(text, limits)
        outcome = None
    except LimitExceeded as exc:
        outcome = exc.limit
    if true_depth > depth:
        assert outcome == "max_depth"
    elif true_longest > length:
        assert outcome == "max_list"
    else:
        assert outcome is None


def test_goldstein_running_combination_equals_the_kernel() -> None:
    rng = np.random.default_rng(5)
    grads, weights = [], []
    for _ in range(6):
        d, m = 3, 4
        den1, den2 = 2 ** int(rng.integers(0, 70)) * 3, 2 ** int(rng.integers(0, 70)) * 5
        dW1 = [[int(v) for v in rng.integers(-10**12, 10**12, m)] for _ in range(d)]
        dw2 = [int(v) for v in rng.integers(-10**12, 10**12, m)]
        grads.append(ExactGradient(dW1, den1, dw2, den2))
        weights.append(Fraction(int(rng.integers(0, 7)), int(rng.integers(1, 9))))
    acc = _Combination()
    for c, g in zip(weights, grads, strict=True):
        acc.add(c, g)
    assert acc.squared_norm() == combination_sq(grads, weights)


def test_given_scope_in_many_chunks_and_own_scope_neuron_by_neuron(monkeypatch) -> None:
    """Chunked correlation and neuron-by-neuron enumeration decide as the one-shot paths do."""
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((7, 3)), rng.standard_normal(7)
    W1, w2 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    pats = {"D": patterns_of_gates(X, sample_gates(3, 5, seed=3))}
    given_case = _case(Problem(X, y, "1/2"), Network(W1, w2), patterns=pats)
    Xt = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0], [2.0, 0.5], [1.0, -2.0], [2.0, 2.0]])
    ties_case = _case(Problem(Xt, np.linspace(-1, 1, 7), "1/10"),
                      Network(np.array([[1.0, 0.5], [-1.0, 0.25]]), np.array([1.0, -0.5])))
    for case in (given_case, ties_case):
        assert case.check().accepted
    monkeypatch.setattr(gap_module, "CHUNK_ENTRIES", 7)  # one pattern per chunk
    monkeypatch.setattr(gap_module, "SMALL_SCOPE_BITS", 0)  # always neuron by neuron
    for case in (given_case, ties_case):
        assert case.check().accepted
        doc = copy.deepcopy(case.doc)
        gi = next(i for i, c in enumerate(doc["claims"]) if c["type"] == "subsampled_gap")
        doc["claims"][gi]["lower_bound"] = "1000"
        report = case.check(doc)
        assert [v.accepted for v in report.verdicts] == [i != gi for i in range(len(doc["claims"]))]
        assert "exceeds the dual value" in report.verdicts[gi].reason
