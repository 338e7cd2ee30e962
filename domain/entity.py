"""Identity equality shared by every entity."""


class Entity:
    """Entities are equal when they are the same kind of thing with the same id."""

    __slots__ = ()
    id: int | None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        if self.id is None or other.id is None:
            return self is other
        return self.id == other.id

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id)) if self.id is not None else id(self)
