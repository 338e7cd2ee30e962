"""Repositories that lose a race: a write fails as the database fails it when another transaction got there
first (a unique key taken, a row at a newer version), to test the refusals only a race produces."""

from typing import Any


def lose_the_race(repository: Any, method: str, error: Exception) -> None:
    """The write fails as the database would when another transaction got there first."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise error

    setattr(repository, method, refuse)
