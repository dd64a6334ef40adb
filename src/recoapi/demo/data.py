"""The MovieLens ml-latest-small dataset for the demo: find it, download it, parse it.

Parsing follows the walkthrough: ``year`` from the title's "(1995)", ``genres`` split on
``|`` without "(no genres listed)", ``tags`` cleaned to at most 20 lowercase alphanumerics
and deduplicated per movie, and stars doubled so that ratings run from 1 to 10.

Only the standard library, numpy, httpx and tqdm are used, so the demo can drive a remote
server from a client-only install.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tqdm.auto import tqdm  # type: ignore[import-untyped, unused-ignore]

NAME = "ml-latest-small"
GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
ZIP_SHA256 = "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"
FILES = ("movies.csv", "ratings.csv", "tags.csv")
MAX_TAG_LENGTH = 20
NO_GENRES = "(no genres listed)"

_YEAR = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

ITEM_DTYPE = [("item_id", "<u4"), ("year", "<i2")]
RATING_DTYPE = [("user_id", "<u4"), ("item_id", "<u4"), ("rating", "<f4"), ("timestamp", "<f8")]


class DatasetError(Exception):
    """The dataset cannot be found, downloaded or verified; the message says what to do."""


# --- where the data comes from -----------------------------------------------------------------


def project_root() -> Path:
    return Path(__file__).resolve().parents[3]


def cache_dir() -> Path:
    """``$RECOAPI_CACHE_DIR``, else ``$XDG_CACHE_HOME/recoapi``, else ``~/.cache/recoapi``."""
    if os.environ.get("RECOAPI_CACHE_DIR"):
        return Path(os.environ["RECOAPI_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "recoapi"


def local_candidates() -> list[Path]:
    """Folders checked before downloading, in order."""
    found = []
    if os.environ.get("RECOAPI_DATA_DIR"):
        found.append(Path(os.environ["RECOAPI_DATA_DIR"]) / NAME)
    found.append(project_root().parent / "shared" / "data" / NAME)
    found.append(cache_dir() / NAME)
    return found


def is_dataset(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def locate(
    data: str | Path | None = None,
    *,
    url: str = GROUPLENS_URL,
    progress: bool = True,
    search: Sequence[Path] | None = None,
) -> Path:
    """The folder holding movies.csv, ratings.csv and tags.csv.

    ``data`` (a folder, or a downloaded ``.zip``) wins; otherwise the folders in ``search``
    (default ``local_candidates()``) are tried, and as a last resort the archive is
    downloaded from ``url`` into ``cache_dir()``.
    """
    if data is not None:
        path = Path(data).expanduser()
        if path.is_file() and path.suffix == ".zip":
            return extract(path, cache_dir())
        if is_dataset(path) or is_dataset(path / NAME):
            return path if is_dataset(path) else path / NAME
        raise DatasetError(f"{path} does not hold {', '.join(FILES)} (or a {NAME}.zip)")
    for folder in local_candidates() if search is None else search:
        if is_dataset(folder):
            return folder
    return download(url, cache_dir(), progress=progress)


def download(
    url: str = GROUPLENS_URL,
    target: Path | None = None,
    *,
    sha256: str = ZIP_SHA256,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download the zip from ``url``, check its SHA-256, extract it under ``target``."""
    target = target or cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    if is_dataset(target / NAME):
        return target / NAME
    fd, tmp_name = tempfile.mkstemp(prefix=f"{NAME}-", suffix=".zip.part", dir=target)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            digest = _fetch(url, handle, progress=progress, timeout=timeout)
        if digest != sha256:
            raise DatasetError(
                f"{url}: SHA-256 {digest} does not match the expected {sha256}; "
                "the download is corrupt or the file changed upstream"
            )
        return extract(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(url: str, handle: object, *, progress: bool, timeout: float) -> str:
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"downloading {NAME}",
                disable=not progress,
            ) as bar:
                for chunk in response.iter_bytes():
                    digest.update(chunk)
                    handle.write(chunk)  # type: ignore[attr-defined]
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        raise DatasetError(
            f"cannot download {url}: {exc}; pass --data PATH to use a local copy"
        ) from exc
    return digest.hexdigest()


def extract(archive: Path, target: Path) -> Path:
    """Extract the dataset's files (and nothing outside ``<target>/ml-latest-small``)."""
    folder = target / NAME
    staging = Path(tempfile.mkdtemp(prefix=f"{NAME}-", dir=target))
    try:
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                name = Path(info.filename).name
                if info.is_dir() or Path(info.filename).parent.name != NAME or name.startswith("."):
                    continue
                with zipped.open(info) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        if not is_dataset(staging):
            raise DatasetError(f"{archive} does not contain {NAME}/{{{','.join(FILES)}}}")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{archive} is not a zip archive") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovieLens:
    """The parsed dataset, ready for ``create_or_update_items_bulk`` and ``..._ratings_bulk``."""

    items: np.ndarray  # (item_id u4, year i2), movies whose title has a year
    items_no_year: np.ndarray  # (item_id u4), the others
    genres: (
        np.ndarray
    )  # (item_index u4, value_id U18), indices into ``items`` then ``items_no_year``
    tags: np.ndarray  # (item_index u4, value_id U20), same indexing
    ratings: np.ndarray  # (user_id u4, item_id u4, rating f4 1-10, timestamp f8)
    titles: dict[int, str]
    genre_lists: dict[int, list[str]]
    n_raw_tags: int

    @property
    def n_movies(self) -> int:
        return len(self.items) + len(self.items_no_year)

    def m2m_for(self, first: int, count: int) -> list[dict[str, Any]]:
        """m2m arrays for the movies at positions ``first .. first+count``, re-indexed from 0."""
        out = []
        for name, array in (("genres", self.genres), ("tags", self.tags)):
            part = array[
                (array["item_index"] >= first) & (array["item_index"] < first + count)
            ].copy()
            part["item_index"] -= first
            out.append({"name": name, "array": part})
        return out


def year_of(title: str) -> int | None:
    found = _YEAR.findall(title)
    return int(found[-1]) if found else None


def clean_tag(tag: str) -> str:
    return _NOT_ALNUM.sub("", tag.lower())[:MAX_TAG_LENGTH]


def load(folder: Path) -> MovieLens:
    movies = _rows(folder / "movies.csv")
    with_year = [(int(m[0]), year_of(m[1])) for m in movies]
    order = [i for i, (_, y) in enumerate(with_year) if y is not None] + [
        i for i, (_, y) in enumerate(with_year) if y is None
    ]
    position = {int(movies[i][0]): n for n, i in enumerate(order)}
    dated = [with_year[i] for i in order if with_year[i][1] is not None]
    undated = [with_year[i][0] for i in order if with_year[i][1] is None]
    genre_lists = {int(m[0]): [g for g in m[2].split("|") if g and g != NO_GENRES] for m in movies}
    tags, n_raw = _tags(folder / "tags.csv", position)
    return MovieLens(
        items=np.array(dated, dtype=ITEM_DTYPE),
        items_no_year=np.array([(i,) for i in undated], dtype=[("item_id", "<u4")]),
        genres=_m2m([(position[i], g) for i, gs in genre_lists.items() for g in gs], "U18"),
        tags=_m2m(tags, f"U{MAX_TAG_LENGTH}"),
        ratings=_ratings(folder / "ratings.csv"),
        titles={int(m[0]): m[1] for m in movies},
        genre_lists=genre_lists,
        n_raw_tags=n_raw,
    )


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [row for row in csv.reader(handle) if row][1:]


def _tags(path: Path, position: dict[int, int]) -> tuple[list[tuple[int, str]], int]:
    seen: dict[int, dict[str, None]] = {}
    rows = _rows(path)
    for row in rows:
        movie, tag = int(row[1]), clean_tag(row[2])
        if tag and movie in position:
            seen.setdefault(movie, {})[tag] = None
    return [(position[m], t) for m, tags in seen.items() for t in tags], len(rows)


def _m2m(pairs: list[tuple[int, str]], value_dtype: str) -> np.ndarray:
    out = np.array(
        sorted(pairs, key=lambda p: p[0]), dtype=[("item_index", "<u4"), ("value_id", value_dtype)]
    )
    return out


def _ratings(path: Path) -> np.ndarray:
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    out = np.empty(len(raw), dtype=RATING_DTYPE)
    out["user_id"], out["item_id"] = raw[:, 0], raw[:, 1]
    out["rating"] = np.clip(raw[:, 2] * 2, 1, 10)
    out["timestamp"] = raw[:, 3]
    return out
