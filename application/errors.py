"""Application errors: what a use case refuses beyond the domain's own rules."""


class ApplicationError(Exception):
    """Base of every error a use case raises that is not a domain rule."""


class NotFound(ApplicationError):
    def __init__(self, kind: str, entity_id: object) -> None:
        self.kind = kind
        self.entity_id = entity_id
        super().__init__(f"{kind} {entity_id} was not found")


class UnknownReference(ApplicationError):
    """The request body names a product, category or user that does not exist (a 400, not a 404)."""

    def __init__(self, kind: str, entity_id: object) -> None:
        self.kind = kind
        self.entity_id = entity_id
        super().__init__(f"{kind} {entity_id} does not exist")


class Forbidden(ApplicationError):
    """The caller is known but may not do this."""


class AuthenticationFailed(ApplicationError):
    """Missing, wrong, expired or revoked credentials; the message says which."""


class Conflict(ApplicationError):
    """The change conflicts with the stored data: a taken e-mail, SKU or category name, or a row that
    changed meanwhile in a way the change cannot be applied over."""


class PreconditionFailed(ApplicationError):
    def __init__(self, kind: str, entity_id: object, current_version: int) -> None:
        self.current_version = current_version
        super().__init__(
            f"{kind} {entity_id} has changed (now at version {current_version}); "
            "fetch it again and retry with the new ETag"
        )


class IdempotencyKeyInUse(ApplicationError):
    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still in progress; retry shortly")


class IdempotencyKeyReused(ApplicationError):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request body; use a new key")


class RejectedValue(ApplicationError):
    """A value the store cannot hold (out of its range, or a NUL character); nothing was changed."""


class ServiceUnavailable(ApplicationError):
    """The database cannot be reached or stays locked; the request changed nothing and may be retried."""


class TooManyAttempts(ApplicationError):
    """Too many log-ins or registrations in a short time; nothing was checked or changed."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many attempts; retry in {retry_after} seconds")


class CurrentPasswordRequired(ApplicationError):
    """Changing one's own e-mail or password needs the current password (a stolen token is not enough)."""

    def __init__(self) -> None:
        super().__init__("send current_password to change your own email or password")


class IncorrectPassword(ApplicationError):
    def __init__(self) -> None:
        super().__init__("current_password is not your current password")


class OffsetTooDeep(ApplicationError):
    def __init__(self, max_offset: int) -> None:
        super().__init__(
            f"offset may be at most {max_offset}; to page further, pass the page's next_cursor as `cursor`"
        )


class InvalidCursor(ApplicationError):
    """A cursor this service did not issue for this list (altered, or from another list or sort), or one
    sent with an offset."""


class UnsafeTarget(ApplicationError):
    """A webhook URL the service will not call: not http(s), or on the service's own networks."""


class RowRefused(ApplicationError):
    """One row of a bulk request broke a rule (`error`, answered with its own status); nothing was done."""

    def __init__(self, index: int, error: Exception) -> None:
        self.index = index
        self.error = error
        super().__init__(f"row {index}: {error}")


class PaymentReferenceReused(ApplicationError):
    """A provider's reference (of a payment, or of a refund of one payment) already recorded with another
    body: a repeat with the same body replays the first answer instead."""

    def __init__(self, what: str, reference: str) -> None:
        self.reference = reference
        super().__init__(
            f"{what} reference {reference!r} was already recorded with a different body; a repeat must send "
            "the same body"
        )
