"""Tests of loading PyTorch files (needs the optional dependency torch)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from certify.errors import FormatError, UnsupportedModelError  # noqa: E402
from certify.exact.nc import evaluate  # noqa: E402
from certify.io.model import load_network  # noqa: E402
from certify.problem import Problem, convert_lambda  # noqa: E402

pytestmark = pytest.mark.torch

N, D, M = 24, 3, 5
WD = 0.01  # PyTorch weight decay


def _model(d: int = D, m: int = M, out_bias: bool = False) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(d, m), torch.nn.ReLU(), torch.nn.Linear(m, 1, bias=out_bias))


@pytest.fixture(scope="module")
def trained() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """Linear(3, 5) -> ReLU -> Linear(5, 1, bias=False) in float64, a few Adam steps on MSE + decay."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(N, D, generator=gen, dtype=torch.float64)
    y = torch.sin(X.sum(dim=1)) + 0.1 * torch.randn(N, generator=gen, dtype=torch.float64)
    torch.manual_seed(0)
    model = _model().double()
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=WD)
    for _ in range(30):
        opt.zero_grad()
        loss = torch.mean((model(X).squeeze(1) - y) ** 2)
        loss.backward()
        opt.step()
    return model, X, y


def test_trained_predictions(tmp_path: Path, trained: tuple) -> None:
    model, X, _ = trained
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    net = load_network(path)
    assert net.W1.shape == (D, M) and net.w2.shape == (M,) and net.b1.shape == (M,)
    np.testing.assert_array_equal(net.W1, model[0].weight.detach().numpy().T)
    with torch.no_grad():
        expected = model(X).squeeze(1).numpy()
    np.testing.assert_allclose(net.predict(X.numpy()), expected, rtol=1e-12, atol=1e-14)


def test_trained_objective_matches_pytorch(tmp_path: Path, trained: tuple) -> None:
    """certify's NC with lam = n wd / 2 ("mse"), times 2/n, is PyTorch's mean((f-y)^2) + wd/2 ||theta||^2."""
    model, X, y = trained
    path = tmp_path / "model.pth"
    torch.save(model.state_dict(), path)
    with torch.no_grad():
        fit = torch.mean((model(X).squeeze(1) - y) ** 2)
        penalty = sum((p ** 2).sum() for p in model.parameters())  # W1, b1 and w2: all decayed
        torch_objective = float(fit + WD / 2 * penalty)
    net = load_network(path)
    problem = Problem(X.numpy(), y.numpy(), convert_lambda(WD, "mse", N), bias=True)
    ev = evaluate(*problem.exact(), *net.exact(bias=True), problem.lam)
    ours = float(ev.objective * 2 / N)
    assert ours == pytest.approx(torch_objective, rel=1e-12)


def test_float32_is_exact(tmp_path: Path) -> None:
    model = _model(out_bias=False)  # float32
    torch.save(model.state_dict(), tmp_path / "m.pt")
    net = load_network(tmp_path / "m.pt")
    assert net.W1.dtype == np.float64
    np.testing.assert_array_equal(net.W1.T.astype(np.float32), model[0].weight.detach().numpy())
    np.testing.assert_array_equal(net.w2.astype(np.float32), model[2].weight.detach().numpy()[0])


def test_named_layers_and_dataparallel_prefix(tmp_path: Path) -> None:
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = torch.nn.Linear(D, M, bias=False)
            self.fc2 = torch.nn.Linear(M, 1, bias=False)

    sd = {"module." + k: v for k, v in Net().state_dict().items()}
    torch.save(sd, tmp_path / "m.pt")
    net = load_network(tmp_path / "m.pt")
    assert net.b1 is None and net.W1.shape == (D, M)


def test_requires_grad_tensors(tmp_path: Path) -> None:
    model = _model()
    sd = {"0.weight": model[0].weight, "0.bias": model[0].bias, "2.weight": model[2].weight}
    assert sd["0.weight"].requires_grad
    torch.save(sd, tmp_path / "m.pt")
    assert load_network(tmp_path / "m.pt").width == M


def test_format_torch_with_other_extension(tmp_path: Path) -> None:
    path = tmp_path / "pytorch_model.bin"
    torch.save(_model().state_dict(), path)
    assert load_network(path, format="torch").width == M


def test_safetensors_from_torch(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    sd = _model().state_dict()
    save_file(dict(sd), str(tmp_path / "m.safetensors"))
    net = load_network(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(net.W1, sd["0.weight"].double().numpy().T)


def test_safetensors_bfloat16(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    W1 = torch.tensor([[0.5, -1.25], [2.0, 3.0]], dtype=torch.bfloat16)
    w2 = torch.tensor([1.0, -1.0], dtype=torch.bfloat16)
    save_file({"W1": W1, "w2": w2}, str(tmp_path / "m.safetensors"))
    net = load_network(tmp_path / "m.safetensors")
    assert net.W1.tolist() == [[0.5, -1.25], [2.0, 3.0]]


# --- refused architectures ---------------------------------------------------------------


def test_output_bias(tmp_path: Path) -> None:
    torch.save(_model(out_bias=True).state_dict(), tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"m\.pt': the output layer has a bias \('2\.bias', "
                                                    r"shape \(1,\)\); certify's model f\(x\) = sum_j "
                                                    r"\(x\^T W1_j \+ b1_j\)_\+ w2_j has no output bias\. "
                                                    r"Retrain with "
                                                    r"nn\.Linear\(m, 1, bias=False\)"):
        load_network(tmp_path / "m.pt")


def test_three_layers(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(D, M), torch.nn.ReLU(), torch.nn.Linear(M, M),
                                torch.nn.ReLU(), torch.nn.Linear(M, 1, bias=False))
    torch.save(model.state_dict(), tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"has 3 Linear layer\(s\) \('0', '2', '4'\); certify "
                                                    r"supports exactly two: Linear\(d, m\) -> ReLU -> "
                                                    r"Linear\(m, 1\)\. Found: '0\.weight' \(5, 3\), "
                                                    r"'0\.bias' \(5,\), '2\.weight' \(5, 5\), "
                                                    r"'2\.bias' \(5,\), '4\.weight' \(1, 5\)\."):
        load_network(tmp_path / "m.pt")


def test_vector_output(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(D, M), torch.nn.ReLU(), torch.nn.Linear(M, 2, bias=False))
    torch.save(model.state_dict(), tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"the second layer '2\.weight' has shape \(2, 5\), "
                                                    r"i\.e\. 2 outputs"):
        load_network(tmp_path / "m.pt")


def test_batchnorm(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(D, M), torch.nn.BatchNorm1d(M), torch.nn.ReLU(),
                                torch.nn.Linear(M, 1, bias=False))
    torch.save(model.state_dict(), tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"entry '1\.running_mean' is neither a Linear weight "
                                                    r"nor a bias .*Found: '0\.weight' \(5, 3\), "
                                                    r"'0\.bias' \(5,\), '1\.weight' \(5,\)"):
        load_network(tmp_path / "m.pt")


def test_integer_tensor(tmp_path: Path) -> None:
    sd = {"a.weight": torch.ones(M, D, dtype=torch.int64), "b.weight": torch.ones(1, M)}
    torch.save(sd, tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"'a\.weight' has dtype torch\.int64, expected a "
                                                    r"floating-point tensor"):
        load_network(tmp_path / "m.pt")


def test_non_tensor_value(tmp_path: Path) -> None:
    sd = _model().state_dict()
    sd["2.bias"] = 0.5
    torch.save(sd, tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"'2\.bias' holds a float, not a tensor\. Found: "
                                                    r"'0\.weight' \(5, 3\), '0\.bias' \(5,\), '2\.weight' "
                                                    r"\(1, 5\), '2\.bias' \(float\)\."):
        load_network(tmp_path / "m.pt")


def test_checkpoint(tmp_path: Path) -> None:
    torch.save({"model": _model().state_dict(), "epoch": 3}, tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"entry 'model' is a nested dict.*torch\.save\("
                                                    r"checkpoint\['model'\], path\)"):
        load_network(tmp_path / "m.pt")


def test_bare_tensor(tmp_path: Path) -> None:
    torch.save(torch.ones(3, 2), tmp_path / "m.pt")
    with pytest.raises(UnsupportedModelError, match=r"m\.pt' holds a Tensor, not a state_dict"):
        load_network(tmp_path / "m.pt")


# --- refused files: code execution, whole modules, corruption ----------------------------


class _Exploit:
    """Unpickling this calls os.system: a file that runs code when loaded unsafely."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_malicious_pickle_is_refused(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        pickle.dump({"0.weight": _Exploit(marker)}, fh, protocol=protocol)
    if protocol == 2:  # the unpickler names the global it refuses
        reason = r"unpickling it would call (posix|nt)\.system"
    else:  # it stops earlier, at an opcode it does not support
        reason = r"torch's weights_only unpickler rejects it \(Unsupported operand \d+\): it is corrupt"
    pattern = (r"refusing to load model file '.*evil\.pt': " + reason
               + r".*; certify loads PyTorch files with weights_only=True")
    with pytest.raises(FormatError, match=pattern):
        load_network(path)
    assert not marker.exists()


def test_malicious_torch_save_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    torch.save({"0.weight": _Exploit(marker)}, tmp_path / "evil.pt")
    with pytest.raises(FormatError, match=r"refusing to load .*unpickling it would call (posix|nt)\.system"):
        load_network(tmp_path / "evil.pt")
    assert not marker.exists()


def test_whole_module_is_refused(tmp_path: Path) -> None:
    torch.save(_model(), tmp_path / "m.pt")
    with pytest.raises(FormatError, match=r"refusing to load model file '.*m\.pt': it holds a whole pickled "
                                          r"nn\.Module \(torch\.nn\.modules\.container\.Sequential\).*save "
                                          r"the weights only: torch\.save\(model\.state_dict\(\), path\)"):
        load_network(tmp_path / "m.pt")


def test_numpy_inside_is_refused(tmp_path: Path) -> None:
    torch.save({"0.weight": np.ones((2, 2))}, tmp_path / "m.pt")
    with pytest.raises(FormatError, match=r"refusing to load .*unpickling it would call numpy\."):
        load_network(tmp_path / "m.pt")


def test_truncated(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    torch.save(_model().state_dict(), path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(FormatError, match=r"m\.pt' is not a readable PyTorch file \(RuntimeError: .*\); it "
                                          r"may be truncated or corrupt\. Write it again with torch\.save"):
        load_network(path)


def test_garbage(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    path.write_bytes(b"not a pickle at all")
    with pytest.raises(FormatError, match=r"refusing to load .*m\.pt': torch's weights_only unpickler "
                                          r"rejects it \(Unsupported operand \d+\): it is corrupt, not a "
                                          r"PyTorch file, or holds objects other than tensors"):
        load_network(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match=r"m\.pt' is not a readable PyTorch file \(EOFError\); it may be "
                                          r"truncated"):
        load_network(path)
