"""/docs works with the network closed: Swagger UI's assets come from the service, and it lists the API."""

from tests.e2e.conftest import Client
from tests.support.browser import ensure_chromium, rendered_dom


def test_swagger_ui_lists_the_operations_offline(client: Client) -> None:
    dom = rendered_dom(f"{client.server.url}/docs", ensure_chromium())
    assert 'class="swagger-ui"' in dom
    for operation in ("/auth/token", "/products/{product_id}/stock", "/orders/{order_id}/status", "/health"):
        assert operation in dom, operation
