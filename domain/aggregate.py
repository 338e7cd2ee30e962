"""Aggregates: entities whose changes raise domain events. Each change records its own events on the
aggregate; the Unit of Work collects them from the aggregates it saw (Cosmic Python's
`collect_new_events`)."""

from domain.entity import Entity
from domain.events import DomainEvent


class Aggregate(Entity):
    __slots__ = ()
    domain_events: list[DomainEvent]  # recorded and not collected yet

    def take_events(self) -> list[DomainEvent]:
        taken = list(self.domain_events)
        self.domain_events.clear()
        return taken
