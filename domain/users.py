"""Users: customers and admins, and the version of their credentials that every access token carries.
A change of an account's status (deactivated, reactivated, erased) records its domain event."""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from domain.aggregate import Aggregate
from domain.errors import AdminNotErasable, InvalidEmail
from domain.events import DomainEvent, EventType
from domain.patch import UNSET, Unset, sent

# Control, format (zero-width and bidi marks), surrogate, private-use and unassigned code points, and every
# kind of space or line break: none belongs in an e-mail address, and each can make look-alike accounts.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def normalize_email(email: str) -> str:
    """NFKC (so full-width and compatibility forms compare as what they look like), trimmed, lower-case;
    raise InvalidEmail for invisible or control characters."""
    normalized = unicodedata.normalize("NFKC", email.strip()).lower()
    if any(unicodedata.category(char) in _INVISIBLE for char in normalized):
        raise InvalidEmail("an e-mail address may not contain spaces, control or invisible characters")
    return normalized


ERASED_NAME = "Erased user"
# Not the output of any hasher: verifying any password against it fails (adapters.security).
UNUSABLE_PASSWORD = "!erased"


def erased_email(user_id: int) -> str:
    """Unique per account, valid in form, and undeliverable: .invalid is reserved (RFC 2606)."""
    return f"erased-{user_id}@erased.invalid"


@dataclass(eq=False, slots=True)
class User(Aggregate):
    email: str
    name: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    is_active: bool = True
    is_admin: bool = False
    # Every access token names the version it was issued at; bumping it revokes all earlier tokens.
    credentials_version: int = 1
    id: int | None = None
    last_login_at: datetime | None = None  # None: never logged in (since the column exists)
    domain_events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def create(
        cls, *, email: str, name: str, password_hash: str, at: datetime, is_admin: bool = False
    ) -> "User":
        """A new account: the e-mail is normalized (and refused if invalid) here, not when a stored user is
        loaded, so a row stored under older rules still loads."""
        return cls(
            email=normalize_email(email),
            name=name,
            password_hash=password_hash,
            created_at=at,
            updated_at=at,
            is_admin=is_admin,
        )

    def update(
        self,
        *,
        at: datetime,
        email: str | Unset = UNSET,
        name: str | Unset = UNSET,
        is_admin: bool | Unset = UNSET,
        is_active: bool | Unset = UNSET,
        password_hash: str | None = None,
        actor_id: int | None = None,
    ) -> None:
        """A change of the account (who may make which is the use cases' to check): a new password or a
        deactivation revokes every earlier token. The e-mail is normalized (and refused if invalid) before
        anything changes. A change of status records its event (see `deactivate`, `reactivate`)."""
        normalized = normalize_email(email) if sent(email) else self.email
        self.updated_at = at
        self.email = normalized
        if sent(name):
            self.name = name
        if sent(is_admin):
            self.is_admin = is_admin
        if is_active is True:
            self.reactivate(at, actor_id)
        elif is_active is False:
            self.deactivate(at, actor_id)
        if password_hash is not None:
            self.change_password(password_hash, at)

    def change_password(self, password_hash: str, at: datetime) -> None:
        self.password_hash = password_hash
        self.revoke_tokens(at)

    def revoke_tokens(self, at: datetime) -> None:
        """Every token issued until now stops working (log-out, password change, deactivation)."""
        self.credentials_version += 1
        self.updated_at = at

    def deactivate(self, at: datetime, actor_id: int | None = None) -> bool:
        """Revokes its tokens and records `user.deactivated`; False, changing nothing, if it was inactive.
        Reactivating later does not revive the tokens issued before."""
        if not self.is_active:
            return False
        self.is_active = False
        self.revoke_tokens(at)
        self._record(EventType.USER_DEACTIVATED, at, actor_id)
        return True

    def reactivate(self, at: datetime, actor_id: int | None = None) -> bool:
        """Records `user.reactivated`; False, changing nothing, if it was active."""
        if self.is_active:
            return False
        self.is_active = True
        self.updated_at = at
        self._record(EventType.USER_REACTIVATED, at, actor_id)
        return True

    def record_login(self, at: datetime) -> None:
        """A successful log-in; not a change of the account (updated_at stays)."""
        self.last_login_at = at

    @property
    def is_erased(self) -> bool:
        return self.id is not None and self.email == erased_email(self.id)

    def erase(self, at: datetime, actor_id: int | None = None) -> bool:
        """Anonymise the account (GDPR erasure) and keep the row, which the user's orders refer to: the
        e-mail becomes a placeholder no mail can reach, the name a fixed one, the password unusable; it is
        deactivated and its tokens revoked, and `user.erased` recorded (only that one, active or not
        before). Admins are refused. False when it was erased already (nothing changes: erasing is
        idempotent)."""
        assert self.id is not None, "only a stored account is erased"
        if self.is_admin:
            raise AdminNotErasable(self.id)
        if self.is_erased:
            return False
        self.email = erased_email(self.id)
        self.name = ERASED_NAME
        self.password_hash = UNUSABLE_PASSWORD
        self.is_active = False
        self.last_login_at = None
        self.revoke_tokens(at)
        self._record(EventType.USER_ERASED, at, actor_id)
        return True

    def accepts_token_version(self, version: int) -> bool:
        return self.is_active and version == self.credentials_version

    def _record(self, event: EventType, at: datetime, actor_id: int | None) -> None:
        self.domain_events.append(DomainEvent(event, self, at, actor_id))
