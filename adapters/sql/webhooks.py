"""Webhook subscriptions, their deliveries and attempts in SQL; the fan-out of the event feed to them."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    TextClause,
    bindparam,
    delete,
    insert,
    literal_column,
    null,
    select,
    text,
    update,
)

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.events import SETTLED, TXID, feed_order
from adapters.sql.tables import events, webhook_attempts, webhook_deliveries, webhooks
from application import paging
from application.lists import Page, Window
from application.ports import StaleVersion
from domain.events import EventType
from domain.webhooks import Attempt, Delivery, DeliveryState, Webhook

_BY_ID = select(webhooks).where(webhooks.c.id == bindparam("id"))
_TXID_NUMBER = literal_column("CAST(CAST(events.txid AS text) AS bigint)", BigInteger)
# The newest event of the feed, where a new webhook starts.
_FEED_END = {
    "postgresql": select(_TXID_NUMBER, events.c.id).order_by(TXID.desc(), events.c.id.desc()).limit(1),
    "sqlite": select(null(), events.c.id).order_by(events.c.id.desc()).limit(1),
}
_OFFERED_TO = select(webhooks).where(webhooks.c.enabled.is_(True)).order_by(webhooks.c.id)
_AFTER: dict[str, ColumnElement[bool] | TextClause] = {
    "postgresql": text("(events.txid, events.id) > (CAST(CAST(:after_txid AS text) AS xid8), :after_id)"),
    "sqlite": events.c.id > bindparam("after_id"),
}
_INSERT_DELIVERY = insert(webhook_deliveries)
_INSERT_ATTEMPT = insert(webhook_attempts)
_DUE = (
    select(webhook_deliveries)
    .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
    .where(
        webhook_deliveries.c.state == DeliveryState.PENDING.value,
        webhook_deliveries.c.next_attempt_at <= bindparam("now"),
        webhooks.c.enabled.is_(True),
    )
    .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
    .limit(bindparam("limit"))
    .with_for_update(of=webhook_deliveries, skip_locked=True)
)
_SAVE_DELIVERY = (
    update(webhook_deliveries)
    .where(webhook_deliveries.c.id == bindparam("delivery_id"))
    .values(
        state=bindparam("state"),
        attempts=bindparam("attempts"),
        next_attempt_at=bindparam("next_attempt_at"),
        last_attempt_at=bindparam("last_attempt_at"),
    )
)
_ATTEMPTS = (
    select(webhook_attempts)
    .where(webhook_attempts.c.delivery_id.in_(bindparam("ids", expanding=True)))
    .order_by(webhook_attempts.c.id)
)
_EDITABLE = (
    "url",
    "event_types",
    "enabled",
    "disabled_reason",
    "consecutive_failures",
    "version",
    "updated_at",
)


class SqlWebhookRepository(SqlRepository):
    def add(self, webhook: Webhook) -> None:
        end = self.tx.execute(_FEED_END[self.tx.dialect_name]).first()
        position = {"after_txid": end[0] if end else None, "after_event_id": end[1] if end else 0}
        values = _row(webhook) | {"secret": webhook.secret, "created_at": webhook.created_at} | position
        webhook.id = self.tx.execute(insert(webhooks).values(values).returning(webhooks.c.id)).scalar_one()

    def get(self, webhook_id: int, *, for_update: bool = False) -> Webhook | None:
        query = _BY_ID.with_for_update() if for_update else _BY_ID
        row = self.tx.execute(query, {"id": webhook_id}, locks=for_update).first()
        return webhook_from_row(row) if row is not None else None

    def list(self, window: Window) -> Page[Webhook]:
        query = select(webhooks)
        return self._page(
            query, [webhooks.c.id], paging.WEBHOOKS, window, webhook_from_row, self._count(query)
        )

    def save(self, webhook: Webhook) -> None:
        updated = self.tx.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook.id, webhooks.c.version == webhook.version - 1)
            .values(_row(webhook))
        )
        if updated.rowcount == 0:
            raise StaleVersion(self._version(webhooks, webhook.id))

    def delete(self, webhook_id: int) -> None:
        self.tx.execute(delete(webhooks).where(webhooks.c.id == webhook_id))

    def offer_events(self, now: datetime, limit: int) -> int:
        dialect = self.tx.dialect_name
        offered = 0
        subscribed = _OFFERED_TO.with_for_update(skip_locked=True) if dialect == "postgresql" else _OFFERED_TO
        for row in self.tx.execute(subscribed, locks=True).all():
            webhook = webhook_from_row(row)
            new = self._events_after(row.after_txid, row.after_event_id, limit)
            if not new:
                continue
            wanted = [
                {
                    "webhook_id": webhook.id,
                    "event_id": e.id,
                    "event_type": e.type,
                    "state": DeliveryState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for e in new
                if webhook.wants(EventType(e.type))
            ]
            if wanted:
                self.tx.execute(_INSERT_DELIVERY, wanted)
                offered += len(wanted)
            last = new[-1]
            self.tx.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook.id)
                .values(after_txid=getattr(last, "txid", None), after_event_id=last.id)
            )
        return offered

    def _events_after(self, after_txid: int | None, after_id: int, limit: int) -> Sequence[Any]:
        postgres = self.tx.dialect_name == "postgresql"
        columns = [events.c.id, events.c.type] + ([_TXID_NUMBER.label("txid")] if postgres else [])
        query = select(*columns).where(_AFTER[self.tx.dialect_name])
        if postgres:
            query = query.where(SETTLED)
        query = query.order_by(*feed_order(self.tx.dialect_name)).limit(limit)
        return self.tx.execute(query, {"after_txid": after_txid or 0, "after_id": after_id}).all()

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> builtins.list[Delivery]:
        rows = self.tx.execute(_DUE, {"now": now, "limit": limit}, locks=True).all()
        due = [delivery_from_row(r) for r in rows]
        for delivery in due:
            delivery.claim(now, lease)
        if due:
            self.tx.execute(_SAVE_DELIVERY, [_delivery_row(d) for d in due])
        return due

    def get_delivery(self, webhook_id: int, delivery_id: int, *, for_update: bool = False) -> Delivery | None:
        query = select(webhook_deliveries).where(
            webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.webhook_id == webhook_id
        )
        row = self.tx.execute(query.with_for_update() if for_update else query, locks=for_update).first()
        return delivery_from_row(row) if row is not None else None

    def deliveries(self, webhook_id: int, window: Window) -> Page[Delivery]:
        query = select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
        columns = [webhook_deliveries.c.created_at, webhook_deliveries.c.id]
        page = self._page(query, columns, paging.DELIVERIES, window, delivery_from_row, self._count(query))
        history = self.attempts([d.id for d in page.items if d.id is not None])
        for delivery in page.items:
            delivery.history = history.get(delivery.id or 0, [])
        return page

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, builtins.list[Attempt]]:
        if not delivery_ids:
            return {}
        grouped: dict[int, list[Attempt]] = {}
        for r in self.tx.execute(_ATTEMPTS, {"ids": list(delivery_ids)}):
            grouped.setdefault(r.delivery_id, []).append(mapping.from_row(Attempt, r))
        return grouped

    def save_deliveries(self, deliveries: Sequence[Delivery], attempts: Sequence[Attempt] = ()) -> None:
        if deliveries:
            self.tx.execute(_SAVE_DELIVERY, [_delivery_row(d) for d in deliveries])
        if attempts:
            self.tx.execute(_INSERT_ATTEMPT, [mapping.values(webhook_attempts, a) for a in attempts])

    def purge(self, created_before: datetime) -> int:
        gone = self.tx.execute(
            delete(webhook_deliveries).where(webhook_deliveries.c.created_at < created_before)
        )
        return gone.rowcount


def _row(webhook: Webhook) -> dict[str, Any]:
    values = {name: getattr(webhook, name) for name in _EDITABLE}
    return values | {"event_types": sorted(t.value for t in webhook.event_types)}


def _delivery_row(d: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": d.id,
        "state": d.state.value,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_attempt_at": d.last_attempt_at,
    }


def webhook_from_row(row: Any) -> Webhook:
    webhook = mapping.from_row(Webhook, row)
    webhook.event_types = frozenset(EventType(t) for t in row.event_types)
    return webhook


def delivery_from_row(row: Any) -> Delivery:
    delivery = mapping.from_row(Delivery, row)
    delivery.state = DeliveryState(delivery.state)
    delivery.event_type = EventType(delivery.event_type)
    return delivery
