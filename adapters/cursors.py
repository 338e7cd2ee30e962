"""Cursors: a list position handed to clients as an opaque string, signed with the service's secret so a
client can neither forge nor alter one, and valid only for the list and sort that issued it."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from application.errors import InvalidCursor
from application.lists import Position


def _plain(value: Any) -> Any:
    """JSON for a position's values; decimals and times are tagged so they come back as they went."""
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return Decimal(value["d"]) if "d" in value else datetime.fromisoformat(value["t"])
    return value


class CursorCodec:
    def __init__(self, secret_key: str) -> None:
        self._signer = URLSafeSerializer(secret_key, salt="shop.cursor")

    def encode(self, list_name: str, position: Position) -> str:
        return self._signer.dumps([list_name, [_plain(v) for v in position]])

    def decode(self, list_name: str, cursor: str) -> Position:
        try:
            issued_for, values = self._signer.loads(cursor)
        except (BadSignature, ValueError, TypeError):
            raise InvalidCursor(
                "this cursor is not one this service issued; start again without one"
            ) from None
        if issued_for != list_name:
            raise InvalidCursor(
                f"this cursor belongs to another list or sort ({issued_for}); start again without one"
            )
        return tuple(_typed(v) for v in values)
