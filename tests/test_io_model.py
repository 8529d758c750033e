"""Tests of certify.io.model without PyTorch: npz, safetensors, state_dicts of NumPy arrays."""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from certify.errors import FormatError, InputError, UnsupportedModelError
from certify.io.model import load_network, network_from_state_dict, save_network
from certify.network import Network

BAD = Path(__file__).parent / "data" / "bad"
W1 = np.array([[1.0, -1.0, 0.5], [0.25, 2.0, -0.5]])  # (d, m) = (2, 3)
W2 = np.array([1.0, -2.0, 0.5])
B1 = np.array([0.0, 0.125, -1.0])

MODEL_CORPUS = {
    "model_transposed.npz": (InputError, r"model_transposed\.npz': W1 has 2 neurons \(columns\) but w2 "
                                         r"has 3 entries\. .*a PyTorch Linear weight is \(m, d\): "
                                         r"transpose it"),
    "model_extra_key.npz": (FormatError, r"model_extra_key\.npz' has unexpected arrays \['b2'\]: expected "
                                         r"only 'W1' \(d, m\), 'w2' \(m,\) and optionally 'b1'"),
    "model_nan.npz": (InputError, r"model_nan\.npz': w2 contains NaN at index \(1,\)"),
    "model_state_dict_names.npz": (FormatError, r"has no array 'W1' or 'w2': found \['0\.weight', "
                                                r"'2\.weight'\].*These look like PyTorch state_dict names"),
}


@pytest.mark.parametrize("name", sorted(MODEL_CORPUS))
def test_bad_corpus(name: str) -> None:
    error, pattern = MODEL_CORPUS[name]
    with pytest.raises(error, match=pattern):
        load_network(BAD / name)


def test_bad_corpus_is_covered() -> None:
    assert {p.name for p in BAD.glob("model_*")} == set(MODEL_CORPUS)


def test_transposed_w1_message(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    np.savez(path, W1=W1.T, w2=W2)  # PyTorch layout (m, d) = (3, 2)
    with pytest.raises(InputError, match=r"W1 has 2 neurons \(columns\) but w2 has 3 entries\. W1 must be "
                                         r"\(d, m\); a PyTorch Linear weight is \(m, d\): transpose it\."):
        load_network(path)


# --- npz and safetensors -----------------------------------------------------------------


@pytest.mark.parametrize("ext", [".npz", ".safetensors"])
@pytest.mark.parametrize("b1", [None, B1])
def test_roundtrip(tmp_path: Path, ext: str, b1: np.ndarray | None) -> None:
    net = Network(W1, W2, b1)
    path = save_network(net, tmp_path / f"m{ext}")
    back = load_network(path)
    np.testing.assert_array_equal(back.W1, W1)
    np.testing.assert_array_equal(back.w2, W2)
    assert (back.b1 is None) == (b1 is None)
    if b1 is not None:
        np.testing.assert_array_equal(back.b1, b1)
    assert back.digest() == net.digest()


def test_float32_npz_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 5)).astype(np.float32)
    w = rng.standard_normal(5).astype(np.float32)
    np.savez(tmp_path / "m.npz", W1=W, w2=w)
    net = load_network(tmp_path / "m.npz")
    assert net.W1.dtype == np.float64
    np.testing.assert_array_equal(net.W1.astype(np.float32), W)
    np.testing.assert_array_equal(net.W1, W.astype(np.float64))


def test_format_argument_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    save_file({"W1": W1, "w2": W2}, str(path))
    net = load_network(path, format="safetensors")
    np.testing.assert_array_equal(net.W1, W1)
    with pytest.raises(FormatError, match=r"model file '.*weights\.bin' has extension '\.bin'; supported "
                                          r"formats are \.npz \(npz\), \.safetensors \(safetensors\), \.pt "
                                          r"\(torch\), \.pth \(torch\)\. Pass format=\.\.\."):
        load_network(path)


@pytest.mark.parametrize("fmt", ["onnx", "NPZ", 1])
def test_unknown_format_argument(tmp_path: Path, fmt: object) -> None:
    save_network(Network(W1, W2), tmp_path / "m.npz")
    with pytest.raises(InputError, match=r"The 'format' argument of load_network must be one of "
                                         r"\['npz', 'safetensors', 'torch'\]\. Got .* instead\."):
        load_network(tmp_path / "m.npz", format=fmt)  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"model file '.*none\.npz' does not exist"):
        load_network(tmp_path / "none.npz")


def test_npz_missing_w2(tmp_path: Path) -> None:
    np.savez(tmp_path / "m.npz", W1=W1, b1=B1)
    with pytest.raises(FormatError, match=r"has no array 'w2': found \['W1', 'b1'\], expected 'W1' \(d, m\)"):
        load_network(tmp_path / "m.npz")


def test_npz_object_array(tmp_path: Path) -> None:
    np.savez(tmp_path / "m.npz", W1=np.array([[1, None]], dtype=object), w2=W2)
    with pytest.raises(FormatError, match=r"array 'W1' in model file .* is an object array"):
        load_network(tmp_path / "m.npz")


def test_npz_truncated(tmp_path: Path) -> None:
    path = save_network(Network(W1, W2), tmp_path / "m.npz")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(FormatError, match=r"model file .* is not a readable \.npz archive \(truncated"):
        load_network(path)


def test_bias_length(tmp_path: Path) -> None:
    np.savez(tmp_path / "m.npz", W1=W1, w2=W2, b1=np.zeros(2))
    with pytest.raises(InputError, match=r"b1 has 2 entries but the network has 3 neurons"):
        load_network(tmp_path / "m.npz")


def test_inf_in_w1(tmp_path: Path) -> None:
    np.savez(tmp_path / "m.npz", W1=np.where(W1 == 2.0, -np.inf, W1), w2=W2)
    with pytest.raises(InputError, match=r"W1 contains Inf at index \(1, 1\)"):
        load_network(tmp_path / "m.npz")


def test_safetensors_corrupt(tmp_path: Path) -> None:
    path = save_network(Network(W1, W2), tmp_path / "m.safetensors")
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(FormatError, match=r"model file .* is not a readable safetensors file \(Error while "
                                          r"deserializing header"):
        load_network(path)


def test_safetensors_state_dict_layout(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"net.0.weight": W1.T.copy(), "net.0.bias": B1, "net.2.weight": W2[None, :].copy()}, str(path))
    net = load_network(path)
    np.testing.assert_array_equal(net.W1, W1)
    np.testing.assert_array_equal(net.b1, B1)
    np.testing.assert_array_equal(net.w2, W2)


def test_safetensors_extra_key(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"W1": W1, "w2": W2, "scale": np.ones(1)}, str(path))
    with pytest.raises(FormatError, match=r"has unexpected arrays \['scale'\]"):
        load_network(path)


def test_torch_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.pt"
    path.write_bytes(b"anything")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(InputError, match=r"certify needs PyTorch to read PyTorch files: pip install "
                                         r"torch==2\.13\.0 \(or pip install certify\[torch\]\)"):
        load_network(path)


# --- save_network ------------------------------------------------------------------------


def test_save_requires_network(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"The 'network' argument of save_network must be a certify "
                                         r"Network\. Got dict instead\."):
        save_network({"W1": W1, "w2": W2}, tmp_path / "m.npz")  # type: ignore[arg-type]


def test_save_npz_needs_extension(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"save_network writes npz files with the extension \.npz"):
        save_network(Network(W1, W2), tmp_path / "m.weights", format="npz")


def test_save_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"has extension '\.h5'; supported formats"):
        save_network(Network(W1, W2), tmp_path / "m.h5")


def test_save_torch_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"save_network writes npz or safetensors files"):
        save_network(Network(W1, W2), tmp_path / "m.pt")


# --- state_dict parsing (NumPy values: no torch needed) ----------------------------------


def _sd(**kw: np.ndarray) -> OrderedDict:
    return OrderedDict((k.replace("__", "."), v) for k, v in kw.items())


SEQ = OrderedDict([("0.weight", W1.T.copy()), ("0.bias", B1), ("2.weight", W2[None, :].copy())])


@pytest.mark.parametrize("prefix", ["", "module.", "model.net."])
def test_state_dict_sequential(prefix: str) -> None:
    net = network_from_state_dict(OrderedDict((prefix + k, v) for k, v in SEQ.items()))
    np.testing.assert_array_equal(net.W1, W1)
    np.testing.assert_array_equal(net.w2, W2)
    np.testing.assert_array_equal(net.b1, B1)


def test_state_dict_named_layers_without_bias() -> None:
    net = network_from_state_dict({"fc1.weight": W1.T.astype(np.float32), "fc2.weight": W2[None, :]})
    assert net.b1 is None
    np.testing.assert_array_equal(net.W1, W1)


def test_state_dict_output_bias() -> None:
    sd = OrderedDict(SEQ, **{"2.bias": np.zeros(1)})
    with pytest.raises(UnsupportedModelError, match=r"state_dict: the output layer has a bias \('2\.bias', "
                                                    r"shape \(1,\)\); certify's model .* has no output "
                                                    r"bias\. Retrain with nn\.Linear\(m, 1, bias=False\)"):
        network_from_state_dict(sd)


def test_state_dict_three_layers() -> None:
    sd = _sd(l1__weight=np.ones((3, 2)), l2__weight=np.ones((3, 3)), l3__weight=np.ones((1, 3)))
    with pytest.raises(UnsupportedModelError, match=r"has 3 Linear layer\(s\) \('l1', 'l2', 'l3'\); certify "
                                                    r"supports exactly two.*Found: 'l1\.weight' \(3, 2\), "
                                                    r"'l2\.weight' \(3, 3\), 'l3\.weight' \(1, 3\)\."):
        network_from_state_dict(sd)


def test_state_dict_one_layer() -> None:
    with pytest.raises(UnsupportedModelError, match=r"has 1 Linear layer\(s\) \('fc'\)"):
        network_from_state_dict({"fc.weight": np.ones((1, 3))})


def test_state_dict_empty() -> None:
    with pytest.raises(UnsupportedModelError, match=r"has 0 Linear layer\(s\) \(none\).*Found: no entries"):
        network_from_state_dict({})


def test_state_dict_vector_output() -> None:
    sd = _sd(a__weight=np.ones((3, 2)), b__weight=np.ones((2, 3)))
    with pytest.raises(UnsupportedModelError, match=r"the second layer 'b\.weight' has shape \(2, 3\), "
                                                    r"i\.e\. 2 outputs; certify handles a scalar output"):
        network_from_state_dict(sd)


def test_state_dict_width_mismatch() -> None:
    sd = _sd(a__weight=np.ones((3, 2)), b__weight=np.ones((1, 4)))
    with pytest.raises(UnsupportedModelError, match=r"the second layer 'b\.weight' has 4 inputs but the "
                                                    r"first layer 'a\.weight' has 3 outputs "
                                                    r"\(shape \(3, 2\)\)"):
        network_from_state_dict(sd)


def test_state_dict_first_bias_shape() -> None:
    sd = _sd(a__weight=np.ones((3, 2)), a__bias=np.ones((3, 1)), b__weight=np.ones((1, 3)))
    with pytest.raises(UnsupportedModelError, match=r"the first-layer bias 'a\.bias' has shape \(3, 1\), "
                                                    r"expected \(3,\)"):
        network_from_state_dict(sd)


def test_state_dict_other_keys() -> None:
    sd = OrderedDict(SEQ, **{"1.running_mean": np.zeros(3)})
    with pytest.raises(UnsupportedModelError, match=r"entry '1\.running_mean' is neither a Linear weight nor "
                                                    r"a bias"):
        network_from_state_dict(sd)


def test_state_dict_non_tensor_value() -> None:
    sd = OrderedDict(SEQ, **{"2.bias": 0.5})
    with pytest.raises(UnsupportedModelError, match=r"'2\.bias' holds a float, not a tensor\. Found: "
                                                    r"'0\.weight' \(3, 2\), '0\.bias' \(3,\), '2\.weight' "
                                                    r"\(1, 3\), '2\.bias' \(float\)"):
        network_from_state_dict(sd)


def test_state_dict_integer_values() -> None:
    sd = _sd(a__weight=np.ones((3, 2), dtype=np.int64), b__weight=np.ones((1, 3)))
    with pytest.raises(UnsupportedModelError, match=r"'a\.weight' has dtype int64, expected a "
                                                    r"floating-point"):
        network_from_state_dict(sd)


def test_state_dict_one_d_weight() -> None:
    sd = _sd(a__weight=np.ones((3, 2)), norm__weight=np.ones(3), b__weight=np.ones((1, 3)))
    with pytest.raises(UnsupportedModelError, match=r"'norm\.weight' has shape \(3,\), not a 2-D Linear "
                                                    r"weight"):
        network_from_state_dict(sd)


def test_state_dict_bias_without_weight() -> None:
    sd = _sd(a__weight=np.ones((3, 2)), b__weight=np.ones((1, 3)), c__bias=np.ones(1))
    with pytest.raises(UnsupportedModelError, match=r"layer 'c' has a bias but no weight"):
        network_from_state_dict(sd)


def test_state_dict_checkpoint() -> None:
    with pytest.raises(UnsupportedModelError, match=r"entry 'model' is a nested dict, not a tensor\. If this "
                                                    r"is a training checkpoint, save its model state_dict "
                                                    r"alone: torch\.save\(checkpoint\['model'\], path\)"):
        network_from_state_dict({"model": SEQ, "epoch": 3})


def test_state_dict_not_a_mapping() -> None:
    with pytest.raises(UnsupportedModelError, match=r"state_dict holds a list, not a state_dict \(a dict of "
                                                    r"tensors\); save the weights only: torch\.save\(model\."
                                                    r"state_dict\(\), path\)"):
        network_from_state_dict([W1, W2])


def test_state_dict_nan_names_source() -> None:
    sd = OrderedDict(SEQ)
    sd["0.bias"] = np.array([0.0, np.nan, 1.0])
    with pytest.raises(InputError, match=r"^my model: b1 contains NaN at index \(1,\)"):
        network_from_state_dict(sd, source="my model")


def test_state_dict_describe_truncates() -> None:
    sd = OrderedDict((f"l{i}.weight", np.ones((1, 1))) for i in range(20))
    with pytest.raises(UnsupportedModelError, match=r"'l11\.weight' \(1, 1\), \.\.\. \(20 entries in "
                                                    r"all\)\.$"):
        network_from_state_dict(sd)
