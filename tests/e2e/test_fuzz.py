"""Schemathesis against the service's own OpenAPI, anonymous and with valid tokens: no 5xx, and every
response conforms to the documented status codes, content types and schemas. Bounded examples per route."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from entrypoints.api.app import create_app
from entrypoints.container import Container
from tests.e2e.conftest import Client
from tests.support.server import LiveServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)


# The document is the app's own, built without touching a database; requests go to the live server.
schema = schemathesis.openapi.from_dict(create_app(Container()).openapi())


class Tokens:
    """Valid tokens for an admin and a customer. A fuzzed request may deactivate or demote its own caller,
    so a token is checked before each example and replaced by a fresh account's when it no longer works."""

    def __init__(self, server: LiveServer) -> None:
        self.client = Client(server)
        self.accounts = 0
        self._admin: dict[str, str] | None = None
        self._customer: dict[str, str] | None = None

    def admin(self) -> dict[str, str]:
        if self._admin is None or not self._works(self._admin, admin=True):
            email = self._new_email()
            self.client.server.cli("create-admin", "--email", email, "--password", "adminpass")
            self._admin = self.client.login(email, "adminpass")
        return self._admin

    def customer(self) -> dict[str, str]:
        if self._customer is None or not self._works(self._customer, admin=False):
            self._customer = self.client.customer(self._new_email())[0]
        return self._customer

    def _works(self, headers: dict[str, str], *, admin: bool) -> bool:
        me = self.client.http.get("/users/me", headers=headers)
        return me.status_code == 200 and me.json()["is_admin"] is admin

    def _new_email(self) -> str:
        self.accounts += 1
        return f"fuzz-{self.accounts}@shop.test"


@pytest.fixture(scope="module")
def tokens(server: LiveServer) -> Tokens:
    return Tokens(server)


@schema.parametrize()
@EXAMPLES
def test_anonymous(case, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(base_url=server.url, checks=CHECKS)


@schema.parametrize()
@EXAMPLES
def test_as_customer(case, server: LiveServer, tokens: Tokens) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(base_url=server.url, headers=tokens.customer(), checks=CHECKS)


@schema.parametrize()
@EXAMPLES
def test_as_admin(case, server: LiveServer, tokens: Tokens) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(base_url=server.url, headers=tokens.admin(), checks=CHECKS)
