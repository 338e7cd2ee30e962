"""/categories and /products."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from adapters.fields import MAX_ID
from application.categories import (
    CategoryPatch,
    CreateCategory,
    create_category,
    delete_category,
    get_category,
    list_categories,
    update_category,
)
from application.ports import ProductFilter, ProductSort
from application.products import (
    CreateProduct,
    ProductPatch,
    adjust_stock,
    create_product,
    delete_product,
    get_product,
    list_products,
    update_product,
)
from domain.catalog import Product
from entrypoints.api.dependencies import Anyone, ClockDep, ExpectedVersion, SignedIn, Uow
from entrypoints.api.paging import Limit, Offset, ResourceId, SearchText
from entrypoints.api.problems import responses
from entrypoints.api.schemas import (
    CategoryCreate,
    CategoryDetailRead,
    CategoryRead,
    CategoryUpdate,
    Money,
    PageOf,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    StockAdjustment,
)

router = APIRouter()
ADMIN = (401, 403)


def with_etag(response: Response, product: Product) -> ProductRead:
    response.headers["ETag"] = f'"{product.version}"'
    return ProductRead.of(product)


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    response_model=CategoryRead,
    tags=["categories"],
    responses=responses(400, *ADMIN, 409),
)
async def new_category(
    body: CategoryCreate, response: Response, caller: SignedIn, clock: ClockDep
) -> CategoryRead:
    view = await caller.run(
        lambda uow, actor: create_category(
            uow, clock, actor, CreateCategory(body.name, body.description, body.parent_id)
        )
    )
    response.headers["Location"] = f"/categories/{view.category.id}"
    return CategoryRead.of(view)


@router.get("/categories", response_model=PageOf[CategoryRead], tags=["categories"])
async def categories(uow: Uow, limit: Limit = 20, offset: Offset = 0) -> PageOf[CategoryRead]:
    return PageOf.of(await uow.run(list_categories, limit, offset), CategoryRead.of)


@router.get(
    "/categories/{category_id}",
    response_model=CategoryDetailRead,
    tags=["categories"],
    responses=responses(404),
)
async def category(category_id: ResourceId, uow: Uow) -> CategoryDetailRead:
    return CategoryDetailRead.of_detail(await uow.run(get_category, category_id))


@router.patch(
    "/categories/{category_id}",
    response_model=CategoryRead,
    tags=["categories"],
    responses=responses(400, *ADMIN, 404, 409),
)
async def change_category(
    category_id: ResourceId, body: CategoryUpdate, caller: SignedIn, clock: ClockDep
) -> CategoryRead:
    patch = CategoryPatch(**body.model_dump(exclude_unset=True))
    return CategoryRead.of(
        await caller.run(lambda uow, actor: update_category(uow, clock, actor, category_id, patch))
    )


@router.delete(
    "/categories/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["categories"],
    responses=responses(*ADMIN, 404),
)
async def remove_category(category_id: ResourceId, caller: SignedIn) -> Response:
    await caller.run(lambda uow, actor: delete_category(uow, actor, category_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductRead,
    tags=["products"],
    responses=responses(400, *ADMIN, 409),
)
async def new_product(
    body: ProductCreate, response: Response, caller: SignedIn, clock: ClockDep
) -> ProductRead:
    cmd = CreateProduct(
        body.name, body.sku, body.price, body.description, body.stock_quantity, body.category_id
    )
    product = await caller.run(lambda uow, actor: create_product(uow, clock, actor, cmd))
    response.headers["Location"] = f"/products/{product.id}"
    return with_etag(response, product)


@router.get("/products", response_model=PageOf[ProductRead], tags=["products"], responses=responses(401, 403))
async def products(
    caller: Anyone,
    limit: Limit = 20,
    offset: Offset = 0,
    category_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    min_price: Annotated[Money | None, Query()] = None,
    max_price: Annotated[Money | None, Query()] = None,
    in_stock: bool | None = None,
    q: SearchText = None,
    sort: ProductSort = ProductSort.ID,
    include_inactive: Annotated[bool, Query(description="Admins only.")] = False,
) -> PageOf[ProductRead]:
    filters = ProductFilter(
        category_id=category_id,
        min_price=Decimal(min_price) if min_price is not None else None,
        max_price=Decimal(max_price) if max_price is not None else None,
        in_stock=in_stock,
        q=q,
        include_inactive=include_inactive,
        sort=sort,
    )
    return PageOf.of(
        await caller.run(lambda uow, actor: list_products(uow, actor, filters, limit, offset)), ProductRead.of
    )


@router.get("/products/{product_id}", response_model=ProductRead, tags=["products"], responses=responses(404))
async def product(product_id: ResourceId, response: Response, uow: Uow) -> ProductRead:
    return with_etag(response, await uow.run(get_product, product_id))


@router.patch(
    "/products/{product_id}",
    response_model=ProductRead,
    tags=["products"],
    responses=responses(400, *ADMIN, 404, 409, 412),
)
async def change_product(
    product_id: ResourceId,
    body: ProductUpdate,
    response: Response,
    caller: SignedIn,
    clock: ClockDep,
    version: ExpectedVersion,
) -> ProductRead:
    patch = ProductPatch(**body.model_dump(exclude_unset=True))
    return with_etag(
        response,
        await caller.run(lambda uow, actor: update_product(uow, clock, actor, product_id, patch, version)),
    )


@router.delete(
    "/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["products"],
    responses=responses(*ADMIN, 404),
)
async def remove_product(product_id: ResourceId, caller: SignedIn, clock: ClockDep) -> Response:
    await caller.run(lambda uow, actor: delete_product(uow, clock, actor, product_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/products/{product_id}/stock",
    response_model=ProductRead,
    tags=["products"],
    responses=responses(400, *ADMIN, 404),
)
async def stock(
    product_id: ResourceId,
    body: StockAdjustment,
    response: Response,
    caller: SignedIn,
    clock: ClockDep,
) -> ProductRead:
    product = await caller.run(
        lambda uow, actor: adjust_stock(uow, clock, actor, product_id, body.delta, body.reason)
    )
    return with_etag(response, product)
