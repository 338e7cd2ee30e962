"""Typed domain errors. Each carries what a client needs to act on it, and reads as a sentence."""


class DomainError(Exception):
    """A business rule was broken by the request."""


class InsufficientStock(DomainError):
    def __init__(self, product_id: int, requested: int, available: int) -> None:
        self.product_id = product_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"insufficient stock for product {product_id}: requested {requested}, available {available}"
        )


class ProductUnavailable(DomainError):
    def __init__(self, product_id: int) -> None:
        self.product_id = product_id
        super().__init__(f"product {product_id} is not available for sale")


class InactiveUser(DomainError):
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(f"user {user_id} is deactivated and cannot place orders")


class InvalidOrder(DomainError):
    """The order's lines break a structural rule (empty, too many, repeated product, bad quantity)."""


class IllegalStatusChange(DomainError):
    """Also the one refusal of a cancel, whichever route asked (`why` says what the caller may do)."""

    def __init__(self, from_status: str, to_status: str, why: str | None = None) -> None:
        self.from_status = from_status
        self.to_status = to_status
        said = f"cannot change order status from '{from_status}' to '{to_status}'"
        super().__init__(f"{said}: {why}" if why else said)


class CategoryCycle(DomainError):
    def __init__(self, category_id: int, parent_id: int) -> None:
        self.category_id = category_id
        self.parent_id = parent_id
        super().__init__(
            f"category {parent_id} cannot be the parent of category {category_id}: that would make a cycle"
        )


class InvalidStockChange(DomainError):
    """A stock adjustment of zero, or a quantity that is not positive."""


class InvalidEmail(DomainError):
    """An e-mail address with characters no address may hold."""


class WeakPassword(DomainError):
    """A new password the policy refuses (domain.passwords); `reason` says which rule, for clients to show."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the password is too weak: {reason}")


class AdminNotErasable(DomainError):
    """Erasing is for customers: an admin account is demoted first (PATCH is_admin=false), deliberately."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(f"user {user_id} is an admin; demote them (is_admin=false) to erase the account")


class InvalidAddress(DomainError):
    """An address field missing, blank, too long, or not of its form (country code, phone number)."""


class AddressBookFull(DomainError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"an address book holds at most {limit} addresses; delete one to add another")


class AddressLocked(DomainError):
    """An order's shipping address changes only until it is being processed."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(
            f"the shipping address of an order that is {status} cannot be changed: "
            "only while it is pending or confirmed"
        )
