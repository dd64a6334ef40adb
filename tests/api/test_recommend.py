"""Recommendation endpoints against a real server on a small catalog with known answers.

Two blocks of 20 items (genre A: ids 1-20, genre B: ids 21-40); users 1-15 rate A items
high, users 16-30 rate B items high. Every filter operator is checked by asking for every
candidate (amt=64) and comparing with the set computed here from the same properties.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from xminds.api.exceptions import NotFoundError, ServerError, WrongData

from server import ROOT_EMAIL, ROOT_PASSWORD

N_ITEMS = 40


def genre(i: int) -> str:
    return "A" if i <= 20 else "B"


def tags(i: int) -> list[str]:
    return sorted({f"t{i % 3}", f"t{i % 5}"}) if i % 7 else []  # every 7th item has no tags


def year(i: int) -> int:
    return 1980 + i


def ratings() -> list[dict[str, Any]]:
    rows = []
    for user in range(1, 31):
        block = range(1, 21) if user <= 15 else range(21, 41)
        for offset in range(12):
            item = list(block)[(user * 3 + offset * 7) % 20]
            rows.append(
                {
                    "user_id": user,
                    "item_id": item,
                    "rating": 8.0 + (offset % 3),
                    "timestamp": 1.6e9 + offset,
                }
            )
        other = 25 if user <= 15 else 5
        rows.append({"user_id": user, "item_id": other, "rating": 2.0, "timestamp": 1.6e9})
    return rows


@pytest.fixture(scope="module")
def reco(server: Any) -> Any:
    from xminds.api.client import CrossingMindsApiClient

    client = CrossingMindsApiClient(serializer="json", host=server.url)
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    db = client.create_database(f"reco-{uuid.uuid4().hex[:8]}", "reco", "uint32", "uint32")
    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD, db_id=db["id"])
    with pytest.raises(ServerError) as not_ready:
        client.get_reco_item_to_items(1)
    assert not_ready.value.data["error_code"] == 1
    client.create_item_property("genre", "unicode10")
    client.create_item_property("year", "int16")
    client.create_item_property("tags", "unicode10", repeated=True)
    items = [
        {"item_id": i, "genre": genre(i), "year": year(i), "tags": tags(i)}
        for i in range(1, N_ITEMS + 1)
    ]
    client.create_or_update_items_bulk(items)
    client.create_or_update_ratings_bulk(ratings())
    client.wait_until_ready(timeout=120, sleep=0.5)
    return client


def all_similar(client: Any, item: int, filters: list[str]) -> set[int]:
    return {
        int(i) for i in client.get_reco_item_to_items(item, amt=64, filters=filters)["items_id"]
    }


OPS: list[tuple[str, Any]] = [
    ("year:gt:2000", lambda i: year(i) > 2000),
    ("year:gte:2000", lambda i: year(i) >= 2000),
    ("year:lt:1990", lambda i: year(i) < 1990),
    ("year:lte:1990", lambda i: year(i) <= 1990),
    ("year:eq:1995", lambda i: year(i) == 1995),
    ("year:neq:1995", lambda i: year(i) != 1995),
    ("year:in:1985,1995,2005", lambda i: year(i) in (1985, 1995, 2005)),
    ("year:notin:1985,1995,2005", lambda i: year(i) not in (1985, 1995, 2005)),
    ("genre:eq:B", lambda i: genre(i) == "B"),
    ("genre:notempty", lambda i: True),
    ("tags:eq:t0", lambda i: "t0" in tags(i)),
    ("tags:in:t1,t4", lambda i: bool({"t1", "t4"} & set(tags(i)))),
    ("tags:neq:t0", lambda i: "t0" not in tags(i)),
    ("tags:notin:t0,t1", lambda i: not {"t0", "t1"} & set(tags(i))),
    ("tags:notempty", lambda i: bool(tags(i))),
]


@pytest.mark.parametrize(("flt", "passes"), OPS, ids=[op for op, _ in OPS])
def test_filter_operator(reco: Any, flt: str, passes: Any) -> None:
    expected = {i for i in range(1, N_ITEMS + 1) if i != 3 and passes(i)}
    assert all_similar(reco, 3, [flt]) == expected


def test_filters_combine_with_and(reco: Any) -> None:
    expected = {i for i in range(1, N_ITEMS + 1) if i != 3 and genre(i) == "B" and year(i) < 2010}
    assert all_similar(reco, 3, ["genre:eq:B", "year:lt:2010"]) == expected


def test_filter_on_unknown_property_or_bad_op_is_wrong_data(reco: Any) -> None:
    with pytest.raises(WrongData):
        reco.get_reco_item_to_items(3, filters=["color:eq:red"])
    with pytest.raises(WrongData):
        reco.get_reco_item_to_items(3, filters=["year:like:1990"])


def test_similar_items_come_from_the_same_block(reco: Any) -> None:
    top = [int(i) for i in reco.get_reco_item_to_items(3, amt=8)["items_id"]]
    assert sum(i <= 20 for i in top) >= 7 and 3 not in top


def test_user_gets_own_block_and_never_rated_items(reco: Any) -> None:
    rated = {r["item_id"] for r in ratings() if r["user_id"] == 2}
    top = [int(i) for i in reco.get_reco_user_to_items(2, amt=6)["items_id"]]
    assert not rated & set(top)
    assert sum(i <= 20 for i in top) >= 5


def test_exclude_rated_items_false_keeps_liked_items_but_not_low_rated(reco: Any) -> None:
    top = {
        int(i)
        for i in reco.get_reco_user_to_items(2, amt=64, exclude_rated_items=False)["items_id"]
    }
    liked = {r["item_id"] for r in ratings() if r["user_id"] == 2 and r["rating"] >= 8}
    assert liked <= top
    assert 25 not in top  # rated 2/10: never comes back


def test_cursor_pages_continue_the_ranking_without_repeats(reco: Any) -> None:
    whole = [int(i) for i in reco.get_reco_user_to_items(20, amt=21)["items_id"]]
    first = reco.get_reco_user_to_items(20, amt=7)
    second = reco.get_reco_user_to_items(20, amt=7, cursor=first["next_cursor"])
    third = reco.get_reco_user_to_items(20, amt=7, cursor=second["next_cursor"])
    pages = [int(i) for page in (first, second, third) for i in page["items_id"]]
    assert pages == whole


def test_session_to_items_uses_only_the_request(reco: Any) -> None:
    session = [
        {"item_id": 22, "rating": 10.0},
        {"item_id": 23, "rating": 9.0},
        {"item_id": 4, "rating": 1.0},
    ]
    top = [int(i) for i in reco.get_reco_session_to_items(ratings=session, amt=8)["items_id"]]
    assert sum(i > 20 for i in top) >= 7
    assert not {22, 23, 4} & set(top)
    assert reco.get_database()["counters"]["rating"] == len(ratings())


def test_diversity_reranking_mixes_genres(reco: Any) -> None:
    plain = [int(i) for i in reco.get_reco_user_to_items(2, amt=8)["items_id"]]
    mixed = [
        int(i)
        for i in reco.get_reco_user_to_items(2, amt=8, reranking=["genre:diversity:1.5"])[
            "items_id"
        ]
    ]
    assert {genre(i) for i in mixed} == {"A", "B"}
    assert sum(genre(i) == "B" for i in mixed) > sum(genre(i) == "B" for i in plain)


def test_unknown_ids_are_not_found(reco: Any) -> None:
    with pytest.raises(NotFoundError):
        reco.get_reco_item_to_items(999)
    with pytest.raises(NotFoundError):
        reco.get_reco_user_to_items(999)


def test_known_user_without_ratings_gets_popular_items(reco: Any) -> None:
    reco.create_or_replace_user({"user_id": 77})  # no user properties declared: an empty user
    top = [int(i) for i in reco.get_reco_user_to_items(77, amt=5)["items_id"]]
    assert len(top) == 5


def test_amt_above_the_limit_is_wrong_data(reco: Any) -> None:
    with pytest.raises(WrongData):
        reco.get_reco_user_to_items(2, amt=65)


def test_new_rating_changes_the_list_at_once(reco: Any) -> None:
    user = 9
    before = [int(i) for i in reco.get_reco_user_to_items(user, amt=5)["items_id"]]
    reco.create_or_update_rating(user, before[0], 1.0)
    after = [int(i) for i in reco.get_reco_user_to_items(user, amt=5)["items_id"]]
    assert before[0] not in after

    def mean_rank_of_b(ids: list[int]) -> float:
        ranks = {item: rank for rank, item in enumerate(ids)}
        return sum(ranks.get(i, len(ids)) for i in range(22, 41)) / 19

    longer = [int(i) for i in reco.get_reco_user_to_items(user, amt=30)["items_id"]]
    reco.create_or_update_rating(
        user, 21, 10.0
    )  # loving one B item pulls B items up, no retraining
    moved = [int(i) for i in reco.get_reco_user_to_items(user, amt=30)["items_id"]]
    assert mean_rank_of_b(moved) < mean_rank_of_b(longer)


def test_other_recommendation_routes(reco: Any) -> None:
    group = reco.get_reco_users_group_to_items([{"user_id": 2}, {"user_id": 20}], amt=10)[
        "items_id"
    ]
    assert len(group) == 10
    generic = reco.get_reco_generic_to_items(item_id=3, amt=4)
    assert len(generic["items_id"]) == 4
    ctx = reco.get_reco_session_to_items_w_ctx_items(
        [{"item_id": 30}], ratings=[{"item_id": 31, "rating": 9.0}], amt=5
    )["items_id"]
    assert sum(int(i) > 20 for i in ctx) >= 4
    props = reco.get_reco_user_to_item_properties(2, "genre", amt=1)["properties"]
    assert list(props) == ["A"]
    with pytest.raises(WrongData):
        reco.get_reco_item_properties_to_items({"genre": "A"})


def test_item_added_after_training_has_similar_items_from_its_properties(reco: Any) -> None:
    reco.create_or_replace_item({"item_id": 41, "genre": "B", "year": 2030, "tags": ["t1", "t2"]})
    top = [int(i) for i in reco.get_reco_item_to_items(41, amt=8)["items_id"]]
    assert len(top) == 8 and 41 not in top
    assert sum(genre(i) == "B" for i in top) >= 6
    # before any retraining it can already be recommended, and filtered on
    only_new = reco.get_reco_user_to_items(20, amt=5, filters=["year:eq:2030"])["items_id"]
    assert [int(i) for i in only_new] == [41]
