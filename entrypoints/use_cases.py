"""The use cases as the API, the CLI and the jobs run them: bound once, by the container, to the collaborators
each needs, so a call site passes the request's data and nothing else, and every argument and result is typed.

Two kinds, one class each:
- `UseCases`: one unit of work each, written `(uow, [actor,] *data) -> result` so that the API's `Caller`
  (entrypoints.api.dependencies) can supply the unit of work and the caller, and the CLI a sync unit of work;
- `Flows`: the async use cases over a `UnitOfWorkRunner` (those that hash or check a password, and idempotent
  order placement), called with their data (and the verified token's claims where they identify the caller).

The application's use cases keep their own signatures (collaborators as keyword arguments); these methods
are where each gets them."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from application import (
    addresses,
    auth,
    categories,
    events,
    fulfillments,
    idempotency,
    orders,
    payments,
    products,
    refunds,
    returns,
    sales,
    throttling,
    users,
    webhooks,
)
from application.addresses import AddressChoice, NewAddress
from application.auth import LogIn
from application.categories import (
    CategoryDetail,
    CategoryPatch,
    CategoryStatsView,
    CategoryView,
    CreateCategory,
)
from application.event_ports import WebhookSender
from application.events import Feed
from application.fulfillments import CreateFulfillment
from application.lists import (
    ALL_CATEGORIES,
    CategoryFilter,
    EventFilter,
    MovementFilter,
    OrderFilter,
    Page,
    ProductFilter,
    UserFilter,
    Window,
)
from application.orders import PlaceOrder
from application.payments import PaymentOptions, Recorded, RecordPayment, RefundPayment
from application.ports import (
    AccessToken,
    Clock,
    Counters,
    OrderStats,
    PasswordHasher,
    Spender,
    TokenClaims,
    TokenIssuer,
    UnitOfWork,
    UnitOfWorkRunner,
    UserStats,
)
from application.products import CreateProduct, Embedded, Expand, ProductPatch
from application.refunds import Refunded, RefundOrder, RefundReturn
from application.returns import CreateReturn
from application.sales import CustomerStats, SalesQuery, SalesReport
from application.throttling import Limits
from application.users import Deactivation, RegisterUser, UserPatch
from application.webhooks import CreateWebhook, DeliveryOptions, WebhookPatch
from domain.addresses import AddressPatch, SavedAddress
from domain.catalog import Product
from domain.events import Event
from domain.fulfillments import Fulfillment
from domain.orders import Order, OrderStatus, StatusChange
from domain.payments import Payment
from domain.refunds import OrderRefund
from domain.returns import DEFAULT_RETURN_WINDOW_DAYS, Return
from domain.stock import StockDrift, StockMovement
from domain.users import User
from domain.webhooks import Delivery, Webhook

F = TypeVar("F", bound=Callable[..., Any])
_REPLICA_READ = "reads_from_replica"


def replica_read(use_case: F) -> F:
    """Marks a use case that only reads and may be a little stale: with SHOP_DATABASE_REPLICA_URLS set, the
    API runs it on a streaming replica that has replayed the client's own last write (docs/scaling.md lists
    them). Everything unmarked runs on the primary. The replica's transactions are read-only, so a marked
    use case that writes fails loudly instead of being served elsewhere."""
    setattr(use_case, _REPLICA_READ, True)
    return use_case


def reads_from_replica(work: object) -> bool:
    """Whether `work` (a bound use case) is marked `replica_read`."""
    return bool(getattr(work, _REPLICA_READ, False))


@dataclass(frozen=True, slots=True)
class UseCases:
    """The use cases that run in one unit of work, with their collaborators bound."""

    clock: Clock
    counters: Counters
    sender: WebhookSender
    render: Callable[[Event], bytes]  # an event as webhooks receive it
    delivery: DeliveryOptions
    money: PaymentOptions = PaymentOptions()  # the currency, what confirming needs
    return_window: timedelta = timedelta(days=DEFAULT_RETURN_WINDOW_DAYS)  # SHOP_RETURN_WINDOW

    # Categories
    def create_category(self, uow: UnitOfWork, actor: User, cmd: CreateCategory) -> CategoryView:
        return categories.create_category(cmd, uow=uow, actor=actor, clock=self.clock)

    @replica_read
    def list_categories(
        self, uow: UnitOfWork, window: Window, filters: CategoryFilter = ALL_CATEGORIES
    ) -> Page[CategoryView]:
        return categories.list_categories(window, filters, uow=uow)

    @replica_read
    def category_stats(
        self, uow: UnitOfWork, actor: User, category_id: int, include_descendants: bool
    ) -> CategoryStatsView:
        return categories.category_stats(category_id, include_descendants, uow=uow, actor=actor)

    @replica_read
    def list_category_stats(
        self, uow: UnitOfWork, actor: User, window: Window, include_descendants: bool
    ) -> Page[CategoryStatsView]:
        return categories.list_category_stats(window, include_descendants, uow=uow, actor=actor)

    @replica_read
    def get_category(self, uow: UnitOfWork, category_id: int) -> CategoryDetail:
        return categories.get_category(category_id, uow=uow)

    def update_category(
        self, uow: UnitOfWork, actor: User, category_id: int, patch: CategoryPatch
    ) -> CategoryView:
        return categories.update_category(category_id, patch, uow=uow, actor=actor, clock=self.clock)

    def delete_category(self, uow: UnitOfWork, actor: User, category_id: int) -> None:
        categories.delete_category(category_id, uow=uow, actor=actor)

    # Products and stock
    def create_product(self, uow: UnitOfWork, actor: User, cmd: CreateProduct) -> Product:
        return products.create_product(cmd, uow=uow, actor=actor, clock=self.clock)

    @replica_read
    def list_products(
        self, uow: UnitOfWork, actor: User | None, filters: ProductFilter, window: Window
    ) -> Page[Product]:
        return products.list_products(filters, window, uow=uow, actor=actor)

    @replica_read
    def get_product(self, uow: UnitOfWork, product_id: int) -> Product:
        return products.get_product(product_id, uow=uow)

    @replica_read
    def list_products_expanded(
        self,
        uow: UnitOfWork,
        actor: User | None,
        filters: ProductFilter,
        window: Window,
        expand: frozenset[Expand],
    ) -> tuple[Page[Product], Embedded]:
        return products.list_products_expanded(filters, window, expand, uow=uow, actor=actor)

    @replica_read
    def get_product_expanded(
        self, uow: UnitOfWork, product_id: int, expand: frozenset[Expand]
    ) -> tuple[Product, Embedded]:
        return products.get_product_expanded(product_id, expand, uow=uow)

    def update_product(
        self, uow: UnitOfWork, actor: User, product_id: int, patch: ProductPatch, expected_version: int | None
    ) -> Product:
        return products.update_product(
            product_id, patch, expected_version, uow=uow, actor=actor, clock=self.clock
        )

    def delete_product(self, uow: UnitOfWork, actor: User, product_id: int) -> None:
        products.delete_product(product_id, uow=uow, actor=actor, clock=self.clock)

    def adjust_stock(
        self, uow: UnitOfWork, actor: User, product_id: int, delta: int, reason: str | None
    ) -> Product:
        return products.adjust_stock(product_id, delta, reason, uow=uow, actor=actor, clock=self.clock)

    @replica_read
    def stock_movements(
        self, uow: UnitOfWork, actor: User, product_id: int, filters: MovementFilter, window: Window
    ) -> Page[StockMovement]:
        return products.stock_movements(product_id, filters, window, uow=uow, actor=actor)

    def check_stock(self, uow: UnitOfWork) -> list[StockDrift]:
        return products.check_stock(uow=uow)

    # Orders
    def place_order(self, uow: UnitOfWork, actor: User, cmd: PlaceOrder) -> Order:
        return orders.place_order(cmd, uow=uow, actor=actor, clock=self.clock, counters=self.counters)

    @replica_read
    def list_orders(self, uow: UnitOfWork, actor: User, filters: OrderFilter, window: Window) -> Page[Order]:
        return orders.list_orders(filters, window, uow=uow, actor=actor)

    @replica_read
    def order_stats(self, uow: UnitOfWork, actor: User) -> OrderStats:
        return orders.order_stats(uow=uow, actor=actor)

    # Sales reports
    @replica_read
    def sales_report(self, uow: UnitOfWork, actor: User, query: SalesQuery) -> SalesReport:
        return sales.sales_report(query, uow=uow, actor=actor, clock=self.clock)

    @replica_read
    def customer_stats(self, uow: UnitOfWork, actor: User, user_id: int) -> CustomerStats:
        return sales.customer_stats(user_id, uow=uow, actor=actor)

    @replica_read
    def top_spenders(
        self,
        uow: UnitOfWork,
        actor: User,
        limit: int,
        created_from: datetime | None,
        created_to: datetime | None,
        days: int | None,
    ) -> list[Spender]:
        return sales.top_spenders(
            limit, created_from, created_to, days, uow=uow, actor=actor, clock=self.clock
        )

    def roll_recent_window(self, uow: UnitOfWork) -> None:
        sales.roll_recent_window(uow=uow, clock=self.clock)

    def get_order(self, uow: UnitOfWork, actor: User, order_id: int) -> Order:
        return orders.get_order(order_id, uow=uow, actor=actor)

    def order_events(self, uow: UnitOfWork, actor: User, order_id: int) -> list[StatusChange]:
        return orders.order_events(order_id, uow=uow, actor=actor)

    def change_order_status(
        self,
        uow: UnitOfWork,
        actor: User,
        order_id: int,
        to_status: OrderStatus,
        expected_version: int | None,
    ) -> Order:
        return orders.change_order_status(
            order_id,
            to_status,
            expected_version,
            uow=uow,
            actor=actor,
            clock=self.clock,
            counters=self.counters,
            confirm_requires=self.money.confirm_requires,
        )

    def change_shipping_address(
        self,
        uow: UnitOfWork,
        actor: User,
        order_id: int,
        choice: AddressChoice,
        expected_version: int | None,
    ) -> Order:
        return orders.change_shipping_address(
            order_id, choice, expected_version, uow=uow, actor=actor, clock=self.clock
        )

    # Address books (user_id None: the caller's own)
    def list_addresses(self, uow: UnitOfWork, actor: User, user_id: int | None) -> list[SavedAddress]:
        return addresses.list_addresses(user_id, uow=uow, actor=actor)

    def get_address(self, uow: UnitOfWork, actor: User, user_id: int | None, address_id: int) -> SavedAddress:
        return addresses.get_address(user_id, address_id, uow=uow, actor=actor)

    def add_address(self, uow: UnitOfWork, actor: User, user_id: int | None, cmd: NewAddress) -> SavedAddress:
        return addresses.add_address(user_id, cmd, uow=uow, actor=actor, clock=self.clock)

    def update_address(
        self, uow: UnitOfWork, actor: User, user_id: int | None, address_id: int, patch: AddressPatch
    ) -> SavedAddress:
        return addresses.update_address(user_id, address_id, patch, uow=uow, actor=actor, clock=self.clock)

    def delete_address(self, uow: UnitOfWork, actor: User, user_id: int | None, address_id: int) -> None:
        addresses.delete_address(user_id, address_id, uow=uow, actor=actor)

    def cancel_order(self, uow: UnitOfWork, actor: User, order_id: int) -> Order:
        return orders.cancel_order(order_id, uow=uow, actor=actor, clock=self.clock, counters=self.counters)

    def expire_pending_orders(self, uow: UnitOfWork, ttl: timedelta, batch: int) -> int:
        return orders.expire_pending_orders(
            ttl, uow=uow, clock=self.clock, batch=batch, counters=self.counters
        )

    # Payments
    def record_payment(self, uow: UnitOfWork, actor: User, order_id: int, cmd: RecordPayment) -> Recorded:
        return payments.record_payment(
            order_id, cmd, uow=uow, actor=actor, clock=self.clock, currency=self.money.currency
        )

    def capture_payment(
        self, uow: UnitOfWork, actor: User, payment_id: int, amount: Decimal | None
    ) -> Payment:
        return payments.capture_payment(
            payment_id, amount, uow=uow, actor=actor, clock=self.clock, currency=self.money.currency
        )

    def void_payment(self, uow: UnitOfWork, actor: User, payment_id: int) -> Payment:
        return payments.void_payment(payment_id, uow=uow, actor=actor, clock=self.clock)

    def refund_payment(self, uow: UnitOfWork, actor: User, payment_id: int, cmd: RefundPayment) -> Recorded:
        return payments.refund_payment(
            payment_id, cmd, uow=uow, actor=actor, clock=self.clock, currency=self.money.currency
        )

    def list_payments(self, uow: UnitOfWork, actor: User, order_id: int) -> list[Payment]:
        return payments.list_payments(order_id, uow=uow, actor=actor)

    # Fulfilments
    def create_fulfillment(
        self, uow: UnitOfWork, actor: User, order_id: int, cmd: CreateFulfillment
    ) -> Fulfillment:
        return fulfillments.create_fulfillment(order_id, cmd, uow=uow, actor=actor, clock=self.clock)

    def list_fulfillments(self, uow: UnitOfWork, actor: User, order_id: int) -> list[Fulfillment]:
        return fulfillments.list_fulfillments(order_id, uow=uow, actor=actor)

    def get_fulfillment(self, uow: UnitOfWork, actor: User, fulfillment_id: int) -> Fulfillment:
        return fulfillments.get_fulfillment(fulfillment_id, uow=uow, actor=actor)

    def cancel_fulfillment(self, uow: UnitOfWork, actor: User, fulfillment_id: int) -> Fulfillment:
        return fulfillments.cancel_fulfillment(fulfillment_id, uow=uow, actor=actor, clock=self.clock)

    # Returns and refunds (issue 28)
    def create_return(self, uow: UnitOfWork, actor: User, order_id: int, cmd: CreateReturn) -> Return:
        return returns.create_return(
            order_id,
            cmd,
            uow=uow,
            actor=actor,
            clock=self.clock,
            window=self.return_window,
            currency=self.money.currency,
        )

    def accept_return(self, uow: UnitOfWork, actor: User, return_id: int) -> Return:
        return returns.accept_return(return_id, uow=uow, actor=actor, clock=self.clock)

    def reject_return(self, uow: UnitOfWork, actor: User, return_id: int, reason: str) -> Return:
        return returns.reject_return(return_id, reason, uow=uow, actor=actor, clock=self.clock)

    def list_returns(self, uow: UnitOfWork, actor: User, order_id: int) -> list[Return]:
        return returns.list_returns(order_id, uow=uow, actor=actor)

    def get_return(self, uow: UnitOfWork, actor: User, return_id: int) -> Return:
        return returns.get_return(return_id, uow=uow, actor=actor)

    def refund_return(self, uow: UnitOfWork, actor: User, return_id: int, cmd: RefundReturn) -> Refunded:
        return refunds.refund_return(
            return_id, cmd, uow=uow, actor=actor, clock=self.clock, currency=self.money.currency
        )

    def refund_goodwill(self, uow: UnitOfWork, actor: User, order_id: int, cmd: RefundOrder) -> Refunded:
        return refunds.refund_goodwill(
            order_id, cmd, uow=uow, actor=actor, clock=self.clock, currency=self.money.currency
        )

    def list_refunds(self, uow: UnitOfWork, actor: User, order_id: int) -> list[OrderRefund]:
        return refunds.list_refunds(order_id, uow=uow, actor=actor)

    def purge_expired_keys(self, uow: UnitOfWork) -> int:
        return idempotency.purge_expired_keys(uow=uow, clock=self.clock)

    # Users
    def log_out(self, uow: UnitOfWork, actor: User) -> None:
        auth.log_out(uow=uow, actor=actor, clock=self.clock)

    @replica_read
    def list_users(self, uow: UnitOfWork, actor: User, filters: UserFilter, window: Window) -> Page[User]:
        return users.list_users(filters, window, uow=uow, actor=actor)

    def current_user(self, uow: UnitOfWork, actor: User) -> User:
        return users.current_user(uow=uow, actor=actor)

    def get_user(self, uow: UnitOfWork, actor: User, user_id: int) -> User:
        return users.get_user(user_id, uow=uow, actor=actor)

    def deactivate_user(self, uow: UnitOfWork, actor: User, user_id: int) -> None:
        users.deactivate_user(user_id, uow=uow, actor=actor, clock=self.clock)

    def deactivate_customers(self, uow: UnitOfWork, actor: User, criteria: Deactivation) -> int:
        return users.deactivate_customers(criteria, uow=uow, actor=actor, clock=self.clock)

    def erase_user(self, uow: UnitOfWork, actor: User, user_id: int) -> User:
        return users.erase_user(user_id, uow=uow, actor=actor, clock=self.clock)

    @replica_read
    def user_stats(
        self, uow: UnitOfWork, actor: User, registered_from: datetime | None, registered_to: datetime | None
    ) -> UserStats:
        return users.user_stats(registered_from, registered_to, uow=uow, actor=actor)

    def purge_ended_windows(self, uow: UnitOfWork) -> int:
        return throttling.purge_ended_windows(uow=uow, clock=self.clock)

    # Events and webhooks
    @replica_read
    def read_events(
        self, uow: UnitOfWork, actor: User, filters: EventFilter, starting_after: int | None, limit: int
    ) -> Feed:
        return events.read_events(filters, starting_after, limit, uow=uow, actor=actor)

    def purge_events(self, uow: UnitOfWork, retention: timedelta) -> int:
        return events.purge_events(retention, uow=uow, clock=self.clock)

    def create_webhook(self, uow: UnitOfWork, actor: User, cmd: CreateWebhook) -> Webhook:
        return webhooks.create_webhook(cmd, uow=uow, actor=actor, clock=self.clock, sender=self.sender)

    def list_webhooks(self, uow: UnitOfWork, actor: User, window: Window) -> Page[Webhook]:
        return webhooks.list_webhooks(window, uow=uow, actor=actor)

    def get_webhook(self, uow: UnitOfWork, actor: User, webhook_id: int) -> Webhook:
        return webhooks.get_webhook(webhook_id, uow=uow, actor=actor)

    def update_webhook(self, uow: UnitOfWork, actor: User, webhook_id: int, patch: WebhookPatch) -> Webhook:
        return webhooks.update_webhook(
            webhook_id, patch, uow=uow, actor=actor, clock=self.clock, sender=self.sender
        )

    def delete_webhook(self, uow: UnitOfWork, actor: User, webhook_id: int) -> None:
        webhooks.delete_webhook(webhook_id, uow=uow, actor=actor)

    def list_deliveries(
        self, uow: UnitOfWork, actor: User, webhook_id: int, window: Window
    ) -> Page[Delivery]:
        return webhooks.list_deliveries(webhook_id, window, uow=uow, actor=actor)

    def retry_delivery(self, uow: UnitOfWork, actor: User, webhook_id: int, delivery_id: int) -> Delivery:
        return webhooks.retry_delivery(webhook_id, delivery_id, uow=uow, actor=actor, clock=self.clock)

    def offer_events(self, uow: UnitOfWork) -> int:
        return webhooks.offer_events(uow=uow, clock=self.clock, batch=self.delivery.batch * 10)

    def deliver_due(self, unit_of_work: Callable[[], UnitOfWork]) -> int:
        """Takes a unit of work per step (claim, then record), not one."""
        return webhooks.deliver_due(
            unit_of_work=unit_of_work,
            sender=self.sender,
            clock=self.clock,
            render=self.render,
            options=self.delivery,
        )


@dataclass(frozen=True, slots=True)
class Flows:
    """The async use cases, with their runner and collaborators bound."""

    runner: UnitOfWorkRunner
    clock: Clock
    hasher: PasswordHasher
    tokens: TokenIssuer
    limits: Limits
    counters: Counters

    async def authenticate(self, cmd: LogIn) -> AccessToken:
        return await auth.authenticate(
            cmd,
            runner=self.runner,
            hasher=self.hasher,
            tokens=self.tokens,
            clock=self.clock,
            limits=self.limits,
        )

    async def register_user(self, cmd: RegisterUser) -> User:
        return await users.register_user(
            cmd, runner=self.runner, hasher=self.hasher, clock=self.clock, limits=self.limits
        )

    async def update_user(
        self, claims: TokenClaims, user_id: int, patch: UserPatch, address: str | None
    ) -> User:
        return await users.update_user(
            user_id,
            patch,
            runner=self.runner,
            claims=claims,
            hasher=self.hasher,
            clock=self.clock,
            limits=self.limits,
            address=address,
        )

    async def register_users(self, claims: TokenClaims, rows: list[RegisterUser]) -> list[User]:
        return await users.register_users(
            rows, runner=self.runner, claims=claims, hasher=self.hasher, clock=self.clock
        )

    async def ensure_admin(self, email: str, password: str, name: str) -> User:
        return await users.ensure_admin(
            email, password, name, runner=self.runner, hasher=self.hasher, clock=self.clock
        )

    async def place_order(self, claims: TokenClaims, cmd: PlaceOrder) -> Order:
        return await self.runner.run(
            orders.place_order_as_caller, cmd, claims, clock=self.clock, counters=self.counters
        )

    async def place_order_idempotently(self, claims: TokenClaims, cmd: PlaceOrder, key: str) -> Order:
        return await idempotency.place_order_idempotently(
            cmd, key, runner=self.runner, claims=claims, clock=self.clock, counters=self.counters
        )


@dataclass(frozen=True, slots=True)
class Wiring:
    """What every request's caller runs with, from the container's Singletons."""

    runner: UnitOfWorkRunner
    cases: UseCases
    flows: Flows
    reads: UnitOfWorkRunner | None  # for the use cases marked replica_read; None without replicas
    tokens: TokenIssuer
