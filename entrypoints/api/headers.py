"""Security headers on every answer, set by the edge (entrypoints.api.edge): a fixed set needs no library."""

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# JSON needs nothing; Swagger UI needs its own scripts and styles, and one inline script that starts it.
_API_POLICY = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_DOCS_POLICY = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; frame-ancestors 'none'",
)
CACHE_CONTROL = b"cache-control"
NO_STORE = (CACHE_CONTROL, b"no-store")
# Token responses carry credentials even though the request carried none.
_CREDENTIAL_PATHS = frozenset({"/auth/token", "/auth/logout"})


def policy_for(path: str) -> tuple[bytes, bytes]:
    """The Content-Security-Policy of the answer to `path`."""
    return _DOCS_POLICY if path == "/docs" or path.startswith("/docs/") else _API_POLICY


def is_private(path: str, has_authorization: bool) -> bool:
    """Answers that must not be stored: to a request with credentials, or that carry credentials."""
    return has_authorization or path in _CREDENTIAL_PATHS
