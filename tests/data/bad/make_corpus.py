"""Regenerate the binary files of the bad-input corpus (run from anywhere).

    python tests/data/bad/make_corpus.py

The CSV files are written by hand; README.md lists every file and the error it must raise
(tests/test_io_data.py, test_io_model.py and test_io_patterns.py pin the messages).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    X = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 0.5]])
    y = np.array([1.0, 0.0, -1.0])
    np.savez(HERE / "data_ok_for_truncation.tmp.npz", X=X, y=y)
    full = (HERE / "data_ok_for_truncation.tmp.npz").read_bytes()
    (HERE / "data_ok_for_truncation.tmp.npz").unlink()
    (HERE / "data_truncated.npz").write_bytes(full[: len(full) // 2])
    np.savez(HERE / "data_object_array.npz", X=np.array([[1, "a"], [2, None]], dtype=object), y=y[:2])
    np.savez(HERE / "data_missing_keys.npz", x=X, Y=y)
    np.savez(HERE / "data_nan.npz", X=np.where(X == 2.0, np.nan, X), y=y)
    np.savez(HERE / "data_inf.npz", X=X, y=np.array([1.0, np.inf, 0.0]))
    np.savez(HERE / "data_3d.npz", X=X.reshape(3, 2, 1), y=y)
    np.savez(HERE / "data_mismatched_n.npz", X=X, y=y[:2])
    W1 = np.array([[1.0, -1.0, 0.5], [0.25, 2.0, -0.5]])  # (d, m) = (2, 3)
    w2 = np.array([1.0, -2.0, 0.5])
    np.savez(HERE / "model_transposed.npz", W1=W1.T.copy(), w2=w2)  # PyTorch layout (m, d)
    np.savez(HERE / "model_extra_key.npz", W1=W1, w2=w2, b2=np.array([0.5]))
    np.savez(HERE / "model_nan.npz", W1=W1, w2=np.array([1.0, np.nan, 0.5]))
    np.savez(HERE / "model_state_dict_names.npz", **{"0.weight": W1.T.copy(), "2.weight": w2[None, :]})
    np.savez(HERE / "patterns_both.npz", D=np.eye(3, dtype=np.uint8), G=np.ones((2, 3)))
    np.savez(HERE / "patterns_not_01.npz", D=np.array([[0, 1], [2, 0], [1, 1]]))
    np.savez(HERE / "patterns_3d.npz", G=np.ones((2, 3, 1)))


if __name__ == "__main__":
    main()
