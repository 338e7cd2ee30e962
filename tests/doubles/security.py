"""A password hasher for tests: a salted SHA-256, so a test does not spend ~100 ms per Argon2 hash."""

import hashlib
import hmac


class FastPasswordHasher:
    async def hash(self, password: str) -> str:
        return self._digest(password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        return hmac.compare_digest(self._digest(password), password_hash or "")

    @staticmethod
    def _digest(password: str) -> str:
        return "sha256$" + hashlib.sha256(b"test-salt" + password.encode()).hexdigest()
