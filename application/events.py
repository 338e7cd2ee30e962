"""Use cases of the event feed: reading it from any point, and purging what is older than it keeps."""

from dataclasses import dataclass
from datetime import timedelta

from application.access import require_admin
from application.errors import InvalidCursor
from application.lists import EventFilter
from application.ports import Clock, UnitOfWork
from domain.events import Event
from domain.users import User

MAX_FEED_PAGE = 100


@dataclass(frozen=True, slots=True)
class Feed:
    items: list[Event]
    has_more: bool  # more events follow the last item now


def read_events(
    filters: EventFilter, starting_after: int | None, limit: int, *, uow: UnitOfWork, actor: User
) -> Feed:
    """Up to `limit` (at most MAX_FEED_PAGE) events in commit order, after the event `starting_after`: a
    consumer passes the last id it has processed to catch up, or any older id to replay."""
    require_admin(actor, "read the event feed")
    limit = min(limit, MAX_FEED_PAGE)
    with uow:
        if starting_after is not None and uow.events.get(starting_after) is None:
            raise InvalidCursor(f"starting_after: event {starting_after} does not exist (or was purged)")
        found = uow.events.feed(filters, starting_after, limit + 1)
    return Feed(found[:limit], len(found) > limit)


def purge_events(retention: timedelta, *, uow: UnitOfWork, clock: Clock) -> int:
    """Delete events older than `retention`, with the webhook deliveries of that age; return how many
    events went."""
    before = clock.now() - retention
    with uow:
        uow.webhooks.purge(before)
        purged = uow.events.purge(before)
        uow.commit()
    return purged
