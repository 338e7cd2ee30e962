"""Users in SQL."""

from __future__ import annotations

from functools import partial

from sqlalchemy import bindparam, insert, or_, select, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.tables import users
from application import paging
from application.lists import Page, UserFilter, Window
from domain.users import User

# Every authenticated request reads its caller: built once, with a named parameter.
_USER_BY_ID = select(users).where(users.c.id == bindparam("id"))


class SqlUserRepository(SqlRepository):
    def add(self, user: User) -> None:
        statement = insert(users).values(mapping.values(users, user)).returning(users.c.id)
        user.id = self._write(statement, "users.email").scalar_one()

    def get(self, user_id: int) -> User | None:
        row = self.tx.execute(_USER_BY_ID, {"id": user_id}).first()
        return mapping.from_row(User, row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self.tx.execute(select(users).where(users.c.email == email.lower())).first()
        return mapping.from_row(User, row) if row else None

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
        load = partial(mapping.from_row, User)
        return self._page(query, [users.c.id], paging.USERS, window, load, self._count(query))

    def save(self, user: User) -> None:
        self._write(
            update(users).where(users.c.id == user.id).values(mapping.values(users, user)), "users.email"
        )
