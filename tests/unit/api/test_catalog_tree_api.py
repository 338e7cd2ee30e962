"""The category tree, category statistics, expanded products and the exact SKU lookup, over the fakes."""

from decimal import Decimal

from tests.unit.api.conftest import Api
from tests.unit.conftest import dump


def tree(api: Api, admin):
    home = api.category(admin, "Home")
    garden = api.category(admin, "Garden", parent_id=home["id"])
    tools = api.category(admin, "Tools", parent_id=garden["id"])
    bath = api.category(admin, "Bath", parent_id=home["id"])
    books = api.category(admin, "Books")
    return home, garden, tools, bath, books


def ref(category) -> dict:
    return {"id": category["id"], "name": category["name"], "slug": category["slug"]}


def test_a_category_names_its_children_by_name_and_its_path_from_the_root(api: Api, admin) -> None:
    home, garden, tools, bath, books = tree(api, admin)
    detail = api.client.get(f"/categories/{garden['id']}").json()
    assert detail["children"] == [ref(tools)] and detail["path"] == [ref(home)]
    deepest = api.client.get(f"/categories/{tools['id']}").json()
    assert deepest["children"] == [] and deepest["path"] == [ref(home), ref(garden)]
    root = api.client.get(f"/categories/{home['id']}").json()
    assert root["children"] == [ref(bath), ref(garden)] and root["path"] == []
    # every field it had is still there
    assert {"id", "name", "slug", "description", "parent_id", "product_count", "products"} <= set(root)


def test_the_category_list_gives_one_level_of_the_tree(api: Api, admin) -> None:
    home, garden, tools, bath, books = tree(api, admin)

    def names(query: str) -> list[str]:
        response = api.client.get(f"/categories?{query}")
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()["items"]]

    assert names("parent_id=none") == ["Books", "Home"]
    assert names(f"parent_id={home['id']}") == ["Bath", "Garden"]
    assert names(f"parent_id={tools['id']}") == []
    assert names("parent_id=999") == []  # an unknown parent has no children
    assert names("") == ["Bath", "Books", "Garden", "Home", "Tools"]
    page = api.client.get(f"/categories?parent_id={home['id']}&limit=1").json()
    assert page["total"] == 2 and [c["name"] for c in page["items"]] == ["Bath"]
    for bad in ["abc", "0", "-1", "None", "1.5", "99999999999999"]:
        assert api.client.get(f"/categories?parent_id={bad}").status_code == 422, bad


def test_category_statistics_over_active_products_with_and_without_subcategories(api: Api, admin) -> None:
    home, garden, tools, bath, books = tree(api, admin)
    api.product(admin, "G-1", category_id=garden["id"], price="10.00", stock_quantity=3)
    api.product(
        admin, "G-2", category_id=garden["id"], price="20.01", stock_quantity=0, low_stock_threshold=0
    )
    api.product(admin, "T-1", category_id=tools["id"], price="5.50", stock_quantity=4, low_stock_threshold=4)
    api.product(admin, "T-2", category_id=tools["id"], price="1.00", stock_quantity=5, low_stock_threshold=6)
    gone = api.product(admin, "T-3", category_id=tools["id"], price="0.01", stock_quantity=100)
    assert api.client.delete(f"/products/{gone['id']}", headers=admin).status_code == 204

    own = api.client.get(f"/categories/{garden['id']}/stats", headers=admin)
    assert own.status_code == 200
    assert own.json() == {
        "category": ref(garden),
        "include_descendants": False,
        "active_products": 2,
        "min_price": "10.00",
        "average_price": "15.01",  # 30.01 / 2 = 15.005, half up
        "max_price": "20.01",
        "units_in_stock": 3,
        "stock_value": "30.00",
        "low_stock_products": 1,
    }
    subtree = api.client.get(f"/categories/{home['id']}/stats?include_descendants=true", headers=admin).json()
    assert subtree | {"category": None} == {
        "category": None,
        "include_descendants": True,
        "active_products": 4,
        "min_price": "1.00",
        "average_price": "9.13",  # 36.51 / 4 = 9.1275
        "max_price": "20.01",
        "units_in_stock": 12,
        "stock_value": "57.00",  # 30 + 22 + 5
        "low_stock_products": 3,
    }
    home_alone = api.client.get(f"/categories/{home['id']}/stats", headers=admin).json()
    assert (home_alone["active_products"], home_alone["min_price"], home_alone["average_price"]) == (
        0,
        None,
        None,
    )
    assert (home_alone["max_price"], home_alone["stock_value"], home_alone["units_in_stock"]) == (
        None,
        "0.00",
        0,
    )


def test_every_category_s_statistics_paged_by_name(api: Api, admin) -> None:
    home, garden, tools, bath, books = tree(api, admin)
    api.product(admin, "T-1", category_id=tools["id"], price="2.00", stock_quantity=2)
    first = api.client.get("/categories/stats?limit=3&include_descendants=true", headers=admin)
    assert first.status_code == 200
    body = first.json()
    assert body["total"] == 5 and [s["category"]["name"] for s in body["items"]] == [
        "Bath",
        "Books",
        "Garden",
    ]
    assert [s["active_products"] for s in body["items"]] == [0, 0, 1]
    rest = api.client.get(f"/categories/stats?cursor={body['next_cursor']}", headers=admin).json()
    assert [(s["category"]["name"], s["active_products"]) for s in rest["items"]] == [
        ("Home", 0),
        ("Tools", 1),
    ]
    assert all(s["include_descendants"] is False for s in rest["items"])


def test_statistics_are_for_admins_and_refusals_change_nothing(api: Api, admin) -> None:
    customer, _ = api.customer()
    books = api.category(admin, "Books")
    before = dump(api.store)
    cases = [
        (f"/categories/{books['id']}/stats", {}, 401),
        (f"/categories/{books['id']}/stats", customer, 403),
        ("/categories/stats", {}, 401),
        ("/categories/stats", customer, 403),
        ("/categories/999/stats", admin, 404),
        (f"/categories/{books['id']}/stats?include_descendants=maybe", admin, 422),
        ("/categories/stats?limit=0", admin, 422),
    ]
    for url, headers, expected in cases:
        response = api.client.get(url, headers=headers)
        assert response.status_code == expected, (url, response.text)
    missing = api.client.get("/categories/999/stats", headers=admin)
    assert missing.headers["content-type"] == "application/problem+json"
    assert dump(api.store) == before


def test_expand_category_embeds_it_and_without_expand_nothing_changes(api: Api, admin) -> None:
    books = api.category(admin, "Books")
    novel = api.product(admin, "N-1", category_id=books["id"])
    loose = api.product(admin, "L-1")
    plain = api.client.get("/products").json()
    assert all("category" not in p for p in plain["items"])
    expanded = api.client.get("/products?expand=category").json()
    assert [p.get("category", "absent") for p in expanded["items"]] == [ref(books), None]
    assert {k: v for k, v in expanded["items"][0].items() if k != "category"} == plain["items"][0]
    one = api.client.get(f"/products/{novel['id']}?expand=category")
    assert one.status_code == 200 and one.json() == {**novel, "category": ref(books)}
    assert one.headers["ETag"] == '"1"'
    assert api.client.get(f"/products/{loose['id']}?expand=category").json()["category"] is None
    assert "category" not in api.client.get(f"/products/{novel['id']}").json()
    for url in ["/products?expand=owner", f"/products/{novel['id']}?expand=", "/products?expand=Category"]:
        assert api.client.get(url).status_code == 422, url
    assert api.client.get("/products/999?expand=category").status_code == 404


def test_sku_is_an_exact_case_insensitive_match_combinable_with_the_other_filters(api: Api, admin) -> None:
    books = api.category(admin, "Books")
    api.product(admin, "ab-1", category_id=books["id"], price="5.00")
    api.product(admin, "AB-12")

    def skus(query: str) -> list[str]:
        response = api.client.get(f"/products?{query}")
        assert response.status_code == 200, response.text
        return [p["sku"] for p in response.json()["items"]]

    assert skus("sku=Ab-1") == ["AB-1"]
    assert skus("sku=AB") == []  # exact, not a prefix
    assert skus(f"sku=ab-1&category_id={books['id']}&max_price=5") == ["AB-1"]
    assert skus("sku=ab-1&min_price=6") == []
    assert api.client.get("/products?sku=ab-1").json()["total"] == 1
    for bad in ["", "a b", "x" * 51, "%25"]:
        assert api.client.get(f"/products?sku={bad}").status_code == 422, bad


def test_stats_average_rounds_half_up_to_the_cent(api: Api, admin) -> None:
    books = api.category(admin, "Books")
    for i, price in enumerate(["0.01", "0.01", "0.02"]):
        api.product(admin, f"B-{i}", category_id=books["id"], price=price, stock_quantity=1)
    stats = api.client.get(f"/categories/{books['id']}/stats", headers=admin).json()
    assert Decimal(stats["average_price"]) == Decimal("0.01")  # 0.04 / 3 = 0.0133
    assert stats["stock_value"] == "0.04"


def test_the_openapi_documents_the_new_parameters_shapes_and_errors(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]

    def parameters(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"]["parameters"]}

    assert {"sku", "expand"} <= parameters("/products") and "expand" in parameters("/products/{product_id}")
    assert "parent_id" in parameters("/categories")
    assert "include_descendants" in parameters("/categories/stats")
    assert "include_descendants" in parameters("/categories/{category_id}/stats")
    assert {"401", "403", "404", "422"} <= set(paths["/categories/{category_id}/stats"]["get"]["responses"])
    assert {"400", "401", "403", "422"} <= set(paths["/categories/stats"]["get"]["responses"])
    assert "422" in paths["/products"]["get"]["responses"]
    one = paths["/products/{product_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert one == {"$ref": "#/components/schemas/ProductAnswer"}
    assert {"children", "path"} <= set(schemas["CategoryDetailRead"]["required"])
    assert "category" in schemas["ProductExpandedRead"]["properties"]
    assert "category" not in schemas["ProductRead"]["properties"]
    assert set(schemas["CategoryStatsRead"]["properties"]) == {
        "category",
        "include_descendants",
        "active_products",
        "min_price",
        "average_price",
        "max_price",
        "units_in_stock",
        "stock_value",
        "low_stock_products",
    }
