"""Read-your-writes with replicas: the WAL position of a request's write goes back to the client as the
`Shop-Read-After` header and a cookie; a request that sends either back is served by a replica only once it
has replayed that far (adapters/sql/replicas.py). Installed only when replicas are configured."""

import math
from http.cookies import SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.sql.wal import POSITION, ReadPosition, format_lsn, parse_lsn
from entrypoints.api.problems import problem

HEADER = "Shop-Read-After"
COOKIE = "shop_read_after"


def cookie_lifetime(max_lag: float, check_interval: float) -> int:
    """Seconds a position is worth keeping: by then every replica the service still reads from (at most
    `max_lag` behind, as known at most `check_interval` ago) has replayed it."""
    return math.ceil(2 * max_lag + check_interval)


def _from_cookie(header: str | None) -> int | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # another site's malformed cookie is not this request's fault
        return None
    morsel = jar.get(COOKIE)
    return None if morsel is None else parse_lsn(morsel.value)  # a mangled cookie counts as none


class ReadYourWrites:
    def __init__(self, app: ASGIApp, cookie_max_age: int) -> None:
        self.app = app
        self.cookie_max_age = cookie_max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        sent = headers.get(HEADER)
        from_header = None if sent is None else parse_lsn(sent)
        if sent is not None and from_header is None:
            detail = f"{HEADER} must be a WAL position this service sent, such as 0/1A2B3C4"
            await problem(400, detail, slug="invalid-read-after")(scope, receive, send)
            return
        known = [p for p in (from_header, _from_cookie(headers.get("cookie"))) if p is not None]
        position = ReadPosition(read_after=max(known, default=None))
        secure = "; Secure" if scope.get("scheme") == "https" else ""

        async def send_with_position(message: Message) -> None:
            if message["type"] == "http.response.start" and position.committed_at is not None:
                value = format_lsn(position.committed_at)
                answer = MutableHeaders(scope=message)
                answer[HEADER] = value
                attributes = f"Max-Age={self.cookie_max_age}; Path=/; HttpOnly; SameSite=Lax{secure}"
                answer.append("Set-Cookie", f"{COOKIE}={value}; {attributes}")
            await send(message)

        token = POSITION.set(position)
        try:
            await self.app(scope, receive, send_with_position)
        finally:
            POSITION.reset(token)
