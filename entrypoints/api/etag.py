"""ETags: a single product's or order's representation is tagged with its version."""

from fastapi import Response


def etag(version: int) -> str:
    return f'"{version}"'


def tag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)
