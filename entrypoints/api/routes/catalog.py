"""/categories and /products."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from adapters.fields import MAX_ID, SKU_PATTERN
from application import paging
from application.categories import CategoryPatch, CreateCategory
from application.lists import ALL_CATEGORIES, CategoryFilter, MovementFilter, ProductFilter, ProductSort
from application.products import CreateProduct, Expand, ProductPatch
from domain.catalog import Product
from domain.stock import MovementKind
from entrypoints.api.dependencies import Anyone, ExpectedVersion, Public, SignedIn
from entrypoints.api.etag import tag
from entrypoints.api.paging import Paged, ResourceId, SearchText, utc_or_none
from entrypoints.api.problems import responses
from entrypoints.api.schemas import (
    CategoryCreate,
    CategoryDetailRead,
    CategoryRead,
    CategoryStatsRead,
    CategoryUpdate,
    Money,
    PageOf,
    ProductAnswer,
    ProductCreate,
    ProductExpandedRead,
    ProductRead,
    ProductUpdate,
    StockAdjustment,
    StockMovementRead,
)

router = APIRouter()
ADMIN = (401, 403)
ParentId = Annotated[
    Annotated[int, Field(ge=1, le=MAX_ID)] | Literal["none"] | None,
    Query(
        description="One level of the tree: the children of this category (an unknown one has none: an "
        "empty page), or `none` for the roots."
    ),
]
Descendants = Annotated[
    bool, Query(description="Over the category's subcategories too, at any depth (summed with its own).")
]
Expansions = Annotated[
    list[Expand] | None,
    Query(description="`category` embeds the product's category as `category: {id, name, slug}` (or null)."),
]


def documented(model: Any) -> dict[int | str, dict[str, Any]]:
    """The 200 answer's schema in the OpenAPI, where the route's `response_model` is its plain shape: the
    plain answers keep FastAPI's fast path (an exact model, not a union to match), the expanded ones are
    serialised by `as_json`."""
    return {200: {"model": model}}


def as_json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def with_etag(response: Response, product: Product) -> ProductRead:
    tag(response, product.version)
    return ProductRead.of(product)


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    response_model=CategoryRead,
    tags=["categories"],
    responses=responses(400, *ADMIN, 409),
)
async def create_category(body: CategoryCreate, response: Response, caller: SignedIn) -> CategoryRead:
    cmd = CreateCategory(body.name, body.description, body.parent_id)
    view = await caller.as_user(caller.cases.create_category, cmd)
    response.headers["Location"] = f"/categories/{view.category.id}"
    return CategoryRead.of(view)


@router.get("/categories", response_model=PageOf[CategoryRead], tags=["categories"], responses=responses(400))
async def list_categories(caller: Public, pages: Paged, parent_id: ParentId = None) -> PageOf[CategoryRead]:
    filters = (
        ALL_CATEGORIES if parent_id is None else CategoryFilter(None if parent_id == "none" else parent_id)
    )
    page = await caller.anonymous(caller.cases.list_categories, pages.window(paging.CATEGORIES), filters)
    return pages.answer(page, paging.CATEGORIES, CategoryRead.of)


@router.get(
    "/categories/stats",
    response_model=PageOf[CategoryStatsRead],
    tags=["categories"],
    responses=responses(400, *ADMIN),
)
async def list_category_stats(
    caller: SignedIn, pages: Paged, include_descendants: Descendants = False
) -> PageOf[CategoryStatsRead]:
    """Admins only: every category's statistics over its active products, by name (as the category list)."""
    window = pages.window(paging.CATEGORIES)
    page = await caller.as_user(caller.cases.list_category_stats, window, include_descendants)
    return pages.answer(page, paging.CATEGORIES, lambda v: CategoryStatsRead.of(v, include_descendants))


@router.get(
    "/categories/{category_id}/stats",
    response_model=CategoryStatsRead,
    tags=["categories"],
    responses=responses(*ADMIN, 404),
)
async def category_stats(
    category_id: ResourceId, caller: SignedIn, include_descendants: Descendants = False
) -> CategoryStatsRead:
    """Admins only: the category's active products counted, their prices, units and stock value."""
    view = await caller.as_user(caller.cases.category_stats, category_id, include_descendants)
    return CategoryStatsRead.of(view, include_descendants)


@router.get(
    "/categories/{category_id}",
    response_model=CategoryDetailRead,
    tags=["categories"],
    responses=responses(404),
)
async def get_category(category_id: ResourceId, caller: Public) -> CategoryDetailRead:
    return CategoryDetailRead.of_detail(await caller.anonymous(caller.cases.get_category, category_id))


@router.patch(
    "/categories/{category_id}",
    response_model=CategoryRead,
    tags=["categories"],
    responses=responses(400, *ADMIN, 404, 409),
)
async def update_category(category_id: ResourceId, body: CategoryUpdate, caller: SignedIn) -> CategoryRead:
    patch = CategoryPatch(**body.model_dump(exclude_unset=True))
    return CategoryRead.of(await caller.as_user(caller.cases.update_category, category_id, patch))


@router.delete(
    "/categories/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["categories"],
    responses=responses(*ADMIN, 404),
)
async def delete_category(category_id: ResourceId, caller: SignedIn) -> Response:
    await caller.as_user(caller.cases.delete_category, category_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductRead,
    tags=["products"],
    responses=responses(400, *ADMIN, 409),
)
async def create_product(body: ProductCreate, response: Response, caller: SignedIn) -> ProductRead:
    cmd = CreateProduct(
        body.name,
        body.sku,
        body.price,
        body.description,
        body.stock_quantity,
        body.category_id,
        body.low_stock_threshold,
    )
    product = await caller.as_user(caller.cases.create_product, cmd)
    response.headers["Location"] = f"/products/{product.id}"
    return with_etag(response, product)


@router.get(
    "/products",
    response_model=PageOf[ProductRead],
    tags=["products"],
    responses=responses(400, 401, 403) | documented(PageOf[ProductExpandedRead | ProductRead]),
)
async def list_products(
    caller: Anyone,
    pages: Paged,
    category_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    min_price: Annotated[Money | None, Query()] = None,
    max_price: Annotated[Money | None, Query()] = None,
    in_stock: bool | None = None,
    q: SearchText = None,
    sort: ProductSort = ProductSort.ID,
    include_inactive: Annotated[bool, Query(description="Admins only.")] = False,
    low_stock: Annotated[
        bool, Query(description="Admins only: products at or below their `low_stock_threshold`.")
    ] = False,
    sku: Annotated[
        str | None,
        Query(min_length=1, max_length=50, pattern=SKU_PATTERN, description="Exactly this SKU, in any case."),
    ] = None,
    expand: Expansions = None,
) -> PageOf[ProductRead] | Response:
    filters = ProductFilter(
        category_id=category_id,
        min_price=Decimal(min_price) if min_price is not None else None,
        max_price=Decimal(max_price) if max_price is not None else None,
        in_stock=in_stock,
        q=q,
        include_inactive=include_inactive,
        low_stock=low_stock,
        sort=sort,
        sku=sku,
    )
    ordering = paging.PRODUCTS[sort]
    if not expand:
        page = await caller.as_anyone(caller.cases.list_products, filters, pages.window(ordering))
        return pages.answer(page, ordering, ProductRead.of)
    cases = caller.cases
    page, embedded = await caller.as_anyone(
        cases.list_products_expanded, filters, pages.window(ordering), frozenset(expand)
    )
    expanded = pages.answer(
        page, ordering, lambda p: ProductExpandedRead.expanded(p, embedded.categories or {})
    )
    return as_json(expanded)


@router.get(
    "/products/{product_id}",
    response_model=ProductRead,
    tags=["products"],
    responses=responses(404) | documented(ProductAnswer),
)
async def get_product(
    product_id: ResourceId, response: Response, caller: Public, expand: Expansions = None
) -> ProductRead | Response:
    if not expand:
        return with_etag(response, await caller.anonymous(caller.cases.get_product, product_id))
    product, embedded = await caller.anonymous(
        caller.cases.get_product_expanded, product_id, frozenset(expand)
    )
    answer = as_json(ProductExpandedRead.expanded(product, embedded.categories or {}))
    tag(answer, product.version)
    return answer


@router.patch(
    "/products/{product_id}",
    response_model=ProductRead,
    tags=["products"],
    responses=responses(400, *ADMIN, 404, 409, 412),
)
async def update_product(
    product_id: ResourceId,
    body: ProductUpdate,
    response: Response,
    caller: SignedIn,
    version: ExpectedVersion,
) -> ProductRead:
    patch = ProductPatch(**body.model_dump(exclude_unset=True))
    return with_etag(response, await caller.as_user(caller.cases.update_product, product_id, patch, version))


@router.delete(
    "/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["products"],
    responses=responses(*ADMIN, 404),
)
async def delete_product(product_id: ResourceId, caller: SignedIn) -> Response:
    await caller.as_user(caller.cases.delete_product, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/products/{product_id}/stock",
    response_model=ProductRead,
    tags=["products"],
    responses=responses(400, *ADMIN, 404),
)
async def adjust_stock(
    product_id: ResourceId, body: StockAdjustment, response: Response, caller: SignedIn
) -> ProductRead:
    product = await caller.as_user(caller.cases.adjust_stock, product_id, body.delta, body.reason)
    return with_etag(response, product)


@router.get(
    "/products/{product_id}/stock-movements",
    response_model=PageOf[StockMovementRead],
    tags=["products"],
    responses=responses(400, *ADMIN, 404),
)
async def list_stock_movements(
    product_id: ResourceId,
    caller: SignedIn,
    pages: Paged,
    kind: MovementKind | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> PageOf[StockMovementRead]:
    """The product's stock ledger, newest first: every change of its stock, with why and by whom."""
    filters = MovementFilter(kind, utc_or_none(created_from), utc_or_none(created_to))
    window = pages.window(paging.STOCK_MOVEMENTS)
    page = await caller.as_user(caller.cases.stock_movements, product_id, filters, window)
    return pages.answer(page, paging.STOCK_MOVEMENTS, StockMovementRead.of)
