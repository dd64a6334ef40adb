"""Item properties -> weighted tokens (the vocabulary of the content model)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recoapi.engine.base import PropertyColumn
from recoapi.engine.models._arrays import Arrays

_SEP = "\x1f"
_NUMERIC_PREFIXES = ("int", "uint", "float")


def _is_numeric(column: PropertyColumn) -> bool:
    return not column.repeated and column.value_type.lower().startswith(_NUMERIC_PREFIXES)


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [v for v in value if v is not None]
    return [value]


def _key(name: str, value: Any) -> str:
    return f"{name}{_SEP}{str(value).strip().lower()}"


def _quantile_edges(values: list[Any], n_bins: int) -> np.ndarray:
    nums = np.array([float(v) for v in values if v is not None], dtype=np.float64)
    nums = nums[np.isfinite(nums)]
    if not nums.size:
        return np.zeros(0)
    qs = np.quantile(nums, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(qs)


@dataclass
class TokenSpace:
    """Fitted vocabulary: token -> (column, idf), numeric bin edges, property weights."""

    names: list[str]
    numeric_edges: dict[str, np.ndarray]
    property_weights: dict[str, float]
    vocab: dict[str, int]
    idf: np.ndarray
    neighbor_weight: float

    @classmethod
    def fit(
        cls,
        n_items: int,
        columns: Sequence[PropertyColumn],
        *,
        numeric_bins: int,
        neighbor_weight: float,
        min_df: int,
        property_weights: Mapping[str, float],
    ) -> TokenSpace:
        edges = {c.name: _quantile_edges(c.values, numeric_bins) for c in columns if _is_numeric(c)}
        space = cls(
            names=[c.name for c in columns],
            numeric_edges=edges,
            property_weights={c.name: float(property_weights.get(c.name, 1.0)) for c in columns},
            vocab={},
            idf=np.zeros(0, dtype=np.float32),
            neighbor_weight=neighbor_weight,
        )
        df: Counter[str] = Counter()
        for column in columns:
            for item in range(min(n_items, len(column.values))):
                df.update({k for k, _ in space._item_tokens(column, column.values[item])})
        kept = sorted(k for k, c in df.items() if c >= min_df)
        space.vocab = {k: i for i, k in enumerate(kept)}
        counts = np.array([df[k] for k in kept], dtype=np.float64)
        space.idf = (np.log((1.0 + n_items) / (1.0 + counts)) + 1.0).astype(np.float32)
        return space

    def _item_tokens(self, column: PropertyColumn, value: Any) -> Iterator[tuple[str, float]]:
        edges = self.numeric_edges.get(column.name)
        if edges is None:
            for v in _values(value):
                yield _key(column.name, v), 1.0
            return
        for v in _values(value):
            try:
                x = float(v)
            except (TypeError, ValueError):
                continue
            if not np.isfinite(x):
                continue
            b = int(np.searchsorted(edges, x, side="right"))
            yield _key(column.name, f"#{b}"), 1.0
            for nb in (b - 1, b + 1):
                if 0 <= nb <= edges.size and self.neighbor_weight > 0:
                    yield _key(column.name, f"#{nb}"), self.neighbor_weight

    def _block(self, column: PropertyColumn, value: Any) -> dict[int, float]:
        block: dict[int, float] = {}
        for key, w in self._item_tokens(column, value):
            j = self.vocab.get(key)
            if j is not None:
                block[j] = max(block.get(j, 0.0), w * float(self.idf[j]))
        norm = float(np.sqrt(sum(v * v for v in block.values())))
        scale = np.sqrt(self.property_weights.get(column.name, 1.0)) / norm if norm else 0.0
        return {j: v * scale for j, v in block.items()}

    def encode(self, n_items: int, columns: Sequence[PropertyColumn]) -> sp.csr_matrix:
        """(items x tokens) float32 CSR with unit-norm rows (empty rows without content)."""
        by_name = {c.name: c for c in columns}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for name in self.names:
            column = by_name.get(name)
            if column is None:
                continue
            for item in range(min(n_items, len(column.values))):
                for j, v in self._block(column, column.values[item]).items():
                    rows.append(item)
                    cols.append(j)
                    vals.append(v)
        mat = sp.csr_matrix(
            (vals, (rows, cols)), shape=(n_items, len(self.vocab)), dtype=np.float32
        )
        norms = np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())
        mat = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32) @ mat
        return mat.tocsr()

    def to_arrays(self, prefix: str) -> Arrays:
        tokens = sorted(self.vocab, key=self.vocab.__getitem__)
        numeric = sorted(self.numeric_edges)
        return {
            f"{prefix}names": np.array(self.names, dtype=str),
            f"{prefix}weights": np.array([self.property_weights[n] for n in self.names]),
            f"{prefix}tokens": np.array(tokens, dtype=str),
            f"{prefix}idf": self.idf,
            f"{prefix}numeric": np.array(numeric, dtype=str),
            f"{prefix}edges_len": np.array([self.numeric_edges[n].size for n in numeric], int),
            f"{prefix}edges": np.concatenate(
                [self.numeric_edges[n] for n in numeric] or [np.zeros(0)]
            ),
            f"{prefix}neighbor_weight": np.array(self.neighbor_weight),
        }

    @classmethod
    def from_arrays(cls, prefix: str, arrays: Arrays) -> TokenSpace:
        names = [str(n) for n in arrays[f"{prefix}names"]]
        numeric = [str(n) for n in arrays[f"{prefix}numeric"]]
        splits = np.cumsum(arrays[f"{prefix}edges_len"])[:-1]
        edges = np.split(arrays[f"{prefix}edges"].astype(np.float64), splits) if numeric else []
        return cls(
            names=names,
            numeric_edges=dict(zip(numeric, edges, strict=True)),
            property_weights=dict(zip(names, arrays[f"{prefix}weights"].tolist(), strict=True)),
            vocab={str(t): i for i, t in enumerate(arrays[f"{prefix}tokens"])},
            idf=arrays[f"{prefix}idf"].astype(np.float32),
            neighbor_weight=float(arrays[f"{prefix}neighbor_weight"]),
        )
