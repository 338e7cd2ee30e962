"""The refusals of the payment rules (domain.payments, domain.orders): each names the limit it enforces, and
`extensions()` gives the problem members a client acts on (what is available, what is missing)."""

from decimal import Decimal

from domain.errors import DomainError

AUTHORIZATION = "authorization"  # domain.payments.ConfirmRequires.AUTHORIZATION


class InvalidPaymentAmount(DomainError):
    """Not positive, too large, or finer than the currency's minor unit."""


class PaymentLimit(DomainError):
    """A capture, refund or void beyond what the payment holds: `limit` names the rule, `available` is what
    the payment allows now."""

    def __init__(self, payment_id: int | None, limit: str, requested: Decimal, available: Decimal) -> None:
        self.payment_id = payment_id
        self.limit = limit
        self.requested = requested
        self.available = available
        super().__init__(f"payment {payment_id}: cannot {limit} {requested}: {LIMITS[limit]} is {available}")

    def extensions(self) -> dict[str, str]:
        return {"limit": self.limit, "requested": str(self.requested), "available": str(self.available)}


# What each limit is, as its refusal names it.
LIMITS = {
    "capture": "the amount authorised and not yet captured",
    "refund": "the amount captured and not yet refunded",
    "void": "the amount authorised and not captured, which a void releases,",
}


class PaymentVoided(DomainError):
    def __init__(self, payment_id: int | None, action: str) -> None:
        self.payment_id = payment_id
        super().__init__(f"payment {payment_id} was voided: it cannot {action} any more")


class OrderNotPayable(DomainError):
    """New money for a cancelled order (a payment, a capture): refused; voids and refunds stay allowed."""

    def __init__(self, order_id: int | None, status: str) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} is {status}: it takes no new payment or capture")


class PaymentOutstanding(DomainError):
    """Cancelling (or expiring) an order that holds money: refund what was captured and void what is
    authorised first."""

    def __init__(self, order_id: int | None, held: Decimal, authorized: Decimal) -> None:
        self.order_id = order_id
        self.held = held
        self.authorized = authorized
        super().__init__(
            f"order {order_id} holds money: {held} captured and not refunded, {authorized} authorised and "
            "not captured; refund and void it before cancelling"
        )

    def extensions(self) -> dict[str, str]:
        return {"captured_not_refunded": str(self.held), "authorized_not_captured": str(self.authorized)}


class PaymentRequired(DomainError):
    """Confirming an order that SHOP_CONFIRM_REQUIRES says is not covered yet."""

    def __init__(self, order_id: int | None, requires: str, needed: Decimal, has: Decimal) -> None:
        self.order_id = order_id
        self.requires = requires
        self.needed = needed
        self.has = has
        what = "authorised or captured" if requires == AUTHORIZATION else "captured"
        super().__init__(
            f"order {order_id} cannot be confirmed before it is covered by a {requires}: "
            f"{needed} needed, {has} {what}"
        )

    def extensions(self) -> dict[str, str]:
        return {"requires": str(self.requires), "needed": str(self.needed), "covered": str(self.has)}
