"""Rows put in through the repository ports, for the contract suites."""

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from domain.catalog import Category, Product
from domain.orders import Order
from domain.users import User
from tests.contract.conftest import MakeUow

_numbers = itertools.count(1)
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def add_user(make_uow: MakeUow, email: str = "ann@shop.test", **kw) -> User:
    user = replace(User.create(email=email, name="Ann", password_hash="hash", at=T0), **kw)
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
    return user


def add_category(make_uow: MakeUow, name: str, parent_id: int | None = None) -> Category:
    category = Category.create(name=name, description="d", parent_id=parent_id, at=T0)
    with make_uow() as uow:
        uow.categories.add(category)
        uow.commit()
    return category


def add_product(make_uow: MakeUow, sku: str, price: str = "9.99", stock: int = 10, **kw) -> Product:
    at, is_active = kw.pop("at", T0), kw.pop("is_active", True)
    product = Product.create(
        name=kw.pop("name", f"Item {sku}"), sku=sku, price=Decimal(price), stock_quantity=stock, at=at, **kw
    )
    product.is_active = is_active
    with make_uow() as uow:
        uow.products.add(product)
        uow.commit()
    return product


def add_order(make_uow: MakeUow, buyer: User, *lines: tuple[Product, int], at: datetime = T0) -> Order:
    order = Order.place(
        number=f"ORD-20261122-{next(_numbers):06d}X",
        buyer=buyer,
        items=list(lines),
        actor_id=buyer.id,
        at=at,
    )
    with make_uow() as uow:
        uow.orders.add(order)
        uow.commit()
    return order


def stock_of(make_uow: MakeUow, product: Product) -> int:
    with make_uow() as uow:
        return uow.products.get(product.id).stock_quantity
