"""Who may act on what at all: customers on their own records, admins on all. What an order lets its
owner or an admin do to it (cancel, from which status) is the order's to say (domain.orders)."""

from application.errors import AuthenticationFailed, Forbidden, NotFound
from domain.users import User


def require_admin(actor: User, action: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {action}")


def require_self_or_admin(actor: User, owner_id: int, kind: str, entity_id: int) -> None:
    """Another customer's record is reported as missing, so its existence does not leak."""
    if not actor.is_admin and actor.id != owner_id:
        raise NotFound(kind, entity_id)


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
