"""Address books in SQL. Every change to a book runs under its user's row lock (FOR NO KEY UPDATE on
PostgreSQL: it waits for another change to the same book, but not for orders, whose foreign key takes only
KEY SHARE), so the book's limit is counted by one change at a time; on SQLite the lock is the write
transaction itself (BEGIN IMMEDIATE)."""

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.sql import mapping
from adapters.sql.base import SqlRepository, is_unique_violation
from adapters.sql.tables import addresses, users
from application.ports import DuplicateKey
from domain.addresses import AddressBook, SavedAddress

_LOCK_USER = select(users.c.id).where(users.c.id == bindparam("user_id")).with_for_update(key_share=True)
_BOOK = select(addresses).where(addresses.c.user_id == bindparam("user_id")).order_by(addresses.c.id)
_BY_ID = select(addresses).where(addresses.c.id == bindparam("id"))
_INSERT = insert(addresses).returning(addresses.c.id)


class SqlAddressRepository(SqlRepository):
    def book(self, user_id: int, *, for_update: bool = False) -> AddressBook:
        if for_update:
            self.tx.execute(_LOCK_USER, {"user_id": user_id}, locks=True)
        rows = self.tx.execute(_BOOK, {"user_id": user_id})
        return AddressBook(user_id, [mapping.saved_address_from_row(r) for r in rows])

    def get(self, address_id: int) -> SavedAddress | None:
        row = self.tx.execute(_BY_ID, {"id": address_id}).first()
        return mapping.saved_address_from_row(row) if row else None

    def save(self, book: AddressBook) -> None:
        try:
            if book.removed:
                self.tx.execute(delete(addresses).where(addresses.c.id.in_(book.removed)))
            for entry in book.changes:
                self._store(entry)
        except IntegrityError as error:
            if is_unique_violation(error):
                raise DuplicateKey("addresses.default") from None
            raise
        book.changes.clear()
        book.removed.clear()

    def _store(self, entry: SavedAddress) -> None:
        values = mapping.saved_address_values(entry)
        if entry.id is None:
            entry.id = self.tx.execute(_INSERT, values).scalar_one()
        else:
            self.tx.execute(update(addresses).where(addresses.c.id == entry.id).values(values))
