"""Categories in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.tables import categories, products
from application.ports import Page
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

    def list(self, limit: int, offset: int) -> Page[Category]:
        rows, total = self._page(select(categories), [categories.c.name, categories.c.id], limit, offset)
        return Page([mapping.from_row(Category, r) for r in rows], total, limit, offset)

    def count_active_products(self, category_ids: Sequence[int]) -> dict[int, int]:
        if not category_ids:
            return {}
        query = (
            select(products.c.category_id, func.count())
            .where(products.c.category_id.in_(category_ids), products.c.is_active.is_(True))
            .group_by(products.c.category_id)
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
