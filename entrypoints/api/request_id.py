"""Request ids: a client's own `X-Request-ID` is kept when it is sane, else the service makes one."""

import re
import uuid

HEADER = b"x-request-id"  # asked and answered
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def sane_request_id(value: str) -> bool:
    """Short and plain (letters, digits, `._:-`): safe in a header, a log line and a JSON body."""
    return _SANE.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex
