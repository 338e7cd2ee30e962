"""Property-based life after the order (Hypothesis) over the in-memory fakes, through the use cases: any
sequence of placements, payments and captures, status moves, fulfilments and their cancellations, customer
return requests, admins' returns, acceptances and rejections (with and without restock), refunds of returns
(with an extra), goodwill refunds and cancellations of the order. A refusal (an error the API maps to a 4xx)
changes nothing; after every step, on every order: shipped <= ordered, returned <= shipped, shipped = the
units of its fulfilments not cancelled; refunded <= captured <= authorised on each payment and the order's
sums are its payments'; every product's stock is the sum of its ledger and `shop check-stock` finds nothing;
the order's fulfillment_status, return_status and payment_status agree with its lines and sums; shipped or
delivered means every unit shipped; every `return` movement is an accepted return's restocked line; the
outbox holds one fulfillment.created per fulfilment and one order.refunded per refund."""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from application.errors import ApplicationError
from application.fulfillments import CreateFulfillment, cancel_fulfillment, create_fulfillment
from application.orders import OrderItem, PlaceOrder, cancel_order, change_order_status, place_order
from application.payments import RecordPayment, capture_payment, record_payment
from application.products import check_stock
from application.refunds import RefundOrder, RefundReturn, refund_goodwill, refund_return
from application.returns import CreateReturn, accept_return, create_return, reject_return
from domain.addresses import Address
from domain.errors import DomainError
from domain.events import EventType
from domain.fulfillments import FulfillmentState
from domain.orders import FulfillmentStatus, Order, OrderLine, OrderStatus, ReturnStatus, can_change
from domain.payments import USD, MoneyTotals, PaymentAction, PaymentStatus
from domain.returns import ReturnItem, ReturnState
from domain.stock import MovementKind
from tests.doubles.memory import InMemoryStore
from tests.unit.conftest import dump
from tests.unit.test_properties import Shop

HOME = Address("Ann Smith", "1 Main St", "Berlin", "10115", "DE")
WINDOW = timedelta(days=30)
CENTS = st.integers(min_value=1, max_value=3000).map(lambda c: Decimal(c) / 100)
PICK = st.integers(0, 2)  # one of the last three made of a kind
# (which line, how many, whether to ask at most what is left: mostly; else the rules' limits are tried too)
FIT = st.sampled_from([True, True, True, False])
LINES = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), FIT), min_size=1, max_size=2)

# Placed, then (as drawn) paid in full by an authorisation or a charge, and confirmed: most orders go on.
Place = st.tuples(
    st.just("place"),
    st.lists(st.integers(1, 3), min_size=2, max_size=3),
    st.integers(0, 2),
    st.sampled_from([None, PaymentAction.AUTHORIZE, PaymentAction.CHARGE, PaymentAction.CHARGE]),
    st.sampled_from([True, True, True, False]),
)
Pay = st.tuples(st.just("pay"), PICK, st.sampled_from(list(PaymentAction)), CENTS)
Capture = st.tuples(st.just("capture"), PICK, st.one_of(st.none(), CENTS))
Move = st.tuples(
    st.just("status"),
    PICK,
    st.sampled_from(
        [OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
    ),
)
Fulfil = st.tuples(st.just("fulfil"), PICK, LINES)
Unfulfil = st.tuples(st.just("unfulfil"), PICK)
Request = st.tuples(st.sampled_from(["request", "admin_return"]), PICK, LINES, st.booleans())
Decide = st.tuples(st.sampled_from(["accept", "reject"]), PICK)
RefundOfReturn = st.tuples(st.just("refund_return"), PICK, st.one_of(st.none(), CENTS))
Goodwill = st.tuples(st.just("goodwill"), PICK, CENTS)
Cancel = st.tuples(st.just("cancel"), PICK)
SHIP_ALL = ("fulfil", 0, [(0, 3, True), (1, 3, True), (2, 3, True)])
STEPS = st.tuples(
    Place,
    st.lists(
        # Hypothesis favours a one_of's first branches: the steps that need an order further on first.
        st.one_of(
            Request,
            Fulfil,
            Decide,
            RefundOfReturn,
            Move,
            Unfulfil,
            Goodwill,
            Capture,
            Pay,
            Cancel,
            Place,
        ),
        min_size=12,
        max_size=30,
    ),
).map(lambda drawn: [drawn[0], SHIP_ALL, *drawn[1]])  # an order to begin with, all of it shipped if it may


def _pick(ids: list[int], index: int) -> int | None:
    return ids[-1 - index % len(ids)] if ids else None


class AfterTheOrder:
    """A shop with three products, and what the steps made: orders, payments, fulfilments, returns."""

    def __init__(self) -> None:
        self.shop = Shop()
        self.products = [self.shop.product(f"P-{i}", 12) for i in range(3)]
        self.orders: list[int] = []
        self.payments: list[int] = []
        self.fulfillments: list[int] = []
        self.returns: list[int] = []

    def order(self, index: int, prefer: Callable[[Order], bool] = lambda _: True) -> Order | None:
        """One of the last orders, among those `prefer` likes if there are any (so that more steps act)."""
        orders = [self.shop.store.tables.orders[i] for i in self.orders]
        liked = [o.id for o in orders if prefer(o)]
        found = _pick(liked or self.orders, index)
        return None if found is None else self.shop.store.tables.orders[found]

    def run(self, n: int, step: tuple[Any, ...]) -> bool:
        """The step through its use case; False if it was refused (and then nothing moved)."""
        before = _state(self.shop.store)
        try:
            action = self._action(n, step)
            if action is not None:
                action()
        except (DomainError, ApplicationError):
            assert _state(self.shop.store) == before, step
            return False
        return action is not None

    def _action(self, n: int, step: tuple[Any, ...]) -> Callable[[], None] | None:
        shop, kind = self.shop, step[0]
        admin, buyer, clock, uow = shop.admin, shop.buyer, shop.clock, shop.uow
        if kind == "place":
            return lambda: self._place(n, *step[1:])
        if kind == "fulfil":
            order = self.order(step[1], lambda o: o.status in (OrderStatus.CONFIRMED, OrderStatus.PROCESSING))
            if order is None:
                return None
            units = _units(order, step[2], lambda line: line.unshipped)
            cmd = CreateFulfillment(tuple(units.items()))  # type: ignore[arg-type]
            return lambda: self.fulfillments.append(
                create_fulfillment(order.id, cmd, uow=uow(), actor=admin, clock=clock).id  # type: ignore[arg-type]
            )
        if kind in ("request", "admin_return"):
            shipped = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
            order = self.order(
                step[1],
                (lambda o: o.status in shipped)
                if kind == "request"
                else (lambda o: any(line.quantity_shipped for line in o.lines)),
            )
            if order is None:
                return None
            lines = _units(order, step[2], lambda line: line.quantity_shipped - line.quantity_returned)
            items = tuple(ReturnItem(line, q, restock=step[3]) for line, q in lines.items())  # type: ignore[arg-type]
            actor = admin if kind == "admin_return" else buyer
            return lambda: self.returns.append(
                create_return(
                    order.id, CreateReturn(items), uow=uow(), actor=actor, clock=clock, window=WINDOW,  # type: ignore[arg-type]
                    currency=USD,
                ).id  # type: ignore[arg-type]
            )  # fmt: skip
        if kind == "status":
            order = self.order(step[1], lambda o: can_change(o.status, step[2]))
        else:
            order = self.order(step[1])
        if kind == "pay" and order is not None:
            cmd = RecordPayment("psp", f"pi_{n}", step[3], step[2])
            return lambda: self.payments.append(
                record_payment(order.id, cmd, uow=uow(), actor=admin, clock=clock, currency=USD).payment.id  # type: ignore[arg-type]
            )
        if kind == "status" and order is not None:
            return lambda: (
                change_order_status(order.id, step[2], uow=uow(), actor=admin, clock=clock) and None
            )  # type: ignore[arg-type,func-returns-value]
        if kind == "goodwill" and order is not None:
            goodwill = RefundOrder(step[2], "goodwill", f"gw_{n}")
            return lambda: (
                refund_goodwill(order.id, goodwill, uow=uow(), actor=admin, clock=clock, currency=USD)
                and None
            )  # type: ignore[arg-type,func-returns-value]
        if kind == "cancel" and order is not None:
            return lambda: cancel_order(order.id, uow=uow(), actor=admin, clock=clock) and None  # type: ignore[arg-type,func-returns-value]
        payment = _pick(self.payments, step[1])
        if kind == "capture" and payment is not None:
            return lambda: (
                capture_payment(payment, step[2], uow=uow(), actor=admin, clock=clock, currency=USD) and None
            )  # type: ignore[func-returns-value]
        fulfillment = _pick(self.fulfillments, step[1])
        if kind == "unfulfil" and fulfillment is not None:
            return lambda: cancel_fulfillment(fulfillment, uow=uow(), actor=admin, clock=clock) and None  # type: ignore[func-returns-value]
        ret = _pick(self.returns, step[1])
        if ret is None:
            return None
        if kind == "accept":
            return lambda: accept_return(ret, uow=uow(), actor=admin, clock=clock) and None  # type: ignore[func-returns-value]
        if kind == "reject":
            return lambda: reject_return(ret, "no", uow=uow(), actor=admin, clock=clock) and None  # type: ignore[func-returns-value]
        if kind == "refund_return":
            cmd = RefundReturn(f"re_{n}", step[2])
            return lambda: refund_return(ret, cmd, uow=uow(), actor=admin, clock=clock, currency=USD) and None  # type: ignore[func-returns-value]
        return None

    def _place(
        self, n: int, quantities: list[int], first: int, paid: PaymentAction | None, confirm: bool
    ) -> None:
        shop = self.shop
        items = tuple(OrderItem(self.products[(first + i) % 3].id, q) for i, q in enumerate(quantities))  # type: ignore[arg-type]
        order = place_order(
            PlaceOrder(items, shipping_address=HOME), uow=shop.uow(), actor=shop.buyer, clock=shop.clock
        )
        assert order.id is not None
        self.orders.append(order.id)
        if paid is not None:
            cmd = RecordPayment("psp", f"pi_{n}", order.total_amount, paid)
            recorded = record_payment(
                order.id, cmd, uow=shop.uow(), actor=shop.admin, clock=shop.clock, currency=USD
            )
            self.payments.append(recorded.payment.id)  # type: ignore[arg-type]
        if confirm:
            change_order_status(
                order.id, OrderStatus.CONFIRMED, uow=shop.uow(), actor=shop.admin, clock=shop.clock
            )

    def check(self) -> None:
        """Every invariant, over every order, product, payment, fulfilment, return and refund."""
        t = self.shop.store.tables
        fulfillments = list(t.fulfillments.values())
        live = [f for f in fulfillments if f.status is FulfillmentState.FULFILLED]
        for order in t.orders.values():
            shipped = Counter[int]()
            for f in live:
                if f.order_id == order.id:
                    shipped.update(dict(f.units))
            for line in order.lines:
                assert 0 <= line.quantity_returned <= line.quantity_shipped <= line.quantity
                assert line.quantity_shipped == shipped[line.id]  # type: ignore[index]
            assert order.fulfillment_status is _fulfillment_status(order)
            assert order.return_status is _return_status(order)
            if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
                assert order.fulfillment_status is FulfillmentStatus.FULFILLED
            if order.status in (OrderStatus.PENDING, OrderStatus.CANCELLED):
                assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED
            payments = [p for p in t.payments.values() if p.order_id == order.id]
            for p in payments:
                assert 0 <= p.refunded <= p.captured <= p.authorized
            sums = [
                sum((getattr(p, s) for p in payments), Decimal(0))
                for s in ("authorized", "captured", "refunded")
            ]
            assert [order.authorized, order.captured, order.refunded] == sums
            refunds = [r.amount for r in t.refunds.values() if r.order_id == order.id]
            assert order.refunded == sum(refunds, Decimal(0))  # every refund here is an order's
            assert order.payment_status is _payment_status(order.money, order.total_amount)
        for product in self.products:
            ledger = sum(m.delta for m in t.movements if m.product_id == product.id)
            assert t.products[product.id].stock_quantity == ledger >= 0  # type: ignore[index]
        assert check_stock(uow=self.shop.uow()) == []
        restocked = Counter(
            (r.id, line.product_id, line.quantity)
            for r in t.returns.values()
            if r.status is ReturnState.ACCEPTED
            for line in r.lines
            if line.restock
        )
        moved = Counter(
            (m.return_id, m.product_id, m.delta) for m in t.movements if m.kind is MovementKind.RETURN
        )
        assert moved == restocked
        events = Counter(e.type for e in t.outbox)
        assert events[EventType.FULFILLMENT_CREATED] == len(fulfillments)
        assert events[EventType.ORDER_REFUNDED] == len(t.refunds)


def _state(store: InMemoryStore) -> dict[str, Any]:
    """What `dump` gives (every committed field of every row) but the outbox's payloads: an append-only outbox
    moved if and only if it grew. (Its payloads are more than half of a dump's time.)"""
    t = store.tables
    outbox, t.outbox = t.outbox, []
    try:
        return {**dump(store), "outbox": [e.id for e in outbox]}
    finally:
        t.outbox = outbox


def _units(
    order: Order, drawn: list[tuple[int, int, bool]], left: Callable[[OrderLine], int]
) -> dict[int, int]:
    """Each line once (its first draw): as drawn, or (`fit`) one of the lines with something `left` on it,
    at most that much (while any line has something left)."""
    units: dict[int, int] = {}
    for i, quantity, fit in drawn:
        some = [line for line in order.lines if left(line) > 0] if fit else []
        line = (some or order.lines)[i % len(some or order.lines)]
        units.setdefault(line.id, min(quantity, left(line)) if some else quantity)  # type: ignore[arg-type]
    return units


def _fulfillment_status(order: Order) -> FulfillmentStatus:
    if all(line.quantity_shipped == 0 for line in order.lines):
        return FulfillmentStatus.UNFULFILLED
    if all(line.quantity_shipped == line.quantity for line in order.lines):
        return FulfillmentStatus.FULFILLED
    return FulfillmentStatus.PARTIALLY_FULFILLED


def _return_status(order: Order) -> ReturnStatus:
    returned = sum(line.quantity_returned for line in order.lines)
    if returned == 0:
        return ReturnStatus.NONE
    return (
        ReturnStatus.RETURNED
        if returned == sum(line.quantity_shipped for line in order.lines)
        else (ReturnStatus.PARTIALLY_RETURNED)
    )


def _payment_status(money: MoneyTotals, total: Decimal) -> PaymentStatus:
    """docs/api.md#payments, in its order."""
    a, c, r = money.authorized, money.captured, money.refunded
    if c - r > total:
        return PaymentStatus.OVERPAID
    if c == 0:
        return PaymentStatus.AUTHORIZED if a > 0 else PaymentStatus.UNPAID
    if r == 0:
        return PaymentStatus.PAID if c == total else PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.REFUNDED if r == c else PaymentStatus.PARTIALLY_REFUNDED


# At most 60 examples of 14 to 32 steps (~3.3 s) under `make test`'s thorough profile (300 elsewhere);
# the fast suite's 30 take ~1.4 s.
@settings(deadline=None, max_examples=min(settings.default.max_examples, 60))
@given(STEPS)
def test_any_sequence_after_the_order_keeps_every_limit(sequence: list[tuple[Any, ...]]) -> None:
    world = AfterTheOrder()
    for n, step in enumerate(sequence):
        world.run(n, step)
        world.check()


def test_the_harness_takes_an_order_through_every_step() -> None:
    """The steps above do what they say: a walk through all of them, each accepted, every check holding."""
    world = AfterTheOrder()
    walk: list[tuple[Any, ...]] = [
        ("place", [3, 2], 0, None, False),  # 3 x P-0, 2 x P-1: 17.50
        ("pay", 0, PaymentAction.AUTHORIZE, Decimal("17.50")),
        ("capture", 0, None),
        ("status", 0, OrderStatus.CONFIRMED),
        ("fulfil", 0, [(0, 2, False)]),
        ("unfulfil", 0),
        ("fulfil", 0, [(0, 3, False), (1, 1, False)]),
        ("fulfil", 0, [(1, 5, True)]),  # everything: shipped
        ("request", 0, [(0, 1, False)], True),
        ("reject", 0),
        ("request", 0, [(0, 2, False)], True),
        ("accept", 0),  # the last return
        ("admin_return", 0, [(1, 1, True)], False),
        ("refund_return", 1, Decimal("1.00")),  # the one before the last: accepted
        ("goodwill", 0, Decimal("0.50")),
        ("status", 0, OrderStatus.DELIVERED),
        ("place", [1, 1, 1], 1, PaymentAction.CHARGE, True),
        ("goodwill", 0, Decimal("3.00")),  # the last order
        ("goodwill", 0, Decimal("7.50")),  # all it holds: it may be cancelled
        ("cancel", 0),
    ]
    for n, step in enumerate(walk):
        assert world.run(n, step), step
        world.check()
    t = world.shop.store.tables
    order, cancelled = t.orders[world.orders[0]], t.orders[world.orders[1]]
    assert [(line.quantity_shipped, line.quantity_returned) for line in order.lines] == [(3, 2), (2, 1)]
    assert order.status is OrderStatus.DELIVERED and order.return_status is ReturnStatus.PARTIALLY_RETURNED
    assert (order.captured, order.refunded) == (Decimal("17.50"), Decimal("8.50"))  # 7.00 + 1.00 + 0.50
    assert order.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert cancelled.status is OrderStatus.CANCELLED
    assert [world.shop.stock(p) for p in world.products] == [12 - 3 + 2, 12 - 2, 12]
