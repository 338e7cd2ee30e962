"""Fair admission to the connection pool: requests take a connection in the order they asked for one."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from adapters.metrics import waiting_at_gate
from application.errors import ServiceUnavailable


class FairGate:
    """At most `size` runs hold a pooled connection at once; the others wait here, first come first served.

    SQLAlchemy's async pool hands a returned connection to whichever task asks next, not to the one that
    has waited longest, so under load a request can be overtaken again and again (docs/architecture.md: "One
    unit of work per request"). Waiting here instead, the pool never has waiters. `size=None` (SQLite, where
    connections are not pooled) admits everyone."""

    def __init__(self, size: int | None, timeout: float) -> None:
        self._size = size
        self._timeout = timeout
        # asyncio primitives belong to one event loop; tests run several loops in one process.
        self._semaphores: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        if self._size is None:
            yield
            return
        semaphore = self._semaphore(self._size)
        try:
            if semaphore.locked():  # measured only when there is a wait: a free place costs nothing extra
                with waiting_at_gate():
                    async with asyncio.timeout(self._timeout):
                        await semaphore.acquire()
            else:
                await semaphore.acquire()
        except TimeoutError:
            raise ServiceUnavailable("the database is busy; nothing was changed, retry") from None
        try:
            yield
        finally:
            semaphore.release()

    def _semaphore(self, size: int) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:  # FIFO: a freed place goes to the longest waiter, not to a newcomer
            semaphore = self._semaphores[loop] = asyncio.Semaphore(size)
        return semaphore
