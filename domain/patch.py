"""Partial updates: a field left UNSET was not sent and must not change; `None` is a value like any other.
Use cases pass their patches' fields to the aggregates' `update` methods as they are."""

from typing import Final, TypeGuard, TypeVar

T = TypeVar("T")


class Unset:
    """The type of UNSET, so a patch field reads `str | Unset` and keeps its value's type."""

    _instance: "Unset | None" = None

    def __new__(cls) -> "Unset":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        # Equivalent mutants: how UNSET reads in a debugger.
        return "UNSET"  # pragma: no mutate


UNSET: Final = Unset()


def sent(value: T | Unset) -> TypeGuard[T]:
    """True when the field was sent: narrows `T | Unset` to `T`."""
    return value is not UNSET
