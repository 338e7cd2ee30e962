"""Idempotency keys in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.tables import idempotency_keys
from application.ports import IdempotencyRecord


class SqlIdempotencyRepository(SqlRepository):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        dialect: Any = postgresql if self.tx.dialect_name == "postgresql" else sqlite
        claimed = self.tx.execute(
            dialect.insert(idempotency_keys)
            .values(
                user_id=record.user_id,
                key=record.key,
                fingerprint=record.fingerprint,
                created_at=record.created_at,
                order_id=None,
            )
            .on_conflict_do_nothing()
            .returning(idempotency_keys.c.key)
        ).first()
        if claimed is not None:
            return None
        row = self.tx.execute(select(idempotency_keys).where(self._key(record.user_id, record.key))).one()
        return mapping.from_row(IdempotencyRecord, row)

    def complete(self, user_id: int, key: str, order_id: int) -> None:
        self.tx.execute(update(idempotency_keys).where(self._key(user_id, key)).values(order_id=order_id))

    def release(self, user_id: int, key: str) -> None:
        self.tx.execute(delete(idempotency_keys).where(self._key(user_id, key)))

    def purge(self, created_before: datetime) -> int:
        result = self.tx.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < created_before)
        )
        return result.rowcount

    @staticmethod
    def _key(user_id: int, key: str) -> ColumnElement[bool]:
        return and_(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
