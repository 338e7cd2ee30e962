"""How the API's caller runs the bound use cases: anonymous work never looks at the caller, work as a user
gets the user the token names (checked in the same unit of work), work for anyone gets None when anonymous."""

import asyncio
from datetime import timedelta

import pytest

from adapters.security import JwtTokenIssuer
from application.errors import AuthenticationFailed
from application.lists import OrderFilter, ProductFilter, Window
from application.ports import NO_COUNTERS, TokenClaims
from application.throttling import NO_LIMITS
from application.webhooks import DeliveryOptions
from entrypoints.api.dependencies import Caller, SignedInCaller
from entrypoints.api.event_schemas import render_event
from entrypoints.use_cases import Flows, UseCases
from tests.doubles.sender import RecordingSender

NOBODY = TokenClaims(user_id=404, credentials_version=1)  # no such user: reading them would fail


@pytest.fixture
def wiring(world, clock, hasher):
    cases = UseCases(clock, NO_COUNTERS, RecordingSender(), render_event, DeliveryOptions())
    tokens = JwtTokenIssuer(secret_key="k" * 40, lifetime=timedelta(minutes=5), clock=clock)
    return world.run, cases, Flows(world.run, clock, hasher, tokens, NO_LIMITS, NO_COUNTERS)


def test_anonymous_work_runs_without_reading_the_caller(world, wiring) -> None:
    product_id = world.product().id
    caller = Caller(NOBODY, *wiring)
    assert asyncio.run(caller.anonymous(caller.cases.get_product, product_id)).id == product_id
    with pytest.raises(AuthenticationFailed):  # the same claims, read, are refused
        asyncio.run(caller.as_anyone(caller.cases.list_products, ProductFilter(), Window(10)))


def test_work_as_a_user_gets_the_user_the_token_names(world, wiring) -> None:
    ann = world.customer()
    caller = SignedInCaller(TokenClaims(ann.id, ann.credentials_version), *wiring)
    me = asyncio.run(caller.as_user(caller.cases.current_user))
    assert (me.id, me.email) == (ann.id, "ann@shop.test")


def test_work_for_anyone_shows_admins_more_and_anonymous_callers_less(world, wiring) -> None:
    world.product()
    hidden = world.product(sku="SKU-2").id
    admin_token = SignedInCaller(TokenClaims(world.admin.id, world.admin.credentials_version), *wiring)
    asyncio.run(admin_token.as_user(admin_token.cases.delete_product, hidden))
    everything = ProductFilter(include_inactive=True)
    admin = Caller(admin_token.claims, *wiring)
    assert asyncio.run(admin.as_anyone(admin.cases.list_products, everything, Window(10))).total == 2
    anonymous = Caller(None, *wiring)
    with pytest.raises(AuthenticationFailed):  # inactive products are for admins: the caller is None here
        asyncio.run(anonymous.as_anyone(anonymous.cases.list_products, everything, Window(10)))


class Counting:
    """A runner that counts the units of work it runs and hands them to the real one."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.runs = inner, 0

    async def run(self, work, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.runs += 1
        return await self.inner.run(work, *args, **kwargs)


def test_the_use_cases_marked_replica_read_run_on_the_reads_runner_and_no_other(world, wiring) -> None:
    product_id = world.product().id
    ann = world.customer()
    runner, cases, flows = wiring
    primary, reads = Counting(runner), Counting(runner)
    caller = SignedInCaller(TokenClaims(ann.id, ann.credentials_version), primary, cases, flows, reads)
    asyncio.run(caller.anonymous(caller.cases.get_product, product_id))
    asyncio.run(caller.as_anyone(caller.cases.list_products, ProductFilter(), Window(10)))
    asyncio.run(caller.as_user(caller.cases.list_orders, OrderFilter(), Window(10)))
    assert (reads.runs, primary.runs) == (3, 0)
    asyncio.run(caller.as_user(caller.cases.current_user))  # not marked: the primary
    asyncio.run(caller.as_user(caller.cases.log_out))  # a write: the primary
    assert (reads.runs, primary.runs) == (3, 2)
    without = Caller(None, primary, cases, flows)  # no replicas configured: everything on the runner
    asyncio.run(without.anonymous(without.cases.get_product, product_id))
    assert (reads.runs, primary.runs) == (3, 3)
