"""Password hashing (pwdlib, Argon2) and access tokens (PyJWT, HS256)."""

import hashlib
import hmac
from datetime import timedelta
from functools import cached_property, lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from application.errors import AuthenticationFailed
from application.ports import AccessToken, Clock


class Argon2PasswordHasher:
    def __init__(self) -> None:
        self._hash = PasswordHash((Argon2Hasher(),))

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, password_hash: str) -> bool:
        try:
            return self._hash.verify(password, password_hash)
        except Exception:  # a malformed stored hash is a failed login, never a 500
            return False

    @cached_property
    def _dummy(self) -> str:
        return self._hash.hash("dummy password that nobody has")

    def dummy_hash(self) -> str:
        return self._dummy


class FastPasswordHasher:
    """For tests only: a salted SHA-256, so unit tests do not spend 50 ms per Argon2 hash."""

    def hash(self, password: str) -> str:
        return "sha256$" + hashlib.sha256(b"test-salt" + password.encode()).hexdigest()

    def verify(self, password: str, password_hash: str) -> bool:
        return hmac.compare_digest(self.hash(password), password_hash)

    def dummy_hash(self) -> str:
        return self.hash("dummy password that nobody has")


class JwtTokenIssuer:
    ALGORITHM = "HS256"

    def __init__(self, secret_key: str, lifetime: timedelta, clock: Clock) -> None:
        self._secret = secret_key
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, user_id: int) -> AccessToken:
        now = self._clock.now()
        claims = {"sub": str(user_id), "iat": now, "exp": now + self._lifetime}
        token = jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)
        return AccessToken(token, int(self._lifetime.total_seconds()))

    def read(self, token: str) -> int:
        try:
            user_id, expires = self._verified(token)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise AuthenticationFailed("the access token is invalid or expired") from None
        # Expiry is checked against our clock, not the host's, so tests can move time.
        if expires <= self._clock.now().timestamp():
            raise AuthenticationFailed("the access token has expired")
        return user_id

    @lru_cache(maxsize=4096)  # noqa: B019 - one issuer per process; a token's signature never changes
    def _verified(self, token: str) -> tuple[int, float]:
        """(user id, expiry) of a token whose signature is ours; remembered: checking costs ~60 µs."""
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=[self.ALGORITHM],
            options={"require": ["sub", "exp"], "verify_iat": False, "verify_exp": False},
        )
        return int(claims["sub"]), float(claims["exp"])
