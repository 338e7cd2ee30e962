"""Categories in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from decimal import Decimal
from functools import cache, partial
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    type_coerce,
    update,
)

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.tables import categories, category_stats, counts, products
from application import paging
from application.lists import ALL_CATEGORIES, CategoryFilter, Page, Window
from application.patch import sent
from domain.catalog import Category, CategoryStats, name_key
from domain.money import money

# A guard against a cycle written by hand (the service refuses them): deeper than any real tree.
MAX_DEPTH = 100

_CATEGORIES_BY_IDS = select(categories).where(categories.c.id.in_(bindparam("ids", expanding=True)))
_CHILDREN = (
    select(categories)
    .where(categories.c.parent_id == bindparam("id"))
    .order_by(categories.c.name, categories.c.id)
)


def _ancestors_statement() -> Select[Any]:
    """Walk up from the category's parent, one recursive CTE, each with its distance (ordered in Python:
    a path is a handful of rows)."""
    up = (
        select(categories.c.parent_id.label("id"), literal(1).label("depth"))
        .where(categories.c.id == bindparam("id"))
        .cte("up", recursive=True)
    )
    parent = categories.alias("parent")
    up = up.union_all(
        select(parent.c.parent_id, up.c.depth + 1).where(
            parent.c.id == up.c.id, parent.c.parent_id.is_not(None), up.c.depth < MAX_DEPTH
        )
    )
    return select(categories, up.c.depth).join(up, categories.c.id == up.c.id)


_ANCESTORS = _ancestors_statement()


@cache
def stats_statement(include_descendants: bool) -> Select[Any]:
    """Per asked category (`ids`): the kept sums over it (and its subtree), and the minimum and maximum
    price, one probe of ix_products_category_active_price per category of the subtree."""
    tree: Any = select(categories.c.id.label("root"), categories.c.id.label("id")).where(
        categories.c.id.in_(bindparam("ids", expanding=True))
    )
    if include_descendants:
        tree = tree.cte("tree", recursive=True)
        child = categories.alias("child")
        # UNION, not UNION ALL: a cycle written by hand ends instead of looping.
        tree = tree.union(select(tree.c.root, child.c.id).where(child.c.parent_id == tree.c.id))
    else:
        tree = tree.cte("tree")
    on_sale = [products.c.category_id == tree.c.id, products.c.is_active == true()]
    prices = (
        select(
            tree.c.root,
            tree.c.id,
            select(func.min(products.c.price)).where(*on_sale).scalar_subquery().label("low"),
            select(func.max(products.c.price)).where(*on_sale).scalar_subquery().label("high"),
        )
        .cte("prices")
        .prefix_with("MATERIALIZED")
    )
    kept = category_stats.c
    return (
        select(
            prices.c.root,
            func.sum(kept.active_products).label("active_products"),
            func.sum(kept.price_cents).label("price_cents"),
            func.min(prices.c.low).label("min_price"),
            func.max(prices.c.high).label("max_price"),
            func.sum(kept.stock_units).label("stock_units"),
            # As it comes: Numeric's own result processor goes through a float on SQLite.
            type_coerce(func.sum(kept.stock_value_cents), BigInteger).label("stock_value_cents"),
            func.sum(kept.low_stock).label("low_stock"),
        )
        .join(category_stats, kept.category_id == prices.c.id)
        .group_by(prices.c.root)
    )


def _stats(row: Any) -> CategoryStats:
    return CategoryStats(
        active_products=int(row.active_products),
        price_total=_cents(row.price_cents),
        min_price=None if row.min_price is None else money(row.min_price),
        max_price=None if row.max_price is None else money(row.max_price),
        units_in_stock=int(row.stock_units),
        stock_value=_cents(row.stock_value_cents),
        low_stock=int(row.low_stock),
    )


def _cents(value: Any) -> Decimal:
    return money(Decimal(int(value)) / 100)


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

    def get_many(self, category_ids: Sequence[int]) -> dict[int, Category]:
        if not category_ids:
            return {}
        rows = self.tx.execute(_CATEGORIES_BY_IDS, {"ids": list(category_ids)})
        return {r.id: mapping.from_row(Category, r) for r in rows}

    def list(self, window: Window, filters: CategoryFilter = ALL_CATEGORIES) -> Page[Category]:
        query = select(categories)
        if sent(filters.parent_id):
            parent = categories.c.parent_id
            query = query.where(
                parent.is_(None) if filters.parent_id is None else parent == filters.parent_id
            )
        columns = [categories.c.name, categories.c.id]
        load = partial(mapping.from_row, Category)
        return self._page(query, columns, paging.CATEGORIES, window, load, self._count(query))

    def children(self, category_id: int) -> builtins.list[Category]:
        return [mapping.from_row(Category, r) for r in self.tx.execute(_CHILDREN, {"id": category_id})]

    def ancestors(self, category_id: int) -> builtins.list[Category]:
        rows = sorted(self.tx.execute(_ANCESTORS, {"id": category_id}), key=lambda r: -r.depth)
        return [mapping.from_row(Category, r) for r in rows]  # the root first

    def stats(self, category_ids: Sequence[int], include_descendants: bool) -> dict[int, CategoryStats]:
        if not category_ids:
            return {}
        rows = self.tx.execute(stats_statement(include_descendants), {"ids": list(category_ids)})
        return {row.root: _stats(row) for row in rows}

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
