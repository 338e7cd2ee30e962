"""Schemathesis against the service's own OpenAPI, anonymous and with valid tokens: no 5xx, and every
response conforms to the documented status codes, content types and schemas. Bounded examples per route."""

import re
from urllib.parse import quote

import httpx
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
SPEC = create_app(Container()).openapi()
schema = schemathesis.openapi.from_dict(SPEC)


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
            self.client.server.cli("create-admin", "--email", email, "--password", "quartz-lantern-7")
            self._admin = self.client.login(email, "quartz-lantern-7")
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


# Raw JSON text, so values json.dumps cannot write (1e400, a lone surrogate's escape) are sent as they are.
HOSTILE_JSON = [
    '"\\ud800"',
    '"x\\udfffy"',
    '"\\u0000"',
    '"' + "A" * 100_000 + '"',
    "1" + "0" * 5000,
    "-1" + "0" * 30,
    "1e400",
    "-1e308",
    "true",
    "null",
    '"2"',
    "{}",
    "[" * 50_000 + "]" * 50_000,
    '"\\u202e\\u200bADMIN"',
    '"\' OR 1=1 --"',
]
HOSTILE_TEXT = ["\x00", "\ud800", "A" * 5000, "1" + "0" * 400, "-1", "1e400", "../../etc/passwd", "%00", " "]


def _operations() -> list[tuple[str, str, dict]]:
    return [(path, method.upper(), op) for path, item in SPEC["paths"].items() for method, op in item.items()]


def _url(path: str, hostile_param: str | None = None, value: str = "") -> str:
    """`path` with every path parameter 1, except `hostile_param`, percent-encoded as UTF-8 (surrogates
    as the bytes they would be)."""
    for name in re.findall(r"{(\w+)}", path):
        text = value if name == hostile_param else "1"
        path = path.replace("{" + name + "}", quote(text.encode("utf-8", "surrogatepass"), safe=""))
    return path


def _requests() -> list[tuple[str, str, dict]]:
    """(method, url, httpx kwargs): each hostile value in each parameter and each body property."""
    requests = []
    for path, method, op in _operations():
        for param in op.get("parameters", []):
            for value in HOSTILE_TEXT:
                if param["in"] == "path":
                    requests.append((method, _url(path, param["name"], value), {}))
                elif param["in"] == "query":
                    encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
                    requests.append((method, f"{_url(path)}?{param['name']}={encoded}", {}))
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            for name in _properties(content["application/json"]["schema"]):
                for raw in HOSTILE_JSON:
                    body = '{"' + name + '": ' + raw + "}"
                    requests.append((method, _url(path), {"content": body.encode(), "headers": JSON}))
            whole = [
                '{"\\ud800": 1}',
                "[" * 50_000 + "]" * 50_000,
                '{"items": [' + '{"a": 1},' * 20_000 + "1]}",
            ]
            if path == "/orders":  # inside an order line
                whole += [
                    f'{{"items": [{{"product_id": {raw}, "quantity": {raw}}}]}}' for raw in HOSTILE_JSON
                ]
            for raw in whole:
                requests.append((method, _url(path), {"content": raw.encode(), "headers": JSON}))
        if "application/x-www-form-urlencoded" in content:
            for value in HOSTILE_TEXT:
                encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
                form = f"username={encoded}&password={encoded}".encode()
                requests.append((method, _url(path), {"content": form, "headers": FORM}))
    return requests


def _properties(schema: dict) -> list[str]:
    """The body's property names, resolving the one level of $ref FastAPI writes."""
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_hostile_values_in_every_parameter_never_get_a_5xx(server: LiveServer, tokens: Tokens) -> None:
    """Surrogates, NUL, huge numbers and strings, deep JSON: in every path and query parameter and every
    body property of every route, anonymous and as an admin. Each answer is a 4xx (or a success) whose
    body is valid UTF-8."""
    requests = _requests()
    failures = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for headers in ({}, tokens.admin()):
            for method, url, kwargs in requests:
                sent = {**kwargs, "headers": {**kwargs.get("headers", {}), **headers}}
                response = http.request(method, url, **sent)
                try:
                    response.content.decode("utf-8")
                except UnicodeDecodeError:
                    failures.append((method, url[:80], response.status_code, "body is not UTF-8"))
                if response.status_code >= 500:
                    failures.append((method, url[:80], response.status_code, response.text[:200]))
    print(f"hostile values: {len(requests) * 2} requests, {len(failures)} answered 5xx or bad text")
    assert failures == []
