"""The product list's statements, built once per shape of filter (which filters are set, the sort), with
the filters' values bound at execution under the names `product_list_parameters` gives them:
`category_id`, `min_price`, `max_price`, `q` (an escaped ILIKE pattern), `sku` (normalised, so the
unique index on the stored upper-case SKU serves it), `limit`, `offset`, `after_<i>`.
Building a statement and its cache key cost more CPU than PostgreSQL spends running it."""

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select, true

from adapters.sql.base import after_position, sorted_by, window_parameters
from adapters.sql.tables import counts, products
from application.lists import ProductFilter, ProductSort, Window
from application.paging import PRODUCTS
from domain.catalog import normalize_sku

# The columns of each ordering in application.paging.PRODUCTS, in its order.
PRODUCT_COLUMNS: dict[ProductSort, list[Any]] = {
    ProductSort.ID: [products.c.id],
    ProductSort.NAME: [products.c.name, products.c.id],
    ProductSort.NAME_DESC: [products.c.name, products.c.id],
    ProductSort.PRICE: [products.c.price, products.c.id],
    ProductSort.PRICE_DESC: [products.c.price, products.c.id],
    ProductSort.CREATED_AT: [products.c.created_at, products.c.id],
    ProductSort.CREATED_AT_DESC: [products.c.created_at, products.c.id],
}


def product_list_parameters(f: ProductFilter, window: Window) -> dict[str, Any]:
    """The set filters' values, under the names `product_list_statements` binds; unset ones left out."""
    values = {
        "category_id": f.category_id,
        "min_price": f.min_price,
        "max_price": f.max_price,
        # Contains, case-insensitively; the user's own % _ / match literally.
        "q": "%" + f.q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%" if f.q else None,
        "sku": normalize_sku(f.sku) if f.sku is not None else None,
    }
    return {name: v for name, v in values.items() if v is not None} | window_parameters(window)


@cache
def product_list_statements(
    names: frozenset[str], include_inactive: bool, in_stock: bool | None, low_stock: bool, sort: ProductSort
) -> tuple[Select[Any], Select[Any]]:
    """(count, page) for one shape of filter, built once per shape; the values are bound at execution."""
    conditions: list[ColumnElement[bool]] = []
    if not include_inactive:
        # `= true`, not `IS true`: PostgreSQL matches the former against the index, so counts stay index-only.
        conditions.append(products.c.is_active == true())
    if "category_id" in names:
        conditions.append(products.c.category_id == bindparam("category_id"))
    if "sku" in names:
        conditions.append(products.c.sku == bindparam("sku"))
    if "min_price" in names:
        conditions.append(products.c.price >= bindparam("min_price"))
    if "max_price" in names:
        conditions.append(products.c.price <= bindparam("max_price"))
    if in_stock is not None:
        conditions.append(products.c.stock_quantity > 0 if in_stock else products.c.stock_quantity == 0)
    if low_stock:
        # Both terms: the first lets the partial index ix_products_low_stock serve the list.
        threshold = products.c.low_stock_threshold
        conditions += [threshold.is_not(None), products.c.stock_quantity <= threshold]
    if "q" in names:
        searched = (products.c.name, products.c.description, products.c.sku)
        conditions.append(or_(*(c.ilike(bindparam("q"), escape="/") for c in searched)))
    if _counted_by_triggers(names, include_inactive, in_stock, low_stock):
        # The public list by category (or of everything): its total is kept in a table, one row to read.
        counted = counts.c.category_id == (bindparam("category_id") if "category_id" in names else 0)
        count = select(func.coalesce(select(counts.c.active_products).where(counted).scalar_subquery(), 0))
    else:
        count = select(func.count()).select_from(products).where(*conditions)
    source: Any = products
    if "q" in names:
        # The matches first (from the trigram indexes), then their order. Left to itself, the generic plan
        # of a prepared statement (psycopg prepares a statement run often) walks the whole catalog in the
        # list's order, filtering, since it cannot tell a rare term from a common one: 0.4 s a page at
        # 1,000,000 products instead of a few ms. A term matching most of the catalog costs what its count
        # costs anyway.
        source = select(products).where(*conditions).cte("found").prefix_with("MATERIALIZED")
        conditions = []
    columns = [source.c[c.name] for c in PRODUCT_COLUMNS[sort]]
    descending = PRODUCTS[sort].descending
    after = [after_position(columns, descending)] if "after_0" in names else []
    page = (
        select(source)
        .where(*conditions, *after)
        .order_by(*sorted_by(columns, descending))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, page


def _counted_by_triggers(
    names: frozenset[str], include_inactive: bool, in_stock: bool | None, low_stock: bool
) -> bool:
    """The public list by category, or of everything: its total is one row of category_product_counts."""
    plain = not include_inactive and in_stock is None and not low_stock
    return plain and not names & {"min_price", "max_price", "q", "sku"}
