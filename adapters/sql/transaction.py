"""The connection a Unit of Work's repositories share, and whether they have written through it."""

from typing import Any

from sqlalchemy import Connection, CursorResult, Executable


class Transaction:
    def __init__(self) -> None:
        self.connection: Connection | None = None
        self.wrote = False

    def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        if self.connection is None:
            raise RuntimeError("repositories are used only inside `with uow:`")
        self.wrote = self.wrote or statement.is_dml
        return self.connection.execute(statement, parameters)

    @property
    def dialect_name(self) -> str:
        assert self.connection is not None
        return self.connection.dialect.name
