"""Repositories over one SQLAlchemy `Connection`, written once for the sync and the async Unit of Work.

Statements are SQLAlchemy Core on the SQLModel tables: entities go in, entities come out, and no ORM
object (so no lazy load) ever exists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, NoReturn

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Update,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from adapters.sql import mapping
from adapters.sql.tables import (
    CategoryProductCountRow,
    CategoryRow,
    IdempotencyKeyRow,
    OrderEventRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    UserRow,
)
from adapters.sql.transaction import Transaction
from application.ports import (
    DuplicateKey,
    IdempotencyRecord,
    OrderFilter,
    OrderStats,
    Page,
    ProductFilter,
    ProductSort,
    StaleVersion,
    UserFilter,
)
from domain.catalog import MAX_STOCK, Category, Product, name_key
from domain.errors import InsufficientStock
from domain.money import money
from domain.orders import Order, OrderLine, OrderStatus, StatusEvent
from domain.users import User

users = UserRow.__table__
categories = CategoryRow.__table__
products = ProductRow.__table__
orders = OrderRow.__table__
order_lines = OrderLineRow.__table__
order_events = OrderEventRow.__table__
idempotency_keys = IdempotencyKeyRow.__table__
counts = CategoryProductCountRow.__table__


# Statements on the hot paths are built once, with named parameters: building a statement and computing
# its cache key cost more CPU than PostgreSQL spends running it.
_USER_BY_ID = select(users).where(users.c.id == bindparam("id"))
_PRODUCT_BY_ID = select(products).where(products.c.id == bindparam("id"))
_PRODUCTS_BY_IDS = select(products).where(products.c.id.in_(bindparam("ids", expanding=True)))
# PostgreSQL sorts before it locks: concurrent orders lock shared products in the same order, so they
# queue instead of deadlocking.
_PRODUCTS_TO_LOCK = _PRODUCTS_BY_IDS.order_by(products.c.id).with_for_update()
_ORDER_BY_ID = select(orders).where(orders.c.id == bindparam("id"))
_LINES_OF_ORDERS = (
    select(order_lines)
    .where(order_lines.c.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(order_lines.c.id)
)
_INSERT_ORDER = insert(orders).returning(orders.c.id)
_INSERT_LINES = insert(order_lines).returning(order_lines.c.id, sort_by_parameter_order=True)
_INSERT_EVENTS = insert(order_events)


def _columns(table: Any, *skip: str) -> list[Any]:
    return [c for c in table.c if c.name not in ("id", *skip)]


@cache
def _insert_order_statement(lines: int, events: int) -> Select[Any]:
    """PostgreSQL: the order, its lines and its events in one statement (INSERTs in WITH), one round trip
    instead of three. The same three inserts run one by one where the database cannot (SQLite)."""
    new_order = (
        insert(orders)
        .values({c.name: bindparam(f"o_{c.name}", type_=c.type) for c in _columns(orders)})
        .returning(orders.c.id)
        .cte("new_order")
    )

    def children(table: Any, prefix: str, count: int) -> Any:
        """INSERT ... SELECT of `count` rows of bound values, each with the new order's id. (UNION ALL, not
        VALUES: SQLAlchemy cannot cache a statement holding a VALUES clause, and compiling this one costs
        ~2 ms a time.)"""
        cols = _columns(table, "order_id")
        rows = [
            select(new_order.c.id, *(bindparam(f"{prefix}{i}_{c.name}", type_=c.type) for c in cols))
            for i in range(count)
        ]
        return insert(table).from_select(["order_id", *(c.name for c in cols)], union_all(*rows))

    new_lines = (
        children(order_lines, "l", lines)
        .returning(order_lines.c.order_id, order_lines.c.id, order_lines.c.product_id)
        .cte("new_lines")
    )
    statement = select(new_lines)
    return statement.add_cte(children(order_events, "e", events).cte("new_events")) if events else statement


def _insert_order_parameters(order: Order) -> dict[str, Any]:
    parameters = {f"o_{name}": value for name, value in mapping.values(orders, order).items()}
    for prefix, table, children in (("l", order_lines, order.lines), ("e", order_events, order.new_events)):
        names = [c.name for c in _columns(table, "order_id")]
        for i, child in enumerate(children):
            row = mapping.values(table, child)
            parameters.update({f"{prefix}{i}_{name}": row[name] for name in names})
    return parameters


@cache
def _take_stock_statement(lines: int) -> Update:
    """Take `qty<i>` units of product `id<i>` for every line at once, only where that many are left."""
    ids = [bindparam(f"id{i}", type_=Integer) for i in range(lines)]
    wanted = case(*((products.c.id == ids[i], bindparam(f"qty{i}", type_=Integer)) for i in range(lines)))
    return (
        update(products)
        .where(products.c.id.in_(ids), products.c.stock_quantity >= wanted)
        .values(stock_quantity=products.c.stock_quantity - wanted, version=products.c.version + 1)
    )


def _is_unique_violation(error: IntegrityError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "23505" or "UNIQUE constraint failed" in str(error.orig)


class _SqlRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def _write(self, statement: Any, what: str) -> Any:
        """Execute an insert/update; a unique-key violation becomes DuplicateKey."""
        try:
            return self.tx.execute(statement)
        except IntegrityError as error:
            if _is_unique_violation(error):
                raise DuplicateKey(what) from None
            raise

    def _version(self, table: Any, entity_id: int | None) -> int:
        """The version the row holds now, for a StaleVersion error."""
        return self.tx.execute(select(table.c.version).where(table.c.id == entity_id)).scalar_one()

    def _page(
        self, query: Select[Any], order_by: Sequence[Any], limit: int, offset: int
    ) -> tuple[list[Any], int]:
        total = self.tx.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.tx.execute(query.order_by(*order_by).limit(limit).offset(offset)).all()
        return list(rows), total


class SqlUserRepository(_SqlRepository):
    def add(self, user: User) -> None:
        statement = insert(users).values(mapping.values(users, user)).returning(users.c.id)
        user.id = self._write(statement, "users.email").scalar_one()

    def get(self, user_id: int) -> User | None:
        row = self.tx.execute(_USER_BY_ID, {"id": user_id}).first()
        return mapping.from_row(User, row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self.tx.execute(select(users).where(users.c.email == email.lower())).first()
        return mapping.from_row(User, row) if row else None

    def list(self, filters: UserFilter, limit: int, offset: int) -> Page[User]:
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
        rows, total = self._page(query, [users.c.id], limit, offset)
        return Page([mapping.from_row(User, r) for r in rows], total, limit, offset)

    def save(self, user: User) -> None:
        self._write(
            update(users).where(users.c.id == user.id).values(mapping.values(users, user)), "users.email"
        )


class SqlCategoryRepository(_SqlRepository):
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


_PRODUCT_ORDER: dict[ProductSort, list[Any]] = {
    ProductSort.ID: [products.c.id],
    ProductSort.NAME: [products.c.name, products.c.id],
    ProductSort.NAME_DESC: [products.c.name.desc(), products.c.id.desc()],
    ProductSort.PRICE: [products.c.price, products.c.id],
    ProductSort.PRICE_DESC: [products.c.price.desc(), products.c.id.desc()],
    ProductSort.CREATED_AT: [products.c.created_at, products.c.id],
    ProductSort.CREATED_AT_DESC: [products.c.created_at.desc(), products.c.id.desc()],
}


def _product_parameters(f: ProductFilter, limit: int, offset: int) -> dict[str, Any]:
    """The set filters' values, under the names `_product_list` binds; unset filters are left out."""
    values = {
        "category_id": f.category_id,
        "min_price": f.min_price,
        "max_price": f.max_price,
        # Contains, case-insensitively; the user's own % _ / match literally.
        "q": "%" + f.q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%" if f.q else None,
    }
    return {name: v for name, v in values.items() if v is not None} | {"limit": limit, "offset": offset}


@cache
def _product_list(
    names: frozenset[str], include_inactive: bool, in_stock: bool | None, sort: ProductSort
) -> tuple[Select[Any], Select[Any]]:
    """(count, page) for one shape of filter, built once per shape; the values are bound at execution."""
    conditions: list[ColumnElement[bool]] = []
    if not include_inactive:
        # `= true`, not `IS true`: PostgreSQL matches the former against the index, so counts stay index-only.
        conditions.append(products.c.is_active == true())
    if "category_id" in names:
        conditions.append(products.c.category_id == bindparam("category_id"))
    if "min_price" in names:
        conditions.append(products.c.price >= bindparam("min_price"))
    if "max_price" in names:
        conditions.append(products.c.price <= bindparam("max_price"))
    if in_stock is not None:
        conditions.append(products.c.stock_quantity > 0 if in_stock else products.c.stock_quantity == 0)
    if "q" in names:
        searched = (products.c.name, products.c.description, products.c.sku)
        conditions.append(or_(*(c.ilike(bindparam("q"), escape="/") for c in searched)))
    if not include_inactive and in_stock is None and names <= {"category_id", "limit", "offset"}:
        # The public list by category (or of everything): its total is kept in a table, one row to read.
        counted = counts.c.category_id == (bindparam("category_id") if "category_id" in names else 0)
        count = select(func.coalesce(select(counts.c.active_products).where(counted).scalar_subquery(), 0))
    else:
        count = select(func.count()).select_from(products).where(*conditions)
    page = (
        select(products)
        .where(*conditions)
        .order_by(*_PRODUCT_ORDER[sort])
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, page


class SqlProductRepository(_SqlRepository):
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

    def list(self, filters: ProductFilter, limit: int, offset: int) -> Page[Product]:
        parameters = _product_parameters(filters, limit, offset)
        count, page = _product_list(
            frozenset(parameters), filters.include_inactive, filters.in_stock, filters.sort
        )
        total = self.tx.execute(count, parameters).scalar_one()
        rows = self.tx.execute(page, parameters)
        return Page([mapping.from_row(Product, r) for r in rows], total, limit, offset)

    def save(self, product: Product) -> None:
        statement = (
            update(products)
            .where(products.c.id == product.id, products.c.version == product.version - 1)
            .values(mapping.values(products, product))
        )
        if self._write(statement, "products.sku").rowcount == 0:
            raise StaleVersion(self._version(products, product.id))

    def take_stock(self, quantities: dict[int, int]) -> None:
        # One statement for every line; the database refuses to go below zero (no oversell, also where
        # the rows were not locked first, as on SQLite).
        parameters: dict[str, int] = {}
        for i, (product_id, quantity) in enumerate(quantities.items()):
            parameters[f"id{i}"], parameters[f"qty{i}"] = product_id, quantity
        taken = self.tx.execute(_take_stock_statement(len(quantities)), parameters)
        if taken.rowcount != len(quantities):
            self._refuse_stock(quantities)

    def _refuse_stock(self, quantities: dict[int, int]) -> NoReturn:
        rows = self.tx.execute(
            select(products.c.id, products.c.stock_quantity).where(products.c.id.in_(quantities))
        )
        stock = {product_id: units for product_id, units in rows}
        product_id = next(i for i in sorted(quantities) if stock.get(i, 0) < quantities[i])
        raise InsufficientStock(product_id, quantities[product_id], stock.get(product_id, 0))

    def return_stock(self, quantities: dict[int, int]) -> None:
        for product_id in sorted(quantities):
            units = quantities[product_id]
            # domain.catalog.returned_stock in SQL: capped at MAX_STOCK, compared before adding (no overflow).
            capped = case(
                (products.c.stock_quantity > MAX_STOCK - units, MAX_STOCK),
                else_=products.c.stock_quantity + units,
            )
            self.tx.execute(
                update(products)
                .where(products.c.id == product_id)
                .values(stock_quantity=capped, version=products.c.version + 1)
            )

    def adjust_stock(self, product_id: int, delta: int, at: datetime) -> Product:
        new_stock = cast(products.c.stock_quantity, BigInteger) + delta  # no 32-bit overflow in the check
        row = self.tx.execute(
            update(products)
            .where(products.c.id == product_id, new_stock.between(0, MAX_STOCK))
            .values(
                stock_quantity=products.c.stock_quantity + delta,
                version=products.c.version + 1,
                updated_at=at,
            )
            .returning(*products.c)
        ).first()
        if row is None:
            current = self.get(product_id)
            assert current is not None
            current.adjust_stock(delta)  # raises the domain's own error for this product
            raise StaleVersion(current.version)  # the row moved between the two statements
        return mapping.from_row(Product, row)


class SqlOrderRepository(_SqlRepository):
    def add(self, order: Order) -> None:
        if self.tx.dialect_name == "postgresql":
            self._add_in_one_statement(order)
            return
        order.id = self.tx.execute(_INSERT_ORDER, mapping.values(orders, order)).scalar_one()
        line_ids = self.tx.execute(
            _INSERT_LINES, [mapping.values(order_lines, line, order_id=order.id) for line in order.lines]
        ).scalars()
        for line, line_id in zip(order.lines, line_ids, strict=True):
            line.id = line_id
        self._store_events(order)

    def _add_in_one_statement(self, order: Order) -> None:
        statement = _insert_order_statement(len(order.lines), len(order.new_events))
        rows = self.tx.execute(statement, _insert_order_parameters(order)).all()
        line_ids = {product_id: line_id for _, line_id, product_id in rows}  # one line per product
        order.id = rows[0].order_id
        for line in order.lines:
            line.id = line_ids[line.product_id]
        order.new_events.clear()

    def get(self, order_id: int, *, for_update: bool = False) -> Order | None:
        query = _ORDER_BY_ID.with_for_update() if for_update else _ORDER_BY_ID
        row = self.tx.execute(query, {"id": order_id}, locks=for_update).first()
        if row is None:
            return None
        return mapping.order_from_row(row, self._lines([order_id]).get(order_id, []))

    def list(self, filters: OrderFilter, limit: int, offset: int) -> Page[Order]:
        query = select(orders).where(*self._conditions(filters))
        rows, total = self._page(query, [orders.c.created_at.desc(), orders.c.id.desc()], limit, offset)
        lines = self._lines([r.id for r in rows])
        return Page([mapping.order_from_row(r, lines.get(r.id, [])) for r in rows], total, limit, offset)

    def events(self, order_id: int) -> list[StatusEvent]:
        rows = self.tx.execute(
            select(order_events).where(order_events.c.order_id == order_id).order_by(order_events.c.id)
        )
        return [mapping.event_from_row(r) for r in rows]

    def save(self, order: Order) -> None:
        updated = self.tx.execute(
            update(orders)
            .where(orders.c.id == order.id, orders.c.version == order.version - 1)
            .values(status=order.status.value, version=order.version, updated_at=order.updated_at)
        )
        if updated.rowcount == 0:
            raise StaleVersion(self._version(orders, order.id))
        self._store_events(order)

    def stats(self) -> OrderStats:
        rows = self.tx.execute(
            select(orders.c.status, func.count(), func.coalesce(func.sum(orders.c.total_amount), 0)).group_by(
                orders.c.status
            )
        ).all()
        by_status = {status: 0 for status in OrderStatus}
        revenue = Decimal(0)
        for status, count, amount in rows:
            by_status[OrderStatus(status)] = count
            if status != OrderStatus.CANCELLED:
                revenue += Decimal(str(amount))
        return OrderStats(sum(by_status.values()), money(revenue), by_status)

    def _lines(self, order_ids: Sequence[int]) -> dict[int, list[OrderLine]]:
        if not order_ids:
            return {}
        rows = self.tx.execute(_LINES_OF_ORDERS, {"ids": list(order_ids)})
        grouped: dict[int, list[OrderLine]] = {}
        for r in rows:
            grouped.setdefault(r.order_id, []).append(mapping.from_row(OrderLine, r))
        return grouped

    def _store_events(self, order: Order) -> None:
        assert order.id is not None
        if order.new_events:
            self.tx.execute(
                _INSERT_EVENTS, [mapping.values(order_events, e, order_id=order.id) for e in order.new_events]
            )
            order.new_events.clear()

    @staticmethod
    def _conditions(f: OrderFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if f.user_id is not None:
            conditions.append(orders.c.user_id == f.user_id)
        if f.status is not None:
            conditions.append(orders.c.status == f.status.value)
        if f.created_from is not None:
            conditions.append(orders.c.created_at >= f.created_from)
        if f.created_to is not None:
            conditions.append(orders.c.created_at <= f.created_to)
        return conditions


class SqlIdempotencyRepository(_SqlRepository):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        dialect = postgresql if self.tx.dialect_name == "postgresql" else sqlite
        claimed = self.tx.execute(
            dialect.insert(idempotency_keys)
            .values(
                user_id=record.user_id,
                key=record.key,
                fingerprint=record.fingerprint,
                created_at=record.created_at,
                order_id=None,
            )
            .on_conflict_do_nothing()
            .returning(idempotency_keys.c.key)
        ).first()
        if claimed is not None:
            return None
        row = self.tx.execute(select(idempotency_keys).where(self._key(record.user_id, record.key))).one()
        return mapping.from_row(IdempotencyRecord, row)

    def complete(self, user_id: int, key: str, order_id: int) -> None:
        self.tx.execute(update(idempotency_keys).where(self._key(user_id, key)).values(order_id=order_id))

    def release(self, user_id: int, key: str) -> None:
        self.tx.execute(delete(idempotency_keys).where(self._key(user_id, key)))

    def purge(self, created_before: datetime) -> int:
        result = self.tx.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < created_before)
        )
        return result.rowcount

    @staticmethod
    def _key(user_id: int, key: str) -> ColumnElement[bool]:
        return and_(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
