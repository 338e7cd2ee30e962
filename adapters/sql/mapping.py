"""Rows <-> entities, in one place. Rows never leave the adapter."""

from datetime import UTC, datetime
from typing import Any

from application.ports import IdempotencyRecord
from domain.catalog import Category, Product
from domain.money import money
from domain.orders import Order, OrderLine, OrderStatus, StatusEvent
from domain.users import User


def utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def user_from_row(r: Any) -> User:
    return User(
        id=r.id,
        email=r.email,
        name=r.name,
        password_hash=r.password_hash,
        is_active=r.is_active,
        is_admin=r.is_admin,
        created_at=utc(r.created_at),
        updated_at=utc(r.updated_at),
    )


def user_values(u: User) -> dict[str, Any]:
    return {
        "email": u.email,
        "name": u.name,
        "password_hash": u.password_hash,
        "is_active": u.is_active,
        "is_admin": u.is_admin,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    }


def category_from_row(r: Any) -> Category:
    return Category(
        id=r.id,
        name=r.name,
        slug=r.slug,
        description=r.description,
        parent_id=r.parent_id,
        created_at=utc(r.created_at),
        updated_at=utc(r.updated_at),
    )


def category_values(c: Category) -> dict[str, Any]:
    return {
        "name": c.name,
        "slug": c.slug,
        "description": c.description,
        "parent_id": c.parent_id,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def product_from_row(r: Any) -> Product:
    return Product(
        id=r.id,
        name=r.name,
        slug=r.slug,
        sku=r.sku,
        description=r.description,
        price=money(r.price),
        stock_quantity=r.stock_quantity,
        is_active=r.is_active,
        category_id=r.category_id,
        version=r.version,
        created_at=utc(r.created_at),
        updated_at=utc(r.updated_at),
    )


def product_values(p: Product) -> dict[str, Any]:
    return {
        "name": p.name,
        "slug": p.slug,
        "sku": p.sku,
        "description": p.description,
        "price": p.price,
        "stock_quantity": p.stock_quantity,
        "is_active": p.is_active,
        "category_id": p.category_id,
        "version": p.version,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def line_from_row(r: Any) -> OrderLine:
    return OrderLine(
        id=r.id,
        product_id=r.product_id,
        product_name=r.product_name,
        quantity=r.quantity,
        unit_price=money(r.unit_price),
        line_total=money(r.line_total),
    )


def line_values(order_id: int, line: OrderLine) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "product_id": line.product_id,
        "product_name": line.product_name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "line_total": line.line_total,
    }


def order_from_row(r: Any, lines: list[OrderLine]) -> Order:
    return Order(
        id=r.id,
        order_number=r.order_number,
        user_id=r.user_id,
        status=OrderStatus(r.status),
        total_amount=money(r.total_amount),
        version=r.version,
        created_at=utc(r.created_at),
        updated_at=utc(r.updated_at),
        lines=lines,
    )


def order_values(o: Order) -> dict[str, Any]:
    return {
        "order_number": o.order_number,
        "user_id": o.user_id,
        "status": o.status.value,
        "total_amount": o.total_amount,
        "version": o.version,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    }


def event_from_row(r: Any) -> StatusEvent:
    return StatusEvent(
        id=r.id,
        from_status=OrderStatus(r.from_status) if r.from_status else None,
        to_status=OrderStatus(r.to_status),
        at=utc(r.at),
        actor_id=r.actor_id,
    )


def event_values(order_id: int, e: StatusEvent) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "from_status": e.from_status.value if e.from_status else None,
        "to_status": e.to_status.value,
        "at": e.at,
        "actor_id": e.actor_id,
    }


def idempotency_from_row(r: Any) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=r.user_id,
        key=r.key,
        fingerprint=r.fingerprint,
        created_at=utc(r.created_at),
        order_id=r.order_id,
    )
