"""The refusals of the return and refund rules (domain.returns, domain.refunds, Order.receive_return): each
names the limit it enforces, and `extensions()` gives the problem members a client acts on."""

from decimal import Decimal

from domain.errors import DomainError


class InvalidReturn(DomainError):
    """A return or a refund that breaks a structural rule (no lines, a line twice, an order line that is not
    the order's, a quantity below 1, a reason too long, an extra amount not above 0): a 422."""


class ReturnLimit(DomainError):
    """More units of a line than were shipped and not yet returned (nor asked back by another open request
    of the same order)."""

    def __init__(self, order_line_id: int, requested: int, available: int) -> None:
        self.order_line_id = order_line_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"order line {order_line_id}: cannot return {requested} units: {available} shipped and not "
            "returned (nor asked back by another open request)"
        )

    def extensions(self) -> dict[str, str | int]:
        """Counts as strings, as every problem's `requested` and `available` (amounts elsewhere)."""
        return {
            "order_line_id": self.order_line_id,
            "requested": str(self.requested),
            "available": str(self.available),
        }


class ReturnWindowClosed(DomainError):
    """A customer's request for an order that is not shipped, or delivered longer ago than the window."""

    def __init__(self, order_id: int | None, status: str, days: int) -> None:
        self.order_id = order_id
        self.status = status
        self.days = days
        super().__init__(
            f"order {order_id} is {status}: a return may be requested while it is shipped, or within "
            f"{days} days of its delivery"
        )


class IllegalReturnChange(DomainError):
    """Accepting or rejecting a return that is not `requested` any more, or refunding one not accepted."""

    def __init__(self, return_id: int | None, status: str, action: str) -> None:
        self.return_id = return_id
        self.status = status
        super().__init__(f"return {return_id} is {status}: it cannot be {action}")


class ReturnAlreadyRefunded(DomainError):
    """A return is refunded once; a repeat with the first refund's reference replays it instead."""

    def __init__(self, return_id: int | None, reference: str) -> None:
        self.return_id = return_id
        self.reference = reference
        super().__init__(f"return {return_id} was already refunded (reference {reference!r})")


class RefundLimit(DomainError):
    """A refund of an order beyond what its payments captured and did not refund yet."""

    def __init__(self, order_id: int | None, requested: Decimal, available: Decimal) -> None:
        self.order_id = order_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"order {order_id}: cannot refund {requested}: its payments hold {available} captured and not "
            "refunded"
        )

    def extensions(self) -> dict[str, str | int]:
        return {"requested": str(self.requested), "available": str(self.available)}
