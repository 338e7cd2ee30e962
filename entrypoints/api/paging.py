"""Query and path parameters shared by the routes, and paging: by offset or by cursor."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request

from adapters.cursors import CursorCodec
from adapters.fields import MAX_ID
from adapters.sql.mapping import utc
from application.lists import MAX_OFFSET, Page, Window
from application.paging import Ordering
from entrypoints.api.schemas import PageOf

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Offset = Annotated[
    int,
    Query(ge=0, le=MAX_ID, description=f"Items to skip, at most {MAX_OFFSET:,}; page further with `cursor`."),
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="The `next_cursor` of the page before: the page after its last item, however deep, "
        "unshaken by rows added meanwhile. Not combined with `offset`.",
    ),
]
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID)]
SearchText = Annotated[
    str | None, Query(max_length=200, pattern=r"^[^\x00]*$", description="Case-insensitive substring.")
]


def utc_or_none(moment: datetime | None) -> datetime | None:
    """A time filter without an offset is taken to be UTC."""
    return None if moment is None else utc(moment)


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    offset: int
    cursor: str | None
    codec: CursorCodec

    def window(self, ordering: Ordering[Any]) -> Window:
        after = self.codec.decode(ordering.name, self.cursor) if self.cursor is not None else None
        return Window(self.limit, self.offset, after)

    def answer(self, page: Page[T], ordering: Ordering[Any], convert: Callable[[T], Any]) -> PageOf[Any]:
        cursor = self.codec.encode(ordering.name, page.next) if page.next is not None else None
        return PageOf.of(page, convert, cursor)


async def page_request(
    request: Request, limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None
) -> PageRequest:
    return PageRequest(limit, offset, cursor, request.app.state.container.cursors())


Paged = Annotated[PageRequest, Depends(page_request)]
