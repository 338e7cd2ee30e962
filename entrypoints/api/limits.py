"""Request bodies over the limit are refused with 413, by their declared length or as they stream in: by the
edge (entrypoints.api.edge), or by `BodySizeLimit` inside CORS when CORS is on."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.api.problems import problem


def too_large(declared: bytes | None, max_bytes: int) -> bool:
    """A declared `Content-Length` over the limit (or not a number)."""
    return declared is not None and (not declared.isdigit() or int(declared) > max_bytes)


def refusal(max_bytes: int) -> ASGIApp:
    return problem(413, _detail(max_bytes))


def limited(receive: Receive, max_bytes: int) -> Receive:
    """`receive`, counting: past the limit, a 413 raised inside the app's body read (so its exception
    handlers answer it)."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise HTTPException(413, _detail(max_bytes))
        return message

    return limited_receive


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if too_large(declared, self.max_bytes):
            await refusal(self.max_bytes)(scope, receive, send)
            return
        await self.app(scope, limited(receive, self.max_bytes), send)


def _detail(max_bytes: int) -> str:
    return f"The request body is larger than {max_bytes} bytes"
