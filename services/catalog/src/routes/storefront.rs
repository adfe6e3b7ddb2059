//! The public storefront: an active shop's active products, in the buyer's language
//! and currency, cacheable with `ETag`. Finished answers are held in memory per shop
//! ([`crate::storefront_cache`]); the shop check comes first, from the directory of
//! shops, so a suspended shop answers 404 whatever is held.

use super::CatalogState;
use crate::domain::ProductStatus;
use crate::schemas;
use crate::store::{self, After, Listing, Sort};
use crate::storefront_cache::{Answer, Key};
use crate::views::{CategoryView, StorefrontProduct, localize};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use caravan_shared::domain::{
    Currency, Locale, Page, PageQuery, PageRequest, parse_accept_language,
};
use caravan_shared::error::Problem;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, tenant_status};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa::openapi::schema::ObjectBuilder;
use uuid::Uuid;

/// The language shown when a text has none of the buyer's.
const FALLBACK_LOCALE: &str = "zh-CN";

/// The language and the page of a storefront list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LocalePageQuery {
    /// Language, e.g. `zh-CN`, `en`, `ug`; otherwise `Accept-Language`, then the
    /// shop's texts' default.
    #[param(inline, value_type = Option<Locale>)]
    pub locale: Option<String>,
    /// How many items to return: 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page; omit it for the first page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// Filters of the storefront listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StorefrontQuery {
    /// Text in any language: "枸杞" finds 宁夏枸杞.
    #[param(pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// A category id.
    pub category: Option<Uuid>,
    /// A tag.
    #[param(pattern = r"^[^\x00]*$")]
    pub tag: Option<String>,
    /// Lowest price at least this (minor units, base currency).
    pub min_price: Option<i64>,
    /// Lowest price at most this (minor units, base currency).
    pub max_price: Option<i64>,
    /// Only products that can be bought now.
    pub in_stock: Option<bool>,
    /// `newest` (default), `price` or `title`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Language, e.g. `zh-CN`, `en`, `ug`.
    #[param(inline, value_type = Option<Locale>)]
    pub locale: Option<String>,
    /// Currency of prices, when the shop prices in it (ISO 4217).
    #[param(inline, value_type = Option<Currency>)]
    pub currency: Option<String>,
    /// Page size: 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

fn sort_schema() -> ObjectBuilder {
    schemas::choice(
        "Order of the products: `newest` (default), `price` or `title`.",
        &["newest", "price", "title"],
        false,
    )
}

fn wanted_locales(request: &HttpRequest, asked: Option<&str>) -> Result<Vec<Locale>, ApiError> {
    if let Some(raw) = asked {
        return Locale::parse(raw)
            .map(|locale| vec![locale])
            .map_err(|error| ApiError::invalid_field("locale", error.to_string()));
    }
    Ok(request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(parse_accept_language)
        .unwrap_or_default())
}

fn fallback() -> Result<Locale, ApiError> {
    Locale::parse(FALLBACK_LOCALE).map_err(|error| ApiError::internal(anyhow::anyhow!("{error}")))
}

/// Answers `answer` with its strong `ETag`, or 304 when the buyer already has it.
fn respond(request: &HttpRequest, answer: &Answer) -> HttpResponse {
    let matches = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| answer.matches(value));
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, answer.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=30"))
        .insert_header((header::VARY, "Accept-Language"));
    if matches {
        response.finish()
    } else {
        response
            .content_type("application/json")
            .body(answer.body.clone())
    }
}

/// `body` as a finished answer.
fn json<T: Serialize>(body: &T) -> Result<Answer, ApiError> {
    Answer::json(body).map_err(|error| ApiError::internal(anyhow::anyhow!(error)))
}

/// An active shop's active products: search, filters, sorting, cursor pages.
#[utoipa::path(
    tag = "storefront",
    params(("shop" = String, Path, description = "The shop's slug", example = "zhongning-goji", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"), StorefrontQuery),
    responses(
        (status = 200, description = "A page of products, with ETag", body = Page<StorefrontProduct>),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 404, description = "No such active shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter, locale or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/products")]
pub async fn list(
    request: HttpRequest,
    state: web::Data<CatalogState>,
    shop: web::Path<String>,
    query: web::Query<StorefrontQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let shop = tenant_status::storefront(&state.context.shops, &shop).await?;
    let wanted = wanted_locales(&request, query.locale.as_deref())?;
    let sort = match query.sort.as_deref().unwrap_or("newest") {
        "newest" => Sort::Newest,
        "price" => Sort::Price,
        "title" => Sort::Title,
        _ => {
            return Err(ApiError::invalid_field(
                "sort",
                "must be newest, price or title",
            ));
        }
    };
    if let Some(currency) = &query.currency {
        Currency::parse(currency)
            .map_err(|error| ApiError::invalid_field("currency", error.to_string()))?;
    }
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    })?;
    let after: Option<After> = page.after()?;
    let key = Key::new(shop.tenant, "products", &query, &wanted);
    let db = &state.context.db;
    let answer = state
        .storefront
        .answer(key, || async move {
            let listing = Listing {
                status: Some(ProductStatus::Active),
                category: query.category,
                tag: query.tag,
                text: query
                    .q
                    .map(|q| q.trim().to_owned())
                    .filter(|q| !q.is_empty()),
                min_price: query.min_price,
                max_price: query.max_price,
                in_stock: query.in_stock.unwrap_or(false),
                sort,
            };
            let tx = TenantTx::begin(db, shop.tenant).await?;
            let rows =
                store::list_products(&tx, &listing, after.as_ref(), page.fetch_limit()).await?;
            let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
            let variants = store::variants_of(&tx, &ids).await?;
            tx.commit().await?;
            let fallback = fallback()?;
            let page = Page::from_rows(rows, page.limit(), |row| After {
                key: match sort {
                    Sort::Newest => None,
                    Sort::Price => Some(serde_json::json!(row.min_price)),
                    Sort::Title => Some(serde_json::json!(row.handle)),
                },
                id: row.id,
            })
            .map(|row| {
                StorefrontProduct::new(
                    row,
                    &variants,
                    &wanted,
                    &fallback,
                    query.currency.as_deref(),
                )
            });
            json(&page)
        })
        .await?;
    Ok(respond(&request, &answer))
}

/// Currency choice of the product page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DetailQuery {
    /// Language.
    #[param(inline, value_type = Option<Locale>)]
    pub locale: Option<String>,
    /// Currency of prices.
    #[param(inline, value_type = Option<Currency>)]
    pub currency: Option<String>,
}

/// One active product of an active shop, by handle.
#[utoipa::path(
    tag = "storefront",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("handle" = String, Path, description = "The product's handle", pattern = "^[a-z0-9-]{1,100}$"),
        DetailQuery,
    ),
    responses(
        (status = 200, description = "The product, with ETag", body = StorefrontProduct),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 404, description = "No such active product or shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/products/{handle}")]
pub async fn detail(
    request: HttpRequest,
    state: web::Data<CatalogState>,
    path: web::Path<(String, String)>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, ApiError> {
    let (shop, handle) = path.into_inner();
    let shop = tenant_status::storefront(&state.context.shops, &shop).await?;
    let wanted = wanted_locales(&request, query.locale.as_deref())?;
    let key = Key::new(shop.tenant, &format!("products/{handle}"), &*query, &wanted);
    let db = &state.context.db;
    let answer = state
        .storefront
        .answer(key, || async move {
            let tx = TenantTx::begin(db, shop.tenant).await?;
            let row = store::product_by_handle(&tx, &handle)
                .await?
                .filter(|row| row.status == ProductStatus::Active)
                .ok_or_else(|| ApiError::not_found("no such product"))?;
            let variants = store::variants_of(&tx, &[row.id]).await?;
            tx.commit().await?;
            let product = StorefrontProduct::new(
                row,
                &variants,
                &wanted,
                &fallback()?,
                query.currency.as_deref(),
            );
            json(&product)
        })
        .await?;
    Ok(respond(&request, &answer))
}

/// An active shop's categories (a tree through `parent_id`) by position, names in
/// the buyer's language.
#[utoipa::path(
    tag = "storefront",
    params(("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"), LocalePageQuery),
    responses(
        (status = 200, description = "A page of categories", body = Page<CategoryView>),
        (status = 404, description = "No such active shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown language, a limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/categories")]
pub async fn categories(
    request: HttpRequest,
    state: web::Data<CatalogState>,
    shop: web::Path<String>,
    query: web::Query<LocalePageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    })?;
    let shop = tenant_status::storefront(&state.context.shops, &shop).await?;
    let wanted = wanted_locales(&request, query.locale.as_deref())?;
    let key = Key::new(shop.tenant, "categories", &query, &wanted);
    let db = &state.context.db;
    let answer = state
        .storefront
        .answer(key, || async move {
            let fallback = fallback()?;
            let tx = TenantTx::begin(db, shop.tenant).await?;
            let rows = store::categories(&tx).await?;
            tx.commit().await?;
            let page = Page::from_sorted(rows, &page, store::CategoryRow::sort_key)?.map(|row| {
                let name = localize(&row.name, &wanted, &fallback)
                    .map_or(serde_json::Value::Null, serde_json::Value::String);
                CategoryView {
                    name,
                    ..CategoryView::from(row)
                }
            });
            json(&page)
        })
        .await?;
    Ok(respond(&request, &answer))
}
