"""Query and path parameters shared by the routes."""

from typing import Annotated

from fastapi import Path, Query

from adapters.fields import MAX_ID

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID)]
SearchText = Annotated[
    str | None, Query(max_length=200, pattern=r"^[^\x00]*$", description="Case-insensitive substring.")
]
