"""Password hashing (pwdlib, Argon2) in a bounded thread pool, and access tokens (PyJWT, HS256)."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cached_property, lru_cache
from typing import Any, TypeVar

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from application.errors import AuthenticationFailed
from application.ports import AccessToken, Clock, TokenClaims
from domain.users import User

T = TypeVar("T")


class Argon2PasswordHasher:
    """Argon2 releases the GIL while it hashes, so the pool's threads hash in parallel with the event loop.
    The pool is bounded because each hash takes ~64 MiB and a core: a login storm queues here instead."""

    def __init__(self, threads: int = 2) -> None:
        self._hash = PasswordHash((Argon2Hasher(),))
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="password-hash")

    async def hash(self, password: str) -> str:
        return await self._offload(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        return await self._offload(self._verify, password, password_hash)

    def _verify(self, password: str, password_hash: str | None) -> bool:
        try:
            return self._hash.verify(password, password_hash or self._dummy)
        except Exception:  # a malformed stored hash is a failed login, never a 500
            return False

    @cached_property
    def _dummy(self) -> str:
        """A valid hash of nothing anyone knows, so an unknown account costs a full verification."""
        return self._hash.hash("dummy password that nobody has")

    async def _offload(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)


class JwtTokenIssuer:
    """Tokens name the service that issued them (`iss`) and the API they are for (`aud`), both checked, and
    the user's credentials version (`ver`), which the caller's identification compares with the stored one."""

    ALGORITHM = "HS256"

    def __init__(
        self,
        secret_key: str,
        lifetime: timedelta,
        clock: Clock,
        issuer: str = "shop",
        audience: str = "shop-api",
    ) -> None:
        self._secret = secret_key
        self._lifetime = lifetime
        self._clock = clock
        self._issuer = issuer
        self._audience = audience

    def issue(self, user: User) -> AccessToken:
        assert user.id is not None
        now = self._clock.now()
        claims = {
            "sub": str(user.id),
            "ver": user.credentials_version,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "exp": now + self._lifetime,
        }
        token = jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)
        return AccessToken(token, int(self._lifetime.total_seconds()))

    def read(self, token: str) -> TokenClaims:
        try:
            claims, expires = self._verified(token)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise AuthenticationFailed("the access token is invalid or expired") from None
        # Expiry is checked against our clock, not the host's, so tests can move time.
        if expires <= self._clock.now().timestamp():
            raise AuthenticationFailed("the access token has expired")
        return claims

    @lru_cache(maxsize=4096)  # noqa: B019 - one issuer per process; a token's signature never changes
    def _verified(self, token: str) -> tuple[TokenClaims, float]:
        """(claims, expiry) of a token whose signature is ours; remembered: checking costs ~60 µs."""
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=[self.ALGORITHM],
            issuer=self._issuer,
            audience=self._audience,
            options={
                "require": ["sub", "ver", "exp", "iss", "aud"],
                "verify_iat": False,
                "verify_exp": False,
            },
        )
        return TokenClaims(int(claims["sub"]), int(claims["ver"])), float(claims["exp"])
