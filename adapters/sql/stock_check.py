"""Reconciliation (`shop check-stock`): every product's stock against the sum of its ledger, and the units
its order movements (returns' included) keep out against the units in its orders that are not cancelled,
less those accepted returns put back on the shelf. A full scan, meant for a nightly job or after an
incident, not for a request."""

from sqlalchemy import case, func, select

from adapters.sql.tables import order_lines, orders, products, return_lines, returns, stock_movements
from domain.orders import OrderStatus
from domain.returns import ReturnState
from domain.stock import OF_ORDERS

_ledger = (
    select(
        stock_movements.c.product_id,
        func.sum(stock_movements.c.delta).label("ledger"),
        (
            -func.sum(
                case(
                    (stock_movements.c.kind.in_([k.value for k in OF_ORDERS]), stock_movements.c.delta),
                    else_=0,
                )
            )
        ).label("ordered"),
    )
    .group_by(stock_movements.c.product_id)
    .subquery("ledger")
)
_live = (
    select(order_lines.c.product_id, func.sum(order_lines.c.quantity).label("live"))
    .join(orders, orders.c.id == order_lines.c.order_id)
    .where(orders.c.status != OrderStatus.CANCELLED.value)
    .group_by(order_lines.c.product_id)
    .subquery("live")
)
# Units accepted returns put back on the shelf (lines with restock).
_restocked = (
    select(return_lines.c.product_id, func.sum(return_lines.c.quantity).label("restocked"))
    .join(returns, returns.c.id == return_lines.c.return_id)
    .where(returns.c.status == ReturnState.ACCEPTED.value, return_lines.c.restock)
    .group_by(return_lines.c.product_id)
    .subquery("restocked")
)
_ledger_total = func.coalesce(_ledger.c.ledger, 0)
_ordered = func.coalesce(_ledger.c.ordered, 0)
_live_units = func.coalesce(_live.c.live, 0) - func.coalesce(_restocked.c.restocked, 0)

# (product id, sku, stock, ledger, ordered, live) of every product that drifted, by id.
STOCK_DRIFT = (
    select(products.c.id, products.c.sku, products.c.stock_quantity, _ledger_total, _ordered, _live_units)
    .outerjoin(_ledger, _ledger.c.product_id == products.c.id)
    .outerjoin(_live, _live.c.product_id == products.c.id)
    .outerjoin(_restocked, _restocked.c.product_id == products.c.id)
    .where((products.c.stock_quantity != _ledger_total) | (_ordered != _live_units))
    .order_by(products.c.id)
)
