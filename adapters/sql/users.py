"""Users in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, exists, false, func, insert, or_, select, true, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository, within
from adapters.sql.events import Outbox
from adapters.sql.tables import orders, users
from adapters.sql.transaction import OnDemandTransaction
from application import paging
from application.lists import Page, UserFilter, Window
from application.ports import UserStats
from domain.users import User

# Every authenticated request reads its caller: built once, with a named parameter.
_USER_BY_ID = select(users).where(users.c.id == bindparam("id"))
_USER_TO_LOCK = _USER_BY_ID.with_for_update()


class SqlUserRepository(SqlRepository):
    def __init__(self, tx: OnDemandTransaction, outbox: Outbox) -> None:
        super().__init__(tx)
        self._seen = outbox.seen  # the users this unit adds, loads and saves, whose events it collects

    def add(self, user: User) -> None:
        statement = insert(users).values(mapping.values(users, user)).returning(users.c.id)
        user.id = self._write(statement, "users.email").scalar_one()
        self._seen.add(user)

    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        query = _USER_TO_LOCK if for_update else _USER_BY_ID
        ahead = None if for_update else self.tx.first_read(query, {"id": user_id})  # placing an order
        if ahead is not None:
            row = ahead[0] if ahead else None
        else:
            row = self.tx.execute(query, {"id": user_id}, locks=for_update).first()
        return self._loaded(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self.tx.execute(select(users).where(users.c.email == email.lower())).first()
        return self._loaded(row) if row else None

    def list(self, filters: UserFilter, window: Window) -> Page[User]:
        query = select(users)
        if filters.is_active is not None:
            query = query.where(users.c.is_active == filters.is_active)
        if filters.q:
            query = query.where(
                or_(
                    users.c.email.icontains(filters.q, autoescape=True),
                    users.c.name.icontains(filters.q, autoescape=True),
                )
            )
        load = partial(mapping.from_row, User)  # listed, not changed: not seen
        return self._page(query, [users.c.id], paging.USERS, window, load, self._count(query))

    def save(self, user: User) -> None:
        self._write(
            update(users).where(users.c.id == user.id).values(mapping.values(users, user)), "users.email"
        )
        self._seen.add(user)

    # Bulk administration and statistics

    def get_many(self, user_ids: Sequence[int], *, for_update: bool = False) -> builtins.list[User]:
        query = select(users).where(users.c.id.in_(sorted(set(user_ids)))).order_by(users.c.id)
        if for_update:  # PostgreSQL sorts before it locks: concurrent calls lock shared rows in one order
            query = query.with_for_update()
        return [self._loaded(row) for row in self.tx.execute(query, locks=for_update)]

    def taken_emails(self, emails: Sequence[str]) -> set[str]:
        query = select(users.c.email).where(users.c.email.in_([e.lower() for e in emails]))
        return set(self.tx.execute(query).scalars())

    def record_login(self, user: User) -> None:
        self.tx.execute(update(users).where(users.c.id == user.id).values(last_login_at=user.last_login_at))

    def customers_not_seen_since(
        self, before: datetime, limit: int, *, for_update: bool = False
    ) -> builtins.list[User]:
        """Each branch of the OR is a range of ix_users_active_last_login_created (is_active, last_login_at,
        created_at): logged in before `before`, or never logged in and registered before it. Locked with
        SKIP LOCKED: rows in no order lock in no order, so a concurrent call takes others instead of
        waiting for (or deadlocking on) these; a row deactivated meanwhile no longer matches."""
        not_seen = or_(
            users.c.last_login_at < before,
            and_(users.c.last_login_at.is_(None), users.c.created_at < before),
        )
        # No ORDER BY: an order would have the planner walk the primary key (or sort every match) instead
        # of stopping at `limit` matches in the index; which ones a call gets does not matter.
        query = select(users).where(users.c.is_active == true(), users.c.is_admin == false(), not_seen)
        query = query.limit(limit)
        if for_update:
            query = query.with_for_update(skip_locked=True)
        found = [self._loaded(row) for row in self.tx.execute(query, locks=for_update)]
        return sorted(found, key=lambda u: u.id or 0)

    def stats(self, registered_from: datetime | None, registered_to: datetime | None) -> UserStats:
        """One statement. `with_orders` probes ix_orders_user_created_id once per user: its cost grows with
        the users, not with their orders."""
        period = within(users.c.created_at, registered_from, registered_to)
        has_orders = exists().where(orders.c.user_id == users.c.id)
        query = select(
            func.count(),
            func.count().filter(users.c.is_active == true()),
            func.count().filter(users.c.is_admin == true()),
            func.count().filter(and_(*period)) if period else func.count(),
            func.count().filter(has_orders),
        ).select_from(users)
        total, active, admins, registered, with_orders = self.tx.execute(query).one()
        return UserStats(total, active, total - active, admins, registered, with_orders)

    def _loaded(self, row: Any) -> User:
        user = mapping.from_row(User, row)
        self._seen.add(user)
        return user
