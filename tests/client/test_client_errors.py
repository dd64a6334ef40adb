"""Server answers become the reference's exception classes, with codes and the server's words."""

from __future__ import annotations

import pytest
from clientkit import connect

from recoapi.client import (
    DuplicatedError,
    ForbiddenError,
    MethodNotAllowed,
    NotFoundError,
    RecoClient,
    RequestError,
    WrongData,
    XMindsError,
)
from recoapi.client._transport import Transport
from server import ServerProcess


def test_error_attributes(server: ServerProcess) -> None:
    client = connect(server.url)
    client.create_item_property("year", "int16")
    with pytest.raises(DuplicatedError) as info:
        client.create_item_property("YEAR", "int16")  # names are case-insensitive
    error = info.value
    assert isinstance(error, RequestError) and isinstance(error, XMindsError)
    assert error.CODE == 42 and error.status_code == 400
    assert error.data["name"] == error.name and str(error.name).startswith("DUPLICATED")
    assert "year" in str(error).lower()


def test_not_found(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    with pytest.raises(NotFoundError) as info:
        client.get_item(12345)
    assert (
        info.value.CODE == 60
        and info.value.status_code == 404
        and info.value.data["key"] == "12345"
    )


def test_wrong_data_names_the_field(server: ServerProcess, serializer: str) -> None:
    client = connect(server.url, serializer)
    with pytest.raises(WrongData, match="rating") as info:
        client.create_or_update_ratings_bulk([{"user_id": 1, "item_id": 1, "rating": 0.5}])
    assert info.value.CODE == 40


def test_forbidden_without_a_database(server: ServerProcess) -> None:
    client = RecoClient(server.url, progress=False)
    from server import ROOT_EMAIL, ROOT_PASSWORD

    client.login_individual(ROOT_EMAIL, ROOT_PASSWORD)
    with pytest.raises(ForbiddenError) as info:
        client.status()
    assert info.value.CODE == 50 and "db_id" in str(info.value)
    with pytest.raises(RuntimeError, match="log in to a database"):
        client.get_item(1)


def test_method_not_allowed_and_unknown_path(server: ServerProcess) -> None:
    transport = Transport(server.url)
    with pytest.raises(MethodNotAllowed) as info:
        transport.request("PATCH", "ratings-bulk/")
    assert info.value.CODE == 70 and info.value.data["method"] == "PATCH"
    with pytest.raises(NotFoundError) as missing:
        transport.request("GET", "no/such/endpoint/")
    assert missing.value.name == "PATH_NOT_FOUND"


def test_from_code_matches_the_reference_table() -> None:
    assert type(XMindsError.from_code(60, {"type": "item", "key": 3})) is NotFoundError
    assert str(XMindsError.from_code(60, {"type": "item", "key": 3})) == "The item 3 does not exist"
    assert type(XMindsError.from_code(999)).__name__ == "ServerError"
