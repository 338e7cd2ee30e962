"""Payments: what a payment provider did with an order's money, as the provider reports it (authorised,
captured, voided, refunded), and the rules of what may follow what. A `Payment` is an aggregate of its own:
each action is one method that checks its limit, moves the amounts, bumps the version and records its event;
the order keeps the sums of its payments (`MoneyTotals`) and derives its `payment_status` from them.

Amounts are exact Decimals in the shop's currency (`Currency`): positive, at most `MAX_AMOUNT`, with no more
places than the currency's minor unit has (none for JPY, two for USD)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.aggregate import Aggregate
from domain.entity import Entity
from domain.events import DomainEvent, EventType
from domain.money import MAX_AMOUNT, money
from domain.payment_errors import InvalidPaymentAmount, PaymentLimit, PaymentVoided

ZERO = Decimal("0.00")
MAX_PROVIDER = 50
MAX_PAYMENT_REFERENCE = 200
MAX_PAYMENT_REASON = 500


class PaymentAction(StrEnum):
    """What a new payment reports: money held (`authorize`, captured later) or taken at once (`charge`)."""

    AUTHORIZE = "authorize"
    CHARGE = "charge"


class TransactionKind(StrEnum):
    AUTHORIZE = "authorize"
    CHARGE = "charge"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class PaymentStatus(StrEnum):
    """An order's money against its total (`MoneyTotals.status`)."""

    UNPAID = "unpaid"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    OVERPAID = "overpaid"


class ConfirmRequires(StrEnum):
    """What an order needs before it may be confirmed (SHOP_CONFIRM_REQUIRES)."""

    NOTHING = "nothing"
    AUTHORIZATION = "authorization"  # authorised or captured money covering the total
    PAYMENT = "payment"  # captured money (less refunds) covering the total


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 code and the number of places of its minor unit (2 for USD, 0 for JPY)."""

    code: str
    places: int

    def amount(self, value: Decimal) -> Decimal:
        """`value` as an amount of this currency (two places, as the shop keeps money), or
        InvalidPaymentAmount."""
        if not value.is_finite() or value <= 0:
            raise InvalidPaymentAmount(f"an amount must be greater than 0, not {value}")
        if value > MAX_AMOUNT:
            raise InvalidPaymentAmount(f"an amount may be at most {MAX_AMOUNT}, not {value}")
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise InvalidPaymentAmount(
                f"{value} has more decimal places than {self.code} has ({self.places})"
            )
        return money(value)


USD = Currency("USD", 2)


@dataclass(frozen=True, slots=True)
class MoneyTotals:
    """Money of one payment or the sums of an order's: authorised (less voided), captured, refunded."""

    authorized: Decimal = ZERO
    captured: Decimal = ZERO
    refunded: Decimal = ZERO

    def __add__(self, other: "MoneyTotals") -> "MoneyTotals":
        return MoneyTotals(
            self.authorized + other.authorized, self.captured + other.captured, self.refunded + other.refunded
        )

    @property
    def open_authorization(self) -> Decimal:
        """Authorised and not captured (voided authorisations are not in `authorized`)."""
        return self.authorized - self.captured

    @property
    def held(self) -> Decimal:
        """Captured and not refunded: the money the shop has."""
        return self.captured - self.refunded

    def refunded_revenue(self, total: Decimal) -> Decimal:
        """The refunds that give back part of an order of `total`: refunds first return what was captured
        above the total (an overpayment), which never was revenue. At most `total` (refunded <= captured)."""
        overpaid = max(ZERO, self.captured - total)
        return max(ZERO, self.refunded - overpaid)

    def net_revenue(self, total: Decimal) -> Decimal:
        """An order's revenue net of refunds: `total` less the refunds of its value (`refunded_revenue`)."""
        return total - self.refunded_revenue(total)

    def status(self, total: Decimal) -> PaymentStatus:
        """Overpaid first (more kept than the total: a refund is due), then by what happened: nothing,
        only authorised, captured without refunds (all of the total or part), refunded (all or part)."""
        if self.held > total:
            return PaymentStatus.OVERPAID
        if self.captured == 0:
            return PaymentStatus.AUTHORIZED if self.authorized > 0 else PaymentStatus.UNPAID
        if self.refunded == 0:
            return PaymentStatus.PAID if self.captured >= total else PaymentStatus.PARTIALLY_PAID
        if self.refunded >= self.captured:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTIALLY_REFUNDED

    def covers(self, total: Decimal, requires: ConfirmRequires) -> Decimal | None:
        """None if the money satisfies `requires` for an order of `total`; else the amount that counts."""
        if requires is ConfirmRequires.NOTHING:
            return None
        has = self.held if requires is ConfirmRequires.PAYMENT else self.held + self.open_authorization
        return None if has >= total else has

    def outstanding(self) -> bool:
        """Money the shop would owe back or release if the order went away."""
        return self.held > 0 or self.open_authorization > 0


@dataclass(eq=False, slots=True)
class PaymentTransaction(Entity):
    """One thing the provider did, as reported: its kind, amount, the provider's reference (the payment's
    for authorize/charge, the refund's for refunds), who reported it, when, and why (refunds)."""

    kind: TransactionKind
    amount: Decimal
    at: datetime
    actor_id: int | None
    reference: str | None = None
    reason: str | None = None
    id: int | None = None


# The money each kind of transaction moves (authorised, captured, refunded), per unit of its amount.
_MOVES: dict[TransactionKind, tuple[int, int, int]] = {
    TransactionKind.AUTHORIZE: (1, 0, 0),
    TransactionKind.CHARGE: (1, 1, 0),
    TransactionKind.CAPTURE: (0, 1, 0),
    TransactionKind.VOID: (-1, 0, 0),
    TransactionKind.REFUND: (0, 0, 1),
}


def moved(transactions: Sequence[PaymentTransaction]) -> MoneyTotals:
    """What these transactions did to the amounts."""
    total = MoneyTotals()
    for t in transactions:
        a, c, r = _MOVES[t.kind]
        total = total + MoneyTotals(t.amount * a, t.amount * c, t.amount * r)
    return total


@dataclass(eq=False, slots=True)
class Payment(Aggregate):
    order_id: int
    provider: str
    reference: str
    currency: str
    created_at: datetime
    updated_at: datetime
    authorized: Decimal = ZERO  # less what a void released
    captured: Decimal = ZERO
    refunded: Decimal = ZERO
    voided: bool = False
    version: int = 1
    id: int | None = None
    transactions: list[PaymentTransaction] = field(default_factory=list)
    # Since it was loaded: its transactions for the repository to store, and its events for the outbox.
    new_transactions: list[PaymentTransaction] = field(default_factory=list)
    domain_events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def record(
        cls,
        *,
        order_id: int,
        provider: str,
        reference: str,
        amount: Decimal,
        action: PaymentAction,
        currency: Currency,
        actor_id: int | None,
        at: datetime,
    ) -> "Payment":
        """A payment as the provider reports it: authorised, or charged (authorised and captured at once)."""
        value = currency.amount(amount)
        payment = cls(order_id, provider, reference, currency.code, at, at)
        if action is PaymentAction.CHARGE:
            payment._apply(TransactionKind.CHARGE, value, EventType.PAYMENT_CAPTURED, actor_id, at, reference)
        else:
            payment._apply(
                TransactionKind.AUTHORIZE, value, EventType.PAYMENT_AUTHORIZED, actor_id, at, reference
            )
        payment.version = 1  # a new payment starts at 1, whatever it recorded
        return payment

    @property
    def totals(self) -> MoneyTotals:
        return MoneyTotals(self.authorized, self.captured, self.refunded)

    @property
    def capturable(self) -> Decimal:
        return ZERO if self.voided else self.authorized - self.captured

    @property
    def refundable(self) -> Decimal:
        return self.captured - self.refunded

    def capture(
        self, amount: Decimal | None, currency: Currency, *, actor_id: int | None, at: datetime
    ) -> None:
        """Capture `amount` (None: all that is authorised and not captured) of the authorisation."""
        if self.voided:
            raise PaymentVoided(self.id, "capture")
        value = self.capturable if amount is None else currency.amount(amount)
        if value <= 0 or value > self.capturable:
            raise PaymentLimit(self.id, "capture", value, self.capturable)
        self._apply(TransactionKind.CAPTURE, value, EventType.PAYMENT_CAPTURED, actor_id, at)

    def void(self, *, actor_id: int | None, at: datetime) -> None:
        """Release what is authorised and not captured; after it nothing more is captured or voided (what was
        captured before may still be refunded)."""
        if self.voided:
            raise PaymentVoided(self.id, "void")
        if self.capturable <= 0:
            raise PaymentLimit(self.id, "void", ZERO, ZERO)
        self._apply(TransactionKind.VOID, self.capturable, EventType.PAYMENT_VOIDED, actor_id, at)
        self.voided = True

    def refund(
        self,
        amount: Decimal,
        currency: Currency,
        *,
        reason: str,
        reference: str,
        actor_id: int | None,
        at: datetime,
    ) -> None:
        value = currency.amount(amount)
        if value > self.refundable:
            raise PaymentLimit(self.id, "refund", value, self.refundable)
        self._apply(
            TransactionKind.REFUND, value, EventType.PAYMENT_REFUNDED, actor_id, at, reference, reason
        )

    def refund_by_reference(self, reference: str) -> PaymentTransaction | None:
        return next(
            (t for t in self.transactions if t.kind is TransactionKind.REFUND and t.reference == reference),
            None,
        )

    def moved(self) -> MoneyTotals:
        """What its new transactions did to the amounts: what the order's totals move by."""
        return moved(self.new_transactions)

    def _apply(
        self,
        kind: TransactionKind,
        amount: Decimal,
        event: EventType,
        actor_id: int | None,
        at: datetime,
        reference: str | None = None,
        reason: str | None = None,
    ) -> None:
        """A checked action: its transaction, the amounts it moves, a new version and the event."""
        transaction = PaymentTransaction(kind, amount, at, actor_id, reference, reason)
        self.transactions.append(transaction)
        self.new_transactions.append(transaction)
        now = self.totals + moved([transaction])
        self.authorized, self.captured, self.refunded = now.authorized, now.captured, now.refunded
        self.version += 1
        self.updated_at = at
        self.domain_events.append(DomainEvent(event, self, at, actor_id))
