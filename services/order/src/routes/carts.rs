//! Carts: a guest's (opened with the secret cart token) or a logged-in customer's.

use super::{OrderState, header};
use crate::catalog::line_problem;
use crate::domain::shipping;
use crate::domain::{MAX_LINES, MAX_QUANTITY};
use crate::store::{self, CartRow};
use crate::views::{CartLineView, CartView, localize};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use caravan_shared::ErrorCode;
use caravan_shared::domain::{Currency, Locale, Money, parse_accept_language};
use caravan_shared::error::Problem;
use caravan_shared::http::{Json, OptionalJson};
use caravan_shared::identity::{MaybeSignedIn, Principal};
use caravan_shared::secrets;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, TenantId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The header carrying a guest's cart token.
pub const CART_TOKEN: &str = "X-Cart-Token";

/// A new cart's options; the body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"currency": "CNY", "locale": "zh-CN"}))]
pub struct NewCart {
    /// One of the shop's currencies; the shop's base currency when absent.
    #[serde(default)]
    #[schema(value_type = Option<Currency>)]
    pub currency: Option<String>,
    /// The language of texts and emails (`zh-CN`, `en`, `ug`, …); from
    /// `Accept-Language` or the shop's default when absent.
    #[serde(default)]
    #[schema(inline, value_type = Option<Locale>)]
    pub locale: Option<String>,
}

/// A line to add or set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "quantity": 2}))]
pub struct LineInput {
    /// The variant.
    pub variant_id: Uuid,
    /// How many (1 to 10000).
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i32,
}

/// A new quantity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"quantity": 3}))]
pub struct QuantityInput {
    /// How many (1 to 10000).
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i32,
}

/// A destination for shipping options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Destination {
    /// ISO 3166-1 alpha-2 country code, in capitals: with it, the cart lists the
    /// shipping options.
    #[param(value_type = Option<caravan_shared::domain::CountryCode>)]
    pub country: Option<String>,
    /// Province, for zones limited to provinces.
    pub province: Option<String>,
}

fn check_quantity(quantity: i32) -> Result<(), ApiError> {
    if (1..=MAX_QUANTITY).contains(&quantity) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "quantity",
            format!("must be 1 to {MAX_QUANTITY}"),
        ))
    }
}

/// Opens a cart the caller may use: with its token, or as its `customer`. Anything
/// else is 404, so a cart's existence is not disclosed.
pub async fn open(
    request: &HttpRequest,
    customer: Option<&Principal>,
    tx: &TenantTx,
    id: Uuid,
    lock: bool,
) -> Result<CartRow, ApiError> {
    let cart = store::cart(tx, id, lock)
        .await?
        .ok_or_else(|| ApiError::not_found("no such cart"))?;
    let by_token =
        header(request, CART_TOKEN).is_some_and(|t| secrets::matches(t, &cart.token_hash));
    let by_account = match (customer, &cart.customer_id) {
        (Some(principal), Some(owner)) => &principal.subject == owner,
        _ => false,
    };
    if by_token || by_account {
        Ok(cart)
    } else {
        Err(ApiError::not_found("no such cart"))
    }
}

/// The cart with current prices from the catalog.
pub async fn view(
    state: &OrderState,
    tenant: TenantId,
    cart: CartRow,
    destination: Option<(&str, &str)>,
) -> Result<CartView, ApiError> {
    let tx = TenantTx::begin(&state.context.db, tenant).await?;
    let lines = store::cart_lines(&tx, cart.id).await?;
    let zones = match destination {
        Some(_) => store::zones(&tx).await?,
        None => Vec::new(),
    };
    tx.commit().await?;
    let currency = cart.currency.0;
    let ids: Vec<Uuid> = lines.iter().map(|line| line.variant_id).collect();
    let variants = if ids.is_empty() {
        Default::default()
    } else {
        state.catalog.variants(tenant, &ids, false).await?
    };
    let mut subtotal = Money::zero(currency);
    let mut weight: i64 = 0;
    let mut count: i64 = 0;
    let mut views = Vec::with_capacity(lines.len());
    for line in lines {
        let sellable = variants.get(&line.variant_id);
        let problem = line_problem(sellable, line.quantity, currency);
        let unit_price = sellable.and_then(|s| s.price_in(currency));
        let line_total = unit_price
            .map(|price| price.checked_mul(i64::from(line.quantity)))
            .transpose()
            .map_err(|error| ApiError::validation(error.to_string()))?;
        if let Some(total) = line_total {
            subtotal = subtotal
                .checked_add(total)
                .map_err(|error| ApiError::validation(error.to_string()))?;
        }
        let line_weight =
            sellable.map_or(0, |s| i64::from(s.weight_grams) * i64::from(line.quantity));
        weight += line_weight;
        count += i64::from(line.quantity);
        views.push(CartLineView {
            variant_id: line.variant_id,
            product_id: sellable.map(|s| s.product_id),
            handle: sellable.map(|s| s.handle.clone()),
            sku: sellable.map(|s| s.sku.clone()),
            title: sellable.map(|s| localize(&s.product_title, &cart.locale)),
            variant_title: sellable.map(|s| localize(&s.title, &cart.locale)),
            image: sellable.and_then(|s| s.image.clone()),
            quantity: line.quantity,
            unit_price,
            line_total,
            weight_grams: line_weight,
            available: sellable.and_then(|s| s.available),
            problem: problem.map(str::to_owned),
        });
    }
    let ready = !views.is_empty() && views.iter().all(|line| line.problem.is_none());
    let shipping_options =
        destination.map(|place| shipping::options(&zones, place, weight, subtotal));
    Ok(CartView {
        id: cart.id,
        token: None,
        currency: currency.as_str().to_owned(),
        locale: cart.locale,
        customer: cart.customer_id.is_some(),
        lines: views,
        item_count: count,
        subtotal,
        total_weight_grams: weight,
        ready,
        shipping_options,
        order_id: cart.order_id,
        created_at: cart.created_at,
        updated_at: cart.updated_at,
    })
}

/// Opens a cart. A guest gets its secret `token` (send it as `X-Cart-Token`); a
/// logged-in customer's cart is tied to the account.
#[utoipa::path(
    tag = "carts",
    params(("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")),
    request_body(content = Option<NewCart>, description = "Optional; an empty body (or `null`) takes the defaults"),
    responses(
        (status = 201, description = "The new cart with its token", body = CartView),
        (status = 401, description = "A bearer token was sent but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A currency or language the shop does not offer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/shops/{shop}/carts")]
pub async fn create(
    state: web::Data<OrderState>,
    request: HttpRequest,
    shop: web::Path<String>,
    body: OptionalJson<NewCart>,
    MaybeSignedIn(customer): MaybeSignedIn,
) -> Result<HttpResponse, ApiError> {
    let shop = state.storefront(&shop).await?;
    let input = body.0.unwrap_or_default();
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    // The storefront's replica row carries what the shop sells in and speaks.
    let profile = shop.profile;
    let (base, offered, default_locale) = (
        profile.base_currency,
        profile.currencies,
        profile.default_locale,
    );
    let currency = input.currency.unwrap_or(base);
    let currency = match Currency::parse(&currency) {
        Ok(parsed) if offered.contains(&currency) => parsed,
        _ => {
            return Err(ApiError::invalid_field(
                "currency",
                format!("this shop sells in {}", offered.join(", ")),
            ));
        }
    };
    let locale = match input.locale {
        Some(raw) => Locale::parse(&raw)
            .map_err(|_| {
                ApiError::invalid_field("locale", "must be a language tag such as zh-CN or en")
            })?
            .as_str()
            .to_owned(),
        None => header(&request, "Accept-Language")
            .and_then(|value| parse_accept_language(value).into_iter().next())
            .map_or(default_locale, |locale| locale.as_str().to_owned()),
    };
    let token = secrets::generate();
    let id = Uuid::now_v7();
    store::insert_cart(
        &tx,
        id,
        &secrets::hash(&token),
        customer.as_ref().map(|c| c.subject.as_str()),
        currency,
        &locale,
    )
    .await?;
    let cart = store::cart(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the new cart vanished")))?;
    tx.commit().await?;
    let mut answer = view(&state, shop.tenant, cart, None).await?;
    answer.token = Some(token);
    Ok(HttpResponse::Created().json(answer))
}

/// A cart with current prices, flags on lines that cannot be bought as they are,
/// and, given a destination, the shipping options.
#[utoipa::path(
    tag = "carts",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("id" = Uuid, Path, description = "The cart"),
        ("X-Cart-Token" = Option<String>, Header, description = "The cart's token (guests)"),
        Destination,
    ),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such shop or cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/carts/{id}")]
pub async fn show(
    state: web::Data<OrderState>,
    request: HttpRequest,
    path: web::Path<(String, Uuid)>,
    destination: web::Query<Destination>,
    MaybeSignedIn(customer): MaybeSignedIn,
) -> Result<web::Json<CartView>, ApiError> {
    let (slug, id) = path.into_inner();
    let shop = state.storefront(&slug).await?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let cart = open(&request, customer.as_ref(), &tx, id, false).await?;
    tx.commit().await?;
    let country = destination.country.as_deref();
    if let Some(code) = country {
        caravan_shared::domain::check_country_code(code, "country")
            .map_err(|error| ApiError::invalid_field(error.field, error.message))?;
    }
    let place = country.map(|c| (c, destination.province.as_deref().unwrap_or_default()));
    Ok(web::Json(view(&state, shop.tenant, cart, place).await?))
}

/// The cart whose lines change, and who asks.
struct CartAsked<'a> {
    request: &'a HttpRequest,
    customer: Option<&'a Principal>,
    slug: &'a str,
    id: Uuid,
}

async fn change_line(
    state: &OrderState,
    asked: CartAsked<'_>,
    change: impl AsyncFnOnce(&TenantTx) -> Result<(), ApiError>,
) -> Result<CartView, ApiError> {
    let CartAsked {
        request,
        customer,
        slug,
        id,
    } = asked;
    let shop = state.storefront(slug).await?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let cart = open(request, customer, &tx, id, true).await?;
    if let Some(order) = cart.order_id {
        return Err(ApiError::conflict(
            ErrorCode::CartCheckedOut,
            format!("this cart became order {order}; start a new cart"),
        ));
    }
    change(&tx).await?;
    let cart = store::cart(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such cart"))?;
    tx.commit().await?;
    view(state, shop.tenant, cart, None).await
}

/// Adds units of a variant (to any already in the cart).
#[utoipa::path(
    tag = "carts",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("id" = Uuid, Path, description = "The cart"),
        ("X-Cart-Token" = Option<String>, Header, description = "The cart's token (guests)"),
    ),
    request_body = LineInput,
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such shop or cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart was checked out", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid quantity, unknown variant or too many lines", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/shops/{shop}/carts/{id}/lines")]
pub async fn add_line(
    state: web::Data<OrderState>,
    request: HttpRequest,
    path: web::Path<(String, Uuid)>,
    body: Json<LineInput>,
    MaybeSignedIn(customer): MaybeSignedIn,
) -> Result<web::Json<CartView>, ApiError> {
    let (slug, id) = path.into_inner();
    let line = body.into_inner();
    check_quantity(line.quantity)?;
    let shop = state.storefront(&slug).await?;
    let known = state
        .catalog
        .variants(shop.tenant, &[line.variant_id], false)
        .await?;
    if known
        .get(&line.variant_id)
        .is_none_or(|v| v.product_status != "active")
    {
        return Err(ApiError::invalid_field(
            "variant_id",
            "no such variant on sale in this shop",
        ));
    }
    let asked = CartAsked {
        request: &request,
        customer: customer.as_ref(),
        slug: &slug,
        id,
    };
    let view = change_line(&state, asked, async |tx| {
        let lines = store::cart_lines(tx, id).await?;
        if lines.len() >= MAX_LINES && !lines.iter().any(|l| l.variant_id == line.variant_id) {
            return Err(ApiError::invalid_field(
                "variant_id",
                format!("a cart holds at most {MAX_LINES} lines"),
            ));
        }
        store::put_line(tx, id, line.variant_id, line.quantity, true).await?;
        Ok(())
    })
    .await?;
    Ok(web::Json(view))
}

/// Sets how many units of a variant the cart holds.
#[utoipa::path(
    tag = "carts",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("id" = Uuid, Path, description = "The cart"),
        ("variant_id" = Uuid, Path, description = "The line's variant"),
        ("X-Cart-Token" = Option<String>, Header, description = "The cart's token (guests)"),
    ),
    request_body = QuantityInput,
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such shop, cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart was checked out", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid quantity", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/shops/{shop}/carts/{id}/lines/{variant_id}")]
pub async fn set_line(
    state: web::Data<OrderState>,
    request: HttpRequest,
    path: web::Path<(String, Uuid, Uuid)>,
    body: Json<QuantityInput>,
    MaybeSignedIn(customer): MaybeSignedIn,
) -> Result<web::Json<CartView>, ApiError> {
    let (slug, id, variant) = path.into_inner();
    let quantity = body.into_inner().quantity;
    check_quantity(quantity)?;
    let asked = CartAsked {
        request: &request,
        customer: customer.as_ref(),
        slug: &slug,
        id,
    };
    let view = change_line(&state, asked, async |tx| {
        let lines = store::cart_lines(tx, id).await?;
        if !lines.iter().any(|l| l.variant_id == variant) {
            return Err(ApiError::not_found("the cart has no line for this variant"));
        }
        store::put_line(tx, id, variant, quantity, false).await?;
        Ok(())
    })
    .await?;
    Ok(web::Json(view))
}

/// Removes a variant from the cart.
#[utoipa::path(
    tag = "carts",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("id" = Uuid, Path, description = "The cart"),
        ("variant_id" = Uuid, Path, description = "The line's variant"),
        ("X-Cart-Token" = Option<String>, Header, description = "The cart's token (guests)"),
    ),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such shop, cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart was checked out", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/shops/{shop}/carts/{id}/lines/{variant_id}")]
pub async fn remove_line(
    state: web::Data<OrderState>,
    request: HttpRequest,
    path: web::Path<(String, Uuid, Uuid)>,
    MaybeSignedIn(customer): MaybeSignedIn,
) -> Result<web::Json<CartView>, ApiError> {
    let (slug, id, variant) = path.into_inner();
    let asked = CartAsked {
        request: &request,
        customer: customer.as_ref(),
        slug: &slug,
        id,
    };
    let view = change_line(&state, asked, async |tx| {
        if store::remove_line(tx, id, variant).await? {
            Ok(())
        } else {
            Err(ApiError::not_found("the cart has no line for this variant"))
        }
    })
    .await?;
    Ok(web::Json(view))
}
