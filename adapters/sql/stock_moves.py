"""Stock moves as one statement for all of an order's products (a CASE per product), built once per number
of products. Parameters: `id<i>` and `delta<i>` for product i (i from 0). The WHERE keeps every result at
or above zero: the database's safety net behind the products' own check on rows locked for update."""

from functools import cache

from sqlalchemy import Integer, Update, bindparam, case, update

from adapters.sql.tables import products


@cache
def move_stock_statement(count: int) -> Update:
    ids = [bindparam(f"id{i}", type_=Integer) for i in range(count)]
    delta = case(*((products.c.id == ids[i], bindparam(f"delta{i}", type_=Integer)) for i in range(count)))
    return (
        update(products)
        .where(products.c.id.in_(ids), products.c.stock_quantity + delta >= 0)
        .values(stock_quantity=products.c.stock_quantity + delta, version=products.c.version + 1)
    )
