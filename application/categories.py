"""Use cases for categories: a tree of uniquely named groups of products."""

from collections.abc import Callable
from dataclasses import dataclass, field

from application.access import require_admin
from application.errors import Conflict, NotFound, UnknownReference
from application.lists import ALL_CATEGORIES, CategoryFilter, Page, ProductFilter, ProductSort, Window
from application.patch import UNSET, Unset, sent
from application.ports import Clock, DuplicateKey, UnitOfWork
from domain.catalog import Category, CategoryStats, Product, name_key
from domain.users import User

MAX_LISTED_PRODUCTS = 100


@dataclass(frozen=True, slots=True)
class CategoryView:
    category: Category
    product_count: int


@dataclass(frozen=True, slots=True)
class CategoryDetail:
    view: CategoryView
    products: list[Product]
    children: list[Category] = field(default_factory=list)  # direct, by name
    path: list[Category] = field(default_factory=list)  # its ancestors, the root first; not itself


@dataclass(frozen=True, slots=True)
class CategoryStatsView:
    category: Category
    stats: CategoryStats


@dataclass(frozen=True, slots=True)
class CreateCategory:
    name: str
    description: str | None = None
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class CategoryPatch:
    name: str | Unset = UNSET
    description: str | None | Unset = UNSET
    parent_id: int | None | Unset = UNSET


def create_category(cmd: CreateCategory, *, uow: UnitOfWork, actor: User, clock: Clock) -> CategoryView:
    require_admin(actor, "create categories")
    category = Category.create(
        name=cmd.name, description=cmd.description, parent_id=cmd.parent_id, at=clock.now()
    )
    with uow:
        _ensure_name_free(uow, cmd.name)
        if cmd.parent_id is not None and uow.categories.get(cmd.parent_id) is None:
            raise UnknownReference("parent category", cmd.parent_id)
        _store(category, uow.categories.add)
        uow.commit()
    return CategoryView(category, 0)


def list_categories(
    window: Window, filters: CategoryFilter = ALL_CATEGORIES, *, uow: UnitOfWork
) -> Page[CategoryView]:
    """All categories, or one level of the tree (an unknown parent has no children: an empty page)."""
    with uow:
        page = uow.categories.list(window, filters)
        counts = uow.categories.count_active_products([c.id for c in page.items if c.id is not None])
    views = [CategoryView(c, counts.get(c.id or 0, 0)) for c in page.items]
    return Page(views, page.total, page.limit, page.offset, page.next)


def get_category(category_id: int, *, uow: UnitOfWork) -> CategoryDetail:
    with uow:
        category = _load(uow, category_id)
        products = uow.products.list(
            ProductFilter(category_id=category_id, sort=ProductSort.NAME), Window(MAX_LISTED_PRODUCTS)
        )
        children = uow.categories.children(category_id)
        path = uow.categories.ancestors(category_id)
    return CategoryDetail(CategoryView(category, products.total), products.items, children, path)


def category_stats(
    category_id: int, include_descendants: bool, *, uow: UnitOfWork, actor: User
) -> CategoryStatsView:
    require_admin(actor, "read category statistics")
    with uow:
        category = _load(uow, category_id)
        stats = uow.categories.stats([category_id], include_descendants)
    return CategoryStatsView(category, stats.get(category_id, CategoryStats()))


def list_category_stats(
    window: Window, include_descendants: bool, *, uow: UnitOfWork, actor: User
) -> Page[CategoryStatsView]:
    """Every category's statistics, in the order of the category list (by name)."""
    require_admin(actor, "read category statistics")
    with uow:
        page = uow.categories.list(window)
        ids = [c.id for c in page.items if c.id is not None]
        stats = uow.categories.stats(ids, include_descendants)
    views = [CategoryStatsView(c, stats.get(c.id or 0, CategoryStats())) for c in page.items]
    return Page(views, page.total, page.limit, page.offset, page.next)


def update_category(
    category_id: int, patch: CategoryPatch, *, uow: UnitOfWork, actor: User, clock: Clock
) -> CategoryView:
    require_admin(actor, "change categories")
    with uow:
        category = _load(uow, category_id)
        if sent(patch.name) and name_key(patch.name) != category.name_key:
            _ensure_name_free(uow, patch.name)
        category.update(
            at=clock.now(),
            name=patch.name,
            description=patch.description,
            parent_id=patch.parent_id,
            parent_ancestry=_ancestry(uow, patch.parent_id) if sent(patch.parent_id) else (),
        )
        _store(category, uow.categories.save)
        counts = uow.categories.count_active_products([category_id])
        uow.commit()
    return CategoryView(category, counts.get(category_id, 0))


def delete_category(category_id: int, *, uow: UnitOfWork, actor: User) -> None:
    require_admin(actor, "delete categories")
    with uow:
        _load(uow, category_id)
        uow.categories.delete(category_id)
        uow.commit()


def _ancestry(uow: UnitOfWork, parent_id: int | None) -> list[int]:
    """The new parent and all its ancestors, nearest first; an unknown parent is a bad reference."""
    chain: list[int] = []
    current = parent_id
    while current is not None and current not in chain:
        parent = uow.categories.get(current)
        if parent is None:
            raise UnknownReference("parent category", current)
        chain.append(current)
        current = parent.parent_id
    return chain


def _load(uow: UnitOfWork, category_id: int) -> Category:
    category = uow.categories.get(category_id)
    if category is None:
        raise NotFound("category", category_id)
    return category


def _ensure_name_free(uow: UnitOfWork, name: str) -> None:
    if uow.categories.get_by_name(name) is not None:
        raise Conflict(f"a category named '{name}' already exists")


def _store(category: Category, write: Callable[[Category], None]) -> None:
    try:
        write(category)
    except DuplicateKey:
        raise Conflict(f"a category named '{category.name}' already exists") from None
