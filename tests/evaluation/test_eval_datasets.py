"""Loaders: row counts of the real datasets, properties, and the PATH forms."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from evalkit import data_folder

from recoapi.evaluation.datasets import DATA_DIR_ENV, default_data_dir, load_dataset


def test_ml_latest_small_counts() -> None:
    data = load_dataset("ml-latest-small", data_folder("ml-latest-small").parent)
    assert data.n_ratings == 100_836
    assert data.n_users == 610
    assert len(np.unique(data.item)) == 9_724
    assert data.n_items == 9_742  # movies.csv: the catalog includes never-rated movies
    assert data.rating.min() == 1.0 and data.rating.max() == 10.0  # 0.5 and 5 stars doubled
    first = (data.user_ids[data.user[0]], data.item_ids[data.item[0]], data.rating[0])
    assert first == ("1", "1", 8.0)
    assert data.time[0] == 964982703


def test_ml_latest_small_properties() -> None:
    data = load_dataset("ml-latest-small", data_folder("ml-latest-small").parent)
    assert [p.name for p in data.properties] == ["year", "genres", "tags"]
    toy_story = int(np.flatnonzero(data.item_ids == "1")[0])
    assert data.titles[toy_story] == "Toy Story (1995)"
    assert data.property("year").values[toy_story] == 1995  # type: ignore[union-attr]
    genres = data.property("genres").values[toy_story]  # type: ignore[union-attr]
    assert genres == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    tags = data.property("tags")
    assert tags is not None and tags.repeated
    assert sum(1 for t in tags.values if t) == 1_572
    assert all(re.fullmatch(r"[a-z0-9]{1,20}", t) for item in tags.values for t in item)
    no_genre = [g for g in data.property("genres").values if not g]  # type: ignore[union-attr]
    assert no_genre  # "(no genres listed)" becomes an empty list


def test_ml_100k_counts_and_genres() -> None:
    data = load_dataset("ml-100k", data_folder("ml-100k").parent)
    assert data.n_ratings == 100_000
    assert data.n_users == 943
    assert data.n_items == 1_682 == len(np.unique(data.item))
    assert sorted(np.unique(data.rating).tolist()) == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert [p.name for p in data.properties] == ["year", "genres"]
    toy_story = int(np.flatnonzero(data.item_ids == "1")[0])
    assert data.property("genres").values[toy_story] == [  # type: ignore[union-attr]
        "Animation",
        "Children's",
        "Comedy",
    ]
    assert data.property("year").values[toy_story] == 1995  # type: ignore[union-attr]
    assert any("\u00e9" in t or "\u00f6" in t for t in data.titles)  # Latin-1 read correctly


def test_data_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert default_data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match=DATA_DIR_ENV):
        load_dataset("ml-100k")


def test_default_data_dir_is_next_to_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    project_root = Path(__file__).resolve().parents[2]
    assert default_data_dir() == project_root.parent / "shared" / "data"


def test_ratings_csv_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("user,item,rating,timestamp\r\nu1,a,4.5,10\r\nu2,a,1,11\r\nu1,b,3,12\r\n")
    data = load_dataset(str(path))
    assert (data.name, data.n_users, data.n_items, data.n_ratings) == ("mine", 2, 2, 3)
    assert data.rating.tolist() == [9.0, 2.0, 6.0]
    assert data.property("genres").values == [[], []]  # type: ignore[union-attr]


def test_ratings_csv_keeps_the_latest_rating_of_a_pair(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("1,10,2,100\n1,10,9,200\n2,10,7,50\n")  # no header, 1..10 scale
    data = load_dataset(str(path))
    assert data.n_ratings == 2
    assert sorted(data.rating.tolist()) == [7.0, 9.0]


def test_folder_in_ml_latest_format(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\r\n7,3,0.5,1\r\n")
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\r\n3,"Good, Bad (1966)",Western\r\n4,Other (2001),Drama\r\n'
    )
    data = load_dataset(str(tmp_path))
    assert data.n_items == 2 and data.titles[0] == "Good, Bad (1966)"
    assert data.rating.tolist() == [1.0]
    assert data.property("year").values == [1966, 2001]  # type: ignore[union-attr]


def test_missing_path() -> None:
    with pytest.raises(FileNotFoundError):
        load_dataset("/nonexistent/folder")
