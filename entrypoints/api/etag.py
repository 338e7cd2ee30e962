"""ETags: a single product's or order's representation is tagged with its version."""

from fastapi import Response


def tag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
