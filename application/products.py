"""Use cases for products: CRUD with unique SKUs, optimistic versions and atomic stock changes."""

from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal

from application.access import require_admin, require_may_see_inactive
from application.errors import Conflict, NotFound, PreconditionFailed, UnknownReference
from application.patch import UNSET, Unset, sent
from application.ports import Clock, DuplicateKey, Page, ProductFilter, StaleVersion, UnitOfWork, Window
from domain.catalog import Product, normalize_sku
from domain.money import money
from domain.users import User


@dataclass(frozen=True, slots=True)
class CreateProduct:
    name: str
    sku: str
    price: Decimal
    description: str | None = None
    stock_quantity: int = 0
    category_id: int | None = None


@dataclass(frozen=True, slots=True)
class ProductPatch:
    name: str | Unset = UNSET
    sku: str | Unset = UNSET
    description: str | None | Unset = UNSET
    price: Decimal | Unset = UNSET
    stock_quantity: int | Unset = UNSET
    category_id: int | None | Unset = UNSET
    is_active: bool | Unset = UNSET

    def is_empty(self) -> bool:
        return not any(sent(getattr(self, f.name)) for f in fields(self))


def create_product(cmd: CreateProduct, *, uow: UnitOfWork, actor: User, clock: Clock) -> Product:
    require_admin(actor, "create products")
    product = Product.create(
        name=cmd.name,
        sku=cmd.sku,
        price=cmd.price,
        description=cmd.description,
        stock_quantity=cmd.stock_quantity,
        category_id=cmd.category_id,
        at=clock.now(),
    )
    with uow:
        _ensure_sku_free(uow, product.sku)
        _ensure_category(uow, product.category_id)
        _store(uow, product, uow.products.add)
        uow.commit()
    return product


def list_products(
    filters: ProductFilter, window: Window, *, uow: UnitOfWork, actor: User | None
) -> Page[Product]:
    if filters.include_inactive:
        require_may_see_inactive(actor)
    with uow:
        return uow.products.list(filters, window)


def get_product(product_id: int, *, uow: UnitOfWork) -> Product:
    with uow:
        return _load(uow, product_id)


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
        if patch.is_empty():
            return product
        if sent(patch.sku) and normalize_sku(patch.sku) != product.sku:
            _ensure_sku_free(uow, normalize_sku(patch.sku))
        if sent(patch.category_id):
            _ensure_category(uow, patch.category_id)
        _apply(product, patch)
        product.touch(clock.now())
        _save(uow, product)
        uow.commit()
    return product


def delete_product(product_id: int, *, uow: UnitOfWork, actor: User, clock: Clock) -> None:
    """Soft: orders keep referring to it; it just leaves the public list."""
    require_admin(actor, "delete products")
    with uow:
        product = _load(uow, product_id, for_update=True)
        if product.is_active:
            product.deactivate()
            product.touch(clock.now())
            _save(uow, product)
            uow.commit()


def adjust_stock(
    product_id: int, delta: int, reason: str | None = None, *, uow: UnitOfWork, actor: User, clock: Clock
) -> Product:
    """Add or remove units on the row locked for update, so concurrent adjustments never lose one."""
    require_admin(actor, "adjust stock")
    with uow:
        product = _load(uow, product_id, for_update=True)
        product.adjust_stock(delta, clock.now())
        _save(uow, product)
        uow.commit()
    return product


def _apply(product: Product, patch: ProductPatch) -> None:
    if sent(patch.name):
        product.rename(patch.name)
    if sent(patch.sku):
        product.sku = normalize_sku(patch.sku)
    if sent(patch.description):
        product.description = patch.description
    if sent(patch.price):
        product.price = money(patch.price)
    if sent(patch.stock_quantity):
        product.set_stock(patch.stock_quantity)
    if sent(patch.category_id):
        product.category_id = patch.category_id
    if patch.is_active is True:
        product.activate()
    elif patch.is_active is False:
        product.deactivate()


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


def _store(uow: UnitOfWork, product: Product, write: Callable[[Product], None]) -> None:
    try:
        write(product)
    except DuplicateKey:
        raise Conflict(f"a product with SKU {product.sku} already exists") from None


def _save(uow: UnitOfWork, product: Product) -> None:
    try:
        _store(uow, product, uow.products.save)
    except StaleVersion as stale:
        raise PreconditionFailed("product", product.id, stale.current_version) from None
