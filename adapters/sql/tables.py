"""The schema. The database holds the invariants itself: unique keys, CHECKs, foreign keys, indexes."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from adapters.fields import CategoryFields, ProductFields, UserFields
from domain.addresses import MAX_LENGTHS
from domain.events import EventType, ResourceType
from domain.fulfillments import MAX_CARRIER, MAX_TRACKING_NUMBER, MAX_TRACKING_URL, FulfillmentState
from domain.orders import OrderStatus
from domain.payments import MAX_PAYMENT_REASON, MAX_PAYMENT_REFERENCE, MAX_PROVIDER, TransactionKind
from domain.returns import MAX_RETURN_REASON, ReturnState
from domain.stock import MAX_REASON, MovementKind

# Named constraints make migrations reproducible and let errors say which rule broke.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata

# PostgreSQL only, made by migrations 0004 and 0006 and left out of the models-match-schema comparison (see
# `compared`): trigram indexes for the product search, which SQLite has no kind of index for.
POSTGRES_ONLY_INDEXES = frozenset(
    {"ix_products_name_trgm", "ix_products_sku_trgm", "ix_products_description_trgm", "ix_events_txid_id"}
)


# PostgreSQL only, made by migration 0006: the transaction that wrote each event (xid8, defaulted by the
# database), which orders the event feed so that no event can commit behind a reader's position (see
# adapters.sql.events). SQLite serialises its writers, so there the id alone is commit order.
POSTGRES_ONLY_COLUMNS = frozenset({("events", "txid")})


def compared(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's include_object: whether the comparison of models and schema looks at this object."""
    if type_ == "column":
        return (getattr(getattr(obj, "table", None), "name", None), name) not in POSTGRES_ONLY_COLUMNS
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


_STATUSES = ", ".join(f"'{s.value}'" for s in OrderStatus)
_KINDS = ", ".join(f"'{k.value}'" for k in MovementKind)
_EVENT_TYPES = ", ".join(f"'{t.value}'" for t in EventType)
_RESOURCES = ", ".join(f"'{r.value}'" for r in ResourceType)
_TRANSACTION_KINDS = ", ".join(f"'{k.value}'" for k in TransactionKind)
SHIPPED_WITHIN = "quantity_shipped >= 0 AND quantity_shipped <= quantity"
RETURNED_WITHIN = "quantity_returned >= 0 AND quantity_returned <= quantity_shipped"
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite's rowid alias must be INTEGER
_JSON = JSON().with_variant(JSONB(), "postgresql")
# An order's address copies: SQL NULL for none (not JSON 'null').
_NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


# `Field()` is typed Any: it stands for the column's value in a model's class body.
def _timestamp(*, index: bool = False) -> datetime:
    field: datetime = Field(sa_type=DateTime(timezone=True), nullable=False, index=index)
    return field


def _money(digits: int) -> Decimal:
    field: Decimal = Field(sa_type=Numeric(digits, 2), nullable=False)
    return field


def _cents() -> int:
    """0 by the database's default, so that a row written without it (a bulk load) starts at 0."""
    field: int = Field(sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": text("0")})
    return field


class UserRow(UserFields, table=True):
    __tablename__ = "users"
    __table_args__ = (
        # POST /users/bulk-deactivate's "not seen since": last log-in, or registration if never logged in.
        Index("ix_users_active_last_login_created", "is_active", "last_login_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)  # stored lower-case, so unique in any case
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True, index=True)
    is_admin: bool = Field(default=False)
    credentials_version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    last_login_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), nullable=True)


class CategoryRow(CategoryFields, table=True):
    __tablename__ = "categories"
    __table_args__ = (
        Index("uq_categories_name_key", "name_key", unique=True),
        Index("ix_categories_name_id", "name", "id"),  # the list's order
    )

    id: int | None = Field(default=None, primary_key=True)
    # domain.catalog.name_key(name), computed by the service: SQLite's lower() folds ASCII only, so a
    # unique index on lower(name) would let 'Ärger' and 'ärger' both in there and not on PostgreSQL.
    name_key: str = Field(max_length=400)
    slug: str = Field(max_length=120, index=True)
    parent_id: int | None = Field(default=None, foreign_key="categories.id", ondelete="SET NULL", index=True)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class ProductRow(ProductFields, table=True):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock_quantity >= 0", name="stock_non_negative"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        # Every sort of the list, by category (the first also indexes the foreign key) and of everything,
        # ending in the id as the sort does: a page after a cursor starts with an index seek.
        Index("ix_products_category_active_price", "category_id", "is_active", "price", "id"),
        Index("ix_products_category_active_id", "category_id", "is_active", "id"),
        Index("ix_products_category_active_name", "category_id", "is_active", "name", "id"),
        Index("ix_products_category_active_created", "category_id", "is_active", "created_at", "id"),
        Index("ix_products_name_id", "name", "id"),
        Index("ix_products_price_id", "price", "id"),
        Index("ix_products_created_id", "created_at", "id"),
        # The few products with a threshold, for the low-stock list. Not on stock_quantity: an indexed
        # column would make every order's stock update write to all of the product's indexes (no HOT).
        Index(
            "ix_products_low_stock",
            "id",
            postgresql_where=text("low_stock_threshold IS NOT NULL"),
            sqlite_where=text("low_stock_threshold IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=220)
    sku: str = Field(max_length=50, unique=True)  # stored upper-case
    price: Decimal = Field(sa_type=Numeric(10, 2), nullable=False)
    is_active: bool = Field(default=True, index=True)
    category_id: int | None = Field(default=None, foreign_key="categories.id", ondelete="SET NULL")
    version: int = Field(default=1)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status_known"),
        # Newest first: everyone's, a customer's (also indexes the foreign key), one status's.
        Index("ix_orders_created_id", "created_at", "id"),
        Index("ix_orders_user_created_id", "user_id", "created_at", "id"),
        Index("ix_orders_status_created_id", "status", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_number: str = Field(max_length=32, unique=True)
    user_id: int = Field(foreign_key="users.id", ondelete="RESTRICT")
    status: str = Field(max_length=20)
    total_amount: Decimal = _money(14)
    version: int = Field(default=1)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    # Copies of the addresses it was placed with (domain.addresses.Address as JSON; migration 0012): in the
    # order's own row, so that an order with an inline address is still one INSERT.
    shipping_address: dict[str, Any] | None = Field(default=None, sa_type=_NULLABLE_JSON, nullable=True)
    billing_address: dict[str, Any] | None = Field(default=None, sa_type=_NULLABLE_JSON, nullable=True)
    # The sums of its payments (domain.payments.MoneyTotals), moved with every payment action in its
    # transaction, so that every order, in lists too, shows its payment_status without another read.
    authorized_cents: int = _cents()
    captured_cents: int = _cents()
    refunded_cents: int = _cents()


class OrderLineRow(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # Never more shipped than ordered, nor more returned than shipped (domain.orders.OrderLine).
        CheckConstraint(SHIPPED_WITHIN, name="shipped_within_quantity"),
        CheckConstraint(RETURNED_WITHIN, name="returned_within_shipped"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE", index=True)
    product_id: int = Field(foreign_key="products.id", ondelete="RESTRICT", index=True)
    product_name: str = Field(max_length=200)
    quantity: int
    unit_price: Decimal = _money(10)
    line_total: Decimal = _money(14)
    quantity_shipped: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    quantity_returned: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})


class OrderEventRow(SQLModel, table=True):
    __tablename__ = "order_status_events"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    at: datetime = _timestamp()
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    reason: str | None = Field(default=None, max_length=MAX_REASON)


class StockMovementRow(SQLModel, table=True):
    """The stock ledger (domain.stock): a product's stock is the sum of its movements' deltas."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_KINDS})", name="kind_known"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        # A product's movements newest first, optionally from / to a time.
        Index("ix_stock_movements_product_created_id", "product_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=_BIG_ID)
    product_id: int = Field(foreign_key="products.id", ondelete="RESTRICT")
    delta: int
    quantity: int
    kind: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=MAX_REASON)
    # Not indexed: nothing looks movements up by them, and every order writes movements.
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    order_id: int | None = Field(default=None, foreign_key="orders.id", ondelete="RESTRICT")
    created_at: datetime = _timestamp()
    # The accepted return whose units came back (kind `return`; migration 0016).
    return_id: int | None = Field(default=None, foreign_key="returns.id", ondelete="RESTRICT")


def _text(name: str) -> Any:
    """An address field, as long as domain.addresses allows."""
    return Field(max_length=MAX_LENGTHS[name])


def _optional_text(name: str) -> Any:
    return Field(default=None, max_length=MAX_LENGTHS[name])


class AddressRow(SQLModel, table=True):
    """An entry of a user's address book (domain.addresses.SavedAddress; migration 0012)."""

    __tablename__ = "addresses"
    __table_args__ = (
        Index("ix_addresses_user_id_id", "user_id", "id"),  # a user's book, in order (and the foreign key)
        # At most one default of each kind per user: the safety net behind domain.addresses.AddressBook.
        Index(
            "uq_addresses_default_shipping",
            "user_id",
            unique=True,
            postgresql_where=text("is_default_shipping"),
            sqlite_where=text("is_default_shipping"),
        ),
        Index(
            "uq_addresses_default_billing",
            "user_id",
            unique=True,
            postgresql_where=text("is_default_billing"),
            sqlite_where=text("is_default_billing"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    recipient_name: str = _text("recipient_name")
    company: str | None = _optional_text("company")
    line1: str = _text("line1")
    line2: str | None = _optional_text("line2")
    city: str = _text("city")
    postal_code: str = _text("postal_code")
    region: str | None = _optional_text("region")
    country: str = _text("country")
    phone: str | None = _optional_text("phone")
    is_default_shipping: bool = Field(default=False)
    is_default_billing: bool = Field(default=False)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class PaymentRow(SQLModel, table=True):
    """A payment of an order (domain.payments.Payment): its amounts in cents, as its transactions sum them."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("uq_payments_provider_reference", "provider", "reference", unique=True),
        Index("ix_payments_order_id", "order_id", "id"),
        CheckConstraint(
            "authorized_cents >= captured_cents AND captured_cents >= refunded_cents AND refunded_cents >= 0",
            name="amounts_within_limits",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="RESTRICT")
    provider: str = Field(max_length=MAX_PROVIDER)
    reference: str = Field(max_length=MAX_PAYMENT_REFERENCE)
    currency: str = Field(max_length=3)
    authorized_cents: int = Field(sa_type=BigInteger)
    captured_cents: int = Field(sa_type=BigInteger)
    refunded_cents: int = Field(sa_type=BigInteger)
    voided: bool = Field(default=False)
    version: int = Field(default=1)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class PaymentTransactionRow(SQLModel, table=True):
    """What a provider did with a payment, oldest first; a refund's reference is unique in its payment."""

    __tablename__ = "payment_transactions"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_TRANSACTION_KINDS})", name="kind_known"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_payment_transactions_payment_id", "payment_id", "id"),
        Index(
            "uq_payment_transactions_refund_reference",
            "payment_id",
            "reference",
            unique=True,
            postgresql_where=text("kind = 'refund'"),
            sqlite_where=text("kind = 'refund'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payments.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    amount_cents: int = Field(sa_type=BigInteger)
    reference: str | None = Field(default=None, max_length=MAX_PAYMENT_REFERENCE)
    reason: str | None = Field(default=None, max_length=MAX_PAYMENT_REASON)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    at: datetime = _timestamp()


_RETURN_STATES = ", ".join(f"'{s.value}'" for s in ReturnState)


class ReturnRow(SQLModel, table=True):
    """A return of an order (domain.returns.Return; migration 0016)."""

    __tablename__ = "returns"
    __table_args__ = (
        CheckConstraint(f"status IN ({_RETURN_STATES})", name="status_known"),
        CheckConstraint("refund_extra_cents >= 0 AND refunded_cents >= 0", name="amounts_non_negative"),
        Index("ix_returns_order_id", "order_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="RESTRICT")
    status: str = Field(max_length=20)
    refund_extra_cents: int = Field(sa_type=BigInteger)
    refunded_cents: int = Field(sa_type=BigInteger)
    requested_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    decided_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    rejection_reason: str | None = Field(default=None, max_length=MAX_RETURN_REASON)
    version: int = Field(default=1)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), nullable=True)


class ReturnLineRow(SQLModel, table=True):
    __tablename__ = "return_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_return_lines_return_id", "return_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(foreign_key="returns.id", ondelete="CASCADE")
    order_line_id: int = Field(foreign_key="order_lines.id", ondelete="RESTRICT", index=True)
    product_id: int = Field(foreign_key="products.id", ondelete="RESTRICT")
    quantity: int
    unit_price: Decimal = _money(10)
    restock: bool = Field(default=False)
    reason: str | None = Field(default=None, max_length=MAX_RETURN_REASON)


class OrderRefundRow(SQLModel, table=True):
    """Money given back for an order (domain.refunds.OrderRefund; migration 0016): a reference once per
    order, a return refunded once."""

    __tablename__ = "order_refunds"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("uq_order_refunds_order_reference", "order_id", "reference", unique=True),
        Index("uq_order_refunds_return_id", "return_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="RESTRICT")
    return_id: int | None = Field(default=None, foreign_key="returns.id", ondelete="RESTRICT")
    amount_cents: int = Field(sa_type=BigInteger)
    reason: str = Field(max_length=MAX_PAYMENT_REASON)
    reference: str = Field(max_length=MAX_PAYMENT_REFERENCE)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    at: datetime = _timestamp()


class IdempotencyKeyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    key: str = Field(max_length=255, primary_key=True)
    fingerprint: str = Field(max_length=64)
    order_id: int | None = Field(default=None, foreign_key="orders.id", ondelete="CASCADE", index=True)
    created_at: datetime = _timestamp(index=True)


class CategoryProductCountRow(SQLModel, table=True):
    """Active products per category, kept by triggers on products and categories (migration 0002), so the
    public list's exact `total` is one row read however large the catalog. `category_id` 0 counts every
    active product, with or without a category."""

    __tablename__ = "category_product_counts"

    category_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    active_products: int = Field(default=0)


class OrderTotalRow(SQLModel, table=True):
    """Orders and revenue (in cents, exact on SQLite too; net of refunds, the refunds of the orders' value
    beside it: 0017) per status, kept by triggers on orders (migration 0004) so statistics and list totals
    read ~100 rows however long the shop's history. Each order counts in one of 16 slots: concurrent orders
    update different rows instead of queueing on one."""

    __tablename__ = "order_totals"

    status: str = Field(max_length=20, primary_key=True)
    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # order id % 16
    orders: int = Field(default=0, sa_type=BigInteger)
    revenue_cents: int = Field(default=0, sa_type=BigInteger)  # net of refunds (0017)
    refunded_revenue_cents: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )


class OrderSalesRow(SQLModel, table=True):
    """Orders per status and revenue (cents, cancelled excluded; net of refunds, the refunds beside it: 0017)
    per UTC time bucket, kept by triggers on orders (migration 0007) for the sales report by period. Buckets
    of three spans, each order counting in one of each: 15 minutes (every UTC offset in use is a multiple
    of it, so a local midnight in any zone is a boundary), hours and UTC days, so a period reads its whole
    days, then hours, then quarters."""

    __tablename__ = "order_sales"

    span: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # 900, 3600 or 86400 s
    start: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    # Each order counts in slot id % 16: concurrent orders update 16 rows per bucket, not one.
    slot: int = Field(primary_key=True, sa_type=SmallInteger, sa_column_kwargs={"autoincrement": False})
    pending: int = Field(default=0, sa_type=BigInteger)
    confirmed: int = Field(default=0, sa_type=BigInteger)
    processing: int = Field(default=0, sa_type=BigInteger)
    shipped: int = Field(default=0, sa_type=BigInteger)
    delivered: int = Field(default=0, sa_type=BigInteger)
    cancelled: int = Field(default=0, sa_type=BigInteger)
    revenue_cents: int = Field(default=0, sa_type=BigInteger)  # net of refunds (0017)
    refunded_revenue_cents: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}
    )


class UserSalesRow(SQLModel, table=True):
    """A customer's orders per status, revenue (cents, cancelled excluded) and first and last order time,
    kept by the same triggers: `GET /users/{id}/stats` is one row, the all-time top spenders an index. The
    recent columns count the non-cancelled orders of the days from `sales_window.first_day` on (0010)."""

    __tablename__ = "user_sales"

    user_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    pending: int = Field(default=0, sa_type=BigInteger)
    confirmed: int = Field(default=0, sa_type=BigInteger)
    processing: int = Field(default=0, sa_type=BigInteger)
    shipped: int = Field(default=0, sa_type=BigInteger)
    delivered: int = Field(default=0, sa_type=BigInteger)
    cancelled: int = Field(default=0, sa_type=BigInteger)
    revenue_cents: int = Field(default=0, sa_type=BigInteger)
    first_order_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_order_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    recent_orders: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    recent_revenue_cents: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})


class SalesWindowRow(SQLModel, table=True):
    """One row: the first UTC day (its first second since the epoch) of the days whose orders count in
    user_sales' recent columns, and how many days the window holds; the housekeeping job moves it daily."""

    __tablename__ = "sales_window"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: int = Field(primary_key=True, sa_type=SmallInteger, sa_column_kwargs={"autoincrement": False})
    first_day: int = Field(sa_type=BigInteger)
    days: int = Field(sa_type=SmallInteger)


class UserDaySalesRow(SQLModel, table=True):
    """A customer's non-cancelled orders and their revenue (cents) per UTC day (`day`: its first second since
    the epoch), kept by the same triggers, for the top spenders of a period."""

    __tablename__ = "user_day_sales"

    day: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    user_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    orders: int = Field(default=0, sa_type=BigInteger)
    revenue_cents: int = Field(default=0, sa_type=BigInteger)


class CategoryStatsRow(SQLModel, table=True):
    """A category's active products summed (count, prices and stock value in cents, units, how many are low
    on stock), kept by triggers on products and categories (migration 0008) so its statistics read 16 rows
    however large the catalog. Each product counts in slot id % 16, as order_totals does."""

    __tablename__ = "category_stats"

    category_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # product id % 16
    active_products: int = Field(default=0)
    price_cents: int = Field(default=0, sa_type=BigInteger)
    stock_units: int = Field(default=0, sa_type=BigInteger)
    stock_value_cents: Decimal = Field(default=Decimal(0), sa_type=Numeric(38, 0))
    low_stock: int = Field(default=0)


class ThrottleWindowRow(SQLModel, table=True):
    """Attempts (log-ins, registrations) counted under a hashed key in a window of time; see
    application.throttling."""

    __tablename__ = "throttle_windows"

    key: str = Field(max_length=80, primary_key=True)
    attempts: int
    window_ends: datetime = _timestamp(index=True)


class EventRow(SQLModel, table=True):
    """The outbox (domain.events.Event): written in the transaction of the change it reports."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(f"type IN ({_EVENT_TYPES})", name="type_known"),
        CheckConstraint(f"resource_type IN ({_RESOURCES})", name="resource_known"),
        # A resource's events in order; the unique key is the safety net behind the resource's row lock.
        Index("uq_events_resource_sequence", "resource_type", "resource_id", "sequence", unique=True),
        Index("ix_events_created_at", "created_at"),  # the purge
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=_BIG_ID)
    type: str = Field(max_length=40)
    resource_type: str = Field(max_length=20)
    resource_id: int
    sequence: int
    actor_id: int | None = Field(default=None)  # not a foreign key: an event outlives nothing it names
    created_at: datetime = _timestamp()
    payload: dict[str, Any] = Field(sa_type=_JSON, nullable=False)


class WebhookRow(SQLModel, table=True):
    """A subscription (domain.webhooks.Webhook), with its position in the event feed."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048)
    event_types: list[str] = Field(sa_type=_JSON, nullable=False)
    secret: str = Field(max_length=100)
    enabled: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, max_length=500)
    consecutive_failures: int = Field(default=0)
    version: int = Field(default=1)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    # The last event of the feed it has been offered (txid on PostgreSQL, see EventRow).
    after_txid: int | None = Field(default=None, sa_type=BigInteger)
    after_event_id: int = Field(default=0, sa_type=BigInteger)


class WebhookDeliveryRow(SQLModel, table=True):
    """One event owed to one subscription, until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state_known"),
        Index("uq_webhook_deliveries_webhook_event", "webhook_id", "event_id", unique=True),
        Index("ix_webhook_deliveries_webhook_created_id", "webhook_id", "created_at", "id"),
        # What is due: only pending deliveries are in it.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=_BIG_ID)
    webhook_id: int = Field(foreign_key="webhooks.id", ondelete="CASCADE")
    event_id: int = Field(sa_type=BigInteger, foreign_key="events.id", ondelete="CASCADE", index=True)
    event_type: str = Field(max_length=40)
    state: str = Field(max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _timestamp()
    created_at: datetime = _timestamp()
    last_attempt_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class WebhookAttemptRow(SQLModel, table=True):
    """Every attempt of a delivery: what the receiver answered (or why nothing could be sent)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id", "delivery_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_BIG_ID)
    delivery_id: int = Field(sa_type=BigInteger, foreign_key="webhook_deliveries.id", ondelete="CASCADE")
    attempted_at: datetime = _timestamp()
    status_code: int | None = None
    latency_ms: int
    error: str | None = Field(default=None, max_length=500)
    response_body: str | None = Field(default=None, max_length=1024)


_FULFILLMENT_STATES = ", ".join(f"'{s.value}'" for s in FulfillmentState)


class FulfillmentRow(SQLModel, table=True):
    """Units of an order that left the shop together (domain.fulfillments.Fulfillment), with tracking."""

    __tablename__ = "fulfillments"
    __table_args__ = (
        CheckConstraint(f"status IN ({_FULFILLMENT_STATES})", name="status_known"),
        Index("ix_fulfillments_order_id", "order_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="RESTRICT")
    status: str = Field(max_length=20)
    carrier: str | None = Field(default=None, max_length=MAX_CARRIER)
    tracking_number: str | None = Field(default=None, max_length=MAX_TRACKING_NUMBER)
    tracking_url: str | None = Field(default=None, max_length=MAX_TRACKING_URL)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancelled_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    version: int = Field(default=1)


class FulfillmentLineRow(SQLModel, table=True):
    """How many units of one order line a fulfilment shipped; each line once per fulfilment."""

    __tablename__ = "fulfillment_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("uq_fulfillment_lines_fulfillment_line", "fulfillment_id", "order_line_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    fulfillment_id: int = Field(foreign_key="fulfillments.id", ondelete="CASCADE")
    order_line_id: int = Field(foreign_key="order_lines.id", ondelete="RESTRICT")
    quantity: int


def _table(model: type[SQLModel]) -> Table:
    """A table model's Core table (SQLModel sets `__table__` without declaring it to type checkers)."""
    return metadata.tables[str(model.__tablename__)]


# The Core tables the repositories and statements are written against.
users = _table(UserRow)
categories = _table(CategoryRow)
products = _table(ProductRow)
orders = _table(OrderRow)
order_lines = _table(OrderLineRow)
order_events = _table(OrderEventRow)
stock_movements = _table(StockMovementRow)
idempotency_keys = _table(IdempotencyKeyRow)
addresses = _table(AddressRow)
payments = _table(PaymentRow)
payment_transactions = _table(PaymentTransactionRow)
fulfillments = _table(FulfillmentRow)
fulfillment_lines = _table(FulfillmentLineRow)
returns = _table(ReturnRow)
return_lines = _table(ReturnLineRow)
order_refunds = _table(OrderRefundRow)
counts = _table(CategoryProductCountRow)
order_totals = _table(OrderTotalRow)
order_sales = _table(OrderSalesRow)
user_sales = _table(UserSalesRow)
# The top spenders' order (revenue, highest first; ties by id), as the indexes keep it: their first entries
# are the answer (an ascending index read backwards gives ties in the wrong order, and the planner then
# sorted every customer; migration 0010).
Index("ix_user_sales_revenue_user", user_sales.c.revenue_cents.desc(), user_sales.c.user_id)
Index("ix_user_sales_recent_revenue_user", user_sales.c.recent_revenue_cents.desc(), user_sales.c.user_id)
user_day_sales = _table(UserDaySalesRow)
sales_window = _table(SalesWindowRow)
category_stats = _table(CategoryStatsRow)
throttle_windows = _table(ThrottleWindowRow)
events = _table(EventRow)
webhooks = _table(WebhookRow)
webhook_deliveries = _table(WebhookDeliveryRow)
webhook_attempts = _table(WebhookAttemptRow)
