"""Request and response models. Constrained fields come from the shared `adapters.fields` bases, so the
API validates exactly what the tables can hold; entities are turned into responses here, once."""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, Field, RootModel, Strict, field_validator, model_validator
from sqlmodel import SQLModel

if TYPE_CHECKING:
    from sqlmodel._compat import SQLModelConfig

from adapters.fields import (
    EMAIL_PATTERN,
    MAX_ID,
    SKU_PATTERN,
    CategoryFields,
    ProductFields,
    StorableModel,
    UserFields,
)
from application.addresses import AddressChoice
from application.categories import CategoryDetail, CategoryStatsView, CategoryView
from application.lists import Page
from application.ports import OrderStats, Spender, UserStats
from application.sales import CustomerStats, SalesReport
from application.users import MAX_BULK_USERS, MAX_DEACTIVATE_IDS
from domain.catalog import MAX_ADJUSTMENT, MAX_STOCK, Category, Product, check_adjustment
from domain.errors import DomainError
from domain.money import MAX_AMOUNT
from domain.orders import (
    MAX_LINES,
    MAX_QUANTITY,
    FulfillmentStatus,
    Order,
    OrderStatus,
    ReturnStatus,
    check_lines,
)
from domain.orders import StatusChange as HistoryEntry  # StatusChange here is the PATCH body
from domain.passwords import MAX_LENGTH as MAX_PASSWORD
from domain.passwords import MIN_LENGTH as MIN_PASSWORD
from domain.payments import PaymentStatus
from domain.stock import MAX_REASON, MovementKind, StockMovement
from domain.users import User, normalize_email
from entrypoints.api.address_schemas import AddressIn, OrderAddressRead, one_of

T = TypeVar("T")
R = TypeVar("R")
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, max_digits=10, decimal_places=2)]
# The policy's length range (domain.passwords; its other rules answer /problems/weak-password).
Password = Annotated[str, Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]


def _as_value_error(rule: Callable[[T], R], value: T) -> R:
    """A domain rule checked at the API's door: its error becomes a schema error (422)."""
    try:
        return rule(value)
    except DomainError as error:
        raise ValueError(str(error)) from None


def _normalized_email(email: str) -> str:
    return _as_value_error(normalize_email, email)


Email = Annotated[str, Field(max_length=320, pattern=EMAIL_PATTERN), AfterValidator(_normalized_email)]
# Typed as SQLModel types its models' `model_config` (a ConfigDict of its own, not exported).
FORBID_EXTRA: "SQLModelConfig" = {"extra": "forbid"}


class Problem(BaseModel):
    """RFC 9457 problem details, served as application/problem+json; `request_id` (an extension member)
    is the id in the answer's X-Request-ID header and in every log line of the request."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    index: int | None = Field(
        default=None, description="In a bulk request's refusal: the position (from 0) of the row at fault."
    )
    limit: str | None = Field(
        default=None, description="/problems/payment-limit: the limit refused (capture, refund, void)."
    )
    available: str | None = Field(
        default=None,
        description="/problems/payment-limit: what the limit allows now (an amount); /problems/refund-limit: "
        "what the order's payments hold; /problems/return-limit: the units a line can still give back.",
    )
    requested: str | None = Field(
        default=None,
        description="/problems/payment-limit, /problems/refund-limit: the amount asked for; "
        "/problems/return-limit: the units asked for.",
    )
    order_line_id: int | None = Field(default=None, description="/problems/return-limit: the line at fault.")


class PageOf(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the page after this one; null on the last page."
    )

    @classmethod
    def of(cls, page: Page[Any], convert: Any, next_cursor: str | None) -> "PageOf[T]":
        return cls(
            items=[convert(i) for i in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            next_cursor=next_cursor,
        )


class _Patch(StorableModel):
    """All-optional update; a field sent as null is refused unless it may be null."""

    model_config = FORBID_EXTRA
    _nullable: frozenset[str] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "_Patch":
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self._nullable:
                raise ValueError(f"{name} may not be null")
        return self


# --- users ---------------------------------------------------------------------------------------------


class UserCreate(UserFields):
    model_config = FORBID_EXTRA
    email: Email
    password: Password


class UserUpdate(_Patch):
    email: Email | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)
    password: Password | None = None
    current_password: str | None = Field(
        default=None,
        max_length=MAX_PASSWORD,
        description="Needed to change your own email or password (not when an admin changes another user's).",
    )
    is_active: bool | None = None
    is_admin: bool | None = None


class UserRead(UserFields):
    id: int
    is_active: bool
    is_admin: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = Field(
        default=None, description="The last successful log-in; null if none was recorded."
    )

    @classmethod
    def of(cls, u: User) -> "UserRead":
        return cls.model_validate(u, from_attributes=True)


class UsersCreate(BaseModel):
    model_config = {"extra": "forbid"}
    users: list[UserCreate] = Field(min_length=1, max_length=MAX_BULK_USERS)


class UsersCreated(BaseModel):
    users: list[UserRead]


class UsersDeactivate(BaseModel):
    """Exactly one of the two."""

    model_config = {"extra": "forbid"}
    last_login_before: datetime | None = Field(
        default=None,
        description="Customers whose last log-in (or, never logged in, registration) is before this time.",
    )
    ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_DEACTIVATE_IDS)

    @model_validator(mode="after")
    def _exactly_one(self) -> "UsersDeactivate":
        if (self.last_login_before is None) == (self.ids is None):
            raise ValueError("send exactly one of last_login_before and ids")
        return self


class UsersDeactivated(BaseModel):
    deactivated: int


class UserStatsRead(BaseModel):
    total: int
    active: int
    inactive: int
    admins: int
    registered: int = Field(description="Registered in the period asked for; all users without one.")
    with_orders: int = Field(description="Users with at least one order, whatever its status.")

    @classmethod
    def of(cls, s: UserStats) -> "UserStatsRead":
        return cls.model_validate(s, from_attributes=True)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


# --- catalog -------------------------------------------------------------------------------------------


class CategoryCreate(CategoryFields):
    model_config = FORBID_EXTRA


class CategoryUpdate(_Patch):
    _nullable = frozenset({"description", "parent_id"})
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    parent_id: Id | None = None


class CategoryRead(CategoryFields):
    id: int
    slug: str
    product_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: CategoryView) -> "CategoryRead":
        return cls.model_validate({**asdict(view.category), "product_count": view.product_count})


class ProductCreate(ProductFields):
    model_config = FORBID_EXTRA


Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON, pattern=r"\S")]


class ProductUpdate(_Patch):
    _nullable = frozenset({"description", "category_id", "low_stock_threshold"})
    name: str | None = Field(default=None, min_length=1, max_length=200)
    sku: str | None = Field(default=None, min_length=1, max_length=50, pattern=SKU_PATTERN)
    description: str | None = Field(default=None, max_length=2000)
    price: Money | None = None
    stock_quantity: int | None = Field(default=None, ge=0, le=MAX_STOCK, strict=True)
    stock_reason: Reason | None = Field(
        default=None,
        description="Why the stock is corrected: required with `stock_quantity`, kept in the ledger.",
    )
    category_id: Id | None = None
    low_stock_threshold: int | None = Field(default=None, ge=0, le=MAX_STOCK, strict=True)
    is_active: bool | None = None

    @model_validator(mode="after")
    def _stock_with_reason(self) -> "ProductUpdate":
        if ("stock_quantity" in self.model_fields_set) != ("stock_reason" in self.model_fields_set):
            raise ValueError("stock_quantity and stock_reason go together: a stock correction says why")
        return self


class ProductRead(ProductFields):
    id: int
    slug: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, p: Product) -> "ProductRead":
        # Built, not validated: the product comes from our own storage, and lists build 20 per request.
        return cls.model_construct(**{name: getattr(p, name) for name in _PRODUCT_FIELDS})


_PRODUCT_FIELDS = list(ProductRead.model_fields)


class CategoryRef(BaseModel):
    """A category named where something refers to it: its tree, an expanded product, statistics."""

    id: int
    name: str
    slug: str

    @classmethod
    def of(cls, c: Category) -> "CategoryRef":
        return cls.model_construct(id=c.id or 0, name=c.name, slug=c.slug)


class CategoryDetailRead(CategoryRead):
    products: list[ProductRead]
    children: list[CategoryRef] = Field(description="Its direct subcategories, by name.")
    path: list[CategoryRef] = Field(
        description="Its ancestors, the root first; the category itself is not in it."
    )

    @classmethod
    def of_detail(cls, detail: CategoryDetail) -> "CategoryDetailRead":
        base = CategoryRead.of(detail.view).model_dump()
        return cls(
            **base,
            products=[ProductRead.of(p) for p in detail.products],
            children=[CategoryRef.of(c) for c in detail.children],
            path=[CategoryRef.of(c) for c in detail.path],
        )


class ProductExpandedRead(ProductRead):
    """A product with what `expand` asked for embedded."""

    category: CategoryRef | None = Field(description="`expand=category`: its category (null: none).")

    @classmethod
    def expanded(cls, p: Product, categories: dict[int, Category]) -> "ProductExpandedRead":
        category = categories.get(p.category_id) if p.category_id is not None else None
        ref = CategoryRef.of(category) if category is not None else None
        return cls.model_construct(**{name: getattr(p, name) for name in _PRODUCT_FIELDS}, category=ref)


class ProductAnswer(RootModel[ProductExpandedRead | ProductRead]):
    """A product, expanded or not: the OpenAPI's name for the answer of `GET /products/{id}`."""


class CategoryStatsRead(BaseModel):
    category: CategoryRef
    include_descendants: bool
    active_products: int
    min_price: Decimal | None
    average_price: Decimal | None = Field(description="Σ price / count to the cent, halves rounded up.")
    max_price: Decimal | None
    units_in_stock: int
    stock_value: Decimal = Field(description="Σ price × stock.")
    low_stock_products: int = Field(description="At or below their `low_stock_threshold`.")

    @classmethod
    def of(cls, view: CategoryStatsView, include_descendants: bool) -> "CategoryStatsRead":
        s = view.stats
        return cls(
            category=CategoryRef.of(view.category),
            include_descendants=include_descendants,
            active_products=s.active_products,
            min_price=s.min_price,
            average_price=s.average_price,
            max_price=s.max_price,
            units_in_stock=s.units_in_stock,
            stock_value=s.stock_value,
            low_stock_products=s.low_stock,
        )


class StockAdjustment(StorableModel):
    model_config = FORBID_EXTRA
    delta: int = Field(
        ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT, strict=True, description="Units to add (or remove), not 0."
    )
    reason: Reason = Field(description="Why: kept in the stock ledger.")

    @field_validator("delta")
    @classmethod
    def _adjustment(cls, delta: int) -> int:
        return _as_value_error(check_adjustment, delta) or delta


class StockMovementRead(BaseModel):
    id: int
    product_id: int
    delta: int = Field(description="Units in (positive) or out (negative).")
    quantity: int = Field(description="The product's stock after this movement.")
    kind: MovementKind
    reason: str | None
    actor_id: int | None = Field(description="Who moved it; null for the service itself (an expiry).")
    order_id: int | None = Field(description="The order it belongs to: `GET /orders/{order_id}`.")
    created_at: datetime
    return_id: int | None = Field(
        default=None, description="The accepted return whose units came back (`return`): `GET /returns/{id}`."
    )

    @classmethod
    def of(cls, m: StockMovement) -> "StockMovementRead":
        return cls.model_validate(m, from_attributes=True)


# --- orders --------------------------------------------------------------------------------------------


class OrderLineIn(BaseModel):
    model_config = FORBID_EXTRA
    product_id: Id
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


class OrderCreate(BaseModel):
    model_config = FORBID_EXTRA
    items: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    user_id: Id | None = None
    shipping_address: AddressIn | None = Field(default=None, description="Inline; or shipping_address_id.")
    shipping_address_id: Id | None = Field(
        default=None, description="An entry of the buyer's address book; the order keeps a copy."
    )
    billing_address: AddressIn | None = Field(
        default=None, description="Inline; or billing_address_id. Neither: the shipping address."
    )
    billing_address_id: Id | None = None

    @field_validator("items")
    @classmethod
    def _lines(cls, items: list[OrderLineIn]) -> list[OrderLineIn]:
        return _as_value_error(check_lines, [(i.product_id, i.quantity) for i in items]) or items

    @model_validator(mode="after")
    def _addresses(self) -> "OrderCreate":
        self.shipping()
        self.billing()
        return self

    def shipping(self) -> AddressChoice | None:
        return one_of(self.shipping_address, self.shipping_address_id, "shipping")

    def billing(self) -> AddressChoice | None:
        return one_of(self.billing_address, self.billing_address_id, "billing")


class StatusChange(BaseModel):
    model_config = FORBID_EXTRA
    status: OrderStatus


class OrderItemRead(SQLModel):
    id: int
    product_id: int
    product_name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    quantity_shipped: int = Field(default=0, description="Units its fulfilments shipped (not cancelled).")
    quantity_returned: int = Field(default=0, description="Units accepted returns took back.")


_BUILT_APART = ("items", "shipping_address", "billing_address")  # built apart in OrderRead.of
_COPY = "The order's copy, as given when placed (or changed since); null: none."


class OrderRead(SQLModel):
    id: int
    order_number: str
    user_id: int
    status: OrderStatus
    total_amount: Decimal
    created_at: datetime
    updated_at: datetime
    version: int
    items: list[OrderItemRead]
    shipping_address: OrderAddressRead | None = Field(
        default=None, description="The order's copy; null: none."
    )
    billing_address: OrderAddressRead | None = Field(
        default=None, description="The order's copy; null: none."
    )
    payment_status: PaymentStatus = Field(
        description="Its payments' amounts against its total (docs/api.md#payments); `unpaid` without any."
    )
    fulfillment_status: FulfillmentStatus = Field(
        description="Its lines' units against what its fulfilments shipped "
        "(docs/api.md#fulfilments-issue-28)."
    )
    return_status: ReturnStatus = Field(
        description="What accepted returns took back of what was shipped: `none`, `partially_returned`, "
        "`returned`."
    )

    @classmethod
    def of(cls, o: Order) -> "OrderRead":
        items = [OrderItemRead.model_validate(line, from_attributes=True) for line in o.lines]
        # Field by field, not dataclasses.asdict: that deep-copies every line only to throw it away.
        return cls.model_validate(
            {
                **{name: getattr(o, name) for name in _ORDER_FIELDS},
                "items": items,
                "shipping_address": OrderAddressRead.of(o.shipping_address),
                "billing_address": OrderAddressRead.of(o.billing_address),
            }
        )


_ORDER_FIELDS = [name for name in OrderRead.model_fields if name not in _BUILT_APART]


class OrderEventRead(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor_id: int | None
    reason: str | None = Field(description="Why, where the service knows: `expired` for an expired order.")

    @classmethod
    def of(cls, e: HistoryEntry) -> "OrderEventRead":
        return cls.model_validate(e, from_attributes=True)


# --- sales reports ------------------------------------------------------------------------------------


_NET = "net of the refunds of their value (docs/api.md#net-revenue)"
_GROSS = "Before refunds: the non-cancelled orders' totals."
_REFUNDED = "The refunds of their value: gross less net."


class SalesPeriodRead(BaseModel):
    start: datetime = Field(description="The period's first instant, in the report's zone.")
    orders: int
    revenue: Decimal = Field(description=f"Of its non-cancelled orders, {_NET}.")
    by_status: dict[OrderStatus, int]
    gross_revenue: Decimal = Field(description=_GROSS)
    refunded_revenue: Decimal = Field(description=_REFUNDED)


class OrderStatsRead(BaseModel):
    """`GET /orders/stats`: all time, or with a period the totals of that period; with `group_by`, `periods`
    too (left out otherwise, so the all-time answer is what it always was)."""

    total_orders: int
    total_revenue: Decimal = Field(description=f"Of the non-cancelled orders, {_NET}.")
    orders_by_status: dict[OrderStatus, int]
    gross_revenue: Decimal = Field(description=_GROSS)
    refunded_revenue: Decimal = Field(description=_REFUNDED)
    periods: list[SalesPeriodRead] | None = Field(default=None, description="With group_by only.")

    @classmethod
    def of(cls, s: OrderStats) -> "OrderStatsRead":
        return cls(
            total_orders=s.total_orders,
            total_revenue=s.total_revenue,
            orders_by_status=s.orders_by_status,
            gross_revenue=s.gross_revenue,
            refunded_revenue=s.refunded_revenue,
        )

    @classmethod
    def of_report(cls, r: SalesReport) -> "OrderStatsRead":
        periods = None
        if r.periods is not None:
            periods = [
                SalesPeriodRead(
                    start=p.start,
                    orders=p.stats.total_orders,
                    revenue=p.stats.total_revenue,
                    by_status=p.stats.orders_by_status,
                    gross_revenue=p.stats.gross_revenue,
                    refunded_revenue=p.stats.refunded_revenue,
                )
                for p in r.periods
            ]
        return cls.of(r.totals).model_copy(update={"periods": periods})


class CustomerStatsRead(BaseModel):
    orders: int
    orders_by_status: dict[OrderStatus, int]
    total_spent: Decimal = Field(description=f"Of the non-cancelled orders, {_NET}.")
    average_order_value: Decimal = Field(description="total_spent over the non-cancelled orders; 0.00: none.")
    first_order_at: datetime | None
    last_order_at: datetime | None

    @classmethod
    def of(cls, s: CustomerStats) -> "CustomerStatsRead":
        return cls.model_validate(s, from_attributes=True)


class SpenderUser(BaseModel):
    id: int
    email: str
    name: str


class TopSpenderRead(BaseModel):
    user: SpenderUser
    orders: int = Field(description="Non-cancelled orders in the period.")
    revenue: Decimal = Field(description=f"Of those orders, {_NET}.")

    @classmethod
    def of(cls, s: Spender) -> "TopSpenderRead":
        user = SpenderUser(id=s.user_id, email=s.email, name=s.name)
        return cls(user=user, orders=s.orders, revenue=s.revenue)


class Health(BaseModel):
    status: str
    database: str


class Liveness(BaseModel):
    status: str


class ReplicaHealth(BaseModel):
    name: str = Field(description="host:port/database (never credentials)")
    state: Literal["unknown", "ok", "lagging", "unreachable", "not_a_standby"] = Field(
        description="`ok`: serving reads; any other state: skipped, the primary serves"
    )
    lag_seconds: float | None = Field(description="Behind the primary at this check; null when unknown")
    replay_lsn: str | None = Field(description="The WAL position it has replayed")
    problem: str | None = Field(default=None, description="Why it is unreachable, in a few words")


class Readiness(BaseModel):
    status: str
    reason: str | None
    replicas: list[ReplicaHealth] | None = Field(
        default=None,
        description="Only with SHOP_DATABASE_REPLICA_URLS set: each streaming replica, checked now. Replicas "
        "down never make the service unready: the primary serves their reads.",
    )
