"""Products in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy import bindparam, insert, select, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository
from adapters.sql.product_list import product_list_parameters, product_list_statements
from adapters.sql.stock_moves import move_stock_statement
from adapters.sql.tables import products
from application.paging import PRODUCTS, page_of
from application.ports import Page, ProductFilter, StaleVersion, Window
from domain.catalog import Product, StockChange
from domain.errors import InsufficientStock

# Hot paths, built once with named parameters.
_PRODUCT_BY_ID = select(products).where(products.c.id == bindparam("id"))
_PRODUCTS_BY_IDS = select(products).where(products.c.id.in_(bindparam("ids", expanding=True)))
# PostgreSQL sorts before it locks: concurrent orders lock shared products in the same order, so they
# queue instead of deadlocking.
_PRODUCTS_TO_LOCK = _PRODUCTS_BY_IDS.order_by(products.c.id).with_for_update()


class SqlProductRepository(SqlRepository):
    def add(self, product: Product) -> None:
        statement = insert(products).values(mapping.values(products, product)).returning(products.c.id)
        product.id = self._write(statement, "products.sku").scalar_one()

    def get(self, product_id: int, *, for_update: bool = False) -> Product | None:
        query = _PRODUCT_BY_ID.with_for_update() if for_update else _PRODUCT_BY_ID
        row = self.tx.execute(query, {"id": product_id}, locks=for_update).first()
        return mapping.from_row(Product, row) if row else None

    def get_many(self, product_ids: Sequence[int], *, for_update: bool = False) -> dict[int, Product]:
        query = _PRODUCTS_TO_LOCK if for_update else _PRODUCTS_BY_IDS
        return {
            r.id: mapping.from_row(Product, r)
            for r in self.tx.execute(query, {"ids": list(product_ids)}, locks=for_update)
        }

    def get_by_sku(self, sku: str) -> Product | None:
        row = self.tx.execute(select(products).where(products.c.sku == sku.upper())).first()
        return mapping.from_row(Product, row) if row else None

    def list(self, filters: ProductFilter, window: Window) -> Page[Product]:
        parameters = product_list_parameters(filters, window)
        count, page = product_list_statements(
            frozenset(parameters), filters.include_inactive, filters.in_stock, filters.sort
        )
        total = self.tx.execute(count, parameters).scalar_one()
        rows = self.tx.execute(page, parameters)
        return page_of([mapping.from_row(Product, r) for r in rows], total, window, PRODUCTS[filters.sort])

    def save(self, product: Product) -> None:
        statement = (
            update(products)
            .where(products.c.id == product.id, products.c.version == product.version - 1)
            .values(mapping.values(products, product))
        )
        if self._write(statement, "products.sku").rowcount == 0:
            raise StaleVersion(self._version(products, product.id))

    def move_stock(self, changes: Sequence[StockChange]) -> None:
        if not changes:
            return
        parameters: dict[str, int] = {}
        for i, change in enumerate(changes):
            parameters[f"id{i}"], parameters[f"delta{i}"] = change.product_id, change.delta
        moved = self.tx.execute(move_stock_statement(len(changes)), parameters)
        if moved.rowcount != len(changes):
            self._refuse(changes)

    def _refuse(self, changes: Sequence[StockChange]) -> NoReturn:
        """Name the first product (by id) that lacked the units; the unit of work rolls back the rest."""
        rows = self.tx.execute(
            select(products.c.id, products.c.stock_quantity).where(
                products.c.id.in_([change.product_id for change in changes])
            )
        )
        stock = {row.id: row.stock_quantity for row in rows}
        short = next(
            c for c in sorted(changes, key=lambda c: c.product_id) if stock.get(c.product_id, 0) + c.delta < 0
        )
        raise InsufficientStock(short.product_id, -short.delta, stock.get(short.product_id, 0))
