"""Payments and their transactions in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.sql import mapping
from adapters.sql.base import SqlRepository, is_unique_violation
from adapters.sql.events import Outbox
from adapters.sql.tables import payment_transactions, payments
from adapters.sql.transaction import OnDemandTransaction
from application.ports import DuplicateKey, StaleVersion
from domain.payments import Payment, PaymentTransaction, TransactionKind

_BY_ID = select(payments).where(payments.c.id == bindparam("id"))
_BY_REFERENCE = select(payments).where(
    payments.c.provider == bindparam("provider"), payments.c.reference == bindparam("reference")
)
_OF_ORDER = select(payments).where(payments.c.order_id == bindparam("order_id")).order_by(payments.c.id)
_TRANSACTIONS = (
    select(payment_transactions)
    .where(payment_transactions.c.payment_id.in_(bindparam("ids", expanding=True)))
    .order_by(payment_transactions.c.id)
)
_INSERT_TRANSACTIONS = insert(payment_transactions).returning(
    payment_transactions.c.id, sort_by_parameter_order=True
)


class SqlPaymentRepository(SqlRepository):
    def __init__(self, tx: OnDemandTransaction, outbox: Outbox) -> None:
        super().__init__(tx)
        self._seen = outbox.seen  # the payments this unit adds, loads and saves, whose events it collects

    def add(self, payment: Payment) -> None:
        statement = insert(payments).values(mapping.values(payments, payment)).returning(payments.c.id)
        payment.id = self._write(statement, "payments.provider, payments.reference").scalar_one()
        self._seen.add(payment)
        self._store_transactions(payment)

    def get(self, payment_id: int, *, for_update: bool = False) -> Payment | None:
        query = _BY_ID.with_for_update() if for_update else _BY_ID
        return self._one(self.tx.execute(query, {"id": payment_id}, locks=for_update).first())

    def get_by_reference(self, provider: str, reference: str) -> Payment | None:
        row = self.tx.execute(_BY_REFERENCE, {"provider": provider, "reference": reference}).first()
        return self._one(row)

    def save(self, payment: Payment) -> None:
        row = mapping.values(payments, payment)
        updated = self.tx.execute(
            update(payments)
            .where(payments.c.id == payment.id, payments.c.version == payment.version - 1)
            .values({k: row[k] for k in _CHANGING})
        )
        if updated.rowcount == 0:
            raise StaleVersion(self._version(payments, payment.id))
        self._seen.add(payment)
        self._store_transactions(payment)

    def for_order(self, order_id: int, *, for_update: bool = False) -> builtins.list[Payment]:
        query = _OF_ORDER.with_for_update() if for_update else _OF_ORDER
        found = [
            mapping.from_row(Payment, r)
            for r in self.tx.execute(query, {"order_id": order_id}, locks=for_update)
        ]
        self._attach(found)
        if for_update:  # loaded to change: their events are collected
            self._seen.add(*found)
        return found

    def _one(self, row: object) -> Payment | None:
        if row is None:
            return None
        payment = mapping.from_row(Payment, row)
        self._attach([payment])
        self._seen.add(payment)
        return payment

    def _attach(self, found: Sequence[Payment]) -> None:
        """Each payment's transactions, in one read for all of them."""
        if not found:
            return
        grouped: dict[int, list[PaymentTransaction]] = {}
        for r in self.tx.execute(_TRANSACTIONS, {"ids": [p.id for p in found]}):
            transaction = mapping.from_row(PaymentTransaction, r)
            transaction.kind = TransactionKind(transaction.kind)
            grouped.setdefault(r.payment_id, []).append(transaction)
        for payment in found:
            payment.transactions = grouped.get(payment.id or 0, [])

    def _store_transactions(self, payment: Payment) -> None:
        if not payment.new_transactions:
            return
        rows = [
            mapping.values(payment_transactions, t, payment_id=payment.id) for t in payment.new_transactions
        ]
        try:
            ids = list(self.tx.execute(_INSERT_TRANSACTIONS, rows).scalars())
        except IntegrityError as error:
            if is_unique_violation(error):  # a refund's reference, already in its payment
                raise DuplicateKey("payment_transactions.reference") from None
            raise
        for transaction, transaction_id in zip(payment.new_transactions, ids, strict=True):
            transaction.id = transaction_id
        payment.new_transactions.clear()


_CHANGING = ("authorized_cents", "captured_cents", "refunded_cents", "voided", "version", "updated_at")
