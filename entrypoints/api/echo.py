"""What a 422 may echo of the request: short excerpts that always encode, never the whole input.

FastAPI echoes every rejected value whole: a 10,000-line order came back as ~1 MiB, and a lone surrogate
(`"\\ud800"`, valid JSON) made encoding the echo raise inside the error handler, a 500 from any client."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

MAX_ECHO = 80  # characters of a string value, a key in `loc` or a message
MAX_ECHO_INT_BITS = 64


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [_safe_error(error) for error in errors]


def _safe_error(error: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {
        "loc": [part if isinstance(part, int) else excerpt(str(part)) for part in error.get("loc", ())],
        "msg": excerpt(str(error.get("msg", "")), limit=4 * MAX_ECHO),
        "type": error.get("type", "value_error"),
    }
    if _echoable(error.get("input")):
        safe["input"] = _echo(error["input"])
    context = {key: _echo(value) for key, value in (error.get("ctx") or {}).items() if _echoable(value)}
    if context:
        safe["ctx"] = context
    return safe


def excerpt(text: str, limit: int = MAX_ECHO) -> str:
    """At most `limit` characters, with anything UTF-8 cannot carry (lone surrogates) written as escapes."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return short.encode("utf-8", "backslashreplace").decode("utf-8")


def _echoable(value: Any) -> bool:
    """Scalars only: a rejected object or list may be the whole body."""
    return value is None or isinstance(value, str | int | float | Decimal | Exception)


def _echo(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):  # a 5,000-digit integer cannot even be turned into text
        return value if value.bit_length() <= MAX_ECHO_INT_BITS else "(a number too large to echo)"
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)  # JSON has no inf/nan
    return excerpt(str(value))
