"""An order's representation built once per request: the payload of the event its change raised and the
answer of the route are the same document (`OrderRead`), so a route that keeps what is presented while its
use case runs answers with the representation the outbox got, serialised straight to JSON bytes, instead of
building the order's `OrderRead` again and having FastAPI validate and serialise it a second time.

The presenter (`event_schemas.present`) runs inside the Unit of Work (on the SQL runner, in SQLAlchemy's
greenlet, which runs in the request task's context), so what it presents reaches the route through a context
variable the route sets. An order is reused only if it is the very object the use case returned, at the
version it was presented at; otherwise (an idempotent repeat raises no event) it is built as before."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import TypeAdapter

from domain.orders import Order
from entrypoints.api.schemas import OrderRead

# id(order) -> (the order, its version when presented, its representation)
Kept = dict[int, tuple[Order, int, OrderRead]]
_KEPT: ContextVar[Kept | None] = ContextVar("presented_orders", default=None)
# As FastAPI serialises a route's `response_model=OrderRead` (its JSON fast path): the same bytes.
_AS_JSON = TypeAdapter(OrderRead)


def keep(order: Order, read: OrderRead) -> None:
    """Called by the presenter: remember the representation if a route is keeping them."""
    kept = _KEPT.get()
    if kept is not None:
        kept[id(order)] = (order, order.version, read)


class Presented:
    def __init__(self, kept: Kept) -> None:
        self._kept = kept

    def json(self, order: Order) -> bytes:
        """The order as the route answers it: the representation presented for its event when there is one
        for this object at this version, else built now."""
        found = self._kept.get(id(order))
        if found is not None and found[0] is order and found[1] == order.version:
            read = found[2]
        else:
            read = OrderRead.of(order)
        return _AS_JSON.dump_json(read, by_alias=True)


@contextmanager
def keeping() -> Iterator[Presented]:
    """Keep the orders presented while the block runs (the route's use case), for its answer."""
    kept: Kept = {}
    token = _KEPT.set(kept)
    try:
        yield Presented(kept)
    finally:
        _KEPT.reset(token)
