"""Users: customers and admins."""

from dataclasses import dataclass
from datetime import datetime

from domain.entity import Entity


def normalize_email(email: str) -> str:
    """Emails are compared and stored lower-case, without surrounding blanks."""
    return email.strip().lower()


@dataclass(eq=False, slots=True)
class User(Entity):
    email: str
    name: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    is_active: bool = True
    is_admin: bool = False
    id: int | None = None

    def __post_init__(self) -> None:
        self.email = normalize_email(self.email)

    def change_email(self, email: str) -> None:
        self.email = normalize_email(email)

    def deactivate(self, at: datetime) -> None:
        self.is_active = False
        self.updated_at = at
