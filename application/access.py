"""Who may do what: customers act on their own records, admins on all. Every such rule lives here."""

from application.errors import AuthenticationFailed, Forbidden, NotFound
from domain.errors import OrderNotCancellable
from domain.orders import Order, OrderStatus, can_change
from domain.users import User

# Customers may cancel until the order is being processed; admins wherever the status rules allow it.
OWNER_MAY_CANCEL = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED})


def require_admin(actor: User, action: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {action}")


def require_self_or_admin(actor: User, owner_id: int, kind: str, entity_id: int) -> None:
    """Another customer's record is reported as missing, so its existence does not leak."""
    if not actor.is_admin and actor.id != owner_id:
        raise NotFound(kind, entity_id)


def require_may_cancel(actor: User, order: Order) -> None:
    if actor.is_admin:
        allowed = can_change(order.status, OrderStatus.CANCELLED)
    else:
        allowed = order.status in OWNER_MAY_CANCEL
    if not allowed:
        raise OrderNotCancellable(order.id, order.status.value)


def require_may_order_for(actor: User, buyer_id: int) -> None:
    if buyer_id != actor.id and not actor.is_admin:
        raise Forbidden("only admins may place orders for another user")


def require_admin_caller(actor: User | None, action: str) -> None:
    """For routes anyone may call, where some options are for admins."""
    if actor is None:
        raise AuthenticationFailed(f"log in as an admin to {action}")
    require_admin(actor, action)


def require_may_change_account_flags(actor: User) -> None:
    """is_active and is_admin: an admin's to change, never one's own as a customer."""
    require_admin(actor, "change is_active or is_admin")
