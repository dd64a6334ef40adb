"""External ids to dense indices, per database and entity kind.

Indices are assigned in arrival order and never reused, so arrays indexed by them (the
model's item axis, the in-memory rating profiles) stay valid as the catalog grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


class Vocab:
    def __init__(self, keys: Iterable[Any] = ()) -> None:
        self.keys: list[Any] = list(keys)
        self.index: dict[Any, int] = {key: i for i, key in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, key: Any) -> int | None:
        return self.index.get(key)

    def lookup(self, keys: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Indices of ``keys`` (int64), -1 where unknown. Vectorised over unique keys."""
        get = self.index.get
        if not (isinstance(keys, np.ndarray) and keys.dtype.kind in "iu"):
            # str/bytes keys: numpy would strip trailing NULs of bytes, so stay in Python
            return np.fromiter((get(_plain(k), -1) for k in keys), np.int64, len(keys))
        uniques, inverse = np.unique(keys, return_inverse=True)
        found = np.fromiter((get(k, -1) for k in uniques.tolist()), np.int64, len(uniques))
        return found[inverse.reshape(-1)]

    def add(self, keys: Iterable[Any]) -> list[int]:
        """Append unseen keys (in order, without duplicates); return their new indices."""
        added = []
        for key in keys:
            if key not in self.index:
                self.index[key] = len(self.keys)
                self.keys.append(key)
                added.append(self.index[key])
        return added

    def truncate(self, length: int) -> None:
        """Forget keys added after ``length`` (a failed transaction rolls them back)."""
        for key in self.keys[length:]:
            del self.index[key]
        del self.keys[length:]


def _plain(value: Any) -> Any:
    """numpy scalars hash like Python values, but bytes/str subclasses need unwrapping."""
    if isinstance(value, np.generic):
        return value.item()
    return value
