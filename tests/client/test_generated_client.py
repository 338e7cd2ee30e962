"""As a REST consumer would: a client generated from /openapi.json with openapi-python-client names each
operation by its stable id (`place_order.sync`, not FastAPI's default `new_order_orders_post`), and runs
the shop's walk-through against the API."""

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.conftest import Api

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
OPERATIONS = {
    "auth": {"log_in", "log_out"},
    "users": {
        "register_user",
        "list_users",
        "get_current_user",
        "get_user_stats",
        "list_top_spenders",
        "get_user",
        "update_user",
        "deactivate_user",
        "register_users",
        "deactivate_users",
        "erase_user",
        "get_users_stats",
    },
    "categories": {
        "create_category",
        "list_categories",
        "get_category",
        "update_category",
        "delete_category",
        "category_stats",
        "list_category_stats",
    },
    "products": {
        "create_product",
        "list_products",
        "get_product",
        "update_product",
        "delete_product",
        "adjust_stock",
        "list_stock_movements",
    },
    "orders": {
        "place_order",
        "list_orders",
        "get_order_stats",
        "get_order",
        "list_order_events",
        "change_order_status",
        "change_shipping_address",
        "cancel_order",
    },
    "addresses": {
        "list_my_addresses",
        "add_my_address",
        "get_my_address",
        "update_my_address",
        "delete_my_address",
        "list_user_addresses",
        "add_user_address",
        "get_user_address",
        "update_user_address",
        "delete_user_address",
    },
    "payments": {"record_payment", "list_payments", "capture_payment", "void_payment", "refund_payment"},
    "fulfillments": {"create_fulfillment", "list_fulfillments", "get_fulfillment", "cancel_fulfillment"},
    "returns": {
        "create_return",
        "list_returns",
        "get_return",
        "accept_return",
        "reject_return",
        "refund_return",
        "refund_order",
        "list_refunds",
    },
    "events": {"read_events"},
    "webhooks": {
        "create_webhook",
        "list_webhooks",
        "get_webhook",
        "update_webhook",
        "delete_webhook",
        "list_deliveries",
        "retry_delivery",
    },
    "health": {"check_health", "check_liveness", "check_readiness"},
}


@pytest.fixture
def generated(api: Api, tmp_path: Path) -> Iterator[str]:
    """The generated package's name, importable for the test's duration."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(api.client.get("/openapi.json").json()))
    config = tmp_path / "config.yml"
    config.write_text("post_hooks: []\npackage_name_override: shop_client\n")
    package = tmp_path / "shop_client"
    subprocess.run(
        [GENERATOR, "generate", "--path", str(spec), "--output-path", str(package), "--config", str(config)]
        + ["--meta", "none"],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield "shop_client"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "shop_client" or m.startswith("shop_client.")]:
            del sys.modules[name]


def test_every_operation_has_its_conventional_name(generated: str, tmp_path: Path) -> None:
    modules = {
        tag.name: {p.stem for p in tag.glob("*.py") if p.stem != "__init__"}
        for tag in (tmp_path / generated / "api").iterdir()
        if tag.is_dir()
    }
    assert modules == OPERATIONS


def test_the_walkthrough_runs_through_the_generated_client(generated: str, api: Api, admin) -> None:
    def load(name: str) -> ModuleType:
        return importlib.import_module(f"{generated}.{name}")

    client_module, models = load("client"), load("models")
    api_of = {tag: {op: load(f"api.{tag}.{op}") for op in ops} for tag, ops in OPERATIONS.items()}

    def signed_in(token: str):  # type: ignore[no-untyped-def]
        """An httpx client set on the generated one is used as it is: it carries the token itself."""
        client = client_module.AuthenticatedClient(base_url="http://testserver", token=token)
        headers = {"Authorization": f"Bearer {token}"}
        return client.set_httpx_client(TestClient(api.app, headers=headers))

    anonymous = client_module.Client(base_url="http://testserver").set_httpx_client(api.client)
    boss = signed_in(admin["Authorization"].removeprefix("Bearer "))
    books = api_of["categories"]["create_category"].sync(
        client=boss, body=models.CategoryCreate(name="Books")
    )
    ddd = api_of["products"]["create_product"].sync(
        client=boss,
        body=models.ProductCreate(
            name="DDD", sku="ddd-1", price="49.99", stock_quantity=5, category_id=books.id
        ),
    )
    api_of["users"]["register_user"].sync(
        client=anonymous,
        body=models.UserCreate(email="ann@example.com", name="Ann", password="plum-kettle-42"),
    )
    token = api_of["auth"]["log_in"].sync(
        client=anonymous, body=models.BodyLogIn(username="ann@example.com", password="plum-kettle-42")
    )
    ann = signed_in(token.access_token)
    home = api_of["addresses"]["add_my_address"].sync(
        client=ann,
        body=models.AddressCreate(
            recipient_name="Ann", line1="1 Main St", city="Berlin", postal_code="10115", country="DE",
            is_default_shipping=True,
        ),
    )  # fmt: skip
    order = api_of["orders"]["place_order"].sync(
        client=ann,
        body=models.OrderCreate(
            items=[models.OrderLineIn(product_id=ddd.id, quantity=3)], shipping_address_id=home.id
        ),
    )
    assert (order.status, order.total_amount) == (models.OrderStatus.PENDING, "149.97")
    assert (order.shipping_address.city, order.billing_address.country) == ("Berlin", "DE")
    cancelled = api_of["orders"]["cancel_order"].sync(client=ann, order_id=order.id)
    assert cancelled.status == models.OrderStatus.CANCELLED
    assert api_of["products"]["get_product"].sync(client=anonymous, product_id=ddd.id).stock_quantity == 5
