//! Checkout: a cart becomes an order. The handler parses the request, opens the
//! cart the caller may use (locked) and claims the `Idempotency-Key`; the flow is
//! [`workflow::checkout`].

use super::{OrderState, carts};
use crate::domain::{Address, AddressInput, collect};
use crate::store;
use crate::views::OrderView;
use crate::workflow::checkout::{self as workflow, Buyer, Checkout, Claimed, Context};
use crate::workflow::group::GroupAsk;
use actix_web::{FromRequest, HttpRequest, HttpResponse, post, web};
use caravan_shared::ApiError;
use caravan_shared::domain::Email;
use caravan_shared::domain::text::{optional_paragraphs, phone};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::idempotency::{self, Claim, IdempotencyKey};
use caravan_shared::identity::MaybeSignedIn;
use caravan_shared::tenancy::TenantTx;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A checkout.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "cart_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "email": "wang.fang@example.cn", "phone": "+86 138 0013 8000",
    "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区", "street": "世纪大道 100 号 2 栋 1801 室", "postal_code": "200120", "recipient": "王芳"},
    "shipping_rate_id": "0193a7c4-6a00-7000-8000-000000000001",
    "note": "请工作日送货"
}))]
pub struct CheckoutRequest {
    /// The cart.
    pub cart_id: Uuid,
    /// Where the confirmation goes.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
    /// For the courier: 5 to 20 digits, with spaces or hyphens between them and
    /// an optional leading `+`.
    #[schema(pattern = r"^\+?[ -]*([0-9][ -]*){5,20}$")]
    pub phone: String,
    /// Where it goes.
    pub shipping_address: AddressInput,
    /// One of the cart's shipping options for this address.
    pub shipping_rate_id: Uuid,
    /// For the shop (at most 500 characters; line breaks and tabs are kept, other
    /// control characters refused).
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub note: Option<String>,
    /// For a checkout at a group deal's price: the deal, to open a new group, or
    /// the forming group to join. The cart must hold exactly one line, the deal's
    /// variant.
    #[serde(default)]
    pub group: Option<GroupInput>,
    /// For a harvest pre-order: the campaign. The cart must hold exactly one line,
    /// the campaign's variant; no stock is held, the harvest's allocation is.
    #[serde(default)]
    pub preorder: Option<PreorderInput>,
}

/// The harvest a pre-order is for.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"campaign_id": "0193c2e0-1a2b-7c3d-8e4f-5a6b7c8d9e0f"}))]
pub struct PreorderInput {
    /// The pre-order campaign.
    pub campaign_id: Uuid,
}

/// The group a checkout opens or joins: exactly one of the two.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"group_id": "0193c1d2-0000-7000-8000-00000000a001"}))]
pub struct GroupInput {
    /// Open a new group of this deal.
    #[serde(default)]
    pub deal_id: Option<Uuid>,
    /// Join this forming group.
    #[serde(default)]
    pub group_id: Option<Uuid>,
}

impl GroupInput {
    fn ask(&self) -> Result<GroupAsk, ApiError> {
        match (self.deal_id, self.group_id) {
            (Some(deal), None) => Ok(GroupAsk::Open(deal)),
            (None, Some(group)) => Ok(GroupAsk::Join(group)),
            _ => Err(ApiError::invalid_field(
                "group",
                "name either deal_id (to open a group) or group_id (to join one)",
            )),
        }
    }
}

/// Most characters in a checkout's note.
const NOTE_MAX: usize = 500;

/// The buyer's fields, parsed (every invalid one is named); the customer is told
/// by the bearer token, later.
fn check(body: &CheckoutRequest) -> Result<Buyer, ApiError> {
    let mut errors = Vec::new();
    let email = collect(&mut errors, Email::parse(&body.email, "email"))
        .map(|email| email.as_str().to_owned());
    let phone = collect(&mut errors, phone(&body.phone, "phone"));
    let address = Address::parse(&body.shipping_address, "shipping_address", &mut errors);
    let note = collect(
        &mut errors,
        optional_paragraphs(body.note.as_deref(), "note", NOTE_MAX),
    );
    match (email, phone, address, note) {
        (Some(email), Some(phone), Some(address), Some(note)) if errors.is_empty() => Ok(Buyer {
            email,
            phone,
            address,
            note,
            customer: None,
        }),
        _ => Err(ApiError::invalid_fields(errors)),
    }
}

/// Turns a cart into an order: validates the address against the shop's shipping
/// zones, reserves stock for every line (all or nothing), snapshots prices and
/// takes the shop's next order number. The order waits for payment until
/// `expires_at`. Send the same `Idempotency-Key` to retry safely: the same caller
/// (the cart's token, or the same customer) with the same body gets the first
/// answer again; another body with the key answers 422. A refusal for lack of stock
/// is not kept for the key (nothing was reserved or written): a retry with it asks
/// again. Keys belong to the caller and the cart: anyone else sending the key gets
/// what they would get without it.
#[utoipa::path(
    tag = "checkout",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("Idempotency-Key" = String, Header, description = "Unique per checkout attempt (1 to 255 visible ASCII characters); a retry by the same caller for the same cart with the same key answers the first result", pattern = r"^[\x21-\x7E]{1,255}$"),
        ("X-Cart-Token" = Option<String>, Header, description = "The cart's token (guests)"),
    ),
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "The order, `pending_payment`, with its `access_token`", body = OrderView),
        (status = 401, description = "A bearer token that does not verify", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The shop's monthly order quota is used up", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop or cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Out of stock (`errors` names the short lines; nothing is reserved), lines no longer on sale, the cart was already checked out, or the key is in use. For a group checkout: `group_full` (every place is taken), `group_closed` (formed or failed: open a new group of `deal_id`), `deal_not_live` or `deal_sold_out`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an address outside the shipping zones, an unavailable rate, or the key reused with another body; for a group checkout, a cart that is not exactly one line of the deal's variant, or a deal not priced in the cart's currency", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached; nothing was ordered", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/shops/{shop}/checkout")]
#[tracing::instrument(skip_all, fields(shop = %shop, cart = %body.cart_id))]
pub async fn checkout(
    state: web::Data<OrderState>,
    request: HttpRequest,
    shop: web::Path<String>,
    key: IdempotencyKey,
    body: Json<CheckoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let shop = state.storefront(&shop).await?;
    let mut checked = check(&body)?;
    let group = body.group.as_ref().map(GroupInput::ask).transpose()?;
    if group.is_some() && body.preorder.is_some() {
        return Err(ApiError::invalid_field(
            "preorder",
            "a checkout is a group order or a pre-order, not both",
        ));
    }
    // Read once the fields are checked: invalid fields are named whatever the token.
    let MaybeSignedIn(customer) = MaybeSignedIn::extract(&request).await?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    // Whoever may not use the cart gets 404 here, key or no key.
    let cart = carts::open(&request, customer.as_ref(), &tx, body.cart_id, true).await?;
    let caller = match &customer {
        Some(principal) => format!("customer:{}", principal.subject),
        None => "guest".to_owned(),
    };
    let scope = format!("checkout:{}:{}:{caller}", shop.tenant, cart.id);
    let fingerprint = idempotency::fingerprint(&body);
    let lines = store::cart_lines(&tx, cart.id).await?;
    // The losers of a flash sale: told at once, with nothing written, unless the
    // key already answered (this very cart may have bought the last unit). A cart
    // that became an order is told so below, whatever sold out since.
    let known = if cart.order_id.is_none() && body.preorder.is_none() {
        workflow::known_sold_out(&state.sold_out, shop.tenant, &lines).await
    } else {
        None
    };
    if let Some(refusal) = known {
        let answered = idempotency::answered(tx.conn(), &scope, &key, &fingerprint).await?;
        tx.rollback().await?;
        return match answered {
            Some(Claim::Replay { status, body }) => Ok(idempotency::replay(status, &body)),
            _ => Err(refusal),
        };
    }
    match idempotency::claim(tx.conn(), &scope, &key, &fingerprint).await? {
        Claim::Replay { status, body } => {
            tx.rollback().await?;
            return Ok(idempotency::replay(status, &body));
        }
        Claim::Fresh => {}
    }
    let context = Context {
        catalog: &state.catalog,
        deadlines: &state.deadlines,
        sold_out: &state.sold_out,
        public_url: &state.context.settings.public_url,
    };
    checked.customer = customer.map(|c| c.subject);
    let checkout = Checkout {
        shop: &shop,
        cart,
        lines,
        buyer: checked,
        rate_id: body.shipping_rate_id,
        claimed: Claimed { scope, key },
        group,
        preorder: body.preorder.as_ref().map(|p| p.campaign_id),
    };
    let answer = workflow::checkout(tx, &context, checkout).await?;
    Ok(HttpResponse::Created().json(answer))
}
