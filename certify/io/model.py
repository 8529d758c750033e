"""Load and save two-layer ReLU networks ``f(x) = sum_j (x^T W1_j + b1_j)_+ w2_j``.

Formats (``format=`` or the file extension):

``"npz"`` (``.npz``)
    Arrays ``W1`` (d, m) (column ``j`` holds neuron ``j``'s input weights), ``w2`` (m,) and
    optionally ``b1`` (m,); any other array is an error. Read with ``allow_pickle=False``.
``"safetensors"`` (``.safetensors``)
    The same names. A file whose tensors are instead named like a PyTorch ``state_dict``
    (``*.weight``, ``*.bias``, as written by ``safetensors.torch.save_file``) is read as one.
``"torch"`` (``.pt``, ``.pth``)
    A PyTorch ``state_dict`` of ``Linear(d, m) -> ReLU -> Linear(m, 1, bias=False)``, read
    with ``torch.load(..., weights_only=True)`` so that no code in the file can run.
    Needs the optional dependency ``torch`` (``pip install certify[torch]``).

A state_dict does not record the activation: certify assumes ReLU. Its layers are taken in
the state_dict's key order; key prefixes (``"0."``, ``"fc1."``, ``"module.net.0."``) do not
matter. Tensors convert to float64 exactly (float16, bfloat16 and float32 embed in float64).
"""

from __future__ import annotations

import os
import pickle
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from certify.errors import FormatError, InputError, UnsupportedModelError
from certify.io.data import read_npz
from certify.io.validate import check_path
from certify.network import Network

#: Network formats and the file extensions that select them.
MODEL_FORMATS = {"npz": (".npz",), "safetensors": (".safetensors",), "torch": (".pt", ".pth")}

_NAMES = ("W1", "w2", "b1")
_NPZ_HOW = "np.savez(path, W1=W1, w2=w2[, b1=b1]) or certify.io.model.save_network"
_TORCH_HOW = ("save the weights only: torch.save(model.state_dict(), path), for "
              "Linear(d, m) -> ReLU -> Linear(m, 1, bias=False)")


def load_network(path: str | os.PathLike, format: str | None = None) -> Network:
    """Load a two-layer ReLU network.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    format : {"npz", "safetensors", "torch"}, optional
        The file format; by default taken from the extension (``.npz``, ``.safetensors``,
        ``.pt``/``.pth``).

    Returns
    -------
    Network
        With ``W1`` (d, m), ``w2`` (m,) and ``b1`` (m,) or None, validated.

    Raises
    ------
    InputError
        Missing file, unknown ``format``, invalid weights (NaN, mismatched shapes), or a
        PyTorch file without torch installed.
    FormatError
        A corrupt file, wrong array names, or a PyTorch file that cannot be read with
        ``weights_only=True`` (a pickled module or arbitrary objects).
    UnsupportedModelError
        A state_dict of another architecture (more layers, output bias, vector output).

    Examples
    --------
    >>> net = load_network("model.pt")                     # doctest: +SKIP
    >>> net = load_network("weights.bin", format="torch")  # doctest: +SKIP
    """
    p = check_path(path, "model file")
    fmt = _resolve_format(p, format, "load_network")
    where = f"model file {str(p)!r}"
    if fmt == "npz":
        return _from_named(read_npz(p, "model file", _NPZ_HOW), where)
    if fmt == "safetensors":
        arrays = _read_safetensors(p, where)
        if not any(k in arrays for k in _NAMES) and arrays and all(map(_is_layer_key, arrays)):
            return network_from_state_dict(arrays, where)
        return _from_named(arrays, where)
    return network_from_state_dict(_torch_load(p, where), where)


def save_network(network: Network, path: str | os.PathLike, format: str | None = None) -> Path:
    """Write a network as ``.npz`` or ``.safetensors`` (arrays ``W1``, ``w2``, optional ``b1``).

    Parameters
    ----------
    network : Network
        The network to write.
    path : str or os.PathLike
        Destination; its extension selects the format unless ``format`` is given. An
        existing file is overwritten.
    format : {"npz", "safetensors"}, optional
        The file format.

    Returns
    -------
    Path
        The path written (readable by :func:`load_network`).
    """
    if not isinstance(network, Network):
        raise InputError(f"The 'network' argument of save_network must be a certify Network. "
                         f"Got {type(network).__name__} instead.")
    p = Path(path)
    fmt = _resolve_format(p, format, "save_network")
    arrays = {"W1": network.W1, "w2": network.w2}
    if network.b1 is not None:
        arrays["b1"] = network.b1
    arrays = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()}
    if fmt == "npz":
        if p.suffix.lower() != ".npz":
            raise FormatError(f"save_network writes npz files with the extension .npz, got {str(p)!r}; "
                              "add the extension (np.savez would append it).")
        np.savez(p, **arrays)
    elif fmt == "safetensors":
        from safetensors.numpy import save_file

        save_file(arrays, str(p))
    else:
        raise FormatError("save_network writes npz or safetensors files; export to PyTorch yourself "
                          "(W1.T is the first Linear weight).")
    return p


def network_from_state_dict(state: object, source: str = "state_dict") -> Network:
    """Build a network from a state_dict of ``Linear(d, m) -> ReLU -> Linear(m, 1, bias=False)``.

    Parameters
    ----------
    state : Mapping of str to tensor or ndarray
        A PyTorch ``state_dict`` (``torch.Tensor`` or NumPy values). Keys end in
        ``.weight`` or ``.bias``; the part before is the layer name, and layers are taken in
        key order. The first Linear weight is (m, d) and becomes ``W1 = weight.T``; its bias
        is ``b1``; the second weight must be (1, m) and becomes ``w2``.
    source : str, default="state_dict"
        Where the state_dict came from, for messages.

    Returns
    -------
    Network

    Raises
    ------
    UnsupportedModelError
        Anything other than two Linear layers with a scalar output and no output bias, or
        values that are not floating-point tensors.
    """
    if not isinstance(state, Mapping):
        raise UnsupportedModelError(
            f"{source} holds a {type(state).__name__}, not a state_dict (a dict of tensors); "
            f"{_TORCH_HOW}.")
    found = _describe(state)
    layers: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        if isinstance(value, Mapping):
            raise UnsupportedModelError(
                f"{source}: entry {key!r} is a nested dict, not a tensor. If this is a training "
                f"checkpoint, save its model state_dict alone: torch.save(checkpoint[{key!r}], path). "
                f"Found: {found}.")
        if not isinstance(key, str) or not _is_layer_key(key):
            raise UnsupportedModelError(
                f"{source}: entry {key!r} is neither a Linear weight nor a bias (keys must end in "
                f"'.weight' or '.bias'); certify supports Linear(d, m) -> ReLU -> Linear(m, 1) only. "
                f"Found: {found}.")
        layer, _, kind = key.rpartition(".")
        layers.setdefault(layer, {})[kind] = _to_float64(value, key, source, found)
    names = list(layers)
    for name in names:
        if "weight" not in layers[name]:
            raise UnsupportedModelError(f"{source}: layer {name!r} has a bias but no weight. Found: {found}.")
        if layers[name]["weight"].ndim != 2:
            raise UnsupportedModelError(
                f"{source}: {name + '.weight'!r} has shape {layers[name]['weight'].shape}, not a 2-D "
                f"Linear weight; certify supports Linear(d, m) -> ReLU -> Linear(m, 1) only. "
                f"Found: {found}.")
    if len(names) != 2:
        raise UnsupportedModelError(
            f"{source} has {len(names)} Linear layer(s) ({', '.join(map(repr, names)) or 'none'}); "
            f"certify supports exactly two: Linear(d, m) -> ReLU -> Linear(m, 1). Found: {found}.")
    first, second = layers[names[0]], layers[names[1]]
    W, V = first["weight"], second["weight"]
    m = W.shape[0]
    if V.shape[0] != 1:
        raise UnsupportedModelError(
            f"{source}: the second layer {names[1] + '.weight'!r} has shape {V.shape}, i.e. "
            f"{V.shape[0]} outputs; certify handles a scalar output, Linear(m, 1) with weight (1, m). "
            f"Layers are taken in key order. Found: {found}.")
    if V.shape[1] != m:
        raise UnsupportedModelError(
            f"{source}: the second layer {names[1] + '.weight'!r} has {V.shape[1]} inputs but the first "
            f"layer {names[0] + '.weight'!r} has {m} outputs (shape {W.shape}). Found: {found}.")
    if "bias" in second:
        raise UnsupportedModelError(
            f"{source}: the output layer has a bias ({names[1] + '.bias'!r}, shape "
            f"{second['bias'].shape}); certify's model f(x) = sum_j (x^T W1_j + b1_j)_+ w2_j has no "
            "output bias. Retrain with nn.Linear(m, 1, bias=False) as the last layer, or fold the "
            "bias out (subtract it from y) and save the state_dict without it.")
    b1 = first.get("bias")
    if b1 is not None and b1.shape != (m,):
        raise UnsupportedModelError(
            f"{source}: the first-layer bias {names[0] + '.bias'!r} has shape {b1.shape}, expected "
            f"({m},). Found: {found}.")
    return _network(W.T, V[0], b1, source)


def _network(W1: object, w2: object, b1: object | None, source: str) -> Network:
    try:
        return Network(W1, w2, b1)
    except InputError as exc:
        raise type(exc)(f"{source}: {exc}") from None


def _resolve_format(path: Path, format: object, where: str) -> str:
    if format is not None:
        if format not in MODEL_FORMATS:
            raise InputError(f"The 'format' argument of {where} must be one of {sorted(MODEL_FORMATS)}. "
                             f"Got {format!r} instead.")
        return format
    ext = path.suffix.lower()
    for fmt, exts in MODEL_FORMATS.items():
        if ext in exts:
            return fmt
    supported = ", ".join(f"{e} ({f})" for f, es in MODEL_FORMATS.items() for e in es)
    raise FormatError(f"model file {str(path)!r} has extension {path.suffix!r}; supported formats are "
                      f"{supported}. Pass format=... (--format) if the content is one of them.")


def _from_named(arrays: dict[str, np.ndarray], where: str) -> Network:
    """Network from arrays named ``W1``, ``w2`` and optionally ``b1``."""
    extra = [k for k in arrays if k not in _NAMES]
    missing = [k for k in ("W1", "w2") if k not in arrays]
    if missing:
        hint = ""
        if arrays and all(map(_is_layer_key, arrays)):
            hint = (" These look like PyTorch state_dict names: save the state_dict with torch.save and "
                    "load it with format='torch', or store W1 = first weight.T and w2 = second weight[0].")
        raise FormatError(f"{where} has no array {' or '.join(map(repr, missing))}: found {list(arrays)}, "
                          f"expected 'W1' (d, m), 'w2' (m,) and optionally 'b1' (m,).{hint}")
    if extra:
        raise FormatError(f"{where} has unexpected arrays {extra}: expected only 'W1' (d, m), 'w2' (m,) "
                          "and optionally 'b1' (m,). Remove the others (certify's network has no "
                          "output bias and one hidden layer).")
    return _network(arrays["W1"], arrays["w2"], arrays.get("b1"), where)


def _read_safetensors(path: Path, where: str) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own SafetensorError, OSError, TypeError
        if "bfloat16" not in str(exc):
            raise FormatError(f"{where} is not a readable safetensors file ({exc}); write it with "
                              "safetensors.numpy.save_file or certify.io.model.save_network.") from None
    # NumPy has no bfloat16: read through torch, when installed (bfloat16 -> float64 is exact).
    _import_torch("read bfloat16 tensors")
    from safetensors.torch import load_file as load_torch

    return {k: _to_float64(v, k, where, k) for k, v in load_torch(str(path)).items()}


def _import_torch(purpose: str):
    try:
        import torch
    except ImportError:
        raise InputError(f"certify needs PyTorch to {purpose}: pip install torch==2.13.0 "
                         "(or pip install certify[torch]); or export the weights as .npz with "
                         "W1 = first weight.T, w2 = second weight[0], b1 = first bias.") from None
    return torch


def _torch_load(path: Path, where: str) -> object:
    torch = _import_torch("read PyTorch files")
    try:
        # weights_only=True: the unpickler accepts tensors and plain containers only, so no
        # code in the file runs. Never change this.
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        match = re.search(r"GLOBAL ([\w.]+)", str(exc))
        target = match.group(1) if match else None
        if target is not None and target.startswith("torch.nn.modules"):
            raise FormatError(
                f"refusing to load {where}: it holds a whole pickled nn.Module ({target}), which only "
                f"loads with weights_only=False, i.e. by running code from the file. Instead, "
                f"{_TORCH_HOW}.") from None
        if target:
            found = f"unpickling it would call {target}"
        else:
            detail = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n|$)", str(exc))
            found = ("torch's weights_only unpickler rejects it"
                     + (f" ({detail.group(1)})" if detail else "")
                     + ": it is corrupt, not a PyTorch file, or holds objects other than tensors")
        raise FormatError(
            f"refusing to load {where}: {found}; certify loads PyTorch files with weights_only=True "
            f"so that no code from the file runs. If this is a model saved with torch.save(model), "
            f"{_TORCH_HOW}.") from None
    except Exception as exc:  # torch raises RuntimeError, KeyError, EOFError ... on corrupt files
        reason = ": ".join([type(exc).__name__, *str(exc).splitlines()[:1]])
        raise FormatError(f"{where} is not a readable PyTorch file ({reason}); it may be truncated or "
                          "corrupt. Write it again with torch.save(model.state_dict(), path).") from None


def _is_layer_key(key: object) -> bool:
    return isinstance(key, str) and key.endswith((".weight", ".bias"))


def _to_float64(value: object, key: str, source: str, found: str) -> np.ndarray:
    """Convert a floating-point tensor or array to float64 NumPy (exact)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise UnsupportedModelError(f"{source}: {key!r} has dtype {value.dtype}, expected a "
                                        f"floating-point tensor. Found: {found}.")
        try:
            return value.detach().to(torch.float64).numpy()
        except Exception as exc:  # quantized, sparse or meta tensors
            raise UnsupportedModelError(f"{source}: {key!r} cannot be converted to a dense float64 "
                                        f"array ({exc}). Found: {found}.") from None
    if isinstance(value, np.ndarray):
        if value.dtype.kind != "f":
            raise UnsupportedModelError(f"{source}: {key!r} has dtype {value.dtype}, expected a "
                                        f"floating-point array. Found: {found}.")
        return value.astype(np.float64)
    raise UnsupportedModelError(f"{source}: {key!r} holds a {type(value).__name__}, not a tensor. "
                                f"Found: {found}.")


def _describe(state: Mapping) -> str:
    """``"'0.weight' (3, 2), '0.bias' (3,), ..."`` for messages (at most 12 entries)."""
    parts = []
    for key, value in list(state.items())[:12]:
        shape = getattr(value, "shape", None)
        parts.append(f"{key!r} {tuple(shape)}" if shape is not None else f"{key!r} ({type(value).__name__})")
    if len(state) > 12:
        parts.append(f"... ({len(state)} entries in all)")
    return ", ".join(parts) if parts else "no entries"
