"""Positions in the primary's write-ahead log, and the request's: what it must read after, where it wrote.

Read-your-writes with replicas (adapters/sql/replicas.py): the primary's runner records where a request's
write committed; the API sends that back to the client and reads what the client sends."""

import re
from contextvars import ContextVar
from dataclasses import dataclass

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


def parse_lsn(value: str) -> int | None:
    """'16/B374D848' (PostgreSQL's pg_lsn text) -> its 64-bit position; None when it is not one."""
    match = _LSN.match(value.strip())
    return None if match is None else int(match[1], 16) << 32 | int(match[2], 16)


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


@dataclass(slots=True)
class ReadPosition:
    """One request's place in the primary's WAL: what it must read after (sent by the client), and where
    its own write committed (sent back to it)."""

    read_after: int | None = None
    committed_at: int | None = None


# Set per request by the API's middleware (a mutable holder, so what the runner records deep inside the
# request is seen by the middleware that answers it); None outside requests (CLI, jobs).
POSITION: ContextVar[ReadPosition | None] = ContextVar("shop_read_position", default=None)


def record_commit(lsn: str) -> None:
    position, parsed = POSITION.get(), parse_lsn(lsn)
    if position is not None and parsed is not None:
        position.committed_at = max(parsed, position.committed_at or 0)
