"""The refusals of the fulfilment rules (domain.fulfillments, domain.orders): each says what the caller may
do, and `FulfillmentLimit.extensions()` gives the problem members a client acts on (what is left to ship)."""

from domain.errors import DomainError


class InvalidFulfillment(DomainError):
    """No lines, a line twice or of another order, a quantity below 1, a tracking field too long or not of its
    form: refused at the door (a 422)."""


class OrderNotFulfillable(DomainError):
    """A fulfilment of an order that is not confirmed or processing."""

    def __init__(self, order_id: int | None, status: str) -> None:
        self.order_id = order_id
        self.status = status
        why = "confirm it first" if status == "pending" else "only a confirmed or processing order ships"
        super().__init__(f"order {order_id} is {status}: {why}")


class ShippingAddressRequired(DomainError):
    def __init__(self, order_id: int | None) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} has no shipping address; set one before shipping")


class FulfillmentLimit(DomainError):
    """More units of a line than are left unshipped on it."""

    def __init__(self, order_line_id: int, requested: int, available: int) -> None:
        self.order_line_id = order_line_id
        self.requested = requested
        self.available = available
        super().__init__(f"order line {order_line_id}: cannot ship {requested}: {available} left unshipped")

    def extensions(self) -> dict[str, int]:
        return {"order_line_id": self.order_line_id, "requested": self.requested, "available": self.available}


class FulfillmentNotCancellable(DomainError):
    """Cancelling a fulfilment of a delivered order, or one whose units were returned since."""

    def __init__(self, fulfillment_id: int | None, why: str) -> None:
        self.fulfillment_id = fulfillment_id
        super().__init__(f"fulfillment {fulfillment_id} cannot be cancelled: {why}")


class OrderFulfilled(DomainError):
    """Cancelling an order as a whole while units of it are shipped."""

    def __init__(self, order_id: int | None, shipped: int) -> None:
        self.order_id = order_id
        self.shipped = shipped
        super().__init__(
            f"order {order_id} has {shipped} shipped units: it cannot be cancelled; "
            "cancel its fulfilments, or take the units back with a return"
        )
