"""Products in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from typing import NoReturn

from sqlalchemy import ColumnElement, bindparam, insert, select, update

from adapters.sql import mapping
from adapters.sql.base import SqlRepository, within
from adapters.sql.events import Outbox
from adapters.sql.product_list import product_list_parameters, product_list_statements
from adapters.sql.stock_check import STOCK_DRIFT
from adapters.sql.stock_moves import (
    INSERT_MOVEMENTS,
    ledger_row,
    move_and_record_statement,
    move_parameters,
    move_stock_statement,
)
from adapters.sql.tables import products, stock_movements
from adapters.sql.transaction import OnDemandTransaction
from application.lists import MovementFilter, Page, ProductFilter, Window
from application.paging import PRODUCTS, STOCK_MOVEMENTS, page_of
from application.ports import StaleVersion
from domain.catalog import Product
from domain.errors import InsufficientStock
from domain.stock import MovementKind, StockDrift, StockMovement

# Hot paths, built once with named parameters.
_PRODUCT_BY_ID = select(products).where(products.c.id == bindparam("id"))
_PRODUCTS_BY_IDS = select(products).where(products.c.id.in_(bindparam("ids", expanding=True)))
# PostgreSQL sorts before it locks: concurrent orders lock shared products in the same order, so they
# queue instead of deadlocking.
_PRODUCTS_TO_LOCK = _PRODUCTS_BY_IDS.order_by(products.c.id).with_for_update()


class SqlProductRepository(SqlRepository):
    def __init__(self, tx: OnDemandTransaction, outbox: Outbox) -> None:
        super().__init__(tx)
        # Sees the products this unit adds, loads and saves, whose events it collects; on PostgreSQL its
        # rows ride along with the stock statement.
        self._outbox = outbox

    def add(self, product: Product) -> None:
        self._outbox.seen.add(product)
        statement = insert(products).values(mapping.values(products, product)).returning(products.c.id)
        product.id = self._write(statement, "products.sku").scalar_one()
        self._record(product)

    def get(self, product_id: int, *, for_update: bool = False) -> Product | None:
        query = _PRODUCT_BY_ID.with_for_update() if for_update else _PRODUCT_BY_ID
        row = self.tx.execute(query, {"id": product_id}, locks=for_update).first()
        return self._seen(mapping.from_row(Product, row)) if row else None

    def get_many(self, product_ids: Sequence[int], *, for_update: bool = False) -> dict[int, Product]:
        query = _PRODUCTS_TO_LOCK if for_update else _PRODUCTS_BY_IDS
        rows = self.tx.locked_ahead(list(product_ids)) if for_update else None  # placing an order
        if rows is None:
            rows = list(self.tx.execute(query, {"ids": list(product_ids)}, locks=for_update))
        return {r.id: self._seen(mapping.from_row(Product, r)) for r in rows}

    def get_by_sku(self, sku: str) -> Product | None:
        row = self.tx.execute(select(products).where(products.c.sku == sku.upper())).first()
        return self._seen(mapping.from_row(Product, row)) if row else None

    def list(self, filters: ProductFilter, window: Window) -> Page[Product]:
        parameters = product_list_parameters(filters, window)
        count, page = product_list_statements(
            frozenset(parameters), filters.include_inactive, filters.in_stock, filters.low_stock, filters.sort
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
        self._outbox.seen.add(product)
        self._record(product)

    def move_stock(self, movements: Sequence[StockMovement]) -> None:
        """The events raised so far are collected here, on every database, so they show what this stock
        move (of one order among several, say) left."""
        self._outbox.collect()
        if not movements:
            return
        parameters = move_parameters(list(movements))
        if self.tx.placement is not None and self.tx.begun:  # with the COMMIT (adapters/sql/placement.py)
            events, event_parameters = self._outbox.take()
            statement = move_and_record_statement(len(movements), events, guarded=False)
            self.tx.queue(statement, parameters | event_parameters)
            stock = self.tx.placement.stock
            self.tx.placement.refusal = lambda: self._refuse(movements, stock)
            return
        if self.tx.dialect_name == "postgresql":
            events, event_parameters = self._outbox.take()
            statement = move_and_record_statement(len(movements), events)
            recorded = self.tx.execute(statement, parameters | event_parameters).all()
            if len(recorded) != len(movements):
                self._refuse(movements)
            return
        if self.tx.execute(move_stock_statement(len(movements)), parameters).rowcount != len(movements):
            self._refuse(movements)
        self.tx.execute(INSERT_MOVEMENTS, [ledger_row(m) for m in movements])

    def movements(self, product_id: int, filters: MovementFilter, window: Window) -> Page[StockMovement]:
        query = select(stock_movements).where(
            stock_movements.c.product_id == product_id, *self._movement_conditions(filters)
        )
        columns = [stock_movements.c.created_at, stock_movements.c.id]
        return self._page(query, columns, STOCK_MOVEMENTS, window, _movement, self._count(query))

    def stock_drift(self) -> builtins.list[StockDrift]:
        return [StockDrift(*row) for row in self.tx.execute(STOCK_DRIFT)]

    def _seen(self, product: Product) -> Product:
        self._outbox.seen.add(product)
        return product

    def _record(self, product: Product) -> None:
        """The product's own movements (created with, corrected, adjusted), now that its id is known."""
        if product.new_movements:
            rows = [ledger_row(m) | {"product_id": product.id} for m in product.new_movements]
            self.tx.execute(INSERT_MOVEMENTS, rows)
            product.new_movements.clear()

    def _refuse(self, movements: Sequence[StockMovement], stock: dict[int, int] | None = None) -> NoReturn:
        """Name the first product (by id) that lacked the units; the unit of work rolls back the rest.
        `stock`: the products' as locked (the hot path's, read before the refusal rolled back)."""
        if stock is None:
            rows = self.tx.execute(
                select(products.c.id, products.c.stock_quantity).where(
                    products.c.id.in_([m.product_id for m in movements])
                )
            )
            stock = {row.id: row.stock_quantity for row in rows}
        short = next(
            m
            for m in sorted(movements, key=lambda m: m.product_id)
            if stock.get(m.product_id, 0) + m.delta < 0
        )
        raise InsufficientStock(short.product_id, -short.delta, stock.get(short.product_id, 0))

    @staticmethod
    def _movement_conditions(f: MovementFilter) -> builtins.list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if f.kind is not None:
            conditions.append(stock_movements.c.kind == f.kind.value)
        return conditions + within(stock_movements.c.created_at, f.created_from, f.created_to)


def _movement(row: object) -> StockMovement:
    movement = mapping.from_row(StockMovement, row)
    return replace(movement, kind=MovementKind(movement.kind))
