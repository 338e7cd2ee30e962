"""Paging over HTTP: offsets as the contract says, cursors beyond, and clear refusals of bad ones."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.cursors import CursorCodec
from application.lists import MAX_OFFSET
from tests.unit.api.conftest import Api


def walk(api: Api, path: str, headers: dict[str, str] | None = None, **query: str) -> list[dict]:
    """Every item of a list, page by page through next_cursor."""
    items, cursor = [], None
    while True:
        params = query | {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.client.get(path, params=params, headers=headers).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("sort", ["id", "name", "-name", "price", "-price", "created_at", "-created_at"])
def test_next_cursor_walks_the_product_list_in_every_sort(api: Api, admin, sort: str) -> None:
    for i, (name, price) in enumerate(
        [("b", "2.00"), ("a", "2.00"), ("c", "1.00"), ("a", "3.00"), ("b", "1.50")]
    ):
        api.product(admin, f"S-{i}", name=name, price=price)
    everything = api.client.get("/products", params={"sort": sort}).json()
    assert everything["next_cursor"] is None and everything["total"] == 5
    walked = walk(api, "/products", sort=sort)
    assert [p["id"] for p in walked] == [p["id"] for p in everything["items"]]


def test_every_list_pages_by_cursor(api: Api, admin) -> None:
    headers, _ = api.customer()
    product = api.product(admin, "P-1", stock_quantity=100)
    placed = [api.order(headers, (product["id"], 1))["id"] for _ in range(3)]
    for name in ("Garden", "Art", "Books"):
        api.category(admin, name)
    assert {o["id"] for o in walk(api, "/orders", headers)} == set(placed)
    assert [c["name"] for c in walk(api, "/categories")] == ["Art", "Books", "Garden"]
    assert len(walk(api, "/users", admin)) == 2


def test_offset_pages_keep_the_contract_envelope(api: Api, admin) -> None:
    for sku in ("A", "B", "C"):
        api.product(admin, sku)
    page = api.client.get("/products", params={"limit": 2, "offset": 1}).json()
    assert (page["total"], page["limit"], page["offset"], [p["sku"] for p in page["items"]]) == (
        3,
        2,
        1,
        ["B", "C"],
    )
    assert page["next_cursor"] is None
    first = api.client.get("/products", params={"limit": 2}).json()
    after = api.client.get("/products", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [p["sku"] for p in after["items"]] == ["C"] and after["offset"] == 0


def refused(api: Api, params: dict, path: str = "/products") -> dict:
    response = api.client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_bad_cursors_and_deep_offsets_are_refused_clearly(api: Api, admin) -> None:
    for sku in ("A", "B", "C"):
        api.product(admin, sku)
    cursor = api.client.get("/products", params={"limit": 1, "sort": "price"}).json()["next_cursor"]

    altered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert refused(api, {"cursor": altered, "sort": "price"})["type"] == "/problems/invalid-cursor"
    assert "another list or sort" in refused(api, {"cursor": cursor, "sort": "name"})["detail"]
    assert "another list or sort" in refused(api, {"cursor": cursor}, "/categories")["detail"]
    assert "not both" in refused(api, {"cursor": cursor, "sort": "price", "offset": 1})["detail"]
    forged = CursorCodec("another secret").encode("products:price", ("0.00", 1))
    assert refused(api, {"cursor": forged, "sort": "price"})["type"] == "/problems/invalid-cursor"
    assert refused(api, {"cursor": "not a cursor"})["type"] == "/problems/invalid-cursor"

    deep = refused(api, {"offset": MAX_OFFSET + 1})
    assert deep["type"] == "/problems/offset-too-deep" and "cursor" in deep["detail"]
    assert api.client.get("/products", params={"offset": MAX_OFFSET}).status_code == 200
    too_long = api.client.get("/products", params={"cursor": "x" * 1001})
    assert too_long.status_code == 422


def test_a_cursor_round_trips_times_and_money_exactly() -> None:
    codec = CursorCodec("k" * 40)
    position = (Decimal("10.50"), datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC), "Zoë", 7)
    assert codec.decode("x", codec.encode("x", position)) == position
