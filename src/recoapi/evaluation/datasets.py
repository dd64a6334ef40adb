"""MovieLens-style rating datasets as dense-index arrays.

``load_dataset`` reads ml-latest-small (CSV, CRLF, quoted titles), ml-100k (tab and pipe
separated, Latin-1 titles, 19 genre flags), or any folder in one of those formats, or a
plain ratings CSV. Stars are doubled so that ratings run from 1 to 10 as the API stores
them (0.5 stars becomes 1).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recoapi.engine.base import PropertyColumn

__all__ = ["KNOWN_DATASETS", "RatingsDataset", "default_data_dir", "load_dataset"]

KNOWN_DATASETS = ("ml-latest-small", "ml-100k")
DATA_DIR_ENV = "RECOAPI_DATA_DIR"
MAX_TAG_LENGTH = 20

_YEAR = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class RatingsDataset:
    """Ratings aligned per event, on dense user and item indices."""

    name: str
    user_ids: np.ndarray  # external id of each user index
    item_ids: np.ndarray  # external id of each item index
    user: np.ndarray  # int32
    item: np.ndarray  # int32
    rating: np.ndarray  # float32, 1..10
    time: np.ndarray  # float64, Unix seconds (0 when unknown)
    titles: list[str]
    properties: tuple[PropertyColumn, ...]

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_ratings(self) -> int:
        return len(self.rating)

    def property(self, name: str) -> PropertyColumn | None:
        return next((p for p in self.properties if p.name == name), None)


def default_data_dir() -> Path:
    """``$RECOAPI_DATA_DIR``, else ``../shared/data`` next to the project root."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    project_root = Path(__file__).resolve().parents[3]
    return project_root.parent / "shared" / "data"


def load_dataset(name_or_path: str, data_dir: Path | None = None) -> RatingsDataset:
    """Load a known dataset by name, or a folder / ratings CSV by path."""
    if name_or_path in KNOWN_DATASETS:
        path = (data_dir or default_data_dir()) / name_or_path
        if not path.is_dir():
            raise FileNotFoundError(
                f"{path} not found: set {DATA_DIR_ENV} to the folder holding {name_or_path}/"
            )
    else:
        path = Path(name_or_path)
    if path.is_file():
        return _load_ratings_csv(path.stem, path)
    if (path / "u.data").is_file():
        return _load_ml100k(path.name, path)
    if (path / "ratings.csv").is_file():
        return _load_ml_latest(path.name, path)
    raise FileNotFoundError(
        f"{path}: expected a ratings CSV, or a folder with ratings.csv or u.data"
    )


def _load_ml_latest(name: str, folder: Path) -> RatingsDataset:
    users, items, stars, times = _read_ratings_csv(folder / "ratings.csv")
    catalog: list[str] = []
    titles: dict[str, str] = {}
    genres: dict[str, list[str]] = {}
    movies = folder / "movies.csv"
    if movies.is_file():
        for row in _csv_rows(movies, skip_header=True):
            catalog.append(row[0])
            titles[row[0]] = row[1]
            genres[row[0]] = [g for g in row[2].split("|") if g and g != "(no genres listed)"]
    tags: dict[str, list[str]] = {}
    if (folder / "tags.csv").is_file():
        tags = _read_tags(folder / "tags.csv")
    return _assemble(name, users, items, stars, times, catalog, titles, genres, tags)


def _load_ml100k(name: str, folder: Path) -> RatingsDataset:
    raw = np.loadtxt(folder / "u.data", dtype=np.int64, delimiter="\t", ndmin=2)
    users, items = [str(u) for u in raw[:, 0]], [str(i) for i in raw[:, 1]]
    stars, times = raw[:, 2].astype(np.float64), raw[:, 3].astype(np.float64)
    genre_names = _read_ml100k_genres(folder / "u.genre")
    catalog: list[str] = []
    titles: dict[str, str] = {}
    genres: dict[str, list[str]] = {}
    if (folder / "u.item").is_file():
        with open(folder / "u.item", encoding="latin-1") as handle:
            for line in handle:
                fields = line.rstrip("\n").split("|")
                if len(fields) < 5:
                    continue
                catalog.append(fields[0])
                release_year = fields[2][-4:] if fields[2][-4:].isdigit() else ""
                titles[fields[0]] = fields[1].strip()
                flags = fields[5:]
                genres[fields[0]] = [
                    g for g, f in zip(genre_names, flags, strict=False) if f == "1"
                ]
                if not _YEAR.search(titles[fields[0]]) and release_year:
                    titles[fields[0]] = f"{titles[fields[0]]} ({release_year})"
    return _assemble(name, users, items, stars, times, catalog, titles, genres, {})


def _load_ratings_csv(name: str, path: Path) -> RatingsDataset:
    users, items, stars, times = _read_ratings_csv(path)
    return _assemble(name, users, items, stars, times, [], {}, {}, {})


def _read_ratings_csv(path: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    rows = _csv_rows(path, skip_header=False)
    if rows and not _is_number(rows[0][2]):
        rows = rows[1:]
    users = [r[0] for r in rows]
    items = [r[1] for r in rows]
    stars = np.array([float(r[2]) for r in rows], dtype=np.float64)
    times = np.array([float(r[3]) if len(r) > 3 and r[3] else 0.0 for r in rows])
    return users, items, stars, times


def _read_tags(path: Path) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for row in _csv_rows(path, skip_header=True):
        tag = _NOT_ALNUM.sub("", row[2].lower())[:MAX_TAG_LENGTH]
        item_tags = tags.setdefault(row[1], [])
        if tag and tag not in item_tags:
            item_tags.append(tag)
    return tags


def _read_ml100k_genres(path: Path) -> list[str]:
    if not path.is_file():
        return []
    with open(path, encoding="latin-1") as handle:
        pairs = [line.strip().split("|") for line in handle if line.strip()]
    names = [name for name, _ in sorted(pairs, key=lambda p: int(p[1]))]
    return ["" if n == "unknown" else n for n in names]


def _assemble(
    name: str,
    users: Sequence[str],
    items: Sequence[str],
    stars: np.ndarray,
    times: np.ndarray,
    catalog: Sequence[str],
    titles: dict[str, str],
    genres: dict[str, list[str]],
    tags: dict[str, list[str]],
) -> RatingsDataset:
    user_ids, user = _index(users, ())
    item_ids, item = _index(items, catalog)
    keep = _latest_per_pair(user, item, np.asarray(times, dtype=np.float64), len(item_ids))
    user, item, stars, times = (
        user[keep],
        item[keep],
        np.asarray(stars)[keep],
        np.asarray(times)[keep],
    )
    item_titles = [titles.get(i, i) for i in item_ids]
    columns = [
        PropertyColumn("year", "int16", False, [_year(t) for t in item_titles]),
        PropertyColumn(
            "genres", "unicode32", True, [[g for g in genres.get(i, []) if g] for i in item_ids]
        ),
    ]
    if tags:
        tag_values = [list(tags.get(i, [])) for i in item_ids]
        columns.append(PropertyColumn("tags", f"unicode{MAX_TAG_LENGTH}", True, tag_values))
    return RatingsDataset(
        name=name,
        user_ids=user_ids,
        item_ids=item_ids,
        user=user,
        item=item,
        rating=_to_ten_point(stars),
        time=np.asarray(times, dtype=np.float64),
        titles=item_titles,
        properties=tuple(columns),
    )


def _index(values: Sequence[str], first: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Dense indices: ``first`` (the catalog, in file order), then new values as they appear."""
    position: dict[str, int] = {}
    for value in list(first) + list(values):
        position.setdefault(value, len(position))
    ids = np.array(list(position), dtype=object)
    return ids, np.array([position[v] for v in values], dtype=np.int32)


def _latest_per_pair(
    user: np.ndarray, item: np.ndarray, times: np.ndarray, n_items: int
) -> np.ndarray:
    """Event positions (in file order) keeping only the latest rating of each pair."""
    keys = user.astype(np.int64) * max(n_items, 1) + item
    order = np.lexsort((np.arange(len(keys)), times, keys))
    last = np.ones(len(keys), dtype=bool)
    last[:-1] = keys[order][1:] != keys[order][:-1]
    return np.sort(order[last])


def _to_ten_point(stars: np.ndarray) -> np.ndarray:
    top = float(stars.max()) if len(stars) else 5.0
    if top > 10:
        raise ValueError(f"ratings go up to {top}: expected stars (0.5..5) or a 1..10 scale")
    scaled = stars * 2 if top <= 5 else stars
    return np.asarray(np.clip(scaled, 1, 10), dtype=np.float32)


def _year(title: str) -> int | None:
    found = _YEAR.findall(title)
    return int(found[-1]) if found else None


def _csv_rows(path: Path, *, skip_header: bool) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return rows[1:] if skip_header else rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
