"""Use cases for products: CRUD with unique SKUs, optimistic versions and atomic stock changes."""

from dataclasses import dataclass
from decimal import Decimal

from application.access import require_admin
from application.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    UnknownReference,
)
from application.patch import UNSET, changes
from application.ports import Clock, DuplicateKey, Page, ProductFilter, StaleVersion, UnitOfWork
from domain.catalog import Product, normalize_sku
from domain.errors import InvalidStockChange
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
    name: object = UNSET
    sku: object = UNSET
    description: object = UNSET
    price: object = UNSET
    stock_quantity: object = UNSET
    category_id: object = UNSET
    is_active: object = UNSET


def create_product(uow: UnitOfWork, clock: Clock, actor: User, cmd: CreateProduct) -> Product:
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
    uow: UnitOfWork, actor: User | None, filters: ProductFilter, limit: int, offset: int
) -> Page[Product]:
    if filters.include_inactive and actor is None:
        raise AuthenticationFailed("log in as an admin to list inactive products")
    if filters.include_inactive and not actor.is_admin:
        raise Forbidden("only admins may list inactive products")
    with uow:
        return uow.products.list(filters, limit, offset)


def get_product(uow: UnitOfWork, product_id: int) -> Product:
    with uow:
        return _load(uow, product_id)


def update_product(
    uow: UnitOfWork,
    clock: Clock,
    actor: User,
    product_id: int,
    patch: ProductPatch,
    expected_version: int | None = None,
) -> Product:
    require_admin(actor, "change products")
    sent = changes(patch)
    with uow:
        product = _load(uow, product_id, for_update=True)
        _check_version(product, expected_version)
        if not sent:
            return product
        if "sku" in sent and normalize_sku(str(sent["sku"])) != product.sku:
            _ensure_sku_free(uow, normalize_sku(str(sent["sku"])))
        if "category_id" in sent:
            _ensure_category(uow, sent["category_id"])  # type: ignore[arg-type]
        _apply(product, sent)
        product.touch(clock.now())
        _save(uow, product)
        uow.commit()
    return product


def delete_product(uow: UnitOfWork, clock: Clock, actor: User, product_id: int) -> None:
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
    uow: UnitOfWork, clock: Clock, actor: User, product_id: int, delta: int, reason: str | None = None
) -> Product:
    """Add or remove units atomically in the database, so concurrent adjustments never lose one."""
    require_admin(actor, "adjust stock")
    if delta == 0:
        raise InvalidStockChange("a stock adjustment must not be zero")
    with uow:
        _load(uow, product_id)
        product = uow.products.adjust_stock(product_id, delta, clock.now())
        uow.commit()
    return product


def _apply(product: Product, sent: dict[str, object]) -> None:
    for name, value in sent.items():
        if name == "name":
            product.rename(str(value))
        elif name == "sku":
            product.sku = normalize_sku(str(value))
        elif name == "price":
            product.price = money(value)  # type: ignore[arg-type]
        elif name == "stock_quantity":
            product.set_stock(int(value))  # type: ignore[call-overload]
        else:
            setattr(product, name, value)


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


def _store(uow: UnitOfWork, product: Product, write) -> None:  # type: ignore[no-untyped-def]
    try:
        write(product)
    except DuplicateKey:
        raise Conflict(f"a product with SKU {product.sku} already exists") from None


def _save(uow: UnitOfWork, product: Product) -> None:
    try:
        _store(uow, product, uow.products.save)
    except StaleVersion as stale:
        raise PreconditionFailed("product", product.id, stale.current_version) from None
