"""Categories in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlalchemy import delete, insert, select, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.tables import categories, counts
from application import paging
from application.lists import Page, Window
from domain.catalog import Category, name_key


class SqlCategoryRepository(SqlRepository):
    def add(self, category: Category) -> None:
        statement = insert(categories).values(mapping.values(categories, category)).returning(categories.c.id)
        category.id = self._write(statement, "categories.name").scalar_one()

    def get(self, category_id: int) -> Category | None:
        row = self.tx.execute(select(categories).where(categories.c.id == category_id)).first()
        return mapping.from_row(Category, row) if row else None

    def get_by_name(self, name: str) -> Category | None:
        row = self.tx.execute(select(categories).where(categories.c.name_key == name_key(name))).first()
        return mapping.from_row(Category, row) if row else None

    def list(self, window: Window) -> Page[Category]:
        query = select(categories)
        columns = [categories.c.name, categories.c.id]
        load = partial(mapping.from_row, Category)
        return self._page(query, columns, paging.CATEGORIES, window, load, self._count(query))

    def count_active_products(self, category_ids: Sequence[int]) -> dict[int, int]:
        """Read from the counts the triggers keep (migration 0002), not counted."""
        if not category_ids:
            return {}
        query = select(counts.c.category_id, counts.c.active_products).where(
            counts.c.category_id.in_(category_ids), counts.c.active_products > 0
        )
        return {category_id: count for category_id, count in self.tx.execute(query)}

    def save(self, category: Category) -> None:
        statement = (
            update(categories)
            .where(categories.c.id == category.id)
            .values(mapping.values(categories, category))
        )
        self._write(statement, "categories.name")

    def delete(self, category_id: int) -> None:
        # Children and products are detached by the foreign keys' ON DELETE SET NULL.
        self.tx.execute(delete(categories).where(categories.c.id == category_id))
