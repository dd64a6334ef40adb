"""MovieLens ml-latest-small as the walkthrough builds it: numpy arrays for xminds."""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("RECOAPI_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"))
ML_SMALL = DATA_ROOT / "ml-latest-small"
YEAR = re.compile(r"\((\d{4})\)\s*$")
TAG_CHARS = re.compile(r"[^a-z0-9]")


@dataclass
class MovieLens:
    items: np.ndarray  # item_id u4, year i2
    genres: np.ndarray  # item_index u4, value_id U18
    tags: np.ndarray  # item_index u4, value_id U20
    ratings: np.ndarray  # user_id u4, item_id u4, rating f4, timestamp f8
    titles: dict[int, str]
    movie_genres: dict[int, list[str]]


def load(folder: Path) -> MovieLens:
    with open(folder / "movies.csv", newline="", encoding="utf-8") as handle:
        movies = list(csv.DictReader(handle))
    index = {int(m["movieId"]): i for i, m in enumerate(movies)}
    years = [int(y.group(1)) if (y := YEAR.search(m["title"].strip())) else 0 for m in movies]
    items = np.array(
        list(zip(index, years, strict=True)), dtype=[("item_id", "<u4"), ("year", "<i2")]
    )
    genres = [
        (index[int(m["movieId"])], g)
        for m in movies
        for g in m["genres"].split("|")
        if g != "(no genres listed)"
    ]
    tags_seen: set[tuple[int, str]] = set()
    with open(folder / "tags.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            tag = TAG_CHARS.sub("", row["tag"].lower())[:20]
            if tag and int(row["movieId"]) in index:
                tags_seen.add((index[int(row["movieId"])], tag))
    with open(folder / "ratings.csv", newline="", encoding="utf-8") as handle:
        rows = [
            (int(r["userId"]), int(r["movieId"]), 2 * float(r["rating"]), float(r["timestamp"]))
            for r in csv.DictReader(handle)
        ]
    return MovieLens(
        items=items,
        genres=np.array(genres, dtype=[("item_index", "<u4"), ("value_id", "<U18")]),
        tags=np.array(sorted(tags_seen), dtype=[("item_index", "<u4"), ("value_id", "<U20")]),
        ratings=np.array(
            rows,
            dtype=[("user_id", "<u4"), ("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")],
        ),
        titles={int(m["movieId"]): m["title"] for m in movies},
        movie_genres={int(m["movieId"]): m["genres"].split("|") for m in movies},
    )


def as_dicts(arr: np.ndarray) -> list[dict[str, object]]:
    """The JSON client's shape: a list of dicts of plain Python values."""
    names = arr.dtype.names or ()
    return [dict(zip(names, row, strict=True)) for row in arr.tolist()]
