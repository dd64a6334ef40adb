"""Shared helpers of the model modules: npz persistence and sparse row remapping."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import scipy.sparse as sp

Arrays = dict[str, np.ndarray]


def json_array(obj: Any) -> np.ndarray:
    """A config as a 0-d unicode array: readable with ``allow_pickle=False``."""
    return np.array(json.dumps(obj, sort_keys=True))


def from_json_array(arr: np.ndarray) -> Any:
    return json.loads(str(arr[()]))


def csr_to_arrays(prefix: str, mat: sp.csr_matrix) -> Arrays:
    return {
        f"{prefix}data": mat.data,
        f"{prefix}indices": mat.indices,
        f"{prefix}indptr": mat.indptr,
        f"{prefix}shape": np.array(mat.shape, dtype=np.int64),
    }


def csr_from_arrays(prefix: str, arrays: Arrays) -> sp.csr_matrix:
    shape = tuple(int(x) for x in arrays[f"{prefix}shape"])
    return sp.csr_matrix(
        (arrays[f"{prefix}data"], arrays[f"{prefix}indices"], arrays[f"{prefix}indptr"]),
        shape=shape,
    )


def with_prefix(prefix: str, arrays: Arrays) -> Arrays:
    return {prefix + k: v for k, v in arrays.items()}


def strip_prefix(prefix: str, arrays: Arrays) -> Arrays:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def save_npz(path: str, arrays: Arrays) -> None:
    """Write uncompressed (fast to load, the big arrays are dense floats anyway)."""
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub reads ** as allow_pickle


def load_npz(path: str) -> Arrays:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def remap_columns(profiles: sp.csr_matrix, local: np.ndarray, n_local: int) -> sp.csr_matrix:
    """Keep the columns with ``local[col] >= 0`` and renumber them to ``local[col]``.

    Faster than ``profiles[:, cols]`` for the one-row matrices of the serving path.
    """
    cols = local[profiles.indices]
    keep = cols >= 0
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    indptr = kept_before[profiles.indptr]
    return sp.csr_matrix(
        (profiles.data[keep], cols[keep], indptr), shape=(profiles.shape[0], n_local)
    )


def support_counts(mat: sp.csr_matrix, n_cols: int) -> np.ndarray:
    """Number of stored (nonzero) entries per column."""
    nz = mat.indices[mat.data != 0]
    return np.bincount(nz, minlength=n_cols)
