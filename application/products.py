"""Use cases for products: CRUD with unique SKUs, optimistic versions and atomic stock changes."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from application.access import require_admin, require_admin_caller
from application.errors import Conflict, NotFound, PreconditionFailed, UnknownReference
from application.lists import MovementFilter, Page, ProductFilter, Window
from application.patch import UNSET, Unset, sent
from application.ports import Clock, DuplicateKey, StaleVersion, UnitOfWork
from domain.catalog import Category, Product, normalize_sku
from domain.stock import StockDrift, StockMovement
from domain.users import User


@dataclass(frozen=True, slots=True)
class CreateProduct:
    name: str
    sku: str
    price: Decimal
    description: str | None = None
    stock_quantity: int = 0
    category_id: int | None = None
    low_stock_threshold: int | None = None


class Expand(StrEnum):
    """What a product answer may embed beside the product (`expand=`)."""

    CATEGORY = "category"


@dataclass(frozen=True, slots=True)
class Embedded:
    """What `expand` asked for: the products' categories by id (None when not asked)."""

    categories: dict[int, Category] | None = None


@dataclass(frozen=True, slots=True)
class ProductPatch:
    name: str | Unset = UNSET
    sku: str | Unset = UNSET
    description: str | None | Unset = UNSET
    price: Decimal | Unset = UNSET
    stock_quantity: int | Unset = UNSET
    stock_reason: str | Unset = UNSET  # why the stock is corrected: required with stock_quantity
    category_id: int | None | Unset = UNSET
    low_stock_threshold: int | None | Unset = UNSET
    is_active: bool | Unset = UNSET


def create_product(cmd: CreateProduct, *, uow: UnitOfWork, actor: User, clock: Clock) -> Product:
    require_admin(actor, "create products")
    product = Product.create(
        name=cmd.name,
        sku=cmd.sku,
        price=cmd.price,
        description=cmd.description,
        stock_quantity=cmd.stock_quantity,
        category_id=cmd.category_id,
        low_stock_threshold=cmd.low_stock_threshold,
        actor_id=actor.id,
        at=clock.now(),
    )
    with uow:
        _ensure_sku_free(uow, product.sku)
        _ensure_category(uow, product.category_id)
        _store(product, uow.products.add)
        uow.commit()
    return product


def list_products(
    filters: ProductFilter, window: Window, *, uow: UnitOfWork, actor: User | None
) -> Page[Product]:
    _check_list_access(filters, actor)
    with uow:
        return uow.products.list(filters, window)


def list_products_expanded(
    filters: ProductFilter, window: Window, expand: frozenset[Expand], *, uow: UnitOfWork, actor: User | None
) -> tuple[Page[Product], Embedded]:
    """The list, with what `expand` asks for: one more read per page at most."""
    _check_list_access(filters, actor)
    with uow:
        page = uow.products.list(filters, window)
        return page, _embed(uow, page.items, expand)


def get_product(product_id: int, *, uow: UnitOfWork) -> Product:
    with uow:
        return _load(uow, product_id)


def get_product_expanded(
    product_id: int, expand: frozenset[Expand], *, uow: UnitOfWork
) -> tuple[Product, Embedded]:
    with uow:
        product = _load(uow, product_id)
        return product, _embed(uow, [product], expand)


def _check_list_access(filters: ProductFilter, actor: User | None) -> None:
    if filters.include_inactive:
        require_admin_caller(actor, "list inactive products")
    if filters.low_stock:
        require_admin_caller(actor, "list products low on stock")


def _embed(uow: UnitOfWork, items: list[Product], expand: frozenset[Expand]) -> Embedded:
    if Expand.CATEGORY not in expand:
        return Embedded()
    wanted = sorted({p.category_id for p in items if p.category_id is not None})
    return Embedded(categories=uow.categories.get_many(wanted) if wanted else {})


def update_product(
    product_id: int,
    patch: ProductPatch,
    expected_version: int | None = None,
    *,
    uow: UnitOfWork,
    actor: User,
    clock: Clock,
) -> Product:
    require_admin(actor, "change products")
    with uow:
        product = _load(uow, product_id, for_update=True)
        _check_version(product, expected_version)
        if sent(patch.sku) and normalize_sku(patch.sku) != product.sku:
            _ensure_sku_free(uow, normalize_sku(patch.sku))
        if sent(patch.category_id):
            _ensure_category(uow, patch.category_id)
        changed = product.update(
            at=clock.now(),
            actor_id=actor.id,
            name=patch.name,
            sku=patch.sku,
            description=patch.description,
            price=patch.price,
            stock_quantity=patch.stock_quantity,
            stock_reason=patch.stock_reason,
            category_id=patch.category_id,
            low_stock_threshold=patch.low_stock_threshold,
            is_active=patch.is_active,
        )
        if changed:  # an empty patch changes nothing, not even the version
            _save(uow, product)
            uow.commit()
    return product


def delete_product(product_id: int, *, uow: UnitOfWork, actor: User, clock: Clock) -> None:
    """Soft: orders keep referring to it; it just leaves the public list."""
    require_admin(actor, "delete products")
    with uow:
        product = _load(uow, product_id, for_update=True)
        if product.withdraw(at=clock.now(), actor_id=actor.id):
            _save(uow, product)
            uow.commit()


def adjust_stock(
    product_id: int, delta: int, reason: str | None, *, uow: UnitOfWork, actor: User, clock: Clock
) -> Product:
    """Add or remove units on the row locked for update, so concurrent adjustments never lose one."""
    require_admin(actor, "adjust stock")
    with uow:
        product = _load(uow, product_id, for_update=True)
        product.adjust_stock(delta, at=clock.now(), actor_id=actor.id, reason=reason)
        _save(uow, product)
        uow.commit()
    return product


def stock_movements(
    product_id: int, filters: MovementFilter, window: Window, *, uow: UnitOfWork, actor: User
) -> Page[StockMovement]:
    require_admin(actor, "read stock movements")
    with uow:
        _load(uow, product_id)
        return uow.products.movements(product_id, filters, window)


def check_stock(*, uow: UnitOfWork) -> list[StockDrift]:
    """Products whose stock, ledger and orders disagree (none, while every change goes through here)."""
    with uow:
        return uow.products.stock_drift()


def _check_version(product: Product, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != product.version:
        raise PreconditionFailed("product", product.id, product.version)


def _load(uow: UnitOfWork, product_id: int, *, for_update: bool = False) -> Product:
    product = uow.products.get(product_id, for_update=for_update)
    if product is None:
        raise NotFound("product", product_id)
    return product


def _ensure_category(uow: UnitOfWork, category_id: int | None) -> None:
    if category_id is not None and uow.categories.get(category_id) is None:
        raise UnknownReference("category", category_id)


def _ensure_sku_free(uow: UnitOfWork, sku: str) -> None:
    if uow.products.get_by_sku(sku) is not None:
        raise Conflict(f"a product with SKU {sku} already exists")


def _store(product: Product, write: Callable[[Product], None]) -> None:
    try:
        write(product)
    except DuplicateKey:
        raise Conflict(f"a product with SKU {product.sku} already exists") from None


def _save(uow: UnitOfWork, product: Product) -> None:
    try:
        _store(product, uow.products.save)
    except StaleVersion as stale:
        raise PreconditionFailed("product", product.id, stale.current_version) from None
