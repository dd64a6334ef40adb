"""Small synthetic datasets with known answers for the engine tests (seeded)."""

from __future__ import annotations

import numpy as np

from recoapi.engine.base import PropertyColumn, TrainingData

N_BLOCKS = 4
BLOCK = 6
SEED = 42


def checkerboard(n_blocks: int = N_BLOCKS, block: int = BLOCK) -> TrainingData:
    """User ``u`` rated 9/10 every item of block ``u // block`` except item ``u`` itself.

    So user ``u``'s best unrated item is item ``u`` (implicit's checkerboard idea), and
    ``genres`` holds one value per block so that content agrees with the ratings.
    """
    n = n_blocks * block
    users, items = [], []
    for u in range(n):
        start = (u // block) * block
        for i in range(start, start + block):
            if i != u:
                users.append(u)
                items.append(i)
    k = len(users)
    genres = [[f"g{i // block}"] for i in range(n)]
    years = [1950 + 10 * (i // block) for i in range(n)]
    return TrainingData(
        n_users=n,
        n_items=n,
        rating_user=np.array(users, np.int32),
        rating_item=np.array(items, np.int32),
        rating_value=np.full(k, 9.0, np.float32),
        rating_time=np.arange(k, dtype=np.float64),
        item_properties=(
            PropertyColumn("genres", "unicode18", True, genres),
            PropertyColumn("year", "int16", False, years),
        ),
    )


def with_cold_items(data: TrainingData, genres: list[list[str]]) -> TrainingData:
    """Append items that nobody rated, with the given genres (and no year)."""
    columns = []
    for col in data.item_properties:
        extra = genres if col.name == "genres" else [None] * len(genres)
        columns.append(PropertyColumn(col.name, col.value_type, col.repeated, col.values + extra))
    return TrainingData(
        n_users=data.n_users,
        n_items=data.n_items + len(genres),
        rating_user=data.rating_user,
        rating_item=data.rating_item,
        rating_value=data.rating_value,
        rating_time=data.rating_time,
        item_properties=tuple(columns),
    )


def random_data(n_users: int = 40, n_items: int = 30, n_ratings: int = 400) -> TrainingData:
    rng = np.random.default_rng(SEED)
    return TrainingData(
        n_users=n_users,
        n_items=n_items,
        rating_user=rng.integers(0, n_users, n_ratings).astype(np.int32),
        rating_item=rng.integers(0, n_items, n_ratings).astype(np.int32),
        rating_value=rng.integers(1, 11, n_ratings).astype(np.float32),
        rating_time=np.arange(n_ratings, dtype=np.float64),
        interaction_user=rng.integers(0, n_users, 50).astype(np.int32),
        interaction_item=rng.integers(0, n_items, 50).astype(np.int32),
        interaction_type=np.array(["click", "purchase"] * 25, dtype=object),
        interaction_time=np.arange(50, dtype=np.float64),
        item_properties=(
            PropertyColumn(
                "genres", "unicode18", True, [[f"g{rng.integers(0, 4)}"] for _ in range(n_items)]
            ),
            PropertyColumn(
                "price", "float32", False, [float(rng.uniform(1, 100)) for _ in range(n_items)]
            ),
        ),
    )
