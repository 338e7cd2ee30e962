"""The stock ledger: every change of a product's stock is a movement that says how much, to what, why and
by whom. Products decide their movements (domain.catalog); repositories only store them."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidStockChange

MAX_REASON = 200


class MovementKind(StrEnum):
    INITIAL = "initial"  # the stock a product was created with
    ORDER = "order"  # taken by an order
    CANCELLATION = "cancellation"  # given back by a cancelled order
    EXPIRY = "expiry"  # given back by a pending order that expired
    ADJUSTMENT = "adjustment"  # an admin's delta (POST /products/{id}/stock)
    CORRECTION = "correction"  # an admin's new figure (PATCH stock_quantity)
    RETURN = "return"  # units an accepted return put back on the shelf (it names the order)


# Kinds that an admin causes by hand: they must say why.
NEEDS_REASON = frozenset({MovementKind.ADJUSTMENT, MovementKind.CORRECTION})
# Kinds that belong to an order: they name it.
OF_ORDERS = frozenset(
    {MovementKind.ORDER, MovementKind.CANCELLATION, MovementKind.EXPIRY, MovementKind.RETURN}
)


def check_reason(kind: MovementKind, reason: str | None) -> None:
    if kind in NEEDS_REASON and not (reason or "").strip():
        raise InvalidStockChange(f"a stock {kind.value} needs a reason")
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidStockChange(f"a reason has at most {MAX_REASON} characters")


@dataclass(frozen=True, slots=True)
class StockMovement:
    """`delta` units into (positive) or out of (negative) a product, leaving `quantity` in stock."""

    product_id: int
    delta: int
    quantity: int
    kind: MovementKind
    created_at: datetime
    actor_id: int | None = None
    reason: str | None = None
    order_id: int | None = None
    id: int | None = None
    return_id: int | None = None  # the accepted return whose units came back (kind `return`)

    def __post_init__(self) -> None:
        check_reason(self.kind, self.reason)


@dataclass(frozen=True, slots=True)
class StockDrift:
    """A product whose stock disagrees with its ledger (`ledger`: the sum of its movements), or whose
    ledger disagrees with its orders (`ordered`: units its order movements keep out; `live`: units in its
    orders that are not cancelled, less those accepted returns put back on the shelf)."""

    product_id: int
    sku: str
    stock: int
    ledger: int
    ordered: int
    live: int
