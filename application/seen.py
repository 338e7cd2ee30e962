"""What a Unit of Work saw: the aggregates it added, loaded or saved, whose domain events it collects."""

from domain.aggregate import Aggregate
from domain.events import DomainEvent


class SeenAggregates:
    def __init__(self) -> None:
        self._seen: dict[int, Aggregate] = {}  # by identity: two copies of one row are two aggregates

    def add(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self._seen[id(aggregate)] = aggregate

    def take_events(self) -> list[DomainEvent]:
        """Every event they recorded since last taken, in the order raised (an order's before those of the
        products it emptied, as they happened)."""
        raised = (e for aggregate in self._seen.values() for e in aggregate.take_events())
        return sorted(raised, key=lambda e: e.raised)

    def clear(self) -> None:
        self._seen.clear()
