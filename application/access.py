"""Who may do what: customers act on their own records, admins on all."""

from application.errors import Forbidden, NotFound
from domain.users import User


def require_admin(actor: User, action: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {action}")


def require_self_or_admin(actor: User, owner_id: int, kind: str, entity_id: int) -> None:
    """Another customer's record is reported as missing, so its existence does not leak."""
    if not actor.is_admin and actor.id != owner_id:
        raise NotFound(kind, entity_id)
