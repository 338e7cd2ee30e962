"""The pool's fair gate: first come, first served, and a clear error when the wait is too long."""

import asyncio

import pytest

from adapters.sql.gate import FairGate
from application.errors import ServiceUnavailable


def test_waiters_are_admitted_in_arrival_order_and_cannot_be_overtaken() -> None:
    async def scenario() -> list[str]:
        gate, admitted = FairGate(1, timeout=5), []
        release = asyncio.Event()

        async def holder() -> None:
            async with gate.admitted():
                admitted.append("holder")
                await release.wait()
            # Asks again in the same instant its place frees up: it must queue behind the waiters.
            async with gate.admitted():
                admitted.append("holder again")

        async def request(name: str) -> None:
            async with gate.admitted():
                admitted.append(name)

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(request(f"w{i}")) for i in range(3)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *waiting)
        return admitted

    assert asyncio.run(scenario()) == ["holder", "w0", "w1", "w2", "holder again"]


def test_a_wait_longer_than_the_timeout_is_service_unavailable() -> None:
    async def scenario() -> None:
        gate = FairGate(1, timeout=0.05)
        async with gate.admitted():
            with pytest.raises(ServiceUnavailable, match="busy"):
                async with gate.admitted():
                    pass
        async with gate.admitted():  # the place was given back
            pass

    asyncio.run(scenario())


def test_without_a_size_everyone_is_admitted_at_once() -> None:
    async def scenario() -> int:
        gate, inside, most = FairGate(None, timeout=0.01), 0, 0

        async def request() -> None:
            nonlocal inside, most
            async with gate.admitted():
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(0)
                inside -= 1

        await asyncio.gather(*(request() for _ in range(10)))
        return most

    assert asyncio.run(scenario()) == 10
